//! The worker side of the boundary: receives [`Request`]s, runs the core,
//! posts [`Reply`]s. Ingested transactions stay here between requests; only
//! reports, statistics and exports cross back to the page.

pub mod analysis;
pub mod blob_reader;
pub mod cohort_analysis;
pub mod fit_pool;

use crate::protocol::{Envelope, Reply, Request, RequestId, TestCrash};
use crate::worker::blob_reader::BlobReader;
use clv_core::ingest::{ingest, Ingested, Progress};
use clv_core::pipeline::Customers;
use js_sys::Reflect;
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
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
    /// Requests not handled yet, in the order they arrived (they wait here while one awaits its helpers).
    static QUEUE: RefCell<VecDeque<JsValue>> = const { RefCell::new(VecDeque::new()) };
    /// A request is awaiting its helper workers.
    static AWAITING: Cell<bool> = const { Cell::new(false) };
    /// How many fits (or pieces of a prediction) may run at once ([`fit_pool::threads`]), read at start.
    static THREADS: Cell<usize> = const { Cell::new(1) };
    /// A helper died under a request: the page is replacing this worker, so nothing more is run.
    static STOPPED: Cell<bool> = const { Cell::new(false) };
}

/// The script every worker of this binary starts from (the page's worker and its fit helpers).
pub const LOADER_URL: &str = "./worker_loader.js";

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

/// Entry point of the worker binary: a fit helper ([`fit_pool::HELPER_NAME`]) or the page's worker,
/// which hooks panics, listens and says ready.
pub fn start() {
    let scope = scope();
    if scope.name() == fit_pool::HELPER_NAME {
        return fit_pool::start_helper(scope);
    }
    THREADS.set(fit_pool::threads(&scope));
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(Reply::Panicked { message: info.to_string() });
    }));
    let on_msg = Closure::<dyn Fn(MessageEvent)>::new(|ev: MessageEvent| {
        QUEUE.with(|q| q.borrow_mut().push_back(ev.data()));
        run_queue();
    });
    scope.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    on_msg.forget();
    post(Reply::Ready);
}

/// Handle the queued requests in order until one has to await its helpers (it resumes the queue).
fn run_queue() {
    while !AWAITING.get() && !STOPPED.get() {
        let Some(data) = QUEUE.with(|q| q.borrow_mut().pop_front()) else { return };
        let id = Reflect::get(&data, &"id".into()).ok().and_then(|v| v.as_f64()).map(|v| v as RequestId);
        CURRENT.set(id);
        let helper_crash = test_crash(&data);
        if let Some(plan) = fit_plan(&data) {
            match plan {
                Ok(plan) if plan.steps.len() > 1 => {
                    awaiting(async move { finish_parallel_fit(plan, helper_crash).await });
                    continue;
                }
                // One fit: nothing to share.
                Ok(plan) => post(fit_here(plan).unwrap_or_else(|message| Reply::Failed { message })),
                Err(message) => post(Reply::Failed { message }),
            }
        } else if let Some((kind, job, customers)) = spread_prediction(&data) {
            awaiting(async move {
                match fit_pool::predict(&job, &customers, THREADS.get()).await {
                    Ok(Some(values)) => {
                        MODELS.with(|m| m.borrow_mut().as_mut().map(|s| s.add_predictions(kind, values)))
                    }
                    // A helper could not: predicted here, by the request itself.
                    Ok(None) => None,
                    Err(message) => return Reply::Panicked { message },
                };
                handle(&data).unwrap_or_else(|message| Reply::Failed { message })
            });
            continue;
        } else {
            post(handle(&data).unwrap_or_else(|message| Reply::Failed { message }));
        }
        CURRENT.set(None);
    }
}

/// Run `work` (a request awaiting helper workers); requests arriving meanwhile queue behind it.
fn awaiting(work: impl std::future::Future<Output = Reply> + 'static) {
    AWAITING.set(true);
    wasm_bindgen_futures::spawn_local(async move {
        let reply = work.await;
        STOPPED.set(matches!(reply, Reply::Panicked { .. }));
        post(reply);
        CURRENT.set(None);
        AWAITING.set(false);
        run_queue();
    });
}

