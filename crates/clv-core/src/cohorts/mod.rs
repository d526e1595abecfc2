//! Cohorts: users grouped by signup day/week/month (users file `signup_ts`,
//! else first purchase), optionally crossed with a segment column of the
//! users file; per cohort × age the classic table (users, active users, net
//! revenue, cumulative revenue per acquired user, retention), and per cohort
//! the daily revenue-by-age series the forecasts extend ([`clv`]).
//!
//! Ages are counted per user from their own signup day, so a monthly cohort
//! mixes users who joined on different days; an age is *fully observed* for
//! a cohort once its latest signup has lived through it by the cutoff, and
//! only fully observed ages enter the table and the series (a partly
//! observed age would look like a drop in revenue).

pub mod btyd;
pub mod clv;
pub mod daily;
pub mod survival;

use crate::export::CsvSafety;
use crate::features::Cutoff;
use crate::features::Users;
use crate::ingest::Transactions;
use crate::limits::{MAX_COHORT_DAYS, MAX_SPAN_DAYS};
use crate::time::{day_of, format_day, CohortGrain, Horizon, TimeUnit};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a cohort table or its valuation could not be built.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CohortError {
    /// The segment column is neither a users-file column nor a transaction column kept per customer
    /// (names are compared ignoring ASCII case).
    #[error(
        "segment column {column:?} is neither in the users file nor a kept transaction column; available: {available}"
    )]
    UnknownSegment {
        /// The column asked for.
        column: String,
        /// The columns that could be used, comma-separated: the users file's, then the transactions'.
        available: String,
    },
    #[error(
        "a segment needs a users file with that column (--users FILE), or a channel/country column in the transactions"
    )]
    /// A segment was asked for, but there is no column to take it from: no users file (or one with only
    /// the id and signup columns) and no kept transaction column.
    SegmentWithoutUsers,
    /// The calendar from the earliest signup or purchase to the cutoff is longer than [`MAX_SPAN_DAYS`].
    #[error("the data run from {first} to the cutoff {cutoff}, {years:.0} years: cohorts are built over at most {max} years. Check the dates (year 1, 1900 or 9999 are often placeholders) or give a cutoff", max = MAX_SPAN_DAYS / 365)]
    Span {
        /// Earliest signup or purchase, `YYYY-MM-DD`.
        first: String,
        /// The cutoff, `YYYY-MM-DD`.
        cutoff: String,
        /// Years (of 365.25 days) from `first` to `cutoff`.
        years: f64,
    },
    /// The table would hold more than [`MAX_COHORT_DAYS`] cohort-days (summed over the cohorts and the
    /// cohort × segment groups, each from its earliest signup to the cutoff); refused before allocating.
    #[error("the cohort table would hold {days} cohort-days ({groups} cohorts and segments, the oldest {oldest}): at most {MAX_COHORT_DAYS}. Use a coarser --cohort (week, month), fewer segments, or check the oldest dates")]
    TooLarge {
        /// Cohort-days the table would hold.
        days: u64,
        /// Cohorts plus cohort × segment groups.
        groups: usize,
        /// Earliest signup of any group, `YYYY-MM-DD`.
        oldest: String,
    },
    /// No user signed up (or, without a signup date, first bought) on or before the cutoff, given as
    /// `YYYY-MM-DD`.
    #[error("no user signed up on or before the cutoff {0}")]
    Empty(String),
    /// An interval level not strictly between 0 and 1 (from [`CohortParams::new`]), or a failure of
    /// the forecasts that extend the cohorts' revenue-by-age series or of their reconciliation.
    #[error(transparent)]
    Forecast(#[from] crate::forecast::ForecastError),
}

/// Cohort settings, valid by construction ([`CohortParams::new`] checks the
/// one thing its types do not: the interval level).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortParams {
    pub(crate) grain: CohortGrain,
    /// Unit of the age axis of the cohort table.
    pub(crate) age_unit: TimeUnit,
    pub(crate) cutoff: Cutoff,
    /// CLV horizon in days after signup.
    pub(crate) horizon_days: usize,
    /// Central prediction-interval level, e.g. 0.9.
    pub(crate) level: f64,
    /// Users-file column to cross the cohorts with.
    pub(crate) segment: Option<String>,
}

