//! The worker side of the boundary: receives [`Request`]s, runs the core,
//! posts [`Reply`]s. Ingested transactions stay here between requests; only
//! reports, statistics and exports cross back to the page.

pub mod analysis;
pub mod blob_reader;
pub mod cohort_analysis;

use crate::protocol::{Envelope, Reply, Request, RequestId, TestCrash};
use crate::worker::blob_reader::BlobReader;
use clv_core::ingest::{ingest, Ingested, Progress};
use js_sys::Reflect;
use serde::Serialize;
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, DedicatedWorkerGlobalScope, MessageEvent};

/// The data loaded: transactions, or a summary file in their place.
enum Data {
    Transactions(Box<Ingested>),
    Summary(analysis::SummaryFile),
}

thread_local! {
    static DATA: RefCell<Option<Data>> = const { RefCell::new(None) };
    static MODELS: RefCell<Option<analysis::ModelSession>> = const { RefCell::new(None) };
    static USERS: RefCell<Option<clv_core::features::Users>> = const { RefCell::new(None) };
    /// The lesson's published data sets once fitted: the same every time, so a second click is instant.
    static LESSON_FITS: RefCell<Vec<clv_core::teach::real::RealFit>> = const { RefCell::new(Vec::new()) };
    /// The request being handled: every reply, and a panic's, names it.
    static CURRENT: Cell<Option<RequestId>> = const { Cell::new(None) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Post a reply to the request being handled.
pub fn post(reply: Reply) {
    let envelope = Envelope { id: CURRENT.get(), reply };
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    match envelope.serialize(&serializer) {
        Ok(v) => {
            let _ = scope().post_message(&v);
        }
        Err(e) => web_sys::console::error_1(&format!("cannot serialise a reply: {e}").into()),
    }
}

/// Entry point of the worker binary: hook panics, listen, say ready.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(Reply::Panicked { message: info.to_string() });
    }));
    let on_msg = Closure::<dyn Fn(MessageEvent)>::new(|ev: MessageEvent| {
        let id = Reflect::get(&ev.data(), &"id".into()).ok().and_then(|v| v.as_f64()).map(|v| v as RequestId);
        CURRENT.set(id);
        test_crash(&ev.data());
        let reply = handle(&ev.data()).unwrap_or_else(|message| Reply::Failed { message });
        post(reply);
        CURRENT.set(None);
    });
    scope().set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    on_msg.forget();
    post(Reply::Ready);
}

/// The test hook (see [`TestCrash`]): fail the way a bug or exhausted memory would.
fn test_crash(data: &JsValue) {
    let how = Reflect::get(data, &"testCrash".into()).ok().filter(|v| !v.is_undefined());
    match how.and_then(|v| serde_wasm_bindgen::from_value(v).ok()) {
        Some(TestCrash::Panic) => panic!("a deliberate panic from the test hook (window.__clvTest)"),
        // What a failed allocation does: no panic hook, the worker traps.
        Some(TestCrash::OutOfMemory) => std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u8; 1 << 30]>()),
        None => {}
    }
}

