//! wasm-bindgen tests inside a dedicated worker (where the app parses files):
//! a `Blob`/`File` built here is streamed through `BlobReader` into the core,
//! and the result is checked against the same published numbers as the
//! native test (crates/clv-core/tests/cdnow.rs).
#![cfg(target_arch = "wasm32")]

#[path = "../crates/clv-core/tests/common/published.rs"]
mod published;

use clv_app::worker::blob_reader::BlobReader;
use clv_core::features::{Cutoff, RfmSummary};
use clv_core::ingest::{ingest, IngestOptions};
use clv_core::time::{parse_day, TimeUnit};
use std::io::Read;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn blob(text: &str) -> web_sys::Blob {
    web_sys::Blob::new_with_str_sequence(&js_sys::Array::of1(&JsValue::from_str(text))).unwrap()
}

#[wasm_bindgen_test]
fn cdnow_sample_from_a_blob_matches_the_papers() {
    let reader = BlobReader::new(blob(published::SAMPLE_CSV)).unwrap();
    let mut calls = 0;
    let opts = IngestOptions { keep_duplicates: true, ..Default::default() };
    let out = ingest(reader, &opts, &mut |_| calls += 1).unwrap();
    assert_eq!(out.report.rows, 6919);
    assert_eq!(out.report.accepted, 6919);
    assert!(calls >= 1);
    let cutoff = Cutoff::day(parse_day("1997-09-30").unwrap());
    let s = RfmSummary::build(&out.transactions, cutoff, TimeUnit::Week);
    published::assert_matches_published(&s, &out.transactions, true);
    assert_eq!(s.repeat_buyers(), 946);
}

#[wasm_bindgen_test]
fn duplicates_match_native_on_wasm32() {
    // 32-bit hashing once made two distinct CDNOW rows "duplicates" in the tab only.
    let out =
        ingest(BlobReader::new(blob(published::SAMPLE_CSV)).unwrap(), &IngestOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(out.report.duplicates, 21);
}

#[wasm_bindgen_test]
fn a_file_is_read_in_slices_byte_exact() {
    let text = "customer_id,order_date,total\n\u{feff}é,2024-01-01,\"1,234.50\"\nb,2024-01-02,2\n";
    let file = web_sys::File::new_with_str_sequence(&js_sys::Array::of1(&JsValue::from_str(text)), "t.csv").unwrap();
    let mut r = BlobReader::new(file.into()).unwrap();
    assert_eq!(r.size() as usize, text.len());
    let mut bytes = Vec::new();
    let mut small = [0u8; 7]; // slices much smaller than a line
    loop {
        let n = r.read(&mut small).unwrap();
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&small[..n]);
    }
    assert_eq!(bytes, text.as_bytes());
    let file = web_sys::File::new_with_str_sequence(&js_sys::Array::of1(&JsValue::from_str(text)), "t.csv").unwrap();
    let out = ingest(BlobReader::new(file.into()).unwrap(), &IngestOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(out.report.accepted, 2);
    assert_eq!(out.transactions.id(0), "\u{feff}é");
    assert_eq!(out.transactions.history(0)[0].amount, 1234.5);
}

#[wasm_bindgen_test]
fn a_file_of_many_blocks_and_scattered_customers() {
    // ~12 MB: several blocks, customers spread over all of them (the
    // grouping that gathers rows), read in slices as the page reads a file.
    let mut text = String::from("user_id,ts,amount\n");
    for i in 0..500_000u32 {
        let (day, month) = (1 + i % 28, 1 + (i / 28) % 12);
        text.push_str(&format!("u{},2023-{month:02}-{day:02},{}\n", i % 50_000, f64::from(i % 997) / 10.0 + 1.0));
    }
    let mut calls = 0;
    let out = ingest(BlobReader::new(blob(&text)).unwrap(), &IngestOptions::default(), &mut |_| calls += 1).unwrap();
    assert_eq!((out.report.rows, out.report.accepted, out.report.duplicates), (500_000, 500_000, 0));
    assert_eq!(out.transactions.customers(), 50_000);
    assert!(out.transactions.iter().all(|(_, h)| h.len() == 10 && h.is_sorted_by_key(|t| t.ts)));
    assert!(calls > 5, "{calls} progress calls");
}

/// A 10-customer file whose Pareto/NBD optimum is at every limit at once:
/// in wasm (not natively: the last bits of `exp`/`ln` differ) the limiting
/// fit's L-BFGS once built a NaN direction and its line search tried NaN
/// points forever — the page's "Fit models" never returned.
#[wasm_bindgen_test]
fn a_boundary_fit_with_a_nan_search_direction_ends() {
    use clv_core::models::FitOptions;
    use clv_core::pipeline::{fit_count, Customers, ModelKind};
    let text = include_str!("data/hostile/ingest-placeholder-ids.csv");
    let tx = ingest(text.as_bytes(), &IngestOptions::default(), &mut |_| {}).unwrap().transactions;
    let s = RfmSummary::build(&tx, Cutoff::day(parse_day("2024-09-29").unwrap()), TimeUnit::Week);
    let (_, report) = fit_count(ModelKind::Pnbd, &Customers::from_summary(&s, &tx), &FitOptions::default()).unwrap();
    assert_eq!(report.convergence.status(), "at a boundary");
    let limiting = report.limiting.expect("the limiting model is fitted");
    assert!(limiting.log_likelihood.is_finite() && limiting.log_likelihood >= report.log_likelihood - 1e-6);
}
