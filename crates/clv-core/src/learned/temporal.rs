//! The temporal protocol: how a learned model is trained without seeing the future.
//!
//! The user's cutoff ends the calibration period. A learned model is trained on **snapshots taken
//! earlier inside it**: at each earlier cutoff c, features from the history up to c, and labels —
//! purchase days and net revenue — from what followed c *up to the user's cutoff*. Nothing after
//! the user's cutoff reaches training; the holdout only scores (a test changes every holdout row
//! and finds the same model). The snapshot at the user's cutoff has features and no labels: it is
//! what the model scores.
//!
//! Each snapshot also carries a BTYD forecast fitted at its own cutoff (Pareto/NBD by default) for
//! its label window: a feature, and the offset a boosted model starts from (its log, for a log
//! link) — what helped most when this was measured on CDNOW.

use serde::{Deserialize, Serialize};

use super::gbt::{GbtConfig, TrainingSet};
use super::users::UserFeatures;
use super::{Column, FeatureMatrix, Gbt, GbtParams, LearnError, Loss};
use crate::features::{occasions, Cutoff, HoldoutSplit, RfmRow, RfmSummary};
use crate::ingest::Transactions;
use crate::models::{FitOptions, Rfm};
use crate::pipeline::{fit_count, Customers, ModelKind};
use crate::time::TimeUnit;

/// Features and BTYD forecasts are in weeks: CDNOW's unit, and a scale where rates are near 1.
const UNIT: TimeUnit = TimeUnit::Week;

/// Where the earlier cutoffs fall (checked by [`Protocol::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    cutoffs: usize,
    spacing_days: i64,
    base: ModelKind,
}

impl Protocol {
    /// `cutoffs` earlier cutoffs (1 to 12), `spacing_days` apart (at least 7), the last one
    /// `spacing_days` before the user's; `base` the BTYD model fitted at each.
    pub fn new(cutoffs: usize, spacing_days: i64, base: ModelKind) -> Result<Protocol, LearnError> {
        if !(1..=12).contains(&cutoffs) {
            return Err(LearnError::Param { name: "cutoffs", expected: "from 1 to 12", value: cutoffs as f64 });
        }
        if spacing_days < 7 {
            return Err(LearnError::Param { name: "spacing_days", expected: "at least 7", value: spacing_days as f64 });
        }
        if base == ModelKind::Bgbb {
            return Err(LearnError::Shape("the base forecast must be a continuous-time model, not BG/BB".into()));
        }
        Ok(Protocol { cutoffs, spacing_days, base })
    }

    /// `cutoffs` earlier cutoffs spread evenly over the calibration period: the first a
    /// `cutoffs + 1`-th of it after the first purchase, the last that much before the cutoff.
    pub fn spread(tx: &Transactions, cutoff: Cutoff, cutoffs: usize, base: ModelKind) -> Result<Protocol, LearnError> {
        let first =
            crate::features::purchase_days(tx).map(|(first, _)| first).ok_or(LearnError::Empty("no purchase"))?;
        let span = cutoff.day - first;
        Protocol::new(cutoffs, (span / (cutoffs as i64 + 1)).max(7), base)
    }

    /// The earlier cutoffs, latest first.
    pub fn earlier(&self, cutoff: Cutoff) -> Vec<Cutoff> {
        (1..=self.cutoffs as i64).map(|k| Cutoff::day(cutoff.day - k * self.spacing_days)).collect()
    }

    /// The BTYD model fitted at each snapshot.
    pub fn base(&self) -> ModelKind {
        self.base
    }
}

/// Customers at one cutoff: their features and the base model's forecast for the window after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The snapshot's cutoff.
    pub cutoff: Cutoff,
    /// Days in the window its forecast (and, in training, its labels) cover.
    pub window_days: i64,
    /// Each row's customer (index into the transactions).
    pub customers: Vec<usize>,
    /// The features, one row per customer.
    pub features: FeatureMatrix,
    /// The base model's expected purchase days in the window, per customer.
    pub base_forecast: Vec<f64>,
}

impl Snapshot {
    /// ln of the base forecast, floored at 1e-6 purchases: the offset for a log link.
    pub fn log_offset(&self) -> Vec<f64> {
        self.base_forecast.iter().map(|f| f.max(1e-6).ln()).collect()
    }
}

