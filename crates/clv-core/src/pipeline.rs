//! The steps the CLI and the browser worker share: customers → fitted models
//! (with warnings a user can act on) → per-customer predictions → CSV. One
//! implementation, so the page's export equals the CLI's output.

use crate::clv::{value_customers, ClvParams, CustomerValue};
use crate::export::CsvSafety;
use crate::features::{RfmSummary, SummaryInput};
use crate::ingest::Transactions;
use crate::limits::MAX_PERIODS;
use crate::models::gamma_gamma::{frequency_spend_correlation, Spend};
use crate::models::given::{GivenError, GivenParams, ModelCard};
use crate::models::{
    fit, BgBb, BgNbd, CountModel, FitOptions, FitReport, GammaGamma, GammaGompertzNbd, Likelihood, MbgNbd, ModelError,
    ModelId, ParetoNbd, Rfm, Weighted,
};
use crate::time::TimeUnit;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The count models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// BG/NBD (Fader, Hardie & Lee 2005): continuous time, dropout only right after a repeat purchase.
    Bgnbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987): continuous time, dropout at any time.
    Pnbd,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD that may also drop out at the first purchase.
    Mbgnbd,
    /// Gamma–Gompertz/NBD (Bemmaor & Glady 2012): Pareto/NBD whose risk of leaving grows (or stays
    /// constant) with the customer's age.
    Ggomnbd,
    /// BG/BB (Fader, Hardie & Shang 2010): discrete time, one purchase opportunity per period of the
    /// time unit; `T` is the number of periods.
    Bgbb,
}

impl ModelKind {
    /// The continuous-time models with closed-form likelihoods, in the order the page shows them:
    /// what `clv compare`, `clv holdout` and the page fit by default. Gamma–Gompertz/NBD is asked
    /// for by name: it integrates numerically per distinct customer (~7× the time of Pareto/NBD on
    /// CDNOW, far more at the edges of its parameter space).
    pub const CONTINUOUS: [ModelKind; 3] = [ModelKind::Bgnbd, ModelKind::Pnbd, ModelKind::Mbgnbd];

    /// The model's [`ModelId`].
    pub fn id(self) -> ModelId {
        match self {
            ModelKind::Bgnbd => ModelId::Bgnbd,
            ModelKind::Pnbd => ModelId::Pnbd,
            ModelKind::Mbgnbd => ModelId::Mbgnbd,
            ModelKind::Ggomnbd => ModelId::Ggomnbd,
            ModelKind::Bgbb => ModelId::Bgbb,
        }
    }

    /// The count model `id` names, if it names one.
    pub fn from_id(id: ModelId) -> Option<ModelKind> {
        [ModelKind::Bgnbd, ModelKind::Pnbd, ModelKind::Mbgnbd, ModelKind::Ggomnbd, ModelKind::Bgbb]
            .into_iter()
            .find(|k| k.id() == id)
    }

    /// The model's code (`bgnbd`, `pnbd`, `mbgnbd`, `ggomnbd`, `bgbb`): the CLI's `--model`, exports and file names.
    pub fn code(self) -> &'static str {
        self.id().code()
    }
}

impl FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let id: ModelId = s.parse()?;
        ModelKind::from_id(id).ok_or_else(|| {
            format!("{} is not a count model: expected bgnbd, pnbd, mbgnbd, ggomnbd or bgbb", id.label())
        })
    }
}

/// A fitted count model of any kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum AnyModel {
    /// A fitted BG/NBD.
    Bgnbd(BgNbd),
    /// A fitted Pareto/NBD.
    Pnbd(ParetoNbd),
    /// A fitted MBG/NBD.
    Mbgnbd(MbgNbd),
    /// A fitted Gamma–Gompertz/NBD.
    Ggomnbd(GammaGompertzNbd),
    /// A fitted BG/BB.
    Bgbb(BgBb),
}

impl AnyModel {
    /// A `kind` model at parameters the user gives (no fit): see [`crate::models::given`].
    pub fn at(kind: ModelKind, given: &GivenParams) -> Result<AnyModel, GivenError> {
        Ok(match kind {
            ModelKind::Bgnbd => AnyModel::Bgnbd(given.model()?),
            ModelKind::Pnbd => AnyModel::Pnbd(given.model()?),
            ModelKind::Mbgnbd => AnyModel::Mbgnbd(given.model()?),
            ModelKind::Ggomnbd => AnyModel::Ggomnbd(given.model()?),
            ModelKind::Bgbb => AnyModel::Bgbb(given.model()?),
        })
    }

    /// A fitted `kind` model rebuilt from its estimates (in the model's parameter order) through its
    /// validating constructor: how a fit made in another worker comes back ([`StepOutcome`]).
    pub fn from_params(kind: ModelKind, p: &[f64]) -> Result<AnyModel, ModelError> {
        Ok(match kind {
            ModelKind::Bgnbd => AnyModel::Bgnbd(BgNbd::from_params(p)?),
            ModelKind::Pnbd => AnyModel::Pnbd(ParetoNbd::from_params(p)?),
            ModelKind::Mbgnbd => AnyModel::Mbgnbd(MbgNbd::from_params(p)?),
            ModelKind::Ggomnbd => AnyModel::Ggomnbd(GammaGompertzNbd::from_params(p)?),
            ModelKind::Bgbb => AnyModel::Bgbb(BgBb::from_params(p)?),
        })
    }

    /// The estimates in the model's parameter order.
    pub fn params(&self) -> Vec<f64> {
        match self {
            AnyModel::Bgnbd(m) => m.params(),
            AnyModel::Pnbd(m) => m.params(),
            AnyModel::Mbgnbd(m) => m.params(),
            AnyModel::Ggomnbd(m) => m.params(),
            AnyModel::Bgbb(m) => m.params(),
        }
    }

    /// Which model this is.
    pub fn kind(&self) -> ModelKind {
        match self {
            AnyModel::Bgnbd(_) => ModelKind::Bgnbd,
            AnyModel::Pnbd(_) => ModelKind::Pnbd,
            AnyModel::Mbgnbd(_) => ModelKind::Mbgnbd,
            AnyModel::Ggomnbd(_) => ModelKind::Ggomnbd,
            AnyModel::Bgbb(_) => ModelKind::Bgbb,
        }
    }

    /// The parameters by name, in the model's order.
    pub fn named_params(&self) -> Vec<(String, f64)> {
        match self {
            AnyModel::Bgnbd(m) => named_params(m),
            AnyModel::Pnbd(m) => named_params(m),
            AnyModel::Mbgnbd(m) => named_params(m),
            AnyModel::Ggomnbd(m) => named_params(m),
            AnyModel::Bgbb(m) => named_params(m),
        }
    }

