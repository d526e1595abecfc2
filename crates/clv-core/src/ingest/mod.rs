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
mod encoding;
mod group;
pub(crate) mod ids;
mod parse;
mod report;
mod scan;

pub use amount::{DecimalDecision, DecimalSeparator};
pub use columns::{ColumnMapping, Role, RoleMatch};
pub use dates::DateOrder;
pub use report::{ColumnReport, IngestReport, ReasonSummary, Rejection};

pub use group::{CustomerAttribute, Transactions};
pub use ids::IdList;

use amount::DecimalEvidence;
use group::PieceRows;
use ids::Interner;
use parse::{Parsed, Reader};
use rayon::prelude::*;
use report::ReportBuilder;
use scan::Blocks;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;

/// A fatal problem: nothing sensible can be computed from the file as given.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Reading the input failed.
    #[error("could not read the file: {0}")]
    Io(#[from] std::io::Error),
    /// The file is empty or only whitespace, or its header has no names.
    #[error("the file is empty: expected a header line such as user_id,ts,amount")]
    Empty,
    /// A required role has no column (or margins were asked for without a
    /// variable-cost column).
    #[error("no {role} column found; the header has: {}. Map the column by hand.", headers.join(", "))]
    MissingColumn {
        /// The missing role, in words with example headers.
        role: String,
        /// The file's header names, to map the column from by hand.
        headers: Vec<String>,
    },
    /// A column mapping points past the last column of the header.
    #[error("column mapping: {0}")]
    BadMapping(String),
    /// The CSV reader failed, or the header is longer than the 1 MB sample.
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based physical line (header = 1; 0 when unknown).
        line: u64,
        /// What the reader reported.
        message: String,
    },
    /// A quoted field is still open at the end of the file: every line after the quote
    /// would silently become one field, so the ingest stops.
    #[error("a quote (\") opened at line {line}, column {column}, is never closed: {} would be read as one field, so the file is not read. Close the quote, or, if the quote is part of the value, double it (\"\") and quote the whole value", line_range(*line, *last_line))]
    UnclosedQuote {
        /// 1-based physical line where the quote opens.
        line: u64,
        /// The column it opens in: its 1-based number and, if the header has it, its name (`4 ("note")`).
        column: String,
        /// The file's last line (not counting trailing blank lines): the field would run to it.
        last_line: u64,
    },
    /// The currency column holds more than one currency and no rates table was given.
    #[error("the file mixes currencies ({}) and no conversion table was given: supply one as currency,rate lines (the page: Currency rates, above Analyse; clv: --rates FILE)", seen.iter().map(|(c, n)| format!("{c}: {n} rows")).collect::<Vec<_>>().join(", "))]
    MixedCurrencies {
        /// Each currency code as written, with its number of rows, in alphabetical order.
        seen: Vec<(String, u64)>,
    },
}

/// Settings the user can change; the defaults follow the evidence in the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestOptions {
    /// Field delimiter; detected from the first lines when `None`.
    pub delimiter: Option<char>,
    /// Column roles; detected from the header when `None`.
    pub mapping: Option<ColumnMapping>,
    /// Decimal separator of the money columns; decided from the evidence
    /// (see [`DecimalDecision`]) when `None`.
    pub decimal: Option<DecimalSeparator>,
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
    /// Time of the transaction, in seconds since the Unix epoch (UTC).
    pub ts: i64,
    /// Net amount, negative for a refund (and, with margins, for a sale below cost);
    /// converted with the rates table if one was given, a margin if margins were asked for.
    pub amount: f64,
}

/// The result of a successful ingest.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// The accepted transactions, grouped by customer.
    pub transactions: Transactions,
    /// What was read, how, and every row not used.
    pub report: IngestReport,
}

/// Progress of a running ingest.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Progress {
    /// Bytes of text read so far, header included (of the UTF-8 text, so after
    /// decoding when the file was in another encoding).
    pub bytes: u64,
    /// Data rows read so far, accepted or not.
    pub rows: u64,
}

/// What the first bytes of a file say: delimiter, header, a proposed mapping.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sniffed {
    /// The field delimiter: the one given, or detected from the sample.
    pub delimiter: char,
    /// The header's column names, trimmed.
    pub headers: Vec<String>,
    /// The roles proposed from the header, less those the sampled values ruled out.
    pub mapping: ColumnMapping,
    /// How each role of `mapping` was found from the header.
    pub matches: Vec<RoleMatch>,
    /// Roles a header suggested but the sampled values ruled out, and why.
    pub notes: Vec<(Role, String)>,
    /// The first five data rows, field by field, to show the user.
    pub preview: Vec<Vec<String>>,
}

