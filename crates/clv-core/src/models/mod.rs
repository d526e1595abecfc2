//! Buy-'til-you-die models and the Gamma–Gamma spend model.
//!
//! Every model is a type of validated parameters (`BgNbd`, `ParetoNbd`,
//! `MbgNbd`, `GammaGompertzNbd`, `BgBb`, `GammaGamma`) implementing [`Likelihood`], fitted by
//! [`fit`] (maximum likelihood on log-parameters, identical customers
//! weighted once), and — for the count models — [`CountModel`] for
//! predictions. A fit returns the model and a [`FitReport`] that says
//! honestly whether it converged.
//!
//! ```
//! use clv_core::models::{fit, BgNbd, CountModel, FitOptions, ModelError, Rfm, Weighted};
//! // Too little data is refused with words that say what is missing.
//! let few = Weighted::from_rows([Rfm::new(2.0, 30.43, 38.86), Rfm::new(0.0, 0.0, 38.86)]);
//! assert!(matches!(fit::<BgNbd>(&few, &FitOptions::default()), Err(ModelError::NotEnoughData(_))));
//! // Enough: the fit runs, and says whether it converged.
//! let rows = (0..40).map(|i| {
//!     let x = (i % 4) as f64;
//!     Rfm::new(x, if x == 0.0 { 0.0 } else { 10.0 + i as f64 / 2.0 }, 38.86)
//! });
//! let fitted = fit::<BgNbd>(&Weighted::from_rows(rows), &FitOptions::default()).unwrap();
//! assert_eq!(fitted.report.params.len(), 4);
//! let p = fitted.model.p_alive(&Rfm::new(0.0, 0.0, 38.86));
//! assert_eq!(p, 1.0); // BG/NBD: no repeat purchase means alive, by construction
//! ```

pub mod bgbb;
pub mod bgnbd;
pub mod compare;
pub mod gamma_gamma;
pub mod gamma_gompertz;
pub mod given;
pub mod id;
pub mod limiting;
pub mod mbgnbd;
pub mod optimize;
pub mod pareto_nbd;
pub mod sbg;
pub mod special;
pub mod validity;

pub use bgbb::BgBb;
pub use bgnbd::BgNbd;
pub use gamma_gamma::GammaGamma;
pub use gamma_gompertz::GammaGompertzNbd;
pub use id::ModelId;
pub use limiting::LimitingFit;
pub use mbgnbd::MbgNbd;
pub use optimize::Convergence;
pub use pareto_nbd::ParetoNbd;
pub use sbg::ShiftedBetaGeometric;

use crate::linalg::spd_inverse;
use optimize::{hessian, minimise, Objective};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// One customer's calibration summary: `x` repeat purchases, the last at
/// `t_x`, observed for `T` (all in one time unit).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rfm {
    /// Repeat purchases in the calibration period (the first purchase not counted): a whole number ≥ 0.
    /// For BG/BB, transactions in the `t` periods.
    pub x: f64,
    /// Recency: time from the first purchase to the last repeat purchase, 0 ≤ `t_x` ≤ `T`, and 0 when
    /// `x` = 0 (BG/BB: the last period with a transaction).
    pub t_x: f64,
    /// `T`: time from the first purchase to the end of calibration, > 0 (BG/BB: the number of periods n).
    #[serde(rename = "T")]
    pub t: f64,
}

impl Rfm {
    /// A row from `x`, `t_x` and `T`, unchecked: [`fit`] checks rows against each model's constraints.
    pub fn new(x: f64, t_x: f64, t: f64) -> Rfm {
        Rfm { x, t_x, t }
    }

    /// The row's exact bits: equal keys are identical rows.
    pub(crate) fn key(&self) -> (u64, u64, u64) {
        (self.x.to_bits(), self.t_x.to_bits(), self.t.to_bits())
    }
}

/// Identical rows stored once with a weight: the cost of a fit grows with the
/// distinct rows, not with the customers.
#[derive(Debug, Clone, PartialEq)]
pub struct Weighted<R> {
    /// The distinct rows.
    pub rows: Vec<R>,
    /// How many customers each row stands for, index for index with `rows`; finite and ≥ 0 (fractional
    /// weights are allowed), which [`fit`] checks.
    pub weights: Vec<f64>,
}

impl<R> Default for Weighted<R> {
    fn default() -> Self {
        Weighted { rows: Vec::new(), weights: Vec::new() }
    }
}

