//! Messages across the worker boundary. Everything heavy (parsing, features,
//! models) runs in the worker; the page only sends requests and renders
//! replies. Both sides (de)serialise with `serde-wasm-bindgen`.

use clv_core::clv::Discounting;
use clv_core::cohorts::btyd::BtydCohortValue;
use clv_core::cohorts::clv::CohortValue;
use clv_core::cohorts::survival::CohortRetention;
use clv_core::forecast::Backtest;
use clv_core::holdout::HoldoutReport;
use clv_core::ingest::{IngestOptions, IngestReport};
use clv_core::models::compare::Standing;
use clv_core::models::given::ModelCard;
use clv_core::models::{FitReport, ModelId};
use clv_core::pipeline::{FrequencyBin, ModelKind, PredictionRow};
use clv_core::portfolio::{Portfolio, Quadrant};
use clv_core::time::{CohortGrain, Day, Horizon, TimeUnit};
use serde::{Deserialize, Serialize};

/// The number of a request, unique in a page's life (across workers): every
/// reply that belongs to a request names it, so the page files each reply
/// under the request it answers — never under whatever it asked last.
pub type RequestId = u32;

/// Page → worker. Posted as `{ id, request, file? }`: the [`RequestId`] in
/// `id`; an `Ingest` request travels with the `File`/`Blob` in a sibling
/// property (`file`) of the posted object, since a `File` is not serde data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    Ingest {
        name: String,
        options: IngestOptions,
    },
    Summarise(SummaryRequest),
    FitModels(ModelRequest),
    Evaluate(HoldoutRequest),
    Table(TableQuery),
    /// One customer's drill-down under a fitted (or given) model.
    Customer {
        model: ModelKind,
        user_id: String,
    },
    ExportPredictions {
        model: ModelKind,
        format: ExportFormat,
    },
    /// The customer base under a model: value, concentration, quadrants, and split by a
    /// segment column if one is named.
    Value {
        model: ModelKind,
        #[serde(default)]
        segment: Option<String>,
    },
    /// A fitted model over the frequency × recency plane for customers of age `t` (the
    /// customers' median T when `None`).
    Explore {
        model: ModelKind,
        t: Option<f64>,
    },
    /// One quadrant's customers, as the predictions CSV.
    ExportQuadrant {
        model: ModelKind,
        quadrant: Quadrant,
    },
    Export {
        what: ExportKind,
        request: SummaryRequest,
    },
    /// A summary file (one row per customer: frequency, recency, T or periods, and perhaps
    /// monetary value and weights) in place of transactions; its times are in `unit` (the file
    /// cannot say). The `File` travels in the `file` property like an `Ingest`'s.
    LoadSummary {
        name: String,
        unit: TimeUnit,
    },
    /// The optional users file (signup dates, attributes); the `File` travels
    /// in the `file` property like an `Ingest`'s.
    LoadUsers {
        name: String,
    },
    Cohorts(CohortRequest),
    /// `table`: the cohort × age table; else the cohort CLV rows.
    ExportCohorts {
        request: CohortRequest,
        table: bool,
    },
    /// Score the loaded customers with a saved learned model (the file travels in the `file`
    /// property) at `cutoff`, over `horizon` after it: a CSV download.
    ScoreSaved {
        name: String,
        cutoff: Day,
        horizon: clv_core::time::Horizon,
    },
    /// The lesson's simulation: customers drawn from BG/NBD parameters, watched, refitted.
    Lesson(LessonRequest),
    /// The lesson's published data set fitted (CDNOW's `File` travels in the `file` property; the
    /// donations patterns are bundled). Kept apart from the user's data.
    LessonData {
        dataset: clv_core::teach::real::Dataset,
    },
}

/// The lesson's simulation as the page asks for it; the worker checks it into a
/// [`clv_core::teach::simulated::Classroom`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct LessonRequest {
    /// BG/NBD's r, α, a, b (rates per week).
    pub params: [f64; 4],
    pub customers: u64,
    pub weeks: u32,
    pub seed: u64,
}

/// Cohort tables and cohort CLV at a horizon after signup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CohortRequest {
    /// Last day of data used.
    pub cutoff: Day,
    /// Cohorts are valued this long after signup.
    pub horizon: Horizon,
    pub grain: CohortGrain,
    pub age_unit: TimeUnit,
    pub level: f64,
    /// Value the cohorts bottom-up with this fitted model too (if fitted at the same cutoff).
    pub btyd: Option<ModelKind>,
    /// A users-file column to cross the cohorts with.
    pub segment: Option<String>,
}

