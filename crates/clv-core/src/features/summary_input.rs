//! Pre-aggregated summaries, for warehouse users who cannot export raw rows:
//! one row per customer with `frequency, recency, T[, monetary_value]` (or
//! `x, t_x, T`), or the weighted discrete-time form
//! `frequency, recency, periods, weights` used by BG/BB.

use super::{PREVIEW_ROWS, REPEAT_BINS};
use crate::ingest::columns::normalise_header;
use crate::ingest::IngestError;
use crate::limits::{
    line_too_long, LineLimit, LineTooLong, MAX_COLUMNS, MAX_MONEY, MAX_PERIODS, MAX_SUMMARY_VALUE, MAX_WEIGHT,
};
use serde::{Deserialize, Serialize};
use std::io::Read;

/// One customer (or, weighted, one group of identical customers) of a summary file, as read. Times
/// are in whatever unit the file was written in; the file does not say which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The id column's value, or the 1-based row number when the file has no id column.
    pub user_id: String,
    /// x: repeat transactions (0 to [`MAX_SUMMARY_VALUE`]).
    pub frequency: f64,
    /// t_x: time from the first to the last purchase (0 to [`MAX_SUMMARY_VALUE`]).
    pub recency: f64,
    /// T (time from the first purchase to the end of the data), or in the discrete form the number of
    /// periods n (then at most [`MAX_PERIODS`]: it is a loop length of the BG/BB likelihood).
    pub t: f64,
    /// Mean value of the repeat transactions (0 to [`MAX_MONEY`]); 0 when the file has no such column.
    pub monetary_value: f64,
    /// How many customers the row stands for (0 to [`MAX_WEIGHT`]); 1 when the file has no weight column.
    pub weight: f64,
}

/// A parsed summary file: its rows and which optional columns it had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryInput {
    /// The rows in file order.
    pub rows: Vec<SummaryRow>,
    /// Whether the file has a monetary-value column (without one there is nothing to fit Gamma–Gamma on).
    pub has_monetary: bool,
    /// Whether the file has a weight column (one row stands for that many identical customers).
    pub weighted: bool,
    /// The discrete-time form: a `periods` column instead of `T` (transaction opportunities, BG/BB).
    #[serde(default)]
    pub discrete: bool,
    /// A histogram (`clv sql --emit histogram`): rows of identical customers with their `count` and
    /// `sum_monetary`; `monetary_value` is then the group's mean (`sum_monetary / count`), which is
    /// right for totals but not what Gamma–Gamma is fitted on.
    #[serde(default)]
    pub histogram: bool,
}

/// What a person is shown about a summary file before fitting: the same figures the Data view shows
/// for transactions, read from the rows as given (weights counted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryFileStats {
    /// Rows of the file.
    pub rows: usize,
    /// Customers: the sum of the weights (the rows, without a weight column).
    pub customers: f64,
    /// Customers with at least one repeat purchase (`frequency` > 0).
    pub repeat_buyers: f64,
    /// Weighted mean of `frequency` over the customers.
    pub mean_frequency: f64,
    /// Weighted mean of `recency` over the customers, in the file's unit.
    pub mean_recency: f64,
    /// Weighted mean of `T` (or periods) over the customers, in the file's unit.
    pub mean_t: f64,
    /// Weighted mean of `monetary_value` over the repeat buyers (`None` without that column or
    /// without repeat buyers).
    pub mean_monetary_repeaters: Option<f64>,
    /// Customers by repeat purchases: 0, 1, …, [`REPEAT_BINS`] − 1, then that many or more (weighted).
    pub repeat_histogram: Vec<f64>,
    /// See [`SummaryInput::has_monetary`].
    pub has_monetary: bool,
    /// See [`SummaryInput::weighted`].
    pub weighted: bool,
    /// See [`SummaryInput::discrete`].
    pub discrete: bool,
    /// See [`SummaryInput::histogram`].
    #[serde(default)]
    pub histogram: bool,
    /// The first [`PREVIEW_ROWS`] rows as read.
    pub preview: Vec<SummaryRow>,
}