/// A training snapshot and its labels: what each customer did from the snapshot's cutoff to the
/// user's cutoff.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// Purchase days in the window (the holdout `frequency` of `lifetimes`).
    pub purchases: Vec<f64>,
    /// Net revenue in the window.
    pub revenue: Vec<f64>,
}

/// The training snapshots for a model scored at `cutoff`, and the earlier cutoffs left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    /// One per usable earlier cutoff, latest first.
    pub snapshots: Vec<Labelled>,
    /// Earlier cutoffs with no snapshot, each as `YYYY-MM-DD: why` (no customer yet; the base
    /// model at a boundary there, so its forecast would not be an estimate).
    pub skipped: Vec<String>,
}

/// The training snapshots for a model scored at `cutoff`: one per earlier cutoff of `protocol`
/// where customers had bought and the base model converged. Reads nothing after `cutoff`.
/// `users`' columns join each snapshot's features when given.
pub fn training(
    tx: &Transactions,
    users: Option<&UserFeatures>,
    cutoff: Cutoff,
    protocol: &Protocol,
) -> Result<Training, LearnError> {
    let (mut snapshots, mut skipped) = (Vec::new(), Vec::new());
    for earlier in protocol.earlier(cutoff) {
        let split = HoldoutSplit::build(tx, earlier, cutoff.day, UNIT);
        let day = crate::time::format_day(earlier.day);
        if split.calibration.rows.is_empty() {
            skipped.push(format!("{day}: no customer had bought yet"));
            continue;
        }
        match snapshot_of(tx, users, &split.calibration, earlier, cutoff.day - earlier.day, protocol.base) {
            Ok(snapshot) => snapshots.push(Labelled {
                snapshot,
                purchases: split.rows.iter().map(|r| f64::from(r.holdout_frequency)).collect(),
                revenue: split.rows.iter().map(|r| r.holdout_revenue).collect(),
            }),
            Err(e) => skipped.push(format!("{day}: {e}")),
        }
    }
    if snapshots.is_empty() {
        return Err(LearnError::Base(format!("no earlier cutoff gives a training snapshot ({})", skipped.join("; "))));
    }
    Ok(Training { snapshots, skipped })
}

/// The BTYD models a learned model may start from, in order of preference: Pareto/NBD, else (small
/// exports often put it at a boundary) BG/NBD, else MBG/NBD.
pub const BASES: [ModelKind; 3] = [ModelKind::Pnbd, ModelKind::Bgnbd, ModelKind::Mbgnbd];

/// The scoring snapshot with the first of [`BASES`] that gives an estimate at `cutoff`, and that
/// model — the one every training snapshot then uses.
pub fn scoring_with_base(
    tx: &Transactions,
    users: Option<&UserFeatures>,
    cutoff: Cutoff,
    window_days: i64,
) -> Result<(ModelKind, Snapshot), LearnError> {
    let mut why_not = Vec::new();
    for kind in BASES {
        match scoring(tx, users, cutoff, window_days, kind) {
            Ok(snapshot) => return Ok((kind, snapshot)),
            Err(e) => why_not.push(e.to_string()),
        }
    }
    Err(LearnError::Base(format!("no BTYD model to start from: {}", why_not.join("; "))))
}

/// The snapshot a trained model scores: every customer at `cutoff`, forecasts for `window_days`.
pub fn scoring(
    tx: &Transactions,
    users: Option<&UserFeatures>,
    cutoff: Cutoff,
    window_days: i64,
    base: ModelKind,
) -> Result<Snapshot, LearnError> {
    snapshot_of(tx, users, &RfmSummary::build(tx, cutoff, UNIT), cutoff, window_days, base)
}

/// What a learned model predicts over the window after its cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Purchase days (repeat purchases, as the BTYD models count them).
    Purchases,
    /// Net revenue.
    Revenue,
}

impl Labelled {
    fn target(&self, target: Target) -> &[f64] {
        match target {
            Target::Purchases => &self.purchases,
            Target::Revenue => &self.revenue,
        }
    }
}

