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

use crate::page::recovery::{replay_in_flight, stopped, InFlight, Inputs, Job, Outage, Panel, Reload};
use crate::protocol::{
    CohortRequest, CohortsView, ExportFormat, HoldoutRequest, ModelRequest, ModelsResult, Reply, Request,
    SummaryRequest, SummaryStats, TablePage, TableQuery, TestCrash, UsersInfo,
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
    /// first: the worker answers them in order, one final reply each.
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

#[derive(Clone, Copy)]
pub struct Session {
    handle: StoredValue<Option<WorkerHandle>, LocalStorage>,
    /// What rebuilds the worker's memory if it dies.
    inputs: StoredValue<Inputs<Blob>, LocalStorage>,
    /// Test hook: (request kind, how) — the next such request makes the worker fail.
    test_crashes: StoredValue<Vec<(String, TestCrash)>, LocalStorage>,
    pub running: RwSignal<bool>,
    pub progress: RwSignal<Option<ProgressView>>,
    pub report: RwSignal<Option<(String, IngestReport)>>,
    pub summary: RwSignal<Option<SummaryStats>>,
    pub summary_busy: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
    pub notice: RwSignal<Option<String>>,
    /// A request lost with its worker (crash or Cancel), shown next to its action.
    pub outage: RwSignal<Option<Outage>>,
    /// A long job in the worker (model fits, evaluation) and what it is doing.
    pub work: RwSignal<Option<String>>,
    pub models: RwSignal<Option<ModelsResult>>,
    pub holdout: RwSignal<Option<HoldoutReport>>,
    pub table: RwSignal<Option<TablePage>>,
    pub cohorts: RwSignal<Option<CohortsView>>,
    pub users: RwSignal<Option<UsersInfo>>,
}

impl Session {
    pub fn new() -> Session {
        let s = Session {
            handle: StoredValue::new_local(None),
            inputs: StoredValue::new_local(Inputs::default()),
            test_crashes: StoredValue::new_local(Vec::new()),
            running: RwSignal::new(false),
            progress: RwSignal::new(None),
            report: RwSignal::new(None),
            summary: RwSignal::new(None),
            summary_busy: RwSignal::new(false),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            outage: RwSignal::new(None),
            work: RwSignal::new(None),
            models: RwSignal::new(None),
            holdout: RwSignal::new(None),
            table: RwSignal::new(None),
            cohorts: RwSignal::new(None),
            users: RwSignal::new(None),
        };
        s.spawn();
        s.install_test_hooks();
        s
    }

    fn spawn(self) {
        let opts = WorkerOptions::new();
        let worker = match Worker::new_with_options(WORKER_URL, &opts) {
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

    fn on_reply(self, data: JsValue) {
        let reply: Reply = match serde_wasm_bindgen::from_value(data) {
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
            // A replay's progress is not the user's job: the outage note speaks for it.
            Reply::Progress { .. } | Reply::Status { .. } if self.replaying_now() => {}
            Reply::Progress { bytes, total, rows } => self.progress.set(Some(ProgressView { bytes, total, rows })),
            Reply::Status { message } => self.work.set(Some(message)),
            Reply::Panicked { message } => self.worker_died(message),
            reply => match self.handle.try_update_value(|h| h.as_mut().and_then(|h| h.in_flight.pop_front())).flatten()
            {
                Some(InFlight { job, restore: true }) => self.on_replayed(&job, reply),
                job => {
                    if let Some(InFlight { job, .. }) = job.filter(|_| !matches!(reply, Reply::Failed { .. })) {
                        self.inputs.update_value(|i| i.succeeded(&job));
                    }
                    self.show(reply);
                }
            },
        }
    }

    /// The final reply to a request the user made.
    fn show(self, reply: Reply) {
        match reply {
            Reply::Ingested { name, report } => {
                self.running.set(false);
                self.progress.set(None);
                self.report.set(Some((name, *report)));
            }
            Reply::Summary(stats) => {
                self.summary_busy.set(false);
                self.summary.set(Some(stats));
            }
            Reply::Models(result) => {
                self.work.set(None);
                self.models.set(Some(result));
            }
            Reply::Holdout(report) => {
                self.work.set(None);
                self.holdout.set(Some(*report));
            }
            Reply::Table(page) => self.table.set(Some(page)),
            Reply::Users(info) => self.users.set(Some(info)),
            Reply::Cohorts(view) => {
                self.work.set(None);
                self.cohorts.set(Some(*view));
            }
            Reply::Exported(file) => {
                if let Err(e) = download(&file.file_name, &file.csv) {
                    self.error.set(Some(format!("The download could not start: {e:?}")));
                } else if !file.notes.is_empty() {
                    self.notice.set(Some(format!("{}: {}.", file.file_name, file.notes.join("; "))));
                }
            }
            Reply::Failed { message } => {
                self.stop_busy();
                self.error.set(Some(message));
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
            Reply::Models(result) if self.inputs.with_value(|i| i.models.is_some()) => self.models.set(Some(result)),
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

    /// Whether the request the worker is running now is a replay.
    fn replaying_now(self) -> bool {
        self.handle.with_value(|h| h.as_ref().and_then(|h| h.in_flight.front()).is_some_and(|j| j.restore))
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
        self.stop_busy();
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

    fn stop_busy(self) {
        self.running.set(false);
        self.summary_busy.set(false);
        self.progress.set(None);
        self.work.set(None);
    }

    /// Post a request that rebuilds worker memory (file, users file, fit).
    fn send(self, job: Job<Blob>, restore: bool) {
        let (request, file) = match &job {
            Job::Ingest { name, file, options } => {
                (Request::Ingest { name: name.clone(), options: options.clone() }, Some(file.clone()))
            }
            Job::Users { name, file } => (Request::LoadUsers { name: name.clone() }, Some(file.clone())),
            Job::Fit(req) => (Request::FitModels(req.clone()), None),
            Job::Other { .. } => return,
        };
        self.post(InFlight { job, restore }, &request, file.as_ref());
    }

    /// A request on behalf of `panel`, rebuilding nothing if it is lost.
    fn ask(self, panel: Panel, label: &'static str, request: &Request) {
        self.post(InFlight { job: Job::Other { panel, label }, restore: false }, request, None);
    }

    fn post(self, job: InFlight<Blob>, request: &Request, file: Option<&Blob>) {
        let msg = js_sys::Object::new();
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let request = match request.serialize(&serializer) {
            Ok(v) => v,
            Err(e) => {
                self.error.set(Some(format!("Could not send the request: {e}")));
                return;
            }
        };
        self.arm_test_crash(&request, &msg);
        let _ = Reflect::set(&msg, &"request".into(), &request);
        if let Some(f) = file {
            let _ = Reflect::set(&msg, &"file".into(), f);
        }
        if !job.restore {
            self.inputs.update_value(|i| i.started(&job.job));
        }
        let msg: JsValue = msg.into();
        self.handle.update_value(|h| match h {
            Some(h) => {
                h.in_flight.push_back(job);
                if h.ready {
                    let _ = h.worker.post_message(&msg);
                } else {
                    h.queue.push(msg);
                }
            }
            None => self.error.set(Some("The background worker is not running: reload the page.".into())),
        });
    }

    /// A new action by the user: earlier messages are about something else.
    fn clear_messages(self) {
        self.error.set(None);
        self.outage.set(None);
    }

    pub fn ingest(self, name: String, file: &Blob, options: clv_core::ingest::IngestOptions) {
        self.clear_messages();
        self.notice.set(None);
        self.report.set(None);
        self.summary.set(None);
        self.models.set(None);
        self.holdout.set(None);
        self.table.set(None);
        self.cohorts.set(None);
        self.running.set(true);
        self.progress.set(Some(ProgressView { bytes: 0.0, total: file.size(), rows: 0.0 }));
        self.send(Job::Ingest { name, file: file.clone(), options }, false);
    }

    pub fn summarise(self, req: SummaryRequest) {
        self.summary_busy.set(true);
        self.clear_messages();
        self.ask(Panel::Summary, "Computing the summary", &Request::Summarise(req));
    }

    pub fn fit_models(self, req: ModelRequest) {
        self.clear_messages();
        self.models.set(None);
        self.table.set(None);
        self.work.set(Some("Fitting models…".into()));
        self.send(Job::Fit(req), false);
    }

    pub fn evaluate(self, req: HoldoutRequest) {
        self.clear_messages();
        self.holdout.set(None);
        self.work.set(Some("Evaluating on the holdout…".into()));
        self.ask(Panel::Holdout, "Evaluating on the holdout", &Request::Evaluate(req));
    }

    pub fn query_table(self, q: TableQuery) {
        self.ask(Panel::Customers, "Updating the customer table", &Request::Table(q));
    }

    pub fn export_predictions(self, model: ModelKind, format: ExportFormat) {
        let request = Request::ExportPredictions { model, format };
        self.ask(Panel::Customers, "Preparing the predictions download", &request);
    }

    pub fn export(self, what: crate::protocol::ExportKind, request: SummaryRequest) {
        self.ask(Panel::Summary, "Preparing the download", &Request::Export { what, request });
    }

    pub fn cohorts(self, req: CohortRequest) {
        self.clear_messages();
        self.work.set(Some("Building cohorts…".into()));
        self.ask(Panel::Cohorts, "Building the cohorts", &Request::Cohorts(req));
    }

    pub fn load_users(self, name: String, file: &Blob) {
        self.clear_messages();
        self.users.set(None);
        self.send(Job::Users { name, file: file.clone() }, false);
    }

    pub fn export_cohorts(self, request: CohortRequest, table: bool) {
        self.ask(Panel::Cohorts, "Preparing the cohorts download", &Request::ExportCohorts { request, table });
    }

    /// Stop the running job for real: the worker is terminated. A file being
    /// read is dropped; otherwise the loaded data is reloaded into the fresh worker.
    pub fn cancel(self) {
        let Some((_, in_flight)) = self.kill() else { return };
        self.stop_busy();
        let outage = Outage::cancelled(&in_flight);
        if outage.as_ref().is_some_and(|o| o.panel == Panel::Load) {
            // The file being read was not loaded yet: nothing of it to keep.
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
fn download(file_name: &str, text: &str) -> Result<(), JsValue> {
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