impl SummaryInput {
    /// The file's figures ([`SummaryFileStats`]); a file of rows that all weigh 0 has none to show
    /// and is refused by [`parse_summary`] already.
    pub fn stats(&self) -> SummaryFileStats {
        let weight =
            |f: &dyn Fn(&SummaryRow) -> bool| crate::total(self.rows.iter().filter(|r| f(r)).map(|r| r.weight));
        let customers = weight(&|_| true);
        let repeat_buyers = weight(&|r| r.frequency > 0.0);
        let mean = |v: &dyn Fn(&SummaryRow) -> f64, over: f64, only_repeat: bool| {
            let sum =
                crate::total(self.rows.iter().filter(|r| !only_repeat || r.frequency > 0.0).map(|r| r.weight * v(r)));
            if over > 0.0 {
                sum / over
            } else {
                0.0
            }
        };
        let mut repeat_histogram = vec![0.0; REPEAT_BINS];
        for r in &self.rows {
            repeat_histogram[(r.frequency as usize).min(REPEAT_BINS - 1)] += r.weight;
        }
        SummaryFileStats {
            rows: self.rows.len(),
            customers,
            repeat_buyers,
            mean_frequency: mean(&|r| r.frequency, customers, false),
            mean_recency: mean(&|r| r.recency, customers, false),
            mean_t: mean(&|r| r.t, customers, false),
            mean_monetary_repeaters: (self.has_monetary && repeat_buyers > 0.0)
                .then(|| mean(&|r| r.monetary_value, repeat_buyers, true)),
            repeat_histogram,
            has_monetary: self.has_monetary,
            weighted: self.weighted,
            discrete: self.discrete,
            histogram: self.histogram,
            preview: self.rows.iter().take(PREVIEW_ROWS).cloned().collect(),
        }
    }
}

fn find(norm: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| norm.iter().position(|h| h == n))
}

/// The header names (normalised: [`normalise_header`]) each column is known by, first match wins.
const FREQUENCY: &[&str] = &["frequency", "x"];
const RECENCY: &[&str] = &["recency", "tx"];
const WEIGHT: &[&str] = &["weights", "weight", "count"];
const MONETARY: &[&str] = &["monetaryvalue", "monetary", "zbar", "m"];

fn normalised(headers: &[String]) -> Vec<String> {
    headers.iter().map(|h| normalise_header(h)).collect()
}

/// Does this header look like a summary rather than transactions?
pub fn looks_like_summary(headers: &[String]) -> bool {
    let norm = normalised(headers);
    find(&norm, FREQUENCY).is_some() && find(&norm, RECENCY).is_some()
}

/// Does this header look like a spend histogram (`clv sql --emit spend`: `frequency,
/// monetary_value, count`, no recency) — what Gamma–Gamma is fitted on without customer rows?
pub fn looks_like_spend(headers: &[String]) -> bool {
    let norm = normalised(headers);
    find(&norm, FREQUENCY).is_some()
        && find(&norm, MONETARY).is_some()
        && find(&norm, WEIGHT).is_some()
        && find(&norm, RECENCY).is_none()
}

/// A summary-like file opened: its reader past the header, the header as written and normalised.
/// A header wider than [`MAX_COLUMNS`] is refused before anything else is read.
type Opened<R> = (csv::Reader<LineLimit<R>>, Vec<String>, Vec<String>);

fn open_summary<R: Read>(reader: R) -> Result<Opened<R>, IngestError> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(LineLimit::new(reader));
    let width = rdr.byte_headers().map_err(csv_error)?.len();
    if width > MAX_COLUMNS {
        let message = format!("the header has {width} columns; a summary has 3 to 6 (at most {MAX_COLUMNS})");
        return Err(IngestError::Csv { line: 1, message });
    }
    let headers: Vec<String> = rdr.headers().map_err(csv_error)?.iter().map(str::to_string).collect();
    let norm = normalised(&headers);
    Ok((rdr, headers, norm))
}