    /// The model behind the common prediction interface, whatever its kind.
    pub fn as_count(&self) -> &dyn CountModel {
        match self {
            AnyModel::Bgnbd(m) => m,
            AnyModel::Pnbd(m) => m,
            AnyModel::Mbgnbd(m) => m,
            AnyModel::Ggomnbd(m) => m,
            AnyModel::Bgbb(m) => m,
        }
    }
}

/// A model's parameters by name, in its order.
pub fn named_params<M: Likelihood>(m: &M) -> Vec<(String, f64)> {
    M::PARAMS.iter().map(|n| n.to_string()).zip(m.params()).collect()
}

/// Why Gamma–Gamma is not fitted on a histogram.
pub const HISTOGRAM_SPEND: &str = "this is a histogram: it holds each group's total spend, and Gamma–Gamma needs each \
     customer's own mean spend. Fit Gamma–Gamma on the spend histogram (`clv sql --emit spend`, \
     `clv fit --model gg`) and give it as a model card or --spend-params";

/// Customers ready for modelling, from transactions or a summary file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Customers {
    /// Customer ids (a summary file's row number when it has no id column); the other fields are index
    /// for index with this.
    pub ids: Vec<String>,
    /// Each customer's `(x, t_x, T)` in the model's time unit (BG/BB: transactions, last period, periods).
    pub rfm: Vec<Rfm>,
    /// Mean net amount of the repeat purchases (`monetary_value`), 0 without repeats: what Gamma–Gamma
    /// learns from.
    pub monetary: Vec<f64>,
    /// How many customers each entry stands for: 1 from transactions, a summary file's weight column.
    pub weights: Vec<f64>,
    /// `monetary` is each row's group mean, not a customer's own mean (a histogram: `sum_monetary /
    /// count`): right for totals, but Gamma–Gamma, which needs each customer's own mean, refuses it.
    pub monetary_is_group_mean: bool,
}

impl Customers {
    /// The customers of a BTYD summary built from `tx` (the ids looked up there), each of weight 1.
    pub fn from_summary(s: &RfmSummary, tx: &Transactions) -> Customers {
        Customers {
            ids: s.rows.iter().map(|r| tx.id(r.customer).to_string()).collect(),
            rfm: s.rows.iter().map(|r| Rfm::new(f64::from(r.frequency), r.recency, r.t)).collect(),
            monetary: s.rows.iter().map(|r| r.monetary_value).collect(),
            weights: vec![1.0; s.rows.len()],
            monetary_is_group_mean: false,
        }
    }

    /// The rows of a summary file as read, with its weights; times stay in the file's unit.
    pub fn from_input(s: &SummaryInput) -> Customers {
        Customers {
            ids: s.rows.iter().map(|r| r.user_id.clone()).collect(),
            rfm: s.rows.iter().map(|r| Rfm::new(r.frequency, r.recency, r.t)).collect(),
            monetary: s.rows.iter().map(|r| r.monetary_value).collect(),
            weights: s.rows.iter().map(|r| r.weight).collect(),
            monetary_is_group_mean: s.histogram,
        }
    }

    /// The `(x, t_x, T)` rows with their weights, identical rows merged: what a count model is fitted on.
    pub fn weighted(&self) -> Weighted<Rfm> {
        Weighted::from_weighted(self.rfm.iter().copied().zip(self.weights.iter().copied()))
    }

    /// How many customers in all: the sum of the weights.
    pub fn total(&self) -> f64 {
        crate::total(self.weights.iter().copied())
    }

    fn repeat_buyers(&self) -> f64 {
        crate::total(self.rfm.iter().zip(&self.weights).filter(|(r, _)| r.x > 0.0).map(|(_, w)| *w))
    }
}

/// Below this many repeat buyers the estimates are mostly prior shape.
pub const FEW_REPEAT_BUYERS: f64 = 50.0;

/// Sizes the model code loops over, checked before a fit (and, with `clv`,
/// a prediction): a BG/BB row's periods ([`MAX_PERIODS`]) and prediction
/// horizon ([`ClvParams::check_discrete`]). [`fit_count`] checks the
/// periods itself; call this with `clv` before predicting.
pub fn check_sizes(kind: ModelKind, c: &Customers, clv: Option<&ClvParams>) -> Result<(), ModelError> {
    if kind != ModelKind::Bgbb {
        return Ok(());
    }
    check_periods(c)?;
    clv.map_or(Ok(()), |p| p.check_discrete().map_err(|e| ModelError::InvalidOption(e.to_string())))
}

fn check_periods(c: &Customers) -> Result<(), ModelError> {
    match c.rfm.iter().enumerate().find(|(_, r)| r.t.is_nan() || r.t > MAX_PERIODS) {
        Some((i, r)) => Err(ModelError::InvalidData(format!(
            "customer {} has n = {} periods; BG/BB sums over every period after the last transaction, so n may be at most {MAX_PERIODS}: use a coarser --unit",
            // A fit helper's customers come without ids (a fit reads none): name the row then.
            c.ids.get(i).map_or_else(|| format!("in row {}", i + 1), |id| format!("{id:?}")),
            r.t
        ))),
        None => Ok(()),
    }
}

/// Fit a count model chosen at run time, adding the warnings its user should read ([`fit_count_as`]).
pub fn fit_count(kind: ModelKind, c: &Customers, opts: &FitOptions) -> Result<(AnyModel, FitReport), ModelError> {
    match kind {
        ModelKind::Bgnbd => fit_count_as::<BgNbd>(c, opts).map(|(m, r)| (AnyModel::Bgnbd(m), r)),
        ModelKind::Pnbd => fit_count_as::<ParetoNbd>(c, opts).map(|(m, r)| (AnyModel::Pnbd(m), r)),
        ModelKind::Mbgnbd => fit_count_as::<MbgNbd>(c, opts).map(|(m, r)| (AnyModel::Mbgnbd(m), r)),
        ModelKind::Ggomnbd => fit_count_as::<GammaGompertzNbd>(c, opts).map(|(m, r)| (AnyModel::Ggomnbd(m), r)),
        ModelKind::Bgbb => fit_count_as::<BgBb>(c, opts).map(|(m, r)| (AnyModel::Bgbb(m), r)),
    }
}

