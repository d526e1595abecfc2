//! Accepted rows, grouped by customer: [`Transactions`].
//!
//! Why the storage is in chunks: nearly every export lists a customer's
//! rows together and in time order, and then the rows a piece parsed are
//! already the customer's final history. Those piece vectors become the
//! storage as they are; only the customers whose rows must be gathered,
//! sorted or de-duplicated are copied. A 10M-row file so never holds a
//! second 160 MB copy of its transactions. With what parsing notes about
//! each run (see `parse::RunOrder`), grouping such a file reads none of its
//! rows again (measured on one: grouping 120 → ~6 ms, `clv summary` peak
//! RSS 578 → 372 MB).

use super::dates::SlashDate;
use super::ids::IdList;
use super::parse::{kept, Row, Rows, RunOrder, PAIRWISE_TIES};
use super::report::ReportBuilder;
use super::Txn;
use rayon::prelude::*;

/// Accepted transactions grouped by customer, each customer's sorted by time.
#[derive(Debug, Clone, Default)]
pub struct Transactions {
    ids: IdList,
    /// Where each customer's history lies in `chunks`.
    spans: Vec<Span>,
    chunks: Vec<Vec<Txn>>,
    len: usize,
    /// Per-customer values of the segment columns (channel, country).
    pub(super) attributes: Vec<CustomerAttribute>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Span {
    chunk: u32,
    start: u32,
    len: u32,
}

impl PartialEq for Transactions {
    /// Same customers with the same histories, however they are stored.
    fn eq(&self, other: &Transactions) -> bool {
        self.ids == other.ids
            && self.attributes == other.attributes
            && (0..self.customers()).all(|c| self.history(c) == other.history(c))
    }
}

/// A transaction column kept per customer: the value on their first
/// purchase (acquisition channel, country), interned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerAttribute {
    /// The column's header.
    pub name: String,
    /// Its role ("channel", "country"), which also finds it.
    pub role: &'static str,
    pub(super) values: IdList,
    /// Index into `values` per customer; `u32::MAX` when blank.
    pub(super) of_customer: Vec<u32>,
}

impl CustomerAttribute {
    /// The customer's value of this column on their first purchase (customer index
    /// as in [`Transactions`]); `None` when that cell was blank or the index is out
    /// of range.
    pub fn value(&self, customer: usize) -> Option<&str> {
        let v = *self.of_customer.get(customer)? as usize;
        (v < self.values.len()).then(|| self.values.get(v))
    }
}

impl Transactions {
    /// Build from (user id, transaction) pairs in any order.
    pub fn from_pairs<S: AsRef<str>>(pairs: impl IntoIterator<Item = (S, Txn)>) -> Transactions {
        let mut ids = super::ids::Interner::default();
        let mut piece = PieceRows::default();
        for (line, (id, txn)) in pairs.into_iter().enumerate() {
            piece.runs.push(piece.rows.len() as u32);
            piece.customers.push(ids.intern(id.as_ref()));
            piece.rows.push(Row::new(txn, 0, false), line as u64 + 2);
        }
        Transactions::group(ids.into_ids(), &mut [piece], None).0
    }

