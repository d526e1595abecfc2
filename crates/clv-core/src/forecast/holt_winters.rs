//! Holt–Winters with additive (optionally damped) trend and additive
//! seasonality — ETS(A,A,A) / ETS(A,Ad,A) in the taxonomy of Hyndman et al.
//!
//! Recursions (error-correction form, identical to statsmodels'
//! `ExponentialSmoothing(trend="add", seasonal="add")`, whose smoothing
//! parameters α, β*, γ have the same meaning):
//!
//! ```text
//! ŷ_t = ℓ_{t−1} + φ b_{t−1} + s_{t−m}          e_t = y_t − ŷ_t
//! ℓ_t = ℓ_{t−1} + φ b_{t−1} + α e_t
//! b_t = φ b_{t−1} + α β* e_t
//! s_t = s_{t−m} + γ e_t
//! ```
//!
//! **Fitting.** For fixed (α, β*, γ, φ) every one-step error is an affine
//! function of the initial states (ℓ₀, b₀, s₀ … s_{m−1}), so the
//! least-squares initial states solve an (m+1)-dimensional linear system
//! (with Σ s = 0, which removes the one direction — level up, seasons down —
//! that leaves every forecast unchanged). Nelder–Mead (argmin) then only
//! searches the 3–4 smoothing parameters over this concentrated SSE. This is
//! the "estimated" initialisation of statsmodels, solved exactly instead of
//! jointly by L-BFGS-B over 12 parameters.
//!
//! **Intervals.** Class-1 analytic variance (Hyndman, Koehler, Ord & Snyder
//! 2008, *Forecasting with Exponential Smoothing*, §6.3, Table 6.1):
//! Var(ŷ_{n+h}) = σ² [1 + Σ_{j=1}^{h−1} c_j²] with
//! c_j = α + αβ*(φ + … + φ^j) + γ·[j ≡ 0 mod m], σ² = SSE / (n − k).

use super::{Forecast, ForecastError};
use crate::linalg::{cholesky, cholesky_solve};
use argmin::core::{CostFunction, Executor, State, TerminationReason};
use argmin::solver::neldermead::NelderMead;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// Checked Holt–Winters settings.
///
/// ```
/// use clv_core::forecast::HoltWintersParams;
/// let y: Vec<f64> = (0..70).map(|t| 10.0 + 0.5 * t as f64 + [3.0, 1.0, 0.0, -1.0, -2.0, -2.0, 1.0][t % 7]).collect();
/// let fit = HoltWintersParams::new(7, false).unwrap().fit(&y).unwrap();
/// let next = fit.forecast(7, 0.9).unwrap();
/// assert!((next.mean[0] - (10.0 + 35.0 + 3.0)).abs() < 1e-3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HoltWintersParams {
    season_length: usize,
    damped: bool,
}

/// The fitted smoothing parameters (statsmodels' `smoothing_level`,
/// `smoothing_trend`, `smoothing_seasonal`, `damping_trend`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Smoothing {
    /// α, level smoothing, in (0, 1): how much of each one-step error moves the level.
    pub alpha: f64,
    /// β*, trend smoothing, in (0, 1): the trend moves by α β* of each error
    /// (statsmodels' `smoothing_trend` is this β*, not α β*).
    pub beta: f64,
    /// γ, seasonal smoothing, in (0, 1 − α) as in statsmodels.
    pub gamma: f64,
    /// φ, trend damping: fitted in [0.8, 0.98] for a damped trend, exactly 1 (no
    /// damping) otherwise.
    pub phi: f64,
}

