//! Two-level hierarchy reconciliation: a total and its parts (e.g. all
//! countries → each country). Forecasting every level separately leaves
//! the parts not adding up to the total; reconciliation maps the base
//! forecasts ŷ to coherent ones S G ŷ (Wickramasuriya, Athanasopoulos &
//! Hyndman 2019, "Optimal forecast reconciliation … trace minimization";
//! Nixtla `hierarchicalforecast` is the reference implementation).
//!
//! - bottom-up: G takes the parts, total = their sum;
//! - OLS: W = I, which for one total and k parts is the closed form
//!   part_i + (total − Σ parts)/(k + 1);
//! - MinT-shrink: W = λ diag(Ŵ) + (1 − λ) Ŵ from in-sample one-step
//!   residuals, λ by Schäfer & Strimmer (2005) on the correlations.

use super::ForecastError;
use crate::linalg::{cholesky, cholesky_solve, spd_inverse};
use serde::{Deserialize, Serialize};

/// How [`reconcile`] makes the parts add up to the total (formulas in the
/// module doc); named in kebab-case in output and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reconciliation {
    /// Keep the parts' forecasts; the total becomes their sum (its own forecast is
    /// not used).
    BottomUp,
    /// OLS (W = I): the gap between the total and the sum of the parts is shared
    /// equally by the k + 1 series.
    Ols,
    /// MinT with the shrunk covariance of in-sample one-step residuals: series that
    /// forecast worse are adjusted more. Needs the residuals.
    MintShrink,
}

impl Reconciliation {
    /// The kebab-case name, the same as the serde name.
    pub fn name(self) -> &'static str {
        match self {
            Reconciliation::BottomUp => "bottom-up",
            Reconciliation::Ols => "ols",
            Reconciliation::MintShrink => "mint-shrink",
        }
    }
}

/// Coherent forecasts: at every step `total` is the sum of `parts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reconciled {
    /// The reconciled total, per step.
    pub total: Vec<f64>,
    /// The reconciled parts, in the order given, each with one value per step.
    pub parts: Vec<Vec<f64>>,
    /// The method used.
    pub method: Reconciliation,
    /// MinT's shrinkage intensity.
    pub lambda: Option<f64>,
}

/// Reconcile per-step base forecasts. `residuals` (total first, then the
/// parts, equal lengths) are needed for MinT-shrink only.
pub fn reconcile(
    total: &[f64],
    parts: &[Vec<f64>],
    method: Reconciliation,
    residuals: Option<&[Vec<f64>]>,
) -> Result<Reconciled, ForecastError> {
    let h = total.len();
    if parts.iter().any(|p| p.len() != h) {
        return Err(ForecastError::Reconcile("every level needs a forecast of the same length".into()));
    }
    let k = parts.len();
    if k == 0 {
        return Err(ForecastError::Reconcile("a hierarchy needs at least one part below the total".into()));
    }
    let (g, lambda) = match method {
        Reconciliation::BottomUp => return Ok(bottom_up(parts.to_vec(), method, None)),
        Reconciliation::Ols => (ols_matrix(k), None),
        Reconciliation::MintShrink => {
            let res = residuals.ok_or_else(|| ForecastError::Reconcile("MinT needs in-sample residuals".into()))?;
            let (w, lambda) = shrunk_covariance(res, k + 1)?;
            (mint_matrix(&w, k)?, Some(lambda))
        }
    };
    let bottom: Vec<Vec<f64>> = (0..k)
        .map(|i| {
            (0..h)
                .map(|t| g[i * (k + 1)] * total[t] + (0..k).map(|j| g[i * (k + 1) + j + 1] * parts[j][t]).sum::<f64>())
                .collect()
        })
        .collect();
    Ok(bottom_up(bottom, method, lambda))
}

fn bottom_up(parts: Vec<Vec<f64>>, method: Reconciliation, lambda: Option<f64>) -> Reconciled {
    let h = parts.first().map_or(0, Vec::len);
    let total = (0..h).map(|t| parts.iter().map(|p| p[t]).sum()).collect();
    Reconciled { total, parts, method, lambda }
}

