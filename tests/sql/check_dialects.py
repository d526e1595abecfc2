#!/usr/bin/env python3
"""Parse the generated SQL of every dialect with sqlglot, in that dialect's grammar.

DuckDB and PostgreSQL run the SQL for real (crates/clv-cli/tests/sql_engines.rs); BigQuery,
Snowflake and Spark cannot run here, so their reviewed copies in tests/data/sql/ (kept equal to
the generator by `cargo test`) are parsed instead: a syntax error in any of them fails.
Prints one line per file and exits non-zero on the first that does not parse.
"""
import pathlib
import sys

import sqlglot
from sqlglot.errors import ErrorLevel

DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark", "bigquery": "bigquery", "snowflake": "snowflake"}

root = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "sql"
files = sorted(root.glob("*.sql"))
if not files:
    sys.exit(f"no generated SQL in {root}")
for path in files:
    dialect = DIALECTS[path.stem.split("-")[0]]
    statements = [s for s in sqlglot.parse(path.read_text(), read=dialect, error_level=ErrorLevel.RAISE) if s]
    if len(statements) != 1:
        sys.exit(f"{path.name}: {len(statements)} statements, expected one query")
    # The query must survive a round trip through the dialect's own generator.
    sqlglot.transpile(path.read_text(), read=dialect, write=dialect, error_level=ErrorLevel.RAISE)
    print(f"{path.name}: parses as {dialect}")
print(f"{len(files)} files parse")
