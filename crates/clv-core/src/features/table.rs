//! The per-user feature table: users LEFT JOIN history LEFT JOIN label.

use super::{occasions, Cutoff, HistoryView, Occasion, Users};
use crate::export::CsvSafety;
use crate::ingest::Transactions;
use crate::time::{day_of, format_ts, CohortGrain, Horizon, SECONDS_PER_DAY};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Parameters of the feature builder. Every value is valid by construction:
/// the horizon is a checked [`Horizon`] and any day can be a cutoff (a cutoff
/// far from the data is refused where the user gives it, [`Cutoff::checked`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FeatureParams {
    cutoff: Cutoff,
    /// Label window length: the label is net revenue in `(t0, t0 + H]`.
    #[serde(rename = "horizon_days")]
    horizon: Horizon,
    cohort: CohortGrain,
}

impl FeatureParams {
    /// Features at `cutoff`, labels over the `horizon` after it, users
    /// grouped into `cohort`s by signup.
    pub fn new(cutoff: Cutoff, horizon: Horizon, cohort: CohortGrain) -> FeatureParams {
        FeatureParams { cutoff, horizon, cohort }
    }

    /// The last day of history (`t0`).
    pub fn cutoff(&self) -> Cutoff {
        self.cutoff
    }

    /// The label window's length.
    pub fn horizon(&self) -> Horizon {
        self.horizon
    }

    /// The calendar grain of the `cohort` column.
    pub fn cohort(&self) -> CohortGrain {
        self.cohort
    }

    /// The label window `(t0, t0 + H]` as UTC seconds `[start, end)`: the
    /// one definition behind `label_y` and every "revenue in the next H
    /// days" figure.
    pub fn label_window(&self) -> std::ops::Range<i64> {
        (self.cutoff.day + 1) * SECONDS_PER_DAY..(self.cutoff.day + 1 + self.horizon.in_days()) * SECONDS_PER_DAY
    }
}

/// One user's leakage-safe features at the cutoff and label. History features use transactions on or
/// before the cutoff day only; the label uses only `(t0, t0 + H]`. Money is net, in the currency of the
/// input amounts. A users-file user with no transaction up to the cutoff has `None` times and day
/// counts and zero counts and sums.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRow {
    /// The user id, as written in the users file or, without one, in the transactions.
    pub user_id: String,
    /// Purchase rows (refund rows excluded) on or before the cutoff.
    pub hist_txn_cnt: u64,
    /// Net revenue (refunds netted) on or before the cutoff.
    pub hist_revenue: f64,
    /// Average order value: `hist_revenue / hist_txn_cnt`, 0 without a purchase row.
    pub hist_aov: f64,
    /// First transaction (refunds included) on or before the cutoff, `YYYY-MM-DDTHH:MM:SSZ`.
    pub first_txn_ts: Option<String>,
    /// Last transaction (refunds included) on or before the cutoff, `YYYY-MM-DDTHH:MM:SSZ`.
    pub last_txn_ts: Option<String>,
    /// Whole days from the last transaction's day to the cutoff day (0 = on the cutoff day).
    pub recency_days: Option<i64>,
    /// Whole days from the first transaction's day to the cutoff day (not from signup).
    pub tenure_days: Option<i64>,
    /// `y_clv_h`: net revenue in `(t0, t0 + H]`, 0 when none.
    pub label_y: f64,
    /// RFM recency: `recency_days`, floored at 0.
    pub rfm_recency: Option<i64>,
    /// RFM frequency: purchase rows, as `hist_txn_cnt` (not the BTYD frequency of repeat purchase days).
    pub rfm_frequency: u64,
    /// RFM monetary: `hist_revenue` floored at 0.
    pub rfm_monetary: f64,
    /// Net revenue per month of tenure: `hist_revenue / max(tenure_days / 30, 1)`.
    pub arpu: f64,
    /// `ln(1 + max(hist_revenue, 0))`: the revenue on a log scale for linear models.
    pub log_hist_revenue: f64,
    /// Label of the signup period ([`CohortGrain::label`] at [`FeatureParams::cohort`]): from the
    /// users-file signup day, else the first transaction's day; `None` with neither.
    pub cohort: Option<String>,
    /// Days with a purchase on or before the cutoff (the BTYD count: same-day orders are one
    /// purchase occasion), beside `hist_txn_cnt`, which counts order rows.
    pub hist_purchase_days: u64,
    /// Order rows (refund rows excluded) in the label window `(t0, t0 + H]`.
    pub label_orders: u64,
    /// Days with a purchase in the label window: the holdout `frequency` of `lifetimes`'
    /// calibration/holdout frame (refunds netted into the day they return, as in the summary).
    pub label_purchase_days: u64,
    /// Mean net amount per purchase day in the label window (`monetary_value_holdout`), 0 without one.
    pub label_mean_spend: f64,
    /// Users-file attribute values, one per [`FeatureTable::attribute_names`]; empty without a users file.
    pub attributes: Vec<String>,
}

