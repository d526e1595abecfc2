//! Value & segments: the customer base under one model — how much value,
//! how concentrated, how distributed — and the P(alive) × value quadrants,
//! each downloadable.

use super::charts::{Bars, CurveChart};
use super::format;
use super::glossary::{Term, Word};
use super::pick::{keep_or_first, usable_models, usable_models_untracked as available_untracked, ModelSelect};
use super::settings::{Settings, View};
use super::{Later, TaskNote};
use crate::page::session::Session;
use crate::protocol::{UsersInfo, ValueView};
use clv_core::pipeline::ModelKind;
use clv_core::portfolio::ACTIVE;
use leptos::prelude::*;

#[component]
pub fn ValuePanel(
    session: Session,
    settings: Settings,
    segment_filter: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    let model = RwSignal::new(ModelKind::Pnbd);
    let segment = RwSignal::new(None::<String>);
    let available = move || usable_models(session);
    let ask = move || session.value_view(model.get_untracked(), segment.get_untracked());
    // A users file loaded after the fit brings its columns: ask again to offer them.
    Effect::new(move |before: Option<Option<UsersInfo>>| {
        let now = session.users.get();
        if before.is_some_and(|b| b != now) && now.is_some() && !available_untracked(session).is_empty() {
            ask();
        }
        now
    });
    // A new fit: the base under the first usable model (the one shown, if still there).
    Effect::new(move |_| {
        if keep_or_first(session, model).is_some() {
            ask();
        }
    });
    view! {
        <Show when=move || !available().is_empty()><Later>
            <section id="value" class="panel">
                <h2>"Value & segments"</h2>
                <p class="hint">"The whole customer base under one model: how much it is worth over the horizon, how much of that the best customers hold, and who is likely still buying."</p>
                <div class="controls">
                    <ModelSelect session id="value-model" model changed=Callback::new(move |_| ask()) />
                    <Show when=move || session.value.with(|v| v.is_some_and(|v| !v.segment_columns.is_empty()))>
                        <label>"Split by "
                            <select id="value-segment" on:change=move |ev| {
                                let c = event_target_value(&ev);
                                segment.set((!c.is_empty()).then_some(c));
                                ask();
                            }>
                                <option value="">"(no split)"</option>
                                {move || session.value.with(|v| v.map(|v| v.segment_columns.iter().map(|c| {
                                    let chosen = segment.get_untracked().as_deref() == Some(c.as_str());
                                    view! { <option value=c.clone() selected=chosen>{c.clone()}</option> }
                                }).collect_view()))}
                            </select>
                        </label>
                    </Show>
                </div>
                <Show when=move || session.value.with(|v| v.is_some_and(|v| v.segment_columns.is_empty()))>
                    <p class="hint" id="no-segments">"To split the base by segment, load a file with a channel or country column, or a users file (in Cohorts) with columns such as plan or region."</p>
                </Show>
                <TaskNote session task=session.value name="value" />
                {move || session.value.get().map(|v| view! { <ValueBody v session settings segment_filter /> })}
            </section>
        </Later></Show>
    }
}

#[component]
fn ValueBody(
    v: ValueView,
    session: Session,
    settings: Settings,
    segment_filter: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
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
    let n = p.customers.max(1.0);
    let bins: Vec<(String, f64)> = p
        .histogram
        .iter()
        .enumerate()
        .map(|(i, b)| (if i == 20 { format!("{}+", amount(b.low)) } else { amount(b.low) }, b.customers))
        .collect();
    let model = v.model;
    let total_range = match (&v.total.interval, &v.total.no_interval) {
        (Some(i), _) => view! {
            <span class="sub" id="kpi-total-range">{format!("{:.0}% range {} to {} ", 100.0 * i.level, amount(i.low), amount(i.high))}<Term word=Word::ParameterRange help=true /></span>
        }
        .into_any(),
        (None, why) => view! {
            <span class="sub" id="kpi-total-range">{format!("No range: {}.", why.as_deref().unwrap_or("not available"))}</span>
        }
        .into_any(),
    };
    let quadrants = p
        .quadrants
        .iter()
        .map(|q| {
            let quadrant = q.quadrant;
            view! {
                <tr data-quadrant=quadrant.label()>
                    <td><strong>{quadrant.label()}</strong><br /><span class="hint">{quadrant.meaning()}</span></td>
                    <td class="num">{format::int(q.customers.round() as u64)}</td>
                    <td class="num">{pct(q.customers / n)}</td>
                    <td class="num">{amount(q.clv)}</td>
                    <td class="num">{pct(share(q.clv))}</td>
                    <td><button class="button secondary quadrant-export" on:click=move |_| session.export_quadrant(model, quadrant)>"Download CSV"</button></td>
                </tr>
            }
        })
        .collect_view();
    let by_segment = v.segment.clone().filter(|_| !v.segments.is_empty()).map(|column| {
        let bars: Vec<(String, f64)> = v.segments.iter().map(|g| (g.segment.clone(), g.total_clv)).collect();
        let rows = v
            .segments
            .iter()
            .map(|g| {
                let chosen = (column.clone(), g.segment.clone());
                let show = (!g.rest).then(|| view! {
                    <button class="button secondary show-segment" on:click=move |_| {
                        segment_filter.set(Some(chosen.clone()));
                        settings.go(View::Customers);
                    }>"Show these customers"</button>
                });
                view! {
                    <tr data-segment=g.segment.clone()>
                        <th scope="row">{g.segment.clone()}</th>
                        <td class="num">{format::int(g.customers as u64)}</td>
                        <td class="num">{format::grouped(g.expected_active, 0)}</td>
                        <td class="num">{amount(g.total_clv)}</td>
                        <td class="num">{pct(share(g.total_clv))}</td>
                        <td>{show}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h3>{format!("Value by {column}")}</h3>
            <p class="hint">{format!("Each {column} value's customers and their total {what}, most valuable first (beyond twelve, the rest in one bar).")}</p>
            <Bars id="segment-bars" title=format!("Total {what} by {column}") bars x_label=column.clone() y_label=what.clone() />
            <div class="scroll" tabindex="0"><table id="segment-table">
                <thead><tr><th>{column.clone()}</th><th>"customers"</th><th>"expected still active"</th><th>{what.clone()}</th><th>"share of value"</th><th>"customers table"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
        }
    });
    view! {
        <p class="hint" id="value-summary">{format!("Under {}; {}.", model.id().label(), if v.money { "values in the data's currency".to_string() } else { "no spend model, so values are expected purchases, discounted".to_string() })}</p>
        <div class="stats" id="value-kpis">
            <div class="stat"><span class="label">"Customers"</span><span class="value" id="kpi-customers">{format::int(p.customers.round() as u64)}</span></div>
            <div class="stat"><span class="label">"Expected still active " <Term word=Word::PAlive help=true /></span><span class="value" id="kpi-active">{format!("{} ({})", format::int(p.expected_active.round() as u64), pct(p.expected_active / n))}</span></div>
            <div class="stat"><span class="label">{format!("Total {what}")}</span><span class="value" id="kpi-total">{amount(p.total_clv)}</span>{total_range}</div>
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
        <h3>{format!("How {what} is spread over customers")}</h3>
        <Bars id="value-histogram" title="Customers by expected value".to_string() bars=bins x_label=format!("{what} (bar start; the last bar: above the 99th percentile)") y_label="customers".to_string() label_every=4 />
        {by_segment}
    }
}
