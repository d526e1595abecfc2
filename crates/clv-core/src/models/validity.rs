//! What has to hold before a fit may be called converged, beyond a small
//! gradient: enough data to identify the model, a maximum that is not a
//! boundary of the parameter space, and a likelihood that is numerically
//! valid where the optimiser stopped (checked by an evaluation independent
//! of the one the optimiser used).

use super::{Likelihood, Rfm, Weighted};
use rayon::prelude::*;

/// A direction in log-parameter space along which a model tends to a
/// simpler one (e.g. r, α → ∞ with r/α fixed: every customer buys at the
/// same rate). When the likelihood keeps rising along it, the data do not
/// identify the heterogeneity the parameters describe.
#[derive(Clone, Copy)]
pub struct Limit {
    /// One entry per parameter, in [`Likelihood::PARAMS`] order.
    pub direction: &'static [f64],
    /// Plain words for the limit, given the fitted (natural) parameters.
    pub describe: fn(&[f64]) -> String,
    /// The quantity that stays finite along the limit (the parameter of the
    /// limiting model it stands for), if any: `None` when the limit removes
    /// a process (nobody drops out).
    pub fixed: Option<Fixed>,
}

/// A function of the parameters that a [`Limit`] leaves unchanged, e.g. the
/// common purchase rate r/α.
#[derive(Clone, Copy)]
pub struct Fixed {
    /// The name it is reported under in the limiting fit's parameters, e.g. `r/alpha`.
    pub name: &'static str,
    /// Its value from the natural parameters.
    pub value: fn(&[f64]) -> f64,
}

/// How far along a [`Limit`] the first probe goes: ×10⁴ in the parameters.
const PROBE: f64 = 9.210_340_371_976_184; // ln 10⁴

/// A maximum within this many log-likelihood units of the limit is not
/// distinguishable from it (a likelihood ratio of 1.001).
const LIMIT_TOLERANCE: f64 = 1e-3;

/// Fewest customers (total weight) a count model is fitted on.
pub const MIN_CUSTOMERS: f64 = 10.0;
/// Fewest customers with a repeat purchase: without them the purchase and
/// dropout processes cannot be told apart (four parameters, and every one
/// of them is then driven by the prior shape).
pub const MIN_REPEAT_BUYERS: f64 = 3.0;

/// The minimum-data rule of the count models, in words that say what is missing.
pub fn count_minimum(model: &str, data: &Weighted<Rfm>) -> Result<(), String> {
    let total = data.total_weight();
    let repeat = crate::total(data.iter().filter(|(r, _)| r.x > 0.0).map(|(_, w)| w));
    if total < MIN_CUSTOMERS || repeat < MIN_REPEAT_BUYERS {
        return Err(format!(
            "{model} needs at least {MIN_CUSTOMERS} customers and {MIN_REPEAT_BUYERS} of them with a repeat purchase; \
             this data has {total} customers and {repeat} repeat buyers"
        ));
    }
    Ok(())
}

/// The largest possible ln L of one count-model row. The likelihood of
/// purchases at given times is a density, so it can exceed 1: the bound is
/// that of a single Poisson process at its best rate, sup_λ λˣ e^(−λ t_x) =
/// (x/t_x)ˣ e⁻ˣ, which every mixture over (λ, dropout) stays below. With no
/// repeat purchase it is a probability (≤ 1).
pub fn count_row_bound(c: &Rfm) -> f64 {
    if c.x == 0.0 {
        0.0
    } else if c.t_x > 0.0 {
        c.x * (c.x / c.t_x).ln() - c.x
    } else {
        f64::INFINITY
    }
}