/// A fitted model: parameters, initial and final states, fit quality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoltWinters {
    /// The smoothing parameters the model was fitted (or given) with.
    pub smoothing: Smoothing,
    /// Season length m in steps (7 for daily data with a weekly pattern).
    pub season_length: usize,
    /// Initial level ℓ₀, in the series' units.
    pub initial_level: f64,
    /// Initial trend b₀, in the series' units per step.
    pub initial_trend: f64,
    /// Seasonal states for t = 0 … m−1 (they sum to zero).
    pub initial_season: Vec<f64>,
    /// Sum of squared one-step errors over the whole series.
    pub sse: f64,
    /// Innovation variance σ² = SSE / (n − k), k the number of parameters
    /// (smoothing parameters and free initial states); it scales every interval.
    pub sigma2: f64,
    /// In-sample one-step errors e_t = y_t − ŷ_t, one per value of the series
    /// (what MinT reconciliation needs).
    pub residuals: Vec<f64>,
    /// Nelder–Mead stopped on its tolerance (not on the iteration cap).
    pub converged: bool,
    /// Nelder–Mead iterations used (at most 400; 0 for [`HoltWinters::with_states`]).
    pub iterations: u64,
    pub(super) level: f64,
    pub(super) trend: f64,
    /// Final seasonal states indexed by t mod m.
    pub(super) season: Vec<f64>,
    pub(super) n: usize,
}

const DAMPING_RANGE: (f64, f64) = (0.8, 0.98);

impl HoltWintersParams {
    /// Settings for season length m (2–400 steps, else [`ForecastError::Season`]),
    /// with a damped trend if `damped`.
    pub fn new(season_length: usize, damped: bool) -> Result<Self, ForecastError> {
        if !(2..=400).contains(&season_length) {
            return Err(ForecastError::Season(season_length));
        }
        Ok(HoltWintersParams { season_length, damped })
    }

    /// Season length m, in steps.
    pub fn season_length(&self) -> usize {
        self.season_length
    }

    /// Whether the trend is damped (φ fitted) or not (φ = 1).
    pub fn damped(&self) -> bool {
        self.damped
    }

    /// Smoothing parameters + free initial states.
    fn parameter_count(&self) -> usize {
        3 + usize::from(self.damped) + self.season_length + 1
    }

    /// Two full seasons, and more observations than parameters.
    pub fn min_len(&self) -> usize {
        (2 * self.season_length).max(self.parameter_count() + 2)
    }

    /// Fit to `y` (oldest first, evenly spaced, at least [`min_len`](Self::min_len)
    /// finite values): Nelder–Mead over the smoothing parameters from the best of a
    /// small grid, with the least-squares initial states at each point (see the
    /// module doc). Not converging within 400 iterations is not an error: it is
    /// reported in [`HoltWinters::converged`].
    pub fn fit(&self, y: &[f64]) -> Result<HoltWinters, ForecastError> {
        if y.len() < self.min_len() {
            return Err(ForecastError::TooShort { len: y.len(), needed: self.min_len() });
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(ForecastError::NonFinite { index: i });
        }
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let scale = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>().max(1e-300);
        let problem = Concentrated { y, m: self.season_length, damped: self.damped, scale };
        let start = problem.grid_start();
        let dim = start.len();
        let mut simplex = vec![start.clone()];
        for i in 0..dim {
            let mut v = start.clone();
            v[i] += if v[i] > 0.0 { -1.5 } else { 1.5 };
            simplex.push(v);
        }
        let solver =
            NelderMead::new(simplex).with_sd_tolerance(1e-6).map_err(|e| ForecastError::Optimiser(e.to_string()))?;
        let res = Executor::new(&problem, solver)
            .configure(|s| s.max_iters(400))
            .run()
            .map_err(|e| ForecastError::Optimiser(e.to_string()))?;
        let st = res.state();
        let best = st.get_best_param().cloned().unwrap_or(start);
        let converged = matches!(st.get_termination_reason(), Some(TerminationReason::SolverConverged));
        let iterations = st.get_iter();
        let smoothing = problem.smoothing(&best);
        let mut ws = Workspace::new(self.season_length);
        let x0 = ws.initial_states(y, self.season_length, &smoothing).ok_or(ForecastError::Singular)?;
        Ok(HoltWinters::run(y, self.season_length, smoothing, &x0, self.parameter_count(), converged, iterations))
    }
}

