//! What the worker computes for the page from ingested transactions. Pure
//! functions over the core, so they are tested natively like the core.

use crate::protocol::{
    CustomerDetail, ExploreView, ExportFile, ExportFormat, ExportKind, GivenReport, HoldoutRequest, ModelRequest,
    ModelsResult, SortKey, SummaryFileInfo, SummaryRequest, SummaryStats, TablePage, TableQuery, UsersInfo, ValueView,
};
use clv_core::clv::ClvParams;
use clv_core::export::CsvSafety;
use clv_core::features::{
    check_near_data, Cutoff, FeatureParams, FeatureTable, HoldoutSplit, NoCustomers, RfmSummary, SummaryInput, Users,
};
use clv_core::holdout::{self, HoldoutReport};
use clv_core::ingest::Transactions;
use clv_core::models::{pmf_quantile, FitOptions, GammaGamma, Likelihood, Rfm};
use clv_core::pipeline::{
    self, frequency_fit, group_predictions, group_predictions_csv, predict, predictions_csv, AnyModel, Customers,
    FitStep, GivenModels, ModelKind, ModelSet, PredictionRow, RowValue, StepOutcome,
};
use clv_core::portfolio::{Portfolio, Quadrant};
use clv_core::time::{CohortGrain, Day, Horizon, TimeUnit};
use clv_core::uncertainty::TotalClv;

/// The request's settings; its cutoff checked against this data (the types
/// were checked where the user chose them).
fn params(tx: &Transactions, req: &SummaryRequest) -> Result<FeatureParams, String> {
    let cutoff = Cutoff::checked(req.cutoff, tx, "cutoff").map_err(|e| e.to_string())?;
    Ok(FeatureParams::new(cutoff, req.horizon, CohortGrain::Month))
}

/// Fit settings (`FitOptions::new` bounds the penalizer: [`clv_core::limits::MAX_PENALIZER`]).
fn fit_options(penalizer: f64) -> Result<FitOptions, String> {
    FitOptions::new(penalizer, 500).map_err(|e| e.to_string())
}

pub fn summarise(tx: &Transactions, req: &SummaryRequest) -> Result<SummaryStats, String> {
    SummaryStats::build(tx, &params(tx, req)?, req.unit).map_err(|e| e.to_string())
}

/// The CSV the page offers for download: byte-identical to the CLI's
/// `clv summary` / `clv features` output for the same file and settings
/// (formula guard on, as the CLI's default).
pub fn export(
    tx: &Transactions,
    users: Option<&Users>,
    what: ExportKind,
    req: &SummaryRequest,
) -> Result<ExportFile, String> {
    let p = params(tx, req)?;
    let mut safety = CsvSafety::default();
    let (file_name, csv) = match what {
        ExportKind::Summary => (
            format!("summary_{}_{}.csv", req.cutoff, req.unit),
            RfmSummary::build(tx, p.cutoff(), req.unit).to_csv(tx, &mut safety),
        ),
        ExportKind::Features => (
            format!("features_{}_h{}.csv", req.cutoff, req.horizon.in_days()),
            FeatureTable::build(tx, users, p).to_csv(&mut safety),
        ),
    };
    Ok(ExportFile { file_name, csv, notes: safety.notes() })
}

/// The page's summary of a parsed users file.
pub fn users_info(name: &str, users: &Users) -> UsersInfo {
    UsersInfo {
        name: name.to_string(),
        users: users.rows.len(),
        with_signup: users.rows.iter().filter(|r| r.signup_day.is_some()).count(),
        attributes: users.attribute_names.clone(),
        rejected: users.rejected.len(),
        first_rejected: users.rejected.iter().take(5).cloned().collect(),
    }
}

/// Purchase counts a drill-down shows at least and at most (the rest is one bar).
const MIN_PMF_SHOWN: usize = 5;
const MAX_PMF_SHOWN: usize = 30;

/// Fitted models at one cutoff, kept in the worker for the customer table
/// and exports. Predictions are computed per model on first use.
pub struct ModelSession {
    /// The calibration the models were fitted on (`None`: a summary file's own).
    cutoff: Option<Cutoff>,
    unit: TimeUnit,
    customers: Customers,
    models: ModelSet,
    clv: ClvParams,
    /// The CLV settings as chosen, from which `clv` was made: what a helper worker rebuilds it from.
    clv_choice: ClvChoice,
    predictions: Vec<(ModelKind, Vec<PredictionRow>)>,
    /// The base's total CLV with its interval, per model, on first use (1 + k count-model passes).
    totals: Vec<(ModelKind, TotalClv)>,
    /// The last sorted, filtered order: (query without page, row indices).
    order: Option<(TableQuery, Vec<u32>)>,
    /// Each customer's value of the last segment column asked for: (column, labels).
    segments: Option<(String, std::rc::Rc<Vec<String>>)>,
}

/// A summary file the person loaded instead of transactions: its rows, and the unit its times
/// are in (which the file cannot say).
pub struct SummaryFile {
    pub name: String,
    pub unit: TimeUnit,
    pub input: SummaryInput,
}

impl SummaryFile {
    /// What the Data view shows of it.
    pub fn info(&self) -> SummaryFileInfo {
        SummaryFileInfo { name: self.name.clone(), unit: self.unit, stats: self.input.stats() }
    }
}

/// What a request that needs dated purchases says when the data are a summary file.
pub fn needs_transactions(file: &SummaryFile) -> String {
    format!(
        "{} is a summary file (one row per customer, no purchase dates): this needs the transactions themselves. The models, the frequency × recency explorer, the customers and their value work from a summary.",
        file.name
    )
}

/// Fit every requested count model and Gamma–Gamma on the customers at the request's cutoff.
/// Models that fail or do not converge are reported in `failed` and get no predictions.
pub fn fit_models(
    tx: &Transactions,
    req: &ModelRequest,
    status: &mut dyn FnMut(String),
) -> Result<(ModelSession, ModelsResult), String> {
    plan_fit(tx, req)?.run_here(status)
}

/// The same on a summary file's rows (weights kept), in the file's unit: `clv fit` on that file.
pub fn fit_summary_file(
    file: &SummaryFile,
    req: &ModelRequest,
    status: &mut dyn FnMut(String),
) -> Result<(ModelSession, ModelsResult), String> {
    plan_summary_fit(file, req)?.run_here(status)
}

/// The customers at the request's cutoff and what to fit on them.
pub fn plan_fit(tx: &Transactions, req: &ModelRequest) -> Result<FitPlan, String> {
    let summary = req.summary().ok_or("choose a cutoff: the last day of history the models may see")?;
    let p = params(tx, &summary)?;
    let customers = Customers::from_summary(&RfmSummary::build(tx, p.cutoff(), req.unit), tx);
    if customers.rfm.is_empty() {
        return Err(NoCustomers { cutoff: summary.cutoff.to_string() }.to_string());
    }
    FitPlan::new(customers, Some(p.cutoff()), req.unit, req)
}

/// A summary file's rows and what to fit on them.
pub fn plan_summary_fit(file: &SummaryFile, req: &ModelRequest) -> Result<FitPlan, String> {
    FitPlan::new(Customers::from_input(&file.input), None, file.unit, req)
}

/// A model request checked against its customers, before any fit: the [`FitStep`]s to run — here, one
/// after another ([`FitPlan::run_here`]), or spread over helper workers — and what
/// [`FitPlan::finish`] makes of their outcomes.
pub struct FitPlan {
    pub customers: Customers,
    cutoff: Option<Cutoff>,
    unit: TimeUnit,
    clv: ClvParams,
    pub opts: FitOptions,
    given: GivenModels,
    given_reports: Vec<GivenReport>,
    pub steps: Vec<FitStep>,
    clv_choice: ClvChoice,
}

