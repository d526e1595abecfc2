//! Money cells: currency symbols, thousands separators, decimal commas,
//! accounting negatives. Missing values are errors, never zero.

use serde::{Deserialize, Serialize};

/// Which character separates the decimals, decided once per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecimalSeparator {
    #[default]
    /// `1,234.56`: a decimal point, thousands grouped by commas (or spaces,
    /// apostrophes). The default.
    Point,
    /// `1.234,56`: a decimal comma, thousands grouped by points (or spaces,
    /// apostrophes).
    Comma,
}

/// Why a money cell could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    /// Empty, or a missing-value marker (`NULL`, `NA`, `-`, …): never read as 0.
    Missing,
    /// Not a number with the column's decimal separator; holds the trimmed cell,
    /// quoted (or that it is out of range).
    Invalid(String),
}

impl AmountError {
    /// The error in words, with examples of cells that read with `sep`.
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

/// The largest |amount| a row may have (after quantity × price, currency
/// conversion and margins). Larger is a typo or an overflow, not a sale, and
/// 10⁷ rows of this size still add up to a finite total.
pub const MAX_AMOUNT: f64 = 1e15;

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

/// Read a money cell with decimal separator `sep`. Accepted around the number:
/// spaces, a sign, accounting parentheses for a negative (`(3.00)`), a currency
/// symbol or 3-letter ISO code on either side (`$12.50`, `12,50 €`, `EUR 7`),
/// and thousands in groups of three (`1,234,567.89`). Missing is an error, never
/// 0. The result is finite but not bounded: rows are checked against
/// [`MAX_AMOUNT`] once their net amount is known.
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

/// Evidence for the decimal separator of the money columns, gathered from
/// a sample: cells that read only one way decide; cells such as `1,500`
/// (1500 with a thousands comma, 1.5 with a decimal comma) are ambiguous,
/// and the choice changes their value a thousandfold.
#[derive(Debug, Default, Clone)]
pub struct DecimalEvidence {
    comma_only: usize,
    point_only: usize,
    ambiguous: usize,
    /// Non-empty cells seen.
    cells: usize,
    /// The first cell of each kind: comma only, point only, ambiguous.
    examples: [Option<String>; 3],
}

/// How the decimal separator was chosen, with the evidence (see the README's
/// Input section for the rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecimalDecision {
    /// The separator the money columns are read with.
    pub separator: DecimalSeparator,
    /// "evidence", "setting" (chosen by hand), or "default" (no cell decides).
    pub decided_by: String,
    /// Sampled cells that read only with a decimal comma (`7,5`).
    pub comma_only: u64,
    /// Sampled cells that read only with a decimal point (`7.5`, `1,234.56`).
    pub point_only: u64,
    /// Sampled cells that read both ways with different values (`1,500`: 1500 or
    /// 1.5): what the decision changes.
    pub ambiguous: u64,
    /// Non-empty money cells sampled (every money column of the first 2,000 rows
    /// of the first MB); 0 when the separator was set by hand.
    pub cells: u64,
    /// Set when the evidence is thin or conflicting, in words.
    pub warning: Option<String>,
}

/// Fewer cells than this deciding a column-wide reading of ambiguous cells
/// is a handful: the report warns.
pub const FEW_DECIDING_CELLS: usize = 5;

impl DecimalEvidence {
    /// Count one sampled money cell by the separators it reads with; missing
    /// cells are skipped.
    pub fn observe(&mut self, raw: &str) {
        let t = raw.trim();
        if super::dates::is_missing(t) {
            return;
        }
        self.cells += 1;
        let point = parse_amount(raw, DecimalSeparator::Point);
        let comma = parse_amount(raw, DecimalSeparator::Comma);
        let kind = match (&point, &comma) {
            (Err(_), Ok(_)) => 0,
            (Ok(_), Err(_)) => 1,
            (Ok(p), Ok(c)) if p != c => 2,
            _ => return,
        };
        *match kind {
            0 => &mut self.comma_only,
            1 => &mut self.point_only,
            _ => &mut self.ambiguous,
        } += 1;
        self.examples[kind].get_or_insert_with(|| t.to_string());
    }

