//! Each feature column cut once into at most 255 bins (one byte a value), as histogram-based
//! boosting does (LightGBM; Ke et al. 2017): a split is then a scan over a column's few bins, not
//! over its sorted values. Bin 0 holds missing values; a numeric column's bins 1..=k are the
//! intervals up to its cut points, a categorical column's bin c + 1 is code c.

use serde::{Deserialize, Serialize};

use super::{Column, FeatureMatrix, LearnError};

/// Most bins a column's values are cut into (bin 0, missing, comes on top).
pub const MAX_BINS: usize = 255;

/// How one column's values map to bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cuts {
    /// Cut points between bins 1..=k + 1, ascending: a value goes to the first bin whose upper
    /// edge it does not exceed, or the last. Cuts lie halfway between neighbouring distinct
    /// training values. (All finite, so a saved model is plain JSON.)
    Numeric(Vec<f64>),
    /// The training column's category names: name `levels[c]` is bin c + 1 (the codes from
    /// [`MAX_BINS`] − 1 on share the last bin); a name not among them is missing.
    Categorical(Vec<String>),
}

impl Cuts {
    /// Cut points for numeric `values` (NaN ignored): every distinct value its own bin when there
    /// are at most `max_bins`, else bins of about equal counts, a value with more than its share
    /// (most customers bought once) a bin of its own and the rest shared among the others.
    pub fn numeric(values: &[f64], max_bins: usize) -> Cuts {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        let mut counted: Vec<(f64, usize)> = Vec::new();
        for v in sorted {
            match counted.last_mut() {
                Some((last, n)) if *last == v => *n += 1,
                _ => counted.push((v, 1)),
            }
        }
        let halfway = |k: usize| counted[k].0 + (counted[k + 1].0 - counted[k].0) / 2.0;
        let mut edges = Vec::new();
        if counted.len() <= max_bins {
            edges.extend((0..counted.len().saturating_sub(1)).map(halfway));
        } else {
            let (mut rest, mut bins_left, mut in_bin) =
                (values.len() - values.iter().filter(|v| v.is_nan()).count(), max_bins, 0);
            for k in 0..counted.len() - 1 {
                in_bin += counted[k].1;
                let share = rest as f64 / bins_left as f64;
                if in_bin as f64 >= share || counted[k + 1].1 as f64 >= share {
                    edges.push(halfway(k));
                    (rest, bins_left, in_bin) = (rest - in_bin, bins_left - 1, 0);
                    if bins_left == 1 {
                        break;
                    }
                }
            }
        }
        Cuts::Numeric(edges)
    }

    /// Bins in all, missing included.
    pub fn bins(&self) -> usize {
        match self {
            Cuts::Numeric(edges) => edges.len() + 2,
            Cuts::Categorical(levels) => levels.len().min(MAX_BINS) + 1,
        }
    }

    /// The bin of a numeric value.
    pub fn bin_of_value(edges: &[f64], v: f64) -> u8 {
        if v.is_nan() {
            0
        } else {
            (1 + edges.partition_point(|e| *e < v)) as u8
        }
    }

    /// The bin of category code `c` of the training column.
    pub fn bin_of_code(c: Option<u32>) -> u8 {
        c.map_or(0, |c| (c as usize + 1).min(MAX_BINS) as u8)
    }
}

/// A feature matrix cut into bins, column by column.
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedMatrix {
    /// Each column's bins, one byte a row.
    pub bins: Vec<Vec<u8>>,
    /// How each column was cut.
    pub cuts: Vec<Cuts>,
}

impl BinnedMatrix {
    /// Cut `x`'s columns (at most `max_bins` bins each, from 2 to [`MAX_BINS`]).
    pub fn fit(x: &FeatureMatrix, max_bins: usize) -> BinnedMatrix {
        let cuts = x
            .columns
            .iter()
            .map(|c| match c {
                Column::Numeric(v) => Cuts::numeric(v, max_bins),
                Column::Categorical { levels, .. } => Cuts::Categorical(levels.clone()),
            })
            .collect();
        BinnedMatrix::apply(x, &x.names, cuts).expect("a matrix fits the cuts made from it")
    }

