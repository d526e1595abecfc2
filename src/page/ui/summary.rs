//! Cutoff, horizon and time unit; the BTYD summary they give; exports.

use super::format;
use super::settings::{default_cutoff, Settings};
use super::{OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::protocol::{ExportKind, SummaryStats};
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
        <div class="scroll"><table id="summary-preview">
            <thead><tr><th>"user"</th><th>"frequency"</th><th>{format!("recency ({u}s)")}</th><th>{format!("T ({u}s)")}</th><th>"monetary value"</th></tr></thead>
            <tbody>{preview}</tbody>
        </table></div>
    }
}
