//! Date and timestamp cells.
//!
//! Accepted shapes (all read to UTC seconds):
//! - ISO-8601 `YYYY-MM-DD`, optionally `T`/space + `HH:MM[:SS[.fff]]`, optionally
//!   `Z` or an offset `±HH[:MM]` (converted to UTC); `YYYY/MM/DD` likewise;
//! - `YYYYMMDD`;
//! - Unix seconds (9–11 digits) or milliseconds (12–14 digits);
//! - `DD.MM.YYYY[ HH:MM[:SS]]` (day-first by convention);
//! - slash dates `A/B/YYYY[ HH:MM[:SS][ AM|PM]]`, whose order (day-first or
//!   month-first) is decided per column from the evidence, never row by row:
//!   such cells come back as [`Cell::Slash`] and are resolved when the whole
//!   column has been seen.
//!
//! Times without an offset are read as UTC.

use crate::time::days_from_civil;
use serde::{Deserialize, Serialize};

/// The shape a cell was read as, reported per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DateShape {
    /// `YYYY-MM-DD` (or `YYYY/MM/DD`), no time: midnight UTC.
    IsoDate,
    /// ISO date with a time and no offset, read as UTC.
    IsoDateTime,
    /// ISO date with a time and `Z`, `UTC` or an offset `±HH[:MM]`, converted to UTC.
    IsoDateTimeOffset,
    /// `YYYYMMDD`, eight digits.
    CompactYmd,
    /// Seconds since the Unix epoch, 9–11 digits.
    UnixSeconds,
    /// Milliseconds since the Unix epoch, 12–14 digits (rounded down to seconds).
    UnixMillis,
    /// `DD.MM.YYYY[ HH:MM[:SS]]`, always day-first.
    DottedDayFirst,
    /// `A/B/YYYY[ HH:MM[:SS][ AM|PM]]`, read in the order decided for its column.
    Slash,
}

impl DateShape {
    /// In declaration order: `shape as usize` indexes this.
    pub const ALL: [DateShape; 8] = [
        DateShape::IsoDate,
        DateShape::IsoDateTime,
        DateShape::IsoDateTimeOffset,
        DateShape::CompactYmd,
        DateShape::UnixSeconds,
        DateShape::UnixMillis,
        DateShape::DottedDayFirst,
        DateShape::Slash,
    ];

    /// The shape in words for the report (`YYYY-MM-DD`, `Unix seconds`, …).
    pub fn describe(self) -> &'static str {
        match self {
            DateShape::IsoDate => "YYYY-MM-DD",
            DateShape::IsoDateTime => "YYYY-MM-DD HH:MM:SS (read as UTC)",
            DateShape::IsoDateTimeOffset => "ISO-8601 with offset (converted to UTC)",
            DateShape::CompactYmd => "YYYYMMDD",
            DateShape::UnixSeconds => "Unix seconds",
            DateShape::UnixMillis => "Unix milliseconds",
            DateShape::DottedDayFirst => "DD.MM.YYYY",
            DateShape::Slash => "slash date A/B/YYYY",
        }
    }
}

/// Day-first or month-first, for slash dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// `DD/MM/YYYY`, as in most of Europe.
    DayFirst,
    /// `MM/DD/YYYY`, as in the US; the default when the column gives no evidence.
    #[default]
    MonthFirst,
}

impl DateOrder {
    /// "day-first" or "month-first", as reports say it.
    pub fn name(self) -> &'static str {
        match self {
            DateOrder::DayFirst => "day-first",
            DateOrder::MonthFirst => "month-first",
        }
    }

    /// The other order.
    pub fn other(self) -> DateOrder {
        match self {
            DateOrder::DayFirst => DateOrder::MonthFirst,
            DateOrder::MonthFirst => DateOrder::DayFirst,
        }
    }
}

impl std::str::FromStr for DateOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "day_first" | "dmy" => Ok(DateOrder::DayFirst),
            "month_first" | "mdy" => Ok(DateOrder::MonthFirst),
            other => Err(format!("unknown date order {other:?}: expected day-first or month-first")),
        }
    }
}

/// A slash date before its column's order is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashDate {
    /// The first number: the day if day-first, the month if month-first.
    pub first: u8,
    /// The second number: the month if day-first, the day if month-first.
    pub second: u8,
    /// The four-digit year.
    pub year: u16,
    /// Seconds since midnight (0 without a time; AM/PM already applied).
    pub seconds_of_day: u32,
}

