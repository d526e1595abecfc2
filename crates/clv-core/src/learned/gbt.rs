//! Gradient-boosted regression trees (Friedman 2001; second-order steps as Chen & Guestrin 2016):
//! start from a constant — on top of an optional offset, e.g. a BTYD model's forecast on the
//! loss's scale — and add shrunken trees, each fitted to the current gradients and Hessians of the
//! [`Loss`]. Row and column subsampling per tree (seeded), early stopping on a validation set,
//! split gain per feature.
//!
//! ```
//! use clv_core::learned::{Column, FeatureMatrix, Gbt, GbtParams, Loss};
//! let x = FeatureMatrix::new(vec!["x".into()], vec![Column::Numeric((0..200).map(f64::from).collect())]).unwrap();
//! let y: Vec<f64> = (0..200).map(|i| if i < 100 { 1.0 } else { 3.0 }).collect();
//! let params = GbtParams { loss: Loss::L2, trees: 50, learning_rate: 0.3, ..GbtParams::default() };
//! let model = Gbt::fit(&params.check().unwrap(), &(&x, &y[..]).into(), None).unwrap();
//! let p = model.predict(&x, None).unwrap();
//! assert!((p[0] - 1.0).abs() < 1e-3 && (p[199] - 3.0).abs() < 1e-3);
//! ```

use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bins::{BinnedMatrix, Cuts, MAX_BINS};
use super::loss::{weighted_quantile, Loss};
use super::tree::{grow, Growth, Tree, BLOCK};
use super::{FeatureMatrix, LearnError};

/// A boosted model's settings, as given (checked once by [`GbtParams::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbtParams {
    /// What to minimise.
    pub loss: Loss,
    /// Most trees (boosting rounds).
    pub trees: usize,
    /// Shrinkage: each tree's values are multiplied by it.
    pub learning_rate: f64,
    /// Levels of splits per tree.
    pub max_depth: usize,
    /// Fewest training rows in a leaf.
    pub min_leaf: usize,
    /// Smallest sum of Hessians in a leaf.
    pub min_leaf_hessian: f64,
    /// L2 penalty on leaf values (λ).
    pub lambda: f64,
    /// Share of rows each tree is grown on, in (0, 1].
    pub row_sample: f64,
    /// Share of columns each tree may split on, in (0, 1].
    pub col_sample: f64,
    /// Most bins a numeric column is cut into, 2 to 255.
    pub max_bins: usize,
    /// Stop after this many rounds without a better validation loss (0: never; needs a validation set).
    pub early_stopping: usize,
    /// Seed of the subsampling.
    pub seed: u64,
}

impl Default for GbtParams {
    /// 400 trees of depth 6 at rate 0.05, leaves of at least 20 rows, no subsampling: the sizes the
    /// issue's CDNOW protocol names, and LightGBM's defaults where it names none.
    fn default() -> GbtParams {
        GbtParams {
            loss: Loss::L2,
            trees: 400,
            learning_rate: 0.05,
            max_depth: 6,
            min_leaf: 20,
            min_leaf_hessian: 1e-3,
            lambda: 0.0,
            row_sample: 1.0,
            col_sample: 1.0,
            max_bins: MAX_BINS,
            early_stopping: 0,
            seed: 0,
        }
    }
}

/// [`GbtParams`] that passed [`GbtParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct GbtConfig(GbtParams);

impl GbtConfig {
    /// The settings.
    pub fn params(&self) -> &GbtParams {
        &self.0
    }
}

fn within(name: &'static str, expected: &'static str, value: f64, ok: bool) -> Result<(), LearnError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(LearnError::Param { name, expected, value })
    }
}

