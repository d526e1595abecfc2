//! The ingest report: what was read, how, and every row that was not used.

use super::dates::DateShape;
use super::{ColumnMapping, DateOrderDecision, DecimalSeparator, FinishInfo, Reason, Role};
use crate::time::{format_ts, SECONDS_PER_DAY};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Rejections kept one by one; beyond this only counts per reason grow.
pub const MAX_LISTED_REJECTIONS: usize = 1000;
/// Line numbers kept per reason for the summary.
pub const FIRST_LINES_PER_REASON: usize = 5;

/// One row that was not used. The report lists the first 1,000 of a file
/// (`MAX_LISTED_REJECTIONS`); beyond that only the counts grow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// 1-based physical line where the row starts (header = 1).
    pub line: u64,
    /// The stable code of its [`Reason`] (`bad_date`, …).
    pub reason: String,
    /// Header of the column at fault (`#n`, 1-based, for a column past the
    /// header); `None` when the row as a whole is at fault (its field count).
    pub column: Option<String>,
    /// What is wrong, for people; starts with `column "name": ` when a column is at
    /// fault.
    pub message: String,
}

/// The rows rejected for one reason: how many, and where to look first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonSummary {
    /// The stable code of the [`Reason`] (`bad_date`, …).
    pub reason: String,
    /// Rows rejected for it, all of them (not only those listed).
    pub count: u64,
    /// Lines of the first rows rejected for it, at most 5
    /// (`FIRST_LINES_PER_REASON`).
    pub first_lines: Vec<u64>,
    /// The first row's message, as an example.
    pub example: String,
}

/// How one column of the header was used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnReport {
    /// 0-based position in the header.
    pub index: usize,
    /// Header name, trimmed.
    pub name: String,
    /// The role the column was read in; `None` when it was not used.
    pub role: Option<Role>,
    /// How its values were read, in words (decimal separator, date shapes, …), and
    /// why it got its role when only part of its header matched.
    pub read_as: String,
}

/// Everything a user should know about an ingest: counts, how the file was
/// read, what was not used and why, the span of the data, and warnings.
/// `rows` = `accepted` + `rejected` + `duplicates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestReport {
    /// Data rows: the header and blank lines are not rows.
    pub rows: u64,
    /// Rows kept as transactions; rows found later to be duplicates, or refused
    /// once the slash-date order was known, are taken out again.
    pub accepted: u64,
    /// Rows not used, for any [`Reason`] (duplicates are counted apart).
    pub rejected: u64,
    /// Exact duplicate rows dropped (0 when duplicates are kept): same raw row,
    /// hence same customer and time, after its first occurrence.
    pub duplicates: u64,
    /// First line numbers (1-based physical lines, header = 1) of duplicates.
    pub duplicate_lines: Vec<u64>,
    /// Rejections per reason, in the order [`Reason`] declares them.
    pub reasons: Vec<ReasonSummary>,
    /// The first 1,000 rejected rows (`MAX_LISTED_REJECTIONS`), in file order,
    /// except that rows refused once the slash-date order was known come last.
    pub rejections: Vec<Rejection>,
    /// More rows were rejected than `rejections` lists.
    pub rejections_truncated: bool,
    /// One entry per header column, in header order.
    pub columns: Vec<ColumnReport>,
    /// How the file was read, in words, by aspect: `delimiter`, `encoding`,
    /// `decimal_separator` and `date` (the date shapes seen, with counts).
    pub formats: BTreeMap<String, String>,
    /// How the day/month order of slash dates was decided; `None` when the file has
    /// none.
    pub date_order: Option<DateOrderDecision>,
    /// Customers with at least one accepted transaction.
    pub customers: u64,
    /// Earliest accepted transaction, `YYYY-MM-DDTHH:MM:SSZ` (UTC); `None` when
    /// nothing was accepted.
    pub first_ts: Option<String>,
    /// Latest accepted transaction, `YYYY-MM-DDTHH:MM:SSZ` (UTC); `None` when
    /// nothing was accepted.
    pub last_ts: Option<String>,
    /// Whole days (of 86,400 s, rounded down) from the first to the last accepted
    /// transaction; 0 when nothing was accepted.
    pub days_spanned: i64,
    /// Sum of the accepted net amounts (refunds negative): margins if margins were
    /// asked for, converted if a rates table was given.
    pub net_revenue: f64,
    /// Accepted rows counted as refunds: a negative amount, a refund flag, or an
    /// invoice number starting with `C` (a cancellation).
    pub refunds: u64,
    /// Sum of the refunds' net amounts, already part of `net_revenue` (negative,
    /// except for margin refunds of sales below cost).
    pub refund_total: f64,
    /// The currency of the amounts (`None` without a currency column): the file's single
    /// currency, or, when a rates table converted them, the table's currency with rate 1
    /// (`None` when the table has none or several).
    pub currency: Option<String>,
    /// No amount column (nor quantity × price): purchases are counted, each
    /// worth 0 — the count models fit, spend and value are not estimated.
    #[serde(default)]
    pub counts_only: bool,
    /// What the user should check, in words: roles found from part of a header,
    /// thin evidence for the decimal separator or date order, placeholder or
    /// look-alike ids, quoted fields over many lines, …
    pub warnings: Vec<String>,
}

