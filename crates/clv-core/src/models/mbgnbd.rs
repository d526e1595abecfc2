//! MBG/NBD: Batislam, Denizel & Filiztekin (2007), "Empirical validation and
//! comparison of models for customer base analysis", IJRM 24(3). As BG/NBD,
//! but a customer may also drop out right after the first purchase, so a
//! customer with no repeat purchase is not certainly alive. Likelihood and
//! predictions as in `lifetimes`' `ModifiedBetaGeoFitter` and BTYDplus.

use super::bgnbd::check_rfm;
use super::{alive_mixture, finite_or, positive, BgNbd, CountModel, Likelihood, ModelError, Rfm};
use serde::Serialize;

/// An MBG/NBD model (Batislam, Denizel & Filiztekin 2007): BG/NBD's parameters with the same roles —
/// `r`, `alpha` the gamma shape and rate of purchase rates λ (α in the fit's time unit), `a`, `b` the
/// beta distribution of the dropout probability p — but a customer may also drop out right after the
/// first purchase, not only after repeat ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MbgNbd {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl MbgNbd {
    /// The model from r, α, a, b; each must be a positive finite number, else
    /// [`ModelError::InvalidParameter`].
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
    const ID: super::ModelId = super::ModelId::Mbgnbd;
    type Cache = ();
    const PARAMS: &'static [&'static str] = &["r", "alpha", "a", "b"];

    fn from_params(p: &[f64]) -> Result<Self, ModelError> {
        MbgNbd::new(p[0], p[1], p[2], p[3])
    }

    fn params(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    /// Batislam et al. (2007) eq. 3, in the stable form of `bgnbd::family_ll_grad`.
    fn ln_likelihood(&self, c: &Rfm) -> f64 {
        super::bgnbd::family_row_ll([self.r, self.alpha, self.a, self.b], 1.0, c)
    }

    fn starts() -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0, 1.0, 1.0], vec![0.5, 6.0, 0.9, 1.6], vec![0.1, 1.0, 2.0, 10.0]]
    }

    fn check_row(c: &Rfm) -> Result<(), String> {
        check_rfm(c)
    }

    fn minimum_data(data: &super::Weighted<Rfm>) -> Result<(), String> {
        super::validity::count_minimum("MBG/NBD", data)
    }

    fn ln_likelihood_bound(c: &Rfm) -> f64 {
        super::validity::count_row_bound(c)
    }

    fn limits() -> Vec<super::validity::Limit> {
        super::validity::rate_and_dropout_limits(
            super::bgnbd::same_dropout_probability,
            super::bgnbd::COMMON_DROPOUT,
            super::bgnbd::no_dropout,
        )
        .into()
    }

    fn sort_key(c: &Rfm) -> f64 {
        c.x
    }

    /// See `bgnbd::family_ll_grad`: MBG/NBD is its `shift` 1 case.
    fn ln_likelihood_and_gradient(&self, data: &super::Weighted<Rfm>, _: &()) -> Option<(f64, Vec<f64>)> {
        super::bgnbd::family_ll_grad([self.r, self.alpha, self.a, self.b], 1.0, data)
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
}
