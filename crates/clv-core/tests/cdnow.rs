//! The papers' CDNOW sample: our summary must equal the published
//! calibration summary (x exactly, t_x and T to 2 decimals) for all 2,357
//! customers.

mod common;

use clv_core::features::{Cutoff, HoldoutSplit, RfmSummary};
use clv_core::ingest::{ingest, IngestOptions, Ingested};
use clv_core::time::{parse_day, TimeUnit};
use common::published::{assert_matches_published, SAMPLE_CSV};

fn sample_with(keep_duplicates: bool) -> Ingested {
    ingest(SAMPLE_CSV.as_bytes(), &IngestOptions { keep_duplicates, ..Default::default() }, &mut |_| {}).unwrap()
}

fn cutoff() -> Cutoff {
    Cutoff::day(parse_day("1997-09-30").unwrap())
}

/// CDNOW has no order id: identical rows (same customer, day, amount) are
/// real repeat orders, and the papers' mean spend counts them. The default
/// (count exact duplicates once) changes `zbar` but never `x, t_x, T`, since
/// duplicates share a day.
#[test]
fn sample_summary_equals_the_published_one() {
    let deduped = sample_with(false);
    assert_eq!(deduped.report.rows, 6919);
    assert_eq!(deduped.report.accepted + deduped.report.duplicates, 6919);
    assert_eq!(deduped.report.rejected, 0);
    assert_eq!(deduped.report.duplicates, 21); // `sort | uniq -c` agrees
    let d = RfmSummary::build(&deduped.transactions, cutoff(), TimeUnit::Week);
    assert_matches_published(&d, &deduped.transactions, false);

    let out = sample_with(true);
    assert_eq!(out.report.accepted, 6919);
    let s = RfmSummary::build(&out.transactions, cutoff(), TimeUnit::Week);
    assert_matches_published(&s, &out.transactions, true);
    assert_eq!(s.repeat_buyers(), 946);
}

#[test]
fn sample_holdout_total_is_the_papers_1882() {
    let out = sample_with(false);
    let end = parse_day("1998-06-30").unwrap();
    let split = HoldoutSplit::build(&out.transactions, cutoff(), end, TimeUnit::Week);
    let total: u32 = split.rows.iter().map(|r| r.holdout_frequency).sum();
    assert_eq!(total, 1882);
    assert!((split.duration - 39.0).abs() < 1e-9);
}