impl<R> Weighted<R> {
    /// Σ weights: the number of customers the data stand for (+0.0 when empty).
    pub fn total_weight(&self) -> f64 {
        crate::total(self.weights.iter().copied())
    }

    /// Each distinct row with its weight.
    pub fn iter(&self) -> impl Iterator<Item = (&R, f64)> {
        self.rows.iter().zip(self.weights.iter().copied())
    }
}

impl Weighted<Rfm> {
    /// One customer per row; identical rows are merged (their weight is their count).
    pub fn from_rows(rows: impl IntoIterator<Item = Rfm>) -> Self {
        Self::from_weighted(rows.into_iter().map(|r| (r, 1.0)))
    }

    /// Rows with weights; rows with bit-identical (`x`, `t_x`, `T`) are merged by adding their weights,
    /// kept in the order they first appear.
    pub fn from_weighted(rows: impl IntoIterator<Item = (Rfm, f64)>) -> Self {
        let mut index: FxHashMap<(u64, u64, u64), usize> = FxHashMap::default();
        let mut out = Weighted::default();
        for (r, w) in rows {
            match index.get(&r.key()) {
                Some(&i) => out.weights[i] += w,
                None => {
                    index.insert(r.key(), out.rows.len());
                    out.rows.push(r);
                    out.weights.push(w);
                }
            }
        }
        out
    }
}

/// Why a model could not be built or fitted. The messages are meant for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// [`fit`] was given no rows (or a holdout evaluation no customers).
    #[error("no customers to fit")]
    NoData,
    /// A model parameter that is not allowed, from a model's constructor (every parameter must be a
    /// positive finite number).
    #[error("invalid parameter {name} = {value}: {why}")]
    InvalidParameter {
        /// The parameter's name, as in [`Likelihood::PARAMS`].
        name: &'static str,
        /// The value given.
        value: f64,
        /// What the value must be.
        why: &'static str,
    },
    /// Rows a model cannot use (e.g. `t_x > T`, a negative weight, a cohort count that rises); the text
    /// names the offending values.
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// The data are valid but cannot identify the model (e.g. fewer than
    /// [`validity::MIN_CUSTOMERS`] customers); the text says what is missing.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// A setting out of range ([`FitOptions`], or the discounting options of a CLV computation).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// No start of the optimiser reached a finite likelihood; the text lists each start's failure.
    #[error("the optimiser found no usable optimum: {0}")]
    Optimisation(String),
}

/// Check a parameter is a positive finite number.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, ModelError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ModelError::InvalidParameter { name, value, why: "must be a positive finite number" })
    }
}

/// Rows per parallel chunk of a likelihood sum.
const CHUNK: usize = 4096;

/// Σ over fixed chunks of the data of `f(rows, weights, first_index)` →
/// (value, gradient), chunks in parallel natively and added in order, so
/// the digits do not depend on the number of threads (or on wasm vs native).
pub(crate) fn chunked_sum<R: Sync, const N: usize>(
    data: &Weighted<R>,
    f: impl Fn(&[R], &[f64], usize) -> (f64, [f64; N]) + Sync,
) -> (f64, [f64; N]) {
    add_in_order(chunk_sums(data, f))
}

#[cfg(not(target_arch = "wasm32"))]
fn chunk_sums<R: Sync, const N: usize>(
    data: &Weighted<R>,
    f: impl Fn(&[R], &[f64], usize) -> (f64, [f64; N]) + Sync,
) -> Vec<(f64, [f64; N])> {
    use rayon::prelude::*;
    let chunks = data.rows.par_chunks(CHUNK).zip(data.weights.par_chunks(CHUNK));
    chunks.enumerate().map(|(i, (rows, weights))| f(rows, weights, i * CHUNK)).collect()
}

/// The same chunks one after another: wasm32 without threads runs rayon on the calling thread
/// anyway, and its pool machinery is ~70 KB of every binary that fits a model.
#[cfg(target_arch = "wasm32")]
fn chunk_sums<R: Sync, const N: usize>(
    data: &Weighted<R>,
    f: impl Fn(&[R], &[f64], usize) -> (f64, [f64; N]) + Sync,
) -> Vec<(f64, [f64; N])> {
    let chunks = data.rows.chunks(CHUNK).zip(data.weights.chunks(CHUNK));
    chunks.enumerate().map(|(i, (rows, weights))| f(rows, weights, i * CHUNK)).collect()
}

