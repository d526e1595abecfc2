//! Ingest: a transaction CSV, streamed, into per-customer histories plus a
//! report of every row that was not used and why.
//!
//! ```
//! use clv_core::ingest::{ingest, IngestOptions};
//! let csv = "customer_id,order_date,revenue\na,2024-01-02,10\na,2024-01-09,-2.5\nb,bad,3\n";
//! let out = ingest(csv.as_bytes(), &IngestOptions::default(), &mut |_| {}).unwrap();
//! assert_eq!(out.report.accepted, 2);
//! assert_eq!(out.report.rejected, 1);
//! assert_eq!(out.report.reasons[0].first_lines, vec![4]);
//! assert_eq!(out.report.net_revenue, 7.5);
//! ```

pub mod amount;
pub mod columns;
pub mod dates;
mod ids;
mod parse;
mod report;
mod scan;

pub use amount::DecimalSeparator;
pub use columns::{ColumnMapping, Role};
pub use dates::DateOrder;
pub use report::{ColumnReport, IngestReport, ReasonSummary, Rejection};

pub use ids::IdList;

use amount::DecimalEvidence;
use dates::SlashDate;
use ids::Interner;
use parse::{Parsed, Reader, Row};
use rayon::prelude::*;
use report::ReportBuilder;
use scan::Blocks;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;

/// A fatal problem: nothing sensible can be computed from the file as given.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("could not read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty: expected a header line such as user_id,ts,amount")]
    Empty,
    #[error("no {role} column found; the header has: {}. Map the column by hand.", headers.join(", "))]
    MissingColumn { role: String, headers: Vec<String> },
    #[error("column mapping: {0}")]
    BadMapping(String),
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("the file mixes currencies ({}) and no conversion table was given: supply one as currency,rate lines", seen.iter().map(|(c, n)| format!("{c}: {n} rows")).collect::<Vec<_>>().join(", "))]
    MixedCurrencies { seen: Vec<(String, u64)> },
}

/// Settings the user can change; the defaults follow the evidence in the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestOptions {
    /// Field delimiter; detected from the first lines when `None`.
    pub delimiter: Option<char>,
    /// Column roles; detected from the header when `None`.
    pub mapping: Option<ColumnMapping>,
    /// Order for slash dates when the column gives no evidence either way.
    pub ambiguous_date_order: DateOrder,
    /// Keep exact duplicate rows instead of counting them once.
    pub keep_duplicates: bool,
    /// Currency conversion to the reporting currency: (code, rate).
    pub currency_rates: Vec<(String, f64)>,
    /// Count each transaction's margin (amount − variable cost) instead of
    /// its revenue, so every value downstream (spend, CLV, cohorts) is profit.
    #[serde(default)]
    pub margin: bool,
}

/// One accepted transaction: net amount (refunds negative) at a UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Txn {
    pub ts: i64,
    pub amount: f64,
}

/// Accepted transactions grouped by customer, each customer's sorted by time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transactions {
    ids: IdList,
    offsets: Vec<usize>,
    txns: Vec<Txn>,
    /// Per-customer values of the segment columns (channel, country).
    attributes: Vec<CustomerAttribute>,
}

/// A transaction column kept per customer: the value on their first
/// purchase (acquisition channel, country), interned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerAttribute {
    /// The column's header.
    pub name: String,
    /// Its role ("channel", "country"), which also finds it.
    pub role: &'static str,
    values: IdList,
    /// Index into `values` per customer; `u32::MAX` when blank.
    of_customer: Vec<u32>,
}

impl CustomerAttribute {
    pub fn value(&self, customer: usize) -> Option<&str> {
        let v = *self.of_customer.get(customer)? as usize;
        (v < self.values.len()).then(|| self.values.get(v))
    }
}

impl Transactions {
    /// Build from (user id, transaction) pairs in any order.
    pub fn from_pairs<S: AsRef<str>>(pairs: impl IntoIterator<Item = (S, Txn)>) -> Transactions {
        let mut ids = Interner::default();
        let mut piece = PieceRows::default();
        for (line, (id, txn)) in pairs.into_iter().enumerate() {
            piece.runs.push(piece.rows.len() as u32);
            piece.customers.push(ids.intern(id.as_ref()));
            piece.rows.push(Row::new(txn, 0, false));
            piece.lines.push(line as u32);
        }
        Transactions::group(ids.into_ids(), &[piece], None).0
    }