impl GbtParams {
    /// Every setting in its range.
    pub fn check(&self) -> Result<GbtConfig, LearnError> {
        let p = self;
        within("trees", "from 1 to 100000", p.trees as f64, (1..=100_000).contains(&p.trees))?;
        within("learning_rate", "in (0, 1]", p.learning_rate, p.learning_rate > 0.0 && p.learning_rate <= 1.0)?;
        within("max_depth", "from 1 to 16", p.max_depth as f64, (1..=16).contains(&p.max_depth))?;
        within("min_leaf", "at least 1", p.min_leaf as f64, p.min_leaf >= 1)?;
        within("min_leaf_hessian", "at least 0", p.min_leaf_hessian, p.min_leaf_hessian >= 0.0)?;
        within("lambda", "at least 0", p.lambda, p.lambda >= 0.0)?;
        within("row_sample", "in (0, 1]", p.row_sample, p.row_sample > 0.0 && p.row_sample <= 1.0)?;
        within("col_sample", "in (0, 1]", p.col_sample, p.col_sample > 0.0 && p.col_sample <= 1.0)?;
        within("max_bins", "from 2 to 255", p.max_bins as f64, (2..=MAX_BINS).contains(&p.max_bins))?;
        match p.loss {
            Loss::Quantile { alpha } => within("quantile", "in (0, 1)", alpha, alpha > 0.0 && alpha < 1.0)?,
            Loss::Tweedie { power } => within("tweedie power", "from 1.1 to 1.9", power, (1.1..=1.9).contains(&power))?,
            _ => {}
        }
        Ok(GbtConfig(p.clone()))
    }
}

/// Rows to learn from or to score against: features, targets, optional weights and an optional
/// offset (raw scores the model adds to — for a log link, the log of a forecast).
#[derive(Debug, Clone, Copy)]
pub struct TrainingSet<'a> {
    /// The features.
    pub x: &'a FeatureMatrix,
    /// The targets.
    pub y: &'a [f64],
    /// Row weights (all 1 when absent).
    pub weight: Option<&'a [f64]>,
    /// Raw scores to start from (all 0 when absent).
    pub offset: Option<&'a [f64]>,
}

impl<'a> From<(&'a FeatureMatrix, &'a [f64])> for TrainingSet<'a> {
    fn from((x, y): (&'a FeatureMatrix, &'a [f64])) -> TrainingSet<'a> {
        TrainingSet { x, y, weight: None, offset: None }
    }
}

struct Checked {
    y: Vec<f64>,
    w: Vec<f64>,
    offset: Vec<f64>,
}

impl TrainingSet<'_> {
    fn checked(&self, loss: Loss) -> Result<Checked, LearnError> {
        let n = self.x.rows();
        let shape = |what: &str, len: usize| {
            (len != n).then(|| LearnError::Shape(format!("{len} {what} for {n} rows of features")))
        };
        if let Some(e) = shape("targets", self.y.len())
            .or_else(|| self.weight.and_then(|w| shape("weights", w.len())))
            .or_else(|| self.offset.and_then(|o| shape("offsets", o.len())))
        {
            return Err(e);
        }
        for (row, &value) in self.y.iter().enumerate() {
            if !value.is_finite() {
                return Err(LearnError::Target { row, value, why: "targets must be finite numbers" });
            }
            if loss.log_link() && value < 0.0 {
                return Err(LearnError::Target { row, value, why: "Poisson and Tweedie targets cannot be negative" });
            }
        }
        let w = self.weight.map_or_else(|| vec![1.0; n], <[f64]>::to_vec);
        if let Some(row) = w.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(LearnError::Shape(format!("weight {row} is {}: weights must be finite and ≥ 0", w[row])));
        }
        let offset = self.offset.map_or_else(|| vec![0.0; n], <[f64]>::to_vec);
        if let Some(row) = offset.iter().position(|o| !o.is_finite()) {
            return Err(LearnError::Shape(format!("offset {row} is {}: offsets must be finite", offset[row])));
        }
        Ok(Checked { y: self.y.to_vec(), w, offset })
    }
}

/// One boosting round's mean loss on the training rows and, when there is one, the validation set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// Weighted mean training loss after the round.
    pub train: f64,
    /// Weighted mean validation loss after the round.
    pub valid: Option<f64>,
}

