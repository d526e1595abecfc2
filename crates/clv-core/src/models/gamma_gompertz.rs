//! Gamma–Gompertz/NBD: Bemmaor & Glady (2012), "Modeling purchasing behavior
//! with sudden 'death': a flexible customer lifetime model", Management
//! Science 58(5), pp. 1012–1021 (likelihood eq. 9, P(alive) eq. 11,
//! expectations in their section 3); as in CLVTools' `ggomnbd`.
//!
//! While alive a customer buys at rate λ ~ Gamma(r, α), as in Pareto/NBD.
//! Their lifetime is Gompertz: hazard b·η·e^(bτ), so the risk of leaving
//! grows (b > 0) with the time since the first purchase, with η ~ Gamma(s, β)
//! across customers. The lifetime's marginal survival is
//! S(τ) = (β/(β + e^(bτ) − 1))ˢ. As b → 0 with β/b fixed the hazard becomes
//! constant and the model is Pareto/NBD with dropout rates Gamma(s, β/b) —
//! the CDNOW optimum lies on that edge (the paper's Table 2: b = 0.0002).
//!
//! No closed form exists for the likelihood's dropout term or the
//! expectations: they are integrals over the death time, computed by
//! double-exponential (tanh–sinh) quadrature with an error target, after a
//! change of variable that leaves a slowly varying integrand.

use super::bgnbd::check_rfm;
use super::pareto_nbd::add_nbd_pmf;
use super::pareto_nbd::ln_one_minus_exp;
use super::special::{gauss_legendre_10, ln_gamma_ratio, log_add_exp, LogSum};
use super::validity::{Fixed, Limit};
use super::{finite_or, positive, CountModel, Likelihood, ModelError, Rfm, Weighted};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// A Gamma–Gompertz/NBD model (Bemmaor & Glady 2012) with validated parameters: `r`, `alpha` the gamma
/// shape and rate of purchase rates λ (r/α purchases per time unit on average while alive); `b` the
/// Gompertz scale (per time unit: how fast the hazard of leaving grows with age); `s`, `beta` the gamma
/// shape and rate of the customers' Gompertz η (small s: lifetimes differ a lot between customers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaGompertzNbd {
    r: f64,
    alpha: f64,
    b: f64,
    s: f64,
    beta: f64,
}

/// Absolute error asked of each quadrature; the integrands are scaled to
/// a maximum near 1 first, so this is ~relative to the integral's size.
const QUAD_TOLERANCE: f64 = 1e-13;

/// ln ∫ₐᵇ e^(h(v)) dv by tanh–sinh quadrature, `h` scaled by its larger end
/// value (the integrands here peak at an end or near it); −∞ for an empty range.
fn ln_integral(h: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    if b <= a || b.is_nan() || a.is_nan() {
        return f64::NEG_INFINITY;
    }
    let m = h(a).max(h(b)).max(h(0.5 * (a + b)));
    if !m.is_finite() {
        return f64::NEG_INFINITY;
    }
    let out = quadrature::double_exponential::integrate(|v| (h(v) - m).exp(), a, b, QUAD_TOLERANCE);
    m + out.integral.ln()
}

impl GammaGompertzNbd {
    /// The model from r, α, b, s, β; each must be a positive finite number, else
    /// [`ModelError::InvalidParameter`].
    pub fn new(r: f64, alpha: f64, b: f64, s: f64, beta: f64) -> Result<GammaGompertzNbd, ModelError> {
        Ok(GammaGompertzNbd {
            r: positive("r", r)?,
            alpha: positive("alpha", alpha)?,
            b: positive("b", b)?,
            s: positive("s", s)?,
            beta: positive("beta", beta)?,
        })
    }

    /// L(τ) = ln(1 + (e^(bτ) − 1)/β), so that S(τ) = e^(−s·L(τ)). Written with
    /// expm1/ln_1p so it stays exact as b, β → 0 together (the Pareto/NBD
    /// edge, where it tends to ln(1 + τ b/β)), and without overflow for large bτ.
    fn ln_gompertz_base(&self, tau: f64) -> f64 {
        let bt = self.b * tau;
        if bt < 30.0 {
            (bt.exp_m1() / self.beta).ln_1p()
        } else {
            bt - self.beta.ln() + ((self.beta - 1.0) * (-bt).exp()).ln_1p()
        }
    }