/// What the page shows about a loaded users file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UsersInfo {
    pub name: String,
    pub users: usize,
    pub with_signup: usize,
    pub attributes: Vec<String>,
    pub rejected: usize,
    /// The first few `(line, why)`.
    pub first_rejected: Vec<(u64, String)>,
}

/// What the Cohorts tab shows. Forecast paths stay in the worker.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CohortsView {
    pub request: CohortRequest,
    pub total_revenue: f64,
    /// Cohort totals (no segments in the page): retention and cumulative
    /// revenue per user by age, fully observed ages only.
    pub matrix: Vec<CohortCurves>,
    pub values: Vec<CohortValue>,
    pub btyd: Option<(ModelKind, Vec<BtydCohortValue>)>,
    pub btyd_note: Option<String>,
    pub daily: DailyForecast,
    pub backtest: Option<Backtest>,
    pub backtest_note: String,
    pub notes: Vec<String>,
    /// Each cohort's survivors and their sBG projection (cohort totals).
    #[serde(default)]
    pub retention: Vec<CohortRetention>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CohortCurves {
    pub cohort: String,
    pub users: u32,
    pub retention: Vec<f64>,
    pub cumulative_per_user: Vec<f64>,
}

/// The last weeks of daily net revenue and the next four, with a band: the core's.
pub use clv_core::cohorts::daily::DailyForecast;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    Summary,
    Features,
}

/// The customers at a cutoff: the summary, the features and their label window.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct SummaryRequest {
    /// The last day of history (inclusive).
    pub cutoff: Day,
    /// The label window after the cutoff (and the CLV horizon of a fit).
    pub horizon: Horizon,
    pub unit: TimeUnit,
}

/// A download: its name, its text, and what the cell guard changed (said
/// beside the button, as the CLI says it on stderr).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportFile {
    pub file_name: String,
    pub csv: String,
    pub notes: Vec<String>,
}

/// Worker → page: a reply and the request it answers (`None` only for
/// `Ready`, and for a panic outside any request).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Envelope {
    pub id: Option<RequestId>,
    pub reply: Reply,
}

/// Worker → page. `Progress` and `Status` are interim (any number per
/// request); every other reply is the final one of its request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    Ready,
    Progress {
        bytes: f64,
        total: f64,
        rows: f64,
    },
    Ingested {
        name: String,
        report: Box<IngestReport>,
    },
    Summary(SummaryStats),
    /// A summary file was read: what the Data view shows of it.
    SummaryLoaded(Box<SummaryFileInfo>),
    /// What the worker is doing now (model fits, evaluation).
    Status {
        message: String,
    },
    Models(Box<ModelsResult>),
    Holdout(Box<HoldoutReport>),
    Table(TablePage),
    Customer(Box<CustomerDetail>),
    Value(Box<ValueView>),
    Explore(Box<ExploreView>),
    Exported(ExportFile),
    Cohorts(Box<CohortsView>),
    Users(UsersInfo),
    Lesson(Box<clv_core::teach::simulated::SimulatedBase>),
    LessonData(Box<clv_core::teach::real::RealFit>),
    /// A problem the user can act on (bad file, bad setting).
    Failed {
        message: String,
    },
    /// A bug: a Rust panic inside the worker.
    Panicked {
        message: String,
    },
}

/// A loaded summary file: its name, the unit its times are in, and its figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SummaryFileInfo {
    pub name: String,
    pub unit: TimeUnit,
    pub stats: clv_core::features::SummaryFileStats,
}

/// What the page shows about the BTYD summary and the label window: the core's.
pub use clv_core::features::{SummaryPreviewRow, SummaryStats};

/// Fit the count models and Gamma–Gamma at a cutoff, for CLV over a horizon.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelRequest {
    /// The last day of history of the transactions; `None` for a loaded summary file, whose
    /// `T` already ends at its own (undated) cutoff.
    pub cutoff: Option<Day>,
    /// CLV's horizon.
    pub horizon: Horizon,
    /// The models' time unit (a summary file's own unit, as the person said when loading it).
    pub unit: TimeUnit,
    pub models: Vec<ModelKind>,
    pub penalizer: f64,
    /// Annual discount rate (0.10 = 10%).
    pub annual_discount_rate: f64,
    /// How CLV discounts: period by period over the exact horizon, or as `lifetimes`.
    #[serde(default)]
    pub discounting: Discounting,
    /// Model cards the user loaded: their models are used as given, not
    /// fitted (any count card replaces fitting `models`; a Gamma–Gamma card,
    /// fitting the spend model).
    #[serde(default)]
    pub cards: Vec<NamedCard>,
}

