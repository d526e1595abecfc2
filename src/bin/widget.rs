//! The embeddable widget's binary: only the lesson's steps (see `clv_app::widget`).
//! `www/clv-widget.js` loads it when a `<clv-widget>` scrolls into view and calls `mount` once per
//! widget. The steps that fit models ask the `widget_lesson` binary, in a worker.
use wasm_bindgen::prelude::*;

/// Render `view` with `params` (and `model`) into `parent`, an element of the widget's shadow root;
/// `base` is the URL of the folder the widget's files are in.
#[wasm_bindgen]
pub fn mount(parent: web_sys::HtmlElement, view: String, params: String, model: String, base: String) {
    clv_app::widget::mount(parent, &view, &params, &model, &base);
}

fn main() {
    console_error_panic_hook::set_once();
}
