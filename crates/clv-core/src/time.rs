//! Calendar arithmetic and the explicit time unit every model works in.
//!
//! Timestamps are `i64` seconds since the Unix epoch, UTC. Days are
//! `ts.div_euclid(86_400)`. Calendar validation goes through `jiff`; the
//! day-number conversion is a compile-time table of month starts (1900–2155)
//! and Howard Hinnant's `days_from_civil` beyond, because it is the hot path
//! of ingest (one call per row); both are checked against `jiff` in the tests
//! below.

use crate::limits::MAX_HORIZON_DAYS;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Seconds in a UTC day (no leap seconds, as in Unix time): a timestamp's day number is
/// `ts.div_euclid(SECONDS_PER_DAY)`.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 for a proleptic Gregorian date, or `None` when the
/// date does not exist (Feb 30, month 13, …).
///
/// One call per row of a file: years 1900–2155 are read from a table of
/// month starts built at compile time; other years use the formula.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let m = month as usize;
    let row = year.checked_sub(TABLE_FIRST_YEAR).and_then(|k| usize::try_from(k).ok());
    if let Some(starts) = row.and_then(|k| MONTH_STARTS.get(k)) {
        let (start, next) = (starts[m - 1], starts[m]);
        return (day <= (next - start) as u32).then(|| i64::from(start) + i64::from(day) - 1);
    }
    (day <= days_in_month(year, month)).then(|| first_of_month(year, month) + i64::from(day) - 1)
}

const TABLE_FIRST_YEAR: i32 = 1900;

/// Per year from 1900, the day numbers of the first of each month and of
/// the next January.
static MONTH_STARTS: [[i32; 13]; 256] = {
    let mut table = [[0i32; 13]; 256];
    let mut k = 0;
    while k < 256 {
        let mut m = 0;
        while m < 13 {
            let (y, month) =
                if m < 12 { (TABLE_FIRST_YEAR + k as i32, m as u32 + 1) } else { (TABLE_FIRST_YEAR + k as i32 + 1, 1) };
            table[k][m] = first_of_month(y, month) as i32;
            m += 1;
        }
        k += 1;
    }
    table
};

/// The day number of the first of `month` (1–12) of a year within ±9999:
/// H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil,
/// on the year moved forward by 25 eras of 400 years (146,097 days each) so
/// that every division is unsigned.
const fn first_of_month(year: i32, month: u32) -> i64 {
    const ERAS: u32 = 25;
    let y = (year + 400 * ERAS as i32) as u32 - (month <= 2) as u32;
    let (era, yoe) = (y / 400, y % 400);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era as i64 * 146_097 + doe as i64 - 719_468 - ERAS as i64 * 146_097
}

/// Inverse of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// Days in a month of the proleptic Gregorian calendar; 0 for a month or
/// year (beyond ±9999) that does not exist. Arithmetic rather than a
/// calendar library: it runs once per row of a file.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(-9999..=9999).contains(&year) {
        return 0;
    }
    // Shifted by 10,000 years (a multiple of 400: same leap years) to divide unsigned.
    let y = (year + 10_000) as u32;
    let leap = y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
    match month {
        2 if leap => 29,
        1..=12 => DAYS[month as usize - 1],
        _ => 0,
    }
}

/// The UTC day number of a timestamp.
pub fn day_of(ts: i64) -> i64 {
    ts.div_euclid(SECONDS_PER_DAY)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a timestamp.
pub fn format_ts(ts: i64) -> String {
    let secs = ts.rem_euclid(SECONDS_PER_DAY);
    format!("{}T{:02}:{:02}:{:02}Z", format_day(day_of(ts)), secs / 3600, secs / 60 % 60, secs % 60)
}

/// Parse a calendar date given on the command line or in a form
/// (`YYYY-MM-DD`), returning its day number.
pub fn parse_day(s: &str) -> Result<i64, DateError> {
    let d: jiff::civil::Date =
        s.trim().parse().map_err(|e: jiff::Error| DateError::Format { text: s.to_string(), why: e.to_string() })?;
    days_from_civil(i32::from(d.year()), d.month() as u32, d.day() as u32)
        .ok_or_else(|| DateError::NotInCalendar(s.to_string()))
}

/// Why a typed date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not of the form `YYYY-MM-DD`.
    #[error("expected a date as YYYY-MM-DD, got {text:?} ({why})")]
    Format {
        /// What was typed.
        text: String,
        /// The date parser's reason.
        why: String,
    },
    /// A well-formed date the calendar does not have (outside years ±9999).
    #[error("{0:?} is not a calendar date")]
    NotInCalendar(String),
}

