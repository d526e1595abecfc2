//! Learned models: gradient-boosted trees ([`gbt`]) trained on the leakage-safe features, to sit
//! beside the BTYD models on one leaderboard.
//!
//! Data flow: a [`FeatureMatrix`] (numeric columns with NaN for missing, categorical columns as
//! codes) → [`bins::BinnedMatrix`] (each column cut into at most 255 bins once) → boosted trees
//! grown on gradient histograms ([`tree`]) for a [`loss::Loss`] → [`gbt::Gbt`], which predicts
//! from raw features. Pure Rust, single-threaded where order matters, so a seed gives the same
//! model natively and in wasm.

use serde::{Deserialize, Serialize};

pub mod bins;
pub mod gbt;
pub mod gru;
pub mod leaderboard;
pub mod loss;
pub mod sequence;
pub mod temporal;
pub mod tree;
pub mod users;

pub use gbt::{Gbt, GbtParams};
pub use loss::Loss;

/// One feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Column {
    /// Numbers; NaN where the value is missing.
    Numeric(Vec<f64>),
    /// Category codes (indexes into `levels`); `None` where missing.
    Categorical {
        /// Each row's code.
        codes: Vec<Option<u32>>,
        /// The category names, by code.
        levels: Vec<String>,
    },
}

impl Column {
    /// Rows in the column.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Categorical { codes, .. } => codes.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Named feature columns of equal length: what a learned model reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureMatrix {
    /// Column names, in order.
    pub names: Vec<String>,
    /// The columns, index for index with `names`.
    pub columns: Vec<Column>,
}

impl FeatureMatrix {
    /// Columns of equal length with distinct names.
    pub fn new(names: Vec<String>, columns: Vec<Column>) -> Result<FeatureMatrix, LearnError> {
        if names.len() != columns.len() {
            return Err(LearnError::Shape(format!("{} names for {} columns", names.len(), columns.len())));
        }
        if let Some(c) = columns.iter().position(|c| c.len() != columns[0].len()) {
            let (a, b) = (columns[0].len(), columns[c].len());
            return Err(LearnError::Shape(format!("column {:?} has {b} rows, column {:?} {a}", names[c], names[0])));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(n) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(LearnError::Shape(format!("column {n:?} appears twice")));
        }
        Ok(FeatureMatrix { names, columns })
    }

    /// Rows (0 without columns).
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// The rows of several matrices with the same columns, one after another (categories matched
    /// by name: each matrix numbers its own).
    pub fn stack(parts: &[&FeatureMatrix]) -> Result<FeatureMatrix, LearnError> {
        let Some(first) = parts.first() else { return Ok(FeatureMatrix::default()) };
        if let Some(p) = parts.iter().find(|p| p.names != first.names) {
            return Err(LearnError::Shape(format!("columns {:?} and {:?} cannot be stacked", first.names, p.names)));
        }
        let columns = (0..first.columns.len())
            .map(|j| match &first.columns[j] {
                Column::Numeric(_) => {
                    let mut all = Vec::new();
                    for p in parts {
                        match &p.columns[j] {
                            Column::Numeric(v) => all.extend_from_slice(v),
                            Column::Categorical { .. } => {
                                return Err(LearnError::Shape(format!(
                                    "column {:?} is numeric in one part and categorical in another",
                                    first.names[j]
                                )))
                            }
                        }
                    }
                    Ok(Column::Numeric(all))
                }
                Column::Categorical { .. } => {
                    let (mut codes, mut levels) = (Vec::new(), Vec::<String>::new());
                    for p in parts {
                        let Column::Categorical { codes: c, levels: l } = &p.columns[j] else {
                            return Err(LearnError::Shape(format!(
                                "column {:?} is categorical in one part and numeric in another",
                                first.names[j]
                            )));
                        };
                        let map: Vec<u32> = l
                            .iter()
                            .map(|name| match levels.iter().position(|x| x == name) {
                                Some(i) => i as u32,
                                None => {
                                    levels.push(name.clone());
                                    levels.len() as u32 - 1
                                }
                            })
                            .collect();
                        codes.extend(c.iter().map(|c| c.map(|c| map[c as usize])));
                    }
                    Ok(Column::Categorical { codes, levels })
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(FeatureMatrix { names: first.names.clone(), columns })
    }
}

/// Why a learned model could not be trained or used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearnError {
    /// A hyperparameter outside its range, named as the CLI and the page name it.
    #[error("{name} must be {expected}, got {value}")]
    Param {
        /// The setting.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
        /// The value given.
        value: f64,
    },
    /// Columns, targets, weights or offsets that do not fit together.
    #[error("the training data do not fit together: {0}")]
    Shape(String),
    /// Targets the loss cannot take (negative counts for Poisson, NaN).
    #[error("target {row} is {value}: {why}")]
    Target {
        /// 0-based row.
        row: usize,
        /// The value.
        value: f64,
        /// What the loss needs.
        why: &'static str,
    },
    /// The base BTYD model gave no usable forecast at a snapshot's cutoff.
    #[error("{0}")]
    Base(String),
    /// Nothing to learn from (no rows, no weight, no positive target for a log link).
    #[error("nothing to learn from: {0}")]
    Empty(&'static str),
    /// Training stopped when asked to.
    #[error("training was cancelled")]
    Cancelled,
    /// The loss stopped being a number: the step size is too large for this data.
    #[error("training diverged at epoch {epoch} (the loss is not a number); try a smaller learning rate")]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
    },
    /// A model asked to score columns it was not trained on.
    #[error("the model was trained on column {name:?}, which the data {why}")]
    Schema {
        /// The column.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
}