    /// ln S(τ): the probability that a new customer is still alive τ after the first purchase.
    fn ln_survival(&self, tau: f64) -> f64 {
        -self.s * self.ln_gompertz_base(tau)
    }

    /// ln of the lifetime density f(τ) = b s βˢ e^(bτ)/(β + e^(bτ) − 1)^(s+1), as
    /// ln(b s/β) + bτ − (s+1)·L(τ) (moderate as b, β → 0 together).
    fn ln_density(&self, tau: f64) -> f64 {
        (self.b * self.s / self.beta).ln() + self.b * tau - (self.s + 1.0) * self.ln_gompertz_base(tau)
    }

    /// ln of αʳ/(α+τ)^(r+x), regrouped as −r ln(1+τ/α) − x ln(α+τ) so it stays
    /// exact as r, α → ∞ together (no purchase-rate heterogeneity).
    fn ln_rate_term(&self, x: f64, tau: f64) -> f64 {
        -self.r * (tau / self.alpha).ln_1p() - x * (self.alpha + tau).ln()
    }

    /// ln of the likelihood's alive term without Γ(r+x)/Γ(r): αʳ S(T)/(α+T)^(r+x).
    fn ln_alive_term(&self, c: &Rfm) -> f64 {
        self.ln_rate_term(c.x, c.t) + self.ln_survival(c.t)
    }

    /// ln of the dropout term without Γ(r+x)/Γ(r): ∫ from t_x to T of αʳ f(τ)/(α+τ)^(r+x) dτ
    /// (death between the last purchase and T).
    fn ln_dropout_term(&self, c: &Rfm) -> f64 {
        self.ln_dropout_between(c.x, c.t_x, c.t)
    }

    /// ln ∫ₐᵇ αʳ f(τ)/(α+τ)^(r+x) dτ, b = ∞ allowed, by tanh–sinh. With
    /// v = ((α+a)/(α+τ))^(r+x) the steep power becomes the variable: the integral is
    /// αʳ(α+a)^−(r+x)/(r+x) · ∫ f(τ(v))(α+τ(v)) dv over [v(b), 1], an integrand that varies
    /// slowly even for a customer with hundreds of purchases (and tends to 0 as v → 0).
    fn ln_dropout_between(&self, x: f64, a: f64, b: f64) -> f64 {
        if b <= a {
            return f64::NEG_INFINITY;
        }
        let k = self.r + x;
        let base = self.alpha + a;
        let v_b = (-k * ((b - a) / base).ln_1p()).exp();
        let h = |v: f64| {
            let tau = (base * (-v.ln() / k).exp() - self.alpha).clamp(a, b);
            self.ln_density(tau) + (self.alpha + tau).ln()
        };
        self.ln_rate_term(x, a) - k.ln() + ln_integral(h, v_b, 1.0)
    }

    /// ln ∫ₐᵇ αʳ f(τ)/(α+τ)^(r+x) dτ over a finite range by Gauss–Legendre on the pieces of
    /// [`GammaGompertzNbd::nodes`].
    fn ln_dropout_piecewise(&self, x: f64, a: f64, b: f64) -> f64 {
        let g = |tau: f64| self.ln_rate_term(x, tau) + self.ln_density(tau);
        let Some(nodes) = self.nodes(a, b, self.r + x, 0.0, g) else { return f64::NAN };
        let mut sum = LogSum::new(f64::NEG_INFINITY);
        nodes.into_iter().for_each(|(_, term)| sum.add(term));
        sum.value()
    }

