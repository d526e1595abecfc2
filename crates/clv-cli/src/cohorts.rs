//! `clv cohorts` and `clv forecast`.

use crate::{open, print_json, write_export, CliResult, Format};
use clv_core::cohorts::btyd::{btyd_by_cohort, BtydCohortValue};
use clv_core::cohorts::clv::{value_cohorts, values_csv};
use clv_core::cohorts::daily::daily_forecast;
use clv_core::cohorts::{build, survival, CohortParams};
use clv_core::export::CsvSafety;
use clv_core::features::RfmSummary;
use clv_core::features::{purchase_days, Cutoff, Users};
use clv_core::forecast::{forecast_series, parse_series, rolling_origin, Method};
use clv_core::ingest::{DateOrder, Transactions};
use clv_core::models::FitOptions;
use clv_core::pipeline::{fit_models, Customers, ModelKind};
use clv_core::time::{format_day, CohortGrain, Day, Horizon, TimeUnit};
use serde_json::json;
use std::path::Path;

pub struct CohortArgs<'a> {
    pub cohort: CohortGrain,
    pub segment: Option<String>,
    pub horizon_days: Horizon,
    pub cutoff: Option<Day>,
    pub age_unit: TimeUnit,
    pub level: f64,
    pub table: bool,
    /// Print the daily revenue forecast (the page's chart) instead.
    pub daily: bool,
    /// Print each cohort's sBG retention projection instead.
    pub retention: bool,
    /// The model, the unit it is fitted in and the fit's options.
    pub btyd: Option<(ModelKind, TimeUnit, FitOptions)>,
    pub format: Format,
    pub safety: &'a mut CsvSafety,
}

pub fn cohorts(tx: &Transactions, users: Option<&Users>, a: CohortArgs) -> CliResult {
    let cutoff = match a.cutoff {
        Some(day) => crate::checked_cutoff(day, tx)?.day,
        None => purchase_days(tx).map(|(_, last)| last).ok_or("the file has no accepted transactions")?,
    };
    let params = CohortParams::new(a.cohort, a.age_unit, Cutoff::day(cutoff), a.horizon_days, a.level, a.segment)
        .map_err(|e| e.to_string())?;
    let table = build(tx, users, &params).map_err(|e| e.to_string())?;
    for note in &table.notes {
        eprintln!("note: {note}");
    }
    if a.table {
        return match a.format {
            Format::Csv => write_export(&table.to_csv(a.safety), a.safety),
            Format::Json => print_json(&table.cohorts),
        };
    }
    if a.retention {
        let rows = survival::project(&table, &FitOptions::default());
        for r in &rows {
            if let Some(note) = &r.note {
                eprintln!("note: cohort {}: {note}", r.cohort);
            } else if let Some(f) = r.fit.as_ref().filter(|f| f.projection.is_empty()) {
                eprintln!(
                    "note: cohort {}: sBG {}: {}",
                    r.cohort,
                    f.report.convergence.status(),
                    f.report.convergence.message
                );
            }
        }
        return match a.format {
            Format::Csv => write_export(&survival::to_csv(&rows, a.safety), a.safety),
            Format::Json => print_json(&rows),
        };
    }
    let report = value_cohorts(&table).map_err(|e| e.to_string())?;
    if a.daily {
        let daily = daily_forecast(&table, a.level, report.backtest.as_ref());
        eprintln!("note: {} {}", daily.method, daily.note);
        return match a.format {
            Format::Csv => {
                print!("{}", daily.to_csv());
                Ok(())
            }
            Format::Json => print_json(&daily),
        };
    }
    let btyd = a.btyd.map(|(kind, unit, opts)| btyd_values(tx, users, &params, kind, unit, &opts)).transpose()?;
    match a.format {
        Format::Csv => write_export(&values_csv(&report, btyd.as_deref(), a.safety), a.safety),
        Format::Json => print_json(&json!({
            "cutoff": format_day(cutoff),
            "horizon_days": report.horizon_days,
            "level": report.level,
            "total_revenue": table.total_revenue,
            "cohorts": report.values,
            "backtest": report.backtest,
            "backtest_note": report.backtest_note,
            "notes": report.notes,
            "btyd": btyd,
        })),
    }
}