/// A trained boosted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gbt {
    /// The loss it was trained for.
    pub loss: Loss,
    /// The settings it was trained with.
    pub params: GbtParams,
    /// Feature names, in the order the trees index them.
    pub names: Vec<String>,
    /// How each feature was cut into bins.
    pub cuts: Vec<Cuts>,
    /// The constant every score starts from (on top of the offset).
    pub base_score: f64,
    /// The trees (learning rate applied to their values), up to the best validation round.
    pub trees: Vec<Tree>,
    /// Split gain summed per feature over the kept trees.
    pub gain: Vec<f64>,
    /// Losses round by round (every round trained, also those after the best).
    pub rounds: Vec<Round>,
    /// Whether early stopping ended training before `params.trees`.
    pub stopped_early: bool,
}

fn mean_loss(loss: Loss, c: &Checked, raw: &[f64]) -> f64 {
    let total_w = crate::total(c.w.iter().copied());
    crate::total(c.y.iter().zip(raw).zip(&c.w).map(|((y, f), w)| w * loss.value(*y, *f))) / total_w
}

impl Gbt {
    /// Train on `train`; with `valid` (and `early_stopping` > 0) keep the trees up to the round of
    /// lowest validation loss. Deterministic for a seed.
    pub fn fit(config: &GbtConfig, train: &TrainingSet, valid: Option<&TrainingSet>) -> Result<Gbt, LearnError> {
        let p = config.params();
        let loss = p.loss;
        let t = train.checked(loss)?;
        if t.y.is_empty() {
            return Err(LearnError::Empty("no training rows"));
        }
        let base_score = loss.base_score(&t.y, &t.w, &t.offset).ok_or(LearnError::Empty(if loss.log_link() {
            "every target is 0 (or has weight 0): a log link has nothing to scale"
        } else {
            "every row has weight 0"
        }))?;
        let m = BinnedMatrix::fit(train.x, p.max_bins);
        let valid = match valid {
            Some(v) => Some((BinnedMatrix::apply(v.x, &train.x.names, m.cuts.clone())?, v.checked(loss)?)),
            None if p.early_stopping > 0 => {
                return Err(LearnError::Shape("early stopping needs a validation set".into()));
            }
            None => None,
        };
        let growth = Growth {
            max_depth: p.max_depth,
            min_leaf: p.min_leaf,
            min_leaf_hessian: p.min_leaf_hessian,
            lambda: p.lambda,
        };
        let n = t.y.len();
        let mut raw: Vec<f64> = t.offset.iter().map(|o| o + base_score).collect();
        let mut valid_raw: Option<Vec<f64>> =
            valid.as_ref().map(|(_, v)| v.offset.iter().map(|o| o + base_score).collect());
        let mut rng = StdRng::seed_from_u64(p.seed);
        let features = m.cuts.len();
        let per_tree = ((p.col_sample * features as f64).ceil() as usize).clamp(1, features.max(1));
        let (mut g, mut h) = (vec![0.0; n], vec![0.0; n]);
        let (mut trees, mut gains, mut rounds) = (Vec::new(), Vec::new(), Vec::new());
        let (mut best, mut stopped_early) = ((f64::INFINITY, 0usize), false);
        for round in 0..p.trees {
            for i in 0..n {
                let (gi, hi) = loss.derivatives(t.y[i], raw[i]);
                (g[i], h[i]) = (gi * t.w[i], hi * t.w[i]);
            }
            let rows: Vec<u32> = if p.row_sample < 1.0 {
                (0..n as u32).filter(|_| rng.random::<f64>() < p.row_sample).collect()
            } else {
                (0..n as u32).collect()
            };
            let mut cols: Vec<usize> = if per_tree < features {
                sample(&mut rng, features, per_tree).into_vec()
            } else {
                (0..features).collect()
            };
            cols.sort_unstable();
            let grown = grow(&m, rows, &cols, &g, &h, &growth);
            let mut tree = grown.tree;
            if let Some(alpha) = loss.leaf_quantile() {
                for (node, rows) in &grown.leaves {
                    let residuals =
                        rows.iter().map(|&r| (t.y[r as usize] - raw[r as usize], t.w[r as usize])).collect();
                    tree.set_leaf(*node, weighted_quantile(residuals, alpha).unwrap_or(0.0));
                }
            }
            tree.scale(p.learning_rate);
            tree.add_to(&m, &mut raw);
            let valid_loss = valid.as_ref().zip(valid_raw.as_mut()).map(|((vm, v), vr)| {
                tree.add_to(vm, vr);
                mean_loss(loss, v, vr)
            });
            rounds.push(Round { train: mean_loss(loss, &t, &raw), valid: valid_loss });
            trees.push(tree);
            gains.push(grown.gain);
            if let Some(v) = valid_loss {
                if v < best.0 {
                    best = (v, round);
                } else if p.early_stopping > 0 && round - best.1 >= p.early_stopping {
                    stopped_early = true;
                    break;
                }
            }
        }
        let keep = if valid.is_some() && p.early_stopping > 0 { best.1 + 1 } else { trees.len() };
        trees.truncate(keep);
        let gain = (0..features).map(|f| crate::total(gains.iter().take(keep).map(|g| g[f]))).collect();
        Ok(Gbt {
            loss,
            params: p.clone(),
            names: train.x.names.clone(),
            cuts: m.cuts,
            base_score,
            trees,
            gain,
            rounds,
            stopped_early,
        })
    }

