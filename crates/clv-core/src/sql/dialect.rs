//! What differs between the engines: how a name is quoted, the type names, and how a timestamp
//! becomes a day number. Everything else the generated SQL uses (CTEs, window functions with an
//! explicit frame, `CASE`, `DISTINCT *`) is common to all five.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A SQL engine the generator writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// DuckDB (executed in the tests).
    Duckdb,
    /// Spark SQL 3.x.
    Spark,
    /// Google BigQuery (GoogleSQL).
    Bigquery,
    /// Snowflake.
    Snowflake,
    /// PostgreSQL 12 or later (executed in the tests).
    Postgres,
}

impl Dialect {
    /// Every dialect, in the order `clv sql --help` lists them.
    pub const ALL: [Dialect; 5] =
        [Dialect::Duckdb, Dialect::Spark, Dialect::Bigquery, Dialect::Snowflake, Dialect::Postgres];

    /// The dialect's code, as `--dialect` takes it.
    pub fn code(self) -> &'static str {
        match self {
            Dialect::Duckdb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::Bigquery => "bigquery",
            Dialect::Snowflake => "snowflake",
            Dialect::Postgres => "postgres",
        }
    }

    /// The character that quotes a name: backticks in Spark and BigQuery, `"` elsewhere.
    pub(crate) fn quote_char(self) -> char {
        match self {
            Dialect::Spark | Dialect::Bigquery => '`',
            _ => '"',
        }
    }

    /// `name` quoted. Names were checked not to hold the quote character ([`super::Ident`]), so no
    /// escaping is needed — and none is done, since the engines escape differently.
    pub(crate) fn quote(self, name: &str) -> String {
        let q = self.quote_char();
        format!("{q}{name}{q}")
    }

    /// The 64-bit float type.
    pub(crate) fn double(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::Bigquery => "FLOAT64",
            _ => "DOUBLE",
        }
    }

    /// The text type a customer id is cast to for the placeholder check.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Dialect::Duckdb | Dialect::Snowflake => "VARCHAR",
            Dialect::Postgres => "TEXT",
            Dialect::Spark | Dialect::Bigquery => "STRING",
        }
    }

    /// The whole UTC day of a DATE or TIMESTAMP expression, as days since 1970-01-01 (an integer):
    /// what `clv` calls a day number.
    pub(crate) fn day_number(self, ts: &str) -> String {
        match self {
            Dialect::Duckdb | Dialect::Postgres => format!("(CAST({ts} AS DATE) - DATE '1970-01-01')"),
            Dialect::Spark => format!("DATEDIFF(CAST({ts} AS DATE), DATE '1970-01-01')"),
            Dialect::Bigquery => format!("UNIX_DATE(CAST({ts} AS DATE))"),
            Dialect::Snowflake => format!("DATEDIFF(day, DATE '1970-01-01', CAST({ts} AS DATE))"),
        }
    }

    /// A DATE or TIMESTAMP as `clv` writes times: `YYYY-MM-DDTHH:MM:SSZ`.
    pub(crate) fn format_ts(self, ts: &str) -> String {
        match self {
            Dialect::Duckdb => format!("STRFTIME(CAST({ts} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ')"),
            Dialect::Postgres => format!("TO_CHAR(CAST({ts} AS TIMESTAMP), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"),
            Dialect::Spark => format!("DATE_FORMAT(CAST({ts} AS TIMESTAMP), 'yyyy-MM-dd\\'T\\'HH:mm:ss\\'Z\\'')"),
            Dialect::Bigquery => format!("FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', CAST({ts} AS TIMESTAMP))"),
            Dialect::Snowflake => format!("TO_CHAR(CAST({ts} AS TIMESTAMP_NTZ), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"),
        }
    }

    /// The calendar month of a DATE or TIMESTAMP as `YYYY-MM` (a month cohort's label).
    pub(crate) fn format_month(self, ts: &str) -> String {
        match self {
            Dialect::Duckdb => format!("STRFTIME(CAST({ts} AS DATE), '%Y-%m')"),
            Dialect::Postgres | Dialect::Snowflake => format!("TO_CHAR(CAST({ts} AS DATE), 'YYYY-MM')"),
            Dialect::Spark => format!("DATE_FORMAT(CAST({ts} AS DATE), 'yyyy-MM')"),
            Dialect::Bigquery => format!("FORMAT_DATE('%Y-%m', CAST({ts} AS DATE))"),
        }
    }

    /// What a person must know about the case of names, for the header comment: every name is
    /// quoted exactly as given, which makes it case-sensitive in the engines that fold unquoted
    /// names.
    pub(crate) fn case_note(self) -> Option<&'static str> {
        match self {
            Dialect::Snowflake => Some(
                "names are quoted exactly as given, and Snowflake stores unquoted names in UPPER CASE: give the table and \
                 columns as stored; the output's columns are lower case (quote them, and create the predictions table \
                 with the lower-case names `clv predict` writes)",
            ),
            Dialect::Postgres => Some(
                "names are quoted exactly as given, and PostgreSQL stores unquoted names in lower case: give the table \
                 and columns as stored",
            ),
            Dialect::Duckdb | Dialect::Spark | Dialect::Bigquery => None,
        }
    }

    /// What a person must know about timestamps in this engine, for the header comment.
    pub(crate) fn time_zone_note(self) -> &'static str {
        match self {
            Dialect::Duckdb | Dialect::Postgres => {
                "a TIMESTAMP WITH TIME ZONE is cut into days in the session's time zone: SET TimeZone = 'UTC' first"
            }
            Dialect::Spark => "timestamps are cut into days in spark.sql.session.timeZone: set it to UTC first",
            Dialect::Bigquery => "TIMESTAMP values are cut into days in UTC",
            Dialect::Snowflake => {
                "TIMESTAMP_LTZ/TZ values are cut into days in the session's TIMEZONE: ALTER SESSION SET TIMEZONE = 'UTC' first"
            }
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A dialect code that is none of [`Dialect::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SQL dialect {0:?}: expected duckdb, spark, bigquery, snowflake or postgres")]
pub struct UnknownDialect(pub String);

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Dialect, UnknownDialect> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownDialect(s.to_string()))
    }
}
