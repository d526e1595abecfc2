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
mod lines;
mod report;

pub use amount::DecimalSeparator;
pub use columns::{ColumnMapping, Role};
pub use dates::DateOrder;
pub use report::{ColumnReport, IngestReport, ReasonSummary, Rejection};

use amount::{parse_amount, parse_flag, AmountError, DecimalEvidence};
use dates::{parse_date, Cell, DateError, DateShape, SlashDate};
use report::ReportBuilder;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

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
    ids: Vec<Box<str>>,
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
    values: Vec<Box<str>>,
    /// Index into `values` per customer; `u32::MAX` when blank.
    of_customer: Vec<u32>,
}

impl CustomerAttribute {
    pub fn value(&self, customer: usize) -> Option<&str> {
        self.of_customer.get(customer).and_then(|&v| self.values.get(v as usize)).map(|v| &**v)
    }
}

impl Transactions {
    /// Build from (user id, transaction) pairs in any order.
    pub fn from_pairs<S: AsRef<str>>(pairs: impl IntoIterator<Item = (S, Txn)>) -> Transactions {
        let mut index: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut flat = Vec::new();
        for (line, (id, txn)) in pairs.into_iter().enumerate() {
            let id = id.as_ref();
            let next = index.len() as u32;
            let customer = *index.entry(id.into()).or_insert(next);
            flat.push(Pending { customer, line: line as u32, fp: 0, txn });
        }
        Transactions::group(index, flat, None).0
    }

