//! How sure the total CLV of a customer base is, given that the models' parameters are estimates.
//!
//! The total over many customers barely moves with who happens to buy (those chances average out
//! over thousands of customers); what moves it is that r, α, a, b, p, q, γ were estimated from this
//! data. The interval propagates the fits' log-parameter covariance (inverse Hessian,
//! [`FitReport::log_covariance`]) to ln(total) by the delta method — the gradient of ln(total) in
//! the log-parameters by forward differences — and reads it back on the money scale, so it is
//! asymmetric and stays positive. The count and the spend model are fitted separately (Gamma–Gamma
//! assumes spend independent of the purchase process), so their covariances add.
//!
//! Cost: customers are merged into distinct (x, t_x, T) rows (Gamma–Gamma's conditional mean is
//! affine in the customer's mean spend, so a group's total spend is exact from the sum of its
//! means), and a spend parameter's step does not re-evaluate the count model: 1 + k evaluations of
//! the count model for k count parameters. A Monte Carlo over parameter draws (the test below)
//! agrees with it on CDNOW.
//!
//! ```
//! use clv_core::clv::{ClvParams, Discounting};
//! use clv_core::models::FitOptions;
//! use clv_core::pipeline::{fit_count, fit_spend, Customers, ModelKind};
//! use clv_core::simulate::{simulate_summary, SimulationParams};
//! use clv_core::time::{HorizonUnit, PredictionHorizon, TimeUnit};
//! use clv_core::uncertainty::total_clv;
//!
//! // 1,000 customers drawn from CDNOW-like BG/NBD and Gamma–Gamma parameters.
//! let sim = SimulationParams {
//!     r: 0.24, alpha: 4.4, a: 0.79, b: 2.4, spend: Some((6.25, 3.74, 15.44)), unit: TimeUnit::Week,
//!     customers: 1000, start_day: 0, acquisition_days: 84, observation_days: 546, seed: 1,
//! };
//! let rows = simulate_summary(&sim).unwrap();
//! let c = Customers {
//!     ids: (0..rows.len()).map(|i| i.to_string()).collect(),
//!     rfm: rows.iter().map(|(r, _)| *r).collect(),
//!     monetary: rows.iter().map(|(_, m)| *m).collect(),
//!     weights: vec![1.0; rows.len()],
//!     monetary_is_group_mean: false,
//! };
//! let opts = FitOptions::default();
//! let (model, count) = fit_count(ModelKind::Bgnbd, &c, &opts).unwrap();
//! let (gg, spend) = fit_spend(&c, &opts).unwrap();
//! let year = PredictionHorizon::new(365.0, HorizonUnit::Day).unwrap();
//! let p = ClvParams::new(year, 0.1, TimeUnit::Week, Discounting::PerPeriod).unwrap();
//! let total = total_clv(&model, Some(&count), Some((&gg, Some(&spend))), &c, &p);
//! let interval = total.interval.expect("both fits have standard errors");
//! assert!(interval.low < total.total_clv && total.total_clv < interval.high);
//! ```

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};
use std::collections::BTreeMap;

use crate::clv::{discounted_if_alive, ClvParams};
use crate::models::given::GivenParams;
use crate::models::{CountModel, FitReport, GammaGamma, Rfm};
use crate::pipeline::{AnyModel, Customers, ModelKind, ModelSet};

/// The interval's coverage: 95%, the level of the fits' parameter intervals.
pub const LEVEL: f64 = 0.95;

/// Step of the forward differences in ln(parameter): small against any standard error a fit
/// reports, large against the rounding of a total over millions of customers.
const STEP: f64 = 1e-5;

/// A base's total expected CLV over the horizon, and how sure it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotalClv {
    /// Σ over customers of spend × P(alive) × discounted purchases if alive (each weighted): the
    /// sum of the per-customer `clv` column.
    pub total_clv: f64,
    /// The [`LEVEL`] interval from parameter uncertainty; `None` with `no_interval` saying why.
    pub interval: Option<ClvInterval>,
    /// Why there is no interval (a fit at a boundary, parameters given without standard errors, …).
    pub no_interval: Option<String>,
}

