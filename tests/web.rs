//! wasm-bindgen tests on the page's main thread: the app mounts and shows
//! its promise.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn app_mounts_with_its_promise() {
    leptos::mount::mount_to_body(clv_app::App);
    let doc = web_sys::window().unwrap().document().unwrap();
    let h1 = doc.query_selector("h1").unwrap().unwrap();
    assert_eq!(h1.text_content().unwrap(), clv_app::page::ui::PRODUCT);
    let tagline = doc.query_selector(".tagline").unwrap().unwrap();
    assert_eq!(tagline.text_content().unwrap(), "Your data never leaves this browser tab.");
    assert!(doc.get_element_by_id("csv").is_some());
    assert_eq!(doc.get_element_by_id("demo").unwrap().text_content().unwrap(), "Try the demo data");
}
