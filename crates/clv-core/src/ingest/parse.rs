//! One piece of the file, parsed on its own: rows read by the per-column
//! decisions taken from the sample, tallied, with the user ids of the piece
//! kept as runs (consecutive rows of one user share one id) so that the
//! file-wide id table is consulted once per run, not once per row.

use super::amount::{parse_amount, parse_flag, plain_number, AmountError, MAX_AMOUNT};
use super::dates::{iso_day, parse_date, placeholder, Cell, DateError, DateShape, SlashDate};
use super::ids::{is_placeholder_id, IdList, Interner};
use super::report::{looks_padded, Tally};
use super::scan::{for_each_record, Piece, Record};
use super::{ColumnMapping, DecimalSeparator, Reason, Txn};
use rustc_hash::FxHashMap;

/// Per-column reading decisions taken from the sample before streaming.
pub(super) struct Reader {
    pub map: ColumnMapping,
    pub headers: Vec<String>,
    pub delimiter: u8,
    pub decimal: DecimalSeparator,
    pub rates: FxHashMap<String, f64>,
    pub margin: bool,
    pub keep_duplicates: bool,
    /// Columns kept per customer (channel, country).
    pub segment_columns: Vec<usize>,
}

/// An accepted row on its way into [`super::Transactions`]: the
/// transaction and its mark, as [`Rows`] stores them side by side.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    /// The transaction; its time becomes [`Row::DROPPED`] if the row is
    /// dropped (date order conflict, duplicate).
    pub txn: Txn,
    /// The fingerprint of the raw row (0 when duplicates are kept) with its
    /// lowest bit replaced by the refund flag. Equal rows have equal flags.
    mark: u64,
}

impl Row {
    /// No date reads as this (years stop at ±9999).
    const DROPPED: i64 = i64::MIN;

    pub fn new(txn: Txn, fingerprint: u64, refund: bool) -> Row {
        Row { txn, mark: (fingerprint & !1) | u64::from(refund) }
    }

    pub fn kept(&self) -> bool {
        kept(&self.txn)
    }

    pub fn drop_row(&mut self) {
        self.txn.ts = Row::DROPPED;
    }

    /// Counted as a refund (so that dropping it later undoes exactly that).
    pub fn refund(&self) -> bool {
        self.mark & 1 == 1
    }

    /// Equal for equal raw rows (up to a 2⁻⁶³ collision).
    pub fn identity(&self) -> u64 {
        self.mark
    }
}

/// Whether a stored transaction is still kept (see [`Row::DROPPED`]).
pub(super) fn kept(txn: &Txn) -> bool {
    txn.ts != Row::DROPPED
}

/// How the rows of a run follow one another: what grouping needs to know
/// to use a customer's run where it lies (see [`super::Transactions`]).
/// Noted while parsing, when the rows are still in cache, so grouping does
/// not read them again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct RunOrder {
    /// Some time is earlier than the one before it.
    pub unordered: bool,
    /// Some row has the time of the row before it and may be a duplicate:
    /// it equals an earlier row of that time, or that time has many rows.
    pub maybe_duplicate: bool,
}

/// Same-time rows of one customer are compared pair by pair up to this
/// many; a larger group (a date-only file, a catch-all "guest" id) is left
/// to a set of fingerprints in grouping.
pub(super) const PAIRWISE_TIES: usize = 16;

impl RunOrder {
    /// Note row `i` of a run starting at `start` (rows before it noted);
    /// `tie` is where the rows with the time of row `i − 1` begin.
    #[inline]
    pub fn note(&mut self, rows: &Rows, start: usize, i: usize, tie: &mut usize) {
        if i == start || rows.txns[i].ts != rows.txns[i - 1].ts {
            self.unordered |= i > start && rows.txns[i].ts < rows.txns[i - 1].ts;
            *tie = i;
            return;
        }
        let mark = rows.marks[i];
        self.maybe_duplicate |= i - *tie >= PAIRWISE_TIES || rows.marks[*tie..i].contains(&mark);
    }

    pub fn of(rows: &Rows, run: std::ops::Range<usize>) -> RunOrder {
        let (mut order, mut tie) = (RunOrder::default(), run.start);
        for i in run.clone() {
            order.note(rows, run.start, i, &mut tie);
        }
        order
    }
}

/// A piece's accepted rows as columns. Why columns: the transactions of
/// a customer whose rows come in one run in time order are used where they
/// lie, as the final storage (see [`super::Transactions`]), so the
/// marks and lines, needed only until grouping, are kept apart and a
/// 10M-row file is never copied into a second 160 MB vector.
#[derive(Debug, Default)]
pub(super) struct Rows {
    pub txns: Vec<Txn>,
    marks: Vec<u64>,
    lines: LineMap,
}

impl Rows {
    pub fn with_capacity(n: usize) -> Rows {
        Rows { txns: Vec::with_capacity(n), marks: Vec::with_capacity(n), lines: LineMap::default() }
    }

    pub fn len(&self) -> usize {
        self.txns.len()
    }