/// G (k × (k+1), row-major) for W = I: part_i + (total − Σ parts)/(k+1).
fn ols_matrix(k: usize) -> Vec<f64> {
    let c = 1.0 / (k as f64 + 1.0);
    let mut g = vec![0.0; k * (k + 1)];
    for i in 0..k {
        g[i * (k + 1)] = c;
        for j in 0..k {
            g[i * (k + 1) + j + 1] = if i == j { 1.0 } else { 0.0 } - c;
        }
    }
    g
}

/// G = (Sᵀ W⁻¹ S)⁻¹ Sᵀ W⁻¹ with S = [1ᵀ; I_k].
fn mint_matrix(w: &[f64], k: usize) -> Result<Vec<f64>, ForecastError> {
    let n = k + 1;
    let rows: Vec<Vec<f64>> = (0..n).map(|i| w[i * n..(i + 1) * n].to_vec()).collect();
    let winv = spd_inverse(&rows).ok_or_else(|| ForecastError::Reconcile("residual covariance is singular".into()))?;
    // (SᵀW⁻¹)_{i,c} = W⁻¹[0][c] + W⁻¹[i+1][c]
    let swi: Vec<f64> =
        (0..k).flat_map(|i| (0..n).map(move |c| (i, c))).map(|(i, c)| winv[0][c] + winv[i + 1][c]).collect();
    let mut sws: Vec<f64> =
        (0..k).flat_map(|i| (0..k).map(move |j| (i, j))).map(|(i, j)| swi[i * n] + swi[i * n + j + 1]).collect();
    if !cholesky(&mut sws, k) {
        return Err(ForecastError::Reconcile("SᵀW⁻¹S is not positive definite".into()));
    }
    let mut g = vec![0.0; k * n];
    let mut col = vec![0.0; k];
    for c in 0..n {
        for i in 0..k {
            col[i] = swi[i * n + c];
        }
        cholesky_solve(&sws, k, &mut col);
        for i in 0..k {
            g[i * n + c] = col[i];
        }
    }
    Ok(g)
}

/// Schäfer–Strimmer shrinkage of the residual covariance toward its diagonal.
fn shrunk_covariance(res: &[Vec<f64>], n: usize) -> Result<(Vec<f64>, f64), ForecastError> {
    let t = res.first().map_or(0, Vec::len);
    if res.len() != n || res.iter().any(|r| r.len() != t) || t < 3 {
        return Err(ForecastError::Reconcile("MinT needs at least 3 residuals per series, equal lengths".into()));
    }
    let tf = t as f64;
    let mean: Vec<f64> = res.iter().map(|r| r.iter().sum::<f64>() / tf).collect();
    let sd: Vec<f64> = res
        .iter()
        .zip(&mean)
        .map(|(r, m)| (r.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (tf - 1.0)).sqrt().max(1e-300))
        .collect();
    let z: Vec<Vec<f64>> =
        res.iter().enumerate().map(|(i, r)| r.iter().map(|v| (v - mean[i]) / sd[i]).collect()).collect();
    let (mut num, mut den) = (0.0, 0.0);
    let mut w = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let prod: Vec<f64> = (0..t).map(|s| z[i][s] * z[j][s]).collect();
            let r = prod.iter().sum::<f64>() / (tf - 1.0);
            w[i * n + j] = r * sd[i] * sd[j];
            if i != j {
                let pm = prod.iter().sum::<f64>() / tf;
                num += tf / (tf - 1.0).powi(3) * prod.iter().map(|p| (p - pm).powi(2)).sum::<f64>();
                den += r * r;
            }
        }
    }
    let lambda = if den > 0.0 { (num / den).clamp(0.0, 1.0) } else { 1.0 };
    for i in 0..n {
        for j in 0..n {
            if i != j {
                w[i * n + j] *= 1.0 - lambda;
            }
        }
    }
    Ok((w, lambda))
}
