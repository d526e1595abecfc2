//! Gamma–Gamma spend model: Fader, Hardie & Lee (2005), "RFM and CLV: using
//! iso-value curves for customer base analysis", JMR 42(4); Fader & Hardie (2013),
//! "The Gamma-Gamma model of monetary value" (note 025).
//!
//! Transaction values z ~ Gamma(p, ν) with ν ~ Gamma(q, γ) across customers;
//! the mean spend m̄ of x transactions then has the density of note 025
//! eq. 4. Only customers with x > 0 and m̄ > 0 carry information.

use super::special::{digamma_diff, ln_gamma, ln_gamma_ratio};
use super::{finite_or, positive, Likelihood, ModelError};
use serde::{Deserialize, Serialize};

/// One repeat customer's spend: `x` repeat transactions with mean value `mean`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    /// Repeat transactions the mean is over (≥ 1 for the fit).
    pub x: f64,
    /// Mean value of those repeat transactions, in the data's currency (> 0 and finite for the fit).
    pub mean: f64,
}

/// A Gamma–Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013) with validated
/// parameters: each transaction value is Gamma(`p`, ν), so a customer's mean spend is p/ν; ν varies
/// across customers as Gamma(`q`, `gamma`) (shape q, rate γ in currency units). Assumes spend is
/// independent of the purchase process, so it pairs with any count model for CLV.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaGamma {
    p: f64,
    q: f64,
    gamma: f64,
}

impl GammaGamma {
    /// The model from p, q, γ; each must be a positive finite number, else
    /// [`ModelError::InvalidParameter`].
    pub fn new(p: f64, q: f64, gamma: f64) -> Result<GammaGamma, ModelError> {
        Ok(GammaGamma { p: positive("p", p)?, q: positive("q", q)?, gamma: positive("gamma", gamma)? })
    }

    /// E\[Z\] of a new customer: pγ/(q − 1); infinite-mean spend when q ≤ 1.
    pub fn population_mean(&self) -> Option<f64> {
        (self.q > 1.0).then(|| self.p * self.gamma / (self.q - 1.0))
    }

    /// [`GammaGamma::expected_spend`] as intercept and slope in m̄ for x repeat purchases:
    /// (pγ/(px + q − 1), px/(px + q − 1)). The warehouse's score SQL applies them to each
    /// customer's own mean (`clv sql --emit score`).
    pub fn spend_terms(&self, x: f64) -> Option<(f64, f64)> {
        let denom = self.p * x + self.q - 1.0;
        (denom > 0.0).then(|| (self.p * self.gamma / denom, self.p * x / denom))
    }

    /// E[M | x, m̄] = p(γ + x m̄)/(px + q − 1) (note 025 eq. 5): a weighted
    /// average of the population mean and the customer's own mean. For x = 0
    /// this is the population mean (the page labels it "backfilled").
    pub fn expected_spend(&self, x: f64, mean: f64) -> Option<f64> {
        let denom = self.p * x + self.q - 1.0;
        (denom > 0.0).then(|| self.p * (self.gamma + x * mean) / denom)
    }
}

/// The terms of a row's ln L and gradient that depend on x only.
struct SpendX {
    x: f64,
    /// −ln B(px, q), ψ(px+q) − ψ(px), ψ(px+q) − ψ(q)
    ln_inv_beta: f64,
    digamma_px: f64,
    digamma_q: f64,
}

impl SpendX {
    fn new(p: f64, q: f64, x: f64) -> SpendX {
        let px = p * x;
        // ln Γ(px+q) − ln Γ(px) − ln Γ(q), the huge ln Γ taken as a ratio.
        let ln_inv_beta =
            if px >= q { ln_gamma_ratio(px, q) - ln_gamma(q) } else { ln_gamma_ratio(q, px) - ln_gamma(px) };
        SpendX { x, ln_inv_beta, digamma_px: digamma_diff(px, q), digamma_q: digamma_diff(q, px) }
    }
}

/// Note 025 eq. 4, ln Γ(px+q)/(Γ(px)Γ(q)) γ^q m̄^(px−1) x^(px) / (x m̄ + γ)^(px+q),
/// with q ln γ − q ln(x m̄ + γ) as −q ln(1 + x m̄/γ) and the Γ/ψ ratios taken
/// stably, so it stays exact as q, γ → ∞ together (no spend heterogeneity);
/// and its gradient in (p, q, γ).
fn spend_row([p, q, gamma]: [f64; 3], xt: &SpendX, s: &Spend) -> (f64, [f64; 3]) {
    let (x, px) = (s.x, p * s.x);
    let xm = x * s.mean;
    // (px−1) ln m̄ + px ln x − px ln(x m̄ + γ) = −px ln(1 + γ/(x m̄)) − ln m̄
    let (l_gamma, l_xm) = ((gamma / xm).ln_1p(), (xm / gamma).ln_1p());
    let ll = xt.ln_inv_beta - px * l_gamma - s.mean.ln() - q * l_xm;
    let grad = [
        x * (xt.digamma_px - l_gamma),
        xt.digamma_q - l_xm,
        // q/γ − (px+q)/(x m̄ + γ), without the difference of two large ratios
        (q * xm - gamma * px) / (gamma * (xm + gamma)),
    ];
    (ll, grad)
}

/// Fewest repeat buyers Gamma–Gamma (three parameters) is fitted on.
pub const MIN_SPENDERS: f64 = 10.0;

fn same_mean_spend(p: &[f64]) -> String {
    format!(
        "the customers' average spends do not differ: q and gamma grow together without bound, so every customer's expected spend per purchase is the same ({:.4})",
        p[0] * p[2] / p[1]
    )
}