    /// Counting sort by customer, then by (time, line) inside each customer.
    /// With a report, exact duplicate rows (same fingerprint, hence same
    /// customer and time) are dropped after their first occurrence and
    /// counted: looking only within one customer's same-time rows keeps this
    /// O(n) in memory without a file-wide hash set.
    /// Also returns, per kept customer, their index before grouping.
    fn group(
        index: FxHashMap<Box<str>, u32>,
        flat: Vec<Pending>,
        mut dedupe: Option<&mut ReportBuilder>,
    ) -> (Transactions, Vec<u32>) {
        let n = index.len();
        let mut start = vec![0usize; n + 1];
        for p in &flat {
            start[p.customer as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut cursor = start.clone();
        let mut sorted: Vec<Pending> = Vec::with_capacity(flat.len());
        sorted.resize(flat.len(), Pending { customer: u32::MAX, line: 0, fp: 0, txn: Txn { ts: 0, amount: 0.0 } });
        for p in flat {
            let c = p.customer as usize;
            sorted[cursor[c]] = p;
            cursor[c] += 1;
        }
        let mut ids_by_old: Vec<Option<Box<str>>> = vec![None; n];
        for (id, c) in index {
            ids_by_old[c as usize] = Some(id);
        }
        let mut ids = Vec::with_capacity(n);
        let mut kept = Vec::with_capacity(n);
        let mut offsets = vec![0usize];
        let mut txns = Vec::with_capacity(sorted.len());
        for (old, id) in ids_by_old.into_iter().enumerate() {
            let rows = &mut sorted[start[old]..start[old + 1]];
            rows.sort_unstable_by_key(|p| (p.txn.ts, p.line));
            if let Some(report) = dedupe.as_deref_mut() {
                mark_duplicates(rows, report);
            }
            let before = txns.len();
            txns.extend(rows.iter().filter(|p| p.customer != u32::MAX).map(|p| p.txn));
            if txns.len() > before {
                ids.push(id.expect("every index has an id"));
                kept.push(old as u32);
                offsets.push(txns.len());
            }
        }
        (Transactions { ids, offsets, txns, attributes: Vec::new() }, kept)
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
        &self.ids[customer]
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

/// A row on its way into [`Transactions`].
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Index into the id map; `u32::MAX` once the row is dropped.
    customer: u32,
    line: u32,
    /// Fingerprint of the raw row (0 when duplicates are kept).
    fp: u64,
    txn: Txn,
}

/// In one customer's rows sorted by (time, line), a row equal to an earlier
/// one of the same time is a duplicate: drop it and count it.
fn mark_duplicates(rows: &mut [Pending], report: &mut ReportBuilder) {
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j].txn.ts == rows[i].txn.ts {
            j += 1;
        }
        for k in i + 1..j {
            if (i..k).any(|e| rows[e].customer != u32::MAX && rows[e].fp == rows[k].fp) {
                report.duplicate(u64::from(rows[k].line));
                report.unaccept(rows[k].txn.amount);
                rows[k].customer = u32::MAX;
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

struct RowError {
    reason: Reason,
    column: Option<usize>,
    message: String,
}

fn row_err(reason: Reason, column: usize, message: impl Into<String>) -> RowError {
    RowError { reason, column: Some(column), message: message.into() }
}

/// Per-column reading decisions taken from the sample before streaming.
struct Reader {
    map: ColumnMapping,
    decimal: DecimalSeparator,
    rates: FxHashMap<String, f64>,
    margin: bool,
}

struct ParsedRow<'r> {
    user: &'r str,
    when: Cell,
    net: f64,
    refund: bool,
    currency: Option<&'r str>,
}

impl Reader {
    fn field<'r>(&self, rec: &'r csv::ByteRecord, col: usize) -> Result<&'r str, RowError> {
        std::str::from_utf8(rec.get(col).unwrap_or_default())
            .map_err(|_| row_err(Reason::InvalidUtf8, col, "not valid UTF-8 text"))
    }

    fn number(&self, rec: &csv::ByteRecord, col: usize, what: &str) -> Result<f64, RowError> {
        parse_amount(self.field(rec, col)?, self.decimal).map_err(|e| match e {
            AmountError::Missing => row_err(Reason::MissingAmount, col, format!("{what} is missing (never read as 0)")),
            e => row_err(Reason::BadAmount, col, format!("{what}: {}", e.message(self.decimal))),
        })
    }

    fn parse<'r>(&self, rec: &'r csv::ByteRecord) -> Result<ParsedRow<'r>, RowError> {
        let m = &self.map;
        let uc = m.user_id.expect("validated");
        let user = self.field(rec, uc)?;
        if user.trim().is_empty() {
            return Err(row_err(Reason::MissingUserId, uc, "user id is empty"));
        }
        let tc = m.timestamp.expect("validated");
        let when = parse_date(self.field(rec, tc)?).map_err(|e| {
            let reason = match e {
                DateError::Missing => Reason::MissingDate,
                DateError::Impossible(_) => Reason::ImpossibleDate,
                DateError::Unrecognised => Reason::BadDate,
            };
            row_err(reason, tc, e.message())
        })?;
        let mut amount = match m.amount {
            Some(ac) => self.number(rec, ac, "amount")?,
            None => {
                let q = self.number(rec, m.quantity.expect("validated"), "quantity")?;
                let p = self.number(rec, m.unit_price.expect("validated"), "unit price")?;
                q * p
            }
        };
        let mut refund = amount < 0.0;
        if let Some(rc) = m.is_refund {
            let raw = self.field(rec, rc)?;
            refund |= parse_flag(raw).ok_or_else(|| {
                row_err(Reason::BadRefundFlag, rc, format!("refund flag {raw:?}: expected 1/0, true/false, yes/no"))
            })?;
        }
        if let Some(ic) = m.invoice {
            refund |= self.field(rec, ic)?.trim_start().starts_with(['C', 'c']);
        }
        let mut currency = None;
        let mut rate = 1.0;
        if let Some(cc) = m.currency {
            let code = self.field(rec, cc)?.trim();
            if code.is_empty() {
                return Err(row_err(Reason::BadCurrency, cc, "currency is empty"));
            }
            if !self.rates.is_empty() {
                rate = *self.rates.get(&code.to_ascii_uppercase()).ok_or_else(|| {
                    row_err(Reason::BadCurrency, cc, format!("currency {code:?} is not in the conversion table"))
                })?;
                amount *= rate;
            }
            currency = Some(code);
        }
        // A refund always reduces value, whichever sign the export used; with
        // margins, a return gives the goods back, so it reverses the margin
        // (which may itself be negative: a sale below cost).
        let net = match m.variable_cost.filter(|_| self.margin) {
            Some(vc) => {
                let margin = amount.abs() - rate * self.number(rec, vc, "variable cost")?.abs();
                if refund {
                    -margin
                } else {
                    margin
                }
            }
            None if refund => -amount.abs(),
            None => amount,
        };
        Ok(ParsedRow { user, when, net, refund, currency })
    }
}

/// How often (in rows) [`ingest`] reports progress.
pub const PROGRESS_EVERY_ROWS: u64 = 16_384;

