//! The users file's columns as features of the learned models: what a customer *is* (country,
//! plan, device, `emb_*` embedding columns computed elsewhere) beside what they did.
//!
//! A column whose every non-empty cell is a finite number is numeric (an empty cell is missing);
//! any other column is categorical, matched by name when scoring. The choice is made once for the
//! whole file, so every snapshot has the same columns. The signup date gives `weeks_since_signup`
//! — missing when the signup is after the snapshot's cutoff, which would be news from the future.
//! Columns are static attributes: nothing in them is dated, so they leak nothing across cutoffs.

use rustc_hash::FxHashMap;

use super::Column;
use crate::features::{Cutoff, Users};
use crate::ingest::Transactions;

/// A categorical column with more distinct values than this is an identifier or free text, not a
/// category: it is left out (and said so), not split on.
pub const MAX_CATEGORIES: usize = 1000;

/// One users-file column, per users-file row.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Numeric(Vec<f64>),
    Categorical(Vec<String>),
}

/// The users file made ready to join onto snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct UserFeatures {
    /// Feature names (`user:<column>`), then `weeks_since_signup` if the file has signup dates.
    names: Vec<String>,
    values: Vec<Values>,
    signup: Option<Vec<Option<i64>>>,
    row_of: FxHashMap<String, usize>,
    /// Columns not used, each with why.
    pub left_out: Vec<String>,
}

impl UserFeatures {
    /// Decide each column's kind once, from the whole file.
    pub fn new(users: &Users) -> UserFeatures {
        let (mut names, mut values, mut left_out) = (Vec::new(), Vec::new(), Vec::new());
        for (k, name) in users.attribute_names.iter().enumerate() {
            let cells: Vec<&str> = users.rows.iter().map(|r| r.attributes.get(k).map_or("", |s| s.trim())).collect();
            let numbers: Option<Vec<f64>> = cells
                .iter()
                .map(|c| if c.is_empty() { Some(f64::NAN) } else { c.parse::<f64>().ok().filter(|v| v.is_finite()) })
                .collect();
            match numbers {
                Some(v) if v.iter().any(|x| !x.is_nan()) => values.push(Values::Numeric(v)),
                Some(_) => {
                    left_out.push(format!("user:{name}: every cell is empty"));
                    continue;
                }
                None => {
                    let distinct =
                        cells.iter().filter(|c| !c.is_empty()).collect::<std::collections::HashSet<_>>().len();
                    if distinct > MAX_CATEGORIES {
                        left_out.push(format!(
                            "user:{name}: {distinct} distinct values — an identifier or free text, not a category (at most {MAX_CATEGORIES})"
                        ));
                        continue;
                    }
                    values.push(Values::Categorical(cells.iter().map(|c| c.to_string()).collect()));
                }
            }
            names.push(format!("user:{name}"));
        }
        let signup = users.rows.iter().any(|r| r.signup_day.is_some()).then(|| {
            names.push("weeks_since_signup".to_string());
            users.rows.iter().map(|r| r.signup_day).collect()
        });
        let row_of = users.rows.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
        UserFeatures { names, values, signup, row_of, left_out }
    }

    /// The feature names, in column order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The columns for `customers` (indices into `tx`) at `cutoff`; a customer not in the file is
    /// missing in every column.
    pub fn columns(&self, tx: &Transactions, customers: &[usize], cutoff: Cutoff) -> Vec<Column> {
        let rows: Vec<Option<usize>> = customers.iter().map(|&c| self.row_of.get(tx.id(c)).copied()).collect();
        let mut columns: Vec<Column> = self
            .values
            .iter()
            .map(|v| match v {
                Values::Numeric(x) => Column::Numeric(rows.iter().map(|r| r.map_or(f64::NAN, |r| x[r])).collect()),
                Values::Categorical(x) => {
                    let mut levels: Vec<String> = Vec::new();
                    let mut code_of: FxHashMap<&str, u32> = FxHashMap::default();
                    let codes = rows
                        .iter()
                        .map(|r| {
                            let v = x[(*r)?].as_str();
                            (!v.is_empty()).then(|| {
                                *code_of.entry(v).or_insert_with(|| {
                                    levels.push(v.to_string());
                                    levels.len() as u32 - 1
                                })
                            })
                        })
                        .collect();
                    Column::Categorical { codes, levels }
                }
            })
            .collect();
        if let Some(signup) = &self.signup {
            let weeks = |day: i64| if day <= cutoff.day { (cutoff.day - day) as f64 / 7.0 } else { f64::NAN };
            columns.push(Column::Numeric(
                rows.iter().map(|r| r.and_then(|r| signup[r]).map_or(f64::NAN, weeks)).collect(),
            ));
        }
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::UserRow;
    use crate::ingest::Txn;

    fn users() -> Users {
        let row = |id: &str, signup: Option<i64>, a: [&str; 3]| UserRow {
            id: id.into(),
            signup_day: signup,
            attributes: a.iter().map(|s| s.to_string()).collect(),
        };
        Users {
            attribute_names: vec!["country".into(), "emb_0".into(), "note".into()],
            rows: vec![
                row("a", Some(10), ["DE", "0.5", ""]),
                row("b", Some(40), ["FR", "", ""]),
                row("c", None, ["", "-1e-3", ""]),
            ],
            rejected: vec![],
        }
    }

    /// Numbers become numeric columns (empty → missing), words categories, an all-empty column is
    /// left out and said; a signup after the cutoff is missing, not a negative age; customers not in
    /// the file are missing everywhere.
    #[test]
    fn users_columns_by_kind_and_no_signup_from_the_future() {
        let f = UserFeatures::new(&users());
        assert_eq!(f.names(), ["user:country", "user:emb_0", "weeks_since_signup"]);
        assert_eq!(f.left_out, ["user:note: every cell is empty"]);
        let tx = Transactions::from_pairs(["c", "a", "z", "b"].map(|id| (id, Txn { ts: 0, amount: 1.0 })));
        let cols = f.columns(&tx, &[0, 1, 2, 3], Cutoff::day(24));
        let Column::Categorical { codes, levels } = &cols[0] else { panic!("{:?}", cols[0]) };
        assert_eq!(
            (codes.as_slice(), levels.as_slice()),
            (&[None, Some(0), None, Some(1)][..], &["DE".to_string(), "FR".into()][..])
        );
        let Column::Numeric(emb) = &cols[1] else { panic!() };
        assert_eq!(emb[0], -1e-3);
        assert_eq!(emb[1], 0.5);
        assert!(emb[2].is_nan() && emb[3].is_nan());
        let Column::Numeric(weeks) = &cols[2] else { panic!() };
        assert_eq!(weeks[1], 2.0);
        assert!(weeks[0].is_nan() && weeks[2].is_nan() && weeks[3].is_nan(), "{weeks:?}");
    }
}
