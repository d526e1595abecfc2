//! Rolling-origin evaluation (Tashman 2000): cut the series at several
//! origins, forecast the next `horizon` values from each, and score every
//! method beside the baselines a forecast must beat.
//!
//! Metrics per horizon step and overall: MAE, RMSE, MASE (errors scaled by
//! the in-sample MAE of the seasonal naive forecast at each origin —
//! Hyndman & Koehler 2006) and sMAPE (0–200, a step where actual and
//! forecast are both zero counts as 0).

use super::{flat_mean, seasonal_naive, ForecastError, HoltWintersParams};
use serde::{Deserialize, Serialize};

/// A forecasting method, named in output and on the command line in kebab-case
/// (`holt-winters`, `seasonal-naive`, …). The first four forecast a series
/// ([`Method::point`]); `Pooled` and `Observed` say how a cohort's value was
/// obtained (as series methods they give the flat mean).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Additive Holt–Winters with an undamped trend (φ = 1).
    HoltWinters,
    /// Additive Holt–Winters with a damped trend (φ fitted in [0.8, 0.98]).
    DampedHoltWinters,
    /// The value one season earlier ([`seasonal_naive`]), the baseline to beat.
    SeasonalNaive,
    /// The mean of the history, flat ([`flat_mean`]); also the fallback of a series
    /// Holt–Winters cannot fit.
    Mean,
    /// Per-user revenue curve pooled over cohorts (cohort fallback).
    Pooled,
    /// The cohort is old enough: nothing to forecast.
    Observed,
}

impl Method {
    /// The kebab-case name, the same as the serde name.
    pub fn name(self) -> &'static str {
        match self {
            Method::HoltWinters => "holt-winters",
            Method::DampedHoltWinters => "damped-holt-winters",
            Method::SeasonalNaive => "seasonal-naive",
            Method::Mean => "mean",
            Method::Pooled => "pooled",
            Method::Observed => "observed",
        }
    }

    /// Point forecast of `horizon` steps from `y` (revenue: clamped ≥ 0).
    pub fn point(self, y: &[f64], season: usize, horizon: usize) -> Result<Vec<f64>, ForecastError> {
        let mut out = match self {
            Method::HoltWinters | Method::DampedHoltWinters => {
                HoltWintersParams::new(season, self == Method::DampedHoltWinters)?.fit(y)?.point(horizon)
            }
            Method::SeasonalNaive => seasonal_naive(y, season, horizon),
            Method::Mean | Method::Pooled | Method::Observed => flat_mean(y, horizon),
        };
        out.iter_mut().for_each(|v| *v = v.max(0.0));
        Ok(out)
    }
}

/// Accuracy of a set of forecasts against the actual values (definitions in the
/// module doc); zero, with no MASE, when there was nothing to score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Metrics {
    /// Mean absolute error, in the series' units.
    pub mae: f64,
    /// Root mean squared error, in the series' units.
    pub rmse: f64,
    /// `None` when every training window was all zeros (no scale to divide by).
    pub mase: Option<f64>,
    /// Symmetric mean absolute percentage error, 0–200 (a step where actual and
    /// forecast are both zero counts as 0).
    pub smape: f64,
}

/// The backtest scores of one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodScore {
    /// The method scored.
    pub method: Method,
    /// Index h−1: metrics of the h-step-ahead forecasts over all origins.
    pub by_horizon: Vec<Metrics>,
    /// Metrics over every step of every origin.
    pub overall: Metrics,
    /// Overall MASE worse than the seasonal naive forecast's.
    pub loses_to_seasonal_naive: bool,
}

/// The result of [`rolling_origin`]: every method scored on the same origins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    /// Steps forecast from each origin.
    pub horizon: usize,
    /// Number of values before each origin (training lengths).
    pub origins: Vec<usize>,
    /// One score per method: the requested ones in the order given, then seasonal
    /// naive and mean unless they were requested.
    pub scores: Vec<MethodScore>,
}

/// Errors of one forecast against the actuals, with the origin's MASE scale.
struct Errors {
    err: Vec<f64>,
    actual: Vec<f64>,
    forecast: Vec<f64>,
    scale: Option<f64>,
}