/// A calendar day (UTC) a person chose — a cutoff, a holdout end — checked
/// once where it is typed and carried as a day number since 1970-01-01; it
/// is written and read as `YYYY-MM-DD` (CLI arguments, the page's date
/// inputs, the messages to the worker), so a malformed date never travels.
///
/// ```
/// use clv_core::time::Day;
/// let d: Day = "1997-09-30".parse().unwrap();
/// assert_eq!(d.to_string(), "1997-09-30");
/// assert!("1997-02-30".parse::<Day>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day(i64);

impl Day {
    /// The day with this number (days since 1970-01-01), `None` outside
    /// the years the calendar functions cover (±9999).
    pub fn from_number(day: i64) -> Option<Day> {
        let (y, m, d) = civil_from_days(day);
        (days_from_civil(y, m, d) == Some(day)).then_some(Day(day))
    }

    /// Days since 1970-01-01.
    pub fn number(self) -> i64 {
        self.0
    }
}

impl FromStr for Day {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Day, DateError> {
        parse_day(s).map(Day)
    }
}

impl TryFrom<String> for Day {
    type Error = DateError;
    fn try_from(s: String) -> Result<Day, DateError> {
        s.parse()
    }
}

impl From<Day> for String {
    fn from(d: Day) -> String {
        d.to_string()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_day(self.0))
    }
}

/// How far ahead a forecast or a label window reaches: whole days, 1 to
/// [`MAX_HORIZON_DAYS`] (ten years). Checked once where it enters (a CLI
/// flag, the page's select, a message to the worker), so the code that uses
/// it never re-checks, and a horizon that would overflow the label window's
/// seconds cannot be built. Serialised as the bare number of days.
///
/// ```
/// use clv_core::time::Horizon;
/// assert_eq!(Horizon::days(90).unwrap().in_days(), 90);
/// assert!(Horizon::days(0).is_err());
/// assert!("3651".parse::<Horizon>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Horizon(u32);

/// A horizon outside 1 to [`MAX_HORIZON_DAYS`] days, or not a whole number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("horizon must be 1 to {MAX_HORIZON_DAYS} days (ten years), got {0}")]
pub struct HorizonError(pub String);

impl Horizon {
    /// A horizon of `days` days.
    pub fn days(days: i64) -> Result<Horizon, HorizonError> {
        if (1..=MAX_HORIZON_DAYS).contains(&days) {
            Ok(Horizon(days as u32))
        } else {
            Err(HorizonError(days.to_string()))
        }
    }

    /// The horizon in days.
    pub fn in_days(self) -> i64 {
        i64::from(self.0)
    }
}

impl FromStr for Horizon {
    type Err = HorizonError;
    fn from_str(s: &str) -> Result<Horizon, HorizonError> {
        let days = s.trim().parse::<i64>().map_err(|_| HorizonError(format!("{s:?}")))?;
        Horizon::days(days)
    }
}

impl TryFrom<i64> for Horizon {
    type Error = HorizonError;
    fn try_from(days: i64) -> Result<Horizon, HorizonError> {
        Horizon::days(days)
    }
}

impl From<Horizon> for i64 {
    fn from(h: Horizon) -> i64 {
        h.in_days()
    }
}

impl fmt::Display for Horizon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} days", self.0)
    }
}

/// The unit a prediction horizon is given in: calendar lengths, or the
/// model's own period (a BG/BB period is whatever the data's period is — a
/// year for annual donations — so "5 periods" is exact where days are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HorizonUnit {
    /// Calendar days.
    #[default]
    Day,
    /// Weeks of 7 days.
    Week,
    /// Average Gregorian months, 365.25 / 12 days.
    Month,
    /// The model's time unit, whatever it is.
    Period,
}

impl HorizonUnit {
    /// The calendar length it stands for; `None` for the model's own period.
    fn calendar(self) -> Option<TimeUnit> {
        match self {
            HorizonUnit::Day => Some(TimeUnit::Day),
            HorizonUnit::Week => Some(TimeUnit::Week),
            HorizonUnit::Month => Some(TimeUnit::Month),
            HorizonUnit::Period => None,
        }
    }
}