/// Where a boosted model starts: the base BTYD forecast of purchases — times each customer's average
/// order value so far for revenue — on the loss's scale (its log for Poisson and Tweedie), or nothing.
fn offset(snapshot: &Snapshot, target: Target, loss: Loss, use_base: bool) -> Option<Vec<f64>> {
    if !use_base {
        return None;
    }
    let start: Vec<f64> = match target {
        Target::Purchases => snapshot.base_forecast.clone(),
        Target::Revenue => {
            let at = NUMERIC.iter().position(|n| *n == "order_value").expect("a listed feature");
            let Column::Numeric(value) = &snapshot.features.columns[at] else { return None };
            // Nothing bought but refunds: no value to scale by, so no revenue expected.
            snapshot
                .base_forecast
                .iter()
                .zip(value)
                .map(|(n, v)| n * if v.is_finite() { v.max(0.0) } else { 0.0 })
                .collect()
        }
    };
    Some(if loss.log_link() { start.iter().map(|f| f.max(1e-6).ln()).collect() } else { start })
}

/// A boosted model trained by the temporal protocol, with what it needs to score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedForecast {
    /// The trees.
    pub gbt: Gbt,
    /// What they predict.
    pub target: Target,
    /// Whether they start from the base BTYD forecast.
    pub starts_from_base: bool,
    /// Trees kept after early stopping on the latest snapshot (then retrained on every snapshot).
    pub rounds_from_validation: Option<usize>,
}

/// Train on `snapshots` (latest first, as [`training`] gives them). With early stopping set and
/// two or more snapshots, the latest is the validation fold: the trees are grown on the others
/// until its loss stops falling, then grown again on all of them to that many trees.
pub fn train(
    snapshots: &[Labelled],
    target: Target,
    config: &GbtConfig,
    starts_from_base: bool,
) -> Result<LearnedForecast, LearnError> {
    let params = config.params();
    let fit_on = |parts: &[Labelled], valid: Option<&Labelled>, config: &GbtConfig| {
        let x = FeatureMatrix::stack(&parts.iter().map(|p| &p.snapshot.features).collect::<Vec<_>>())?;
        let y: Vec<f64> = parts.iter().flat_map(|p| p.target(target).iter().copied()).collect();
        let offsets: Option<Vec<f64>> = parts
            .iter()
            .map(|p| offset(&p.snapshot, target, params.loss, starts_from_base))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat());
        let set = TrainingSet { x: &x, y: &y, weight: None, offset: offsets.as_deref() };
        let valid_offset = valid.and_then(|v| offset(&v.snapshot, target, params.loss, starts_from_base));
        let valid_set = valid.map(|v| TrainingSet {
            x: &v.snapshot.features,
            y: v.target(target),
            weight: None,
            offset: valid_offset.as_deref(),
        });
        Gbt::fit(config, &set, valid_set.as_ref())
    };
    if params.early_stopping > 0 && snapshots.len() >= 2 {
        let stopped = fit_on(&snapshots[1..], Some(&snapshots[0]), config)?;
        let rounds = stopped.trees.len();
        let again = GbtParams { trees: rounds, early_stopping: 0, ..params.clone() }.check()?;
        let gbt = fit_on(snapshots, None, &again)?;
        return Ok(LearnedForecast { gbt, target, starts_from_base, rounds_from_validation: Some(rounds) });
    }
    let plain = GbtParams { early_stopping: 0, ..params.clone() }.check()?;
    let gbt = fit_on(snapshots, None, &plain)?;
    Ok(LearnedForecast { gbt, target, starts_from_base, rounds_from_validation: None })
}

impl LearnedForecast {
    /// The forecast for each customer of `snapshot` (its window, its base forecast).
    pub fn predict(&self, snapshot: &Snapshot) -> Result<Vec<f64>, LearnError> {
        let offset = offset(snapshot, self.target, self.gbt.loss, self.starts_from_base);
        self.gbt.predict(&snapshot.features, offset.as_deref())
    }
}

