//! Cohort CLV at a horizon H days after signup: observed cumulative revenue
//! per acquired user where the cohort is old enough, a forecast of the rest
//! otherwise, with a prediction interval and the method said out loud.
//!
//! - **Damped Holt–Winters** (additive damped trend + weekly season) on the
//!   cohort's daily repeat revenue by age (ages ≥ 1: age 0 is the acquisition
//!   purchase, a one-day spike) when it has ≥ 4 weeks of it and at most half
//!   are zero. Damped always: a cohort's revenue decays and flattens, and an
//!   undamped trend line extrapolated months past a few weeks of history
//!   runs off (with age 0 left in, some CDNOW weekly cohorts came out 3–5×
//!   their actual 90-day value; as here, the mean error is 7.6% — see
//!   `tests/cdnow.rs`).
//! - **Pooled** otherwise: the per-user revenue-by-age curve of all cohorts
//!   (of the same segment) observed at each age, times the cohort's users;
//!   interval from the spread of that age window in older cohorts.
//! - With a segment, each cohort's segments and total are forecast over the
//!   same ages and reconciled (MinT-shrink when every level has Holt–Winters
//!   residuals, else OLS), so segments add up to the total.

use super::btyd::BtydCohortValue;
use super::{Cohort, CohortError, CohortTable};
use crate::export::CsvSafety;
use crate::forecast::holt_winters::z_score;
use crate::forecast::{reconcile, rolling_origin, zero_share, Backtest, HoltWintersParams, Method, Reconciliation};
use crate::total;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

const SEASON: usize = 7;
/// Repeat-revenue days (ages ≥ 1) needed before a cohort's own series is
/// extended: four weekly seasons.
const MIN_HISTORY: usize = 28;
/// Older cohorts needed for an empirical interval around a pooled forecast.
const MIN_COHORTS_FOR_INTERVAL: usize = 5;

/// One cohort's (or cohort × segment's) value per acquired user at the horizon: what it has earned so
/// far plus, when it is younger than the horizon, a forecast of the rest. Money in the data's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortValue {
    /// The cohort's label: its first day `YYYY-MM-DD` (day and week cohorts; weeks start on Monday), or
    /// `YYYY-MM` for month cohorts.
    pub cohort: String,
    /// The segment value, or `None` for the cohort's total over all segments.
    pub segment: Option<String>,
    /// Users acquired in the cohort (signed up on or before the cutoff).
    pub users: u32,
    /// All net revenue of the members up to the cutoff, at any age (not only below the horizon).
    pub observed_revenue: f64,
    /// Revenue per user over the observed ages below the horizon.
    pub observed_per_user: f64,
    /// Value per acquired user at the horizon: `observed_per_user` plus the forecast revenue of ages
    /// `observed_days` .. H per user (divided by at least 1 user).
    pub clv_per_user: f64,
    /// `None` when there is nothing to base an interval on (said in `note`).
    pub clv_lower: Option<f64>,
    /// Upper end of the interval at [`CohortReport::level`]; `None` exactly when `clv_lower` is.
    pub clv_upper: Option<f64>,
    /// How the value was obtained: observed outright, damped Holt–Winters, or the pooled curve.
    pub method: Method,
    /// How the forecasts of a cohort's total and its segments were made to add up; `None` without
    /// segments or when nothing was forecast.
    pub reconciliation: Option<Reconciliation>,
    /// The method and its caveats in words (e.g. too little history for Holt–Winters, no interval).
    pub note: String,
    /// Forecast daily revenue (whole cohort) for ages observed_days .. H.
    pub forecast: Vec<f64>,
    /// Ages in days, from signup, that every member has lived through, capped at the horizon: the first
    /// `observed_days` are observed, the rest forecast. Shared by a cohort's total and its segments.
    pub observed_days: usize,
}

/// Every cohort valued at one horizon, with a backtest of the daily revenue forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortReport {
    /// H: the horizon, in days after signup.
    pub horizon_days: usize,
    /// Central level of the prediction intervals, e.g. 0.9.
    pub level: f64,
    /// One per cohort and segment: each cohort's total followed by its segments, cohorts in time order.
    pub values: Vec<CohortValue>,
    /// Rolling-origin backtest of the daily total revenue (calendar days).
    pub backtest: Option<Backtest>,
    /// Why there is no backtest (e.g. too short a daily history); empty when there is one.
    pub backtest_note: String,
    /// Things the user should know about the cohort table (e.g. purchases before signup).
    pub notes: Vec<String>,
}