impl CohortParams {
    /// Cohorts by signup `grain`, ages in `age_unit`s, data up to `cutoff`,
    /// valued `horizon` after signup with `level` intervals (0 < level < 1),
    /// optionally crossed with a users-file column `segment`.
    pub fn new(
        grain: CohortGrain,
        age_unit: TimeUnit,
        cutoff: Cutoff,
        horizon: Horizon,
        level: f64,
        segment: Option<String>,
    ) -> Result<CohortParams, CohortError> {
        crate::forecast::holt_winters::z_score(level)?;
        let horizon_days = horizon.in_days() as usize;
        Ok(CohortParams { grain, age_unit, cutoff, horizon_days, level, segment })
    }

    /// Calendar grain of the cohort key (signup day, week or month).
    pub fn grain(&self) -> CohortGrain {
        self.grain
    }

    /// Unit of the age axis.
    pub fn age_unit(&self) -> TimeUnit {
        self.age_unit
    }

    /// The last day of data used.
    pub fn cutoff(&self) -> Cutoff {
        self.cutoff
    }

    /// Days after signup at which cohorts are valued.
    pub fn horizon_days(&self) -> usize {
        self.horizon_days
    }

    /// Central prediction-interval level.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// The users-file column the cohorts are crossed with, if any.
    pub fn segment(&self) -> Option<&str> {
        self.segment.as_deref()
    }
}

/// One cell of the cohort table: an age bucket every member has lived through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgeCell {
    /// Age in `age_unit`s since signup (0 = the signup bucket).
    pub age: u32,
    /// Members with at least one transaction (refunds included) on or before the cutoff in this age;
    /// purchases dated before signup count at age 0.
    pub active_users: u32,
    /// Net revenue of the members in this age: days `⌈age·u⌉` up to but not including `⌈(age + 1)·u⌉`
    /// after signup, `u` the age unit in days; in the currency of the input amounts.
    pub revenue: f64,
    /// Net revenue in ages 0 ..= age per acquired user.
    pub cumulative_per_user: f64,
    /// active_users / users.
    pub retention: f64,
    /// Members with a transaction in this age or a later one (by the cutoff): for a subscription
    /// paid every period, those still subscribed — the survivors [`survival`] fits sBG to. Never rises with age.
    #[serde(default)]
    pub retained_users: u32,
}

/// A cohort, or a cohort × segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cohort {
    /// The cohort's name: `YYYY-MM` for a monthly cohort, else the `YYYY-MM-DD` of its first day
    /// ([`CohortGrain::label`]).
    pub cohort: String,
    /// First day of the cohort's signup period, in days since 1970-01-01 (a Monday for weekly cohorts).
    pub start_day: i64,
    /// `None` for the cohort's total over all segments.
    pub segment: Option<String>,
    /// Members: users signed up in the cohort's period on or before the cutoff, including users-file
    /// users who never bought.
    pub users: u32,
    /// All net revenue of the members up to the cutoff.
    pub observed_revenue: f64,
    /// Ages 0 .. observed_days (days) are observed for every member.
    pub observed_days: usize,
    /// Net revenue per age day over the fully observed ages.
    pub revenue_by_age: Vec<f64>,
    /// One cell per age (in the age unit) that every member has fully lived through by the cutoff,
    /// from age 0 upwards.
    pub table: Vec<AgeCell>,
}

/// The cohort analysis at a cutoff, as made by [`build`]: the cohorts with their age tables and
/// revenue-by-age series, and the calendar daily revenue of all users.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortTable {
    /// The settings the table was built with.
    pub params: CohortParams,
    /// Cohort totals in time order, each followed by its segments.
    pub cohorts: Vec<Cohort>,
    /// Net revenue of every user up to the cutoff (= Σ of the cohort totals).
    pub total_revenue: f64,
    /// Calendar daily net revenue of all users, first_day ..= cutoff.
    pub daily_revenue: Vec<f64>,
    /// Day of `daily_revenue[0]`, in days since 1970-01-01: the earliest signup or purchase of any member.
    pub first_day: i64,
    /// Things the user should know (e.g. purchases before signup).
    pub notes: Vec<String>,
}