/// Fit the count model `M`, adding the warnings its user should read. A caller that knows its model
/// at compile time (the lesson, the widget) reaches only that model's code, not every model's.
pub fn fit_count_as<M: Likelihood<Row = Rfm>>(c: &Customers, opts: &FitOptions) -> Result<(M, FitReport), ModelError> {
    if M::ID == ModelId::Bgbb {
        check_periods(c)?;
    }
    // A customer whose first purchase is on the cutoff day has T = 0: their
    // likelihood is 1 under every model (nothing could have happened yet),
    // so they are left out of the fit — and still get predictions.
    let data = Weighted::from_weighted(c.rfm.iter().copied().zip(c.weights.iter().copied()).filter(|(r, _)| r.t > 0.0));
    let new_today = crate::total(c.rfm.iter().zip(&c.weights).filter(|(r, _)| r.t <= 0.0).map(|(_, w)| *w));
    let fitted = fit::<M>(&data, opts)?;
    let mut report = fitted.report;
    let (total, repeaters) = (c.total(), c.repeat_buyers());
    if new_today > 0.0 {
        report.warnings.push(format!(
            "{new_today} customers first bought on the cutoff day (T = 0): they carry no information for the fit and are left out of it; they still get predictions"
        ));
    }
    if repeaters < FEW_REPEAT_BUYERS {
        report.warnings.push(format!(
            "only {repeaters} customers made a repeat purchase: the estimates rest on very little information (see the standard errors)"
        ));
    }
    if M::ID == ModelId::Bgnbd && repeaters < total {
        report.warnings.push(format!(
            "{} of {} customers ({:.0}%) made no repeat purchase: BG/NBD gives them P(alive) = 1 by construction, because it lets customers drop out only right after a repeat purchase. MBG/NBD and Pareto/NBD do not assume this; compare them.",
            total - repeaters,
            total,
            100.0 * (total - repeaters) / total
        ));
    }
    report.warnings.extend(report.convergence.not_a_result());
    Ok((fitted.model, report))
}

/// Fit Gamma–Gamma on the repeat buyers with positive mean spend; say who
/// was left out and whether the independence assumption looks violated.
pub fn fit_spend(c: &Customers, opts: &FitOptions) -> Result<(GammaGamma, FitReport), ModelError> {
    if c.monetary_is_group_mean {
        return Err(ModelError::InvalidData(HISTOGRAM_SPEND.into()));
    }
    let rows: Vec<(f64, f64, f64)> =
        c.rfm.iter().zip(&c.monetary).zip(&c.weights).map(|((r, m), w)| (r.x, *m, *w)).collect();
    fit_spend_rows(&rows, opts)
}

/// Gamma–Gamma on (x, mean spend, customers) rows: a spend histogram (`clv sql --emit spend`)
/// or [`fit_spend`]'s customers.
pub fn fit_spend_rows(customers: &[(f64, f64, f64)], opts: &FitOptions) -> Result<(GammaGamma, FitReport), ModelError> {
    let mut rows = Vec::new();
    let mut weights = Vec::new();
    let (mut one_time, mut non_positive) = (0.0, 0.0);
    for &(x, m, w) in customers {
        if x == 0.0 {
            one_time += w;
        } else if m.is_nan() || m <= 0.0 {
            non_positive += w;
        } else {
            rows.push(Spend { x, mean: m });
            weights.push(w);
        }
    }
    if rows.is_empty() {
        // Every mean spend 0 is what a file of counts only (no amount column) gives.
        let why = if customers.iter().all(|c| c.1 == 0.0) {
            "no spend to learn from: every customer's mean spend is 0 (a file without an amount column counts \
             purchases only), so Gamma–Gamma, spend and CLV in money cannot be estimated"
        } else {
            "no repeat buyer with a positive mean spend: Gamma–Gamma has nothing to learn from"
        };
        return Err(ModelError::InvalidData(why.into()));
    }
    let corr = frequency_spend_correlation(&rows);
    let f = fit::<GammaGamma>(&Weighted { rows, weights }, opts)?;
    let mut report = f.report;
    report.warnings.push(format!(
        "fitted on {} repeat buyers; {one_time} one-time buyers get the population mean spend (backfilled)",
        report.n_customers
    ));
    if non_positive > 0.0 {
        report.warnings.push(format!(
            "{non_positive} repeat buyers with zero or negative mean spend (refunds netted) were excluded"
        ));
    }
    if let Some(rho) = corr.filter(|r| r.abs() > 0.3) {
        report.warnings.push(format!(
            "frequency and mean spend are correlated (Pearson {rho:.2}): Gamma–Gamma assumes they are independent, so its spend predictions are biased for this data"
        ));
    }
    if f.model.population_mean().is_none() {
        report.warnings.push("q ≤ 1: the population mean spend is infinite; backfilled spends are set to 0".into());
    }
    report.warnings.extend(report.convergence.not_a_result());
    Ok((f.model, report))
}

/// The requested models fitted under the one convergence policy: a fit
/// that did not converge keeps its report (to be shown as what it is) but
/// is never used for predictions, values or scores.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSet {
    /// The report of every count-model fit that ran, converged or not, in request order.
    pub reports: Vec<FitReport>,
    /// The converged count models: the only ones anything is computed from.
    pub fitted: Vec<(ModelKind, AnyModel)>,
    /// The count models without a result, and why: an error before fitting,
    /// or the convergence message of a fit that is not a result.
    pub failed: Vec<(ModelKind, String)>,
    /// Gamma–Gamma, when it was asked for.
    pub spend: Option<SpendFit>,
}

/// The spend model's outcome: the model only when its fit converged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpendFit {
    /// The fitted Gamma–Gamma; `None` when the fit failed or did not converge.
    pub model: Option<GammaGamma>,
    /// Absent when the fit could not start (no repeat buyer with a positive spend).
    pub report: Option<FitReport>,
    /// Why there is no model, in words.
    pub error: Option<String>,
}

/// Which fit is running: (model, position from 1, how many in all).
pub type FitProgress<'a> = &'a mut dyn FnMut(ModelId, usize, usize);

/// One fit of [`fit_models`]: self-contained, so that the page can run the steps of one request in
/// several workers at once and [`assemble`] their outcomes into the same [`ModelSet`] a single thread
/// makes (each fit is the same code on the same rows, so its digits do not depend on where it ran).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FitStep {
    /// A count model.
    Count(ModelKind),
    /// Gamma–Gamma on the repeat buyers' mean spends.
    Spend,
}

impl FitStep {
    /// The steps of fitting `kinds` (and Gamma–Gamma when `spend`), in the order their results are reported.
    pub fn all(kinds: &[ModelKind], spend: bool) -> Vec<FitStep> {
        kinds.iter().map(|&k| FitStep::Count(k)).chain(spend.then_some(FitStep::Spend)).collect()
    }

    /// Which model the step fits.
    pub fn id(self) -> ModelId {
        match self {
            FitStep::Count(kind) => kind.id(),
            FitStep::Spend => ModelId::Gg,
        }
    }

