//! The Models panel: fit BG/NBD, Pareto/NBD, MBG/NBD and Gamma–Gamma at the
//! chosen cutoff; parameters ± SE, log-likelihood, convergence, warnings.
//! A fit that did not converge shows its diagnosis, never its numbers.

use super::charts::PairedBars;
use super::format;
use super::summary::Settings;
use super::{OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::download;
use crate::page::session::Session;
use crate::protocol::{ModelRequest, ModelsResult};
use clv_core::clv::Discounting;
use clv_core::models::given::ModelCard;
use clv_core::models::{FitReport, LimitingFit, ModelId, ParamEstimate};
use clv_core::pipeline::ModelKind;
use clv_core::time::TimeUnit;
use leptos::prelude::*;

#[component]
pub fn ModelsPanel(session: Session, settings: Settings) -> impl IntoView {
    let discount = RwSignal::new(10.0f64);
    let penalizer = RwSignal::new(0.0f64);
    let discounting = RwSignal::new(Discounting::PerPeriod);
    let ageing = RwSignal::new(false);
    let fit = move |_| {
        if let Some(summary) = settings.request() {
            let mut models = ModelKind::CONTINUOUS.to_vec();
            if ageing.get_untracked() {
                models.push(ModelKind::Ggomnbd);
            }
            session.fit_models(ModelRequest {
                summary,
                models,
                penalizer: penalizer.get_untracked(),
                annual_discount_rate: discount.get_untracked() / 100.0,
                discounting: discounting.get_untracked(),
            })
        }
    };
    view! {
        <Show when=move || session.summary.has_value()>
            <section id="models" class="panel">
                <h2>"Models"</h2>
                <p class="hint">
                    "Fits BG/NBD, Pareto/NBD and MBG/NBD (how many purchases; Gamma–Gompertz/NBD too if you tick it) and Gamma–Gamma (how much each) on the customers at the cutoff, by maximum likelihood. Times are in "
                    {move || settings.unit.get().name()} "s."
                </p>
                <div class="controls">
                    <label>"Annual discount rate (%) "
                        <input id="discount" type="number" min="0" step="1" prop:value=move || discount.get().to_string()
                            on:change=move |ev| discount.set(event_target_value(&ev).parse().unwrap_or(10.0)) />
                    </label>
                    <label>"Discounting "
                        <select id="discounting" on:change=move |ev| discounting.set(event_target_value(&ev).parse().unwrap_or_default())>
                            <option value="per-period" prop:selected=move || discounting.get() == Discounting::PerPeriod>"each period, over the exact horizon"</option>
                            <option value="lifetimes" prop:selected=move || discounting.get() == Discounting::LifetimesMonthly>"monthly, as the Python lifetimes package"</option>
                        </select>
                    </label>
                    <label>"L2 penalizer "
                        <input id="penalizer" type="number" min="0" step="0.001" prop:value=move || penalizer.get().to_string()
                            on:change=move |ev| penalizer.set(event_target_value(&ev).parse().unwrap_or(0.0)) />
                    </label>
                    <label>
                        <input id="fit-ggomnbd" type="checkbox" prop:checked=move || ageing.get()
                            on:change=move |ev| ageing.set(event_target_checked(&ev)) />
                        " Also fit Gamma–Gompertz/NBD (the risk of leaving may grow with a customer's age; slower)"
                    </label>
                    <button id="fit-models" class="button" on:click=fit disabled=move || session.busy()>"Fit models"</button>
                </div>
                <TaskNote session task=session.models name="models" cancel=true />
                <OutageNote session panel=Panel::Models />
                {move || session.models.get().map(|r| {
                    let unit = r.unit;
                    let cards = r.fits.iter().cloned().map(|f| view! { <FitCard f unit /> }).collect_view();
                    // Models refused before any fit (too little data…): said, not dropped.
                    let refused = r.failed.iter().filter(|(m, _)| !r.fits.iter().any(|f| f.model == *m)).map(|(m, why)| {
                        view! { <NotFitted model=*m why=why.clone() /> }
                    }).collect_view();
                    let spend = r.spend.clone().map(|f| view! { <FitCard f unit /> });
                    // A spend fit that ran says its diagnosis on its card; only one refused before fitting needs words here.
                    let spend_error = r.spend_error.clone().filter(|_| r.spend.is_none()).map(|e| view! { <p class="warning">{e}</p> });
                    let frequency = r.frequency.iter().find(|(m, _)| *m == ModelId::Pnbd).or(r.frequency.first()).map(|(m, bins)| {
                        let groups = bins.iter().map(|b| (b.repeat_purchases.clone(), b.expected, b.actual)).collect();
                        view! {
                            <h3>{format!("Does {} reproduce who bought how often? (calibration period)", m.label())}</h3>
                            <PairedBars id="frequency-chart" groups names=("expected customers".to_string(), "actual customers".to_string()) />
                        }
                    });
                    view! {
                        <p class="hint" id="models-summary">
                            {horizon_sentence(&r)}
                        </p>
                        <div class="fits">{cards}{refused}{spend}</div>
                        {spend_error}
                        {frequency}
                    }
                })}
            </section>
        </Show>
    }
}

/// What the predictions are over and how CLV was discounted, in words.
fn horizon_sentence(r: &ModelsResult) -> String {
    let unit = r.unit.name();
    let rate = format!("{}% a year", format::fixed(100.0 * r.annual_discount_rate, 1));
    let value = match r.discounting {
        Discounting::PerPeriod => format!("CLV discounted at {rate}, {unit} by {unit}"),
        Discounting::LifetimesMonthly => {
            format!(
                "CLV over {} whole months as the lifetimes package sums it, discounted at {rate} month by month",
                r.months
            )
        }
    };
    format!(
        "{} customers. Predictions over the next {} {unit}s; {value}.",
        format::int(r.customers as u64),
        format::fixed(r.horizon_units, 2)
    )
}

#[component]
fn NotFitted(model: ModelId, why: String) -> impl IntoView {
    view! {
        <div class="fit failed" data-model=model.code()>
            <h3>{model.label()} " " <span class="badge">"not fitted"</span></h3>
            <p class="warning">{format!("Not a result: {why}")}</p>
        </div>
    }
}

#[component]
fn FitCard(f: FitReport, unit: TimeUnit) -> impl IntoView {
    let ok = f.convergence.converged;
    // The model card: what `clv predict --model-card` reads; made and saved in the tab.
    let card = serde_json::to_string_pretty(&ModelCard::of_fit(&f, unit)).unwrap_or_default() + "\n";
    let file = format!("model_card_{}.json", f.model.code());
    let save = move |_| {
        if let Err(e) = download(&file, &card) {
            web_sys::console::error_1(&e);
        }
    };
    let warnings = f.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view();
    let limiting = f.limiting.clone().map(|l| view! { <LimitingCard l=*l /> });
    view! {
        <div class="fit" class:failed=!ok data-model=f.model.code()>
            <h3>{f.model.label()} " "
                <span class="badge">{f.convergence.status()}</span>
            </h3>
            {if ok {
                view! {
                    <ParamTable params=f.params.clone() />
                    <button class="button secondary card-download" data-model=f.model.code() on:click=save>"Download model card (JSON)"</button>
                    <p class="hint">{format!("log-likelihood {:.4} · {} iterations ({}) · gradient {:.1e} · {} customers, {} distinct",
                        f.log_likelihood, f.convergence.iterations, f.convergence.method, f.convergence.gradient_norm,
                        format::int(f.n_customers as u64), format::int(f.n_unique as u64))}</p>
                }.into_any()
            } else {
                view! { <p class="warning">{format!("Not a result: {}", f.convergence.message)}</p> }.into_any()
            }}
            {limiting}
            <ul class="warnings">{warnings}</ul>
        </div>
    }
}

/// The simpler model a boundary fit tends to, fitted: what this data does identify.
#[component]
fn LimitingCard(l: LimitingFit) -> impl IntoView {
    let status = if l.convergence.converged { "fitted" } else { "did not converge" };
    view! {
        <div class="limiting">
            <h4>"What this data does identify — the simpler model, " {status}</h4>
            <p>{l.description.clone()}</p>
            <ParamTable params=l.params.clone() />
            <p class="hint">{format!("log-likelihood {:.4} · {}", l.log_likelihood, l.convergence.message)}</p>
        </div>
    }
}

#[component]
fn ParamTable(params: Vec<ParamEstimate>) -> impl IntoView {
    let rows = params
        .iter()
        .map(|p| {
            let se = p.std_error.map_or("n/a".to_string(), |s| format::estimate(s, 4));
            let ci = match (p.ci_low, p.ci_high) {
                (Some(a), Some(b)) => format!("[{}, {}]", format::estimate(a, 3), format::estimate(b, 3)),
                _ => "—".into(),
            };
            view! { <tr><td>{p.name.clone()}</td><td class="num">{format::estimate(p.value, 4)}</td><td class="num">{"± "}{se}</td><td class="num">{ci}</td></tr> }
        })
        .collect_view();
    view! {
        <table class="params">
            <thead><tr><th>"parameter"</th><th>"estimate"</th><th>"SE"</th><th>"95% CI"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