impl FromStr for HorizonUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "period" | "periods" | "p" => Ok(HorizonUnit::Period),
            other => match other.parse::<TimeUnit>() {
                Ok(TimeUnit::Day) => Ok(HorizonUnit::Day),
                Ok(TimeUnit::Week) => Ok(HorizonUnit::Week),
                Ok(TimeUnit::Month) => Ok(HorizonUnit::Month),
                Err(_) => Err(format!("unknown horizon unit {other:?}: expected day, week, month or period")),
            },
        }
    }
}

/// How far ahead predictions reach, exactly as the user gave it: 39 weeks
/// is 39 weeks (not 9 months of 30.44 days), 5 periods of an annual model
/// are 5 years. Converted to the model's unit only where it is used
/// ([`PredictionHorizon::in_units`]); the ten-year limit is checked then,
/// when the length of a period is known.
///
/// ```
/// use clv_core::time::{HorizonUnit, PredictionHorizon, TimeUnit};
/// let h = PredictionHorizon::new(273.0, HorizonUnit::Day).unwrap();
/// assert_eq!(h.in_units(TimeUnit::Week), 39.0);
/// assert_eq!(PredictionHorizon::new(5.0, HorizonUnit::Period).unwrap().in_units(TimeUnit::Week), 5.0);
/// assert!(PredictionHorizon::new(0.0, HorizonUnit::Week).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictionHorizon {
    amount: f64,
    unit: HorizonUnit,
}

impl PredictionHorizon {
    /// `amount` (positive, finite) `unit`s.
    pub fn new(amount: f64, unit: HorizonUnit) -> Result<PredictionHorizon, HorizonError> {
        if amount.is_finite() && amount > 0.0 {
            Ok(PredictionHorizon { amount, unit })
        } else {
            Err(HorizonError(format!("{amount}")))
        }
    }

    /// The horizon in the model's time unit, exactly (no conversion when
    /// it was given in that unit).
    pub fn in_units(self, model: TimeUnit) -> f64 {
        match self.unit.calendar() {
            Some(unit) if unit != model => self.in_days(model) / model.days(),
            _ => self.amount,
        }
    }

    /// The horizon in days (a period lasts one `model` unit).
    pub fn in_days(self, model: TimeUnit) -> f64 {
        self.amount * self.unit.calendar().unwrap_or(model).days()
    }

    /// The number given.
    pub fn amount(self) -> f64 {
        self.amount
    }

    /// The unit it was given in.
    pub fn unit(self) -> HorizonUnit {
        self.unit
    }
}

impl From<Horizon> for PredictionHorizon {
    fn from(h: Horizon) -> PredictionHorizon {
        PredictionHorizon { amount: h.in_days() as f64, unit: HorizonUnit::Day }
    }
}

impl fmt::Display for PredictionHorizon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.unit.calendar().map_or("period", TimeUnit::name);
        let plural = if self.amount == 1.0 { "" } else { "s" };
        write!(f, "{} {name}{plural}", self.amount)
    }
}

/// The unit in which recency, `T` and model rates are expressed. Changing it
/// changes fitted parameters (CDNOW: r 0.243 in weeks vs 0.283 bucketed by
/// day), so it is carried explicitly everywhere and shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// One calendar day.
    Day,
    /// Seven days; the default, as in the BTYD literature (the CDNOW results are in weeks).
    #[default]
    Week,
    /// An average Gregorian month, 365.25 / 12 days.
    Month,
}

impl TimeUnit {
    /// Length of one unit in days (1, 7 or 365.25 / 12 ≈ 30.44); divide a span in days by
    /// this to express it in the unit.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
            TimeUnit::Month => 365.25 / 12.0,
        }
    }

    /// Singular lowercase name (`day`, `week`, `month`), as shown to the user and as
    /// serialised; `Display` writes the same and `FromStr` accepts it back.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
            TimeUnit::Month => "month",
        }
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TimeUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "days" | "d" => Ok(TimeUnit::Day),
            "week" | "weeks" | "w" => Ok(TimeUnit::Week),
            "month" | "months" | "m" => Ok(TimeUnit::Month),
            other => Err(format!("unknown time unit {other:?}: expected day, week or month")),
        }
    }
}

/// Calendar granularity of a cohort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CohortGrain {
    /// One cohort per calendar day.
    Day,
    /// ISO weeks, starting Monday.
    Week,
    /// Calendar months; the default.
    #[default]
    Month,
}

