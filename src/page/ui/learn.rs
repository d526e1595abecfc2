//! Learn: a lesson in steps for someone who has never heard of BG/NBD, no file needed. Each step
//! is a sentence or two beside a live picture computed by the core (`clv_core::teach`).

use super::charts::{DensityChart, HeatMap};
use super::charts::{LineChart, PairedBars, Timelines};
use super::explore::GridAxes;
use super::format;
use super::settings::{Settings, View};
use super::{Later, OutageNote, TaskLine};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::page::task::Task;
use crate::protocol::LessonRequest;
use clv_core::explore::frequency_recency;
use clv_core::models::{BgNbd, GammaGamma};
use clv_core::teach::money::{value_one_customer, Customer};
use clv_core::teach::real::{Dataset, RealFit};
use clv_core::teach::simulated::SimulatedBase;
use clv_core::teach::{dropout_probabilities, purchase_rates, recent_and_quiet, SimpleFormula, WEEKS_PER_YEAR};
use leptos::prelude::*;

/// The lesson's inputs, as a link holds them (`#/learn?order=5&per_week=2&years=2&r=0.24&…`), so a
/// teacher can send a state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearnState {
    pub order: f64,
    pub per_week: f64,
    pub years: f64,
    /// BG/NBD's parameters, per week. They start at CDNOW's (Fader, Hardie & Lee 2005).
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// Step 3: the customers' age (weeks) and the two customers' repeat purchases.
    pub age: f64,
    pub repeat: f64,
    /// The simulation step: customers drawn, weeks watched, the seed.
    pub customers: f64,
    pub weeks: f64,
    pub seed: f64,
    /// Step 5: the customer's week of the last purchase and average purchase, Gamma–Gamma's p, q,
    /// γ, and the annual discount rate in percent (`rate`: the workbench's link has a `discount`).
    pub last: f64,
    pub spend: f64,
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
    pub rate: f64,
}

impl Default for LearnState {
    fn default() -> Self {
        LearnState {
            order: 5.0,
            per_week: 2.0,
            years: 2.0,
            r: 0.24,
            alpha: 4.4,
            a: 0.79,
            b: 2.4,
            age: 52.0,
            repeat: 10.0,
            customers: 1000.0,
            weeks: 52.0,
            seed: 1.0,
            last: 51.0,
            spend: 35.0,
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
            rate: 10.0,
        }
    }
}

/// The lesson's steps, as a link names them (`#/learn?step=simulate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnStep {
    Formula,
    Heterogeneity,
    Simulate,
    Alive,
    Money,
    RealData,
}

impl LearnStep {
    pub const ALL: [LearnStep; 6] = [
        LearnStep::Formula,
        LearnStep::Heterogeneity,
        LearnStep::Simulate,
        LearnStep::Alive,
        LearnStep::Money,
        LearnStep::RealData,
    ];

    /// Its name in a link (and in a widget's `view="learn/…"`).
    pub fn code(self) -> &'static str {
        match self {
            LearnStep::Formula => "formula",
            LearnStep::Heterogeneity => "heterogeneity",
            LearnStep::Simulate => "simulate",
            LearnStep::Alive => "alive",
            LearnStep::Money => "money",
            LearnStep::RealData => "real-data",
        }
    }

    pub fn from_code(code: &str) -> Option<LearnStep> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A widget's `view` attribute: `learn/<code>`, or `calculator` for the formula.
    pub fn from_view(view: &str) -> Result<LearnStep, String> {
        let view = view.trim();
        let step = if view == "calculator" {
            Some(LearnStep::Formula)
        } else {
            view.strip_prefix("learn/").and_then(Self::from_code)
        };
        step.ok_or_else(|| {
            let known: Vec<String> = std::iter::once("calculator".to_string())
                .chain(Self::ALL.iter().map(|s| format!("learn/{}", s.code())))
                .collect();
            format!("view={view:?} is not one of this widget's views ({})", known.join(", "))
        })
    }

    /// The id of the element that holds it.
    pub fn id(self) -> &'static str {
        match self {
            LearnStep::Formula => "learn-step-formula",
            LearnStep::Heterogeneity => "learn-step-heterogeneity",
            LearnStep::Simulate => "learn-step-simulate",
            LearnStep::Alive => "learn-step-alive",
            LearnStep::Money => "learn-step-money",
            LearnStep::RealData => "learn-step-real-data",
        }
    }
}

/// One step of the lesson: working in it (focus inside) makes it the step a link points at.
#[component]
fn Step(settings: Settings, step: LearnStep, children: ChildrenFn) -> impl IntoView {
    view! {
        <div id=step.id() class="learn-step" on:focusin=move |_| settings.learn_step.set(Some(step))>
            <Later>{let children = children.clone(); move || children()}</Later>
        </div>
    }
}

