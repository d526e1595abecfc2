//! The figures shown about customers at a cutoff — one computation for the
//! page and `clv summary --format json`, over the same label window as the
//! feature table, so "revenue in the next H days" is Σ `label_y` of the
//! features export.

use super::{FeatureParams, RfmSummary};
use crate::ingest::Transactions;
use crate::time::{day_of, format_day, CohortGrain, TimeUnit};
use serde::{Deserialize, Serialize};

/// Rows of the summary previewed before export.
pub const PREVIEW_ROWS: usize = 10;

/// What is said about the BTYD summary and the label window at a cutoff.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SummaryStats {
    /// The cutoff day, `YYYY-MM-DD`: the last day of history.
    pub cutoff: String,
    /// Length of the label window `(cutoff, cutoff + horizon]`, in days.
    pub horizon_days: i64,
    /// Time unit of the recency and `T` figures.
    pub unit: TimeUnit,
    /// Customers with a purchase on or before the cutoff: the rows of the BTYD summary.
    pub customers: usize,
    /// Of those, customers with at least one repeat purchase occasion (`frequency` > 0).
    pub repeat_buyers: usize,
    /// Customers whose first transaction is after the cutoff: left out of the summary.
    pub excluded_after_cutoff: usize,
    /// Customers with only refunds on or before the cutoff: left out of the summary.
    pub excluded_no_purchase: usize,
    /// Mean `frequency` (repeat purchase occasions) over `customers`.
    pub mean_frequency: f64,
    /// Mean `recency` (first to last purchase) over `customers`, in `unit`s.
    pub mean_recency: f64,
    /// Mean `T` (first purchase to the cutoff) over `customers`, in `unit`s.
    pub mean_t: f64,
    /// Mean `monetary_value` over the repeat buyers only (one-time buyers have none); 0 without repeat
    /// buyers.
    pub mean_monetary_repeaters: f64,
    /// Net revenue in the label window from the customers at the cutoff:
    /// Σ `label_y` of the feature table (without a users file).
    pub label_revenue: f64,
    /// Net revenue in the label window from customers who first bought after the cutoff.
    #[serde(default)]
    pub new_customer_revenue: f64,
    /// Whether the file's data reaches the end of the label window.
    pub label_window_complete: bool,
    /// The first [`PREVIEW_ROWS`] rows of the BTYD summary, in the transactions' customer order.
    pub preview: Vec<SummaryPreviewRow>,
    /// Purchases and new customers per calendar week over the whole file.
    #[serde(default)]
    pub weekly: WeeklyActivity,
    /// Customers at the cutoff by repeat purchases: 0, 1, …, [`REPEAT_BINS`] − 1, then that many or more.
    #[serde(default)]
    pub repeat_histogram: Vec<u64>,
}

/// Bars of the repeat-purchase histogram (the last one holds this many and more).
pub const REPEAT_BINS: usize = 11;

/// The file's activity per Monday–Sunday week, from the week of its first purchase to the week
/// of its last: what the Data view charts beside the cutoff.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct WeeklyActivity {
    /// The Monday the first week starts, `YYYY-MM-DD`.
    pub first_week: String,
    /// Purchase occasions (customer-days with a purchase) per week.
    pub purchases: Vec<u64>,
    /// Customers whose first purchase falls in the week.
    pub new_customers: Vec<u64>,
    /// The week (index) that holds the cutoff.
    pub cutoff_week: usize,
}

impl WeeklyActivity {
    /// Over every customer's purchase occasions, as the BTYD summary counts them
    /// ([`super::occasions`]: a day with a purchase; a refund is not one).
    pub fn build(tx: &Transactions, cutoff_day: i64) -> WeeklyActivity {
        // Two passes (the first day, then the counts), so nothing per customer is kept.
        let mut buf = Vec::new();
        let first_occasion = |c: usize, buf: &mut Vec<super::Occasion>| {
            super::occasions(tx.history(c), buf);
            buf.first().map(|o| o.day)
        };
        let Some(first) = (0..tx.customers()).filter_map(|c| first_occasion(c, &mut buf)).min() else {
            return WeeklyActivity::default();
        };
        let monday = CohortGrain::Week.start_of(first);
        let mut out = WeeklyActivity { first_week: format_day(monday), ..WeeklyActivity::default() };
        let add = |v: &mut Vec<u64>, day: i64| {
            let w = ((day - monday) / 7) as usize;
            if v.len() <= w {
                v.resize(w + 1, 0);
            }
            v[w] += 1;
        };
        for c in 0..tx.customers() {
            if let Some(f) = first_occasion(c, &mut buf) {
                add(&mut out.new_customers, f);
            }
            buf.iter().for_each(|o| add(&mut out.purchases, o.day));
        }
        let weeks = out.purchases.len().max(out.new_customers.len());
        out.purchases.resize(weeks, 0);
        out.new_customers.resize(weeks, 0);
        out.cutoff_week = ((cutoff_day - monday).max(0) / 7) as usize;
        out
    }
}