/// Earliest and latest time; empty (`MAX`, `MIN`) by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimeRange(i64, i64);

impl Default for TimeRange {
    fn default() -> TimeRange {
        TimeRange(i64::MAX, i64::MIN)
    }
}

impl TimeRange {
    fn with(self, other: TimeRange) -> TimeRange {
        TimeRange(self.0.min(other.0), self.1.max(other.1))
    }
}

/// What happened to a stretch of rows. Pieces of a file are tallied on
/// their own threads and added up in file order, so every count, list and
/// "first lines" is what one pass over the file would have produced.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub accepted: u64,
    pub net: f64,
    pub refunds: u64,
    pub refund_total: f64,
    shapes: [u64; DateShape::ALL.len()],
    /// The earliest and latest time of the accepted rows (only dropped
    /// duplicates, whose twin has the same time, may still leave).
    times: TimeRange,
    rejected: u64,
    by_reason: BTreeMap<Reason, ReasonSummary>,
    rejections: Vec<Rejection>,
    /// Rows per distinct id that stands for a missing one (`NULL`, `-`, …).
    placeholder_ids: BTreeMap<String, u64>,
    /// Records whose quoted fields hold line breaks, and the one covering
    /// the most lines (its first line, its breaks; the first such in the file).
    multiline: u64,
    longest: Option<(u64, u64)>,
}

/// A record whose quoted fields run over more lines than this is reported:
/// addresses and notes hold a few; a stray `"` closed by another one far
/// below joins every line between into one row.
pub const MANY_LINES: u64 = 5;

impl Tally {
    pub fn reject(&mut self, headers: &[String], line: u64, reason: Reason, column: Option<usize>, message: String) {
        self.rejected += 1;
        let column = column.map(|c| headers.get(c).cloned().unwrap_or_else(|| format!("#{}", c + 1)));
        let message = match &column {
            Some(name) => format!("column {name:?}: {message}"),
            None => message,
        };
        let entry = self.by_reason.entry(reason).or_insert_with(|| ReasonSummary {
            reason: reason.code().into(),
            count: 0,
            first_lines: Vec::new(),
            example: message.clone(),
        });
        entry.count += 1;
        if entry.first_lines.len() < FIRST_LINES_PER_REASON {
            entry.first_lines.push(line);
        }
        if self.rejections.len() < MAX_LISTED_REJECTIONS {
            self.rejections.push(Rejection { line, reason: reason.code().into(), column, message });
        }
    }

    /// Note a record whose quoted fields hold `breaks` line breaks.
    pub fn line_breaks(&mut self, line: u64, breaks: u64) {
        if breaks > 0 {
            self.multiline += 1;
            self.line_breaks_at(line, breaks);
        }
    }

    /// Count a row whose id was a placeholder for a missing one.
    pub fn placeholder_id(&mut self, raw: &[u8]) {
        // Few distinct values (a fixed list), so no cap is needed.
        *self.placeholder_ids.entry(String::from_utf8_lossy(raw).into_owned()).or_default() += 1;
    }

