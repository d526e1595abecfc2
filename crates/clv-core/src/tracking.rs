//! The classic BTYD tracking plot, from acquisition: period by period since
//! the first customer's first purchase, the repeat purchases the customers
//! acquired by the cutoff actually made, beside what a model fitted at the
//! cutoff expects of them — calibration and holdout on one axis (Fader,
//! Hardie & Lee 2005, Figure 2). Each customer contributes E[X(t)] from their
//! own first purchase: the unconditional expectation, so the calibration part
//! shows how well the model describes the data it was fitted on, the holdout
//! part how well it forecasts.

use crate::features::{occasions, Cutoff};
use crate::ingest::Transactions;
use crate::models::CountModel;
use crate::time::{day_of, format_day, TimeUnit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One period of the tracking plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingPeriod {
    /// 1-based period since the first acquisition day.
    pub period: usize,
    /// First and last day of the period (`YYYY-MM-DD`).
    pub start: String,
    /// Last day of the period.
    pub end: String,
    /// Whether the period ends after the cutoff.
    pub holdout: bool,
    /// Repeat purchase days of the customers acquired by the cutoff in this period.
    pub actual: f64,
    /// The same, summed from the first period.
    pub cumulative_actual: f64,
}

/// Periods since acquisition, and the customers the curve is about.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingFrame {
    /// The periods, calibration then holdout.
    pub periods: Vec<TrackingPeriod>,
    /// How many customers acquired on each first-purchase day (day number → count).
    acquired: BTreeMap<i64, f64>,
    first_day: i64,
    unit: TimeUnit,
    /// Periods of whole `unit` days, so each period ends on a whole day.
    period_days: i64,
    end_day: i64,
}

impl TrackingFrame {
    /// The customers whose first purchase is on or before `cutoff`, their
    /// repeat purchase days per period of `unit` from the first acquisition
    /// day to `end_day` (inclusive; the last period may be partial).
    pub fn build(tx: &Transactions, cutoff: Cutoff, end_day: i64, unit: TimeUnit) -> TrackingFrame {
        let period_days = (unit.days().round() as i64).max(1);
        let mut acquired: BTreeMap<i64, f64> = BTreeMap::new();
        let mut repeat_days: Vec<i64> = Vec::new();
        let mut buf = Vec::new();
        for c in 0..tx.customers() {
            let h = tx.history(c);
            let Some(first) = h.first().filter(|t| cutoff.includes(t.ts)).map(|t| day_of(t.ts)) else { continue };
            *acquired.entry(first).or_default() += 1.0;
            occasions(h, &mut buf);
            repeat_days.extend(buf.iter().skip(1).map(|o| o.day).filter(|&d| d <= end_day));
        }
        let first_day = acquired.keys().next().copied().unwrap_or(cutoff.day);
        let n = ((end_day - first_day + 1).max(0) + period_days - 1) / period_days;
        let mut counts = vec![0.0; n as usize];
        for d in repeat_days {
            counts[((d - first_day) / period_days) as usize] += 1.0;
        }
        let mut cumulative = 0.0;
        let periods = counts
            .into_iter()
            .enumerate()
            .map(|(k, actual)| {
                cumulative += actual;
                let start = first_day + k as i64 * period_days;
                let end = (start + period_days - 1).min(end_day);
                TrackingPeriod {
                    period: k + 1,
                    start: format_day(start),
                    end: format_day(end),
                    holdout: end > cutoff.day,
                    actual,
                    cumulative_actual: cumulative,
                }
            })
            .collect();
        TrackingFrame { periods, acquired, first_day, unit, period_days, end_day }
    }

    /// What `model` expects, cumulatively, at the end of each period: Σ over
    /// the acquired customers of E[X(t)] with t their time since first
    /// purchase, in the model's unit (computed once per first-purchase day).
    pub fn expected_cumulative(&self, model: &dyn CountModel) -> Vec<f64> {
        (0..self.periods.len())
            .map(|k| {
                let end = (self.first_day + (k as i64 + 1) * self.period_days - 1).min(self.end_day);
                crate::total(self.acquired.iter().filter(|(&first, _)| first <= end).map(|(&first, &count)| {
                    count * model.expected_unconditional((end - first) as f64 / self.unit.days())
                }))
            })
            .collect()
    }

    /// The customers acquired by the cutoff.
    pub fn customers(&self) -> f64 {
        self.acquired.values().sum()
    }
}

/// Per-period increments of a cumulative series.
pub fn increments(cumulative: &[f64]) -> Vec<f64> {
    let mut prev = 0.0;
    cumulative
        .iter()
        .map(|&c| {
            let d = c - prev;
            prev = c;
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Txn;
    use crate::models::BgNbd;

    const DAY: i64 = 86_400;

    #[test]
    fn periods_count_repeat_days_of_the_customers_acquired_by_the_cutoff() {
        let tx = Transactions::from_pairs([
            ("a", Txn { ts: 0, amount: 1.0 }),
            ("a", Txn { ts: 3 * DAY, amount: 1.0 }),
            ("a", Txn { ts: 3 * DAY + 60, amount: 1.0 }), // same day: one purchase day
            ("a", Txn { ts: 9 * DAY, amount: 1.0 }),
            ("b", Txn { ts: 2 * DAY, amount: 1.0 }),
            ("b", Txn { ts: 15 * DAY, amount: 1.0 }),
            ("c", Txn { ts: 8 * DAY, amount: 1.0 }), // acquired after the cutoff: not tracked
            ("c", Txn { ts: 10 * DAY, amount: 1.0 }),
        ]);
        let f = TrackingFrame::build(&tx, Cutoff::day(6), 16, TimeUnit::Week);
        assert_eq!(f.customers(), 2.0);
        let actual: Vec<f64> = f.periods.iter().map(|p| p.actual).collect();
        assert_eq!(actual, vec![1.0, 1.0, 1.0]); // days 0–6, 7–13, 14–16
        assert_eq!(f.periods.iter().map(|p| p.holdout).collect::<Vec<_>>(), vec![false, true, true]);
        assert_eq!((f.periods[2].end.as_str(), f.periods[2].cumulative_actual), ("1970-01-17", 3.0));
        // Expected: each customer from their own first day, by hand.
        let m = BgNbd::new(0.5, 2.0, 0.8, 2.5).unwrap();
        let e = f.expected_cumulative(&m);
        let by_hand = |end: f64| m.expected_unconditional(end / 7.0) + m.expected_unconditional((end - 2.0) / 7.0);
        for (k, end) in [6.0, 13.0, 16.0].into_iter().enumerate() {
            assert!((e[k] - by_hand(end)).abs() < 1e-12, "{k}: {} vs {}", e[k], by_hand(end));
        }
        assert_eq!(increments(&[1.0, 3.0, 6.0]), vec![1.0, 2.0, 3.0]);
    }
}
