//! Forecasting revenue series: Holt–Winters (additive trend and season),
//! the baselines it must beat (seasonal naive, flat mean), a rolling-origin
//! backtest, and hierarchy reconciliation.
//!
//! Why hand-written: augurs-ets 0.10 has no seasonal ETS (a seasonal spec
//! panics with `unimplemented!`), and augurs-mstl casts the series to f32 and
//! adds the season deterministically, so neither reproduces the
//! `ExponentialSmoothing(trend="add", seasonal="add", seasonal_periods=7)`
//! reference with its intervals. The model is ~300 lines over argmin's
//! Nelder–Mead and is checked against statsmodels fixtures.

pub mod backtest;
pub mod holt_winters;
pub mod reconcile;
pub mod series;

pub use backtest::{rolling_origin, Backtest, Method, Metrics};
pub use holt_winters::{HoltWinters, HoltWintersParams, Smoothing};
pub use reconcile::{reconcile, Reconciled, Reconciliation};
pub use series::{parse_series, DatedSeries, SeriesError};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a forecast, a backtest or a reconciliation could not be made.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ForecastError {
    /// The series is shorter than the method needs ([`HoltWintersParams::min_len`],
    /// plus the horizon in a backtest).
    #[error("the series has {len} values; this method needs at least {needed} (two full seasons and more points than parameters)")]
    TooShort {
        /// Values in the series.
        len: usize,
        /// Values needed: the method's minimum (plus the horizon in a backtest).
        needed: usize,
    },
    /// A value of the series is NaN or infinite.
    #[error("value {index} of the series is not a finite number")]
    NonFinite {
        /// 0-based position of the first such value.
        index: usize,
    },
    /// Season length outside 2–400 (reported as 0 when [`HoltWinters::with_states`]
    /// gets fewer than two seasonal states).
    #[error("season length {0} is not supported: use 2 to 400 (7 for daily data with a weekly pattern)")]
    Season(usize),
    /// Interval level not strictly between 0 and 1.
    #[error("interval level {0} must be between 0 and 1 (e.g. 0.9)")]
    Level(f64),
    /// The least-squares initial states have no solution at the fitted smoothing
    /// parameters (a singular system).
    #[error("the initial states could not be estimated (the series is constant or degenerate)")]
    Singular,
    /// Nelder–Mead (argmin) could not be set up or run; holds argmin's message.
    #[error("optimiser failed: {0}")]
    Optimiser(String),
    /// The inputs of [`reconcile()`] do not fit together, or a covariance matrix it
    /// needs is singular; the message says which.
    #[error("{0}")]
    Reconcile(String),
    /// More forecast steps than [`MAX_FORECAST_STEPS`](crate::limits::MAX_FORECAST_STEPS).
    #[error("a forecast of {0} steps is too long: at most {max} (27 years of days)", max = crate::limits::MAX_FORECAST_STEPS)]
    Horizon(usize),
}

/// Point forecast with a central prediction interval at `level`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Point forecast for steps h = 1 … horizon after the last value, in the
    /// series' units.
    pub mean: Vec<f64>,
    /// Lower bound of the central `level` interval at each step (normal quantiles
    /// around `mean`).
    pub lower: Vec<f64>,
    /// Upper bound of the central `level` interval at each step.
    pub upper: Vec<f64>,
    /// Coverage probability of the interval, strictly between 0 and 1 (0.9 for a
    /// 90% interval).
    pub level: f64,
}

impl Forecast {
    /// Revenue cannot be negative: clamp mean and bounds at zero and return
    /// how many steps had a negative mean (reported, not hidden).
    pub fn clamp_non_negative(&mut self) -> usize {
        let clamped = self.mean.iter().filter(|v| **v < 0.0).count();
        for v in self.mean.iter_mut().chain(self.lower.iter_mut()).chain(self.upper.iter_mut()) {
            *v = v.max(0.0);
        }
        clamped
    }
}

/// Same weekday last week (generally: the value one season earlier).
pub fn seasonal_naive(y: &[f64], season: usize, horizon: usize) -> Vec<f64> {
    let n = y.len();
    if n < season {
        return flat_mean(y, horizon);
    }
    (0..horizon).map(|h| y[n - season + h % season]).collect()
}

/// The mean of `y` repeated `horizon` times (0 for an empty series): the
/// simplest baseline, and the fallback when Holt–Winters cannot be fitted.
pub fn flat_mean(y: &[f64], horizon: usize) -> Vec<f64> {
    let mean = if y.is_empty() { 0.0 } else { y.iter().sum::<f64>() / y.len() as f64 };
    vec![mean; horizon]
}

/// Share of exact zeros: a series that is mostly zeros (a small cohort's
/// daily revenue) has no weekly shape for Holt–Winters to learn.
pub fn zero_share(y: &[f64]) -> f64 {
    if y.is_empty() {
        return 1.0;
    }
    y.iter().filter(|v| **v == 0.0).count() as f64 / y.len() as f64
}

/// The method a series forecast used, and why when it is a fallback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesForecast {
    /// The method that produced `forecast`.
    pub method: Method,
    /// Why the preferred Holt–Winters was not used (empty when it was).
    pub note: String,
    /// The fitted Holt–Winters model; `None` when the flat mean was used.
    pub model: Option<HoltWinters>,
    /// The forecast itself (clamped at zero if `non_negative` was asked for).
    pub forecast: Forecast,
    /// Steps whose mean forecast was negative and was clamped to zero.
    pub clamped: usize,
}

/// Plain `date,value` series forecast (the `clv forecast` command): Holt–
/// Winters (damped trend if asked) when the series allows it, else the flat
/// mean with a normal interval from the series' spread — said in `note`,
/// never silent.
pub fn forecast_series(
    y: &[f64],
    season: usize,
    horizon: usize,
    level: f64,
    non_negative: bool,
    damped: bool,
) -> Result<SeriesForecast, ForecastError> {
    if horizon > crate::limits::MAX_FORECAST_STEPS {
        return Err(ForecastError::Horizon(horizon));
    }
    let params = HoltWintersParams::new(season, damped)?;
    let z = holt_winters::z_score(level)?;
    let zeros = zero_share(y);
    let (method, note, model, mut forecast) = if y.len() < params.min_len() {
        let note = format!("{} values are fewer than the {} Holt–Winters needs: flat mean", y.len(), params.min_len());
        (Method::Mean, note, None, mean_forecast(y, horizon, z, level))
    } else if zeros > 0.5 {
        let note = format!("{:.0}% of the values are zero: flat mean", zeros * 100.0);
        (Method::Mean, note, None, mean_forecast(y, horizon, z, level))
    } else {
        let fit = params.fit(y)?;
        let fc = fit.forecast(horizon, level)?;
        let method = if damped { Method::DampedHoltWinters } else { Method::HoltWinters };
        (method, String::new(), Some(fit), fc)
    };
    let clamped = if non_negative { forecast.clamp_non_negative() } else { 0 };
    Ok(SeriesForecast { method, note, model, forecast, clamped })
}

fn mean_forecast(y: &[f64], horizon: usize, z: f64, level: f64) -> Forecast {
    let mean = flat_mean(y, horizon);
    let m = mean.first().copied().unwrap_or(0.0);
    let n = y.len().max(2) as f64;
    // Predictive sd of a new value around an estimated mean.
    let sd = (y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0) * (1.0 + 1.0 / n)).sqrt();
    Forecast { lower: vec![m - z * sd; horizon], upper: vec![m + z * sd; horizon], mean, level }
}

#[cfg(test)]
mod tests;
