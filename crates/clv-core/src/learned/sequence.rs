//! The small sequence model: each customer's weeks up to the cutoff → a [`Gru`] → next week's
//! purchase days (Poisson) and spend (lognormal when there is a purchase), rolled forward over the
//! horizon by simulation for the mean, the median and the path.
//!
//! After Valendin, Reutterer, Platzer & Kalcher (2022), "Customer base analysis with recurrent
//! neural networks", *International Journal of Research in Marketing* 39(4): a recurrent network
//! trained to predict each next week from the weeks before it, then simulated forward.
//!
//! **Temporal protocol.** Every training label is a week *before* the cutoff: the model reads weeks
//! 1..t and is scored on week t + 1, for every t inside the calibration period — each week is an
//! earlier cutoff labelled with what followed it. The last `validation_weeks` weeks are labels for
//! early stopping only (a temporal validation fold). Nothing after the cutoff is read: the holdout
//! only scores.
//!
//! **Weights, not repeats.** Customers whose weeks look the same to the model (same purchase days
//! and same spend step each week, the same age) are one sequence with a weight; their spends enter
//! the spend loss through sufficient statistics (Σ ln v, Σ ln² v), so the loss is exactly the
//! per-customer one. On CDNOW this trains on a fraction of the customers' sequences.
//!
//! **Forecast.** From the state at the cutoff, `samples` paths are drawn week by week (purchase
//! days from the Poisson head, spend from the lognormal one, fed back as the next week's input).
//! The path with no purchase is the same for every sample, so it is computed once and a sample
//! only steps the cell on its own after its first simulated purchase. Each path contributes its
//! sum of expected purchase days (a Rao–Blackwellised mean: lower variance than counting the
//! draws); the predictive distribution is the mixture of Poissons around those sums.

use std::ops::ControlFlow;

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::gru::{Adam, Gru, Heads, StepCache};
use super::LearnError;
use crate::features::{occasions, Cutoff};
use crate::ingest::Transactions;

/// Days in a week bin.
const WEEK: i64 = 7;
/// Inputs per week: ln(1 + purchase days), bought (0/1), spend step, ln(1 + age in weeks)/4,
/// first week (0/1).
const INPUTS: usize = 5;
/// Spend is fed in steps of a quarter of ln(1 + spend): close enough for the model, and it lets
/// customers with near-equal spends share a sequence.
const SPEND_STEPS: f64 = 4.0;

/// The sequence model's settings, as given (checked once by [`SequenceParams::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceParams {
    /// Hidden units of the GRU (16 to 64).
    pub hidden: usize,
    /// Most passes over the sequences.
    pub epochs: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Sequences per gradient step.
    pub batch: usize,
    /// Weeks of history read per customer (the latest ones).
    pub max_weeks: usize,
    /// The calibration period's last weeks kept as labels for early stopping, not training.
    pub validation_weeks: usize,
    /// Simulated paths per customer for the forecast.
    pub samples: usize,
    /// Seed of the initial weights, the batch order and the simulation.
    pub seed: u64,
}

impl Default for SequenceParams {
    /// 16 hidden units, at most 8 epochs from step 0.02, batches of 256 sequences, two years of
    /// history, 8 validation weeks, 50 paths — what measured well on CDNOW (see the issue notes).
    fn default() -> SequenceParams {
        SequenceParams {
            hidden: 16,
            epochs: 8,
            learning_rate: 0.02,
            batch: 256,
            max_weeks: 104,
            validation_weeks: 8,
            samples: 50,
            seed: 1,
        }
    }
}

/// [`SequenceParams`] that passed [`SequenceParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceConfig(SequenceParams);

impl SequenceParams {
    /// Check every setting once, naming the one out of range.
    pub fn check(&self) -> Result<SequenceConfig, LearnError> {
        let p = self;
        let bad = |name, expected, value: f64| Err(LearnError::Param { name, expected, value });
        if !(16..=64).contains(&p.hidden) {
            return bad("hidden", "from 16 to 64", p.hidden as f64);
        }
        if !(1..=200).contains(&p.epochs) {
            return bad("epochs", "from 1 to 200", p.epochs as f64);
        }
        if !(p.learning_rate > 0.0 && p.learning_rate <= 0.1) {
            return bad("learning_rate", "in (0, 0.1]", p.learning_rate);
        }
        if !(1..=4096).contains(&p.batch) {
            return bad("batch", "from 1 to 4096", p.batch as f64);
        }
        if !(4..=520).contains(&p.max_weeks) {
            return bad("max_weeks", "from 4 to 520", p.max_weeks as f64);
        }
        if p.validation_weeks >= p.max_weeks {
            return bad("validation_weeks", "fewer than max_weeks", p.validation_weeks as f64);
        }
        if !(1..=10_000).contains(&p.samples) {
            return bad("samples", "from 1 to 10000", p.samples as f64);
        }
        Ok(SequenceConfig(p.clone()))
    }
}

