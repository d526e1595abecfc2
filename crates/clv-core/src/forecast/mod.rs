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

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ForecastError {
    #[error("the series has {len} values; this method needs at least {needed} (two full seasons and more points than parameters)")]
    TooShort { len: usize, needed: usize },
    #[error("value {index} of the series is not a finite number")]
    NonFinite { index: usize },
    #[error("season length {0} is not supported: use 2 to 400 (7 for daily data with a weekly pattern)")]
    Season(usize),
    #[error("interval level {0} must be between 0 and 1 (e.g. 0.9)")]
    Level(f64),
    #[error("the initial states could not be estimated (the series is constant or degenerate)")]
    Singular,
    #[error("optimiser failed: {0}")]
    Optimiser(String),
    #[error("{0}")]
    Reconcile(String),
    #[error("a forecast of {0} steps is too long: at most {max} (27 years of days)", max = crate::limits::MAX_FORECAST_STEPS)]
    Horizon(usize),
}

/// Point forecast with a central prediction interval at `level`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    pub mean: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
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
    pub method: Method,
    /// Why the preferred Holt–Winters was not used (empty when it was).
    pub note: String,
    pub model: Option<HoltWinters>,
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
