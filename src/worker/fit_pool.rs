//! The fits of one model request spread over helper workers, one fit per helper at a time, the
//! longest first. Helpers are nested dedicated workers running this same binary (named
//! [`HELPER_NAME`]): they need no cross-origin isolation, so a docs site or a static host that cannot
//! send COOP/COEP headers gets every core too. Each fit is the same code on the same rows wherever it
//! runs, so the models, reports and digits do not depend on the number of helpers
//! (`pipeline::assemble` puts the outcomes back in request order).
//!
//! The customer table's predictions are spread the same way ([`predict`]): a contiguous piece of the
//! customers per helper, joined in order.
//!
//! Messages (plain objects):
//! - to a helper: `{columns: {x, tx, t, m, w}}` (Float64Arrays: the customers, without ids, which no
//!   fit reads), then `{step, opts}` per fit, then `{clear: true}` when the request is done; or
//!   `{predict, columns}` (a [`PredictJob`] and its piece of the customers);
//! - from a helper: `{ready: true}` once it listens, `{outcome}` per fit, `{values}` (prediction
//!   columns) or `{failed}` per piece, `{panicked}` from its panic hook; its `error` event (a trap
//!   without a panic: out of memory) is turned into `{died}`.

use super::analysis::{FitPlan, PredictJob};
use crate::protocol::TestCrash;
use clv_core::clv::CustomerValue;
use clv_core::models::{FitOptions, PmfSummary, Rfm};
use clv_core::pipeline::{Customers, FitStep, RowValue, StepOutcome};
use js_sys::{Array, Float64Array, Object, Promise, Reflect};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, Event, MessageEvent, Worker, WorkerOptions};

/// The `name` a helper worker is started with; the binary's entry point branches on it.
pub const HELPER_NAME: &str = "clv-fit-helper";

/// How many fits may run at once: `?threads=N` in the worker's URL (the page passes its own, for
/// tests and benchmarks), else the machine's logical cores.
pub fn threads(scope: &DedicatedWorkerGlobalScope) -> usize {
    let search = scope.location().search();
    crate::protocol::threads_param(&search).unwrap_or_else(|| scope.navigator().hardware_concurrency() as usize).max(1)
}

/// Messages a helper sent that nobody has awaited yet, and the resolver of the promise that waits.
#[derive(Default)]
struct Inbox {
    messages: VecDeque<JsValue>,
    waiting: Option<js_sys::Function>,
}

impl Inbox {
    fn deliver(&mut self, message: JsValue) {
        match self.waiting.take() {
            Some(resolve) => {
                let _ = resolve.call1(&JsValue::NULL, &message);
            }
            None => self.messages.push_back(message),
        }
    }
}

struct Helper {
    worker: Worker,
    inbox: Rc<RefCell<Inbox>>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(Event)>,
}