    /// Gather each customer's rows (file order), sort them by time (ties
    /// stay in file order) and, with a report, drop exact duplicate rows
    /// after their first occurrence: same fingerprint, hence same customer
    /// and time. Looking only within one customer's same-time rows keeps
    /// this O(n) in memory without a file-wide hash set.
    ///
    /// Two parallel passes over blocks of customers: the first counts what
    /// each customer keeps (resolving the few whose rows need sorting or
    /// de-duplicating), the second writes every customer's transactions
    /// straight into their final place. Also returns, per kept customer,
    /// their index before grouping.
    fn group(ids: IdList, pieces: &[PieceRows], dedupe: Option<&mut ReportBuilder>) -> (Transactions, Vec<u32>) {
        let runs = RunsByCustomer::new(ids.len(), pieces);
        let blocks: Vec<std::ops::Range<usize>> =
            (0..ids.len()).step_by(GROUP_BLOCK).map(|c| c..(c + GROUP_BLOCK).min(ids.len())).collect();
        let check = dedupe.is_some();
        let counted: Vec<CountedBlock> =
            blocks.par_iter().map(|block| runs.count_block(pieces, block.clone(), check)).collect();

        let mut kept_ids = IdList::default();
        let mut kept = Vec::with_capacity(ids.len());
        let mut offsets = vec![0usize];
        let mut block_starts = vec![0usize];
        let mut report = dedupe;
        for (block, counts) in blocks.iter().zip(&counted) {
            for (c, &n) in block.clone().zip(&counts.kept) {
                if n > 0 {
                    kept_ids.push(ids.get(c));
                    kept.push(c as u32);
                    offsets.push(offsets[offsets.len() - 1] + n as usize);
                }
            }
            block_starts.push(offsets[offsets.len() - 1]);
            if let Some(report) = report.as_deref_mut() {
                for (line, d) in &counts.duplicates {
                    report.duplicate(u64::from(*line));
                    report.unaccept(d.txn.amount, d.refund());
                }
            }
        }
        let total = offsets[offsets.len() - 1];
        // First touch in parallel too: a 10M-row file's 160 MB are page-faulted by both cores.
        let mut txns = Vec::with_capacity(total);
        txns.par_extend(rayon::iter::repeat_n(Txn { ts: 0, amount: 0.0 }, total));
        split_at_bounds(&mut txns, &block_starts)
            .into_par_iter()
            .zip(blocks.par_iter().zip(&counted))
            .for_each(|(out, (block, counts))| runs.fill_block(pieces, block.clone(), counts, out));
        (Transactions { ids: kept_ids, offsets, txns, attributes: Vec::new() }, kept)
    }

    /// The per-customer columns kept from the transactions (channel, country).
    pub fn attributes(&self) -> &[CustomerAttribute] {
        &self.attributes
    }

    /// A kept column by header or role name, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&CustomerAttribute> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name) || a.role.eq_ignore_ascii_case(name))
    }

    pub fn customers(&self) -> usize {
        self.ids.len()
    }

    pub fn len(&self) -> usize {
        self.txns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }

    pub fn id(&self, customer: usize) -> &str {
        self.ids.get(customer)
    }

    /// The customer's transactions, sorted by time.
    pub fn history(&self, customer: usize) -> &[Txn] {
        &self.txns[self.offsets[customer]..self.offsets[customer + 1]]
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Txn])> {
        (0..self.customers()).map(|c| (self.id(c), self.history(c)))
    }

    pub fn all(&self) -> &[Txn] {
        &self.txns
    }
}

/// A piece's accepted rows once its users have file-wide indices.
#[derive(Debug, Default)]
struct PieceRows {
    rows: Vec<Row>,
    /// Each row's physical line.
    lines: Vec<u32>,
    /// First row of each run of one user, and that user's index.
    runs: Vec<u32>,
    customers: Vec<u32>,
    slash: Vec<(u32, SlashDate)>,
    /// Per row, the file-wide value index of each segment column.
    segments: Vec<u32>,
}

impl PieceRows {
    fn run_rows(&self, k: usize) -> std::ops::Range<usize> {
        let end = self.runs.get(k + 1).map_or(self.rows.len(), |&r| r as usize);
        self.runs[k] as usize..end
    }
}

