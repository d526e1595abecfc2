//! The learned models on the holdout leaderboard beside the BTYD models and the naive baseline:
//! boosted trees trained by the temporal protocol ([`super::temporal`]), a simple ensemble (the
//! mean of the trees' and their base model's forecasts), the sequence model ([`super::sequence`]),
//! and a sentence saying which wins on this data and by how much, with a paired bootstrap interval
//! of the RMSE difference.

use std::ops::ControlFlow;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::sequence::{self, Epoch, SequenceModel, SequenceParams, Sequences};
use super::temporal::{scoring_with_base, train, training, Protocol, SavedModel, Snapshot, Target, Training};
use super::users::UserFeatures;
use super::{GbtParams, LearnError, Loss};
use crate::features::HoldoutSplit;
use crate::holdout::HoldoutReport;
use crate::ingest::Transactions;
use crate::models::{FitOptions, ModelId};
use crate::pipeline::{fit_spend, Customers};

/// What the learned models are doing, as [`add_to_leaderboard`] reports it: training takes seconds
/// to a minute, so the page and the CLI say each step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step<'a> {
    /// Building the training snapshots and growing the boosted trees.
    Trees,
    /// The sequence model finished a pass over the histories.
    Sequence(&'a Epoch),
    /// The sequence model simulates the holdout's weeks.
    Simulating,
}

impl std::fmt::Display for Step<'_> {
    /// The step in words, as the page's status line says it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Trees => {
                write!(f, "Training the boosted trees on snapshots taken earlier in the calibration period…")
            }
            Step::Sequence(e) => {
                write!(
                    f,
                    "Training the sequence model: pass {} of {} (loss per week {:.4}",
                    e.epoch, e.epochs, e.training_loss
                )?;
                if e.validation_loss.is_finite() {
                    write!(f, ", on the held-back weeks {:.4}", e.validation_loss)?;
                }
                write!(f, ")…")
            }
            Step::Simulating => write!(f, "Simulating the holdout's weeks with the sequence model…"),
        }
    }
}

/// How the learned models are trained for the leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedSettings {
    /// Earlier cutoffs of the temporal protocol, spread over the calibration period.
    pub cutoffs: usize,
    /// The boosted trees' settings.
    pub gbt: GbtParams,
    /// Whether the trees start from the base (Pareto/NBD) forecast.
    pub starts_from_base: bool,
    /// Bootstrap resamples for the interval of the RMSE difference.
    pub resamples: usize,
    /// The sequence model's settings; `None` leaves it out.
    #[serde(default = "default_sequence")]
    pub sequence: Option<SequenceParams>,
}

fn default_sequence() -> Option<SequenceParams> {
    Some(SequenceParams::default())
}

impl Default for LearnedSettings {
    /// What measured best on CDNOW master (see the issue notes): 8 cutoffs, Poisson trees on top of
    /// Pareto/NBD's forecast, 100 trees of depth 3 at rate 0.05, leaves of 100 customers, 80% row
    /// and column samples.
    fn default() -> LearnedSettings {
        LearnedSettings {
            cutoffs: 8,
            gbt: GbtParams {
                loss: Loss::Poisson,
                trees: 100,
                learning_rate: 0.05,
                max_depth: 3,
                min_leaf: 100,
                row_sample: 0.8,
                col_sample: 0.8,
                seed: 1,
                ..GbtParams::default()
            },
            starts_from_base: true,
            resamples: 500,
            sequence: default_sequence(),
        }
    }
}

/// Which model wins on this data, by RMSE of the mean forecast, against the base BTYD model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The best learned model (boosted trees, the ensemble or the sequence model).
    pub learned: ModelId,
    /// Its RMSE.
    pub learned_rmse: f64,
    /// The base model the trees start from (Pareto/NBD unless it sits at a boundary on this data).
    pub base: ModelId,
    /// The base model's RMSE (the fit behind the base forecast).
    pub base_rmse: f64,
    /// 95% paired-bootstrap interval of learned RMSE − the base model's RMSE.
    pub difference_interval: (f64, f64),
    /// The verdict in words.
    pub sentence: String,
}

/// What the leaderboard says about the learned models besides their rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedReport {
    /// The verdict.
    pub verdict: Verdict,
    /// Each feature's share of the trees' split gain, largest first.
    pub importance: Vec<(String, f64)>,
    /// Training rows (customers × snapshots).
    pub training_rows: usize,
    /// Trees in the model.
    pub trees: usize,
    /// Earlier cutoffs without a training snapshot, and why.
    pub skipped: Vec<String>,
    /// How the sequence model trained, when it did.
    #[serde(default)]
    pub sequence: Option<SequenceSummary>,
    /// The holdout's net revenue, forecast and judged.
    #[serde(default)]
    pub revenue: Option<RevenueBoard>,
    /// The trained models as a file can hold them (the page's "Save the trained models"): trees,
    /// cut points, weights — no customer data.
    #[serde(default)]
    pub model: Option<SavedModel>,
}