/// CLV settings as the person chose them ([`ClvParams::new`]'s arguments).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClvChoice {
    pub horizon: Horizon,
    pub annual_discount_rate: f64,
    pub unit: TimeUnit,
    pub discounting: clv_core::clv::Discounting,
}

impl ClvChoice {
    fn params(&self) -> Result<ClvParams, String> {
        ClvParams::new(self.horizon.into(), self.annual_discount_rate, self.unit, self.discounting)
            .map_err(|e| e.to_string())
    }
}

/// Predicting one model's customers somewhere else (a helper worker, a piece at a time): the model
/// and the spend model by their estimates, rebuilt through their validating constructors, and the
/// CLV settings. [`PredictJob::run`] gives [`pipeline::predict`]'s numbers, digit for digit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PredictJob {
    pub model: ModelKind,
    pub params: Vec<f64>,
    pub spend: Option<Vec<f64>>,
    pub clv: ClvChoice,
}

impl PredictJob {
    /// The predictions of the customers `(rfm, monetary)`, index for index.
    pub fn run(&self, rfm: &[Rfm], monetary: &[f64]) -> Result<Vec<RowValue>, String> {
        let model = AnyModel::from_params(self.model, &self.params).map_err(|e| e.to_string())?;
        let spend = self.spend.as_deref().map(GammaGamma::from_params).transpose().map_err(|e| e.to_string())?;
        Ok(pipeline::predict_values(&model, spend.as_ref(), rfm, monetary, &self.clv.params()?))
    }
}

impl FitPlan {
    fn new(
        customers: Customers,
        cutoff: Option<Cutoff>,
        unit: TimeUnit,
        req: &ModelRequest,
    ) -> Result<FitPlan, String> {
        let opts = fit_options(req.penalizer)?;
        let clv_choice = ClvChoice {
            horizon: req.horizon,
            annual_discount_rate: req.annual_discount_rate,
            unit,
            discounting: req.discounting,
        };
        let clv = clv_choice.params()?;
        for kind in &req.models {
            pipeline::check_sizes(*kind, &customers, Some(&clv)).map_err(|e| e.to_string())?;
        }
        // What a card gives is used as given; the rest is fitted, as `clv predict --model-card` does.
        let mut given = GivenModels::default();
        for c in &req.cards {
            given.add_card(&c.file_name, &c.card, unit)?;
        }
        let given_reports = req
            .cards
            .iter()
            .filter_map(|c| {
                let params = given.named_params(c.card.model)?;
                Some(GivenReport { model: c.card.model, file_name: c.file_name.clone(), params })
            })
            .collect();
        let kinds: &[ModelKind] = if given.count.is_empty() { &req.models } else { &[] };
        let steps = FitStep::all(kinds, given.spend.is_none());
        Ok(FitPlan { customers, cutoff, unit, clv, opts, given, given_reports, steps, clv_choice })
    }

    /// What the page shows while `running` fit in `helpers` workers and `done` have finished.
    pub fn parallel_status(&self, running: impl Iterator<Item = FitStep>, done: usize, helpers: usize) -> String {
        let names: Vec<&str> = running.map(|s| s.id().label()).collect();
        format!(
            "Fitting {} on {} customers, {helpers} at a time ({done} of {} done)…",
            names.join(" and "),
            self.customers.total(),
            self.steps.len()
        )
    }

    /// Run every step on this thread, in order.
    pub fn run_here(self, status: &mut dyn FnMut(String)) -> Result<(ModelSession, ModelsResult), String> {
        let customers_n = self.customers.total();
        let outcomes = pipeline::run_steps(&self.steps, &self.customers, &self.opts, &mut |id, i, n| {
            status(format!("Fitting {} ({i} of {n}) on {customers_n} customers…", id.label()))
        });
        self.finish(outcomes)
    }

    /// The session and the page's result from the steps' outcomes (index for index with `steps`).
    pub fn finish(self, outcomes: Vec<StepOutcome>) -> Result<(ModelSession, ModelsResult), String> {
        let FitPlan { customers, cutoff, unit, clv, given, given_reports, steps, clv_choice, .. } = self;
        if outcomes.len() != steps.len() {
            return Err(format!("{} of {} fits came back", outcomes.len(), steps.len()));
        }
        let set = given.into_set(pipeline::assemble(&steps, outcomes));
        let frequency = set.fitted.iter().map(|(k, m)| (k.id(), frequency_fit(m.as_count(), &customers, 7))).collect();
        let spend = set.spend.clone().unwrap_or_default();
        let result = ModelsResult {
            fits: set.reports.clone(),
            frequency,
            spend: spend.report,
            failed: set.failed.iter().map(|(k, why)| (k.id(), why.clone())).collect(),
            spend_error: spend.error,
            customers: customers.total().round() as usize,
            rows: customers.rfm.len(),
            horizon_units: clv.horizon_units(),
            unit,
            annual_discount_rate: clv_choice.annual_discount_rate,
            discounting: clv_choice.discounting,
            months: clv.months(),
            given: given_reports,
            leaderboard: clv_core::models::compare::leaderboard(&set.reports),
        };
        let session = ModelSession {
            cutoff,
            unit,
            customers,
            models: set,
            clv,
            clv_choice,
            predictions: Vec::new(),
            totals: Vec::new(),
            order: None,
            segments: None,
        };
        Ok((session, result))
    }
}

/// A day of the data (or the horizon after it) as a calendar day.
fn day(d: i64) -> Day {
    Day::from_number(d).expect("a day of the data is a day")
}

fn sort_value(r: &PredictionRow, key: SortKey) -> f64 {
    match key {
        SortKey::UserId => 0.0,
        SortKey::Frequency => r.frequency,
        SortKey::Recency => r.recency,
        SortKey::T => r.t,
        SortKey::PAlive => r.value.p_alive,
        SortKey::ExpectedTxn => r.value.expected_txn,
        SortKey::ExpectedSpend => r.value.expected_spend,
        SortKey::Clv => r.value.clv,
    }
}

impl ModelSession {
    /// A converged fit of `kind` with the spend model, if fitted at `cutoff`.
    pub fn fitted_at(
        &self,
        kind: ModelKind,
        cutoff: Cutoff,
    ) -> Result<(&AnyModel, Option<&GammaGamma>, TimeUnit), String> {
        match self.cutoff {
            Some(at) if at == cutoff => {}
            Some(at) => {
                return Err(format!(
                    "the models were fitted at cutoff {}: fit them at this cutoff to compare",
                    clv_core::time::format_day(at.day)
                ))
            }
            None => return Err("the models were fitted on a summary file, not on these transactions".into()),
        }
        Ok((self.models.model(kind)?, self.models.spend_model(), self.unit))
    }

    /// The job of predicting `kind`'s customers elsewhere, when `kind` is a model of this session whose
    /// predictions are not made yet.
    pub fn prediction_job(&self, kind: ModelKind) -> Option<PredictJob> {
        if self.predictions.iter().any(|(k, _)| *k == kind) {
            return None;
        }
        let model = self.models.model(kind).ok()?;
        Some(PredictJob {
            model: kind,
            params: model.params(),
            spend: self.models.spend_model().map(Likelihood::params),
            clv: self.clv_choice,
        })
    }

    /// The customers the models were fitted on.
    pub fn customers(&self) -> &Customers {
        &self.customers
    }

