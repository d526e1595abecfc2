//! The model a boundary optimum tends to, fitted.
//!
//! When the likelihood keeps rising along a [`Limit`] (r, α → ∞ with r/α
//! fixed; a → 0), the data identify a simpler model — one purchase rate for
//! everyone, nobody dropping out — and that model can be fitted. Its
//! parameters are the directions of log-parameter space orthogonal to the
//! limits reached, evaluated far out along them (×10⁸): the likelihoods are
//! written to stay exact as parameters → ∞ or → 0 (checked against mpmath
//! up to 10¹²), and that far out they equal the limit's to ~10⁻⁸ of the
//! probe's tolerance. A limiting fit may run into a further limit (no rate
//! heterogeneity *and* nobody leaves): that one is added and the fit run
//! again, at most once per limit. A parameter no reached limit moves keeps
//! its meaning (and gets its standard error); the others are summarised by
//! the limits' own words, evaluated at the limiting optimum (e.g. "one
//! purchase rate for everyone (0.0464 per time unit)").

use super::optimize::{minimise, Convergence, Objective};
use super::validity::{self, Limit};
use super::{covariance, estimate, Likelihood, MeanNll, ParamEstimate};
use serde::{Deserialize, Serialize};

/// How far along each reached limit the limiting model is evaluated: ×10⁸.
const FAR: f64 = 18.420_680_743_952_367; // ln 10⁸

/// Solver iterations per round: the limiting model has fewer parameters
/// and starts next to its optimum.
const MAX_ITERS: u64 = 200;

/// The fit of the simpler model a boundary optimum tends to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitingFit {
    /// What the model reduces to, in words, with the limit's fitted values.
    pub description: String,
    /// The parameters no reached limit moves, at the limiting optimum (the
    /// others run to 0 or ∞ and are summed up by `description`).
    pub params: Vec<ParamEstimate>,
    /// Σ w·ln L at the limiting optimum (evaluated far out along the limits), on the scale of
    /// [`super::FitReport::log_likelihood`].
    pub log_likelihood: f64,
    /// Judged as every fit is: a small gradient in the remaining
    /// directions, no further limit, a numerically valid likelihood.
    pub convergence: Convergence,
    /// The limiting model's free parameters (the directions the reduced fit moves in): what an
    /// information criterion charges it for. `params` may list fewer (a quantity removed with its
    /// process) or summarise a direction by a ratio.
    #[serde(default)]
    pub free_params: usize,
}

/// Each distinct sentence once, joined.
pub(super) fn said_once<S: AsRef<str>>(sentences: impl Iterator<Item = S>) -> String {
    let mut words: Vec<S> = Vec::new();
    for s in sentences {
        if !words.iter().any(|w| w.as_ref() == s.as_ref()) {
            words.push(s);
        }
    }
    words.iter().map(|w| w.as_ref()).collect::<Vec<_>>().join("; and ")
}

/// The full log-parameters `origin + Σ φ_k basis_k`: the model restricted to
/// the directions orthogonal to the limits reached.
struct Reduced<'a, O: Objective> {
    inner: &'a O,
    origin: Vec<f64>,
    basis: Vec<Vec<f64>>,
    /// The limits not reached yet, watched by the solver.
    remaining: Vec<Limit>,
    total: f64,
}

impl<O: Objective> Reduced<'_, O> {
    fn full(&self, phi: &[f64]) -> Vec<f64> {
        let mut x = self.origin.clone();
        for (b, p) in self.basis.iter().zip(phi) {
            x.iter_mut().zip(b).for_each(|(xi, bi)| *xi += p * bi);
        }
        x
    }
}