impl SequenceConfig {
    /// The settings.
    pub fn params(&self) -> &SequenceParams {
        &self.0
    }
}

/// One week of a sequence. The spend sums are over the sequence's customers.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Week {
    /// Purchase days (the same for every customer of the sequence).
    count: u32,
    /// ln(1 + spend) in quarter steps (the same for every customer of the sequence).
    spend_step: u32,
    /// Customers with positive spend this week, ln of their spends summed, and squared.
    spenders: f64,
    log_spend: f64,
    log_spend_sq: f64,
}

/// Customers whose weeks look the same to the model.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    weight: f64,
    /// Weeks of history before the first week read (when it is longer than `max_weeks`).
    skipped_weeks: u32,
    weeks: Vec<Week>,
}

/// Customers' weekly histories up to a cutoff, the last week ending on the cutoff day.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequences {
    cutoff: Cutoff,
    groups: Vec<Group>,
    /// The sequence of each customer given to [`Sequences::build`], in that order.
    group_of: Vec<usize>,
}

impl Sequences {
    /// The weeks of `customers` (indices into `tx`) up to `cutoff`, at most `max_weeks` of them
    /// per customer (the latest). Reads no transaction after the cutoff. A customer with no
    /// purchase by then has an empty sequence (forecast from the start state).
    pub fn build(tx: &Transactions, customers: &[usize], cutoff: Cutoff, max_weeks: usize) -> Sequences {
        let mut index: FxHashMap<(u32, Vec<(u32, u32)>), usize> = FxHashMap::default();
        let (mut groups, mut group_of) = (Vec::<Group>::new(), Vec::with_capacity(customers.len()));
        let mut buf = Vec::new();
        for &c in customers {
            occasions(cutoff.history(tx.history(c)).rows(), &mut buf);
            let (weeks, skipped) = weeks_of(&buf, cutoff, max_weeks);
            let key = (skipped, weeks.iter().map(|w| (w.count, w.spend_step)).collect());
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(Group { weight: 0.0, skipped_weeks: skipped, weeks: weeks.clone() });
                for w in &mut groups.last_mut().expect("just pushed").weeks {
                    (w.spenders, w.log_spend, w.log_spend_sq) = (0.0, 0.0, 0.0);
                }
                groups.len() - 1
            });
            let group = &mut groups[g];
            group.weight += 1.0;
            for (sum, w) in group.weeks.iter_mut().zip(&weeks) {
                sum.spenders += w.spenders;
                sum.log_spend += w.log_spend;
                sum.log_spend_sq += w.log_spend_sq;
            }
            group_of.push(g);
        }
        Sequences { cutoff, groups, group_of }
    }

    /// Customers.
    pub fn len(&self) -> usize {
        self.group_of.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.group_of.is_empty()
    }

    /// Distinct sequences (customers who look the same to the model share one).
    pub fn distinct(&self) -> usize {
        self.groups.len()
    }
}

/// A customer's purchase occasions as weeks ending on the cutoff day, the first week the one of
/// the first purchase (or `max_weeks` back), and how many weeks before that were left out.
fn weeks_of(occasions: &[crate::features::Occasion], cutoff: Cutoff, max_weeks: usize) -> (Vec<Week>, u32) {
    let Some(first) = occasions.first() else { return (Vec::new(), 0) };
    let back = |day: i64| ((cutoff.day - day) / WEEK) as usize;
    let span = back(first.day) + 1;
    let len = span.min(max_weeks);
    let empty = Week { count: 0, spend_step: 0, spenders: 0.0, log_spend: 0.0, log_spend_sq: 0.0 };
    let mut weeks = vec![empty; len];
    let mut spend = vec![0.0; len];
    for o in occasions {
        let b = back(o.day);
        if b < len {
            weeks[len - 1 - b].count += 1;
            spend[len - 1 - b] += o.amount;
        }
    }
    for (w, s) in weeks.iter_mut().zip(spend) {
        if w.count > 0 && s > 0.0 {
            w.spend_step = (s.ln_1p() * SPEND_STEPS).round() as u32;
            (w.spenders, w.log_spend, w.log_spend_sq) = (1.0, s.ln(), s.ln().powi(2));
        }
    }
    (weeks, (span - len) as u32)
}

