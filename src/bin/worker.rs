//! The Web Worker: all parsing and modelling happens here, off the page's thread.
fn main() {
    clv_app::worker::start();
}
