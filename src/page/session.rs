//! The page side of the worker boundary: one worker, a queue until it says
//! "ready", and the signals its replies feed.
//!
//! The worker can die — a panic (it posts `Reply::Panicked`, then traps), an
//! out-of-memory abort (only its `error` event), or Cancel (`terminate` is the
//! only way to stop synchronous work) — and its memory dies with it. The page
//! then starts a fresh worker and replays what rebuilds that memory (the same
//! `File` handles and options, the users file, the last model fit; see
//! [`crate::page::recovery`]), and says next to the action what failed. Results
//! already shown live in page signals and are kept.

use crate::page::recovery::{replay_in_flight, stopped, InFlight, Inputs, Job, Outage, Reload, Slot};
use crate::page::task::{AnyTask, Task};
use crate::protocol::{
    CohortRequest, CohortsView, CustomerDetail, Envelope, ExploreView, ExportFormat, ExportKind, HoldoutRequest,
    ModelRequest, ModelsResult, Reply, Request, RequestId, SummaryFileInfo, SummaryRequest, SummaryStats, TablePage,
    TableQuery, TestCrash, UsersInfo, ValueView,
};
use clv_core::holdout::HoldoutReport;
use clv_core::ingest::IngestReport;
use clv_core::pipeline::ModelKind;
use js_sys::Reflect;
use leptos::prelude::*;
use serde::Serialize;
use std::collections::VecDeque;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, ErrorEvent, MessageEvent, Worker, WorkerOptions};

pub const WORKER_URL: &str = "./worker_loader.js";

struct WorkerHandle {
    worker: Worker,
    ready: bool,
    queue: Vec<JsValue>,
    /// Requests posted to this worker without their final reply yet, oldest
    /// first (the worker runs them in order); replies find theirs by id.
    in_flight: VecDeque<InFlight<Blob>>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(ErrorEvent)>,
}

/// Progress of the running ingest, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProgressView {
    pub bytes: f64,
    pub total: f64,
    pub rows: f64,
}

/// What the worker holds as the data.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// Transactions, as the ingest report describes them.
    Transactions(Box<IngestReport>),
    /// A summary file (one row per customer): no dates, so no cutoff, accuracy check or cohorts.
    Summary(Box<SummaryFileInfo>),
}

impl Loaded {
    pub fn transactions(&self) -> Option<&IngestReport> {
        match self {
            Loaded::Transactions(r) => Some(r),
            Loaded::Summary(_) => None,
        }
    }

    pub fn summary_file(&self) -> Option<&SummaryFileInfo> {
        match self {
            Loaded::Summary(f) => Some(f),
            Loaded::Transactions(_) => None,
        }
    }
}

/// The page's side of the worker, and one [`Task`] per kind of request: each
/// panel reads its own (pending / value / error), so a failure is said next
/// to its control and clears nothing elsewhere.
#[derive(Clone, Copy)]
pub struct Session {
    handle: StoredValue<Option<WorkerHandle>, LocalStorage>,
    /// What rebuilds the worker's memory if it dies.
    inputs: StoredValue<Inputs<Blob>, LocalStorage>,
    /// The next request's id (ids are never reused, across workers too).
    next_id: StoredValue<RequestId>,
    /// Test hook: (request kind, how) — the next such request makes the worker fail.
    test_crashes: StoredValue<Vec<(String, TestCrash)>, LocalStorage>,
    pub progress: RwSignal<Option<ProgressView>>,
    /// The data loaded: its name, and the transactions' ingest report or the summary file's figures.
    pub load: Task<(String, Loaded)>,
    pub users: Task<UsersInfo>,
    pub summary: Task<SummaryStats>,
    pub summary_export: Task<()>,
    pub models: Task<ModelsResult>,
    pub table: Task<TablePage>,
    pub customer: Task<CustomerDetail>,
    pub value: Task<ValueView>,
    pub explore: Task<ExploreView>,
    pub predictions_export: Task<()>,
    pub holdout: Task<HoldoutReport>,
    pub cohorts: Task<CohortsView>,
    pub cohorts_export: Task<()>,
    /// Scores from a saved learned model, downloaded.
    pub learned_scores: Task<()>,
    /// The lesson's simulated customer base (needs no file).
    pub lesson: Task<clv_core::teach::simulated::SimulatedBase>,
    /// The lesson's published data set, fitted.
    pub lesson_data: Task<clv_core::teach::real::RealFit>,
    /// A problem of the page itself (the worker cannot start, a download
    /// cannot start), not of one request.
    pub error: RwSignal<Option<String>>,
    pub notice: RwSignal<Option<String>>,
    /// A request lost with its worker (crash or Cancel), shown next to its action.
    pub outage: RwSignal<Option<Outage>>,
}