/// One epoch as the progress callback sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Epoch {
    /// 1-based.
    pub epoch: usize,
    /// Most epochs.
    pub epochs: usize,
    /// Mean loss per training label (Poisson and spend negative log-likelihoods).
    pub training_loss: f64,
    /// Mean loss per validation label (NaN without validation weeks).
    pub validation_loss: f64,
}

/// A trained sequence model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceModel {
    /// The cell and its heads.
    pub gru: Gru,
    /// Mean ln(1 + spend) of purchase weeks in training: the spend input's unit, so the model does
    /// not depend on the currency.
    pub spend_scale: f64,
    /// The settings it was trained with.
    pub params: SequenceParams,
    /// Each epoch's losses.
    pub epochs: Vec<Epoch>,
    /// The epoch whose weights were kept (lowest validation loss; the last without validation).
    pub best_epoch: usize,
}

/// A sequence's input at week `t` (0-based, in the sequence).
fn input(count: u32, spend_step: u32, age_weeks: u32, first: bool, spend_scale: f64) -> [f64; INPUTS] {
    [
        f64::from(count).ln_1p(),
        f64::from(u8::from(count > 0)),
        f64::from(spend_step) / SPEND_STEPS / spend_scale,
        f64::from(age_weeks).ln_1p() / 4.0,
        f64::from(u8::from(first)),
    ]
}

fn week_input(g: &Group, t: usize, spend_scale: f64) -> [f64; INPUTS] {
    let w = &g.weeks[t];
    input(w.count, w.spend_step, g.skipped_weeks + t as u32, t == 0 && g.skipped_weeks == 0, spend_scale)
}

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Negative log-likelihood of `w` (next week) at heads `o`, for `weight` customers, and its
/// gradient with respect to (η, μ, ln σ). The spend term is the lognormal density of each spend
/// (Jacobian included), summed through the week's sufficient statistics.
fn week_loss(o: Heads, w: &Week, weight: f64) -> (f64, [f64; 3]) {
    let y = f64::from(w.count);
    let rate = o.log_rate.exp();
    let mut loss = weight * (rate - y * o.log_rate + statrs::function::gamma::ln_gamma(y + 1.0));
    let mut d = [weight * (rate - y), 0.0, 0.0];
    if w.spenders > 0.0 {
        let var = (2.0 * o.log_sigma).exp();
        let sq = w.log_spend_sq - 2.0 * o.mu * w.log_spend + w.spenders * o.mu * o.mu;
        loss += w.spenders * (o.log_sigma + HALF_LN_2PI) + sq / (2.0 * var) + w.log_spend;
        d[1] = (w.spenders * o.mu - w.log_spend) / var;
        d[2] = w.spenders - sq / var;
    }
    (loss, d)
}

/// Which labels a pass reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Labels {
    Training,
    Validation,
}

/// Loss and label weight of one sequence, adding its gradient to `grad` when given.
fn sequence_loss(
    gru: &Gru,
    g: &Group,
    scale: f64,
    validation_weeks: usize,
    labels: Labels,
    grad: Option<&mut [f64]>,
    caches: &mut Vec<StepCache>,
) -> (f64, f64) {
    let len = g.weeks.len();
    if len < 2 {
        return (0.0, 0.0);
    }
    // Week t + 1 is a validation label when it is among the last `validation_weeks`.
    let is_label = |t: usize| (len - 1 - (t + 1) < validation_weeks) == (labels == Labels::Validation);
    let steps = len - 1;
    caches.resize_with(steps, StepCache::default);
    let mut h = vec![0.0; gru.hidden];
    for (t, cache) in caches.iter_mut().enumerate().take(steps) {
        gru.step(&week_input(g, t, scale), &h, cache);
        h.clone_from(&cache.out);
    }
    let (mut loss, mut labelled) = (0.0, 0.0);
    let mut terms = vec![[0.0; 3]; steps];
    for t in (0..steps).filter(|&t| is_label(t)) {
        let (l, d) = week_loss(gru.heads(&caches[t].out), &g.weeks[t + 1], g.weight);
        loss += l;
        labelled += g.weight;
        terms[t] = d;
    }
    if let Some(grad) = grad {
        let mut carry = vec![0.0; gru.hidden];
        let mut dh = Vec::new();
        for t in (0..steps).rev() {
            let mut dout = carry.clone();
            gru.heads_backward(&caches[t].out, terms[t], grad, &mut dout);
            gru.step_backward(&caches[t], &dout, grad, &mut dh);
            std::mem::swap(&mut carry, &mut dh);
        }
    }
    (loss, labelled)
}

/// Parts of a batch whose gradients are summed in this order, whatever the threads: the same
/// model natively and in wasm.
const PARTS: usize = 4;