    /// Gauss–Legendre nodes τᵢ on [a, b], each with ln(wᵢ·e^g(τᵢ)) — its term of the integral of
    /// e^g — for an integrand e^g(τ) = f(τ)·(α+τ)^(−k)·τⁿ
    /// (n ≤ `n_max`; `g` without the τⁿ): 10 points on each piece of a split that halves a
    /// piece while the log of the integrand moves by more than [`PIECE_VARIATION`] on it (its
    /// parts are monotone, so their end-to-end changes bound it) or it is wider than half its
    /// distance to the nearest singularity (a 10-point rule then errs by ~(4 + √15)^−20 ≈
    /// 10⁻¹⁸): accurate however sharply the lifetime density peaks (large b with small β puts
    /// it all just after τ = 0, next to a pole at ln(1 − β)/b). Pieces are visited left to right
    /// and dropped when even their upper bound (g at the left end plus the rise of the
    /// increasing parts) adds less than e⁻⁴⁰ of the sum so far. `None` past [`MAX_PIECES`]:
    /// an integrand this rough is not evaluated, rather than guessed.
    fn nodes(&self, a: f64, b: f64, k: f64, n_max: f64, g: impl Fn(f64) -> f64) -> Option<Vec<(f64, f64)>> {
        let mut out = Vec::new();
        let mut sum = LogSum::new(f64::NEG_INFINITY);
        let mut todo = vec![(a, b, self.ln_gompertz_base(a), self.ln_gompertz_base(b), 0u32)];
        while let Some((lo, hi, l_lo, l_hi, depth)) = todo.pop() {
            let power = if lo > 0.0 { n_max * (hi / lo).ln() } else { 0.0 };
            let rise = self.b * (hi - lo) + power;
            if g(lo) + rise + (hi - lo).ln() < sum.value() - NEGLIGIBLE {
                continue;
            }
            let variation = k * ((hi - lo) / (self.alpha + lo)).ln_1p() + (self.s + 1.0) * (l_hi - l_lo) + rise;
            let too_wide = hi - lo > 0.5 * self.singularity_distance(lo);
            if (variation > PIECE_VARIATION || too_wide) && depth < MAX_DEPTH {
                let mid = 0.5 * (lo + hi);
                let l_mid = self.ln_gompertz_base(mid);
                todo.push((mid, hi, l_mid, l_hi, depth + 1));
                todo.push((lo, mid, l_lo, l_mid, depth + 1));
                continue;
            }
            if out.len() >= 10 * MAX_PIECES {
                return None;
            }
            let half = 0.5 * (hi - lo);
            for &(node, w) in gauss_legendre_10() {
                let tau = lo + half * (node + 1.0);
                let term = g(tau) + (half * w).ln();
                sum.add(term);
                out.push((tau, term));
            }
        }
        Some(out)
    }

    /// ∫₀ᵗ NB(n; r, α, τ) f(τ) dτ added to `pmf[n]` for each n, one tanh–sinh integral per count:
    /// slower than the shared split of [`GammaGompertzNbd::nodes`], used when that split gives up.
    fn add_death_pmf_by_quadrature(&self, t: f64, pmf: &mut [f64]) {
        let ln_nb = |n: f64, tau: f64| {
            let ln_q = if tau > 0.0 { (tau / (self.alpha + tau)).ln() } else { f64::NEG_INFINITY };
            let ln_choose = ln_gamma_ratio(self.r, n) - statrs::function::gamma::ln_gamma(n + 1.0);
            ln_choose - self.r * (tau / self.alpha).ln_1p() + if n > 0.0 { n * ln_q } else { 0.0 }
        };
        for (n, slot) in pmf.iter_mut().enumerate() {
            let n = n as f64;
            *slot += ln_integral(|tau| ln_nb(n, tau) + self.ln_density(tau), 0.0, t).exp();
        }
    }

    /// Distance from τ to the nearest complex singularity of the integrand: the pole of the rate
    /// term at −α, and the zeros of β − 1 + e^(bτ) (real at ln(1 − β)/b when β < 1, else π/b off
    /// the real axis).
    fn singularity_distance(&self, tau: f64) -> f64 {
        let gompertz = if self.beta < 1.0 {
            tau - (-self.beta).ln_1p() / self.b
        } else if self.beta > 1.0 {
            (tau - (self.beta - 1.0).ln() / self.b).hypot(std::f64::consts::PI / self.b)
        } else {
            f64::INFINITY
        };
        gompertz.min(self.alpha + tau)
    }

    /// Alive at T: λ ~ Gamma(r+x, α+T), and the remaining lifetime is again Gamma–Gompertz with
    /// η·e^(bT) ~ Gamma(s, β e^(−bT) + 1 − e^(−bT)).
    fn alive_posterior(&self, c: &Rfm) -> GammaGompertzNbd {
        let e = (-self.b * c.t).exp();
        let beta = self.beta * e - (-self.b * c.t).exp_m1();
        GammaGompertzNbd { r: self.r + c.x, alpha: self.alpha + c.t, b: self.b, s: self.s, beta }
    }