/// Read a whole CSV of transactions, calling `progress` every
/// [`PROGRESS_EVERY_ROWS`] rows and once at the end.
pub fn ingest<R: Read>(
    reader: R,
    opts: &IngestOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Ingested, IngestError> {
    let (tap, mut lines) = lines::tap(reader);
    let mut buf = BufReader::with_capacity(1 << 20, tap);
    let sample = buf.fill_buf()?.to_vec();
    if sample.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::Empty);
    }
    let sniffed = sniff(&sample, opts.delimiter)?;
    let headers = sniffed.headers;
    let map = opts.mapping.clone().unwrap_or(sniffed.mapping);
    map.validate(&headers)?;
    if opts.margin && map.variable_cost.is_none() {
        return Err(IngestError::MissingColumn {
            role: "variable cost (e.g. variable_cost, cost, cogs), needed to count margins".into(),
            headers: headers.clone(),
        });
    }

    let mut evidence = DecimalEvidence::default();
    let money_cols: Vec<usize> = [map.amount, map.unit_price, map.variable_cost].into_iter().flatten().collect();
    let mut sample_rdr =
        csv::ReaderBuilder::new().delimiter(sniffed.delimiter as u8).flexible(true).from_reader(&sample[..]);
    for rec in sample_rdr.byte_records().take(2000).filter_map(Result::ok) {
        for &c in &money_cols {
            evidence.observe(&String::from_utf8_lossy(rec.get(c).unwrap_or_default()));
        }
    }
    let reader = Reader {
        decimal: evidence.decide(),
        rates: opts.currency_rates.iter().map(|(c, r)| (c.trim().to_ascii_uppercase(), *r)).collect(),
        map,
        margin: opts.margin,
    };

    let mut rdr = csv::ReaderBuilder::new().delimiter(sniffed.delimiter as u8).flexible(true).from_reader(buf);
    rdr.byte_headers().map_err(|e| csv_error(&e))?;

    let mut report = ReportBuilder::new(headers.clone());
    let mut index: FxHashMap<Box<str>, u32> = FxHashMap::default();
    let mut flat: Vec<Pending> = Vec::new();
    let mut slash: Vec<(u32, u64, SlashDate)> = Vec::new();
    let mut scratch = Vec::new();
    let mut currencies: BTreeMap<String, u64> = BTreeMap::new();
    let mut rec = csv::ByteRecord::new();
    let mut rows: u64 = 0;
    let mut segments = Segments::new(&reader.map, &headers);

    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // A broken quote or bad UTF-8 inside the reader: report, keep going.
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                rows += 1;
                report.reject(line, Reason::FieldCount, None, format!("unreadable CSV row: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(csv_error(&e));
                }
                continue;
            }
        }
        rows += 1;
        let line = rec.position().map_or(0, |p| lines.line_at(p.byte()));
        if rows.is_multiple_of(PROGRESS_EVERY_ROWS) {
            progress(Progress { bytes: rec.position().map_or(0, |p| p.byte()), rows });
        }
        let extra_filled = rec.iter().skip(headers.len()).any(|f| !f.is_empty());
        if rec.len() < headers.len() || extra_filled {
            report.reject(
                line,
                Reason::FieldCount,
                None,
                format!("row has {} fields, the header has {} (an unquoted delimiter?)", rec.len(), headers.len()),
            );
            continue;
        }
        let row = match reader.parse(&rec) {
            Ok(row) => row,
            Err(e) => {
                report.reject(line, e.reason, e.column, e.message);
                continue;
            }
        };
        let next = index.len() as u32;
        let customer = match index.get(row.user) {
            Some(&c) => c,
            None => {
                index.insert(row.user.into(), next);
                next
            }
        };
        let ts = match row.when {
            Cell::Exact(ts, shape) => {
                report.date_shape(shape);
                ts
            }
            Cell::Slash(d) => {
                report.date_shape(DateShape::Slash);
                slash.push((flat.len() as u32, line, d));
                0
            }
        };
        if let Some(code) = row.currency {
            if let Some(n) = currencies.get_mut(code) {
                *n += 1;
            } else {
                currencies.insert(code.to_string(), 1);
            }
        }
        report.accept(row.net, row.refund);
        segments.observe(&rec);
        let fp = if opts.keep_duplicates { 0 } else { fingerprint(&rec, &mut scratch) };
        flat.push(Pending {
            customer,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            fp,
            txn: Txn { ts, amount: row.net },
        });
    }
    progress(Progress { bytes: rdr.position().byte(), rows });

    if reader.rates.is_empty() && currencies.len() > 1 {
        return Err(IngestError::MixedCurrencies { seen: currencies.into_iter().collect() });
    }
    let order = resolve_slash_dates(&mut flat, &slash, opts.ambiguous_date_order, &mut report);
    let first = segments.first_purchase(&flat, index.len());
    flat.retain(|p| p.customer != u32::MAX);
    report.note_invisible_ids(index.keys().map(|k| &**k));
    let (mut transactions, kept) = Transactions::group(index, flat, (!opts.keep_duplicates).then_some(&mut report));
    transactions.attributes = segments.finish(&first, &kept);
    let report = report.finish(FinishInfo {
        rows,
        delimiter: sniffed.delimiter,
        mapping: &reader.map,
        decimal: reader.decimal,
        date_order: order,
        transactions: &transactions,
        currency: currencies.into_keys().next(),
        converted: !reader.rates.is_empty(),
        margin: reader.margin,
    });
    Ok(Ingested { transactions, report })
}