fn batch_gradient(gru: &Gru, groups: &[&Group], scale: f64, validation_weeks: usize) -> (f64, f64, Vec<f64>) {
    let part = groups.len().div_ceil(PARTS).max(1);
    let run = |chunk: &[&Group]| {
        let mut grad = vec![0.0; gru.len()];
        let mut caches = Vec::new();
        let (mut loss, mut labelled) = (0.0, 0.0);
        for g in chunk {
            let (l, n) = sequence_loss(gru, g, scale, validation_weeks, Labels::Training, Some(&mut grad), &mut caches);
            loss += l;
            labelled += n;
        }
        (loss, labelled, grad)
    };
    #[cfg(not(target_arch = "wasm32"))]
    let parts: Vec<_> = {
        use rayon::prelude::*;
        groups.par_chunks(part).map(run).collect()
    };
    #[cfg(target_arch = "wasm32")]
    let parts: Vec<_> = groups.chunks(part).map(run).collect();
    parts.into_iter().fold((0.0, 0.0, vec![0.0; gru.len()]), |(l, n, mut g), (pl, pn, pg)| {
        g.iter_mut().zip(pg).for_each(|(a, b)| *a += b);
        (l + pl, n + pn, g)
    })
}

/// Train on `seqs` (built at the user's cutoff: every label is before it). `progress` hears of
/// each epoch and may stop training ([`LearnError::Cancelled`]).
pub fn train(
    seqs: &Sequences,
    config: &SequenceConfig,
    progress: &mut dyn FnMut(&Epoch) -> ControlFlow<()>,
) -> Result<SequenceModel, LearnError> {
    let p = config.params();
    let (mut weeks, mut bought, mut spenders, mut log1p) = (0.0, 0.0, 0.0, 0.0);
    for g in &seqs.groups {
        for w in g.weeks.iter().skip(1) {
            weeks += g.weight;
            bought += g.weight * f64::from(w.count);
        }
        for w in &g.weeks {
            spenders += w.spenders;
            log1p += w.spenders * f64::from(w.spend_step) / SPEND_STEPS;
        }
    }
    if weeks == 0.0 {
        return Err(LearnError::Empty("no customer has a week after their first, so there is no label to learn from"));
    }
    if bought == 0.0 {
        return Err(LearnError::Empty("nobody bought again after their first week"));
    }
    let spend_scale = if spenders > 0.0 && log1p > 0.0 { log1p / spenders } else { 1.0 };
    let log_spend = seqs.groups.iter().flat_map(|g| &g.weeks).map(|w| w.log_spend).sum::<f64>() / spenders.max(1.0);
    let mut gru = Gru::new(INPUTS, p.hidden, p.seed, bought / weeks, log_spend);
    let mut adam = Adam::new(gru.len(), p.learning_rate);
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut order: Vec<usize> = (0..seqs.groups.len()).filter(|&g| seqs.groups[g].weeks.len() > 1).collect();
    let (mut best, mut best_epoch, mut best_loss) = (gru.theta.clone(), 0, f64::INFINITY);
    let mut history = Vec::new();
    let labels: f64 = order
        .iter()
        .map(|&g| {
            let g = &seqs.groups[g];
            g.weight * g.weeks.len().saturating_sub(1 + p.validation_weeks) as f64
        })
        .sum::<f64>()
        .max(1.0);
    for epoch in 1..=p.epochs {
        rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
        // The step shrinks linearly to a tenth over the epochs: large steps find the shape, small
        // ones stop the last epochs' batches from pulling the level about.
        adam.set_rate(p.learning_rate * (1.0 - 0.9 * (epoch - 1) as f64 / p.epochs.max(2).saturating_sub(1) as f64));
        let (mut loss, mut labelled) = (0.0, 0.0);
        for batch in order.chunks(p.batch) {
            let groups: Vec<&Group> = batch.iter().map(|&g| &seqs.groups[g]).collect();
            let (l, n, mut grad) = batch_gradient(&gru, &groups, spend_scale, p.validation_weeks);
            if n == 0.0 {
                continue;
            }
            // One constant for every batch, not the batch's own label count: a batch holding a
            // sequence shared by thousands of customers must weigh thousands of times as much.
            let per_batch = labels * batch.len() as f64 / order.len() as f64;
            grad.iter_mut().for_each(|g| *g /= per_batch);
            adam.update(&mut gru.theta, &grad);
            loss += l;
            labelled += n;
        }
        let validation = validation_loss(&gru, seqs, spend_scale, p.validation_weeks);
        let report = Epoch {
            epoch,
            epochs: p.epochs,
            training_loss: if labelled > 0.0 { loss / labelled } else { f64::NAN },
            validation_loss: validation,
        };
        history.push(report);
        if !report.training_loss.is_finite() {
            return Err(LearnError::Diverged { epoch });
        }
        // Without validation labels the last epoch's weights are kept.
        let score = if validation.is_nan() { -(epoch as f64) } else { validation };
        if score < best_loss {
            (best, best_epoch, best_loss) = (gru.theta.clone(), epoch, score);
        }
        if progress(&report).is_break() {
            return Err(LearnError::Cancelled);
        }
    }
    gru.theta = best;
    Ok(SequenceModel { gru, spend_scale, params: p.clone(), epochs: history, best_epoch })
}

