//! Money cells: currency symbols, thousands separators, decimal commas,
//! accounting negatives. Missing values are errors, never zero.

use serde::{Deserialize, Serialize};

/// Which character separates the decimals, decided once per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecimalSeparator {
    #[default]
    Point,
    Comma,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    Missing,
    Invalid(String),
}

impl AmountError {
    pub fn message(&self, sep: DecimalSeparator) -> String {
        match self {
            AmountError::Missing => "amount is missing (empty, NULL or NA are never read as 0)".into(),
            AmountError::Invalid(why) => format!(
                "not a number: {why}; expected e.g. {}",
                match sep {
                    DecimalSeparator::Point => "1234.56, 1,234.56, $12.50 or (3.00)",
                    DecimalSeparator::Comma => "1234,56, 1.234,56 or 12,50 €",
                }
            ),
        }
    }
}

const SYMBOLS: [&str; 9] = ["$", "€", "£", "¥", "₹", "₽", "₩", "CHF", "kr"];

/// Strip a currency symbol or 3-letter ISO code on either side.
fn strip_currency(s: &str) -> &str {
    let mut t = s.trim();
    for sym in SYMBOLS {
        t = t.strip_prefix(sym).unwrap_or(t).trim();
        t = t.strip_suffix(sym).unwrap_or(t).trim();
    }
    let b = t.as_bytes();
    if b.len() > 4 && b[..3].iter().all(u8::is_ascii_uppercase) && !b[3].is_ascii_alphabetic() {
        t = t[3..].trim();
    }
    let b = t.as_bytes();
    if b.len() > 4 && b[b.len() - 3..].iter().all(u8::is_ascii_uppercase) && !b[b.len() - 4].is_ascii_alphabetic() {
        t = t[..t.len() - 3].trim();
    }
    t
}

pub fn parse_amount(raw: &str, sep: DecimalSeparator) -> Result<f64, AmountError> {
    if let Some(v) = plain_number(raw.trim().as_bytes(), sep) {
        return Ok(v);
    }
    if super::dates::is_missing(raw) {
        return Err(AmountError::Missing);
    }
    let mut s = raw.trim();
    let mut negative = false;
    if s.starts_with('(') && s.ends_with(')') {
        negative = true;
        s = &s[1..s.len() - 1];
    }
    let mut s = strip_currency(s);
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = strip_currency(rest);
    } else if let Some(rest) = s.strip_prefix('+') {
        s = strip_currency(rest);
    }
    let (decimal, thousands) = match sep {
        DecimalSeparator::Point => ('.', ','),
        DecimalSeparator::Comma => (',', '.'),
    };
    let (int_part, frac_part) = match s.split_once(decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let int_digits =
        digits_with_groups(int_part, thousands).ok_or_else(|| AmountError::Invalid(format!("{:?}", raw.trim())))?;
    let mut text = int_digits;
    if let Some(f) = frac_part {
        if f.is_empty() && text.is_empty() || !f.bytes().all(|c| c.is_ascii_digit()) {
            return Err(AmountError::Invalid(format!("{:?}", raw.trim())));
        }
        text.push('.');
        text.push_str(f);
    }
    if text.is_empty() || text == "." {
        return Err(AmountError::Invalid(format!("{:?}", raw.trim())));
    }
    let v: f64 = text.parse().map_err(|_| AmountError::Invalid(format!("{:?}", raw.trim())))?;
    if !v.is_finite() {
        return Err(AmountError::Invalid(format!("{:?} is out of range", raw.trim())));
    }
    Ok(if negative { -v } else { v })
}

