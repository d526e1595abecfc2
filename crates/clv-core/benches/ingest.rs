//! Ingest + summary throughput on a simulated file, against a bare csv-core
//! scan of the same bytes (the floor any CSV reader pays).
//!
//! `CLV_BENCH_ROWS` sets the approximate size (default 1M rows; the issue's
//! 10M-row figure is measured with `CLV_BENCH_ROWS=10000000`).

use clv_core::features::{Cutoff, RfmSummary};
use clv_core::ingest::{ingest, IngestOptions};
use clv_core::simulate::{write_csv, SimulationParams};
use clv_core::time::{parse_day, TimeUnit};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn simulated(rows: u64) -> Vec<u8> {
    // ~4.3 transactions per customer at these parameters over two years.
    let p = SimulationParams {
        r: 0.8,
        alpha: 4.0,
        a: 0.5,
        b: 4.0,
        spend: Some((6.0, 4.0, 15.0)),
        unit: TimeUnit::Week,
        customers: rows / 4,
        start_day: parse_day("2020-01-01").unwrap(),
        acquisition_days: 180,
        observation_days: 730,
        seed: 42,
    };
    let mut buf = Vec::new();
    write_csv(&p, &mut buf).unwrap();
    buf
}

fn csv_core_scan(bytes: &[u8]) -> u64 {
    let mut rdr = csv_core::Reader::new();
    let mut out = vec![0u8; 1 << 16];
    let mut ends = vec![0usize; 64];
    let mut input = bytes;
    let mut records = 0u64;
    loop {
        let (res, nin, _, _) = rdr.read_record(input, &mut out, &mut ends);
        input = &input[nin..];
        match res {
            csv_core::ReadRecordResult::Record => records += 1,
            csv_core::ReadRecordResult::End => return records,
            csv_core::ReadRecordResult::InputEmpty if input.is_empty() => {
                let (res, _, _, _) = rdr.read_record(&[], &mut out, &mut ends);
                if matches!(res, csv_core::ReadRecordResult::Record) {
                    records += 1;
                }
                return records;
            }
            _ => {}
        }
    }
}

fn bench(c: &mut Criterion) {
    let rows: u64 = std::env::var("CLV_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let bytes = simulated(rows);
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("csv_core_scan", |b| b.iter(|| csv_core_scan(&bytes)));
    let cutoff = Cutoff::day(parse_day("2021-06-30").unwrap());
    g.bench_function("ingest_and_summary", |b| {
        b.iter(|| {
            let out = ingest(&bytes[..], &IngestOptions::default(), &mut |_| {}).unwrap();
            RfmSummary::build(&out.transactions, cutoff, TimeUnit::Week).rows.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
