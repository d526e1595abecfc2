//! BG/BB for discrete-time data: Fader, Hardie & Shang (2010), "Customer-base
//! analysis in a discrete-time noncontractual setting", Marketing Science
//! 29(6). Each period a living customer transacts with probability
//! p ~ Beta(α, β) and, at the start of each period, dies with probability
//! θ ~ Beta(γ, δ). Rows are (x, t_x, n): transactions, last period with a
//! transaction, number of periods ([`Rfm`] with `t` = n).

use super::special::{ln_beta_ratio, ln_gamma_ratio, LogSum};
use super::{finite_or, positive, CountModel, Likelihood, ModelError, Rfm};
use serde::Serialize;

/// A BG/BB model (Fader, Hardie & Shang 2010) for discrete transaction opportunities (periods):
/// `alpha`, `beta` are the beta distribution of the probability p that a living customer transacts in
/// a period; `gamma`, `delta` the beta distribution of the probability θ of dying at the start of a
/// period (mean γ/(γ+δ)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgBb {
    alpha: f64,
    beta: f64,
    gamma: f64,
    delta: f64,
}

impl BgBb {
    /// The model from α, β, γ, δ; each must be a positive finite number, else
    /// [`ModelError::InvalidParameter`].
    pub fn new(alpha: f64, beta: f64, gamma: f64, delta: f64) -> Result<BgBb, ModelError> {
        Ok(BgBb {
            alpha: positive("alpha", alpha)?,
            beta: positive("beta", beta)?,
            gamma: positive("gamma", gamma)?,
            delta: positive("delta", delta)?,
        })
    }

    /// ln B(α+x, β+n−x) − ln B(α, β): x transactions in n periods alive,
    /// from stable ln Γ differences (exact as α, β → ∞ together, where the
    /// plain difference of ln B values returned ln L = +20.6).
    fn ln_purchases(&self, x: f64, n: f64) -> f64 {
        ln_gamma_ratio(self.alpha, x) + ln_gamma_ratio(self.beta, n - x) - ln_gamma_ratio(self.alpha + self.beta, n)
    }

    /// ln P(data, alive through period n).
    fn ln_alive_term(&self, c: &Rfm) -> f64 {
        self.ln_purchases(c.x, c.t) + ln_beta_ratio(self.gamma, self.delta, c.t)
    }

    /// P(alive at the start of the next period | x, t_x, n): alive after period
    /// n *and* surviving its end, P(alive) · E[1 − θ | alive] = P(alive) ·
    /// (δ + n)/(γ + δ + n) — what BTYD's `bgbb.PAlive` reports, beside
    /// [`CountModel::p_alive`] (alive at the end of the last observed period).
    pub fn p_alive_next(&self, c: &Rfm) -> f64 {
        self.p_alive(c) * (self.delta + c.t) / (self.gamma + self.delta + c.t)
    }
}

fn no_dropout(_: &[f64]) -> String {
    "nobody appears to drop out: gamma runs to 0 or delta without bound, so the model reduces to the beta-binomial (customers transact at their own probability and never leave)".into()
}

