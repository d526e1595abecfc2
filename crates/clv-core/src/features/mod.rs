//! Leakage-safe features: everything a model learns from is computed from
//! transactions on or before the cutoff `t0`; labels only from `(t0, t0 + H]`.
//!
//! The guard is structural: feature code only ever sees a [`HistoryView`],
//! which can only be made by [`Cutoff::view`] and refuses (with
//! [`LeakageError`]) a slice that reaches past the cutoff.

mod stats;
mod summary;
mod summary_input;
mod table;
mod users;

pub use stats::{NoCustomers, SummaryPreviewRow, SummaryStats, WeeklyActivity, PREVIEW_ROWS, REPEAT_BINS};
pub use summary::{HoldoutRow, HoldoutSplit, Periods, RfmRow, RfmSummary};
pub use summary_input::{
    looks_like_spend, looks_like_summary, parse_spend, parse_summary, SpendInput, SummaryFileStats, SummaryInput,
    SummaryRow,
};
pub use table::{FeatureParams, FeatureRow, FeatureTable};
pub use users::{parse_users, UserRow, Users};

use crate::ingest::{Transactions, Txn};
use crate::limits::{check_day_near_data, LimitError};
use crate::time::{day_of, DateError, Day, SECONDS_PER_DAY};
use serde::{Deserialize, Serialize};

/// The cutoff `t0`: the whole calendar day (UTC) is history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cutoff {
    /// The cutoff day, in days since 1970-01-01: history is every transaction up to the end of it.
    pub day: i64,
}

/// A row after the cutoff was handed to feature code ([`Cutoff::view`]): a bug in the caller, since
/// features may only see history up to and including the cutoff day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("leakage: a transaction at {ts} (day {day}) is after the cutoff day {cutoff}; features may only use data up to and including the cutoff")]
pub struct LeakageError {
    /// The first offending transaction's time, in seconds since the Unix epoch (UTC).
    pub ts: i64,
    /// Its day, in days since 1970-01-01.
    pub day: i64,
    /// The cutoff day, in days since 1970-01-01.
    pub cutoff: i64,
}

/// Why a cutoff the user gave was refused; the message starts with the
/// field where it was given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CutoffError {
    /// Not a `YYYY-MM-DD` calendar date.
    #[error("{what}: {source}")]
    Date {
        /// The field (`--cutoff`, "calibration end").
        what: &'static str,
        /// Why the text is not a date.
        source: DateError,
    },
    /// A date too far from the purchases to be meant (see [`check_near_data`]).
    #[error("{what}: {source}")]
    FarFromData {
        /// The field (`--cutoff`, "calibration end").
        what: &'static str,
        /// The limit it broke, with the likely intended day.
        source: LimitError,
    },
}

impl Cutoff {
    /// The cutoff at the end of `day` (days since 1970-01-01), unchecked: for a day from the data or
    /// the code; a day a person gave goes through [`Cutoff::checked`].
    pub fn day(day: i64) -> Cutoff {
        Cutoff { day }
    }

    /// A cutoff the user gave, refused when it is far from the purchases
    /// (see [`check_near_data`]): a typo'd year is an error naming the likely
    /// day. Errors name `what` — the field where it was given (`--cutoff`,
    /// "calibration end").
    pub fn checked(day: Day, tx: &Transactions, what: &'static str) -> Result<Cutoff, CutoffError> {
        check_near_data("cutoff", day.number(), tx)
            .map(|()| Cutoff { day: day.number() })
            .map_err(|source| CutoffError::FarFromData { what, source })
    }

    /// A cutoff a person typed (`YYYY-MM-DD`), parsed and then [`Cutoff::checked`].
    pub fn parse_checked(text: &str, tx: &Transactions, what: &'static str) -> Result<Cutoff, CutoffError> {
        let day = text.parse::<Day>().map_err(|source| CutoffError::Date { what, source })?;
        Cutoff::checked(day, tx, what)
    }

    /// Whether a timestamp (seconds since the Unix epoch, UTC) is history: on or before the cutoff
    /// day, i.e. before 00:00 UTC of the next day.
    pub fn includes(self, ts: i64) -> bool {
        ts < (self.day + 1) * SECONDS_PER_DAY
    }

    /// The prefix of a time-sorted history that is on or before the cutoff.
    pub fn history(self, h: &[Txn]) -> HistoryView<'_> {
        HistoryView { rows: &h[..h.partition_point(|t| self.includes(t.ts))], cutoff: self }
    }

    /// A checked view for feature code: refuses rows after the cutoff.
    pub fn view(self, rows: &[Txn]) -> Result<HistoryView<'_>, LeakageError> {
        match rows.iter().find(|t| !self.includes(t.ts)) {
            Some(t) => Err(LeakageError { ts: t.ts, day: day_of(t.ts), cutoff: self.day }),
            None => Ok(HistoryView { rows, cutoff: self }),
        }
    }
}

/// First and last purchase day over all customers (histories are
/// time-sorted, so this reads two rows per customer).
pub fn purchase_days(tx: &Transactions) -> Option<(i64, i64)> {
    tx.iter()
        .filter_map(|(_, h)| Some((day_of(h.first()?.ts), day_of(h.last()?.ts))))
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
}

/// A day the user gave (`what`: "cutoff", "holdout end") checked against the
/// purchases by [`check_day_near_data`]: a typo'd year is an error naming
/// the likely day, not minutes of fitting a customer base dead for centuries.
pub fn check_near_data(what: &str, day: i64, tx: &Transactions) -> Result<(), LimitError> {
    match purchase_days(tx) {
        Some((first, last)) => check_day_near_data(what, day, first, last),
        None => Ok(()),
    }
}

/// Transactions proven to be on or before the cutoff.
#[derive(Debug, Clone, Copy)]
pub struct HistoryView<'a> {
    rows: &'a [Txn],
    cutoff: Cutoff,
}

impl<'a> HistoryView<'a> {
    /// The transactions, time-sorted, all on or before the cutoff day.
    pub fn rows(&self) -> &'a [Txn] {
        self.rows
    }
    /// The cutoff the rows were checked against.
    pub fn cutoff(&self) -> Cutoff {
        self.cutoff
    }
}

/// A purchase occasion: one customer-day with at least one purchase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occasion {
    /// The purchase day, in days since 1970-01-01 (UTC).
    pub day: i64,
    /// Net amount of the day's rows plus any later refunds netted into it (see [`occasions`]); may be
    /// zero or negative when refunds outweigh the purchase.
    pub amount: f64,
}

/// Merge a time-sorted history into purchase occasions (into `out`).
///
/// Same-day rows are summed. A refund (negative amount) does not make an
/// occasion: it is netted into the latest occasion so far, since it returns
/// something bought then or before; a refund with no earlier purchase in the
/// slice only counts in revenue totals.
pub fn occasions(h: &[Txn], out: &mut Vec<Occasion>) {
    out.clear();
    for t in h {
        let day = day_of(t.ts);
        match out.last_mut() {
            Some(o) if o.day == day || t.amount < 0.0 => o.amount += t.amount,
            _ if t.amount < 0.0 => {}
            _ => out.push(Occasion { day, amount: t.amount }),
        }
    }
}

#[cfg(test)]
mod tests;
