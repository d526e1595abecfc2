//! A gated recurrent unit (GRU) cell and its three output heads, with hand-written gradients
//! (checked against central differences in the tests) — no autodiff crate: the cell is small,
//! and this keeps the worker's wasm free of one.
//!
//! The cell is Cho et al. (2014), in the form PyTorch's `nn.GRU` documents:
//!
//! ```text
//! z  = σ(W_z x + U_z h + b_z)              update gate
//! r  = σ(W_r x + U_r h + b_r)              reset gate
//! n  = tanh(W_n x + b_n + r ⊙ (U_n h + c_n))
//! h' = (1 − z) ⊙ n + z ⊙ h
//! ```
//!
//! The heads read h' (the state after a week): η = a·h' + a₀, the log of next week's expected
//! purchase days (Poisson); μ = m·h' + m₀ and ln σ = q·h' + q₀, the lognormal of next week's spend
//! when there is a purchase. All parameters live in one flat vector (`theta`), so Adam and the
//! gradient check see one slice.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// η (log expected purchase days a week) is kept below this: e⁸ ≈ 3,000 a week is beyond any
/// real customer, and it keeps exp finite while training is still far off.
pub const MAX_LOG_RATE: f64 = 8.0;
/// ln σ of the spend lognormal is kept in this range (σ from 0.007 to 20 in log-currency).
pub const LOG_SIGMA: (f64, f64) = (-5.0, 3.0);

/// The cell's sizes and parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gru {
    /// Inputs per step.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// All parameters, laid out as [`Layout`] says.
    pub theta: Vec<f64>,
}

/// Offsets of each block in `theta`.
#[derive(Debug, Clone, Copy)]
struct Layout {
    w: usize,
    u: usize,
    b: usize,
    c: usize,
    heads: usize,
    len: usize,
}

fn layout(inputs: usize, hidden: usize) -> Layout {
    let w = 0;
    let u = w + 3 * hidden * inputs;
    let b = u + 3 * hidden * hidden;
    let c = b + 3 * hidden;
    let heads = c + hidden;
    Layout { w, u, b, c, heads, len: heads + 3 * (hidden + 1) }
}

/// What the forward step keeps for the backward one.
#[derive(Debug, Clone, Default)]
pub struct StepCache {
    x: Vec<f64>,
    h: Vec<f64>,
    z: Vec<f64>,
    r: Vec<f64>,
    n: Vec<f64>,
    /// U_n h + c_n.
    a: Vec<f64>,
    /// The new state h'.
    pub out: Vec<f64>,
}

/// The three heads' values at one state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Heads {
    /// ln of expected purchase days next week (clamped to [`MAX_LOG_RATE`]).
    pub log_rate: f64,
    /// Mean of ln(spend) next week, given a purchase.
    pub mu: f64,
    /// ln σ of ln(spend), clamped to [`LOG_SIGMA`].
    pub log_sigma: f64,
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

impl Gru {
    /// A cell with Glorot-uniform weights from `seed`, zero biases, and the rate head's bias at
    /// `ln(base_rate)` (the data's mean purchase days a week), so training starts from the average.
    pub fn new(inputs: usize, hidden: usize, seed: u64, base_rate: f64, base_log_spend: f64) -> Gru {
        let at = layout(inputs, hidden);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut theta = vec![0.0; at.len];
        let limit_w = (6.0 / (inputs + hidden) as f64).sqrt();
        let limit_u = (6.0 / (2 * hidden) as f64).sqrt();
        theta[at.w..at.u].iter_mut().for_each(|t| *t = rng.random_range(-limit_w..limit_w));
        theta[at.u..at.b].iter_mut().for_each(|t| *t = rng.random_range(-limit_u..limit_u));
        let limit_head = (1.0 / hidden as f64).sqrt() * 0.1;
        for k in 0..3 {
            let head = at.heads + k * (hidden + 1);
            theta[head..head + hidden].iter_mut().for_each(|t| *t = rng.random_range(-limit_head..limit_head));
        }
        theta[at.heads + hidden] = base_rate.max(1e-6).ln();
        theta[at.heads + 2 * (hidden + 1) - 1] = base_log_spend;
        Gru { inputs, hidden, theta }
    }

    fn at(&self) -> Layout {
        layout(self.inputs, self.hidden)
    }

    /// Parameters in all.
    pub fn len(&self) -> usize {
        self.theta.len()
    }

    /// Whether there are none (never, for a built cell).
    pub fn is_empty(&self) -> bool {
        self.theta.is_empty()
    }