/// Who computes the lesson's simulation and fits its data sets: the page's worker (through the
/// [`Session`]), or a widget's own worker. Steps 3 and 6 take one, so the page and the widget show
/// the same step.
#[derive(Clone, Copy)]
pub struct LessonRunner {
    pub simulation: Task<SimulatedBase>,
    pub simulate: Callback<LessonRequest>,
    pub data: Task<RealFit>,
    pub fit_data: Callback<Dataset>,
    /// The page's session: its outage notes, and CDNOW, whose transactions only the page's worker
    /// reads (the full ingest). `None` in a widget.
    pub session: Option<Session>,
}

impl LessonRunner {
    /// The page's: requests go to its worker.
    pub fn of(session: Session) -> LessonRunner {
        LessonRunner {
            simulation: session.lesson,
            simulate: Callback::new(move |r| session.simulate_lesson(r)),
            data: session.lesson_data,
            fit_data: Callback::new(move |d| fit_lesson_data(session, d)),
            session: Some(session),
        }
    }
}

/// The page fits a data set in its worker; CDNOW's transactions (the demo file) go with the request.
fn fit_lesson_data(session: Session, dataset: Dataset) {
    leptos::task::spawn_local(async move {
        let file = match dataset {
            Dataset::Cdnow => match super::load::fetch_demo().await {
                Ok(blob) => Some(blob),
                Err(e) => {
                    session.error.set(Some(format!("The CDNOW data could not be loaded: {e}")));
                    return;
                }
            },
            Dataset::Donations => None,
        };
        session.fit_lesson_data(dataset, file);
    });
}

/// The lesson's inputs as one signal each: what the steps read and the sliders set.
#[derive(Clone, Copy)]
pub struct LearnSignals {
    pub order: RwSignal<f64>,
    pub per_week: RwSignal<f64>,
    pub years: RwSignal<f64>,
    pub r: RwSignal<f64>,
    pub alpha: RwSignal<f64>,
    pub a: RwSignal<f64>,
    pub b: RwSignal<f64>,
    pub age: RwSignal<f64>,
    pub repeat: RwSignal<f64>,
    pub customers: RwSignal<f64>,
    pub weeks: RwSignal<f64>,
    pub seed: RwSignal<f64>,
    pub last: RwSignal<f64>,
    pub spend: RwSignal<f64>,
    pub p: RwSignal<f64>,
    pub q: RwSignal<f64>,
    pub gamma: RwSignal<f64>,
    pub rate: RwSignal<f64>,
}

impl LearnSignals {
    pub fn new(s: LearnState) -> LearnSignals {
        let f = RwSignal::new;
        LearnSignals {
            order: f(s.order),
            per_week: f(s.per_week),
            years: f(s.years),
            r: f(s.r),
            alpha: f(s.alpha),
            a: f(s.a),
            b: f(s.b),
            age: f(s.age),
            repeat: f(s.repeat),
            customers: f(s.customers),
            weeks: f(s.weeks),
            seed: f(s.seed),
            last: f(s.last),
            spend: f(s.spend),
            p: f(s.p),
            q: f(s.q),
            gamma: f(s.gamma),
            rate: f(s.rate),
        }
    }

    /// Every input now (tracked).
    pub fn get(&self) -> LearnState {
        LearnState {
            order: self.order.get(),
            per_week: self.per_week.get(),
            years: self.years.get(),
            r: self.r.get(),
            alpha: self.alpha.get(),
            a: self.a.get(),
            b: self.b.get(),
            age: self.age.get(),
            repeat: self.repeat.get(),
            customers: self.customers.get(),
            weeks: self.weeks.get(),
            seed: self.seed.get(),
            last: self.last.get(),
            spend: self.spend.get(),
            p: self.p.get(),
            q: self.q.get(),
            gamma: self.gamma.get(),
            rate: self.rate.get(),
        }
    }
}

/// One step of the lesson drawn from the inputs: the page's panel and a widget show steps this way.
/// Steps 3 and 6 compute in a worker (`runner`); `app_link`, in a widget, is where CDNOW is fitted.
pub(crate) fn step_view(
    step: LearnStep,
    inputs: LearnSignals,
    runner: Option<LessonRunner>,
    draw_at_once: bool,
    app_link: Option<String>,
) -> AnyView {
    let LearnSignals { order, per_week, years, r, alpha, a, b, age, repeat, customers, weeks, seed, .. } = inputs;
    let LearnSignals { last, spend, p, q, gamma, rate, .. } = inputs;
    match (step, runner) {
        (LearnStep::Formula, _) => view! { <SimpleFormulaStep order per_week years /> }.into_any(),
        (LearnStep::Heterogeneity, _) => view! { <HeterogeneityStep r alpha a b /> }.into_any(),
        (LearnStep::Simulate, Some(runner)) => {
            view! { <SimulateStep runner draw_at_once r alpha a b customers weeks seed /> }.into_any()
        }
        (LearnStep::Alive, _) => view! { <AliveStep r alpha a b age repeat /> }.into_any(),
        (LearnStep::Money, _) => view! {
            <MoneyStep bgnbd=(r, alpha, a, b) customer=(repeat, last, age, spend) spend_model=(p, q, gamma) years rate />
        }
        .into_any(),
        (LearnStep::RealData, Some(runner)) => match app_link {
            Some(app_link) => view! { <RealDataStep runner app_link /> }.into_any(),
            None => view! { <RealDataStep runner /> }.into_any(),
        },
        // A caller that shows a worker's step gives a runner (the page always, a widget for these).
        (LearnStep::Simulate | LearnStep::RealData, None) => ().into_any(),
    }
}

