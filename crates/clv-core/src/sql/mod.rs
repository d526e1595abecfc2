//! SQL for the engines a warehouse team already runs: the BTYD summary, its weighted histogram
//! and the scored join, computed where the orders are.
//!
//! BTYD fits depend on the data only through the distinct `(x, t_x, T)` rows and how many
//! customers share each ([`crate::pipeline::Customers`] with weights), so a billion order rows
//! need not leave the warehouse: the generated SQL makes the histogram (KBs), `clv fit`/`clv
//! predict` or the page model it, and the `score` SQL joins the predictions per distinct row back
//! to every customer — in the warehouse.
//!
//! The SQL computes exactly what [`crate::features::RfmSummary`] computes from a file (the tests
//! run it on DuckDB and PostgreSQL against `clv summary`):
//! - exact duplicate rows (every column equal) count once, unless [`SqlSource::keep_duplicates`];
//! - a row without a customer, time or amount, with a placeholder id (`''`, `null`, `n/a`, … —
//!   the list [`crate::ingest`] uses), or with an amount beyond ±10¹⁵ is left out;
//! - the history is every row on or before the cutoff day (a whole UTC day);
//! - purchases on one day are one occasion (amounts summed); a refund (negative amount) is added
//!   to the customer's latest occasion up to its time, and one before any purchase is dropped;
//! - `frequency` = occasions − 1; `recency` = first → last occasion and `T` = first occasion →
//!   cutoff, in days / the unit's length; `monetary_value` = the mean of the repeat occasions'
//!   amounts (0 without any).
//!
//! One difference is known: a refund with *exactly* the same timestamp as a purchase joins that
//! purchase's occasion here, while a file puts it wherever its line is (file order breaks ties).
//!
//! No value from the command line is written into the SQL as text: names are checked ([`Ident`])
//! and quoted, the cutoff is a checked [`Day`] written as a day number, the unit a constant.

mod dialect;

pub use dialect::{Dialect, UnknownDialect};

use crate::features::Periods;
use crate::ingest::amount::MAX_AMOUNT;
use crate::ingest::ids::PLACEHOLDER_IDS;
use crate::time::{civil_from_days, format_day, CohortGrain, Day, Horizon};
use std::fmt::Write;
use std::str::FromStr;

/// Longest name accepted (BigQuery's limit for a column is 300, Postgres' 63 bytes).
pub const MAX_NAME: usize = 300;

/// A table or column name, checked once: not empty, at most [`MAX_NAME`] characters, no control
/// character, and none of the quote characters `"` and `` ` `` (nor `\`) — so quoting it needs no
/// escaping in any dialect and it cannot end the quoted name early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident(String);

/// A name that [`Ident`] refuses, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// An empty name (or an empty part of a dotted table name).
    #[error("{what}: the name is empty")]
    Empty {
        /// Which option gave it.
        what: String,
    },
    /// A name longer than [`MAX_NAME`].
    #[error("{what}: the name has {len} characters; at most {MAX_NAME} are accepted")]
    TooLong {
        /// Which option gave it.
        what: String,
        /// Its length in characters.
        len: usize,
    },
    /// A character no name may hold here.
    #[error("{what}: {name:?} holds {ch:?}, which no name given to `clv sql` may hold (quotes, backslashes and control characters would need escaping that differs between engines)")]
    BadChar {
        /// Which option gave it.
        what: String,
        /// The name as given.
        name: String,
        /// The refused character.
        ch: char,
    },
}