impl Likelihood for BgBb {
    type Row = Rfm;
    const ID: super::ModelId = super::ModelId::Bgbb;
    type Cache = ();
    const PARAMS: &'static [&'static str] = &["alpha", "beta", "gamma", "delta"];

    fn from_params(p: &[f64]) -> Result<Self, ModelError> {
        BgBb::new(p[0], p[1], p[2], p[3])
    }

    fn params(&self) -> Vec<f64> {
        vec![self.alpha, self.beta, self.gamma, self.delta]
    }

    /// FHS (2010) eq. 5.
    fn ln_likelihood(&self, c: &Rfm) -> f64 {
        let BgBb { alpha, beta, gamma, delta } = *self;
        let (x, tx, n) = (c.x, c.t_x, c.t);
        // Died at the start of period t_x + i + 1, i = 0..n − t_x − 1: B(α+x, β+t_x−x+i)
        // B(γ+1, δ+t_x+i) / (B(α,β) B(γ,δ)); each term from the last by one ln per
        // factor (Γ(z+1) = zΓ(z)), summed as a running log-sum-exp, so a long
        // silence costs no memory.
        let mut died =
            self.ln_purchases(x, tx) + gamma.ln() + ln_gamma_ratio(delta, tx) - ln_gamma_ratio(gamma + delta, tx + 1.0);
        let mut sum = LogSum::new(self.ln_alive_term(c));
        for i in 0..(n - tx) as u64 {
            let i = i as f64;
            if i > 0.0 {
                died += (beta + tx - x + i - 1.0).ln() - (alpha + beta + tx + i - 1.0).ln()
                    + (delta + tx + i - 1.0).ln()
                    - (gamma + delta + tx + i).ln();
            }
            sum.add(died);
        }
        finite_or(sum.value(), f64::NEG_INFINITY)
    }

    fn starts() -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0, 1.0, 1.0], vec![1.2, 0.75, 0.66, 2.8], vec![0.5, 2.0, 2.0, 0.5]]
    }

    fn check_row(c: &Rfm) -> Result<(), String> {
        let whole = |v: f64| v >= 0.0 && v.fract() == 0.0;
        if whole(c.x) && whole(c.t_x) && whole(c.t) && c.x <= c.t_x && c.t_x <= c.t && c.t >= 1.0 {
            Ok(())
        } else {
            Err(format!(
                "BG/BB needs whole numbers with x ≤ t_x ≤ n and n ≥ 1; got x = {}, t_x = {}, n = {}",
                c.x, c.t_x, c.t
            ))
        }
    }

    fn minimum_data(data: &super::Weighted<Rfm>) -> Result<(), String> {
        super::validity::count_minimum("BG/BB", data)
    }

    /// A probability of a discrete outcome: at most 1.
    fn ln_likelihood_bound(_: &Rfm) -> f64 {
        0.0
    }

    fn limits() -> Vec<super::validity::Limit> {
        use super::validity::{Fixed, Limit};
        vec![
            Limit {
                direction: &[1.0, 1.0, 0.0, 0.0],
                describe: |p| {
                    format!("the customers' transaction probabilities do not differ: alpha and beta grow together without bound, so everyone alive transacts in a period with the same probability ({:.4})", p[0] / (p[0] + p[1]))
                },
                fixed: Some(Fixed { name: "alpha/(alpha+beta)", value: |p| p[0] / (p[0] + p[1]) }),
            },
            Limit {
                direction: &[0.0, 0.0, 1.0, 1.0],
                describe: |p| {
                    if p[2] / (p[2] + p[3]) < super::bgnbd::NO_DROPOUT_BELOW {
                        return no_dropout(p);
                    }
                    format!("the customers' dropout probabilities do not differ: gamma and delta grow together without bound, so everyone drops out at the start of a period with the same probability ({:.4})", p[2] / (p[2] + p[3]))
                },
                fixed: Some(Fixed { name: "gamma/(gamma+delta)", value: |p| p[2] / (p[2] + p[3]) }),
            },
            Limit { direction: &[0.0, 0.0, -1.0, 0.0], describe: no_dropout, fixed: None },
            Limit { direction: &[0.0, 0.0, 0.0, 1.0], describe: no_dropout, fixed: None },
        ]
    }
}

impl CountModel for BgBb {
    fn name(&self) -> &'static str {
        "BG/BB"
    }

    /// P(alive at the end of period n | data) (FHS 2010 eq. 11 with m = 0).
    fn p_alive(&self, c: &Rfm) -> f64 {
        finite_or((self.ln_alive_term(c) - self.ln_likelihood(c)).exp().min(1.0), 0.0)
    }

    /// Expected transactions in the next `t` periods given alive (FHS 2010
    /// eq. 13 divided by P(alive)), as the mean of [`CountModel::pmf_if_alive`].
    fn expected_if_alive(&self, c: &Rfm, t: f64) -> f64 {
        let k = t.max(0.0).round() as usize;
        crate::total(self.pmf_if_alive(c, t, k).iter().enumerate().map(|(n, p)| n as f64 * p))
    }

    /// Alive after period n: p ~ Beta(α+x, β+n−x), θ ~ Beta(γ, δ+n). Over the
    /// next t periods the customer survives j period starts (prob.
    /// E[(1−θ)ʲθ], or E[(1−θ)ᵗ] for all t) and buys Binomial(j, p) times.
    fn pmf_if_alive(&self, c: &Rfm, t: f64, n_max: usize) -> Vec<f64> {
        let post =
            BgBb { alpha: self.alpha + c.x, beta: self.beta + c.t - c.x, gamma: self.gamma, delta: self.delta + c.t };
        post.alive_pmf(t.max(0.0).round() as usize, n_max)
    }

    fn expected_unconditional(&self, t: f64) -> f64 {
        let k = t.max(0.0).round() as usize;
        crate::total(self.unconditional_pmf(t, k).iter().enumerate().map(|(n, p)| n as f64 * p))
    }

    /// A new customer over t periods (alive at the start, as in FHS 2010 eq. 7).
    fn unconditional_pmf(&self, t: f64, n_max: usize) -> Vec<f64> {
        self.alive_pmf(t.max(0.0).round() as usize, n_max)
    }
}

