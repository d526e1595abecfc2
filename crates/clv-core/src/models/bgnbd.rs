//! BG/NBD: Fader, Hardie & Lee (2005), "'Counting your customers' the easy
//! way: an alternative to the Pareto/NBD model", Marketing Science 24(2),
//! 275–284.
//!
//! While alive a customer buys at rate λ ~ Gamma(r, α); after each *repeat*
//! purchase they drop out with probability p ~ Beta(a, b). A customer with no
//! repeat purchase is therefore alive by construction (P(alive | x = 0) = 1);
//! MBG/NBD and Pareto/NBD do not have that property.

use super::special::{digamma_diff, ln_beta_ratio, ln_gamma, ln_gamma_ratio, ln_hyp2f1, log_add_exp};
use super::{finite_or, positive, CountModel, Likelihood, ModelError, Rfm};
use serde::Serialize;

/// A BG/NBD model (Fader, Hardie & Lee 2005) with validated parameters: `r`, `alpha` are the shape and
/// rate of the gamma distribution of purchase rates λ across customers (α in the fit's time unit, so
/// r/α is the mean number of purchases per unit while alive); `a`, `b` are the beta distribution of
/// the probability p of dropping out after each repeat purchase (mean a/(a+b)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbd {
    pub(super) r: f64,
    pub(super) alpha: f64,
    pub(super) a: f64,
    pub(super) b: f64,
}

impl BgNbd {
    /// The model from r, α, a, b; each must be a positive finite number, else
    /// [`ModelError::InvalidParameter`].
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
    const ID: super::ModelId = super::ModelId::Bgnbd;
    type Cache = ();
    const PARAMS: &'static [&'static str] = &["r", "alpha", "a", "b"];

    fn from_params(p: &[f64]) -> Result<Self, ModelError> {
        BgNbd::new(p[0], p[1], p[2], p[3])
    }

    fn params(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.a, self.b]
    }

    /// FHL (2005) eq. 6, in the stable form of `family_ll_grad`.
    fn ln_likelihood(&self, c: &Rfm) -> f64 {
        family_row_ll([self.r, self.alpha, self.a, self.b], 0.0, c)
    }

    fn starts() -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0, 1.0, 1.0], vec![0.5, 5.0, 0.8, 2.5], vec![0.1, 1.0, 2.0, 10.0]]
    }

    fn check_row(c: &Rfm) -> Result<(), String> {
        check_rfm(c)
    }

    fn minimum_data(data: &super::Weighted<Rfm>) -> Result<(), String> {
        super::validity::count_minimum("BG/NBD", data)
    }

    fn ln_likelihood_bound(c: &Rfm) -> f64 {
        super::validity::count_row_bound(c)
    }

    fn limits() -> Vec<super::validity::Limit> {
        super::validity::rate_and_dropout_limits(same_dropout_probability, COMMON_DROPOUT, no_dropout).into()
    }

    fn sort_key(c: &Rfm) -> f64 {
        c.x
    }

    /// Eq. 6 and its derivatives: see `family_ll_grad`.
    fn ln_likelihood_and_gradient(&self, data: &super::Weighted<Rfm>, _: &()) -> Option<(f64, Vec<f64>)> {
        family_ll_grad([self.r, self.alpha, self.a, self.b], 0.0, data)
    }
}

/// Σ w·ln L and its gradient for BG/NBD (`shift` k = 0) and MBG/NBD
/// (k = 1), which share one form (FHL 2005 eq. 6; Batislam et al. 2007):
///
/// ```text
/// ln L = [ln Γ(r+x) − ln Γ(r)] + [ln B(a, b+x+k) − ln B(a, b)]
///        − r ln(1 + T/α) − x ln(α+T) + ln(1 + e^D)
/// D = ln a − ln(b+x+k−1) + (r+x) ln(1 + (T − t_x)/(α + t_x))
/// ```
///
/// where BG/NBD has no e^D term for x = 0. This is eq. 6 with r ln α and
/// −(r+x) ln(α+T) merged into `ln_1p` terms and the Γ/B ratios taken by
/// [`ln_gamma_ratio`]: every piece stays exact as r, α, a, b → ∞ or → 0, which
/// is where the optimiser goes when the data show no heterogeneity or no
/// dropout (the plain form then returned ln L = +10³⁵). Derivatives with
/// ψ differences likewise; the x-only terms once per run of equal x in each
/// chunk (rows arrive sorted by x).
pub(super) fn family_ll_grad(p: [f64; 4], shift: f64, data: &super::Weighted<Rfm>) -> Option<(f64, Vec<f64>)> {
    let (ll, g) = super::chunked_sum(data, |rows, weights, _| {
        let mut xt = XTerms::new(p, shift, f64::NAN);
        let (mut ll, mut g) = (0.0, [0.0f64; 4]);
        for (c, w) in rows.iter().zip(weights) {
            if c.x != xt.x {
                xt = XTerms::new(p, shift, c.x);
            }
            let (l, d) = family_row(p, &xt, c);
            ll += w * l;
            g.iter_mut().zip(d).for_each(|(gi, di)| *gi += w * di);
        }
        (ll, g)
    });
    (ll.is_finite() && g.iter().all(|v| v.is_finite())).then(|| (ll, g.to_vec()))
}

