//! Pre-aggregated summaries, for warehouse users who cannot export raw rows:
//! one row per customer with `frequency, recency, T[, monetary_value]` (or
//! `x, t_x, T`), or the weighted discrete-time form
//! `frequency, recency, periods, weights` used by BG/BB.

use crate::ingest::columns::normalise_header;
use crate::ingest::IngestError;
use serde::{Deserialize, Serialize};
use std::io::Read;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub user_id: String,
    pub frequency: f64,
    pub recency: f64,
    pub t: f64,
    pub monetary_value: f64,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryInput {
    pub rows: Vec<SummaryRow>,
    pub has_monetary: bool,
    /// The weighted `periods, weights` form (discrete time).
    pub weighted: bool,
}

fn find(norm: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| norm.iter().position(|h| h == n))
}

/// Does this header look like a summary rather than transactions?
pub fn looks_like_summary(headers: &[String]) -> bool {
    let norm: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    find(&norm, &["frequency", "x"]).is_some() && find(&norm, &["recency", "tx"]).is_some()
}

/// Read a summary file. Every problem is an error naming the line and
/// column: a summary is small and must be right as a whole.
pub fn parse_summary<R: Read>(reader: R) -> Result<SummaryInput, IngestError> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| IngestError::Csv { line: 1, message: e.to_string() })?
        .iter()
        .map(str::to_string)
        .collect();
    let norm: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    let missing = |role: &str| IngestError::MissingColumn { role: role.into(), headers: headers.clone() };
    let f = find(&norm, &["frequency", "x"]).ok_or_else(|| missing("frequency (or x)"))?;
    let r = find(&norm, &["recency", "tx"]).ok_or_else(|| missing("recency (or t_x)"))?;
    let periods = find(&norm, &["periods", "n"]);
    let t = find(&norm, &["t"]).or(periods).ok_or_else(|| missing("T (or periods)"))?;
    let w = find(&norm, &["weights", "weight", "count"]);
    let m = find(&norm, &["monetaryvalue", "monetary", "zbar", "m"]);
    let id = find(&norm, &["userid", "customerid", "id", "customer"]);
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec =
            rec.map_err(|e| IngestError::Csv { line: e.position().map_or(0, |p| p.line()), message: e.to_string() })?;
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        let num = |col: usize, what: &str| -> Result<f64, IngestError> {
            let raw = rec.get(col).unwrap_or_default();
            raw.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| IngestError::Csv {
                line,
                message: format!("column {:?} ({what}): expected a number ≥ 0, got {raw:?}", headers[col]),
            })
        };
        rows.push(SummaryRow {
            user_id: id.map_or_else(|| (i + 1).to_string(), |c| rec.get(c).unwrap_or_default().to_string()),
            frequency: num(f, "frequency")?,
            recency: num(r, "recency")?,
            t: num(t, "T")?,
            monetary_value: m.map(|c| num(c, "monetary value")).transpose()?.unwrap_or(0.0),
            weight: w.map(|c| num(c, "weight")).transpose()?.unwrap_or(1.0),
        });
    }
    Ok(SummaryInput { rows, has_monetary: m.is_some(), weighted: w.is_some() })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn errors_name_line_and_column() {
        let e = parse_summary("user_id,frequency,recency,T\na,1,2,x\n".as_bytes()).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("\"T\"") && e.contains("\"x\""), "{e}");
        let e = parse_summary("user_id,frequency\na,1\n".as_bytes()).unwrap_err().to_string();
        assert!(e.contains("recency"), "{e}");
    }
}
