//! The settings bar: the data, cutoff, horizon, time unit and discount rate
//! every view reads, and links to the views. The settings and the view live in
//! the URL's fragment (`#/fit?cutoff=1997-09-30&horizon=90&unit=week&discount=10`),
//! never the data: a link or a reload restores them and asks for the file again.

use super::format;
use super::glossary::{Term, Word};
use super::learn::{LearnState, LearnStep};
use crate::page::session::{Loaded, Session};
use crate::protocol::SummaryRequest;
use clv_core::time::{Day, Horizon, TimeUnit};
use leptos::prelude::*;

/// The horizons offered, in days.
pub const HORIZONS: [i64; 4] = [30, 90, 180, 365];

/// The dates the views start from on a new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// CLV "from today": the last day of data, so the forecast starts where the data end.
    pub cutoff: Day,
    /// The Accuracy view's own calibration end: half way through the data, or one horizon
    /// before its end when the data are longer than two horizons (so the holdout is as long
    /// as the forecast it checks, and never longer than the history).
    pub calibration_end: Day,
    /// The holdout runs to the last day of data.
    pub holdout_end: Day,
}

/// The first and last day of a load report's timestamps.
pub fn data_days(first: &str, last: &str) -> Option<(Day, Day)> {
    Some((first.get(..10)?.parse().ok()?, last.get(..10)?.parse().ok()?))
}

/// The default dates for data from `first` to `last`. CDNOW's sample (1997-01-01 to
/// 1998-06-30) splits at 1997-09-30, Fader, Hardie & Lee's 39-week calibration.
pub fn default_split(first: Day, last: Day, horizon: Horizon) -> Split {
    let (a, b) = (first.number(), last.number());
    let calibration = (a + (b - a) / 2).max(b - horizon.in_days());
    Split { cutoff: last, calibration_end: Day::from_number(calibration).unwrap_or(first), holdout_end: last }
}

/// The dates a link asked for, each kept when the data reach it, else the default; and the
/// names of those that were not (to say so).
pub fn linked_split(link: &UrlState, first: Day, last: Day, horizon: Horizon) -> (Split, Vec<&'static str>) {
    let default = default_split(first, last, horizon);
    let mut outside = Vec::new();
    let mut pick = |asked: Option<Day>, fallback: Day, name: &'static str| match asked {
        Some(d) if first <= d && d <= last => d,
        Some(_) => {
            outside.push(name);
            fallback
        }
        None => fallback,
    };
    let cutoff = pick(link.cutoff, default.cutoff, "cutoff");
    let calibration_end = pick(link.calibration_end, default.calibration_end, "calibration end");
    let holdout_end = pick(link.holdout_end, default.holdout_end, "holdout end");
    let split = if calibration_end < holdout_end {
        Split { cutoff, calibration_end, holdout_end }
    } else {
        Split { cutoff, ..default }
    };
    (split, outside)
}

/// The views of the workbench, in the order of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Data,
    Fit,
    Accuracy,
    Explore,
    Customers,
    Value,
    Cohorts,
    Learn,
}

impl View {
    pub const ALL: [View; 8] = [
        View::Data,
        View::Fit,
        View::Accuracy,
        View::Explore,
        View::Customers,
        View::Value,
        View::Cohorts,
        View::Learn,
    ];

    /// Its name in the URL.
    pub fn code(self) -> &'static str {
        match self {
            View::Data => "data",
            View::Fit => "fit",
            View::Accuracy => "accuracy",
            View::Explore => "explore",
            View::Customers => "customers",
            View::Value => "value",
            View::Cohorts => "cohorts",
            View::Learn => "learn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            View::Data => "Data",
            View::Fit => "Fit & compare",
            View::Accuracy => "Accuracy",
            View::Explore => "Frequency × recency",
            View::Customers => "Customers",
            View::Value => "Value & segments",
            View::Cohorts => "Cohorts",
            View::Learn => "Learn",
        }
    }

    /// The id of the section that shows it.
    pub fn section(self) -> &'static str {
        match self {
            View::Data => "summary",
            View::Fit => "models",
            View::Accuracy => "holdout",
            View::Explore => "explore",
            View::Customers => "customers",
            View::Value => "value",
            View::Cohorts => "cohorts",
            View::Learn => "learn",
        }
    }

    fn from_code(code: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.code() == code)
    }
}

