#!/usr/bin/env python3
"""The warehouse path at scale, timed step by step (issue 19's target; prints, asserts nothing).

    bench_warehouse.py --rows 100000000 [--calendar week|month] [--clv target/release/clv] [--db /tmp/wh.duckdb]

1. makes a synthetic `orders` table of about --rows rows inside DuckDB (customers with 1–19
   orders at random times over two years, random amounts, ordered by nothing);
2. runs `clv sql --emit histogram` on it and writes the histogram CSV;
3. fits BG/NBD, Pareto/NBD and MBG/NBD on the histogram (`clv fit`);
4. predicts per group (`clv predict` on the histogram);
5. loads the predictions and runs `clv sql --emit score` into a table (one row per customer).
Run from the repository root with the venv `./dev test` makes (target/sql-venv/bin/python).
"""
import argparse
import os
import subprocess
import time

import duckdb


def timed(label, f):
    start = time.perf_counter()
    out = f()
    print(f"{label}: {time.perf_counter() - start:.1f} s", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--clv", default="target/release/clv")
    ap.add_argument("--db", default="/tmp/clv-warehouse-bench.duckdb")
    ap.add_argument("--dir", default="/tmp/clv-warehouse-bench")
    ap.add_argument("--calendar", choices=["week", "month"], help="count calendar periods (a smaller histogram)")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    if os.path.exists(a.db):
        os.remove(a.db)
    con = duckdb.connect(a.db)
    con.execute("SET TimeZone = 'UTC'")
    customers = a.rows // 10
    timed(f"1. synthetic orders ({a.rows:,} rows wanted, {customers:,} customers)", lambda: con.execute(f"""
        CREATE TABLE orders AS
        WITH c AS (SELECT i AS user_id, 1 + CAST(FLOOR(RANDOM() * 19) AS INTEGER) AS n FROM range({customers}) t(i))
        SELECT user_id,
               TIMESTAMP '2020-01-01' + TO_SECONDS(CAST(FLOOR(RANDOM() * 730 * 86400) AS BIGINT)) AS ts,
               ROUND(RANDOM() * 100, 2) AS amount
        FROM (SELECT user_id, UNNEST(range(n)) AS k FROM c)
    """))
    rows = con.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    print(f"   orders: {rows:,} rows")

    def clv(*args):
        return subprocess.run([a.clv, *args], check=True, capture_output=True, text=True).stdout

    def sql(emit, *extra):
        return clv("sql", "--dialect", "duckdb", "--emit", emit, "--table", "orders", "--user-col", "user_id",
                   "--ts-col", "ts", "--amount-col", "amount", "--cutoff", "2021-06-30", *periods, *extra)

    periods = ["--calendar", a.calendar] if a.calendar else ["--unit", "week"]

    hist = os.path.join(a.dir, "histogram.csv")
    query = sql("histogram").strip().rstrip(";")
    timed("2. histogram in DuckDB", lambda: con.execute(f"COPY ({query}) TO '{hist}' (HEADER)"))
    print(f"   histogram: {sum(1 for _ in open(hist)) - 1:,} rows, {os.path.getsize(hist):,} bytes")
    for model in ["bgnbd", "pnbd", "mbgnbd"]:
        timed(f"3. clv fit --model {model} on the histogram", lambda: clv("fit", "--model", model, "--input", hist))
    pred = os.path.join(a.dir, "predictions.csv")
    out = timed("4. clv predict (pnbd) per group", lambda: clv("predict", "--model", "pnbd", "--input", hist,
                                                                 "--horizon-days", "365", "--discount-rate", "0.1",
                                                                 "--unit", a.calendar or "week"))
    with open(pred, "w") as f:
        f.write(out)
    con.execute(f"CREATE TABLE predictions AS SELECT * FROM read_csv('{pred}', header = true)")
    score = sql("score", "--predictions", "predictions").strip().rstrip(";")
    timed("5. scored join in DuckDB (one row per customer, into a table)",
          lambda: con.execute(f"CREATE TABLE scored AS {score}"))
    n, missing = con.execute("SELECT COUNT(*), COUNT(*) - COUNT(p_alive) FROM scored").fetchone()
    print(f"   scored: {n:,} customers, {missing} without a prediction")


if __name__ == "__main__":
    main()