/// How the sequence model trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceSummary {
    /// Customers, and the distinct weekly histories they make (the ones trained on).
    pub customers: usize,
    /// Distinct weekly histories.
    pub distinct: usize,
    /// Each epoch's losses.
    pub epochs: Vec<Epoch>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
}

/// Train the learned models on the calibration period of `split` only, score them on its holdout,
/// and add them to `report` (boosted trees, the ensemble, then the sequence model), telling
/// `progress` each [`Step`]; a Break from it stops the sequence model. A sequence model that
/// cannot be trained is a failed row; the trees failing is the error. The holdout's net revenue is
/// judged beside ([`RevenueBoard`]).
pub fn add_to_leaderboard(
    tx: &Transactions,
    users: Option<&UserFeatures>,
    split: &HoldoutSplit,
    report: &mut HoldoutReport,
    settings: &LearnedSettings,
    progress: &mut dyn FnMut(Step) -> ControlFlow<()>,
) -> Result<LearnedReport, LearnError> {
    let _ = progress(Step::Trees);
    let cutoff = split.cutoff;
    let window = split.holdout_end_day - cutoff.day;
    // Pareto/NBD, else the first of BG/NBD and MBG/NBD that gives an estimate here; the same model
    // at every training snapshot.
    let (base, snapshot) = scoring_with_base(tx, users, cutoff, window)?;
    let protocol = Protocol::spread(tx, cutoff, settings.cutoffs, base)?;
    let set = training(tx, users, cutoff, &protocol)?;
    let model = train(&set.snapshots, Target::Purchases, &settings.gbt.check()?, settings.starts_from_base)?;
    if snapshot.customers.len() != split.rows.len() {
        return Err(LearnError::Shape("the scoring snapshot and the holdout have different customers".into()));
    }
    let trees = model.predict(&snapshot)?;
    let base_forecast = &snapshot.base_forecast;
    let ensemble: Vec<f64> = trees.iter().zip(base_forecast).map(|(a, b)| (a + b) / 2.0).collect();
    report.add_means(ModelId::Gbt, split, &trees);
    report.add_means(ModelId::Ensemble, split, &ensemble);
    let mut candidates = vec![(ModelId::Gbt, trees), (ModelId::Ensemble, ensemble)];
    let sequence =
        settings.sequence.as_ref().and_then(|params| match add_sequence(tx, split, report, params, progress) {
            Ok(run) => {
                candidates.push((ModelId::Sequence, run.means.clone()));
                Some(run)
            }
            Err(e) => {
                report.failed.push((ModelId::Sequence, e.to_string()));
                None
            }
        });
    let revenue = revenue_board(
        tx,
        split,
        (&snapshot, base.id()),
        &set,
        &settings.gbt,
        sequence.as_ref().map(|r| r.revenue.as_slice()),
    );
    let (sequence, sequence_model) = sequence.map(|r| (r.summary, r.model)).unzip();
    let actual: Vec<f64> = split.rows.iter().map(|r| f64::from(r.holdout_frequency)).collect();
    let (id, best) = candidates
        .iter()
        .min_by(|a, b| crate::evaluate::rmse(&a.1, &actual).total_cmp(&crate::evaluate::rmse(&b.1, &actual)))
        .expect("two candidates");
    let verdict = verdict(*id, best, (base.id(), base_forecast), &actual, settings.resamples, settings.gbt.seed);
    Ok(LearnedReport {
        verdict,
        importance: model.gbt.importance(),
        training_rows: set.snapshots.iter().map(|s| s.purchases.len()).sum(),
        trees: model.gbt.trees.len(),
        skipped: set.skipped,
        sequence,
        revenue: Some(revenue),
        model: Some(SavedModel {
            format: SavedModel::FORMAT.to_string(),
            trained_cutoff: crate::time::format_day(cutoff.day),
            base,
            model,
            sequence: sequence_model,
        }),
    })
}