/// Customers per parallel task in [`Transactions::group`].
const GROUP_BLOCK: usize = 1 << 12;

/// `data` cut at `bounds` (ascending, from 0 to `data.len()`): disjoint
/// slices for threads to fill.
fn split_at_bounds<'a, T>(mut data: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    bounds
        .windows(2)
        .map(|w| {
            let (head, tail) = std::mem::take(&mut data).split_at_mut(w[1] - w[0]);
            data = tail;
            head
        })
        .collect()
}

/// A block of customers after the first pass of [`Transactions::group`].
#[derive(Default)]
struct CountedBlock {
    /// Transactions kept per customer.
    kept: Vec<u32>,
    /// Per customer: one run in strictly increasing time, copied as it is
    /// (see [`RunsByCustomer::simple`]); otherwise in `resolved`.
    simple: Vec<bool>,
    /// The final transactions of the customers that had to be sorted or
    /// de-duplicated, back to back.
    resolved: Vec<Txn>,
    /// Each duplicate dropped, with its line.
    duplicates: Vec<(u32, Row)>,
}

/// Each customer's runs (piece, run), in file order.
struct RunsByCustomer {
    start: Vec<usize>,
    runs: Vec<(u32, u32)>,
}

impl RunsByCustomer {
    fn new(customers: usize, pieces: &[PieceRows]) -> RunsByCustomer {
        let mut start = vec![0usize; customers + 1];
        for p in pieces {
            for &c in &p.customers {
                start[c as usize + 1] += 1;
            }
        }
        for i in 0..customers {
            start[i + 1] += start[i];
        }
        let mut cursor = start.clone();
        let mut runs = vec![(0, 0); start[customers]];
        for (pi, p) in pieces.iter().enumerate() {
            for (k, &c) in p.customers.iter().enumerate() {
                runs[cursor[c as usize]] = (pi as u32, k as u32);
                cursor[c as usize] += 1;
            }
        }
        RunsByCustomer { start, runs }
    }

    fn of(&self, customer: usize) -> &[(u32, u32)] {
        &self.runs[self.start[customer]..self.start[customer + 1]]
    }

    /// The rows of a customer with one run in strictly increasing time —
    /// the common case: nothing to sort and no two rows that could be
    /// duplicates, so they are copied as they are.
    fn simple<'p>(&self, pieces: &'p [PieceRows], customer: usize) -> Option<&'p [Row]> {
        self.single_run(pieces, customer).filter(|rows| rows.windows(2).all(|w| w[0].txn.ts < w[1].txn.ts))
    }

    /// The rows of a customer whose rows all come in one run.
    fn single_run<'p>(&self, pieces: &'p [PieceRows], customer: usize) -> Option<&'p [Row]> {
        let [(p, k)] = self.of(customer) else { return None };
        let p = &pieces[*p as usize];
        Some(&p.rows[p.run_rows(*k as usize)])
    }

    fn count_block(&self, pieces: &[PieceRows], customers: std::ops::Range<usize>, dedupe: bool) -> CountedBlock {
        let mut out = CountedBlock::default();
        let mut scratch: Vec<(Row, u32)> = Vec::new();
        for c in customers {
            let simple = self.simple(pieces, c);
            out.simple.push(simple.is_some());
            if let Some(rows) = simple {
                out.kept.push(rows.iter().filter(|r| r.kept()).count() as u32);
                continue;
            }
            scratch.clear();
            for &(p, k) in self.of(c) {
                let p = &pieces[p as usize];
                let rows = p.run_rows(k as usize);
                scratch.extend(
                    p.rows[rows.clone()].iter().zip(&p.lines[rows]).filter(|(r, _)| r.kept()).map(|(r, &l)| (*r, l)),
                );
            }
            if !scratch.is_sorted_by_key(|r| r.0.txn.ts) {
                scratch.sort_by_key(|r| r.0.txn.ts);
            }
            if dedupe {
                mark_duplicates(&mut scratch, &mut out.duplicates);
            }
            let before = out.resolved.len();
            out.resolved.extend(scratch.iter().filter(|r| r.0.kept()).map(|r| r.0.txn));
            out.kept.push((out.resolved.len() - before) as u32);
        }
        out
    }

    /// Write a block's transactions into `out`, sized by its counts.
    fn fill_block(
        &self,
        pieces: &[PieceRows],
        customers: std::ops::Range<usize>,
        counts: &CountedBlock,
        out: &mut [Txn],
    ) {
        let (mut at, mut resolved) = (0, &counts.resolved[..]);
        for ((c, &n), &simple) in customers.zip(&counts.kept).zip(&counts.simple) {
            let n = n as usize;
            let dest = &mut out[at..at + n];
            if simple {
                let rows = self.single_run(pieces, c).expect("counted as one run");
                dest.iter_mut().zip(rows.iter().filter(|r| r.kept())).for_each(|(d, r)| *d = r.txn);
            } else {
                dest.copy_from_slice(&resolved[..n]);
                resolved = &resolved[n..];
            }
            at += n;
        }
    }
}

