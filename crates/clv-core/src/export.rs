//! What every CSV export does to its cells, in one place, so the page's
//! downloads and the CLI's output stay byte for byte the same:
//!
//! - **Text from the user's files** (ids, segment values, users-file
//!   attributes) that a spreadsheet would run as a formula — starting with
//!   `=`, `+`, `-`, `@`, tab or carriage return — gets a leading `'`, as
//!   OWASP recommends for CSV injection. Numbers are never touched: `-3.5`
//!   is written by us from an `f64`, never from a user's string.
//! - **Numbers** are written at full precision; a non-finite one (an
//!   overflowing sum) becomes an empty cell, never `inf` or `NaN`.
//!
//! Both are counted, and [`CsvSafety::notes`] says so in words.

use std::borrow::Cow;
use std::fmt::Write;

/// Does a spreadsheet read this cell as a formula (OWASP's list)?
pub fn is_formula(cell: &str) -> bool {
    matches!(cell.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// `cell` with a leading `'` when a spreadsheet would run it.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if is_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Cell writer for one export: the formula guard (on unless the user turns
/// it off) and the counts of cells it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvSafety {
    guard: bool,
    /// Text cells prefixed with `'`.
    pub neutralised: usize,
    /// Non-finite numbers written as empty cells.
    pub non_finite: usize,
}

impl Default for CsvSafety {
    fn default() -> Self {
        CsvSafety::new(true)
    }
}

impl CsvSafety {
    /// `formula_guard`: false writes text cells verbatim (`--no-formula-guard`).
    pub fn new(formula_guard: bool) -> CsvSafety {
        CsvSafety { guard: formula_guard, neutralised: 0, non_finite: 0 }
    }

    /// A text cell that came from user input.
    pub fn text<'a>(&mut self, cell: &'a str) -> Cow<'a, str> {
        if self.guard && is_formula(cell) {
            self.neutralised += 1;
            neutralise(cell)
        } else {
            Cow::Borrowed(cell)
        }
    }

    /// Append a number at full precision (shortest round trip) to `out`, or
    /// nothing, counted, when it is not finite.
    pub fn write_num(&mut self, out: &mut String, v: f64) {
        if v.is_finite() {
            write!(out, "{v}").expect("formatting into a String");
        } else {
            self.non_finite += 1;
        }
    }

    /// A number cell (see [`CsvSafety::write_num`]).
    pub fn num(&mut self, v: f64) -> String {
        let mut s = String::new();
        self.write_num(&mut s, v);
        s
    }

    /// An optional number: empty when absent (not counted) or non-finite.
    pub fn opt(&mut self, v: Option<f64>) -> String {
        v.map(|v| self.num(v)).unwrap_or_default()
    }

    /// What the export changed, for stderr or the page.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.neutralised > 0 {
            notes.push(format!(
                "{} cell{} that start with =, +, -, @, tab or carriage return {} prefixed with ' so spreadsheets do not run them",
                self.neutralised,
                if self.neutralised == 1 { "" } else { "s" },
                if self.neutralised == 1 { "was" } else { "were" },
            ));
        }
        if self.non_finite > 0 {
            notes.push(format!(
                "{} number{} too large to represent (an overflowing sum) {} left empty",
                self.non_finite,
                if self.non_finite == 1 { "" } else { "s" },
                if self.non_finite == 1 { "was" } else { "were" },
            ));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_prefixed_and_counted() {
        let mut s = CsvSafety::default();
        let hostile = [r#"=HYPERLINK("http://x","y")"#, "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\tx", "\rx"];
        for cell in hostile {
            assert_eq!(s.text(cell), format!("'{cell}"));
        }
        for cell in ["alice", "42", "", "a=b", " =x"] {
            assert_eq!(s.text(cell), cell);
        }
        assert_eq!(s.neutralised, 6);
        assert_eq!(
            s.notes(),
            ["6 cells that start with =, +, -, @, tab or carriage return were prefixed with ' so spreadsheets do not run them"]
        );
        let mut raw = CsvSafety::new(false);
        assert_eq!(raw.text("=1+1"), "=1+1");
        assert_eq!((raw.neutralised, raw.notes().len()), (0, 0));
    }

    #[test]
    fn numbers_stay_numbers_and_non_finite_ones_are_empty() {
        let mut s = CsvSafety::default();
        assert_eq!(s.num(-3.5), "-3.5");
        assert_eq!(s.num(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(
            (s.num(f64::INFINITY), s.num(f64::NAN), s.opt(None), s.opt(Some(f64::NEG_INFINITY))),
            (String::new(), String::new(), String::new(), String::new())
        );
        assert_eq!((s.neutralised, s.non_finite), (0, 3));
        assert_eq!(s.notes(), ["3 numbers too large to represent (an overflowing sum) were left empty"]);
    }
}
