//! `clv`: the native command line over the same core the browser app runs.

use clap::{Args, Parser, Subcommand, ValueEnum};
use clv_core::clv::{ClvParams, Discounting};
use clv_core::cohorts::survival;
use clv_core::export::CsvSafety;
use clv_core::features::{
    check_near_data, looks_like_summary, parse_summary, parse_users, purchase_days, Cutoff, FeatureParams,
    FeatureTable, HoldoutSplit, Periods, RfmSummary, SummaryStats, Users,
};
use clv_core::holdout;
use clv_core::ingest::{
    self, parse_rates, ColumnMapping, DateOrder, IngestOptions, IngestReport, Ingested, Role, Transactions,
};
use clv_core::models::given::{GivenParams, ModelCard};
use clv_core::models::{FitOptions, FitReport, ModelId};
use clv_core::pipeline::{
    check_sizes, fit_count, fit_models, fit_spend, frequency_fit, group_predictions, group_predictions_csv, predict,
    predictions_csv, purchase_pmfs, with_tail, AnyModel, Customers, GivenModels, ModelKind, PredictionRow,
};
use clv_core::simulate::{write_csv, SimulationParams};
use clv_core::time::{CohortGrain, Day, Horizon, HorizonUnit, PredictionHorizon, TimeUnit};
use clv_core::tracking::{increments, TrackingFrame};
use clv_core::uncertainty::TotalClv;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod cohorts;

