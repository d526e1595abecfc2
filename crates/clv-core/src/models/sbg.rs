//! Shifted-beta-geometric (sBG) retention: Fader & Hardie (2007), "How to
//! project customer retention", Journal of Interactive Marketing 21(1),
//! 76–90.
//!
//! Each customer of a subscription cohort churns at the end of any period
//! with probability θ ~ Beta(γ, δ) (the paper's α, β). With
//! P(T = 1) = γ/(γ+δ) and P(T = t) = (δ+t−2)/(γ+δ+t−1) · P(T = t−1) (eq. 7),
//! the survivor function is S(t) = B(γ, δ+t)/B(γ, δ) and the retention rate
//! rₜ = (δ+t−1)/(γ+δ+t−1) rises with t: the cohort sorts itself.

use super::special::ln_beta;
use super::{finite_or, positive, Likelihood, ModelError, Weighted};
use serde::{Deserialize, Serialize};

/// One cohort observation: customers who churned in `period`, or (when
/// `survived`) who were still active at the end of `period`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SbgRow {
    /// The period, 1-based, in which the customers churned, or at whose end they were still active.
    pub period: f64,
    /// `true`: still active at the end of `period` (censored); `false`: churned in `period`.
    pub survived: bool,
}

/// A shifted-beta-geometric retention model (Fader & Hardie 2007) of one cohort: `gamma`, `delta` (the
/// paper's α, β) are the beta distribution of the per-period churn probability θ across customers.
/// Not yet used by the page or the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShiftedBetaGeometric {
    gamma: f64,
    delta: f64,
}

impl ShiftedBetaGeometric {
    /// The model from γ, δ (both positive finite numbers, else [`ModelError::InvalidParameter`]).
    pub fn new(gamma: f64, delta: f64) -> Result<Self, ModelError> {
        Ok(ShiftedBetaGeometric { gamma: positive("gamma", gamma)?, delta: positive("delta", delta)? })
    }

    /// S(t): the share of the cohort still active after t periods.
    pub fn survival(&self, t: f64) -> f64 {
        (ln_beta(self.gamma, self.delta + t) - ln_beta(self.gamma, self.delta)).exp()
    }

    /// rₜ = S(t)/S(t−1): the retention rate in period t (eq. 8).
    pub fn retention_rate(&self, t: f64) -> f64 {
        (self.delta + t - 1.0) / (self.gamma + self.delta + t - 1.0)
    }

    /// The data of a cohort from its active counts n₀, n₁, …, nₖ (n₀ = the
    /// cohort size): n_{t−1} − n_t churned in period t, n_k survived period k.
    pub fn rows_from_survivors(active: &[f64]) -> Result<Weighted<SbgRow>, ModelError> {
        if active.len() < 2 {
            return Err(ModelError::InvalidData("need the cohort size and at least one later count".into()));
        }
        let mut w = Weighted::default();
        for (t, pair) in active.windows(2).enumerate() {
            let lost = pair[0] - pair[1];
            if lost.is_nan() || lost < 0.0 {
                return Err(ModelError::InvalidData(format!(
                    "active customers rose from {} to {} in period {}: counts of one cohort can only fall",
                    pair[0],
                    pair[1],
                    t + 1
                )));
            }
            w.rows.push(SbgRow { period: (t + 1) as f64, survived: false });
            w.weights.push(lost);
        }
        w.rows.push(SbgRow { period: (active.len() - 1) as f64, survived: true });
        w.weights.push(active[active.len() - 1]);
        Ok(w)
    }
}

impl Likelihood for ShiftedBetaGeometric {
    type Row = SbgRow;
    const ID: super::ModelId = super::ModelId::Sbg;
    type Cache = ();
    const PARAMS: &'static [&'static str] = &["gamma", "delta"];

    fn from_params(p: &[f64]) -> Result<Self, ModelError> {
        ShiftedBetaGeometric::new(p[0], p[1])
    }

    fn params(&self) -> Vec<f64> {
        vec![self.gamma, self.delta]
    }

    /// ln P(T = t) = ln B(γ+1, δ+t−1) − ln B(γ, δ); ln S(t) for survivors (eq. 6).
    fn ln_likelihood(&self, row: &SbgRow) -> f64 {
        let (g, d, t) = (self.gamma, self.delta, row.period);
        let v = if row.survived { ln_beta(g, d + t) } else { ln_beta(g + 1.0, d + t - 1.0) } - ln_beta(g, d);
        finite_or(v, f64::NEG_INFINITY)
    }

    fn starts() -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0], vec![0.5, 3.0]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{fit, FitOptions};

    /// Fader & Hardie (2007), Table 1: active customers at the start and
    /// after years 1–12, per 1,000 acquired.
    const REGULAR: [f64; 13] =
        [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0, 223.0, 207.0, 194.0, 183.0, 173.0];
    const HIGH_END: [f64; 13] =
        [1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0, 468.0, 445.0, 427.0, 409.0, 394.0];

    #[test]
    fn reproduces_the_published_parameters() {
        // The paper fits years 1–7 and projects years 8–12: regular α̂ 0.704,
        // β̂ 1.182; high end α̂ 0.668, β̂ 3.806.
        for (data, want) in [(&REGULAR, [0.704, 1.182]), (&HIGH_END, [0.668, 3.806])] {
            let rows = ShiftedBetaGeometric::rows_from_survivors(&data[..8]).unwrap();
            let f = fit::<ShiftedBetaGeometric>(&rows, &FitOptions::default()).unwrap();
            assert!(f.report.convergence.converged);
            for (p, w) in f.report.params.iter().zip(want) {
                assert!((p.value - w).abs() < 0.0005, "{}: {} vs {w}", p.name, p.value);
            }
            // The projection of years 8–12 stays within 2% of the cohort's actual
            // survivors (the paper's point: sBG projects retention well).
            for (t, actual) in data.iter().enumerate().skip(8) {
                let projected = 1000.0 * f.model.survival(t as f64);
                assert!((projected - actual).abs() < 0.05 * actual, "year {t}: {projected} vs {actual}");
            }
        }
    }

    #[test]
    fn survival_and_retention_are_consistent() {
        let m = ShiftedBetaGeometric::new(0.704, 1.182).unwrap();
        assert!((m.survival(0.0) - 1.0).abs() < 1e-15);
        for t in 1..10 {
            let t = t as f64;
            assert!((m.survival(t) / m.survival(t - 1.0) - m.retention_rate(t)).abs() < 1e-12);
            assert!(m.retention_rate(t + 1.0) > m.retention_rate(t));
        }
        assert!(ShiftedBetaGeometric::rows_from_survivors(&[100.0, 120.0]).is_err());
    }
}