    /// One step: the state after seeing `x` from state `h`, written into `cache` (reused).
    pub fn step(&self, x: &[f64], h: &[f64], cache: &mut StepCache) {
        let (hd, ni, at, th) = (self.hidden, self.inputs, self.at(), &self.theta);
        cache.x.clear();
        cache.x.extend_from_slice(x);
        cache.h.clear();
        cache.h.extend_from_slice(h);
        for v in [&mut cache.z, &mut cache.r, &mut cache.n, &mut cache.a, &mut cache.out] {
            v.clear();
            v.resize(hd, 0.0);
        }
        for j in 0..hd {
            let mut pre = [th[at.b + j], th[at.b + hd + j], th[at.b + 2 * hd + j]];
            let mut a = th[at.c + j];
            for (g, p) in pre.iter_mut().enumerate() {
                let row = &th[at.w + (g * hd + j) * ni..][..ni];
                *p += row.iter().zip(x).map(|(w, x)| w * x).sum::<f64>();
                let row = &th[at.u + (g * hd + j) * hd..][..hd];
                let uh = row.iter().zip(h).map(|(u, h)| u * h).sum::<f64>();
                if g < 2 {
                    *p += uh;
                } else {
                    a += uh;
                }
            }
            let (z, r) = (sigmoid(pre[0]), sigmoid(pre[1]));
            let n = (pre[2] + r * a).tanh();
            cache.z[j] = z;
            cache.r[j] = r;
            cache.n[j] = n;
            cache.a[j] = a;
            cache.out[j] = (1.0 - z) * n + z * h[j];
        }
    }

    /// The heads at state `h`.
    pub fn heads(&self, h: &[f64]) -> Heads {
        let head = |k: usize| {
            let at = self.at().heads + k * (self.hidden + 1);
            self.theta[at + self.hidden]
                + self.theta[at..at + self.hidden].iter().zip(h).map(|(a, h)| a * h).sum::<f64>()
        };
        Heads { log_rate: head(0).min(MAX_LOG_RATE), mu: head(1), log_sigma: head(2).clamp(LOG_SIGMA.0, LOG_SIGMA.1) }
    }

    /// Add the heads' gradient at state `h` — ∂loss/∂(η, μ, ln σ) given — to `grad`, and their
    /// gradient with respect to `h` to `dh`. A clamped head passes no gradient.
    pub fn heads_backward(&self, h: &[f64], d: [f64; 3], grad: &mut [f64], dh: &mut [f64]) {
        let heads = self.heads(h);
        let open =
            [heads.log_rate < MAX_LOG_RATE, true, heads.log_sigma > LOG_SIGMA.0 && heads.log_sigma < LOG_SIGMA.1];
        for k in 0..3 {
            if d[k] == 0.0 || !open[k] {
                continue;
            }
            let at = self.at().heads + k * (self.hidden + 1);
            for j in 0..self.hidden {
                grad[at + j] += d[k] * h[j];
                dh[j] += d[k] * self.theta[at + j];
            }
            grad[at + self.hidden] += d[k];
        }
    }

    /// Back through one step: `dout` is ∂loss/∂h'; adds ∂loss/∂θ to `grad` and writes ∂loss/∂h
    /// (the previous state) into `dh`.
    pub fn step_backward(&self, cache: &StepCache, dout: &[f64], grad: &mut [f64], dh: &mut Vec<f64>) {
        let (hd, ni, at, th) = (self.hidden, self.inputs, self.at(), &self.theta);
        dh.clear();
        dh.extend(dout.iter().zip(&cache.z).map(|(d, z)| d * z));
        for j in 0..hd {
            let (z, r, n, a) = (cache.z[j], cache.r[j], cache.n[j], cache.a[j]);
            let dn = dout[j] * (1.0 - z);
            let dz = dout[j] * (cache.h[j] - n);
            let dpre_n = dn * (1.0 - n * n);
            let dr = dpre_n * a;
            let da = dpre_n * r;
            let dpre = [dz * z * (1.0 - z), dr * r * (1.0 - r), dpre_n];
            for (g, dp) in dpre.into_iter().enumerate() {
                grad[at.b + g * hd + j] += dp;
                let row = at.w + (g * hd + j) * ni;
                for (k, x) in cache.x.iter().enumerate() {
                    grad[row + k] += dp * x;
                }
                // The candidate's recurrent part enters through r ⊙ (U_n h + c_n).
                let du = if g < 2 { dp } else { da };
                let row = at.u + (g * hd + j) * hd;
                for k in 0..hd {
                    grad[row + k] += du * cache.h[k];
                    dh[k] += du * th[row + k];
                }
            }
            grad[at.c + j] += da;
        }
    }
}

/// Adam (Kingma & Ba 2015) over a flat parameter vector, with the global gradient norm clipped.
#[derive(Debug, Clone)]
pub struct Adam {
    rate: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

/// Gradients with a larger Euclidean norm are scaled down to it: one odd batch does not throw the
/// recurrent weights off.
const CLIP_NORM: f64 = 5.0;

impl Adam {
    /// Adam for `len` parameters at step size `rate` (β₁ 0.9, β₂ 0.999, ε 1e-8).
    pub fn new(len: usize, rate: f64) -> Adam {
        Adam { rate, m: vec![0.0; len], v: vec![0.0; len], t: 0 }
    }

    /// Set the step size (for a schedule).
    pub fn set_rate(&mut self, rate: f64) {
        self.rate = rate;
    }