/// Train the sequence model on the weeks before the cutoff, simulate the holdout's weeks, and add
/// its row; its summary, mean forecasts and the model.
fn add_sequence(
    tx: &Transactions,
    split: &HoldoutSplit,
    report: &mut HoldoutReport,
    params: &SequenceParams,
    progress: &mut dyn FnMut(Step) -> ControlFlow<()>,
) -> Result<SequenceRun, LearnError> {
    let config = params.check()?;
    let customers: Vec<usize> = split.calibration.rows.iter().map(|r| r.customer).collect();
    let seqs = Sequences::build(tx, &customers, split.cutoff, params.max_weeks);
    let model = sequence::train(&seqs, &config, &mut |e| progress(Step::Sequence(e)))?;
    let _ = progress(Step::Simulating);
    let weeks = ((split.holdout_end_day - split.cutoff.day) as f64 / 7.0).ceil() as usize;
    let forecast = model.forecast(&seqs, weeks);
    report.add_paths(ModelId::Sequence, split, forecast.iter().map(|f| (f.paths.as_slice(), f.cumulative.as_slice())));
    let summary = SequenceSummary {
        customers: seqs.len(),
        distinct: seqs.distinct(),
        epochs: model.epochs.clone(),
        best_epoch: model.best_epoch,
    };
    let revenue = forecast.iter().map(|f| f.revenue_mean).collect();
    Ok(SequenceRun { summary, means: forecast.means(), revenue, model })
}

/// What training and simulating the sequence model gave.
struct SequenceRun {
    summary: SequenceSummary,
    means: Vec<f64>,
    revenue: Vec<f64>,
    model: SequenceModel,
}

/// The holdout's net revenue per customer, forecast three ways, judged as the purchase counts are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevenueBoard {
    /// Net revenue of the calibration customers in the holdout.
    pub actual_total: f64,
    /// One row per forecast that could be made, best RMSE first.
    pub rows: Vec<RevenueRow>,
    /// Forecasts that could not be made, and why.
    pub failed: Vec<(String, String)>,
}

/// One revenue forecast, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevenueRow {
    /// What made it, in words.
    pub model: String,
    /// Its total over the customers.
    pub predicted_total: f64,
    /// Root mean squared error per customer.
    pub rmse: f64,
    /// Mean absolute error per customer.
    pub mae: f64,
    /// Total bias in percent (None when the actual total is 0).
    pub bias_percent: Option<f64>,
    /// Rank correlation with the actual revenue (who is worth most).
    pub spearman: Option<f64>,
}

/// Three revenue forecasts for the customers of `snapshot` (the rows of `split`): the base model's
/// purchases × Gamma–Gamma's spend, boosted trees trained on the training snapshots' revenue
/// (Tweedie 1.5: many zeros and a long tail) starting from the base forecast × each customer's
/// average order value, and the sequence model's simulated spend.
fn revenue_board(
    tx: &Transactions,
    split: &HoldoutSplit,
    (snapshot, base): (&Snapshot, ModelId),
    set: &Training,
    gbt: &GbtParams,
    sequence: Option<&[f64]>,
) -> RevenueBoard {
    let actual: Vec<f64> = split.rows.iter().map(|r| r.holdout_revenue).collect();
    let (mut forecasts, mut failed) = (Vec::new(), Vec::new());
    let customers = Customers::from_summary(&split.calibration, tx);
    match fit_spend(&customers, &FitOptions::default()) {
        Ok((gg, fit)) if fit.convergence.converged => {
            let spend: Vec<f64> = customers
                .rfm
                .iter()
                .zip(&customers.monetary)
                .zip(&snapshot.base_forecast)
                .map(|((r, m), n)| n * gg.expected_spend(r.x, *m).unwrap_or(0.0))
                .collect();
            forecasts.push((format!("{} × Gamma–Gamma spend", base.label()), spend));
        }
        Ok((_, fit)) => failed.push(("Gamma–Gamma".into(), fit.convergence.message)),
        Err(e) => failed.push(("Gamma–Gamma".into(), e.to_string())),
    }
    let params = GbtParams { loss: Loss::Tweedie { power: 1.5 }, ..gbt.clone() };
    let trees =
        params.check().and_then(|c| train(&set.snapshots, Target::Revenue, &c, true)).and_then(|m| m.predict(snapshot));
    match trees {
        Ok(p) => forecasts.push(("Boosted trees on revenue (Tweedie 1.5)".into(), p)),
        Err(e) => failed.push(("Boosted trees on revenue".into(), e.to_string())),
    }
    if let Some(s) = sequence {
        forecasts.push(("Sequence model (simulated spend)".into(), s.to_vec()));
    }
    let mut rows: Vec<RevenueRow> = forecasts
        .into_iter()
        .map(|(model, p)| RevenueRow {
            model,
            predicted_total: crate::total(p.iter().copied()),
            rmse: crate::evaluate::rmse(&p, &actual),
            mae: crate::evaluate::mae(&p, &actual),
            bias_percent: crate::evaluate::bias_percent(&p, &actual),
            spearman: crate::evaluate::spearman(&p, &actual),
        })
        .collect();
    rows.sort_by(|a, b| a.rmse.total_cmp(&b.rmse));
    RevenueBoard { actual_total: crate::total(actual.iter().copied()), rows, failed }
}