    #[inline]
    pub fn accept(&mut self, net: f64, refund: bool) {
        self.accepted += 1;
        self.net += net;
        if refund {
            self.refunds += 1;
            self.refund_total += net;
        }
    }

    #[inline]
    pub fn time(&mut self, ts: i64) {
        self.times = self.times.with(TimeRange(ts, ts));
    }

    #[inline]
    pub fn date_shape(&mut self, shape: DateShape) {
        self.shapes[shape as usize] += 1;
    }

    /// Add the tally of the rows that come next in the file.
    pub fn add(&mut self, next: Tally) {
        self.accepted += next.accepted;
        self.net += next.net;
        self.refunds += next.refunds;
        self.refund_total += next.refund_total;
        self.times = self.times.with(next.times);
        for (mine, theirs) in self.shapes.iter_mut().zip(next.shapes) {
            *mine += theirs;
        }
        self.rejected += next.rejected;
        for (reason, theirs) in next.by_reason {
            let mine = self.by_reason.entry(reason).or_insert(ReasonSummary {
                count: 0,
                first_lines: Vec::new(),
                ..theirs.clone()
            });
            mine.count += theirs.count;
            let room = FIRST_LINES_PER_REASON.saturating_sub(mine.first_lines.len());
            mine.first_lines.extend(theirs.first_lines.into_iter().take(room));
        }
        let room = MAX_LISTED_REJECTIONS.saturating_sub(self.rejections.len());
        self.rejections.extend(next.rejections.into_iter().take(room));
        for (id, n) in next.placeholder_ids {
            *self.placeholder_ids.entry(id).or_default() += n;
        }
        self.multiline += next.multiline;
        if let Some((line, breaks)) = next.longest {
            self.line_breaks_at(line, breaks);
        }
    }

    fn line_breaks_at(&mut self, line: u64, breaks: u64) {
        if self.longest.is_none_or(|(_, b)| breaks > b) {
            self.longest = Some((line, breaks));
        }
    }
}

pub(super) struct ReportBuilder {
    headers: Vec<String>,
    tally: Tally,
    duplicates: u64,
    duplicate_lines: Vec<u64>,
    warnings: Vec<String>,
}