/// In one customer's rows sorted by time (ties in file order), a row equal
/// to an earlier kept one of the same time is a duplicate: drop it and keep
/// it, with its line, in `dups`. Large same-time groups (date-only files, a
/// catch-all "guest" id) use a set of fingerprints instead of comparing pairs.
fn mark_duplicates(rows: &mut [(Row, u32)], dups: &mut Vec<(u32, Row)>) {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut i = 0;
    while i < rows.len() {
        let ts = rows[i].0.txn.ts;
        let j = i + rows[i..].iter().take_while(|r| r.0.txn.ts == ts).count();
        let small = j - i <= 16;
        seen.clear();
        for k in i..j {
            let row = rows[k].0;
            if !row.kept() {
                continue;
            }
            let earlier = if small {
                rows[i..k].iter().any(|e| e.0.kept() && e.0.identity() == row.identity())
            } else {
                !seen.insert(row.identity())
            };
            if earlier {
                dups.push((rows[k].1, row));
                rows[k].0.drop_row();
            }
        }
        i = j;
    }
}

/// The result of a successful ingest.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub transactions: Transactions,
    pub report: IngestReport,
}

/// Progress of a running ingest.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Progress {
    pub bytes: u64,
    pub rows: u64,
}

/// What the first bytes of a file say: delimiter, header, a proposed mapping.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sniffed {
    pub delimiter: char,
    pub headers: Vec<String>,
    pub mapping: ColumnMapping,
    pub preview: Vec<Vec<String>>,
}

/// Look at the start of a file (a few KB is enough) without reading it all.
pub fn sniff(sample: &[u8], delimiter: Option<char>) -> Result<Sniffed, IngestError> {
    let delim = delimiter.map(|c| c as u8).unwrap_or_else(|| columns::sniff_delimiter(sample));
    let mut rdr = csv::ReaderBuilder::new().delimiter(delim).flexible(true).from_reader(sample);
    let headers: Vec<String> = rdr
        .byte_headers()
        .map_err(|e| csv_error(&e))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(IngestError::Empty);
    }
    let preview = rdr
        .byte_records()
        .take(5)
        .filter_map(Result::ok)
        .map(|r| r.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect())
        .collect();
    Ok(Sniffed { delimiter: delim as char, mapping: ColumnMapping::detect(&headers), headers, preview })
}

fn csv_error(e: &csv::Error) -> IngestError {
    IngestError::Csv { line: e.position().map_or(0, |p| p.line()), message: e.to_string() }
}

/// Why a row was not used. `code` is stable (JSON, tests); `message` is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    FieldCount,
    InvalidUtf8,
    MissingUserId,
    MissingDate,
    BadDate,
    ImpossibleDate,
    DateOrderConflict,
    MissingAmount,
    BadAmount,
    BadRefundFlag,
    BadCurrency,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::FieldCount => "field_count",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::MissingUserId => "missing_user_id",
            Reason::MissingDate => "missing_date",
            Reason::BadDate => "bad_date",
            Reason::ImpossibleDate => "impossible_date",
            Reason::DateOrderConflict => "date_order_conflict",
            Reason::MissingAmount => "missing_amount",
            Reason::BadAmount => "bad_amount",
            Reason::BadRefundFlag => "bad_refund_flag",
            Reason::BadCurrency => "bad_currency",
        }
    }
}

