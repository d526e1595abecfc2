//! The Cohorts tab's numbers, computed in the worker: the cohort table,
//! cohort CLV (observed + forecast), the bottom-up BTYD value beside it when
//! a model is fitted at the same cutoff, and the daily revenue forecast with
//! its backtest. Pure functions over the core, tested natively.

use crate::protocol::{CohortCurves, CohortRequest, CohortsView, ExportFile};
use crate::worker::analysis::ModelSession;
use clv_core::cohorts::btyd::btyd_by_cohort;
use clv_core::cohorts::clv::{value_cohorts, values_csv};
use clv_core::cohorts::daily::daily_forecast;
use clv_core::cohorts::{build, survival, CohortParams, CohortTable};
use clv_core::export::CsvSafety;
use clv_core::features::{Cutoff, Users};
use clv_core::ingest::Transactions;
use clv_core::models::FitOptions;

fn table(tx: &Transactions, users: Option<&Users>, req: &CohortRequest) -> Result<CohortTable, String> {
    let cutoff = Cutoff::checked(req.cutoff, tx, "cutoff").map_err(|e| e.to_string())?;
    let params = CohortParams::new(req.grain, req.age_unit, cutoff, req.horizon, req.level, req.segment.clone())
        .map_err(|e| e.to_string())?;
    build(tx, users, &params).map_err(|e| e.to_string())
}

pub fn cohorts(
    tx: &Transactions,
    users: Option<&Users>,
    req: &CohortRequest,
    models: Option<&ModelSession>,
) -> Result<CohortsView, String> {
    let table = table(tx, users, req)?;
    let mut report = value_cohorts(&table).map_err(|e| e.to_string())?;
    report.values.iter_mut().for_each(|v| v.forecast = Vec::new());
    let (btyd, btyd_note) = match btyd(tx, users, &table, req, models) {
        Ok(b) => (b, None),
        Err(e) => (None, Some(e)),
    };
    let matrix = table
        .cohorts
        .iter()
        .filter(|c| c.segment.is_none())
        .map(|c| CohortCurves {
            cohort: c.cohort.clone(),
            users: c.users,
            retention: c.table.iter().map(|a| a.retention).collect(),
            cumulative_per_user: c.table.iter().map(|a| a.cumulative_per_user).collect(),
        })
        .collect();
    Ok(CohortsView {
        request: req.clone(),
        total_revenue: table.total_revenue,
        matrix,
        values: report.values,
        btyd,
        btyd_note,
        daily: daily_forecast(&table, req.level, report.backtest.as_ref()),
        backtest: report.backtest,
        backtest_note: report.backtest_note,
        notes: report.notes,
        retention: survival::project(&table, &FitOptions::default())
            .into_iter()
            .filter(|r| r.segment.is_none())
            .collect(),
    })
}

type BtydValues = Option<(clv_core::pipeline::ModelKind, Vec<clv_core::cohorts::btyd::BtydCohortValue>)>;

fn btyd(
    tx: &Transactions,
    users: Option<&Users>,
    table: &CohortTable,
    req: &CohortRequest,
    models: Option<&ModelSession>,
) -> Result<BtydValues, String> {
    let Some(kind) = req.btyd else { return Ok(None) };
    let session = models.ok_or("fit the models first to compare with the per-customer view")?;
    let (model, spend, unit) = session.fitted_at(kind, table.params.cutoff())?;
    let values = btyd_by_cohort(tx, users, &table.params, model.as_count(), spend, unit).map_err(|e| e.to_string())?;
    Ok(Some((kind, values)))
}

/// The CLI's `clv cohorts` output (or `--table`) for the same settings.
pub fn export(
    tx: &Transactions,
    users: Option<&Users>,
    req: &CohortRequest,
    as_table: bool,
    models: Option<&ModelSession>,
) -> Result<ExportFile, String> {
    let t = table(tx, users, req)?;
    let grain = serde_json::to_value(req.grain).map_err(|e| e.to_string())?;
    let grain = grain.as_str().unwrap_or("cohort");
    if as_table {
        let mut safety = CsvSafety::default();
        let csv = t.to_csv(&mut safety);
        return Ok(ExportFile {
            file_name: format!("cohort_table_{grain}_{}.csv", req.cutoff),
            csv,
            notes: safety.notes(),
        });
    }
    let report = value_cohorts(&t).map_err(|e| e.to_string())?;
    let btyd = btyd(tx, users, &t, req, models).ok().flatten();
    let mut safety = CsvSafety::default();
    let csv = values_csv(&report, btyd.as_ref().map(|(_, v)| v.as_slice()), &mut safety);
    let file_name = format!("cohort_clv_{grain}_{}d_{}.csv", req.horizon.in_days(), req.cutoff);
    Ok(ExportFile { file_name, csv, notes: safety.notes() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clv_core::ingest::{ingest, IngestOptions};
    use clv_core::time::{CohortGrain, TimeUnit};

    const CDNOW: &str = include_str!("../../tests/data/cdnow_sample_transactions.csv");

    fn req(btyd: Option<clv_core::pipeline::ModelKind>) -> CohortRequest {
        CohortRequest {
            cutoff: "1997-06-30".parse().unwrap(),
            horizon: clv_core::time::Horizon::days(365).unwrap(),
            grain: CohortGrain::Month,
            age_unit: TimeUnit::Month,
            level: 0.9,
            btyd,
            segment: None,
        }
    }

    #[test]
    fn cdnow_cohorts_for_the_page_equal_the_cli_export() {
        let tx = ingest(CDNOW.as_bytes(), &IngestOptions::default(), &mut |_| {}).unwrap().transactions;
        let view = cohorts(&tx, None, &req(None), None).unwrap();
        assert_eq!(view.matrix.iter().map(|c| c.users).sum::<u32>(), 2357);
        // Three months of cohorts, three months of fully observed ages for the March one.
        assert_eq!(view.matrix.len(), 3);
        assert_eq!(view.matrix[2].retention[0], 1.0);
        assert!(view.values.iter().all(|v| v.forecast.is_empty() && v.clv_per_user.is_finite()));
        assert_eq!(view.daily.history.len(), clv_core::cohorts::daily::SHOWN_HISTORY);
        assert_eq!(view.daily.forecast.as_ref().map(|f| f.mean.len()), Some(clv_core::cohorts::daily::DAILY_HORIZON));
        assert!(view.backtest.is_some(), "{}", view.backtest_note);
        // Asked for a BTYD comparison without fitted models: said, not faked.
        let v = cohorts(&tx, None, &req(Some(clv_core::pipeline::ModelKind::Bgnbd)), None).unwrap();
        assert!(v.btyd.is_none() && v.btyd_note.unwrap().contains("fit the models first"));
        let f = export(&tx, None, &req(None), false, None).unwrap();
        assert_eq!(f.file_name, "cohort_clv_month_365d_1997-06-30.csv");
        assert!(f.csv.starts_with("cohort,segment,users,observed_revenue,clv_per_user"));
        assert_eq!(f.csv.lines().count(), 4);
        assert!(f.notes.is_empty());
    }
}