/// What `clv train` writes and `clv score` (and the page) reads: a trained model with the base
/// model it starts from, as JSON. Nothing in it is customer data: trees, cut points, names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    /// [`SavedModel::FORMAT`].
    pub format: String,
    /// The cutoff it was trained for (`YYYY-MM-DD`).
    pub trained_cutoff: String,
    /// The BTYD model fitted at every snapshot (and at the scoring cutoff).
    pub base: ModelKind,
    /// The model.
    pub model: LearnedForecast,
    /// The sequence model trained beside it, if it was (older files have none).
    #[serde(default)]
    pub sequence: Option<super::sequence::SequenceModel>,
}

impl SavedModel {
    /// The file format's name and version.
    pub const FORMAT: &'static str = "clv-learned-model/1";

    /// Read a saved model, saying what is wrong with a file that is not one.
    pub fn from_json(text: &str) -> Result<SavedModel, String> {
        let saved: SavedModel = serde_json::from_str(text).map_err(|e| format!("not a saved model ({e})"))?;
        if saved.format != Self::FORMAT {
            return Err(format!("a saved model of format {:?}; this version reads {:?}", saved.format, Self::FORMAT));
        }
        Ok(saved)
    }
}

/// A saved model's forecasts for the customers at a cutoff.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// The customers, their features and the base forecast.
    pub snapshot: Snapshot,
    /// The boosted trees' forecast per customer.
    pub predictions: Vec<f64>,
    /// The sequence model's mean and median purchase days per customer, when the file has one.
    pub sequence: Option<Vec<(f64, f64)>>,
}

/// Score every customer with a purchase by `cutoff` with `saved`, for the `window_days` after it.
/// Reads no transaction after the cutoff.
pub fn score_saved(
    tx: &Transactions,
    users: Option<&UserFeatures>,
    saved: &SavedModel,
    cutoff: Cutoff,
    window_days: i64,
) -> Result<Scores, LearnError> {
    let snapshot = scoring(tx, users, cutoff, window_days, saved.base)?;
    let predictions = saved.model.predict(&snapshot)?;
    let sequence = saved.sequence.as_ref().map(|m| {
        let seqs = super::sequence::Sequences::build(tx, &snapshot.customers, cutoff, m.params.max_weeks);
        m.forecast_days(&seqs, window_days)
    });
    Ok(Scores { snapshot, predictions, sequence })
}

impl Scores {
    /// As CSV: `user_id,base_forecast,prediction` (the base BTYD forecast beside the trees', for the
    /// same window), then `sequence_mean,sequence_median` when there is a sequence model.
    pub fn csv(&self, tx: &Transactions, safety: &mut crate::export::CsvSafety) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["user_id", "base_forecast", "prediction"];
        if self.sequence.is_some() {
            header.extend(["sequence_mean", "sequence_median"]);
        }
        w.write_record(&header).expect("in-memory write");
        let s = &self.snapshot;
        for (i, ((&c, base), p)) in s.customers.iter().zip(&s.base_forecast).zip(&self.predictions).enumerate() {
            let mut row = vec![safety.text(tx.id(c)).into_owned(), safety.num(*base), safety.num(*p)];
            if let Some(seq) = &self.sequence {
                row.extend([safety.num(seq[i].0), safety.num(seq[i].1)]);
            }
            w.write_record(&row).expect("in-memory write");
        }
        String::from_utf8(w.into_inner().expect("in-memory write")).expect("CSV of UTF-8 cells")
    }
}

/// Names of the numeric features, in column order (the categorical ones — the transaction file's
/// channel and country columns — follow).
pub const NUMERIC: [&str; 16] = [
    "frequency",
    "recency",
    "age",
    "weeks_since_last",
    "rate",
    "mean_spend",
    "orders",
    "revenue",
    "order_value",
    "days_last_4_weeks",
    "days_last_13_weeks",
    "revenue_last_13_weeks",
    "last_gap_weeks",
    "window_weeks",
    "base_forecast",
    "base_p_alive",
];

