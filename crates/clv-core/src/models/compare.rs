//! Ranking fitted count models on the same customers by information criteria:
//! AIC = 2k − 2 ln L (Akaike 1974) and BIC = k ln n − 2 ln L (Schwarz 1978),
//! k parameters, n customers. BIC is the ranking: it charges each parameter
//! more as the data grow, so a richer model leads only when the data ask for
//! it. Its differences are read on Kass & Raftery's (1995) scale.
//!
//! ```
//! use clv_core::models::compare::{evidence, Evidence};
//! assert_eq!(evidence(25.2), Evidence::VeryStrong);
//! assert_eq!(evidence(1.0), Evidence::None);
//! ```

use super::{FitReport, ModelId};
use serde::{Deserialize, Serialize};

/// One model's place among the fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// The model.
    pub model: ModelId,
    /// Free parameters.
    pub params: usize,
    /// ln L at the optimum.
    pub log_likelihood: f64,
    /// 2k − 2 ln L.
    pub aic: f64,
    /// k ln n − 2 ln L.
    pub bic: f64,
    /// BIC minus the best model's BIC (0 for the best).
    pub delta_bic: f64,
    /// Ranked as the simpler model its boundary optimum tends to (the fit's [`super::LimitingFit`]):
    /// that model in words. `None` for an interior fit.
    #[serde(default)]
    pub limit: Option<String>,
}

impl Standing {
    /// The model's name, with the limit it was ranked as.
    pub fn label(&self) -> String {
        match &self.limit {
            None => self.model.label().to_string(),
            Some(limit) => format!("{} in the limit ({limit})", self.model.label()),
        }
    }
}

/// How strongly a BIC difference favours the lower model (Kass & Raftery 1995, section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Evidence {
    /// Below 2: not worth more than a bare mention.
    None,
    /// 2 to 6.
    Positive,
    /// 6 to 10.
    Strong,
    /// Above 10.
    VeryStrong,
}

impl Evidence {
    /// The scale's words.
    pub fn words(self) -> &'static str {
        match self {
            Evidence::None => "no real difference",
            Evidence::Positive => "positive evidence",
            Evidence::Strong => "strong evidence",
            Evidence::VeryStrong => "very strong evidence",
        }
    }
}

/// Kass & Raftery's reading of a BIC difference.
pub fn evidence(delta_bic: f64) -> Evidence {
    match delta_bic {
        d if d > 10.0 => Evidence::VeryStrong,
        d if d > 6.0 => Evidence::Strong,
        d if d > 2.0 => Evidence::Positive,
        _ => Evidence::None,
    }
}

/// The converged count-model fits (Gamma–Gamma models spend, not the same data, and is left
/// out), best BIC first. A fit whose optimum lies on a boundary is ranked as the simpler model it
/// tends to when that limiting fit converged (its own parameter count and ln L): it is what the
/// data support, and leaving it out would name a worse model best. Fits on different customers
/// are not comparable: only those on the most customers are kept.
pub fn leaderboard(fits: &[FitReport]) -> Vec<Standing> {
    let ranked: Vec<(&FitReport, usize, f64, Option<String>)> = fits
        .iter()
        .filter(|f| f.model != ModelId::Gg && f.model != ModelId::Sbg)
        .filter_map(|f| match &f.limiting {
            _ if f.convergence.converged => Some((f, f.params.len(), f.log_likelihood, None)),
            Some(l) if l.convergence.converged && l.free_params > 0 => {
                Some((f, l.free_params, l.log_likelihood, Some(l.description.clone())))
            }
            _ => None,
        })
        .collect();
    let n = ranked.iter().map(|(f, ..)| f.n_customers).fold(0.0, f64::max);
    let mut board: Vec<Standing> = ranked
        .into_iter()
        .filter(|(f, ..)| f.n_customers == n && n > 0.0)
        .map(|(f, params, log_likelihood, limit)| {
            let k = params as f64;
            Standing {
                model: f.model,
                params,
                log_likelihood,
                aic: 2.0 * k - 2.0 * log_likelihood,
                bic: k * n.ln() - 2.0 * log_likelihood,
                delta_bic: 0.0,
                limit,
            }
        })
        .collect();
    board.sort_by(|a, b| a.bic.total_cmp(&b.bic));
    let best = board.first().map_or(0.0, |s| s.bic);
    board.iter_mut().for_each(|s| s.delta_bic = s.bic - best);
    board
}