impl Helper {
    /// Start helper number `index`: its messages arrive as `[index, data]`.
    fn spawn(index: usize) -> Result<Helper, String> {
        let opts = WorkerOptions::new();
        opts.set_name(HELPER_NAME);
        let worker = Worker::new_with_options(super::LOADER_URL, &opts)
            .map_err(|e| format!("a helper worker could not start: {e:?}"))?;
        let inbox = Rc::new(RefCell::new(Inbox::default()));
        let tagged = move |data: &JsValue| Array::of2(&JsValue::from(index as f64), data).into();
        let to_inbox = inbox.clone();
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
            to_inbox.borrow_mut().deliver(tagged(&ev.data()));
        });
        let to_inbox = inbox.clone();
        // An `ErrorEvent` (a trap, an uncaught exception) or a plain `Event` (its script did not load).
        let on_error = Closure::<dyn Fn(Event)>::new(move |ev: Event| {
            ev.prevent_default();
            let why = Reflect::get(&ev, &"message".into()).ok().and_then(|m| m.as_string());
            let why = why.unwrap_or_else(|| "its script did not load".into());
            to_inbox.borrow_mut().deliver(tagged(&message(&[("died", why.into())])));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Helper { worker, inbox, _on_message: on_message, _on_error: on_error })
    }

    /// A promise of this helper's next message (`[index, data]`).
    fn next(&self) -> Promise {
        let inbox = self.inbox.clone();
        Promise::new(&mut move |resolve, _reject| {
            let mut inbox = inbox.borrow_mut();
            match inbox.messages.pop_front() {
                Some(m) => {
                    let _ = resolve.call1(&JsValue::NULL, &m);
                }
                None => inbox.waiting = Some(resolve),
            }
        })
    }

    fn post(&self, message: &JsValue) -> Result<(), String> {
        self.worker.post_message(message).map_err(|e| format!("cannot post to a helper worker: {e:?}"))
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

thread_local! {
    /// Helpers kept between requests (each loads and compiles the wasm once); dropped, and started
    /// afresh by the next request, when one of them failed.
    static POOL: RefCell<Vec<Helper>> = const { RefCell::new(Vec::new()) };
    /// Counts the requests that used the pool: an idle timer lets the helpers go only if none came since.
    static USES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// In a helper: the customers of the request being fitted.
    static HELPER_CUSTOMERS: RefCell<Option<Customers>> = const { RefCell::new(None) };
}

/// Helpers unused this long are let go: a wasm instance's memory never shrinks, so each would keep
/// its peak (all the customers and a fit's workspace) for the tab's life. The next request starts
/// them again (the compiled wasm is cached).
const IDLE_MS: i32 = 60_000;

/// Put `helpers` back in the pool, and let them go after [`IDLE_MS`] unless another request uses them.
fn keep(helpers: Vec<Helper>) {
    POOL.with(|p| *p.borrow_mut() = helpers);
    let generation = USES.with(|u| {
        u.set(u.get() + 1);
        u.get()
    });
    let release = Closure::once_into_js(move || {
        if USES.with(|u| u.get()) == generation {
            POOL.with(|p| p.borrow_mut().clear());
        }
    });
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(release.unchecked_ref(), IDLE_MS);
}

/// What a helper's message says.
enum FromHelper {
    Ready,
    Outcome(StepOutcome),
    /// Predictions of the piece of customers it was sent.
    Values(Vec<RowValue>),
    /// It could not predict, in words (the caller predicts here instead).
    Failed(String),
    /// It died: panicked, ran out of memory, or its script did not load.
    Died(String),
}

fn read(data: &JsValue) -> FromHelper {
    let field = |name: &str| Reflect::get(data, &name.into()).ok().filter(|v| !v.is_undefined());
    if field("ready").is_some() {
        return FromHelper::Ready;
    }
    if let Some(outcome) = field("outcome") {
        return match serde_wasm_bindgen::from_value(outcome) {
            Ok(o) => FromHelper::Outcome(o),
            Err(e) => FromHelper::Died(format!("a helper's answer could not be read: {e}")),
        };
    }
    if let Some(values) = field("values") {
        return FromHelper::Values(values_from(&values));
    }
    if let Some(why) = field("failed") {
        return FromHelper::Failed(why.as_string().unwrap_or_default());
    }
    let why = field("panicked").or_else(|| field("died")).and_then(|v| v.as_string());
    FromHelper::Died(why.unwrap_or_else(|| "it stopped without saying why".into()))
}

/// Await the first of `running`'s promises to settle: (which entry, the helper's message).
async fn first_of(running: &[(usize, usize, Promise)]) -> Result<(usize, JsValue), String> {
    let promises: Array = running.iter().map(|(_, _, p)| JsValue::from(p.clone())).collect();
    let tagged = JsFuture::from(Promise::race(&promises)).await.map_err(|e| format!("{e:?}"))?;
    let tagged: Array = tagged.unchecked_into();
    let helper = tagged.get(0).as_f64().unwrap_or(-1.0) as usize;
    let entry = running.iter().position(|(h, _, _)| *h == helper).ok_or("an answer from an idle helper")?;
    Ok((entry, tagged.get(1)))
}

/// Customers `range` of `c` as columns of numbers (a structured clone copies them to a helper).
fn columns(c: &Customers, range: std::ops::Range<usize>) -> JsValue {
    let col = |f: &dyn Fn(usize) -> f64| {
        let v: Vec<f64> = range.clone().map(f).collect();
        JsValue::from(Float64Array::from(v.as_slice()))
    };
    message(&[
        ("x", col(&|i| c.rfm[i].x)),
        ("tx", col(&|i| c.rfm[i].t_x)),
        ("t", col(&|i| c.rfm[i].t)),
        ("m", col(&|i| c.monetary[i])),
        ("w", col(&|i| c.weights[i])),
        ("groupMeans", JsValue::from_bool(c.monetary_is_group_mean)),
    ])
}

fn message(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// Run `plan`'s steps on up to `threads` helpers; `status` hears which fits are running. An `Err`
/// is a helper that died (its panic message, or why it stopped): the caller treats it as its own crash.
/// `crash` (the test hook) is passed to the helper of the first fit.
pub async fn run(
    plan: &FitPlan,
    threads: usize,
    status: &dyn Fn(String),
    crash: Option<TestCrash>,
) -> Result<Vec<StepOutcome>, String> {
    let n = plan.steps.len();
    let wanted = threads.min(n).max(1);
    let mut helpers = POOL.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let result = run_on(&mut helpers, wanted, plan, status, crash).await;
    match &result {
        Ok(_) => {
            for h in &helpers[..wanted] {
                let _ = h.post(&message(&[("clear", JsValue::TRUE)]));
            }
            keep(helpers);
        }
        // A helper died: start afresh next time (dropping terminates them all).
        Err(_) => drop(helpers),
    }
    result
}

/// Start helpers until there are `wanted`, each once it says it listens.
async fn start_helpers(helpers: &mut Vec<Helper>, wanted: usize) -> Result<(), String> {
    while helpers.len() < wanted {
        let h = Helper::spawn(helpers.len())?;
        match read(&Array::from(&JsFuture::from(h.next()).await.map_err(|e| format!("{e:?}"))?).get(1)) {
            FromHelper::Ready => helpers.push(h),
            FromHelper::Died(why) => return Err(format!("a helper worker did not start: {why}")),
            _ => return Err("a helper answered before it was asked".into()),
        }
    }
    Ok(())
}

async fn run_on(
    helpers: &mut Vec<Helper>,
    wanted: usize,
    plan: &FitPlan,
    status: &dyn Fn(String),
    crash: Option<TestCrash>,
) -> Result<Vec<StepOutcome>, String> {
    start_helpers(helpers, wanted).await?;
    let columns = message(&[("columns", columns(&plan.customers, 0..plan.customers.rfm.len()))]);
    let opts = serde_wasm_bindgen::to_value(&plan.opts).map_err(|e| e.to_string())?;
    for h in &helpers[..wanted] {
        h.post(&columns)?;
    }
    // Longest first, so the last fit to finish is a short one.
    let mut order: Vec<usize> = (0..plan.steps.len()).collect();
    order.sort_by(|&a, &b| plan.steps[b].relative_cost().total_cmp(&plan.steps[a].relative_cost()));
    let mut queue = order.into_iter();
    let mut outcomes: Vec<Option<StepOutcome>> = vec![None; plan.steps.len()];
    let mut running: Vec<(usize, usize, Promise)> = Vec::new();
    let start = |h: usize, s: usize, running: &mut Vec<(usize, usize, Promise)>| -> Result<(), String> {
        let step = serde_wasm_bindgen::to_value(&plan.steps[s]).map_err(|e| e.to_string())?;
        let crash = if running.is_empty() {
            serde_wasm_bindgen::to_value(&crash).unwrap_or(JsValue::NULL)
        } else {
            JsValue::NULL
        };
        helpers[h].post(&message(&[("step", step), ("opts", opts.clone()), ("testCrash", crash)]))?;
        running.push((h, s, helpers[h].next()));
        Ok(())
    };
    for h in 0..wanted {
        if let Some(s) = queue.next() {
            start(h, s, &mut running)?;
        }
    }
    let mut done = 0;
    while !running.is_empty() {
        status(plan.parallel_status(running.iter().map(|(_, s, _)| plan.steps[*s]), done, wanted));
        let (entry, data) = first_of(&running).await?;
        let (h, s, _) = running.remove(entry);
        match read(&data) {
            FromHelper::Outcome(o) => outcomes[s] = Some(o),
            FromHelper::Died(why) => {
                return Err(format!("fitting {} in a helper worker failed: {why}", plan.steps[s].id().label()))
            }
            _ => return Err("a helper answered what it was not asked".into()),
        }
        done += 1;
        if let Some(next) = queue.next() {
            start(h, next, &mut running)?;
        }
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// Fewest customers worth a helper's piece of a prediction (below, the message costs more than it saves).
pub const MIN_PIECE: usize = 5_000;

/// Predict `job` for `c`'s customers on up to `threads` helpers, a contiguous piece each, joined in
/// order: the same numbers as predicting them here ([`PredictJob::run`]). `Ok(None)`: a helper could
/// not (the caller predicts here and says why); `Err`: a helper died, as for [`run`].
pub async fn predict(job: &PredictJob, c: &Customers, threads: usize) -> Result<Option<Vec<RowValue>>, String> {
    let wanted = threads.min(c.rfm.len() / MIN_PIECE).max(1);
    let mut helpers = POOL.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let result = predict_on(&mut helpers, wanted, job, c).await;
    if result.is_ok() {
        keep(helpers);
    }
    result
}

async fn predict_on(
    helpers: &mut Vec<Helper>,
    wanted: usize,
    job: &PredictJob,
    c: &Customers,
) -> Result<Option<Vec<RowValue>>, String> {
    start_helpers(helpers, wanted).await?;
    let job = serde_wasm_bindgen::to_value(job).map_err(|e| e.to_string())?;
    let n = c.rfm.len();
    let mut running = Vec::new();
    for (i, h) in helpers[..wanted].iter().enumerate() {
        h.post(&message(&[("predict", job.clone()), ("columns", columns(c, i * n / wanted..(i + 1) * n / wanted))]))?;
        running.push((i, i, h.next()));
    }
    let mut pieces: Vec<Option<Vec<RowValue>>> = vec![None; wanted];
    while !running.is_empty() {
        let (entry, data) = first_of(&running).await?;
        let (_, piece, _) = running.remove(entry);
        match read(&data) {
            FromHelper::Values(v) => pieces[piece] = Some(v),
            FromHelper::Failed(why) => {
                web_sys::console::warn_1(&format!("a helper could not predict: {why}").into());
                // The others may still be working: their late answers must not reach the next
                // request's awaiters, so they go (dropping terminates them).
                helpers.clear();
                return Ok(None);
            }
            FromHelper::Died(why) => return Err(format!("predicting in a helper worker failed: {why}")),
            _ => return Err("a helper answered what it was not asked".into()),
        }
    }
    // Joined without holding two whole copies: each piece is freed as it is moved in.
    let mut values = Vec::with_capacity(n);
    for piece in pieces.into_iter().flatten() {
        values.extend(piece);
    }
    Ok(Some(values))
}

/// Predictions as columns of numbers (a piece of 500k customers is ~40 MB as plain objects, 36 MB here).
fn values_to_js(values: &[RowValue]) -> JsValue {
    let col = |f: &dyn Fn(&RowValue) -> f64| {
        JsValue::from(Float64Array::from(values.iter().map(f).collect::<Vec<f64>>().as_slice()))
    };
    let mut pairs = vec![
        ("p_alive", col(&|v| v.value.p_alive)),
        ("expected_txn", col(&|v| v.value.expected_txn)),
        ("median", col(&|v| f64::from(v.value.txn.median))),
        ("lower80", col(&|v| f64::from(v.value.txn.lower80))),
        ("upper80", col(&|v| f64::from(v.value.txn.upper80))),
        ("expected_spend", col(&|v| v.value.expected_spend)),
        ("backfilled", col(&|v| f64::from(u8::from(v.value.spend_backfilled)))),
        ("clv", col(&|v| v.value.clv)),
    ];
    // Each is there for every customer or for none (it depends on the model only).
    if values.first().is_some_and(|v| v.dert.is_some()) {
        pairs.push(("dert", col(&|v| v.dert.unwrap_or(f64::NAN))));
    }
    if values.first().is_some_and(|v| v.p_alive_next.is_some()) {
        pairs.push(("p_alive_next", col(&|v| v.p_alive_next.unwrap_or(f64::NAN))));
    }
    message(&pairs)
}

fn values_from(js: &JsValue) -> Vec<RowValue> {
    let col = |k: &str| {
        Reflect::get(js, &k.into()).ok().filter(|v| !v.is_undefined()).map(|v| Float64Array::from(v).to_vec())
    };
    let get = |k: &str| col(k).unwrap_or_default();
    let (p_alive, expected_txn, median, lower80, upper80) =
        (get("p_alive"), get("expected_txn"), get("median"), get("lower80"), get("upper80"));
    let (expected_spend, backfilled, clv) = (get("expected_spend"), get("backfilled"), get("clv"));
    let (dert, p_alive_next) = (col("dert"), col("p_alive_next"));
    (0..p_alive.len())
        .map(|i| RowValue {
            value: CustomerValue {
                p_alive: p_alive[i],
                expected_txn: expected_txn[i],
                txn: PmfSummary { median: median[i] as u32, lower80: lower80[i] as u32, upper80: upper80[i] as u32 },
                expected_spend: expected_spend[i],
                spend_backfilled: backfilled[i] != 0.0,
                clv: clv[i],
            },
            dert: dert.as_ref().map(|d| d[i]),
            p_alive_next: p_alive_next.as_ref().map(|p| p[i]),
        })
        .collect()
}

/// A helper's side: keep the customers it is sent, run each fit asked for, answer with its outcome.
pub fn start_helper(scope: DedicatedWorkerGlobalScope) {
    let reply_scope = scope.clone();
    std::panic::set_hook(Box::new(move |info| {
        console_error_panic_hook::hook(info);
        let _ = reply_scope.post_message(&message(&[("panicked", info.to_string().into())]));
    }));
    let reply_scope = scope.clone();
    let on_msg = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let field = |name: &str| Reflect::get(&data, &name.into()).ok().filter(|v| !v.is_undefined());
        if let (Some(job), Some(cols)) = (field("predict"), field("columns")) {
            let c = customers_from(&cols);
            let reply = match serde_wasm_bindgen::from_value::<PredictJob>(job) {
                Ok(job) => match job.run(&c.rfm, &c.monetary) {
                    Ok(values) => message(&[("values", values_to_js(&values))]),
                    Err(why) => message(&[("failed", why.into())]),
                },
                Err(e) => message(&[("failed", format!("a malformed prediction request: {e}").into())]),
            };
            let _ = reply_scope.post_message(&reply);
        } else if let Some(cols) = field("columns") {
            HELPER_CUSTOMERS.with(|c| *c.borrow_mut() = Some(customers_from(&cols)));
        } else if field("clear").is_some() {
            HELPER_CUSTOMERS.with(|c| c.borrow_mut().take());
        } else if let (Some(step), Some(opts)) = (field("step"), field("opts")) {
            match field("testCrash").and_then(|v| serde_wasm_bindgen::from_value(v).ok()) {
                Some(TestCrash::HelperPanic) => {
                    panic!("a deliberate panic in a fit helper from the test hook (window.__clvTest)")
                }
                Some(TestCrash::HelperOutOfMemory) => super::crash_out_of_memory(),
                _ => {}
            }
            let outcome = run_step(step, opts);
            let serializer = serde_wasm_bindgen::Serializer::json_compatible();
            let reply = serde::Serialize::serialize(&outcome, &serializer)
                .unwrap_or_else(|e| JsValue::from(format!("cannot serialise a fit: {e}")));
            let _ = reply_scope.post_message(&message(&[("outcome", reply)]));
        }
    });
    scope.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    on_msg.forget();
    let _ = scope.post_message(&message(&[("ready", JsValue::TRUE)]));
}

fn run_step(step: JsValue, opts: JsValue) -> StepOutcome {
    let step: Result<FitStep, _> = serde_wasm_bindgen::from_value(step);
    let opts: Result<FitOptions, _> = serde_wasm_bindgen::from_value(opts);
    match (step, opts) {
        // Checked again: the options crossed a boundary as plain data.
        (Ok(step), Ok(opts)) => match FitOptions::new(opts.penalizer, opts.max_iters) {
            Ok(opts) => HELPER_CUSTOMERS.with(|c| match c.borrow().as_ref() {
                Some(c) => step.run(c, &opts),
                None => StepOutcome::Failed("the helper worker has no customers".into()),
            }),
            Err(e) => StepOutcome::Failed(e.to_string()),
        },
        _ => StepOutcome::Failed("a malformed fit request".into()),
    }
}

fn customers_from(cols: &JsValue) -> Customers {
    let col = |k: &str| Reflect::get(cols, &k.into()).ok().map(|v| Float64Array::from(v).to_vec()).unwrap_or_default();
    let (x, tx, t) = (col("x"), col("tx"), col("t"));
    Customers {
        ids: Vec::new(),
        rfm: x.iter().zip(&tx).zip(&t).map(|((&x, &t_x), &t)| Rfm::new(x, t_x, t)).collect(),
        monetary: col("m"),
        weights: col("w"),
        monetary_is_group_mean: Reflect::get(cols, &"groupMeans".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
    }
}