    /// Rough cost of one fit relative to BG/NBD's on the same customers (measured on 1M simulated
    /// customers), so that a pool of workers can start the longest first.
    pub fn relative_cost(self) -> f64 {
        match self {
            FitStep::Count(ModelKind::Ggomnbd) => 4.0,
            FitStep::Count(ModelKind::Pnbd) => 1.7,
            FitStep::Count(ModelKind::Mbgnbd) => 1.5,
            FitStep::Count(ModelKind::Bgnbd) | FitStep::Count(ModelKind::Bgbb) => 1.0,
            FitStep::Spend => 0.5,
        }
    }

    /// Run the fit: [`fit_count`] or [`fit_spend`], with the same warnings.
    pub fn run(self, c: &Customers, opts: &FitOptions) -> StepOutcome {
        let fitted = match self {
            FitStep::Count(kind) => fit_count(kind, c, opts).map(|(m, r)| (m.params(), r)),
            FitStep::Spend => fit_spend(c, opts).map(|(g, r)| (g.params(), r)),
        };
        match fitted {
            Ok((params, report)) => StepOutcome::Fitted { params, report: Box::new(report) },
            Err(e) => StepOutcome::Failed(e.to_string()),
        }
    }
}

/// What one [`FitStep`] gave, as plain data that can cross a worker boundary: the estimates (the model
/// is rebuilt from them through its validating constructor) with the fit's report, or why there is no fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StepOutcome {
    /// The fit ran; `report.convergence` says whether it is a result.
    Fitted {
        /// The estimates in the model's parameter order.
        params: Vec<f64>,
        /// The fit's report, warnings included.
        report: Box<FitReport>,
    },
    /// The fit could not run (an error before fitting), in words.
    Failed(String),
}

/// Fit `kinds` (and Gamma–Gamma when `spend`) on `c`, each under the same
/// rules, calling `progress` before each fit.
pub fn fit_models(
    kinds: &[ModelKind],
    spend: bool,
    c: &Customers,
    opts: &FitOptions,
    progress: FitProgress<'_>,
) -> ModelSet {
    let steps = FitStep::all(kinds, spend);
    let outcomes = run_steps(&steps, c, opts, progress);
    assemble(&steps, outcomes)
}

/// Run `steps` on `c` one after another, calling `progress` before each.
pub fn run_steps(steps: &[FitStep], c: &Customers, opts: &FitOptions, progress: FitProgress<'_>) -> Vec<StepOutcome> {
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            progress(step.id(), i + 1, steps.len());
            step.run(c, opts)
        })
        .collect()
}

/// The [`ModelSet`] of `steps` from their outcomes (index for index, wherever each ran): a count fit
/// that did not converge keeps its report and is named among the failures; Gamma–Gamma likewise.
pub fn assemble(steps: &[FitStep], outcomes: Vec<StepOutcome>) -> ModelSet {
    let mut set = ModelSet { reports: Vec::new(), fitted: Vec::new(), failed: Vec::new(), spend: None };
    for (&step, outcome) in steps.iter().zip(outcomes) {
        match (step, outcome) {
            (FitStep::Count(kind), StepOutcome::Fitted { params, report }) => {
                if !report.convergence.converged {
                    set.failed.push((kind, report.convergence.message.clone()));
                } else {
                    match AnyModel::from_params(kind, &params) {
                        Ok(m) => set.fitted.push((kind, m)),
                        Err(e) => set.failed.push((kind, e.to_string())),
                    }
                }
                set.reports.push(*report);
            }
            (FitStep::Count(kind), StepOutcome::Failed(why)) => set.failed.push((kind, why)),
            (FitStep::Spend, StepOutcome::Fitted { params, report }) => {
                set.spend = Some(if report.convergence.converged {
                    match GammaGamma::from_params(&params) {
                        Ok(g) => SpendFit { model: Some(g), report: Some(*report), error: None },
                        Err(e) => SpendFit { model: None, report: Some(*report), error: Some(e.to_string()) },
                    }
                } else {
                    let error =
                        format!("Gamma–Gamma is {}: {}", report.convergence.status(), report.convergence.message);
                    SpendFit { model: None, report: Some(*report), error: Some(error) }
                });
            }
            (FitStep::Spend, StepOutcome::Failed(why)) => {
                set.spend = Some(SpendFit { model: None, report: None, error: Some(why) });
            }
        }
    }
    set
}

/// Models a person supplies instead of fitting them (`clv predict
/// --model-card`, the page's "Use model cards"): count models, one per kind,
/// and Gamma–Gamma. What is given is used as given; the rest is fitted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GivenModels {
    /// Count models at given parameters, in the order given.
    pub count: Vec<(ModelKind, AnyModel)>,
    /// Gamma–Gamma at given parameters.
    pub spend: Option<GammaGamma>,
}

impl GivenModels {
    /// Add the model on `card` for data in `unit`s; `source` (a file name)
    /// begins every error. A card of a fit that did not converge, of another
    /// time unit, or a second card of one model is refused.
    pub fn add_card(&mut self, source: &str, card: &ModelCard, unit: TimeUnit) -> Result<(), String> {
        let p = card.params_for(unit).map_err(|e| format!("{source}: {e}"))?;
        match ModelKind::from_id(card.model) {
            Some(kind) if !self.count.iter().any(|(k, _)| *k == kind) => {
                self.count.push((kind, AnyModel::at(kind, &p).map_err(|e| format!("{source}: {e}"))?));
            }
            None if card.model == ModelId::Gg && self.spend.is_none() => {
                self.spend = Some(p.model().map_err(|e| format!("{source}: {e}"))?);
            }
            _ => return Err(format!("{source}: a second {} model card: give one card per model", card.model)),
        }
        Ok(())
    }

    /// Whether nothing was given.
    pub fn is_empty(&self) -> bool {
        self.count.is_empty() && self.spend.is_none()
    }

    /// The parameters of the given `model`, by name in the model's order.
    pub fn named_params(&self, model: ModelId) -> Option<Vec<(String, f64)>> {
        match ModelKind::from_id(model) {
            Some(kind) => self.count.iter().find(|(k, _)| *k == kind).map(|(_, m)| m.named_params()),
            None => self.spend.as_ref().filter(|_| model == ModelId::Gg).map(named_params),
        }
    }

    /// `set` with the given models added: given count models beside the
    /// fitted ones (a kind fitted too is replaced), a given Gamma–Gamma instead of any fitted one.
    pub fn into_set(self, mut set: ModelSet) -> ModelSet {
        for (kind, m) in self.count {
            set.fitted.retain(|(k, _)| *k != kind);
            set.fitted.push((kind, m));
        }
        if let Some(g) = self.spend {
            set.spend = Some(SpendFit { model: Some(g), report: None, error: None });
        }
        set
    }
}

