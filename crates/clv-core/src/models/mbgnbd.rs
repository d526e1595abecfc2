//! MBG/NBD: Batislam, Denizel & Filiztekin (2007), "Empirical validation and
//! comparison of models for customer base analysis", IJRM 24(3). As BG/NBD,
//! but a customer may also drop out right after the first purchase, so a
//! customer with no repeat purchase is not certainly alive. Likelihood and
//! predictions as in `lifetimes`' `ModifiedBetaGeoFitter` and BTYDplus.

use super::bgnbd::check_rfm;
use super::special::{digamma, ln_beta, ln_gamma};
use super::{alive_mixture, finite_or, positive, BgNbd, CountModel, Likelihood, ModelError, Rfm};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MbgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl MbgNbd {
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<MbgNbd, ModelError> {
        Ok(MbgNbd {
            r: positive("r", r)?,
            alpha: positive("alpha", alpha)?,
            a: positive("a", a)?,
            b: positive("b", b)?,
        })
    }

    /// Alive at T: λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x+1), and from then on
    /// dropout follows purchases — a BG/NBD process.
    fn alive_posterior(&self, c: &Rfm) -> BgNbd {
        BgNbd { r: self.r + c.x, alpha: self.alpha + c.t, a: self.a, b: self.b + c.x + 1.0 }
    }
}

impl Likelihood for MbgNbd {
    type Row = Rfm;
    const NAME: &'static str = "mbgnbd";
    const PARAMS: &'static [&'static str] = &["r", "alpha", "a", "b"];

    fn from_params(p: &[f64]) -> Result<Self, ModelError> {
        MbgNbd::new(p[0], p[1], p[2], p[3])
    }

    fn params(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    fn ln_likelihood(&self, c: &Rfm) -> f64 {
        let MbgNbd { r, alpha, a, b } = *self;
        let x = c.x;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_beta(a, b + x + 1.0) - ln_beta(a, b);
        let a3 = -(r + x) * (alpha + c.t).ln();
        let a4 = a.ln() - (b + x).ln() + (r + x) * ((alpha + c.t).ln() - (alpha + c.t_x).ln());
        finite_or(a1 + a2 + a3 + a4.exp().ln_1p().max(a4), f64::NEG_INFINITY)
    }

    fn starts() -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0, 1.0, 1.0], vec![0.5, 6.0, 0.9, 1.6], vec![0.1, 1.0, 2.0, 10.0]]
    }

    fn check_row(c: &Rfm) -> Result<(), String> {
        check_rfm(c)
    }

    fn sort_key(c: &Rfm) -> f64 {
        c.x
    }

    /// The likelihood above written as a1 + a2 + ln(e^A₃ + e^A₄) with
    /// A₃ = −(r+x) ln(α+T), A₄ = ln a − ln(b+x) − (r+x) ln(α+t_x), and
    /// a2 = ln Γ(b+x+1) − ln Γ(a+b+x+1) − ln Γ(b) + ln Γ(a+b); derivatives
    /// with digamma ψ, the x-only terms once per run of equal x in each chunk.
    fn ln_likelihood_and_gradient(&self, data: &super::Weighted<Rfm>) -> Option<(f64, Vec<f64>)> {
        let MbgNbd { r, alpha, a, b } = *self;
        let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
        let (lg_r, dg_r, lg_b, dg_b) = (ln_gamma(r), digamma(r), ln_gamma(b), digamma(b));
        let (lg_ab, dg_ab) = (ln_gamma(a + b), digamma(a + b));
        let (ll, g) = super::chunked_sum(data, |rows, weights, _| {
            let mut last_x = f64::NAN;
            // ln Γ and ψ at r+x, b+x+1, a+b+x+1, and ln(b+x)
            let mut xt = [0.0f64; 7];
            let (mut ll, mut g) = (0.0, [0.0f64; 4]);
            for (c, w) in rows.iter().zip(weights) {
                let x = c.x;
                if x != last_x {
                    last_x = x;
                    xt = [
                        ln_gamma(r + x),
                        digamma(r + x),
                        ln_gamma(b + x + 1.0),
                        digamma(b + x + 1.0),
                        ln_gamma(a + b + x + 1.0),
                        digamma(a + b + x + 1.0),
                        (b + x).ln(),
                    ];
                }
                let [lg_rx, dg_rx, lg_bx1, dg_bx1, lg_abx1, dg_abx1, ln_bx] = xt;
                let (l_t, l_tx) = ((alpha + c.t).ln(), (alpha + c.t_x).ln());
                let (a3, a4) = (-(r + x) * l_t, ln_a - ln_bx - (r + x) * l_tx);
                let m = a3.max(a4);
                let (e3, e4) = ((a3 - m).exp(), (a4 - m).exp());
                let (lse, w4) = (m + (e3 + e4).ln(), e4 / (e3 + e4));
                let w3 = 1.0 - w4;
                ll += w * (lg_rx - lg_r + r * ln_alpha + lg_bx1 - lg_abx1 - lg_b + lg_ab + lse);
                g[0] += w * (dg_rx - dg_r + ln_alpha - w3 * l_t - w4 * l_tx);
                g[1] += w * (r / alpha - w3 * (r + x) / (alpha + c.t) - w4 * (r + x) / (alpha + c.t_x));
                g[2] += w * (dg_ab - dg_abx1 + w4 / a);
                g[3] += w * (dg_bx1 - dg_abx1 - dg_b + dg_ab - w4 / (b + x));
            }
            (ll, g)
        });
        (ll.is_finite() && g.iter().all(|v| v.is_finite())).then(|| (ll, g.to_vec()))
    }
}