/// What a feature is, in words for someone who has never heard of BG/NBD (the channel and
/// country columns keep their names).
pub fn describe(name: &str) -> String {
    let words = match name {
        "frequency" => "repeat purchases so far",
        "recency" => "weeks from first to last purchase",
        "age" => "weeks since the first purchase",
        "weeks_since_last" => "weeks since the last purchase",
        "rate" => "repeat purchases per week",
        "mean_spend" => "average spend per repeat purchase",
        "orders" => "orders so far",
        "revenue" => "revenue so far",
        "order_value" => "average order value",
        "days_last_4_weeks" => "purchase days in the last 4 weeks",
        "days_last_13_weeks" => "purchase days in the last 13 weeks",
        "revenue_last_13_weeks" => "revenue in the last 13 weeks",
        "last_gap_weeks" => "weeks between the last two purchases",
        "window_weeks" => "length of the forecast window",
        "base_forecast" => "the BTYD model's forecast",
        "base_p_alive" => "the BTYD model's chance the customer is still active",
        "weeks_since_signup" => "weeks since signing up (users file)",
        other => {
            return match other.strip_prefix("user:") {
                Some(column) => format!("{column} (users file)"),
                None => other.to_string(),
            }
        }
    };
    words.to_string()
}

/// The snapshot of `summary`, built at `cutoff` (the day it was built at).
fn snapshot_of(
    tx: &Transactions,
    users: Option<&UserFeatures>,
    summary: &RfmSummary,
    cutoff: Cutoff,
    window_days: i64,
    base: ModelKind,
) -> Result<Snapshot, LearnError> {
    let customers = Customers::from_summary(summary, tx);
    let (model, report) = fit_count(base, &customers, &FitOptions::default())
        .map_err(|e| LearnError::Base(format!("{} at the cutoff {}: {e}", base.id().label(), summary.cutoff)))?;
    if !report.convergence.converged {
        return Err(LearnError::Base(format!(
            "{} did not converge at the cutoff {} ({}): its forecast cannot be a feature",
            base.id().label(),
            summary.cutoff,
            report.convergence.message
        )));
    }
    let window = window_days as f64 / UNIT.days();
    let count = model.as_count();
    let mut numeric: Vec<Vec<f64>> = vec![Vec::with_capacity(summary.rows.len()); NUMERIC.len()];
    let mut base_forecast = Vec::with_capacity(summary.rows.len());
    let mut buf = Vec::new();
    for row in &summary.rows {
        let rfm = Rfm::new(f64::from(row.frequency), row.recency, row.t);
        let forecast = count.expected_purchases(&rfm, window);
        base_forecast.push(forecast);
        let values = customer_features(tx, row, cutoff, &mut buf, [window, forecast, count.p_alive(&rfm)]);
        numeric.iter_mut().zip(values).for_each(|(col, v)| col.push(v));
    }
    let mut names: Vec<String> = NUMERIC.iter().map(|s| s.to_string()).collect();
    let mut columns: Vec<Column> = numeric.into_iter().map(Column::Numeric).collect();
    for attribute in tx.attributes() {
        let mut levels: Vec<String> = Vec::new();
        let codes = summary
            .rows
            .iter()
            .map(|r| {
                attribute.value(r.customer).map(|v| match levels.iter().position(|l| l == v) {
                    Some(c) => c as u32,
                    None => {
                        levels.push(v.to_string());
                        levels.len() as u32 - 1
                    }
                })
            })
            .collect();
        names.push(attribute.role.to_string());
        columns.push(Column::Categorical { codes, levels });
    }
    if let Some(users) = users {
        let customers: Vec<usize> = summary.rows.iter().map(|r| r.customer).collect();
        names.extend(users.names().iter().cloned());
        columns.extend(users.columns(tx, &customers, cutoff));
    }
    Ok(Snapshot {
        cutoff,
        window_days,
        customers: summary.rows.iter().map(|r| r.customer).collect(),
        features: FeatureMatrix::new(names, columns)?,
        base_forecast,
    })
}