fn add_in_order<const N: usize>(parts: Vec<(f64, [f64; N])>) -> (f64, [f64; N]) {
    parts.into_iter().fold((0.0, [0.0; N]), |(v, mut g), (pv, pg)| {
        g.iter_mut().zip(pg).for_each(|(a, b)| *a += b);
        (v + pv, g)
    })
}

/// A 95% interval wider than this ratio (high/low) says the data do not
/// pin the parameter down (e.g. Pareto/NBD's s and β running off together).
const UNIDENTIFIED_SPAN: f64 = 1e4;

/// A parametric model fitted by maximum likelihood.
pub trait Likelihood: Sized + Sync {
    /// One customer's data as the model reads it: [`Rfm`] for the count models,
    /// [`gamma_gamma::Spend`] for Gamma–Gamma, [`sbg::SbgRow`] for sBG.
    type Row: Copy + Sync;
    /// Which model this is.
    const ID: ModelId;
    /// Parameter names in order, as the CLI and the page print them.
    const PARAMS: &'static [&'static str];
    /// Build from natural (positive) parameters, validating them.
    fn from_params(p: &[f64]) -> Result<Self, ModelError>;
    /// The natural parameters in [`Likelihood::PARAMS`] order (the inverse of [`Likelihood::from_params`]).
    fn params(&self) -> Vec<f64>;
    /// ln L for one row (a guarded value: −∞ rather than NaN when impossible).
    fn ln_likelihood(&self, row: &Self::Row) -> f64;
    /// Starting points (natural parameters) for the optimiser.
    fn starts() -> Vec<Vec<f64>>;
    /// Check the data before fitting (e.g. spend must be positive).
    fn check_row(_row: &Self::Row) -> Result<(), String> {
        Ok(())
    }
    /// Σ w·ln L over the data and its gradient in the natural parameters,
    /// for models with closed-form derivatives; `None` means "use numerical
    /// differences of [`Likelihood::ln_likelihood`]". Rows arrive sorted by
    /// [`Likelihood::sort_key`], so terms that depend only on it can be
    /// computed once per run of equal keys; `cache` is what
    /// [`Likelihood::prepare`] built from these rows.
    fn ln_likelihood_and_gradient(&self, _data: &Weighted<Self::Row>, _cache: &Self::Cache) -> Option<(f64, Vec<f64>)> {
        None
    }
    /// Work a model can do once per fit instead of once per evaluation
    /// (Pareto/NBD: the distinct (x, t) of the rows), built by
    /// [`Likelihood::prepare`] and handed to [`Likelihood::ln_likelihood_sum`];
    /// `()` for models without.
    type Cache: Default + Sync;
    /// Build the [`Likelihood::Cache`] once per fit, from the data already sorted by
    /// [`Likelihood::sort_key`]; the default builds nothing.
    fn prepare(_data: &Weighted<Self::Row>) -> Self::Cache {
        Self::Cache::default()
    }
    /// Σ w·ln L over the data, for models that share work between rows;
    /// `None` means "sum [`Likelihood::ln_likelihood`] row by row". `data`
    /// must be what `cache` was prepared from.
    fn ln_likelihood_sum(&self, _data: &Weighted<Self::Row>, _cache: &Self::Cache) -> Option<f64> {
        None
    }
    /// Rows are sorted by this key before a fit, so that terms depending only on it can be shared
    /// between neighbouring rows (the BG/NBD family and Gamma–Gamma sort by x); the default leaves
    /// the order alone.
    fn sort_key(_row: &Self::Row) -> f64 {
        0.0
    }
    /// `Err(what is missing)` when the data cannot identify the model.
    fn minimum_data(_data: &Weighted<Self::Row>) -> Result<(), String> {
        Ok(())
    }
    /// The largest ln L one row can have (a density may exceed 0); a value
    /// above it means the arithmetic failed, not that the fit is good.
    fn ln_likelihood_bound(_row: &Self::Row) -> f64 {
        f64::INFINITY
    }
    /// The simpler models this one tends to at the edges of its parameter
    /// space (see [`validity::Limit`]).
    fn limits() -> Vec<validity::Limit> {
        Vec::new()
    }
}

