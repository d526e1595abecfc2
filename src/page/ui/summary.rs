//! Cutoff, horizon and time unit; the BTYD summary they give; exports.

use super::charts::{Bars, LineChart, PALETTE};
use super::format;
use super::settings::{default_cutoff, Settings};
use super::{OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::protocol::{ExportKind, SummaryStats};
use clv_core::features::REPEAT_BINS;
use clv_core::time::Day;
use leptos::prelude::*;

#[component]
pub fn SummaryPanel(session: Session, settings: Settings) -> impl IntoView {
    let Settings { cutoff, horizon, unit, .. } = settings;
    let summarise = move || {
        if let Some(r) = settings.request() {
            session.summarise(r);
        }
    };
    // A new report: the link's cutoff if the data reach it (once), else propose one; compute once.
    Effect::new(move |_| {
        if let Some((_, r)) = session.load.get() {
            let range = r.first_ts.as_deref().zip(r.last_ts.as_deref());
            let day = |t: &str| t.get(..10).and_then(|d| d.parse::<Day>().ok());
            let linked = settings.linked_cutoff.get_value();
            settings.linked_cutoff.set_value(None);
            let within = linked.filter(|c| range.is_some_and(|(a, b)| day(a) <= Some(*c) && Some(*c) <= day(b)));
            if let (Some(c), None) = (linked, within) {
                session.notice.set(Some(format!(
                    "The link's cutoff {c} is outside this file's dates: a cutoff inside them is proposed instead."
                )));
            }
            if let Some(c) = within.or_else(|| range.and_then(|(a, b)| default_cutoff(a, b, horizon.get_untracked()))) {
                cutoff.set(Some(c));
                summarise();
            }
        }
    });
    // The figures shown are always those of the settings shown: a change of
    // cutoff, horizon or unit anywhere (Cohorts sets the horizon too)
    // recomputes them, so they equal what the exports below contain.
    Effect::new(move |first: Option<()>| {
        cutoff.track();
        horizon.track();
        unit.track();
        if first.is_some() && session.summary.has_value_untracked() {
            summarise();
        }
    });
    let export = move |what| {
        if let Some(r) = settings.request() {
            session.export(what, r);
        }
    };
    let no_cutoff = move || cutoff.with(Option::is_none);
    view! {
        <Show when=move || session.load.with(|r| r.is_some_and(|(_, r)| r.accepted > 0))>
            <section id="summary" class="panel">
                <h2>"Customers at a cutoff"</h2>
                <p class="hint">
                    "Features use only transactions on or before the cutoff; the label is net revenue in the horizon after it."
                </p>
                <div class="controls">
                    <span class="hint">{move || format!("Cutoff {}, horizon {}, times in {}s (set above).",
                        cutoff.get().map_or("(none)".to_string(), |d| d.to_string()), horizon.get(), unit.get().name())}</span>
                    <button id="compute" class="button secondary" on:click=move |_| summarise() disabled=move || session.summary.is_pending() || no_cutoff()>"Compute again"</button>
                </div>
                <TaskNote session task=session.summary name="summary" />
                <OutageNote session panel=Panel::Summary />
                {move || session.summary.get().map(|s| view! { <Stats s /> })}
                <div class="exports">
                    <button id="export-summary" class="button secondary" on:click=move |_| export(ExportKind::Summary) disabled=move || session.summary_export.is_pending() || no_cutoff()>"Download summary CSV"</button>
                    <button id="export-features" class="button secondary" on:click=move |_| export(ExportKind::Features) disabled=move || session.summary_export.is_pending() || no_cutoff()>"Download features CSV"</button>
                </div>
                <TaskNote session task=session.summary_export name="summary-export" />
            </section>
        </Show>
    }
}

#[component]
fn Stats(s: SummaryStats) -> impl IntoView {
    let u = s.unit.name();
    let preview = s
        .preview
        .iter()
        .map(|r| {
            view! {
                <tr>
                    <td>{r.user_id.clone()}</td>
                    <td class="num">{r.frequency}</td>
                    <td class="num">{format::fixed(r.recency, 2)}</td>
                    <td class="num">{format::fixed(r.t, 2)}</td>
                    <td class="num">{format::money(r.monetary_value)}</td>
                </tr>
            }
        })
        .collect_view();
    let incomplete = (!s.label_window_complete).then(|| {
        view! { <p class="warning">"The data ends before the horizon does: the label window is only partly observed."</p> }
    });
    view! {
        <div class="stats" id="summary-stats">
            <div class="stat"><span class="label">"Customers at cutoff"</span><span class="value" id="sum-customers">{format::int(s.customers as u64)}</span></div>
            <div class="stat"><span class="label">"Repeat buyers"</span><span class="value" id="sum-repeat">{format::int(s.repeat_buyers as u64)}</span></div>
            <div class="stat"><span class="label">"First purchase after cutoff"</span><span class="value">{format::int(s.excluded_after_cutoff as u64)}</span></div>
            <div class="stat"><span class="label">"Mean repeat purchases"</span><span class="value" id="sum-freq">{format::fixed(s.mean_frequency, 3)}</span></div>
            <div class="stat"><span class="label">{format!("Mean recency ({u}s)")}</span><span class="value">{format::fixed(s.mean_recency, 2)}</span></div>
            <div class="stat"><span class="label">{format!("Mean T ({u}s)")}</span><span class="value">{format::fixed(s.mean_t, 2)}</span></div>
            <div class="stat"><span class="label">"Mean repeat spend"</span><span class="value">{format::money(s.mean_monetary_repeaters)}</span></div>
            <div class="stat"><span class="label">{format!("Revenue in next {} days from these customers", s.horizon_days)}</span><span class="value" id="sum-label-revenue">{format::money(s.label_revenue)}</span></div>
            <div class="stat"><span class="label">{format!("Revenue in next {} days from new customers", s.horizon_days)}</span><span class="value" id="sum-new-revenue">{format::money(s.new_customer_revenue)}</span></div>
        </div>
        {incomplete}
        <DataCharts s=s.clone() />
        <div class="scroll"><table id="summary-preview">
            <thead><tr><th>"user"</th><th>"frequency"</th><th>{format!("recency ({u}s)")}</th><th>{format!("T ({u}s)")}</th><th>"monetary value"</th></tr></thead>
            <tbody>{preview}</tbody>
        </table></div>
    }
}

/// The Data view's pictures: purchases and new customers per week with the cutoff marked, the
/// split of the file into history and label window, and customers by repeat purchases.
#[component]
fn DataCharts(s: SummaryStats) -> impl IntoView {
    let w = &s.weekly;
    if w.purchases.is_empty() {
        return ().into_any();
    }
    let weeks = w.purchases.len();
    let series = vec![
        ("purchases (customer-days)".to_string(), w.purchases.iter().map(|&n| n as f64).collect()),
        ("new customers".to_string(), w.new_customers.iter().map(|&n| n as f64).collect()),
    ];
    let last = REPEAT_BINS - 1;
    let bars: Vec<(String, f64)> = s
        .repeat_histogram
        .iter()
        .enumerate()
        .map(|(k, &n)| (if k == last { format!("{k}+") } else { k.to_string() }, n as f64))
        .collect();
    let rows = w
        .purchases
        .iter()
        .zip(&w.new_customers)
        .enumerate()
        .map(|(i, (p, n))| view! { <tr><td class="num">{(i + 1).to_string()}</td><td class="num">{format::int(*p)}</td><td class="num">{format::int(*n)}</td></tr> })
        .collect_view();
    let window_weeks = s.horizon_days as f64 / 7.0;
    view! {
        <h3>"Purchases per week"</h3>
        <p class="hint">{format!("Every customer-day with a purchase, and customers buying for the first time, per Monday–Sunday week from {}. The dashed line is the cutoff: the models learn from the weeks before it.", w.first_week)}</p>
        <LineChart id="weekly-chart" series x_label=format!("weeks from {}", w.first_week) y_label="per week".to_string() marker=(w.cutoff_week as f64 + 1.0, "cutoff") />
        <details>
            <summary>"Show as a table"</summary>
            <div class="scroll"><table id="weekly-table"><thead><tr><th>"week"</th><th>"purchases"</th><th>"new customers"</th></tr></thead><tbody>{rows}</tbody></table></div>
        </details>
        <h3>"How the file is split"</h3>
        <SplitTimeline weeks cutoff=w.cutoff_week as f64 window=window_weeks first=w.first_week.clone() cutoff_day=s.cutoff.clone() />
        <h3>"Customers by repeat purchases before the cutoff"</h3>
        <p class="hint">"How many customers bought again on 0, 1, 2, … other days up to the cutoff: most CLV data sets are dominated by one-time buyers."</p>
        <Bars id="repeat-histogram" bars x_label="repeat purchase days".to_string() y_label="customers".to_string() />
    }
    .into_any()
}

/// History up to the cutoff and the label window after it, on the file's weeks.
#[component]
fn SplitTimeline(weeks: usize, cutoff: f64, window: f64, first: String, cutoff_day: String) -> impl IntoView {
    let (width, left, right) = (640.0, 8.0, 8.0);
    let x = move |w: f64| left + (width - left - right) * (w / weeks.max(1) as f64).clamp(0.0, 1.0);
    let end = cutoff + 1.0 + window;
    let beyond = end > weeks as f64;
    view! {
        <figure class="chart" id="split-timeline">
            <svg viewBox=format!("0 0 {width} 64") role="img" aria-label="history up to the cutoff, then the label window">
                <rect x=x(0.0) y=8 width=x(cutoff + 1.0) - x(0.0) height=18 fill=PALETTE[1]><title>"history the models learn from"</title></rect>
                <rect x=x(cutoff + 1.0) y=8 width=x(end) - x(cutoff + 1.0) height=18 fill=PALETTE[2]><title>"label window"</title></rect>
                <text x=x(0.0) y=42 class="tick">{first}</text>
                <text x=x(cutoff + 1.0) y=42 text-anchor="middle" class="tick">{format!("cutoff {cutoff_day}")}</text>
                <text x=x(weeks as f64) y=58 text-anchor="end" class="tick">{if beyond { "the label window runs past the data" } else { "end of data" }}</text>
            </svg>
            <figcaption class="legend">
                <span class="key"><i class="c1"></i>"history the models learn from"</span>
                <span class="key"><i class="c2"></i>"label window (what the features predict)"</span>
            </figcaption>
        </figure>
    }
}
