//! The BTYD summary `(x, t_x, T, m)` per customer, and its holdout twin.
//!
//! Conventions (Fader, Hardie & Lee 2005; `lifetimes`' `summary_data_from_transaction_data`):
//! same-day purchases are one transaction (amounts summed); `frequency` counts
//! repeat transactions; `recency` is first → last purchase; `T` is first
//! purchase → cutoff; `monetary_value` is the mean of the repeat transactions
//! (0 when there are none). All three times in the chosen [`TimeUnit`].

use super::{occasions, Cutoff, Occasion};
use crate::export::CsvSafety;
use crate::ingest::Transactions;
use crate::time::{civil_from_days, format_day, CohortGrain, TimeUnit};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// One customer's BTYD summary at the cutoff (conventions in the module docs); times in the
/// summary's [`TimeUnit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RfmRow {
    /// Index into the [`Transactions`] the summary was built from.
    pub customer: usize,
    /// Repeat purchase occasions (purchase days after the first) up to the cutoff: x.
    pub frequency: u32,
    /// Time from the first to the last purchase occasion: t_x (0 when `frequency` is 0).
    pub recency: f64,
    /// T: time from the first purchase to the cutoff day.
    #[serde(rename = "T")]
    pub t: f64,
    /// Mean net amount of the repeat occasions (refunds netted in), in the data's currency; 0 without
    /// repeat purchases.
    pub monetary_value: f64,
}

/// The calibration summary of every customer with a purchase up to the cutoff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmSummary {
    /// The time unit of `recency` and `T`.
    pub unit: TimeUnit,
    /// The cutoff day as `YYYY-MM-DD`.
    pub cutoff: String,
    /// One row per customer with a purchase up to the cutoff, in [`Transactions`] order.
    pub rows: Vec<RfmRow>,
    /// Customers whose first purchase is after the cutoff: not in `rows`.
    pub excluded_after_cutoff: usize,
    /// Customers with only refunds up to the cutoff: not in `rows`.
    pub excluded_no_purchase: usize,
}

/// Customers per parallel task in [`RfmSummary::build`].
const BLOCK: usize = 1 << 12;

impl RfmSummary {
    /// Build the calibration summary at `cutoff`.
    ///
    /// ```
    /// use clv_core::{features::{Cutoff, RfmSummary}, ingest::{Transactions, Txn}, time::TimeUnit};
    /// let day = 86_400;
    /// let tx = Transactions::from_pairs([
    ///     ("a", Txn { ts: 0, amount: 5.0 }),
    ///     ("a", Txn { ts: 7 * day, amount: 3.0 }),
    ///     ("a", Txn { ts: 7 * day + 60, amount: 1.0 }), // same day: merged
    ///     ("a", Txn { ts: 30 * day, amount: 9.0 }),    // after the cutoff
    /// ]);
    /// let s = RfmSummary::build(&tx, Cutoff::day(14), TimeUnit::Week);
    /// let r = s.rows[0];
    /// assert_eq!((r.frequency, r.recency, r.t, r.monetary_value), (1, 1.0, 2.0, 4.0));
    /// ```
    pub fn build(tx: &Transactions, cutoff: Cutoff, unit: TimeUnit) -> RfmSummary {
        Self::build_in(tx, cutoff, Periods::Elapsed(unit))
    }

    /// The summary with times counted in `periods`: elapsed time in a unit
    /// ([`RfmSummary::build`]), or whole calendar periods as `lifetimes`'
    /// `freq="W"`/`"M"` — purchases in one calendar week (Monday–Sunday) or
    /// month are one transaction, and recency and `T` count period boundaries.
    pub fn build_in(tx: &Transactions, cutoff: Cutoff, periods: Periods) -> RfmSummary {
        let unit = periods.unit();
        // Customers are independent: summarised in parallel blocks, whose
        // rows are then copied into place in parallel too (a million
        // customers' rows are 40 MB; one thread would copy them alone).
        let firsts: Vec<usize> = (0..tx.customers()).step_by(BLOCK).collect();
        let blocks: Vec<(Vec<RfmRow>, usize)> = firsts
            .into_par_iter()
            .map(|first| {
                let (mut rows, mut after, mut buf) = (Vec::with_capacity(BLOCK), 0, Vec::new());
                for c in first..(first + BLOCK).min(tx.customers()) {
                    let h = tx.history(c);
                    if h.first().is_some_and(|t| !cutoff.includes(t.ts)) {
                        after += 1;
                        continue;
                    }
                    occasions(cutoff.history(h).rows(), &mut buf);
                    if let Some((frequency, recency, t, monetary_value)) = summarise(&mut buf, cutoff.day, periods) {
                        rows.push(RfmRow { customer: c, frequency, recency, t, monetary_value });
                    }
                }
                (rows, after)
            })
            .collect();
        let after: usize = blocks.iter().map(|b| b.1).sum();
        let total: usize = blocks.iter().map(|b| b.0.len()).sum();
        let mut rows = Vec::with_capacity(total);
        let zero = RfmRow { customer: 0, frequency: 0, recency: 0.0, t: 0.0, monetary_value: 0.0 };
        rows.par_extend(rayon::iter::repeat_n(zero, total));
        let mut rest = &mut rows[..];
        let mut places = Vec::with_capacity(blocks.len());
        for (block, _) in &blocks {
            let (place, tail) = std::mem::take(&mut rest).split_at_mut(block.len());
            places.push(place);
            rest = tail;
        }
        places.into_par_iter().zip(&blocks).for_each(|(place, (block, _))| place.copy_from_slice(block));
        let no_purchase = tx.customers() - rows.len() - after;
        RfmSummary {
            unit,
            cutoff: format_day(cutoff.day),
            rows,
            excluded_after_cutoff: after,
            excluded_no_purchase: no_purchase,
        }
    }