/// The total's interval from parameter uncertainty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClvInterval {
    /// Lower end: total × exp(−z·sd).
    pub low: f64,
    /// Upper end: total × exp(+z·sd).
    pub high: f64,
    /// Coverage (0.95).
    pub level: f64,
    /// sd of ln(total): roughly the total's relative standard error.
    pub sd_log: f64,
}

/// Customers with the same (x, t_x, T): they share P(alive) and the discounted purchases if alive.
struct Group {
    rfm: Rfm,
    /// Σ weights.
    weight: f64,
    /// Σ weights of those valued by their own mean spend (x > 0 and a positive mean).
    repeat_weight: f64,
    /// Σ weight × mean spend over those.
    repeat_spend: f64,
}

fn groups(c: &Customers) -> Vec<Group> {
    let (keys, slot) = crate::distinct(&c.rfm, Rfm::key);
    let mut out: Vec<Group> =
        keys.into_iter().map(|rfm| Group { rfm, weight: 0.0, repeat_weight: 0.0, repeat_spend: 0.0 }).collect();
    for ((&k, &w), &m) in slot.iter().zip(&c.weights).zip(&c.monetary) {
        let g = &mut out[k as usize];
        g.weight += w;
        if g.rfm.x > 0.0 && m > 0.0 {
            g.repeat_weight += w;
            g.repeat_spend += w * m;
        }
    }
    out
}

/// Each group's P(alive) × discounted purchases if alive: the count model's part of its value.
fn count_part(model: &dyn CountModel, groups: &[Group], p: &ClvParams) -> Vec<f64> {
    let rfm: Vec<Rfm> = groups.iter().map(|g| g.rfm).collect();
    let (pairs, slot) = crate::distinct(&rfm, |c| [c.x.to_bits(), c.t.to_bits()]);
    let discounted: Vec<f64> = pairs.par_iter().map(|c| discounted_if_alive(model, c, p)).collect();
    rfm.par_iter().zip(&slot).map(|(c, &k)| model.p_alive(c) * discounted[k as usize]).collect()
}

/// Each group's total spend per purchase: its customers' Gamma–Gamma means (the population mean for
/// one-time buyers, as [`crate::clv::spend_per_purchase`]); its weight without a spend model.
fn spend_part(spend: Option<&GammaGamma>, groups: &[Group]) -> Vec<f64> {
    groups
        .iter()
        .map(|g| match spend {
            None => g.weight,
            Some(gg) => {
                let own = if g.repeat_weight > 0.0 {
                    g.repeat_weight * gg.expected_spend(g.rfm.x, g.repeat_spend / g.repeat_weight).unwrap_or(0.0)
                } else {
                    0.0
                };
                own + (g.weight - g.repeat_weight) * gg.population_mean().unwrap_or(0.0)
            }
        })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    crate::total(a.iter().zip(b).map(|(x, y)| x * y))
}

/// Why a model without a fit report has no interval.
const GIVEN: &str = "parameters that were given, not fitted, come without standard errors";

/// A fit's estimates on the log scale and their covariance.
struct Estimates<'a> {
    report: &'a FitReport,
    log_params: Vec<f64>,
    cov: &'a [Vec<f64>],
}

/// The fitted parameters of `report`, on the log scale, with their covariance — or why not.
fn log_estimates(report: Option<&FitReport>) -> Result<Estimates<'_>, String> {
    let report = report.ok_or(GIVEN)?;
    let cov = report.log_covariance.as_deref().ok_or_else(|| {
        if report.limiting.is_some() {
            format!("the {} fit is at a boundary, where standard errors mean nothing", report.model.label())
        } else {
            format!("the {} fit has no standard errors (its Hessian is not positive definite)", report.model.label())
        }
    })?;
    Ok(Estimates { report, log_params: report.params.iter().map(|p| p.value.ln()).collect(), cov })
}