/// Cell `col` of `rec` (at `line`) as a number from `min` to `max`, or an error naming the line,
/// the column, what it holds and (the first 40 characters of) what was read.
fn number(
    rec: &csv::StringRecord,
    line: u64,
    headers: &[String],
    col: usize,
    what: &str,
    (min, max): (f64, f64),
) -> Result<f64, IngestError> {
    let raw = rec.get(col).unwrap_or_default();
    raw.parse::<f64>().ok().filter(|v| v.is_finite() && (min..=max).contains(v)).ok_or_else(|| {
        let shown: String = raw.chars().take(40).collect();
        let cut = if shown.len() < raw.len() { "…" } else { "" };
        IngestError::Csv {
            line,
            message: format!(
                "column {:?} ({what}): expected a number from {min} to {max}, got {shown:?}{cut}",
                headers[col]
            ),
        }
    })
}

/// A spend histogram as read: repeat buyers grouped by (frequency, mean spend), with their count.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendInput {
    /// (x, mean repeat spend, customers) in file order.
    pub rows: Vec<(f64, f64, f64)>,
}

/// Read a spend histogram (`frequency, monetary_value, count`); every problem is an error naming
/// its line and column, as for [`parse_summary`].
pub fn parse_spend<R: Read>(reader: R) -> Result<SpendInput, IngestError> {
    let (mut rdr, headers, norm) = open_summary(reader)?;
    let missing = |role: &str| IngestError::MissingColumn { role: role.into(), headers: headers.clone() };
    let f = find(&norm, FREQUENCY).ok_or_else(|| missing("frequency"))?;
    let m = find(&norm, MONETARY).ok_or_else(|| missing("monetary_value"))?;
    let w = find(&norm, WEIGHT).ok_or_else(|| missing("count"))?;
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(csv_error)?;
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        let cell = |col: usize, what: &str, range: (f64, f64)| number(&rec, line, &headers, col, what, range);
        rows.push((
            cell(f, "frequency", (0.0, MAX_SUMMARY_VALUE))?,
            cell(m, "monetary value", (-MAX_MONEY, MAX_MONEY))?,
            cell(w, "count", (0.0, MAX_WEIGHT))?,
        ));
    }
    Ok(SpendInput { rows })
}

/// A CSV reader error as an [`IngestError`] naming its line.
fn csv_error(e: csv::Error) -> IngestError {
    match line_too_long(&e) {
        Some(LineTooLong(line)) => IngestError::Csv { line, message: LineTooLong::MESSAGE.into() },
        None => IngestError::Csv { line: e.position().map_or(1, |p| p.line()), message: e.to_string() },
    }
}