    /// Raw scores (on the loss's scale: log for Poisson and Tweedie) for `x`, on top of `offset`.
    pub fn predict_raw(&self, x: &FeatureMatrix, offset: Option<&[f64]>) -> Result<Vec<f64>, LearnError> {
        let m = BinnedMatrix::apply(x, &self.names, self.cuts.clone())?;
        let n = x.rows();
        if let Some(o) = offset.filter(|o| o.len() != n) {
            return Err(LearnError::Shape(format!("{} offsets for {n} rows of features", o.len())));
        }
        let mut raw: Vec<f64> = (0..n).map(|i| offset.map_or(0.0, |o| o[i]) + self.base_score).collect();
        // Blocks of rows, each through every tree in order (the same sums, in the same order, as
        // row by row): a block's bins and a tree's nodes stay in cache; blocks in parallel natively.
        let depths: Vec<usize> = self.trees.iter().map(Tree::depth).collect();
        raw.par_chunks_mut(BLOCK).enumerate().for_each(|(b, out)| {
            let mut at = vec![0u32; out.len()];
            for (tree, &depth) in self.trees.iter().zip(&depths) {
                tree.leaves_of_block(&m, b * BLOCK, depth, &mut at);
                for (f, node) in out.iter_mut().zip(&at) {
                    *f += tree.leaf_value(*node as usize);
                }
            }
        });
        Ok(raw)
    }

    /// Predictions for `x` (the mean, median or quantile the loss targets), on top of `offset`.
    pub fn predict(&self, x: &FeatureMatrix, offset: Option<&[f64]>) -> Result<Vec<f64>, LearnError> {
        Ok(self.predict_raw(x, offset)?.into_iter().map(|f| self.loss.response(f)).collect())
    }