    /// Decimal comma only when cells that read only with a comma outnumber
    /// those that read only with a point *and* are at least as many as the
    /// ambiguous cells whose value the choice changes: one `7,5` cannot
    /// turn 487 cells like `1,500` into 1.5.
    pub fn decide(&self) -> DecimalDecision {
        let (c, p, a) = (self.comma_only, self.point_only, self.ambiguous);
        let comma = c > p && c >= a;
        let separator = if comma { DecimalSeparator::Comma } else { DecimalSeparator::Point };
        let decided_by = if c + p == 0 { "default" } else { "evidence" };
        let ex = |k: usize| self.examples[k].as_deref().unwrap_or("");
        let (won, lost, won_ex, lost_ex, name, other) = if comma {
            (c, p, ex(0), ex(1), "decimal comma", "decimal point")
        } else {
            (p, c, ex(1), ex(0), "decimal point", "decimal comma")
        };
        let ambiguous_value = |k: &str| match separator {
            DecimalSeparator::Point => format!("{k:?} reads as thousands"),
            DecimalSeparator::Comma => format!("{k:?} reads as decimals"),
        };
        let mut warning = Vec::new();
        if !comma && c > p {
            warning.push(format!(
                "only {c} sampled cell(s) such as {:?} read as a {other}, against {a} cell(s) such as {:?} whose \
                 value the choice changes a thousandfold: too little evidence, so amounts are read with a {name} \
                 ({}) and cells such as {:?} are rejected",
                ex(0),
                ex(2),
                ambiguous_value(ex(2)),
                ex(0)
            ));
        } else if lost > 0 {
            warning.push(format!(
                "{won} sampled cell(s) such as {won_ex:?} read only with a {name}, {lost} such as {lost_ex:?} only \
                 with a {other}: read with a {name}, so cells such as {lost_ex:?} are rejected"
            ));
        } else if a > 0 && won < FEW_DECIDING_CELLS {
            warning.push(format!(
                "{a} sampled cell(s) such as {:?} read either way and only {won} cell(s) decide it: read with a \
                 {name} ({})",
                ex(2),
                ambiguous_value(ex(2))
            ));
        }
        let warning = (!warning.is_empty())
            .then(|| format!("{}. Set the decimal separator if that is wrong.", warning.join("; ")));
        DecimalDecision {
            separator,
            decided_by: decided_by.into(),
            comma_only: c as u64,
            point_only: p as u64,
            ambiguous: a as u64,
            cells: self.cells as u64,
            warning,
        }
    }
}

impl DecimalDecision {
    /// A decision made by hand: no evidence asked for.
    pub fn set(separator: DecimalSeparator) -> DecimalDecision {
        DecimalDecision {
            separator,
            decided_by: "setting".into(),
            comma_only: 0,
            point_only: 0,
            ambiguous: 0,
            cells: 0,
            warning: None,
        }
    }

    /// For the report: the reading, and how many cells decided it.
    pub fn describe(&self) -> String {
        let reading = match self.separator {
            DecimalSeparator::Point => "point (1,234.56)",
            DecimalSeparator::Comma => "comma (1.234,56)",
        };
        if self.decided_by == "setting" {
            return format!("{reading}, set by hand");
        }
        if self.comma_only + self.point_only + self.ambiguous == 0 {
            return format!("{reading}: no sampled cell depends on it");
        }
        let deciding = match self.separator {
            DecimalSeparator::Point => self.point_only,
            DecimalSeparator::Comma => self.comma_only,
        };
        format!(
            "{reading}: {deciding} of {} sampled cells decide it ({} read only with a comma, {} only with a point, \
             {} either way)",
            self.cells, self.comma_only, self.point_only, self.ambiguous
        )
    }
}

impl std::str::FromStr for DecimalSeparator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "point" | "." | "dot" => Ok(DecimalSeparator::Point),
            "comma" | "," => Ok(DecimalSeparator::Comma),
            other => Err(format!("unknown decimal separator {other:?}: expected point or comma")),
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

    fn decide(cells: &[&str]) -> DecimalDecision {
        let mut e = DecimalEvidence::default();
        for s in cells {
            e.observe(s);
        }
        e.decide()
    }

    #[test]
    fn decimal_evidence() {
        let d = decide(&["12,50", "1.234,56", "1,234", "3", "NA"]);
        assert_eq!((d.separator, d.comma_only, d.point_only, d.ambiguous, d.cells), (Comma, 2, 0, 1, 4));
        // 2 deciding cells ≥ 1 ambiguous, no conflict, but a handful: warned.
        assert!(d.warning.as_deref().unwrap().contains("only 2 cell(s) decide it"), "{d:?}");
        let d = decide(&["12.50", "1,234.56", "1,234", "3"]);
        assert_eq!((d.separator, d.point_only, d.ambiguous), (Point, 2, 1));
        assert_eq!(decide(&["12,50"; 10]).warning, None);
        assert_eq!(decide(&["12,50"; 10]).describe(), "comma (1.234,56): 10 of 10 sampled cells decide it (10 read only with a comma, 0 only with a point, 0 either way)");
    }

    #[test]
    fn one_decimal_comma_cannot_flip_a_column_of_thousands() {
        let mut cells = vec!["1,500"; 487];
        cells.push("7,5");
        let d = decide(&cells);
        assert_eq!((d.separator, d.comma_only, d.ambiguous), (Point, 1, 487));
        let w = d.warning.unwrap();
        assert!(w.starts_with("only 1 sampled cell(s) such as \"7,5\" read as a decimal comma, against 487"), "{w}");
        assert!(w.contains("\"1,500\" reads as thousands") && w.contains("\"7,5\" are rejected"), "{w}");
        // As many deciding cells as ambiguous ones: a decimal-comma column.
        let mut cells = vec!["1,500"; 3];
        cells.extend(["7,5", "2,25", "0,99"]);
        assert_eq!(decide(&cells).separator, Comma);
    }

    #[test]
    fn conflicting_evidence_is_warned_with_counts() {
        let mut cells = vec!["12,50"; 20];
        cells.push("3.25");
        let d = decide(&cells);
        assert_eq!(d.separator, Comma);
        assert!(d
            .warning
            .unwrap()
            .starts_with("20 sampled cell(s) such as \"12,50\" read only with a decimal comma, 1 such as \"3.25\""));
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