/// Settings of a fit, validated once by [`FitOptions::new`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// L2 penalty on the parameters, added to the mean negative
    /// log-likelihood as `lifetimes`' `penalizer_coef` is.
    pub penalizer: f64,
    /// Iteration budget of each solver run (Nelder–Mead fallbacks get ten times as many), ≥ 1;
    /// 500 by default.
    pub max_iters: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { penalizer: 0.0, max_iters: 500 }
    }
}

impl FitOptions {
    /// Validated settings: `penalizer` a finite number from 0 to [`crate::limits::MAX_PENALIZER`]
    /// (0 = plain maximum likelihood), `max_iters` ≥ 1; otherwise [`ModelError::InvalidOption`].
    pub fn new(penalizer: f64, max_iters: u64) -> Result<FitOptions, ModelError> {
        let penalizer =
            crate::limits::check_penalizer(penalizer).map_err(|e| ModelError::InvalidOption(e.to_string()))?;
        if max_iters == 0 {
            return Err(ModelError::InvalidOption("max_iters must be ≥ 1".into()));
        }
        Ok(FitOptions { penalizer, max_iters })
    }
}

/// One fitted parameter, as the page and the CLI report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamEstimate {
    /// The parameter's name, as in [`Likelihood::PARAMS`] (for a limiting fit, also a quantity that
    /// stays finite along the limit, e.g. `r/alpha`).
    pub name: String,
    /// The maximum-likelihood estimate, on the natural (positive) scale.
    pub value: f64,
    /// From the inverse Hessian at the optimum (delta method from log scale);
    /// `None` when the Hessian is not positive definite.
    pub std_error: Option<f64>,
    /// 95% interval computed on the log scale (so it stays positive).
    pub ci_low: Option<f64>,
    /// Upper end of the 95% interval (see `ci_low`).
    pub ci_high: Option<f64>,
}

/// Everything a fit reports besides the model itself: estimates, standard errors, convergence and
/// caveats, as the page and the CLI show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Which model was fitted.
    pub model: ModelId,
    /// The estimates in [`Likelihood::PARAMS`] order.
    pub params: Vec<ParamEstimate>,
    /// Σ w·ln L over the customers at the estimates (the total, not the mean, and without the penalty).
    pub log_likelihood: f64,
    /// How the optimisation ended, judged by the common policy (gradient, boundary, numerical validity).
    pub convergence: Convergence,
    /// Customers (total weight) and distinct rows actually evaluated.
    pub n_customers: f64,
    /// Distinct rows after merging identical customers: what each likelihood pass costs.
    pub n_unique: usize,
    /// The L2 penalty the fit used ([`FitOptions::penalizer`]); `log_likelihood` does not include it.
    pub penalizer: f64,
    /// Plain-language caveats to show with the result (no standard errors; parameters the data barely
    /// identify).
    pub warnings: Vec<String>,
    /// At a boundary: the simpler model the fit tends to, fitted.
    #[serde(default)]
    pub limiting: Option<Box<LimitingFit>>,
    /// The covariance of the log-parameters (inverse Hessian of the total NLL, [`Likelihood::PARAMS`]
    /// order): what [`crate::uncertainty`] propagates to a total CLV's interval. `None` at a limit or
    /// when the Hessian is not positive definite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_covariance: Option<Vec<Vec<f64>>>,
}

impl FitReport {
    /// The estimate of the parameter called `name` (see [`Likelihood::PARAMS`]), if the model has one.
    pub fn param(&self, name: &str) -> Option<f64> {
        self.params.iter().find(|p| p.name == name).map(|p| p.value)
    }
}

/// A fitted model with its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted<M> {
    /// The model at the estimates, ready for predictions.
    pub model: M,
    /// How the estimates were obtained and how far they can be trusted.
    pub report: FitReport,
}

struct MeanNll<'a, M: Likelihood> {
    data: &'a Weighted<M::Row>,
    cache: M::Cache,
    total: f64,
    penalizer: f64,
    /// The last (log-params, cost, gradient) from the closed-form path: the
    /// solver asks for cost and gradient at the same point separately.
    last: std::cell::RefCell<Option<Evaluated>>,
}

/// (log-parameters, cost, gradient) at one point.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