/// What the URL's fragment holds: each part only when it is valid (a
/// hand-edited link with a bad value keeps the default for that part).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UrlState {
    pub view: Option<View>,
    pub cutoff: Option<Day>,
    pub horizon: Option<Horizon>,
    pub unit: Option<TimeUnit>,
    /// Annual discount rate in percent.
    pub discount: Option<f64>,
    /// The Accuracy view's split.
    pub calibration_end: Option<Day>,
    pub holdout_end: Option<Day>,
    /// The lesson's inputs (only in a link to the Learn view).
    pub learn: Option<LearnState>,
    /// The lesson's step a link points at (`step=simulate`).
    pub step: Option<LearnStep>,
}

impl UrlState {
    /// From a fragment such as `#/fit?cutoff=1997-09-30&horizon=90`.
    pub fn parse(fragment: &str) -> UrlState {
        let body = fragment.trim_start_matches('#').trim_start_matches('/');
        let (view, query) = body.split_once('?').unwrap_or((body, ""));
        let mut s = UrlState { view: View::from_code(view), ..UrlState::default() };
        for (key, value) in query.split('&').filter_map(|p| p.split_once('=')) {
            match key {
                "cutoff" => s.cutoff = value.parse().ok(),
                "horizon" => s.horizon = value.parse().ok(),
                "unit" => s.unit = value.parse().ok(),
                "calibration" => s.calibration_end = value.parse().ok(),
                "holdout_end" => s.holdout_end = value.parse().ok(),
                "step" => s.step = LearnStep::from_code(value),
                _ if LearnState::KEYS.contains(&key) => {
                    _ = s.learn.get_or_insert_with(LearnState::default).set(key, value)
                }
                "discount" => {
                    s.discount = value.parse().ok().filter(|d: &f64| d.is_finite() && (0.0..=100.0).contains(d))
                }
                _ => {}
            }
        }
        s
    }

    /// The fragment, every part given.
    pub fn fragment(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.cutoff {
            parts.push(format!("cutoff={c}"));
        }
        if let Some(h) = self.horizon {
            parts.push(format!("horizon={}", h.in_days()));
        }
        if let Some(u) = self.unit {
            parts.push(format!("unit={}", u.name()));
        }
        if let Some(d) = self.discount {
            parts.push(format!("discount={d}"));
        }
        if let Some(c) = self.calibration_end {
            parts.push(format!("calibration={c}"));
        }
        if let Some(h) = self.holdout_end {
            parts.push(format!("holdout_end={h}"));
        }
        if let Some(l) = self.learn {
            parts.extend(l.pairs());
        }
        if let Some(step) = self.step {
            parts.push(format!("step={}", step.code()));
        }
        format!("#/{}?{}", self.view.unwrap_or(View::Data).code(), parts.join("&"))
    }
}

/// Cutoff, horizon, unit and discount rate: the one copy every view reads and
/// sets. Values are typed where they are chosen: no cutoff is `None` (the date
/// input was cleared), never a string that might not be a date.
#[derive(Clone, Copy)]
pub struct Settings {
    pub cutoff: RwSignal<Option<Day>>,
    pub horizon: RwSignal<Horizon>,
    pub unit: RwSignal<TimeUnit>,
    /// Annual discount rate in percent.
    pub discount: RwSignal<f64>,
    /// The view last chosen.
    pub view: RwSignal<View>,
    /// The Accuracy view's split: fit up to `calibration_end`, check the predictions against
    /// what happened up to `holdout_end`. Its own dates, so the forecast can start at the end
    /// of the data while the check still has a holdout.
    pub calibration_end: RwSignal<Option<Day>>,
    pub holdout_end: RwSignal<Option<Day>>,
    /// The dates that came with the link, to use once data arrive (if the data reach them).
    pub linked: StoredValue<Option<UrlState>>,
    /// The lesson's inputs.
    pub learn: RwSignal<LearnState>,
    /// The lesson's step last worked on (or linked to).
    pub learn_step: RwSignal<Option<LearnStep>>,
    /// A summary file is loaded: its times are in this unit (said when it was loaded), and there
    /// is no cutoff — its T already ends at its own.
    pub file_unit: RwSignal<Option<TimeUnit>>,
}

