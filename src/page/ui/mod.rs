//! Page components. Each panel owns the signals it alone uses; the shared
//! ones live in [`Session`] (what the worker reports) and are passed down.

pub mod charts;
mod cohorts;
mod customers;
pub mod format;
mod holdout;
mod load;
mod models;
mod progress;
mod report;
mod summary;

use crate::page::recovery::Panel;
use crate::page::session::Session;
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
    let settings = summary::Settings::new();
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
            <summary::SummaryPanel session settings />
            <WorkBanner session />
            <models::ModelsPanel session settings />
            <customers::CustomerTable session />
            <holdout::HoldoutPanel session settings />
            <cohorts::CohortsPanel session settings />
        </main>
        <footer>
            "Everything runs in this tab: Rust compiled to WebAssembly, in a Web Worker. No uploads, no analytics, no network."
        </footer>
    }
}

/// A long job in the worker: what it is doing, and a way to stop it.
#[component]
fn WorkBanner(session: Session) -> impl IntoView {
    move || {
        session.work.get().map(|w| {
            view! {
                <div id="work" class="notice work">
                    <span class="spinner"></span>
                    <span id="work-text">{w}</span>
                    <button id="cancel-work" class="button secondary" on:click=move |_| session.cancel()>"Cancel"</button>
                </div>
            }
        })
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
        {move || session.error.get().map(|e| view! { <div id="error" class="error" role="alert">{e}</div> })}
        {move || session.notice.get().map(|n| view! { <div id="notice" class="notice">{n}</div> })}
    }
}