/// Read a whole CSV of transactions, calling `progress` after every piece
/// of about a megabyte and once at the end.
///
/// The file is read in blocks of whole records (see [`scan`]) whose pieces
/// are parsed in parallel (rayon; one thread in the browser), then merged in
/// file order: rows, counts and lines are the same for any block size or
/// thread count, and money totals (added per piece of fixed size) the same
/// on any machine.
pub fn ingest<R: Read>(
    reader: R,
    opts: &IngestOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Ingested, IngestError> {
    ingest_in_blocks(reader, opts, progress, None)
}

/// Bytes looked at before streaming: delimiter, header, decimal evidence.
const SAMPLE_BYTES: u64 = 1 << 20;

fn ingest_in_blocks<R: Read>(
    mut input: R,
    opts: &IngestOptions,
    progress: &mut dyn FnMut(Progress),
    sizes: Option<(usize, usize)>,
) -> Result<Ingested, IngestError> {
    let mut sample = Vec::new();
    (&mut input).take(SAMPLE_BYTES).read_to_end(&mut sample)?;
    let whole_file = (sample.len() as u64) < SAMPLE_BYTES;
    if sample.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::Empty);
    }
    let sniffed = sniff(&sample, opts.delimiter)?;
    let delimiter = sniffed.delimiter as u8;
    let headers = sniffed.headers;
    let map = opts.mapping.clone().unwrap_or(sniffed.mapping);
    map.validate(&headers)?;
    if opts.margin && map.variable_cost.is_none() {
        return Err(IngestError::MissingColumn {
            role: "variable cost (e.g. variable_cost, cost, cogs), needed to count margins".into(),
            headers: headers.clone(),
        });
    }
    let decimal = decide_decimal(&sample, delimiter, &map);
    let body = header_end(&sample, delimiter, whole_file)?;
    let first_line = 1 + scan::newlines(&sample[..body]);

    let segments = Segments::new(&map, &headers);
    let reader = Reader {
        decimal,
        rates: opts.currency_rates.iter().map(|(c, r)| (c.trim().to_ascii_uppercase(), *r)).collect(),
        segment_columns: segments.columns.iter().map(|c| c.0).collect(),
        map,
        headers: headers.clone(),
        delimiter,
        margin: opts.margin,
        keep_duplicates: opts.keep_duplicates,
    };
    let mut report = ReportBuilder::new(headers);
    let mut merged = Merged { segments, ..Merged::default() };
    let mut blocks = Blocks::new(input, sample.split_off(body), first_line, delimiter);
    if let Some((block, piece)) = sizes {
        blocks = blocks.with_sizes(block, piece);
    }
    // Block k is parsed while block k − 1's pieces are merged (rayon::join):
    // merging is sequential (file order), parsing is not.
    let (mut bytes, mut rows) = (body as u64, 0u64);
    let mut previous: Vec<(u64, Parsed)> = Vec::new();
    loop {
        let block = blocks.next_block()?;
        let pieces = block.as_ref().map(|b| b.pieces()).unwrap_or_default();
        let (parsed, merged_sizes) = rayon::join(
            || pieces.par_iter().map(|&piece| reader.parse_piece(piece)).collect::<Vec<Parsed>>(),
            || {
                std::mem::take(&mut previous)
                    .into_iter()
                    .map(|(size, parsed)| {
                        let records = parsed.records;
                        merged.absorb(parsed, &mut report);
                        (size, records)
                    })
                    .collect::<Vec<_>>()
            },
        );
        for (size, records) in merged_sizes {
            bytes += size;
            rows += records;
            progress(Progress { bytes, rows });
        }
        previous = pieces.iter().map(|p| p.bytes.len() as u64).zip(parsed).collect();
        drop(pieces);
        let Some(block) = block else { break };
        blocks.recycle(block);
    }
    progress(Progress { bytes, rows });
    merged.finish(report, opts, &reader, rows)
}

fn decide_decimal(sample: &[u8], delimiter: u8, map: &ColumnMapping) -> DecimalSeparator {
    let mut evidence = DecimalEvidence::default();
    let money_cols: Vec<usize> = [map.amount, map.unit_price, map.variable_cost].into_iter().flatten().collect();
    let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(sample);
    for rec in rdr.byte_records().take(2000).filter_map(Result::ok) {
        for &c in &money_cols {
            evidence.observe(&String::from_utf8_lossy(rec.get(c).unwrap_or_default()));
        }
    }
    evidence.decide()
}