/// The concentrated objective over logit-transformed smoothing parameters.
struct Concentrated<'a> {
    y: &'a [f64],
    m: usize,
    damped: bool,
    scale: f64,
}

fn logistic(u: f64) -> f64 {
    1.0 / (1.0 + (-u.clamp(-30.0, 30.0)).exp())
}

impl Concentrated<'_> {
    /// α, β* ∈ (0, 1); γ ∈ (0, 1 − α) as in statsmodels; φ ∈ [0.8, 0.98].
    fn smoothing(&self, u: &[f64]) -> Smoothing {
        let alpha = logistic(u[0]).clamp(1e-6, 1.0 - 1e-6);
        let phi =
            if self.damped { DAMPING_RANGE.0 + (DAMPING_RANGE.1 - DAMPING_RANGE.0) * logistic(u[3]) } else { 1.0 };
        Smoothing { alpha, beta: logistic(u[1]), gamma: (1.0 - alpha) * logistic(u[2]), phi }
    }

    fn sse(&self, u: &[f64]) -> f64 {
        let mut ws = Workspace::new(self.m);
        ws.concentrated_sse(self.y, self.m, &self.smoothing(u)).map_or(f64::INFINITY, |s| s / self.scale)
    }

    /// The best point of a small grid, like statsmodels' brute start.
    fn grid_start(&self) -> Vec<f64> {
        let logit = |p: f64| (p / (1.0 - p)).ln();
        let mut best = (f64::INFINITY, Vec::new());
        for a in [0.1, 0.5] {
            for b in [0.01, 0.2] {
                for g in [0.05, 0.4] {
                    let mut u = vec![logit(a), logit(b), logit(g)];
                    if self.damped {
                        u.push(0.0);
                    }
                    let c = self.sse(&u);
                    if best.1.is_empty() || c < best.0 {
                        best = (c, u);
                    }
                }
            }
        }
        best.1
    }
}

impl CostFunction for &Concentrated<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, u: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        let c = self.sse(u);
        Ok(if c.is_finite() { c } else { 1e100 })
    }
}

/// Affine state propagation: every state is a vector `[constant, ∂/∂x₀…]`
/// over the p = m + 1 free initial states x₀ = (ℓ₀, b₀, s₀ … s_{m−2}).
struct Workspace {
    q: usize,
    level: Vec<f64>,
    trend: Vec<f64>,
    pub(super) season: Vec<f64>,
    err: Vec<f64>,
    ata: Vec<f64>,
    atb: Vec<f64>,
}

impl Workspace {
    fn new(m: usize) -> Workspace {
        let q = m + 2;
        Workspace {
            q,
            level: vec![0.0; q],
            trend: vec![0.0; q],
            season: vec![0.0; m * q],
            err: vec![0.0; q],
            ata: vec![0.0; (q - 1) * (q - 1)],
            atb: vec![0.0; q - 1],
        }
    }

    /// Accumulate the normal equations of the one-step errors in x₀;
    /// returns Σ e_c² (the error sum of squares at x₀ = 0).
    fn accumulate(&mut self, y: &[f64], m: usize, s: &Smoothing) -> f64 {
        let q = self.q;
        self.level.iter_mut().for_each(|v| *v = 0.0);
        self.trend.iter_mut().for_each(|v| *v = 0.0);
        self.season.iter_mut().for_each(|v| *v = 0.0);
        self.ata.iter_mut().for_each(|v| *v = 0.0);
        self.atb.iter_mut().for_each(|v| *v = 0.0);
        self.level[1] = 1.0;
        self.trend[2] = 1.0;
        for k in 0..m - 1 {
            self.season[k * q + 3 + k] = 1.0;
        }
        for i in 3..q {
            self.season[(m - 1) * q + i] = -1.0;
        }
        // Weekly seasons get a copy with the state length known at compile
        // time (the loops unroll; ~2× faster), any other season the general one.
        match q {
            9 => sweep::<9>(y, m, s, self),
            _ => sweep::<0>(y, m, s, self),
        }
    }