    #[inline]
    pub fn push(&mut self, row: Row, line: u64) {
        self.lines.push(self.txns.len(), line);
        self.txns.push(row.txn);
        self.marks.push(row.mark);
    }

    pub fn get(&self, i: usize) -> Row {
        Row { txn: self.txns[i], mark: self.marks[i] }
    }

    /// The physical line row `i` came from.
    pub fn line(&self, i: usize) -> u64 {
        self.lines.get(i)
    }

    pub fn drop_row(&mut self, i: usize) {
        self.txns[i].ts = Row::DROPPED;
    }
}

/// Each row's physical line, stored only where it is not the line after the
/// previous row's (a rejected row, a blank line, a quoted line break): one
/// entry per piece for nearly every file instead of four bytes a row, and
/// eight at worst.
#[derive(Debug, Default)]
struct LineMap {
    /// The first row's line; the others are stored from it.
    base: u64,
    /// (first row, its line − `base`), rows ascending; the rows after it up
    /// to the next entry are on consecutive lines. A piece is far shorter
    /// than 2³² rows or lines (its one long record stops at 64 MB).
    jumps: Vec<(u32, u32)>,
}

impl LineMap {
    fn push(&mut self, row: usize, line: u64) {
        if self.jumps.is_empty() {
            self.base = line;
        }
        let (row, offset) = (row as u32, (line - self.base) as u32);
        if self.jumps.last().is_none_or(|&(r, l)| l + (row - r) != offset) {
            self.jumps.push((row, offset));
        }
    }

    fn get(&self, row: usize) -> u64 {
        let k = self.jumps.partition_point(|&(r, _)| r as usize <= row) - 1;
        let (r, l) = self.jumps[k];
        self.base + u64::from(l) + (row - r as usize) as u64
    }
}

/// A piece's accepted rows and its tally.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub rows: Rows,
    /// Runs of consecutive rows of one user: the first row of each, and
    /// (in `run_ids`) its user id.
    pub runs: Vec<u32>,
    pub run_ids: IdList,
    /// Per run, how its times follow one another (meaningless in a piece
    /// with slash dates, whose times are set later).
    pub run_order: Vec<RunOrder>,
    /// Some run's id has edge spaces or invisible characters.
    pub padded_ids: bool,
    /// Rows whose slash date waits for the column's order: (row, date).
    pub slash: Vec<(u32, SlashDate)>,
    pub currencies: Vec<(String, u64)>,
    /// Per accepted row, one value index per segment column (`u32::MAX` blank).
    pub segments: Vec<u32>,
    pub segment_values: Vec<Interner>,
    pub tally: Tally,
    /// Data rows read (accepted or not).
    pub records: u64,
}

pub(super) struct RowError {
    pub reason: Reason,
    pub column: Option<usize>,
    pub message: String,
}

fn row_err(reason: Reason, column: usize, message: impl Into<String>) -> RowError {
    RowError { reason, column: Some(column), message: message.into() }
}

struct ParsedRow<'r> {
    when: Cell,
    net: f64,
    refund: bool,
    currency: Option<&'r str>,
}

/// Byte equality without a `memcmp` call for short slices: every row's id
/// is compared with the previous row's, and most ids are a few bytes.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 16 {
        return a == b;
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