/// The per-user feature table at a cutoff, as made by [`FeatureTable::build`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureTable {
    /// The cutoff, label horizon and cohort grain the table was built with.
    pub params: FeatureParams,
    /// Users-file columns other than the id and the signup date, in file order; empty without a users
    /// file. Exported after [`FeatureTable::COLUMNS`].
    pub attribute_names: Vec<String>,
    /// One row per user: the users file's rows in file order, else the customers with a transaction up
    /// to the cutoff in the transactions' order.
    pub rows: Vec<FeatureRow>,
    /// Customers with no transaction up to the cutoff (and not in a users file).
    pub excluded_after_cutoff: usize,
}

/// History features from a checked view (no row after the cutoff can reach here).
struct Hist {
    cnt: u64,
    revenue: f64,
    first: Option<i64>,
    last: Option<i64>,
}

fn history_features(view: HistoryView<'_>) -> Hist {
    let rows = view.rows();
    Hist {
        cnt: rows.iter().filter(|t| t.amount >= 0.0).count() as u64,
        revenue: crate::total(rows.iter().map(|t| t.amount)),
        first: rows.first().map(|t| t.ts),
        last: rows.last().map(|t| t.ts),
    }
}

impl FeatureTable {
    /// Build the table. With a users file, its rows define the population
    /// (users without history get zero history features); without one, the
    /// population is every customer with a transaction up to the cutoff.
    pub fn build(tx: &Transactions, users: Option<&Users>, params: FeatureParams) -> FeatureTable {
        let index: HashMap<&str, usize> = (0..tx.customers()).map(|c| (tx.id(c), c)).collect();
        let mut rows = Vec::new();
        let mut excluded = 0;
        // One buffer of purchase days for every row (a million customers, a million rows).
        let mut days = Vec::new();
        let mut row_for = |id: &str, customer: Option<usize>, signup: Option<i64>, attrs: Vec<String>| {
            let h = customer.map_or(&[][..], |c| tx.history(c));
            rows.push(feature_row(id, h, signup, attrs, params, &mut days));
        };
        match users {
            Some(u) => {
                for user in &u.rows {
                    row_for(&user.id, index.get(user.id.as_str()).copied(), user.signup_day, user.attributes.clone());
                }
            }
            None => {
                for c in 0..tx.customers() {
                    let known = tx.history(c).first().is_some_and(|t| params.cutoff().includes(t.ts));
                    if known {
                        row_for(tx.id(c), Some(c), None, Vec::new());
                    } else {
                        excluded += 1;
                    }
                }
            }
        }
        FeatureTable {
            params,
            attribute_names: users.map(|u| u.attribute_names.clone()).unwrap_or_default(),
            rows,
            excluded_after_cutoff: excluded,
        }
    }

    /// The fixed CSV columns of [`FeatureTable::to_csv`], in order: one per [`FeatureRow`] field
    /// except `attributes`, whose columns follow, named by `attribute_names`.
    pub const COLUMNS: [&'static str; 19] = [
        "user_id",
        "hist_txn_cnt",
        "hist_revenue",
        "hist_aov",
        "first_txn_ts",
        "last_txn_ts",
        "recency_days",
        "tenure_days",
        "label_y",
        "rfm_recency",
        "rfm_frequency",
        "rfm_monetary",
        "arpu",
        "log_hist_revenue",
        "cohort",
        "hist_purchase_days",
        "label_orders",
        "label_purchase_days",
        "label_mean_spend",
    ];