impl SlashDate {
    /// The time in seconds since the Unix epoch (UTC) when read in `order`, or
    /// `None` if that is no calendar date (`13/01/2024` month-first).
    pub fn resolve(self, order: DateOrder) -> Option<i64> {
        let (month, day) = match order {
            DateOrder::DayFirst => (self.second, self.first),
            DateOrder::MonthFirst => (self.first, self.second),
        };
        days_from_civil(self.year.into(), month.into(), day.into()).map(|d| d * 86_400 + i64::from(self.seconds_of_day))
    }

    /// Which orders give a real calendar date.
    pub fn valid_orders(self) -> (bool, bool) {
        (self.resolve(DateOrder::DayFirst).is_some(), self.resolve(DateOrder::MonthFirst).is_some())
    }
}

/// A date cell as read: exact, or a slash date whose day/month order is not yet
/// known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// A time in seconds since the Unix epoch (UTC), and the shape it was read as.
    Exact(i64, DateShape),
    /// A slash date whose order waits for the whole column.
    Slash(SlashDate),
}

/// Why a date cell was not read; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Empty, or a missing-value marker (`NULL`, `NA`, `-`, …).
    Missing,
    /// A known shape that is no real date or time (Feb 30, hour 25, offset +19:00,
    /// a two-digit year); holds what was impossible.
    Impossible(String),
    /// In no shape that is read.
    Unrecognised,
}

impl DateError {
    /// The error in words; for an unrecognised date, the shapes that are read.
    pub fn message(&self) -> String {
        match self {
            DateError::Missing => "date is empty".into(),
            DateError::Impossible(why) => format!("impossible date ({why})"),
            DateError::Unrecognised => "unrecognised date: expected ISO-8601 (YYYY-MM-DD[ HH:MM:SS][±HH:MM]), YYYYMMDD, Unix seconds/ms, DD.MM.YYYY or a slash date A/B/YYYY".into(),
        }
    }
}

/// Why a time is a stand-in for "no date" rather than a date: year 0000
/// (no such year), or exactly midnight of a system's zero date. Real sales
/// at 1970-01-01 12:30 are kept.
pub fn placeholder(ts: i64) -> Option<&'static str> {
    const DAY: i64 = 86_400;
    if ts > 0 {
        return None; // every placeholder is at or before 1970-01-01 00:00
    }
    let midnight = |y, m, d| days_from_civil(y, m, d).map(|day| day * DAY) == Some(ts);
    let year_zero = days_from_civil(0, 1, 1).zip(days_from_civil(1, 1, 1));
    if year_zero.is_some_and(|(a, b)| (a * DAY..b * DAY).contains(&ts)) {
        return Some("year 0000 is a placeholder, not a date");
    }
    [
        (ts == 0, "1970-01-01 00:00 is Unix time 0, a placeholder for a missing date"),
        (midnight(1900, 1, 1), "1900-01-01 00:00 is a placeholder for a missing date"),
        (midnight(1899, 12, 30), "1899-12-30 00:00 is spreadsheet day 0, a placeholder for a missing date"),
        (midnight(1, 1, 1), "0001-01-01 00:00 is a system minimum date, a placeholder for a missing date"),
    ]
    .into_iter()
    .find_map(|(hit, why)| hit.then_some(why))
}

/// Whether a cell stands for no value: empty (after trimming) or `null`, `na`,
/// `n/a`, `nan`, `none`, `-` in any case. Dates and amounts share this list.
pub fn is_missing(s: &str) -> bool {
    let t = s.trim();
    // Every missing marker is short and starts with a letter or '-': the
    // common case (a digit, or a long value) is decided without allocating.
    if t.len() > 4 || t.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    matches!(t.to_ascii_lowercase().as_str(), "" | "null" | "na" | "n/a" | "nan" | "none" | "-")
}