fn validation_loss(gru: &Gru, seqs: &Sequences, scale: f64, validation_weeks: usize) -> f64 {
    if validation_weeks == 0 {
        return f64::NAN;
    }
    let mut caches = Vec::new();
    let (mut loss, mut labelled) = (0.0, 0.0);
    for g in &seqs.groups {
        let (l, n) = sequence_loss(gru, g, scale, validation_weeks, Labels::Validation, None, &mut caches);
        loss += l;
        labelled += n;
    }
    if labelled > 0.0 {
        loss / labelled
    } else {
        f64::NAN
    }
}

/// One customer's forecast over the horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathForecast {
    /// Expected purchase days over the horizon.
    pub mean: f64,
    /// Each simulated path's expected purchase days: the predictive distribution is the mixture of
    /// Poissons around them.
    pub paths: Vec<f64>,
    /// Expected purchase days by the end of each week of the horizon.
    pub cumulative: Vec<f64>,
    /// Expected net revenue over the horizon.
    pub revenue_mean: f64,
    /// Median of the simulated revenue.
    pub revenue_median: f64,
}

impl PathForecast {
    /// The median purchase days of the predictive mixture.
    pub fn median(&self) -> f64 {
        mixture_median(&self.paths)
    }

    /// Mean and median purchase days over the first `weeks` (fractional) weeks of the horizon:
    /// the mean from the expected cumulative curve, the median from the paths scaled to it (each
    /// path assumed to buy at the same pace within the last, partial week).
    pub fn within(&self, weeks: f64) -> (f64, f64) {
        let mean = cumulative_at(&self.cumulative, weeks);
        let scale = if self.mean > 0.0 { mean / self.mean } else { 0.0 };
        let paths: Vec<f64> = self.paths.iter().map(|p| p * scale).collect();
        (mean, mixture_median(&paths))
    }
}

/// `weekly[k]` is the value at the end of week k + 1 (0 at week 0): its value at `week`, linear in
/// between, the last value beyond.
pub fn cumulative_at(weekly: &[f64], week: f64) -> f64 {
    let Some(&last) = weekly.last() else { return 0.0 };
    let k = week.max(0.0).floor() as usize;
    let at = |k: usize| if k == 0 { 0.0 } else { weekly.get(k - 1).copied().unwrap_or(last) };
    at(k) + (at(k + 1) - at(k)) * (week - k as f64)
}

/// The smallest n with P(N ≤ n) ≥ ½ under the equal-weight mixture of Poissons with `means`.
pub fn mixture_median(means: &[f64]) -> f64 {
    if means.is_empty() {
        return 0.0;
    }
    let mut terms: Vec<f64> = means.iter().map(|m| (-m).exp()).collect();
    let mut cdf = terms.iter().sum::<f64>() / means.len() as f64;
    let mut n = 0u32;
    while cdf < 0.5 && n < 100_000 {
        n += 1;
        for (t, m) in terms.iter_mut().zip(means) {
            *t *= m / f64::from(n);
        }
        cdf += terms.iter().sum::<f64>() / means.len() as f64;
    }
    f64::from(n)
}

/// Forecasts of customers given to [`Sequences::build`], in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceForecast {
    groups: Vec<PathForecast>,
    group_of: Vec<usize>,
}

impl SequenceForecast {
    /// Customer `i`'s forecast (`i` in the order given to [`Sequences::build`]).
    pub fn customer(&self, i: usize) -> &PathForecast {
        &self.groups[self.group_of[i]]
    }

    /// Every customer's forecast, in order.
    pub fn iter(&self) -> impl Iterator<Item = &PathForecast> {
        self.group_of.iter().map(|&g| &self.groups[g])
    }

    /// Every customer's expected purchase days.
    pub fn means(&self) -> Vec<f64> {
        self.iter().map(|f| f.mean).collect()
    }
}

impl SequenceModel {
    /// Mean and median purchase days of each customer of `seqs` over the `days` after its cutoff
    /// (whole weeks are simulated; a partial last week is read off the curve, see
    /// [`PathForecast::within`]).
    pub fn forecast_days(&self, seqs: &Sequences, days: i64) -> Vec<(f64, f64)> {
        let weeks = days.max(0) as f64 / WEEK as f64;
        let forecast = self.forecast(seqs, weeks.ceil() as usize);
        forecast.iter().map(|f| f.within(weeks)).collect()
    }