/// Sampled rows used to confirm roles by their values.
const CONFIRM_ROWS: usize = 200;

/// Look at the start of a file (a few KB is enough) without reading it all.
pub fn sniff(sample: &[u8], delimiter: Option<char>) -> Result<Sniffed, IngestError> {
    // A UTF-16 or Windows-1252 prefix is decoded first (a character cut at
    // its end becomes U+FFFD, which no header or mapping depends on).
    let decoded = encoding::detect(sample).map(|(enc, _)| enc.decode_with_bom_removal(sample).0.into_owned());
    let sample = decoded.as_deref().map_or(sample, str::as_bytes);
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
    let mut rows: Vec<Vec<String>> = rdr
        .byte_records()
        .take(CONFIRM_ROWS)
        .filter_map(Result::ok)
        .map(|r| r.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect())
        .collect();
    let mut matches = RoleMatch::detect(&headers);
    let mut mapping = RoleMatch::mapping(&matches);
    let notes = columns::confirm_by_values(&mut mapping, &headers, &rows);
    matches.retain(|m| mapping.get(m.role) == Some(m.column));
    rows.truncate(5);
    Ok(Sniffed { delimiter: delim as char, mapping, matches, notes, headers, preview: rows })
}

fn line_range(first: u64, last: u64) -> String {
    if first == last {
        format!("line {first} (the last)")
    } else {
        format!("lines {first}–{last} ({} lines, to the end of the file)", last - first + 1)
    }
}

fn csv_error(e: &csv::Error) -> IngestError {
    IngestError::Csv { line: e.position().map_or(0, |p| p.line()), message: e.to_string() }
}

/// Why a row was not used. `code` is stable (JSON, tests); `message` is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// More or fewer fields than the header (extra empty fields are allowed): an
    /// unquoted delimiter, most likely.
    FieldCount,
    /// A field that is used is not valid UTF-8 (in a file the sample showed to be
    /// UTF-8).
    InvalidUtf8,
    /// The user id is empty or stands for none (`NULL`, `-`, `unknown`, …): as one
    /// id, every guest would be a single customer.
    MissingUserId,
    /// The date is empty or a missing-value marker (`NULL`, `NA`, `-`, …).
    MissingDate,
    /// The date stands for none: year 0000, or midnight of 1970-01-01, 1900-01-01,
    /// 1899-12-30 or 0001-01-01.
    PlaceholderDate,
    /// The date is in none of the shapes that are read (see [`dates`]).
    BadDate,
    /// The date has a known shape but does not exist (Feb 30, hour 25, a two-digit
    /// year, a slash date valid in neither order).
    ImpossibleDate,
    /// A slash date that exists only in the order the column is not read in
    /// (`13/01/2024` in a month-first column).
    DateOrderConflict,
    /// The amount (or quantity, unit price, variable cost) is empty or a
    /// missing-value marker: never read as 0.
    MissingAmount,
    /// The amount (or quantity, unit price, variable cost) is not a number, or the
    /// row's net amount is beyond ±[`MAX_AMOUNT`](amount::MAX_AMOUNT).
    BadAmount,
    /// The refund flag is not 1/0, true/false, yes/no (or y/n, t/f).
    BadRefundFlag,
    /// The currency is empty, or missing from the rates table given.
    BadCurrency,
    /// A quote that is never closed. No row is rejected with it at present: an
    /// unclosed quote stops the ingest with [`IngestError::UnclosedQuote`].
    UnclosedQuote,
}

impl Reason {
    /// The stable snake_case code (the serde name), as the report and JSON give it.
    pub fn code(self) -> &'static str {
        match self {
            Reason::FieldCount => "field_count",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::MissingUserId => "missing_user_id",
            Reason::MissingDate => "missing_date",
            Reason::PlaceholderDate => "placeholder_date",
            Reason::BadDate => "bad_date",
            Reason::ImpossibleDate => "impossible_date",
            Reason::DateOrderConflict => "date_order_conflict",
            Reason::MissingAmount => "missing_amount",
            Reason::BadAmount => "bad_amount",
            Reason::BadRefundFlag => "bad_refund_flag",
            Reason::BadCurrency => "bad_currency",
            Reason::UnclosedQuote => "unclosed_quote",
        }
    }
}

