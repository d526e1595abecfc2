//! The papers' CDNOW calibration summary and the check against it, shared
//! by the native test (crates/clv-core/tests/cdnow.rs) and the same check
//! compiled to wasm (tests/web_worker.rs), so both assert the same numbers.

use clv_core::features::RfmSummary;
use clv_core::ingest::Transactions;
use std::collections::HashMap;

/// `cdnow_customers_summary_with_transactions.csv`: ID,x,t_x,T,zbar
pub const PUBLISHED: &str = include_str!("../../../../tests/data/cdnow_customers_summary_with_transactions.csv");
/// The raw sample as CSV (tests/data/scripts/cdnow_sample_to_csv.sh).
pub const SAMPLE_CSV: &str = include_str!("../../../../tests/data/cdnow_sample_transactions.csv");

/// x exactly, t_x and T at 2 decimals, zbar to the cent, for all 2,357 customers.
/// `check_zbar` is off when duplicates were dropped (CDNOW has real duplicate orders).
pub fn assert_matches_published(s: &RfmSummary, tx: &Transactions, check_zbar: bool) {
    let published: HashMap<&str, (u32, f64, f64, f64)> = PUBLISHED
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0], (f[1].parse().unwrap(), f[2].parse().unwrap(), f[3].parse().unwrap(), f[4].parse().unwrap()))
        })
        .collect();
    assert_eq!(published.len(), 2357);
    assert_eq!(s.rows.len(), 2357);
    for r in &s.rows {
        let id = tx.id(r.customer);
        let &(x, t_x, t, zbar) = published.get(id).unwrap_or_else(|| panic!("customer {id} not published"));
        assert_eq!(r.frequency, x, "x of {id}");
        assert_eq!(format!("{:.2}", r.recency), format!("{t_x:.2}"), "t_x of {id}");
        assert_eq!(format!("{:.2}", r.t), format!("{t:.2}"), "T of {id}");
        if check_zbar {
            assert!((r.monetary_value - zbar).abs() < 0.006, "zbar of {id}: {} vs {zbar}", r.monetary_value);
        }
    }
}