/// One row's ln L of the BG/NBD family (see [`family_ll_grad`]).
pub(super) fn family_row_ll(p: [f64; 4], shift: f64, c: &Rfm) -> f64 {
    finite_or(family_row(p, &XTerms::new(p, shift, c.x), c).0, f64::NEG_INFINITY)
}

/// The terms of the family's ln L and gradient that depend on x only.
struct XTerms {
    x: f64,
    /// Whether the row has the dropout term e^D (not for BG/NBD at x = 0).
    has_d: bool,
    ln_gamma_r: f64,
    digamma_r: f64,
    ln_beta: f64,
    digamma_b: f64,
    digamma_ab: f64,
    /// b + x + k − 1 and its log (used only with the dropout term).
    b1: f64,
    ln_b1: f64,
}

impl XTerms {
    fn new([r, _, a, b]: [f64; 4], shift: f64, x: f64) -> XTerms {
        let has_d = x > 0.0 || shift > 0.0;
        let xk = x + shift;
        let b1 = b + (xk - 1.0); // not (b + xk) − 1: b may be 1e-8
        XTerms {
            x,
            has_d,
            ln_gamma_r: ln_gamma_ratio(r, x),
            digamma_r: digamma_diff(r, x),
            ln_beta: ln_beta_ratio(a, b, xk),
            digamma_b: digamma_diff(b, xk),
            digamma_ab: digamma_diff(a + b, xk),
            b1,
            ln_b1: if has_d { b1.ln() } else { 0.0 },
        }
    }
}

/// ln L of one row and its gradient in (r, α, a, b).
fn family_row([r, alpha, a, _]: [f64; 4], xt: &XTerms, c: &Rfm) -> (f64, [f64; 4]) {
    let x = c.x;
    let (l_t, l_tx) = ((c.t / alpha).ln_1p(), (c.t_x / alpha).ln_1p());
    // ln L = head + ln(e^A₃ + e^A₄), with r ln α taken into both A's as ln_1p terms.
    let head = xt.ln_gamma_r + xt.ln_beta;
    let a3 = -r * l_t - x * (alpha + c.t).ln();
    let (lse, w4) = if xt.has_d {
        let a4 = a.ln() - xt.ln_b1 - r * l_tx - x * (alpha + c.t_x).ln();
        // w4 = e^A₄/(e^A₃ + e^A₄), taken on the side where exp cannot overflow.
        let d = a4 - a3;
        let w4 = if d > 0.0 { 1.0 / (1.0 + (-d).exp()) } else { d.exp() / (1.0 + d.exp()) };
        (log_add_exp(a3, a4), w4)
    } else {
        (a3, 0.0)
    };
    let w3 = 1.0 - w4;
    // ∂/∂α of r ln α − (r+x) ln(α+t) is (r t − α x)/(α(α+t)): no difference of large terms.
    let d_alpha = |t: f64| (r * t - alpha * x) / (alpha * (alpha + t));
    let mut grad = [
        xt.digamma_r - w3 * l_t - w4 * l_tx,
        w3 * d_alpha(c.t) + if w4 > 0.0 { w4 * d_alpha(c.t_x) } else { 0.0 },
        -xt.digamma_ab,
        xt.digamma_b - xt.digamma_ab,
    ];
    if w4 > 0.0 {
        grad[2] += w4 / a;
        grad[3] -= w4 / xt.b1;
    }
    (head + lse, grad)
}

/// Words for the BG/NBD family's limit a, b → ∞ together.
pub(super) fn same_dropout_probability(p: &[f64]) -> String {
    if p[2] / (p[2] + p[3]) < NO_DROPOUT_BELOW {
        return no_dropout(p);
    }
    format!(
        "the customers' dropout probabilities do not differ: a and b grow together without bound, so everyone drops out after a purchase with the same probability ({:.4})",
        p[2] / (p[2] + p[3])
    )
}

/// A common dropout probability (or rate per time unit) below this is
/// reported as "nobody drops out": 0.0000 of a probability says nothing else.
pub(super) const NO_DROPOUT_BELOW: f64 = 1e-4;

/// The common dropout probability a/(a + b) of the BG/NBD family's limit.
pub(crate) const COMMON_DROPOUT: super::validity::Fixed =
    super::validity::Fixed { name: "a/(a+b)", value: |p| p[2] / (p[2] + p[3]) };