/// Each slider's range: (URL key, min, max, step).
const SLIDERS: [(&str, f64, f64, f64); 14] = [
    ("r", 0.05, 5.0, 0.01),
    ("alpha", 0.5, 30.0, 0.1),
    ("a", 0.05, 10.0, 0.01),
    ("b", 0.05, 20.0, 0.01),
    ("age", 4.0, 104.0, 1.0),
    ("repeat", 0.0, 20.0, 1.0),
    ("customers", 100.0, 5000.0, 100.0),
    ("weeks", 4.0, 156.0, 1.0),
    ("seed", 1.0, 1e9, 1.0),
    ("last", 0.0, 104.0, 1.0),
    ("p", 0.5, 20.0, 0.05),
    // Above 1: at q ≤ 1 the mean purchase of a new customer is infinite.
    ("q", 1.05, 20.0, 0.01),
    ("gamma", 1.0, 100.0, 0.1),
    ("rate", 0.0, 30.0, 1.0),
];

impl LearnState {
    /// The keys a link may set.
    pub const KEYS: [&'static str; 18] = [
        "order",
        "per_week",
        "years",
        "r",
        "alpha",
        "a",
        "b",
        "age",
        "repeat",
        "customers",
        "weeks",
        "seed",
        "last",
        "spend",
        "p",
        "q",
        "gamma",
        "rate",
    ];

    /// Take one `key=value` of a link or a widget's `params`. A key that is not the lesson's, or a
    /// value that is not a number in its input's range, is refused with why (the default stays).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let v: Option<f64> = value.parse().ok().filter(|v: &f64| v.is_finite());
        let range = |key: &str| SLIDERS.iter().find(|s| s.0 == key).map(|s| (s.1, s.2));
        let (min, max) = range(key).unwrap_or((0.0, clv_core::teach::MAX_INPUT));
        let whole = matches!(key, "customers" | "weeks" | "seed");
        let checked = v.filter(|v| (min..=max).contains(v) && (!whole || v.fract() == 0.0));
        let target = match key {
            "order" => &mut self.order,
            "per_week" => &mut self.per_week,
            "years" => &mut self.years,
            "r" => &mut self.r,
            "alpha" => &mut self.alpha,
            "a" => &mut self.a,
            "b" => &mut self.b,
            "age" => &mut self.age,
            "repeat" => &mut self.repeat,
            "last" => &mut self.last,
            "spend" => &mut self.spend,
            "p" => &mut self.p,
            "q" => &mut self.q,
            "gamma" => &mut self.gamma,
            "rate" => &mut self.rate,
            "customers" => &mut self.customers,
            "weeks" => &mut self.weeks,
            "seed" => &mut self.seed,
            _ => return Err(format!("{key:?} is not one of the lesson's settings ({})", Self::KEYS.join(", "))),
        };
        match checked {
            Some(v) => {
                *target = v;
                Ok(())
            }
            None => Err(format!(
                "{key}={value:?}: expected {} from {} to {}",
                if whole { "a whole number" } else { "a number" },
                format::trimmed(min, 2),
                format::trimmed(max, 2)
            )),
        }
    }

    /// The link's `key=value` parts.
    pub fn pairs(&self) -> Vec<String> {
        [
            ("order", self.order),
            ("per_week", self.per_week),
            ("years", self.years),
            ("r", self.r),
            ("alpha", self.alpha),
            ("a", self.a),
            ("b", self.b),
            ("age", self.age),
            ("repeat", self.repeat),
            ("customers", self.customers),
            ("weeks", self.weeks),
            ("seed", self.seed),
            ("last", self.last),
            ("spend", self.spend),
            ("p", self.p),
            ("q", self.q),
            ("gamma", self.gamma),
            ("rate", self.rate),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
    }
}