/// `YYYY-MM-DD` exactly, the shape of most exports, read without the
/// general path; `None` for anything else (including impossible dates, so
/// that [`parse_date`] explains them).
#[inline]
pub fn iso_day(b: &[u8]) -> Option<Cell> {
    let b: &[u8; 10] = b.try_into().ok()?;
    let d = |i: usize| b[i].wrapping_sub(b'0');
    let digits = [d(0), d(1), d(2), d(3), d(5), d(6), d(8), d(9)];
    // One test for all eight digits (no early exit: rows are nearly always valid).
    if b[4] != b'-' || b[7] != b'-' || digits.iter().fold(0, |acc, &x| acc | u8::from(x > 9)) != 0 {
        return None;
    }
    let n = |hi: u8, lo: u8| u32::from(hi) * 10 + u32::from(lo);
    let year = n(digits[0], digits[1]) * 100 + n(digits[2], digits[3]);
    let day = days_from_civil(year as i32, n(digits[4], digits[5]), n(digits[6], digits[7]))?;
    Some(Cell::Exact(day * 86_400, DateShape::IsoDate))
}

/// Read a date or timestamp cell in any of the shapes of the module doc.
/// Slash dates come back as [`Cell::Slash`], to be resolved once the column's
/// order is known; a slash date valid in neither order is
/// [`DateError::Impossible`]. Placeholder dates are not refused here (see
/// [`placeholder`]).
pub fn parse_date(raw: &str) -> Result<Cell, DateError> {
    if let Some(cell) = iso_day(raw.as_bytes()) {
        return Ok(cell);
    }
    let s = raw.trim();
    if is_missing(s) {
        return Err(DateError::Missing);
    }
    let b = s.as_bytes();
    if b.iter().all(u8::is_ascii_digit) {
        return parse_digits(s);
    }
    if b.len() >= 10 && b[4] == b'-' || b.len() >= 10 && b[4] == b'/' && b[..4].iter().all(u8::is_ascii_digit) {
        return parse_iso(b);
    }
    if let Some(pos) = b.iter().position(|&c| c == b'.') {
        if pos <= 2 {
            return parse_day_month_year(b, b'.').and_then(|d| {
                d.resolve(DateOrder::DayFirst)
                    .map(|ts| Cell::Exact(ts, DateShape::DottedDayFirst))
                    .ok_or_else(|| DateError::Impossible(format!("{s} as DD.MM.YYYY")))
            });
        }
    }
    if b.iter().take(3).any(|&c| c == b'/') {
        let d = parse_day_month_year(b, b'/')?;
        return match d.valid_orders() {
            (false, false) => Err(DateError::Impossible(format!("{s} is not a date day-first or month-first"))),
            _ => Ok(Cell::Slash(d)),
        };
    }
    Err(DateError::Unrecognised)
}

fn parse_digits(s: &str) -> Result<Cell, DateError> {
    let n: i64 = s.parse().map_err(|_| DateError::Unrecognised)?;
    match s.len() {
        8 => {
            let (y, m, d) = (n / 10_000, (n / 100 % 100) as u32, (n % 100) as u32);
            days_from_civil(y as i32, m, d)
                .map(|day| Cell::Exact(day * 86_400, DateShape::CompactYmd))
                .ok_or_else(|| DateError::Impossible(format!("{s} as YYYYMMDD")))
        }
        9..=11 => Ok(Cell::Exact(n, DateShape::UnixSeconds)),
        12..=14 => Ok(Cell::Exact(n.div_euclid(1000), DateShape::UnixMillis)),
        _ => Err(DateError::Unrecognised),
    }
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0')))
}