    /// Gather each customer's rows (file order), sort them by time (ties
    /// stay in file order) and, with a report, drop exact duplicate rows
    /// after their first occurrence: same fingerprint, hence same customer
    /// and time. Looking only within one customer's same-time rows keeps
    /// this O(n) in memory without a file-wide hash set.
    ///
    /// Two parallel passes over blocks of customers: the first finds the
    /// customers whose rows are one run in time order with no possible
    /// duplicate (from what parsing noted: nothing to sort or drop, so they
    /// stay where the piece put them); the second gathers, sorts and
    /// de-duplicates the others. A piece whose rows are mostly gathered elsewhere (a file not
    /// ordered by customer) is not kept as storage: its few in-place
    /// customers are copied too, and its vector freed. Takes the pieces'
    /// transactions; also returns, per kept customer, their index before
    /// grouping.
    pub(super) fn group(
        ids: IdList,
        pieces: &mut [PieceRows],
        dedupe: Option<&mut ReportBuilder>,
    ) -> (Transactions, Option<Vec<u32>>) {
        let runs = RunsByCustomer::new(ids.len(), pieces);
        let check = dedupe.is_some();
        // Each block of customers writes its own part of the spans, in place.
        // (Written in parallel: its first touch is shared by the threads.)
        let mut spans = Vec::with_capacity(ids.len());
        spans.par_extend(rayon::iter::repeat_n(Span::default(), ids.len()));
        let used: Vec<Vec<(u32, usize)>> = spans
            .par_chunks_mut(GROUP_BLOCK)
            .enumerate()
            .map(|(b, out)| runs.in_place_block(pieces, b * GROUP_BLOCK, out, check))
            .collect();
        let storage = pieces_kept_as_storage(pieces, &used);
        let gathered: Vec<Gathered> = spans
            .par_chunks_mut(GROUP_BLOCK)
            .enumerate()
            .map(|(b, out)| {
                let chunk = (pieces.len() + b) as u32;
                runs.gather_block(pieces, b * GROUP_BLOCK, out, &storage, check, chunk)
            })
            .collect();

        let mut chunks: Vec<Vec<Txn>> = pieces
            .iter_mut()
            .zip(&storage)
            .map(|(p, &keep)| if keep { trimmed(std::mem::take(&mut p.rows.txns)) } else { Vec::new() })
            .collect();
        let (mut len, mut empty) = (0, 0);
        let mut report = dedupe;
        for g in gathered {
            chunks.push(trimmed(g.txns));
            len += g.len;
            empty += g.empty;
            if let Some(report) = report.as_deref_mut() {
                for (line, d) in g.duplicates {
                    report.duplicate(line);
                    report.unaccept(d.txn.amount, d.refund());
                }
            }
        }
        if empty == 0 {
            return (Transactions { ids, spans, chunks, len, attributes: Vec::new() }, None);
        }
        // Customers whose every row was dropped are not customers.
        let mut kept_ids = IdList::default();
        let mut kept = Vec::new();
        let spans = (0..ids.len())
            .zip(spans)
            .filter(|(_, s)| s.len > 0)
            .map(|(c, s)| {
                kept_ids.push(ids.get(c));
                kept.push(c as u32);
                s
            })
            .collect();
        (Transactions { ids: kept_ids, spans, chunks, len, attributes: Vec::new() }, Some(kept))
    }

    /// The per-customer columns kept from the transactions (channel, country).
    pub fn attributes(&self) -> &[CustomerAttribute] {
        &self.attributes
    }

    /// A kept column by header or role name, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&CustomerAttribute> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name) || a.role.eq_ignore_ascii_case(name))
    }

    /// Number of customers; indices `0..customers()`, in order of first appearance
    /// in the file.
    pub fn customers(&self) -> usize {
        self.ids.len()
    }

    /// Transactions of all customers.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No transaction at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The user id of a customer, byte-exact as in the file. Panics when
    /// `customer >= customers()`.
    pub fn id(&self, customer: usize) -> &str {
        self.ids.get(customer)
    }

    /// The customer's transactions, sorted by time.
    pub fn history(&self, customer: usize) -> &[Txn] {
        let s = self.spans[customer];
        &self.chunks[s.chunk as usize][s.start as usize..(s.start + s.len) as usize]
    }

    /// Each customer's id and history, in customer order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Txn])> {
        (0..self.customers()).map(|c| (self.id(c), self.history(c)))
    }

    /// Every transaction, customer by customer.
    pub fn all(&self) -> impl Iterator<Item = &Txn> {
        (0..self.customers()).flat_map(|c| self.history(c))
    }
}

/// A piece's accepted rows once its users have file-wide indices.
#[derive(Debug, Default)]
pub(super) struct PieceRows {
    pub rows: Rows,
    /// First row of each run of one user, and that user's index.
    pub runs: Vec<u32>,
    pub customers: Vec<u32>,
    /// Per run, as parsed (empty when not known).
    pub run_order: Vec<RunOrder>,
    pub slash: Vec<(u32, SlashDate)>,
    /// Per row, the file-wide value index of each segment column.
    pub segments: Vec<u32>,
}

impl PieceRows {
    pub fn run_rows(&self, k: usize) -> std::ops::Range<usize> {
        let end = self.runs.get(k + 1).map_or(self.rows.len(), |&r| r as usize);
        self.runs[k] as usize..end
    }
}

/// Customers per parallel task in [`Transactions::group`].
const GROUP_BLOCK: usize = 1 << 12;

/// Whether each piece's vector is worth keeping as storage: at least half
/// its rows are histories used in place (`used`: per block of customers,
/// rows used in place per piece, as (piece, rows) in file order).
fn pieces_kept_as_storage(pieces: &[PieceRows], used: &[Vec<(u32, usize)>]) -> Vec<bool> {
    let mut rows = vec![0usize; pieces.len()];
    for &(p, n) in used.iter().flatten() {
        rows[p as usize] += n;
    }
    rows.iter().zip(pieces).map(|(&u, p)| u > 0 && 2 * u >= p.rows.len()).collect()
}

/// A vector kept as storage for the session, without much room to spare
/// (a gathered chunk grew by doubling; a piece reserved a row per line).
fn trimmed(mut txns: Vec<Txn>) -> Vec<Txn> {
    if txns.capacity() > txns.len() + txns.len() / 8 {
        txns.shrink_to_fit();
    }
    txns
}