#[component]
pub fn LearnPanel(session: Session, settings: Settings) -> impl IntoView {
    let inputs = LearnSignals::new(settings.learn.get_untracked());
    let runner = LessonRunner::of(session);
    // Drawn at once for a link to the lesson, else on the first click (the worker's time is the data's).
    let draw_at_once = settings.view.get_untracked() == View::Learn;
    // Each change goes into the settings (and so the URL); working on the lesson makes it the view.
    Effect::new(move |first: Option<()>| {
        let now = inputs.get();
        if first.is_some() {
            settings.learn.set(now);
            settings.view.set(View::Learn);
        }
    });
    view! {
        <section id="learn" class="panel">
            <h2>"Learn: what a customer is worth, and why it is not one multiplication"</h2>
            <p class="hint">"A short lesson with numbers you can change. It needs no file; everything is computed in this tab."</p>
            // One step per task: drawn at start-up, the lesson's charts were most of a 105 ms task.
            {LearnStep::ALL.into_iter().map(|step| view! {
                <Step settings step>{move || step_view(step, inputs, Some(runner), draw_at_once, None)}</Step>
            }).collect_view()}
        </section>
    }
}

/// A number input bound to a signal; a value that does not parse leaves the signal as it was.
#[component]
fn NumberInput(id: &'static str, label: &'static str, value: RwSignal<f64>, step: f64) -> impl IntoView {
    view! {
        <label>{label}" "
            <input id=id type="number" min="0" step=step prop:value=move || value.get().to_string()
                on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { value.set(v) } } />
        </label>
    }
}

#[component]
pub(crate) fn SimpleFormulaStep(order: RwSignal<f64>, per_week: RwSignal<f64>, years: RwSignal<f64>) -> impl IntoView {
    let result = move || match SimpleFormula::new(order.get(), per_week.get(), years.get()) {
        Ok(f) => format!(
            "{} a purchase × {} purchases a week × {WEEKS_PER_YEAR:.0} weeks × {} years = {}",
            format::money(order.get()),
            format::trimmed(per_week.get(), 2),
            format::trimmed(years.get(), 2),
            format::money(f.value())
        ),
        Err(e) => format!("Check the numbers: {e}."),
    };
    view! {
        <h3>"1. The simple formula"</h3>
        <p>"The first answer everyone gives: what a customer spends per purchase, times how often they buy, times how long they stay."</p>
        <div class="controls">
            <NumberInput id="learn-order" label="Average purchase" value=order step=0.5 />
            <NumberInput id="learn-per-week" label="Purchases a week" value=per_week step=0.1 />
            <NumberInput id="learn-years" label="Years as a customer" value=years step=0.5 />
        </div>
        <p class="formula" id="learn-simple" aria-live="polite">{result}</p>
        <p>"It misleads in two ways. It treats everyone as the average customer, although a few buy often and most rarely. And it assumes everyone is still a customer: someone who bought every week last year and never since counts as much as someone who bought yesterday. The models in this tool replace each factor with what your customers' histories say."</p>
    }
}

/// A labelled range input with its value shown beside it.
#[component]
fn Slider(id: &'static str, label: &'static str, value: RwSignal<f64>) -> impl IntoView {
    let key = id.trim_start_matches("learn-");
    let (_, min, max, step) = SLIDERS.iter().find(|s| s.0 == key).copied().expect("a slider of SLIDERS");
    view! {
        <label class="slider">
            <span>{label}" = "<output id=format!("{id}-value")>{move || format::trimmed(value.get(), 2)}</output></span>
            <input id=id type="range" min=min max=max step=step prop:value=move || value.get().to_string()
                on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { value.set(v) } } />
        </label>
    }
}

#[component]
pub(crate) fn HeterogeneityStep(
    r: RwSignal<f64>,
    alpha: RwSignal<f64>,
    a: RwSignal<f64>,
    b: RwSignal<f64>,
) -> impl IntoView {
    let pct = |x: f64| format!("{:.0}%", 100.0 * x);
    let rates = move || {
        purchase_rates(r.get(), alpha.get()).ok().map(|c| {
            let sentence = format!(
                "Half the customers buy less than {} times a week while they are customers; on average {} (one purchase every {} weeks). One in ten buys more than {} a week.",
                format::grouped(c.median, 3),
                format::grouped(c.mean, 3),
                format::grouped(1.0 / c.mean, 1),
                format::grouped(c.q90, 3)
            );
            let x_max = c.x.last().copied().unwrap_or(1.0);
            view! {
                <DensityChart id="learn-rates" title="How often customers buy: the gamma distribution of purchase rates".to_string()
                    x=c.x density=c.density median=c.median x_label="purchases a week".to_string() x_tick=|v| format::grouped(v, 2) x_max />
                <p id="learn-rates-text">{sentence}</p>
            }
        })
    };
    let dropout = move || {
        dropout_probabilities(a.get(), b.get()).ok().map(|c| {
            let sentence = format!(
                "After each purchase the average customer leaves for good with probability {}; half the customers with less than {}, one in ten with more than {}.",
                pct(c.mean),
                pct(c.median),
                pct(c.q90)
            );
            view! {
                <DensityChart id="learn-dropout" title="How likely customers are to leave after a purchase: the beta distribution".to_string()
                    x=c.x density=c.density median=c.median x_label="chance of leaving after a purchase".to_string() x_tick=|v| format!("{:.0}%", 100.0 * v) x_max=1.0 />
                <p id="learn-dropout-text">{sentence}</p>
            }
        })
    };
    view! {
        <h3>"2. Customers differ"</h3>
        <p>"BG/NBD, the model this tool fits first, says each customer buys at their own steady rate while they are a customer, and after each purchase may leave for good with their own probability. Four numbers describe how those differ across customers. They start at what Fader, Hardie & Lee found for CDNOW's music buyers; move them and watch."</p>
        <div class="learn-pair">
            <div>
                <Slider id="learn-r" label="r (shape: small = very unequal buyers)" value=r />
                <Slider id="learn-alpha" label="α (scale: large = slow buyers)" value=alpha />
                {rates}
            </div>
            <div>
                <Slider id="learn-a" label="a (large = more leave)" value=a />
                <Slider id="learn-b" label="b (large = more stay)" value=b />
                {dropout}
            </div>
        </div>
    }
}