impl<M: Likelihood> MeanNll<'_, M> {
    fn ll_at(&self, log_params: &[f64]) -> f64 {
        let p: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
        match M::from_params(&p) {
            Ok(m) => match m.ln_likelihood_and_gradient(self.data, &self.cache) {
                Some((ll, _)) => ll,
                None => m
                    .ln_likelihood_sum(self.data, &self.cache)
                    .unwrap_or_else(|| crate::total(self.data.iter().map(|(r, w)| w * m.ln_likelihood(r)))),
            },
            Err(_) => f64::NEG_INFINITY,
        }
    }

    /// Cost and gradient w.r.t. log-parameters (chain rule: ∂/∂ln θ = θ ∂/∂θ).
    fn closed_form(&self, log_params: &[f64]) -> Option<(f64, Vec<f64>)> {
        if let Some((x, c, g)) = self.last.borrow().as_ref() {
            if x.as_slice() == log_params {
                return Some((*c, g.clone()));
            }
        }
        let p: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
        let (ll, g) = M::from_params(&p).ok()?.ln_likelihood_and_gradient(self.data, &self.cache)?;
        let penalty = self.penalizer * crate::total(p.iter().map(|v| v * v));
        let cost = -ll / self.total + penalty;
        let grad: Vec<f64> =
            p.iter().zip(&g).map(|(pi, gi)| pi * (-gi / self.total + 2.0 * self.penalizer * pi)).collect();
        *self.last.borrow_mut() = Some((log_params.to_vec(), cost, grad.clone()));
        Some((cost, grad))
    }
}

impl<M: Likelihood> Objective for MeanNll<'_, M> {
    fn cost(&self, log_params: &[f64]) -> f64 {
        if let Some((c, _)) = self.closed_form(log_params) {
            return c;
        }
        let penalty = self.penalizer * crate::total(log_params.iter().map(|v| v.exp().powi(2)));
        -self.ll_at(log_params) / self.total + penalty
    }

    fn analytic_gradient(&self, log_params: &[f64]) -> Option<Vec<f64>> {
        self.closed_form(log_params).map(|(_, g)| g).filter(|g| g.iter().all(|v| v.is_finite()))
    }

    fn at_limit(&self, log_params: &[f64]) -> bool {
        !validity::limits_reached(&M::limits(), log_params, |p| self.cost(p), self.total).is_empty()
    }
}

/// Fit `M` by maximum likelihood. Refuses rows the model cannot use; returns
/// the best optimum found with its convergence diagnostics, even when it did
/// not converge (then `report.convergence.converged` is false and the page
/// and CLI say so instead of showing the numbers as a result).
pub fn fit<M: Likelihood>(data: &Weighted<M::Row>, opts: &FitOptions) -> Result<Fitted<M>, ModelError> {
    if data.rows.is_empty() {
        return Err(ModelError::NoData);
    }
    for r in &data.rows {
        M::check_row(r).map_err(ModelError::InvalidData)?;
    }
    if data.weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(ModelError::InvalidData("customer weights must be finite and ≥ 0".into()));
    }
    M::minimum_data(data).map_err(ModelError::NotEnoughData)?;
    let total = data.total_weight();
    let mut order: Vec<usize> = (0..data.rows.len()).collect();
    order.sort_by(|&i, &j| M::sort_key(&data.rows[i]).total_cmp(&M::sort_key(&data.rows[j])));
    let sorted = Weighted {
        rows: order.iter().map(|&i| data.rows[i]).collect(),
        weights: order.iter().map(|&i| data.weights[i]).collect(),
    };
    let cache = M::prepare(&sorted);
    let nll = MeanNll::<M> { data: &sorted, cache, total, penalizer: opts.penalizer, last: Default::default() };
    let starts: Vec<Vec<f64>> = M::starts().iter().map(|s| s.iter().map(|v| v.ln()).collect()).collect();
    let mut best = minimise(&nll, &starts, opts.max_iters).map_err(ModelError::Optimisation)?;
    let natural: Vec<f64> = best.log_params.iter().map(|v| v.exp()).collect();
    let model = M::from_params(&natural)?;
    let log_likelihood = nll.ll_at(&best.log_params);
    let reached = judge(&mut best.convergence, &model, &nll, &best.log_params, log_likelihood);
    let at_limit = !reached.is_empty();
    let limiting = if at_limit { limiting::fit_limit(&nll, &best.log_params, &reached).map(Box::new) } else { None };
    // Standard errors from the Hessian of the total NLL in log space — not
    // at a limit, where they mean nothing (and cost 2n² + 1 likelihood passes).
    let cov = (!at_limit)
        .then(|| best.hessian.clone().unwrap_or_else(|| hessian(&nll, &best.log_params)))
        .and_then(|h| covariance(&h, total));
    let mut warnings = Vec::new();
    if cov.is_none() && !at_limit {
        warnings.push("the Hessian at the optimum is not positive definite: standard errors are not available and the parameters may not be identified by this data".into());
    }
    let params: Vec<ParamEstimate> = M::PARAMS
        .iter()
        .enumerate()
        .map(|(i, name)| estimate(name, best.log_params[i], cov.as_ref().map(|c| c[i][i])))
        .collect();
    let loose: Vec<String> = params
        .iter()
        .filter_map(|p| match (p.ci_low, p.ci_high) {
            (Some(lo), Some(hi)) if hi > UNIDENTIFIED_SPAN * lo => {
                Some(format!("{} ({:.3} to {:.3e})", p.name, lo, hi))
            }
            _ => None,
        })
        .collect();
    if !loose.is_empty() {
        warnings.push(format!(
            "this data barely identifies {}: the 95% intervals span more than four orders of magnitude; read those values as \"large\", not as estimates",
            loose.join(", ")
        ));
    }
    let report = FitReport {
        model: M::ID,
        params,
        log_likelihood,
        convergence: best.convergence,
        n_customers: total,
        n_unique: data.rows.len(),
        penalizer: opts.penalizer,
        warnings,
        limiting,
        log_covariance: cov,
    };
    Ok(Fitted { model, report })
}

