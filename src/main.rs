//! The page: mount the app. Panics are shown in the page, not only the console.
fn main() {
    clv_app::install_panic_hook();
    leptos::mount::mount_to_body(clv_app::App);
}
