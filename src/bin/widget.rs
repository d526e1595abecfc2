//! The embeddable widget's binary: only the lesson's steps (see `clv_app::widget`).
//! `www/clv-widget.js` loads it when a `<clv-widget>` scrolls into view and calls `mount` once per
//! widget; `www/widget-worker.js` loads the same files in a module worker and calls `simulate` and
//! `donations` for the steps that fit models.
use wasm_bindgen::prelude::*;

/// Render `view` with `params` (and `model`) into `parent`, an element of the widget's shadow root;
/// `base` is the URL of the folder the widget's files are in.
#[wasm_bindgen]
pub fn mount(parent: web_sys::HtmlElement, view: String, params: String, model: String, base: String) {
    clv_app::widget::mount(parent, &view, &params, &model, &base);
}

/// The lesson's simulation for a `LessonRequest` (in the widget's worker).
#[wasm_bindgen]
pub fn simulate(request: JsValue) -> Result<JsValue, JsValue> {
    clv_app::widget::simulate(request)
}

/// The donations fitted by BG/BB (in the widget's worker).
#[wasm_bindgen]
pub fn donations() -> Result<JsValue, JsValue> {
    clv_app::widget::donations()
}

fn main() {
    console_error_panic_hook::set_once();
}
