//! The objectives a boosted model can minimise: their per-row loss, its gradient and Hessian in the
//! model's raw score, the constant a model starts from, and how a raw score becomes a prediction.
//!
//! Formulas as LightGBM writes them (Ke et al. 2017; `src/objective/regression_objective.hpp`), so a
//! fit here can be checked against LightGBM's on the same data (`tests/data/gbt/`):
//! - L2: ½(y − f)², g = f − y, h = 1.
//! - L1: |y − f|, g = sign(f − y), h = 1; each leaf's value is then refitted to the median of the
//!   residuals it holds (a Newton step is meaningless when h is constant and g only a sign).
//! - Quantile α: the pinball loss (α − 1{y < f})(y − f), g = 1 − α above y and −α below, h = 1;
//!   leaves refitted to the α-quantile of their residuals.
//! - Poisson: log link, loss e^f − y f, g = e^f − y, h = e^(f + 0.7) (LightGBM's
//!   `poisson_max_delta_step`: a damped Newton step, since e^f alone lets the first steps overshoot).
//! - Tweedie, power ρ in (1, 2): log link, loss −y e^((1−ρ)f)/(1−ρ) + e^((2−ρ)f)/(2−ρ), and its
//!   derivatives. Purchase counts and revenue have many exact zeros and a long tail: ρ between 1
//!   (Poisson) and 2 (gamma) models both.

use serde::{Deserialize, Serialize};

/// LightGBM's `poisson_max_delta_step` default: the Poisson Hessian is taken at f + 0.7.
pub const POISSON_HESSIAN_STEP: f64 = 0.7;

/// What a boosted model minimises.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "loss", rename_all = "lowercase")]
pub enum Loss {
    /// Squared error: the mean.
    L2,
    /// Absolute error: the median.
    L1,
    /// Pinball loss at `alpha`: the α-quantile (P10, P50, P90 …).
    Quantile {
        /// The quantile, in (0, 1).
        alpha: f64,
    },
    /// Poisson deviance with a log link: counts.
    Poisson,
    /// Tweedie deviance with a log link, power in (1, 2): zeros and a long tail.
    Tweedie {
        /// The variance power ρ, from 1.1 to 1.9.
        power: f64,
    },
}

impl Loss {
    /// Whether scores are on the log scale (predictions are e^score).
    pub fn log_link(self) -> bool {
        matches!(self, Loss::Poisson | Loss::Tweedie { .. })
    }

    /// The prediction for a raw score.
    pub fn response(self, raw: f64) -> f64 {
        if self.log_link() {
            raw.exp()
        } else {
            raw
        }
    }

    /// The loss of predicting raw score `f` for target `y` (what early stopping watches).
    pub fn value(self, y: f64, f: f64) -> f64 {
        match self {
            Loss::L2 => 0.5 * (y - f) * (y - f),
            Loss::L1 => (y - f).abs(),
            Loss::Quantile { alpha } => (alpha - if y < f { 1.0 } else { 0.0 }) * (y - f),
            Loss::Poisson => f.exp() - y * f,
            Loss::Tweedie { power: p } => -y * ((1.0 - p) * f).exp() / (1.0 - p) + ((2.0 - p) * f).exp() / (2.0 - p),
        }
    }

    /// (gradient, Hessian) of [`Loss::value`] in `f` (L1 and quantile: a subgradient and 1).
    pub fn derivatives(self, y: f64, f: f64) -> (f64, f64) {
        match self {
            Loss::L2 => (f - y, 1.0),
            Loss::L1 => (
                if f > y {
                    1.0
                } else if f < y {
                    -1.0
                } else {
                    0.0
                },
                1.0,
            ),
            Loss::Quantile { alpha } => (if f >= y { 1.0 - alpha } else { -alpha }, 1.0),
            Loss::Poisson => (f.exp() - y, (f + POISSON_HESSIAN_STEP).exp()),
            Loss::Tweedie { power: p } => {
                let (a, b) = (((1.0 - p) * f).exp(), ((2.0 - p) * f).exp());
                (-y * a + b, -y * (1.0 - p) * a + (2.0 - p) * b)
            }
        }
    }

    /// The quantile a leaf's value is refitted to, for the losses whose Newton step says nothing.
    pub fn leaf_quantile(self) -> Option<f64> {
        match self {
            Loss::L1 => Some(0.5),
            Loss::Quantile { alpha } => Some(alpha),
            _ => None,
        }
    }

