//! Holdout evaluation on the user's own data: fit on the calibration period,
//! predict the holdout, score every model beside a naive baseline.
//!
//! Metrics must match the forecast they judge: MAE is minimised by the
//! median, RMSE and the total by the mean. Both MAEs are reported.

use crate::clv::pmf_cap;
use crate::evaluate::{bias_percent, gini, mae, pearson, rmse, spearman};
use crate::features::HoldoutSplit;
use crate::ingest::Transactions;
use crate::models::special::ln_gamma;
use crate::models::ModelId;
use crate::models::{summarise_pmf, CountModel, FitOptions, FitReport, ModelError, Rfm};
use crate::pipeline::{fit_models, Customers, ModelKind};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// The two sentences the report shows beside the metrics.
pub const METRIC_GUIDE: &str = "MAE is smallest for the median of each customer's predicted count, RMSE and the total for its mean, so a model can win on MAE while predicting far too few purchases overall. For budget totals look at bias (mean forecast); for ranking customers at Spearman and Gini; for a typical customer's count at the MAE of the median.";

/// One tenth of the customers, ranked by predicted holdout purchases (mean forecast), with the mean
/// prediction and the mean actual count of the group: a check of ranking and calibration at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decile {
    /// 1 to 10; 1 is the tenth with the highest predictions.
    pub decile: u32,
    /// Customers in the group (a tenth of all, give or take one).
    pub customers: usize,
    /// Mean predicted purchases per customer in the holdout.
    pub predicted: f64,
    /// Mean actual purchases (purchase days) per customer in the holdout.
    pub actual: f64,
}

/// Customers grouped by what they did in the calibration period, with their mean forecast and
/// mean actual holdout purchases: Fader, Hardie & Lee's (2005) "conditional expectations" check
/// (their figure 5: by calibration frequency, 0 to 7+), which shows *for whom* a model is wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conditional {
    /// The group, in words: a repeat-purchase count ("0" … "7+") or a recency range ("0–12").
    pub group: String,
    /// Customers in it.
    pub customers: f64,
    /// Mean predicted holdout purchases (mean forecast).
    pub predicted: f64,
    /// Mean actual holdout purchases.
    pub actual: f64,
}

/// Frequency groups 0 … 6 and 7+ (as Fader, Hardie & Lee's figure).
const FREQUENCY_GROUPS: usize = 8;
/// Recency groups: one-time buyers, then seven equal ranges of recency.
const RECENCY_RANGES: usize = 7;

/// Each customer's frequency group, and the groups' names.
fn frequency_groups(rows: &[Rfm]) -> (Vec<usize>, Vec<String>) {
    let last = FREQUENCY_GROUPS - 1;
    let group = rows.iter().map(|r| (r.x.max(0.0) as usize).min(last)).collect();
    let names = (0..FREQUENCY_GROUPS).map(|k| if k == last { format!("{k}+") } else { k.to_string() }).collect();
    (group, names)
}

/// Each customer's recency group: one-time buyers (no recency) apart, the others in seven ranges
/// of whole time units over 0 … the longest T.
fn recency_groups(rows: &[Rfm]) -> (Vec<usize>, Vec<String>) {
    let longest = rows.iter().map(|r| r.t).fold(0.0, f64::max);
    let width = (longest / RECENCY_RANGES as f64).ceil().max(1.0);
    let group = rows
        .iter()
        .map(|r| if r.x == 0.0 { 0 } else { 1 + ((r.t_x / width) as usize).min(RECENCY_RANGES - 1) })
        .collect();
    let names = std::iter::once("no repeat purchase".to_string())
        .chain((0..RECENCY_RANGES).map(|k| format!("{}–{}", k as f64 * width, (k + 1) as f64 * width)))
        .collect();
    (group, names)
}

/// Weighted mean forecast and actual per group; empty groups left out.
fn conditional(
    group: &[usize],
    names: &[String],
    forecasts: &[&Forecast],
    actual: &[f64],
    weights: &[f64],
) -> Vec<Conditional> {
    let mut sums = vec![(0.0, 0.0, 0.0); names.len()];
    for (((g, f), a), w) in group.iter().zip(forecasts).zip(actual).zip(weights) {
        let s = &mut sums[*g];
        *s = (s.0 + w, s.1 + w * f.mean, s.2 + w * a);
    }
    sums.iter()
        .zip(names)
        .filter(|(s, _)| s.0 > 0.0)
        .map(|(&(n, p, a), name)| Conditional { group: name.clone(), customers: n, predicted: p / n, actual: a / n })
        .collect()
}