    /// Solve for the least-squares x₀ (in `atb`); `None` if singular.
    fn solve(&mut self) -> bool {
        let p = self.q - 1;
        let trace: f64 = (0..p).map(|i| self.ata[i * p + i]).sum();
        // A whisper of ridge: with α near 1 the start is forgotten and the
        // system is rank-deficient; any x₀ then gives the same errors.
        let ridge = 1e-10 * (trace / p as f64) + 1e-300;
        for i in 0..p {
            self.ata[i * p + i] += ridge;
        }
        for v in self.atb.iter_mut() {
            *v = -*v;
        }
        if !cholesky(&mut self.ata, p) {
            return false;
        }
        cholesky_solve(&self.ata, p, &mut self.atb);
        self.atb.iter().all(|v| v.is_finite())
    }

    fn concentrated_sse(&mut self, y: &[f64], m: usize, s: &Smoothing) -> Option<f64> {
        let cc = self.accumulate(y, m, s);
        let b: Vec<f64> = self.atb.clone();
        if !self.solve() {
            return None;
        }
        // SSE(x) = c + 2 bᵀx + xᵀAx = c + bᵀx at x = −A⁻¹b.
        let sse = cc + b.iter().zip(&self.atb).map(|(b, x)| b * x).sum::<f64>();
        sse.is_finite().then_some(sse.max(0.0))
    }

    /// (ℓ₀, b₀, s₀ … s_{m−1}).
    fn initial_states(&mut self, y: &[f64], m: usize, s: &Smoothing) -> Option<Vec<f64>> {
        self.accumulate(y, m, s);
        if !self.solve() {
            return None;
        }
        let x = &self.atb;
        let mut states = x.to_vec();
        states.push(-x[2..].iter().sum::<f64>());
        Some(states)
    }
}

/// One pass of the affine recursions; `Q` is the state length when known at
/// compile time, 0 otherwise.
#[inline(always)]
fn sweep<const Q: usize>(y: &[f64], m: usize, s: &Smoothing, ws: &mut Workspace) -> f64 {
    let q = if Q == 0 { ws.q } else { Q };
    let p = q - 1;
    let (alpha, ab, gamma, phi) = (s.alpha, s.alpha * s.beta, s.gamma, s.phi);
    let level = &mut ws.level[..q];
    let trend = &mut ws.trend[..q];
    let err = &mut ws.err[..q];
    let ata = &mut ws.ata[..p * p];
    let atb = &mut ws.atb[..p];
    let mut cc = 0.0;
    for (t, &yt) in y.iter().enumerate() {
        let k = t % m;
        let season = &mut ws.season[k * q..k * q + q];
        for i in 0..q {
            let pred = level[i] + phi * trend[i] + season[i];
            let e = if i == 0 { yt - pred } else { -pred };
            err[i] = e;
            level[i] += phi * trend[i] + alpha * e;
            trend[i] = phi * trend[i] + ab * e;
            season[i] += gamma * e;
        }
        let e0 = err[0];
        cc += e0 * e0;
        let ev = &err[1..q];
        for i in 0..p {
            atb[i] += e0 * ev[i];
            let row = &mut ata[i * p..i * p + i + 1];
            for (a, ej) in row.iter_mut().zip(ev) {
                *a += ev[i] * ej;
            }
        }
    }
    cc
}

