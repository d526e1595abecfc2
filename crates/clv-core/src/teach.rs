//! The numbers of the teaching mode: the simple CLV formula a lesson starts from, and the two
//! distributions BG/NBD assumes customers differ by — drawn from the parameters a teacher sets.
//!
//! BG/NBD (Fader, Hardie & Lee 2005, §3): while alive, a customer buys at their own rate
//! λ ~ Gamma(shape r, rate α) per unit of time; after each purchase they leave with their own
//! probability p ~ Beta(a, b). Densities and quantiles are statrs'.
//!
//! ```
//! use clv_core::teach::SimpleFormula;
//! // $5 a purchase, twice a week, for two years of 52 weeks.
//! let f = SimpleFormula::new(5.0, 2.0, 2.0).unwrap();
//! assert_eq!(f.value(), 1040.0);
//! ```

use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, Continuous, ContinuousCDF, Gamma};
use statrs::statistics::Distribution;

use crate::models::{BgNbd, CountModel, Likelihood, Rfm};

pub mod money;
pub mod real;
pub mod simulated;

/// Weeks in the simple formula's year: the round number a lesson writes on the board.
pub const WEEKS_PER_YEAR: f64 = 52.0;

/// Largest input the lesson accepts for any quantity (a spend, a rate, a parameter).
pub const MAX_INPUT: f64 = 1e6;

/// Points on a drawn density.
pub const CURVE_POINTS: usize = 120;

/// Why a lesson's input was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TeachError {
    /// A quantity that must be a number from its minimum to [`MAX_INPUT`] is not.
    #[error("{name} must be a number from {min} to {MAX_INPUT}, got {value}")]
    OutOfRange {
        /// What the input is called on the page.
        name: &'static str,
        /// The smallest value allowed.
        min: f64,
        /// The value given.
        value: f64,
    },
    /// A count (customers, weeks) outside what the lesson draws.
    #[error("{name} must be from {min} to {max}, got {value}")]
    Count {
        /// What the input is called on the page.
        name: &'static str,
        /// The smallest count allowed.
        min: u64,
        /// The largest.
        max: u64,
        /// The count given.
        value: u64,
    },
    /// The simulation refused its settings (a sampler that cannot be built).
    #[error("the customers could not be drawn: {0}")]
    Simulation(String),
    /// A published data set could not be read or its model did not converge.
    #[error("the data set could not be fitted: {0}")]
    Data(String),
}

/// One count model fitted alone, as the lesson's steps fit theirs (no penalty, the tool's usual
/// 500 iterations): its report when the fit ran, and the model only when it converged — else why not.
/// Generic so a lesson (and the widget's worker) holds only its own model's code.
pub(crate) fn fit_alone<M: Likelihood<Row = Rfm>>(
    customers: &crate::pipeline::Customers,
) -> (Option<crate::models::FitReport>, Result<M, String>) {
    let opts = crate::models::FitOptions::new(0.0, 500).expect("no penalty and 500 iterations are valid");
    match crate::pipeline::fit_count_as::<M>(customers, &opts) {
        Ok((model, report)) if report.convergence.converged => (Some(report), Ok(model)),
        Ok((_, report)) => {
            let why = report.convergence.message.clone();
            (Some(report), Err(why))
        }
        Err(e) => (None, Err(e.to_string())),
    }
}

pub(crate) fn checked(name: &'static str, value: f64, positive: bool) -> Result<f64, TeachError> {
    let ok = value.is_finite() && value <= MAX_INPUT && if positive { value > 0.0 } else { value >= 0.0 };
    ok.then_some(value).ok_or(TeachError::OutOfRange { name, min: 0.0, value })
}

/// "Average order value × purchases per week × weeks a customer stays": the formula every CLV
/// lesson begins with, before showing what it leaves out (who has already left, how buyers differ).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimpleFormula {
    order_value: f64,
    purchases_per_week: f64,
    years: f64,
}

