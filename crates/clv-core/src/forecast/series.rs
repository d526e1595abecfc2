//! A plain `date,value` series (a warehouse's daily GMV export): every step
//! present, evenly spaced, in order. Gaps are an error, not a zero: a
//! missing day in an export is as often missing data as a day without sales.

use crate::ingest::amount::{parse_amount, DecimalSeparator};
use crate::ingest::dates::{parse_date, Cell, DateOrder};
use crate::limits::{line_too_long, LineLimit, LineTooLong, MAX_SERIES_ROWS};
use crate::time::day_of;
use std::io::Read;
use thiserror::Error;

/// Why a `date,value` series could not be read.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SeriesError {
    /// A row cannot be used, or the dates are not evenly spaced and increasing.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based physical line of the file (header = 1; 0 when unknown).
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// Fewer than two data rows: the step between dates is unknown.
    #[error("the series needs a header and at least two rows (date,value)")]
    TooShort,
    /// More than [`MAX_SERIES_ROWS`] data rows.
    #[error("the series has more than {max} rows (2,700 years of days): is this a daily series?", max = MAX_SERIES_ROWS)]
    TooLong,
}

/// Values at `start_day + i · step_days`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatedSeries {
    /// Day number (days since 1970-01-01, UTC) of the first value.
    pub start_day: i64,
    /// Days between consecutive values, ≥ 1 (1 for a daily series, 7 for a weekly one).
    pub step_days: i64,
    /// The values, oldest first (the second column, read with a decimal point).
    pub values: Vec<f64>,
}

impl DatedSeries {
    /// Day number of step `i` (past the end too: forecast dates).
    pub fn day(&self, i: usize) -> i64 {
        self.start_day + i as i64 * self.step_days
    }
}

/// Read `date,value` (first two columns; header line first). Slash dates
/// follow `order`.
pub fn parse_series<R: Read>(reader: R, order: DateOrder) -> Result<DatedSeries, SeriesError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(LineLimit::new(reader));
    let mut days = Vec::new();
    let mut values = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| match line_too_long(&e) {
            Some(LineTooLong(line)) => SeriesError::Line { line, message: LineTooLong::MESSAGE.into() },
            None => SeriesError::Line {
                line: e.position().map_or(0, |p| p.line()),
                message: format!("unreadable row: {e}"),
            },
        })?;
        if values.len() == MAX_SERIES_ROWS {
            return Err(SeriesError::TooLong);
        }
        let line = rec.position().map_or(0, |p| p.line());
        let err = |message: String| SeriesError::Line { line, message };
        let raw_date = rec.get(0).unwrap_or_default();
        let day = match parse_date(raw_date) {
            Ok(Cell::Exact(ts, _)) => day_of(ts),
            Ok(Cell::Slash(d)) => {
                d.resolve(order).map(day_of).ok_or_else(|| err(format!("date {raw_date:?} does not exist")))?
            }
            Err(e) => return Err(err(format!("column 1 (date): {}", e.message()))),
        };
        let raw = rec.get(1).unwrap_or_default();
        let value = parse_amount(raw, DecimalSeparator::Point)
            .map_err(|e| err(format!("column 2 (value): {}", e.message(DecimalSeparator::Point))))?;
        days.push((day, line));
        values.push(value);
    }
    if days.len() < 2 {
        return Err(SeriesError::TooShort);
    }
    let step = days[1].0 - days[0].0;
    if step <= 0 {
        return Err(SeriesError::Line { line: days[1].1, message: "dates must increase (oldest first)".into() });
    }
    for w in days.windows(2) {
        if w[1].0 - w[0].0 != step {
            return Err(SeriesError::Line {
                line: w[1].1,
                message: format!(
                    "{} is not {step} day(s) after {}: give every step (gaps are not filled)",
                    crate::time::format_day(w[1].0),
                    crate::time::format_day(w[0].0)
                ),
            });
        }
    }
    Ok(DatedSeries { start_day: days[0].0, step_days: step, values })
}