/// Where the header record ends (after a BOM, blank lines and quoted
/// line breaks, as csv-core reads it).
fn header_end(sample: &[u8], delimiter: u8, whole_file: bool) -> Result<usize, IngestError> {
    let mut rdr = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let (mut out, mut ends) = (vec![0u8; 1 << 16], vec![0usize; 1 << 10]);
    let mut pos = 0;
    loop {
        let (res, nin, _, _) = rdr.read_record(&sample[pos..], &mut out, &mut ends);
        pos += nin;
        match res {
            csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => return Ok(pos),
            csv_core::ReadRecordResult::InputEmpty if pos == sample.len() && !whole_file => {
                return Err(IngestError::Csv {
                    line: 1,
                    message: format!("the header is longer than {} KB: is this a CSV file?", SAMPLE_BYTES >> 10),
                })
            }
            _ => {}
        }
    }
}

/// The pieces so far, merged in file order.
#[derive(Default)]
struct Merged {
    ids: Interner,
    pieces: Vec<PieceRows>,
    currencies: BTreeMap<String, u64>,
    segments: Segments,
}

impl Merged {
    fn absorb(&mut self, parsed: Parsed, report: &mut ReportBuilder) {
        let customers = parsed.run_ids.iter().map(|id| self.ids.intern(id)).collect();
        for (code, n) in &parsed.currencies {
            *self.currencies.entry(code.clone()).or_default() += n;
        }
        let segments = self.segments.absorb(parsed.segments, parsed.segment_values);
        report.add(parsed.tally);
        self.pieces.push(PieceRows {
            rows: parsed.rows,
            lines: parsed.lines,
            runs: parsed.runs,
            customers,
            slash: parsed.slash,
            segments,
        });
    }

    fn finish(
        mut self,
        mut report: ReportBuilder,
        opts: &IngestOptions,
        reader: &Reader,
        rows: u64,
    ) -> Result<Ingested, IngestError> {
        if reader.rates.is_empty() && self.currencies.len() > 1 {
            return Err(IngestError::MixedCurrencies { seen: self.currencies.into_iter().collect() });
        }
        let order = resolve_slash_dates(&mut self.pieces, opts.ambiguous_date_order, &mut report);
        let first = self.segments.first_purchase(&self.pieces, self.ids.len());
        report.note_invisible_ids(self.ids.ids().iter());
        let dedupe = (!opts.keep_duplicates).then_some(&mut report);
        let (mut transactions, kept) = Transactions::group(self.ids.into_ids(), &self.pieces, dedupe);
        transactions.attributes = self.segments.finish(&self.pieces, &first, &kept);
        let report = report.finish(FinishInfo {
            rows,
            delimiter: char::from(reader.delimiter),
            mapping: &reader.map,
            decimal: reader.decimal,
            date_order: order,
            transactions: &transactions,
            currency: self.currencies.into_keys().next(),
            converted: !reader.rates.is_empty(),
            margin: reader.margin,
        });
        Ok(Ingested { transactions, report })
    }
}

