//! Cutoff, horizon and time unit; the BTYD summary they give; exports.

use super::format;
use super::OutageNote;
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::protocol::{ExportKind, SummaryRequest, SummaryStats};
use clv_core::time::{format_day, parse_day, TimeUnit};
use leptos::prelude::*;

pub const HORIZONS: [i64; 4] = [30, 90, 180, 365];

/// Default cutoff: the last day of data minus the horizon, so the label
/// window is fully observed (never before the first day).
pub fn default_cutoff(first: &str, last: &str, horizon_days: i64) -> Option<String> {
    let first = parse_day(first.get(..10)?).ok()?;
    let last = parse_day(last.get(..10)?).ok()?;
    Some(format_day((last - horizon_days).max(first)))
}

/// Cutoff, horizon and unit: chosen here, used by the summary, the models
/// and the holdout panels.
#[derive(Clone, Copy)]
pub struct Settings {
    pub cutoff: RwSignal<String>,
    pub horizon: RwSignal<i64>,
    pub unit: RwSignal<TimeUnit>,
}

impl Settings {
    pub fn new() -> Settings {
        Settings {
            cutoff: RwSignal::new(String::new()),
            horizon: RwSignal::new(90),
            unit: RwSignal::new(TimeUnit::Week),
        }
    }

    pub fn request(&self) -> SummaryRequest {
        SummaryRequest {
            cutoff: self.cutoff.get_untracked(),
            horizon_days: self.horizon.get_untracked(),
            unit: self.unit.get_untracked(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::new()
    }
}

#[component]
pub fn SummaryPanel(session: Session, settings: Settings) -> impl IntoView {
    let Settings { cutoff, horizon, unit } = settings;
    let request = move || settings.request();
    // A new report: propose a cutoff and compute once.
    Effect::new(move |_| {
        if let Some((_, r)) = session.report.get() {
            if let Some(c) = r
                .first_ts
                .as_deref()
                .zip(r.last_ts.as_deref())
                .and_then(|(a, b)| default_cutoff(a, b, horizon.get_untracked()))
            {
                cutoff.set(c);
                session.summarise(request());
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
        if first.is_some() && !cutoff.get_untracked().is_empty() && session.summary.with_untracked(Option::is_some) {
            session.summarise(request());
        }
    });
    let compute = move |_| session.summarise(request());
    view! {
        <Show when=move || session.report.with(|r| r.as_ref().is_some_and(|(_, r)| r.accepted > 0))>
            <section id="summary" class="panel">
                <h2>"Customers at a cutoff"</h2>
                <p class="hint">
                    "Features use only transactions on or before the cutoff; the label is net revenue in the horizon after it."
                </p>
                <div class="controls">
                    <label>"Cutoff " <input id="cutoff" type="date" prop:value=move || cutoff.get() on:change=move |ev| cutoff.set(event_target_value(&ev)) /></label>
                    <label>"Horizon "
                        <select id="horizon" on:change=move |ev| horizon.set(event_target_value(&ev).parse().unwrap_or(90))>
                            {HORIZONS.map(|h| view! { <option value=h.to_string() prop:selected=move || horizon.get() == h>{format!("{h} days")}</option> })}
                        </select>
                    </label>
                    <label>"Time unit "
                        <select id="unit" on:change=move |ev| unit.set(event_target_value(&ev).parse().unwrap_or_default())>
                            <option value="day" prop:selected=move || unit.get() == TimeUnit::Day>"days"</option>
                            <option value="week" prop:selected=move || unit.get() == TimeUnit::Week>"weeks"</option>
                            <option value="month" prop:selected=move || unit.get() == TimeUnit::Month>"months"</option>
                        </select>
                    </label>
                    <button id="compute" class="button" on:click=compute disabled=move || session.summary_busy.get()>"Compute"</button>
                </div>
                <OutageNote session panel=Panel::Summary />
                {move || session.summary.get().map(|s| view! { <Stats s /> })}
                <div class="exports">
                    <button id="export-summary" class="button secondary" on:click=move |_| session.export(ExportKind::Summary, request())>"Download summary CSV"</button>
                    <button id="export-features" class="button secondary" on:click=move |_| session.export(ExportKind::Features, request())>"Download features CSV"</button>
                </div>
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
        <table id="summary-preview">
            <thead><tr><th>"user"</th><th>"frequency"</th><th>{format!("recency ({u}s)")}</th><th>{format!("T ({u}s)")}</th><th>"monetary value"</th></tr></thead>
            <tbody>{preview}</tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cutoff_leaves_room_for_the_horizon() {
        assert_eq!(default_cutoff("1997-01-01T00:00:00Z", "1998-06-30T00:00:00Z", 90).as_deref(), Some("1998-04-01"));
        assert_eq!(default_cutoff("1998-06-01T00:00:00Z", "1998-06-30T00:00:00Z", 90).as_deref(), Some("1998-06-01"));
        assert_eq!(default_cutoff("x", "y", 90), None);
    }
}