/// One model's (or the naive baseline's) accuracy on the holdout, per customer unless said otherwise.
/// Counts are purchase occasions (customer-days with a purchase) in the holdout period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelScore {
    /// The model scored, or [`ModelId::Naive`]: x/T continued as a Poisson rate.
    pub model: ModelId,
    /// Whether its fit converged; the naive baseline, fitting nothing, counts as converged. [`evaluate`]
    /// scores converged fits only.
    pub converged: bool,
    /// MAE of the mean forecast (what `lifetimes` users compare).
    pub mae: f64,
    /// MAE of the median of the predictive distribution.
    pub mae_median: f64,
    /// Root mean squared error of the mean forecast.
    pub rmse: f64,
    /// 100 (predicted total − actual total) / actual total, mean forecast.
    pub bias: Option<f64>,
    /// Pearson correlation of forecast and actual counts; `None` when either is constant.
    pub pearson: Option<f64>,
    /// Spearman rank correlation of forecast and actual counts: how well the model ranks customers.
    pub spearman: Option<f64>,
    /// Gini of the actual counts with customers ordered by forecast (see [`crate::evaluate::gini`]).
    pub gini: Option<f64>,
    /// Mean ln P(X = actual) under the predictive distribution (higher is better).
    pub log_score: f64,
    /// Σ mean forecasts: the expected holdout purchases of all customers (compare
    /// [`HoldoutReport::actual_total`]).
    pub predicted_total: f64,
    /// Customers in ten groups by forecast, highest first.
    pub deciles: Vec<Decile>,
    /// Mean forecast and actual by calibration frequency (0 … 6, 7+).
    #[serde(default)]
    pub by_frequency: Vec<Conditional>,
    /// Mean forecast and actual by calibration recency (one-time buyers, then seven ranges).
    #[serde(default)]
    pub by_recency: Vec<Conditional>,
    /// Cumulative predicted purchases at the end of each holdout period.
    pub tracking: Vec<f64>,
    /// The calibration fit's report; `None` for the naive baseline.
    pub fit: Option<FitReport>,
}

/// Cumulative purchases of all customers at the end of one holdout period: the tracking curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingPoint {
    /// The holdout period, from 1; periods are one time unit long, the last possibly shorter.
    pub period: usize,
    /// Actual purchase occasions from the cutoff through the end of this period.
    pub actual: f64,
    /// (model, cumulative predicted) in the order of `models`.
    pub predicted: Vec<(ModelId, f64)>,
}

/// The holdout evaluation: every model's scores and the tracking curve, as the page and the CLI show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutReport {
    /// Length of the holdout, in the summary's time unit.
    pub duration: f64,
    /// Calibration customers scored.
    pub customers: usize,
    /// Their actual purchase occasions in the holdout, all together.
    pub actual_total: f64,
    /// The scores of the converged models in request order, then the naive baseline.
    pub models: Vec<ModelScore>,
    /// Actual and predicted cumulative purchases per holdout period.
    pub tracking: Vec<TrackingPoint>,
    /// [`METRIC_GUIDE`]: which metric answers which question.
    pub guide: String,
    /// Models that are not scored — their fit failed outright or did not
    /// converge — with the reason.
    pub failed: Vec<(ModelId, String)>,
    /// The tracking plot from acquisition (calibration and holdout on one axis).
    #[serde(default)]
    pub from_acquisition: AcquisitionTracking,
    /// The learned models' verdict, importance and training, when they were added
    /// ([`crate::learned::leaderboard::add_to_leaderboard`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned: Option<crate::learned::leaderboard::LearnedReport>,
}

/// The tracking plot from acquisition ([`crate::tracking`]): per period since
/// the first acquisition, actual repeat purchases and each converged model's
/// expected cumulative curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AcquisitionTracking {
    /// Actual repeat purchase days per period, with which periods are holdout.
    pub periods: Vec<crate::tracking::TrackingPeriod>,
    /// Per converged model, the expected cumulative repeat purchases at each period's end.
    pub expected: Vec<(ModelId, Vec<f64>)>,
}

/// A forecast for one customer: mean, predictive pmf (long enough to hold
/// the actual value), and cumulative means at each holdout period end.
struct Forecast {
    mean: f64,
    pmf: Vec<f64>,
    cumulative: Vec<f64>,
}

fn period_ends(duration: f64) -> Vec<f64> {
    let n = duration.ceil() as usize;
    (1..=n).map(|k| (k as f64).min(duration)).collect()
}