/// Read a whole CSV of transactions, calling `progress` after every piece
/// of about a megabyte and once at the end.
///
/// The file is read in blocks of whole records (see the `scan` module) whose pieces
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
    let Some((enc, why)) = encoding::detect(&sample) else {
        return ingest_text(input, sample, opts, progress, sizes, "UTF-8".into());
    };
    // Not UTF-8: everything from the first byte is decoded, and the sample
    // taken again from the decoded text.
    let mut decoded = encoding::Decoding::new(std::io::Cursor::new(sample).chain(input), enc);
    let mut sample = Vec::new();
    (&mut decoded).take(SAMPLE_BYTES).read_to_end(&mut sample)?;
    ingest_text(decoded, sample, opts, progress, sizes, format!("decoded from {} ({why})", enc.name()))
}

/// Ingest UTF-8 text whose first bytes (`sample`) were already read.
fn ingest_text<R: Read>(
    input: R,
    mut sample: Vec<u8>,
    opts: &IngestOptions,
    progress: &mut dyn FnMut(Progress),
    sizes: Option<(usize, usize)>,
    encoding: String,
) -> Result<Ingested, IngestError> {
    let whole_file = (sample.len() as u64) < SAMPLE_BYTES;
    if sample.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::Empty);
    }
    let sniffed = sniff(&sample, opts.delimiter)?;
    let delimiter = sniffed.delimiter as u8;
    let headers = sniffed.headers.clone();
    let map = opts.mapping.clone().unwrap_or_else(|| sniffed.mapping.clone());
    let (matches, notes) = detection_notes(&sniffed, &map);
    map.validate(&headers)?;
    if opts.margin && map.variable_cost.is_none() {
        return Err(IngestError::MissingColumn {
            role: "variable cost (e.g. variable_cost, cost, cogs), needed to count margins".into(),
            headers: headers.clone(),
        });
    }
    let decimal = match opts.decimal {
        Some(sep) => DecimalDecision::set(sep),
        None => decide_decimal(&sample, delimiter, &map),
    };
    let body = header_end(&sample, delimiter, whole_file)?;
    let first_line = 1 + scan::newlines(&sample[..body]);

    let segments = Segments::new(&map, &headers);
    let reader = Reader {
        decimal: decimal.separator,
        rates: opts.currency_rates.iter().map(|(c, r)| (c.trim().to_ascii_uppercase(), *r)).collect(),
        segment_columns: segments.columns.iter().map(|c| c.0).collect(),
        map,
        headers: headers.clone(),
        delimiter,
        margin: opts.margin,
        keep_duplicates: opts.keep_duplicates,
    };
    let mut blocks = Blocks::new(input, sample.split_off(body), first_line, delimiter).with_headers(headers.clone());
    let mut report = ReportBuilder::new(headers);
    notes.into_iter().for_each(|n| report.warn(n));
    let mut merged = Merged { segments, ..Merged::default() };
    if let Some((block, piece)) = sizes {
        blocks = blocks.with_sizes(block, piece);
    }
    // Block k is parsed while block k − 1's pieces are merged and block
    // k + 1 is read: merging is sequential (file order), parsing is not, and
    // reading (a copy and a scan for quotes and line ends) is done by this
    // thread, so the reader need not be `Send` (the browser's is not). With
    // one thread (wasm), the three run one after the other.
    let (mut bytes, mut rows) = (body as u64, 0u64);
    let mut previous: Vec<(u64, Parsed)> = Vec::new();
    let mut next = blocks.next_block()?;
    loop {
        let block = next.take();
        let pieces = block.as_ref().map(|b| b.pieces()).unwrap_or_default();
        let (mut parsed, mut merged_sizes, mut read) = (Vec::new(), Vec::new(), None);
        rayon::in_place_scope(|s| {
            s.spawn(|_| parsed = pieces.par_iter().map(|&piece| reader.parse_piece(piece)).collect());
            s.spawn(|_| {
                merged_sizes = std::mem::take(&mut previous)
                    .into_iter()
                    .map(|(size, parsed)| {
                        let records = parsed.records;
                        merged.absorb(parsed, &mut report);
                        (size, records)
                    })
                    .collect();
            });
            if block.is_some() {
                read = Some(blocks.next_block());
            }
        });
        for (size, records) in merged_sizes {
            bytes += size;
            rows += records;
            progress(Progress { bytes, rows });
        }
        previous = pieces.iter().map(|p| p.bytes.len() as u64).zip(parsed).collect();
        drop(pieces);
        let Some(block) = block else { break };
        blocks.recycle(block);
        next = read.transpose()?.flatten();
    }
    progress(Progress { bytes, rows });
    merged.finish(report, opts, &reader, rows, Decisions { decimal, matches, encoding })
}