    /// ∫₀ᵗ S(τ) dτ: the expected time alive within t of the first purchase.
    fn expected_time_alive(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        ln_integral(|tau| self.ln_survival(tau), 0.0, t).exp()
    }
}

/// Most the log of the integrand may change over one Gauss–Legendre piece.
const PIECE_VARIATION: f64 = 2.0;
/// Pieces of one range at most (10 nodes each).
const MAX_PIECES: usize = 20_000;
/// A piece whose integrand is below e⁻⁴⁰ of the sum so far is left out.
const NEGLIGIBLE: f64 = 40.0;
/// Halvings of a range at most (a piece 2⁻⁴⁰ of it wide): where the log-integrand still moves
/// by more than [`PIECE_VARIATION`] there, it is a jump no double-precision sum resolves anyway.
const MAX_DEPTH: u32 = 40;

/// The data's distinct x and, per x, its distinct times (every t_x and T), found once per fit:
/// the cache of the Gamma–Gompertz/NBD likelihood sum.
#[derive(Debug, Default)]
pub struct TimeIndex {
    /// Per distinct x: x and its distinct times, ascending.
    groups: Vec<(f64, Vec<f64>)>,
    /// Per row: its group and the positions of t_x and T in the group's times.
    rows: Vec<(u32, u32, u32)>,
}

impl TimeIndex {
    fn new(data: &Weighted<Rfm>) -> TimeIndex {
        let mut by_x: FxHashMap<u64, Vec<f64>> = FxHashMap::default();
        for c in &data.rows {
            let times = by_x.entry(c.x.to_bits()).or_default();
            times.extend([c.t_x, c.t]);
        }
        let mut groups: Vec<(f64, Vec<f64>)> = by_x
            .into_iter()
            .map(|(x, mut times)| {
                times.sort_by(f64::total_cmp);
                times.dedup();
                (f64::from_bits(x), times)
            })
            .collect();
        groups.sort_by(|a, b| a.0.total_cmp(&b.0));
        let group_of: FxHashMap<u64, u32> = groups.iter().enumerate().map(|(i, g)| (g.0.to_bits(), i as u32)).collect();
        let rows = data
            .rows
            .iter()
            .map(|c| {
                let g = group_of[&c.x.to_bits()];
                let times = &groups[g as usize].1;
                let at = |t: f64| times.partition_point(|v| *v < t) as u32;
                (g, at(c.t_x), at(c.t))
            })
            .collect();
        TimeIndex { groups, rows }
    }
}

impl GammaGompertzNbd {
    /// ln J(tᵢ) for each of `times` (ascending): J(t) = ∫ from t to ∞ of αʳ f(τ)/(α+τ)^(r+x) dτ.
    fn ln_tails(&self, x: f64, times: &[f64]) -> Vec<f64> {
        let mut out = vec![f64::NEG_INFINITY; times.len()];
        let Some(&last) = times.last() else { return out };
        let mut acc = self.ln_dropout_between(x, last, f64::INFINITY);
        out[times.len() - 1] = acc;
        for i in (0..times.len() - 1).rev() {
            acc = log_add_exp(acc, self.ln_dropout_piecewise(x, times[i], times[i + 1]));
            out[i] = acc;
        }
        out
    }
}

/// Words for the limit b, β → 0 with β/b fixed.
fn exponential_lifetimes(p: &[f64]) -> String {
    format!(
        "lifetimes do not age: b and beta shrink together, so the risk of leaving stays constant and the model is Pareto/NBD (dropout rates gamma with shape s = {:.4} and rate beta/b = {:.4})",
        p[3],
        p[4] / p[2]
    )
}

/// Words for the limit s, β → ∞ with s/β fixed.
fn same_lifetime_law(p: &[f64]) -> String {
    format!(
        "the customers' lifetimes follow one law: s and beta grow together without bound, so everyone has the same Gompertz lifetime (eta = {:.6}, b = {:.6})",
        p[3] / p[4],
        p[2]
    )
}

