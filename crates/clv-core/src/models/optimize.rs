//! Maximum likelihood on log-parameters with argmin: L-BFGS (backtracking
//! line search with the Armijo condition) from several starts, Nelder–Mead when L-BFGS stops on a
//! non-finite value, then standard errors from a finite-difference Hessian.
//! Convergence is judged by the gradient at the end, not by the solver's
//! say-so, and reported as it is.

use crate::linalg::spd_inverse;
use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::condition::ArmijoCondition;
use argmin::solver::linesearch::BacktrackingLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;
use serde::{Deserialize, Serialize};

/// The objective: negative mean log-likelihood (+ penalty) at log-parameters.
pub trait Objective {
    /// The cost to minimise at `log_params`; non-finite where the model cannot be evaluated.
    fn cost(&self, log_params: &[f64]) -> f64;
    /// A closed-form gradient, when the model has one.
    fn analytic_gradient(&self, _log_params: &[f64]) -> Option<Vec<f64>> {
        None
    }
    /// Whether the point is on its way to a limit of the parameter space
    /// (the cost keeps falling along one of the model's limit directions).
    fn at_limit(&self, _log_params: &[f64]) -> bool {
        false
    }
}

/// The objective behind a trait object, so argmin's solvers are compiled once for every model
/// (generic, they were compiled once per model and objective: most of a wasm binary's fitting code).
struct Problem<'a>(&'a dyn Objective);

/// Non-finite costs are mapped to a huge finite value so line searches back off.
const WALL: f64 = 1e100;

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    /// Non-finite parameters end the run: argmin's L-BFGS can build a NaN
    /// direction (a curvature pair with s·y = 0), and its backtracking line
    /// search, which has no step limit of its own, would then try NaN
    /// points forever (seen in wasm on a 10-customer file).
    fn cost(&self, p: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        if !p.iter().all(|v| v.is_finite()) {
            return Err(argmin::core::Error::msg("the solver stepped to non-finite parameters"));
        }
        let c = self.0.cost(p);
        Ok(if c.is_finite() { c } else { WALL })
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    /// A non-finite gradient ends the run (argmin's line search would
    /// otherwise step to NaN parameters and never finish).
    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        let g = self.0.analytic_gradient(p).unwrap_or_else(|| gradient(self.0, p));
        if g.iter().all(|v| v.is_finite()) {
            Ok(g)
        } else {
            Err(argmin::core::Error::msg(format!("non-finite gradient {g:?} at {p:?}")))
        }
    }
}

/// The closed-form gradient when there is one, else [`numeric_gradient`].
pub fn gradient<O: Objective + ?Sized>(f: &O, x: &[f64]) -> Vec<f64> {
    f.analytic_gradient(x).unwrap_or_else(|| numeric_gradient(f, x))
}

/// Central differences; the step is relative to |x| with a floor, the usual
/// balance of truncation (h²) and rounding (ε/h) error.
pub fn numeric_gradient<O: Objective + ?Sized>(f: &O, x: &[f64]) -> Vec<f64> {
    let mut p = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            p[i] = x[i] + h;
            let up = f.cost(&p);
            p[i] = x[i] - h;
            let down = f.cost(&p);
            p[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// Five-point central differences, h = 10⁻³: truncation O(h⁴) and rounding
/// O(ε/h) both near 10⁻¹², a thousand times below [`gradient`]'s noise.
/// Twice the cost; used only to polish an optimum (a closed-form gradient
/// is used instead when the model has one).
pub fn precise_gradient<O: Objective + ?Sized>(f: &O, x: &[f64]) -> Vec<f64> {
    if let Some(g) = f.analytic_gradient(x) {
        return g;
    }
    let mut p = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = 1e-3 * x[i].abs().max(1.0);
            let mut at = |d: f64| {
                p[i] = x[i] + d;
                let c = f.cost(&p);
                p[i] = x[i];
                c
            };
            (at(-2.0 * h) - 8.0 * at(-h) + 8.0 * at(h) - at(2.0 * h)) / (12.0 * h)
        })
        .collect()
}

