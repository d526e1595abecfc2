//! Value & segments: the customer base under one model — how much value,
//! how concentrated, how distributed — and the P(alive) × value quadrants,
//! each downloadable.

use super::charts::{Bars, CurveChart};
use super::explore::usable_models;
use super::format;
use super::glossary::{Term, Word};
use super::TaskNote;
use crate::page::session::Session;
use crate::protocol::ValueView;
use clv_core::pipeline::ModelKind;
use clv_core::portfolio::ACTIVE;
use leptos::prelude::*;

#[component]
pub fn ValuePanel(session: Session) -> impl IntoView {
    let model = RwSignal::new(ModelKind::Pnbd);
    let available = move || usable_models(session);
    // A new fit: the base under the first usable model (the one shown, if still there).
    Effect::new(move |_| {
        let kinds: Vec<ModelKind> = available();
        if let Some(k) = kinds.iter().copied().find(|k| *k == model.get_untracked()).or(kinds.first().copied()) {
            model.set(k);
            session.value_view(k);
        }
    });
    view! {
        <Show when=move || !available().is_empty()>
            <section id="value" class="panel">
                <h2>"Value & segments"</h2>
                <p class="hint">"The whole customer base under one model: how much it is worth over the horizon, how much of that the best customers hold, and who is likely still buying."</p>
                <div class="controls">
                    <label>"Model "
                        <select id="value-model" on:change=move |ev| {
                            if let Ok(k) = event_target_value(&ev).parse() { model.set(k); session.value_view(k); }
                        }>
                            {move || available().into_iter().map(|k| view! {
                                <option value=k.code() selected=model.get_untracked() == k>{k.id().label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </div>
                <TaskNote session task=session.value name="value" />
                {move || session.value.get().map(|v| view! { <ValueBody v session /> })}
            </section>
        </Show>
    }
}

#[component]
fn ValueBody(v: ValueView, session: Session) -> impl IntoView {
    let p = &v.portfolio;
    let unit = v.unit.name();
    let horizon = format::fixed(v.horizon_units, 1);
    let what = if v.money {
        format!("CLV, next {horizon} {unit}s")
    } else {
        format!("Discounted purchases, next {horizon} {unit}s")
    };
    let amount = move |x: f64| if v.money { format::money(x) } else { format::fixed(x, 1) };
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let share = |x: f64| if p.total_clv > 0.0 { x / p.total_clv } else { 0.0 };
    let n = p.customers.max(1) as f64;
    let bins: Vec<(String, f64)> = p
        .histogram
        .iter()
        .enumerate()
        .map(|(i, b)| (if i == 20 { format!("{}+", amount(b.low)) } else { amount(b.low) }, b.customers as f64))
        .collect();
    let model = v.model;
    let quadrants = p
        .quadrants
        .iter()
        .map(|q| {
            let quadrant = q.quadrant;
            view! {
                <tr data-quadrant=quadrant.label()>
                    <td><strong>{quadrant.label()}</strong><br /><span class="hint">{quadrant.meaning()}</span></td>
                    <td class="num">{format::int(q.customers as u64)}</td>
                    <td class="num">{pct(q.customers as f64 / n)}</td>
                    <td class="num">{amount(q.clv)}</td>
                    <td class="num">{pct(share(q.clv))}</td>
                    <td><button class="button secondary quadrant-export" on:click=move |_| session.export_quadrant(model, quadrant)>"Download CSV"</button></td>
                </tr>
            }
        })
        .collect_view();
    let lorenz_rows = p
        .lorenz
        .iter()
        .step_by(2)
        .map(|&(x, y)| view! { <tr><td class="num">{pct(x)}</td><td class="num">{pct(y)}</td></tr> })
        .collect_view();
    view! {
        <p class="hint" id="value-summary">{format!("Under {}; {}.", model.id().label(), if v.money { "values in the data's currency".to_string() } else { "no spend model, so values are expected purchases, discounted".to_string() })}</p>
        <div class="stats" id="value-kpis">
            <div class="stat"><span class="label">"Customers"</span><span class="value" id="kpi-customers">{format::int(p.customers as u64)}</span></div>
            <div class="stat"><span class="label">"Expected still active " <Term word=Word::PAlive help=true /></span><span class="value" id="kpi-active">{format!("{} ({})", format::int(p.expected_active.round() as u64), pct(p.expected_active / n))}</span></div>
            <div class="stat"><span class="label">{format!("Total {what}")}</span><span class="value" id="kpi-total">{amount(p.total_clv)}</span></div>
            <div class="stat"><span class="label">"Share held by the top 10% of customers"</span><span class="value" id="kpi-top-decile">{pct(p.top_decile_share)}</span></div>
            <div class="stat"><span class="label"><Term word=Word::Gini />" (0 = all equal, 1 = one holds all)"</span><span class="value" id="kpi-gini">{format::fixed(p.gini, 3)}</span></div>
        </div>
        <h3>"Who is worth what: likely still buying × value"</h3>
        <p class="hint">{format!("Likely still buying: P(alive) of at least {:.0}%. High value: at least the median, {}.", 100.0 * ACTIVE, amount(p.median_clv))}</p>
        <div class="scroll" tabindex="0"><table id="quadrants">
            <thead><tr><th>"group"</th><th>"customers"</th><th>"share of customers"</th><th>{what.clone()}</th><th>"share of value"</th><th>"export"</th></tr></thead>
            <tbody>{quadrants}</tbody>
        </table></div>
        <TaskNote session task=session.predictions_export name="quadrant-export" />
        <h3>"How concentrated is the value? (Lorenz curve)"</h3>
        <p class="hint">"Customers from the most valuable down: the curve's height at 20% is the share of all value the top fifth holds. The dashed diagonal is a base where everyone is worth the same."</p>
        <CurveChart id="lorenz-chart" title="Lorenz curve: share of total CLV held by the most valuable customers".to_string() points=p.lorenz.clone() x_label="share of customers, most valuable first".to_string() y_label="share of value".to_string() />
        <details>
            <summary>"Show as a table"</summary>
            <table id="lorenz-table"><thead><tr><th>"customers"</th><th>"value"</th></tr></thead><tbody>{lorenz_rows}</tbody></table>
        </details>
        <h3>{format!("How {what} is spread over customers")}</h3>
        <Bars id="value-histogram" title="Customers by expected value".to_string() bars=bins x_label=format!("{what} (bar start; the last bar: above the 99th percentile)") y_label="customers".to_string() label_every=4 />
    }
}