impl SimpleFormula {
    /// Each input a number from 0 to [`MAX_INPUT`].
    pub fn new(order_value: f64, purchases_per_week: f64, years: f64) -> Result<SimpleFormula, TeachError> {
        Ok(SimpleFormula {
            order_value: checked("average order value", order_value, false)?,
            purchases_per_week: checked("purchases per week", purchases_per_week, false)?,
            years: checked("years as a customer", years, false)?,
        })
    }

    /// order value × purchases per week × 52 × years.
    pub fn value(&self) -> f64 {
        self.order_value * self.purchases_per_week * WEEKS_PER_YEAR * self.years
    }

    /// Purchases over the whole stay: purchases per week × 52 × years.
    pub fn purchases(&self) -> f64 {
        self.purchases_per_week * WEEKS_PER_YEAR * self.years
    }
}

/// A density drawn on a grid, with the quantiles a sentence about it needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DensityCurve {
    /// Grid points, increasing.
    pub x: Vec<f64>,
    /// The density at each point (finite: a point where it is infinite is left out).
    pub density: Vec<f64>,
    /// The mean.
    pub mean: f64,
    /// The 10th percentile.
    pub q10: f64,
    /// The median.
    pub median: f64,
    /// The 90th percentile.
    pub q90: f64,
}

fn curve<D: Continuous<f64, f64> + ContinuousCDF<f64, f64> + Distribution<f64>>(
    d: &D,
    (low, high): (f64, f64),
) -> DensityCurve {
    let step = (high - low) / (CURVE_POINTS - 1) as f64;
    let (x, density) =
        (0..CURVE_POINTS).map(|i| low + step * i as f64).map(|x| (x, d.pdf(x))).filter(|(_, y)| y.is_finite()).unzip();
    DensityCurve {
        x,
        density,
        mean: d.mean().unwrap_or(f64::NAN),
        q10: d.inverse_cdf(0.1),
        median: d.inverse_cdf(0.5),
        q90: d.inverse_cdf(0.9),
    }
}

/// How purchase rates differ between customers: λ ~ Gamma(shape r, rate α), per unit of time,
/// drawn from 0 to its 99th percentile (at 0 itself the density is infinite when r < 1: the grid
/// starts a step away).
pub fn purchase_rates(r: f64, alpha: f64) -> Result<DensityCurve, TeachError> {
    let (r, alpha) = (checked("r", r, true)?, checked("alpha", alpha, true)?);
    let d = Gamma::new(r, alpha).map_err(|_| TeachError::OutOfRange { name: "r", min: 0.0, value: r })?;
    let high = d.inverse_cdf(0.99);
    Ok(curve(&d, (high / (CURVE_POINTS as f64), high)))
}

/// How likely customers are to leave after a purchase: p ~ Beta(a, b), drawn over (0, 1) (the
/// end points, where the density may be infinite, a small step inside).
pub fn dropout_probabilities(a: f64, b: f64) -> Result<DensityCurve, TeachError> {
    let (a, b) = (checked("a", a, true)?, checked("b", b, true)?);
    let d = Beta::new(a, b).map_err(|_| TeachError::OutOfRange { name: "a", min: 0.0, value: a })?;
    let edge = 0.5 / CURVE_POINTS as f64;
    Ok(curve(&d, (edge, 1.0 - edge)))
}