    /// `kind`'s predictions, made elsewhere from [`ModelSession::prediction_job`] (index for index with
    /// the customers); ignored when they are already made or do not cover every customer.
    pub fn add_predictions(&mut self, kind: ModelKind, values: Vec<RowValue>) {
        if values.len() == self.customers.rfm.len() && !self.predictions.iter().any(|(k, _)| *k == kind) {
            let rows = pipeline::prediction_rows(&self.customers, values);
            self.predictions.push((kind, rows));
        }
    }

    fn predictions(&mut self, kind: ModelKind) -> Result<&[PredictionRow], String> {
        if !self.predictions.iter().any(|(k, _)| *k == kind) {
            let rows = predict(self.models.model(kind)?, self.models.spend_model(), &self.customers, &self.clv);
            self.predictions.push((kind, rows));
        }
        Ok(&self.predictions.iter().find(|(k, _)| *k == kind).expect("just inserted").1)
    }

    /// The total CLV under `kind` and how sure it is ([`clv_core::uncertainty`]).
    fn total(&mut self, kind: ModelKind) -> Result<TotalClv, String> {
        if let Some((_, t)) = self.totals.iter().find(|(k, _)| *k == kind) {
            return Ok(t.clone());
        }
        let t = self.models.total_value(kind, &self.customers, &self.clv)?;
        self.totals.push((kind, t.clone()));
        Ok(t)
    }

    /// The customer base under `kind` ([`Portfolio`]), from its predictions.
    fn portfolio(&mut self, kind: ModelKind) -> Result<Portfolio, String> {
        let weights = self.customers.weights.clone();
        let rows = self.predictions(kind)?;
        let valued: Vec<(f64, f64, f64)> =
            rows.iter().zip(weights).map(|(r, w)| (r.value.p_alive, r.value.clv, w)).collect();
        Ok(Portfolio::weighted(&valued))
    }

    /// The customer base under `kind`: value, concentration and quadrants, split by the
    /// `segment` column when one is named.
    pub fn value(
        &mut self,
        kind: ModelKind,
        tx: Option<&Transactions>,
        users: Option<&Users>,
        segment: Option<&str>,
    ) -> Result<ValueView, String> {
        let (t, unit, money) = (self.clv.horizon_units(), self.unit, self.models.spend_model().is_some());
        let portfolio = self.portfolio(kind)?;
        let segments = match segment {
            None => Vec::new(),
            Some(column) => {
                let labels = self.segment_labels(column, tx, users)?;
                let values: Vec<(f64, f64)> =
                    self.predictions(kind)?.iter().map(|r| (r.value.p_alive, r.value.clv)).collect();
                clv_core::portfolio::by_segment(&values, &labels.iter().map(String::as_str).collect::<Vec<_>>())
            }
        };
        Ok(ValueView {
            model: kind,
            total: self.total(kind)?,
            portfolio,
            horizon_units: t,
            unit,
            money,
            segment: segment.map(str::to_string),
            segments,
            // A summary file has no purchases to take a channel or country from, and no users file.
            segment_columns: tx.map(|tx| clv_core::cohorts::segment_columns(tx, users)).unwrap_or_default(),
        })
    }

    /// The frequency × recency explorer at age `t` (default: the customers' median T):
    /// frequencies up to the largest observed (5 to 30), recency in 20 steps.
    pub fn explore(&self, kind: ModelKind, t: Option<f64>) -> Result<ExploreView, String> {
        let model = self.models.model(kind)?.as_count();
        let mut ages: Vec<f64> = self.customers.rfm.iter().map(|r| r.t).filter(|t| t.is_finite() && *t > 0.0).collect();
        ages.sort_by(f64::total_cmp);
        let at = |q: f64| ages.get(((ages.len() as f64 - 1.0) * q).round() as usize).copied();
        let t_choices: Vec<f64> = [0.1, 0.25, 0.5, 0.75, 0.9].iter().filter_map(|&q| at(q)).collect();
        let t = t.filter(|t| t.is_finite() && *t > 0.0).or(at(0.5)).ok_or("no customer has an age above 0")?;
        let top = self.customers.rfm.iter().map(|r| r.x).fold(0.0, f64::max);
        let max_frequency = (top as u32).clamp(5, 30);
        let grid = clv_core::explore::frequency_recency(model, t, self.clv.horizon_units(), max_frequency, 20);
        Ok(ExploreView { model: kind, grid, unit: self.unit, t_choices })
    }

    /// The predictions CSV of one quadrant's customers (as `clv predict`, fewer rows).
    pub fn export_quadrant(&mut self, kind: ModelKind, quadrant: Quadrant) -> Result<ExportFile, String> {
        let threshold = self.portfolio(kind)?.median_clv;
        let rows = self.predictions(kind)?;
        let members: Vec<PredictionRow> = rows
            .iter()
            .filter(|r| Quadrant::of(r.value.p_alive, r.value.clv, threshold) == quadrant)
            .cloned()
            .collect();
        let mut safety = CsvSafety::default();
        let csv = predictions_csv(&members, None, &mut safety);
        let file_name =
            format!("predictions_{}_{}.csv", kind.code(), quadrant.label().to_lowercase().replace(' ', "_"));
        Ok(ExportFile { file_name, csv, notes: safety.notes() })
    }

    /// One customer's drill-down: their row and the distribution of their purchases over the
    /// horizon beside a new customer's, both cut where both have ≥ 99% of their mass (5 to 30
    /// counts shown, the rest as one "more" bar).
    pub fn customer(
        &mut self,
        tx: Option<&Transactions>,
        kind: ModelKind,
        user_id: &str,
    ) -> Result<CustomerDetail, String> {
        let i = self.customers.ids.iter().position(|id| id == user_id).ok_or_else(|| match self.cutoff {
            Some(c) => format!("no customer {user_id:?} at the cutoff {}", clv_core::time::format_day(c.day)),
            None => format!("no customer {user_id:?} in the summary file"),
        })?;
        let t = self.clv.horizon_units();
        let row = self.predictions(kind)?[i].clone();
        let model = self.models.model(kind)?.as_count();
        let rfm = self.customers.rfm[i];
        let (full, new) = (model.purchase_pmf(&rfm, t, MAX_PMF_SHOWN), model.unconditional_pmf(t, MAX_PMF_SHOWN));
        let reach = |p: &[f64]| pmf_quantile(p, 0.99);
        let n = reach(&full).max(reach(&new)).clamp(MIN_PMF_SHOWN, MAX_PMF_SHOWN);
        let money = self.models.spend_model().is_some();
        let (purchases, alive_path, cutoff) = match (tx, self.cutoff) {
            (Some(tx), Some(cutoff)) => {
                let (p, a) = self.history(tx, cutoff, model, user_id);
                (p, a, Some(day(cutoff.day)))
            }
            // A summary file: no purchase dates, so no timeline.
            _ => (Vec::new(), Vec::new(), None),
        };
        Ok(CustomerDetail {
            model: kind,
            row,
            horizon_units: t,
            unit: self.unit,
            pmf: pipeline::with_tail(full[..=n].to_vec()),
            new_customer_mean: model.expected_unconditional(t),
            new_customer_pmf: pipeline::with_tail(new[..=n].to_vec()),
            money,
            purchases,
            alive_path,
            cutoff,
        })
    }

