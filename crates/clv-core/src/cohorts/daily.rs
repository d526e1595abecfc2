//! The daily revenue forecast of the Cohorts tab: the last weeks of daily
//! net revenue and the next four with a band — Holt–Winters with weekly
//! seasonality, its trend damped when the cohort backtest scored the damped
//! trend better. The page's chart and `clv cohorts --daily` are this.

use super::CohortTable;
use crate::forecast::{forecast_series, Backtest, Forecast, Method};
use crate::time::format_day;
use serde::{Deserialize, Serialize};

/// Days of history shown before the forecast.
pub const SHOWN_HISTORY: usize = 56;
/// Days forecast.
pub const DAILY_HORIZON: usize = 28;

/// The last [`SHOWN_HISTORY`] days of net revenue and the next [`DAILY_HORIZON`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DailyForecast {
    /// First day of `history`.
    pub start: String,
    /// Daily net revenue of all users, one value per calendar day from `start` to the cutoff.
    pub history: Vec<f64>,
    /// `None` when the series cannot be forecast (`note` says why).
    pub forecast: Option<Forecast>,
    /// The forecast method's name (e.g. `damped-holt-winters`, `mean`); empty when there is no forecast.
    pub method: String,
    /// In words: why the trend is damped, the forecaster's caveat (e.g. a flat-mean fallback), or why
    /// there is no forecast.
    pub note: String,
}

/// Damped trend when the backtest scored it better than the plain trend.
pub fn prefer_damped(b: Option<&Backtest>) -> bool {
    let mase = |m: Method| b.and_then(|b| b.scores.iter().find(|s| s.method == m)).and_then(|s| s.overall.mase);
    matches!((mase(Method::DampedHoltWinters), mase(Method::HoltWinters)), (Some(d), Some(h)) if d < h)
}

/// The forecast of `table`'s daily revenue at `level`.
pub fn daily_forecast(table: &CohortTable, level: f64, backtest: Option<&Backtest>) -> DailyForecast {
    let damped = prefer_damped(backtest);
    let y = &table.daily_revenue;
    let from = y.len().saturating_sub(SHOWN_HISTORY);
    let start = format_day(table.first_day + from as i64);
    let history = y[from..].to_vec();
    match forecast_series(y, 7, DAILY_HORIZON, level, true, damped) {
        Ok(f) => DailyForecast {
            start,
            history,
            forecast: Some(f.forecast),
            method: f.method.name().to_string(),
            // Said only when the damped trend is what was used: a series that fell back
            // to the flat mean keeps the note that says why.
            note: if f.method == Method::DampedHoltWinters {
                "the damped trend scored better in the backtest".into()
            } else {
                f.note
            },
        },
        Err(e) => DailyForecast { start, history, forecast: None, method: String::new(), note: e.to_string() },
    }
}

impl DailyForecast {
    /// `date,kind,value,lower,upper`: history rows, then forecast rows with their band.
    pub fn to_csv(&self) -> String {
        let first = crate::time::parse_day(&self.start).unwrap_or(0);
        let mut out = String::from("date,kind,value,lower,upper\n");
        for (i, v) in self.history.iter().enumerate() {
            out += &format!("{},history,{v},,\n", format_day(first + i as i64));
        }
        if let Some(f) = &self.forecast {
            let after = first + self.history.len() as i64;
            for (i, ((m, lo), hi)) in f.mean.iter().zip(&f.lower).zip(&f.upper).enumerate() {
                out += &format!("{},forecast,{m},{lo},{hi}\n", format_day(after + i as i64));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohorts::CohortParams;
    use crate::features::Cutoff;
    use crate::forecast::backtest::{MethodScore, Metrics};
    use crate::time::{CohortGrain, Horizon, TimeUnit};

    fn backtest_preferring_damped() -> Backtest {
        let score = |method, mase| MethodScore {
            method,
            by_horizon: Vec::new(),
            overall: Metrics { mase: Some(mase), ..Default::default() },
            loses_to_seasonal_naive: false,
        };
        let scores = vec![score(Method::DampedHoltWinters, 0.5), score(Method::HoltWinters, 0.9)];
        Backtest { horizon: 28, origins: vec![100], scores }
    }

    fn table(daily_revenue: Vec<f64>) -> CohortTable {
        let params = CohortParams::new(
            CohortGrain::Month,
            TimeUnit::Week,
            Cutoff::day(daily_revenue.len() as i64 - 1),
            Horizon::days(90).unwrap(),
            0.9,
            None,
        )
        .unwrap();
        CohortTable {
            params,
            cohorts: Vec::new(),
            total_revenue: daily_revenue.iter().sum(),
            daily_revenue,
            first_day: 0,
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_damped_note_is_said_only_when_the_damped_trend_was_used() {
        let b = backtest_preferring_damped();
        assert!(prefer_damped(Some(&b)));
        // Mostly zeros: the forecast falls back to the flat mean, and says so.
        let sparse = (0..200).map(|d| if d % 10 == 0 { 50.0 } else { 0.0 }).collect();
        let f = daily_forecast(&table(sparse), 0.9, Some(&b));
        assert_eq!(f.method, Method::Mean.name());
        assert!(f.note.contains("of the values are zero: flat mean"), "{}", f.note);
        // A busy series: the damped trend is used, and the note says why.
        let busy = (0..200).map(|d| 100.0 + (d % 7) as f64 * 10.0 + d as f64 * 0.1).collect();
        let f = daily_forecast(&table(busy), 0.9, Some(&b));
        assert_eq!(
            (f.method.as_str(), f.note.as_str()),
            (Method::DampedHoltWinters.name(), "the damped trend scored better in the backtest")
        );
    }
}