/// Why the first model leads, in words (empty board: `None`).
pub fn verdict(board: &[Standing]) -> Option<String> {
    let best = board.first()?;
    Some(match board.get(1) {
        None => format!("{} is the only converged model.", best.label()),
        Some(next) => format!(
            "{} has the lowest BIC: it explains these customers best for its number of parameters. Against {} the BIC difference is {:.1}: {}.",
            best.label(),
            next.label(),
            next.delta_bic,
            evidence(next.delta_bic).words()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Convergence, LimitingFit, ParamEstimate};

    fn fit(model: ModelId, ll: f64, k: usize, n: f64, converged: bool) -> FitReport {
        let p = ParamEstimate { name: "p".into(), value: 1.0, std_error: None, ci_low: None, ci_high: None };
        FitReport {
            model,
            params: vec![p; k],
            log_likelihood: ll,
            convergence: Convergence {
                converged,
                iterations: 1,
                gradient_norm: 0.0,
                method: "L-BFGS".into(),
                message: String::new(),
                boundary: None,
            },
            n_customers: n,
            n_unique: 1,
            penalizer: 0.0,
            warnings: Vec::new(),
            limiting: None,
            log_covariance: None,
        }
    }

    /// Hand-computed: n = 100, ln n = 4.60517; (−100, k 2) BIC 209.21, AIC 204; (−98, k 4)
    /// BIC 214.42, AIC 204. Fader, Hardie & Lee (2005) on CDNOW: BG/NBD −9582.4, Pareto/NBD
    /// −9595.0, both 4 parameters: ΔBIC = 25.2, very strong.
    #[test]
    fn bic_ranks_and_its_differences_are_read_on_kass_raftery_s_scale() {
        let b = leaderboard(&[fit(ModelId::Pnbd, -98.0, 4, 100.0, true), fit(ModelId::Bgnbd, -100.0, 2, 100.0, true)]);
        assert_eq!(b.iter().map(|s| s.model).collect::<Vec<_>>(), [ModelId::Bgnbd, ModelId::Pnbd]);
        assert!((b[0].bic - 209.2103).abs() < 1e-4 && (b[1].bic - 214.4207).abs() < 1e-4, "{b:?}");
        assert_eq!((b[0].aic, b[1].aic), (204.0, 204.0));
        assert!((b[1].delta_bic - 5.2103).abs() < 1e-4 && b[0].delta_bic == 0.0);
        let cdnow = leaderboard(&[
            fit(ModelId::Pnbd, -9595.0, 4, 2357.0, true),
            fit(ModelId::Bgnbd, -9582.4, 4, 2357.0, true),
            fit(ModelId::Mbgnbd, -9000.0, 4, 2357.0, false), // not a result: not ranked
            fit(ModelId::Gg, -5000.0, 3, 946.0, true),       // spend: other data
        ]);
        assert_eq!(cdnow.len(), 2);
        assert!((cdnow[1].delta_bic - 25.2).abs() < 1e-9);
        let v = verdict(&cdnow).unwrap();
        assert!(v.starts_with("BG/NBD has the lowest BIC") && v.contains("25.2: very strong evidence"), "{v}");
        assert_eq!(verdict(&[]), None);
    }

    /// A boundary fit is ranked as its converged limiting model (its own k and ln L) and named
    /// as such; an unconverged limit is not ranked. Hand-computed: n = 90, ln n = 4.49981;
    /// limit (−1345.47, k 3) BIC 2704.44; MBG/NBD (−1349.25, k 4) BIC 2716.50.
    #[test]
    fn a_boundary_fit_is_ranked_as_the_model_it_tends_to() {
        let limit = |ll: f64, converged: bool| {
            let mut c = fit(ModelId::Pnbd, ll, 3, 90.0, converged).convergence;
            c.converged = converged;
            Box::new(LimitingFit {
                description: "one purchase rate for everyone (0.05 per time unit)".into(),
                params: Vec::new(),
                log_likelihood: ll,
                convergence: c,
                free_params: 3,
            })
        };
        let mut pnbd = fit(ModelId::Pnbd, -1345.48, 4, 90.0, false);
        pnbd.limiting = Some(limit(-1345.47, true));
        let mbg = fit(ModelId::Mbgnbd, -1349.25, 4, 90.0, true);
        let b = leaderboard(&[mbg.clone(), pnbd.clone()]);
        assert_eq!(b.iter().map(|s| s.model).collect::<Vec<_>>(), [ModelId::Pnbd, ModelId::Mbgnbd]);
        assert_eq!((b[0].params, b[0].log_likelihood), (3, -1345.47));
        assert!((b[0].bic - 2704.4394).abs() < 1e-3 && (b[1].bic - 2716.4993).abs() < 1e-3, "{b:?}");
        let v = verdict(&b).unwrap();
        assert!(v.starts_with("Pareto/NBD in the limit (one purchase rate for everyone"), "{v}");
        pnbd.limiting = Some(limit(-1345.47, false));
        assert_eq!(leaderboard(&[mbg, pnbd]).len(), 1);
    }
}