    /// `user_id,frequency,recency,T,monetary_value` at full precision;
    /// cells through `safety`.
    pub fn to_csv(&self, tx: &Transactions, safety: &mut CsvSafety) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["user_id", "frequency", "recency", "T", "monetary_value"]).expect("in-memory write");
        // One set of field buffers for all rows: a million customers would
        // otherwise be five million small allocations.
        let mut f: [String; 4] = Default::default();
        for r in &self.rows {
            f.iter_mut().for_each(String::clear);
            for (cell, v) in f.iter_mut().zip([f64::from(r.frequency), r.recency, r.t, r.monetary_value]) {
                safety.write_num(cell, v);
            }
            let id = safety.text(tx.id(r.customer));
            w.write_record([&*id, &f[0], &f[1], &f[2], &f[3]]).expect("in-memory write");
        }
        String::from_utf8(w.into_inner().expect("in-memory flush")).expect("csv of UTF-8 is UTF-8")
    }

    /// Customers with at least one repeat purchase (`frequency` > 0): what the count models learn
    /// dropout from.
    pub fn repeat_buyers(&self) -> usize {
        self.rows.iter().filter(|r| r.frequency > 0).count()
    }
}

/// `(x, t_x, T, m)` from the purchase occasions up to the cutoff; `None` when
/// there is no purchase.
/// How the summary counts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Periods {
    /// Elapsed time in a unit: one transaction per purchase day; recency and `T` in days / unit length.
    Elapsed(TimeUnit),
    /// Calendar periods (`CohortGrain::Week`: Monday–Sunday weeks, `Month`: calendar months; a day
    /// grain is elapsed days): one transaction per period with a purchase; recency and `T` are whole
    /// periods between the first purchase's period and the last's, or the cutoff's.
    Calendar(CohortGrain),
}

impl Periods {
    /// The time unit the summary's values are in.
    pub fn unit(self) -> TimeUnit {
        match self {
            Periods::Elapsed(u) => u,
            Periods::Calendar(CohortGrain::Day) => TimeUnit::Day,
            Periods::Calendar(CohortGrain::Week) => TimeUnit::Week,
            Periods::Calendar(CohortGrain::Month) => TimeUnit::Month,
        }
    }

    /// Time from day `a` to day `b`: elapsed days / unit length, or the
    /// number of calendar-period boundaries crossed.
    fn span(self, a: i64, b: i64) -> f64 {
        let month = |day: i64| {
            let (y, m, _) = civil_from_days(day);
            i64::from(y) * 12 + i64::from(m)
        };
        match self {
            Periods::Elapsed(u) => (b - a) as f64 / u.days(),
            Periods::Calendar(CohortGrain::Day) => (b - a) as f64,
            Periods::Calendar(CohortGrain::Week) => {
                ((CohortGrain::Week.start_of(b) - CohortGrain::Week.start_of(a)) / 7) as f64
            }
            Periods::Calendar(CohortGrain::Month) => (month(b) - month(a)) as f64,
        }
    }
}

fn summarise(occ: &mut Vec<Occasion>, cutoff_day: i64, periods: Periods) -> Option<(u32, f64, f64, f64)> {
    if let Periods::Calendar(grain) = periods {
        // Purchase days of one calendar period become one transaction (amounts summed).
        occ.dedup_by(|later, kept| {
            let same = grain.start_of(later.day) == grain.start_of(kept.day);
            if same {
                kept.amount += later.amount;
            }
            same
        });
    }
    let first = occ.first()?;
    let last = occ.last()?;
    let x = (occ.len() - 1) as u32;
    let repeat_total = crate::total(occ[1..].iter().map(|o| o.amount));
    let m = if x > 0 { repeat_total / f64::from(x) } else { 0.0 };
    Some((x, periods.span(first.day, last.day), periods.span(first.day, cutoff_day), m))
}

