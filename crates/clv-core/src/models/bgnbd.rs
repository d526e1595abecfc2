//! BG/NBD: Fader, Hardie & Lee (2005), "'Counting your customers' the easy
//! way: an alternative to the Pareto/NBD model", Marketing Science 24(2),
//! 275–284.
//!
//! While alive a customer buys at rate λ ~ Gamma(r, α); after each *repeat*
//! purchase they drop out with probability p ~ Beta(a, b). A customer with no
//! repeat purchase is therefore alive by construction (P(alive | x = 0) = 1);
//! MBG/NBD and Pareto/NBD do not have that property.

use super::special::{digamma, ln_beta, ln_gamma, ln_hyp2f1, log_add_exp};
use super::{finite_or, positive, CountModel, Likelihood, ModelError, Rfm};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl BgNbd {
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<BgNbd, ModelError> {
        Ok(BgNbd { r: positive("r", r)?, alpha: positive("alpha", alpha)?, a: positive("a", a)?, b: positive("b", b)? })
    }

    /// The posterior process of a customer known to be alive at T: λ ~
    /// Gamma(r + x, α + T), p ~ Beta(a, b + x) — again a BG/NBD (FHL 2005 §5).
    fn alive_posterior(&self, c: &Rfm) -> BgNbd {
        BgNbd { r: self.r + c.x, alpha: self.alpha + c.t, a: self.a, b: self.b + c.x }
    }
}

impl Likelihood for BgNbd {
    type Row = Rfm;
    const NAME: &'static str = "bgnbd";
    const PARAMS: &'static [&'static str] = &["r", "alpha", "a", "b"];

    fn from_params(p: &[f64]) -> Result<Self, ModelError> {
        BgNbd::new(p[0], p[1], p[2], p[3])
    }

    fn params(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    /// FHL (2005) eq. 6.
    fn ln_likelihood(&self, c: &Rfm) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = c.x;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_beta(a, b + x) - ln_beta(a, b);
        let a3 = -(r + x) * (alpha + c.t).ln();
        let tail =
            if x > 0.0 { log_add_exp(a3, a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + c.t_x).ln()) } else { a3 };
        finite_or(a1 + a2 + tail, f64::NEG_INFINITY)
    }

    fn starts() -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0, 1.0, 1.0], vec![0.5, 5.0, 0.8, 2.5], vec![0.1, 1.0, 2.0, 10.0]]
    }

    fn check_row(c: &Rfm) -> Result<(), String> {
        check_rfm(c)
    }

    fn sort_key(c: &Rfm) -> f64 {
        c.x
    }

    /// Eq. 6 and its derivatives: see `family_ll_grad`.
    fn ln_likelihood_and_gradient(&self, data: &super::Weighted<Rfm>) -> Option<(f64, Vec<f64>)> {
        family_ll_grad([self.r, self.alpha, self.a, self.b], 0.0, data)
    }
}