/// The covariance of the log-parameters from the Hessian of the *mean* NLL
/// (what the optimiser minimised) over `total` customers; `None` when it is
/// not positive definite.
fn covariance(mean_hessian: &[Vec<f64>], total: f64) -> Option<Vec<Vec<f64>>> {
    spd_inverse(&mean_hessian.iter().map(|row| row.iter().map(|v| v * total).collect()).collect::<Vec<_>>())
}

/// A parameter's estimate from its log-scale value and variance: the
/// standard error by the delta method, the 95% interval on the log scale
/// (so it stays positive); none when the variance is not a valid one.
fn estimate(name: &str, log_value: f64, var_log: Option<f64>) -> ParamEstimate {
    let value = log_value.exp();
    let se_log = var_log.filter(|v| v.is_finite() && *v >= 0.0).map(f64::sqrt);
    ParamEstimate {
        name: name.to_string(),
        value,
        std_error: se_log.map(|s| s * value),
        ci_low: se_log.map(|s| (log_value - 1.959_964 * s).exp()),
        ci_high: se_log.map(|s| (log_value + 1.959_964 * s).exp()),
    }
}

/// The convergence policy, one for every model and every caller: a small
/// gradient is necessary, not sufficient. The point must also not be a
/// limit of the parameter space (then the data do not identify what those
/// parameters describe, and the report says what the model reduces to),
/// and the likelihood must be numerically valid there.
/// Returns the limits reached (their indices in [`Likelihood::limits`]).
fn judge<M: Likelihood>(
    conv: &mut Convergence,
    model: &M,
    nll: &MeanNll<'_, M>,
    log_params: &[f64],
    ll: f64,
) -> Vec<usize> {
    let reached = validity::limits_reached(&M::limits(), log_params, |p| nll.cost(p), nll.total);
    if !reached.is_empty() {
        let limit_ll = nll.ll_at(&reached[0].at);
        let text = limiting::said_once(reached.iter().map(|r| &r.describe));
        conv.converged = false;
        conv.message = format!(
            "at a boundary, not a maximum: {text}. The log-likelihood keeps rising toward {:.4} along that limit, so these parameters are a point on the way to it, not estimates",
            finite_or(limit_ll, ll)
        );
        conv.boundary = Some(text);
        return reached.iter().map(|r| r.index).collect();
    }
    if let Err(why) = validity::check_numerics(model, nll.data, ll) {
        conv.converged = false;
        conv.message = format!("not converged: {why}");
    }
    Vec::new()
}