/// `Err(reason)` unless every row's ln L, evaluated row by row (not by the
/// shared-work sum the optimiser used), is finite and within its bound, and
/// the two sums agree.
pub fn check_numerics<M: Likelihood>(m: &M, data: &Weighted<M::Row>, fast: f64) -> Result<(), String> {
    let rows: Vec<(f64, f64)> = data.rows.par_iter().map(|r| (m.ln_likelihood(r), M::ln_likelihood_bound(r))).collect();
    for (l, bound) in &rows {
        if !l.is_finite() {
            return Err(format!("a customer's log-likelihood is {l} at these parameters"));
        }
        if *l > bound + 1e-9 * (1.0 + bound.abs()) {
            return Err(format!(
                "a customer's log-likelihood {l:.6} exceeds the largest value it can take ({bound:.6}): the likelihood is not numerically valid here"
            ));
        }
    }
    let direct = crate::total(rows.iter().zip(&data.weights).map(|((l, _), w)| w * l));
    if !fast.is_finite() || (direct - fast).abs() > 1e-8 * (1.0 + fast.abs()) {
        return Err(format!("two evaluations of the log-likelihood disagree ({fast} vs {direct})"));
    }
    Ok(())
}

/// A [`Limit`] the optimum is not distinguishable from.
pub struct Reached {
    /// Its position in the list [`limits_reached`] was given.
    pub index: usize,
    /// The limit's words at the fitted parameters.
    pub describe: String,
    /// Log-parameters of the best point found along it.
    pub at: Vec<f64>,
}

/// The limits the optimum is not distinguishable from. `cost` is the
/// objective the optimiser minimised (mean NLL + penalty, so a penalised
/// fit is never at a limit); `total` turns `LIMIT_TOLERANCE` into its scale.
pub fn limits_reached(limits: &[Limit], log_params: &[f64], cost: impl Fn(&[f64]) -> f64, total: f64) -> Vec<Reached> {
    let c0 = cost(log_params);
    let tol = LIMIT_TOLERANCE / total.max(1.0);
    let natural: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
    limits
        .iter()
        .enumerate()
        .filter_map(|(index, lim)| {
            let at = |k: f64| -> Vec<f64> { log_params.iter().zip(lim.direction).map(|(p, d)| p + k * d).collect() };
            let first = cost(&at(PROBE));
            if !(first.is_finite() && first <= c0 + tol) {
                return None;
            }
            // Walk on while the cost still falls, to report the limit's value.
            let (mut best, mut k) = (first, PROBE);
            for _ in 0..6 {
                let next = cost(&at(2.0 * k));
                if !(next.is_finite() && next < best) {
                    break;
                }
                best = next;
                k *= 2.0;
            }
            Some(Reached { index, describe: (lim.describe)(&natural), at: at(k) })
        })
        .collect()
}

/// Limits shared by the BG/NBD family and Pareto/NBD (r, α, then two
/// dropout parameters): rates without heterogeneity, dropout without
/// heterogeneity, nobody drops out (`small` → 0 or `large` → ∞).
pub fn rate_and_dropout_limits(
    dropout_homogeneous: fn(&[f64]) -> String,
    common_dropout: Fixed,
    no_dropout: fn(&[f64]) -> String,
) -> [Limit; 4] {
    let common_rate = Fixed { name: "r/alpha", value: |p| p[0] / p[1] };
    [
        Limit { direction: &[1.0, 1.0, 0.0, 0.0], describe: same_rate, fixed: Some(common_rate) },
        Limit { direction: &[0.0, 0.0, 1.0, 1.0], describe: dropout_homogeneous, fixed: Some(common_dropout) },
        Limit { direction: &[0.0, 0.0, -1.0, 0.0], describe: no_dropout, fixed: None },
        Limit { direction: &[0.0, 0.0, 0.0, 1.0], describe: no_dropout, fixed: None },
    ]
}

pub(crate) fn same_rate(p: &[f64]) -> String {
    format!(
        "the customers' purchase rates do not differ: r and alpha grow together without bound, so the model reduces to one purchase rate for everyone ({:.4} per time unit while alive)",
        p[0] / p[1]
    )
}
