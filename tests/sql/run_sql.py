#!/usr/bin/env python3
"""Run one query of `clv sql` on a real engine and write its result as CSV.

Used by `crates/clv-cli/tests/sql_engines.rs` (through `./dev test`, which installs the engines):

    run_sql.py --engine duckdb|postgres --orders FILE.csv --sql QUERY.sql --out RESULT.csv
               [--table NAME=FILE.csv ...]

The orders file is loaded as table `orders`: `ts` as TIMESTAMP, `amount` as DOUBLE, every other
column as text (so "every column equal" compares what the file holds, as `clv` does). Each extra
`--table` is loaded with its numbers as DOUBLE (a predictions-per-row file). Nothing is kept between
runs: DuckDB runs in memory, PostgreSQL in a database made and dropped for the run.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile


def header(path):
    with open(path, newline="") as f:
        return next(csv.reader(f))


def run_duckdb(orders, tables, sql, out):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = header(orders)
    casts = ", ".join(
        f'CAST("{c}" AS TIMESTAMP) AS "{c}"' if c == "ts" else f'CAST("{c}" AS DOUBLE) AS "{c}"' if c == "amount" else f'"{c}"'
        for c in cols
    )
    con.execute(f"CREATE TABLE orders AS SELECT {casts} FROM read_csv(?, header = true, all_varchar = true)", [orders])
    for name, path in tables:
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_csv(?, header = true)', [path])
    query = sql.strip().rstrip(";")
    con.execute(f"COPY ({query}) TO '{out}' (HEADER, DELIMITER ',')")


def psql(db, *args, stdin=None):
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, *args]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"psql {' '.join(args)}: {r.stderr}")
    return r.stdout


def run_postgres(orders, tables, sql, out):
    db = f"clv_sql_{os.getpid()}"
    psql("postgres", "-c", f"CREATE DATABASE {db}")
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)
    try:
        def readable(path):
            dest = os.path.join(tmp, os.path.basename(path))
            shutil.copy(path, dest)
            os.chmod(dest, 0o644)
            return dest

        cols = header(orders)
        typed = ", ".join(
            f'"{c}" ' + ("timestamp" if c == "ts" else "double precision" if c == "amount" else "text") for c in cols
        )
        script = [f"CREATE TABLE orders ({typed});", f"\\copy orders FROM '{readable(orders)}' CSV HEADER"]
        for name, path in tables:
            typed = ", ".join(f'"{c}" double precision' for c in header(path))
            script += [f'CREATE TABLE "{name}" ({typed});', f"\\copy \"{name}\" FROM '{readable(path)}' CSV HEADER"]
        psql(db, stdin="SET TimeZone = 'UTC';\n" + "\n".join(script) + "\n")
        query = os.path.join(tmp, "query.sql")
        with open(query, "w") as f:
            f.write("SET TimeZone = 'UTC';\n" + sql)
        os.chmod(query, 0o644)
        result = psql(db, "--csv", "-f", query)
        with open(out, "w") as f:
            f.write(result)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        psql("postgres", "-c", f"DROP DATABASE IF EXISTS {db}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", choices=["duckdb", "postgres"], required=True)
    ap.add_argument("--orders", required=True)
    ap.add_argument("--sql", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--table", action="append", default=[])
    a = ap.parse_args()
    tables = [t.split("=", 1) for t in a.table]
    with open(a.sql) as f:
        sql = f.read()
    {"duckdb": run_duckdb, "postgres": run_postgres}[a.engine](a.orders, tables, sql, a.out)


if __name__ == "__main__":
    main()