/// Step 3: customers drawn from the sliders' parameters (in the worker), their purchases as dots,
/// the tracking curve, and BG/NBD fitted back to them beside the parameters they came from.
#[component]
#[allow(clippy::too_many_arguments)]
pub(crate) fn SimulateStep(
    runner: LessonRunner,
    /// Draw as soon as shown (a link to the lesson, a widget), else on the first click.
    draw_at_once: bool,
    r: RwSignal<f64>,
    alpha: RwSignal<f64>,
    a: RwSignal<f64>,
    b: RwSignal<f64>,
    customers: RwSignal<f64>,
    weeks: RwSignal<f64>,
    seed: RwSignal<f64>,
) -> impl IntoView {
    let drawn = RwSignal::new(draw_at_once);
    let request = move || LessonRequest {
        params: [r.get(), alpha.get(), a.get(), b.get()],
        customers: customers.get() as u64,
        weeks: weeks.get() as u32,
        seed: seed.get() as u64,
    };
    // One simulation at a time: while one runs, the newest settings wait and go next (every step
    // of a slider's drag in the worker's queue would make the picture lag behind the hand).
    let waiting = StoredValue::new(None::<LessonRequest>);
    Effect::new(move |_| {
        let req = request();
        if !drawn.get() {
            return;
        }
        if runner.simulation.is_pending_untracked() {
            waiting.set_value(Some(req));
        } else {
            runner.simulate.run(req);
        }
    });
    Effect::new(move |_| {
        if !runner.simulation.is_pending() {
            if let Some(req) = waiting.try_update_value(Option::take).flatten() {
                runner.simulate.run(req);
            }
        }
    });
    let draw = move |_| {
        if drawn.get_untracked() {
            seed.update(|s| *s = if *s >= 1e9 { 1.0 } else { *s + 1.0 });
        } else {
            drawn.set(true);
        }
    };
    view! {
        <h3>"3. Draw customers, then ask the model to find them"</h3>
        <p>"The four numbers above describe a population. Draw customers from it, watch them buy, then fit BG/NBD to what you watched, as this tool does with your file. If the model works, the numbers it finds are near the ones you chose, and the ranges it gives (95%) hold them."</p>
        <div class="controls">
            <Slider id="learn-customers" label="customers" value=customers />
            <Slider id="learn-weeks" label="weeks watched" value=weeks />
            <button id="learn-draw" class="button secondary" on:click=draw>
                {move || if drawn.get() { "Draw other customers" } else { "Draw the customers" }}
            </button>
        </div>
        <TaskLine task=runner.simulation name="learn-simulation" />
        {runner.session.map(|session| view! { <OutageNote session panel=Panel::Learn /> })}
        {move || runner.simulation.get().map(|base| view! { <Simulated base /> })}
    }
}

/// An estimate's 95% range as the lesson writes it ("—" without one: at a boundary, no Hessian).
fn range_text(p: &clv_core::models::ParamEstimate) -> String {
    p.ci_low
        .zip(p.ci_high)
        .map_or("—".to_string(), |(lo, hi)| format!("{} to {}", format::grouped(lo, 3), format::grouped(hi, 3)))
}

