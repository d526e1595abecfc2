//! The page side of the worker boundary: one worker, a queue until it says
//! "ready", and the signals its replies feed. Cancel terminates the worker
//! (the only way to stop synchronous work in it) and starts a fresh one.

use crate::protocol::{
    CohortRequest, CohortsView, ExportFormat, HoldoutRequest, ModelRequest, ModelsResult, Reply, Request,
    SummaryRequest, SummaryStats, TablePage, TableQuery, UsersInfo,
};
use clv_core::holdout::HoldoutReport;
use clv_core::ingest::IngestReport;
use clv_core::pipeline::ModelKind;
use leptos::prelude::*;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, ErrorEvent, MessageEvent, Worker, WorkerOptions};

pub const WORKER_URL: &str = "./worker_loader.js";

struct WorkerHandle {
    worker: Worker,
    ready: bool,
    queue: Vec<JsValue>,
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
    pub running: RwSignal<bool>,
    pub progress: RwSignal<Option<ProgressView>>,
    pub report: RwSignal<Option<(String, IngestReport)>>,
    pub summary: RwSignal<Option<SummaryStats>>,
    pub summary_busy: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
    pub notice: RwSignal<Option<String>>,
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
            running: RwSignal::new(false),
            progress: RwSignal::new(None),
            report: RwSignal::new(None),
            summary: RwSignal::new(None),
            summary_busy: RwSignal::new(false),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            work: RwSignal::new(None),
            models: RwSignal::new(None),
            holdout: RwSignal::new(None),
            table: RwSignal::new(None),
            cohorts: RwSignal::new(None),
            users: RwSignal::new(None),
        };
        s.spawn();
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
        let on_error = Closure::<dyn Fn(ErrorEvent)>::new(move |ev: ErrorEvent| {
            self.stop_busy();
            self.error.set(Some(format!("The background worker failed: {}", ev.message())));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.handle.set_value(Some(WorkerHandle {
            worker,
            ready: false,
            queue: Vec::new(),
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
            Reply::Progress { bytes, total, rows } => self.progress.set(Some(ProgressView { bytes, total, rows })),
            Reply::Ingested { name, report } => {
                self.running.set(false);
                self.progress.set(None);
                self.report.set(Some((name, *report)));
            }
            Reply::Summary(stats) => {
                self.summary_busy.set(false);
                self.summary.set(Some(stats));
            }
            Reply::Status { message } => self.work.set(Some(message)),
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
            Reply::Panicked { message } => {
                self.stop_busy();
                self.error.set(Some(format!(
                    "Internal error (a bug, not your data's fault): {message}. The worker was restarted; please try again."
                )));
                self.restart();
            }
        }
    }

    fn stop_busy(self) {
        self.running.set(false);
        self.summary_busy.set(false);
        self.progress.set(None);
        self.work.set(None);
    }

    fn post(self, request: &Request, file: Option<&Blob>) {
        let msg = js_sys::Object::new();
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let request = match request.serialize(&serializer) {
            Ok(v) => v,
            Err(e) => {
                self.error.set(Some(format!("Could not send the request: {e}")));
                return;
            }
        };
        let _ = js_sys::Reflect::set(&msg, &"request".into(), &request);
        if let Some(f) = file {
            let _ = js_sys::Reflect::set(&msg, &"file".into(), f);
        }
        let msg: JsValue = msg.into();
        self.handle.update_value(|h| match h {
            Some(h) if h.ready => {
                let _ = h.worker.post_message(&msg);
            }
            Some(h) => h.queue.push(msg),
            None => {}
        });
    }

    pub fn ingest(self, name: String, file: &Blob, options: clv_core::ingest::IngestOptions) {
        self.error.set(None);
        self.notice.set(None);
        self.report.set(None);
        self.summary.set(None);
        self.models.set(None);
        self.holdout.set(None);
        self.table.set(None);
        self.cohorts.set(None);
        self.running.set(true);
        self.progress.set(Some(ProgressView { bytes: 0.0, total: file.size(), rows: 0.0 }));
        self.post(&Request::Ingest { name, options }, Some(file));
    }

    pub fn summarise(self, req: SummaryRequest) {
        self.summary_busy.set(true);
        self.error.set(None);
        self.post(&Request::Summarise(req), None);
    }

    pub fn fit_models(self, req: ModelRequest) {
        self.error.set(None);
        self.models.set(None);
        self.table.set(None);
        self.work.set(Some("Fitting models…".into()));
        self.post(&Request::FitModels(req), None);
    }

    pub fn evaluate(self, req: HoldoutRequest) {
        self.error.set(None);
        self.holdout.set(None);
        self.work.set(Some("Evaluating on the holdout…".into()));
        self.post(&Request::Evaluate(req), None);
    }

    pub fn query_table(self, q: TableQuery) {
        self.post(&Request::Table(q), None);
    }

    pub fn export_predictions(self, model: ModelKind, format: ExportFormat) {
        self.post(&Request::ExportPredictions { model, format }, None);
    }

    pub fn export(self, what: crate::protocol::ExportKind, request: SummaryRequest) {
        self.post(&Request::Export { what, request }, None);
    }

    pub fn cohorts(self, req: CohortRequest) {
        self.error.set(None);
        self.work.set(Some("Building cohorts…".into()));
        self.post(&Request::Cohorts(req), None);
    }

    pub fn load_users(self, name: String, file: &Blob) {
        self.error.set(None);
        self.users.set(None);
        self.post(&Request::LoadUsers { name }, Some(file));
    }

    pub fn export_cohorts(self, request: CohortRequest, table: bool) {
        self.post(&Request::ExportCohorts { request, table }, None);
    }

    fn restart(self) {
        self.handle.update_value(|h| {
            if let Some(h) = h.take() {
                h.worker.terminate();
            }
        });
        self.spawn();
    }

    /// Stop the running ingest for real: the worker is terminated.
    pub fn cancel(self) {
        self.restart();
        self.stop_busy();
        self.notice.set(Some("Cancelled. Nothing was kept; load a file to start again.".into()));
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
