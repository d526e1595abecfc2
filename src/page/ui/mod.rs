//! Page components. Each panel owns the signals it alone uses; the shared
//! ones live in [`Session`] (what the worker reports) and are passed down.

pub mod chart_tools;
pub mod charts;
mod cohorts;
mod customers;
pub mod explore;
pub mod format;
pub mod glossary;
mod holdout;
pub mod learn;
pub(crate) mod load;
mod models;
mod pick;
mod progress;
mod report;
pub mod settings;
mod summary;
mod value;

use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::page::task::TaskStatus;
use clv_core::ingest::Sniffed;
use leptos::prelude::*;
use web_sys::Blob;

/// The file chosen but not yet analysed (name, contents).
pub type PendingFile = StoredValue<Option<(String, Blob)>, LocalStorage>;

pub const PRODUCT: &str = "CLV Lab";

#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    let pending: PendingFile = StoredValue::new_local(None);
    let sniffed = RwSignal::new(None::<Sniffed>);
    warn_before_leaving_while_working(session);
    keep_focus_on_results(session);
    let settings = settings::Settings::from_url();
    // Value & segments → Customers: "show these customers" filters the table by a segment.
    let segment_filter = RwSignal::new(None::<(String, String)>);
    settings.sync_url();
    // A link to a view: go there once the data's summary is shown (the lesson needs no data).
    let linked_view = settings.view.get_untracked();
    if linked_view == settings::View::Learn {
        request_animation_frame(move || settings.go(linked_view));
    }
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) || !session.summary.has_value() {
            return done.unwrap_or(false);
        }
        if linked_view != settings::View::Data {
            request_animation_frame(move || settings.go(linked_view));
        }
        true
    });
    view! {
        <header class="top">
            <h1>{PRODUCT}</h1>
            <p class="tagline">"Your data never leaves this browser tab."</p>
        </header>
        <main>
            <div id="fatal" class="fatal" role="alert"></div>
            <load::LoadPanel session pending sniffed />
            <load::MappingPanel session pending sniffed />
            <progress::ProgressPanel session />
            <Messages session />
            <report::ReportPanel session />
            <settings::SettingsBar session settings />
            <summary::SummaryPanel session settings />
            <models::ModelsPanel session settings />
            <holdout::HoldoutPanel session settings />
            <explore::ExplorePanel session />
            <customers::CustomerTable session segment_filter />
            <value::ValuePanel session settings segment_filter />
            <cohorts::CohortsPanel session settings />
            <learn::LearnPanel session settings />
            <glossary::Glossary />
        </main>
        <footer>
            "Everything runs in this tab: Rust compiled to WebAssembly, in a Web Worker. No uploads, no analytics, no network."
        </footer>
    }
}

/// Leaving (reload, close, another address) while a file is read or a fit runs loses that
/// work: the browser asks first. Idle, the page leaves without asking (nothing is stored).
/// When a result arrives, focus goes to its first line if it was on the button that asked for it
/// or lost to the page (a button disabled while its work runs loses it) — not when the user has
/// moved on to something else.
fn keep_focus_on_results(session: Session) {
    fn focus_when_lost(trigger: &'static str, id: &'static str) {
        request_animation_frame(move || {
            let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
            let lost =
                doc.active_element().is_none_or(|a| a.tag_name().eq_ignore_ascii_case("body") || a.id() == trigger);
            if let (true, Some(el)) = (lost, doc.get_element_by_id(id)) {
                let _ = el.set_attribute("tabindex", "-1");
                if let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el) {
                    let _ = el.focus();
                }
            }
        });
    }
    let on_result = |has: fn(Session) -> bool, trigger: &'static str, id: &'static str| {
        Effect::new(move |before: Option<bool>| {
            let now = has(session);
            if before == Some(false) && now {
                focus_when_lost(trigger, id);
            }
            now
        });
    };
    on_result(|s| s.models.has_value() && !s.models.is_pending(), "fit-models", "models-summary");
    on_result(|s| s.holdout.has_value() && !s.holdout.is_pending(), "evaluate", "holdout-summary");
    on_result(|s| s.cohorts.has_value() && !s.cohorts.is_pending(), "build-cohorts", "cohort-summary");
}

