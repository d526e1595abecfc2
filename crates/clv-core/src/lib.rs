//! # clv-core
//!
//! The customer-lifetime-value engine behind the in-browser app and the `clv`
//! CLI. Plain Rust with no web dependencies: it builds and tests natively and
//! compiles unchanged to `wasm32-unknown-unknown`.
//!
//! Data flows through the modules in this order:
//!
//! 1. [`ingest`] — a transaction CSV (any encoding, delimiter, date and
//!    decimal format), streamed, into per-customer histories and a report of
//!    every row not used;
//! 2. [`features`] — leakage-safe features at a cutoff: the BTYD summary
//!    (`frequency, recency, T, monetary_value`), holdout counts, per-user
//!    feature rows with labels, the summary figures the page shows;
//! 3. [`models`] — BG/NBD, Pareto/NBD, MBG/NBD, BG/BB, Gamma–Gamma and
//!    sBG, fitted by maximum likelihood with honest convergence reports, or
//!    taken at given parameters ([`models::given`]); [`retention`] — sBG on a
//!    cohort's active counts;
//! 4. [`pipeline`] — what the page's worker and the CLI share: `fit_models`
//!    under one convergence policy, predictions, their CSV; [`clv`] — the
//!    discounted value; [`holdout`] and [`evaluate`] — accuracy on held-out time;
//! 5. [`cohorts`] and [`forecast`] — signup cohorts, their value at a horizon
//!    and the daily revenue forecast (Holt–Winters, backtests, reconciliation);
//! 6. [`learned`] — gradient-boosted trees on the same features, beside the
//!    BTYD models.
//!
//! [`limits`] bounds every size that comes from input; [`export`] writes CSV
//! that a spreadsheet will not run; [`linalg`] solves the few small dense
//! systems; [`simulate`] draws synthetic transactions from known parameters
//! for tests, benchmarks and teaching; [`time`] holds the calendar and the
//! time unit.

pub mod clv;
pub mod cohorts;
pub mod evaluate;
pub mod explore;
pub mod export;
pub mod features;
pub mod forecast;
pub mod holdout;
pub mod ingest;
pub mod learned;
pub mod limits;
pub mod linalg;
pub mod models;
pub mod pipeline;
pub mod portfolio;
pub mod retention;
pub mod simulate;
pub mod sql;
pub mod teach;
pub mod time;
pub mod tracking;
pub mod uncertainty;

/// The distinct items of `items` by `key`, in first-seen order, and each
/// item's index into them: work that depends on a row only through its key
/// (a customer's predictions through (x, T), say) is done once per key.
pub(crate) fn distinct<T: Copy, K: std::hash::Hash + Eq>(items: &[T], key: impl Fn(&T) -> K) -> (Vec<T>, Vec<u32>) {
    let mut index: rustc_hash::FxHashMap<K, u32> = Default::default();
    let mut keys = Vec::new();
    let slot = items
        .iter()
        .map(|item| {
            *index.entry(key(item)).or_insert_with(|| {
                keys.push(*item);
                keys.len() as u32 - 1
            })
        })
        .collect();
    (keys, slot)
}

/// Sum starting from +0.0: `Iterator::sum` of no floats is −0.0, which
/// would print as "-0" in a result table.
pub fn total(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |a, b| a + b)
}