    /// Cut `x` as the columns `names` were cut by `cuts` (columns found by name; categories by
    /// name, an unseen one as missing).
    pub fn apply(x: &FeatureMatrix, names: &[String], cuts: Vec<Cuts>) -> Result<BinnedMatrix, LearnError> {
        let bins = names
            .iter()
            .zip(&cuts)
            .map(|(name, cut)| {
                let schema = |why| LearnError::Schema { name: name.clone(), why };
                let i = x.names.iter().position(|n| n == name).ok_or_else(|| schema("does not have"))?;
                match (&x.columns[i], cut) {
                    (Column::Numeric(v), Cuts::Numeric(edges)) => {
                        Ok(v.iter().map(|v| Cuts::bin_of_value(edges, *v)).collect())
                    }
                    (Column::Categorical { codes, levels }, Cuts::Categorical(trained)) => {
                        let to_training: Vec<Option<u32>> =
                            levels.iter().map(|l| trained.iter().position(|t| t == l).map(|c| c as u32)).collect();
                        let code = |c: &Option<u32>| c.and_then(|c| to_training.get(c as usize).copied().flatten());
                        Ok(codes.iter().map(|c| Cuts::bin_of_code(code(c))).collect())
                    }
                    (Column::Numeric(_), Cuts::Categorical(_)) => Err(schema("has as numbers, not categories")),
                    (Column::Categorical { .. }, Cuts::Numeric(_)) => Err(schema("has as categories, not numbers")),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(BinnedMatrix { bins, cuts })
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.bins.first().map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_values_get_a_bin_each_cut_halfway() {
        let Cuts::Numeric(edges) = Cuts::numeric(&[3.0, 1.0, 2.0, 2.0, f64::NAN, 10.0], 255) else { panic!() };
        assert_eq!(edges, vec![1.5, 2.5, 6.5]);
        let bins: Vec<u8> =
            [f64::NAN, 1.0, 1.5, 1.6, 2.0, 9.0, 10.0, 1e9].map(|v| Cuts::bin_of_value(&edges, v)).into();
        assert_eq!(bins, vec![0, 1, 1, 2, 2, 4, 4, 4]);
    }

    #[test]
    fn many_values_get_bins_of_about_equal_counts() {
        let values: Vec<f64> = (0..1000).map(|i| f64::from(i % 500)).collect(); // each value twice
        let cuts = Cuts::numeric(&values, 10);
        assert_eq!(cuts.bins(), 11);
        let Cuts::Numeric(edges) = &cuts else { panic!() };
        let mut counts = [0usize; 11];
        values.iter().for_each(|v| counts[usize::from(Cuts::bin_of_value(edges, *v))] += 1);
        assert_eq!(counts, [0, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);
        // Heavy ties (most customers bought once): the tied value a bin of its own, the other 100
        // values the other nine bins, none empty.
        let skewed: Vec<f64> = (0..1000).map(|i| if i < 900 { 0.0 } else { f64::from(i) }).collect();
        let Cuts::Numeric(edges) = Cuts::numeric(&skewed, 10) else { panic!() };
        assert_eq!((edges.len(), edges[0]), (9, 450.0), "{edges:?}");
        let mut counts = [0usize; 11];
        skewed.iter().for_each(|v| counts[usize::from(Cuts::bin_of_value(&edges, *v))] += 1);
        assert_eq!(counts, [0, 900, 12, 11, 11, 11, 11, 11, 11, 11, 11]);
    }

    #[test]
    fn categories_are_matched_by_name_when_scoring() {
        let train = FeatureMatrix::new(
            vec!["channel".into()],
            vec![Column::Categorical {
                codes: vec![Some(0), Some(1), None],
                levels: vec!["web".into(), "shop".into()],
            }],
        )
        .unwrap();
        let fitted = BinnedMatrix::fit(&train, 255);
        assert_eq!(fitted.bins[0], vec![1, 2, 0]);
        // Another file's codes: "shop" first, and a channel the model never saw.
        let score = FeatureMatrix::new(
            vec!["channel".into()],
            vec![Column::Categorical {
                codes: vec![Some(0), Some(1), Some(2)],
                levels: vec!["shop".into(), "web".into(), "phone".into()],
            }],
        )
        .unwrap();
        let scored = BinnedMatrix::apply(&score, &train.names, fitted.cuts.clone()).unwrap();
        assert_eq!(scored.bins[0], vec![2, 1, 0]);
        let numbers = FeatureMatrix::new(vec!["channel".into()], vec![Column::Numeric(vec![1.0])]).unwrap();
        let e = BinnedMatrix::apply(&numbers, &train.names, fitted.cuts).unwrap_err().to_string();
        assert_eq!(e, "the model was trained on column \"channel\", which the data has as numbers, not categories");
    }
}
