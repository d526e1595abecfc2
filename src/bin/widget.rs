//! The embeddable widget's binary: only the lesson's steps the tab computes itself (see
//! `clv_app::widget`). `www/clv-widget.js` loads it when a `<clv-widget>` scrolls into view and
//! calls `mount` once per widget.
use wasm_bindgen::prelude::*;

/// Render `view` with `params` (and `model`) into `parent`, an element of the widget's shadow root.
#[wasm_bindgen]
pub fn mount(parent: web_sys::HtmlElement, view: String, params: String, model: String) {
    clv_app::widget::mount(parent, &view, &params, &model);
}

fn main() {
    console_error_panic_hook::set_once();
}