/// Σ w·ln L and its gradient for BG/NBD (`shift` k = 0) and MBG/NBD
/// (k = 1), which share one form (FHL 2005 eq. 6; Batislam et al. 2007):
///
/// ```text
/// ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln Γ(b+x+k) − ln Γ(a+b+x+k)
///        − ln Γ(b) + ln Γ(a+b) + ln(e^A₃ + e^A₄)
/// A₃ = −(r+x) ln(α+T),  A₄ = ln a − ln(b+x+k−1) − (r+x) ln(α+t_x)
/// ```
///
/// where BG/NBD has no A₄ term for x = 0. Derivatives with digamma ψ; the
/// x-only terms once per run of equal x in each chunk (rows arrive sorted by x).
pub(super) fn family_ll_grad(p: [f64; 4], shift: f64, data: &super::Weighted<Rfm>) -> Option<(f64, Vec<f64>)> {
    let [r, alpha, a, b] = p;
    let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
    let (lg_r, dg_r, lg_b, dg_b) = (ln_gamma(r), digamma(r), ln_gamma(b), digamma(b));
    let (lg_ab, dg_ab) = (ln_gamma(a + b), digamma(a + b));
    let (ll, g) = super::chunked_sum(data, |rows, weights, _| {
        let mut last_x = f64::NAN;
        // ln Γ and ψ at r+x, b+x+k, a+b+x+k, and ln(b+x+k−1)
        let mut xt = [0.0f64; 7];
        let (mut ll, mut g) = (0.0, [0.0f64; 4]);
        for (c, w) in rows.iter().zip(weights) {
            let x = c.x;
            let has_a4 = x > 0.0 || shift > 0.0;
            if x != last_x {
                last_x = x;
                let bx = b + x + shift;
                let b1 = if has_a4 { (bx - 1.0).ln() } else { 0.0 };
                let abx = a + bx;
                xt = [ln_gamma(r + x), digamma(r + x), ln_gamma(bx), digamma(bx), ln_gamma(abx), digamma(abx), b1];
            }
            let [lg_rx, dg_rx, lg_bx, dg_bx, lg_abx, dg_abx, ln_bx1] = xt;
            let l_t = (alpha + c.t).ln();
            let a3 = -(r + x) * l_t;
            let (lse, w4, l_tx) = if has_a4 {
                let l_tx = (alpha + c.t_x).ln();
                let a4 = ln_a - ln_bx1 - (r + x) * l_tx;
                let m = a3.max(a4);
                let (e3, e4) = ((a3 - m).exp(), (a4 - m).exp());
                (m + (e3 + e4).ln(), e4 / (e3 + e4), l_tx)
            } else {
                (a3, 0.0, 0.0)
            };
            let w3 = 1.0 - w4;
            ll += w * (lg_rx - lg_r + r * ln_alpha + lg_ab + lg_bx - lg_b - lg_abx + lse);
            g[0] += w * (dg_rx - dg_r + ln_alpha - w3 * l_t - w4 * l_tx);
            g[1] += w
                * (r / alpha
                    - w3 * (r + x) / (alpha + c.t)
                    - if w4 > 0.0 { w4 * (r + x) / (alpha + c.t_x) } else { 0.0 });
            g[2] += w * (dg_ab - dg_abx + w4 / a);
            g[3] += w * (dg_bx - dg_abx - dg_b + dg_ab - if w4 > 0.0 { w4 / (b + x + shift - 1.0) } else { 0.0 });
        }
        (ll, g)
    });
    (ll.is_finite() && g.iter().all(|v| v.is_finite())).then(|| (ll, g.to_vec()))
}

/// Shared validity check of a calibration row.
pub(crate) fn check_rfm(c: &Rfm) -> Result<(), String> {
    if !(c.x >= 0.0 && c.x.fract() == 0.0 && c.t_x >= 0.0 && c.t > 0.0 && c.t_x <= c.t) {
        return Err(format!(
            "a customer has x = {}, t_x = {}, T = {}: need x a whole number ≥ 0 and 0 ≤ t_x ≤ T with T > 0",
            c.x, c.t_x, c.t
        ));
    }
    if c.x == 0.0 && c.t_x != 0.0 {
        return Err(format!("a customer has x = 0 but t_x = {}: with no repeat purchase t_x must be 0", c.t_x));
    }
    Ok(())
}

impl CountModel for BgNbd {
    fn name(&self) -> &'static str {
        "BG/NBD"
    }

    /// FHL (2005) appendix / Fader, Hardie & Lee (2008) note: 1 / (1 + δ a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).
    fn p_alive(&self, c: &Rfm) -> f64 {
        if c.x == 0.0 {
            return 1.0;
        }
        let ln_ratio = self.a.ln() - (self.b + c.x - 1.0).ln()
            + (self.r + c.x) * ((self.alpha + c.t).ln() - (self.alpha + c.t_x).ln());
        finite_or(1.0 / (1.0 + ln_ratio.exp()), 0.0)
    }

    /// FHL (2005) eq. 10: P(alive) × E[X(t)] of the alive posterior.
    fn expected_if_alive(&self, c: &Rfm, t: f64) -> f64 {
        self.alive_posterior(c).expected_unconditional(t)
    }

    fn pmf_if_alive(&self, c: &Rfm, t: f64, n_max: usize) -> Vec<f64> {
        self.alive_posterior(c).unconditional_pmf(t, n_max)
    }

    /// FHL (2005) eq. 9: (a+b−1)/(a−1) [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))].
    fn expected_unconditional(&self, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        if t <= 0.0 {
            return 0.0;
        }
        let z = t / (alpha + t);
        let f = ln_hyp2f1(r, b, a + b - 1.0, z).map(|lf| (r * (alpha / (alpha + t)).ln() + lf).exp());
        match f {
            // (a − 1) → 0 makes both factors blow up; the value stays finite.
            Ok(term) if (a - 1.0).abs() > 1e-9 => finite_or((a + b - 1.0) / (a - 1.0) * (1.0 - term), 0.0),
            _ => finite_or(expected_by_pmf(self, t), 0.0),
        }
    }

    /// FHL (2005) eq. 8.
    fn unconditional_pmf(&self, t: f64, n_max: usize) -> Vec<f64> {
        let BgNbd { r, alpha, a, b } = *self;
        let ln_p0 = r * (alpha / (alpha + t)).ln();
        let ln_q = (t / (alpha + t)).ln();
        let ln_bab = ln_beta(a, b);
        let mut out = Vec::with_capacity(n_max + 1);
        let mut nb_cdf = 0.0f64; // Σ_{j<n} NB(j; r, α/(α+t))
        for n in 0..=n_max {
            let nf = n as f64;
            let ln_nb = ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0) + ln_p0 + nf * ln_q;
            let mut p = (ln_beta(a, b + nf) - ln_bab + ln_nb).exp();
            if n > 0 {
                p += (ln_beta(a + 1.0, b + nf - 1.0) - ln_bab).exp() * (1.0 - nb_cdf).max(0.0);
            }
            nb_cdf += ln_nb.exp();
            out.push(finite_or(p, 0.0));
        }
        out
    }
}