fn handle(data: &JsValue) -> Result<Reply, String> {
    let request_js = Reflect::get(data, &"request".into()).map_err(|_| "malformed message")?;
    let request: Request = serde_wasm_bindgen::from_value(request_js).map_err(|e| format!("malformed request: {e}"))?;
    match request {
        Request::Ingest { name, options } => {
            let reader = BlobReader::new(attached_file(data)?)?;
            let total = reader.size();
            let mut progress = |p: Progress| {
                post(Reply::Progress { bytes: p.bytes as f64, total, rows: p.rows as f64 });
            };
            // Free the previous file and its models first.
            DATA.with(|d| d.borrow_mut().take());
            MODELS.with(|m| m.borrow_mut().take());
            let out = ingest(reader, &options, &mut progress).map_err(|e| format!("{name}: {e}"))?;
            let report = Box::new(out.report.clone());
            DATA.with(|d| *d.borrow_mut() = Some(Data::Transactions(Box::new(out))));
            Ok(Reply::Ingested { name, report })
        }
        Request::LoadSummary { name, unit } => {
            let reader = BlobReader::new(attached_file(data)?)?;
            DATA.with(|d| d.borrow_mut().take());
            MODELS.with(|m| m.borrow_mut().take());
            let input = clv_core::features::parse_summary(reader).map_err(|e| format!("{name}: {e}"))?;
            let file = analysis::SummaryFile { name, unit, input };
            let info = Box::new(file.info());
            DATA.with(|d| *d.borrow_mut() = Some(Data::Summary(file)));
            Ok(Reply::SummaryLoaded(info))
        }
        Request::LoadUsers { name } => {
            let users = clv_core::features::parse_users(BlobReader::new(attached_file(data)?)?, Default::default())
                .map_err(|e| format!("{name}: {e}"))?;
            let info = analysis::users_info(&name, &users);
            USERS.with(|u| *u.borrow_mut() = Some(users));
            Ok(Reply::Users(info))
        }
        Request::Summarise(req) => with_data(|tx| analysis::summarise(tx, &req).map(Reply::Summary)),
        Request::FitModels(req) => {
            let mut status = |message: String| post(Reply::Status { message });
            let (session, result) = DATA.with(|d| match d.borrow().as_ref() {
                Some(Data::Transactions(data)) => analysis::fit_models(&data.transactions, &req, &mut status),
                Some(Data::Summary(file)) => analysis::fit_summary_file(file, &req, &mut status),
                None => Err(NO_DATA.into()),
            })?;
            MODELS.with(|m| *m.borrow_mut() = Some(session));
            Ok(Reply::Models(Box::new(result)))
        }
        Request::Evaluate(req) => with_data(|tx| {
            post(Reply::Status { message: "Fitting on the calibration period and scoring the holdout…".into() });
            USERS.with(|u| analysis::evaluate(tx, u.borrow().as_ref(), &req)).map(|r| Reply::Holdout(Box::new(r)))
        }),
        Request::Table(q) => {
            with_any_data(|tx| USERS.with(|u| with_models(|m| m.table(&q, tx, u.borrow().as_ref()).map(Reply::Table))))
        }
        Request::Value { model, segment } => with_any_data(|tx| {
            USERS.with(|u| {
                let users = u.borrow();
                with_models(|m| {
                    m.value(model, tx, users.as_ref(), segment.as_deref()).map(|v| Reply::Value(Box::new(v)))
                })
            })
        }),
        Request::Explore { model, t } => with_models(|m| m.explore(model, t).map(|v| Reply::Explore(Box::new(v)))),
        Request::ExportQuadrant { model, quadrant } => {
            with_models(|m| m.export_quadrant(model, quadrant).map(Reply::Exported))
        }
        Request::Customer { model, user_id } => {
            with_any_data(|tx| with_models(|m| m.customer(tx, model, &user_id).map(|d| Reply::Customer(Box::new(d)))))
        }
        Request::ExportPredictions { model, format } => with_models(|m| m.export(model, format).map(Reply::Exported)),
        Request::Export { what, request } => with_data(|tx| {
            USERS.with(|u| analysis::export(tx, u.borrow().as_ref(), what, &request)).map(Reply::Exported)
        }),
        Request::Cohorts(req) => with_data(|tx| {
            post(Reply::Status { message: "Building cohorts and forecasting their revenue…".into() });
            with_context(|users, models| cohort_analysis::cohorts(tx, users, &req, models))
                .map(|v| Reply::Cohorts(Box::new(v)))
        }),
        Request::Lesson(req) => analysis::simulate_lesson(&req).map(|base| Reply::Lesson(Box::new(base))),
        Request::LessonData { dataset } => {
            use clv_core::teach::real::{cdnow, donations, Dataset};
            if let Some(fit) = LESSON_FITS.with(|f| f.borrow().iter().find(|f| f.dataset == dataset).cloned()) {
                return Ok(Reply::LessonData(Box::new(fit)));
            }
            let fit = match dataset {
                Dataset::Cdnow => {
                    let reader = BlobReader::new(attached_file(data)?)?;
                    let out = ingest(reader, &Default::default(), &mut |_| {}).map_err(|e| format!("CDNOW: {e}"))?;
                    cdnow(&out.transactions)
                }
                Dataset::Donations => donations(),
            };
            let fit = fit.map_err(analysis::lesson_data_error)?;
            LESSON_FITS.with(|f| f.borrow_mut().push(fit.clone()));
            Ok(Reply::LessonData(Box::new(fit)))
        }
        Request::ScoreSaved { name, cutoff, horizon } => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut BlobReader::new(attached_file(data)?)?, &mut text)
                .map_err(|e| format!("{name}: {e}"))?;
            with_data(|tx| {
                USERS
                    .with(|u| analysis::score_saved(tx, u.borrow().as_ref(), &name, &text, cutoff, horizon))
                    .map(Reply::Exported)
            })
        }
        Request::ExportCohorts { request, table } => with_data(|tx| {
            with_context(|users, models| cohort_analysis::export(tx, users, &request, table, models))
                .map(Reply::Exported)
        }),
    }
}

/// The users file and the fitted models, when there are any.
fn with_context<T>(f: impl FnOnce(Option<&clv_core::features::Users>, Option<&analysis::ModelSession>) -> T) -> T {
    USERS.with(|u| MODELS.with(|m| f(u.borrow().as_ref(), m.borrow().as_ref())))
}

/// The `File`/`Blob` posted beside a request.
fn attached_file(data: &JsValue) -> Result<Blob, String> {
    Reflect::get(data, &"file".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| "the request carried no file".to_string())
}

const NO_DATA: &str = "no data loaded yet: load a CSV first";

/// A request that needs the transactions (dates of purchases).
fn with_data(f: impl FnOnce(&clv_core::ingest::Transactions) -> Result<Reply, String>) -> Result<Reply, String> {
    DATA.with(|d| match d.borrow().as_ref() {
        Some(Data::Transactions(data)) => f(&data.transactions),
        Some(Data::Summary(file)) => Err(analysis::needs_transactions(file)),
        None => Err(NO_DATA.into()),
    })
}

/// A request that works from transactions or a summary file (`None`: a summary file).
fn with_any_data(
    f: impl FnOnce(Option<&clv_core::ingest::Transactions>) -> Result<Reply, String>,
) -> Result<Reply, String> {
    DATA.with(|d| match d.borrow().as_ref() {
        Some(Data::Transactions(data)) => f(Some(&data.transactions)),
        Some(Data::Summary(_)) => f(None),
        None => Err(NO_DATA.into()),
    })
}

fn with_models(f: impl FnOnce(&mut analysis::ModelSession) -> Result<Reply, String>) -> Result<Reply, String> {
    MODELS.with(|m| match m.borrow_mut().as_mut() {
        Some(session) => f(session),
        None => Err("no models fitted yet: fit the models first".into()),
    })
}
