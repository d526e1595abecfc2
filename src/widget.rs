//! The embeddable widget (`<clv-widget>`, `www/clv-widget.js`): one of the lesson's steps mounted
//! into the custom element's shadow root. Its own small binary (`src/bin/widget.rs`) links only this
//! and the steps it shows, no ingest: the formula (the "calculator"), heterogeneity, P(alive) and
//! money are computed on the page; the simulation and the donations are fitted in the widget's own
//! worker (`www/widget-worker.js`: the same wasm in a module worker, started only by those views).
//! CDNOW's transactions and "try your CSV" need the full ingest: the full app, opened on demand.
//!
//! Every mount has its own reactive owner and signals (and worker): two widgets on a page share
//! the wasm instance and nothing else.

use crate::page::task::{AnyTask, Task};
use crate::page::ui::learn::{step_view, LearnSignals, LearnState, LearnStep, LessonRunner};
use crate::protocol::LessonRequest;
use clv_core::teach::real::Dataset;
use js_sys::Reflect;
use leptos::prelude::*;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A widget's settings from its attributes: the lesson's inputs (`params="r=0.24,alpha=4.4"`,
/// commas or `&` between pairs) and the model, each problem said (the rest still applies).
pub fn settings(params: &str, model: &str) -> (LearnState, Vec<String>) {
    let mut state = LearnState::default();
    let mut problems = Vec::new();
    let model = model.trim();
    if !(model.is_empty() || model.eq_ignore_ascii_case("bgnbd")) {
        problems.push(format!("model={model:?}: the lesson's views are BG/NBD's (model=\"bgnbd\")"));
    }
    for pair in params.split([',', '&']).map(str::trim).filter(|p| !p.is_empty()) {
        let result = match pair.split_once('=') {
            Some((key, value)) => state.set(key.trim(), value.trim()),
            None => Err(format!("{pair:?}: expected key=value")),
        };
        problems.extend(result.err());
    }
    (state, problems)
}

/// Mount one widget into `parent` (an element of the custom element's shadow root); `base` is the
/// URL of the folder the widget's files are in.
pub fn mount(parent: web_sys::HtmlElement, view: &str, params: &str, model: &str, base: &str) {
    let (start, mut problems) = settings(params, model);
    let shown = LearnStep::from_view(view).unwrap_or_else(|e| {
        problems.push(e);
        LearnStep::Formula
    });
    let base = base.to_string();
    leptos::mount::mount_to(parent, move || view! { <Widget shown start problems base /> }).forget();
}

#[component]
fn Widget(shown: LearnStep, start: LearnState, problems: Vec<String>, base: String) -> impl IntoView {
    let inputs = LearnSignals::new(start);
    let problems = (!problems.is_empty()).then(|| {
        let items = problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view();
        view! { <ul class="warnings widget-problems" role="alert">{items}</ul> }
    });
    // Only the steps that fit models start a worker; the simulation shows the sliders it draws from.
    let runner = matches!(shown, LearnStep::Simulate | LearnStep::RealData).then(|| worker_runner(&base));
    let steps: &[LearnStep] =
        if shown == LearnStep::Simulate { &[LearnStep::Heterogeneity, LearnStep::Simulate] } else { &[shown] };
    let app_link = format!("{base}index.html#/learn?step=real-data");
    let steps = steps.iter().map(|&step| step_view(step, inputs, runner, true, Some(app_link.clone()))).collect_view();
    view! {
        <section class="panel widget">
            {problems}
            {steps}
            <p class="widget-foot hint">"Computed in this tab by CLV Lab (Rust and WebAssembly): nothing you type leaves it."</p>
        </section>
    }
}

/// A [`LessonRunner`] on the widget's own worker (`widget-worker.js` beside the loader): requests
/// go as `{id, kind, request}`, replies come back as `{id, kind, value}` or `{id, kind, error}`.
fn worker_runner(base: &str) -> LessonRunner {
    let simulation = Task::new();
    let data = Task::new();
    let next = StoredValue::new(1u32);
    let worker = StoredValue::new_local(start_worker(base, simulation, data, next));
    let post = move |kind: &'static str, request: JsValue, task: &dyn AnyTask, status: &str| {
        let id = next.get_value();
        next.set_value(id + 1);
        task.start(id, status.to_string(), true);
        let sent = worker.with_value(|w| {
            let w = w.as_ref().map_err(Clone::clone)?;
            let msg = js_sys::Object::new();
            let _ = Reflect::set(&msg, &"id".into(), &JsValue::from(id));
            let _ = Reflect::set(&msg, &"kind".into(), &JsValue::from_str(kind));
            let _ = Reflect::set(&msg, &"request".into(), &request);
            w.post_message(&msg).map_err(|e| format!("{e:?}"))
        });
        if let Err(e) = sent {
            task.fail(id, format!("The widget's worker could not start: {e}"));
        }
    };
    LessonRunner {
        simulation,
        simulate: Callback::new(move |req: LessonRequest| {
            let request = to_js(&req).unwrap_or(JsValue::NULL);
            post("simulate", request, &simulation, "Drawing the customers and refitting BG/NBD…");
        }),
        data,
        fit_data: Callback::new(move |dataset: Dataset| {
            // CDNOW is the full app's (the widget links there); the donations are fitted here.
            if dataset == Dataset::Donations {
                post("donations", JsValue::NULL, &data, "Fitting BG/BB to the donations…");
            }
        }),
        session: None,
    }
}