/// A request that needs a model's predictions not made yet, on enough customers to share among
/// helper workers: the model, the job, and the customers (without ids, which no prediction reads).
fn spread_prediction(data: &JsValue) -> Option<(clv_core::pipeline::ModelKind, analysis::PredictJob, Customers)> {
    if THREADS.get() < 2 {
        return None;
    }
    let request = serde_wasm_bindgen::from_value(Reflect::get(data, &"request".into()).ok()?).ok()?;
    let kind = match request {
        Request::Table(q) => q.model,
        Request::Value { model, .. }
        | Request::ExportPredictions { model, .. }
        | Request::ExportQuadrant { model, .. } => model,
        _ => return None,
    };
    MODELS.with(|m| {
        let session = m.borrow();
        let session = session.as_ref()?;
        let job = session.prediction_job(kind)?;
        let c = session.customers();
        if c.rfm.len() < 2 * fit_pool::MIN_PIECE {
            return None;
        }
        let customers = Customers {
            ids: Vec::new(),
            rfm: c.rfm.clone(),
            monetary: c.monetary.clone(),
            weights: c.weights.clone(),
            monetary_is_group_mean: c.monetary_is_group_mean,
        };
        Some((kind, job, customers))
    })
}

/// A model request when fits may run in helper workers (more than one thread): its plan — the
/// customers and the steps — or why there is none.
fn fit_plan(data: &JsValue) -> Option<Result<analysis::FitPlan, String>> {
    if THREADS.get() < 2 {
        return None;
    }
    let request = serde_wasm_bindgen::from_value(Reflect::get(data, &"request".into()).ok()?).ok()?;
    let Request::FitModels(req) = request else { return None };
    Some(plan(&req))
}

fn plan(req: &crate::protocol::ModelRequest) -> Result<analysis::FitPlan, String> {
    DATA.with(|d| match d.borrow().as_ref() {
        Some(Data::Transactions(data)) => analysis::plan_fit(&data.transactions, req),
        Some(Data::Summary(file)) => analysis::plan_summary_fit(file, req),
        None => Err(NO_DATA.into()),
    })
}

/// Fit `plan`'s steps here, one after another.
fn fit_here(plan: analysis::FitPlan) -> Result<Reply, String> {
    let mut status = |message: String| post(Reply::Status { message });
    plan.run_here(&mut status).map(keep_session)
}

/// Keep a fit's session (the table, value view, … read it) and answer with its result.
fn keep_session((session, result): (analysis::ModelSession, crate::protocol::ModelsResult)) -> Reply {
    MODELS.with(|m| *m.borrow_mut() = Some(session));
    Reply::Models(Box::new(result))
}

async fn finish_parallel_fit(plan: analysis::FitPlan, crash: Option<TestCrash>) -> Reply {
    // The previous fit's session is dropped first: its memory is the helpers' headroom.
    MODELS.with(|m| m.borrow_mut().take());
    let status = |message: String| post(Reply::Status { message });
    let outcomes = match fit_pool::run(&plan, THREADS.get(), &status, crash).await {
        Ok(o) => o,
        // A helper's crash is this request's crash: the page starts a fresh worker and says so.
        Err(message) => return Reply::Panicked { message },
    };
    plan.finish(outcomes).map(keep_session).unwrap_or_else(|message| Reply::Failed { message })
}

/// The test hook (see [`TestCrash`]): fail the way a bug or exhausted memory would — here, or (the
/// helper kinds, returned) in the fit helper that runs the request's first fit.
fn test_crash(data: &JsValue) -> Option<TestCrash> {
    let how = Reflect::get(data, &"testCrash".into()).ok().filter(|v| !v.is_undefined());
    let how = how.and_then(|v| serde_wasm_bindgen::from_value(v).ok());
    match how {
        Some(TestCrash::Panic) => panic!("a deliberate panic from the test hook (window.__clvTest)"),
        Some(TestCrash::OutOfMemory) => crash_out_of_memory(),
        helper => helper,
    }
}

/// What a failed allocation does: no panic hook, the worker traps.
pub fn crash_out_of_memory() -> ! {
    std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u8; 1 << 30]>())
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
        Request::FitModels(req) => fit_here(plan(&req)?),
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