impl ModelSet {
    /// The converged fit of `kind`, or words saying why there is none.
    pub fn model(&self, kind: ModelKind) -> Result<&AnyModel, String> {
        if let Some((_, m)) = self.fitted.iter().find(|(k, _)| *k == kind) {
            return Ok(m);
        }
        let why = self.failed.iter().find(|(k, _)| *k == kind).map_or("it was not fitted", |(_, w)| w.as_str());
        Err(format!("{}: {why}; nothing is computed from a fit that is not a result", kind.code()))
    }

    /// The converged spend model, if one was fitted.
    pub fn spend_model(&self) -> Option<&GammaGamma> {
        self.spend.as_ref().and_then(|s| s.model.as_ref())
    }
}

/// One bar pair of the papers' calibration plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyBin {
    /// "0", "1", …, or "7+" for the last bin.
    pub repeat_purchases: String,
    /// Customers (weighted) with this many repeat purchases in the calibration period.
    pub actual: f64,
    /// Customers the model expects with this many: Σᵢ P(X(Tᵢ) = x) for a new customer observed for `Tᵢ`.
    pub expected: f64,
}

/// Expected vs actual number of customers by repeat purchases in the
/// calibration period (FHL 2005, Figure 2): expected Σᵢ P(X(Tᵢ) = x).
pub fn frequency_fit(model: &dyn CountModel, c: &Customers, last: usize) -> Vec<FrequencyBin> {
    let mut actual = vec![0.0; last + 1];
    let mut expected = vec![0.0; last + 1];
    let mut by_t: rustc_hash::FxHashMap<u64, (f64, f64)> = Default::default();
    for (r, w) in c.rfm.iter().zip(&c.weights) {
        actual[(r.x as usize).min(last)] += w;
        by_t.entry(r.t.to_bits()).or_insert((r.t, 0.0)).1 += w;
    }
    for (t, w) in by_t.into_values() {
        let pmf = model.unconditional_pmf(t, last - 1);
        for (x, p) in pmf.iter().enumerate() {
            expected[x] += w * p;
        }
        expected[last] += w * (1.0 - crate::total(pmf.iter().copied())).max(0.0);
    }
    (0..=last)
        .map(|x| FrequencyBin {
            repeat_purchases: if x == last { format!("{last}+") } else { x.to_string() },
            actual: actual[x],
            expected: expected[x],
        })
        .collect()
}

/// One customer's prediction: the calibration summary it was made from and the value, as exported
/// (columns [`PREDICTION_COLUMNS`]). Times are in the model's time unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRow {
    /// The customer id.
    pub user_id: String,
    /// x: repeat purchases (BG/BB: transactions in the periods).
    pub frequency: f64,
    /// t_x: time from the first to the last purchase (BG/BB: the last period with a transaction).
    pub recency: f64,
    /// `T`: time from the first purchase to the cutoff (BG/BB: the number of periods).
    #[serde(rename = "T")]
    pub t: f64,
    /// P(alive), expected purchases and their interval, spend per purchase and CLV over the horizon.
    #[serde(flatten)]
    pub value: CustomerValue,
    /// Pareto/NBD only, with a positive discount rate: discounted expected
    /// residual transactions over the customer's whole remaining life.
    pub dert: Option<f64>,
    /// BG/BB only: P(alive at the start of the next period), beside `p_alive`
    /// (alive at the end of the last observed one) — BTYD's `bgbb.PAlive`.
    #[serde(default)]
    pub p_alive_next: Option<f64>,
}

/// Predict every customer of `c` with a fitted count model over `p`'s horizon, in `c`'s order. Each
/// purchase is valued by `spend` (Gamma–Gamma), or at 1 without it, so `clv` is then discounted
/// purchases. For BG/BB, [`check_sizes`] with `Some(p)` first: the horizon's periods are looped over.
pub fn predict(model: &AnyModel, spend: Option<&GammaGamma>, c: &Customers, p: &ClvParams) -> Vec<PredictionRow> {
    prediction_rows(c, predict_values(model, spend, &c.rfm, &c.monetary, p))
}

/// One customer's [`PredictionRow`] without the id and summary it is joined to: what [`predict`]
/// computes per customer. A customer's values do not depend on who else is predicted with them, so
/// a long list may be cut into pieces predicted anywhere (the page's helper workers) and joined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowValue {
    /// See [`PredictionRow::value`].
    pub value: CustomerValue,
    /// See [`PredictionRow::dert`].
    pub dert: Option<f64>,
    /// See [`PredictionRow::p_alive_next`].
    pub p_alive_next: Option<f64>,
}

/// [`predict`]'s numbers for the customers `(rfm, monetary)`, index for index.
pub fn predict_values(
    model: &AnyModel,
    spend: Option<&GammaGamma>,
    rfm: &[Rfm],
    monetary: &[f64],
    p: &ClvParams,
) -> Vec<RowValue> {
    let rows: Vec<(Rfm, f64)> = rfm.iter().copied().zip(monetary.iter().copied()).collect();
    let values = value_customers(model.as_count(), spend, &rows, p);
    // Pareto/NBD's DERT: P(alive), known, times a part that depends on T alone, computed once per T.
    let dert: Option<Vec<f64>> = match (model, p.continuous_rate()) {
        (AnyModel::Pnbd(m), Some(delta)) => {
            let (ts, slot) = crate::distinct(rfm, |r| r.t.to_bits());
            let integrals: Vec<f64> = ts.iter().map(|r| m.dert_integral(r.t, delta)).collect();
            Some(
                rfm.iter()
                    .zip(&values)
                    .zip(slot)
                    .map(|((r, v), k)| m.dert_at(r, v.p_alive, delta, integrals[k as usize]))
                    .collect(),
            )
        }
        _ => None,
    };
    values
        .into_iter()
        .zip(rfm)
        .enumerate()
        .map(|(i, (value, r))| RowValue {
            value,
            dert: dert.as_ref().map(|d| d[i]),
            p_alive_next: match model {
                AnyModel::Bgbb(m) => Some(m.p_alive_next(r)),
                _ => None,
            },
        })
        .collect()
}

/// The [`PredictionRow`]s of `c`'s customers from their [`RowValue`]s (index for index).
pub fn prediction_rows(c: &Customers, values: Vec<RowValue>) -> Vec<PredictionRow> {
    values
        .into_iter()
        .zip(c.ids.iter().zip(&c.rfm))
        .map(|(v, (id, r))| PredictionRow {
            user_id: id.clone(),
            frequency: r.x,
            recency: r.t_x,
            t: r.t,
            value: v.value,
            dert: v.dert,
            p_alive_next: v.p_alive_next,
        })
        .collect()
}

