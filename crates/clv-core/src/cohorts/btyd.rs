//! The same cohorts valued bottom-up by a per-user BTYD model, so the two
//! approaches can be set side by side: for each member, the revenue already
//! seen in their first H days, plus — if they are younger than H — the
//! model's expected purchases over the days they have left (E[Y(t)] from
//! their own x, t_x, T) times their expected spend (Gamma–Gamma, else their
//! own mean purchase). Undiscounted, like the cohort forecasts. Members who
//! never bought (users file only) add nothing: BTYD models start at the
//! first purchase.

use super::{members, CohortError, CohortParams};
use crate::clv::spend_per_purchase;
use crate::features::{RfmSummary, Users};
use crate::ingest::Transactions;
use crate::models::gamma_gamma::GammaGamma;
use crate::models::{CountModel, Rfm};
use crate::time::{day_of, TimeUnit};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// One cohort's (or cohort × segment's) value at the horizon from a per-user BTYD model, to set beside
/// [`super::clv::CohortValue::clv_per_user`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BtydCohortValue {
    /// The cohort's label, as in [`super::clv::CohortValue::cohort`].
    pub cohort: String,
    /// The segment value, or `None` for the cohort's total over all segments.
    pub segment: Option<String>,
    /// Members acquired in the cohort, those who never bought included (they add nothing to the value).
    pub users: u32,
    /// Observed (ages < H) + expected future revenue, per acquired user.
    pub clv_per_user: f64,
}

/// BTYD value of every cohort (and segment) at `params.horizon_days`.
pub fn btyd_by_cohort(
    tx: &Transactions,
    users: Option<&Users>,
    params: &CohortParams,
    model: &dyn CountModel,
    spend: Option<&GammaGamma>,
    unit: TimeUnit,
) -> Result<Vec<BtydCohortValue>, CohortError> {
    let summary = RfmSummary::build(tx, params.cutoff, unit);
    let rows: FxHashMap<usize, (Rfm, f64)> = summary
        .rows
        .iter()
        .map(|r| (r.customer, (Rfm::new(f64::from(r.frequency), r.recency, r.t), r.monetary_value)))
        .collect();
    let (members, _) = members(tx, users, params)?;
    let (cutoff, horizon) = (params.cutoff.day, params.horizon_days as i64);
    let mut groups: FxHashMap<(i64, Option<&str>), (u32, f64)> = FxHashMap::default();
    for m in &members {
        let observed: f64 = m
            .history
            .iter()
            .map(|t| (day_of(t.ts), t.amount))
            .take_while(|(d, _)| *d <= cutoff)
            .filter(|(d, _)| d - m.signup < horizon)
            .map(|(_, a)| a)
            .sum();
        let left = horizon - (cutoff - m.signup + 1);
        let future = match m.customer.and_then(|c| rows.get(&c)) {
            Some((rfm, mean)) if left > 0 => {
                let purchases = model.expected_purchases(rfm, left as f64 / unit.days());
                purchases * expected_spend(spend, rfm, *mean, m.history, cutoff)
            }
            _ => 0.0,
        };
        let value = if (observed + future).is_finite() { observed + future } else { observed };
        let start = params.grain.start_of(m.signup);
        let mut add = |key| {
            let e = groups.entry(key).or_insert((0, 0.0));
            e.0 += 1;
            e.1 += value;
        };
        add((start, None));
        if params.segment.is_some() {
            add((start, Some(m.segment)));
        }
    }
    let mut out: Vec<BtydCohortValue> = groups
        .into_iter()
        .map(|((start, segment), (users, total))| BtydCohortValue {
            cohort: params.grain.label(start),
            segment: segment.map(str::to_string),
            users,
            clv_per_user: total / f64::from(users.max(1)),
        })
        .collect();
    out.sort_by(|a, b| (&a.cohort, &a.segment).cmp(&(&b.cohort, &b.segment)));
    Ok(out)
}

/// Gamma–Gamma's conditional mean (population mean for one-time buyers);
/// without it the customer's own mean purchase to the cutoff.
fn expected_spend(
    spend: Option<&GammaGamma>,
    rfm: &Rfm,
    mean: f64,
    history: &[crate::ingest::Txn],
    cutoff: i64,
) -> f64 {
    match spend_per_purchase(spend, rfm.x, mean) {
        Some((value, _)) => value,
        None => {
            let seen: Vec<f64> = history.iter().filter(|t| day_of(t.ts) <= cutoff).map(|t| t.amount).collect();
            (crate::total(seen.iter().copied()) / seen.len().max(1) as f64).max(0.0)
        }
    }
}