/// A customer whose history is not used in place (yet).
const GATHERED: Span = Span { chunk: u32::MAX, start: 0, len: 0 };

/// A block of customers after the second pass of [`Transactions::group`].
struct Gathered {
    /// The histories of the block's customers that were not used in place,
    /// back to back: one chunk of the storage.
    txns: Vec<Txn>,
    /// Each duplicate dropped, with its line.
    duplicates: Vec<(u64, Row)>,
    /// Transactions kept in the block.
    len: usize,
    /// Customers left with none.
    empty: usize,
}

/// Each customer's runs (piece, run), in file order.
enum RunsByCustomer {
    /// A file ordered by customer: runs in file order belong to customers
    /// 0, 1, 2, … (ids are numbered by first appearance), a customer's runs
    /// only repeating across piece ends. Then a customer's piece is found
    /// from the first customer of each piece: (first customer, piece), for
    /// the pieces with runs.
    InOrder { piece_first: Vec<(usize, u32)> },
    /// Any other order: where each customer's runs start in `runs`.
    Counted { start: Vec<usize>, runs: Vec<(u32, u32)> },
}

/// A customer's runs: by value, or a slice of the index.
enum RunList<'a> {
    One([(u32, u32); 1]),
    Owned(Vec<(u32, u32)>),
    Many(&'a [(u32, u32)]),
}

impl std::ops::Deref for RunList<'_> {
    type Target = [(u32, u32)];
    fn deref(&self) -> &[(u32, u32)] {
        match self {
            RunList::One(run) => run,
            RunList::Owned(runs) => runs,
            RunList::Many(runs) => runs,
        }
    }
}

impl RunsByCustomer {
    fn new(customers: usize, pieces: &[PieceRows]) -> RunsByCustomer {
        let mut next = 0; // the customer the next new id will be
        let in_order = pieces.iter().all(|p| {
            let Some(&base) = p.customers.first() else { return true };
            let base = base as usize;
            // A piece may start by going on with the last piece's customer.
            let ok = (base == next || base + 1 == next)
                && p.customers.iter().enumerate().all(|(k, &c)| c as usize == base + k);
            next = base + p.customers.len();
            ok
        });
        if in_order {
            let piece_first = pieces
                .iter()
                .enumerate()
                .filter_map(|(i, p)| Some((*p.customers.first()? as usize, i as u32)))
                .collect();
            return RunsByCustomer::InOrder { piece_first };
        }
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
        RunsByCustomer::Counted { start, runs }
    }

    /// Where to start looking for `customer`'s runs; customers visited in
    /// order then move it along instead of searching for their piece.
    fn cursor(&self, customer: usize) -> usize {
        match self {
            RunsByCustomer::Counted { .. } => 0,
            RunsByCustomer::InOrder { piece_first } => {
                piece_first.partition_point(|&(first, _)| first <= customer).saturating_sub(1)
            }
        }
    }