impl Ident {
    /// `name` checked; `what` names the option in the error (`--user-col`).
    pub fn new(name: &str, what: &str) -> Result<Ident, NameError> {
        let what = what.to_string();
        if name.is_empty() {
            return Err(NameError::Empty { what });
        }
        let len = name.chars().count();
        if len > MAX_NAME {
            return Err(NameError::TooLong { what, len });
        }
        if let Some(ch) = name.chars().find(|c| c.is_control() || matches!(c, '"' | '`' | '\\')) {
            return Err(NameError::BadChar { what, name: name.to_string(), ch });
        }
        Ok(Ident(name.to_string()))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A table name, possibly qualified (`project.dataset.orders`): each dot-separated part an
/// [`Ident`], quoted on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName(Vec<Ident>);

impl TableName {
    /// `name` split at dots and checked; `what` names the option in the error.
    pub fn new(name: &str, what: &str) -> Result<TableName, NameError> {
        name.split('.').map(|part| Ident::new(part, what)).collect::<Result<_, _>>().map(TableName)
    }

    fn quoted(&self, d: Dialect) -> String {
        self.0.iter().map(|p| d.quote(p.as_str())).collect::<Vec<_>>().join(".")
    }
}

/// Where the orders are: the table and its three columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlSource {
    /// The orders table.
    pub table: TableName,
    /// The customer id column (any type).
    pub user: Ident,
    /// The time column: DATE or TIMESTAMP, in UTC.
    pub ts: Ident,
    /// The net amount column (numeric; negative = refund).
    pub amount: Ident,
    /// Count exact duplicate rows as often as they occur (`clv summary --keep-duplicates`).
    pub keep_duplicates: bool,
}

/// What the SQL computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// One row per customer: `user_id, frequency, recency, T, monetary_value`, as `clv summary`.
    Summary,
    /// The weighted distinct rows `frequency, recency, T, count, sum_monetary`: what the count
    /// models need, KBs for any number of customers; `clv fit`, `clv predict` and the page read it.
    Histogram,
    /// Per customer `user_id, frequency, recency, T, p_alive, expected_txn, expected_spend, clv`:
    /// the summary joined to a predictions-per-distinct-row table (`clv predict` on a histogram).
    Score,
    /// The leakage-safe feature table of `clv features` (without a users file) with its label over
    /// `--horizon-days` after the cutoff.
    Features,
    /// Repeat buyers grouped by `(frequency, monetary_value)` with their `count`: what Gamma–Gamma
    /// is fitted on (`clv fit --model gg`), without customer rows.
    Spend,
}

impl Emit {
    /// Every kind, in the order `clv sql --help` lists them.
    pub const ALL: [Emit; 5] = [Emit::Summary, Emit::Histogram, Emit::Spend, Emit::Score, Emit::Features];

    /// The code `--emit` takes.
    pub fn code(self) -> &'static str {
        match self {
            Emit::Summary => "summary",
            Emit::Histogram => "histogram",
            Emit::Score => "score",
            Emit::Features => "features",
            Emit::Spend => "spend",
        }
    }
}

impl FromStr for Emit {
    type Err = String;

    fn from_str(s: &str) -> Result<Emit, String> {
        Emit::ALL
            .into_iter()
            .find(|e| e.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown output {s:?}: expected summary, histogram, spend, score or features"))
    }
}

/// The columns of a predictions-per-distinct-row table ([`crate::pipeline::group_predictions_csv`]),
/// which the score SQL reads by these names.
pub const PREDICTION_COLUMNS: [&str; 10] = [
    "frequency",
    "recency",
    "T",
    "count",
    "p_alive",
    "expected_txn",
    "discounted_txn",
    "spend_intercept",
    "spend_slope",
    "spend_backfill",
];

/// Everything a query needs, checked: build it with [`SqlParams::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlParams {
    source: SqlSource,
    cutoff: Day,
    periods: Periods,
    horizon: Option<Horizon>,
    predictions: Option<TableName>,
}

/// A request that cannot become SQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// The feature table without its label window.
    #[error(
        "--emit features labels each customer with the revenue of the days after the cutoff: give --horizon-days H"
    )]
    NoHorizon,
    /// The score SQL without the predictions table it joins.
    #[error("--emit score joins a table of predictions per distinct row (written by `clv predict` on a histogram): give it with --predictions TABLE")]
    NoPredictions,
}