/// Words for the limit where the dropout probability or rate runs to 0.
pub(super) fn no_dropout(_: &[f64]) -> String {
    "nobody appears to drop out: the dropout parameters run to the no-dropout limit, so the model reduces to the NBD (customers buy at their own rate and never leave)".into()
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
        // 1 − (α/(α+t))^r ₂F₁(…) = −expm1(ln of the product), without cancelling.
        let closed = ln_hyp2f1(r, b, a + b - 1.0, z)
            .map(|lf| (a + b - 1.0) / (a - 1.0) * -(lf - r * (t / alpha).ln_1p()).exp_m1());
        match closed {
            // The factor (a+b−1)/(a−1) amplifies the rounding of the bracket: near
            // a = 1, or with a → 0 and b → ∞ (a limit fit: it reached −4.6e31 ×
            // noise = −2.3e23), the closed form is not usable; the pmf's mean is.
            Ok(v)
                if (a - 1.0).abs() > 1e-9
                    && (a + b - 1.0).abs() < 1e6 * (a - 1.0).abs()
                    && v.is_finite()
                    && v >= 0.0 =>
            {
                v
            }
            _ => finite_or(expected_by_pmf(self, t), 0.0),
        }
    }

    /// FHL (2005) eq. 8. The ratios of Γ and B values are taken as stable
    /// differences: at a boundary fit (a, b ~ 10¹⁰) the plain difference of
    /// two ln B values made the pmf sum to 1.00025.
    fn unconditional_pmf(&self, t: f64, n_max: usize) -> Vec<f64> {
        let BgNbd { r, alpha, a, b } = *self;
        let ln_p0 = -r * (t / alpha).ln_1p();
        let ln_q = (t / (alpha + t)).ln();
        let mut out = Vec::with_capacity(n_max + 1);
        let mut nb_cdf = 0.0f64; // Σ_{j<n} NB(j; r, α/(α+t))
        for n in 0..=n_max {
            let nf = n as f64;
            let ln_nb = ln_gamma_ratio(r, nf) - ln_gamma(nf + 1.0) + ln_p0 + nf * ln_q;
            let mut p = (ln_beta_ratio(a, b, nf) + ln_nb).exp();
            if n > 0 {
                // B(a+1, b+n−1) / B(a, b) = a Γ(b+n−1)/Γ(b) · Γ(a+b)/Γ(a+b+n)
                let ln_dies = a.ln() + ln_gamma_ratio(b, nf - 1.0) - ln_gamma_ratio(a + b, nf);
                p += ln_dies.exp() * (1.0 - nb_cdf).max(0.0);
            }
            nb_cdf += ln_nb.exp();
            out.push(finite_or(p, 0.0));
        }
        out
    }
}

/// E[X(t)] as Σ n P(X(t) = n), for parameters where the closed form is 0/0.
fn expected_by_pmf(m: &BgNbd, t: f64) -> f64 {
    // Grown until the mass left beyond it is negligible: a fixed 10,000 terms made every call
    // ~2 ms, and a one-time buyer's CLV takes one call per discounting step — 0.8 s to value 300
    // customers when a + b < 1 sends every one-time buyer here.
    let mut n_max = 64;
    loop {
        let pmf = m.unconditional_pmf(t, n_max);
        if n_max >= PMF_MEAN_TERMS || 1.0 - crate::total(pmf.iter().copied()) < 1e-14 {
            return crate::total(pmf.iter().enumerate().map(|(n, p)| n as f64 * p));
        }
        n_max = (n_max * 4).min(PMF_MEAN_TERMS);
    }
}

/// The most terms [`expected_by_pmf`] sums.
const PMF_MEAN_TERMS: usize = 10_000;

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

    /// a + b < 1 (fitted on 300 CDNOW customers): the closed form's ₂F₁ has c = a + b − 1 < 0 for a
    /// one-time buyer, so the mean comes from the pmf — the same as summing all 10,000 terms.
    #[test]
    fn the_mean_by_the_pmf_stops_when_nothing_is_left_and_equals_the_full_sum() {
        let m = BgNbd::new(0.222489745387824, 3.637053835917906, 0.3042229533702173, 0.6876905162998768).unwrap();
        for c in [Rfm::new(0.0, 0.0, 60.0), Rfm::new(0.0, 0.0, 5.0)] {
            let alive = m.alive_posterior(&c);
            for t in [0.5, 13.0, 52.0, 520.0] {
                let full =
                    crate::total(alive.unconditional_pmf(t, 10_000).iter().enumerate().map(|(n, p)| n as f64 * p));
                let e = m.expected_if_alive(&c, t);
                assert!((e - full).abs() <= 1e-12 * full, "T {} t {t}: {e} vs {full}", c.t);
            }
        }
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
    fn a_common_dropout_probability_of_zero_is_said_as_no_dropout() {
        assert!(same_dropout_probability(&[1.0, 1.0, 2.0, 8.0]).contains("same probability (0.2000)"));
        assert_eq!(same_dropout_probability(&[1.0, 1.0, 1e-3, 1e3]), no_dropout(&[]));
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
