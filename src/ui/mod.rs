//! Page components. Each panel owns the signals it alone uses; the shared
//! ones live in [`Session`] (what the worker reports) and are passed down.

pub mod format;
mod load;
mod progress;
mod report;
mod summary;

use crate::session::Session;
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
            <summary::SummaryPanel session />
        </main>
        <footer>
            "Everything runs in this tab: Rust compiled to WebAssembly, in a Web Worker. No uploads, no analytics, no network."
        </footer>
    }
}

#[component]
fn Messages(session: Session) -> impl IntoView {
    view! {
        {move || session.error.get().map(|e| view! { <div id="error" class="error" role="alert">{e}</div> })}
        {move || session.notice.get().map(|n| view! { <div id="notice" class="notice">{n}</div> })}
    }
}