/// One customer's numeric features at `cutoff` (order of [`NUMERIC`]); `base` is the window in
/// weeks, the base forecast and P(alive).
fn customer_features(
    tx: &Transactions,
    row: &RfmRow,
    cutoff: Cutoff,
    buf: &mut Vec<crate::features::Occasion>,
    [window, forecast, p_alive]: [f64; 3],
) -> [f64; 16] {
    let history = cutoff.history(tx.history(row.customer)).rows();
    occasions(history, buf);
    let weeks_before = |day: i64| (cutoff.day - day) as f64 / 7.0;
    let since = |weeks: f64| buf.iter().filter(move |o| weeks_before(o.day) < weeks);
    let orders = history.iter().filter(|t| t.amount >= 0.0).count() as f64;
    let revenue = crate::total(history.iter().map(|t| t.amount));
    let last_gap = match buf.len() {
        0 | 1 => f64::NAN,
        n => (buf[n - 1].day - buf[n - 2].day) as f64 / 7.0,
    };
    let x = f64::from(row.frequency);
    [
        x,
        row.recency,
        row.t,
        row.t - row.recency,
        if row.t > 0.0 { x / row.t } else { f64::NAN },
        if x > 0.0 { row.monetary_value } else { f64::NAN },
        orders,
        revenue,
        if orders > 0.0 { revenue / orders } else { f64::NAN },
        since(4.0).count() as f64,
        since(13.0).count() as f64,
        crate::total(since(13.0).map(|o| o.amount)),
        last_gap,
        window,
        forecast,
        p_alive,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{ingest, IngestOptions};

    fn cdnow_sample() -> Transactions {
        let file =
            std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/cdnow_sample_transactions.csv"))
                .unwrap();
        ingest(file, &IngestOptions::default(), &mut |_| {}).unwrap().transactions
    }

    fn day(s: &str) -> Cutoff {
        Cutoff::day(s.parse::<crate::time::Day>().unwrap().number())
    }

    /// The users file's columns reach the trees: a column that knows how many purchase days each
    /// customer will make in the holdout (a static attribute the user could have, say a contract
    /// volume) becomes the trees' most important feature and beats the trees without it; scoring
    /// without the users file the model was trained with is an error naming the column.
    #[test]
    fn users_file_columns_are_features_of_the_trees() {
        use crate::features::{HoldoutSplit, UserRow, Users};
        use crate::learned::users::UserFeatures;
        let tx = cdnow_sample();
        let (cutoff, end) = (day("1997-09-30"), day("1998-06-30").day);
        let split = HoldoutSplit::build(&tx, cutoff, end, UNIT);
        let mut future = vec![0.0; tx.customers()];
        for (row, h) in split.calibration.rows.iter().zip(&split.rows) {
            future[row.customer] = f64::from(h.holdout_frequency);
        }
        let users = Users {
            attribute_names: vec!["emb_0".into(), "plan".into()],
            rows: (0..tx.customers())
                .map(|c| UserRow {
                    id: tx.id(c).to_string(),
                    signup_day: None,
                    attributes: vec![future[c].to_string(), if c % 2 == 0 { "even" } else { "odd" }.into()],
                })
                .collect(),
            rejected: vec![],
        };
        let users = UserFeatures::new(&users);
        let protocol = Protocol::spread(&tx, cutoff, 4, ModelKind::Bgnbd).unwrap();
        let params = GbtParams { loss: Loss::Poisson, trees: 60, max_depth: 3, min_leaf: 20, ..GbtParams::default() };
        let config = params.check().unwrap();
        let fit = |users: Option<&UserFeatures>| {
            let set = training(&tx, users, cutoff, &protocol).unwrap();
            let model = train(&set.snapshots, Target::Purchases, &config, true).unwrap();
            let snapshot = scoring(&tx, users, cutoff, end - cutoff.day, ModelKind::Bgnbd).unwrap();
            let rmse = crate::evaluate::rmse(
                &model.predict(&snapshot).unwrap(),
                &split.rows.iter().map(|r| f64::from(r.holdout_frequency)).collect::<Vec<_>>(),
            );
            (model, rmse)
        };
        let (with, rmse_with) = fit(Some(&users));
        let (_, rmse_without) = fit(None);
        assert_eq!(with.gbt.importance()[0].0, "user:emb_0", "{:?}", with.gbt.importance());
        assert!(rmse_with < 0.8 * rmse_without, "{rmse_with} against {rmse_without}");
        let plain = scoring(&tx, None, cutoff, end - cutoff.day, ModelKind::Bgnbd).unwrap();
        let err = with.predict(&plain).unwrap_err().to_string();
        assert!(err.contains("user:emb_0"), "{err}");
    }

    /// Labels are what each customer did from the snapshot's cutoff to the user's: purchase days
    /// and revenue counted by hand for the sample's customers; the window and every feature come
    /// from before the snapshot's cutoff.
    #[test]
    fn snapshots_label_what_followed_up_to_the_cutoff() {
        let tx = cdnow_sample();
        let cutoff = day("1997-09-30");
        let protocol = Protocol::new(3, 56, ModelKind::Bgnbd).unwrap();
        let snaps = training(&tx, None, cutoff, &protocol).unwrap().snapshots;
        assert_eq!(snaps.len(), 3);
        for (k, s) in snaps.iter().enumerate() {
            let c = s.snapshot.cutoff;
            assert_eq!(c.day, cutoff.day - 56 * (k as i64 + 1));
            assert_eq!(s.snapshot.window_days, cutoff.day - c.day);
            let mut buf = Vec::new();
            for (i, &customer) in s.snapshot.customers.iter().enumerate() {
                let h = tx.history(customer);
                let after: Vec<_> = h.iter().copied().filter(|t| !c.includes(t.ts) && cutoff.includes(t.ts)).collect();
                occasions(&after, &mut buf);
                assert_eq!(s.purchases[i], buf.len() as f64);
                assert!((s.revenue[i] - crate::total(after.iter().map(|t| t.amount))).abs() < 1e-9);
                assert!(c.includes(h[0].ts), "only customers known at the snapshot");
            }
            let n = s.snapshot.customers.len();
            assert!(s.snapshot.features.rows() == n && s.snapshot.base_forecast.len() == n);
        }
        // Every customer known at a snapshot is in it (CDNOW's all joined by 1997-03-31).
        for s in &snaps {
            let known = (0..tx.customers()).filter(|&c| s.snapshot.cutoff.includes(tx.history(c)[0].ts)).count();
            assert_eq!(s.snapshot.customers.len(), known);
        }
    }

    /// The protocol by construction: rows after the user's cutoff — changed, added, removed — change
    /// no training snapshot, so no trained parameter.
    #[test]
    fn the_holdout_changes_no_training_data() {
        let tx = cdnow_sample();
        let cutoff = day("1997-09-30");
        let protocol = Protocol::new(2, 60, ModelKind::Bgnbd).unwrap();
        let before = training(&tx, None, cutoff, &protocol).unwrap().snapshots;
        let (mut pairs, mut newcomers) = (Vec::new(), Vec::new());
        for c in 0..tx.customers() {
            for t in tx.history(c) {
                let mut t = *t;
                if !cutoff.includes(t.ts) {
                    t.amount *= 3.0;
                    t.ts += 86_400 * 11;
                    newcomers.push((format!("{}-late", tx.id(c)), t));
                }
                pairs.push((tx.id(c).to_string(), t));
            }
        }
        pairs.extend(newcomers); // customers who first buy in the holdout, after everyone else
        let changed = Transactions::from_pairs(pairs);
        assert_ne!(changed, tx);
        let after = training(&changed, None, cutoff, &protocol).unwrap().snapshots;
        // Bit for bit (NaN features — no repeat purchase, no mean spend — equal themselves here).
        assert_eq!(format!("{after:?}"), format!("{before:?}"));
        let config =
            GbtParams { loss: Loss::Poisson, trees: 30, row_sample: 0.8, ..GbtParams::default() }.check().unwrap();
        let model = |s: &[Labelled]| train(s, Target::Purchases, &config, true).unwrap();
        assert_eq!(model(&after), model(&before));
    }

    #[test]
    fn every_feature_has_words() {
        assert!(NUMERIC.iter().all(|n| describe(n) != *n));
        assert_eq!(describe("channel"), "channel");
    }

    #[test]
    fn bad_protocols_are_refused() {
        assert_eq!(
            Protocol::new(0, 30, ModelKind::Pnbd).unwrap_err().to_string(),
            "cutoffs must be from 1 to 12, got 0"
        );
        assert!(Protocol::new(3, 3, ModelKind::Pnbd).is_err());
        assert!(Protocol::new(3, 30, ModelKind::Bgbb).is_err());
    }
}
