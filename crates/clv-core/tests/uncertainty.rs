//! The total CLV's interval from parameter uncertainty (`clv_core::uncertainty`) against what it
//! approximates: a Monte Carlo over parameter draws from the fits' covariance, on CDNOW.

use clv_core::clv::{ClvParams, Discounting};
use clv_core::models::{FitOptions, Rfm};
use clv_core::pipeline::{fit_count, fit_spend, predict, AnyModel, Customers, ModelKind};
use clv_core::time::{HorizonUnit, PredictionHorizon, TimeUnit};
use clv_core::uncertainty::{total_clv, TotalClv};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

const PUBLISHED: &str = include_str!("../../../tests/data/cdnow_customers_summary_with_transactions.csv");

/// CDNOW's 2,357 customers (x, t_x, T in weeks, mean repeat spend), every `step`-th of them.
fn cdnow(step: usize) -> Customers {
    let mut c = Customers::default();
    for line in PUBLISHED.lines().skip(1).step_by(step) {
        let f: Vec<f64> = line.split(',').skip(1).map(|v| v.parse().unwrap()).collect();
        c.ids.push(c.ids.len().to_string());
        c.rfm.push(Rfm::new(f[0], f[1], f[2]));
        c.monetary.push(f[3]);
        c.weights.push(1.0);
    }
    c
}

fn year(rate: f64) -> ClvParams {
    ClvParams::new(
        PredictionHorizon::new(365.0, HorizonUnit::Day).unwrap(),
        rate,
        TimeUnit::Week,
        Discounting::PerPeriod,
    )
    .unwrap()
}

/// Log-parameters and their covariance.
type LogEstimates = (Vec<f64>, Vec<Vec<f64>>);

fn fitted(kind: ModelKind, c: &Customers, p: &ClvParams) -> (TotalClv, AnyModel, Vec<LogEstimates>) {
    let opts = FitOptions::default();
    let (model, count) = fit_count(kind, c, &opts).unwrap();
    let (gg, spend) = fit_spend(c, &opts).unwrap();
    let total = total_clv(&model, Some(&count), Some((&gg, Some(&spend))), c, p);
    let est = |r: &clv_core::models::FitReport| {
        (r.params.iter().map(|p| p.value.ln()).collect::<Vec<_>>(), r.log_covariance.clone().unwrap())
    };
    (total, model, vec![est(&count), est(&spend)])
}

/// One draw from N(mean, cov) by the Cholesky factor of cov.
fn draw(mean: &[f64], cov: &[Vec<f64>], rng: &mut StdRng) -> Vec<f64> {
    let n = mean.len();
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = cov[i][j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            l[i * n + j] = if i == j { s.sqrt() } else { s / l[j * n + j] };
        }
    }
    let z: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    (0..n).map(|i| mean[i] + (0..=i).map(|k| l[i * n + k] * z[k]).sum::<f64>()).collect()
}

#[test]
fn the_total_is_the_sum_of_the_clv_column() {
    let c = cdnow(1);
    let p = year(0.1);
    for kind in [ModelKind::Bgnbd, ModelKind::Pnbd] {
        let (total, model, _) = fitted(kind, &c, &p);
        let opts = FitOptions::default();
        let (gg, _) = fit_spend(&c, &opts).unwrap();
        let column: f64 = predict(&model, Some(&gg), &c, &p).iter().map(|r| r.value.clv).sum();
        assert!((total.total_clv - column).abs() < 1e-9 * column, "{kind:?}: {} vs {column}", total.total_clv);
        let i = total.interval.unwrap();
        assert!(i.low < total.total_clv && total.total_clv < i.high && i.level == 0.95);
        // ln-symmetric: total² = low × high.
        assert!((i.low * i.high / total.total_clv.powi(2) - 1.0).abs() < 1e-12);
    }
}