/// What the report says about how roles were found: the header matches the
/// mapping kept, and why a role the header suggested was ruled out by its
/// values (unless that role was then mapped by hand).
fn detection_notes(sniffed: &Sniffed, map: &ColumnMapping) -> (Vec<RoleMatch>, Vec<String>) {
    let matches = sniffed.matches.iter().filter(|m| map.get(m.role) == Some(m.column)).cloned().collect();
    let notes =
        sniffed.notes.iter().filter(|(role, _)| map.get(*role) == sniffed.mapping.get(*role)).map(|n| n.1.clone());
    (matches, notes.collect())
}

fn decide_decimal(sample: &[u8], delimiter: u8, map: &ColumnMapping) -> DecimalDecision {
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
    /// Some id has edge spaces or invisible characters.
    padded_ids: bool,
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
        self.padded_ids |= parsed.padded_ids;
        self.pieces.push(PieceRows {
            rows: parsed.rows,
            runs: parsed.runs,
            run_order: parsed.run_order,
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
        decisions: Decisions,
    ) -> Result<Ingested, IngestError> {
        if reader.rates.is_empty() && self.currencies.len() > 1 {
            return Err(IngestError::MixedCurrencies { seen: self.currencies.into_iter().collect() });
        }
        let order = resolve_slash_dates(&mut self.pieces, opts.ambiguous_date_order, &mut report);
        let first = self.segments.first_purchase(&self.pieces, self.ids.len());
        if self.padded_ids {
            report.note_invisible_ids(self.ids.ids().iter());
        }
        let dedupe = (!opts.keep_duplicates).then_some(&mut report);
        let (mut transactions, kept) = Transactions::group(self.ids.into_ids(), &mut self.pieces, dedupe);
        transactions.attributes = self.segments.finish(&self.pieces, &first, kept.as_deref());
        // What is left of the pieces (fingerprints, runs; a 10M-row file's
        // are ~100 MB) is handed back to the system by both threads.
        std::mem::take(&mut self.pieces).into_par_iter().for_each(drop);
        let report = report.finish(FinishInfo {
            rows,
            delimiter: char::from(reader.delimiter),
            mapping: &reader.map,
            decisions,
            date_order: order,
            transactions: &transactions,
            // Converted amounts are in the reporting currency: the one whose rate is 1, when
            // the table names exactly one (else the report names none rather than a wrong one).
            currency: if reader.rates.is_empty() {
                self.currencies.into_keys().next()
            } else {
                let unit: Vec<&String> = reader.rates.iter().filter(|(_, r)| **r == 1.0).map(|(c, _)| c).collect();
                (unit.len() == 1).then(|| unit[0].clone())
            },
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

    /// Per customer (index before grouping), the (time, piece, row) of their
    /// earliest kept row, ties to the first in the file.
    fn first_purchase(&self, pieces: &[PieceRows], customers: usize) -> Vec<(i64, usize, usize)> {
        if self.columns.is_empty() {
            return Vec::new();
        }
        let mut best = vec![(i64::MAX, usize::MAX, usize::MAX); customers];
        for (pi, p) in pieces.iter().enumerate() {
            for k in 0..p.runs.len() {
                let b = &mut best[p.customers[k] as usize];
                for i in p.run_rows(k).filter(|&i| parse::kept(&p.rows.txns[i])) {
                    *b = (*b).min((p.rows.txns[i].ts, pi, i));
                }
            }
        }
        best
    }

    /// `kept`: per customer, their index before grouping (`None`: the same).
    fn finish(
        self,
        pieces: &[PieceRows],
        first: &[(i64, usize, usize)],
        kept: Option<&[u32]>,
    ) -> Vec<CustomerAttribute> {
        let k = self.columns.len();
        let customers = kept.map_or(first.len(), <[u32]>::len);
        let old = |c: usize| kept.map_or(c, |kept| kept[c] as usize);
        self.columns
            .into_iter()
            .zip(self.values)
            .enumerate()
            .map(|(j, ((_, name, role), values))| CustomerAttribute {
                name,
                role,
                values: values.into_ids(),
                of_customer: (0..customers)
                    .map(|c| {
                        let (_, piece, row) = first[old(c)];
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
    /// The order the column's slash dates were read in.
    pub order: DateOrder,
    /// "evidence" when some value only fits one order, "setting" when none did.
    pub decided_by: String,
    /// Slash dates that are dates only day-first (`13/01/2024`).
    pub day_first_only: u64,
    /// Slash dates that are dates only month-first (`01/13/2024`).
    pub month_first_only: u64,
    /// Slash dates that fit both orders (e.g. 03/04/2024): what the decision decides.
    #[serde(default)]
    pub ambiguous: u64,
}

impl DateOrderDecision {
    /// Words when the decision rests on thin or conflicting evidence (the
    /// rule of the decimal separator: a handful of cells deciding for more).
    pub fn warning(&self) -> Option<String> {
        if self.decided_by.starts_with("setting") {
            return Some(format!(
                "slash dates in this file never show which part is the day; read as {:?} by the setting. Change it if that is wrong.",
                self.order
            ));
        }
        let (deciding, against) = match self.order {
            DateOrder::DayFirst => (self.day_first_only, self.month_first_only),
            DateOrder::MonthFirst => (self.month_first_only, self.day_first_only),
        };
        let (name, other) = (self.order.name(), self.order.other().name());
        if against > 0 {
            Some(format!(
                "slash dates conflict: {deciding} only fit {name} and {against} only fit {other} — the column mixes formats; read as {name} and the {against} rejected (date_order_conflict)"
            ))
        } else if (deciding as usize) < crate::ingest::amount::FEW_DECIDING_CELLS && self.ambiguous > deciding {
            Some(format!(
                "slash dates read {name} on thin evidence: {deciding} date(s) decide it for {} that fit either order; check the dates, or set the order",
                self.ambiguous
            ))
        } else {
            None
        }
    }
}

fn resolve_slash_dates(
    pieces: &mut [PieceRows],
    setting: DateOrder,
    report: &mut ReportBuilder,
) -> Option<DateOrderDecision> {
    let slash = || pieces.iter().flat_map(|p| p.slash.iter().map(|s| s.1));
    slash().next()?; // no slash dates: nothing to decide
    let (mut dmy, mut mdy, mut ambiguous) = (0u64, 0u64, 0u64);
    for d in slash() {
        match d.valid_orders() {
            (true, false) => dmy += 1,
            (false, true) => mdy += 1,
            (true, true) => ambiguous += 1,
            (false, false) => {}
        }
    }
    let (order, decided_by) = match (dmy, mdy) {
        (0, 0) => (setting, "setting"),
        (d, m) if d > m => (DateOrder::DayFirst, "evidence"),
        (d, m) if m > d => (DateOrder::MonthFirst, "evidence"),
        _ => (setting, "setting (evidence tied)"),
    };
    let (name, other) = (order.name(), order.other().name());
    for p in pieces.iter_mut() {
        for &(i, d) in &p.slash {
            let i = i as usize;
            let (reason, message) = match d.resolve(order).map(|ts| (ts, dates::placeholder(ts))) {
                Some((ts, None)) => {
                    p.rows.txns[i].ts = ts;
                    report.time(ts);
                    continue;
                }
                Some((_, Some(why))) => (Reason::PlaceholderDate, why.to_string()),
                None => (
                    Reason::DateOrderConflict,
                    format!(
                        "{}/{}/{} is only a date {other}, but the column reads {name} ({decided_by})",
                        d.first, d.second, d.year
                    ),
                ),
            };
            let row = p.rows.get(i);
            report.unaccept(row.txn.amount, row.refund());
            p.rows.drop_row(i);
            report.reject(p.rows.line(i), reason, None, message);
        }
    }
    Some(DateOrderDecision {
        order,
        decided_by: decided_by.into(),
        day_first_only: dmy,
        month_first_only: mdy,
        ambiguous,
    })
}

/// File-wide reading decisions taken before streaming, for the report.
struct Decisions {
    decimal: DecimalDecision,
    /// How the header gave the roles that were detected and kept.
    matches: Vec<RoleMatch>,
    /// "UTF-8", or what the text was decoded from.
    encoding: String,
}

struct FinishInfo<'a> {
    rows: u64,
    delimiter: char,
    mapping: &'a ColumnMapping,
    decisions: Decisions,
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