    /// Simulate `horizon_weeks` weeks after the cutoff of `seqs` for each of its customers.
    /// Deterministic for the model's seed; customers with the same sequence get the same forecast.
    pub fn forecast(&self, seqs: &Sequences, horizon_weeks: usize) -> SequenceForecast {
        let run = |(g, group): (usize, &Group)| {
            self.simulate(group, horizon_weeks, self.params.seed ^ (g as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        };
        #[cfg(not(target_arch = "wasm32"))]
        let groups = {
            use rayon::prelude::*;
            seqs.groups.par_iter().enumerate().map(run).collect()
        };
        #[cfg(target_arch = "wasm32")]
        let groups = seqs.groups.iter().enumerate().map(run).collect();
        SequenceForecast { groups, group_of: seqs.group_of.clone() }
    }

    /// For each of the last `weeks` weeks before the cutoff (earliest first): the purchase days the
    /// model expected from the weeks before it, and the purchase days there were — how well it
    /// predicts one week ahead where the truth is known.
    pub fn one_week_ahead(&self, seqs: &Sequences, weeks: usize) -> Vec<(f64, f64)> {
        let mut totals = vec![(0.0, 0.0); weeks];
        let mut cache = StepCache::default();
        for g in &seqs.groups {
            let len = g.weeks.len();
            let mut h = vec![0.0; self.gru.hidden];
            for t in 0..len.saturating_sub(1) {
                self.gru.step(&week_input(g, t, self.spend_scale), &h, &mut cache);
                h.clone_from(&cache.out);
                let back = len - 2 - t;
                if back < weeks {
                    let slot = &mut totals[weeks - 1 - back];
                    slot.0 += g.weight * self.gru.heads(&h).log_rate.exp();
                    slot.1 += g.weight * f64::from(g.weeks[t + 1].count);
                }
            }
        }
        totals
    }

    fn simulate(&self, g: &Group, horizon: usize, seed: u64) -> PathForecast {
        let (gru, scale) = (&self.gru, self.spend_scale);
        let mut cache = StepCache::default();
        let mut h = vec![0.0; gru.hidden];
        for t in 0..g.weeks.len() {
            gru.step(&week_input(g, t, scale), &h, &mut cache);
            h.clone_from(&cache.out);
        }
        let age0 = g.skipped_weeks + g.weeks.len() as u32;
        let first = g.weeks.is_empty();
        // The path with no purchase: states before each horizon week, and their heads.
        let mut quiet_states = vec![h.clone()];
        for k in 0..horizon.saturating_sub(1) {
            gru.step(&input(0, 0, age0 + k as u32, false, scale), &quiet_states[k], &mut cache);
            quiet_states.push(cache.out.clone());
        }
        let quiet: Vec<Heads> = quiet_states.iter().map(|s| gru.heads(s)).collect();
        let mut rng = StdRng::seed_from_u64(seed);
        let samples = self.params.samples;
        let (mut paths, mut revenues) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
        let (mut cumulative, mut revenue_mean) = (vec![0.0; horizon], 0.0);
        let mut state = vec![0.0; gru.hidden];
        for _ in 0..samples {
            let (mut expected, mut revenue, mut own) = (0.0, 0.0, false);
            for k in 0..horizon {
                let o = if own { gru.heads(&state) } else { quiet[k] };
                let rate = o.log_rate.exp();
                expected += rate;
                cumulative[k] += expected;
                let sigma = o.log_sigma.exp();
                revenue_mean += -(-rate).exp_m1() * (o.mu + sigma * sigma / 2.0).exp();
                let count = draw_poisson(rate, &mut rng);
                let mut spend = 0.0;
                if count > 0 {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    spend = (o.mu + sigma * z).exp();
                    revenue += spend;
                }
                if k + 1 == horizon || (!own && count == 0) {
                    continue;
                }
                if !own {
                    state.clone_from(&quiet_states[k]);
                    own = true;
                }
                let step = (spend.ln_1p() * SPEND_STEPS).round() as u32;
                gru.step(&input(count, step, age0 + k as u32, first && k == 0, scale), &state, &mut cache);
                state.clone_from(&cache.out);
            }
            paths.push(expected);
            revenues.push(revenue);
        }
        let n = samples as f64;
        cumulative.iter_mut().for_each(|c| *c /= n);
        revenues.sort_by(f64::total_cmp);
        PathForecast {
            mean: paths.iter().sum::<f64>() / n,
            paths,
            cumulative,
            revenue_mean: revenue_mean / n,
            revenue_median: revenues[samples / 2],
        }
    }
}

fn draw_poisson(rate: f64, rng: &mut StdRng) -> u32 {
    match Poisson::new(rate) {
        Ok(p) => p.sample(rng).min(f64::from(u32::MAX)) as u32,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Txn;

    const DAY: i64 = 86_400;

    /// Three customers' purchases (day, amount) and a cutoff at day 70 (ten weeks).
    fn sample() -> (Transactions, Cutoff) {
        let rows = [
            ("a", 0, 20.0),
            ("a", 9, 35.0),
            ("a", 10, 5.0),
            ("a", 40, 12.0),
            ("a", 66, 80.0),
            ("b", 22, 15.0),
            ("b", 50, 15.0),
            ("c", 60, 100.0),
            ("c", 75, 30.0),
        ];
        let tx =
            Transactions::from_pairs(rows.iter().map(|&(id, day, amount)| (id, Txn { ts: day * DAY + 3600, amount })));
        (tx, Cutoff::day(70))
    }

    /// The loss of a whole sequence (every week's Poisson and lognormal terms through the GRU's
    /// steps) has the gradient the backward pass gives, to central differences.
    #[test]
    fn the_sequence_losss_gradient_equals_central_differences() {
        let (tx, cutoff) = sample();
        let seqs = Sequences::build(&tx, &[0, 1, 2], cutoff, 52);
        let gru = Gru::new(INPUTS, 16, 5, 0.2, 2.5);
        for g in &seqs.groups {
            let mut grad = vec![0.0; gru.len()];
            let mut caches = Vec::new();
            sequence_loss(&gru, g, 3.0, 2, Labels::Training, Some(&mut grad), &mut caches);
            let mut probe = gru.clone();
            for k in (0..gru.len()).step_by(7).chain([gru.len() - 1, gru.len() - 2 - 16]) {
                let at = |v: f64, probe: &mut Gru| {
                    probe.theta[k] = v;
                    sequence_loss(probe, g, 3.0, 2, Labels::Training, None, &mut Vec::new()).0
                };
                let numeric = (at(gru.theta[k] + 1e-6, &mut probe) - at(gru.theta[k] - 1e-6, &mut probe)) / 2e-6;
                probe.theta[k] = gru.theta[k];
                assert!((numeric - grad[k]).abs() < 1e-5 * grad[k].abs().max(1.0), "{k}: {numeric} vs {}", grad[k]);
            }
        }
    }

    /// Two customers whose weeks look the same (same purchase days, spends within a quarter step
    /// of ln(1 + spend)) are one sequence of weight 2, and its loss is the sum of theirs.
    #[test]
    fn customers_who_look_alike_share_a_sequence_with_the_same_loss() {
        let rows = [("a", 0, 20.0), ("a", 15, 30.0), ("b", 1, 20.5), ("b", 16, 29.0), ("c", 2, 20.0)];
        let tx = Transactions::from_pairs(rows.iter().map(|&(id, day, amount)| (id, Txn { ts: day * DAY, amount })));
        let cutoff = Cutoff::day(27);
        let both = Sequences::build(&tx, &[0, 1], cutoff, 52);
        assert_eq!((both.len(), both.distinct()), (2, 1));
        assert_eq!(Sequences::build(&tx, &[0, 1, 2], cutoff, 52).distinct(), 2);
        let gru = Gru::new(INPUTS, 16, 2, 0.3, 3.0);
        let loss = |seqs: &Sequences| {
            let g = &seqs.groups[0];
            sequence_loss(&gru, g, 3.0, 0, Labels::Training, None, &mut Vec::new()).0
        };
        let (a, b) = (Sequences::build(&tx, &[0], cutoff, 52), Sequences::build(&tx, &[1], cutoff, 52));
        assert!((loss(&both) - loss(&a) - loss(&b)).abs() < 1e-9, "{} vs {}", loss(&both), loss(&a) + loss(&b));
        // Three weeks from day 6: 0–6, 7–13 (nothing), 14–20 … the cutoff's week is 21–27.
        assert_eq!(both.groups[0].weeks.iter().map(|w| w.count).collect::<Vec<_>>(), [1, 0, 1, 0]);
    }

    /// The median of a Poisson mixture, by hand: Poisson(1) has P(0) = 0.368, P(≤ 1) = 0.736;
    /// the mixture of Poisson(0.1) and Poisson(5) has P(0) = 0.456 and P(≤ 1) = 0.518.
    #[test]
    fn mixture_medians_by_hand() {
        assert_eq!(mixture_median(&[0.0]), 0.0);
        assert_eq!(mixture_median(&[1.0]), 1.0);
        assert_eq!(mixture_median(&[0.1, 5.0]), 1.0);
        assert_eq!(mixture_median(&[0.1, 0.2]), 0.0);
        // Poisson(10): P(≤ 9) = 0.458, P(≤ 10) = 0.583.
        assert_eq!(mixture_median(&[10.0]), 10.0);
    }

    /// Customers who each buy on a day a week drawn with probability p (no one leaves): the
    /// trained model's forecast of the next 10 weeks is within 15% of the 10·p they will buy.
    #[test]
    fn a_steady_population_is_forecast_at_its_rate() {
        use rand::Rng;
        let mut rng = StdRng::seed_from_u64(9);
        let mut rows = Vec::new();
        for c in 0..200 {
            let start = rng.random_range(0..20);
            rows.push((c, start, 10.0));
            for week in start / 7 + 1..30 {
                if rng.random_bool(0.3) {
                    rows.push((c, week * 7 + rng.random_range(0..7), 10.0));
                }
            }
        }
        let tx = Transactions::from_pairs(
            rows.iter().map(|&(c, day, amount): &(i32, i64, f64)| (c.to_string(), Txn { ts: day * DAY, amount })),
        );
        let cutoff = Cutoff::day(30 * 7 - 1);
        let customers: Vec<usize> = (0..tx.customers()).collect();
        let seqs = Sequences::build(&tx, &customers, cutoff, 52);
        let params = SequenceParams { epochs: 10, batch: 16, ..SequenceParams::default() };
        let model = train(&seqs, &params.check().unwrap(), &mut |_| ControlFlow::Continue(())).unwrap();
        let means = model.forecast(&seqs, 10).means();
        let mean = means.iter().sum::<f64>() / means.len() as f64;
        assert!((mean / 3.0 - 1.0).abs() < 0.15, "mean forecast {mean} against 3");
        assert!(means.iter().all(|m| m.is_finite() && *m > 0.0));
        // One week ahead over the last weeks before the cutoff, where the truth is known.
        let (expected, actual) = model.one_week_ahead(&seqs, 8).iter().fold((0.0, 0.0), |s, w| (s.0 + w.0, s.1 + w.1));
        assert!((expected / actual - 1.0).abs() < 0.15, "{expected} against {actual}");
    }

    /// Training reads nothing after the cutoff: a different holdout gives the same parameters and
    /// the same forecast; the same seed gives the same model; a Break from the progress callback
    /// stops training after that epoch.
    #[test]
    fn the_holdout_changes_nothing_the_seed_repeats_and_cancel_stops() {
        let (tx, cutoff) = sample();
        let mut changed: Vec<(String, Txn)> = Vec::new();
        for (id, h) in tx.iter() {
            for t in h {
                let after = !cutoff.includes(t.ts);
                changed.push((id.to_string(), Txn { ts: t.ts, amount: if after { t.amount * 9.0 } else { t.amount } }));
            }
        }
        changed.push(("a".into(), Txn { ts: 80 * DAY, amount: 1.0 }));
        let other = Transactions::from_pairs(changed);
        let params = SequenceParams { epochs: 3, batch: 2, validation_weeks: 2, ..SequenceParams::default() };
        let config = params.check().unwrap();
        let fit = |tx: &Transactions| {
            let seqs = Sequences::build(tx, &[0, 1, 2], cutoff, 52);
            let model = train(&seqs, &config, &mut |_| ControlFlow::Continue(())).unwrap();
            let forecast = model.forecast(&seqs, 5);
            (model, forecast)
        };
        let (m1, f1) = fit(&tx);
        let (m2, f2) = fit(&other);
        assert_eq!(m1, m2);
        assert_eq!(f1, f2);
        assert_eq!(fit(&tx).0, m1);
        let mut heard = 0;
        let seqs = Sequences::build(&tx, &[0, 1, 2], cutoff, 52);
        let stopped = train(&seqs, &config, &mut |_| {
            heard += 1;
            ControlFlow::Break(())
        });
        assert_eq!((stopped, heard), (Err(LearnError::Cancelled), 1));
    }

    /// Settings out of range are named.
    #[test]
    fn settings_out_of_range_are_named() {
        let bad = SequenceParams { hidden: 8, ..SequenceParams::default() }.check().unwrap_err();
        assert_eq!(bad.to_string(), "hidden must be from 16 to 64, got 8");
        let bad = SequenceParams { validation_weeks: 200, ..SequenceParams::default() }.check().unwrap_err();
        assert!(bad.to_string().starts_with("validation_weeks must be fewer than max_weeks"));
    }
}