/// Read a summary file. Every problem is an error naming the line and
/// column: a summary is small and must be right as a whole. Every value is
/// bounded ([`crate::limits`]): it becomes a loop length or a sum later.
pub fn parse_summary<R: Read>(reader: R) -> Result<SummaryInput, IngestError> {
    let (mut rdr, headers, norm) = open_summary(reader)?;
    let missing = |role: &str| IngestError::MissingColumn { role: role.into(), headers: headers.clone() };
    let f = find(&norm, FREQUENCY).ok_or_else(|| missing("frequency (or x)"))?;
    let r = find(&norm, RECENCY).ok_or_else(|| missing("recency (or t_x)"))?;
    let periods = find(&norm, &["periods", "n"]);
    let t = find(&norm, &["t"]).or(periods).ok_or_else(|| missing("T (or periods)"))?;
    let w = find(&norm, WEIGHT);
    let m = find(&norm, MONETARY);
    let sum_m = find(&norm, &["summonetary", "monetarysum", "summonetaryvalue"]);
    if sum_m.is_some() && w.is_none() {
        let message = "a histogram's sum_monetary needs its count column (customers per row)".to_string();
        return Err(IngestError::Csv { line: 1, message });
    }
    let id = find(&norm, &["userid", "customerid", "id", "customer"]);
    // Periods are a loop length of the BG/BB likelihood; T of the
    // continuous models is only a number.
    let max_t = if find(&norm, &["t"]).is_none() { MAX_PERIODS } else { MAX_SUMMARY_VALUE };
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(csv_error)?;
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        let num = |col: usize, what: &str, max: f64| number(&rec, line, &headers, col, what, (0.0, max));
        // Net spend can be negative (refunds larger than the purchases): no fit reads it, totals do.
        let money = |col: usize, what: &str, max: f64| number(&rec, line, &headers, col, what, (-max, max));
        let weight = w.map(|c| num(c, "weight", MAX_WEIGHT)).transpose()?.unwrap_or(1.0);
        let monetary_value = match (sum_m, m) {
            (Some(c), _) => {
                let sum = money(c, "sum of the group's monetary values", MAX_MONEY * MAX_WEIGHT)?;
                if weight > 0.0 {
                    sum / weight
                } else {
                    0.0
                }
            }
            (None, Some(c)) => money(c, "monetary value", MAX_MONEY)?,
            (None, None) => 0.0,
        };
        rows.push(SummaryRow {
            user_id: id.map_or_else(|| (i + 1).to_string(), |c| rec.get(c).unwrap_or_default().to_string()),
            frequency: num(f, "frequency", MAX_SUMMARY_VALUE)?,
            recency: num(r, "recency", MAX_SUMMARY_VALUE)?,
            t: num(t, if max_t == MAX_PERIODS { "periods" } else { "T" }, max_t)?,
            monetary_value,
            weight,
        });
    }
    if !rows.is_empty() && rows.iter().all(|r| r.weight == 0.0) {
        let message =
            format!("all weights are 0 (column {:?}): there are no customers to fit", headers[w.unwrap_or(0)]);
        return Err(IngestError::Csv { line: 2, message });
    }
    Ok(SummaryInput {
        rows,
        has_monetary: m.is_some() || sum_m.is_some(),
        weighted: w.is_some(),
        discrete: max_t == MAX_PERIODS,
        histogram: sum_m.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_a_weighted_summary_whose_monetary_is_the_group_mean() {
        let h = "frequency,recency,T,count,sum_monetary\n0,0,10,3,0\n2,4,10,2,-7\n1,1,9,0,0\n";
        let s = parse_summary(h.as_bytes()).unwrap();
        assert!(s.histogram && s.weighted && s.has_monetary && !s.discrete);
        let got: Vec<(f64, f64)> = s.rows.iter().map(|r| (r.weight, r.monetary_value)).collect();
        // Net spend may be negative (refunds); a group of 0 customers has no mean.
        assert_eq!(got, [(3.0, 0.0), (2.0, -3.5), (0.0, 0.0)]);
        let e = parse_summary("frequency,recency,T,sum_monetary\n1,1,2,5\n".as_bytes()).unwrap_err().to_string();
        assert!(e.contains("needs its count column"), "{e}");
        let e = parse_summary("frequency,recency,T,count,sum_monetary\n1,1,2,3,abc\n".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("line 2") && e.to_string().contains("sum_monetary"), "{e}");
    }

    #[test]
    fn a_spend_histogram_is_read_with_the_summary_files_rules() {
        let s = parse_spend("frequency,monetary_value,count\n1,2.5,3\n4,-1,1\n".as_bytes()).unwrap();
        assert_eq!(s.rows, [(1.0, 2.5, 3.0), (4.0, -1.0, 1.0)]);
        let e = parse_spend("frequency,monetary_value,count\n1,2.5,-3\n".as_bytes()).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("\"count\" (count)") && e.contains("\"-3\""), "{e}");
        let wide = format!("{}\n", (0..=MAX_COLUMNS).map(|i| format!("c{i}")).collect::<Vec<_>>().join(","));
        assert!(parse_spend(wide.as_bytes()).unwrap_err().to_string().contains("columns"));
    }

    #[test]
    fn continuous_and_weighted_forms() {
        let s = parse_summary("ID,x,t_x,T,zbar\n1,2,30.43,38.86,22.35\n2,0,0,38.86,0\n".as_bytes()).unwrap();
        assert_eq!(s.rows.len(), 2);
        assert!(s.has_monetary && !s.weighted);
        assert_eq!(
            (s.rows[0].frequency, s.rows[0].recency, s.rows[0].t, s.rows[0].monetary_value),
            (2.0, 30.43, 38.86, 22.35)
        );
        let d = parse_summary("frequency,recency,periods,weights\n0,0,6,3464\n1,1,6,1091\n".as_bytes()).unwrap();
        assert!(d.weighted && !d.has_monetary);
        assert_eq!((d.rows[1].t, d.rows[1].weight), (6.0, 1091.0));
        assert!(looks_like_summary(&["user_id".into(), "frequency".into(), "recency".into(), "T".into()]));
        assert!(!looks_like_summary(&["user_id".into(), "ts".into(), "amount".into()]));
    }

    #[test]
    fn stats_count_weights_and_repeat_buyers() {
        // By hand: 3 + 1 customers of the weighted form, one of them (weight 1) a repeat buyer with x = 12.
        let d = parse_summary("frequency,recency,periods,weights\n0,0,6,3\n12,5,6,1\n".as_bytes()).unwrap().stats();
        assert!(d.discrete && d.weighted && !d.has_monetary);
        assert_eq!((d.rows, d.customers, d.repeat_buyers), (2, 4.0, 1.0));
        assert_eq!((d.mean_frequency, d.mean_recency, d.mean_t), (3.0, 1.25, 6.0));
        assert_eq!(d.repeat_histogram[0], 3.0);
        assert_eq!(d.repeat_histogram[REPEAT_BINS - 1], 1.0, "12 repeats go to the last, open bar");
        assert_eq!(d.repeat_histogram.iter().sum::<f64>(), d.customers);
        assert_eq!(d.mean_monetary_repeaters, None);
        let c = parse_summary("ID,x,t_x,T,zbar\n1,2,30,38,20\n2,0,0,38,0\n3,1,4,38,50\n".as_bytes()).unwrap().stats();
        assert!(!c.discrete && !c.weighted);
        assert_eq!((c.customers, c.repeat_buyers, c.mean_t), (3.0, 2.0, 38.0));
        assert_eq!(c.mean_monetary_repeaters, Some(35.0), "the one-time buyer's 0 is not a spend");
        assert_eq!(c.preview.len(), 3);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse_summary("user_id,frequency,recency,T\na,1,2,x\n".as_bytes()).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("\"T\"") && e.contains("\"x\""), "{e}");
        let e = parse_summary("user_id,frequency\na,1\n".as_bytes()).unwrap_err().to_string();
        assert!(e.contains("recency"), "{e}");
    }

    fn err(text: &str) -> String {
        parse_summary(text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn weights_are_bounded_and_not_all_zero() {
        let e = err("frequency,recency,periods,weights\n0,0,6,0\n1,1,6,0\n");
        assert!(e.contains("all weights are 0"), "{e}");
        for bad in ["-1", "NaN", "inf", "1e10"] {
            let e = err(&format!("frequency,recency,periods,weights\n0,0,6,5\n1,1,6,{bad}\n"));
            assert!(e.contains("line 3") && e.contains("\"weights\"") && e.contains("0 to 1000000000"), "{bad}: {e}");
        }
        // One zero weight among others is a row with no customers, not an error.
        assert_eq!(
            parse_summary("frequency,recency,periods,weights\n0,0,6,0\n1,1,6,2\n".as_bytes()).unwrap().rows.len(),
            2
        );
    }

    #[test]
    fn periods_and_values_are_bounded_with_the_line() {
        let e = err("frequency,recency,periods,weights\n0,0,6,5\n2,2,1000000000000,10\n");
        assert!(e.contains("line 3") && e.contains("(periods)") && e.contains("0 to 10000"), "{e}");
        let e = err(&format!("user_id,frequency,recency,T\na,1,2,3\nb,1{},2,3\n", "0".repeat(300)));
        assert!(e.contains("line 3") && e.contains("0 to 1000000") && e.contains('…'), "{e}");
        // T of a continuous summary may be long (days over decades).
        assert!(parse_summary("user_id,frequency,recency,T\na,1,2,36500\n".as_bytes()).is_ok());
    }

    #[test]
    fn long_lines_and_wide_headers_are_refused_early() {
        let long =
            format!("user_id,frequency,recency,T\na,1,2,3\nb,1,2,3{}\n", ",".repeat(crate::limits::MAX_LINE_BYTES));
        let e = err(&long);
        assert!(e.starts_with("line 3: longer than 1024 KB"), "{e}");
        let wide = format!("user_id,frequency,recency,T{}\n", ",x".repeat(5000));
        let e = err(&wide);
        assert!(e.contains("line 1") && e.contains("5004 columns"), "{e}");
    }
}