/// What one simulation shows: the refit beside the truth, the dots, the tracking curve.
#[component]
fn Simulated(base: SimulatedBase) -> impl IntoView {
    let names = ["r", "α", "a", "b"];
    let rows = base.fit.as_ref().map(|fit| {
        fit.params
            .iter()
            .zip(base.truth)
            .zip(names)
            .map(|((p, truth), name)| {
                let range = p.ci_low.zip(p.ci_high);
                let inside = range.map_or("—", |(lo, hi)| if lo <= truth && truth <= hi { "yes" } else { "no" });
                let range = range_text(p);
                view! {
                    <tr><th scope="row">{name}</th><td class="num">{format::trimmed(truth, 2)}</td>
                    <td class="num">{format::grouped(p.value, 3)}</td><td class="num">{range}</td><td>{inside}</td></tr>
                }
            })
            .collect_view()
    });
    let status = match (&base.fit, &base.fit_problem) {
        (_, Some(problem)) => format!("The fit did not give estimates: {problem}."),
        (Some(_), None) => "The fit converged.".to_string(),
        (None, None) => "There was nothing to fit.".to_string(),
    };
    let summary = format!(
        "{} customers watched for {} weeks: {} bought again at least once, {} repeat purchases in all.",
        format::int(base.customers as u64),
        base.weeks,
        format::int(base.repeat_buyers as u64),
        format::int(base.repeat_purchases as u64)
    );
    let refitted = base.fit_problem.is_none() && base.fit.is_some();
    let mut series = vec![
        ("repeat purchases made".to_string(), base.tracking.iter().map(|w| w.actual).collect::<Vec<f64>>()),
        ("expected at the parameters you chose".to_string(), base.tracking.iter().map(|w| w.truth).collect()),
    ];
    if refitted {
        series.push(("expected at the fitted parameters".to_string(), base.tracking.iter().map(|w| w.refit).collect()));
    }
    let weeks = f64::from(base.weeks);
    view! {
        <p id="learn-simulation-summary" aria-live="polite">{summary}" "{status}</p>
        <div class="scroll" tabindex="0"><table id="learn-refit">
            <caption>"The parameters you chose, and what BG/NBD found from the simulated purchases alone"</caption>
            <thead><tr><th scope="col">"parameter"</th><th scope="col">"you chose"</th><th scope="col">"fitted"</th><th scope="col">"95% range"</th><th scope="col">"holds your value?"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
        <Timelines id="learn-timelines" title=format!("The first {} customers' purchases, week by week", base.timelines.len()) rows=base.timelines.clone() weeks />
        <p>"Every customer buys at their own pace until, unseen, they stop. The tracking curve adds up everyone's repeat purchases week by week, beside what the model expects of the same customers."</p>
        <LineChart id="learn-tracking" title="Repeat purchases so far: simulated and expected".to_string() series
            x_label="week".to_string() y_label="repeat purchases, cumulative".to_string() />
    }
}

#[component]
pub(crate) fn AliveStep(
    r: RwSignal<f64>,
    alpha: RwSignal<f64>,
    a: RwSignal<f64>,
    b: RwSignal<f64>,
    age: RwSignal<f64>,
    repeat: RwSignal<f64>,
) -> impl IntoView {
    let model = move || BgNbd::new(r.get(), alpha.get(), a.get(), b.get()).ok();
    let pair = move || {
        let (m, age, x) = (model()?, age.get(), repeat.get());
        let (recent, quiet) = recent_and_quiet(&m, age, x).ok()?;
        Some(format!(
            "Two customers who joined {} weeks ago and bought again {} times: the one whose last purchase was a week ago is still a customer with probability {:.1}%; the one who has not bought since week {}, {:.1}%.",
            format::trimmed(age, 0),
            format::trimmed(x, 0),
            100.0 * recent,
            format::trimmed(age / 4.0, 1),
            100.0 * quiet
        ))
    };
    let maps = move || {
        let (m, t) = (model()?, age.get());
        let g = frequency_recency(&m, t, WEEKS_PER_YEAR, 20, 20);
        let GridAxes { rows, cols, max_expected, levels } = GridAxes::of(&g);
        let age = format::trimmed(t, 0);
        Some(view! {
            <HeatMap id="learn-alive" title=format!("P(still a customer) by repeat purchases and the week of the last one, customers {age} weeks old")
                values=g.p_alive row_labels=rows.clone() col_labels=cols.clone() x_label="week of the last purchase".to_string()
                y_label="repeat purchases".to_string() value_label="P(alive)".to_string() max=1.0 levels=vec![0.25, 0.5, 0.75] />
            <p>"What that means for the next year: the purchases to expect from each of them. A frequent buyer who is still active is worth the most; the same buyer gone quiet, little."</p>
            <HeatMap id="learn-expected" title=format!("Expected purchases in the next 52 weeks by repeat purchases and the week of the last one, customers {age} weeks old")
                values=g.expected row_labels=rows col_labels=cols x_label="week of the last purchase".to_string()
                y_label="repeat purchases".to_string() value_label="expected purchases".to_string() max=max_expected levels />
        })
    };
    view! {
        <h3>"4. Who is still a customer?"</h3>
        <p>"Nobody announces that they have left. The model reads it from the history: the more often someone bought, the more their silence since the last purchase says. Dark cells are customers likely still buying; read a row from right (bought recently) to left (quiet for long)."</p>
        <div class="controls">
            <Slider id="learn-age" label="weeks since the first purchase" value=age />
            <Slider id="learn-repeat" label="repeat purchases of the two customers below" value=repeat />
        </div>
        <p id="learn-alive-text">{pair}</p>
        {maps}
    }
}