impl CohortTable {
    /// The cohort × age table, one row per cell (cells through `safety`:
    /// the segment is user text).
    pub fn to_csv(&self, safety: &mut CsvSafety) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let unit = self.params.age_unit.name();
        w.write_record([
            "cohort",
            "segment",
            "users",
            &format!("age_{unit}s"),
            "active_users",
            "revenue",
            "cumulative_per_user",
            "retention",
            "retained_users",
        ])
        .expect("in-memory write");
        for c in &self.cohorts {
            for cell in &c.table {
                w.write_record([
                    c.cohort.clone(),
                    safety.text(c.segment.as_deref().unwrap_or_default()).into_owned(),
                    c.users.to_string(),
                    cell.age.to_string(),
                    cell.active_users.to_string(),
                    safety.num(cell.revenue),
                    safety.num(cell.cumulative_per_user),
                    safety.num(cell.retention),
                    cell.retained_users.to_string(),
                ])
                .expect("in-memory write");
            }
        }
        String::from_utf8(w.into_inner().expect("in-memory flush")).expect("UTF-8")
    }
}

/// Per-user facts the grouping needs.
struct Member<'a> {
    /// Index in `Transactions` (None: in the users file, never bought).
    customer: Option<usize>,
    signup: i64,
    segment: &'a str,
    history: &'a [crate::ingest::Txn],
}

/// Accumulates one cohort (or cohort × segment).
#[derive(Default)]
struct Acc {
    users: u32,
    last_signup: i64,
    revenue_by_age: Vec<f64>,
    active_by_bucket: Vec<u32>,
    /// Members by the age bucket of their last transaction.
    last_by_bucket: Vec<u32>,
}

const UNKNOWN_SEGMENT: &str = "(not in users file)";
/// Segment of users-file users without a purchase when the segment is a
/// transaction column (they have no first purchase to take it from).
const NO_PURCHASE_SEGMENT: &str = "(no purchase)";

/// Build the cohort table at `params.cutoff`.
pub fn build(tx: &Transactions, users: Option<&Users>, params: &CohortParams) -> Result<CohortTable, CohortError> {
    let (members, undated) = members(tx, users, params)?;
    let cutoff = params.cutoff.day;
    let unit = params.age_unit.days();
    let mut notes = Vec::new();
    let mut groups: FxHashMap<(i64, Option<&str>), Acc> = FxHashMap::default();
    // The calendar starts at the earliest signup or purchase (a purchase may
    // predate a users-file signup).
    let first_day = members
        .iter()
        .map(|m| m.history.first().map_or(m.signup, |t| m.signup.min(day_of(t.ts))))
        .min()
        .ok_or_else(|| CohortError::Empty(format_day(cutoff)))?;
    check_size(&members, first_day, params)?;
    let mut daily_revenue = vec![0.0; (cutoff - first_day + 1).max(1) as usize];
    let (mut before_signup, mut total_revenue) = (0usize, 0.0);
    let mut buckets = Vec::new();
    for m in &members {
        let start = params.grain.start_of(m.signup);
        buckets.clear();
        let add = |acc: &mut Acc, buckets: &mut Vec<u32>, first: bool| {
            acc.users += 1;
            acc.last_signup = if acc.users == 1 { m.signup } else { acc.last_signup.max(m.signup) };
            for txn in m.history {
                let day = day_of(txn.ts);
                if day > cutoff {
                    break;
                }
                let age = (day - m.signup).max(0) as usize;
                if acc.revenue_by_age.len() <= age {
                    acc.revenue_by_age.resize(age + 1, 0.0);
                }
                acc.revenue_by_age[age] += txn.amount;
                if first {
                    let b = (age as f64 / unit) as u32;
                    if buckets.last() != Some(&b) {
                        buckets.push(b);
                    }
                }
            }
            for &b in buckets.iter() {
                let b = b as usize;
                if acc.active_by_bucket.len() <= b {
                    acc.active_by_bucket.resize(b + 1, 0);
                }
                acc.active_by_bucket[b] += 1;
            }
            if let Some(&b) = buckets.last() {
                let b = b as usize;
                if acc.last_by_bucket.len() <= b {
                    acc.last_by_bucket.resize(b + 1, 0);
                }
                acc.last_by_bucket[b] += 1;
            }
        };
        add(groups.entry((start, None)).or_default(), &mut buckets, true);
        if params.segment.is_some() {
            add(groups.entry((start, Some(m.segment))).or_default(), &mut buckets, false);
        }
        for txn in m.history.iter().take_while(|t| day_of(t.ts) <= cutoff) {
            let day = day_of(txn.ts);
            before_signup += usize::from(day < m.signup);
            daily_revenue[(day - first_day).max(0) as usize] += txn.amount;
            total_revenue += txn.amount;
        }
    }
    if undated > 0 {
        notes.push(format!("{undated} users in the users file have no signup date and no purchase; they are left out"));
    }
    if before_signup > 0 {
        notes.push(format!("{before_signup} purchases were dated before the user's signup; they are counted at age 0"));
    }
    let mut cohorts: Vec<Cohort> =
        groups.into_iter().map(|((start, segment), acc)| finish(start, segment, acc, params)).collect();
    cohorts.sort_by(|a, b| (a.start_day, &a.segment).cmp(&(b.start_day, &b.segment)));
    Ok(CohortTable { params: params.clone(), cohorts, total_revenue, daily_revenue, first_day, notes })
}

