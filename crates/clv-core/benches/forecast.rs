//! `cargo bench -p clv-core --bench forecast`: the cohort issue's benchmark,
//! 1,000 daily cohorts × 2 years of history, every forecast with its
//! interval — once as bare Holt–Winters fits (365-day forecasts) and once
//! through the cohort pipeline (`value_cohorts`, CLV at 3 years after
//! signup, so every cohort needs a 365-day forecast). `CLV_BENCH_SERIES`
//! (default 1,000).

use clv_core::cohorts::clv::value_cohorts;
use clv_core::cohorts::{Cohort, CohortParams, CohortTable};
use clv_core::features::Cutoff;
use clv_core::forecast::HoltWintersParams;
use clv_core::time::{CohortGrain, TimeUnit};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Instant;

fn main() {
    let n: usize = std::env::var("CLV_BENCH_SERIES").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let mut rng = StdRng::seed_from_u64(1);
    let week = [1.2, 1.0, 0.9, 0.9, 1.0, 1.3, 1.5];
    let series: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            let level = 50.0 + 100.0 * rng.random::<f64>();
            let decay = 0.001 + 0.004 * rng.random::<f64>();
            (0..730)
                .map(|t| {
                    let v = level * (-decay * t as f64).exp() * week[t % 7];
                    (v + 0.2 * v * rng.sample::<f64, _>(StandardNormal)).max(0.0)
                })
                .collect()
        })
        .collect();
    let params = HoltWintersParams::new(7, false).unwrap();
    let t = Instant::now();
    let (mut evals, mut converged) = (0, 0);
    let mut total = 0.0;
    for y in &series {
        let fit = params.fit(y).unwrap();
        let fc = fit.forecast(365, 0.9).unwrap();
        let (sum, var) = fit.cumulative(365);
        total += fc.mean[0] + sum + var.sqrt();
        evals += fit.iterations;
        converged += usize::from(fit.converged);
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "holt-winters: {n} series × 730 days, fit + 365-day forecast + intervals: {secs:.3} s \
         ({:.2} ms/series, {:.0} NM iterations/series, {converged}/{n} converged) [checksum {total:.1}]",
        1000.0 * secs / n as f64,
        evals as f64 / n as f64
    );

    cohort_pipeline(&series);
}

fn cohort_pipeline(series: &[Vec<f64>]) {
    let start = 20_000;
    let cohorts: Vec<Cohort> = series
        .iter()
        .enumerate()
        .map(|(i, y)| Cohort {
            cohort: format!("c{i}"),
            start_day: start + i as i64,
            segment: None,
            users: 100,
            observed_revenue: y.iter().sum(),
            observed_days: y.len(),
            revenue_by_age: y.clone(),
            table: Vec::new(),
        })
        .collect();
    let params = CohortParams::new(
        CohortGrain::Day,
        TimeUnit::Week,
        Cutoff::day(start + 2000),
        clv_core::time::Horizon::days(1095).unwrap(),
        0.9,
        None,
    )
    .unwrap();
    let table = CohortTable {
        params,
        total_revenue: 0.0,
        daily_revenue: series[0].clone(),
        first_day: start,
        notes: Vec::new(),
        cohorts,
    };
    let t = Instant::now();
    let report = value_cohorts(&table).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let forecast = report.values.iter().filter(|v| v.forecast.len() == 365 && v.clv_lower.is_some()).count();
    println!(
        "cohort pipeline: {} daily cohorts × 730 days → CLV at 1,095 days ({forecast} with a 365-day forecast and interval) + daily-revenue backtest: {secs:.3} s",
        report.values.len()
    );
}
