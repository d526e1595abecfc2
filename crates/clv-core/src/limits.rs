//! Every size that comes from input — a setting, a date, a field of a file —
//! is checked against one of these limits before anything is allocated or
//! looped over, so a typo or a hostile file is a clear error in
//! milliseconds instead of minutes of work or gigabytes of memory. Each limit
//! says why it is where it is; the checks name the limit in their message.

use crate::time::format_day;

/// Longest CLV / prediction / cohort horizon: ten years. Cost grows with the
/// horizon (one expectation per month, a predictive distribution sized by the
/// expected count): ten years takes ~0.2 s on CDNOW, a hundred took 16 s; and
/// a value beyond ten years is a guess about a customer base that no longer
/// exists.
pub const MAX_HORIZON_DAYS: i64 = 3_650;

/// Discrete-time (BG/BB) predictions go period by period and each horizon
/// costs (periods)² per distinct row (the predictive distribution of every
/// month's cumulative count): 120 periods (ten years of months) is ~10 ms a
/// row; 3,650 daily periods ran for more than a minute on 22 rows.
pub const MAX_DISCRETE_HORIZON_PERIODS: f64 = 120.0;

/// Most periods `n` a BG/BB row may have: its likelihood is a sum over the
/// periods after the last transaction, so `n` is a loop length (a row with
/// n = 10¹² tried to allocate 8 TB). 10,000 is 27 years of days or 192 years
/// of weeks.
pub const MAX_PERIODS: f64 = 10_000.0;

/// A cutoff or holdout end may lie at most this many days after the last
/// purchase. Past the data every customer looks dead for longer and longer
/// (a cutoff of 2204-06-30 for data ending 1998 made `T` 10,800 weeks and
/// the Pareto/NBD fit run for minutes); a year covers an export that lags.
pub const MAX_DAYS_AFTER_DATA: i64 = 366;

/// Longest history (first purchase or signup to cutoff) a summary, a fit or
/// a cohort table is built over: 100 years. Dates in year 1 and 9999 are
/// placeholders, and a daily calendar over them is 3.65 million days.
pub const MAX_SPAN_DAYS: i64 = 36_525;

/// Largest L2 penalizer. It is added to the *mean* negative log-likelihood
/// per customer (a few units), so at 100 every parameter is already pinned
/// near zero; 10³⁰⁸ sent the optimiser to the boundary for minutes.
pub const MAX_PENALIZER: f64 = 100.0;

/// Annual discount rates accepted: −50% to +1,000% a year. Below −50%
/// discounting *grows* each month's value fast enough to overflow over the
/// horizon; above 1,000% nothing after the first month counts.
pub const DISCOUNT_RATE_RANGE: (f64, f64) = (-0.5, 10.0);

/// Most forecast steps of `clv forecast`: every step is a row of output and
/// a vector entry of each interval (10⁸ steps allocated 5 GB); 10,000 days
/// is 27 years.
pub const MAX_FORECAST_STEPS: usize = 10_000;

/// Most rows of a `date,value` series: the Holt–Winters fit passes over the
/// series once per optimiser step, hundreds of times; a million days is
/// 2,700 years.
pub const MAX_SERIES_ROWS: usize = 1_000_000;

/// Longest physical line of a summary or series file (said in
/// [`LineTooLong::MESSAGE`]) (the same bound as a
/// transaction file's header): a real row is under 100 bytes, and a line of
/// ten million separators made ten million column names.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Most columns of a summary or series file.
pub const MAX_COLUMNS: usize = 1_000;

/// Largest weight of a weighted summary row (a count of customers): more
/// than a billion customers in one row is a corrupt file, and sums of such
/// weights lose every digit of the small rows.
pub const MAX_WEIGHT: f64 = 1e9;

/// Largest frequency, recency or T of a summary row: 10⁶ purchases, or a
/// million units of time (2,700 years of days).
pub const MAX_SUMMARY_VALUE: f64 = 1e6;