/// A level's base forecast before reconciliation.
struct Base {
    path: Vec<f64>,
    /// Variance of the path's sum (Holt–Winters).
    var_sum: Option<f64>,
    /// Per-user quantiles of the window sum (pooled).
    per_user_band: Option<(f64, f64)>,
    residuals: Option<Vec<f64>>,
    method: Method,
    note: String,
}

/// Per-user revenue by age pooled over cohorts, per segment key.
struct Pooled<'a> {
    cohorts: Vec<&'a Cohort>,
    curve: Vec<f64>,
}

impl<'a> Pooled<'a> {
    fn new(cohorts: Vec<&'a Cohort>) -> Pooled<'a> {
        let max = cohorts.iter().map(|c| c.observed_days).max().unwrap_or(0);
        let (mut revenue, mut users) = (vec![0.0; max], vec![0.0; max]);
        for c in &cohorts {
            for (d, r) in c.revenue_by_age.iter().enumerate() {
                revenue[d] += r;
                users[d] += f64::from(c.users);
            }
        }
        let curve = revenue.iter().zip(&users).map(|(r, u)| if *u > 0.0 { r / u } else { 0.0 }).collect();
        Pooled { cohorts, curve }
    }

    fn base(&self, c: &Cohort, from: usize, to: usize, level: f64) -> Base {
        let users = f64::from(c.users);
        // The last four weeks of repeat revenue; never age 0 (the acquisition purchase).
        let tail = self.curve.get(self.curve.len().saturating_sub(28).max(1)..).unwrap_or(&[]);
        let flat = if tail.is_empty() { 0.0 } else { total(tail.iter().copied()) / tail.len() as f64 };
        let path: Vec<f64> = (from..to).map(|d| users * self.curve.get(d).copied().unwrap_or(flat)).collect();
        let mut note = format!("{} days of history are too few or too sparse for Holt–Winters: pooled per-user revenue by age of {} cohorts", from, self.cohorts.len());
        if to > self.curve.len() {
            note.push_str(&format!("; beyond age {} (the oldest cohort) the last 4 weeks' mean", self.curve.len()));
        }
        let mut sums: Vec<f64> = self
            .cohorts
            .iter()
            .filter(|o| o.observed_days >= to && o.users > 0)
            .map(|o| total(o.revenue_by_age[from..to].iter().copied()) / f64::from(o.users))
            .collect();
        let per_user_band = (sums.len() >= MIN_COHORTS_FOR_INTERVAL).then(|| {
            sums.sort_by(f64::total_cmp);
            (quantile(&sums, (1.0 - level) / 2.0), quantile(&sums, (1.0 + level) / 2.0))
        });
        if per_user_band.is_none() {
            note.push_str(&format!(
                "; no interval: fewer than {MIN_COHORTS_FOR_INTERVAL} older cohorts cover these ages"
            ));
        }
        Base { path, var_sum: None, per_user_band, residuals: None, method: Method::Pooled, note }
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - pos.floor())
}

fn base_forecast(c: &Cohort, days: usize, horizon: usize, pooled: &Pooled, level: f64) -> Base {
    // Age 0 holds the acquisition purchase itself, a one-day spike that is
    // not part of the repeat-revenue pattern being extended.
    let series = &c.revenue_by_age[1.min(days)..days];
    let params = HoltWintersParams::new(SEASON, true).expect("weekly season is valid");
    if series.len() >= MIN_HISTORY && zero_share(series) <= 0.5 {
        if let Ok(fit) = params.fit(series) {
            let mut path = fit.point(horizon - days);
            let clamped = path.iter().filter(|v| **v < 0.0).count();
            path.iter_mut().for_each(|v| *v = v.max(0.0));
            let mut note = String::new();
            if !fit.converged {
                note.push_str("; Holt–Winters fit stopped at its iteration cap (not converged)");
            }
            if clamped > 0 {
                note.push_str(&format!("; {clamped} forecast days were below zero and set to 0"));
            }
            let var = fit.cumulative(horizon - days).1;
            let method = Method::DampedHoltWinters;
            return Base {
                path,
                var_sum: Some(var),
                per_user_band: None,
                residuals: Some(fit.residuals),
                method,
                note,
            };
        }
    }
    pooled.base(c, days, horizon, level)
}

/// Value every cohort of `table` at its horizon.
pub fn value_cohorts(table: &CohortTable) -> Result<CohortReport, CohortError> {
    let p = &table.params;
    let horizon = p.horizon_days;
    let z = z_score(p.level)?;
    let mut by_segment: FxHashMap<Option<&str>, Vec<&Cohort>> = FxHashMap::default();
    for c in &table.cohorts {
        by_segment.entry(c.segment.as_deref()).or_default().push(c);
    }
    let pooled: FxHashMap<Option<&str>, Pooled> = by_segment.into_iter().map(|(k, v)| (k, Pooled::new(v))).collect();
    // Groups: a cohort total followed by its segments (sorted that way).
    let starts: Vec<usize> = (0..table.cohorts.len()).filter(|&i| table.cohorts[i].segment.is_none()).collect();
    let groups: Vec<&[Cohort]> = starts
        .iter()
        .enumerate()
        .map(|(k, &s)| &table.cohorts[s..starts.get(k + 1).copied().unwrap_or(table.cohorts.len())])
        .collect();
    let values: Vec<Vec<CohortValue>> =
        groups.par_iter().map(|g| value_group(g, horizon, z, p.level, &pooled)).collect::<Result<_, _>>()?;
    let values = values.into_iter().flatten().collect();
    // From the first day with revenue: leading empty days (signups before
    // any purchase) would make every MASE scale zero.
    let revenue = &table.daily_revenue;
    let daily = &revenue[revenue.iter().position(|v| *v != 0.0).unwrap_or(revenue.len())..];
    let (backtest, backtest_note) =
        match rolling_origin(daily, SEASON, 28, 8, &[Method::HoltWinters, Method::DampedHoltWinters]) {
            Ok(b) => (Some(b), String::new()),
            Err(e) => (None, format!("no backtest of the daily revenue: {e}")),
        };
    Ok(CohortReport {
        horizon_days: horizon,
        level: p.level,
        values,
        backtest,
        backtest_note,
        notes: table.notes.clone(),
    })
}

fn value_group(
    group: &[Cohort],
    horizon: usize,
    z: f64,
    level: f64,
    pooled: &FxHashMap<Option<&str>, Pooled>,
) -> Result<Vec<CohortValue>, CohortError> {
    // Every level of the group forecasts the same ages from the same history.
    let days = group[0].observed_days.min(horizon);
    let bases: Vec<Option<Base>> = group
        .iter()
        .map(|c| (days < horizon).then(|| base_forecast(c, days, horizon, &pooled[&c.segment.as_deref()], level)))
        .collect();
    let mut paths: Vec<Option<Vec<f64>>> = bases.iter().map(|b| b.as_ref().map(|b| b.path.clone())).collect();
    let mut used = None;
    if group.len() > 1 && days < horizon {
        let all: Vec<&Base> = bases.iter().flatten().collect();
        let residuals: Option<Vec<Vec<f64>>> = all.iter().map(|b| b.residuals.clone()).collect();
        let method = if residuals.is_some() && days > 2 * group.len() {
            Reconciliation::MintShrink
        } else {
            Reconciliation::Ols
        };
        let parts: Vec<Vec<f64>> = all[1..].iter().map(|b| b.path.clone()).collect();
        let rec = reconcile(&all[0].path, &parts, method, residuals.as_deref())
            .or_else(|_| reconcile(&all[0].path, &parts, Reconciliation::Ols, None))?;
        used = Some(rec.method);
        // Revenue cannot go below zero: clamp the parts, and keep the total
        // their sum so the hierarchy stays coherent.
        let parts: Vec<Vec<f64>> = rec.parts.into_iter().map(|p| p.into_iter().map(|v| v.max(0.0)).collect()).collect();
        let total_path = (0..all[0].path.len()).map(|h| parts.iter().map(|p| p[h]).sum()).collect();
        paths = std::iter::once(Some(total_path)).chain(parts.into_iter().map(Some)).collect();
    }
    Ok(group
        .iter()
        .zip(bases)
        .zip(paths)
        .map(|((c, base), path)| value_one(c, days, horizon, z, base, path, used))
        .collect())
}

fn value_one(
    c: &Cohort,
    days: usize,
    horizon: usize,
    z: f64,
    base: Option<Base>,
    path: Option<Vec<f64>>,
    reconciliation: Option<Reconciliation>,
) -> CohortValue {
    let users = f64::from(c.users.max(1));
    let observed = total(c.revenue_by_age[..days].iter().copied());
    let observed_per_user = observed / users;
    let mut v = CohortValue {
        cohort: c.cohort.clone(),
        segment: c.segment.clone(),
        users: c.users,
        observed_revenue: c.observed_revenue,
        observed_per_user,
        clv_per_user: observed_per_user,
        clv_lower: Some(observed_per_user),
        clv_upper: Some(observed_per_user),
        method: Method::Observed,
        reconciliation: None,
        note: String::new(),
        forecast: Vec::new(),
        observed_days: days,
    };
    let (Some(base), Some(mut path)) = (base, path) else {
        v.note = format!("observed: the cohort has lived through all {horizon} days");
        return v;
    };
    path.iter_mut().for_each(|x| *x = x.max(0.0));
    let future = total(path.iter().copied());
    // Reconciliation moves the mean; the band moves with it.
    let shift = future - total(base.path.iter().copied());
    let (lower, upper) = match (base.var_sum, base.per_user_band) {
        (Some(var), _) => {
            let sd = var.sqrt();
            (Some((future - z * sd).max(0.0)), Some(future + z * sd))
        }
        (None, Some((lo, hi))) => (Some((lo * users + shift).max(0.0)), Some((hi * users + shift).max(0.0))),
        (None, None) => (None, None),
    };
    v.clv_per_user = (observed + future) / users;
    v.clv_lower = lower.map(|l| (observed + l) / users);
    v.clv_upper = upper.map(|u| (observed + u) / users);
    v.method = base.method;
    v.reconciliation = reconciliation;
    v.note = base.note.trim_start_matches("; ").to_string();
    v.forecast = path;
    v
}

/// Columns of [`values_csv`] (the CLI's `clv cohorts` and the page's export).
pub const VALUE_COLUMNS: [&str; 11] = [
    "cohort",
    "segment",
    "users",
    "observed_revenue",
    "clv_per_user",
    "clv_lower",
    "clv_upper",
    "method",
    "observed_days",
    "reconciliation",
    "note",
];

/// One row per cohort (and segment); an interval that cannot be given is
/// empty. With BTYD values, a last column `btyd_clv_per_user` sets the
/// bottom-up model value beside the cohort forecast. Cells through `safety`
/// (the segment is user text).
pub fn values_csv(report: &CohortReport, btyd: Option<&[BtydCohortValue]>, safety: &mut CsvSafety) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = VALUE_COLUMNS.to_vec();
    if btyd.is_some() {
        header.push("btyd_clv_per_user");
    }
    w.write_record(header).expect("in-memory write");
    for v in &report.values {
        let model = btyd.map(|b| {
            safety.opt(b.iter().find(|b| b.cohort == v.cohort && b.segment == v.segment).map(|b| b.clv_per_user))
        });
        let mut record = vec![
            v.cohort.clone(),
            safety.text(v.segment.as_deref().unwrap_or_default()).into_owned(),
            v.users.to_string(),
            safety.num(v.observed_revenue),
            safety.num(v.clv_per_user),
            safety.opt(v.clv_lower),
            safety.opt(v.clv_upper),
            v.method.name().to_string(),
            v.observed_days.to_string(),
            v.reconciliation.map(|r| r.name().to_string()).unwrap_or_default(),
            v.note.clone(),
        ];
        record.extend(model);
        w.write_record(record).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory flush")).expect("UTF-8")
}