/// What a fit is made from: the transactions up to `cutoff`, or (`cutoff` `None`) a summary file;
/// CLV over `horizon`, times in `unit`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitTarget {
    pub cutoff: Option<Day>,
    pub horizon: Horizon,
    pub unit: TimeUnit,
}

impl FitTarget {
    /// In words, for a stale note.
    pub fn describe(&self) -> String {
        let data = self.cutoff.map_or("the summary file".to_string(), |c| format!("cutoff {c}"));
        format!("{data}, horizon {}, times in {}s", self.horizon, self.unit.name())
    }
}

impl Settings {
    pub fn new() -> Settings {
        Settings {
            cutoff: RwSignal::new(None),
            horizon: RwSignal::new(Horizon::days(365).expect("365 days is a horizon")),
            unit: RwSignal::new(TimeUnit::Week),
            discount: RwSignal::new(10.0),
            view: RwSignal::new(View::Data),
            calibration_end: RwSignal::new(None),
            holdout_end: RwSignal::new(None),
            linked: StoredValue::new(None),
            learn: RwSignal::new(LearnState::default()),
            learn_step: RwSignal::new(None),
            file_unit: RwSignal::new(None),
        }
    }

    /// Settings from the page's URL, falling back to the defaults part by part.
    pub fn from_url() -> Settings {
        let s = Settings::new();
        let fragment = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
        let url = UrlState::parse(&fragment);
        url.horizon.into_iter().for_each(|h| s.horizon.set(h));
        url.unit.into_iter().for_each(|u| s.unit.set(u));
        url.discount.into_iter().for_each(|d| s.discount.set(d));
        url.view.into_iter().for_each(|v| s.view.set(v));
        url.learn.into_iter().for_each(|l| s.learn.set(l));
        url.step.into_iter().for_each(|l| s.learn_step.set(Some(l)));
        s.linked.set_value(Some(url));
        s
    }

    /// A summary file was loaded: no cutoff, and its unit for every time.
    pub fn adopt_summary_file(&self, unit: TimeUnit) {
        self.file_unit.set(Some(unit));
        self.unit.set(unit);
        self.cutoff.set(None);
        self.calibration_end.set(None);
        self.holdout_end.set(None);
    }

    /// What a fit would be made from now (tracked): `None` while transactions have no cutoff.
    pub fn fit_target(&self) -> Option<FitTarget> {
        let (horizon, file_unit) = (self.horizon.get(), self.file_unit.get());
        match file_unit {
            Some(unit) => Some(FitTarget { cutoff: None, horizon, unit }),
            None => Some(FitTarget { cutoff: Some(self.cutoff.get()?), horizon, unit: self.unit.get() }),
        }
    }

    /// Take a new file's dates: the link's where the data reach them, else the defaults (the
    /// link is used once). A notice names the link's dates that were not used.
    pub fn adopt_data(&self, first: Day, last: Day) -> Option<String> {
        self.file_unit.set(None);
        let link = self.linked.get_value().unwrap_or_default();
        self.linked.set_value(None);
        let (split, outside) = linked_split(&link, first, last, self.horizon.get_untracked());
        self.cutoff.set(Some(split.cutoff));
        self.calibration_end.set(Some(split.calibration_end));
        self.holdout_end.set(Some(split.holdout_end));
        (!outside.is_empty()).then(|| {
            format!(
                "The link's {} {} outside this file's dates ({first} to {last}): the default is used instead.",
                outside.join(" and "),
                if outside.len() == 1 { "is" } else { "are" }
            )
        })
    }