/// Refuse, before allocating, a table whose calendar or cohort-age arrays
/// would be sized by a date span rather than by the data: the calendar over
/// [`MAX_SPAN_DAYS`], or Σ over groups of the ages held (from a group's
/// earliest signup to the cutoff) over [`MAX_COHORT_DAYS`].
fn check_size(members: &[Member], first_day: i64, params: &CohortParams) -> Result<(), CohortError> {
    let cutoff = params.cutoff.day;
    if cutoff - first_day > MAX_SPAN_DAYS {
        let years = (cutoff - first_day) as f64 / 365.25;
        return Err(CohortError::Span { first: format_day(first_day), cutoff: format_day(cutoff), years });
    }
    let mut earliest: FxHashMap<(i64, Option<&str>), i64> = FxHashMap::default();
    for m in members {
        let start = params.grain.start_of(m.signup);
        let mut note = |key| {
            let e = earliest.entry(key).or_insert(m.signup);
            *e = (*e).min(m.signup);
        };
        note((start, None));
        if params.segment.is_some() {
            note((start, Some(m.segment)));
        }
    }
    let days: u64 = earliest.values().map(|s| (cutoff - s + 1).max(0) as u64).sum();
    if days > MAX_COHORT_DAYS {
        let oldest = format_day(earliest.values().copied().min().unwrap_or(cutoff));
        return Err(CohortError::TooLarge { days, groups: earliest.len(), oldest });
    }
    Ok(())
}

fn finish(start: i64, segment: Option<&str>, acc: Acc, params: &CohortParams) -> Cohort {
    let observed_days = (params.cutoff.day - acc.last_signup + 1).max(0) as usize;
    let observed_revenue = crate::total(acc.revenue_by_age.iter().copied());
    let mut revenue_by_age = acc.revenue_by_age;
    revenue_by_age.resize(observed_days, 0.0);
    let unit = params.age_unit.days();
    let complete = (observed_days as f64 / unit).floor() as usize;
    let users = f64::from(acc.users);
    let mut cumulative = 0.0;
    // Members whose last transaction is at this age or later: a suffix sum.
    let mut retained: Vec<u32> = acc
        .last_by_bucket
        .iter()
        .rev()
        .scan(0, |n, &k| {
            *n += k;
            Some(*n)
        })
        .collect();
    retained.reverse();
    let table = (0..complete)
        .map(|b| {
            let days = (b as f64 * unit).ceil() as usize..((b + 1) as f64 * unit).ceil() as usize;
            let revenue = crate::total(revenue_by_age[days.start..days.end.min(observed_days)].iter().copied());
            cumulative += revenue;
            let active_users = acc.active_by_bucket.get(b).copied().unwrap_or(0);
            AgeCell {
                age: b as u32,
                active_users,
                revenue,
                cumulative_per_user: cumulative / users,
                retention: f64::from(active_users) / users,
                retained_users: retained.get(b).copied().unwrap_or(0),
            }
        })
        .collect();
    Cohort {
        cohort: params.grain.label(start),
        start_day: start,
        segment: segment.map(str::to_string),
        users: acc.users,
        observed_revenue,
        observed_days,
        revenue_by_age,
        table,
    }
}