/// Calibration summary plus what each customer did in `(cutoff, holdout_end]`:
/// what a model evaluation compares predictions with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutRow {
    /// The customer's calibration summary (its fields inline when serialised).
    #[serde(flatten)]
    pub calibration: RfmRow,
    /// Purchase occasions (days with a purchase) in the holdout period.
    pub holdout_frequency: u32,
    /// Net revenue in the holdout period (refunds included), in the data's currency.
    pub holdout_revenue: f64,
}

/// A calibration/holdout split: the summary at the cutoff and what each of those customers did after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutSplit {
    /// The summary at the cutoff.
    pub calibration: RfmSummary,
    /// Per calibration customer, in the same order as `calibration.rows`.
    pub rows: Vec<HoldoutRow>,
    /// Length of the holdout period in the summary's unit.
    pub duration: f64,
    /// Last day of the holdout period as `YYYY-MM-DD`.
    pub holdout_end: String,
    /// Purchase occasions of calibration customers in each holdout period
    /// (unit-long, the last one possibly shorter): the tracking curve's actuals.
    pub per_period: Vec<u64>,
    /// The cutoff (the calibration period's last day).
    #[serde(default = "no_day")]
    pub cutoff: Cutoff,
    /// The holdout's last day, as a day number.
    #[serde(default)]
    pub holdout_end_day: i64,
}

fn no_day() -> Cutoff {
    Cutoff::day(0)
}

impl HoldoutSplit {
    /// Split at `cutoff` (the calibration period ends with that day) with the holdout running to
    /// `holdout_end_day` (a day number, included), times in `unit`.
    pub fn build(tx: &Transactions, cutoff: Cutoff, holdout_end_day: i64, unit: TimeUnit) -> HoldoutSplit {
        let calibration = RfmSummary::build(tx, cutoff, unit);
        let end = Cutoff::day(holdout_end_day);
        let duration = (holdout_end_day - cutoff.day) as f64 / unit.days();
        let mut per_period = vec![0u64; duration.ceil().max(0.0) as usize];
        let mut buf = Vec::new();
        let rows = calibration
            .rows
            .iter()
            .map(|r| {
                let h = tx.history(r.customer);
                let window = &h[cutoff.history(h).rows().len()..end.history(h).rows().len()];
                occasions(window, &mut buf);
                for o in &buf {
                    let k = (((o.day - cutoff.day) as f64 / unit.days()).ceil() as usize).saturating_sub(1);
                    if let Some(slot) = per_period.get_mut(k) {
                        *slot += 1;
                    }
                }
                HoldoutRow {
                    calibration: *r,
                    holdout_frequency: buf.len() as u32,
                    holdout_revenue: crate::total(window.iter().map(|t| t.amount)),
                }
            })
            .collect();
        HoldoutSplit {
            calibration,
            rows,
            duration,
            holdout_end: format_day(holdout_end_day),
            per_period,
            cutoff,
            holdout_end_day,
        }
    }
}

#[cfg(test)]
mod calendar_tests {
    use super::*;
    use crate::ingest::Txn;
    use crate::time::days_from_civil;

    #[test]
    fn calendar_periods_count_weeks_and_months_as_lifetimes_freq_does() {
        let day = |m: u32, d: u32| days_from_civil(2024, m, d).unwrap();
        let at = |m: u32, d: u32, amount: f64| Txn { ts: day(m, d) * 86_400 + 3_600, amount };
        // 2024-01-01 is a Monday: the 1st and 3rd are one calendar week; the 8th the next.
        let tx = Transactions::from_pairs([
            ("a", at(1, 1, 10.0)),
            ("a", at(1, 3, 5.0)),
            ("a", at(1, 8, 7.0)),
            ("a", at(2, 20, 4.0)),
        ]);
        let cutoff = Cutoff::day(day(3, 3)); // a Sunday: the week of Feb 26, and March
        let week = RfmSummary::build_in(&tx, cutoff, Periods::Calendar(CohortGrain::Week)).rows[0];
        assert_eq!((week.frequency, week.recency, week.t), (2, 7.0, 8.0));
        assert_eq!(week.monetary_value, (7.0 + 4.0) / 2.0);
        let month = RfmSummary::build_in(&tx, cutoff, Periods::Calendar(CohortGrain::Month)).rows[0];
        assert_eq!((month.frequency, month.recency, month.t, month.monetary_value), (1, 1.0, 2.0, 4.0));
        // Elapsed weeks, as before: three purchase days after the first.
        let elapsed = RfmSummary::build(&tx, cutoff, TimeUnit::Week).rows[0];
        assert_eq!((elapsed.frequency, elapsed.recency), (3, (day(2, 20) - day(1, 1)) as f64 / 7.0));
    }
}