/// Header of [`predictions_csv`]: the [`PredictionRow`] fields with its `value` flattened and `txn`
/// split into `txn_median`, `txn_lower80` and `txn_upper80`; a `dert` cell is empty when there is none.
pub const PREDICTION_COLUMNS: [&str; 14] = [
    "user_id",
    "frequency",
    "recency",
    "T",
    "p_alive",
    "expected_txn",
    "expected_spend",
    "clv",
    "txn_median",
    "txn_lower80",
    "txn_upper80",
    "spend_backfilled",
    "dert",
    "p_alive_next",
];

/// Each customer's distribution of purchases over the next `t` model units
/// (in `c`'s order): P(Y = 0), …, P(Y = n_max), then P(Y > n_max), so every
/// row sums to 1. Computed once per distinct (x, t_x, T).
pub fn purchase_pmfs(model: &AnyModel, c: &Customers, t: f64, n_max: usize) -> Vec<Vec<f64>> {
    let (keys, slot) = crate::distinct(&c.rfm, Rfm::key);
    let pmfs: Vec<Vec<f64>> = keys.par_iter().map(|r| with_tail(model.as_count().purchase_pmf(r, t, n_max))).collect();
    slot.into_iter().map(|k| pmfs[k as usize].clone()).collect()
}

/// A pmf over 0..=N with P(> N) appended (clamped at 0 against rounding).
pub fn with_tail(mut pmf: Vec<f64>) -> Vec<f64> {
    let listed = crate::total(pmf.iter().copied());
    pmf.push((1.0 - listed).max(0.0));
    pmf
}

/// A histogram row's predictions: the same for each customer of the group but their spend, which
/// is `spend_intercept + spend_slope × m̄` for a customer with a repeat purchase and a positive mean
/// spend m̄, else `spend_backfill` ([`crate::clv::spend_per_purchase`]'s rule, split so that the
/// warehouse can apply it to each customer: `clv sql --emit score`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GroupPrediction {
    /// The row's (x, t_x, T).
    pub rfm: Rfm,
    /// Customers in the group.
    pub count: f64,
    /// P(alive at T).
    pub p_alive: f64,
    /// Expected purchases over the horizon.
    pub expected_txn: f64,
    /// Discounted expected purchases over the horizon: a customer's CLV is this × their spend.
    pub discounted_txn: f64,
    /// Spend per purchase: intercept (see the type's docs); 1 without a spend model (CLV then counts purchases).
    pub spend_intercept: f64,
    /// Spend per purchase: slope in the customer's own mean; 0 without a spend model.
    pub spend_slope: f64,
    /// Spend per purchase of a customer without a repeat purchase (the population mean); 1 without
    /// a spend model.
    pub spend_backfill: f64,
}

/// Predictions per distinct row of a histogram ([`Customers::monetary_is_group_mean`]): what
/// `clv predict` writes for one, and what the warehouse joins back to each customer.
pub fn group_predictions(
    model: &AnyModel,
    spend: Option<&GammaGamma>,
    c: &Customers,
    p: &ClvParams,
) -> Vec<GroupPrediction> {
    let rows: Vec<(Rfm, f64)> = c.rfm.iter().map(|r| (*r, 0.0)).collect();
    let values = value_customers(model.as_count(), None, &rows, p);
    let backfill = spend.map_or(1.0, |g| g.population_mean().unwrap_or(0.0));
    c.rfm
        .iter()
        .zip(&c.weights)
        .zip(values)
        .map(|((r, &count), v)| {
            let (spend_intercept, spend_slope) = spend.map_or((1.0, 0.0), |g| g.spend_terms(r.x).unwrap_or((0.0, 0.0)));
            GroupPrediction {
                rfm: *r,
                count,
                p_alive: v.p_alive,
                expected_txn: v.expected_txn,
                discounted_txn: v.clv,
                spend_intercept,
                spend_slope,
                spend_backfill: backfill,
            }
        })
        .collect()
}

/// [`group_predictions`] as CSV, columns [`crate::sql::PREDICTION_COLUMNS`].
pub fn group_predictions_csv(rows: &[GroupPrediction], safety: &mut CsvSafety) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(crate::sql::PREDICTION_COLUMNS).expect("in-memory write");
    for r in rows {
        let cells = [
            r.rfm.x,
            r.rfm.t_x,
            r.rfm.t,
            r.count,
            r.p_alive,
            r.expected_txn,
            r.discounted_txn,
            r.spend_intercept,
            r.spend_slope,
            r.spend_backfill,
        ];
        w.write_record(cells.map(|v| safety.num(v))).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory flush")).expect("UTF-8")
}