impl SqlParams {
    /// The request; times counted as `periods` (elapsed days / a unit, or calendar weeks or months
    /// as `clv summary --calendar`); `predictions` is the table the score SQL joins (needed only for it).
    pub fn new(source: SqlSource, cutoff: Day, periods: Periods, predictions: Option<TableName>) -> SqlParams {
        SqlParams { source, cutoff, periods, horizon: None, predictions }
    }

    /// The label window of `--emit features` (needed only for it).
    pub fn with_horizon(self, horizon: Horizon) -> SqlParams {
        SqlParams { horizon: Some(horizon), ..self }
    }

    /// The SQL for `emit` in `dialect`: one `SELECT` (a `WITH` chain), commented, ending in `;`.
    ///
    /// ```
    /// use clv_core::sql::{Dialect, Emit, Ident, SqlParams, SqlSource, TableName};
    /// use clv_core::{features::Periods, time::{Day, TimeUnit}};
    /// let source = SqlSource {
    ///     table: TableName::new("shop.orders", "--table").unwrap(),
    ///     user: Ident::new("customer_id", "--user-col").unwrap(),
    ///     ts: Ident::new("ordered_at", "--ts-col").unwrap(),
    ///     amount: Ident::new("total", "--amount-col").unwrap(),
    ///     keep_duplicates: false,
    /// };
    /// let p = SqlParams::new(source, "1997-09-30".parse::<Day>().unwrap(), Periods::Elapsed(TimeUnit::Week), None);
    /// let sql = p.generate(Dialect::Postgres, Emit::Histogram).unwrap();
    /// assert!(sql.contains(r#"FROM "shop"."orders""#));
    /// assert!(sql.contains("day <= 10134"));
    /// ```
    pub fn generate(&self, dialect: Dialect, emit: Emit) -> Result<String, SqlError> {
        let predictions = match (emit, &self.predictions) {
            (Emit::Score, None) => return Err(SqlError::NoPredictions),
            (Emit::Score, Some(t)) => Some(t),
            _ => None,
        };
        let q = Query { p: self, d: dialect };
        let body = match emit {
            Emit::Summary => q.summary_ctes() + &q.select_summary(),
            Emit::Histogram => q.summary_ctes() + &q.select_histogram(),
            Emit::Spend => q.summary_ctes() + &q.select_spend(),
            Emit::Score => q.summary_ctes() + &q.select_score(predictions.expect("checked above")),
            Emit::Features => q.select_features(self.horizon.ok_or(SqlError::NoHorizon)?),
        };
        Ok(q.header(emit) + &body)
    }
}

/// One query being written.
struct Query<'a> {
    p: &'a SqlParams,
    d: Dialect,
}