    /// The runs of `customer`, visited at or after the cursor's customer.
    fn of(&self, pieces: &[PieceRows], customer: usize, cursor: &mut usize) -> RunList<'_> {
        let piece_first = match self {
            RunsByCustomer::Counted { start, runs } => {
                return RunList::Many(&runs[start[customer]..start[customer + 1]])
            }
            RunsByCustomer::InOrder { piece_first } => piece_first,
        };
        // The last piece whose runs start at or before the customer.
        while piece_first.get(*cursor + 1).is_some_and(|&(first, _)| first <= customer) {
            *cursor += 1;
        }
        let at = *cursor;
        let (first, p) = piece_first[at];
        let here = (p, (customer - first) as u32);
        if customer > first {
            return RunList::One([here]);
        }
        // The customer's first run in this piece: earlier pieces may end with theirs.
        let before = piece_first[..at]
            .iter()
            .rev()
            .map(|&(_, q)| q)
            .take_while(|&q| pieces[q as usize].customers.last() == Some(&(customer as u32)));
        let mut runs: Vec<(u32, u32)> = before.map(|q| (q, pieces[q as usize].customers.len() as u32 - 1)).collect();
        if runs.is_empty() {
            return RunList::One([here]);
        }
        runs.reverse();
        runs.push(here);
        RunList::Owned(runs)
    }

    /// Where a customer's history already lies, if it can be used in place:
    /// one run, every row kept, in time order, and (`dedupe`) no row equal
    /// to an earlier one of the same time. Ties are allowed: a stable sort
    /// would leave them in file order anyway.
    fn in_place(pieces: &[PieceRows], runs: &[(u32, u32)], dedupe: bool) -> Option<Span> {
        let [(p, k)] = *runs else { return None };
        let (piece, k) = (&pieces[p as usize], k as usize);
        let run = piece.run_rows(k);
        // Slash dates are set (or their rows dropped) after parsing: look at
        // the rows again there. A dropped row reads as the earliest time:
        // past the first, it breaks the order.
        let order = match piece.run_order.get(k) {
            Some(&order) if piece.slash.is_empty() => order,
            _ => RunOrder::of(&piece.rows, run.clone()),
        };
        // Rows are dropped before grouping only for slash-date conflicts.
        let dropped = !piece.slash.is_empty() && !kept(&piece.rows.txns[run.start]);
        if order.unordered || dropped || dedupe && order.maybe_duplicate {
            return None;
        }
        Some(Span { chunk: p, start: run.start as u32, len: run.len() as u32 })
    }

    /// The first pass over a block of customers from `first`: each one's
    /// span where it can be used in place, else [`GATHERED`]. Returns the
    /// rows used in place per piece.
    fn in_place_block(&self, pieces: &[PieceRows], first: usize, out: &mut [Span], dedupe: bool) -> Vec<(u32, usize)> {
        let mut used: Vec<(u32, usize)> = Vec::new();
        let mut cursor = self.cursor(first);
        for (i, span) in out.iter_mut().enumerate() {
            let runs = self.of(pieces, first + i, &mut cursor);
            *span = RunsByCustomer::in_place(pieces, &runs, dedupe).unwrap_or(GATHERED);
            if span.chunk == GATHERED.chunk {
                continue;
            }
            match used.last_mut() {
                Some((p, n)) if *p == span.chunk => *n += span.len as usize,
                _ => used.push((span.chunk, span.len as usize)),
            }
        }
        used
    }

    /// The second pass over a block: every customer not used in place (or
    /// whose piece is not kept as storage) is gathered (file order), sorted
    /// by time and de-duplicated into `chunk`.
    fn gather_block(
        &self,
        pieces: &[PieceRows],
        first: usize,
        spans: &mut [Span],
        storage: &[bool],
        dedupe: bool,
        chunk: u32,
    ) -> Gathered {
        let mut out = Gathered { txns: Vec::new(), duplicates: Vec::new(), len: 0, empty: 0 };
        // (row, piece, index in piece): the line is looked up only for a duplicate.
        let mut scratch: Vec<(Row, u32, u32)> = Vec::new();
        let mut cursor = self.cursor(first);
        for (i, span) in spans.iter_mut().enumerate() {
            if span.chunk != GATHERED.chunk && storage[span.chunk as usize] {
                out.len += span.len as usize;
                continue;
            }
            scratch.clear();
            for &(p, k) in self.of(pieces, first + i, &mut cursor).iter() {
                let rows = &pieces[p as usize].rows;
                let run = pieces[p as usize].run_rows(k as usize);
                scratch.extend(run.map(|i| (rows.get(i), p, i as u32)).filter(|r| r.0.kept()));
            }
            if !scratch.is_sorted_by_key(|r| r.0.txn.ts) {
                scratch.sort_by_key(|r| r.0.txn.ts);
            }
            if dedupe {
                for k in duplicates(&scratch) {
                    let (row, p, i) = scratch[k];
                    out.duplicates.push((pieces[p as usize].rows.line(i as usize), row));
                    scratch[k].0.drop_row();
                }
            }
            let start = out.txns.len();
            out.txns.extend(scratch.iter().filter(|r| r.0.kept()).map(|r| r.0.txn));
            *span = Span { chunk, start: start as u32, len: (out.txns.len() - start) as u32 };
            out.len += span.len as usize;
            out.empty += usize::from(span.len == 0);
        }
        out
    }
}

/// In one customer's rows sorted by time (ties in file order), the rows
/// equal to an earlier one of the same time: duplicates, in order. Groups
/// past [`PAIRWISE_TIES`] use a set of fingerprints instead of pairs.
fn duplicates(rows: &[(Row, u32, u32)]) -> Vec<usize> {
    let id = |k: usize| rows[k].0.identity();
    let mut out = Vec::new();
    let mut seen = rustc_hash::FxHashSet::default();
    let mut i = 0;
    while i < rows.len() {
        let ts = rows[i].0.txn.ts;
        let j = i + rows[i..].iter().take_while(|r| r.0.txn.ts == ts).count();
        if j - i <= PAIRWISE_TIES {
            // An earlier row that is itself a duplicate equals an earlier kept one.
            out.extend((i + 1..j).filter(|&k| (i..k).any(|e| id(e) == id(k))));
        } else {
            seen.clear();
            out.extend((i..j).filter(|&k| !seen.insert(id(k))));
        }
        i = j;
    }
    out
}