    /// What the URL should say now.
    fn url_state(&self) -> UrlState {
        let link = self.linked.get_value().unwrap_or_default();
        UrlState {
            view: Some(self.view.get()),
            cutoff: self.cutoff.get().or(link.cutoff),
            horizon: Some(self.horizon.get()),
            unit: Some(self.unit.get()),
            discount: Some(self.discount.get()),
            calibration_end: self.calibration_end.get().or(link.calibration_end),
            holdout_end: self.holdout_end.get().or(link.holdout_end),
            learn: (self.view.get() == View::Learn).then(|| self.learn.get()),
            step: (self.view.get() == View::Learn).then(|| self.learn_step.get()).flatten(),
        }
    }

    /// Keep the URL's fragment equal to the settings (replacing the entry: no
    /// history step per change).
    pub fn sync_url(self) {
        Effect::new(move |_| {
            let fragment = self.url_state().fragment();
            // In a task of its own, and only when the fragment changes: replaceState is a synchronous
            // call to the browser process, which took 24 ms while the worker loaded 1M customers —
            // added to the task that renders the new data, it made that task a long one.
            set_timeout(
                move || {
                    let Some(window) = web_sys::window() else { return };
                    if window.location().hash().ok().as_deref() == Some(fragment.as_str()) {
                        return;
                    }
                    if let Ok(history) = window.history() {
                        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&fragment));
                    }
                },
                std::time::Duration::ZERO,
            );
        });
    }

    /// The request the settings make, once a cutoff is chosen.
    pub fn request(&self) -> Option<SummaryRequest> {
        Some(SummaryRequest {
            cutoff: self.cutoff.get_untracked()?,
            horizon: self.horizon.get_untracked(),
            unit: self.unit.get_untracked(),
        })
    }

    /// The same, tracked: for views that compare their result with the settings shown.
    pub fn current(&self) -> Option<SummaryRequest> {
        Some(SummaryRequest { cutoff: self.cutoff.get()?, horizon: self.horizon.get(), unit: self.unit.get() })
    }

    /// Show a view: remember it (and so the URL) and bring its section into view, focus on its heading.
    pub fn go(&self, view: View) {
        self.view.set(view);
        match (view, self.learn_step.get_untracked()) {
            (View::Learn, Some(step)) => show_section(step.id(), 0),
            _ => show_section(view.section(), 0),
        }
    }
}

/// Scrolls to a view's section (or a lesson's step) and moves focus to its heading. A section that results have just
/// made appear is mounted a task later (`Later`), so one not there yet is looked for again
/// after each of the next few tasks.
fn show_section(id: &'static str, tries: u32) {
    let doc = web_sys::window().and_then(|w| w.document());
    let section = doc.and_then(|d| d.get_element_by_id(id));
    // Its heading may be mounted a task after the section itself (a lesson step's content).
    let heading = section.as_ref().and_then(|s| s.query_selector("h2, h3").ok().flatten());
    let (Some(section), Some(h)) = (section, heading) else {
        if tries < 20 {
            set_timeout(move || show_section(id, tries + 1), std::time::Duration::from_millis(5));
        }
        return;
    };
    section.scroll_into_view();
    let _ = h.set_attribute("tabindex", "-1");
    if let Ok(h) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(h) {
        let _ = h.focus();
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::new()
    }
}

/// Results computed with other settings than the bar shows: said, with a way
/// to recompute, never relabelled as the current settings'.
#[component]
pub fn StaleNote(
    id: &'static str,
    /// The settings the result was computed with, if it differs from the bar.
    stale: Signal<Option<String>>,
    recompute: Callback<()>,
) -> impl IntoView {
    move || {
        stale.get().map(|was| {
            view! {
                <p id=id class="notice stale" role="status">
                    {format!("These results are for {was}, not the settings above. ")}
                    <button class="button secondary" on:click=move |_| recompute.run(())>"Recompute"</button>
                </p>
            }
        })
    }
}