/// The common case without allocating: an optional sign, digits and at most
/// one decimal separator (`-12.50`; `12,50` with a decimal comma). Anything
/// else (symbols, groups, parentheses, surrounding spaces) returns `None` and
/// takes the general path.
///
/// Up to 15 digits this is exact without a string parse: the digits form an
/// integer `m < 2⁵³` and `m / 10ᵏ` (k ≤ 15) is one correctly rounded IEEE
/// division of two exactly representable numbers — Clinger's fast path
/// (W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990).
pub fn plain_number(b: &[u8], sep: DecimalSeparator) -> Option<f64> {
    const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let decimal = match sep {
        DecimalSeparator::Point => b'.',
        DecimalSeparator::Comma => b',',
    };
    let (negative, body) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    // Digits, then at most one separator and more digits: two tight loops
    // (this runs on every amount of a file).
    let digits_from = |mut i: usize, mantissa: &mut u64| {
        while let Some(d) = body.get(i).map(|c| c.wrapping_sub(b'0')).filter(|&d| d <= 9) {
            *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        i
    };
    let mut mantissa = 0u64;
    let int_end = digits_from(0, &mut mantissa);
    let (end, point) = match body.get(int_end) {
        Some(&c) if c == decimal => (digits_from(int_end + 1, &mut mantissa), Some(int_end)),
        _ => (int_end, None),
    };
    let digits = end - usize::from(point.is_some());
    if end != body.len() || digits == 0 {
        return None;
    }
    let v = if digits <= 15 {
        let decimals = point.map_or(0, |p| body.len() - p - 1);
        mantissa as f64 / POW10[decimals]
    } else {
        let text = std::str::from_utf8(body).ok()?.replacen(char::from(decimal), ".", 1);
        text.parse::<f64>().ok().filter(|v| v.is_finite())?
    };
    Some(if negative { -v } else { v })
}

/// Digits, optionally grouped by `sep` (or spaces) in threes: `1,234,567`.
fn digits_with_groups(s: &str, sep: char) -> Option<String> {
    if s.is_empty() {
        return Some(String::new());
    }
    let groups: Vec<&str> = s.split([sep, ' ', '\u{a0}', '\'']).collect();
    if groups.iter().any(|g| g.is_empty() || !g.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    Some(groups.concat())
}

/// Evidence for the decimal separator of one column, gathered from a sample.
#[derive(Debug, Default, Clone, Copy)]
pub struct DecimalEvidence {
    comma_only: usize,
    point_only: usize,
}

impl DecimalEvidence {
    pub fn observe(&mut self, raw: &str) {
        let point = parse_amount(raw, DecimalSeparator::Point).is_ok();
        let comma = parse_amount(raw, DecimalSeparator::Comma).is_ok();
        // "1,234" reads under both (thousands or decimals) and proves nothing,
        // but "12,5" or "1.234,56" can only be decimal commas.
        match (point, comma) {
            (false, true) => self.comma_only += 1,
            (true, false) => self.point_only += 1,
            _ if raw.contains(',')
                && !raw.contains('.')
                && raw.rsplit(',').next().is_some_and(|f| f.trim().len() != 3) =>
            {
                self.comma_only += 1
            }
            _ if raw.contains('.')
                && !raw.contains(',')
                && raw.rsplit('.').next().is_some_and(|f| f.trim().len() != 3) =>
            {
                self.point_only += 1
            }
            _ => {}
        }
    }

    pub fn decide(&self) -> DecimalSeparator {
        if self.comma_only > self.point_only {
            DecimalSeparator::Comma
        } else {
            DecimalSeparator::Point
        }
    }
}

/// `1/true/yes/y/t` (any case) is a refund; `0/false/no/n/f/` empty is not.
pub fn parse_flag(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "t" => Some(true),
        "0" | "false" | "no" | "n" | "f" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecimalSeparator::*;

    #[test]
    fn point_column() {
        assert_eq!(parse_amount("12.50", Point), Ok(12.5));
        assert_eq!(parse_amount(" 1,234.56 ", Point), Ok(1234.56));
        assert_eq!(parse_amount("$1,234,567", Point), Ok(1_234_567.0));
        assert_eq!(parse_amount("-3", Point), Ok(-3.0));
        assert_eq!(parse_amount("(3.00)", Point), Ok(-3.0));
        assert_eq!(parse_amount("-$3.10", Point), Ok(-3.1));
        assert_eq!(parse_amount("USD 7.25", Point), Ok(7.25));
        assert_eq!(parse_amount("7.25 EUR", Point), Ok(7.25));
        assert_eq!(parse_amount(".5", Point), Ok(0.5));
        assert_eq!(parse_amount("0", Point), Ok(0.0));
    }

    #[test]
    fn comma_column() {
        assert_eq!(parse_amount("12,50", Comma), Ok(12.5));
        assert_eq!(parse_amount("1.234,56 €", Comma), Ok(1234.56));
        assert_eq!(parse_amount("-0,99", Comma), Ok(-0.99));
    }

    #[test]
    fn missing_is_never_zero() {
        for s in ["", "  ", "NULL", "NA", "n/a", "nan"] {
            assert_eq!(parse_amount(s, Point), Err(AmountError::Missing), "{s:?}");
        }
        for s in ["abc", "1,23.4", "12.3.4", "1e400", "12,5"] {
            assert!(matches!(parse_amount(s, Point), Err(AmountError::Invalid(_))), "{s:?}");
        }
        assert!(AmountError::Missing.message(Point).contains("never read as 0"));
    }

    #[test]
    fn decimal_evidence() {
        let mut e = DecimalEvidence::default();
        for s in ["12,50", "1.234,56", "1,234", "3"] {
            e.observe(s);
        }
        assert_eq!(e.decide(), Comma);
        let mut e = DecimalEvidence::default();
        for s in ["12.50", "1,234.56", "1,234", "3"] {
            e.observe(s);
        }
        assert_eq!(e.decide(), Point);
    }

    #[test]
    fn fast_path_rounds_like_the_standard_parser() {
        for s in [
            "0",
            "-0",
            "+7",
            "5.",
            ".5",
            "0.1",
            "12.34",
            "-99.99",
            "123456789012345",
            "0.000000000000001",
            "9007199254740993",
            "1234567890123456789.5",
            "3.14159265358979",
            "7.000000000000001",
        ] {
            let want: f64 = s.parse().unwrap();
            let got = plain_number(s.as_bytes(), Point).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{s}");
            let comma = s.replace('.', ",");
            assert_eq!(plain_number(comma.as_bytes(), Comma).unwrap().to_bits(), want.to_bits(), "{comma}");
        }
        for s in ["", "-", ".", "1.2.3", "1,5", " 1", "1e5", "$1"] {
            assert_eq!(plain_number(s.as_bytes(), Point), None, "{s:?}");
        }
        // Every cent value below 10⁶ agrees bit for bit.
        for cents in (0..100_000_000u64).step_by(997) {
            let s = format!("{}.{:02}", cents / 100, cents % 100);
            assert_eq!(
                plain_number(s.as_bytes(), Point).unwrap().to_bits(),
                s.parse::<f64>().unwrap().to_bits(),
                "{s}"
            );
        }
    }

    #[test]
    fn flags() {
        assert_eq!(parse_flag("Yes"), Some(true));
        assert_eq!(parse_flag("0"), Some(false));
        assert_eq!(parse_flag("maybe"), None);
    }
}