/// Predictions of a count model for one customer, in the fit's time unit.
pub trait CountModel: Sync {
    /// The model's display name, e.g. "BG/NBD".
    fn name(&self) -> &'static str;
    /// P(alive at T | x, t_x, T).
    fn p_alive(&self, c: &Rfm) -> f64;
    /// E[Y(t) | alive at T, x, T]: purchases in (T, T + t] of a customer
    /// known to be alive. Depends on the row only through (x, T) — which is
    /// what lets predictions be shared between customers.
    fn expected_if_alive(&self, c: &Rfm, t: f64) -> f64;
    /// P(Y(t) = n | alive at T, x, T) for n = 0..=n_max.
    fn pmf_if_alive(&self, c: &Rfm, t: f64, n_max: usize) -> Vec<f64>;
    /// E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (a dead
    /// customer buys nothing).
    fn expected_purchases(&self, c: &Rfm, t: f64) -> f64 {
        self.p_alive(c) * self.expected_if_alive(c, t)
    }
    /// P(Y(t) = n | x, t_x, T) for n = 0..=n_max.
    fn purchase_pmf(&self, c: &Rfm, t: f64, n_max: usize) -> Vec<f64> {
        alive_mixture(self.p_alive(c), self.pmf_if_alive(c, t, n_max))
    }
    /// E[X(t)] for a new customer (from their first purchase).
    fn expected_unconditional(&self, t: f64) -> f64;
    /// P(X(t) = n) for a new customer, n = 0..=n_max.
    fn unconditional_pmf(&self, t: f64, n_max: usize) -> Vec<f64>;
}

/// The predictive pmf of a customer who is alive with probability
/// `p_alive` and then follows `alive_pmf`; a dead customer buys nothing.
pub(crate) fn alive_mixture(p_alive: f64, alive_pmf: Vec<f64>) -> Vec<f64> {
    let mut pmf: Vec<f64> = alive_pmf.into_iter().map(|p| p_alive * p).collect();
    pmf[0] += 1.0 - p_alive;
    pmf
}

/// Test helper: a closed-form gradient must equal central differences of
/// the row-by-row log-likelihood, and its value the plain sum.
#[cfg(test)]
pub(crate) fn assert_closed_form_gradient<M: Likelihood>(m: &M, data: &Weighted<M::Row>) {
    let (ll, g) = m.ln_likelihood_and_gradient(data, &M::prepare(data)).expect("closed form");
    let direct: f64 = data.iter().map(|(r, w)| w * m.ln_likelihood(r)).sum();
    assert!((ll - direct).abs() < 1e-10 * direct.abs(), "{ll} vs {direct}");
    let p = m.params();
    for i in 0..p.len() {
        // Relative 1e-4: truncation ~1e-8, while rounding (~1e-15/h) stays far below the tolerance
        // even where ln L is only good to 1e-15 absolute.
        let h = 1e-4 * p[i];
        let at = |d: f64| {
            let mut q = p.clone();
            q[i] += d;
            let m = M::from_params(&q).unwrap();
            data.iter().map(|(r, w)| w * m.ln_likelihood(r)).sum::<f64>()
        };
        let fd = (at(h) - at(-h)) / (2.0 * h);
        assert!((g[i] - fd).abs() < 1e-6 * fd.abs().max(1.0), "{} {} at {p:?}: {} vs {fd}", M::ID, M::PARAMS[i], g[i]);
    }
}

/// Median and 80% interval (10th–90th percentile) of a pmf over 0..n.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PmfSummary {
    /// Median number of transactions: the smallest n with P(N ≤ n) ≥ 0.5.
    pub median: u32,
    /// Lower end of the 80% interval: the 10th percentile.
    pub lower80: u32,
    /// Upper end of the 80% interval: the 90th percentile.
    pub upper80: u32,
}

/// [`PmfSummary`] of a pmf over 0..n: each quantile by [`pmf_quantile`].
pub fn summarise_pmf(pmf: &[f64]) -> PmfSummary {
    let quantile = |q: f64| pmf_quantile(pmf, q) as u32;
    PmfSummary { median: quantile(0.5), lower80: quantile(0.1), upper80: quantile(0.9) }
}

/// The smallest n whose cumulative probability reaches `q` (to within 10⁻¹²), or the last n
/// when the pmf (truncated) never does.
pub fn pmf_quantile(pmf: &[f64], q: f64) -> usize {
    let mut acc = 0.0;
    for (n, p) in pmf.iter().enumerate() {
        acc += p;
        if acc >= q - 1e-12 {
            return n;
        }
    }
    pmf.len().saturating_sub(1)
}

/// Guard for a result table: a finite value or an explicit error, never NaN.
pub(crate) fn finite_or(v: f64, fallback: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        fallback
    }
}