/// A model card and the file it came from (read and parsed in the tab).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NamedCard {
    pub file_name: String,
    pub card: ModelCard,
}

/// A model used at a card's parameters: what the Models panel shows of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GivenReport {
    pub model: ModelId,
    pub file_name: String,
    /// Parameter values by name, in the model's order.
    pub params: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelsResult {
    pub fits: Vec<FitReport>,
    /// Per converged count model: expected vs actual customers by repeat purchases.
    pub frequency: Vec<(ModelId, Vec<FrequencyBin>)>,
    pub spend: Option<FitReport>,
    /// (model, reason) for fits that failed outright or did not converge.
    pub failed: Vec<(ModelId, String)>,
    pub spend_error: Option<String>,
    /// Customers the models were fitted on: a weighted file's rows count as their weights.
    pub customers: usize,
    /// Rows fitted: fewer than `customers` when a row stands for several (a histogram, weights).
    #[serde(default)]
    pub rows: usize,
    /// The horizon in the models' unit (every prediction is at exactly this time).
    pub horizon_units: f64,
    pub unit: TimeUnit,
    pub annual_discount_rate: f64,
    pub discounting: Discounting,
    /// `lifetimes`' whole months, when its discounting was chosen.
    pub months: u32,
    /// Models used at a loaded card's parameters (not fitted to this data).
    #[serde(default)]
    pub given: Vec<GivenReport>,
    /// The converged count models ranked by BIC.
    #[serde(default)]
    pub leaderboard: Vec<Standing>,
}

impl ModelRequest {
    /// The customers' request this fit is made from, when it is made from transactions.
    pub fn summary(&self) -> Option<SummaryRequest> {
        Some(SummaryRequest { cutoff: self.cutoff?, horizon: self.horizon, unit: self.unit })
    }
}