impl Session {
    pub fn new() -> Session {
        let s = Session {
            handle: StoredValue::new_local(None),
            inputs: StoredValue::new_local(Inputs::default()),
            next_id: StoredValue::new(1),
            test_crashes: StoredValue::new_local(Vec::new()),
            progress: RwSignal::new(None),
            load: Task::new(),
            users: Task::new(),
            summary: Task::new(),
            summary_export: Task::new(),
            models: Task::new(),
            table: Task::new(),
            customer: Task::new(),
            value: Task::new(),
            explore: Task::new(),
            predictions_export: Task::new(),
            holdout: Task::new(),
            cohorts: Task::new(),
            cohorts_export: Task::new(),
            learned_scores: Task::new(),
            lesson: Task::new(),
            lesson_data: Task::new(),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            outage: RwSignal::new(None),
        };
        s.spawn();
        s.install_test_hooks();
        s
    }

    /// The task a slot's replies fill.
    fn task(self, slot: Slot) -> Box<dyn AnyTask> {
        match slot {
            Slot::Load => Box::new(self.load),
            Slot::Users => Box::new(self.users),
            Slot::Summary => Box::new(self.summary),
            Slot::SummaryExport => Box::new(self.summary_export),
            Slot::Models => Box::new(self.models),
            Slot::Table => Box::new(self.table),
            Slot::Customer => Box::new(self.customer),
            Slot::Value => Box::new(self.value),
            Slot::Explore => Box::new(self.explore),
            Slot::PredictionsExport => Box::new(self.predictions_export),
            Slot::Holdout => Box::new(self.holdout),
            Slot::Cohorts => Box::new(self.cohorts),
            Slot::CohortsExport => Box::new(self.cohorts_export),
            Slot::Lesson => Box::new(self.lesson),
            Slot::LessonData => Box::new(self.lesson_data),
            Slot::LearnedScores => Box::new(self.learned_scores),
        }
    }

    /// The loaded transactions' report (tracked), if transactions are loaded.
    pub fn report(self) -> Option<IngestReport> {
        self.load.with(|l| l.and_then(|(_, l)| l.transactions().cloned()))
    }

    /// The loaded summary file's figures (tracked), if a summary file is loaded.
    pub fn summary_file(self) -> Option<SummaryFileInfo> {
        self.load.with(|l| l.and_then(|(_, l)| l.summary_file().cloned()))
    }

    /// Transactions with accepted rows are loaded (tracked): the views that need dates may show.
    pub fn has_transactions(self) -> bool {
        self.load.with(|l| l.and_then(|(_, l)| l.transactions()).is_some_and(|r| r.accepted > 0))
    }

    /// A summary file is loaded (tracked).
    pub fn has_summary_file(self) -> bool {
        self.load.with(|l| l.is_some_and(|(_, l)| l.summary_file().is_some()))
    }

    /// There are customers to fit models to (tracked): the summary at a cutoff, or a summary file.
    pub fn has_customers(self) -> bool {
        self.summary.has_value() || self.has_summary_file()
    }

    /// Whether a long job (a fit, an evaluation, cohorts) is running: one at
    /// a time, since the worker runs requests in turn.
    pub fn busy(self) -> bool {
        self.models.is_pending() || self.holdout.is_pending() || self.cohorts.is_pending()
    }

