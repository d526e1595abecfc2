//! Number formatting for the page (pure, tested natively).

/// `1234567` → `1,234,567`.
pub fn int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Money with two decimals and thousands separators; `-` sign first.
pub fn money(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let cents = (x.abs() * 100.0).round() as u64;
    let sign = if x < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", int(cents / 100), cents % 100)
}

/// `1536` → `1.5 KB`.
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = b.max(0.0);
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `digits` decimals and thousands separators: `-1234.5` → `-1,234.50` (2 digits).
pub fn grouped(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let text = format!("{:.digits$}", x.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    let whole = whole.parse::<u64>().map(int).unwrap_or_else(|_| whole.to_string());
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

/// Like [`grouped`], without trailing zeros: a number a person typed, as they typed it (`2`, `0.5`).
pub fn trimmed(x: f64, digits: usize) -> String {
    let text = grouped(x, digits);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

pub fn fixed(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "—".into()
    }
}

/// Like [`fixed`], but a magnitude of a million or more (an interval a
/// barely identified parameter gives) in scientific notation, so a table
/// cell stays narrow: `1.716e11`, not `171606237107.993`.
pub fn estimate(x: f64, digits: usize) -> String {
    if x.is_finite() && x.abs() >= 1e6 {
        format!("{x:.digits$e}")
    } else {
        fixed(x, digits)
    }
}

pub fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        (100.0 * part / whole).clamp(0.0, 100.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_drops_trailing_zeros_only() {
        assert_eq!(trimmed(2.0, 2), "2");
        assert_eq!(trimmed(0.5, 2), "0.5");
        assert_eq!(trimmed(1250.0, 2), "1,250");
        assert_eq!(trimmed(0.333, 2), "0.33");
        assert_eq!(trimmed(f64::NAN, 2), "—");
    }

    #[test]
    fn grouped_numbers_have_thousands_separators() {
        assert_eq!(grouped(-1234.5, 2), "-1,234.50");
        assert_eq!(grouped(1234567.0, 0), "1,234,567");
        assert_eq!(grouped(0.12345, 4), "0.1235");
        assert_eq!(grouped(-0.00001, 2), "0.00");
        assert_eq!(grouped(f64::NAN, 2), "—");
    }

    #[test]
    fn estimates_stay_narrow() {
        assert_eq!(estimate(171606237107.993, 3), "1.716e11");
        assert_eq!(estimate(-2.5e6, 2), "-2.50e6");
        assert_eq!(estimate(999_999.5, 1), "999999.5");
        assert_eq!(estimate(0.0004, 3), "0.000");
        assert_eq!(estimate(f64::NAN, 3), "—");
    }

    #[test]
    fn formats() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(69_659), "69,659");
        assert_eq!(int(1_234_567), "1,234,567");
        assert_eq!(money(2500315.634), "2,500,315.63");
        assert_eq!(money(-5.0), "-5.00");
        assert_eq!(money(-0.001), "0.00");
        assert_eq!(money(f64::NAN), "—");
        assert_eq!(bytes(1536.0), "1.5 KB");
        assert_eq!(bytes(12.0), "12 B");
        assert_eq!(percent(1.0, 4.0), 25.0);
        assert_eq!(percent(1.0, 0.0), 0.0);
    }
}