/// Fit `kind` and Gamma–Gamma at the cutoff (the one `fit_models` the page
/// and `clv predict` use) and value the cohorts bottom-up; a count fit that
/// is not a result is an error, a spend fit that is not one is said.
fn btyd_values(
    tx: &Transactions,
    users: Option<&Users>,
    params: &CohortParams,
    kind: ModelKind,
    unit: TimeUnit,
    opts: &FitOptions,
) -> Result<Vec<BtydCohortValue>, String> {
    let customers = Customers::from_summary(&RfmSummary::build(tx, params.cutoff(), unit), tx);
    let set = fit_models(&[kind], true, &customers, opts, &mut |_, _, _| {});
    let model = set.model(kind).map_err(|e| format!("--btyd {e}"))?;
    if let Some(e) = set.spend.as_ref().and_then(|s| s.error.as_ref()) {
        eprintln!("warning: --btyd: {e}; each customer's own mean purchase is used as their spend");
    }
    btyd_by_cohort(tx, users, params, model.as_count(), set.spend_model(), unit).map_err(|e| e.to_string())
}

pub struct ForecastArgs<'a> {
    pub input: &'a Path,
    pub season_length: usize,
    pub horizon: usize,
    pub level: f64,
    pub allow_negative: bool,
    pub damped: bool,
    pub date_order: DateOrder,
    pub json: bool,
    pub safety: &'a mut CsvSafety,
}

pub fn forecast(a: ForecastArgs) -> CliResult {
    let name = a.input.display().to_string();
    let series = parse_series(open(a.input)?, a.date_order).map_err(|e| format!("{name}: {e}"))?;
    let y = &series.values;
    let fc = forecast_series(y, a.season_length, a.horizon, a.level, !a.allow_negative, a.damped)
        .map_err(|e| format!("{name}: {e}"))?;
    let backtest = rolling_origin(
        y,
        a.season_length,
        a.horizon.min(4 * a.season_length),
        5,
        &[Method::HoltWinters, Method::DampedHoltWinters],
    );
    let rows: Vec<_> = (0..a.horizon)
        .map(|h| {
            json!({"date": format_day(series.day(y.len() + h)), "mean": fc.forecast.mean[h],
                   "lower": fc.forecast.lower[h], "upper": fc.forecast.upper[h]})
        })
        .collect();
    let params = fc.model.as_ref().map(|m| {
        json!({"alpha": m.smoothing.alpha, "beta": m.smoothing.beta, "gamma": m.smoothing.gamma, "phi": m.smoothing.phi,
               "initial_level": m.initial_level, "initial_trend": m.initial_trend, "initial_seasons": m.initial_season})
    });
    if a.json {
        return print_json(&json!({
            "method": fc.method.name(),
            "note": fc.note,
            "params": params,
            "sse": fc.model.as_ref().map(|m| m.sse),
            "sigma2": fc.model.as_ref().map(|m| m.sigma2),
            "converged": fc.model.as_ref().map(|m| m.converged),
            "iterations": fc.model.as_ref().map(|m| m.iterations),
            "level": a.level,
            "clamped_steps": fc.clamped,
            "forecast": rows,
            "backtest": backtest.as_ref().ok(),
            "backtest_note": backtest.as_ref().err().map(|e| format!("no backtest: {e}")),
        }));
    }
    let mut out = format!("date,mean,lower_{0},upper_{0}\n", (a.level * 100.0).round());
    for (h, r) in rows.iter().enumerate() {
        let (s, f) = (&mut *a.safety, &fc.forecast);
        let cells = [s.num(f.mean[h]), s.num(f.lower[h]), s.num(f.upper[h])];
        out.push_str(&format!("{},{}\n", r["date"].as_str().unwrap_or_default(), cells.join(",")));
    }
    eprintln!(
        "method: {}{}",
        fc.method.name(),
        if fc.note.is_empty() { String::new() } else { format!(" ({})", fc.note) }
    );
    write_export(&out, a.safety)
}