    /// The best constant score for targets `y` (weights `w`) on top of `offset` (raw scores the
    /// model starts from; all 0 without one): the mean, the median, the quantile, or for the log
    /// link ln(Σ w y / Σ w e^offset). `None` when there is no weight or (log link) no positive target.
    pub fn base_score(self, y: &[f64], w: &[f64], offset: &[f64]) -> Option<f64> {
        let total_w = crate::total(w.iter().copied());
        if total_w.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let residuals = || y.iter().zip(offset).map(|(y, o)| y - o);
        match self {
            Loss::L2 => Some(crate::total(residuals().zip(w).map(|(r, w)| r * w)) / total_w),
            Loss::L1 | Loss::Quantile { .. } => {
                let alpha = self.leaf_quantile().expect("L1 and quantile refit leaves");
                weighted_quantile(residuals().zip(w.iter().copied()).collect(), alpha)
            }
            Loss::Poisson | Loss::Tweedie { .. } => {
                let num = crate::total(y.iter().zip(w).map(|(y, w)| y * w));
                let den = crate::total(offset.iter().zip(w).map(|(o, w)| o.exp() * w));
                (num > 0.0 && den > 0.0).then(|| (num / den).ln())
            }
        }
    }

    /// The name a person reads.
    pub fn label(self) -> String {
        match self {
            Loss::L2 => "squared error (mean)".into(),
            Loss::L1 => "absolute error (median)".into(),
            Loss::Quantile { alpha } => format!("quantile P{}", (alpha * 100.0).round()),
            Loss::Poisson => "Poisson".into(),
            Loss::Tweedie { power } => format!("Tweedie (power {power})"),
        }
    }
}

impl std::str::FromStr for Loss {
    type Err = String;
    /// `l2`, `l1`, `poisson`, `tweedie:POWER` (1.1–1.9, default 1.5), `quantile:ALPHA` (0–1, e.g. 0.9).
    fn from_str(s: &str) -> Result<Loss, String> {
        let t = s.trim().to_ascii_lowercase();
        let (name, value) = t.split_once(':').map_or((t.as_str(), None), |(n, v)| (n, Some(v)));
        let number = |default: Option<f64>| match value {
            Some(v) => v.trim().parse::<f64>().map_err(|_| format!("{s:?}: {v:?} is not a number")),
            None => default.ok_or_else(|| format!("{s:?}: give the quantile, e.g. quantile:0.9")),
        };
        let loss = match name {
            "l2" | "mse" | "squared" => Loss::L2,
            "l1" | "mae" | "median" => Loss::L1,
            "poisson" => Loss::Poisson,
            "tweedie" => Loss::Tweedie { power: number(Some(1.5))? },
            "quantile" => Loss::Quantile { alpha: number(None)? },
            _ => {
                return Err(format!("unknown loss {s:?}: expected l2, l1, poisson, tweedie[:power] or quantile:alpha"))
            }
        };
        if value.is_some() && !matches!(loss, Loss::Tweedie { .. } | Loss::Quantile { .. }) {
            return Err(format!("{s:?}: only tweedie and quantile take a value"));
        }
        Ok(loss)
    }
}