/// Most cohort-age days a cohort table may hold (Σ over cohorts, and
/// segments, of the ages observed): one float per day per cohort plus the
/// table cells, ~100 MB at this bound. Five years of daily cohorts is 1.7
/// million; a 5.5 KB file with dates in year 1 and 9999 asked for billions.
pub const MAX_COHORT_DAYS: u64 = 4_000_000;

/// Largest monetary value of a summary row (a mean purchase): a trillion.
/// Beyond it sums over customers and months overflow to infinity.
pub const MAX_MONEY: f64 = 1e12;

/// An error naming a limit, in words a user can act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct LimitError(pub String);

/// Check a date the user gave (cutoff, holdout end) against the purchases:
/// at most [`MAX_DAYS_AFTER_DATA`] after the last and [`MAX_SPAN_DAYS`]
/// after the first. `what` names the setting ("cutoff", "holdout end").
pub fn check_day_near_data(what: &str, day: i64, first: i64, last: i64) -> Result<(), LimitError> {
    if day - last > MAX_DAYS_AFTER_DATA {
        let years = (day - last) as f64 / 365.25;
        let hint =
            suggest_day(day, first, last).map_or_else(|| format!("a day up to {}", format_day(last)), format_day);
        return Err(LimitError(format!(
            "{what} {} is {} after the last purchase ({}): did you mean {hint}? A {what} may be at most {MAX_DAYS_AFTER_DATA} days after the data",
            format_day(day),
            if years >= 2.0 { format!("{years:.0} years") } else { format!("{} days", day - last) },
            format_day(last),
        )));
    }
    if day - first > MAX_SPAN_DAYS {
        return Err(LimitError(format!(
            "{what} {} is {:.0} years after the first purchase ({}): at most {} years of history are used. Check the dates (year 1, 1900 or 9999 are often placeholders)",
            format_day(day),
            (day - first) as f64 / 365.25,
            format_day(first),
            MAX_SPAN_DAYS / 365
        )));
    }
    Ok(())
}

/// A typo'd year corrected: two adjacent digits of the year swapped (2204 →
/// 2024) or the day moved to the data's last year, whichever lands inside
/// the data.
fn suggest_day(day: i64, first: i64, last: i64) -> Option<i64> {
    let (y, m, d) = crate::time::civil_from_days(day);
    let digits: Vec<char> = format!("{y:04}").chars().collect();
    let swapped = (0..digits.len() - 1).filter_map(|i| {
        let mut s = digits.clone();
        s.swap(i, i + 1);
        s.into_iter().collect::<String>().parse::<i32>().ok()
    });
    let last_year = crate::time::civil_from_days(last).0;
    swapped
        .chain([last_year])
        .filter_map(|year| crate::time::days_from_civil(year, m, d))
        .find(|&c| c >= first && c <= last + MAX_DAYS_AFTER_DATA)
}

/// The penalizer given to a fit, bounded by [`MAX_PENALIZER`].
pub fn check_penalizer(p: f64) -> Result<f64, LimitError> {
    if p.is_finite() && (0.0..=MAX_PENALIZER).contains(&p) {
        Ok(p)
    } else {
        Err(LimitError(format!(
            "penalizer must be a number from 0 to {MAX_PENALIZER}, got {p:?} (typical values are 0.001 to 0.1)"
        )))
    }
}

/// A physical line longer than [`MAX_LINE_BYTES`] (1-based line number).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("line {0}: {msg}", msg = LineTooLong::MESSAGE)]
pub struct LineTooLong(pub u64);

impl LineTooLong {
    /// What a [`LineTooLong`] says after its line number. It names the size of
    /// [`MAX_LINE_BYTES`] in KB, spelled out here because a `const` string cannot be
    /// formatted; a test keeps the two in step.
    pub const MESSAGE: &str =
        "longer than 1024 KB: is this a CSV file? (a row of a summary or series is a few numbers)";
}