impl ReportBuilder {
    pub fn new(headers: Vec<String>) -> Self {
        ReportBuilder {
            headers,
            tally: Tally::default(),
            duplicates: 0,
            duplicate_lines: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    pub fn reject(&mut self, line: u64, reason: Reason, column: Option<usize>, message: String) {
        self.tally.reject(&self.headers, line, reason, column, message);
    }

    pub fn add(&mut self, next: Tally) {
        self.tally.add(next);
    }

    /// Count a duplicate; duplicates are found customer by customer, so the
    /// first lines of the file are kept by value, not by arrival.
    pub fn duplicate(&mut self, line: u64) {
        self.duplicates += 1;
        let at = self.duplicate_lines.partition_point(|&l| l < line);
        if at < FIRST_LINES_PER_REASON {
            self.duplicate_lines.insert(at, line);
            self.duplicate_lines.truncate(FIRST_LINES_PER_REASON);
        }
    }

    /// A row's time, once known (slash dates are read after parsing).
    pub fn time(&mut self, ts: i64) {
        self.tally.time(ts);
    }

    /// Undo an accepted row (a duplicate, or a date its column's order
    /// rules out): `refund` as it was counted, since with margins the sign
    /// of `net` does not say it (a sale below cost is negative too).
    pub fn unaccept(&mut self, net: f64, refund: bool) {
        let t = &mut self.tally;
        t.accepted -= 1;
        t.net -= net;
        if refund {
            t.refunds -= 1;
            t.refund_total -= net;
        }
    }

    /// Warn about ids that differ only by invisible characters or edge spaces
    /// (`"42"` vs `"42 "` vs `"4\u{200b}2"`): they stay distinct customers,
    /// byte-exact, but the user should know.
    pub fn note_invisible_ids<'a>(&mut self, ids: impl Iterator<Item = &'a str> + Clone) {
        let visible = |s: &str| s.trim().chars().filter(|&c| !is_invisible(c)).collect::<String>();
        let suspicious: Vec<&str> = ids.clone().filter(|s| looks_padded(s)).collect();
        if suspicious.is_empty() {
            return;
        }
        let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let wanted: std::collections::HashSet<String> = suspicious.iter().map(|s| visible(s)).collect();
        for id in ids {
            let v = visible(id);
            if wanted.contains(&v) {
                groups.entry(v).or_default().push(id);
            }
        }
        let clashes: Vec<String> = groups
            .values()
            .filter(|g| g.len() > 1)
            .map(|g| g.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(" vs "))
            .collect();
        if !clashes.is_empty() {
            self.warnings.push(format!(
                "{} user ids differ from another id only by invisible characters or surrounding spaces; they are kept as distinct customers. Examples: {}",
                clashes.len(),
                clashes.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
            ));
        }
        let lone = suspicious.len() - groups.values().filter(|g| g.len() > 1).map(|g| g.len() - 1).sum::<usize>();
        if lone > 0 && clashes.is_empty() {
            self.warnings.push(format!(
                "{} user ids contain invisible characters or surrounding spaces (kept byte-exact), e.g. {:?}",
                suspicious.len(),
                suspicious[0]
            ));
        }
    }

    pub fn finish(mut self, info: FinishInfo<'_>) -> IngestReport {
        let txns = info.transactions;
        let TimeRange(first, last) = self.tally.times;
        let has = !txns.is_empty();
        let mut formats = BTreeMap::new();
        formats.insert("delimiter".into(), describe_delimiter(info.delimiter));
        formats.insert("encoding".into(), info.decisions.encoding.clone());
        formats.insert("decimal_separator".into(), info.decisions.decimal.describe());
        if let Some(w) = &info.decisions.decimal.warning {
            self.warnings.push(format!("decimal separator: {w}"));
        }
        self.warn_about_roles(&info);
        if !self.tally.placeholder_ids.is_empty() {
            let seen: Vec<String> = self.tally.placeholder_ids.iter().map(|(id, n)| format!("{id:?} ×{n}")).collect();
            self.warnings.push(format!(
                "{} rows have no real customer id ({}): rejected as missing_user_id, since as one id they would be \
                 a single customer with many repeat purchases",
                self.tally.placeholder_ids.values().sum::<u64>(),
                seen.join(", ")
            ));
        }
        if let Some((line, breaks)) = self.tally.longest.filter(|(_, b)| *b > MANY_LINES) {
            self.warnings.push(format!(
                "line {line}: a quoted field runs over {} lines (to line {}), read as one row — if a stray quote (\") \
                 opened it, the rows between are inside it; {} row(s) in all hold line breaks in quoted fields",
                breaks + 1,
                line + breaks,
                self.tally.multiline
            ));
        }
        let t = self.tally;
        let date_desc = DateShape::ALL
            .iter()
            .zip(t.shapes)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{} ×{n}", s.describe()))
            .collect::<Vec<_>>()
            .join(", ");
        formats.insert("date".into(), date_desc.clone());
        if info.mapping.counts_only() {
            self.warnings.push(
                "no amount column: purchases are counted only — the purchase models (BG/NBD, Pareto/NBD, …) fit, \
                 but spend per purchase and lifetime value cannot be estimated; map an amount column to get them"
                    .into(),
            );
        }
        if let Some(w) = info.date_order.as_ref().and_then(|d| d.warning()) {
            self.warnings.push(w);
        }
        if info.rows > 0 && t.accepted == 0 {
            self.warnings.push("no row could be used: check the column mapping and the reasons below".into());
        }
        let columns = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let role = Role::ALL.into_iter().find(|r| info.mapping.get(*r) == Some(i));
                let mut read_as = read_as(role, info.mapping, &date_desc, &info);
                if let Some(m) = info.decisions.matches.iter().find(|m| m.column == i && !m.exact) {
                    read_as.push_str(&format!(" — role found because the {}", m.describe()));
                }
                ColumnReport { index: i, name: name.clone(), role, read_as }
            })
            .collect();
        IngestReport {
            rows: info.rows,
            accepted: t.accepted,
            rejected: t.rejected,
            duplicates: self.duplicates,
            duplicate_lines: self.duplicate_lines,
            reasons: t.by_reason.into_values().collect(),
            rejections_truncated: t.rejected as usize > t.rejections.len(),
            rejections: t.rejections,
            columns,
            formats,
            date_order: info.date_order.clone(),
            customers: txns.customers() as u64,
            first_ts: has.then(|| format_ts(first)),
            last_ts: has.then(|| format_ts(last)),
            days_spanned: if has { (last - first) / SECONDS_PER_DAY } else { 0 },
            net_revenue: t.net,
            refunds: t.refunds,
            refund_total: t.refund_total,
            currency: info.currency.clone(),
            counts_only: info.mapping.counts_only(),
            warnings: self.warnings,
        }
    }
}

