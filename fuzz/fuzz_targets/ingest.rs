//! Any bytes as a transaction file: ingest never panics, and what it
//! accepts adds up (rows, money totals finite and equal to the rows').
#![no_main]

use clv_core::ingest::{ingest, IngestOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the settings a user can change, so that both
    // detection and explicit choices are exercised.
    let (opts, bytes) = match data.split_first() {
        Some((&b, rest)) => (options(b), rest),
        None => (IngestOptions::default(), data),
    };
    let Ok(out) = ingest(bytes, &opts, &mut |_| {}) else { return };
    let r = &out.report;
    assert_eq!(r.accepted + r.rejected + r.duplicates, r.rows, "rows do not add up");
    assert_eq!(out.transactions.len() as u64, r.accepted);
    assert!(r.net_revenue.is_finite() && r.refund_total.is_finite());
    let mut sum = 0.0;
    let mut scale = 0.0;
    for t in out.transactions.all() {
        assert!(t.amount.is_finite() && t.amount.abs() <= clv_core::ingest::amount::MAX_AMOUNT);
        sum += t.amount;
        scale += t.amount.abs();
    }
    assert!((sum - r.net_revenue).abs() <= 1e-9 * scale + 1e-9, "net {} vs Σ {sum}", r.net_revenue);
});

fn options(b: u8) -> IngestOptions {
    use clv_core::ingest::{DateOrder, DecimalSeparator};
    IngestOptions {
        delimiter: [None, Some(','), Some(';'), Some('\t')][usize::from(b & 3)],
        decimal: [None, Some(DecimalSeparator::Point), Some(DecimalSeparator::Comma), None][usize::from(b >> 2 & 3)],
        ambiguous_date_order: if b & 16 == 0 { DateOrder::DayFirst } else { DateOrder::MonthFirst },
        keep_duplicates: b & 32 != 0,
        margin: b & 64 != 0,
        ..IngestOptions::default()
    }
}