    /// Each customer's value of a segment column (cached: the table pages through it).
    fn segment_labels(
        &mut self,
        column: &str,
        tx: Option<&Transactions>,
        users: Option<&Users>,
    ) -> Result<std::rc::Rc<Vec<String>>, String> {
        if let Some((c, labels)) = &self.segments {
            if c == column {
                return Ok(labels.clone());
            }
        }
        let tx = tx.ok_or("a summary file has no segment columns")?;
        let labels =
            clv_core::cohorts::segments_of(&self.customers.ids, column, tx, users).map_err(|e| e.to_string())?;
        let labels = std::rc::Rc::new(labels);
        self.segments = Some((column.to_string(), labels.clone()));
        Ok(labels)
    }

    /// A customer's purchase days in the file and their P(alive) path from the first purchase to the
    /// end of the horizon (see [`CustomerDetail`]).
    #[allow(clippy::type_complexity)]
    fn history(
        &self,
        tx: &Transactions,
        cutoff: Cutoff,
        model: &dyn clv_core::models::CountModel,
        user_id: &str,
    ) -> (Vec<(Day, f64, bool)>, Vec<(Day, f64)>) {
        let cutoff = cutoff.day;
        let mut occ = Vec::new();
        if let Some(c) = (0..tx.customers()).find(|&c| tx.id(c) == user_id) {
            clv_core::features::occasions(tx.history(c), &mut occ);
        }
        let days: Vec<i64> = occ.iter().map(|o| o.day).filter(|&d| d <= cutoff).collect();
        let end = cutoff + (self.clv.horizon_units() * self.unit.days()).round() as i64;
        let path = clv_core::explore::alive_path(model, &days, cutoff, end, self.unit.days(), 200);
        (
            occ.iter().map(|o| (day(o.day), o.amount, o.day > cutoff)).collect(),
            path.into_iter().map(|(d, p)| (day(d), p)).collect(),
        )
    }

    /// One page of the customer table: searched (substring of the id),
    /// sorted, paged. The sorted order is cached across page turns.
    pub fn table(
        &mut self,
        q: &TableQuery,
        tx: Option<&Transactions>,
        users: Option<&Users>,
    ) -> Result<TablePage, String> {
        let page_size = q.page_size.clamp(1, 500);
        let key = TableQuery { page: 0, page_size: 0, ..q.clone() };
        let cached = self.order.as_ref().is_some_and(|(k, _)| *k == key);
        if !cached {
            let labels = match &q.segment {
                Some((column, _)) => Some(self.segment_labels(column, tx, users)?),
                None => None,
            };
            let rows = self.predictions(q.model)?;
            let needle = q.search.trim();
            let kept = |i: usize, r: &PredictionRow| {
                (needle.is_empty() || r.user_id.contains(needle))
                    && q.min_p_alive.is_none_or(|p| r.value.p_alive >= p)
                    && q.min_clv.is_none_or(|c| r.value.clv >= c)
                    && labels.as_ref().zip(q.segment.as_ref()).is_none_or(|(l, (_, v))| l[i] == *v)
            };
            let mut idx: Vec<u32> = (0..rows.len() as u32).filter(|&i| kept(i as usize, &rows[i as usize])).collect();
            match q.sort {
                SortKey::UserId => idx.sort_by(|&a, &b| rows[a as usize].user_id.cmp(&rows[b as usize].user_id)),
                k => {
                    // Keys read once into a compact array (a comparison that reads two rows of
                    // ~150 bytes each misses the cache: 969k customers took seconds); ties keep
                    // customer order, as a stable sort would.
                    let mut keyed: Vec<(f64, u32)> =
                        idx.iter().map(|&i| (sort_value(&rows[i as usize], k), i)).collect();
                    keyed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    idx = keyed.into_iter().map(|(_, i)| i).collect();
                }
            }
            if q.descending {
                idx.reverse();
            }
            self.order = Some((key, idx));
        }
        let order = &self.order.as_ref().expect("set above").1;
        let matching = order.len();
        let page = q.page.min(matching.saturating_sub(1) / page_size);
        let picked: Vec<u32> = order.iter().skip(page * page_size).take(page_size).copied().collect();
        let rows = self.predictions(q.model)?;
        Ok(TablePage {
            model: q.model,
            matching,
            total: rows.len(),
            page,
            rows: picked.iter().map(|&i| rows[i as usize].clone()).collect(),
        })
    }

    /// The CLI's `clv predict` output for the same data and settings: for a histogram, one row per
    /// group with the spend terms the warehouse's score query applies to each customer.
    pub fn export(&mut self, kind: ModelKind, format: ExportFormat) -> Result<ExportFile, String> {
        if self.customers.monetary_is_group_mean && format == ExportFormat::Csv {
            let rows =
                group_predictions(self.models.model(kind)?, self.models.spend_model(), &self.customers, &self.clv);
            let mut safety = CsvSafety::default();
            let csv = group_predictions_csv(&rows, &mut safety);
            return Ok(ExportFile {
                file_name: format!("predictions_per_group_{}.csv", kind.code()),
                csv,
                notes: safety.notes(),
            });
        }
        let rows = self.predictions(kind)?;
        let mut safety = CsvSafety::default();
        let (file_name, csv) = match format {
            ExportFormat::Csv => (format!("predictions_{}.csv", kind.code()), predictions_csv(rows, None, &mut safety)),
            ExportFormat::Json => (
                format!("predictions_{}.json", kind.code()),
                serde_json::to_string_pretty(rows).map_err(|e| e.to_string())? + "\n",
            ),
        };
        Ok(ExportFile { file_name, csv, notes: safety.notes() })
    }
}

/// The lesson's simulation (step 3): customers drawn from the request's parameters, watched and
/// refitted. The page's worker and the widget's run this same function.
pub fn simulate_lesson(
    req: &crate::protocol::LessonRequest,
) -> Result<clv_core::teach::simulated::SimulatedBase, String> {
    use clv_core::teach::simulated::{simulate_base, Classroom};
    Classroom::new(req.params, req.customers, req.weeks, req.seed)
        .and_then(|c| simulate_base(&c))
        .map_err(|e| format!("The lesson's simulation: {e}."))
}

/// A published data set that could not be fitted, as the lesson says it.
pub fn lesson_data_error(e: clv_core::teach::TeachError) -> String {
    format!("The lesson's data: {e}.")
}

/// Holdout evaluation of every continuous-time model beside the naive baseline.
pub fn evaluate(tx: &Transactions, users: Option<&Users>, req: &HoldoutRequest) -> Result<HoldoutReport, String> {
    let opts = fit_options(req.penalizer)?;
    let cutoff = Cutoff::checked(req.cutoff, tx, "calibration end").map_err(|e| e.to_string())?;
    let end = req.holdout_end.number();
    if end <= cutoff.day {
        return Err("the holdout must end after the calibration period".into());
    }
    check_near_data("holdout end", end, tx).map_err(|e| e.to_string())?;
    let split = HoldoutSplit::build(tx, cutoff, end, req.unit);
    let mut report = holdout::evaluate(&split, tx, &ModelKind::CONTINUOUS, &opts).map_err(|e| e.to_string())?;
    if req.learned {
        let mut settings = clv_core::learned::leaderboard::LearnedSettings::default();
        settings.gbt.loss = req.learned_loss;
        // Each step (and each pass of the sequence model) is said beside the running task; Cancel
        // stops the worker.
        let mut progress = |step: clv_core::learned::leaderboard::Step| {
            crate::worker::post(crate::protocol::Reply::Status { message: step.to_string() });
            std::ops::ControlFlow::Continue(())
        };
        let users = users.map(clv_core::learned::users::UserFeatures::new);
        clv_core::learned::leaderboard::add_or_explain(
            tx,
            users.as_ref(),
            &split,
            &mut report,
            &settings,
            &mut progress,
        );
    }
    Ok(report)
}