    /// One update of `theta` from `grad`.
    pub fn update(&mut self, theta: &mut [f64], grad: &[f64]) {
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        let scale = if norm > CLIP_NORM { CLIP_NORM / norm } else { 1.0 };
        self.t += 1;
        let (b1, b2) = (0.9_f64, 0.999_f64);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for (((p, g), m), v) in theta.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            let g = g * scale;
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= self.rate * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loss through three steps and all three heads, so every parameter block is reached.
    fn loss(gru: &Gru, xs: &[[f64; 3]], targets: &[[f64; 3]]) -> f64 {
        let mut h = vec![0.0; gru.hidden];
        let mut cache = StepCache::default();
        let mut total = 0.0;
        for (x, t) in xs.iter().zip(targets) {
            gru.step(x, &h, &mut cache);
            h = cache.out.clone();
            let o = gru.heads(&h);
            total += o.log_rate.exp() - t[0] * o.log_rate + 0.5 * (o.mu - t[1]).powi(2) + t[2] * o.log_sigma;
        }
        total
    }

    fn gradient(gru: &Gru, xs: &[[f64; 3]], targets: &[[f64; 3]]) -> Vec<f64> {
        let mut caches = Vec::new();
        let mut h = vec![0.0; gru.hidden];
        for x in xs {
            let mut cache = StepCache::default();
            gru.step(x, &h, &mut cache);
            h = cache.out.clone();
            caches.push(cache);
        }
        let mut grad = vec![0.0; gru.len()];
        let mut carry = vec![0.0; gru.hidden];
        let mut dh = Vec::new();
        for (cache, t) in caches.iter().zip(targets).rev() {
            let o = gru.heads(&cache.out);
            let mut dout = carry.clone();
            gru.heads_backward(&cache.out, [o.log_rate.exp() - t[0], o.mu - t[1], t[2]], &mut grad, &mut dout);
            gru.step_backward(cache, &dout, &mut grad, &mut dh);
            carry = dh.clone();
        }
        grad
    }

    /// Every one of the cell's and heads' derivatives equals a central difference to 1e-6
    /// (relative to the larger of 1 and the derivative's size).
    #[test]
    fn hand_written_gradients_equal_central_differences() {
        let gru = Gru::new(3, 5, 11, 0.3, 1.0);
        let xs = [[0.7, 1.0, -0.4], [0.0, 0.0, 0.2], [1.1, 1.0, 0.5]];
        let targets = [[1.0, 0.3, 1.0], [0.0, -0.2, 1.0], [2.0, 1.5, 1.0]];
        let analytic = gradient(&gru, &xs, &targets);
        let mut probe = gru.clone();
        let eps = 1e-6;
        for (k, &want) in analytic.iter().enumerate() {
            probe.theta[k] = gru.theta[k] + eps;
            let up = loss(&probe, &xs, &targets);
            probe.theta[k] = gru.theta[k] - eps;
            let down = loss(&probe, &xs, &targets);
            probe.theta[k] = gru.theta[k];
            let numeric = (up - down) / (2.0 * eps);
            assert!(
                (numeric - want).abs() < 1e-6 * want.abs().max(1.0),
                "parameter {k}: analytic {want} numeric {numeric}"
            );
        }
        // Not vacuous: the gradient reaches every block.
        assert!(analytic.iter().filter(|g| g.abs() > 1e-9).count() > gru.len() * 9 / 10);
    }

    /// A clamped head passes no gradient (the loss is flat there).
    #[test]
    fn a_clamped_rate_passes_no_gradient() {
        let mut gru = Gru::new(2, 3, 1, 1.0, 0.0);
        let bias = gru.at().heads + gru.hidden;
        gru.theta[bias] = 50.0;
        let h = [0.1, -0.2, 0.3];
        assert_eq!(gru.heads(&h).log_rate, MAX_LOG_RATE);
        let (mut grad, mut dh) = (vec![0.0; gru.len()], vec![0.0; 3]);
        gru.heads_backward(&h, [1.0, 0.0, 0.0], &mut grad, &mut dh);
        assert!(grad.iter().chain(&dh).all(|g| *g == 0.0));
    }

    /// Adam finds the minimum of a quadratic bowl, and the same seed gives the same cell.
    #[test]
    fn adam_finds_a_bowls_minimum_and_seeds_repeat() {
        let mut theta = vec![3.0, -2.0];
        let mut adam = Adam::new(2, 0.05);
        for _ in 0..2000 {
            let grad = [2.0 * (theta[0] - 1.0), 4.0 * (theta[1] + 0.5)];
            adam.update(&mut theta, &grad);
        }
        assert!((theta[0] - 1.0).abs() < 1e-3 && (theta[1] + 0.5).abs() < 1e-3, "{theta:?}");
        assert_eq!(Gru::new(4, 8, 3, 0.1, 2.0), Gru::new(4, 8, 3, 0.1, 2.0));
        assert_ne!(Gru::new(4, 8, 3, 0.1, 2.0).theta, Gru::new(4, 8, 4, 0.1, 2.0).theta);
    }
}