/// E[X(t)] as Σ n P(X(t) = n), for parameters where the closed form is 0/0.
fn expected_by_pmf(m: &BgNbd, t: f64) -> f64 {
    let pmf = m.unconditional_pmf(t, 10_000);
    crate::total(pmf.iter().enumerate().map(|(n, p)| n as f64 * p))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FHL (2005) / REFERENCE.md: the CDNOW sample optimum.
    pub fn cdnow() -> BgNbd {
        BgNbd::new(0.242593, 4.413532, 0.792886, 2.425754).unwrap()
    }

    #[test]
    fn hardie_spreadsheet_conditional_expectation() {
        // E[Y(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226 (Hardie's BG/NBD spreadsheet)
        let e = cdnow().expected_purchases(&Rfm::new(2.0, 30.43, 38.86), 39.0);
        assert!((e - 1.226).abs() < 5e-4, "{e}");
    }

    #[test]
    fn unconditional_expectation_at_78_weeks() {
        // Spreadsheet: E[X(78)] = 1.8576
        let e = cdnow().expected_unconditional(78.0);
        assert!((e - 1.8576).abs() < 5e-4, "{e}");
    }

    #[test]
    fn pmf_sums_to_one_and_matches_the_mean() {
        let m = cdnow();
        let pmf = m.unconditional_pmf(39.0, 400);
        let total: f64 = pmf.iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        let mean: f64 = pmf.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert!((mean - m.expected_unconditional(39.0)).abs() < 1e-6);
        let c = Rfm::new(2.0, 30.43, 38.86);
        let cp = m.purchase_pmf(&c, 39.0, 400);
        let cmean: f64 = cp.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert!((cmean - m.expected_purchases(&c, 39.0)).abs() < 1e-6);
        assert!((cp.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn p_alive_properties() {
        let m = cdnow();
        assert_eq!(m.p_alive(&Rfm::new(0.0, 0.0, 38.86)), 1.0);
        // Longer silence since the last purchase → less likely alive.
        let recent = m.p_alive(&Rfm::new(3.0, 38.0, 38.86));
        let old = m.p_alive(&Rfm::new(3.0, 5.0, 38.86));
        assert!(recent > old && old > 0.0 && recent < 1.0);
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
        super::super::assert_closed_form_gradient(&BgNbd::new(0.4, 3.0, 1.3, 2.2).unwrap(), &data);
        // The same code with shift 1 is MBG/NBD's.
        let mbg = super::super::MbgNbd::new(0.4, 3.0, 1.3, 2.2).unwrap();
        super::super::assert_closed_form_gradient(&mbg, &data);
    }

    #[test]
    fn rejects_bad_parameters_and_rows() {
        assert!(BgNbd::new(0.0, 1.0, 1.0, 1.0).is_err());
        assert!(BgNbd::new(1.0, f64::NAN, 1.0, 1.0).is_err());
        assert!(check_rfm(&Rfm::new(1.0, 5.0, 4.0)).is_err());
        assert!(check_rfm(&Rfm::new(0.0, 1.0, 4.0)).is_err());
        assert!(check_rfm(&Rfm::new(1.5, 1.0, 4.0)).is_err());
    }
}
