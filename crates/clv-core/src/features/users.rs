//! The optional users file: one row per user with a signup time and any
//! categorical or numeric attributes (country, device, `emb_0..emb_k`, …).

use crate::ingest::columns::normalise_header;
use crate::ingest::dates::{parse_date, Cell, DateOrder};
use crate::ingest::IngestError;
use crate::time::day_of;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::Read;

/// One accepted row of the users file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    /// The user id as written; unique within the file and never empty or a placeholder like "NULL".
    pub id: String,
    /// Signup day (days since 1970-01-01, UTC); `None` when there is no signup column, the cell is empty
    /// or a slash date does not exist in the file's date order.
    pub signup_day: Option<i64>,
    /// One value per entry of [`Users::attribute_names`], as written.
    pub attributes: Vec<String>,
}

/// The users file: attribute columns, the rows used and the rows not used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Users {
    /// Header names of every column except the id and the signup date, in file order.
    pub attribute_names: Vec<String>,
    /// The rows used, in file order (the first one of each id).
    pub rows: Vec<UserRow>,
    /// `(line, why)` for rows not used.
    pub rejected: Vec<(u64, String)>,
}

const ID_NAMES: [&str; 6] = ["userid", "customerid", "customer", "client", "user", "id"];
const SIGNUP_NAMES: [&str; 6] = ["signupts", "signup", "signupdate", "signedupat", "registeredat", "createdat"];

/// Read a users CSV. Slash signup dates follow `order` (the users file is
/// small and usually ISO; its order is not inferred separately).
pub fn parse_users<R: Read>(reader: R, order: DateOrder) -> Result<Users, IngestError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| IngestError::Csv { line: 1, message: e.to_string() })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let norm: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    let find = |names: &[&str]| names.iter().find_map(|n| norm.iter().position(|h| h == n));
    let id_col = find(&ID_NAMES).ok_or_else(|| IngestError::MissingColumn {
        role: "user id (users file: user_id, customer_id, …)".into(),
        headers: headers.clone(),
    })?;
    let signup_col = find(&SIGNUP_NAMES);
    let attr_cols: Vec<usize> = (0..headers.len()).filter(|&i| i != id_col && Some(i) != signup_col).collect();
    let mut users =
        Users { attribute_names: attr_cols.iter().map(|&i| headers[i].clone()).collect(), ..Default::default() };
    let mut seen = HashSet::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                users.rejected.push((line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let id = rec.get(id_col).unwrap_or_default();
        if id.trim().is_empty() {
            users.rejected.push((line, "user id is empty".into()));
            continue;
        }
        // As in the transactions: one "NULL" user would stand for every guest.
        if crate::ingest::ids::is_placeholder_id(id) {
            users.rejected.push((line, format!("user id {id:?} stands for a missing id, not a customer")));
            continue;
        }
        if !seen.insert(id.to_string()) {
            users.rejected.push((line, format!("user {id:?} appears twice; the first row is used")));
            continue;
        }
        let signup_day = match signup_col.map(|c| rec.get(c).unwrap_or_default()) {
            None => None,
            Some(raw) if raw.trim().is_empty() => None,
            Some(raw) => match parse_date(raw) {
                Ok(Cell::Exact(ts, _)) => Some(day_of(ts)),
                Ok(Cell::Slash(d)) => d.resolve(order).map(day_of),
                Err(e) => {
                    users.rejected.push((line, format!("signup date: {}", e.message())));
                    continue;
                }
            },
        };
        let attributes = attr_cols.iter().map(|&i| rec.get(i).unwrap_or_default().to_string()).collect();
        users.rows.push(UserRow { id: id.to_string(), signup_day, attributes });
    }
    Ok(users)
}