impl Likelihood for GammaGompertzNbd {
    type Row = Rfm;
    const ID: super::ModelId = super::ModelId::Ggomnbd;
    type Cache = TimeIndex;
    const PARAMS: &'static [&'static str] = &["r", "alpha", "b", "s", "beta"];

    fn from_params(p: &[f64]) -> Result<Self, ModelError> {
        GammaGompertzNbd::new(p[0], p[1], p[2], p[3], p[4])
    }

    fn params(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.b, self.s, self.beta]
    }

    /// Bemmaor & Glady (2012) eq. 9, in log space: Γ(r+x)/Γ(r) · [alive term + dropout term].
    fn ln_likelihood(&self, c: &Rfm) -> f64 {
        let head = ln_gamma_ratio(self.r, c.x);
        finite_or(head + log_add_exp(self.ln_alive_term(c), self.ln_dropout_term(c)), f64::NEG_INFINITY)
    }

    fn prepare(data: &Weighted<Rfm>) -> TimeIndex {
        TimeIndex::new(data)
    }

    /// The sum with each customer's dropout term as J(t_x) − J(T), J(t) = ∫ from t to ∞ of the
    /// integrand: per distinct x, J is accumulated from the right over that x's distinct times
    /// (Gauss–Legendre between neighbours, one tanh–sinh tail), ~40× fewer integrand evaluations
    /// than a quadrature per customer. No cancellation harms ln L: the error of the difference is
    /// ε·J(t_x) ≤ ε·L, as J(T) is at most the alive term. [`Likelihood::ln_likelihood`] (one
    /// adaptive quadrature per row) is the independent check the fit runs at its end.
    fn ln_likelihood_sum(&self, data: &Weighted<Rfm>, index: &TimeIndex) -> Option<f64> {
        if index.rows.len() != data.rows.len() {
            return None;
        }
        let ln_j: Vec<Vec<f64>> = index.groups.par_iter().map(|(x, times)| self.ln_tails(*x, times)).collect();
        let (sum, _) = super::chunked_sum::<Rfm, 0>(data, |rows, weights, first| {
            let mut sum = 0.0;
            for ((c, w), &(g, i_tx, i_t)) in rows.iter().zip(weights).zip(&index.rows[first..]) {
                let j = &ln_j[g as usize];
                let (j_tx, j_t) = (j[i_tx as usize], j[i_t as usize]);
                let dropout = if c.t > c.t_x { j_tx + ln_one_minus_exp(j_t - j_tx) } else { f64::NEG_INFINITY };
                let ll = ln_gamma_ratio(self.r, c.x) + log_add_exp(self.ln_alive_term(c), dropout);
                sum += w * finite_or(ll, f64::NEG_INFINITY);
            }
            (sum, [])
        });
        Some(sum)
    }

    /// CLVTools' default start, a Pareto/NBD-like one and one with strong ageing.
    fn starts() -> Vec<Vec<f64>> {
        vec![vec![0.5, 2.0, 0.1, 1.0, 0.1], vec![0.5, 10.0, 0.01, 0.5, 0.1], vec![1.0, 1.0, 0.5, 0.5, 0.5]]
    }

    fn check_row(c: &Rfm) -> Result<(), String> {
        check_rfm(c)
    }

    fn minimum_data(data: &super::Weighted<Rfm>) -> Result<(), String> {
        super::validity::count_minimum("Gamma–Gompertz/NBD", data)
    }

    fn ln_likelihood_bound(c: &Rfm) -> f64 {
        super::validity::count_row_bound(c)
    }

    fn limits() -> Vec<Limit> {
        vec![
            Limit {
                direction: &[1.0, 1.0, 0.0, 0.0, 0.0],
                describe: super::validity::same_rate,
                fixed: Some(Fixed { name: "r/alpha", value: |p| p[0] / p[1] }),
            },
            Limit {
                direction: &[0.0, 0.0, -1.0, 0.0, -1.0],
                describe: exponential_lifetimes,
                fixed: Some(Fixed { name: "beta/b", value: |p| p[4] / p[2] }),
            },
            Limit {
                direction: &[0.0, 0.0, 0.0, 1.0, 1.0],
                describe: same_lifetime_law,
                fixed: Some(Fixed { name: "s/beta", value: |p| p[3] / p[4] }),
            },
            Limit { direction: &[0.0, 0.0, 0.0, -1.0, 0.0], describe: super::bgnbd::no_dropout, fixed: None },
            Limit { direction: &[0.0, 0.0, 0.0, 0.0, 1.0], describe: super::bgnbd::no_dropout, fixed: None },
            Limit { direction: &[0.0, 0.0, -1.0, 0.0, 0.0], describe: super::bgnbd::no_dropout, fixed: None },
        ]
    }
}

