//! The browser app: a thin Leptos page and a Web Worker around `clv-core`.
//!
//! - [`ui`] — components (page side, main thread);
//! - [`session`] — the page's handle on the worker and the signals its replies feed;
//! - [`protocol`] — the messages crossing the worker boundary;
//! - [`recovery`] — what the page keeps to rebuild a worker that died, and how it says so;
//! - [`worker`], [`blob_reader`] — the worker side: reads the `File` in slices, runs the core;
//! - [`analysis`], [`cohort_analysis`] — pure functions the worker runs over the core (tested natively).

pub mod analysis;
pub mod blob_reader;
pub mod cohort_analysis;
pub mod protocol;
pub mod recovery;
pub mod session;
pub mod ui;
pub mod worker;

pub use ui::App;

/// Show panics in the page (and the console), so a bug never looks like a frozen page.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let doc = web_sys::window().and_then(|w| w.document());
        if let Some(el) = doc.as_ref().and_then(|d| d.get_element_by_id("fatal")) {
            el.set_text_content(Some(&format!(
                "Internal error (a bug, not your data's fault): {info}. Reload the page to start again."
            )));
            let _ = el.set_attribute("class", "fatal shown");
        }
    }));
}