#[test]
fn the_delta_interval_agrees_with_a_monte_carlo_over_parameter_draws() {
    let c = cdnow(1);
    let p = year(0.1);
    let (total, _, estimates) = fitted(ModelKind::Bgnbd, &c, &p);
    let interval = total.interval.unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let mut totals: Vec<f64> = (0..400)
        .map(|_| {
            let count = draw(&estimates[0].0, &estimates[0].1, &mut rng).iter().map(|v| v.exp()).collect::<Vec<_>>();
            let spend = draw(&estimates[1].0, &estimates[1].1, &mut rng).iter().map(|v| v.exp()).collect::<Vec<_>>();
            let m = clv_core::models::BgNbd::new(count[0], count[1], count[2], count[3]).unwrap();
            let gg = clv_core::models::GammaGamma::new(spend[0], spend[1], spend[2]).unwrap();
            predict(&AnyModel::Bgnbd(m), Some(&gg), &c, &p).iter().map(|r| r.value.clv).sum::<f64>()
        })
        .collect();
    totals.sort_by(f64::total_cmp);
    let (mc_low, mc_high) = (totals[10], totals[389]);
    let width = (interval.high / interval.low).ln();
    println!(
        "delta {:.0}–{:.0}, Monte Carlo {mc_low:.0}–{mc_high:.0}, total {:.0}",
        interval.low, interval.high, total.total_clv
    );
    // 400 draws place a 2.5% quantile to within a few percent of the width.
    assert!((mc_low / interval.low).ln().abs() < 0.12 * width, "{mc_low} vs {}", interval.low);
    assert!((mc_high / interval.high).ln().abs() < 0.12 * width, "{mc_high} vs {}", interval.high);
    assert!(width > 0.05 && width < 1.0, "CDNOW's 2,357 customers pin the total to within tens of percent: {width}");
}

#[test]
fn fewer_customers_give_a_wider_interval_and_weights_count_as_customers() {
    let p = year(0.0);
    let relative = |c: &Customers| {
        let i = fitted(ModelKind::Bgnbd, c, &p).0.interval.unwrap();
        (i.high / i.low).ln()
    };
    let (all, few) = (relative(&cdnow(1)), relative(&cdnow(8)));
    assert!(few > 2.0 * all, "295 customers: {few}, 2,357: {all}");
    // Those 295 customers, each twice, as one row of weight 2: the same total, a narrower interval.
    let once = cdnow(8);
    let mut twice = once.clone();
    twice.weights = vec![2.0; once.rfm.len()];
    let (a, b) = (fitted(ModelKind::Bgnbd, &once, &p).0, fitted(ModelKind::Bgnbd, &twice, &p).0);
    assert!((b.total_clv / a.total_clv - 2.0).abs() < 1e-6, "{} vs {}", b.total_clv, a.total_clv);
    let ratio = b.interval.unwrap().sd_log / a.interval.unwrap().sd_log;
    assert!((ratio - 0.5f64.sqrt()).abs() < 0.01, "doubling the data shrinks the sd by √2: {ratio}");
}

#[test]
fn a_fit_at_a_boundary_gives_no_interval_and_says_why() {
    // Nobody leaves: every customer buys every week up to the cutoff, so the dropout has no
    // heterogeneity to estimate and BG/NBD's optimum lies at a boundary.
    let mut c = Customers::default();
    for i in 0..150 {
        let t = 20.0 + f64::from(i % 30);
        c.ids.push(i.to_string());
        c.rfm.push(Rfm::new(t - 1.0, t - 1.0, t));
        c.monetary.push(10.0 + f64::from(i % 7));
        c.weights.push(1.0);
    }
    let opts = FitOptions::default();
    let (model, count) = fit_count(ModelKind::Bgnbd, &c, &opts).unwrap();
    assert!(count.limiting.is_some(), "{:?}", count.convergence);
    let total = total_clv(&model, Some(&count), None, &c, &year(0.0));
    assert!(total.interval.is_none() && total.total_clv > 0.0);
    assert!(total.no_interval.unwrap().contains("at a boundary"));
}