    fn spawn(self) {
        let opts = WorkerOptions::new();
        // `?threads=N` on the page (tests, benchmarks) caps how many fits (or pieces of a prediction) its
        // worker runs at once.
        let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let url = match crate::protocol::threads_param(&search) {
            Some(n) => format!("{WORKER_URL}?threads={n}"),
            None => WORKER_URL.to_string(),
        };
        let worker = match Worker::new_with_options(&url, &opts) {
            Ok(w) => w,
            Err(e) => {
                self.error.set(Some(format!("The background worker could not start: {e:?}")));
                return;
            }
        };
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| self.on_reply(ev.data()));
        // The worker died without a panic message (it posts one before a panic's trap).
        let on_error = Closure::<dyn Fn(ErrorEvent)>::new(move |ev: ErrorEvent| {
            ev.prevent_default();
            self.worker_died(stopped(&ev.message()));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.handle.set_value(Some(WorkerHandle {
            worker,
            ready: false,
            queue: Vec::new(),
            in_flight: VecDeque::new(),
            _on_message: on_message,
            _on_error: on_error,
        }));
    }

    /// The request in flight with this id (and whether it is a replay).
    fn in_flight(self, id: Option<RequestId>) -> Option<(Slot, bool)> {
        let id = id?;
        self.handle.with_value(|h| h.as_ref()?.in_flight.iter().find(|j| j.id == id).map(|j| (j.job.slot(), j.restore)))
    }

    fn on_reply(self, data: JsValue) {
        let Envelope { id, reply } = match serde_wasm_bindgen::from_value(data) {
            Ok(r) => r,
            Err(e) => {
                self.error.set(Some(format!("Unexpected message from the worker: {e}")));
                return;
            }
        };
        match reply {
            Reply::Ready => self.handle.update_value(|h| {
                if let Some(h) = h {
                    h.ready = true;
                    for msg in h.queue.drain(..) {
                        let _ = h.worker.post_message(&msg);
                    }
                }
            }),
            Reply::Panicked { message } => self.worker_died(message),
            // A replay's progress is not the user's job: the outage note speaks for it.
            Reply::Progress { bytes, total, rows } => {
                if self.in_flight(id) == Some((Slot::Load, false)) {
                    self.progress.set(Some(ProgressView { bytes, total, rows }));
                }
            }
            Reply::Status { message } => {
                if let (Some(id), Some((slot, false))) = (id, self.in_flight(id)) {
                    self.task(slot).status(id, message);
                }
            }
            reply => {
                let Some(id) = id else { return };
                let done = self.handle.try_update_value(|h| {
                    let h = h.as_mut()?;
                    let at = h.in_flight.iter().position(|j| j.id == id)?;
                    h.in_flight.remove(at)
                });
                match done.flatten() {
                    Some(InFlight { job, restore: true, .. }) => self.on_replayed(&job, reply),
                    Some(InFlight { job, .. }) => {
                        if !matches!(reply, Reply::Failed { .. }) {
                            self.inputs.update_value(|i| i.succeeded(&job));
                        }
                        self.show(job.slot(), id, reply);
                    }
                    // Not this worker's request (one from before a restart).
                    None => {}
                }
            }
        }
    }

    /// The final reply to request `id`, which fills `slot`.
    fn show(self, slot: Slot, id: RequestId, reply: Reply) {
        match reply {
            Reply::Ingested { name, report } => {
                self.progress.set(None);
                self.load.finish(id, (name, Loaded::Transactions(report)));
            }
            Reply::SummaryLoaded(info) => _ = self.load.finish(id, (info.name.clone(), Loaded::Summary(info))),
            Reply::Summary(stats) => _ = self.summary.finish(id, stats),
            Reply::Models(result) => _ = self.models.finish(id, *result),
            Reply::Holdout(report) => _ = self.holdout.finish(id, *report),
            Reply::Table(page) => _ = self.table.finish(id, page),
            Reply::Customer(detail) => _ = self.customer.finish(id, *detail),
            Reply::Value(view) => _ = self.value.finish(id, *view),
            Reply::Explore(view) => _ = self.explore.finish(id, *view),
            Reply::Users(info) => _ = self.users.finish(id, info),
            Reply::Cohorts(view) => _ = self.cohorts.finish(id, *view),
            Reply::Lesson(base) => _ = self.lesson.finish(id, *base),
            Reply::LessonData(fit) => _ = self.lesson_data.finish(id, *fit),
            Reply::Exported(file) => {
                let task = match slot {
                    Slot::PredictionsExport => self.predictions_export,
                    Slot::CohortsExport => self.cohorts_export,
                    Slot::LearnedScores => self.learned_scores,
                    _ => self.summary_export,
                };
                if !task.finish(id, ()) {
                    return;
                }
                if let Err(e) = download(&file.file_name, &file.csv) {
                    self.error.set(Some(format!("The download could not start: {e:?}")));
                } else if !file.notes.is_empty() {
                    self.notice.set(Some(format!("{}: {}.", file.file_name, file.notes.join("; "))));
                }
            }
            Reply::Failed { message } => {
                if slot == Slot::Load {
                    self.progress.set(None);
                }
                self.task(slot).fail(id, message);
            }
            Reply::Ready | Reply::Progress { .. } | Reply::Status { .. } | Reply::Panicked { .. } => {}
        }
    }

    /// The final reply to a replayed request. The page already shows its
    /// result (the same file, the same fit), so only a failure is news.
    fn on_replayed(self, job: &Job<Blob>, reply: Reply) {
        match reply {
            Reply::Failed { message } => {
                // Forget what did not come back (a file moved or deleted since), not the rest.
                self.inputs.update_value(|i| i.started(job));
                self.reload_ended(Some(job), Reload::Failed(format!("{}: {message}", job.label())));
            }
            // The customer table asks the fresh worker for its page again.
            Reply::Models(result) if self.inputs.with_value(|i| i.models.is_some()) => self.models.refresh(*result),
            _ => {}
        }
        if !self.replaying() {
            self.reload_ended(None, Reload::Done);
        }
    }

    /// Whether a replayed request is still in flight.
    fn replaying(self) -> bool {
        self.handle.with_value(|h| h.as_ref().is_some_and(|h| replay_in_flight(&h.in_flight)))
    }

    /// Say how the reload ended, once, in the note of the outage that started
    /// it — or, if the user has moved on and a replay of `job` failed, in a note of its own.
    fn reload_ended(self, job: Option<&Job<Blob>>, reload: Reload) {
        self.outage.update(|o| match o {
            Some(o) if o.reload == Reload::Running => o.reload = reload,
            Some(_) => {}
            None if matches!(reload, Reload::Failed(_) | Reload::Crashed(_)) => {
                *o = Some(Outage::reload_failed(job, reload));
            }
            None => {}
        });
    }

    /// The worker panicked or stopped: start a fresh one and reload the data
    /// into it — unless it was reloading when it died, which would loop.
    fn worker_died(self, message: String) {
        let Some((ready, in_flight)) = self.kill() else { return };
        self.stopped(&in_flight);
        if !ready {
            // It never started (e.g. its script failed to load): a restart would fail the same way.
            self.error.set(Some(format!("The background worker could not start: {message}")));
            return;
        }
        if replay_in_flight(&in_flight) {
            self.inputs.set_value(Inputs::default());
            self.spawn();
            self.reload_ended(in_flight.front().map(|j| &j.job), Reload::Crashed(message));
            return;
        }
        self.outage.set(Some(Outage::crashed(&in_flight, &message)));
        self.restore();
    }

    /// A fresh worker, and the requests that rebuild the memory the old one had.
    fn restore(self) {
        self.spawn();
        let replay = self.inputs.with_value(Inputs::replay);
        if replay.is_empty() {
            self.reload_ended(None, Reload::Nothing);
        }
        for job in replay {
            self.send(job, true);
        }
    }

    /// Terminate the worker and detach it; returns whether it had started and
    /// the requests it had not answered.
    fn kill(self) -> Option<(bool, VecDeque<InFlight<Blob>>)> {
        let mut old = self.handle.try_update_value(Option::take).flatten()?;
        old.worker.set_onmessage(None);
        old.worker.set_onerror(None);
        old.worker.terminate();
        let in_flight = std::mem::take(&mut old.in_flight);
        let ready = old.ready;
        // This may run inside one of the old worker's callbacks: drop them after it returns.
        leptos::task::spawn_local(async move { drop(old) });
        Some((ready, in_flight))
    }

    /// These requests died with their worker: nothing waits for them any
    /// more, and what was computed from the memory they were building (a new
    /// file, a new fit) is cleared — the fresh worker does not hold it.
    fn stopped(self, in_flight: &VecDeque<InFlight<Blob>>) {
        for job in in_flight.iter().filter(|j| !j.restore) {
            let slot = job.job.slot();
            self.task(slot).stop();
            self.clear_dependents(slot);
            if slot == Slot::Load {
                self.progress.set(None);
            }
        }
    }

    /// Post a request that rebuilds worker memory (file, users file, fit);
    /// `None` for any other job, which carries no request to rebuild.
    fn send(self, job: Job<Blob>, restore: bool) -> Option<RequestId> {
        let (request, file) = match &job {
            Job::Ingest { name, file, options } => {
                (Request::Ingest { name: name.clone(), options: options.clone() }, Some(file.clone()))
            }
            Job::Summary { name, file, unit } => {
                (Request::LoadSummary { name: name.clone(), unit: *unit }, Some(file.clone()))
            }
            Job::Users { name, file } => (Request::LoadUsers { name: name.clone() }, Some(file.clone())),
            Job::Fit(req) => (Request::FitModels(req.clone()), None),
            Job::Other { .. } => return None,
        };
        self.post(job, restore, &request, file.as_ref())
    }

    /// A request the user made for `slot`, rebuilding nothing if it is lost:
    /// the slot's task now waits for it (`keep`: its old value stays shown meanwhile).
    fn ask(self, slot: Slot, label: &'static str, request: &Request, keep: bool) {
        self.ask_with_file(slot, label, request, keep, None);
    }

    /// The same, with a file beside the request (not remembered: nothing rebuilds from it).
    fn ask_with_file(self, slot: Slot, label: &'static str, request: &Request, keep: bool, file: Option<&Blob>) {
        if let Some(id) = self.post(Job::Other { slot, label }, false, request, file) {
            self.start(slot, id, label, keep);
        }
    }

    /// The slot's task waits for request `id`; what depended on it is cleared.
    fn start(self, slot: Slot, id: RequestId, status: &str, keep: bool) {
        self.task(slot).start(id, status.to_string(), keep);
        self.clear_dependents(slot);
    }

    /// What was shown from the worker memory `slot`'s request rebuilds is gone.
    fn clear_dependents(self, slot: Slot) {
        for dependent in slot.dependents() {
            self.task(*dependent).clear();
        }
    }

    /// Post a request; `None` (and the reason in `error`) when it could not be
    /// sent, so no task waits for a reply that will never come.
    fn post(self, job: Job<Blob>, restore: bool, request: &Request, file: Option<&Blob>) -> Option<RequestId> {
        let msg = js_sys::Object::new();
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let request = match request.serialize(&serializer) {
            Ok(v) => v,
            Err(e) => {
                self.error.set(Some(format!("Could not send the request: {e}")));
                return None;
            }
        };
        if self.handle.with_value(Option::is_none) {
            self.error.set(Some("The background worker is not running: reload the page.".into()));
            return None;
        }
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.arm_test_crash(&request, &msg);
        let _ = Reflect::set(&msg, &"id".into(), &JsValue::from(id));
        let _ = Reflect::set(&msg, &"request".into(), &request);
        if let Some(f) = file {
            let _ = Reflect::set(&msg, &"file".into(), f);
        }
        if !restore {
            self.inputs.update_value(|i| i.started(&job));
        }
        let msg: JsValue = msg.into();
        self.handle.update_value(|h| {
            if let Some(h) = h {
                h.in_flight.push_back(InFlight { id, job, restore });
                if h.ready {
                    let _ = h.worker.post_message(&msg);
                } else {
                    h.queue.push(msg);
                }
            }
        });
        Some(id)
    }

    /// A new action by the user: an earlier outage note is about something else.
    fn clear_messages(self) {
        self.outage.set(None);
    }

    pub fn ingest(self, name: String, file: &Blob, options: clv_core::ingest::IngestOptions) {
        self.clear_messages();
        self.error.set(None);
        self.notice.set(None);
        self.progress.set(Some(ProgressView { bytes: 0.0, total: file.size(), rows: 0.0 }));
        let label = format!("Reading {name}…");
        if let Some(id) = self.send(Job::Ingest { name, file: file.clone(), options }, false) {
            self.start(Slot::Load, id, &label, false);
        }
    }

    /// Load a summary file (one row per customer) in place of transactions; its times are in `unit`.
    pub fn load_summary(self, name: String, file: &Blob, unit: clv_core::time::TimeUnit) {
        self.clear_messages();
        self.error.set(None);
        self.notice.set(None);
        let label = format!("Reading {name}…");
        if let Some(id) = self.send(Job::Summary { name, file: file.clone(), unit }, false) {
            self.start(Slot::Load, id, &label, false);
        }
    }

    pub fn summarise(self, req: SummaryRequest) {
        self.clear_messages();
        self.ask(Slot::Summary, "Computing the summary", &Request::Summarise(req), true);
    }

    pub fn fit_models(self, req: ModelRequest) {
        self.clear_messages();
        if let Some(id) = self.send(Job::Fit(req), false) {
            self.start(Slot::Models, id, "Fitting models…", false);
        }
    }

    /// Draw the lesson's customers and refit (the old picture stays while the new one is drawn).
    pub fn simulate_lesson(self, req: crate::protocol::LessonRequest) {
        self.ask(Slot::Lesson, "Drawing the customers and fitting BG/NBD to them…", &Request::Lesson(req), true);
    }

    /// Fit a published data set for the lesson (CDNOW's file fetched by the page, as the demo's).
    pub fn fit_lesson_data(self, dataset: clv_core::teach::real::Dataset, file: Option<Blob>) {
        let request = Request::LessonData { dataset };
        self.ask_with_file(Slot::LessonData, "Fitting the data set…", &request, false, file.as_ref());
    }

    pub fn evaluate(self, req: HoldoutRequest) {
        self.clear_messages();
        self.ask(Slot::Holdout, "Evaluating on the holdout", &Request::Evaluate(req), false);
    }

    pub fn query_table(self, q: TableQuery) {
        self.ask(Slot::Table, "Updating the customer table", &Request::Table(q), true);
    }

    pub fn value_view(self, model: ModelKind, segment: Option<String>) {
        self.ask(Slot::Value, "Summing up the customer base", &Request::Value { model, segment }, true);
    }

    pub fn explore_view(self, model: ModelKind, t: Option<f64>) {
        self.ask(Slot::Explore, "Computing the frequency × recency picture", &Request::Explore { model, t }, true);
    }

    pub fn export_quadrant(self, model: ModelKind, quadrant: clv_core::portfolio::Quadrant) {
        let request = Request::ExportQuadrant { model, quadrant };
        self.ask(Slot::PredictionsExport, "Preparing the quadrant's download", &request, false);
    }

    pub fn customer_detail(self, model: ModelKind, user_id: String) {
        self.ask(Slot::Customer, "Computing the customer's forecast", &Request::Customer { model, user_id }, false);
    }

    pub fn export_predictions(self, model: ModelKind, format: ExportFormat) {
        let request = Request::ExportPredictions { model, format };
        self.ask(Slot::PredictionsExport, "Preparing the predictions download", &request, false);
    }

    pub fn export(self, what: ExportKind, request: SummaryRequest) {
        self.ask(Slot::SummaryExport, "Preparing the download", &Request::Export { what, request }, false);
    }

    pub fn cohorts(self, req: CohortRequest) {
        self.clear_messages();
        self.ask(Slot::Cohorts, "Building the cohorts", &Request::Cohorts(req), false);
    }

    pub fn load_users(self, name: String, file: &Blob) {
        self.clear_messages();
        let label = format!("Reading {name}…");
        if let Some(id) = self.send(Job::Users { name, file: file.clone() }, false) {
            self.start(Slot::Users, id, &label, false);
        }
    }

    /// Score the loaded customers with the saved model in `file` at `cutoff` over `horizon`.
    pub fn score_saved(self, name: String, file: &Blob, cutoff: clv_core::time::Day, horizon: clv_core::time::Horizon) {
        self.clear_messages();
        let request = Request::ScoreSaved { name, cutoff, horizon };
        self.ask_with_file(Slot::LearnedScores, "Scoring with the saved model", &request, false, Some(file));
    }

    pub fn export_cohorts(self, request: CohortRequest, table: bool) {
        let request = Request::ExportCohorts { request, table };
        self.ask(Slot::CohortsExport, "Preparing the cohorts download", &request, false);
    }

    /// Stop the running job for real: the worker is terminated. A file being
    /// read is dropped; otherwise the loaded data is reloaded into the fresh worker.
    pub fn cancel(self) {
        let Some((_, in_flight)) = self.kill() else { return };
        self.stopped(&in_flight);
        let outage = Outage::cancelled(&in_flight);
        if outage.as_ref().is_some_and(|o| o.panel == crate::page::recovery::Panel::Load) {
            // The file being read was not loaded yet: nothing of it to keep.
            self.load.clear();
            self.notice.set(Some("Cancelled. Nothing was kept; load a file to start again.".into()));
            self.outage.set(None);
        } else {
            self.outage.set(outage);
        }
        self.restore();
    }

    /// The test hook (`?test-hooks` in the URL only): `window.__clvTest.crashNext(kind, how)`
    /// makes the next request of that kind (`"fit_models"`, `"ingest"`, …) fail in the
    /// worker, `how` being `"panic"` or `"out_of_memory"`. See [`TestCrash`].
    fn install_test_hooks(self) {
        let window: JsValue = js_sys::global().into();
        let search = Reflect::get(&window, &"location".into())
            .and_then(|l| Reflect::get(&l, &"search".into()))
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        if !search.contains("test-hooks") {
            return;
        }
        let crash_next = Closure::<dyn Fn(String, JsValue)>::new(move |kind: String, how: JsValue| {
            match serde_wasm_bindgen::from_value::<TestCrash>(how) {
                Ok(how) => self.test_crashes.update_value(|c| c.push((kind, how))),
                Err(e) => web_sys::console::error_1(&format!("__clvTest.crashNext: {e}").into()),
            }
        });
        let hooks = js_sys::Object::new();
        let _ = Reflect::set(&hooks, &"crashNext".into(), crash_next.as_ref());
        let _ = Reflect::set(&window, &"__clvTest".into(), &hooks);
        crash_next.forget();
    }

    /// If the test hook armed a crash for this kind of request, mark the message.
    fn arm_test_crash(self, request: &JsValue, msg: &js_sys::Object) {
        let Some(kind) = Reflect::get(request, &"kind".into()).ok().and_then(|k| k.as_string()) else { return };
        let how = self.test_crashes.try_update_value(|c| c.iter().position(|(k, _)| *k == kind).map(|i| c.remove(i).1));
        if let Some(how) = how.flatten().and_then(|h| serde_wasm_bindgen::to_value(&h).ok()) {
            let _ = Reflect::set(msg, &"testCrash".into(), &how);
        }
    }
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

/// Offer `text` as a file download; the data goes from memory to disk via a
/// `blob:` URL, never over the network.
pub fn download(file_name: &str, text: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(if file_name.ends_with(".json") { "application/json" } else { "text/csv" });
    let blob = Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(file_name);
    a.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}
