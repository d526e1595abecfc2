//! The running ingest: bytes read of total, percent, rows so far, Cancel.

use super::format;
use crate::page::session::Session;
use leptos::prelude::*;

#[component]
pub fn ProgressPanel(session: Session) -> impl IntoView {
    let pct = move || session.progress.get().map_or(0.0, |p| format::percent(p.bytes, p.total));
    let text = move || {
        session.progress.get().map_or_else(String::new, |p| {
            format!(
                "{} of {} read ({:.0}%) · {} rows so far",
                format::bytes(p.bytes),
                format::bytes(p.total),
                format::percent(p.bytes, p.total),
                format::int(p.rows as u64)
            )
        })
    };
    view! {
        <Show when=move || session.load.is_pending()>
            <section id="progress" class="panel progress">
                <progress max="100" value=move || pct().to_string()></progress>
                <span id="progress-text">{text}</span>
                <button id="cancel" class="button secondary" on:click=move |_| session.cancel()>"Cancel"</button>
            </section>
        </Show>
    }
}