impl<O: Objective> Objective for Reduced<'_, O> {
    fn cost(&self, phi: &[f64]) -> f64 {
        self.inner.cost(&self.full(phi))
    }

    fn analytic_gradient(&self, phi: &[f64]) -> Option<Vec<f64>> {
        let g = self.inner.analytic_gradient(&self.full(phi))?;
        Some(self.basis.iter().map(|b| dot(b, &g)).collect())
    }

    fn at_limit(&self, phi: &[f64]) -> bool {
        !validity::limits_reached(&self.remaining, &self.full(phi), |p| self.inner.cost(p), self.total).is_empty()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// An orthonormal basis of the complement of `directions` in ℝⁿ, built by
/// Gram–Schmidt from the unit vectors in order — so a coordinate no
/// direction touches stays a basis vector of its own (its reduced
/// coordinate is the log-parameter itself).
fn complement(directions: &[&[f64]], n: usize) -> Vec<Vec<f64>> {
    let mut span: Vec<Vec<f64>> = Vec::new();
    let orthonormalise = |v: &[f64], span: &mut Vec<Vec<f64>>| -> Option<Vec<f64>> {
        let mut w = v.to_vec();
        for u in span.iter() {
            let c = dot(&w, u);
            w.iter_mut().zip(u).for_each(|(wi, ui)| *wi -= c * ui);
        }
        let norm = dot(&w, &w).sqrt();
        (norm > 1e-9).then(|| {
            w.iter_mut().for_each(|v| *v /= norm);
            span.push(w.clone());
            w
        })
    };
    for d in directions {
        orthonormalise(d, &mut span);
    }
    (0..n)
        .filter_map(|i| {
            let e: Vec<f64> = (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect();
            orthonormalise(&e, &mut span)
        })
        .collect()
}

/// `from` moved ×10⁸ along each direction — or less where a likelihood
/// stops being finite that far out (`from` may already be far along).
fn far_along<'a, O: Objective>(f: &O, from: Vec<f64>, directions: impl Iterator<Item = &'a [f64]>) -> Vec<f64> {
    let mut at = from;
    for d in directions {
        let mut k = FAR;
        while k > 0.5 {
            let next: Vec<f64> = at.iter().zip(d).map(|(o, di)| o + k * di).collect();
            if f.cost(&next).is_finite() {
                at = next;
                break;
            }
            k /= 2.0;
        }
    }
    at
}

/// Fit the limiting model from `end` (where the full fit stopped), given
/// the limits found there. `None` when no start gave a finite likelihood.
pub(super) fn fit_limit<M: Likelihood>(nll: &MeanNll<'_, M>, end: &[f64], first: &[usize]) -> Option<LimitingFit> {
    let limits = M::limits();
    let n = end.len();
    let mut reached: Vec<usize> = first.to_vec();
    let mut origin = end.to_vec();
    let mut fresh = reached.clone();
    let mut iterations = 0;
    loop {
        origin = far_along(nll, origin, fresh.iter().map(|&i| limits[i].direction));
        let directions: Vec<&[f64]> = reached.iter().map(|&i| limits[i].direction).collect();
        let remaining: Vec<(usize, Limit)> =
            limits.iter().copied().enumerate().filter(|(i, _)| !reached.contains(i)).collect();
        let reduced = Reduced {
            inner: nll,
            origin: origin.clone(),
            basis: complement(&directions, n),
            remaining: remaining.iter().map(|(_, l)| *l).collect(),
            total: nll.total,
        };
        if reduced.basis.is_empty() {
            return None;
        }
        let optimum = minimise(&reduced, &[vec![0.0; reduced.basis.len()]], MAX_ITERS).ok()?;
        iterations += optimum.convergence.iterations;
        let at = reduced.full(&optimum.log_params);
        let further = validity::limits_reached(&reduced.remaining, &at, |p| nll.cost(p), nll.total);
        if further.is_empty() {
            let mut convergence = optimum.convergence.clone();
            convergence.iterations = iterations;
            let cov = optimum.hessian.as_ref().and_then(|h| covariance(h, nll.total));
            return Some(report(&reduced, &limits, &reached, &optimum.log_params, cov, convergence));
        }
        // Every round adds a limit, so the loop ends: at the latest when none remain.
        fresh = further.iter().map(|r| remaining[r.index].0).collect();
        reached.extend(&fresh);
        origin = at;
    }
}

fn report<M: Likelihood>(
    reduced: &Reduced<'_, MeanNll<'_, M>>,
    limits: &[Limit],
    reached: &[usize],
    phi: &[f64],
    cov: Option<Vec<Vec<f64>>>,
    mut convergence: Convergence,
) -> LimitingFit {
    let nll = reduced.inner;
    let at = reduced.full(phi);
    let natural: Vec<f64> = at.iter().map(|v| v.exp()).collect();
    let log_likelihood = nll.ll_at(&at);
    let description = said_once(reached.iter().map(|&i| (limits[i].describe)(&natural)));
    // The coordinates no limit moves are basis vectors of their own (see
    // `complement`): their reduced coordinate is the log-parameter.
    let kept: Vec<usize> = (0..at.len()).filter(|&i| reached.iter().all(|&l| limits[l].direction[i] == 0.0)).collect();
    let mut params: Vec<ParamEstimate> = kept
        .iter()
        .map(|&i| {
            let k = reduced
                .basis
                .iter()
                .position(|b| b[i] == 1.0)
                .expect("an untouched coordinate is its own basis vector");
            estimate(M::PARAMS[i], at[i], cov.as_ref().map(|c| c[k][k]))
        })
        .collect();
    // What stays finite along each limit, without a standard error (it is
    // not one coordinate of the reduced fit) — unless a limit that removes
    // the process it describes was reached too (a common dropout
    // probability when nobody drops out).
    let removed = |d: &[f64]| {
        reached.iter().any(|&j| {
            limits[j].fixed.is_none() && limits[j].direction.iter().zip(d).any(|(a, b)| *a != 0.0 && *b != 0.0)
        })
    };
    let kept_limits = reached.iter().filter(|&&i| !removed(limits[i].direction));
    for fixed in kept_limits.filter_map(|&i| limits[i].fixed) {
        if params.iter().all(|p| p.name != fixed.name) {
            params.push(estimate(fixed.name, (fixed.value)(&natural).ln(), None));
        }
    }
    if convergence.converged {
        let model = M::from_params(&natural);
        if let Err(why) =
            model.map_err(|e| e.to_string()).and_then(|m| validity::check_numerics(&m, nll.data, log_likelihood))
        {
            convergence.converged = false;
            convergence.message = format!("not converged: {why}");
        }
    }
    LimitingFit { description, params, log_likelihood, convergence, free_params: reduced.basis.len() }
}