/// Per-customer predictions as CSV, full precision (the CLI's `predict
/// --format csv` and the page's export); cells through `safety`. With
/// `pmfs` (from [`purchase_pmfs`]), columns `p_0 … p_N, p_more` follow.
pub fn predictions_csv(rows: &[PredictionRow], pmfs: Option<&[Vec<f64>]>, safety: &mut CsvSafety) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let n = pmfs.and_then(|p| p.first()).map_or(0, Vec::len);
    let pmf_header = (0..n).map(|i| if i + 1 == n { "p_more".to_string() } else { format!("p_{i}") });
    w.write_record(PREDICTION_COLUMNS.iter().map(|c| c.to_string()).chain(pmf_header)).expect("in-memory write");
    for (i, r) in rows.iter().enumerate() {
        let v = &r.value;
        let pmf: Vec<String> = pmfs.and_then(|p| p.get(i)).into_iter().flatten().map(|&p| safety.num(p)).collect();
        w.write_record(
            [
                safety.text(&r.user_id).into_owned(),
                safety.num(r.frequency),
                safety.num(r.recency),
                safety.num(r.t),
                safety.num(v.p_alive),
                safety.num(v.expected_txn),
                safety.num(v.expected_spend),
                safety.num(v.clv),
                v.txn.median.to_string(),
                v.txn.lower80.to_string(),
                v.txn.upper80.to_string(),
                v.spend_backfilled.to_string(),
                safety.opt(r.dert),
                safety.opt(r.p_alive_next),
            ]
            .into_iter()
            .chain(pmf),
        )
        .expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory flush")).expect("UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::TimeUnit;

    /// 600 simulated customers (weekly), some with identical rows.
    fn simulated_customers() -> Customers {
        let p = crate::simulate::SimulationParams {
            r: 0.24,
            alpha: 4.4,
            a: 0.79,
            b: 2.4,
            spend: Some((6.25, 3.74, 15.44)),
            unit: TimeUnit::Week,
            customers: 600,
            start_day: 0,
            acquisition_days: 84,
            observation_days: 273,
            seed: 7,
        };
        let rows = crate::simulate::simulate_summary(&p).unwrap();
        Customers {
            ids: (0..rows.len()).map(|i| i.to_string()).collect(),
            rfm: rows.iter().map(|(r, _)| *r).collect(),
            monetary: rows.iter().map(|(_, m)| *m).collect(),
            weights: vec![1.0; rows.len()],
            monetary_is_group_mean: false,
        }
    }

    #[test]
    fn steps_run_anywhere_assemble_into_the_same_set() {
        let c = simulated_customers();
        let opts = FitOptions::default();
        let kinds = [ModelKind::Bgnbd, ModelKind::Pnbd, ModelKind::Mbgnbd];
        let steps = FitStep::all(&kinds, true);
        assert_eq!(
            steps.iter().map(|s| s.id()).collect::<Vec<_>>(),
            [ModelId::Bgnbd, ModelId::Pnbd, ModelId::Mbgnbd, ModelId::Gg]
        );
        let mut seen = Vec::new();
        let direct = fit_models(&kinds, true, &c, &opts, &mut |id, i, n| seen.push((id, i, n)));
        assert_eq!(seen, [(ModelId::Bgnbd, 1, 4), (ModelId::Pnbd, 2, 4), (ModelId::Mbgnbd, 3, 4), (ModelId::Gg, 4, 4)]);
        assert_eq!(direct.fitted.len(), 3, "{:?}", direct.failed);
        // Every fitted model is the fit's own model, bit for bit, though rebuilt from its estimates.
        for (kind, m) in &direct.fitted {
            assert_eq!(m, &fit_count(*kind, &c, &opts).unwrap().0);
        }
        assert_eq!(direct.spend.as_ref().and_then(|s| s.model), Some(fit_spend(&c, &opts).unwrap().0));
        // Each step on "another worker" (its customers without ids), in another order, through JSON.
        let helper = Customers { ids: Vec::new(), ..c.clone() };
        let mut outcomes: Vec<(usize, String)> = steps
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| (i, serde_json::to_string(&s.run(&helper, &opts)).unwrap()))
            .collect();
        outcomes.sort_by_key(|(i, _)| *i);
        let outcomes = outcomes.iter().map(|(_, json)| serde_json::from_str(json).unwrap()).collect();
        assert_eq!(assemble(&steps, outcomes), direct);
    }

    /// `c` grouped by (x, t_x, T) as `clv sql --emit histogram` writes it, read back.
    fn histogram_of(c: &Customers) -> Customers {
        let mut groups: std::collections::BTreeMap<[u64; 3], (f64, f64)> = Default::default();
        for (r, m) in c.rfm.iter().zip(&c.monetary) {
            let g = groups.entry([r.x.to_bits(), r.t_x.to_bits(), r.t.to_bits()]).or_default();
            *g = (g.0 + 1.0, g.1 + m);
        }
        let mut csv = String::from("frequency,recency,T,count,sum_monetary\n");
        for (k, (count, sum)) in &groups {
            let [x, tx, t] = k.map(f64::from_bits);
            csv += &format!("{x},{tx},{t},{count},{sum}\n");
        }
        Customers::from_input(&crate::features::parse_summary(csv.as_bytes()).unwrap())
    }

    #[test]
    fn a_histogram_fits_as_its_customers_and_its_group_predictions_score_each_of_them() {
        let c = simulated_customers();
        let h = histogram_of(&c);
        assert!(h.monetary_is_group_mean && h.rfm.len() < c.rfm.len(), "{} groups", h.rfm.len());
        assert_eq!(h.total(), c.rfm.len() as f64);
        let opts = FitOptions::default();
        for kind in [ModelKind::Bgnbd, ModelKind::Pnbd] {
            let (on_rows, _) = fit_count(kind, &c, &opts).unwrap();
            let (on_hist, _) = fit_count(kind, &h, &opts).unwrap();
            for (a, b) in on_rows.params().iter().zip(on_hist.params()) {
                assert!((a - b).abs() <= 1e-9 * a.abs(), "{kind:?}: {a} on the customers, {b} on the histogram");
            }
        }
        // Gamma–Gamma needs each customer's own mean, which a histogram does not hold.
        assert!(fit_spend(&h, &opts).unwrap_err().to_string().contains("each customer's own mean spend"));

        let (model, _) = fit_count(ModelKind::Bgnbd, &c, &opts).unwrap();
        let (gg, _) = fit_spend(&c, &opts).unwrap();
        let year = crate::time::PredictionHorizon::new(365.0, crate::time::HorizonUnit::Day).unwrap();
        let clv = ClvParams::new(year, 0.1, TimeUnit::Week, crate::clv::Discounting::PerPeriod).unwrap();
        let groups = group_predictions(&model, Some(&gg), &h, &clv);
        let by_key: std::collections::HashMap<[u64; 3], &GroupPrediction> =
            groups.iter().map(|g| ([g.rfm.x.to_bits(), g.rfm.t_x.to_bits(), g.rfm.t.to_bits()], g)).collect();
        let per_customer = predict(&model, Some(&gg), &c, &clv);
        let mut backfilled = 0;
        for (row, m) in per_customer.iter().zip(&c.monetary) {
            let g = by_key[&[row.frequency.to_bits(), row.recency.to_bits(), row.t.to_bits()]];
            // What the score SQL computes for this customer from their group's row.
            let spend = if row.frequency > 0.0 && *m > 0.0 {
                g.spend_intercept + g.spend_slope * m
            } else {
                backfilled += 1;
                g.spend_backfill
            };
            let v = &row.value;
            assert_eq!((g.p_alive, g.expected_txn), (v.p_alive, v.expected_txn));
            assert!((spend - v.expected_spend).abs() <= 1e-13 * v.expected_spend, "{spend} vs {}", v.expected_spend);
            assert!(
                (spend * g.discounted_txn - v.clv).abs() <= 1e-13 * v.clv,
                "{} vs {}",
                spend * g.discounted_txn,
                v.clv
            );
        }
        assert!(backfilled > 0 && backfilled < c.rfm.len());
        // Without a spend model each purchase is worth 1: the discounted purchases are the CLV.
        let counts = group_predictions(&model, None, &h, &clv);
        assert!(counts.iter().all(|g| (g.spend_intercept, g.spend_slope, g.spend_backfill) == (1.0, 0.0, 1.0)));
    }

    #[test]
    fn predictions_share_work_per_distinct_row_without_changing_a_digit() {
        let c = simulated_customers();
        let set = fit_models(&[ModelKind::Pnbd], true, &c, &FitOptions::default(), &mut |_, _, _| {});
        let (model, spend) = (set.model(ModelKind::Pnbd).unwrap(), set.spend_model());
        let year = crate::time::PredictionHorizon::new(365.0, crate::time::HorizonUnit::Day).unwrap();
        let clv = ClvParams::new(year, 0.1, TimeUnit::Week, crate::clv::Discounting::PerPeriod).unwrap();
        let delta = clv.continuous_rate().unwrap();
        let AnyModel::Pnbd(m) = model else { panic!() };
        let rows = predict(model, spend, &c, &clv);
        let distinct: std::collections::HashSet<_> =
            c.rfm.iter().map(|r| [r.x.to_bits(), r.t_x.to_bits(), r.t.to_bits()]).collect();
        assert!(distinct.len() < c.rfm.len(), "the sample has identical customers");
        for (row, r) in rows.iter().zip(&c.rfm) {
            // P(alive) once per distinct (x, t_x, T), DERT's integral once per T: the same bits as one by one.
            assert_eq!(row.value.p_alive.to_bits(), m.p_alive(r).to_bits());
            assert_eq!(row.dert.unwrap().to_bits(), m.dert(r, delta).to_bits());
            assert!(row.dert.unwrap() >= 0.0 && row.dert.unwrap().is_finite());
        }
        // Cut into pieces, predicted apart and joined: the same rows.
        let whole = predict_values(model, spend, &c.rfm, &c.monetary, &clv);
        let mut joined = Vec::new();
        for (r, m) in c.rfm.chunks(173).zip(c.monetary.chunks(173)) {
            joined.extend(predict_values(model, spend, r, m, &clv));
        }
        assert_eq!(joined, whole);
        assert_eq!(prediction_rows(&c, joined), rows);
        // Not discounted: an endless stream of purchases has no finite DERT.
        let undiscounted = ClvParams::new(year, 0.0, TimeUnit::Week, crate::clv::Discounting::PerPeriod).unwrap();
        let rows = predict(model, spend, &c, &undiscounted);
        assert!(rows.iter().all(|r| r.dert.is_none_or(|d| d == f64::INFINITY)), "{:?}", rows[0].dert);
    }

    #[test]
    fn assembled_failures_say_why_and_keep_reports() {
        let c = simulated_customers();
        let opts = FitOptions::new(0.0, 1).unwrap();
        let steps = FitStep::all(&[ModelKind::Pnbd], true);
        let outcomes: Vec<StepOutcome> = steps.iter().map(|s| s.run(&c, &opts)).collect();
        let set = assemble(&steps, outcomes.clone());
        // One iteration is not a converged fit: its report is kept, no model is made from it.
        assert!(set.fitted.is_empty());
        assert_eq!(set.reports.len(), 1);
        assert_eq!(set.failed[0].0, ModelKind::Pnbd);
        assert_eq!(set.failed[0].1, set.reports[0].convergence.message);
        let spend = set.spend.unwrap();
        assert!(spend.model.is_none() && spend.report.is_some());
        assert!(spend.error.unwrap().starts_with("Gamma–Gamma is "));
        // An error before fitting, and estimates no constructor accepts, are failures in words.
        let bad = vec![
            StepOutcome::Failed("no customers".into()),
            StepOutcome::Fitted {
                params: vec![-1.0, 1.0, 1.0],
                report: Box::new(fit_spend(&c, &FitOptions::default()).unwrap().1),
            },
        ];
        let set = assemble(&steps, bad);
        assert_eq!(set.failed, [(ModelKind::Pnbd, "no customers".to_string())]);
        let spend = set.spend.unwrap();
        assert!(spend.model.is_none() && spend.error.is_some_and(|e| !e.is_empty()));
        // A BG/BB step on customers without ids names the row it refuses.
        let mut long = Customers { ids: Vec::new(), ..c };
        long.rfm[3].t = 2.0 * MAX_PERIODS;
        match FitStep::Count(ModelKind::Bgbb).run(&long, &opts) {
            StepOutcome::Failed(why) => assert!(why.contains("customer in row 4 has n = 20000 periods"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bgbb_periods_and_horizon_are_bounded_before_the_fit() {
        let c = |t: f64| Customers {
            ids: vec!["a".into(), "long".into()],
            rfm: vec![Rfm::new(1.0, 2.0, 6.0), Rfm::new(1.0, 2.0, t)],
            monetary: vec![0.0; 2],
            weights: vec![1.0; 2],
            monetary_is_group_mean: false,
        };
        let e = check_sizes(ModelKind::Bgbb, &c(20_000.0), None).unwrap_err().to_string();
        assert!(e.contains("customer \"long\" has n = 20000 periods") && e.contains("at most 10000"), "{e}");
        assert!(check_sizes(ModelKind::Bgbb, &c(MAX_PERIODS), None).is_ok());
        // Continuous models take T as a number, not a loop length.
        assert!(check_sizes(ModelKind::Pnbd, &c(20_000.0), None).is_ok());
        let year = crate::time::PredictionHorizon::new(365.0, crate::time::HorizonUnit::Day).unwrap();
        let year_in_days = ClvParams::new(year, 0.0, TimeUnit::Day, crate::clv::Discounting::PerPeriod).unwrap();
        assert!(check_sizes(ModelKind::Bgbb, &c(6.0), Some(&year_in_days)).is_err());
        assert!(check_sizes(ModelKind::Bgnbd, &c(6.0), Some(&year_in_days)).is_ok());
    }

    #[test]
    fn prediction_csv_guards_ids_and_empties_non_finite_numbers() {
        let value = CustomerValue {
            p_alive: 0.5,
            expected_txn: -0.0,
            txn: crate::models::PmfSummary { median: 0, lower80: 0, upper80: 1 },
            expected_spend: f64::INFINITY,
            spend_backfilled: true,
            clv: f64::NAN,
        };
        let row = |id: &str| PredictionRow {
            user_id: id.into(),
            frequency: 1.0,
            recency: 2.0,
            t: 3.0,
            value,
            dert: None,
            p_alive_next: None,
        };
        let mut safety = crate::export::CsvSafety::default();
        let csv = predictions_csv(&[row("=1+1"), row("b")], None, &mut safety);
        assert_eq!(csv.lines().nth(1), Some("'=1+1,1,2,3,0.5,-0,,,0,0,1,true,,"));
        assert_eq!((safety.neutralised, safety.non_finite), (1, 4));
    }
}