/// One customer's BTYD summary as previewed: the columns of the summary export, times in the
/// [`SummaryStats::unit`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SummaryPreviewRow {
    /// The customer id as written in the transactions.
    pub user_id: String,
    /// Repeat purchase occasions: distinct purchase days after the first, up to the cutoff.
    pub frequency: u32,
    /// Time from the first to the last purchase occasion (0 without repeats).
    pub recency: f64,
    /// `T`: time from the first purchase to the cutoff day.
    pub t: f64,
    /// Mean net amount of the repeat occasions (`lifetimes`' convention); 0 without repeats.
    pub monetary_value: f64,
}

/// Nobody had bought on or before the cutoff: there is no customer to describe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no customer bought on or before the cutoff {cutoff}: choose a later cutoff")]
pub struct NoCustomers {
    /// The cutoff, `YYYY-MM-DD`.
    pub cutoff: String,
}

impl SummaryStats {
    /// The figures at `p.cutoff()` in `unit`; `Err` when nobody bought by then.
    pub fn build(tx: &Transactions, p: &FeatureParams, unit: TimeUnit) -> Result<SummaryStats, NoCustomers> {
        let s = RfmSummary::build(tx, p.cutoff(), unit);
        if s.rows.is_empty() {
            return Err(NoCustomers { cutoff: s.cutoff });
        }
        let n = s.rows.len() as f64;
        let mean = |f: fn(&super::RfmRow) -> f64| crate::total(s.rows.iter().map(f)) / n;
        let repeaters: Vec<f64> = s.rows.iter().filter(|r| r.frequency > 0).map(|r| r.monetary_value).collect();
        // One pass over the histories (time-sorted): the window's revenue by
        // whether the customer was known at the cutoff, and the last day.
        let window = p.label_window();
        let (mut known, mut new, mut last_ts) = (0.0, 0.0, i64::MIN);
        for c in 0..tx.customers() {
            let h = tx.history(c);
            let in_window = crate::total(h.iter().filter(|t| window.contains(&t.ts)).map(|t| t.amount));
            if h.first().is_some_and(|t| p.cutoff().includes(t.ts)) {
                known += in_window;
            } else {
                new += in_window;
            }
            last_ts = last_ts.max(h.last().map_or(i64::MIN, |t| t.ts));
        }
        let last_day = if last_ts == i64::MIN { i64::MIN } else { day_of(last_ts) };
        Ok(SummaryStats {
            cutoff: s.cutoff.clone(),
            horizon_days: p.horizon().in_days(),
            unit,
            customers: s.rows.len(),
            repeat_buyers: repeaters.len(),
            excluded_after_cutoff: s.excluded_after_cutoff,
            excluded_no_purchase: s.excluded_no_purchase,
            mean_frequency: mean(|r| f64::from(r.frequency)),
            mean_recency: mean(|r| r.recency),
            mean_t: mean(|r| r.t),
            mean_monetary_repeaters: if repeaters.is_empty() {
                0.0
            } else {
                crate::total(repeaters.iter().copied()) / repeaters.len() as f64
            },
            label_revenue: known,
            new_customer_revenue: new,
            label_window_complete: last_day >= p.cutoff().day + p.horizon().in_days(),
            preview: s
                .rows
                .iter()
                .take(PREVIEW_ROWS)
                .map(|r| SummaryPreviewRow {
                    user_id: tx.id(r.customer).to_string(),
                    frequency: r.frequency,
                    recency: r.recency,
                    t: r.t,
                    monetary_value: r.monetary_value,
                })
                .collect(),
            weekly: WeeklyActivity::build(tx, p.cutoff().day),
            repeat_histogram: s.rows.iter().fold(vec![0u64; REPEAT_BINS], |mut h, r| {
                h[(r.frequency as usize).min(REPEAT_BINS - 1)] += 1;
                h
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{Cutoff, FeatureTable};
    use crate::ingest::Txn;
    use crate::time::{CohortGrain, Horizon};

    fn days(n: i64) -> Horizon {
        Horizon::days(n).unwrap()
    }

    const DAY: i64 = 86_400;

    /// Hand-counted: 2024-01-01 is a Monday. a buys on Jan 1 (twice), Jan 3 and Jan 10; b on
    /// Jan 9 and refunds on Jan 16; c first buys on Jan 17. Weeks: [Jan 1–7: a, a] →
    /// purchases 2 (Jan 1, Jan 3), new 1; [Jan 8–14]: a Jan 10, b Jan 9 → 2, new 1 (b);
    /// [Jan 15–21]: c → 1, new 1 (the refund is not a purchase).
    #[test]
    fn weekly_activity_and_the_repeat_histogram_by_hand() {
        let day = |d: i64| crate::time::days_from_civil(2024, 1, 1).unwrap() + d - 1;
        let at = |d: i64, amount: f64| Txn { ts: day(d) * DAY + 3_600, amount };
        let tx = Transactions::from_pairs([
            ("a", at(1, 5.0)),
            ("a", at(1, 2.0)),
            ("a", at(3, 1.0)),
            ("a", at(10, 1.0)),
            ("b", at(9, 4.0)),
            ("b", at(16, -4.0)),
            ("c", at(17, 3.0)),
        ]);
        let w = WeeklyActivity::build(&tx, day(10));
        assert_eq!(w.first_week, "2024-01-01");
        assert_eq!((w.purchases, w.new_customers, w.cutoff_week), (vec![2, 2, 1], vec![1, 1, 1], 1));
        let p = FeatureParams::new(Cutoff::day(day(12)), days(30), CohortGrain::Month);
        let s = SummaryStats::build(&tx, &p, TimeUnit::Week).unwrap();
        // At Jan 12: a has 2 repeat purchase days (Jan 3, Jan 10), b none; c is not a customer yet.
        let mut want = vec![0u64; REPEAT_BINS];
        (want[0], want[2]) = (1, 1);
        assert_eq!(s.repeat_histogram, want);
        assert_eq!(s.repeat_histogram.iter().sum::<u64>(), s.customers as u64);
    }

    #[test]
    fn label_revenue_is_the_feature_tables_label_and_newcomers_are_apart() {
        let tx = Transactions::from_pairs([
            ("a", Txn { ts: 0, amount: 1.0 }),
            ("a", Txn { ts: 4 * DAY, amount: 3.0 }),
            ("b", Txn { ts: 2 * DAY, amount: 5.0 }),
            ("b", Txn { ts: 9 * DAY, amount: 7.0 }),
            ("b", Txn { ts: 16 * DAY, amount: 100.0 }), // after the window
            ("c", Txn { ts: 8 * DAY, amount: 50.0 }),   // first buys after the cutoff
        ]);
        let p = FeatureParams::new(Cutoff::day(5), days(10), CohortGrain::Month);
        let s = SummaryStats::build(&tx, &p, TimeUnit::Day).unwrap();
        assert_eq!((s.customers, s.repeat_buyers), (2, 1));
        assert_eq!((s.mean_frequency, s.mean_recency, s.mean_t), (0.5, 2.0, (5.0 + 3.0) / 2.0));
        assert_eq!(s.mean_monetary_repeaters, 3.0);
        // Window (day 5, day 15]: b's 7; c's 50 is a newcomer's; b's 100 is past it.
        assert_eq!((s.label_revenue, s.new_customer_revenue), (7.0, 50.0));
        let table = FeatureTable::build(&tx, None, p);
        assert_eq!(crate::total(table.rows.iter().map(|r| r.label_y)), s.label_revenue);
        assert!(s.label_window_complete);
        let late = FeatureParams::new(Cutoff::day(5), days(30), CohortGrain::Month);
        assert!(!SummaryStats::build(&tx, &late, TimeUnit::Day).unwrap().label_window_complete);
        let early = FeatureParams::new(Cutoff::day(-10), days(10), CohortGrain::Month);
        assert!(SummaryStats::build(&tx, &early, TimeUnit::Day)
            .unwrap_err()
            .to_string()
            .contains("choose a later cutoff"));
    }
}