/// `HH:MM[:SS[.fff]]` with an optional ` AM`/` PM`; returns seconds of day and
/// the unparsed tail.
fn parse_time(b: &[u8]) -> Result<(u32, &[u8]), DateError> {
    let bad = || DateError::Unrecognised;
    let end = b.iter().position(|c| !(c.is_ascii_digit() || *c == b':' || *c == b'.')).unwrap_or(b.len());
    let (clock, mut rest) = b.split_at(end);
    let clock = match clock.iter().position(|&c| c == b'.') {
        Some(p) => &clock[..p], // fractional seconds are dropped: the day is what counts
        None => clock,
    };
    let mut parts = clock.split(|&c| c == b':');
    let h = parts.next().and_then(num).ok_or_else(bad)?;
    let m = parts.next().and_then(num).ok_or_else(bad)?;
    let s = match parts.next() {
        Some(p) => num(p).ok_or_else(bad)?,
        None => 0,
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    let trimmed = trim_start(rest);
    let mut h = h;
    if trimmed.len() >= 2 && (trimmed[..2].eq_ignore_ascii_case(b"am") || trimmed[..2].eq_ignore_ascii_case(b"pm")) {
        if !(1..=12).contains(&h) {
            return Err(DateError::Impossible(format!("hour {h} with AM/PM")));
        }
        let pm = trimmed[0].eq_ignore_ascii_case(&b'p');
        h = h % 12 + if pm { 12 } else { 0 };
        rest = &trimmed[2..];
    }
    if h > 23 || m > 59 || s > 60 {
        return Err(DateError::Impossible(format!("time {h:02}:{m:02}:{s:02}")));
    }
    Ok((h * 3600 + m * 60 + s.min(59), rest))
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn parse_iso(b: &[u8]) -> Result<Cell, DateError> {
    let text = String::from_utf8_lossy(b);
    let y = num(&b[..4]).ok_or(DateError::Unrecognised)?;
    let sep = b[4];
    let rest = &b[5..];
    let m_end = rest.iter().position(|&c| c == sep).ok_or(DateError::Unrecognised)?;
    let m = num(&rest[..m_end]).ok_or(DateError::Unrecognised)?;
    let rest = &rest[m_end + 1..];
    let d_end = rest.iter().position(|c| !c.is_ascii_digit()).unwrap_or(rest.len());
    let d = num(&rest[..d_end]).ok_or(DateError::Unrecognised)?;
    let day = days_from_civil(y as i32, m, d).ok_or_else(|| DateError::Impossible(text.to_string()))?;
    let rest = &rest[d_end..];
    if rest.is_empty() {
        return Ok(Cell::Exact(day * 86_400, DateShape::IsoDate));
    }
    if !(rest[0] == b'T' || rest[0] == b' ') {
        return Err(DateError::Unrecognised);
    }
    let (secs, tail) = parse_time(trim_start(&rest[1..]))?;
    let ts = day * 86_400 + i64::from(secs);
    let tail = trim_start(tail);
    if tail.is_empty() {
        return Ok(Cell::Exact(ts, DateShape::IsoDateTime));
    }
    if tail == b"Z" || tail == b"z" || tail.eq_ignore_ascii_case(b"utc") {
        return Ok(Cell::Exact(ts, DateShape::IsoDateTimeOffset));
    }
    let sign = match tail[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return Err(DateError::Unrecognised),
    };
    let digits: Vec<u8> = tail[1..].iter().copied().filter(|&c| c != b':').collect();
    let (oh, om) = match digits.len() {
        2 => (num(&digits).ok_or(DateError::Unrecognised)?, 0),
        4 => (num(&digits[..2]).ok_or(DateError::Unrecognised)?, num(&digits[2..]).ok_or(DateError::Unrecognised)?),
        _ => return Err(DateError::Unrecognised),
    };
    if oh > 18 || om > 59 {
        return Err(DateError::Impossible(format!("offset in {text}")));
    }
    let offset = sign * i64::from(oh * 3600 + om * 60);
    Ok(Cell::Exact(ts - offset, DateShape::IsoDateTimeOffset))
}

fn parse_day_month_year(b: &[u8], sep: u8) -> Result<SlashDate, DateError> {
    let mut it = b.splitn(3, |&c| c == sep);
    let first = it.next().and_then(num).ok_or(DateError::Unrecognised)?;
    let second = it.next().and_then(num).ok_or(DateError::Unrecognised)?;
    let rest = it.next().ok_or(DateError::Unrecognised)?;
    let y_end = rest.iter().position(|c| !c.is_ascii_digit()).unwrap_or(rest.len());
    if y_end != 4 {
        return Err(DateError::Impossible("year must have four digits (two-digit years are ambiguous)".into()));
    }
    let year = num(&rest[..4]).ok_or(DateError::Unrecognised)?;
    let tail = &rest[4..];
    let seconds_of_day = if tail.is_empty() {
        0
    } else {
        let (secs, leftover) = parse_time(trim_start(tail))?;
        if !trim_start(leftover).is_empty() {
            return Err(DateError::Unrecognised);
        }
        secs
    };
    if first > 31 || second > 31 {
        return Err(DateError::Impossible(format!("{first}{}{second}", sep as char)));
    }
    Ok(SlashDate { first: first as u8, second: second as u8, year: year as u16, seconds_of_day })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(s: &str) -> (i64, DateShape) {
        match parse_date(s) {
            Ok(Cell::Exact(ts, shape)) => (ts, shape),
            other => panic!("{s}: {other:?}"),
        }
    }

    const D_2024_03_05: i64 = 19_787 * 86_400;

    #[test]
    fn iso_variants() {
        assert_eq!(exact("2024-03-05"), (D_2024_03_05, DateShape::IsoDate));
        assert_eq!(exact(" 2024-03-05 "), (D_2024_03_05, DateShape::IsoDate));
        assert_eq!(exact("2024-03-05 10:20:30").0, D_2024_03_05 + 37_230);
        assert_eq!(exact("2024-03-05T10:20").0, D_2024_03_05 + 37_200);
        assert_eq!(exact("2024-03-05T10:20:30.123Z").0, D_2024_03_05 + 37_230);
        // 01:00 at +02:00 is 23:00 the previous day in UTC.
        assert_eq!(exact("2024-03-05T01:00:00+02:00").0, D_2024_03_05 - 3600);
        assert_eq!(exact("2024-03-05T01:00:00-0530").0, D_2024_03_05 + 3600 + 5 * 3600 + 1800);
        assert_eq!(exact("2024/03/05").0, D_2024_03_05);
    }

    #[test]
    fn compact_unix_and_dotted() {
        assert_eq!(exact("20240305"), (D_2024_03_05, DateShape::CompactYmd));
        assert_eq!(exact("1709596800"), (D_2024_03_05, DateShape::UnixSeconds));
        assert_eq!(exact("1709596800000"), (D_2024_03_05, DateShape::UnixMillis));
        assert_eq!(exact("05.03.2024"), (D_2024_03_05, DateShape::DottedDayFirst));
        assert_eq!(exact("05.03.2024 10:20").0, D_2024_03_05 + 37_200);
    }

    #[test]
    fn slash_dates_defer_their_order() {
        let Ok(Cell::Slash(d)) = parse_date("3/5/2024 8:26") else { panic!() };
        assert_eq!(d.resolve(DateOrder::MonthFirst), Some(D_2024_03_05 + 8 * 3600 + 26 * 60));
        assert_eq!(d.valid_orders(), (true, true));
        let Ok(Cell::Slash(d)) = parse_date("25/12/2024") else { panic!() };
        assert_eq!(d.valid_orders(), (true, false));
        let Ok(Cell::Slash(d)) = parse_date("12/25/2024 1:05 PM") else { panic!() };
        assert_eq!(d.valid_orders(), (false, true));
        assert_eq!(d.resolve(DateOrder::MonthFirst).unwrap() % 86_400, 13 * 3600 + 300);
    }

    #[test]
    fn placeholder_dates_are_named() {
        let ts = |s: &str| exact(s).0;
        assert_eq!(placeholder(0), Some("1970-01-01 00:00 is Unix time 0, a placeholder for a missing date"));
        for s in ["0000-01-01", "0000-06-15 10:00", "1900-01-01", "1899-12-30", "0001-01-01", "1970-01-01T00:00:00Z"] {
            assert!(placeholder(ts(s)).is_some(), "{s}");
        }
        for s in ["1970-01-01 12:30", "1900-01-02", "1969-12-31", "0001-01-02", "2024-03-05"] {
            assert_eq!(placeholder(ts(s)), None, "{s}");
        }
    }

    #[test]
    fn bad_dates_say_why() {
        assert_eq!(parse_date(""), Err(DateError::Missing));
        assert_eq!(parse_date("NULL"), Err(DateError::Missing));
        assert!(matches!(parse_date("2023-02-30"), Err(DateError::Impossible(_))));
        assert!(matches!(parse_date("30.02.2024"), Err(DateError::Impossible(_))));
        assert!(matches!(parse_date("20230230"), Err(DateError::Impossible(_))));
        assert!(matches!(parse_date("31/31/2024"), Err(DateError::Impossible(_))));
        assert!(matches!(parse_date("1/2/24"), Err(DateError::Impossible(_))));
        assert!(matches!(parse_date("2024-03-05 25:00"), Err(DateError::Impossible(_))));
        assert_eq!(parse_date("yesterday"), Err(DateError::Unrecognised));
        assert_eq!(parse_date("2024-03-05 10:20 PST"), Err(DateError::Unrecognised));
    }
}