/// The segment columns (channel, country): file-wide value lists, and each
/// customer's value from their first purchase.
#[derive(Default)]
struct Segments {
    /// (column, header, role name).
    columns: Vec<(usize, String, &'static str)>,
    values: Vec<Interner>,
}

impl Segments {
    fn new(map: &ColumnMapping, headers: &[String]) -> Segments {
        let columns: Vec<(usize, String, &'static str)> =
            Role::SEGMENTS.iter().filter_map(|&r| map.get(r).map(|c| (c, headers[c].clone(), r.name()))).collect();
        let values = columns.iter().map(|_| Interner::default()).collect();
        Segments { columns, values }
    }

    /// A piece's per-row value indices, made file-wide.
    fn absorb(&mut self, mut rows: Vec<u32>, local: Vec<Interner>) -> Vec<u32> {
        let k = self.columns.len();
        if k == 0 {
            return rows;
        }
        let remap: Vec<Vec<u32>> =
            local.iter().zip(&mut self.values).map(|(l, g)| l.ids().iter().map(|v| g.intern(v)).collect()).collect();
        for (i, v) in rows.iter_mut().enumerate() {
            if *v != u32::MAX {
                *v = remap[i % k][*v as usize];
            }
        }
        rows
    }

    /// Per customer (index before grouping), the (time, line, piece, row)
    /// of their earliest kept row.
    fn first_purchase(&self, pieces: &[PieceRows], customers: usize) -> Vec<(i64, u32, usize, usize)> {
        if self.columns.is_empty() {
            return Vec::new();
        }
        let mut best = vec![(i64::MAX, u32::MAX, usize::MAX, usize::MAX); customers];
        for (pi, p) in pieces.iter().enumerate() {
            for k in 0..p.runs.len() {
                let b = &mut best[p.customers[k] as usize];
                for i in p.run_rows(k).filter(|&i| p.rows[i].kept()) {
                    let (ts, line) = (p.rows[i].txn.ts, p.lines[i]);
                    if (ts, line) < (b.0, b.1) {
                        *b = (ts, line, pi, i);
                    }
                }
            }
        }
        best
    }

    fn finish(self, pieces: &[PieceRows], first: &[(i64, u32, usize, usize)], kept: &[u32]) -> Vec<CustomerAttribute> {
        let k = self.columns.len();
        self.columns
            .into_iter()
            .zip(self.values)
            .enumerate()
            .map(|(j, ((_, name, role), values))| CustomerAttribute {
                name,
                role,
                values: values.into_ids(),
                of_customer: kept
                    .iter()
                    .map(|&old| {
                        let (_, _, piece, row) = first[old as usize];
                        pieces[piece].segments[row * k + j]
                    })
                    .collect(),
            })
            .collect()
    }
}

/// How the slash-date order of the timestamp column was decided.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DateOrderDecision {
    pub order: DateOrder,
    /// "evidence" when some value only fits one order, "setting" when none did.
    pub decided_by: String,
    pub day_first_only: u64,
    pub month_first_only: u64,
}

fn resolve_slash_dates(
    pieces: &mut [PieceRows],
    setting: DateOrder,
    report: &mut ReportBuilder,
) -> Option<DateOrderDecision> {
    let slash = || pieces.iter().flat_map(|p| p.slash.iter().map(|s| s.1));
    slash().next()?; // no slash dates: nothing to decide
    let (mut dmy, mut mdy) = (0u64, 0u64);
    for d in slash() {
        match d.valid_orders() {
            (true, false) => dmy += 1,
            (false, true) => mdy += 1,
            _ => {}
        }
    }
    let (order, decided_by) = match (dmy, mdy) {
        (0, 0) => (setting, "setting"),
        (d, m) if d > m => (DateOrder::DayFirst, "evidence"),
        (d, m) if m > d => (DateOrder::MonthFirst, "evidence"),
        _ => (setting, "setting (evidence tied)"),
    };
    let (name, other) = match order {
        DateOrder::DayFirst => ("day-first", "month-first"),
        DateOrder::MonthFirst => ("month-first", "day-first"),
    };
    for p in pieces.iter_mut() {
        for &(i, d) in &p.slash {
            let row = &mut p.rows[i as usize];
            match d.resolve(order) {
                Some(ts) => row.txn.ts = ts,
                None => {
                    report.unaccept(row.txn.amount, row.refund());
                    row.drop_row();
                    report.reject(
                        u64::from(p.lines[i as usize]),
                        Reason::DateOrderConflict,
                        None,
                        format!(
                            "{}/{}/{} is only a date {other}, but the column reads {name} ({decided_by})",
                            d.first, d.second, d.year
                        ),
                    );
                }
            }
        }
    }
    Some(DateOrderDecision { order, decided_by: decided_by.into(), day_first_only: dmy, month_first_only: mdy })
}

struct FinishInfo<'a> {
    rows: u64,
    delimiter: char,
    mapping: &'a ColumnMapping,
    decimal: DecimalSeparator,
    date_order: Option<DateOrderDecision>,
    transactions: &'a Transactions,
    currency: Option<String>,
    converted: bool,
    margin: bool,
}

/// Parse a `currency,rate` table (header optional).
pub fn parse_rates(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (code, rate) =
            line.split_once([',', ';', '\t']).ok_or_else(|| format!("rates line {}: expected currency,rate", i + 1))?;
        match rate.trim().parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 => out.push((code.trim().to_ascii_uppercase(), r)),
            _ if i == 0 => {} // header
            _ => return Err(format!("rates line {}: rate {rate:?} is not a positive number", i + 1)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
