//! The browser app: a thin Leptos page and a Web Worker around `clv-core`.
//!
//! Each file's side of the boundary is in its path:
//! - [`page`] — the main thread: [`page::ui`] components, [`page::session`] (the page's handle on the
//!   worker and the signals its replies feed), [`page::recovery`] (what the page keeps to rebuild a
//!   worker that died, and how it says so);
//! - [`protocol`] — the messages crossing the boundary, shared by both sides;
//! - [`worker`] — the Web Worker: [`worker::blob_reader`] reads the `File` in slices,
//!   [`worker::analysis`] and [`worker::cohort_analysis`] are the pure functions it runs over the core
//!   (tested natively);
//! - [`widget`] — the embeddable `<clv-widget>`: the lesson's steps the tab computes itself, in its own
//!   small binary.

pub mod page;
pub mod protocol;
pub mod widget;
pub mod worker;

pub use page::ui::App;

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