    /// One row per user; ids and users-file attributes are user text,
    /// everything else numbers or our own dates and labels (cells through
    /// `safety`).
    pub fn to_csv(&self, safety: &mut CsvSafety) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let names: Vec<String> = self.attribute_names.iter().map(|n| safety.text(n).into_owned()).collect();
        let header = Self::COLUMNS.iter().map(|s| s.to_string()).chain(names);
        w.write_record(header).expect("in-memory write");
        let opt = |v: &Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
        for r in &self.rows {
            let fixed = [
                safety.text(&r.user_id).into_owned(),
                r.hist_txn_cnt.to_string(),
                safety.num(r.hist_revenue),
                safety.num(r.hist_aov),
                r.first_txn_ts.clone().unwrap_or_default(),
                r.last_txn_ts.clone().unwrap_or_default(),
                opt(&r.recency_days),
                opt(&r.tenure_days),
                safety.num(r.label_y),
                opt(&r.rfm_recency),
                r.rfm_frequency.to_string(),
                safety.num(r.rfm_monetary),
                safety.num(r.arpu),
                safety.num(r.log_hist_revenue),
                r.cohort.clone().unwrap_or_default(),
                r.hist_purchase_days.to_string(),
                r.label_orders.to_string(),
                r.label_purchase_days.to_string(),
                safety.num(r.label_mean_spend),
            ];
            let attributes: Vec<String> = r.attributes.iter().map(|a| safety.text(a).into_owned()).collect();
            w.write_record(fixed.into_iter().chain(attributes)).expect("in-memory write");
        }
        String::from_utf8(w.into_inner().expect("in-memory flush")).expect("UTF-8")
    }
}

fn feature_row(
    id: &str,
    h: &[crate::ingest::Txn],
    signup: Option<i64>,
    attributes: Vec<String>,
    p: FeatureParams,
    days: &mut Vec<Occasion>,
) -> FeatureRow {
    let view = p.cutoff().history(h);
    let hist = history_features(view);
    let window = p.label_window();
    let after = &h[view.rows().len()..];
    let label = &after[..after.partition_point(|t| t.ts < window.end)];
    let label_y = crate::total(label.iter().map(|t| t.amount));
    occasions(view.rows(), days);
    let hist_purchase_days = days.len() as u64;
    occasions(label, days);
    let label_mean_spend =
        if days.is_empty() { 0.0 } else { crate::total(days.iter().map(|o| o.amount)) / days.len() as f64 };
    let recency = hist.last.map(|ts| p.cutoff().day - day_of(ts));
    let start = signup.or(hist.first.map(day_of));
    let tenure = hist.first.map(|ts| p.cutoff().day - day_of(ts));
    let aov = if hist.cnt > 0 { hist.revenue / hist.cnt as f64 } else { 0.0 };
    let months = tenure.map_or(0.0, |d| d as f64 / 30.0);
    FeatureRow {
        user_id: id.to_string(),
        hist_txn_cnt: hist.cnt,
        hist_revenue: hist.revenue,
        hist_aov: aov,
        first_txn_ts: hist.first.map(format_ts),
        last_txn_ts: hist.last.map(format_ts),
        recency_days: recency,
        tenure_days: tenure,
        label_y,
        rfm_recency: recency.map(|r| r.max(0)),
        rfm_frequency: hist.cnt,
        rfm_monetary: hist.revenue.max(0.0),
        arpu: hist.revenue / months.max(1.0),
        log_hist_revenue: hist.revenue.max(0.0).ln_1p(),
        cohort: start.map(|d| p.cohort().label(d)),
        hist_purchase_days,
        label_orders: label.iter().filter(|t| t.amount >= 0.0).count() as u64,
        label_purchase_days: days.len() as u64,
        label_mean_spend,
        attributes,
    }
}
