//! Cutoff, horizon and time unit; the BTYD summary they give; exports.

use super::format;
use super::{OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::protocol::{ExportKind, SummaryRequest, SummaryStats};
use clv_core::time::{Day, Horizon, TimeUnit};
use leptos::prelude::*;

/// The horizons offered, in days.
pub const HORIZONS: [i64; 4] = [30, 90, 180, 365];

/// Default cutoff: the last day of data minus the horizon, so the label
/// window is fully observed (never before the first day).
pub fn default_cutoff(first: &str, last: &str, horizon: Horizon) -> Option<Day> {
    let first: Day = first.get(..10)?.parse().ok()?;
    let last: Day = last.get(..10)?.parse().ok()?;
    Day::from_number((last.number() - horizon.in_days()).max(first.number()))
}

/// Cutoff, horizon and unit: the one copy every panel reads and sets. Values
/// are typed where they are chosen: no cutoff is `None` (the date input was
/// cleared), never a string that might not be a date.
#[derive(Clone, Copy)]
pub struct Settings {
    pub cutoff: RwSignal<Option<Day>>,
    pub horizon: RwSignal<Horizon>,
    pub unit: RwSignal<TimeUnit>,
}

impl Settings {
    pub fn new() -> Settings {
        Settings {
            cutoff: RwSignal::new(None),
            horizon: RwSignal::new(Horizon::days(90).expect("90 days is a horizon")),
            unit: RwSignal::new(TimeUnit::Week),
        }
    }

    /// The request the settings make, once a cutoff is chosen.
    pub fn request(&self) -> Option<SummaryRequest> {
        Some(SummaryRequest {
            cutoff: self.cutoff.get_untracked()?,
            horizon: self.horizon.get_untracked(),
            unit: self.unit.get_untracked(),
        })
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::new()
    }
}

/// The one horizon control, shown in Summary and Cohorts: both show and set
/// the same [`Settings::horizon`].
#[component]
pub fn HorizonSelect(settings: Settings, id: &'static str) -> impl IntoView {
    let horizon = settings.horizon;
    let options = HORIZONS.iter().filter_map(|&d| Horizon::days(d).ok()).map(|h| {
        view! { <option value=h.in_days().to_string() prop:selected=move || horizon.get() == h>{h.to_string()}</option> }
    });
    view! {
        <select id=id on:change=move |ev| {
            if let Ok(h) = event_target_value(&ev).parse() {
                horizon.set(h);
            }
        }>
            {options.collect_view()}
        </select>
    }
}

/// A date input bound to a typed day: an empty or cleared input is `None`.
#[component]
pub fn DateInput(id: &'static str, value: Signal<Option<Day>>, set: Callback<Option<Day>>) -> impl IntoView {
    view! {
        <input id=id type="date" prop:value=move || value.get().map(|d| d.to_string()).unwrap_or_default()
            on:change=move |ev| set.run(event_target_value(&ev).parse().ok()) />
    }
}

#[component]
pub fn SummaryPanel(session: Session, settings: Settings) -> impl IntoView {
    let Settings { cutoff, horizon, unit } = settings;
    let summarise = move || {
        if let Some(r) = settings.request() {
            session.summarise(r);
        }
    };
    // A new report: propose a cutoff and compute once.
    Effect::new(move |_| {
        if let Some((_, r)) = session.load.get() {
            let proposed = r.first_ts.as_deref().zip(r.last_ts.as_deref());
            if let Some(c) = proposed.and_then(|(a, b)| default_cutoff(a, b, horizon.get_untracked())) {
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
                    <label>"Cutoff " <DateInput id="cutoff" value=cutoff.into() set=Callback::new(move |d| cutoff.set(d)) /></label>
                    <label>"Horizon " <HorizonSelect settings id="horizon" /></label>
                    <label>"Time unit "
                        <select id="unit" on:change=move |ev| unit.set(event_target_value(&ev).parse().unwrap_or_default())>
                            <option value="day" prop:selected=move || unit.get() == TimeUnit::Day>"days"</option>
                            <option value="week" prop:selected=move || unit.get() == TimeUnit::Week>"weeks"</option>
                            <option value="month" prop:selected=move || unit.get() == TimeUnit::Month>"months"</option>
                        </select>
                    </label>
                    <button id="compute" class="button" on:click=move |_| summarise() disabled=move || session.summary.is_pending() || no_cutoff()>"Compute"</button>
                </div>
                <Show when=no_cutoff><p id="cutoff-missing" class="warning" role="alert">"Choose a cutoff date: the last day of history the models may see."</p></Show>
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
        let h = Horizon::days(90).unwrap();
        let day = |s: &str| s.parse::<Day>().ok();
        assert_eq!(default_cutoff("1997-01-01T00:00:00Z", "1998-06-30T00:00:00Z", h), day("1998-04-01"));
        assert_eq!(default_cutoff("1998-06-01T00:00:00Z", "1998-06-30T00:00:00Z", h), day("1998-06-01"));
        assert_eq!(default_cutoff("x", "y", h), None);
    }
}
