//! Each cohort's retention curve extrapolated by the shifted-beta-geometric
//! model (Fader & Hardie 2007, "How to project customer retention"): the
//! cohort's survivors per age — members with a transaction at that age or a
//! later one ([`super::AgeCell::retained_users`]) — are the paper's "active
//! customers" when every period of a subscription is paid; sBG is fitted to
//! the fully observed ages and projects the rest.
//!
//! Why survivors and not the table's `retention` (active in that age): sBG
//! is a model of leaving for good, and a share active in one age can rise
//! again; "paid at this age or later" cannot. For purchases that are not a
//! subscription it reads as "has not yet made their last purchase", which
//! ages near the cutoff understate (a customer between purchases looks
//! gone): the projection says so.

use super::{Cohort, CohortTable};
use crate::models::FitOptions;
use crate::retention::{fit_retention, RetentionFit};
use serde::{Deserialize, Serialize};

/// sBG has two parameters: fewer observed periods after signup than this
/// cannot tell a fast-leaving homogeneous cohort from a sorting one.
pub const MIN_PERIODS: usize = 3;

/// One cohort's survivors and their sBG projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortRetention {
    /// The cohort's name ([`Cohort::cohort`]).
    pub cohort: String,
    /// Its segment, `None` for the cohort's total.
    pub segment: Option<String>,
    /// Members at signup (period 0).
    pub users: u32,
    /// Survivors at the end of each fully observed period: `[users, retained at age 1, …]`.
    pub survivors: Vec<f64>,
    /// The fit to every observed period and its projection to the common age, when it could run
    /// (a fit that did not converge has an empty projection and says why in its report).
    pub fit: Option<RetentionFit>,
    /// Why the cohort was not fitted.
    pub note: Option<String>,
}

/// The survivors sBG is fitted to: the cohort size, then the members with a transaction at age
/// 1, 2, … or later, over the fully observed ages.
pub fn survivors(c: &Cohort) -> Vec<f64> {
    std::iter::once(f64::from(c.users)).chain(c.table.iter().skip(1).map(|a| f64::from(a.retained_users))).collect()
}

/// Fit sBG to each cohort with at least [`MIN_PERIODS`] observed periods after signup and
/// project every cohort to the same age: the table's horizon in age units, or the oldest
/// cohort's observed age if that is later (so cohorts compare on one axis).
pub fn project(table: &CohortTable, opts: &FitOptions) -> Vec<CohortRetention> {
    let horizon = (table.params.horizon_days as f64 / table.params.age_unit.days()).ceil() as usize;
    let oldest = table.cohorts.iter().map(|c| c.table.len().saturating_sub(1)).max().unwrap_or(0);
    let age = horizon.max(oldest);
    table.cohorts.iter().map(|c| fit_cohort(&c.cohort, c.segment.as_deref(), survivors(c), age, opts)).collect()
}

