//! In-tab benchmark of the learned models' training (`./dev bench`, not `./dev test`): the issue's
//! boosted-trees configuration — 4 earlier cutoffs × CDNOW master's 23,570 customers, 400 trees —
//! trained in a dedicated worker, as the page's worker trains it, in a release build. Prints
//! seconds (wall clock, `Date.now()`); asserts nothing about speed. The native figure for the same
//! work is `cargo bench -p clv-core --bench learned` (run just before by `./dev bench`).
#![cfg(target_arch = "wasm32")]

use clv_core::features::Cutoff;
use clv_core::ingest::{ingest, IngestOptions};
use clv_core::learned::temporal::{train, training, Protocol, Target};
use clv_core::learned::GbtParams;
use clv_core::pipeline::ModelKind;
use clv_core::time::parse_day;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const CDNOW: &str = include_str!("../www/demo/cdnow.csv");

#[wasm_bindgen_test]
fn boosted_trees_on_cdnow_master_in_a_worker() {
    let tx = ingest(CDNOW.as_bytes(), &IngestOptions::default(), &mut |_| {}).unwrap().transactions;
    let cutoff = Cutoff::day(parse_day("1997-09-30").unwrap());
    let t0 = js_sys::Date::now();
    let protocol = Protocol::spread(&tx, cutoff, 4, ModelKind::Pnbd).unwrap();
    let set = training(&tx, None, cutoff, &protocol).unwrap();
    let t1 = js_sys::Date::now();
    let rows: usize = set.snapshots.iter().map(|s| s.purchases.len()).sum();
    // The page's settings (LearnedSettings::default) at the 400 trees.
    let params = GbtParams { trees: 400, ..clv_core::learned::leaderboard::LearnedSettings::default().gbt };
    let model = train(&set.snapshots, Target::Purchases, &params.check().unwrap(), true).unwrap();
    let t2 = js_sys::Date::now();
    assert_eq!(model.gbt.trees.len(), 400);
    console_log!(
        "BENCH in a worker: {} training snapshots ({rows} rows, each with its Pareto/NBD fit) {:.2} s; 400 trees of depth 3 {:.2} s",
        set.snapshots.len(),
        (t1 - t0) / 1000.0,
        (t2 - t1) / 1000.0
    );
}
