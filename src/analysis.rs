//! What the worker computes for the page from ingested transactions. Pure
//! functions over the core, so they are tested natively like the core.

use crate::protocol::{ExportKind, SummaryPreviewRow, SummaryRequest, SummaryStats};
use clv_core::features::{Cutoff, FeatureParams, FeatureTable, RfmSummary};
use clv_core::ingest::Transactions;
use clv_core::time::{day_of, parse_day, CohortGrain};

/// Rows of the summary shown in the page before export.
pub const PREVIEW_ROWS: usize = 10;

fn params(req: &SummaryRequest) -> Result<FeatureParams, String> {
    let cutoff = Cutoff::day(parse_day(&req.cutoff).map_err(|e| format!("cutoff: {e}"))?);
    FeatureParams::new(cutoff, req.horizon_days, CohortGrain::Month)
}

pub fn summarise(tx: &Transactions, req: &SummaryRequest) -> Result<SummaryStats, String> {
    let p = params(req)?;
    let s = RfmSummary::build(tx, p.cutoff, req.unit);
    if s.rows.is_empty() {
        return Err(format!(
            "no customer bought on or before the cutoff {}: choose a later cutoff",
            req.cutoff
        ));
    }
    let n = s.rows.len() as f64;
    let mean =
        |f: fn(&clv_core::features::RfmRow) -> f64| clv_core::total(s.rows.iter().map(f)) / n;
    let repeaters: Vec<f64> = s
        .rows
        .iter()
        .filter(|r| r.frequency > 0)
        .map(|r| r.monetary_value)
        .collect();
    let label_end = p.cutoff.day + p.horizon_days;
    let last_day = tx
        .all()
        .iter()
        .map(|t| day_of(t.ts))
        .max()
        .unwrap_or(i64::MIN);
    let label_revenue = clv_core::total(
        tx.all()
            .iter()
            .filter(|t| !p.cutoff.includes(t.ts) && day_of(t.ts) <= label_end)
            .map(|t| t.amount),
    );
    Ok(SummaryStats {
        cutoff: s.cutoff.clone(),
        horizon_days: req.horizon_days,
        unit: req.unit,
        customers: s.rows.len(),
        repeat_buyers: repeaters.len(),
        excluded_after_cutoff: s.excluded_after_cutoff,
        excluded_no_purchase: s.excluded_no_purchase,
        mean_frequency: mean(|r| f64::from(r.frequency)),
        mean_recency: mean(|r| r.recency),
        mean_t: mean(|r| r.t),
        mean_monetary_repeaters: if repeaters.is_empty() {
            0.0
        } else {
            clv_core::total(repeaters.iter().copied()) / repeaters.len() as f64
        },
        label_revenue,
        label_window_complete: last_day >= label_end,
        preview: s
            .rows
            .iter()
            .take(PREVIEW_ROWS)
            .map(|r| SummaryPreviewRow {
                user_id: tx.id(r.customer).to_string(),
                frequency: r.frequency,
                recency: r.recency,
                t: r.t,
                monetary_value: r.monetary_value,
            })
            .collect(),
    })
}

/// The CSV the page offers for download: byte-identical to the CLI's
/// `clv summary` / `clv features` output for the same file and settings.
pub fn export(
    tx: &Transactions,
    what: ExportKind,
    req: &SummaryRequest,
) -> Result<(String, String), String> {
    let p = params(req)?;
    Ok(match what {
        ExportKind::Summary => (
            format!("summary_{}_{}.csv", req.cutoff, req.unit),
            RfmSummary::build(tx, p.cutoff, req.unit).to_csv(tx),
        ),
        ExportKind::Features => (
            format!("features_{}_h{}.csv", req.cutoff, req.horizon_days),
            FeatureTable::build(tx, None, p).to_csv(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clv_core::ingest::Txn;
    use clv_core::time::TimeUnit;

    const DAY: i64 = 86_400;

    fn req(cutoff: &str) -> SummaryRequest {
        SummaryRequest {
            cutoff: cutoff.into(),
            horizon_days: 10,
            unit: TimeUnit::Day,
        }
    }

    #[test]
    fn stats_are_means_over_the_summary() {
        let tx = Transactions::from_pairs([
            ("a", Txn { ts: 0, amount: 1.0 }),
            (
                "a",
                Txn {
                    ts: 4 * DAY,
                    amount: 3.0,
                },
            ),
            (
                "b",
                Txn {
                    ts: 2 * DAY,
                    amount: 5.0,
                },
            ),
            (
                "b",
                Txn {
                    ts: 9 * DAY,
                    amount: 7.0,
                },
            ),
        ]);
        let s = summarise(&tx, &req("1970-01-06")).unwrap();
        assert_eq!((s.customers, s.repeat_buyers), (2, 1));
        assert_eq!(s.mean_frequency, 0.5);
        assert_eq!(s.mean_recency, 2.0);
        assert_eq!(s.mean_t, (5.0 + 3.0) / 2.0);
        assert_eq!(s.mean_monetary_repeaters, 3.0);
        assert_eq!(s.label_revenue, 7.0);
        assert!(!s.label_window_complete);
        assert!(summarise(&tx, &req("1969-12-01"))
            .unwrap_err()
            .contains("choose a later cutoff"));
        assert!(summarise(&tx, &req("1970-02-30"))
            .unwrap_err()
            .starts_with("cutoff:"));
        let (name, csv) = export(&tx, ExportKind::Summary, &req("1970-01-06")).unwrap();
        assert_eq!(name, "summary_1970-01-06_day.csv");
        assert_eq!(
            csv,
            "user_id,frequency,recency,T,monetary_value\na,1,4,5,3\nb,0,0,3,0\n"
        );
    }
}