impl CountModel for MbgNbd {
    fn name(&self) -> &'static str {
        "MBG/NBD"
    }

    fn p_alive(&self, c: &Rfm) -> f64 {
        let ln_ratio =
            self.a.ln() - (self.b + c.x).ln() + (self.r + c.x) * ((self.alpha + c.t).ln() - (self.alpha + c.t_x).ln());
        finite_or(1.0 / (1.0 + ln_ratio.exp()), 0.0)
    }

    fn expected_if_alive(&self, c: &Rfm, t: f64) -> f64 {
        self.alive_posterior(c).expected_unconditional(t)
    }

    fn pmf_if_alive(&self, c: &Rfm, t: f64, n_max: usize) -> Vec<f64> {
        self.alive_posterior(c).unconditional_pmf(t, n_max)
    }

    /// A new customer survives the first purchase with probability b/(a+b);
    /// then λ ~ Gamma(r, α), p ~ Beta(a, b+1): E[X(t)] = b/(a−1)[1 − (α/(α+t))ʳ ₂F₁(r, b+1; a+b; t/(α+t))].
    fn expected_unconditional(&self, t: f64) -> f64 {
        let survivor = BgNbd { r: self.r, alpha: self.alpha, a: self.a, b: self.b + 1.0 };
        self.b / (self.a + self.b) * survivor.expected_unconditional(t)
    }

    fn unconditional_pmf(&self, t: f64, n_max: usize) -> Vec<f64> {
        let survivor = BgNbd { r: self.r, alpha: self.alpha, a: self.a, b: self.b + 1.0 };
        alive_mixture(self.b / (self.a + self.b), survivor.unconditional_pmf(t, n_max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_buyers_are_not_certainly_alive() {
        let m = MbgNbd::new(0.525, 6.183, 0.891, 1.614).unwrap();
        let pa = m.p_alive(&Rfm::new(0.0, 0.0, 38.86));
        assert!(pa < 1.0 && pa > 0.3, "{pa}");
        let pmf = m.unconditional_pmf(39.0, 400);
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let mean: f64 = pmf.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert!((mean - m.expected_unconditional(39.0)).abs() < 1e-6);
    }

    #[test]
    fn closed_form_gradient_matches_finite_differences() {
        let rows = [
            Rfm::new(0.0, 0.0, 38.86),
            Rfm::new(1.0, 1.71, 38.86),
            Rfm::new(2.0, 30.43, 38.86),
            Rfm::new(7.0, 29.43, 30.0),
        ];
        let data = super::super::Weighted::from_weighted(rows.iter().map(|r| (*r, 1.0 + r.x)));
        super::super::assert_closed_form_gradient(&MbgNbd::new(0.4, 3.0, 1.3, 2.2).unwrap(), &data);
    }
}