/// The α-quantile of weighted values: the smallest value whose cumulative weight reaches α of the
/// total (the inverse of the weighted empirical CDF; exact for medians of odd counts). `None` for
/// no positive weight.
pub fn weighted_quantile(mut values: Vec<(f64, f64)>, alpha: f64) -> Option<f64> {
    values.retain(|(v, w)| v.is_finite() && *w > 0.0);
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = crate::total(values.iter().map(|(_, w)| *w));
    let target = alpha * total;
    let mut seen = 0.0;
    for (v, w) in &values {
        seen += w;
        if seen >= target {
            return Some(*v);
        }
    }
    values.last().map(|(v, _)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOSSES: [Loss; 6] = [
        Loss::L2,
        Loss::L1,
        Loss::Quantile { alpha: 0.9 },
        Loss::Poisson,
        Loss::Tweedie { power: 1.5 },
        Loss::Tweedie { power: 1.1 },
    ];

    /// Every gradient is the derivative of its loss (central differences, away from L1's kink), and
    /// every Hessian the gradient's derivative — except Poisson's, which is LightGBM's damped e^(f + 0.7).
    #[test]
    fn gradients_and_hessians_are_the_losses_derivatives() {
        for loss in LOSSES {
            for (y, f) in [(0.0, -0.7), (3.0, 0.4), (1.0, 1.3), (7.5, 2.2), (0.0, 0.0)] {
                if y == f && loss.leaf_quantile().is_some() {
                    continue; // the kink: no derivative
                }
                let e = 1e-6;
                let num_g = (loss.value(y, f + e) - loss.value(y, f - e)) / (2.0 * e);
                let (g, h) = loss.derivatives(y, f);
                assert!((g - num_g).abs() < 1e-6 * (1.0 + g.abs()), "{loss:?} y={y} f={f}: {g} vs {num_g}");
                let num_h = (loss.derivatives(y, f + e).0 - loss.derivatives(y, f - e).0) / (2.0 * e);
                let want_h = match loss {
                    Loss::L1 | Loss::Quantile { .. } => 1.0,
                    Loss::Poisson => num_h * POISSON_HESSIAN_STEP.exp(),
                    _ => num_h,
                };
                assert!((h - want_h).abs() < 1e-5 * (1.0 + h.abs()), "{loss:?} y={y} f={f}: {h} vs {want_h}");
            }
        }
    }

    #[test]
    fn losses_read_from_text() {
        assert_eq!("poisson".parse(), Ok(Loss::Poisson));
        assert_eq!("Tweedie".parse(), Ok(Loss::Tweedie { power: 1.5 }));
        assert_eq!("tweedie:1.2".parse(), Ok(Loss::Tweedie { power: 1.2 }));
        assert_eq!("quantile:0.9".parse(), Ok(Loss::Quantile { alpha: 0.9 }));
        assert_eq!("median".parse(), Ok(Loss::L1));
        assert!("quantile".parse::<Loss>().unwrap_err().contains("give the quantile"));
        assert!("l2:3".parse::<Loss>().unwrap_err().contains("only tweedie and quantile take a value"));
        assert!("gamma".parse::<Loss>().unwrap_err().starts_with("unknown loss \"gamma\""));
    }

    /// The constant that minimises each loss, by hand: targets 1, 2, 3, 10 (weights 1, 1, 1, 2).
    #[test]
    fn base_scores_are_the_minimising_constants() {
        let (y, w, zero) = ([1.0, 2.0, 3.0, 10.0], [1.0, 1.0, 1.0, 2.0], [0.0; 4]);
        assert_eq!(Loss::L2.base_score(&y, &w, &zero), Some(26.0 / 5.0));
        // Cumulative weights 1, 2, 3, 5 of 5: the median (2.5) is reached at 3, P90 (4.5) at 10.
        assert_eq!(Loss::L1.base_score(&y, &w, &zero), Some(3.0));
        assert_eq!(Loss::Quantile { alpha: 0.9 }.base_score(&y, &w, &zero), Some(10.0));
        assert_eq!(Loss::Quantile { alpha: 0.1 }.base_score(&y, &w, &zero), Some(1.0));
        let ln = Loss::Poisson.base_score(&y, &w, &zero).unwrap();
        assert!((ln - (26.0f64 / 5.0).ln()).abs() < 1e-15);
        // With an offset: ln(Σy / Σe^offset), the factor that scales the offset's predictions to the total.
        let offset = [0.0, 1.0f64.ln(), 2.0f64.ln(), 4.0f64.ln()];
        let ln = Loss::Tweedie { power: 1.5 }.base_score(&y, &w, &offset).unwrap();
        assert!((ln - (26.0f64 / 12.0).ln()).abs() < 1e-15, "{ln}");
        // Each is a minimum: moving the constant either way raises the total loss.
        for loss in LOSSES {
            let b = loss.base_score(&y, &w, &zero).unwrap();
            let at = |c: f64| crate::total(y.iter().zip(&w).map(|(y, w)| w * loss.value(*y, c)));
            assert!(at(b) <= at(b + 0.01) && at(b) <= at(b - 0.01), "{loss:?} at {b}");
        }
        assert_eq!(Loss::Poisson.base_score(&[0.0, 0.0], &[1.0, 1.0], &[0.0, 0.0]), None, "no positive target");
        assert_eq!(Loss::L2.base_score(&[1.0], &[0.0], &[0.0]), None, "no weight");
    }
}