/// The one horizon control, shown in the bar and in Cohorts: both show and set
/// the same [`Settings::horizon`].
#[component]
pub fn HorizonSelect(settings: Settings, id: &'static str) -> impl IntoView {
    let horizon = settings.horizon;
    let options = HORIZONS.iter().filter_map(|&d| Horizon::days(d).ok()).map(|h| {
        let months = match h.in_days() {
            365 => " (12 months)".to_string(),
            d => format!(" ({} months)", d / 30),
        };
        view! { <option value=h.in_days().to_string() prop:selected=move || horizon.get() == h>{format!("{h}{months}")}</option> }
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

/// The bar above the views: what data, which settings, and where to go.
#[component]
pub fn SettingsBar(session: Session, settings: Settings) -> impl IntoView {
    let Settings { cutoff, unit, discount, view, file_unit, .. } = settings;
    let data = move || {
        session.load.with(|l| {
            l.map(|(name, loaded)| match loaded {
                Loaded::Transactions(r) => {
                    let currency = r.currency.clone().map(|c| format!(" · {c}")).unwrap_or_default();
                    format!("{name} · {} customers{currency}", format::int(r.customers))
                }
                Loaded::Summary(f) => {
                    format!("{name} · {} customers · a summary file", format::int(f.stats.customers.round() as u64))
                }
            })
        })
    };
    let has_file = move || file_unit.with(Option::is_some);
    let links = move || {
        View::ALL
            .into_iter()
            .map(|v| {
                view! {
                    <a href=format!("#/{}", v.code()) class="view-link" data-view=v.code()
                        aria-current=move || (view.get() == v).then_some("true")
                        on:click=move |ev| { ev.prevent_default(); settings.go(v) }>{v.label()}</a>
                }
            })
            .collect_view()
    };
    view! {
        <Show when=move || session.has_transactions() || session.has_summary_file()>
            <nav id="settings-bar" class="settings-bar" aria-label="Settings and views">
                <p class="bar-data" id="bar-data">{data}</p>
                <div class="controls">
                    <Show when=move || !has_file() fallback=|| view! {
                        <span id="no-cutoff" class="hint">"No cutoff: the summary file's T already ends at its own. " <Term word=Word::Cutoff help=true /></span>
                    }>
                        <span><label>"Cutoff " <DateInput id="cutoff" value=cutoff.into() set=Callback::new(move |d| cutoff.set(d)) /></label>" " <Term word=Word::Cutoff help=true /></span>
                    </Show>
                    <span><label>"Horizon " <HorizonSelect settings id="horizon" /></label>" " <Term word=Word::Horizon help=true /></span>
                    <label>"Time unit "
                        <select id="unit" disabled=has_file aria-describedby="unit-fixed" on:change=move |ev| unit.set(event_target_value(&ev).parse().unwrap_or_default())>
                            <option value="day" prop:selected=move || unit.get() == TimeUnit::Day>"days"</option>
                            <option value="week" prop:selected=move || unit.get() == TimeUnit::Week>"weeks"</option>
                            <option value="month" prop:selected=move || unit.get() == TimeUnit::Month>"months"</option>
                        </select>
                    </label>
                    <label>"Annual discount rate (%) "
                        <input id="discount" type="number" min="0" max="100" step="1" prop:value=move || discount.get().to_string()
                            on:change=move |ev| discount.set(event_target_value(&ev).parse().ok().filter(|d: &f64| d.is_finite() && (0.0..=100.0).contains(d)).unwrap_or(10.0)) />
                    </label>
                    <Term word=Word::DiscountRate help=true />
                </div>
                <Show when=has_file>
                    <p id="unit-fixed" class="hint">"The time unit is the one the summary file is written in (chosen when it was loaded)."</p>
                </Show>
                <Show when=move || cutoff.with(Option::is_none) && !has_file()>
                    <p id="cutoff-missing" class="warning" role="alert">"Choose a cutoff date: the last day of history the models may see."</p>
                </Show>
                <div class="views">{links}</div>
            </nav>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    /// Hand-computed: CDNOW's sample spans 545 days; half is 272 (1997-09-30), later than one
    /// horizon (365 days) before the end (1997-06-30). Four years of data: one horizon before.
    #[test]
    fn by_default_clv_is_from_the_end_of_data_and_the_holdout_has_its_own_split() {
        let h = Horizon::days(365).unwrap();
        let s = default_split(day("1997-01-01"), day("1998-06-30"), h);
        assert_eq!(
            s,
            Split { cutoff: day("1998-06-30"), calibration_end: day("1997-09-30"), holdout_end: day("1998-06-30") }
        );
        let long = default_split(day("2020-01-01"), day("2023-12-31"), h);
        assert_eq!((long.cutoff, long.calibration_end), (day("2023-12-31"), day("2022-12-31")));
        let one_day = default_split(day("2020-01-01"), day("2020-01-01"), h);
        assert_eq!(one_day.calibration_end, day("2020-01-01"));
        assert_eq!(
            data_days("1997-01-01T00:00:00Z", "1998-06-30T00:00:00Z"),
            Some((day("1997-01-01"), day("1998-06-30")))
        );
        assert_eq!(data_days("x", "y"), None);
    }

    #[test]
    fn a_link_s_dates_are_used_where_the_data_reach_them() {
        let h = Horizon::days(90).unwrap();
        let (a, b) = (day("1997-01-01"), day("1998-06-30"));
        let link = UrlState {
            cutoff: Some(day("1998-04-01")),
            calibration_end: Some(day("1999-01-01")),
            ..UrlState::default()
        };
        let (s, outside) = linked_split(&link, a, b, h);
        // The calibration end asked for is past the data: the default, one 90-day horizon before the end.
        assert_eq!((s.cutoff, s.calibration_end, s.holdout_end), (day("1998-04-01"), day("1998-04-01"), b));
        assert_eq!(outside, ["calibration end"]);
        // A holdout that would end before its calibration: the default split.
        let crossed = UrlState {
            calibration_end: Some(day("1998-02-01")),
            holdout_end: Some(day("1998-01-01")),
            ..UrlState::default()
        };
        assert_eq!(linked_split(&crossed, a, b, h).0, default_split(a, b, h));
    }

    #[test]
    fn the_url_holds_the_view_and_settings_and_survives_bad_parts() {
        let s = UrlState {
            view: Some(View::Accuracy),
            cutoff: "1997-09-30".parse().ok(),
            horizon: Horizon::days(365).ok(),
            unit: Some(TimeUnit::Month),
            discount: Some(12.5),
            calibration_end: "1997-06-30".parse().ok(),
            holdout_end: "1998-06-30".parse().ok(),
            learn: None,
            step: None,
        };
        let f = s.fragment();
        assert_eq!(f, "#/accuracy?cutoff=1997-09-30&horizon=365&unit=month&discount=12.5&calibration=1997-06-30&holdout_end=1998-06-30");
        assert_eq!(UrlState::parse(&f), s);
        // A hand-edited link: each bad part falls back alone.
        let bad = UrlState::parse("#/nowhere?cutoff=1997-02-30&horizon=0&unit=fortnight&discount=-5&x=1");
        assert_eq!(bad, UrlState::default());
        let partial = UrlState::parse("#/customers?unit=day");
        assert_eq!((partial.view, partial.unit, partial.cutoff), (Some(View::Customers), Some(TimeUnit::Day), None));
        assert_eq!(UrlState::parse(""), UrlState::default());
        // The lesson's inputs travel in a link to it.
        let lesson = UrlState::parse("#/learn?r=0.5&b=3&order=10&step=alive");
        assert_eq!(lesson.step, Some(LearnStep::Alive));
        assert_eq!(UrlState::parse("#/learn?step=nowhere").step, None);
        let learn = lesson.learn.expect("the lesson's keys");
        assert_eq!((learn.r, learn.b, learn.order, learn.alpha), (0.5, 3.0, 10.0, 4.4));
        assert_eq!(UrlState::parse(&lesson.fragment()), lesson);
    }
}
