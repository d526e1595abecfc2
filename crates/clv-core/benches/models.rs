//! `cargo bench -p clv-core --bench models`: fits and predictions on
//! simulated customers (times in whole days, as real data has).
//! `CLV_BENCH_CUSTOMERS` (default 1,000,000).

use clv_core::clv::ClvParams;
use clv_core::models::FitOptions;
use clv_core::pipeline::{fit_count, fit_spend, predict, Customers, ModelKind};
use clv_core::simulate::{simulate_summary, SimulationParams};
use clv_core::time::TimeUnit;
use std::time::Instant;

fn main() {
    let n: u64 = std::env::var("CLV_BENCH_CUSTOMERS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let p = SimulationParams {
        r: 0.25,
        alpha: 4.0,
        a: 0.8,
        b: 2.5,
        spend: Some((6.0, 4.0, 15.0)),
        unit: TimeUnit::Week,
        customers: n,
        start_day: 0,
        acquisition_days: 90,
        observation_days: 7 * 52,
        seed: 7,
    };
    let rows = simulate_summary(&p).unwrap();
    let c = Customers {
        ids: (0..rows.len()).map(|i| i.to_string()).collect(),
        rfm: rows.iter().map(|r| r.0).collect(),
        monetary: rows.iter().map(|r| r.1).collect(),
        weights: vec![1.0; rows.len()],
        monetary_is_group_mean: false,
    };
    let opts = FitOptions::default();
    if std::env::var("CLV_PROBE").is_ok() {
        probe(&c);
        return;
    }
    let clv =
        ClvParams::new(clv_core::time::Horizon::days(365).unwrap().into(), 0.1, TimeUnit::Week, Default::default())
            .unwrap();

    let t = Instant::now();
    let (bg, bg_report) = fit_count(ModelKind::Bgnbd, &c, &opts).unwrap();
    let fit_bg = t.elapsed().as_secs_f64();
    let (gg, gg_report) = fit_spend(&c, &opts).unwrap();
    let fit_gg = t.elapsed().as_secs_f64() - fit_bg;
    let t2 = Instant::now();
    let preds = predict(&bg, Some(&gg), &c, &clv);
    let pred = t2.elapsed().as_secs_f64();
    let total = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (_, pn_report) = fit_count(ModelKind::Pnbd, &c, &opts).unwrap();
    let fit_pn = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (_, mbg_report) = fit_count(ModelKind::Mbgnbd, &c, &opts).unwrap();
    let fit_mbg = t.elapsed().as_secs_f64();

    println!("{n} customers, {} distinct (x, t_x, T)", bg_report.n_unique);
    println!(
        "BG/NBD fit        {fit_bg:7.3} s  converged {} ({} iterations)",
        bg_report.convergence.converged, bg_report.convergence.iterations
    );
    println!(
        "Gamma–Gamma fit   {fit_gg:7.3} s  converged {} on {} repeaters",
        gg_report.convergence.converged, gg_report.n_customers
    );
    println!("predict + CLV     {pred:7.3} s  ({} customers, 12 months)", preds.len());
    println!("BG/NBD+GG total   {total:7.3} s");
    println!(
        "Pareto/NBD fit    {fit_pn:7.3} s  converged {} ({} iterations)",
        pn_report.convergence.converged, pn_report.convergence.iterations
    );
    println!(
        "MBG/NBD fit       {fit_mbg:7.3} s  converged {} ({} iterations)",
        mbg_report.convergence.converged, mbg_report.convergence.iterations
    );
}

#[allow(dead_code)]
fn probe(c: &Customers) {
    use clv_core::models::{Likelihood, ParetoNbd};
    let data = c.weighted();
    let m = ParetoNbd::new(0.55, 10.6, 0.61, 11.7).unwrap();
    let prepared = ParetoNbd::prepare(&data);
    let t = Instant::now();
    let ll = m.ln_likelihood_sum(&data, &prepared).unwrap();
    let t2 = Instant::now();
    let _ = m.ln_likelihood_sum(&data, &prepared).unwrap();
    println!("probe: again {:.1} ms", t2.elapsed().as_secs_f64() * 1e3);
    println!("probe: one cached Pareto/NBD likelihood sum {:.1} ms (ll {ll:.1})", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let mut s = 0.0;
    for (r, _) in data.iter() {
        s += (r.t + 0.5).ln() + (r.t_x + 1.5).ln();
    }
    println!("probe: 2 ln per row {:.1} ms ({s:.1})", t.elapsed().as_secs_f64() * 1e3);
}