    /// Each feature's share of the total split gain, largest first (ties by name).
    pub fn importance(&self) -> Vec<(String, f64)> {
        let total = crate::total(self.gain.iter().copied());
        let mut out: Vec<(String, f64)> = self
            .names
            .iter()
            .zip(&self.gain)
            .map(|(n, g)| (n.clone(), if total > 0.0 { g / total } else { 0.0 }))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learned::Column;

    fn numeric(columns: Vec<Vec<f64>>) -> FeatureMatrix {
        let names = (0..columns.len()).map(|i| format!("x{i}")).collect();
        FeatureMatrix::new(names, columns.into_iter().map(Column::Numeric).collect()).unwrap()
    }

    fn fit(params: GbtParams, x: &FeatureMatrix, y: &[f64]) -> Gbt {
        Gbt::fit(&params.check().unwrap(), &(x, y).into(), None).unwrap()
    }

    /// `tests/data/gbt/reference.csv` (made by `make_reference.py` beside it): 400 rows, three
    /// features, targets for L2, Poisson and Tweedie 1.5, and LightGBM 4.7's predictions after 30
    /// trees of depth 3 at rate 0.1 with leaves of Hessian sum at least 10.5. Ours are the same to 1e-6 of
    /// 1 + |LightGBM's| (LightGBM keeps gradients in float32).
    #[test]
    fn equals_lightgbm_on_the_reference_data() {
        let text = include_str!("../../../../tests/data/gbt/reference.csv");
        let rows: Vec<Vec<f64>> =
            text.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
        let col = |j: usize| rows.iter().map(|r| r[j]).collect::<Vec<f64>>();
        let x = numeric(vec![col(0), col(1), col(2)]);
        let base = GbtParams {
            trees: 30,
            learning_rate: 0.1,
            max_depth: 3,
            min_leaf: 1,
            min_leaf_hessian: 10.5,
            ..GbtParams::default()
        };
        for (loss, y, want) in [(Loss::L2, 3, 6), (Loss::Poisson, 4, 7), (Loss::Tweedie { power: 1.5 }, 5, 8)] {
            let model = fit(GbtParams { loss, ..base.clone() }, &x, &col(y));
            let ours = model.predict(&x, None).unwrap();
            let worst = ours.iter().zip(col(want)).map(|(a, b)| (a - b).abs() / (1.0 + b.abs())).fold(0.0, f64::max);
            assert!(worst < 1e-6, "{loss:?}: worst difference {worst:e} (relative to 1 + |LightGBM's|)");
            assert_eq!(model.trees.len(), 30);
        }
    }

    /// L1 fits the median and quantile losses their quantile: on noise around a step, the P90
    /// model has about 90% of the training targets at or below it, the P10 about 10%, the median half.
    #[test]
    fn quantile_models_cover_their_share() {
        let n = 2000;
        let x: Vec<f64> = (0..n).map(|i| f64::from(i % 2)).collect();
        // A deterministic spread: each side's targets are 0..999 (scaled), shifted by 5 on one side.
        let y: Vec<f64> = (0..n).map(|i| f64::from(i / 2) / 100.0 + 5.0 * x[i as usize]).collect();
        let m = numeric(vec![x]);
        for (loss, share) in
            [(Loss::L1, 0.5), (Loss::Quantile { alpha: 0.9 }, 0.9), (Loss::Quantile { alpha: 0.1 }, 0.1)]
        {
            let model =
                fit(GbtParams { loss, trees: 20, learning_rate: 0.5, max_depth: 1, ..GbtParams::default() }, &m, &y);
            let p = model.predict(&m, None).unwrap();
            let below = p.iter().zip(&y).filter(|(p, y)| y <= p).count() as f64 / f64::from(n);
            assert!((below - share).abs() < 0.01, "{loss:?}: {below}");
        }
    }

    /// The offset is where scores start: a Poisson model on top of a perfect log-forecast has
    /// nothing to add (base score 0, no split), and one on top of a forecast half the truth learns
    /// the factor 2 back as its base score.
    #[test]
    fn an_offset_is_the_starting_point() {
        let x = numeric(vec![(0..100).map(f64::from).collect()]);
        let truth: Vec<f64> = (0..100).map(|i| 1.0 + f64::from(i % 7)).collect();
        let offset: Vec<f64> = truth.iter().map(|t| t.ln()).collect();
        let config = GbtParams { loss: Loss::Poisson, trees: 10, min_leaf: 5, ..GbtParams::default() }.check().unwrap();
        let set = TrainingSet { x: &x, y: &truth, weight: None, offset: Some(&offset) };
        let model = Gbt::fit(&config, &set, None).unwrap();
        assert!(model.base_score.abs() < 1e-12, "{}", model.base_score);
        let p = model.predict(&x, Some(&offset)).unwrap();
        assert!(p.iter().zip(&truth).all(|(p, t)| (p / t - 1.0).abs() < 1e-9));
        let half: Vec<f64> = offset.iter().map(|o| o - 2f64.ln()).collect();
        let set = TrainingSet { offset: Some(&half), ..set };
        let model = Gbt::fit(&config, &set, None).unwrap();
        assert!((model.base_score - 2f64.ln()).abs() < 1e-12);
    }

    /// Early stopping keeps the trees up to the best validation round; a seed gives the same model
    /// every time, another seed (with subsampling) another.
    #[test]
    fn early_stopping_and_seeds() {
        let n = 600;
        let x0: Vec<f64> = (0..n).map(|i| f64::from((i * 37) % 101)).collect();
        let x1: Vec<f64> = (0..n).map(|i| f64::from((i * 53) % 89)).collect();
        // Signal in x0, plus noise of the row alone, which deep trees on x1 memorise on the training rows.
        let y: Vec<f64> =
            (0..n as usize).map(|i| (x0[i] / 20.0).floor() + ((i * 7919 + 17) % 13) as f64 / 4.0).collect();
        let (train, valid) = (0..n as usize).partition::<Vec<usize>, _>(|i| i % 3 != 0);
        let pick = |rows: &[usize], v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let xt = numeric(vec![pick(&train, &x0), pick(&train, &x1)]);
        let xv = numeric(vec![pick(&valid, &x0), pick(&valid, &x1)]);
        let (yt, yv) = (pick(&train, &y), pick(&valid, &y));
        let params = GbtParams {
            trees: 500,
            learning_rate: 0.3,
            max_depth: 4,
            min_leaf: 2,
            row_sample: 0.7,
            col_sample: 0.5,
            early_stopping: 10,
            seed: 1,
            ..GbtParams::default()
        };
        let train_set: TrainingSet = (&xt, &yt[..]).into();
        let valid_set: TrainingSet = (&xv, &yv[..]).into();
        let model = Gbt::fit(&params.check().unwrap(), &train_set, Some(&valid_set)).unwrap();
        assert!(model.stopped_early && model.trees.len() < 100, "{} trees", model.trees.len());
        let best = model.rounds.iter().map(|r| r.valid.unwrap()).fold(f64::INFINITY, f64::min);
        assert_eq!(model.rounds[model.trees.len() - 1].valid, Some(best));
        assert_eq!(model.rounds.len(), model.trees.len() + 10);
        assert_eq!(model.importance()[0].0, "x0", "{:?}", model.importance());
        let again = Gbt::fit(&params.check().unwrap(), &train_set, Some(&valid_set)).unwrap();
        assert_eq!(again, model);
        // A saved model is plain JSON (no infinite cut point) and reads back the same.
        let json = serde_json::to_string(&model).unwrap();
        assert_eq!(serde_json::from_str::<Gbt>(&json).unwrap(), model);
        let other =
            Gbt::fit(&GbtParams { seed: 2, ..params.clone() }.check().unwrap(), &train_set, Some(&valid_set)).unwrap();
        assert_ne!(other.trees, model.trees);
    }

    #[test]
    fn bad_settings_and_data_are_refused_by_name() {
        let e = GbtParams { learning_rate: 0.0, ..GbtParams::default() }.check().unwrap_err().to_string();
        assert_eq!(e, "learning_rate must be in (0, 1], got 0");
        let e = GbtParams { loss: Loss::Tweedie { power: 2.5 }, ..GbtParams::default() }.check().unwrap_err();
        assert_eq!(e.to_string(), "tweedie power must be from 1.1 to 1.9, got 2.5");
        let config = GbtParams { loss: Loss::Poisson, ..GbtParams::default() }.check().unwrap();
        let x = numeric(vec![vec![1.0, 2.0]]);
        let e = Gbt::fit(&config, &(&x, &[1.0, -1.0][..]).into(), None).unwrap_err().to_string();
        assert_eq!(e, "target 1 is -1: Poisson and Tweedie targets cannot be negative");
        let e = Gbt::fit(&config, &(&x, &[0.0, 0.0][..]).into(), None).unwrap_err().to_string();
        assert!(e.starts_with("nothing to learn from: every target is 0"), "{e}");
        let e = Gbt::fit(&config, &(&x, &[1.0][..]).into(), None).unwrap_err().to_string();
        assert_eq!(e, "the training data do not fit together: 1 targets for 2 rows of features");
        let model = Gbt::fit(&config, &(&x, &[1.0, 2.0][..]).into(), None).unwrap();
        let other = FeatureMatrix::new(vec!["y".into()], vec![Column::Numeric(vec![1.0])]).unwrap();
        let e = model.predict(&other, None).unwrap_err().to_string();
        assert_eq!(e, "the model was trained on column \"x0\", which the data does not have");
    }
}