impl Reader {
    fn field<'r>(&self, rec: &Record<'r>, col: usize) -> Result<&'r str, RowError> {
        std::str::from_utf8(rec.get(col).unwrap_or_default())
            .map_err(|_| row_err(Reason::InvalidUtf8, col, "not valid UTF-8 text"))
    }

    fn number(&self, rec: &Record<'_>, col: usize, what: &str) -> Result<f64, RowError> {
        if let Some(v) = plain_number(rec.get(col).unwrap_or_default(), self.decimal) {
            return Ok(v);
        }
        parse_amount(self.field(rec, col)?, self.decimal).map_err(|e| match e {
            AmountError::Missing => row_err(Reason::MissingAmount, col, format!("{what} is missing (never read as 0)")),
            e => row_err(Reason::BadAmount, col, format!("{what}: {}", e.message(self.decimal))),
        })
    }

    fn date(&self, rec: &Record<'_>, col: usize) -> Result<Cell, RowError> {
        let cell = match iso_day(rec.get(col).unwrap_or_default()) {
            Some(cell) => cell,
            None => parse_date(self.field(rec, col)?).map_err(|e| {
                let reason = match e {
                    DateError::Missing => Reason::MissingDate,
                    DateError::Impossible(_) => Reason::ImpossibleDate,
                    DateError::Unrecognised => Reason::BadDate,
                };
                row_err(reason, col, e.message())
            })?,
        };
        match cell {
            Cell::Exact(ts, _) => match placeholder(ts) {
                Some(why) => Err(row_err(Reason::PlaceholderDate, col, why)),
                None => Ok(cell),
            },
            Cell::Slash(_) => Ok(cell), // checked once its order is known
        }
    }

    /// The user id unless it equals `known` (the previous accepted row's, or
    /// none), checked; `None` when it does.
    fn user<'r>(&self, rec: &Record<'r>, known: Option<&str>) -> Result<Option<&'r str>, RowError> {
        let uc = self.map.user_id.expect("validated");
        if known.is_some_and(|k| same_bytes(rec.get(uc).unwrap_or_default(), k.as_bytes())) {
            return Ok(None);
        }
        let id = self.field(rec, uc)?;
        if id.trim().is_empty() {
            return Err(row_err(Reason::MissingUserId, uc, "user id is empty"));
        }
        if is_placeholder_id(id) {
            return Err(row_err(Reason::MissingUserId, uc, format!("user id {id:?} stands for a missing id")));
        }
        Ok(Some(id))
    }

    fn parse<'r>(&self, rec: &Record<'r>) -> Result<ParsedRow<'r>, RowError> {
        let m = &self.map;
        let when = self.date(rec, m.timestamp.expect("validated"))?;
        let mut amount = match (m.amount, m.unit_price) {
            (Some(ac), _) => self.number(rec, ac, "amount")?,
            (None, Some(pc)) => {
                let q = self.number(rec, m.quantity.expect("validated"), "quantity")?;
                q * self.number(rec, pc, "unit price")?
            }
            // Counts only: a purchase with no value.
            (None, None) => 0.0,
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
        // Also catches what no single cell shows: quantity × price or a
        // conversion rate overflowing.
        if net.is_nan() || net.abs() > MAX_AMOUNT {
            let col = m.amount.or(m.unit_price).unwrap_or_default();
            let why =
                format!("{net:e} is beyond ±{MAX_AMOUNT:e}, the largest amount accepted (totals must stay finite)");
            return Err(row_err(Reason::BadAmount, col, why));
        }
        Ok(ParsedRow { when, net, refund, currency })
    }

    /// Parse every record of `piece`.
    pub fn parse_piece(&self, piece: Piece<'_>) -> Parsed {
        let mut out = Parsed {
            // Room for a row per line (a vector that grows is copied, and its
            // new pages touched), but never more than one per 16 bytes: a
            // quoted field of blank lines is not a million rows.
            rows: Rows::with_capacity((piece.line_ends as usize + 1).min(piece.bytes.len() / 16 + 1)),
            segment_values: self.segment_columns.iter().map(|_| Interner::default()).collect(),
            ..Parsed::default()
        };
        let mut scratch = Vec::new();
        let mut tie = 0; // see RunOrder::note
        let width = self.headers.len();
        for_each_record(piece, |rec| {
            out.records += 1;
            let line = rec.line;
            out.tally.line_breaks(line, rec.breaks);
            if rec.width() < width || rec.iter().skip(width).any(|f| !f.is_empty()) {
                let message =
                    format!("row has {} fields, the header has {width} (an unquoted delimiter?)", rec.width());
                out.tally.reject(&self.headers, line, Reason::FieldCount, None, message);
                return;
            }
            let parsed = self.user(rec, out.run_ids.last()).and_then(|user| self.parse(rec).map(|row| (user, row)));
            let (new_id, row) = match parsed {
                Ok(ok) => ok,
                Err(e) => {
                    if e.reason == Reason::MissingUserId {
                        out.tally.placeholder_id(rec.get(e.column.expect("a column")).unwrap_or_default());
                    }
                    return out.tally.reject(&self.headers, line, e.reason, e.column, e.message);
                }
            };
            if let Some(id) = new_id {
                out.padded_ids |= looks_padded(id);
                out.run_ids.push(id);
                out.runs.push(out.rows.len() as u32);
                out.run_order.push(RunOrder::default());
            }
            let ts = match row.when {
                Cell::Exact(ts, shape) => {
                    out.tally.date_shape(shape);
                    out.tally.time(ts);
                    ts
                }
                Cell::Slash(d) => {
                    out.tally.date_shape(DateShape::Slash);
                    out.slash.push((out.rows.len() as u32, d));
                    0
                }
            };
            // ISO 4217 codes are case-insensitive: `usd` is `USD`, counted and shown upper-case.
            if let Some(code) = row.currency {
                match out.currencies.iter_mut().find(|(c, _)| c.eq_ignore_ascii_case(code)) {
                    Some((_, n)) => *n += 1,
                    None => out.currencies.push((code.to_ascii_uppercase(), 1)),
                }
            }
            out.tally.accept(row.net, row.refund);
            for (k, &col) in self.segment_columns.iter().enumerate() {
                let raw = String::from_utf8_lossy(rec.get(col).unwrap_or_default());
                let value = raw.trim();
                let id = if value.is_empty() { u32::MAX } else { out.segment_values[k].intern(value) };
                out.segments.push(id);
            }
            let fp = if self.keep_duplicates { 0 } else { rec.fingerprint(self.delimiter, &mut scratch) };
            out.rows.push(Row::new(Txn { ts, amount: row.net }, fp, row.refund), line);
            let (start, i) = (*out.runs.last().expect("a run was started") as usize, out.rows.len() - 1);
            out.run_order.last_mut().expect("one per run").note(&out.rows, start, i, &mut tie);
        });
        out
    }
}
