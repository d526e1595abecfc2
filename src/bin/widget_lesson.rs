//! The widget's worker binary: the lesson steps that fit models (the simulation, the donations),
//! run by `www/widget-worker.js` in a module worker. Apart from the `widget` binary so the views
//! that fit nothing load none of the fitting code (see `clv_app::widget`).
use wasm_bindgen::prelude::*;

/// The lesson's simulation for a `LessonRequest`, as the page's worker runs it.
#[wasm_bindgen]
pub fn simulate(request: JsValue) -> Result<JsValue, JsValue> {
    clv_app::widget::simulate(request)
}

/// The donations fitted by BG/BB, as the page's worker fits them.
#[wasm_bindgen]
pub fn donations() -> Result<JsValue, JsValue> {
    clv_app::widget::donations()
}

fn main() {
    console_error_panic_hook::set_once();
}