/// Step 5: the customer of step 4 valued in money, with the simple formula and with the models.
#[component]
pub(crate) fn MoneyStep(
    bgnbd: (RwSignal<f64>, RwSignal<f64>, RwSignal<f64>, RwSignal<f64>),
    /// Repeat purchases, week of the last one, age in weeks, average purchase.
    customer: (RwSignal<f64>, RwSignal<f64>, RwSignal<f64>, RwSignal<f64>),
    /// Gamma–Gamma's p, q, γ.
    spend_model: (RwSignal<f64>, RwSignal<f64>, RwSignal<f64>),
    years: RwSignal<f64>,
    /// Annual discount rate, in percent.
    rate: RwSignal<f64>,
) -> impl IntoView {
    let (r, alpha, a, b) = bgnbd;
    let (repeat, last, age, spend) = customer;
    let (p, q, gamma) = spend_model;
    let valued = move || {
        let m = BgNbd::new(r.get(), alpha.get(), a.get(), b.get()).map_err(|e| e.to_string())?;
        let g = GammaGamma::new(p.get(), q.get(), gamma.get()).map_err(|e| e.to_string())?;
        let c = Customer::new(repeat.get(), last.get(), age.get(), spend.get()).map_err(|e| e.to_string())?;
        value_one_customer(&m, &g, &c, years.get(), rate.get() / 100.0).map_err(|e| e.to_string())
    };
    let simple = move || {
        valued().ok().map(|v| {
            format!(
                "{} a purchase × {} purchases a week so far × 52 weeks × {} years = {}",
                format::money(spend.get()),
                format::grouped(v.per_week, 3),
                format::trimmed(years.get(), 2),
                format::money(v.simple)
            )
        })
    };
    let model = move || {
        match valued() {
        Ok(v) => format!(
            "{:.1}% likely still a customer · {} purchases expected in {} years · {} a purchase (everyone's average: {}) · discounted at {}% a year = {}",
            100.0 * v.p_alive,
            format::grouped(v.purchases, 2),
            format::trimmed(years.get(), 2),
            format::money(v.spend),
            v.population_spend.map_or("none: q is too small".to_string(), format::money),
            format::trimmed(rate.get(), 0),
            format::money(v.model)
        ),
        Err(e) => format!("Check the numbers: {e}."),
    }
    };
    view! {
        <h3>"5. From purchases to money"</h3>
        <p>"A customer's value is what they will spend. Gamma–Gamma says each customer has a typical purchase amount of their own; an average of a few purchases says little, so it is pulled toward everyone's average, the less the more purchases it rests on. Money later is worth less than money now: the value is discounted. Below, the customer of step 4 (their age and repeat purchases are set there) valued both ways over the years of step 1."</p>
        <div class="controls">
            <Slider id="learn-last" label="week of their last purchase" value=last />
            <NumberInput id="learn-spend" label="Their average purchase" value=spend step=1.0 />
            <Slider id="learn-rate" label="discount rate, % a year" value=rate />
        </div>
        <div class="controls">
            <Slider id="learn-p" label="p (shape of one purchase)" value=p />
            <Slider id="learn-q" label="q (large = amounts alike across customers)" value=q />
            <Slider id="learn-gamma" label="γ (scale of the amounts)" value=gamma />
        </div>
        <div class="learn-pair">
            <div class="stat"><span class="label">"The simple formula"</span><p class="formula" id="learn-money-simple" aria-live="polite">{simple}</p></div>
            <div class="stat"><span class="label">"The models (BG/NBD and Gamma–Gamma)"</span><p class="formula" id="learn-money-model" aria-live="polite">{model}</p></div>
        </div>
        <p>"Move the last purchase back to week 13: the simple formula does not change, the models' value collapses. That difference is what this tool is for."</p>
    }
}

/// Step 6: the two published data sets fitted live in a worker (kept apart from the user's file).
/// CDNOW's transactions are read by the page's full ingest: a widget links to the page for them.
#[component]
pub(crate) fn RealDataStep(runner: LessonRunner, #[prop(optional)] app_link: Option<String>) -> impl IntoView {
    let pending = move || runner.data.is_pending();
    let cdnow = match (runner.session, app_link) {
        (None, Some(href)) => view! {
            <a id="learn-cdnow-link" class="button secondary" href=href target="_blank" rel="noopener">"Fit CDNOW in the full app"</a>
        }
        .into_any(),
        _ => view! {
            <button id="learn-cdnow" class="button secondary" on:click=move |_| runner.fit_data.run(Dataset::Cdnow) disabled=pending>"Fit CDNOW"</button>
        }
        .into_any(),
    };
    view! {
        <h3>"6. Real customers"</h3>
        <p>"The same models on the data they were published with. CDNOW: 23,570 people who first bought CDs in early 1997, fitted on their first 39 weeks and checked on the next 39. A charity's 11,104 first-time donors of 1995: whether each gave again in each of six years — one chance a year, so the discrete-time cousin of BG/NBD, BG/BB."</p>
        <div class="controls">
            {cdnow}
            <button id="learn-donations" class="button secondary" on:click=move |_| runner.fit_data.run(Dataset::Donations) disabled=pending>"Fit the donations"</button>
        </div>
        <TaskLine task=runner.data name="learn-data" />
        {move || runner.data.get().map(|f| view! { <RealFitView f /> })}
    }
}