fn warn_before_leaving_while_working(session: Session) {
    use wasm_bindgen::JsCast;
    let warn = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(
        move |ev: web_sys::BeforeUnloadEvent| {
            if session.busy() || session.load.is_pending() {
                ev.prevent_default();
                ev.set_return_value("Work is running in this tab; leaving stops it.");
            }
        },
    );
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("beforeunload", warn.as_ref().unchecked_ref());
    }
    warn.forget();
}

/// Mounts its children one task after it is mounted itself. A result that makes several panels
/// appear (the summary shows Data, Fit and Accuracy at once) then renders them in several short
/// tasks instead of one long one that blocks the page: building the DOM, not computing, is what
/// takes the time there (one 80 ms task before, 4 tasks of ≤ 25 ms after, in a debug-named build).
#[component]
pub fn Later(children: ChildrenFn) -> impl IntoView {
    let ready = RwSignal::new(false);
    // `try_set`: the owner may be gone (the panel replaced again) before the task runs.
    set_timeout(
        move || {
            let _ = ready.try_set(true);
        },
        std::time::Duration::ZERO,
    );
    move || ready.get().then(|| children())
}

/// A view that needs dated purchases, when the data are a summary file: its section (so links to
/// the view still land) says why it is empty and what would fill it.
#[component]
pub fn NeedsTransactions(session: Session, id: &'static str, title: &'static str, why: &'static str) -> impl IntoView {
    view! {
        <Show when=move || session.has_summary_file()>
            <section id=id class="panel">
                <h2>{title}</h2>
                <p id=format!("{id}-needs-transactions") class="notice">
                    {why} " A summary file has one row per customer and no purchase dates: load the transactions themselves (one row per purchase) for this view."
                </p>
            </section>
        </Show>
    }
}

/// A panel's request, next to the control that made it: while it runs,
/// what the worker is doing (and, for a long job, a way to stop it —
/// `#<name>-work`, `#<name>-cancel`); when it failed, why (`#<name>-error`).
///
/// Takes any [`Task`] (`task=session.models`) through [`TaskStatus`], so the
/// component is compiled once, not once per result type.
#[component]
pub fn TaskNote(
    session: Session,
    #[prop(into)] task: TaskStatus,
    name: &'static str,
    #[prop(optional)] cancel: bool,
) -> impl IntoView {
    let stop = cancel.then(|| Callback::new(move |_| session.cancel()));
    view! { <TaskLine task name stop /> }
}

/// [`TaskNote`]'s words, for any runner of a task (the page's worker, or a widget's own): what it
/// is doing, with a Cancel button when `stop` is given, or why it failed.
#[component]
pub fn TaskLine(
    #[prop(into)] task: TaskStatus,
    name: &'static str,
    #[prop(optional_no_strip)] stop: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        {move || task.pending.get().map(|status| {
            let stop = stop.map(|stop| view! {
                <button id=format!("{name}-cancel") class="button secondary" on:click=move |_| stop.run(())>"Cancel"</button>
            });
            view! {
                <div id=format!("{name}-work") class="notice work" role="status">
                    <span class="spinner"></span>
                    <span class="work-text">{status}</span>
                    {stop}
                </div>
            }
        })}
        {move || task.error.get().map(|e| view! { <p id=format!("{name}-error") class="error panel-error" role="alert">{e}</p> })}
    }
}

/// What happened to this panel's request when the worker died or was
/// cancelled, and whether the data came back — said next to the action.
#[component]
pub fn OutageNote(session: Session, panel: Panel) -> impl IntoView {
    move || {
        session.outage.get().filter(|o| o.panel == panel).map(|o| {
            let class = if o.failed { "error outage" } else { "notice outage" };
            view! { <p id=panel.note_id() class=class role="alert">{o.text()}</p> }
        })
    }
}

#[component]
fn Messages(session: Session) -> impl IntoView {
    view! {
        // The page's own problems, and a file that could not be read.
        {move || session.error.get().or_else(|| session.load.error()).map(|e| view! { <div id="error" class="error" role="alert">{e}</div> })}
        {move || session.notice.get().map(|n| view! { <div id="notice" class="notice">{n}</div> })}
    }
}