impl Query<'_> {
    fn q(&self, name: &str) -> String {
        self.d.quote(name)
    }

    /// What a span of period keys is divided by to be in the unit: the unit's days for elapsed
    /// time (exact in binary — 1, 7, 30.4375 —, the double `clv` divides by), 7 for calendar weeks
    /// (keys are their Mondays' day numbers), 1 for calendar months (keys count months).
    fn unit_divisor(&self) -> String {
        let d = match self.p.periods {
            Periods::Elapsed(u) => u.days(),
            Periods::Calendar(CohortGrain::Week) => 7.0,
            Periods::Calendar(CohortGrain::Day | CohortGrain::Month) => 1.0,
        };
        format!("{d:?}")
    }

    /// The period key of a row with day number `day` (and time `ts`): the day itself for elapsed
    /// time, its week's Monday (as `CohortGrain::Week::start_of`), or year × 12 + month.
    fn period_key(&self, day: &str, ts: &str) -> String {
        match self.p.periods {
            Periods::Elapsed(_) | Periods::Calendar(CohortGrain::Day) => day.to_string(),
            // 1970-01-01 was a Thursday; MOD twice, since MOD of a negative day is negative in SQL.
            Periods::Calendar(CohortGrain::Week) => format!("{day} - MOD(MOD({day} + 3, 7) + 7, 7)"),
            Periods::Calendar(CohortGrain::Month) => {
                format!("EXTRACT(YEAR FROM CAST({ts} AS DATE)) * 12 + EXTRACT(MONTH FROM CAST({ts} AS DATE))")
            }
        }
    }

    /// The cutoff's period key, computed here as [`Query::period_key`] computes a row's.
    fn cutoff_key(&self) -> i64 {
        let day = self.p.cutoff.number();
        match self.p.periods {
            Periods::Elapsed(_) | Periods::Calendar(CohortGrain::Day) => day,
            Periods::Calendar(CohortGrain::Week) => CohortGrain::Week.start_of(day),
            Periods::Calendar(CohortGrain::Month) => {
                let (y, m, _) = civil_from_days(day);
                i64::from(y) * 12 + i64::from(m)
            }
        }
    }

    fn periods_phrase(&self) -> String {
        match self.p.periods {
            Periods::Elapsed(u) => format!("recency and T in {}s ({} days)", u.name(), self.unit_divisor()),
            Periods::Calendar(CohortGrain::Week) => {
                "in calendar weeks (Monday to Sunday): purchases in one week are one transaction".into()
            }
            Periods::Calendar(CohortGrain::Month) => {
                "in calendar months: purchases in one month are one transaction".into()
            }
            Periods::Calendar(CohortGrain::Day) => "recency and T in days".into(),
        }
    }

    fn header(&self, emit: Emit) -> String {
        let s = &self.p.source;
        let what = match emit {
            Emit::Summary => "the BTYD summary per customer (user_id, frequency, recency, T, monetary_value), as `clv summary`",
            Emit::Histogram => "the weighted distinct summary rows (frequency, recency, T, count, sum_monetary): input for `clv fit`, `clv predict` and the page",
            Emit::Score => "each customer's predictions, joined from a table of predictions per distinct row (`clv predict` on the histogram)",
            Emit::Features => "the leakage-safe feature table per customer with its label, as `clv features` without a users file",
            Emit::Spend => "repeat buyers grouped by (frequency, monetary_value) with their count: input for `clv fit --model gg`",
        };
        let mut h = String::new();
        let _ = writeln!(
            h,
            "-- Generated by `clv sql --dialect {} --emit {}` (clv {}).",
            self.d,
            emit.code(),
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(h, "-- Computes {what}.");
        let _ = writeln!(
            h,
            "-- Orders: {}; customer {}, time {} (DATE or TIMESTAMP, UTC), net amount {} (negative = refund).",
            s.table.quoted(self.d),
            self.q(s.user.as_str()),
            self.q(s.ts.as_str()),
            self.q(s.amount.as_str())
        );
        let _ = writeln!(h, "-- Time zone: {}.", self.d.time_zone_note());
        if let Some(note) = self.d.case_note() {
            let _ = writeln!(h, "-- Names: {note}.");
        }
        let _ = writeln!(
            h,
            "-- Cutoff {} (inclusive) = day {} since 1970-01-01; {}.",
            format_day(self.p.cutoff.number()),
            self.p.cutoff.number(),
            self.periods_phrase()
        );
        h
    }

    /// `WITH source_rows, readable, history`: the rows that count, and those up to the cutoff.
    fn base_ctes(&self) -> String {
        let s = &self.p.source;
        let (user, ts, amount) = (self.q(s.user.as_str()), self.q(s.ts.as_str()), self.q(s.amount.as_str()));
        let double = self.d.double();
        let placeholders = PLACEHOLDER_IDS.iter().map(|p| format!("'{p}'")).collect::<Vec<_>>().join(", ");
        let (distinct, dup_note) = if s.keep_duplicates {
            ("", "every row counts, exact duplicates too (--keep-duplicates)")
        } else {
            ("DISTINCT ", "exact duplicate rows (every column equal) count once")
        };
        format!(
            "WITH
-- 1. The orders: {dup_note}.
source_rows AS (
  SELECT {distinct}* FROM {table}
),
-- 2. Rows that can be read: a customer, a time and an amount within ±{max_amount:e}; a placeholder id
--    ({placeholders}, compared trimmed and in lower case) is no customer.
readable AS (
  SELECT
    {user} AS {uid},
    {ts} AS ts,
    CAST({amount} AS {double}) AS amount,
    {day} AS day,
    {period} AS period
  FROM source_rows
  WHERE {user} IS NOT NULL AND {ts} IS NOT NULL AND {amount} IS NOT NULL
    AND LOWER(TRIM(CAST({user} AS {text}))) NOT IN ({placeholders})
    AND ABS(CAST({amount} AS {double})) <= {max_amount:e}
),
-- 3. The history: rows on or before the cutoff day.
history AS (
  SELECT * FROM readable WHERE day <= {cutoff}
),
",
            table = s.table.quoted(self.d),
            max_amount = MAX_AMOUNT,
            day = self.d.day_number(&ts),
            period = self.period_key(&self.d.day_number(&ts), &ts),
            text = self.d.text(),
            uid = self.q("user_id"),
            cutoff = self.p.cutoff.number(),
        )
    }

    /// `{prefix}placed, {prefix}occasions`: the purchase occasions of the rows of CTE `rows`, one per
    /// distinct `key` (`day`, or `period` for calendar periods), in column `occasion`.
    fn occasion_ctes(&self, prefix: &str, rows: &str, key: &str) -> String {
        format!(
            "-- Each row's purchase occasion: a purchase's own day; a refund's is the latest purchase day up to
-- its time (none before the first purchase: the refund is dropped). Purchases sort before refunds
-- of the same time, so the order is total and the frame (ROWS, which every engine has) is exact.
{prefix}placed AS (
  SELECT
    {uid},
    amount,
    MAX(CASE WHEN amount >= 0 THEN {key} END) OVER (
      PARTITION BY {uid} ORDER BY ts, amount DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS occasion
  FROM {rows}
),
-- Purchase occasions with their net amounts.
{prefix}occasions AS (
  SELECT {uid}, occasion, SUM(amount) AS amount
  FROM {prefix}placed
  WHERE occasion IS NOT NULL
  GROUP BY {uid}, occasion
),
",
            uid = self.q("user_id"),
        )
    }

    /// `WITH … summary AS (…)`: one row per customer with integer spans of period keys.
    fn summary_ctes(&self) -> String {
        format!(
            "{base}{occasions}firsts AS (
  SELECT {uid}, occasion, amount, MIN(occasion) OVER (PARTITION BY {uid}) AS first_occasion
  FROM occasions
),
-- One row per customer with a purchase by the cutoff: repeat occasions, spans of period keys, mean repeat amount.
summary AS (
  SELECT
    {uid},
    COUNT(*) - 1 AS frequency,
    MAX(occasion) - MIN(occasion) AS recency_span,
    {cutoff} - MIN(occasion) AS t_span,
    CASE WHEN COUNT(*) > 1
      THEN SUM(CASE WHEN occasion > first_occasion THEN amount ELSE 0 END) / (COUNT(*) - 1)
      ELSE 0 END AS monetary_value
  FROM firsts
  GROUP BY {uid}
)
",
            base = self.base_ctes(),
            occasions = self.occasion_ctes("", "history", "period"),
            uid = self.q("user_id"),
            cutoff = self.cutoff_key(),
        )
    }

    /// The feature table of `clv features` (without a users file): one row per customer with a row
    /// by the cutoff, history features from the history only, the label from `(cutoff, cutoff + H]`.
    fn select_features(&self, horizon: Horizon) -> String {
        let cutoff = self.p.cutoff.number();
        let double = self.d.double();
        let uid = self.q("user_id");
        let out = |expr: &str, name: &str| format!("  {expr} AS {}", self.q(name));
        let columns = [
            out(&format!("h.{uid}"), "user_id"),
            out("h.cnt", "hist_txn_cnt"),
            out("h.revenue", "hist_revenue"),
            out("CASE WHEN h.cnt > 0 THEN h.revenue / h.cnt ELSE 0 END", "hist_aov"),
            out(&self.d.format_ts("h.first_ts"), "first_txn_ts"),
            out(&self.d.format_ts("h.last_ts"), "last_txn_ts"),
            out(&format!("{cutoff} - h.last_day"), "recency_days"),
            out(&format!("{cutoff} - h.first_day"), "tenure_days"),
            out("COALESCE(l.label_y, 0)", "label_y"),
            out(&format!("GREATEST({cutoff} - h.last_day, 0)"), "rfm_recency"),
            out("h.cnt", "rfm_frequency"),
            out("GREATEST(h.revenue, 0)", "rfm_monetary"),
            out(&format!("h.revenue / GREATEST(CAST({cutoff} - h.first_day AS {double}) / 30.0, 1.0)"), "arpu"),
            out("LN(1 + GREATEST(h.revenue, 0))", "log_hist_revenue"),
            out(&self.d.format_month("h.first_ts"), "cohort"),
            out("COALESCE(hd.n, 0)", "hist_purchase_days"),
            out("COALESCE(l.label_orders, 0)", "label_orders"),
            out("COALESCE(ld.n, 0)", "label_purchase_days"),
            out("CASE WHEN ld.n > 0 THEN ld.total / ld.n ELSE 0 END", "label_mean_spend"),
        ];
        format!(
            "{base}{hist_occasions}-- The label window: the {h} days after the cutoff.
label_rows AS (
  SELECT * FROM readable WHERE day > {cutoff} AND day <= {end}
),
{label_occasions}hist AS (
  SELECT
    {uid},
    SUM(CASE WHEN amount >= 0 THEN 1 ELSE 0 END) AS cnt,
    SUM(amount) AS revenue,
    MIN(ts) AS first_ts,
    MAX(ts) AS last_ts,
    MIN(day) AS first_day,
    MAX(day) AS last_day
  FROM history
  GROUP BY {uid}
),
hist_days AS (
  SELECT {uid}, COUNT(*) AS n FROM occasions GROUP BY {uid}
),
label AS (
  SELECT {uid}, SUM(amount) AS label_y, SUM(CASE WHEN amount >= 0 THEN 1 ELSE 0 END) AS label_orders
  FROM label_rows
  GROUP BY {uid}
),
label_days AS (
  SELECT {uid}, COUNT(*) AS n, SUM(amount) AS total FROM label_occasions GROUP BY {uid}
)
-- One row per customer with any row (a refund too) by the cutoff. Columns as `clv features`:
-- counts are order rows (refunds excluded), money is net, days are whole UTC days to the cutoff,
-- arpu is revenue per 30 days of tenure (at least one), cohort the first row's month.
SELECT
{columns}
FROM hist h
LEFT JOIN hist_days hd ON hd.{uid} = h.{uid}
LEFT JOIN label l ON l.{uid} = h.{uid}
LEFT JOIN label_days ld ON ld.{uid} = h.{uid}
ORDER BY h.{uid};
",
            base = self.base_ctes(),
            hist_occasions = self.occasion_ctes("", "history", "day"),
            label_occasions = self.occasion_ctes("label_", "label_rows", "day"),
            h = horizon.in_days(),
            end = cutoff + horizon.in_days(),
            columns = columns.join(",\n"),
        )
    }

    /// Day spans in the unit, as `clv` computes them: (integer days) / (unit length).
    fn times(&self, prefix: &str) -> (String, String) {
        let (double, unit) = (self.d.double(), self.unit_divisor());
        (
            format!("CAST({prefix}recency_span AS {double}) / {unit}"),
            format!("CAST({prefix}t_span AS {double}) / {unit}"),
        )
    }

    fn select_summary(&self) -> String {
        let (recency, t) = self.times("");
        format!(
            "-- Output names are quoted, so every engine writes them as `clv summary` does.
SELECT {uid}, frequency AS {frequency}, {recency} AS {recency_}, {t} AS {T}, monetary_value AS {monetary}
FROM summary
ORDER BY {uid};
",
            uid = self.q("user_id"),
            frequency = self.q("frequency"),
            recency_ = self.q("recency"),
            T = self.q("T"),
            monetary = self.q("monetary_value"),
        )
    }

    fn select_histogram(&self) -> String {
        let (recency, t) = self.times("");
        format!(
            "-- Customers with the same (frequency, recency, T) are one row: the count models' likelihood is the
-- same for each of them. sum_monetary / count is the group's mean spend.
SELECT frequency AS {frequency}, {recency} AS {recency_}, {t} AS {T}, COUNT(*) AS {count}, SUM(monetary_value) AS {sum}
FROM summary
GROUP BY frequency, recency_span, t_span
ORDER BY frequency, recency_span, t_span;
",
            frequency = self.q("frequency"),
            recency_ = self.q("recency"),
            T = self.q("T"),
            count = self.q("count"),
            sum = self.q("sum_monetary"),
        )
    }

    fn select_spend(&self) -> String {
        format!(
            "-- Gamma–Gamma learns from each repeat buyer's frequency and mean spend only: buyers who share both
-- are one row. No customer ids leave the warehouse.
SELECT frequency AS {frequency}, monetary_value AS {monetary}, COUNT(*) AS {count}
FROM summary
WHERE frequency > 0
GROUP BY frequency, monetary_value
ORDER BY frequency, monetary_value;
",
            frequency = self.q("frequency"),
            monetary = self.q("monetary_value"),
            count = self.q("count"),
        )
    }

    fn select_score(&self, predictions: &TableName) -> String {
        let (recency, t) = self.times("s.");
        let c = |name: &str| format!("p.{}", self.q(name));
        let spend = format!(
            "CASE WHEN s.frequency > 0 AND s.monetary_value > 0\n      THEN {} + {} * s.monetary_value\n      ELSE {} END",
            c("spend_intercept"),
            c("spend_slope"),
            c("spend_backfill")
        );
        let out = |name: &str| format!("{name} AS {}", self.q(name));
        format!(
            "-- The predictions table has one row per distinct (frequency, recency, T), with the columns
-- {cols}
-- (as `clv predict` writes them for a histogram), loaded with frequency, recency and T as numbers:
-- they are matched exactly. A customer whose row is missing (predictions made from another histogram
-- or cutoff) gets NULLs, not a guess.
-- Expected spend per purchase is Gamma–Gamma's conditional mean: intercept + slope × the customer's
-- mean repeat spend, or the population mean without a repeat purchase (or without a positive mean).
, scored AS (
  SELECT
    s.{uid},
    s.frequency,
    {recency} AS recency,
    {t} AS t,
    {p_alive} AS p_alive,
    {expected} AS expected_txn,
    {spend} AS expected_spend,
    {discounted} AS discounted_txn
  FROM summary s
  LEFT JOIN {predictions} p
    ON {p_frequency} = s.frequency AND {p_recency} = {recency} AND {p_t} = {t}
)
SELECT {uid}, {frequency}, {recency_}, t AS {T}, {p_alive_}, {expected_}, {spend_},
  expected_spend * discounted_txn AS {clv}
FROM scored
ORDER BY {uid};
",
            cols = PREDICTION_COLUMNS.join(", "),
            uid = self.q("user_id"),
            T = self.q("T"),
            p_alive = c("p_alive"),
            expected = c("expected_txn"),
            discounted = c("discounted_txn"),
            p_frequency = c("frequency"),
            p_recency = c("recency"),
            p_t = c("T"),
            predictions = predictions.quoted(self.d),
            frequency = out("frequency"),
            recency_ = out("recency"),
            p_alive_ = out("p_alive"),
            expected_ = out("expected_txn"),
            spend_ = out("expected_spend"),
            clv = self.q("clv"),
        )
    }
}

#[cfg(test)]
mod tests;