/// Every user signed up by the cutoff: the users file's rows (with or
/// without purchases) and buyers missing from it.
fn members<'a>(
    tx: &'a Transactions,
    users: Option<&'a Users>,
    params: &CohortParams,
) -> Result<(Vec<Member<'a>>, usize), CohortError> {
    // The segment comes from the users file if it has the column, else from
    // a transaction column kept per customer (channel, country).
    let user_col = params
        .segment
        .as_ref()
        .and_then(|col| users.and_then(|u| u.attribute_names.iter().position(|n| n.eq_ignore_ascii_case(col))));
    let tx_attr = match (&params.segment, user_col) {
        (Some(col), None) => Some(tx.attribute(col).ok_or_else(|| unknown_segment(col, tx, users))?),
        _ => None,
    };
    let segment_col = user_col;
    let mut by_id: FxHashMap<&str, (Option<i64>, &str)> = FxHashMap::default();
    if let Some(u) = users {
        for row in &u.rows {
            let seg = segment_col.and_then(|c| row.attributes.get(c)).map_or("", |s| s.as_str());
            by_id.insert(row.id.as_str(), (row.signup_day, if seg.is_empty() { "(blank)" } else { seg }));
        }
    }
    let mut out = Vec::with_capacity(tx.customers());
    for (customer, (id, history)) in tx.iter().enumerate() {
        let known = by_id.remove(id);
        let signup = known.and_then(|k| k.0).or_else(|| history.first().map(|t| day_of(t.ts)));
        let segment = match tx_attr {
            Some(a) => a.value(customer).unwrap_or("(blank)"),
            None => known.map_or(UNKNOWN_SEGMENT, |k| k.1),
        };
        if let Some(signup) = signup.filter(|s| *s <= params.cutoff.day) {
            out.push(Member { customer: Some(customer), signup, segment, history });
        }
    }
    // Users who never bought still count as acquired.
    let undated = by_id.values().filter(|(s, _)| s.is_none()).count();
    let mut silent: Vec<_> = by_id.into_iter().filter_map(|(_, (s, seg))| s.map(|s| (s, seg))).collect();
    silent.sort_unstable();
    for (signup, segment) in silent.into_iter().filter(|(s, _)| *s <= params.cutoff.day) {
        let segment = if tx_attr.is_some() { NO_PURCHASE_SEGMENT } else { segment };
        out.push(Member { customer: None, signup, segment, history: &[] });
    }
    Ok((out, undated))
}

/// Each of `ids`' value of a segment column — from the users file if it has the column, else
/// from a transaction column kept per customer (channel, country on the first purchase), as
/// cohorts take it; "(blank)" for an empty cell, "(not in the users file)" for an id it lacks.
pub fn segments_of(
    ids: &[String],
    column: &str,
    tx: &Transactions,
    users: Option<&Users>,
) -> Result<Vec<String>, CohortError> {
    let label = |s: &str| if s.is_empty() { "(blank)".to_string() } else { s.to_string() };
    if let Some((u, c)) =
        users.and_then(|u| Some((u, u.attribute_names.iter().position(|n| n.eq_ignore_ascii_case(column))?)))
    {
        let by_id: FxHashMap<&str, &str> =
            u.rows.iter().map(|r| (r.id.as_str(), r.attributes.get(c).map_or("", String::as_str))).collect();
        return Ok(ids
            .iter()
            .map(|id| by_id.get(id.as_str()).map_or(UNKNOWN_SEGMENT.to_string(), |s| label(s)))
            .collect());
    }
    let attr = tx.attribute(column).ok_or_else(|| unknown_segment(column, tx, users))?;
    let index: FxHashMap<&str, usize> = (0..tx.customers()).map(|c| (tx.id(c), c)).collect();
    Ok(ids.iter().map(|id| label(index.get(id.as_str()).and_then(|&c| attr.value(c)).unwrap_or(""))).collect())
}

/// The segment columns there are: the users file's, then the kept transaction columns.
pub fn segment_columns(tx: &Transactions, users: Option<&Users>) -> Vec<String> {
    let mut names: Vec<String> = users.map(|u| u.attribute_names.clone()).unwrap_or_default();
    for a in tx.attributes() {
        if !names.iter().any(|m| m.eq_ignore_ascii_case(&a.name)) {
            names.push(a.name.clone());
        }
    }
    names
}

fn unknown_segment(column: &str, tx: &Transactions, users: Option<&Users>) -> CohortError {
    let names = segment_columns(tx, users);
    if names.is_empty() {
        return CohortError::SegmentWithoutUsers;
    }
    CohortError::UnknownSegment { column: column.to_string(), available: names.join(", ") }
}

#[cfg(test)]
mod tests;