/// Two customers of the same age with the same number of repeat purchases, one whose last purchase
/// was a week before the cutoff and one who went quiet after the first quarter of their time: the
/// lesson's "a frequent buyer who went quiet is at risk", as (recent, quiet) P(alive) under `model`.
pub fn recent_and_quiet(model: &BgNbd, age: f64, repeat_purchases: f64) -> Result<(f64, f64), TeachError> {
    let age = checked("age", age, true)?;
    let x = checked("repeat purchases", repeat_purchases, false)?;
    let at = |t_x: f64| model.p_alive(&Rfm::new(x, if x > 0.0 { t_x } else { 0.0 }, age));
    Ok((at((age - 1.0).max(0.0)), at(age / 4.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simple_formula_is_the_lessons_arithmetic() {
        let f = SimpleFormula::new(5.0, 2.0, 2.0).unwrap();
        assert_eq!((f.value(), f.purchases()), (1040.0, 208.0));
        assert_eq!(SimpleFormula::new(0.0, 2.0, 2.0).unwrap().value(), 0.0);
        for bad in [f64::NAN, -1.0, 1e7, f64::INFINITY] {
            let e = SimpleFormula::new(5.0, bad, 2.0).unwrap_err().to_string();
            assert!(e.starts_with("purchases per week must be a number from 0 to 1000000"), "{e}");
        }
    }

    /// CDNOW's BG/NBD (FHL 2005: r 0.243, α 4.414, a 0.793, b 2.426): the mean rate r/α ≈ 0.055 a
    /// week, the mean dropout a/(a + b) ≈ 0.246; densities integrate to ≈ 1 over the grid.
    #[test]
    fn cdnow_heterogeneity_has_the_published_means_and_densities_that_integrate_to_one() {
        let rates = purchase_rates(0.242593, 4.413532).unwrap();
        assert!((rates.mean - 0.242593 / 4.413532).abs() < 1e-12);
        assert!(rates.q10 < rates.median && rates.median < rates.mean && rates.mean < rates.q90, "{rates:?}");
        let drop = dropout_probabilities(0.792886, 2.425754).unwrap();
        assert!((drop.mean - 0.792886 / (0.792886 + 2.425754)).abs() < 1e-12);
        // A Beta(2, 3) by hand: density 12 p (1 − p)²; median the root of its CDF 6p² − 8p³ + 3p⁴ = ½.
        let b23 = dropout_probabilities(2.0, 3.0).unwrap();
        let i = b23.x.len() / 2;
        assert!((b23.density[i] - 12.0 * b23.x[i] * (1.0 - b23.x[i]).powi(2)).abs() < 1e-12);
        assert!((b23.median - 0.385_727_568_508_627).abs() < 1e-6, "{}", b23.median);
        // Trapezoids over the grid hold all but the tails left off it.
        let area = |c: &DensityCurve| -> f64 {
            c.x.windows(2).zip(c.density.windows(2)).map(|(x, y)| (x[1] - x[0]) * (y[0] + y[1]) / 2.0).sum()
        };
        assert!((area(&b23) - 1.0).abs() < 1e-3, "{}", area(&b23));
        let gamma2 = purchase_rates(2.0, 1.0).unwrap();
        assert!((area(&gamma2) - 0.99).abs() < 0.01, "{}", area(&gamma2));
        assert_eq!(gamma2.x.len(), CURVE_POINTS);
    }

    /// FHL (2005) eq. 13 by hand at CDNOW's parameters: P(alive) = 1 / (1 + a/(b + x − 1) ·
    /// ((α + T)/(α + t_x))^(r + x)).
    #[test]
    fn the_quiet_frequent_buyer_is_the_one_at_risk() {
        let (r, alpha, a, b) = (0.242593, 4.413532, 0.792886, 2.425754);
        let m = BgNbd::new(r, alpha, a, b).unwrap();
        let (recent, quiet) = recent_and_quiet(&m, 52.0, 10.0).unwrap();
        let by_hand = |t_x: f64| 1.0 / (1.0 + a / (b + 9.0) * ((alpha + 52.0) / (alpha + t_x)).powf(r + 10.0));
        assert!((recent - by_hand(51.0)).abs() < 1e-12 && (quiet - by_hand(13.0)).abs() < 1e-12);
        assert!(recent > 0.9 && quiet < 0.01, "{recent} {quiet}");
        // No repeat purchase: BG/NBD says alive, whatever the silence.
        assert_eq!(recent_and_quiet(&m, 52.0, 0.0).unwrap(), (1.0, 1.0));
    }

    #[test]
    fn parameters_must_be_positive() {
        assert!(purchase_rates(0.0, 1.0).is_err());
        assert!(dropout_probabilities(1.0, f64::NAN).is_err());
        assert_eq!(
            dropout_probabilities(-1.0, 1.0).unwrap_err().to_string(),
            "a must be a number from 0 to 1000000, got -1"
        );
    }
}