/// Score the customers with a saved learned model (`text`, the file `name`) at `cutoff`, over
/// `horizon`: the CSV `clv score` writes.
pub fn score_saved(
    tx: &Transactions,
    users: Option<&Users>,
    name: &str,
    text: &str,
    cutoff: clv_core::time::Day,
    horizon: clv_core::time::Horizon,
) -> Result<ExportFile, String> {
    use clv_core::learned::temporal::{score_saved, SavedModel};
    let saved = SavedModel::from_json(text).map_err(|e| format!("{name}: {e}"))?;
    let cutoff = Cutoff::checked(cutoff, tx, "cutoff").map_err(|e| e.to_string())?;
    let users = users.map(clv_core::learned::users::UserFeatures::new);
    let scores =
        score_saved(tx, users.as_ref(), &saved, cutoff, horizon.in_days()).map_err(|e| format!("{name}: {e}"))?;
    let mut safety = clv_core::export::CsvSafety::default();
    let csv = scores.csv(tx, &mut safety);
    let mut notes = vec![format!(
        "{} customers scored at {} over {} days with the model trained for {}{}",
        scores.predictions.len(),
        clv_core::time::format_day(cutoff.day),
        horizon.in_days(),
        saved.trained_cutoff,
        if saved.sequence.is_some() { " (boosted trees and the sequence model)" } else { " (boosted trees)" }
    )];
    notes.extend(safety.notes());
    Ok(ExportFile { file_name: format!("learned-scores-{}.csv", clv_core::time::format_day(cutoff.day)), csv, notes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::NamedCard;
    use clv_core::ingest::Txn;
    use clv_core::models::given::ModelCard;
    use clv_core::models::ModelId;
    use clv_core::time::{Horizon, TimeUnit};

    const DAY: i64 = 86_400;

    fn req(cutoff: &str) -> SummaryRequest {
        SummaryRequest { cutoff: cutoff.parse().unwrap(), horizon: Horizon::days(10).unwrap(), unit: TimeUnit::Day }
    }

    /// The figures themselves are the core's (`SummaryStats`, tested there):
    /// here, that the worker checks the typed cutoff and exports the CLI's CSV.
    #[test]
    fn summary_requests_are_checked_and_exported_as_the_cli_does() {
        let tx = Transactions::from_pairs([
            ("a", Txn { ts: 0, amount: 1.0 }),
            ("a", Txn { ts: 4 * DAY, amount: 3.0 }),
            ("b", Txn { ts: 2 * DAY, amount: 5.0 }),
        ]);
        assert_eq!(summarise(&tx, &req("1970-01-06")).unwrap().customers, 2);
        assert!(summarise(&tx, &req("1969-12-01")).unwrap_err().contains("choose a later cutoff"));
        let far = summarise(&tx, &req("2204-01-06")).unwrap_err();
        assert!(far.starts_with("cutoff: cutoff 2204-01-06 is") && far.contains("did you mean"), "{far}");
        // A date or horizon that is not one never reaches the worker: the request does not deserialise.
        let bad = |json: &str| serde_json::from_str::<SummaryRequest>(json).unwrap_err().to_string();
        assert!(bad(r#"{"cutoff":"1970-02-30","horizon":10,"unit":"day"}"#).contains("expected a date as YYYY-MM-DD"));
        assert!(bad(r#"{"cutoff":"1970-01-06","horizon":0,"unit":"day"}"#).contains("horizon must be 1 to 3650"));
        let f = export(&tx, None, ExportKind::Summary, &req("1970-01-06")).unwrap();
        assert_eq!(f.file_name, "summary_1970-01-06_day.csv");
        assert!(f.notes.is_empty());
        assert_eq!(f.csv, "user_id,frequency,recency,T,monetary_value\na,1,4,5,3\nb,0,0,3,0\n");
    }

    const CDNOW: &str = include_str!("../../tests/data/cdnow_sample_transactions.csv");

    fn cdnow_session() -> (Transactions, ModelSession, ModelsResult) {
        let tx = clv_core::ingest::ingest(CDNOW.as_bytes(), &Default::default(), &mut |_| {}).unwrap().transactions;
        let req = ModelRequest {
            cutoff: Some("1997-09-30".parse().unwrap()),
            horizon: Horizon::days(90).unwrap(),
            unit: TimeUnit::Week,
            models: vec![ModelKind::Bgnbd, ModelKind::Pnbd],
            penalizer: 0.0,
            annual_discount_rate: 0.1,
            discounting: Default::default(),
            cards: Vec::new(),
        };
        let mut said = Vec::new();
        let (session, result) = fit_models(&tx, &req, &mut |s| said.push(s)).unwrap();
        assert_eq!(said.len(), 3, "{said:?}"); // two count models, then Gamma–Gamma
        assert!(said[1].starts_with("Fitting Pareto/NBD (2 of 3) on 2357 customers"), "{said:?}");
        (tx, session, result)
    }

    /// A users file giving the customers of `rows` the plans a, b, c in turn.
    fn plan_users(rows: &[PredictionRow]) -> Users {
        let csv: String = std::iter::once("user_id,plan".to_string())
            .chain(rows.iter().enumerate().map(|(i, r)| format!("{},{}", r.user_id, ["a", "b", "c"][i % 3])))
            .collect::<Vec<_>>()
            .join("\n");
        clv_core::features::parse_users(csv.as_bytes(), Default::default()).unwrap()
    }

    fn query(sort: SortKey, descending: bool, search: &str, page: usize) -> TableQuery {
        TableQuery {
            model: ModelKind::Pnbd,
            search: search.into(),
            sort,
            descending,
            page,
            page_size: 25,
            min_p_alive: None,
            min_clv: None,
            segment: None,
        }
    }

    #[test]
    fn the_customer_table_pages_sorts_and_searches_in_the_worker() {
        let (tx, mut session, result) = cdnow_session();
        assert!(result.fits.iter().all(|f| f.convergence.converged) && result.failed.is_empty());
        let first = session.table(&query(SortKey::Clv, true, "", 0), Some(&tx), None).unwrap();
        assert_eq!((first.total, first.matching, first.page, first.rows.len()), (2357, 2357, 0, 25));
        let second = session.table(&query(SortKey::Clv, true, "", 1), Some(&tx), None).unwrap();
        let clv: Vec<f64> = first.rows.iter().chain(&second.rows).map(|r| r.value.clv).collect();
        assert!(clv.windows(2).all(|w| w[0] >= w[1]), "descending across the page boundary");
        // A page past the end is the last page, not an empty one.
        let last = session.table(&query(SortKey::Clv, true, "", 10_000), Some(&tx), None).unwrap();
        assert_eq!((last.page, last.rows.len()), (94, 2357 - 94 * 25));
        // Search is a substring of the id; the count is of matches.
        let found = session.table(&query(SortKey::UserId, false, "111", 0), Some(&tx), None).unwrap();
        assert!(found.rows.iter().all(|r| r.user_id.contains("111")));
        assert!(found.rows.windows(2).all(|w| w[0].user_id < w[1].user_id));
        let expected = (0..tx.customers()).filter(|&c| tx.id(c).contains("111")).count();
        assert!(expected > 0);
        assert_eq!((found.matching, found.rows.len()), (expected, expected.min(25)));
    }

    #[test]
    fn predictions_are_computed_once_and_equal_the_cli_path() {
        let (tx, mut session, _) = cdnow_session();
        let a = session.export(ModelKind::Pnbd, ExportFormat::Csv).unwrap();
        let b = session.export(ModelKind::Pnbd, ExportFormat::Csv).unwrap();
        assert_eq!(a, b);
        assert_eq!(session.predictions.len(), 1, "cached per model");
        // `clv predict`'s path: the same customers, models and CLV settings.
        let cutoff = Cutoff::parse_checked("1997-09-30", &tx, "cutoff").unwrap();
        let customers = Customers::from_summary(&RfmSummary::build(&tx, cutoff, TimeUnit::Week), &tx);
        let set = pipeline::fit_models(&[ModelKind::Pnbd], true, &customers, &FitOptions::default(), &mut |_, _, _| {});
        let clv = ClvParams::new(Horizon::days(90).unwrap().into(), 0.1, TimeUnit::Week, Default::default()).unwrap();
        let rows = predict(set.model(ModelKind::Pnbd).unwrap(), set.spend_model(), &customers, &clv);
        assert_eq!(a.csv, predictions_csv(&rows, None, &mut CsvSafety::default()));
        assert_eq!(a.file_name, "predictions_pnbd.csv");
    }

    #[test]
    fn predictions_made_in_pieces_elsewhere_equal_those_made_here() {
        let (_, mut here, _) = cdnow_session();
        let (_, mut elsewhere, _) = cdnow_session();
        for kind in [ModelKind::Pnbd, ModelKind::Bgnbd] {
            let job = elsewhere.prediction_job(kind).unwrap();
            // What crosses to a helper is plain data.
            let job: PredictJob = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
            let c = elsewhere.customers();
            let mut values = Vec::new();
            for (rfm, m) in c.rfm.chunks(1000).zip(c.monetary.chunks(1000)) {
                values.extend(job.run(rfm, m).unwrap());
            }
            let short = values[1..].to_vec();
            elsewhere.add_predictions(kind, short); // not every customer: ignored
            assert!(elsewhere.prediction_job(kind).is_some());
            elsewhere.add_predictions(kind, values);
            assert!(elsewhere.prediction_job(kind).is_none(), "made once");
            assert_eq!(elsewhere.export(kind, ExportFormat::Csv), here.export(kind, ExportFormat::Csv));
        }
        // Not a model of the session: nothing to predict.
        assert!(elsewhere.prediction_job(ModelKind::Mbgnbd).is_none());
    }

    #[test]
    fn the_models_answer_only_at_the_cutoff_they_were_fitted_at() {
        let (tx, session, _) = cdnow_session();
        let at = Cutoff::parse_checked("1997-09-30", &tx, "cutoff").unwrap();
        let (_, spend, unit) = session.fitted_at(ModelKind::Pnbd, at).unwrap();
        assert!(spend.is_some() && unit == TimeUnit::Week);
        let other = Cutoff::parse_checked("1997-12-31", &tx, "cutoff").unwrap();
        let err = session.fitted_at(ModelKind::Pnbd, other).unwrap_err();
        assert!(err.contains("fitted at cutoff 1997-09-30"), "{err}");
        let err = session.fitted_at(ModelKind::Mbgnbd, at).unwrap_err();
        assert!(err.contains("mbgnbd: it was not fitted"), "{err}");
    }

    fn summary_file(text: &str, unit: TimeUnit) -> SummaryFile {
        let input = clv_core::features::parse_summary(text.as_bytes()).unwrap();
        SummaryFile { name: "summary.csv".into(), unit, input }
    }

    fn request_for(cutoff: Option<&str>, models: Vec<ModelKind>, unit: TimeUnit) -> ModelRequest {
        ModelRequest {
            cutoff: cutoff.map(|c| c.parse().unwrap()),
            horizon: Horizon::days(273).unwrap(),
            unit,
            models,
            penalizer: 0.0,
            annual_discount_rate: 0.1,
            discounting: Default::default(),
            cards: Vec::new(),
        }
    }

    fn param(r: &ModelsResult, model: ModelId, name: &str) -> f64 {
        let fit = r.fits.iter().find(|f| f.model == model).unwrap();
        assert!(fit.convergence.converged, "{model:?}: {}", fit.convergence.message);
        fit.params.iter().find(|p| p.name == name).unwrap().value
    }

    /// CDNOW's published summary (weeks) loaded as a file gives Fader, Hardie & Lee's BG/NBD, and the
    /// table, value and drill-down work without transactions; what needs dates says so.
    #[test]
    fn a_summary_file_is_fitted_like_transactions_at_their_cutoff() {
        let file = summary_file(include_str!("../../tests/data/cdnow_customers_summary.csv"), TimeUnit::Week);
        let stats = file.info().stats;
        // 1,411 of CDNOW's 2,357 made no repeat purchase in the 39 weeks (Fader, Hardie & Lee 2005).
        assert_eq!((stats.rows, stats.customers, stats.repeat_buyers), (2357, 2357.0, 946.0));
        let req = request_for(None, vec![ModelKind::Bgnbd, ModelKind::Pnbd], TimeUnit::Day);
        let mut said = Vec::new();
        let (mut session, r) = fit_summary_file(&file, &req, &mut |s| said.push(s)).unwrap();
        assert_eq!(r.unit, TimeUnit::Week, "the file's unit, whatever the request says");
        assert!(said[0].contains("on 2357 customers"), "{said:?}");
        // Published: r 0.2426, α 4.4135, a 0.7929, b 2.4258 (Fader, Hardie & Lee 2005).
        for (name, want) in [("r", 0.2426), ("alpha", 4.4135), ("a", 0.7929), ("b", 2.4258)] {
            let got = param(&r, ModelId::Bgnbd, name);
            assert!((got - want).abs() < 5e-4, "{name}: {got} vs {want}");
        }
        // The same customers from the transactions at 1997-09-30 give the same fit.
        let tx = clv_core::ingest::ingest(CDNOW.as_bytes(), &Default::default(), &mut |_| {}).unwrap().transactions;
        let (_, from_tx) =
            fit_models(&tx, &request_for(Some("1997-09-30"), vec![ModelKind::Bgnbd], TimeUnit::Week), &mut |_| {})
                .unwrap();
        for name in ["r", "alpha", "a", "b"] {
            let (a, b) = (param(&r, ModelId::Bgnbd, name), param(&from_tx, ModelId::Bgnbd, name));
            assert!((a - b).abs() < 2e-3 * b, "{name}: file {a} vs transactions {b}");
        }
        assert!(r.spend.is_none() && r.no_spend_reason().is_some(), "no monetary column: no spend model");
        let page = session.table(&query(SortKey::ExpectedTxn, true, "", 0), None, None).unwrap();
        assert_eq!((page.total, page.rows.len()), (2357, 25));
        let d = session.customer(None, ModelKind::Pnbd, &page.rows[0].user_id).unwrap();
        assert_eq!(d.row, page.rows[0]);
        assert!(d.cutoff.is_none() && d.purchases.is_empty() && d.alive_path.is_empty());
        let v = session.value(ModelKind::Pnbd, None, None, None).unwrap();
        assert!(v.segment_columns.is_empty() && !v.money);
        let e = session.value(ModelKind::Pnbd, None, None, Some("channel")).unwrap_err();
        assert!(e.contains("no segment columns"), "{e}");
        let e = session.fitted_at(ModelKind::Pnbd, Cutoff::parse_checked("1997-09-30", &tx, "cutoff").unwrap());
        assert!(e.unwrap_err().contains("fitted on a summary file"));
        assert!(needs_transactions(&file).starts_with("summary.csv is a summary file"));
    }

    /// A histogram made by `clv sql --emit histogram` (CDNOW at 1997-09-30, on DuckDB) gives the
    /// published BG/NBD, says why there is no spend model, and exports one row per group: what
    /// `clv predict` writes for the same file.
    #[test]
    fn a_histogram_is_fitted_as_its_customers_and_exported_per_group() {
        let file = summary_file(include_str!("../../tests/data/sql/cdnow_histogram.csv"), TimeUnit::Week);
        let stats = file.info().stats;
        assert!(stats.histogram && stats.weighted && stats.has_monetary);
        assert_eq!((stats.rows, stats.customers, stats.repeat_buyers), (1016, 2357.0, 946.0));
        let req = request_for(None, vec![ModelKind::Bgnbd], TimeUnit::Week);
        let (mut session, r) = fit_summary_file(&file, &req, &mut |_| {}).unwrap();
        for (name, want) in [("r", 0.2426), ("alpha", 4.4135), ("a", 0.7929), ("b", 2.4258)] {
            let got = param(&r, ModelId::Bgnbd, name);
            assert!((got - want).abs() < 5e-4, "{name}: {got} vs {want}");
        }
        let why = r.no_spend_reason().expect("no spend model from a histogram");
        assert!(why.contains("each customer's own mean spend"), "{why}");
        let export = session.export(ModelKind::Bgnbd, ExportFormat::Csv).unwrap();
        assert_eq!(export.file_name, "predictions_per_group_bgnbd.csv");
        let customers = clv_core::pipeline::Customers::from_input(&file.input);
        let model = session.models.model(ModelKind::Bgnbd).unwrap();
        let rows = group_predictions(model, None, &customers, &session.clv);
        assert_eq!(export.csv, group_predictions_csv(&rows, &mut CsvSafety::default()));
        assert_eq!(export.csv.lines().count(), 1017);
        assert!(export.csv.starts_with("frequency,recency,T,count,p_alive,expected_txn,discounted_txn,"));
    }

    /// The donations patterns (periods and weights) give Fader, Hardie & Shang's BG/BB, weights kept.
    #[test]
    fn a_weighted_discrete_summary_file_is_bg_bb_s() {
        let file = summary_file(include_str!("../../tests/data/donations.csv"), TimeUnit::Month);
        let stats = file.info().stats;
        assert!(stats.discrete && stats.weighted && stats.rows == 22);
        assert_eq!(stats.customers, 11_104.0);
        let (mut session, r) =
            fit_summary_file(&file, &request_for(None, vec![ModelKind::Bgbb], TimeUnit::Month), &mut |_| {}).unwrap();
        // Published: α 1.204, β 0.750, γ 0.657, δ 2.783.
        for (name, want) in [("alpha", 1.204), ("beta", 0.750), ("gamma", 0.657), ("delta", 2.783)] {
            let got = param(&r, ModelId::Bgbb, name);
            assert!((got - want).abs() < 1e-3, "{name}: {got} vs {want}");
        }
        let page =
            session.table(&TableQuery { model: ModelKind::Bgbb, ..query(SortKey::PAlive, true, "", 0) }, None, None);
        assert_eq!(page.unwrap().total, 22, "one row per pattern, weighted");
        // The Value view counts customers, not rows: its total is the weighted sum of the rows' CLV,
        // and equals the total with its interval from the same weights.
        let v = session.value(ModelKind::Bgbb, None, None, None).unwrap();
        assert_eq!(v.portfolio.customers, 11_104.0);
        let rows = session.predictions(ModelKind::Bgbb).unwrap().to_vec();
        let weighted = clv_core::total(rows.iter().zip(&file.input.rows).map(|(r, f)| r.value.clv * f.weight));
        assert!((v.portfolio.total_clv - weighted).abs() < 1e-9 * weighted, "{} vs {weighted}", v.portfolio.total_clv);
        assert!((v.total.total_clv - weighted).abs() < 1e-6 * weighted, "{:?}", v.total);
    }

    fn card(model: ModelId, unit: Option<TimeUnit>, params: &[(&str, f64)]) -> NamedCard {
        let params = params.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        NamedCard {
            file_name: format!("{}.json", model.code()),
            card: ModelCard { model, unit, params, converged: Some(true) },
        }
    }

    /// Loaded model cards are used as given: nothing they cover is fitted, and the table,
    /// exports and frequency chart are computed from their parameters.
    #[test]
    fn model_cards_are_used_as_given_and_checked_against_the_data() {
        let tx = clv_core::ingest::ingest(CDNOW.as_bytes(), &Default::default(), &mut |_| {}).unwrap().transactions;
        // Fader, Hardie & Lee (2005) on CDNOW, and lifetimes' documented Gamma–Gamma.
        let fhl = [("r", 0.242593), ("alpha", 4.413532), ("a", 0.792886), ("b", 2.425754)];
        let gg = card(ModelId::Gg, Some(TimeUnit::Week), &[("p", 6.25), ("q", 3.74), ("gamma", 15.44)]);
        let request = |cards: Vec<NamedCard>| ModelRequest {
            cutoff: Some("1997-09-30".parse().unwrap()),
            horizon: Horizon::days(273).unwrap(),
            unit: TimeUnit::Week,
            models: vec![ModelKind::Bgnbd, ModelKind::Pnbd],
            penalizer: 0.0,
            annual_discount_rate: 0.0,
            discounting: Default::default(),
            cards,
        };
        let mut said = Vec::new();
        let bgnbd = card(ModelId::Bgnbd, Some(TimeUnit::Week), &fhl);
        let (mut session, r) =
            fit_models(&tx, &request(vec![gg.clone(), bgnbd.clone()]), &mut |s| said.push(s)).unwrap();
        assert!(said.is_empty() && r.fits.is_empty() && r.spend.is_none(), "nothing is fitted: {said:?}");
        assert_eq!(r.usable_count_models(), vec![ModelId::Bgnbd]);
        assert_eq!(r.no_spend_reason(), None);
        let names: Vec<&str> = r.given.iter().flat_map(|g| g.params.iter().map(|(n, _)| n.as_str())).collect();
        assert_eq!(names, ["p", "q", "gamma", "r", "alpha", "a", "b"], "each model's own order");
        assert_eq!(r.frequency.len(), 1, "the calibration chart of the given model");
        let model: clv_core::models::BgNbd = "r=0.242593,alpha=4.413532,a=0.792886,b=2.425754"
            .parse::<clv_core::models::given::GivenParams>()
            .unwrap()
            .model()
            .unwrap();
        let page = session
            .table(&TableQuery { model: ModelKind::Bgnbd, ..query(SortKey::Clv, true, "", 0) }, Some(&tx), None)
            .unwrap();
        for row in &page.rows {
            let rfm = clv_core::models::Rfm::new(row.frequency, row.recency, row.t);
            let e = clv_core::models::CountModel::expected_purchases(&model, &rfm, 39.0);
            assert!((row.value.expected_txn - e).abs() < 1e-12, "{row:?}: {e}");
            assert!(row.value.clv > 0.0 && row.value.expected_spend > 0.0);
        }
        // A count card replaces the count fits only: Gamma–Gamma is still fitted without one.
        let (_, r) = fit_models(&tx, &request(vec![bgnbd.clone()]), &mut |_| {}).unwrap();
        assert!(r.fits.is_empty() && r.spend.as_ref().is_some_and(|f| f.convergence.converged));
        // Cards that do not fit the data or each other are refused, naming the file.
        let e = |cards| fit_models(&tx, &request(cards), &mut |_| {}).map(|_| ()).unwrap_err();
        let daily = card(ModelId::Bgnbd, Some(TimeUnit::Day), &fhl);
        assert!(e(vec![daily]).contains("bgnbd.json: the card's bgnbd parameters are per day"));
        let mut failed = bgnbd.clone();
        failed.card.converged = Some(false);
        assert!(e(vec![failed]).contains("did not converge"));
        assert!(e(vec![bgnbd.clone(), bgnbd]).contains("a second bgnbd model card"));
        let wrong = card(ModelId::Pnbd, None, &fhl);
        assert!(e(vec![wrong]).contains("pnbd.json: pnbd has no parameter"));
    }

    /// A drill-down is the table's row and two distributions over the horizon that sum to one,
    /// whose means (with the cut-off tail) bracket the expected purchases shown beside them.
    #[test]
    fn a_customer_s_drill_down_is_their_row_and_two_distributions() {
        let (tx, mut session, _) = cdnow_session();
        let page = session.table(&query(SortKey::ExpectedTxn, true, "", 0), Some(&tx), None).unwrap();
        let top = page.rows[0].clone();
        let d = session.customer(Some(&tx), ModelKind::Pnbd, &top.user_id).unwrap();
        assert_eq!(d.row, top);
        // The history: one purchase per repeat purchase day and the first, to the cutoff; P(alive)
        // along it is the row's at the cutoff, and the path runs to the horizon's end.
        let before = d.purchases.iter().filter(|p| !p.2).count();
        assert_eq!(before as f64, top.frequency + 1.0);
        assert!(d.purchases.iter().all(|p| p.2 == (Some(p.0) > d.cutoff)));
        let at_cutoff = d.alive_path.iter().find(|p| Some(p.0) == d.cutoff).unwrap().1;
        assert!((at_cutoff - top.value.p_alive).abs() < 1e-12, "{at_cutoff} {}", top.value.p_alive);
        assert_eq!(d.alive_path.last().unwrap().0, "1997-12-29".parse().unwrap()); // + 90 days
        assert_eq!(d.alive_path[0].0, d.purchases[0].0);
        assert_eq!((d.unit, d.horizon_units), (TimeUnit::Week, 90.0 / 7.0));
        assert!(d.money);
        for pmf in [&d.pmf, &d.new_customer_pmf] {
            assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{pmf:?}");
            assert!(pmf.iter().all(|p| (0.0..=1.0).contains(p)));
            assert!((MIN_PMF_SHOWN + 2..=MAX_PMF_SHOWN + 2).contains(&pmf.len()));
        }
        // The tail bar holds counts above the last one shown: Σ n·p with the tail at its least
        // possible count is a lower bound of the mean, close to it when ≥ 99% of the mass is shown.
        let lower_mean = |pmf: &[f64]| {
            let n = pmf.len() - 1;
            pmf[..n].iter().enumerate().map(|(k, p)| k as f64 * p).sum::<f64>() + pmf[n] * n as f64
        };
        for (pmf, mean) in [(&d.pmf, top.value.expected_txn), (&d.new_customer_pmf, d.new_customer_mean)] {
            let low = lower_mean(pmf);
            assert!(low <= mean + 1e-12 && mean - low < 0.01 * mean, "{low} vs {mean}");
        }
        // The 80% range shown in the table is the pmf's 10th–90th percentile.
        let cdf: Vec<f64> = d
            .pmf
            .iter()
            .scan(0.0, |s, p| {
                *s += p;
                Some(*s)
            })
            .collect();
        let quantile = |q: f64| cdf.iter().position(|&c| c >= q).unwrap() as u32;
        assert_eq!((top.value.txn.lower80, top.value.txn.upper80), (quantile(0.1), quantile(0.9)));
        let e = session.customer(Some(&tx), ModelKind::Pnbd, "no such id").unwrap_err();
        assert!(e.contains("no customer \"no such id\" at the cutoff 1997-09-30"), "{e}");
        assert!(session.customer(Some(&tx), ModelKind::Mbgnbd, &top.user_id).unwrap_err().contains("not fitted"));
    }

    /// The base's total is the sum of the customers' CLV, and the four quadrant downloads
    /// partition the customers of the predictions export.
    #[test]
    fn the_value_view_sums_the_customers_and_its_quadrants_partition_them() {
        let (tx, mut session, _) = cdnow_session();
        let v = session.value(ModelKind::Pnbd, Some(&tx), None, None).unwrap();
        let rows = session.predictions(ModelKind::Pnbd).unwrap().to_vec();
        assert!(v.segments.is_empty() && v.segment_columns.is_empty());
        // Split by a users-file column: the segments add up to the base.
        let users = plan_users(&rows);
        let split = session.value(ModelKind::Pnbd, Some(&tx), Some(&users), Some("plan")).unwrap();
        assert_eq!(split.segment_columns, ["plan"]);
        assert_eq!(split.segments.len(), 3);
        assert_eq!(split.segments.iter().map(|g| g.customers).sum::<usize>(), 2357);
        let sum: f64 = split.segments.iter().map(|g| g.total_clv).sum();
        assert!((sum - v.portfolio.total_clv).abs() < 1e-9 * sum);
        let e = session.value(ModelKind::Pnbd, Some(&tx), Some(&users), Some("region")).unwrap_err();
        assert!(e.contains("available: plan"), "{e}");
        let total: f64 = rows.iter().map(|r| r.value.clv).sum();
        assert!((v.portfolio.total_clv - total).abs() < 1e-9 * total, "{} vs {total}", v.portfolio.total_clv);
        assert_eq!(v.portfolio.customers, 2357.0);
        assert!(v.money);
        let mut ids: Vec<String> = Vec::new();
        for q in Quadrant::ALL {
            let f = session.export_quadrant(ModelKind::Pnbd, q).unwrap();
            let lines: Vec<&str> = f.csv.lines().skip(1).collect();
            let shown = v.portfolio.quadrants.iter().find(|c| c.quadrant == q).unwrap().customers;
            assert_eq!(lines.len() as f64, shown, "{q:?}");
            ids.extend(lines.iter().map(|l| l.split(',').next().unwrap().to_string()));
        }
        ids.sort();
        let mut all: Vec<String> = rows.iter().map(|r| r.user_id.clone()).collect();
        all.sort();
        assert_eq!(ids, all);
    }

    /// Filters keep the customers at or above both thresholds, and the count says how many.
    #[test]
    fn the_table_filters_by_p_alive_and_clv() {
        let (tx, mut session, _) = cdnow_session();
        let rows = session.predictions(ModelKind::Pnbd).unwrap().to_vec();
        let q = TableQuery { min_p_alive: Some(0.5), min_clv: Some(20.0), ..query(SortKey::Clv, true, "", 0) };
        let page = session.table(&q, Some(&tx), None).unwrap();
        let expected = rows.iter().filter(|r| r.value.p_alive >= 0.5 && r.value.clv >= 20.0).count();
        assert!(expected > 0 && expected < rows.len());
        assert_eq!((page.matching, page.total), (expected, rows.len()));
        assert!(page.rows.iter().all(|r| r.value.p_alive >= 0.5 && r.value.clv >= 20.0));
        // By segment: a users-file column's value, as the Value view splits the base.
        let users = plan_users(&rows);
        let q = TableQuery { segment: Some(("plan".into(), "b".into())), ..query(SortKey::Clv, true, "", 0) };
        let page = session.table(&q, Some(&tx), Some(&users)).unwrap();
        assert_eq!(page.matching, rows.iter().enumerate().filter(|(i, _)| i % 3 == 1).count());
        let v = session.value(ModelKind::Pnbd, Some(&tx), Some(&users), Some("plan")).unwrap();
        assert_eq!(v.segments.iter().find(|g| g.segment == "b").unwrap().customers, page.matching);
    }
}
