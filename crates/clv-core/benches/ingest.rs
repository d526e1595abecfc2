//! `cargo bench -p clv-core --bench ingest`: ingest + BTYD summary of a
//! simulated transaction file, against a bare `csv-core` scan of the same
//! file — reading it in 1 MB slices, as ingest does, and from bytes already
//! in memory (the floor any CSV reader pays). One timed run each after a
//! warm-up read; figures are printed as ratios measured in the same run.
//!
//! `CLV_BENCH_ROWS` (default 1,000,000; the figure uses 10,000,000).

use clv_core::features::{Cutoff, RfmSummary};
use clv_core::ingest::{ingest, IngestOptions};
use clv_core::simulate::{write_csv, SimulationParams};
use clv_core::time::{parse_day, TimeUnit};
use std::io::BufWriter;
use std::time::Instant;

/// A bare csv-core scan that only counts records.
struct Scan {
    rdr: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    records: u64,
}

impl Scan {
    fn new() -> Scan {
        Scan { rdr: csv_core::Reader::new(), out: vec![0u8; 1 << 16], ends: vec![0usize; 64], records: 0 }
    }

    /// Feed the next bytes; an empty slice tells csv-core the input has
    /// ended (so only at the end). True once csv-core reports the end.
    fn feed(&mut self, mut input: &[u8]) -> bool {
        let at_end = input.is_empty();
        while at_end || !input.is_empty() {
            let (res, nin, _, _) = self.rdr.read_record(input, &mut self.out, &mut self.ends);
            input = &input[nin..];
            match res {
                csv_core::ReadRecordResult::Record => self.records += 1,
                csv_core::ReadRecordResult::End => return true,
                _ => {}
            }
        }
        false
    }
}

fn csv_core_scan(bytes: &[u8]) -> u64 {
    let mut scan = Scan::new();
    scan.feed(bytes);
    scan.feed(&[]);
    scan.records
}

/// The same scan reading the file in 1 MB slices, as a streaming reader must.
fn csv_core_scan_file(path: &std::path::Path) -> u64 {
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let (mut scan, mut buf) = (Scan::new(), vec![0u8; 1 << 20]);
    loop {
        let n = f.read(&mut buf).unwrap();
        if scan.feed(&buf[..n]) {
            return scan.records;
        }
    }
}

fn main() {
    let rows: u64 = std::env::var("CLV_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let path = std::env::temp_dir().join(format!("clv-bench-{rows}.csv"));
    if !path.exists() {
        // ≈ 10.3 purchases per customer at these parameters over two years (measured).
        let p = SimulationParams {
            r: 0.8,
            alpha: 4.0,
            a: 0.5,
            b: 4.0,
            spend: Some((6.0, 4.0, 15.0)),
            unit: TimeUnit::Week,
            customers: rows * 100 / 1032,
            start_day: parse_day("2020-01-01").unwrap(),
            acquisition_days: 180,
            observation_days: 730,
            seed: 42,
        };
        let f = std::fs::File::create(&path).unwrap();
        write_csv(&p, &mut BufWriter::with_capacity(1 << 20, f)).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let mb = bytes.len() as f64 / 1e6;

    let t = Instant::now();
    let records = csv_core_scan(&bytes);
    let scan = t.elapsed().as_secs_f64();

    // The same scan reading the file (1 MB reads, as any streaming reader
    // must): the bytes-to-records floor for a file, which is what ingest does.
    let t = Instant::now();
    let file_records = csv_core_scan_file(&path);
    let scan_file = t.elapsed().as_secs_f64();
    assert_eq!(file_records, records);

    let t = Instant::now();
    let file = std::fs::File::open(&path).unwrap();
    let out = ingest(file, &IngestOptions::default(), &mut |_| {}).unwrap();
    let parsed = t.elapsed().as_secs_f64();
    let s = RfmSummary::build(&out.transactions, Cutoff::day(parse_day("2021-06-30").unwrap()), TimeUnit::Week);
    let total = t.elapsed().as_secs_f64();

    println!("file: {} ({mb:.0} MB, {} data rows, {} customers)", path.display(), records - 1, out.report.customers);
    println!("csv-core scan, memory   {scan:7.3} s  {:7.1} MB/s", mb / scan);
    println!("csv-core scan, file     {scan_file:7.3} s  {:7.1} MB/s", mb / scan_file);
    println!("ingest                  {parsed:7.3} s  {:7.1} MB/s", mb / parsed);
    println!("ingest + summary        {total:7.3} s  {:7.1} MB/s  ({} customers at cutoff)", mb / total, s.rows.len());
    println!(
        "throughput vs csv-core  {:.0}% of the file scan, {:.0}% of the in-memory scan",
        100.0 * scan_file / total,
        100.0 * scan / total
    );

    // Exports as users have them: the same rows ordered by time (stable, so
    // a customer's same-day rows keep their order), and shuffled. `./dev bench`
    // runs the browser benchmarks on the first of these files too.
    for (name, reorder) in [("ordered by date", by_date as fn(&mut Vec<&[u8]>)), ("shuffled", shuffle)] {
        let other = std::env::temp_dir().join(format!("clv-bench-{rows}-{}.csv", name.replace(' ', "-")));
        if !other.exists() {
            let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
            let header = lines.remove(0);
            reorder(&mut lines);
            let mut text = Vec::with_capacity(bytes.len());
            for line in std::iter::once(header).chain(lines) {
                text.extend_from_slice(line);
                text.push(b'\n');
            }
            std::fs::write(&other, text).unwrap();
        }
        let t = Instant::now();
        let again = ingest(std::fs::File::open(&other).unwrap(), &IngestOptions::default(), &mut |_| {}).unwrap();
        let took = t.elapsed().as_secs_f64();
        assert_eq!(again.report.customers, out.report.customers);
        assert_eq!(again.transactions.len(), out.transactions.len());
        println!("ingest, {name:<16}{took:7.3} s  {:.2}× the file ordered by customer", took / parsed);
    }
}

/// Data lines by their date (the second column of the simulated file).
fn by_date(lines: &mut Vec<&[u8]>) {
    lines.sort_by(|a, b| date_field(a).cmp(&date_field(b)));
}

fn date_field(line: &[u8]) -> Option<&[u8]> {
    line.split(|&b| b == b',').nth(1)
}

/// A fixed-seed Fisher–Yates shuffle.
fn shuffle(lines: &mut Vec<&[u8]>) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..lines.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        lines.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}