/// Hessian by central differences: of the closed-form gradient when there is
/// one (2n gradient passes), else of the cost (2n² + 1 passes). Symmetric.
pub fn hessian<O: Objective + ?Sized>(f: &O, x: &[f64]) -> Vec<Vec<f64>> {
    if f.analytic_gradient(x).is_some() {
        let n = x.len();
        let mut p = x.to_vec();
        let mut cols = Vec::with_capacity(n);
        for i in 0..n {
            let h = 1e-5 * x[i].abs().max(1.0);
            p[i] = x[i] + h;
            let up = f.analytic_gradient(&p);
            p[i] = x[i] - h;
            let down = f.analytic_gradient(&p);
            p[i] = x[i];
            match (up, down) {
                (Some(u), Some(d)) => cols.push(u.iter().zip(&d).map(|(a, b)| (a - b) / (2.0 * h)).collect::<Vec<_>>()),
                _ => return cost_hessian(f, x),
            }
        }
        return (0..n).map(|i| (0..n).map(|j| 0.5 * (cols[i][j] + cols[j][i])).collect()).collect();
    }
    cost_hessian(f, x)
}

fn cost_hessian<O: Objective + ?Sized>(f: &O, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let h: Vec<f64> = x.iter().map(|v| 1e-4 * v.abs().max(1.0)).collect();
    let mut p = x.to_vec();
    let at = |p: &mut Vec<f64>, i: usize, di: f64, j: usize, dj: f64| {
        p[i] += di;
        p[j] += dj;
        let c = f.cost(p);
        p[i] -= di;
        p[j] -= dj;
        c
    };
    let f0 = f.cost(x);
    let mut hm = vec![vec![0.0; n]; n];
    for i in 0..n {
        let (a, b) = (at(&mut p, i, h[i], i, 0.0), at(&mut p, i, -h[i], i, 0.0));
        hm[i][i] = (a - 2.0 * f0 + b) / (h[i] * h[i]);
        for j in 0..i {
            let v = (at(&mut p, i, h[i], j, h[j]) - at(&mut p, i, h[i], j, -h[j]) - at(&mut p, i, -h[i], j, h[j])
                + at(&mut p, i, -h[i], j, -h[j]))
                / (4.0 * h[i] * h[j]);
            hm[i][j] = v;
            hm[j][i] = v;
        }
    }
    hm
}

/// How an optimisation ended, reported to the user as is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Convergence {
    /// Whether the fit counts as a result: gradient max-norm below [`GRADIENT_TOLERANCE`], and (as judged
    /// by [`super::fit`]) not at a boundary and with a numerically valid likelihood.
    pub converged: bool,
    /// Solver iterations, all starts and fallbacks together.
    pub iterations: u64,
    /// Max-norm of the gradient of the mean negative log-likelihood at the end.
    pub gradient_norm: f64,
    /// e.g. "L-BFGS", "Nelder–Mead then L-BFGS".
    pub method: String,
    /// The solver's reason for stopping and the final gradient, or why the fit is not converged, in words.
    pub message: String,
    /// When the optimum is a limit of the parameter space: what the model
    /// reduces to there, in words (then `converged` is false).
    #[serde(default)]
    pub boundary: Option<String>,
}

impl Convergence {
    /// "converged", "at a boundary" or "did not converge": the words the page and the CLI show.
    pub fn status(&self) -> &'static str {
        match (self.converged, &self.boundary) {
            (true, _) => "converged",
            (false, Some(_)) => "at a boundary",
            (false, None) => "did not converge",
        }
    }

    /// The warning a fit that is not a result carries, `None` for a converged one.
    pub fn not_a_result(&self) -> Option<String> {
        match (self.converged, &self.boundary) {
            (true, _) => None,
            (false, Some(_)) => Some(
                "the maximum lies at a boundary of the parameter space (see above): the parameters are not estimates and must not be used as a result".into(),
            ),
            (false, None) => Some(
                "the fit did not converge: its parameters are not a maximum-likelihood estimate and must not be used as one".into(),
            ),
        }
    }
}

/// Gradient max-norm below which a fit counts as converged (mean NLL scale).
pub const GRADIENT_TOLERANCE: f64 = 1e-5;