fn model_forecast(m: &dyn CountModel, c: &Rfm, duration: f64, n_max: usize) -> Forecast {
    let mean = m.expected_purchases(c, duration);
    let cap = pmf_cap(mean).max(n_max);
    Forecast {
        mean,
        pmf: m.purchase_pmf(c, duration, cap),
        cumulative: period_ends(duration).iter().map(|&t| m.expected_purchases(c, t)).collect(),
    }
}

/// Naive baseline: the calibration purchase rate x/T continued, Poisson around it.
fn naive_forecast(c: &Rfm, duration: f64, n_max: usize) -> Forecast {
    let rate = if c.t > 0.0 { c.x / c.t } else { 0.0 };
    let cumulative = period_ends(duration).iter().map(|t| rate * t).collect();
    poisson_forecast(rate * duration, n_max, cumulative)
}

/// A mean with a Poisson predictive distribution around it.
fn poisson_forecast(mean: f64, n_max: usize, cumulative: Vec<f64>) -> Forecast {
    let cap = pmf_cap(mean).max(n_max);
    Forecast { mean, pmf: (0..=cap).map(|n| poisson_pmf(n, mean)).collect(), cumulative }
}

impl HoldoutReport {
    /// Add a model scored from per-customer mean forecasts made elsewhere (a learned model), one per
    /// row of `split`, in its order. Its predictive distribution is Poisson around each mean (for the
    /// log score and the median forecast); its tracking curve has the shape of Pareto/NBD's (else
    /// the first model's) — the boosted trees forecast the holdout's total, not its path. Listed
    /// before the naive baseline.
    pub fn add_means(&mut self, model: ModelId, split: &HoldoutSplit, means: &[f64]) {
        let shape = self.models.iter().find(|m| m.model == ModelId::Pnbd).or(self.models.first());
        let fraction: Vec<f64> = shape
            .map(|m| {
                m.tracking.iter().map(|c| if m.predicted_total > 0.0 { c / m.predicted_total } else { 0.0 }).collect()
            })
            .unwrap_or_default();
        let forecasts = means
            .iter()
            .zip(&split.rows)
            .map(|(m, a)| poisson_forecast(*m, a.holdout_frequency as usize, fraction.iter().map(|f| m * f).collect()))
            .collect();
        self.add_forecasts(model, split, forecasts);
    }

    /// Add a model that simulated each customer's paths (the sequence model): per row of `split`,
    /// each path's expected purchase days — the predictive distribution is the mixture of Poissons
    /// around them — and the expected cumulative purchase days at the end of each week after the
    /// cutoff, which give its own tracking curve. Listed before the naive baseline.
    pub fn add_paths<'a>(
        &mut self,
        model: ModelId,
        split: &HoldoutSplit,
        rows: impl Iterator<Item = (&'a [f64], &'a [f64])>,
    ) {
        let weeks_at: Vec<f64> =
            period_ends(split.duration).iter().map(|t| t * split.calibration.unit.days() / 7.0).collect();
        let forecasts = rows
            .zip(&split.rows)
            .map(|((paths, weekly), actual)| {
                let mean = paths.iter().sum::<f64>() / paths.len().max(1) as f64;
                let cap = pmf_cap(paths.iter().copied().fold(0.0, f64::max)).max(actual.holdout_frequency as usize);
                let pmf = (0..=cap)
                    .map(|n| paths.iter().map(|&m| poisson_pmf(n, m)).sum::<f64>() / paths.len().max(1) as f64)
                    .collect();
                Forecast {
                    mean,
                    pmf,
                    cumulative: weeks_at.iter().map(|&w| crate::learned::sequence::cumulative_at(weekly, w)).collect(),
                }
            })
            .collect();
        self.add_forecasts(model, split, forecasts);
    }

    fn add_forecasts(&mut self, model: ModelId, split: &HoldoutSplit, forecasts: Vec<Forecast>) {
        let rows: Vec<Rfm> =
            split.calibration.rows.iter().map(|r| Rfm::new(f64::from(r.frequency), r.recency, r.t)).collect();
        let actual: Vec<f64> = split.rows.iter().map(|r| f64::from(r.holdout_frequency)).collect();
        let scored = score(model, &rows, &forecasts.iter().collect::<Vec<_>>(), &actual, &vec![1.0; rows.len()], None);
        let at = self.models.iter().position(|m| m.model == ModelId::Naive).unwrap_or(self.models.len());
        self.models.insert(at, scored);
        for (point, k) in self.tracking.iter_mut().zip(0..) {
            let value = self.models[at].tracking.get(k).copied().unwrap_or(0.0);
            point.predicted.insert(at.min(point.predicted.len()), (model, value));
        }
    }
}