/// sBG fitted to one cohort's `survivors` (`[size, at the end of period 1, …]`) and projected to
/// period `age`, or the reason it is not: fewer than [`MIN_PERIODS`] periods, or counts that rise.
pub fn fit_cohort(
    cohort: &str,
    segment: Option<&str>,
    survivors: Vec<f64>,
    age: usize,
    opts: &FitOptions,
) -> CohortRetention {
    let periods = survivors.len().saturating_sub(1);
    let (fit, note) = if periods < MIN_PERIODS {
        let note = format!(
            "{periods} observed period(s) after signup: sBG needs at least {MIN_PERIODS} to estimate how fast members leave and how that slows"
        );
        (None, Some(note))
    } else {
        match fit_retention(&survivors, periods, age, opts) {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    CohortRetention {
        cohort: cohort.to_string(),
        segment: segment.map(str::to_string),
        users: survivors.first().map_or(0, |&n| n as u32),
        survivors,
        fit,
        note,
    }
}

/// The projections as CSV: one row per cohort and age, observed and projected side by side.
pub fn to_csv(rows: &[CohortRetention], safety: &mut crate::export::CsvSafety) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "cohort",
        "segment",
        "users",
        "gamma",
        "delta",
        "age",
        "fitted",
        "observed_survivors",
        "expected_survivors",
        "survival",
        "retention",
    ])
    .expect("in-memory write");
    for r in rows {
        let Some(fit) = r.fit.as_ref().filter(|f| !f.projection.is_empty()) else { continue };
        let param = |i: usize| fit.report.params.get(i).map_or(String::new(), |p| p.value.to_string());
        for p in &fit.projection {
            w.write_record([
                r.cohort.clone(),
                safety.text(r.segment.as_deref().unwrap_or_default()).into_owned(),
                r.users.to_string(),
                param(0),
                param(1),
                p.period.to_string(),
                p.fitted.to_string(),
                p.actual.map_or(String::new(), |a| a.to_string()),
                p.expected.to_string(),
                p.survival.to_string(),
                p.retention.to_string(),
            ])
            .expect("in-memory write");
        }
    }
    String::from_utf8(w.into_inner().expect("in-memory flush")).expect("UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohorts::{build, CohortParams};
    use crate::features::Cutoff;
    use crate::ingest::{Transactions, Txn};
    use crate::time::{days_from_civil, CohortGrain, Horizon, TimeUnit, SECONDS_PER_DAY};

    /// A monthly subscription cohort whose members pay at signup and every month until they
    /// leave: `paying[k]` members pay at age k. Signups on 2000-01-01, cutoff `months_observed`
    /// whole months (and a few days) later.
    fn subscription(paying: &[usize], months_observed: usize) -> CohortTable {
        let signup = days_from_civil(2000, 1, 1).unwrap();
        let pairs = (0..paying[0]).flat_map(|i| {
            let months = paying.iter().take_while(|&&n| i < n).count();
            (0..months).map(move |k| {
                let day = signup + (k as f64 * TimeUnit::Month.days()).ceil() as i64;
                (format!("u{i}"), Txn { ts: day * SECONDS_PER_DAY + 3600, amount: 10.0 })
            })
        });
        let tx = Transactions::from_pairs(pairs);
        let cutoff = Cutoff::day(signup + (months_observed as f64 * TimeUnit::Month.days()) as i64 + 5);
        let params =
            CohortParams::new(CohortGrain::Month, TimeUnit::Month, cutoff, Horizon::days(365).unwrap(), 0.9, None)
                .unwrap();
        build(&tx, None, &params).unwrap()
    }

    /// Fader & Hardie (2007), Table 1: the regular customers' active counts in years 0–7, and
    /// their sBG estimates α̂ = 0.704, β̂ = 1.182 (γ, δ here) — reproduced from transactions
    /// through the cohort table (the period is a month here; sBG does not know the length).
    #[test]
    fn a_subscription_cohort_reproduces_fader_hardie_2007() {
        let regular = [1000, 631, 468, 382, 326, 289, 262, 241];
        let table = subscription(&regular, 8);
        let cohort = &table.cohorts[0];
        assert_eq!(cohort.table.len(), 8, "ages 0–7 fully observed");
        assert_eq!(survivors(cohort), regular.map(|n| n as f64).to_vec());
        let retained: Vec<u32> = cohort.table.iter().map(|a| a.retained_users).collect();
        let active: Vec<u32> = cohort.table.iter().map(|a| a.active_users).collect();
        assert_eq!(retained, active, "a subscription: paying at an age = still subscribed");
        let projected = project(&table, &FitOptions::default());
        let fit = projected[0].fit.as_ref().unwrap();
        let p: Vec<f64> = fit.report.params.iter().map(|p| p.value).collect();
        assert!((p[0] - 0.704).abs() < 0.0005 && (p[1] - 1.182).abs() < 0.0005, "{p:?}");
        assert_eq!(fit.projection.len(), 12);
        assert_eq!(fit.projection.iter().filter(|r| r.fitted).count(), 7);
        // The paper's years 8–12 for this cohort (223, 207, 194, 183, 173), within 3%.
        for (row, actual) in fit.projection[7..].iter().zip([223.0, 207.0, 194.0, 183.0, 173.0]) {
            assert!((row.expected - actual).abs() < 0.03 * actual, "{row:?} vs {actual}");
        }
    }

    /// Survivors never rise, even when members skip ages (a purchase later keeps them retained);
    /// a cohort observed too briefly is said, not fitted.
    #[test]
    fn survivors_count_a_later_purchase_and_short_cohorts_are_explained() {
        let signup = days_from_civil(2000, 1, 1).unwrap();
        let at = |months: f64| Txn {
            ts: (signup + (months * TimeUnit::Month.days()) as i64) * SECONDS_PER_DAY,
            amount: 1.0,
        };
        // a: ages 0 and 3; b: age 0 only; c: ages 0, 1.
        let tx =
            Transactions::from_pairs([("a", at(0.0)), ("a", at(3.2)), ("b", at(0.0)), ("c", at(0.0)), ("c", at(1.5))]);
        let cutoff = Cutoff::day(signup + (4.5 * TimeUnit::Month.days()) as i64);
        let params =
            CohortParams::new(CohortGrain::Month, TimeUnit::Month, cutoff, Horizon::days(90).unwrap(), 0.9, None)
                .unwrap();
        let table = build(&tx, None, &params).unwrap();
        let c = &table.cohorts[0];
        let active: Vec<u32> = c.table.iter().map(|a| a.active_users).collect();
        let retained: Vec<u32> = c.table.iter().map(|a| a.retained_users).collect();
        assert_eq!(active, [3, 1, 0, 1]);
        assert_eq!(retained, [3, 2, 1, 1]);
        assert_eq!(survivors(c), [3.0, 2.0, 1.0, 1.0]);
        let short = subscription(&[10, 8, 7], 3);
        let p = project(&short, &FitOptions::default());
        assert!(p[0].fit.is_none());
        assert!(p[0].note.as_deref().unwrap().contains("2 observed period(s) after signup"), "{:?}", p[0].note);
    }
}