#[component]
fn RealFitView(f: RealFit) -> impl IntoView {
    let (name, model, published) = match f.dataset {
        Dataset::Cdnow => ("CDNOW", "BG/NBD", "r 0.243, α 4.414, a 0.793, b 2.426 (Fader, Hardie & Lee 2005)"),
        Dataset::Donations => {
            ("the donations", "BG/BB", "α 1.204, β 0.750, γ 0.657, δ 2.783 (Fader, Hardie & Shang 2010)")
        }
    };
    let rows = f
        .fit
        .params
        .iter()
        .map(|p| {
            let range = range_text(p);
            view! { <tr><th scope="row">{p.name.clone()}</th><td class="num">{format::grouped(p.value, 3)}</td><td class="num">{range}</td></tr> }
        })
        .collect_view();
    let summary = format!(
        "{model} fitted on {} customers of {name}: {}. The paper found {published}.",
        format::int(f.customers as u64),
        f.fit.convergence.status()
    );
    let tracking = (!f.tracking.is_empty()).then(|| {
        let calibration = f.tracking.iter().filter(|w| !w.holdout).count();
        let series = vec![
            ("repeat purchases made".to_string(), f.tracking.iter().map(|w| w.actual).collect::<Vec<f64>>()),
            (format!("expected by {model}"), f.tracking.iter().map(|w| w.expected).collect()),
        ];
        view! {
            <p>"The tracking plot: left of the line, the weeks the model learnt from; right of it, weeks it had not seen. The expected curve is the forecast."</p>
            <LineChart id="learn-real-tracking" title="CDNOW: repeat purchases so far, made and expected, week by week".to_string() series
                x_label="week since 1997-01-01".to_string() y_label="repeat purchases, cumulative".to_string()
                marker=(calibration as f64 + 0.5, "calibration ends") />
        }
    });
    let groups = f.frequency.iter().map(|b| (b.repeat_purchases.clone(), b.expected, b.actual)).collect();
    let what = if f.dataset == Dataset::Donations {
        "repeat donations in six years"
    } else {
        "repeat purchases in the 39 weeks"
    };
    view! {
        <p id="learn-data-summary" aria-live="polite">{summary}</p>
        <div class="scroll" tabindex="0"><table id="learn-data-params">
            <caption>{format!("{model}'s parameters fitted to {name}, with 95% ranges")}</caption>
            <thead><tr><th scope="col">"parameter"</th><th scope="col">"fitted"</th><th scope="col">"95% range"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
        {tracking}
        <PairedBars id="learn-real-frequency" title=format!("{name}: customers by {what}, expected and actual") group_label=what.to_string()
            groups names=("expected customers".to_string(), "actual customers".to_string()) />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_sets_what_is_in_range_and_keeps_the_defaults_otherwise() {
        let mut s = LearnState::default();
        assert_eq!((s.set("r", "0.5"), s.set("order", "12.5")), (Ok(()), Ok(())));
        // Out of range or not a number: refused with the range, the default kept.
        assert_eq!(s.set("b", "99"), Err("b=\"99\": expected a number from 0.05 to 20".into()));
        assert_eq!(s.set("years", "-1"), Err("years=\"-1\": expected a number from 0 to 1,000,000".into()));
        assert!(s.set("alpha", "x").unwrap_err().contains("expected a number"));
        assert!(s
            .set("cutoff", "1997-09-30")
            .unwrap_err()
            .starts_with("\"cutoff\" is not one of the lesson's settings (order, "));
        // The lesson shares the link with the workbench: no key may mean both.
        for workbench in ["cutoff", "horizon", "unit", "discount", "calibration", "holdout_end"] {
            assert!(!LearnState::KEYS.contains(&workbench), "{workbench}");
        }
        // Counts and the seed are whole numbers in range.
        assert_eq!((s.set("customers", "2500"), s.set("seed", "7")), (Ok(()), Ok(())));
        assert!(s.set("weeks", "52.5").unwrap_err().contains("a whole number from 4 to 156"));
        assert!(s.set("customers", "99999").is_err());
        assert_eq!(s, LearnState { r: 0.5, order: 12.5, customers: 2500.0, seed: 7.0, ..LearnState::default() });
        let mut back = LearnState::default();
        for p in s.pairs() {
            let (k, v) = p.split_once('=').unwrap();
            back.set(k, v).unwrap();
        }
        assert_eq!(back, s);
    }
}
