//! Learn: a lesson in steps for someone who has never heard of BG/NBD, no file needed. Each step
//! is a sentence or two beside a live picture computed by the core (`clv_core::teach`).

use super::charts::DensityChart;
use super::format;
use clv_core::teach::{dropout_probabilities, purchase_rates, SimpleFormula, WEEKS_PER_YEAR};
use leptos::prelude::*;

#[component]
pub fn LearnPanel() -> impl IntoView {
    view! {
        <section id="learn" class="panel">
            <h2>"Learn: what a customer is worth, and why it is not one multiplication"</h2>
            <p class="hint">"A short lesson with numbers you can change. It needs no file; everything is computed in this tab."</p>
            <SimpleFormulaStep />
            <HeterogeneityStep />
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
fn SimpleFormulaStep() -> impl IntoView {
    let (order, per_week, years) = (RwSignal::new(5.0), RwSignal::new(2.0), RwSignal::new(2.0));
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
fn Slider(id: &'static str, label: &'static str, value: RwSignal<f64>, min: f64, max: f64, step: f64) -> impl IntoView {
    view! {
        <label class="slider">
            <span>{label}" = "<output id=format!("{id}-value")>{move || format::grouped(value.get(), 2)}</output></span>
            <input id=id type="range" min=min max=max step=step prop:value=move || value.get().to_string()
                on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { value.set(v) } } />
        </label>
    }
}

#[component]
fn HeterogeneityStep() -> impl IntoView {
    // CDNOW's BG/NBD (Fader, Hardie & Lee 2005), per week.
    let (r, alpha) = (RwSignal::new(0.24), RwSignal::new(4.4));
    let (a, b) = (RwSignal::new(0.79), RwSignal::new(2.4));
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
                <Slider id="learn-r" label="r (shape: small = very unequal buyers)" value=r min=0.05 max=5.0 step=0.01 />
                <Slider id="learn-alpha" label="α (scale: large = slow buyers)" value=alpha min=0.5 max=30.0 step=0.1 />
                {rates}
            </div>
            <div>
                <Slider id="learn-a" label="a (large = more leave)" value=a min=0.05 max=10.0 step=0.01 />
                <Slider id="learn-b" label="b (large = more stay)" value=b min=0.05 max=20.0 step=0.01 />
                {dropout}
            </div>
        </div>
    }
}