impl Likelihood for GammaGamma {
    type Row = Spend;
    const ID: super::ModelId = super::ModelId::Gg;
    type Cache = ();
    const PARAMS: &'static [&'static str] = &["p", "q", "gamma"];

    fn from_params(p: &[f64]) -> Result<Self, ModelError> {
        GammaGamma::new(p[0], p[1], p[2])
    }

    fn params(&self) -> Vec<f64> {
        vec![self.p, self.q, self.gamma]
    }

    /// Note 025 eq. 4 in the form of `spend_row`.
    fn ln_likelihood(&self, s: &Spend) -> f64 {
        finite_or(spend_row([self.p, self.q, self.gamma], &SpendX::new(self.p, self.q, s.x), s).0, f64::NEG_INFINITY)
    }

    fn starts() -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0, 1.0], vec![5.0, 3.0, 10.0], vec![1.0, 3.0, 50.0]]
    }

    fn sort_key(s: &Spend) -> f64 {
        s.x
    }

    /// Note 025 eq. 4 and its derivatives; Γ/ψ terms that depend only on x
    /// are computed once per run of equal x.
    fn ln_likelihood_and_gradient(&self, data: &super::Weighted<Spend>, _: &()) -> Option<(f64, Vec<f64>)> {
        let GammaGamma { p, q, gamma } = *self;
        let (ll, g) = super::chunked_sum(data, |rows, weights, _| {
            let mut xt = SpendX::new(p, q, f64::NAN);
            let (mut ll, mut g) = (0.0, [0.0f64; 3]);
            for (s, w) in rows.iter().zip(weights) {
                if s.x != xt.x {
                    xt = SpendX::new(p, q, s.x);
                }
                let (l, d) = spend_row([p, q, gamma], &xt, s);
                ll += w * l;
                g.iter_mut().zip(d).for_each(|(gi, di)| *gi += w * di);
            }
            (ll, g)
        });
        (ll.is_finite() && g.iter().all(|v| v.is_finite())).then(|| (ll, g.to_vec()))
    }

    fn check_row(s: &Spend) -> Result<(), String> {
        if s.x >= 1.0 && s.mean > 0.0 && s.mean.is_finite() {
            Ok(())
        } else {
            Err(format!("Gamma–Gamma needs x ≥ 1 and a positive mean spend; got x = {}, mean = {}", s.x, s.mean))
        }
    }

    fn minimum_data(data: &super::Weighted<Spend>) -> Result<(), String> {
        let n = data.total_weight();
        if n < MIN_SPENDERS {
            return Err(format!(
                "Gamma–Gamma needs at least {MIN_SPENDERS} repeat buyers with a positive mean spend; this data has {n}"
            ));
        }
        Ok(())
    }

    fn limits() -> Vec<super::validity::Limit> {
        vec![
            super::validity::Limit {
                direction: &[0.0, 1.0, 1.0],
                describe: same_mean_spend,
                fixed: Some(super::validity::Fixed { name: "gamma/q", value: |p| p[2] / p[1] }),
            },
            super::validity::Limit {
                direction: &[1.0, 0.0, -1.0],
                describe: |_| {
                    "each customer spends the same amount at every purchase (p grows without bound with p·gamma fixed): the spread between a customer's purchases is not identified".into()
                },
                fixed: Some(super::validity::Fixed { name: "p*gamma", value: |p| p[0] * p[2] }),
            },
        ]
    }
}

/// Pearson correlation of frequency and mean spend among repeat buyers: the
/// model assumes they are independent.
pub fn frequency_spend_correlation(rows: &[Spend]) -> Option<f64> {
    crate::evaluate::pearson(
        &rows.iter().map(|s| s.x).collect::<Vec<_>>(),
        &rows.iter().map(|s| s.mean).collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_spend_shrinks_towards_the_population_mean() {
        let m = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
        let pop = m.population_mean().unwrap();
        assert!((pop - 6.25 * 15.44 / 2.74).abs() < 1e-12);
        assert!((m.expected_spend(0.0, 0.0).unwrap() - pop).abs() < 1e-12);
        let few = m.expected_spend(1.0, 100.0).unwrap();
        let many = m.expected_spend(50.0, 100.0).unwrap();
        assert!(pop < few && few < many && many < 100.0);
        assert!(GammaGamma::new(1.0, 0.5, 1.0).unwrap().population_mean().is_none());
    }

    #[test]
    fn closed_form_gradient_matches_finite_differences() {
        let rows = vec![Spend { x: 1.0, mean: 10.0 }, Spend { x: 1.0, mean: 31.0 }, Spend { x: 4.0, mean: 22.35 }];
        let data = super::super::Weighted { weights: vec![1.0, 2.0, 3.0], rows };
        super::super::assert_closed_form_gradient(&GammaGamma::new(6.25, 3.74, 15.44).unwrap(), &data);
    }

    #[test]
    fn density_integrates_to_one() {
        // ∫ f(m̄ | x) dm̄ = 1 for the note-025 density (trapezoid on a log grid).
        let m = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
        for x in [1.0, 3.0] {
            let (mut total, mut prev) = (0.0, None::<(f64, f64)>);
            for i in 0..=20000 {
                let z = (-6.0 + 14.0 * i as f64 / 20000.0f64).exp();
                let f = m.ln_likelihood(&Spend { x, mean: z }).exp();
                if let Some((z0, f0)) = prev {
                    total += 0.5 * (f + f0) * (z - z0);
                }
                prev = Some((z, f));
            }
            assert!((total - 1.0).abs() < 1e-4, "x={x}: {total}");
        }
    }
}