impl CohortGrain {
    /// The first day (day number) of the cohort containing `day`.
    pub fn start_of(self, day: i64) -> i64 {
        match self {
            CohortGrain::Day => day,
            // 1970-01-01 was a Thursday: shift so weeks start on Monday.
            CohortGrain::Week => day - (day + 3).rem_euclid(7),
            CohortGrain::Month => {
                let (y, m, _) = civil_from_days(day);
                days_from_civil(y, m, 1).expect("first of month exists")
            }
        }
    }

    /// The name of the cohort containing `day` (a day number): `YYYY-MM` for a month,
    /// otherwise the `YYYY-MM-DD` of its first day (the Monday for a week).
    pub fn label(self, day: i64) -> String {
        let start = self.start_of(day);
        match self {
            CohortGrain::Month => format_day(start)[..7].to_string(),
            _ => format_day(start),
        }
    }
}

impl FromStr for CohortGrain {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" => Ok(CohortGrain::Day),
            "week" => Ok(CohortGrain::Week),
            "month" => Ok(CohortGrain::Month),
            other => Err(format!("unknown cohort {other:?}: expected day, week or month")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_agree_with_jiff_over_four_centuries() {
        let epoch = jiff::civil::date(1970, 1, 1);
        let mut d = jiff::civil::date(1801, 1, 1);
        let end = jiff::civil::date(2201, 1, 1);
        while d < end {
            let expected = (d - epoch).get_days() as i64;
            let got = days_from_civil(d.year().into(), d.month() as u32, d.day() as u32);
            assert_eq!(got, Some(expected), "{d}");
            assert_eq!(civil_from_days(expected), (d.year().into(), d.month() as u32, d.day() as u32));
            d = d.tomorrow().unwrap();
        }
        // And every 97th day of all the years a date may have.
        let mut d = jiff::civil::date(-9999, 1, 1);
        loop {
            let expected = (d - epoch).get_days() as i64;
            assert_eq!(days_from_civil(d.year().into(), d.month() as u32, d.day() as u32), Some(expected), "{d}");
            assert_eq!(civil_from_days(expected), (d.year().into(), d.month() as u32, d.day() as u32));
            let Ok(next) = d.checked_add(jiff::Span::new().days(97)) else { break };
            d = next;
        }
        assert!(d > jiff::civil::date(9999, 9, 1), "{d}");
        assert_eq!(days_from_civil(-10_000, 1, 1), None);
        assert_eq!(days_from_civil(10_000, 1, 1), None);
        assert_eq!(days_from_civil(-4, 2, 29).map(civil_from_days), Some((-4, 2, 29)));
        assert_eq!(days_from_civil(-100, 2, 29), None);
        assert_eq!(days_from_civil(2024, 1, 3_000_000_000), None);
        assert_eq!(days_from_civil(i32::MIN, 1, 1), None);
        assert_eq!(days_from_civil(i32::MAX, 12, 31), None);
    }

    #[test]
    fn impossible_dates_are_none() {
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert!(days_from_civil(2024, 2, 29).is_some());
        assert_eq!(days_from_civil(2024, 2, 30), None);
        assert_eq!(days_from_civil(2024, 4, 31), None);
        assert_eq!(days_from_civil(2024, 13, 1), None);
        assert_eq!(days_from_civil(2024, 1, 0), None);
    }

    #[test]
    fn cohort_starts() {
        let d = days_from_civil(2024, 3, 14).unwrap(); // a Thursday
        assert_eq!(format_day(CohortGrain::Week.start_of(d)), "2024-03-11");
        assert_eq!(CohortGrain::Month.label(d), "2024-03");
        assert_eq!(CohortGrain::Day.label(d), "2024-03-14");
        let sunday = days_from_civil(2024, 3, 17).unwrap();
        assert_eq!(format_day(CohortGrain::Week.start_of(sunday)), "2024-03-11");
    }

    #[test]
    fn units_and_formatting() {
        assert_eq!("weeks".parse::<TimeUnit>(), Ok(TimeUnit::Week));
        assert!("fortnight".parse::<TimeUnit>().is_err());
        assert_eq!(format_ts(86_400 + 3661), "1970-01-02T01:01:01Z");
        assert_eq!(parse_day("1997-09-30"), Ok(days_from_civil(1997, 9, 30).unwrap()));
        assert!(parse_day("1997-02-30").is_err());
    }
}