/// What [`minimise`] found: the best point over all starts, with its diagnostics.
pub struct Optimum {
    /// The best point, in the objective's coordinates: for [`super::fit`], the ln of the natural
    /// parameters in [`super::Likelihood::PARAMS`] order.
    pub log_params: Vec<f64>,
    /// The objective there (for a fit: mean negative log-likelihood plus penalty).
    pub cost: f64,
    /// How the search ended; `converged` here is only the gradient test (see [`super::fit`] for the rest).
    pub convergence: Convergence,
    /// The Hessian the Newton polish used (at the point it started from).
    pub hessian: Option<Vec<Vec<f64>>>,
}

fn lbfgs(f: &dyn Objective, x0: Vec<f64>, max_iters: u64) -> Result<(Vec<f64>, f64, u64, String), String> {
    // Backtracking (Armijo) evaluates only the cost at trial steps; a Wolfe
    // search (More–Thuente) also wants the gradient there, which with
    // numerical gradients costs 2k more likelihood passes per trial.
    let linesearch = BacktrackingLineSearch::new(ArmijoCondition::new(1e-4).map_err(|e| e.to_string())?);
    let solver = LBFGS::new(linesearch, 10)
        .with_tolerance_grad(1e-10)
        .and_then(|s| s.with_tolerance_cost(1e-15))
        .map_err(|e| e.to_string())?;
    let res = Executor::new(Problem(f), solver)
        .configure(|s| s.param(x0).max_iters(max_iters))
        .run()
        .map_err(|e| e.to_string())?;
    let st = res.state();
    let p = st.get_best_param().cloned().ok_or("L-BFGS returned no parameters")?;
    let why = match st.get_termination_reason() {
        Some(TerminationReason::SolverConverged) => "converged".to_string(),
        Some(r) => r.text().to_string(),
        None => "stopped".to_string(),
    };
    Ok((p, st.get_best_cost(), st.get_iter(), why))
}

/// L-BFGS iterations after which an unfinished run is checked for heading
/// to a limit: walking a ridge to infinity takes hundreds of iterations of
/// ever-smaller gains (Pareto/NBD on CDNOW to 1998-12-31: 18 s), and the
/// judgement at the end calls such a point a boundary anyway.
const WATCH: u64 = 40;

/// The solver's reason when `lbfgs_watched` stopped at a limit.
pub const AT_LIMIT: &str = "stopped: heading for a limit of the parameter space";

/// L-BFGS in two legs: after [`WATCH`] iterations a run that is not done
/// and is heading for a limit stops there.
fn lbfgs_watched(f: &dyn Objective, x0: Vec<f64>, max_iters: u64) -> Result<(Vec<f64>, f64, u64, String), String> {
    let first = lbfgs(f, x0, max_iters.min(WATCH))?;
    let (p, c, it, _) = &first;
    let finished = *it < WATCH || max_iters <= WATCH || !(c.is_finite() && *c < WALL);
    if finished || max_norm(&gradient(f, p)) < GRADIENT_TOLERANCE {
        return Ok(first);
    }
    if f.at_limit(p) {
        return Ok((p.clone(), *c, *it, AT_LIMIT.into()));
    }
    match lbfgs(f, p.clone(), max_iters - it) {
        Ok((q, d, it2, why)) if d <= *c => Ok((q, d, it + it2, why)),
        _ => Ok(first),
    }
}

fn nelder_mead(f: &dyn Objective, x0: &[f64], max_iters: u64) -> Result<(Vec<f64>, f64, u64), String> {
    let mut simplex = vec![x0.to_vec()];
    for i in 0..x0.len() {
        let mut v = x0.to_vec();
        v[i] += 0.5;
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-12).map_err(|e| e.to_string())?;
    let res =
        Executor::new(Problem(f), solver).configure(|s| s.max_iters(max_iters)).run().map_err(|e| e.to_string())?;
    let st = res.state();
    let p = st.get_best_param().cloned().ok_or("Nelder–Mead returned no parameters")?;
    Ok((p, st.get_best_cost(), st.get_iter()))
}