/// In-sample MAE of the one-season-back forecast. A perfectly periodic
/// history falls back to the mean absolute value (so MASE stays finite); an
/// all-zero history has no scale at all (`None`: MASE is not reported).
fn mase_scale(train: &[f64], season: usize) -> Option<f64> {
    let lag = season.min(train.len().saturating_sub(1)).max(1);
    let d: Vec<f64> = train.windows(lag + 1).map(|w| (w[lag] - w[0]).abs()).collect();
    let s = if d.is_empty() { 0.0 } else { d.iter().sum::<f64>() / d.len() as f64 };
    let level = train.iter().map(|v| v.abs()).sum::<f64>() / train.len().max(1) as f64;
    [s, level].into_iter().find(|v| *v > 0.0 && v.is_finite())
}

fn summarise(errors: &[&Errors], step: Option<usize>) -> Metrics {
    let (mut n, mut abs, mut sq, mut smape) = (0.0, 0.0, 0.0, 0.0);
    let (mut scaled, mut n_scaled) = (0.0, 0.0);
    for e in errors {
        let steps: Vec<usize> = match step {
            Some(h) if h < e.err.len() => vec![h],
            Some(_) => vec![],
            None => (0..e.err.len()).collect(),
        };
        for h in steps {
            let d = e.err[h];
            n += 1.0;
            abs += d.abs();
            sq += d * d;
            if let Some(scale) = e.scale {
                scaled += d.abs() / scale;
                n_scaled += 1.0;
            }
            let denom = e.actual[h].abs() + e.forecast[h].abs();
            smape += if denom > 0.0 { 200.0 * d.abs() / denom } else { 0.0 };
        }
    }
    if n == 0.0 {
        return Metrics::default();
    }
    let mase = (n_scaled > 0.0).then(|| scaled / n_scaled);
    Metrics { mae: abs / n, rmse: (sq / n).sqrt(), mase, smape: smape / n }
}

/// Backtest `methods` (seasonal naive and mean are always added) from
/// `origins` cut points a season apart, ending `horizon` before the end.
/// Origins too early for a method's minimum length are skipped for all
/// methods, so every method is scored on the same forecasts.
pub fn rolling_origin(
    y: &[f64],
    season: usize,
    horizon: usize,
    origins: usize,
    methods: &[Method],
) -> Result<Backtest, ForecastError> {
    // Long enough for every requested method (the damped fit has one more parameter).
    let damped = methods.contains(&Method::DampedHoltWinters);
    let min_len = HoltWintersParams::new(season, damped)?.min_len();
    let cuts: Vec<usize> =
        (0..origins).filter_map(|k| y.len().checked_sub(horizon + k * season)).filter(|&c| c >= min_len).collect();
    if horizon == 0 || cuts.is_empty() {
        return Err(ForecastError::TooShort { len: y.len(), needed: min_len + horizon });
    }
    let mut all = methods.to_vec();
    for base in [Method::SeasonalNaive, Method::Mean] {
        if !all.contains(&base) {
            all.push(base);
        }
    }
    let mut scores = Vec::new();
    for &method in &all {
        let mut errors = Vec::new();
        for &cut in &cuts {
            let (train, test) = (&y[..cut], &y[cut..cut + horizon]);
            let forecast = method.point(train, season, horizon)?;
            let err = test.iter().zip(&forecast).map(|(a, f)| a - f).collect();
            errors.push(Errors { err, actual: test.to_vec(), forecast, scale: mase_scale(train, season) });
        }
        let refs: Vec<&Errors> = errors.iter().collect();
        scores.push(MethodScore {
            method,
            by_horizon: (0..horizon).map(|h| summarise(&refs, Some(h))).collect(),
            overall: summarise(&refs, None),
            loses_to_seasonal_naive: false,
        });
    }
    let naive = scores.iter().find(|s| s.method == Method::SeasonalNaive).and_then(|s| s.overall.mase);
    for s in &mut scores {
        s.loses_to_seasonal_naive =
            s.method != Method::SeasonalNaive && matches!((s.overall.mase, naive), (Some(m), Some(base)) if m > base);
    }
    Ok(Backtest { horizon, origins: cuts, scores })
}
