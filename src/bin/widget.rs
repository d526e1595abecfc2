//! The embeddable widget's binary: only the lesson (see `clv_app::widget`). `www/clv-widget.js`
//! loads it when a `<clv-widget>` scrolls into view and calls `mount` once per widget; the steps
//! that fit models (the simulation, the donations) call `simulate` and `donations` in the widget's
//! worker (`www/widget-worker.js`), which runs this same compiled module — one download for both.
use wasm_bindgen::prelude::*;

/// Render `view` with `params` (and `model`) into `parent`, an element of the widget's shadow root;
/// `base` is the URL of the folder the widget's files are in.
#[wasm_bindgen]
pub fn mount(parent: web_sys::HtmlElement, view: String, params: String, model: String, base: String) {
    clv_app::widget::mount(parent, &view, &params, &model, &base);
}

/// The lesson's simulation for a `LessonRequest`, as the page's worker runs it (in the worker).
#[wasm_bindgen]
pub fn simulate(request: JsValue) -> Result<JsValue, JsValue> {
    clv_app::widget::simulate(request)
}

/// The donations fitted by BG/BB, as the page's worker fits them (in the worker).
#[wasm_bindgen]
pub fn donations() -> Result<JsValue, JsValue> {
    clv_app::widget::donations()
}

fn main() {
    console_error_panic_hook::set_once();
}