/// Poisson probability of `n` at mean `mean` (1 at n = 0 for a zero mean).
fn poisson_pmf(n: usize, mean: f64) -> f64 {
    if mean == 0.0 {
        return f64::from(u8::from(n == 0));
    }
    let nf = n as f64;
    (nf * mean.ln() - mean - ln_gamma(nf + 1.0)).exp()
}

fn score(
    name: ModelId,
    rows: &[Rfm],
    forecasts: &[&Forecast],
    actual: &[f64],
    weights: &[f64],
    fit: Option<FitReport>,
) -> ModelScore {
    let (by_f, f_names) = frequency_groups(rows);
    let (by_r, r_names) = recency_groups(rows);
    // Expand weights (integral in practice) by repeating pairs: metrics stay
    // exactly the per-customer definitions.
    let mut pred = Vec::new();
    let mut med = Vec::new();
    let mut act = Vec::new();
    let mut log_score = 0.0;
    for ((f, a), w) in forecasts.iter().zip(actual).zip(weights) {
        let n = w.round().max(0.0) as usize;
        let m = f64::from(summarise_pmf(&f.pmf).median);
        let p = f.pmf.get(*a as usize).copied().unwrap_or(0.0).max(1e-300);
        for _ in 0..n {
            pred.push(f.mean);
            med.push(m);
            act.push(*a);
        }
        log_score += n as f64 * p.ln();
    }
    let n = act.len().max(1);
    let periods = forecasts.first().map_or(0, |f| f.cumulative.len());
    let tracking =
        (0..periods).map(|k| crate::total(forecasts.iter().zip(weights).map(|(f, w)| w * f.cumulative[k]))).collect();
    ModelScore {
        model: name,
        converged: fit.as_ref().is_none_or(|f| f.convergence.converged),
        mae: mae(&pred, &act),
        mae_median: mae(&med, &act),
        rmse: rmse(&pred, &act),
        bias: bias_percent(&pred, &act),
        pearson: pearson(&pred, &act),
        spearman: spearman(&pred, &act),
        gini: gini(&pred, &act),
        log_score: log_score / n as f64,
        predicted_total: crate::total(pred.iter().copied()),
        deciles: deciles(&pred, &act),
        by_frequency: conditional(&by_f, &f_names, forecasts, actual, weights),
        by_recency: conditional(&by_r, &r_names, forecasts, actual, weights),
        tracking,
        fit,
    }
}

fn deciles(pred: &[f64], act: &[f64]) -> Vec<Decile> {
    let mut idx: Vec<usize> = (0..pred.len()).collect();
    idx.sort_by(|&a, &b| pred[b].total_cmp(&pred[a]));
    let n = idx.len();
    (0..10)
        .filter_map(|d| {
            let group = &idx[d * n / 10..(d + 1) * n / 10];
            (!group.is_empty()).then(|| Decile {
                decile: d as u32 + 1,
                customers: group.len(),
                predicted: crate::total(group.iter().map(|&i| pred[i])) / group.len() as f64,
                actual: crate::total(group.iter().map(|&i| act[i])) / group.len() as f64,
            })
        })
        .collect()
}