impl ReportBuilder {
    /// Roles taken from a part of a header are named (they may be wrong);
    /// a refund column left unused means its refunds are not subtracted.
    fn warn_about_roles(&mut self, info: &FinishInfo<'_>) {
        let map = info.mapping;
        let used = |r: Role| match r {
            Role::Quantity | Role::UnitPrice => map.amount_from_parts(),
            Role::VariableCost => info.margin,
            _ => true,
        };
        let guessed: Vec<String> = info
            .decisions
            .matches
            .iter()
            .filter(|m| !m.exact && used(m.role))
            .map(|m| format!("{} ← {:?} ({})", m.role.name(), self.headers[m.column], m.describe()))
            .collect();
        if !guessed.is_empty() {
            self.warnings.push(format!(
                "roles found from part of a header, check them: {}; map them by hand if they are wrong",
                guessed.join(", ")
            ));
        }
        if map.is_refund.is_some() {
            return;
        }
        for (i, h) in self.headers.iter().enumerate() {
            if super::columns::normalise_header(h).contains("refund")
                && Role::ALL.iter().all(|&r| map.get(r) != Some(i))
            {
                self.warnings.push(format!(
                    "column {h:?} is not used: refunds recorded only there are not subtracted from revenue"
                ));
            }
        }
    }
}

fn describe_delimiter(d: char) -> String {
    match d {
        '\t' => "tab".into(),
        c => format!("{c:?}"),
    }
}

fn read_as(role: Option<Role>, map: &ColumnMapping, date_desc: &str, info: &FinishInfo<'_>) -> String {
    let decimal = match info.decisions.decimal.separator {
        DecimalSeparator::Point => "point (1,234.56)",
        DecimalSeparator::Comma => "comma (1.234,56)",
    };
    match role {
        None => "not used".into(),
        Some(Role::UserId) => "customer id, kept byte-exact".into(),
        Some(Role::Timestamp) => match &info.date_order {
            Some(d) => format!("{date_desc}; slash dates {:?} ({})", d.order, d.decided_by),
            None => date_desc.to_string(),
        },
        Some(Role::Amount) => format!("money, decimal {decimal}; negative = refund"),
        Some(Role::Quantity) if map.amount_from_parts() => "quantity; amount = quantity × unit price".into(),
        Some(Role::UnitPrice) if map.amount_from_parts() => {
            format!("unit price, decimal {decimal}")
        }
        Some(Role::Quantity | Role::UnitPrice) => "not used (the amount column is used)".into(),
        Some(Role::IsRefund) => "refund flag (1/true/yes → refund, netted as −|amount|)".into(),
        Some(Role::Currency) if info.converted => "currency, converted with the given rates".into(),
        Some(Role::Currency) => "currency (must be a single one without a rates table)".into(),
        Some(Role::Invoice) => "invoice; ids starting with C are cancellations (refunds)".into(),
        Some(Role::VariableCost) if info.margin => "variable cost, subtracted: values are margins".into(),
        Some(Role::VariableCost) => "not used (values are revenue; choose margin to subtract it)".into(),
        Some(Role::Channel | Role::Country) => "kept per customer from their first purchase: a cohort segment".into(),
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{a0}')
}

/// An id with edge spaces or invisible characters: it may be another id in
/// disguise (see [`ReportBuilder::note_invisible_ids`]).
pub(super) fn looks_padded(id: &str) -> bool {
    id.trim() != id || !id.is_ascii() && id.chars().any(is_invisible)
}