impl ModelsResult {
    /// The count models predictions can be made with: converged fits, then given ones.
    pub fn usable_count_models(&self) -> Vec<ModelId> {
        let fitted = self.fits.iter().filter(|f| f.convergence.converged && f.model != ModelId::Gg).map(|f| f.model);
        let given = self.given.iter().map(|g| g.model).filter(|m| *m != ModelId::Gg);
        let mut out: Vec<ModelId> = Vec::new();
        for m in fitted.chain(given) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// Why spend and CLV are empty, or `None` when a spend model (fitted and
    /// converged, or given) is there.
    pub fn no_spend_reason(&self) -> Option<String> {
        if self.given.iter().any(|g| g.model == ModelId::Gg) {
            return None;
        }
        match &self.spend {
            Some(f) if f.convergence.converged => None,
            Some(f) => Some(f.convergence.message.clone()),
            None => Some(self.spend_error.clone().unwrap_or_else(|| "no spend model was fitted".into())),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HoldoutRequest {
    /// The last day of the calibration period.
    pub cutoff: Day,
    /// The last day of the holdout period.
    pub holdout_end: Day,
    pub unit: TimeUnit,
    pub penalizer: f64,
    /// Also train the learned models (boosted trees by the temporal protocol, and their ensemble
    /// with Pareto/NBD) on the calibration period and score them.
    #[serde(default)]
    pub learned: bool,
    /// The boosted trees' loss (the page's choice; Poisson by default).
    #[serde(default = "poisson")]
    pub learned_loss: clv_core::learned::Loss,
}

fn poisson() -> clv_core::learned::Loss {
    clv_core::learned::Loss::Poisson
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    UserId,
    Frequency,
    Recency,
    T,
    PAlive,
    ExpectedTxn,
    ExpectedSpend,
    Clv,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableQuery {
    pub model: ModelKind,
    pub search: String,
    pub sort: SortKey,
    pub descending: bool,
    pub page: usize,
    pub page_size: usize,
    /// Only customers with P(alive) at least this.
    #[serde(default)]
    pub min_p_alive: Option<f64>,
    /// Only customers with CLV at least this.
    #[serde(default)]
    pub min_clv: Option<f64>,
    /// Only customers of this segment: (column, value), as the Value view labels them.
    #[serde(default)]
    pub segment: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TablePage {
    pub model: ModelKind,
    /// Rows matching the search.
    pub matching: usize,
    pub total: usize,
    pub page: usize,
    pub rows: Vec<PredictionRow>,
}

/// The Value & segments view: the customer base under one model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ValueView {
    pub model: ModelKind,
    /// The total CLV with its interval from the fits' parameter uncertainty (or why there is none).
    pub total: clv_core::uncertainty::TotalClv,
    pub portfolio: Portfolio,
    /// The horizon in the model's unit.
    pub horizon_units: f64,
    pub unit: TimeUnit,
    /// CLV is money (a spend model is there); else the value is discounted expected purchases.
    pub money: bool,
    /// The segment column the base is split by, and the split (most valuable first).
    pub segment: Option<String>,
    pub segments: Vec<clv_core::portfolio::SegmentValue>,
    /// The segment columns there are (users file, then channel/country of the first purchase).
    pub segment_columns: Vec<String>,
}

/// The frequency × recency explorer: a model's P(alive) and expected purchases over the horizon
/// on a grid, for customers of one age.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExploreView {
    pub model: ModelKind,
    pub grid: clv_core::explore::FrequencyRecency,
    pub unit: TimeUnit,
    /// Ages worth looking at: the customers' T at the 10th, 25th, 50th, 75th and 90th percentile.
    pub t_choices: Vec<f64>,
}

/// One customer under one model: the table's row and the distribution of
/// their purchases over the horizon beside a new customer's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CustomerDetail {
    pub model: ModelKind,
    pub row: PredictionRow,
    /// The horizon in the model's unit.
    pub horizon_units: f64,
    pub unit: TimeUnit,
    /// P(Y = 0), …, P(Y = N), then P(Y > N): this customer's purchases in the horizon.
    pub pmf: Vec<f64>,
    /// The same for a customer acquired now (P(X(t) = n), no history).
    pub new_customer_pmf: Vec<f64>,
    /// A new customer's expected purchases over the horizon.
    pub new_customer_mean: f64,
    /// Spend and CLV are money (a spend model is there).
    pub money: bool,
    /// The customer's purchase days in the file: (date, net amount, after the cutoff — not used).
    #[serde(default)]
    pub purchases: Vec<(Day, f64, bool)>,
    /// P(alive) along the history and on over the horizon with no purchase: (date, P(alive)).
    #[serde(default)]
    pub alive_path: Vec<(Day, f64)>,
    /// The cutoff the models use (`None` for a summary file: no dates, no timeline).
    pub cutoff: Option<Day>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Test hook, never sent by the page's own controls: a posted message may carry
/// `testCrash` (this, serialised) beside `request`, and the worker then fails
/// that way before handling the request — so the end-to-end tests can check
/// that the page survives a worker failure. Armed only through
/// `window.__clvTest.crashNext(kind, how)`, which exists only when the page's
/// URL has `?test-hooks` (see ARCHITECTURE.md, "The worker boundary").
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TestCrash {
    /// A Rust panic: the hook posts `Reply::Panicked`, then the worker traps.
    Panic,
    /// The allocation-failure abort: no panic hook, no reply, only the
    /// worker's `error` event — what running out of memory looks like.
    OutOfMemory,
    /// A panic in the helper worker of the first fit started (the longest; a model request fitted
    /// by several workers — see `worker::fit_pool` — else no effect), not in the page's worker.
    HelperPanic,
    /// The allocation-failure abort in that helper.
    HelperOutOfMemory,
}

/// The `threads=N` parameter of a URL's query (`?threads=2&…`): how many fits (or pieces of a
/// prediction) the worker may run at once (tests and benchmarks compare 1 with more). `None` when absent or not a number from 1 to 64.
pub fn threads_param(search: &str) -> Option<usize> {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("threads="))
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=64).contains(n))
}

#[cfg(test)]
mod tests {
    use super::threads_param;

    #[test]
    fn threads_come_from_the_query_or_not_at_all() {
        assert_eq!(threads_param("?threads=2"), Some(2));
        assert_eq!(threads_param("?test-hooks&threads=1"), Some(1));
        assert_eq!(threads_param("threads=64"), Some(64));
        for absent in ["", "?", "?threads=", "?threads=0", "?threads=65", "?threads=two", "?nthreads=2", "?threads=-1"]
        {
            assert_eq!(threads_param(absent), None, "{absent}");
        }
    }
}