/// The report's model with its `i`-th log-parameter moved by [`STEP`].
fn stepped(report: &FitReport, log_params: &[f64], i: usize) -> GivenParams {
    let map: BTreeMap<String, f64> = report
        .params
        .iter()
        .zip(log_params)
        .enumerate()
        .map(|(j, (p, v))| (p.name.clone(), (v + if i == j { STEP } else { 0.0 }).exp()))
        .collect();
    GivenParams::from(map)
}

/// g' Σ g for the gradient of ln(total) in one model's log-parameters, each entry by a forward
/// difference from `base` (ln total at the estimates) through `total_at` (the total with the
/// model at stepped parameters, `None` where that is not a valid model).
fn variance_of(
    report: Option<&FitReport>,
    base: f64,
    total_at: impl Fn(&GivenParams) -> Option<f64>,
) -> Result<f64, String> {
    let Estimates { report, log_params, cov } = log_estimates(report)?;
    let gradient = (0..log_params.len())
        .map(|i| {
            total_at(&stepped(report, &log_params, i))
                .filter(|t| *t > 0.0 && t.is_finite())
                .map(|t| (t.ln() - base) / STEP)
                .ok_or_else(|| format!("the {} model is not defined next to its estimates", report.model.label()))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    let var = crate::total(cov.iter().zip(&gradient).map(|(row, gi)| gi * dot(row, &gradient)));
    Ok(var.max(0.0))
}

/// The total CLV of `c` under the count `model` (and Gamma–Gamma `spend`; without it each purchase
/// is worth 1), and its [`LEVEL`] interval from the parameter uncertainty their fit reports give —
/// or, when a model has no report (given on a card) or its fit no covariance, the reason there is none.
pub fn total_clv(
    model: &AnyModel,
    count: Option<&FitReport>,
    spend: Option<(&GammaGamma, Option<&FitReport>)>,
    c: &Customers,
    p: &ClvParams,
) -> TotalClv {
    let groups = groups(c);
    let money = spend_part(spend.map(|(g, _)| g), &groups);
    let counted = count_part(model.as_count(), &groups, p);
    let total = dot(&counted, &money);
    let interval = interval(model, count, spend, &groups, (&counted, &money), p, total);
    let (interval, no_interval) = match interval {
        Ok(i) => (Some(i), None),
        Err(why) => (None, Some(why)),
    };
    TotalClv { total_clv: total, interval, no_interval }
}

fn interval(
    model: &AnyModel,
    count: Option<&FitReport>,
    spend: Option<(&GammaGamma, Option<&FitReport>)>,
    groups: &[Group],
    (counted, money): (&[f64], &[f64]),
    p: &ClvParams,
    total: f64,
) -> Result<ClvInterval, String> {
    if !(total > 0.0 && total.is_finite()) {
        return Err("the total is not a positive amount".into());
    }
    let kind = model.kind();
    let base = total.ln();
    let mut var = variance_of(count, base, |given| {
        let m = AnyModel::at(kind, given).ok()?;
        Some(dot(&count_part(m.as_count(), groups, p), money))
    })?;
    if let Some((_, report)) = spend {
        var += variance_of(report, base, |given| {
            let gg: GammaGamma = given.model().ok()?;
            Some(dot(counted, &spend_part(Some(&gg), groups)))
        })?;
    }
    let z = Normal::standard().inverse_cdf(0.5 + LEVEL / 2.0);
    let sd_log = var.sqrt();
    Ok(ClvInterval { low: total * (-z * sd_log).exp(), high: total * (z * sd_log).exp(), level: LEVEL, sd_log })
}

impl ModelSet {
    /// [`total_clv`] under the converged `kind` and the spend model of this set, each with its own
    /// fit report (none for a model given on a card).
    pub fn total_value(&self, kind: ModelKind, c: &Customers, p: &ClvParams) -> Result<TotalClv, String> {
        let model = self.model(kind)?;
        // A count model given on a card is not fitted (its kind is then not in `reports`).
        let count = self.reports.iter().find(|r| r.model == kind.id() && r.convergence.converged);
        let spend = self.spend.as_ref().and_then(|s| s.model.as_ref().map(|g| (g, s.report.as_ref())));
        Ok(total_clv(model, count, spend, c, p))
    }
}
