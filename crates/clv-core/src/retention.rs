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
    #[error("expected a column `active` (or `survivors`, or a single column of counts), optionally with `period` and `cohort`, or the table `clv cohorts --table` writes; the header has {0}")]
    NoCounts(String),
    /// One cohort's rows are not together.
    #[error("line {line}: cohort {cohort:?} again after other cohorts: give each cohort's periods together, in order")]
    Split {
        /// 1-based physical line.
        line: u64,
        /// The cohort.
        cohort: String,
    },
    /// Several cohorts where one was expected.
    #[error(
        "the file has {0} cohorts: `clv retention` fits and projects each, `clv fit --model sbg` fits them together"
    )]
    Cohorts(usize),
}

/// Active customers of one cohort at the start (period 0) and at the end of
/// each period, from a CSV with a column `active`/`survivors`/`customers`
/// (or a single column) and optionally `period` (then 0, 1, 2, … in order).
pub fn parse_survivors(input: impl Read) -> Result<Vec<f64>, SurvivorsError> {
    let mut cohorts = parse_cohort_survivors(input)?;
    match cohorts.len() {
        1 => Ok(cohorts.remove(0).1),
        n => Err(SurvivorsError::Cohorts(n)),
    }
}

/// Each cohort's active counts, from one cohort's counts (as [`parse_survivors`]), a long table
/// `cohort,period,active` (each cohort's periods 0, 1, 2, … in order), or the cohort table
/// `clv cohorts --table` writes (`cohort,segment,users,age_…,…,retained_users`: each cohort
/// total's size, then its members with a purchase at age 1, 2, … or later; segment rows are
/// skipped). One cohort without a `cohort` column is named "all".
pub fn parse_cohort_survivors(input: impl Read) -> Result<Vec<(String, Vec<f64>)>, SurvivorsError> {
    let mut r = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers: Vec<String> = r.headers()?.iter().map(|h| h.to_ascii_lowercase()).collect();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let cohort = find(&["cohort"]);
    let segment = find(&["segment"]);
    // The cohort table's own layout: size from `users`, survivors from `retained_users`.
    let table = find(&["retained_users"]).zip(find(&["users"]));
    let counts = match table {
        Some((retained, _)) => retained,
        None => find(&["active", "survivors", "alive", "customers", "count"])
            .or((headers.len() == 1).then_some(0))
            .ok_or_else(|| SurvivorsError::NoCounts(headers.join(", ")))?,
    };
    let period = find(&["period", "year", "month", "week", "t"]).or(headers.iter().position(|h| h.starts_with("age_")));
    let mut out: Vec<(String, Vec<f64>)> = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let line = rec.position().map_or(0, |p| p.line());
        if segment.and_then(|i| rec.get(i)).is_some_and(|s| !s.is_empty()) {
            continue;
        }
        let count = |i: usize| {
            let cell = rec.get(i).unwrap_or_default();
            cell.parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| SurvivorsError::NotACount { line, value: cell.to_string() })
        };
        let name = cohort.and_then(|i| rec.get(i)).unwrap_or("all");
        if out.last().is_none_or(|(n, _)| n != name) {
            if out.iter().any(|(n, _)| n == name) {
                return Err(SurvivorsError::Split { line, cohort: name.to_string() });
            }
            out.push((name.to_string(), Vec::new()));
        }
        let active = &mut out.last_mut().expect("pushed above").1;
        if let Some(p) = period {
            let got = rec.get(p).unwrap_or_default();
            if got.parse::<usize>().ok() != Some(active.len()) {
                return Err(SurvivorsError::Period { line, got: got.to_string(), expected: active.len() });
            }
        }
        // Age 0 of the cohort table: the cohort's size, not those who bought at 0 or later.
        let v = match table {
            Some((_, users)) if active.is_empty() => count(users)?,
            _ => count(counts)?,
        };
        active.push(v);
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

/// One sBG fit to several cohorts together (one γ, δ for all): each cohort contributes its
/// churn per period and its survivors at its last observed period, so cohorts observed for
/// different lengths combine as in a cohort table.
pub fn fit_pooled(cohorts: &[Vec<f64>], opts: &FitOptions) -> Result<FitReport, ModelError> {
    let mut rows = crate::models::Weighted::default();
    for active in cohorts {
        let w = ShiftedBetaGeometric::rows_from_survivors(active)?;
        rows.rows.extend(w.rows);
        rows.weights.extend(w.weights);
    }
    Ok(fit::<ShiftedBetaGeometric>(&rows, opts)?.report)
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

    /// Cohort tables: a long `cohort,period,active` file and the table `clv cohorts --table`
    /// writes give each cohort's counts; fitted together, a cohort and its copy give that
    /// cohort's own estimates (the paper's 0.704, 1.182 for the regular customers).
    #[test]
    fn cohort_tables_give_each_cohorts_counts_and_fit_together() {
        let long = "cohort,period,active\nA,0,1000\nA,1,631\nA,2,468\nA,3,382\nA,4,326\nA,5,289\nA,6,262\nA,7,241\nB,0,10\nB,1,7\n";
        let c = parse_cohort_survivors(long.as_bytes()).unwrap();
        assert_eq!(c.iter().map(|(n, v)| (n.as_str(), v.len())).collect::<Vec<_>>(), [("A", 8), ("B", 2)]);
        let e = parse_survivors(long.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("the file has 2 cohorts"), "{e}");
        let table = "cohort,segment,users,age_months,active_users,revenue,cumulative_per_user,retention,retained_users\n\
            2001-01,,10,0,9,1,1,0.9,9\n2001-01,web,4,0,4,1,1,1,4\n2001-01,,10,1,6,1,1,0.6,7\n2001-01,,10,2,5,1,1,0.5,5\n2001-02,,3,0,3,1,1,1,3\n";
        let c = parse_cohort_survivors(table.as_bytes()).unwrap();
        let expected: Vec<(String, Vec<f64>)> =
            vec![("2001-01".into(), vec![10.0, 7.0, 5.0]), ("2001-02".into(), vec![3.0])];
        assert_eq!(c, expected);
        let split = "cohort,period,active\nA,0,10\nB,0,5\nA,1,8\n";
        assert!(parse_cohort_survivors(split.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("line 4: cohort \"A\" again"));
        let regular = vec![1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
        let r = fit_pooled(&[regular.clone(), regular], &FitOptions::default()).unwrap();
        let p: Vec<f64> = r.params.iter().map(|p| p.value).collect();
        assert!((p[0] - 0.704).abs() < 0.0005 && (p[1] - 1.182).abs() < 0.0005, "{p:?}");
        assert_eq!(r.n_customers, 2000.0);
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
