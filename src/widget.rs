//! The embeddable widget (`<clv-widget>`, `www/clv-widget.js`): one of the lesson's steps that the
//! tab computes itself — the simple formula (the "calculator"), heterogeneity, P(alive), money —
//! mounted into the custom element's shadow root. Its own small binary (`src/bin/widget.rs`) links
//! only this and the steps it shows: no ingest, no worker, no models fitted (the views that need
//! them, the simulation, the real data and "try your CSV", are the full app in an iframe, loaded on
//! demand by the loader).
//!
//! Every mount has its own reactive owner and signals: two widgets on a page share the wasm
//! instance and nothing else.

use crate::page::ui::learn::{AliveStep, HeterogeneityStep, LearnState, MoneyStep, SimpleFormulaStep};
use leptos::prelude::*;

/// What a `<clv-widget view="…">` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetView {
    /// The simple formula (also `calculator`).
    Formula,
    Heterogeneity,
    Alive,
    Money,
}

impl WidgetView {
    /// The `view` attributes this binary renders itself.
    pub const CODES: [(&'static str, WidgetView); 5] = [
        ("calculator", WidgetView::Formula),
        ("learn/formula", WidgetView::Formula),
        ("learn/heterogeneity", WidgetView::Heterogeneity),
        ("learn/alive", WidgetView::Alive),
        ("learn/money", WidgetView::Money),
    ];

    pub fn parse(code: &str) -> Result<WidgetView, String> {
        let code = code.trim();
        Self::CODES.iter().find(|(c, _)| *c == code).map(|(_, v)| *v).ok_or_else(|| {
            let known: Vec<&str> = Self::CODES.iter().map(|(c, _)| *c).collect();
            format!("view={code:?} is not one of this widget's views ({})", known.join(", "))
        })
    }
}

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

/// Mount one widget into `parent` (an element of the custom element's shadow root).
pub fn mount(parent: web_sys::HtmlElement, view: &str, params: &str, model: &str) {
    let (start, mut problems) = settings(params, model);
    let shown = WidgetView::parse(view).unwrap_or_else(|e| {
        problems.push(e);
        WidgetView::Formula
    });
    leptos::mount::mount_to(parent, move || view! { <Widget shown start problems /> }).forget();
}

#[component]
fn Widget(shown: WidgetView, start: LearnState, problems: Vec<String>) -> impl IntoView {
    let field = |v: f64| RwSignal::new(v);
    let (order, per_week, years) = (field(start.order), field(start.per_week), field(start.years));
    let (r, alpha, a, b) = (field(start.r), field(start.alpha), field(start.a), field(start.b));
    let (age, repeat) = (field(start.age), field(start.repeat));
    let (last, spend, rate) = (field(start.last), field(start.spend), field(start.rate));
    let (p, q, gamma) = (field(start.p), field(start.q), field(start.gamma));
    let problems = (!problems.is_empty()).then(|| {
        let items = problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view();
        view! { <ul class="warnings widget-problems" role="alert">{items}</ul> }
    });
    let step = match shown {
        WidgetView::Formula => view! { <SimpleFormulaStep order per_week years /> }.into_any(),
        WidgetView::Heterogeneity => view! { <HeterogeneityStep r alpha a b /> }.into_any(),
        WidgetView::Alive => view! { <AliveStep r alpha a b age repeat /> }.into_any(),
        WidgetView::Money => view! {
            <MoneyStep bgnbd=(r, alpha, a, b) customer=(repeat, last, age, spend) spend_model=(p, q, gamma) years rate />
        }
        .into_any(),
    };
    view! {
        <section class="panel widget">
            {problems}
            {step}
            <p class="widget-foot hint">"Computed in this tab by CLV Lab (Rust and WebAssembly): nothing you type leaves it."</p>
        </section>
    }
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
        assert_eq!(WidgetView::parse(" calculator "), Ok(WidgetView::Formula));
        assert_eq!(WidgetView::parse("learn/alive"), Ok(WidgetView::Alive));
        assert!(WidgetView::parse("learn/simulate").unwrap_err().contains("learn/heterogeneity"));
    }
}