/// [`add_to_leaderboard`] as the page and `clv evaluate --learned` use it (`users`: the users file's
/// columns as features, when one is loaded): learned models that
/// cannot be trained on this data (too few customers, the base model at a boundary at every earlier
/// cutoff, nothing bought in the training windows) are a failed row saying why, not a failed report.
pub fn add_or_explain(
    tx: &Transactions,
    users: Option<&UserFeatures>,
    split: &HoldoutSplit,
    report: &mut HoldoutReport,
    settings: &LearnedSettings,
    progress: &mut dyn FnMut(Step) -> ControlFlow<()>,
) {
    match add_to_leaderboard(tx, users, split, report, settings, progress) {
        Ok(learned) => report.learned = Some(learned),
        Err(e) => report.failed.push((ModelId::Gbt, e.to_string())),
    }
}

/// RMSE of `a` and of `b` against `actual`, and a 95% interval of their difference from
/// `resamples` bootstrap resamples of the customers (the same customers for both: paired).
pub fn paired_rmse_interval(a: &[f64], b: &[f64], actual: &[f64], resamples: usize, seed: u64) -> (f64, f64) {
    let n = actual.len();
    if n == 0 || resamples == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut diffs: Vec<f64> = (0..resamples)
        .map(|_| {
            let (mut sa, mut sb) = (0.0, 0.0);
            for _ in 0..n {
                let i = rng.random_range(0..n);
                sa += (a[i] - actual[i]).powi(2);
                sb += (b[i] - actual[i]).powi(2);
            }
            (sa / n as f64).sqrt() - (sb / n as f64).sqrt()
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    let at = |q: f64| diffs[((q * resamples as f64).floor() as usize).min(resamples - 1)];
    (at(0.025), at(0.975))
}

fn verdict(
    learned: ModelId,
    best: &[f64],
    (base, base_forecast): (ModelId, &[f64]),
    actual: &[f64],
    resamples: usize,
    seed: u64,
) -> Verdict {
    let (learned_rmse, base_rmse) = (crate::evaluate::rmse(best, actual), crate::evaluate::rmse(base_forecast, actual));
    let (lo, hi) = paired_rmse_interval(best, base_forecast, actual, resamples, seed);
    let change = 100.0 * (learned_rmse / base_rmse - 1.0);
    let interval = format!("95% paired-bootstrap interval of the difference {lo:+.3} to {hi:+.3}");
    let (name, other) = (learned.label(), base.label());
    let sentence = if hi < 0.0 {
        format!(
            "{name} beats {other} on this data: RMSE {learned_rmse:.3} against {base_rmse:.3}, {:.1}% lower ({interval}).",
            -change
        )
    } else if lo > 0.0 {
        format!(
            "{other} beats the learned models on this data: its RMSE {base_rmse:.3} against {name}'s {learned_rmse:.3}, {change:.1}% higher ({interval})."
        )
    } else {
        format!(
            "The learned models do not beat {other} on this data: {name}'s RMSE {learned_rmse:.3} against {base_rmse:.3} ({change:+.1}%), and the {interval} includes 0."
        )
    };
    Verdict { learned, base, base_rmse, learned_rmse, difference_interval: (lo, hi), sentence }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A forecast that is the truth plus small noise beats one that is off by 2 everywhere, and
    /// the interval says so; two equal forecasts get an interval of exactly 0.
    #[test]
    fn the_bootstrap_interval_separates_a_better_forecast_and_not_an_equal_one() {
        let actual: Vec<f64> = (0..400).map(|i| f64::from(i % 7)).collect();
        let good: Vec<f64> = actual.iter().enumerate().map(|(i, a)| a + if i % 2 == 0 { 0.1 } else { -0.1 }).collect();
        let bad: Vec<f64> = actual.iter().map(|a| a + 2.0).collect();
        let (lo, hi) = paired_rmse_interval(&good, &bad, &actual, 300, 7);
        // Every resample's errors are ±0.1 and +2: the difference is −1.9 in each.
        assert!((lo + 1.9).abs() < 1e-12 && (hi + 1.9).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(paired_rmse_interval(&good, &good, &actual, 300, 7), (0.0, 0.0));
        let v = verdict(ModelId::Gbt, &good, (ModelId::Pnbd, &bad), &actual, 300, 7);
        assert!(
            v.sentence.starts_with(
                "Boosted trees (learned) beats Pareto/NBD on this data: RMSE 0.100 against 2.000, 95.0% lower"
            ),
            "{}",
            v.sentence
        );
        let v = verdict(ModelId::Gbt, &bad, (ModelId::Pnbd, &good), &actual, 300, 7);
        assert!(v.sentence.starts_with("Pareto/NBD beats the learned models"), "{}", v.sentence);
        let v = verdict(ModelId::Ensemble, &good, (ModelId::Bgnbd, &good), &actual, 300, 7);
        assert!(v.sentence.starts_with("The learned models do not beat BG/NBD on this data"), "{}", v.sentence);
    }
}
