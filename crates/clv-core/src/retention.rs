//! Contract retention: a cohort's active counts period by period → the
//! shifted-beta-geometric (sBG) model of Fader & Hardie (2007), "How to
//! project customer retention", Journal of Interactive Marketing 21(1) →
//! projected survival and retention rates. For subscriptions, where churn is
//! observed (a cancelled contract), unlike the BTYD models' silent dropout.
//!
//! ```
//! use clv_core::retention::{fit_retention, parse_survivors};
//! // Fader & Hardie (2007), Table 1, regular customers: years 0–7 of 1,000.
//! let active = parse_survivors("active\n1000\n631\n468\n382\n326\n289\n262\n241\n".as_bytes()).unwrap();
//! let r = fit_retention(&active, active.len() - 1, 12, &Default::default()).unwrap();
//! assert!(r.report.convergence.converged);
//! assert!((r.report.params[0].value - 0.704).abs() < 0.001); // the paper's α (γ here)
//! assert_eq!(r.projection.len(), 12);
//! ```

use crate::models::sbg::ShiftedBetaGeometric;
use crate::models::{fit, FitOptions, FitReport, ModelError};
use serde::{Deserialize, Serialize};
use std::io::Read;

/// Why a survivor file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SurvivorsError {
    /// The file could not be read as CSV.
    #[error("{0}")]
    Csv(#[from] csv::Error),
    /// A count that is not a non-negative number.
    #[error("line {line}: {value:?} is not a count of active customers (a number ≥ 0)")]
    NotACount {
        /// 1-based physical line.
        line: u64,
        /// The cell.
        value: String,
    },
    /// Periods not 0, 1, 2, … in order.
    #[error("line {line}: period {got} where period {expected} was expected (periods run 0, 1, 2, … with the cohort size at 0)")]
    Period {
        /// 1-based physical line.
        line: u64,
        /// The period given.
        got: String,
        /// The period expected there.
        expected: usize,
    },
    /// No column of counts.
    #[error("expected a column `active` (or `survivors`, or a single column of counts), optionally with `period`; the header has {0}")]
    NoCounts(String),
}

/// Active customers of one cohort at the start (period 0) and at the end of
/// each period, from a CSV with a column `active`/`survivors`/`customers`
/// (or a single column) and optionally `period` (then 0, 1, 2, … in order).
pub fn parse_survivors(input: impl Read) -> Result<Vec<f64>, SurvivorsError> {
    let mut r = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers: Vec<String> = r.headers()?.iter().map(|h| h.to_ascii_lowercase()).collect();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let counts = find(&["active", "survivors", "alive", "customers", "count"])
        .or((headers.len() == 1).then_some(0))
        .ok_or_else(|| SurvivorsError::NoCounts(headers.join(", ")))?;
    let period = find(&["period", "year", "month", "week", "t"]);
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let line = rec.position().map_or(0, |p| p.line());
        let cell = rec.get(counts).unwrap_or_default();
        let v: f64 = cell
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| SurvivorsError::NotACount { line, value: cell.to_string() })?;
        if let Some(p) = period {
            let got = rec.get(p).unwrap_or_default();
            if got.parse::<usize>().ok() != Some(out.len()) {
                return Err(SurvivorsError::Period { line, got: got.to_string(), expected: out.len() });
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// One projected period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetentionRow {
    /// The period (1 = the first after acquisition).
    pub period: usize,
    /// Whether the period was used to fit (else it is a projection).
    pub fitted: bool,
    /// Active customers observed at its end, where the file has them.
    pub actual: Option<f64>,
    /// Expected active customers at its end: cohort size × S(t).
    pub expected: f64,
    /// S(t): the share of the cohort still active.
    pub survival: f64,
    /// r(t) = S(t)/S(t−1): the share of last period's customers kept.
    pub retention: f64,
}

/// An sBG fit to a cohort and what it projects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionFit {
    /// The fit (γ, δ: the paper's α, β), judged by the one convergence rule.
    pub report: FitReport,
    /// Periods 1..=horizon; empty when the fit is not a result.
    pub projection: Vec<RetentionRow>,
}

/// Fit sBG to the first `fit_periods` periods of `active` (counts at periods
/// 0..) and project `horizon` periods. A fit that did not converge projects nothing.
pub fn fit_retention(
    active: &[f64],
    fit_periods: usize,
    horizon: usize,
    opts: &FitOptions,
) -> Result<RetentionFit, ModelError> {
    let used = active.get(..=fit_periods).ok_or_else(|| {
        ModelError::InvalidData(format!(
            "{fit_periods} periods to fit, but the file has {} after the cohort size",
            active.len().saturating_sub(1)
        ))
    })?;
    let rows = ShiftedBetaGeometric::rows_from_survivors(used)?;
    let f = fit::<ShiftedBetaGeometric>(&rows, opts)?;
    let size = active[0];
    let projection = if f.report.convergence.converged {
        (1..=horizon.min(crate::limits::MAX_DISCRETE_HORIZON_PERIODS as usize))
            .map(|t| {
                let survival = f.model.survival(t as f64);
                RetentionRow {
                    period: t,
                    fitted: t <= fit_periods,
                    actual: active.get(t).copied(),
                    expected: size * survival,
                    survival,
                    retention: f.model.retention_rate(t as f64),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(RetentionFit { report: f.report, projection })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIGH_END: &str = "period,active\n0,1000\n1,869\n2,743\n3,653\n4,593\n5,551\n6,517\n7,491\n8,468\n9,445\n10,427\n11,409\n12,394\n";

    #[test]
    fn the_papers_high_end_cohort_fitted_on_seven_years_and_projected() {
        let active = parse_survivors(HIGH_END.as_bytes()).unwrap();
        assert_eq!(active.len(), 13);
        let r = fit_retention(&active, 7, 12, &FitOptions::default()).unwrap();
        // Fader & Hardie (2007): high end α̂ = 0.668, β̂ = 3.806.
        let p: Vec<f64> = r.report.params.iter().map(|p| p.value).collect();
        assert!((p[0] - 0.668).abs() < 0.0005 && (p[1] - 3.806).abs() < 0.0005, "{p:?}");
        assert_eq!(r.projection.iter().filter(|row| row.fitted).count(), 7);
        let year12 = r.projection[11];
        assert_eq!((year12.period, year12.actual), (12, Some(394.0)));
        assert!((year12.expected - 394.0).abs() < 0.05 * 394.0, "{year12:?}");
        assert!(r.projection.windows(2).all(|w| w[1].retention > w[0].retention), "retention rises (sorting)");
    }

    #[test]
    fn a_file_that_is_not_a_cohorts_counts_says_where() {
        let e = |s: &str| parse_survivors(s.as_bytes()).unwrap_err().to_string();
        assert!(e("period,active\n0,1000\n2,900\n").contains("line 3: period 2 where period 1 was expected"));
        assert!(e("active\n1000\n-5\n").contains("line 3: \"-5\" is not a count"));
        assert!(e("a,b\n1,2\n").contains("expected a column `active`"));
        let rising = parse_survivors("active\n100\n120\n".as_bytes()).unwrap();
        let err = fit_retention(&rising, 1, 5, &FitOptions::default()).unwrap_err().to_string();
        assert!(err.contains("rose from 100 to 120"), "{err}");
        let err = fit_retention(&rising, 4, 5, &FitOptions::default()).unwrap_err().to_string();
        assert!(err.contains("4 periods to fit, but the file has 1"), "{err}");
    }
}