/// The segment columns (channel, country) while streaming: each accepted
/// row's interned values, in step with the pending rows.
struct Segments {
    /// (column, header, role name).
    columns: Vec<(usize, String, &'static str)>,
    interned: Vec<Interned>,
    rows: Vec<u32>,
}

/// Distinct values of one column: lookup and list.
type Interned = (FxHashMap<Box<str>, u32>, Vec<Box<str>>);

impl Segments {
    fn new(map: &ColumnMapping, headers: &[String]) -> Segments {
        let columns: Vec<(usize, String, &'static str)> =
            Role::SEGMENTS.iter().filter_map(|&r| map.get(r).map(|c| (c, headers[c].clone(), r.name()))).collect();
        let interned = columns.iter().map(|_| Default::default()).collect();
        Segments { columns, interned, rows: Vec::new() }
    }

    fn observe(&mut self, rec: &csv::ByteRecord) {
        for (k, &(col, _, _)) in self.columns.iter().enumerate() {
            let raw = String::from_utf8_lossy(rec.get(col).unwrap_or_default());
            let value = raw.trim();
            let (map, values) = &mut self.interned[k];
            let id = if value.is_empty() {
                u32::MAX
            } else {
                *map.entry(value.into()).or_insert_with(|| {
                    values.push(value.into());
                    values.len() as u32 - 1
                })
            };
            self.rows.push(id);
        }
    }

    /// Per customer (index before grouping), the values on the earliest
    /// kept row (time, then file line).
    fn first_purchase(&self, flat: &[Pending], customers: usize) -> Vec<(i64, u32, usize)> {
        let k = self.columns.len();
        let mut best = vec![(i64::MAX, u32::MAX, usize::MAX); if k == 0 { 0 } else { customers }];
        if k > 0 {
            for (i, p) in flat.iter().enumerate().filter(|(_, p)| p.customer != u32::MAX) {
                let b = &mut best[p.customer as usize];
                if (p.txn.ts, p.line) < (b.0, b.1) {
                    *b = (p.txn.ts, p.line, i);
                }
            }
        }
        best
    }

    fn finish(self, first: &[(i64, u32, usize)], kept: &[u32]) -> Vec<CustomerAttribute> {
        let k = self.columns.len();
        let rows = &self.rows;
        self.columns
            .into_iter()
            .zip(self.interned)
            .enumerate()
            .map(|(j, ((_, name, role), (_, values)))| CustomerAttribute {
                name,
                role,
                values,
                of_customer: kept.iter().map(|&old| rows[first[old as usize].2 * k + j]).collect(),
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
    flat: &mut [Pending],
    slash: &[(u32, u64, SlashDate)],
    setting: DateOrder,
    report: &mut ReportBuilder,
) -> Option<DateOrderDecision> {
    if slash.is_empty() {
        return None;
    }
    let (mut dmy, mut mdy) = (0u64, 0u64);
    for (_, _, d) in slash {
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
    for &(i, line, d) in slash {
        match d.resolve(order) {
            Some(ts) => flat[i as usize].txn.ts = ts,
            None => {
                let p = &mut flat[i as usize];
                report.unaccept(p.txn.amount);
                p.customer = u32::MAX;
                report.reject(
                    line,
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
    Some(DateOrderDecision { order, decided_by: decided_by.into(), day_first_only: dmy, month_first_only: mdy })
}

/// 64-bit fingerprint of a whole row (xxh3, the same on every platform; a
/// `Hasher`'s output is 32-bit on wasm32 for FxHash). Rows are compared only
/// with rows of the same customer and time, so a false "duplicate" needs a
/// 2⁻⁶⁴ collision inside such a handful. Fields are length-prefixed so
/// `a,bc` and `ab,c` differ.
fn fingerprint(rec: &csv::ByteRecord, scratch: &mut Vec<u8>) -> u64 {
    scratch.clear();
    for f in rec.iter() {
        scratch.extend_from_slice(&(f.len() as u32).to_le_bytes());
        scratch.extend_from_slice(f);
    }
    xxhash_rust::xxh3::xxh3_64(scratch)
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