/// Fit each model on the calibration summary and score it on the holdout.
pub fn evaluate(
    split: &HoldoutSplit,
    tx: &Transactions,
    kinds: &[ModelKind],
    opts: &FitOptions,
) -> Result<HoldoutReport, ModelError> {
    let customers = Customers::from_summary(&split.calibration, tx);
    if customers.rfm.is_empty() {
        return Err(ModelError::NoData);
    }
    // Score per distinct (x, t_x, T, actual): identical customers are computed once.
    let mut groups: FxHashMap<[u64; 4], usize> = FxHashMap::default();
    let (mut rows, mut actual, mut weights) = (Vec::new(), Vec::new(), Vec::new());
    for (r, h) in customers.rfm.iter().zip(&split.rows) {
        let a = f64::from(h.holdout_frequency);
        let key = [r.x.to_bits(), r.t_x.to_bits(), r.t.to_bits(), a.to_bits()];
        match groups.get(&key) {
            Some(&i) => weights[i] += 1.0,
            None => {
                groups.insert(key, rows.len());
                rows.push(*r);
                actual.push(a);
                weights.push(1.0);
            }
        }
    }
    let d = split.duration;
    // The one convergence policy (`fit_models`): a fit that is not a result is not scored.
    let set = fit_models(kinds, false, &customers, opts, &mut |_, _, _| {});
    let mut models: Vec<ModelScore> = set
        .fitted
        .iter()
        .map(|(kind, m)| {
            let fc: Vec<Forecast> =
                rows.iter().zip(&actual).map(|(r, a)| model_forecast(m.as_count(), r, d, *a as usize)).collect();
            let report = set.reports.iter().find(|r| r.model == kind.id()).cloned();
            score(kind.id(), &rows, &fc.iter().collect::<Vec<_>>(), &actual, &weights, report)
        })
        .collect();
    let failed = set.failed.iter().map(|(k, why)| (k.id(), why.clone())).collect();
    let naive: Vec<Forecast> = rows.iter().zip(&actual).map(|(r, a)| naive_forecast(r, d, *a as usize)).collect();
    models.push(score(ModelId::Naive, &rows, &naive.iter().collect::<Vec<_>>(), &actual, &weights, None));
    let frame = crate::tracking::TrackingFrame::build(tx, split.cutoff, split.holdout_end_day, split.calibration.unit);
    let from_acquisition = AcquisitionTracking {
        expected: set.fitted.iter().map(|(k, m)| (k.id(), frame.expected_cumulative(m.as_count()))).collect(),
        periods: frame.periods,
    };
    let mut cumulative = 0.0;
    let tracking = split
        .per_period
        .iter()
        .enumerate()
        .map(|(k, n)| {
            cumulative += *n as f64;
            TrackingPoint {
                period: k + 1,
                actual: cumulative,
                predicted: models.iter().map(|m| (m.model, m.tracking.get(k).copied().unwrap_or(0.0))).collect(),
            }
        })
        .collect();
    Ok(HoldoutReport {
        duration: d,
        customers: customers.rfm.len(),
        actual_total: crate::total(actual.iter().zip(&weights).map(|(a, w)| a * w)),
        models,
        tracking,
        guide: METRIC_GUIDE.to_string(),
        failed,
        from_acquisition,
        learned: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A weekly cumulative curve read at period ends in other units: 0 at week 0, linear within a
    /// week, flat after its last week; a Poisson pmf by hand.
    #[test]
    fn weekly_curves_are_read_between_weeks_and_poisson_by_hand() {
        use crate::learned::sequence::cumulative_at;
        let weekly = [1.0, 3.0];
        assert_eq!(cumulative_at(&weekly, 0.5), 0.5);
        assert_eq!(cumulative_at(&weekly, 1.0), 1.0);
        assert_eq!(cumulative_at(&weekly, 1.5), 2.0);
        assert_eq!(cumulative_at(&weekly, 5.0), 3.0);
        assert_eq!(cumulative_at(&[], 2.0), 0.0);
        assert!((poisson_pmf(2, 1.5) - 1.5f64.powi(2) / 2.0 * (-1.5f64).exp()).abs() < 1e-15);
        assert_eq!((poisson_pmf(0, 0.0), poisson_pmf(1, 0.0)), (1.0, 0.0));
    }

    fn rfm(x: f64, t_x: f64, t: f64) -> Rfm {
        Rfm { x, t_x, t }
    }

    /// Hand-computed: the longest T is 70, so recency ranges are 10 wide; weights count
    /// customers; each group's means are weighted means.
    #[test]
    fn conditional_expectations_group_by_frequency_and_recency() {
        let rows = [rfm(0.0, 0.0, 70.0), rfm(1.0, 5.0, 70.0), rfm(9.0, 69.0, 70.0), rfm(2.0, 12.0, 30.0)];
        let (f, f_names) = frequency_groups(&rows);
        assert_eq!(f, [0, 1, 7, 2]);
        assert_eq!(f_names.last().unwrap(), "7+");
        let (r, r_names) = recency_groups(&rows);
        assert_eq!(r, [0, 1, 7, 2]);
        assert_eq!(
            (r_names[0].as_str(), r_names[1].as_str(), r_names[7].as_str()),
            ("no repeat purchase", "0–10", "60–70")
        );
        let fc: Vec<Forecast> =
            [0.1, 0.5, 4.0, 1.0].iter().map(|&mean| Forecast { mean, pmf: vec![], cumulative: vec![] }).collect();
        let refs: Vec<&Forecast> = fc.iter().collect();
        let c = conditional(&r, &r_names, &refs, &[0.0, 1.0, 5.0, 2.0], &[3.0, 1.0, 1.0, 1.0]);
        assert_eq!(
            c.iter().map(|g| g.group.as_str()).collect::<Vec<_>>(),
            ["no repeat purchase", "0–10", "10–20", "60–70"]
        );
        assert_eq!((c[0].customers, c[0].actual), (3.0, 0.0));
        assert!((c[0].predicted - 0.1).abs() < 1e-15);
        assert_eq!((c[3].customers, c[3].predicted, c[3].actual), (1.0, 4.0, 5.0));
    }
}