/// The widget's worker, its replies filed under the tasks that wait for them.
fn start_worker(
    base: &str,
    simulation: Task<clv_core::teach::simulated::SimulatedBase>,
    data: Task<clv_core::teach::real::RealFit>,
    next: StoredValue<u32>,
) -> Result<web_sys::Worker, String> {
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(&format!("{base}widget-worker.js"), &opts).map_err(|e| {
        format!("{e:?} (a browser starts workers only from the page's own origin: serve the widget from this site, or use its iframe form)")
    })?;
    let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        let d = ev.data();
        let get = |key: &str| Reflect::get(&d, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let id = get("id").as_f64().unwrap_or(0.0) as u32;
        let (kind, error, value) = (get("kind").as_string(), get("error").as_string(), get("value"));
        match kind.as_deref() {
            Some("simulate") => file_reply(simulation, id, error, value),
            Some("donations") => file_reply(data, id, error, value),
            _ => {}
        }
    });
    // A worker that dies (its script refused by the page's policy, a trap) fails what waits on it.
    let on_error = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
        let why = format!("The widget's worker stopped: {}", ev.message());
        for id in 1..next.get_value() {
            simulation.fail(id, why.clone());
            data.fail(id, why.clone());
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // The worker runs this same compiled module (its fitting code is in it): handed over, not fetched again.
    worker.post_message(&wasm_bindgen::module()).map_err(|e| format!("{e:?}"))?;
    on_message.forget();
    on_error.forget();
    Ok(worker)
}

fn file_reply<T>(task: Task<T>, id: u32, error: Option<String>, value: JsValue)
where
    T: Clone + Send + Sync + serde::de::DeserializeOwned + 'static,
{
    match error.map(Err).unwrap_or_else(|| serde_wasm_bindgen::from_value::<T>(value).map_err(|e| e.to_string())) {
        Ok(v) => _ = task.finish(id, v),
        Err(e) => task.fail(id, e),
    }
}

/// The worker side (`widget-worker.js` calls these through the binary's exports): the lesson's
/// simulation, as the page's worker runs it.
pub fn simulate(request: JsValue) -> Result<JsValue, JsValue> {
    let req: LessonRequest =
        serde_wasm_bindgen::from_value(request).map_err(|e| JsValue::from_str(&format!("malformed request: {e}")))?;
    let base = crate::worker::analysis::simulate_lesson(&req).map_err(|e| JsValue::from_str(&e))?;
    to_js(&base)
}

/// The donations fitted by BG/BB, as the page's worker fits them.
pub fn donations() -> Result<JsValue, JsValue> {
    let fit = clv_core::teach::real::donations()
        .map_err(|e| JsValue::from_str(&crate::worker::analysis::lesson_data_error(e)))?;
    to_js(&fit)
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsValue::from_str(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read_with_every_problem_said() {
        let (s, problems) = settings("r=0.5, alpha=4.4,a=0.79,b=2.4", "bgnbd");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s, LearnState { r: 0.5, ..LearnState::default() });
        let (s, problems) = settings("r=9&b=x&colour=red&alpha", "pnbd");
        assert_eq!(s, LearnState::default(), "nothing bad is applied");
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].contains("the lesson's views are BG/NBD's"));
        assert!(problems[1].starts_with("r=\"9\": expected a number from 0.05 to 5"));
        assert!(problems[3].starts_with("\"colour\" is not one of the lesson's settings"));
        assert_eq!(problems[4], "\"alpha\": expected key=value");
        assert_eq!(LearnStep::from_view(" calculator "), Ok(LearnStep::Formula));
        assert_eq!(LearnStep::from_view("learn/alive"), Ok(LearnStep::Alive));
        assert_eq!(LearnStep::from_view("learn/real-data"), Ok(LearnStep::RealData));
        let e = LearnStep::from_view("csv").unwrap_err(); // the loader opens the app for it
        assert!(e.contains("calculator, learn/formula, learn/heterogeneity, learn/simulate"), "{e}");
        assert!(LearnStep::from_view("alive").is_err());
    }
}
