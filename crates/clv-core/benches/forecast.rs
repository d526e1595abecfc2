//! `cargo bench -p clv-core --bench forecast`: Holt–Winters fits + 365-day
//! forecasts with intervals for 1,000 daily revenue series × 2 years (the
//! cohort issue's benchmark). `CLV_BENCH_SERIES` (default 1,000).

use clv_core::forecast::HoltWintersParams;
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
}