impl BgBb {
    /// P(k transactions in the next `periods` | alive now), k = 0..=n_max.
    fn alive_pmf(&self, periods: usize, n_max: usize) -> Vec<f64> {
        let BgBb { gamma, delta, .. } = *self;
        let ln_choose = |j: usize, k: usize| {
            use super::special::ln_gamma;
            ln_gamma(j as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((j - k) as f64 + 1.0)
        };
        let mut pmf = vec![0.0; n_max + 1];
        // Ratios of B values as stable ln Γ differences: at a boundary fit
        // (γ, δ ~ 10⁹) the plain differences made the pmf sum to 1.000001.
        for j in 0..=periods {
            let jf = j as f64;
            // survive j period starts, then die at the next (unless j = periods):
            // B(γ, δ+j)/B(γ, δ), or B(γ+1, δ+j)/B(γ, δ) = γ Γ(δ+j)/Γ(δ) · Γ(γ+δ)/Γ(γ+δ+j+1)
            let ln_w = if j == periods {
                ln_beta_ratio(gamma, delta, jf)
            } else {
                gamma.ln() + ln_gamma_ratio(delta, jf) - ln_gamma_ratio(gamma + delta, jf + 1.0)
            };
            for (k, slot) in pmf.iter_mut().enumerate().take(j.min(n_max) + 1) {
                *slot += (ln_w + ln_choose(j, k) + self.ln_purchases(k as f64, jf)).exp();
            }
        }
        pmf.iter().map(|p| finite_or(*p, 0.0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ln L is the probability of one transaction sequence, so over every
    /// (x, t_x) of n periods, weighted by the sequences each stands for
    /// (C(t_x − 1, x − 1)), it sums to 1 — at parameters from 1e-8 to 1e12,
    /// where the plain ln B differences once gave ln L = +20.6.
    #[test]
    fn sequence_probabilities_sum_to_one_at_extreme_parameters() {
        let choose = |n: u64, k: u64| (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
        let values = [1e-8, 1e-3, 0.7, 40.0, 1e6, 1e12];
        for (i, &alpha) in values.iter().enumerate() {
            for (j, &beta) in values.iter().enumerate() {
                let (gamma, delta) = (values[(i + 2 * j) % 6], values[(3 * i + j + 1) % 6]);
                let m = BgBb::new(alpha, beta, gamma, delta).unwrap();
                let n = 6u64;
                let mut total = (m.ln_likelihood(&Rfm::new(0.0, 0.0, n as f64))).exp();
                for tx in 1..=n {
                    for x in 1..=tx {
                        let l = m.ln_likelihood(&Rfm::new(x as f64, tx as f64, n as f64));
                        assert!(l.is_finite() && l <= 1e-12, "{m:?} x={x} tx={tx}: {l}");
                        total += choose(tx - 1, x - 1) * l.exp();
                    }
                }
                assert!((total - 1.0).abs() < 1e-9, "{m:?}: {total}");
            }
        }
    }

    fn fhs() -> BgBb {
        BgBb::new(1.204, 0.750, 0.657, 2.783).unwrap()
    }

    /// Against numerical integration over p and θ (mpmath, the fixture's script).
    #[test]
    fn p_alive_now_and_next_period_match_an_independent_integration() {
        let m = fhs();
        let text = include_str!("../../../../tests/data/fixtures/bgbb_palive_mpmath.csv");
        let mut rows = 0;
        for line in text.lines().skip(1) {
            let v: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
            let c = Rfm::new(v[0], v[1], v[2]);
            assert!((m.p_alive(&c) - v[3]).abs() < 1e-12, "{line}: {}", m.p_alive(&c));
            assert!((m.p_alive_next(&c) - v[4]).abs() < 1e-12, "{line}: {}", m.p_alive_next(&c));
            rows += 1;
        }
        assert_eq!(rows, 8);
    }

    #[test]
    fn pmf_sums_to_one() {
        let m = fhs();
        let pmf = m.unconditional_pmf(5.0, 5);
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let c = Rfm::new(3.0, 5.0, 6.0);
        let cp = m.purchase_pmf(&c, 5.0, 5);
        assert!((cp.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn likelihood_sums_to_one_over_all_histories() {
        // Σ over every (x, t_x) pattern count for n = 3 of P(x, t_x | n) = 1,
        // where the number of binary histories with (x, t_x) is C(t_x − 1, x − 1).
        let m = fhs();
        let n = 3.0;
        let mut total = m.ln_likelihood(&Rfm::new(0.0, 0.0, n)).exp();
        for tx in 1..=3 {
            for x in 1..=tx {
                let count = [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 2.0, 1.0]][tx - 1][x - 1];
                total += count * m.ln_likelihood(&Rfm::new(x as f64, tx as f64, n)).exp();
            }
        }
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }
}