/// A reader that fails with [`LineTooLong`] as soon as a physical line
/// passes [`MAX_LINE_BYTES`], before a CSV reader has buffered more of it.
pub struct LineLimit<R> {
    inner: R,
    line: u64,
    len: usize,
}

impl<R: std::io::Read> LineLimit<R> {
    /// Wrap `inner`; lines are counted from 1, so the error's line number is the
    /// physical line of the file (header = 1).
    pub fn new(inner: R) -> Self {
        LineLimit { inner, line: 1, len: 0 }
    }
}

impl<R: std::io::Read> std::io::Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                (self.line, self.len) = (self.line + 1, 0);
            } else {
                self.len += 1;
                if self.len > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, LineTooLong(self.line)));
                }
            }
        }
        Ok(n)
    }
}

/// The [`LineTooLong`] inside a CSV reader's error, if that is what it is.
pub fn line_too_long(e: &csv::Error) -> Option<LineTooLong> {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.get_ref()?.downcast_ref::<LineTooLong>().copied(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_day;

    #[test]
    fn a_typod_year_is_refused_with_the_likely_day() {
        let (first, last) = (parse_day("1997-01-01").unwrap(), parse_day("1998-06-30").unwrap());
        let e = check_day_near_data("cutoff", parse_day("2204-06-30").unwrap(), first, last).unwrap_err().0;
        assert!(e.contains("cutoff 2204-06-30 is 206 years after the last purchase (1998-06-30)"), "{e}");
        // no digit swap of 2204 lands in 1997–1999: the data's last year
        assert!(e.contains("did you mean 1998-06-30?"), "{e}");
        let (first, last) = (parse_day("2023-01-01").unwrap(), parse_day("2024-06-30").unwrap());
        let e = check_day_near_data("cutoff", parse_day("2204-03-31").unwrap(), first, last).unwrap_err().0;
        assert!(e.contains("did you mean 2024-03-31?"), "{e}");
        let e = check_day_near_data("holdout end", parse_day("9999-12-31").unwrap(), first, last).unwrap_err().0;
        assert!(e.starts_with("holdout end 9999-12-31 is 7975 years after"), "{e}");
        assert!(check_day_near_data("cutoff", parse_day("2025-07-01").unwrap(), first, last).is_ok());
        assert!(check_day_near_data("cutoff", parse_day("2025-07-02").unwrap(), first, last).is_err());
    }

    #[test]
    fn a_history_of_placeholder_dates_is_refused() {
        let (first, last) = (parse_day("0001-01-01").unwrap(), parse_day("2024-06-30").unwrap());
        let e = check_day_near_data("cutoff", last, first, last).unwrap_err().0;
        assert!(e.contains("2023 years after the first purchase (0001-01-01)") && e.contains("100 years"), "{e}");
    }

    #[test]
    fn penalizer_bounds() {
        assert_eq!(check_penalizer(0.1), Ok(0.1));
        assert_eq!(check_penalizer(MAX_PENALIZER), Ok(MAX_PENALIZER));
        for bad in [1e308, -1.0, f64::NAN, f64::INFINITY] {
            assert!(check_penalizer(bad).unwrap_err().0.contains("from 0 to 100"), "{bad}");
        }
    }

    #[test]
    fn a_long_line_stops_the_reader_at_the_limit() {
        use std::io::Read;
        let mut text = b"a,b\n1,2\n".to_vec();
        text.extend(std::iter::repeat_n(b',', MAX_LINE_BYTES + 1));
        let mut out = Vec::new();
        let e = LineLimit::new(text.as_slice()).read_to_end(&mut out).unwrap_err();
        assert_eq!(e.get_ref().unwrap().downcast_ref::<LineTooLong>(), Some(&LineTooLong(3)));
        assert!(LineTooLong::MESSAGE.contains(&format!("{} KB", MAX_LINE_BYTES / 1024)));
        let mut ok = Vec::new();
        LineLimit::new(&text[..MAX_LINE_BYTES + 8]).read_to_end(&mut ok).unwrap();
    }
}