impl CountModel for GammaGompertzNbd {
    fn name(&self) -> &'static str {
        "Gamma–Gompertz/NBD"
    }

    /// Bemmaor & Glady (2012) eq. 11: the alive term over the likelihood.
    fn p_alive(&self, c: &Rfm) -> f64 {
        let alive = self.ln_alive_term(c);
        finite_or((alive - log_add_exp(alive, self.ln_dropout_term(c))).exp().min(1.0), 0.0)
    }

    fn expected_if_alive(&self, c: &Rfm, t: f64) -> f64 {
        self.alive_posterior(c).expected_unconditional(t)
    }

    fn pmf_if_alive(&self, c: &Rfm, t: f64, n_max: usize) -> Vec<f64> {
        self.alive_posterior(c).unconditional_pmf(t, n_max)
    }

    /// E[X(t)] = E[λ]·E[min(lifetime, t)] = (r/α) ∫₀ᵗ S(τ) dτ (λ and the lifetime are independent).
    fn expected_unconditional(&self, t: f64) -> f64 {
        finite_or(self.r / self.alpha * self.expected_time_alive(t), 0.0)
    }

    /// P(X(t) = n) = NB(n; r, α, t)·S(t) + ∫₀ᵗ NB(n; r, α, τ) f(τ) dτ: alive throughout, or
    /// purchases as a negative binomial up to the death time τ. The integral by Gauss–Legendre
    /// on the split of [`GammaGompertzNbd::nodes`], its weights scaled to the exact mass of
    /// death before t, 1 − S(t), so the pmf sums to 1.
    fn unconditional_pmf(&self, t: f64, n_max: usize) -> Vec<f64> {
        let mut pmf = vec![0.0; n_max + 1];
        let ln_s_t = self.ln_survival(t);
        add_nbd_pmf(self.r, self.alpha, t, &mut pmf, ln_s_t.exp());
        if t > 0.0 {
            let density = |tau: f64| self.ln_density(tau);
            match self.nodes(0.0, t, self.r + n_max as f64, n_max as f64, density) {
                Some(nodes) => {
                    let nodes: Vec<(f64, f64)> = nodes.into_iter().map(|(tau, term)| (tau, term.exp())).collect();
                    let mass: f64 = nodes.iter().map(|&(_, w)| w).sum();
                    let scale = if mass > 0.0 { -ln_s_t.exp_m1() / mass } else { 0.0 };
                    for (tau, w) in nodes {
                        add_nbd_pmf(self.r, self.alpha, tau, &mut pmf, w * scale);
                    }
                }
                // Too rough for the shared split: each count's integral on its own, by tanh–sinh.
                None => self.add_death_pmf_by_quadrature(t, &mut pmf),
            }
        }
        pmf.iter().map(|p| finite_or(*p, 0.0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ParetoNbd;

    fn aging() -> GammaGompertzNbd {
        GammaGompertzNbd::new(0.55, 10.6, 0.05, 0.6, 2.0).unwrap()
    }

    #[test]
    fn pmf_sums_to_one_and_matches_the_expectation() {
        for m in [aging(), GammaGompertzNbd::new(0.55, 10.6, 1e-6, 0.6, 1.2e-5).unwrap()] {
            for t in [1.0, 39.0, 78.0] {
                let pmf = m.unconditional_pmf(t, 400);
                let total: f64 = pmf.iter().sum();
                assert!((total - 1.0).abs() < 1e-9, "t={t}: {total}");
                let mean: f64 = pmf.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
                let want = m.expected_unconditional(t);
                assert!((mean - want).abs() < 1e-7 * want.max(1.0), "t={t}: {mean} vs {want}");
            }
        }
    }

    /// The fallback for integrands too rough for the shared split (one tanh–sinh integral per
    /// count) is the same distribution: checked where both run.
    #[test]
    fn the_per_count_fallback_equals_the_shared_split() {
        for m in [aging(), GammaGompertzNbd::new(1.2, 4.0, 0.3, 3.0, 50.0).unwrap()] {
            for t in [1.0, 39.0] {
                let pmf = m.unconditional_pmf(t, 60);
                let mut fallback = vec![0.0; 61];
                add_nbd_pmf(m.r, m.alpha, t, &mut fallback, m.ln_survival(t).exp());
                m.add_death_pmf_by_quadrature(t, &mut fallback);
                for (n, (a, b)) in pmf.iter().zip(&fallback).enumerate() {
                    assert!((a - b).abs() < 1e-9 * a.max(1e-12) + 1e-15, "t={t} n={n}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn tends_to_pareto_nbd_as_b_and_beta_shrink_together() {
        // b → 0 with beta/b = 11.67: Pareto/NBD with s = 0.606, beta = 11.67.
        let p = ParetoNbd::new(0.553, 10.58, 0.606, 11.67).unwrap();
        let g = GammaGompertzNbd::new(0.553, 10.58, 1e-9, 0.606, 11.67e-9).unwrap();
        for c in [Rfm::new(0.0, 0.0, 38.86), Rfm::new(2.0, 30.43, 38.86), Rfm::new(25.0, 37.0, 38.0)] {
            let (lp, lg) = (p.ln_likelihood(&c), g.ln_likelihood(&c));
            assert!((lp - lg).abs() < 1e-7 * lp.abs().max(1.0), "{c:?}: {lp} vs {lg}");
            assert!((p.p_alive(&c) - g.p_alive(&c)).abs() < 1e-7, "{c:?}");
            let (ep, eg) = (p.expected_purchases(&c, 39.0), g.expected_purchases(&c, 39.0));
            assert!((ep - eg).abs() < 1e-7 * ep.max(1.0), "{c:?}: {ep} vs {eg}");
        }
    }

    #[test]
    fn a_customer_with_no_time_after_the_last_purchase_is_alive() {
        let c = Rfm::new(3.0, 20.0, 20.0);
        assert_eq!(aging().p_alive(&c), 1.0);
        assert!(aging().ln_likelihood(&c).is_finite());
    }

    #[test]
    fn the_shared_sum_equals_the_row_by_row_quadrature() {
        let rows =
            [(0.0, 0.0, 38.86), (2.0, 30.43, 38.86), (2.0, 12.0, 38.86), (2.0, 30.43, 20.0), (7.0, 29.43, 38.86)];
        let mut data: Vec<Rfm> = rows.iter().map(|&(x, tx, t)| Rfm::new(x, tx, t)).collect();
        data.extend([Rfm::new(50.0, 20.0, 78.0), Rfm::new(25.0, 37.0, 38.0), Rfm::new(1.0, 0.5, 0.7)]);
        let data = Weighted::from_rows(data);
        let index = TimeIndex::new(&data);
        for m in [
            aging(),
            GammaGompertzNbd::new(0.553, 10.58, 1e-9, 0.606, 11.67e-9).unwrap(),
            GammaGompertzNbd::new(1.2, 4.0, 0.3, 3.0, 50.0).unwrap(),
            GammaGompertzNbd::new(0.2, 0.5, 2.0, 0.1, 1e-3).unwrap(),
        ] {
            for (c, _) in data.iter() {
                let one = Weighted::from_rows([*c]);
                let fast = m.ln_likelihood_sum(&one, &TimeIndex::new(&one)).unwrap();
                let slow = m.ln_likelihood(c);
                assert!((fast - slow).abs() < 1e-10 * slow.abs().max(1.0), "{m:?} {c:?}: {fast} vs {slow}");
            }
            let fast = m.ln_likelihood_sum(&data, &index).unwrap();
            let slow: f64 = data.iter().map(|(c, w)| w * m.ln_likelihood(c)).sum();
            assert!((fast - slow).abs() < 1e-10 * slow.abs(), "{m:?}: {fast} vs {slow}");
        }
    }

    #[test]
    fn p_alive_falls_as_the_silence_grows() {
        let m = aging();
        let mut last = 1.0;
        for t in [6.0, 10.0, 20.0, 39.0, 78.0] {
            let p = m.p_alive(&Rfm::new(2.0, 5.0, t));
            assert!(p < last && p > 0.0, "T={t}: {p} after {last}");
            last = p;
        }
    }
}