impl HoltWinters {
    /// Run the recursions over `y` from given parameters and initial states
    /// (ℓ₀, b₀, s₀ … s_{m−1}) — no fitting. For checking against other
    /// implementations and for showing what a parameter does.
    pub fn with_states(y: &[f64], smoothing: Smoothing, initial: &[f64]) -> Result<HoltWinters, ForecastError> {
        let m = initial.len().checked_sub(2).filter(|m| *m >= 2).ok_or(ForecastError::Season(0))?;
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(ForecastError::NonFinite { index: i });
        }
        Ok(HoltWinters::run(y, m, smoothing, initial, m + 4, true, 0))
    }

    fn run(
        y: &[f64],
        m: usize,
        smoothing: Smoothing,
        x0: &[f64],
        k: usize,
        converged: bool,
        iterations: u64,
    ) -> HoltWinters {
        let Smoothing { alpha, beta, gamma, phi } = smoothing;
        let (mut level, mut trend) = (x0[0], x0[1]);
        let mut season = x0[2..].to_vec();
        let residuals: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(t, &yt)| {
                let e = yt - (level + phi * trend + season[t % m]);
                level += phi * trend + alpha * e;
                trend = phi * trend + alpha * beta * e;
                season[t % m] += gamma * e;
                e
            })
            .collect();
        let sse: f64 = residuals.iter().map(|e| e * e).sum();
        HoltWinters {
            smoothing,
            season_length: m,
            initial_level: x0[0],
            initial_trend: x0[1],
            initial_season: x0[2..].to_vec(),
            sse,
            sigma2: sse / (y.len().saturating_sub(k)).max(1) as f64,
            residuals,
            converged,
            iterations,
            level,
            trend,
            season,
            n: y.len(),
        }
    }

    /// Point forecast h = 1 … horizon steps after the last observation.
    pub fn point(&self, horizon: usize) -> Vec<f64> {
        let phi = self.smoothing.phi;
        let mut damp = 0.0;
        let mut pow = 1.0;
        (1..=horizon)
            .map(|h| {
                pow *= phi;
                damp += pow;
                self.level + damp * self.trend + self.season[(self.n + h - 1) % self.season_length]
            })
            .collect()
    }

    /// c_j of the variance formula, j = 1 … n.
    fn impulse(&self, n: usize) -> impl Iterator<Item = f64> + '_ {
        let Smoothing { alpha, beta, gamma, phi } = self.smoothing;
        let (mut damp, mut pow) = (0.0, 1.0);
        (1..=n).map(move |j| {
            pow *= phi;
            damp += pow;
            alpha + alpha * beta * damp + if j % self.season_length == 0 { gamma } else { 0.0 }
        })
    }

    /// Forecast variance at h = 1 … horizon.
    pub fn variances(&self, horizon: usize) -> Vec<f64> {
        let mut acc = 1.0;
        let mut out = Vec::with_capacity(horizon);
        out.push(self.sigma2);
        for c in self.impulse(horizon.saturating_sub(1)) {
            acc += c * c;
            out.push(self.sigma2 * acc);
        }
        out.truncate(horizon);
        out
    }

    /// Mean and variance of the sum of the next `horizon` values: the
    /// innovation at step i reaches every later step, so
    /// Var = σ² Σ_{D=0}^{K−1} (1 + Σ_{d=1}^{D} c_d)².
    pub fn cumulative(&self, horizon: usize) -> (f64, f64) {
        let mean: f64 = self.point(horizon).iter().sum();
        let mut reach = 1.0;
        let mut var = if horizon > 0 { 1.0 } else { 0.0 };
        for c in self.impulse(horizon.saturating_sub(1)) {
            reach += c;
            var += reach * reach;
        }
        (mean, self.sigma2 * var)
    }

    /// Point forecast with a central `level` prediction interval.
    pub fn forecast(&self, horizon: usize, level: f64) -> Result<Forecast, ForecastError> {
        let z = z_score(level)?;
        let mean = self.point(horizon);
        let sd: Vec<f64> = self.variances(horizon).iter().map(|v| v.sqrt()).collect();
        Ok(Forecast {
            lower: mean.iter().zip(&sd).map(|(m, s)| m - z * s).collect(),
            upper: mean.iter().zip(&sd).map(|(m, s)| m + z * s).collect(),
            mean,
            level,
        })
    }
}

/// The two-sided normal quantile for a central interval of `level`.
pub fn z_score(level: f64) -> Result<f64, ForecastError> {
    if !(level > 0.0 && level < 1.0) {
        return Err(ForecastError::Level(level));
    }
    Ok(Normal::standard().inverse_cdf(0.5 + level / 2.0))
}