fn max_norm(g: &[f64]) -> f64 {
    g.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// One start: L-BFGS; if that fails, ends on a non-finite value or stops
/// short of a stationary point, Nelder–Mead from where it got to, polished
/// by L-BFGS. Returns (params, cost, method, solver's reason).
fn from_start(
    f: &dyn Objective,
    x0: &[f64],
    max_iters: u64,
    iterations: &mut u64,
) -> Result<(Vec<f64>, f64, String, String), String> {
    let first = lbfgs_watched(f, x0.to_vec(), max_iters);
    let (origin, reason) = match &first {
        Ok((p, c, it, why)) => {
            *iterations += it;
            if why == AT_LIMIT {
                return Ok((p.clone(), *c, "L-BFGS".into(), why.clone()));
            }
            if c.is_finite() && *c < WALL && max_norm(&gradient(f, p)) < GRADIENT_TOLERANCE {
                return Ok((p.clone(), *c, "L-BFGS".into(), why.clone()));
            }
            let reason = if c.is_finite() && *c < WALL {
                format!("L-BFGS stopped short ({why})")
            } else {
                format!("L-BFGS ended on a non-finite likelihood ({c})")
            };
            (if *c < WALL { p.clone() } else { x0.to_vec() }, reason)
        }
        Err(e) => (x0.to_vec(), format!("L-BFGS failed: {e}")),
    };
    let (p, c, it) = nelder_mead(f, &origin, max_iters * 10)?;
    *iterations += it;
    let (p, c, why) = match lbfgs(f, p.clone(), max_iters) {
        Ok((q, d, it2, why)) if d <= c => {
            *iterations += it2;
            (q, d, why)
        }
        _ => (p, c, "Nelder–Mead stopped".to_string()),
    };
    let best_first = first.ok().filter(|(_, c0, _, _)| *c0 < c);
    match best_first {
        Some((p0, c0, _, why0)) => Ok((p0, c0, "L-BFGS".into(), why0)),
        None => Ok((p, c, "Nelder–Mead then L-BFGS".into(), format!("{reason}; {why}"))),
    }
}

/// Newton steps with the finite-difference Hessian from a converged point:
/// quadratic convergence takes the optimum from the solver's tolerance to
/// the precision of the gradient, so builds whose `exp`/`ln` differ in the
/// last bit (native vs wasm) land on the same digits. A step is kept only if
/// the cost does not rise beyond rounding noise. The Hessian is computed
/// once (the steps are far below its scale of change) and returned for the
/// standard errors: for a 4-parameter model without a closed-form gradient
/// each Hessian costs 33 likelihood passes.
fn newton_polish(f: &dyn Objective, mut x: Vec<f64>, mut cost: f64) -> (Vec<f64>, f64, Option<Vec<Vec<f64>>>) {
    let h = hessian(f, &x);
    let Some(inv) = spd_inverse(&h) else {
        return (x, cost, Some(h));
    };
    for _ in 0..3 {
        let g = precise_gradient(f, &x);
        let step: Vec<f64> = inv.iter().map(|row| row.iter().zip(&g).map(|(h, gi)| h * gi).sum::<f64>()).collect();
        let next: Vec<f64> = x.iter().zip(&step).map(|(xi, si)| xi - si).collect();
        let c = f.cost(&next);
        // Near the optimum the cost moves by less than its own rounding
        // noise; a step that does not raise it beyond that noise is taken.
        if !(c.is_finite() && c <= cost + 1e-13 * (1.0 + cost.abs())) {
            break;
        }
        let moved = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        x = next;
        cost = c;
        if moved < 1e-12 {
            break;
        }
    }
    (x, cost, Some(h))
}

/// Minimise from the starts in order, stopping at the first that converges
/// (BTYD likelihoods are unimodal in practice; the later starts are for
/// when the first one fails). Keeps the best and reports its convergence.
pub fn minimise(f: &dyn Objective, starts: &[Vec<f64>], max_iters: u64) -> Result<Optimum, String> {
    let mut best: Option<(Vec<f64>, f64, String, String)> = None;
    let mut errors = Vec::new();
    let mut iterations = 0;
    for x0 in starts {
        match from_start(f, x0, max_iters, &mut iterations) {
            Ok(found) if found.1.is_finite() && found.1 < WALL => {
                if best.as_ref().is_none_or(|b| found.1 < b.1) {
                    best = Some(found);
                }
            }
            Ok((_, c, _, _)) => errors.push(format!("start {x0:?}: non-finite likelihood {c}")),
            Err(e) => errors.push(format!("start {x0:?}: {e}")),
        }
        if best.as_ref().is_some_and(|b| b.3 == AT_LIMIT || max_norm(&gradient(f, &b.0)) < GRADIENT_TOLERANCE) {
            break;
        }
    }
    let (p, cost, method, why) =
        best.ok_or_else(|| format!("no start reached a finite likelihood: {}", errors.join("; ")))?;
    let (p, cost, hessian) =
        if max_norm(&gradient(f, &p)) < GRADIENT_TOLERANCE { newton_polish(f, p, cost) } else { (p, cost, None) };
    let g = max_norm(&precise_gradient(f, &p));
    let converged = g < GRADIENT_TOLERANCE;
    let message = if converged {
        format!("{why}; gradient max-norm {g:.1e}")
    } else {
        format!("not converged ({why}); gradient max-norm {g:.1e} > {GRADIENT_TOLERANCE:.0e}")
    };
    Ok(Optimum {
        log_params: p,
        cost,
        convergence: Convergence { converged, iterations, gradient_norm: g, method, message, boundary: None },
        hessian,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rosenbrock;
    impl Objective for Rosenbrock {
        fn cost(&self, p: &[f64]) -> f64 {
            (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2)
        }
    }

    #[test]
    fn finds_the_rosenbrock_minimum_and_says_so() {
        let o = minimise(&Rosenbrock, &[vec![-1.2, 1.0]], 1000).unwrap();
        assert!((o.log_params[0] - 1.0).abs() < 1e-5 && (o.log_params[1] - 1.0).abs() < 1e-5, "{:?}", o.log_params);
        assert!(o.convergence.converged, "{:?}", o.convergence);
    }

    #[test]
    fn an_unfinished_run_is_not_called_converged() {
        let o = minimise(&Rosenbrock, &[vec![-1.2, 1.0]], 3).unwrap();
        assert!(!o.convergence.converged);
        assert!(o.convergence.message.starts_with("not converged"));
    }

    struct Walls;
    impl Objective for Walls {
        fn cost(&self, p: &[f64]) -> f64 {
            if p[0] > 0.5 {
                f64::NAN
            } else {
                (p[0] - 0.3).powi(2) + p[1] * p[1]
            }
        }
    }

    #[test]
    fn survives_non_finite_regions() {
        let o = minimise(&Walls, &[vec![0.0, 1.0]], 500).unwrap();
        assert!((o.log_params[0] - 0.3).abs() < 1e-4, "{:?}", o.log_params);
    }

    /// Where the cost is linear, L-BFGS's second curvature pair has
    /// y = 0, so s·y = 0 and its direction turns NaN (met in wasm far out
    /// along a limit). The run must end, not try NaN points forever.
    #[test]
    fn a_nan_search_direction_ends_the_run() {
        struct Linear(std::cell::Cell<u64>);
        impl Objective for Linear {
            fn cost(&self, p: &[f64]) -> f64 {
                self.0.set(self.0.get() + 1);
                assert!(self.0.get() < 1_000_000, "still evaluating at {p:?}");
                p[0]
            }
            fn analytic_gradient(&self, _: &[f64]) -> Option<Vec<f64>> {
                Some(vec![1.0])
            }
        }
        // Ends either way: no optimum (Nelder–Mead then runs off to −∞ too), or one not called converged.
        match minimise(&Linear(Default::default()), &[vec![0.0]], 200) {
            Ok(o) => assert!(!o.convergence.converged && o.log_params.iter().all(|v| v.is_finite())),
            Err(e) => assert!(e.contains("non-finite parameters"), "{e}"),
        }
    }

    #[test]
    fn hessian_and_inverse() {
        struct Quad;
        impl Objective for Quad {
            fn cost(&self, p: &[f64]) -> f64 {
                2.0 * p[0] * p[0] + p[0] * p[1] + 3.0 * p[1] * p[1]
            }
        }
        let h = hessian(&Quad, &[0.3, -0.2]);
        assert!((h[0][0] - 4.0).abs() < 1e-5 && (h[0][1] - 1.0).abs() < 1e-5 && (h[1][1] - 6.0).abs() < 1e-5);
        let inv = spd_inverse(&h).unwrap();
        // [[4,1],[1,6]]⁻¹ = [[6,−1],[−1,4]]/23
        assert!((inv[0][0] - 6.0 / 23.0).abs() < 1e-6 && (inv[0][1] + 1.0 / 23.0).abs() < 1e-6);
        assert!(spd_inverse(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
    }
}