#[derive(Parser)]
#[command(name = "clv", version, about = "Customer lifetime value from transaction CSVs, on your machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Write CSV text cells verbatim, even those a spreadsheet would run as a
    /// formula (by default a cell from your files that starts with =, +, -, @,
    /// tab or carriage return gets a leading ').
    #[arg(long, global = true)]
    no_formula_guard: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Read a transaction CSV and report what was used, how, and what was not.
    Inspect {
        #[command(flatten)]
        input: InputArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The BTYD summary: user_id,frequency,recency,T,monetary_value.
    Summary {
        #[command(flatten)]
        input: InputArgs,
        /// Last day of history, YYYY-MM-DD (inclusive).
        #[arg(long)]
        cutoff: Day,
        #[command(flatten)]
        time: TimeArgs,
        /// Label window of the JSON output's `stats` (the page's Summary figures), in days.
        #[arg(long, default_value = "90")]
        horizon_days: Horizon,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
    /// Per-user features at a cutoff with the label over the horizon.
    Features {
        #[command(flatten)]
        input: InputArgs,
        /// Optional users file (user_id, signup_ts, attributes…).
        #[arg(long)]
        users: Option<PathBuf>,
        #[arg(long)]
        cutoff: Day,
        /// Label window in days (1 to 3650).
        #[arg(long)]
        horizon_days: Horizon,
        #[arg(long, default_value = "month")]
        cohort: CohortGrain,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
    /// Fit a model by maximum likelihood; report parameters, SEs, convergence.
    Fit {
        #[command(flatten)]
        data: ModelInput,
        /// bgnbd, pnbd, mbgnbd, ggomnbd, bgbb (count models), gg (Gamma–Gamma spend), or sbg (contract
        /// retention: --input is then one cohort's active counts per period, see `clv retention`).
        #[arg(long)]
        model: ModelId,
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
        #[arg(long)]
        json: bool,
    },
    /// Per-customer P(alive), expected purchases, spend and discounted CLV.
    Predict {
        #[command(flatten)]
        data: ModelInput,
        #[arg(long, default_value = "bgnbd")]
        model: ModelKind,
        /// Spend model: gg (Gamma–Gamma). Without it each purchase is worth 1.
        #[arg(long)]
        spend_model: Option<ModelId>,
        #[command(flatten)]
        horizon: HorizonArgs,
        /// Also print each customer's P(Y = n) for n = 0..N over the horizon (columns p_0…p_N, p_more).
        #[arg(long)]
        pmf: Option<usize>,
        /// Annual discount rate (0.10 = 10%).
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        discount_rate: f64,
        /// per-period (over the exact horizon) or lifetimes (whole months, as the Python package).
        #[arg(long, default_value = "per-period")]
        discounting: Discounting,
        /// Evaluate --model at these parameters instead of fitting it, e.g. r=0.24,alpha=4.4,a=0.79,b=2.4.
        #[arg(long, conflicts_with = "model_card")]
        params: Option<GivenParams>,
        /// Gamma–Gamma at these parameters instead of fitting it, e.g. p=6.25,q=3.74,gamma=15.44.
        #[arg(long)]
        spend_params: Option<GivenParams>,
        /// A model card (`clv fit --json` output, or the page's download): its model at its
        /// parameters, no fit. Give a second one of Gamma–Gamma for spend.
        #[arg(long, num_args = 1)]
        model_card: Vec<PathBuf>,
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Print the base's total CLV and its 95% interval from the fits' parameter uncertainty
        /// (delta method on the log-parameters' covariance) instead of one row per customer.
        #[arg(long)]
        total: bool,
    },
    /// SQL that computes the summary (or its histogram, or each customer's scores) inside your
    /// warehouse, exactly as `clv summary` does from a file: the customer rows never leave it.
    /// `--emit histogram` gives the weighted distinct rows (small with --calendar week or month) that `clv fit`, `clv predict` and
    /// the page model; `clv predict` on a histogram writes predictions per distinct row, and
    /// `--emit score` joins them back to every customer.
    Sql {
        /// duckdb, spark, bigquery, snowflake or postgres.
        #[arg(long)]
        dialect: clv_core::sql::Dialect,
        /// summary, histogram, spend, score or features.
        #[arg(long)]
        emit: clv_core::sql::Emit,
        /// The orders table, optionally qualified (project.dataset.orders).
        #[arg(long)]
        table: String,
        /// The customer id column.
        #[arg(long)]
        user_col: String,
        /// The time column (DATE or TIMESTAMP, in UTC).
        #[arg(long)]
        ts_col: String,
        /// The net amount column (negative = refund).
        #[arg(long)]
        amount_col: String,
        /// Last day of history, YYYY-MM-DD (inclusive).
        #[arg(long)]
        cutoff: Day,
        #[command(flatten)]
        time: TimeArgs,
        /// Label window of --emit features, in days after the cutoff (1 to 3650).
        #[arg(long)]
        horizon_days: Option<Horizon>,
        /// The predictions-per-distinct-row table that --emit score joins (`clv predict` on the histogram, loaded).
        #[arg(long)]
        predictions: Option<String>,
        /// Count exact duplicate rows as often as they occur.
        #[arg(long)]
        keep_duplicates: bool,
    },
    /// Contract retention (sBG, Fader & Hardie 2007) from one cohort's active counts per
    /// period (`period,active`, period 0 = the cohort size): γ, δ with SEs, then the
    /// projected survivors, survival and retention rate per period.
    Retention {
        /// CSV of active counts (a column `active`/`survivors`, optionally `period`).
        #[arg(long)]
        input: PathBuf,
        /// Fit on periods 1..=K only (default: all in the file); later ones are compared.
        #[arg(long)]
        fit_periods: Option<usize>,
        /// Project this many periods.
        #[arg(long, default_value_t = 12)]
        horizon: usize,
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
    /// The lesson's numbers (the page's Learn view), as JSON: the simple formula, and how BG/NBD's
    /// purchase rates (gamma r, α) and dropout probabilities (beta a, b) differ across customers.
    Learn {
        /// Average purchase value.
        #[arg(long, default_value_t = 5.0)]
        order_value: f64,
        /// Purchases a week.
        #[arg(long, default_value_t = 2.0)]
        per_week: f64,
        /// Years as a customer.
        #[arg(long, default_value_t = 2.0)]
        years: f64,
        /// BG/NBD's parameters, rates per week, e.g. r=0.24,alpha=4.4,a=0.79,b=2.4.
        #[arg(long, default_value = "r=0.24,alpha=4.4,a=0.79,b=2.4")]
        params: GivenParams,
        /// The two customers' age in weeks (P(alive) of a recent and a quiet buyer).
        #[arg(long, default_value_t = 52.0)]
        age: f64,
        /// Their repeat purchases.
        #[arg(long, default_value_t = 10.0)]
        repeat: f64,
        /// Customers drawn from --params for the lesson's simulation (20 to 5000).
        #[arg(long, default_value_t = 1000)]
        customers: u64,
        /// Weeks the simulated customers are watched (4 to 156).
        #[arg(long, default_value_t = 52)]
        weeks: u32,
        /// Seed of the simulation.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Gamma–Gamma's parameters for the lesson's customer valued in money.
        #[arg(long, default_value = "p=6.25,q=3.74,gamma=15.44")]
        spend_params: GivenParams,
        /// That customer's week of the last purchase (their age is --age, their repeat purchases --repeat).
        #[arg(long, default_value_t = 51.0)]
        last: f64,
        /// Their average purchase.
        #[arg(long, default_value_t = 35.0)]
        mean_spend: f64,
        /// Annual discount rate of the model's value (0.10 = 10%).
        #[arg(long, default_value_t = 0.1)]
        discount_rate: f64,
    },
    /// A new customer's distribution of purchases, P(X(t) = n), under a model at given
    /// parameters (no data needed): `n,probability` for n = 0..max-n, then `more`.
    Pmf {
        /// bgnbd, pnbd, mbgnbd, ggomnbd or bgbb.
        #[arg(long)]
        model: ModelKind,
        /// The model's parameters, e.g. r=0.24,alpha=4.4,a=0.79,b=2.4.
        #[arg(long, required_unless_present = "model_card", conflicts_with = "model_card")]
        params: Option<GivenParams>,
        /// A model card (`clv fit --json`) instead of --params; its model is used.
        #[arg(long)]
        model_card: Option<PathBuf>,
        /// The time unit the parameters' rates are per.
        #[arg(long, default_value = "week")]
        unit: TimeUnit,
        #[command(flatten)]
        horizon: HorizonArgs,
        /// List P(X = n) up to this n; the rest is the `more` row.
        #[arg(long, default_value_t = 10)]
        max_n: usize,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
    /// The tracking plot from acquisition: repeat purchases per period since the first
    /// customer's first purchase, actual beside what each model (fitted at --cutoff)
    /// expects, calibration and holdout on one axis.
    Tracking {
        #[command(flatten)]
        input: InputArgs,
        #[arg(long)]
        cutoff: Day,
        /// Last day tracked (default: the last purchase day).
        #[arg(long)]
        holdout_end: Option<Day>,
        #[arg(long, default_value = "week")]
        unit: TimeUnit,
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
    /// Fit on data up to --cutoff, predict to --holdout-end, score every model.
    Evaluate {
        #[command(flatten)]
        input: InputArgs,
        #[arg(long)]
        cutoff: Day,
        #[arg(long)]
        holdout_end: Day,
        #[arg(long, default_value = "week")]
        unit: TimeUnit,
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
        /// Also train boosted trees by the temporal protocol (calibration data only) and score them
        /// and an ensemble with Pareto/NBD on the holdout, with a verdict (`clv train` for settings).
        #[arg(long)]
        learned: bool,
        /// The boosted trees' loss with --learned: l2, l1 (median), quantile:ALPHA, poisson,
        /// tweedie[:POWER].
        #[arg(long, default_value = "poisson")]
        loss: clv_core::learned::Loss,
        /// Optional users file (user_id, signup_ts, attributes, emb_* columns…): its columns become
        /// features of the boosted trees.
        #[arg(long)]
        users: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Train boosted trees on the calibration period by the temporal protocol (snapshots at
    /// earlier cutoffs, labelled with what followed up to --cutoff) and save them as JSON.
    Train {
        #[command(flatten)]
        input: InputArgs,
        /// The last day of history the model may see (YYYY-MM-DD).
        #[arg(long)]
        cutoff: Day,
        #[command(flatten)]
        gbt: GbtArgs,
        /// Also train the sequence model (a GRU over each customer's weeks; default settings).
        #[arg(long)]
        sequence: bool,
        /// Optional users file (user_id, signup_ts, attributes, emb_* columns…): its columns become
        /// features of the boosted trees.
        #[arg(long)]
        users: Option<PathBuf>,

        /// Where to write the model (JSON).
        #[arg(long)]
        output: PathBuf,
    },
    /// Score customers with a model saved by `clv train`: user_id,base_forecast,prediction.
    Score {
        #[command(flatten)]
        input: InputArgs,
        /// The saved model.
        #[arg(long)]
        model: PathBuf,
        /// Score at this cutoff (default: the one the model was trained for).
        #[arg(long)]
        cutoff: Option<Day>,
        /// The users file the model was trained with, if it was (its columns are features).
        #[arg(long)]
        users: Option<PathBuf>,
        /// Forecast window after the cutoff, in days (1 to 3650).
        #[arg(long)]
        horizon_days: Horizon,
    },
    /// Cohort CLV at a horizon after signup: observed where the cohort is old
    /// enough, forecast beyond (with an interval and the method used).
    Cohorts {
        #[command(flatten)]
        input: InputArgs,
        /// Optional users file (user_id, signup_ts, segment columns…).
        #[arg(long)]
        users: Option<PathBuf>,
        #[arg(long, default_value = "month")]
        cohort: CohortGrain,
        /// A users-file column to cross the cohorts with (country, device, …).
        #[arg(long)]
        segment: Option<String>,
        /// Value at this many days after signup (1 to 3650).
        #[arg(long)]
        horizon_days: Horizon,
        /// Last day of data, YYYY-MM-DD (default: the last transaction's day).
        #[arg(long)]
        cutoff: Option<Day>,
        /// Age unit of the cohort table.
        #[arg(long, default_value = "week")]
        age_unit: TimeUnit,
        /// Prediction-interval level.
        #[arg(long, default_value_t = 0.9)]
        level: f64,
        /// Print the cohort × age table (users, active, revenue, retention) instead.
        #[arg(long)]
        table: bool,
        /// Print the daily revenue forecast the page charts (date,kind,value,lower,upper) instead.
        #[arg(long, conflicts_with = "table")]
        daily: bool,
        /// Print each cohort's retention extrapolated by sBG instead: survivors are the members with
        /// a purchase at an age or later (for a subscription, those still subscribed), fitted over the
        /// fully observed ages and projected to the horizon (or the oldest cohort's age).
        #[arg(long, conflicts_with_all = ["table", "daily"])]
        retention: bool,
        /// Also value each cohort bottom-up with this BTYD model (+ Gamma–Gamma).
        #[arg(long)]
        btyd: Option<ModelKind>,
        /// Time unit the --btyd models are fitted in (as the page's Fit models).
        #[arg(long, default_value = "week")]
        btyd_unit: TimeUnit,
        /// L2 penalizer of the --btyd fits.
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
    /// Holt–Winters forecast of a plain date,value series with intervals and a backtest.
    Forecast {
        /// CSV with a header and date,value rows, one per step.
        #[arg(long)]
        input: PathBuf,
        #[arg(long, default_value_t = 7)]
        season_length: usize,
        #[arg(long)]
        horizon: usize,
        #[arg(long, default_value_t = 0.9)]
        level: f64,
        /// Do not clamp forecasts at zero (for series that can be negative).
        #[arg(long)]
        allow_negative: bool,
        /// Damped trend (safer for long horizons; see the backtest).
        #[arg(long)]
        damped: bool,
        #[arg(long, default_value = "month-first")]
        date_order: DateOrder,
        #[arg(long)]
        json: bool,
    },
    /// Synthetic transactions from known BG/NBD (+ Gamma–Gamma) parameters.
    Simulate {
        #[arg(long, default_value = "bgnbd")]
        model: ModelId,
        #[arg(long)]
        customers: u64,
        /// r=…,alpha=…,a=…,b=… (rates per --unit).
        #[arg(long)]
        params: String,
        /// Gamma–Gamma spend p=…,q=…,gamma=… (constant 1 when absent).
        #[arg(long)]
        spend: Option<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = "week")]
        unit: TimeUnit,
        #[arg(long, default_value = "2020-01-01")]
        start: Day,
        #[arg(long, default_value_t = 90)]
        acquisition_days: i64,
        #[arg(long, default_value_t = 730)]
        observation_days: i64,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Csv,
    Json,
}

/// What a model is fitted on: a summary file, or transactions at a cutoff.
#[derive(Args)]
struct ModelInput {
    #[command(flatten)]
    input: InputArgs,
    /// Cutoff for a transaction file (a summary file needs none).
    #[arg(long)]
    cutoff: Option<Day>,
    #[command(flatten)]
    time: TimeArgs,
}

/// How time is counted: elapsed time in a unit, or calendar periods.
#[derive(Args)]
struct TimeArgs {
    #[arg(long, default_value = "week")]
    unit: TimeUnit,
    /// Count calendar weeks (Monday–Sunday) or months instead of elapsed time, as lifetimes'
    /// freq="W"/"M": purchases in one period are one transaction (overrides --unit).
    #[arg(long)]
    calendar: Option<CohortGrain>,
}

impl TimeArgs {
    /// Elapsed `--unit`s or `--calendar` periods.
    fn periods(&self) -> Periods {
        self.calendar.map_or(Periods::Elapsed(self.unit), Periods::Calendar)
    }
}

impl ModelInput {
    /// How a transaction file is summarised: elapsed `--unit`s or `--calendar` periods.
    fn periods(&self) -> Periods {
        self.time.periods()
    }

    /// The unit the models' rates are per.
    fn time_unit(&self) -> TimeUnit {
        self.periods().unit()
    }
}

/// The boosted trees' settings (defaults: what measured best on CDNOW master).
#[derive(Args)]
struct GbtArgs {
    /// l2, l1 (median), quantile:ALPHA, poisson, tweedie[:POWER].
    #[arg(long, default_value = "poisson")]
    loss: clv_core::learned::Loss,
    /// What to predict: purchases (purchase days) or revenue.
    #[arg(long, value_enum, default_value_t = TargetArg::Purchases)]
    target: TargetArg,
    /// Earlier cutoffs of the temporal protocol, spread over the calibration period (1 to 12).
    #[arg(long, default_value_t = 8)]
    cutoffs: usize,
    #[arg(long, default_value_t = 100)]
    trees: usize,
    #[arg(long, default_value_t = 0.05)]
    learning_rate: f64,
    #[arg(long, default_value_t = 3)]
    max_depth: usize,
    /// Fewest customers in a leaf.
    #[arg(long, default_value_t = 100)]
    min_leaf: usize,
    #[arg(long, default_value_t = 0.8)]
    row_sample: f64,
    #[arg(long, default_value_t = 0.8)]
    col_sample: f64,
    /// Stop after this many trees without a better loss on the latest snapshot (0: never).
    #[arg(long, default_value_t = 0)]
    early_stopping: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Do not start from Pareto/NBD's forecast.
    #[arg(long)]
    no_base: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetArg {
    Purchases,
    Revenue,
}

impl GbtArgs {
    fn params(&self) -> clv_core::learned::GbtParams {
        clv_core::learned::GbtParams {
            loss: self.loss,
            trees: self.trees,
            learning_rate: self.learning_rate,
            max_depth: self.max_depth,
            min_leaf: self.min_leaf,
            row_sample: self.row_sample,
            col_sample: self.col_sample,
            early_stopping: self.early_stopping,
            seed: self.seed,
            ..clv_core::learned::GbtParams::default()
        }
    }

    fn target(&self) -> clv_core::learned::temporal::Target {
        match self.target {
            TargetArg::Purchases => clv_core::learned::temporal::Target::Purchases,
            TargetArg::Revenue => clv_core::learned::temporal::Target::Revenue,
        }
    }
}

#[derive(Args)]
struct InputArgs {
    /// Transaction CSV.
    #[arg(long)]
    input: PathBuf,
    /// Field delimiter (detected when absent).
    #[arg(long)]
    delimiter: Option<char>,
    /// Order of slash dates when the file gives no evidence.
    #[arg(long, default_value = "month-first")]
    date_order: DateOrder,
    /// Decimal separator of the money columns, point or comma (decided from the evidence when absent).
    #[arg(long)]
    decimal: Option<ingest::DecimalSeparator>,
    /// Keep exact duplicate rows.
    #[arg(long)]
    keep_duplicates: bool,
    /// Count margins (amount − variable_cost column) instead of revenue.
    #[arg(long)]
    margin: bool,
    /// Currency conversion table: currency,rate lines.
    #[arg(long)]
    rates: Option<PathBuf>,
    /// Map a role to a column by header name, e.g. --map amount=Revenue, or unmap an optional
    /// role with --map is_refund=none (repeatable).
    #[arg(long = "map", value_name = "ROLE=COLUMN")]
    map: Vec<String>,
}

pub(crate) type CliResult = Result<(), String>;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> CliResult {
    let mut safety = CsvSafety::new(!cli.no_formula_guard);
    let safety = &mut safety;
    match cli.command {
        Command::Inspect { input, json } => {
            let out = ingest_file(&input)?;
            if json {
                print_json(&out.report)
            } else {
                write_stdout(&report_text(&out.report))
            }
        }
        Command::Sql {
            dialect,
            emit,
            table,
            user_col,
            ts_col,
            amount_col,
            cutoff,
            time,
            horizon_days,
            predictions,
            keep_duplicates,
        } => {
            use clv_core::sql::{Ident, SqlParams, SqlSource, TableName};
            let e = |e: clv_core::sql::NameError| e.to_string();
            let source = SqlSource {
                table: TableName::new(&table, "--table").map_err(e)?,
                user: Ident::new(&user_col, "--user-col").map_err(e)?,
                ts: Ident::new(&ts_col, "--ts-col").map_err(e)?,
                amount: Ident::new(&amount_col, "--amount-col").map_err(e)?,
                keep_duplicates,
            };
            let predictions = predictions.map(|t| TableName::new(&t, "--predictions")).transpose().map_err(e)?;
            let periods = time.periods();
            let mut params = SqlParams::new(source, cutoff, periods, predictions);
            if let Some(h) = horizon_days {
                params = params.with_horizon(h);
            }
            let sql = params.generate(dialect, emit).map_err(|e| e.to_string())?;
            write_stdout(&sql)
        }
        Command::Summary { input, cutoff, time, horizon_days, format } => {
            let out = read(&input)?;
            let cutoff = checked_cutoff(cutoff, &out.transactions)?;
            let periods = time.periods();
            let unit = periods.unit();
            let summary = RfmSummary::build_in(&out.transactions, cutoff, periods);
            match format {
                Format::Csv => write_export(&summary.to_csv(&out.transactions, safety), safety),
                Format::Json => {
                    let rows: Vec<serde_json::Value> = summary
                        .rows
                        .iter()
                        .map(|r| {
                            serde_json::json!({"user_id": out.transactions.id(r.customer), "frequency": r.frequency,
                                "recency": r.recency, "T": r.t, "monetary_value": r.monetary_value})
                        })
                        .collect();
                    let params = FeatureParams::new(cutoff, horizon_days, CohortGrain::Month);
                    let stats = SummaryStats::build(&out.transactions, &params, unit).map_err(|e| e.to_string())?;
                    print_json(
                        &serde_json::json!({"unit": unit, "cutoff": summary.cutoff, "stats": stats, "customers": rows,
                        "excluded_after_cutoff": summary.excluded_after_cutoff, "excluded_no_purchase": summary.excluded_no_purchase}),
                    )
                }
            }
        }
        Command::Features { input, users, cutoff, horizon_days, cohort, format } => {
            let out = read(&input)?;
            let users = read_users(users.as_deref(), input.date_order)?;
            let cutoff = checked_cutoff(cutoff, &out.transactions)?;
            let params = FeatureParams::new(cutoff, horizon_days, cohort);
            let table = FeatureTable::build(&out.transactions, users.as_ref(), params);
            match format {
                Format::Csv => write_export(&table.to_csv(safety), safety),
                Format::Json => print_json(&table),
            }
        }
        Command::Fit { data, model: ModelId::Sbg, penalizer, json } => {
            // Contract retention: the input is active counts per period, not customers: one
            // cohort's, or a cohort table's (then one γ, δ for all cohorts).
            let path = &data.input.input;
            let cohorts = read_cohort_survivors(path)?;
            let counts: Vec<Vec<f64>> = cohorts.into_iter().map(|(_, c)| c).collect();
            let report = clv_core::retention::fit_pooled(&counts, &fit_options(penalizer)?)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if json {
                print_json(&fit_json(&report, data.time_unit()))
            } else {
                write_stdout(&fit_text(&report))
            }
        }
        Command::Retention { input, fit_periods, horizon, penalizer, format } => {
            let name = input.display().to_string();
            let opts = fit_options(penalizer)?;
            let mut cohorts = read_cohort_survivors(&input)?;
            if cohorts.len() > 1 && fit_periods.is_none() {
                // A cohort table: each cohort fitted on all its periods and projected to `horizon`.
                let rows: Vec<_> = cohorts
                    .into_iter()
                    .map(|(cohort, counts)| survival::fit_cohort(&cohort, None, counts, horizon, &opts))
                    .collect();
                for r in rows.iter().filter(|r| r.note.is_some()) {
                    eprintln!("note: cohort {}: {}", r.cohort, r.note.as_deref().unwrap_or_default());
                }
                return match format {
                    Format::Csv => write_export(&survival::to_csv(&rows, safety), safety),
                    Format::Json => print_json(&rows),
                };
            }
            if cohorts.len() != 1 {
                return Err(format!("{name}: {}", clv_core::retention::SurvivorsError::Cohorts(cohorts.len())));
            }
            let active = cohorts.remove(0).1;
            let k = fit_periods.unwrap_or(active.len().saturating_sub(1));
            let r =
                clv_core::retention::fit_retention(&active, k, horizon, &opts).map_err(|e| format!("{name}: {e}"))?;
            match format {
                Format::Json => print_json(&r),
                Format::Csv => {
                    let mut out = fit_text(&r.report);
                    say!(out, "period,fitted,actual,expected,survival,retention");
                    for p in &r.projection {
                        let actual = p.actual.map_or(String::new(), |a| a.to_string());
                        say!(out, "{},{},{actual},{},{},{}", p.period, p.fitted, p.expected, p.survival, p.retention);
                    }
                    write_stdout(&out)
                }
            }
        }
        Command::Fit { data, model, penalizer, json } => {
            let opts = fit_options(penalizer)?;
            let name = data.input.input.display().to_string();
            let headers = sniff_headers(&data.input.input, data.input.delimiter)?;
            if clv_core::features::looks_like_spend(&headers) {
                // A spend histogram (`clv sql --emit spend`): Gamma–Gamma's input, nothing else's.
                if model != ModelId::Gg {
                    return Err(format!(
                        "{name} is a spend histogram (frequency, monetary_value, count): it fits --model gg only"
                    ));
                }
                let spend =
                    clv_core::features::parse_spend(open(&data.input.input)?).map_err(|e| format!("{name}: {e}"))?;
                let report =
                    clv_core::pipeline::fit_spend_rows(&spend.rows, &opts).map_err(|e| format!("{name}: {e}"))?.1;
                return if json {
                    print_json(&fit_json(&report, data.time_unit()))
                } else {
                    write_stdout(&fit_text(&report))
                };
            }
            let customers = customers_of(&data, &headers)?;
            let (report, frequency) = if model == ModelId::Gg {
                (fit_spend(&customers, &opts).map_err(|e| format!("{name}: {e}"))?.1, None)
            } else {
                let kind = ModelKind::from_id(model).ok_or_else(|| {
                    format!("--model {model}: expected a count model (bgnbd, pnbd, mbgnbd, ggomnbd, bgbb) or gg")
                })?;
                let (m, r) = fit_count(kind, &customers, &opts).map_err(|e| format!("{name}: {e}"))?;
                let bins = r.convergence.converged.then(|| frequency_fit(m.as_count(), &customers, 7));
                (r, bins)
            };
            if json {
                let mut v = fit_json(&report, data.time_unit());
                if let Some(bins) = frequency {
                    v["frequency_fit"] = serde_json::to_value(bins).map_err(|e| e.to_string())?;
                }
                print_json(&v)
            } else {
                write_stdout(&fit_text(&report))
            }
        }
        Command::Predict {
            data,
            model,
            spend_model,
            horizon,
            pmf,
            discount_rate,
            discounting,
            params,
            spend_params,
            model_card,
            penalizer,
            format,
            total,
        } => {
            let opts = fit_options(penalizer)?;
            let clv = ClvParams::new(horizon.resolve()?, discount_rate, data.time_unit(), discounting)
                .map_err(|e| e.to_string())?;
            let customers = load_customers(&data)?;
            let name = data.input.input.display().to_string();
            let given = read_given(model, params, spend_params, &model_card, data.time_unit())?;
            let model = given.count.first().map_or(model, |(kind, _)| *kind);
            check_sizes(model, &customers, Some(&clv)).map_err(|e| format!("{name}: {e}"))?;
            let spend = match spend_model {
                None => given.spend.is_some(),
                Some(ModelId::Gg) => true,
                Some(other) => return Err(format!("--spend-model {other}: expected gg")),
            };
            // What was given is used as given; what was not is fitted, by the one rule.
            let fit_kinds: &[ModelKind] = if given.count.is_empty() { &[model] } else { &[] };
            let fit_spend = spend && given.spend.is_none();
            let set = fit_models(fit_kinds, fit_spend, &customers, &opts, &mut |_, _, _| {});
            // The fits' warnings travel with their predictions (stdout stays the CSV/JSON).
            set.reports.iter().for_each(|r| r.warnings.iter().for_each(|w| eprintln!("warning: {}: {w}", r.model)));
            if let Some(s) = &set.spend {
                if let Some(e) = &s.error {
                    return Err(format!("{name}: {e}"));
                }
                s.report.iter().flat_map(|r| &r.warnings).for_each(|w| eprintln!("warning: gg: {w}"));
            }
            let set = given.into_set(set);
            let m = set.model(model).map_err(|e| format!("{name}: {e}"))?;
            if total {
                let value = set.total_value(model, &customers, &clv).map_err(|e| format!("{name}: {e}"))?;
                return match format {
                    Format::Csv => write_stdout(&total_csv(&value)),
                    Format::Json => print_json(&value),
                };
            }
            if customers.monetary_is_group_mean {
                // A histogram: one row per group, with the spend terms the warehouse applies per customer.
                if pmf.is_some() || matches!(format, Format::Json) {
                    return Err(format!(
                        "{name} is a histogram: its predictions are one CSV row per group (no --pmf, no --format json)"
                    ));
                }
                let rows = group_predictions(m, set.spend_model(), &customers, &clv);
                return write_export(&group_predictions_csv(&rows, safety), safety);
            }
            let rows = predict(m, set.spend_model(), &customers, &clv);
            let pmfs = match pmf {
                Some(n) => Some(purchase_pmfs(m, &customers, clv.horizon_units(), checked_max_n(n)?)),
                None => None,
            };
            match format {
                Format::Csv => write_export(&predictions_csv(&rows, pmfs.as_deref(), safety), safety),
                Format::Json => match pmfs {
                    None => print_json(&rows),
                    Some(p) => {
                        print_json(&rows.iter().zip(p).map(|(r, pmf)| PmfRow { row: r, pmf }).collect::<Vec<_>>())
                    }
                },
            }
        }
        Command::Learn {
            order_value,
            per_week,
            years,
            params,
            age,
            repeat,
            customers,
            weeks,
            seed,
            spend_params,
            last,
            mean_spend,
            discount_rate,
        } => {
            let bgnbd: clv_core::models::BgNbd = params.model().map_err(|e| format!("--params: {e}"))?;
            let [r, alpha, a, b]: [f64; 4] = clv_core::models::Likelihood::params(&bgnbd).try_into().expect("four");
            let formula =
                clv_core::teach::SimpleFormula::new(order_value, per_week, years).map_err(|e| e.to_string())?;
            let summary = |c: clv_core::teach::DensityCurve| serde_json::json!({ "mean": c.mean, "q10": c.q10, "median": c.median, "q90": c.q90 });
            let (recent, quiet) = clv_core::teach::recent_and_quiet(&bgnbd, age, repeat).map_err(|e| e.to_string())?;
            let classroom = clv_core::teach::simulated::Classroom::new([r, alpha, a, b], customers, weeks, seed)
                .map_err(|e| e.to_string())?;
            let base = clv_core::teach::simulated::simulate_base(&classroom).map_err(|e| e.to_string())?;
            let last_week = base.tracking.last();
            let gg: clv_core::models::GammaGamma = spend_params.model().map_err(|e| format!("--spend-params: {e}"))?;
            let customer =
                clv_core::teach::money::Customer::new(repeat, last, age, mean_spend).map_err(|e| e.to_string())?;
            let money = clv_core::teach::money::value_one_customer(&bgnbd, &gg, &customer, years, discount_rate)
                .map_err(|e| e.to_string())?;
            print_json(&serde_json::json!({
                "simple": { "value": formula.value(), "purchases": formula.purchases() },
                "purchase_rates": summary(clv_core::teach::purchase_rates(r, alpha).map_err(|e| e.to_string())?),
                "dropout": summary(clv_core::teach::dropout_probabilities(a, b).map_err(|e| e.to_string())?),
                "recent_and_quiet": { "recent": recent, "quiet": quiet },
                "money": money,
                "simulation": {
                    "customers": base.customers, "weeks": base.weeks, "seed": seed,
                    "repeat_buyers": base.repeat_buyers, "repeat_purchases": base.repeat_purchases,
                    "refit": base.fit.as_ref().map(|f| serde_json::json!({
                        "status": f.convergence.status(), "params": f.params,
                    })),
                    "fit_problem": base.fit_problem,
                    "last_week": last_week.map(|w| serde_json::json!({ "actual": w.actual, "truth": w.truth, "refit": w.refit })),
                },
            }))
        }
        Command::Pmf { model, params, model_card, unit, horizon, max_n, format } => {
            let cards: Vec<PathBuf> = model_card.into_iter().collect();
            let given = read_given(model, params, None, &cards, unit)?;
            let (kind, m) = given.count.into_iter().next().ok_or("give --params or a --model-card of a count model")?;
            let t = horizon.resolve()?.in_units(unit);
            let pmf = with_tail(m.as_count().unconditional_pmf(t, checked_max_n(max_n)?));
            let mean = m.as_count().expected_unconditional(t);
            match format {
                Format::Csv => {
                    let mut out = String::from("n,probability\n");
                    for (n, p) in pmf.iter().enumerate() {
                        let n = if n + 1 == pmf.len() { "more".to_string() } else { n.to_string() };
                        say!(out, "{n},{p}");
                    }
                    write_stdout(&out)
                }
                Format::Json => print_json(&serde_json::json!({
                    "model": kind.id(), "unit": unit, "t": t, "mean": mean,
                    "pmf": &pmf[..pmf.len() - 1], "more": pmf[pmf.len() - 1],
                })),
            }
        }
        Command::Tracking { input, cutoff, holdout_end, unit, penalizer, format } => {
            let opts = fit_options(penalizer)?;
            let out = read(&input)?;
            let cutoff = checked_cutoff(cutoff, &out.transactions)?;
            let last = purchase_days(&out.transactions).map_or(cutoff.day, |(_, last)| last);
            let end = holdout_end.map_or(last, |d| d.number());
            if end < cutoff.day {
                return Err("--holdout-end must not be before --cutoff".into());
            }
            check_near_data("holdout end", end, &out.transactions).map_err(|e| format!("--holdout-end: {e}"))?;
            let frame = TrackingFrame::build(&out.transactions, cutoff, end, unit);
            let customers =
                Customers::from_summary(&RfmSummary::build(&out.transactions, cutoff, unit), &out.transactions);
            let set = fit_models(&ModelKind::CONTINUOUS, false, &customers, &opts, &mut |_, _, _| {});
            for (kind, why) in &set.failed {
                eprintln!("note: {}: not tracked: {why}", kind.code());
            }
            let models: Vec<(ModelKind, Vec<f64>)> =
                set.fitted.iter().map(|(k, m)| (*k, frame.expected_cumulative(m.as_count()))).collect();
            match format {
                Format::Json => print_json(&serde_json::json!({
                    "unit": unit, "customers": frame.customers(), "periods": frame.periods,
                    "expected_cumulative": models.iter().map(|(k, e)| (k.code().to_string(), serde_json::json!(e))).collect::<serde_json::Map<_, _>>(),
                })),
                Format::Csv => {
                    let mut out = String::from("period,start,end,phase,actual,cumulative_actual");
                    for (k, _) in &models {
                        out += &format!(",{0},{0}_cumulative", k.code());
                    }
                    out.push('\n');
                    let incs: Vec<Vec<f64>> = models.iter().map(|(_, e)| increments(e)).collect();
                    for (i, p) in frame.periods.iter().enumerate() {
                        let phase = if p.holdout { "holdout" } else { "calibration" };
                        out +=
                            &format!("{},{},{},{phase},{},{}", p.period, p.start, p.end, p.actual, p.cumulative_actual);
                        for (m, (_, e)) in models.iter().enumerate() {
                            out += &format!(",{},{}", incs[m][i], e[i]);
                        }
                        out.push('\n');
                    }
                    write_stdout(&out)
                }
            }
        }
        Command::Evaluate { input, cutoff, holdout_end, unit, penalizer, learned, loss, users, json } => {
            let opts = fit_options(penalizer)?;
            let out = read(&input)?;
            let cutoff = checked_cutoff(cutoff, &out.transactions)?;
            let end = holdout_end.number();
            if end <= cutoff.day {
                return Err("--holdout-end must be after --cutoff".into());
            }
            check_near_data("holdout end", end, &out.transactions).map_err(|e| format!("--holdout-end: {e}"))?;
            let split = HoldoutSplit::build(&out.transactions, cutoff, end, unit);
            let mut report = holdout::evaluate(&split, &out.transactions, &ModelKind::CONTINUOUS, &opts)
                .map_err(|e| format!("{}: {e}", input.input.display()))?;
            if learned {
                let mut settings = clv_core::learned::leaderboard::LearnedSettings::default();
                settings.gbt.loss = loss;
                // Training takes seconds to a minute: each step is said on stderr.
                let mut progress = |step: clv_core::learned::leaderboard::Step| {
                    eprintln!("{step}");
                    std::ops::ControlFlow::Continue(())
                };
                let users = learned_users(users.as_deref(), input.date_order)?;
                clv_core::learned::leaderboard::add_or_explain(
                    &out.transactions,
                    users.as_ref(),
                    &split,
                    &mut report,
                    &settings,
                    &mut progress,
                );
            }
            if json {
                print_json(&report)
            } else {
                write_stdout(&holdout_text(&report))
            }
        }
        Command::Train { input, cutoff, gbt, sequence, users, output } => {
            use clv_core::learned::temporal::{scoring_with_base, train, training, Protocol, SavedModel};
            let out = read(&input)?;
            let tx = &out.transactions;
            let cutoff = checked_cutoff(cutoff, tx)?;
            let users = learned_users(users.as_deref(), input.date_order)?;
            let (base, _) = scoring_with_base(tx, users.as_ref(), cutoff, 1).map_err(|e| e.to_string())?;
            if base != ModelKind::Pnbd {
                eprintln!(
                    "note: Pareto/NBD gives no estimate at --cutoff on this data; the trees start from {}",
                    base.id().label()
                );
            }
            let protocol = Protocol::spread(tx, cutoff, gbt.cutoffs, base).map_err(|e| e.to_string())?;
            let set = training(tx, users.as_ref(), cutoff, &protocol).map_err(|e| e.to_string())?;
            for skipped in &set.skipped {
                eprintln!("note: no training snapshot at {skipped}");
            }
            let config = gbt.params().check().map_err(|e| e.to_string())?;
            let model = train(&set.snapshots, gbt.target(), &config, !gbt.no_base).map_err(|e| e.to_string())?;
            let rows: usize = set.snapshots.iter().map(|s| s.purchases.len()).sum();
            eprintln!(
                "trained {} trees on {rows} rows ({} snapshots); most important: {}",
                model.gbt.trees.len(),
                set.snapshots.len(),
                model
                    .gbt
                    .importance()
                    .iter()
                    .take(3)
                    .map(|(n, g)| format!("{n} {:.0}%", 100.0 * g))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let sequence = sequence.then(|| train_sequence(tx, cutoff)).transpose()?;
            let saved = SavedModel {
                format: SavedModel::FORMAT.to_string(),
                trained_cutoff: clv_core::time::format_day(cutoff.day),
                base: protocol.base(),
                model,
                sequence,
            };
            let json = serde_json::to_string(&saved).map_err(|e| e.to_string())?;
            std::fs::write(&output, json).map_err(|e| format!("{}: {e}", output.display()))
        }
        Command::Score { input, model, cutoff, users, horizon_days } => {
            use clv_core::learned::temporal::{score_saved, SavedModel};
            let text = std::fs::read_to_string(&model).map_err(|e| format!("{}: {e}", model.display()))?;
            let saved = SavedModel::from_json(&text).map_err(|e| format!("{}: {e}", model.display()))?;
            let out = read(&input)?;
            let tx = &out.transactions;
            let day = match cutoff {
                Some(d) => d,
                None => saved.trained_cutoff.parse::<Day>().map_err(|e| format!("{}: {e}", model.display()))?,
            };
            let cutoff = checked_cutoff(day, tx)?;
            let users = learned_users(users.as_deref(), input.date_order)?;
            let scores = score_saved(tx, users.as_ref(), &saved, cutoff, horizon_days.in_days())
                .map_err(|e| format!("{}: {e}", model.display()))?;
            write_stdout(&scores.csv(tx, safety))
        }
        Command::Cohorts {
            input,
            users,
            cohort,
            segment,
            horizon_days,
            cutoff,
            age_unit,
            level,
            table,
            daily,
            retention,
            btyd,
            btyd_unit,
            penalizer,
            format,
        } => {
            let out = read(&input)?;
            let users = read_users(users.as_deref(), input.date_order)?;
            let args = cohorts::CohortArgs {
                cohort,
                segment,
                horizon_days,
                cutoff,
                age_unit,
                level,
                table,
                daily,
                retention,
                btyd: btyd.map(|kind| Ok::<_, String>((kind, btyd_unit, fit_options(penalizer)?))).transpose()?,
                format,
                safety,
            };
            cohorts::cohorts(&out.transactions, users.as_ref(), args)
        }
        Command::Forecast { input, season_length, horizon, level, allow_negative, damped, date_order, json } => {
            cohorts::forecast(cohorts::ForecastArgs {
                input: &input,
                season_length,
                horizon,
                level,
                allow_negative,
                damped,
                date_order,
                json,
                safety,
            })
        }
        Command::Simulate {
            model,
            customers,
            params,
            spend,
            seed,
            unit,
            start,
            acquisition_days,
            observation_days,
            output,
        } => {
            if model != ModelId::Bgnbd {
                return Err(format!("--model {model}: only bgnbd can be simulated"));
            }
            let kv = parse_kv(&params, &["r", "alpha", "a", "b"]).map_err(|e| format!("--params: {e}"))?;
            let spend = match spend {
                Some(s) => {
                    let v = parse_kv(&s, &["p", "q", "gamma"]).map_err(|e| format!("--spend: {e}"))?;
                    Some((v[0], v[1], v[2]))
                }
                None => None,
            };
            let p = SimulationParams {
                r: kv[0],
                alpha: kv[1],
                a: kv[2],
                b: kv[3],
                spend,
                unit,
                customers,
                start_day: start.number(),
                acquisition_days,
                observation_days,
                seed,
            };
            p.validate().map_err(|e| e.to_string())?;
            let result = match output {
                Some(path) => {
                    let f = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                    write_csv(&p, &mut BufWriter::with_capacity(1 << 20, f))
                }
                None => write_csv(&p, &mut BufWriter::new(io::stdout().lock())),
            };
            result.map(|_| ()).map_err(|e| e.to_string())
        }
    }
}

/// `k=v,k=v` with exactly the given keys, in that order.
fn parse_kv(s: &str, keys: &[&str]) -> Result<Vec<f64>, String> {
    let mut vals = vec![None; keys.len()];
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| format!("expected key=value, got {part:?}"))?;
        let i = keys
            .iter()
            .position(|x| *x == k.trim())
            .ok_or_else(|| format!("unknown key {k:?}; expected {}", keys.join(", ")))?;
        vals[i] = Some(v.trim().parse::<f64>().map_err(|_| format!("{k}={v:?} is not a number"))?);
    }
    keys.iter().zip(vals).map(|(k, v)| v.ok_or_else(|| format!("missing {k}=…"))).collect()
}

fn read_users(path: Option<&Path>, order: DateOrder) -> Result<Option<Users>, String> {
    let Some(p) = path else { return Ok(None) };
    let users = parse_users(open(p)?, order).map_err(|e| format!("{}: {e}", p.display()))?;
    report_users(p, &users);
    Ok(Some(users))
}

/// Users-file rows not used, on stderr (stdout holds the table): never dropped silently.
fn report_users(path: &Path, users: &Users) {
    const LISTED: usize = 20;
    if users.rejected.is_empty() {
        return;
    }
    eprintln!("users file {}: {} rows used, {} not used:", path.display(), users.rows.len(), users.rejected.len());
    for (line, why) in users.rejected.iter().take(LISTED) {
        eprintln!("  line {line}: {why}");
    }
    if users.rejected.len() > LISTED {
        eprintln!("  … and {} more", users.rejected.len() - LISTED);
    }
}

pub(crate) fn open(path: &Path) -> Result<File, String> {
    File::open(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Ingest for every command but `inspect` (which prints the whole report):
/// skipped rows and the report's warnings are counted on stderr, never dropped silently.
fn read(args: &InputArgs) -> Result<Ingested, String> {
    let out = ingest_file(args)?;
    let r = &out.report;
    if r.rejected > 0 || r.duplicates > 0 {
        eprintln!(
            "note: {} of {} rows rejected, {} exact duplicates dropped; `clv inspect` lists each with its line and reason",
            r.rejected, r.rows, r.duplicates
        );
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    Ok(out)
}

fn ingest_file(args: &InputArgs) -> Result<Ingested, String> {
    let file = open(&args.input)?;
    let name = args.input.display().to_string();
    let mut opts = IngestOptions {
        delimiter: args.delimiter,
        ambiguous_date_order: args.date_order,
        decimal: args.decimal,
        keep_duplicates: args.keep_duplicates,
        margin: args.margin,
        ..Default::default()
    };
    if let Some(path) = &args.rates {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        opts.currency_rates = parse_rates(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if !args.map.is_empty() {
        let head = std::io::Read::take(open(&args.input)?, 64 * 1024);
        let mut sample = Vec::new();
        std::io::Read::read_to_end(&mut { head }, &mut sample).map_err(|e| format!("{name}: {e}"))?;
        let sniffed = ingest::sniff(&sample, args.delimiter).map_err(|e| format!("{name}: {e}"))?;
        opts.mapping = Some(apply_map(sniffed.mapping, &sniffed.headers, &args.map)?);
    }
    ingest::ingest(file, &opts, &mut |_| {}).map_err(|e| format!("{name}: {e}"))
}

/// The file's header, as sniffed from its first 64 KB.
fn sniff_headers(path: &std::path::Path, delimiter: Option<char>) -> Result<Vec<String>, String> {
    let name = path.display().to_string();
    let mut head = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(open(path)?, 64 * 1024), &mut head)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(ingest::sniff(&head, delimiter).map_err(|e| format!("{name}: {e}"))?.headers)
}

/// Customers from a summary file, or from transactions summarised at --cutoff.
fn load_customers(data: &ModelInput) -> Result<Customers, String> {
    customers_of(data, &sniff_headers(&data.input.input, data.input.delimiter)?)
}

/// [`load_customers`] of a file whose header was already sniffed.
fn customers_of(data: &ModelInput, headers: &[String]) -> Result<Customers, String> {
    let (args, cutoff, periods) = (&data.input, data.cutoff, data.periods());
    let name = args.input.display().to_string();
    if clv_core::features::looks_like_spend(headers) {
        return Err(format!(
            "{name} is a spend histogram (frequency, monetary_value, count): `clv fit --model gg` fits Gamma–Gamma on it; \
             the count models need a summary or histogram"
        ));
    }
    if looks_like_summary(headers) {
        let s = parse_summary(open(&args.input)?).map_err(|e| format!("{name}: {e}"))?;
        return Ok(Customers::from_input(&s));
    }
    let cutoff = cutoff
        .ok_or_else(|| format!("{name} holds transactions: give --cutoff YYYY-MM-DD (the last day of history)"))?;
    let out = read(args)?;
    let cutoff = checked_cutoff(cutoff, &out.transactions)?;
    Ok(Customers::from_summary(&RfmSummary::build_in(&out.transactions, cutoff, periods), &out.transactions))
}

/// `--cutoff` read and checked against the purchases (a typo'd year is an
/// error naming the likely day).
pub(crate) fn checked_cutoff(day: Day, tx: &Transactions) -> Result<Cutoff, String> {
    Cutoff::checked(day, tx, "--cutoff").map_err(|e| e.to_string())
}

/// A prediction horizon on the command line: `--horizon-days N`, or `--horizon N --horizon-unit U`.
#[derive(Args)]
struct HorizonArgs {
    /// Horizon in days (1 to 3650), or give --horizon and --horizon-unit.
    #[arg(long, conflicts_with = "horizon", required_unless_present = "horizon")]
    horizon_days: Option<Horizon>,
    /// Horizon length in --horizon-unit: predictions are at exactly this time.
    #[arg(long)]
    horizon: Option<f64>,
    /// day, week, month, or period (the model's own unit: a BG/BB period).
    #[arg(long, default_value = "day")]
    horizon_unit: HorizonUnit,
}

impl HorizonArgs {
    fn resolve(&self) -> Result<PredictionHorizon, String> {
        match (self.horizon_days, self.horizon) {
            (Some(days), _) => Ok(PredictionHorizon::from(days)),
            (None, Some(amount)) => {
                PredictionHorizon::new(amount, self.horizon_unit).map_err(|e| format!("--horizon: {e}"))
            }
            (None, None) => Err("give --horizon-days, or --horizon with --horizon-unit".into()),
        }
    }
}

/// Each cohort's active counts in a survivors file or cohort table.
fn read_cohort_survivors(path: &std::path::Path) -> Result<Vec<(String, Vec<f64>)>, String> {
    clv_core::retention::parse_cohort_survivors(open(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// The largest count a printed distribution lists one by one.
const MAX_PMF_N: usize = 1_000;

fn checked_max_n(n: usize) -> Result<usize, String> {
    if n > MAX_PMF_N {
        return Err(format!("--pmf/--max-n: at most {MAX_PMF_N} counts are listed (the rest is p_more), got {n}"));
    }
    Ok(n)
}

/// A prediction row with its purchase-count distribution (`predict --pmf N --format json`).
#[derive(serde::Serialize)]
struct PmfRow<'a> {
    #[serde(flatten)]
    row: &'a PredictionRow,
    /// P(Y = 0), …, P(Y = N), then P(Y > N).
    pmf: Vec<f64>,
}

/// The models `clv predict` and `clv pmf` were given rather than asked to
/// fit: `--params` (for `--model`), `--spend-params` and `--model-card` files,
/// at most one count model.
fn read_given(
    model: ModelKind,
    params: Option<GivenParams>,
    spend_params: Option<GivenParams>,
    cards: &[PathBuf],
    unit: TimeUnit,
) -> Result<GivenModels, String> {
    let mut given = GivenModels::default();
    if let Some(p) = params {
        given.count.push((model, AnyModel::at(model, &p).map_err(|e| format!("--params: {e}"))?));
    }
    given.spend = spend_params.map(|p| p.model()).transpose().map_err(|e| format!("--spend-params: {e}"))?;
    for path in cards {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
        let card: ModelCard = serde_json::from_str(&text)
            .map_err(|e| format!("{name}: not a model card (the JSON `clv fit --json` writes): {e}"))?;
        given.add_card(&name, &card, unit)?;
    }
    if given.count.len() > 1 {
        return Err("give one count model (--params or a card) and at most one gg".into());
    }
    Ok(given)
}

/// `--penalizer` within [`clv_core::limits::MAX_PENALIZER`].
fn fit_options(penalizer: f64) -> Result<FitOptions, String> {
    FitOptions::new(penalizer, 500).map_err(|e| format!("--penalizer: {e}"))
}

fn fit_json(r: &FitReport, unit: TimeUnit) -> serde_json::Value {
    let params: serde_json::Map<String, serde_json::Value> =
        r.params.iter().map(|p| (p.name.clone(), p.value.into())).collect();
    let se: serde_json::Map<String, serde_json::Value> =
        r.params.iter().map(|p| (p.name.clone(), p.std_error.map_or(serde_json::Value::Null, Into::into))).collect();
    let ci: serde_json::Map<String, serde_json::Value> =
        r.params.iter().map(|p| (p.name.clone(), serde_json::json!([p.ci_low, p.ci_high]))).collect();
    serde_json::json!({
        "model": r.model, "unit": unit, "params": params, "log_likelihood": r.log_likelihood,
        "converged": r.convergence.converged, "iterations": r.convergence.iterations,
        "gradient_norm": r.convergence.gradient_norm, "method": r.convergence.method,
        "message": r.convergence.message, "std_errors": se, "ci95": ci,
        "n_customers": r.n_customers, "n_unique": r.n_unique, "penalizer": r.penalizer, "warnings": r.warnings,
        "limiting": r.limiting.as_ref().map(|l| serde_json::json!({
            "description": l.description,
            "params": l.params.iter().map(|p| (p.name.clone(), p.value.into())).collect::<serde_json::Map<_, _>>(),
            "std_errors": l.params.iter().map(|p| (p.name.clone(), p.std_error.map_or(serde_json::Value::Null, Into::into))).collect::<serde_json::Map<_, _>>(),
            "log_likelihood": l.log_likelihood, "converged": l.convergence.converged, "message": l.convergence.message,
        })),
    })
}

/// `clv predict --total` as CSV: one row; the interval's cells are empty when there is none, and
/// `no_interval` says why.
fn total_csv(v: &TotalClv) -> String {
    let cell = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    let i = v.interval.as_ref();
    format!(
        "total_clv,low,high,level,no_interval\n{},{},{},{},{}\n",
        v.total_clv,
        cell(i.map(|i| i.low)),
        cell(i.map(|i| i.high)),
        cell(i.map(|i| i.level)),
        v.no_interval.as_deref().map_or(String::new(), |w| format!("\"{}\"", w.replace('"', "\"\""))),
    )
}

fn fit_text(r: &FitReport) -> String {
    let mut out = String::new();
    let status = match r.convergence.converged {
        true => "converged".to_string(),
        false => format!("{} — not a result", r.convergence.status().to_uppercase()),
    };
    say!(out, "{}: {status} ({})", r.model, r.convergence.message);
    for p in &r.params {
        let se = p.std_error.map_or("n/a".to_string(), |s| format!("{s:.6}"));
        say!(out, "  {:<6} {:>14.6}  ± {se}", p.name, p.value);
    }
    say!(
        out,
        "log-likelihood {:.4}  customers {}  distinct rows {}  iterations {}",
        r.log_likelihood,
        r.n_customers,
        r.n_unique,
        r.convergence.iterations
    );
    if let Some(l) = &r.limiting {
        say!(out, "limiting model ({}): {}", l.convergence.message, l.description);
        for p in &l.params {
            let se = p.std_error.map_or("n/a".to_string(), |s| format!("{s:.6}"));
            say!(out, "  {:<6} {:>14.6}  ± {se}", p.name, p.value);
        }
        say!(out, "  log-likelihood {:.4}", l.log_likelihood);
    }
    for w in &r.warnings {
        say!(out, "warning: {w}");
    }
    out
}

fn holdout_text(r: &holdout::HoldoutReport) -> String {
    let mut out = String::new();
    say!(out, "{} customers, holdout {:.2} periods, actual purchases {}", r.customers, r.duration, r.actual_total);
    say!(
        out,
        "{:<8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7} {:>9} {:>10}",
        "model",
        "MAE",
        "MAE(med)",
        "RMSE",
        "bias%",
        "pearson",
        "spearman",
        "gini",
        "logscore",
        "total"
    );
    let opt = |v: Option<f64>| v.map_or("—".to_string(), |x| format!("{x:.3}"));
    for m in &r.models {
        let flag = if m.converged { "" } else { " (not converged)" };
        say!(
            out,
            "{:<8} {:>9.4} {:>9.4} {:>9.4} {:>8} {:>8} {:>8} {:>7} {:>9.4} {:>10.1}{flag}",
            m.model,
            m.mae,
            m.mae_median,
            m.rmse,
            opt(m.bias),
            opt(m.pearson),
            opt(m.spearman),
            opt(m.gini),
            m.log_score,
            m.predicted_total
        );
    }
    for (model, why) in &r.failed {
        say!(out, "not scored: {}: {why}", model.label());
    }
    if let Some(l) = &r.learned {
        say!(out, "{}", l.verdict.sentence);
        say!(out, "boosted trees: {} trees on {} training rows; split gain by feature:", l.trees, l.training_rows);
        for (name, share) in l.importance.iter().take(8) {
            say!(out, "  {name:<24} {:>5.1}%", 100.0 * share);
        }
        for s in &l.skipped {
            say!(out, "  no training snapshot at {s}");
        }
        if let Some(b) = &l.revenue {
            say!(out, "net revenue in the holdout: actual {:.2}", b.actual_total);
            for r in &b.rows {
                say!(
                    out,
                    "  {:<44} total {:>12.2}  RMSE {:>9.3}  MAE {:>9.3}  bias {:>7}  spearman {}",
                    r.model,
                    r.predicted_total,
                    r.rmse,
                    r.mae,
                    r.bias_percent.map_or("—".into(), |b| format!("{b:+.1}%")),
                    opt(r.spearman)
                );
            }
            for (model, why) in &b.failed {
                say!(out, "  not forecast: {model}: {why}");
            }
        }
        if let Some(s) = &l.sequence {
            say!(
                out,
                "sequence model: {} customers as {} distinct weekly histories; kept epoch {} of {}",
                s.customers,
                s.distinct,
                s.best_epoch,
                s.epochs.len()
            );
        }
    }
    say!(out, "{}", r.guide);
    out
}

/// The users file as the learned models' features; columns left out are said on stderr.
fn learned_users(
    path: Option<&Path>,
    order: DateOrder,
) -> Result<Option<clv_core::learned::users::UserFeatures>, String> {
    let Some(users) = read_users(path, order)? else { return Ok(None) };
    let features = clv_core::learned::users::UserFeatures::new(&users);
    for why in &features.left_out {
        eprintln!("note: users-file column not used as a feature: {why}");
    }
    Ok(Some(features))
}

/// The sequence model trained on every customer's weeks up to `cutoff` (default settings), each
/// pass said on stderr.
fn train_sequence(
    tx: &clv_core::ingest::Transactions,
    cutoff: clv_core::features::Cutoff,
) -> Result<clv_core::learned::sequence::SequenceModel, String> {
    use clv_core::learned::leaderboard::Step;
    use clv_core::learned::sequence::{train, SequenceParams, Sequences};
    let params = SequenceParams::default();
    // The customers `clv evaluate --learned` trains on at this cutoff, in the same order: the same model.
    let summary = clv_core::features::RfmSummary::build(tx, cutoff, clv_core::time::TimeUnit::Week);
    let customers: Vec<usize> = summary.rows.iter().map(|r| r.customer).collect();
    let seqs = Sequences::build(tx, &customers, cutoff, params.max_weeks);
    let config = params.check().map_err(|e| e.to_string())?;
    train(&seqs, &config, &mut |e| {
        eprintln!("{}", Step::Sequence(e));
        std::ops::ControlFlow::Continue(())
    })
    .map_err(|e| format!("the sequence model: {e}"))
}

fn apply_map(mut m: ColumnMapping, headers: &[String], pairs: &[String]) -> Result<ColumnMapping, String> {
    for pair in pairs {
        let (role, col) = pair.split_once('=').ok_or_else(|| format!("--map {pair:?}: expected ROLE=COLUMN"))?;
        let role: Role = role.trim().parse().map_err(|e| format!("--map: {e}"))?;
        // `none` unmaps, unless the file really has a column of that name.
        if col.trim().eq_ignore_ascii_case("none") && !headers.iter().any(|h| h == col.trim()) {
            if matches!(role, Role::UserId | Role::Timestamp) {
                return Err(format!(
                    "--map {pair}: {} is required and cannot be unmapped; map it to a column",
                    role.name()
                ));
            }
            m.set(role, None);
            continue;
        }
        let idx = headers
            .iter()
            .position(|h| h == col.trim())
            .ok_or_else(|| format!("--map: no column {col:?}; the header has {}", headers.join(", ")))?;
        m.set(role, Some(idx));
    }
    Ok(m)
}

/// `println!` into a `String`: text reports are built whole and written by
/// [`write_stdout`], so a closed pipe (`clv fit … | head -c 10`) is an error
/// message, not a panic.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}
use say;

/// A CSV export: what the cell guard changed goes to stderr, the CSV to stdout.
pub(crate) fn write_export(s: &str, safety: &CsvSafety) -> CliResult {
    for note in safety.notes() {
        eprintln!("note: {note}");
    }
    write_stdout(s)
}

pub(crate) fn write_stdout(s: &str) -> CliResult {
    io::stdout().lock().write_all(s.as_bytes()).map_err(|e| format!("standard output: {e}"))
}

pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> CliResult {
    let s = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    write_stdout(&(s + "\n"))
}

fn report_text(r: &IngestReport) -> String {
    let mut out = String::new();
    say!(out, "rows {}  accepted {}  rejected {}  duplicates {}", r.rows, r.accepted, r.rejected, r.duplicates);
    say!(
        out,
        "customers {}  net revenue {:.2}  refunds {} ({:.2})",
        r.customers,
        r.net_revenue,
        r.refunds,
        r.refund_total
    );
    if let (Some(a), Some(b)) = (&r.first_ts, &r.last_ts) {
        say!(out, "from {a} to {b} ({} days)", r.days_spanned);
    }
    say!(out, "columns:");
    for c in &r.columns {
        say!(out, "  {:>2} {:<20} {}", c.index + 1, c.name, c.read_as);
    }
    for (k, v) in &r.formats {
        say!(out, "{k}: {v}");
    }
    for s in &r.reasons {
        say!(out, "rejected {} × {} (lines {:?}…): {}", s.count, s.reason, s.first_lines, s.example);
    }
    for w in &r.warnings {
        say!(out, "warning: {w}");
    }
    out
}
