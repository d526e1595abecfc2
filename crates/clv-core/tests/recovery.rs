//! Parameter recovery: data simulated from known BG/NBD + Gamma–Gamma
//! parameters is fitted back within 3 standard errors, for several seeds.

use clv_core::models::gamma_gamma::Spend;
use clv_core::models::{fit, BgNbd, FitOptions, GammaGamma, Rfm, Weighted};
use clv_core::simulate::{simulate, SimulationParams};
use clv_core::time::TimeUnit;

const TRUTH: [f64; 4] = [0.25, 4.0, 0.8, 2.5];
const SPEND: [f64; 3] = [6.0, 4.0, 15.0];

/// Simulate and summarise in continuous time (no day rounding).
fn simulated(seed: u64, customers: u64) -> (Vec<Rfm>, Vec<Spend>) {
    let p = SimulationParams {
        r: TRUTH[0],
        alpha: TRUTH[1],
        a: TRUTH[2],
        b: TRUTH[3],
        spend: Some((SPEND[0], SPEND[1], SPEND[2])),
        unit: TimeUnit::Week,
        customers,
        start_day: 0,
        acquisition_days: 120,
        observation_days: 7 * 60,
        seed,
    };
    let week = 7.0 * 86_400.0;
    let end = (p.observation_days * 86_400) as f64;
    // per customer: first ts, last ts, repeat count, repeat amount total
    let mut acc: Vec<(f64, f64, f64, f64)> = vec![(f64::NAN, 0.0, -1.0, 0.0); customers as usize];
    simulate(&p, |t| {
        let a = &mut acc[t.customer as usize];
        if a.2 < 0.0 {
            *a = (t.ts as f64, t.ts as f64, 0.0, 0.0);
        } else {
            a.1 = t.ts as f64;
            a.2 += 1.0;
            a.3 += t.amount;
        }
    })
    .unwrap();
    let rfm = acc.iter().map(|a| Rfm::new(a.2, (a.1 - a.0) / week, (end - a.0) / week)).collect();
    let spend = acc.iter().filter(|a| a.2 > 0.0).map(|a| Spend { x: a.2, mean: a.3 / a.2 }).collect();
    (rfm, spend)
}

#[test]
fn bgnbd_and_gamma_gamma_recover_known_parameters() {
    for seed in [1, 2, 3] {
        let (rfm, spend) = simulated(seed, 4000);
        let f = fit::<BgNbd>(&Weighted::from_rows(rfm), &FitOptions::default()).unwrap();
        assert!(f.report.convergence.converged, "seed {seed}: {:?}", f.report.convergence);
        for (p, truth) in f.report.params.iter().zip(TRUTH) {
            let se = p.std_error.unwrap();
            assert!((p.value - truth).abs() < 3.0 * se, "seed {seed} {}: {} ± {se} vs {truth}", p.name, p.value);
        }
        let w = Weighted { weights: vec![1.0; spend.len()], rows: spend };
        let g = fit::<GammaGamma>(&w, &FitOptions::default()).unwrap();
        assert!(g.report.convergence.converged);
        for (p, truth) in g.report.params.iter().zip(SPEND) {
            let se = p.std_error.unwrap();
            assert!((p.value - truth).abs() < 3.0 * se, "seed {seed} {}: {} ± {se} vs {truth}", p.name, p.value);
        }
    }
}

/// Customers from a Gamma–Gompertz/NBD: λ ~ Gamma(r, α), η ~ Gamma(s, β), death at the
/// Gompertz inverse τ = ln(1 − ln(U)/η)/b, purchases Poisson(λ) until min(τ, T).
fn simulated_ggomnbd(seed: u64, customers: usize, p: [f64; 5]) -> Vec<Rfm> {
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Exp, Gamma};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let lambda = Gamma::new(p[0], 1.0 / p[1]).unwrap();
    let eta = Gamma::new(p[3], 1.0 / p[4]).unwrap();
    (0..customers)
        .map(|_| {
            let t = 52.0 + 26.0 * rng.random::<f64>(); // acquired over half a year, observed to week 78
            let (l, e) = (lambda.sample(&mut rng), eta.sample(&mut rng));
            let death = (1.0 - rng.random::<f64>().ln() / e).ln() / p[2];
            let (mut now, mut x, mut last) = (0.0, 0.0, 0.0);
            let gap = Exp::new(l).unwrap();
            loop {
                now += gap.sample(&mut rng);
                if now > death.min(t) {
                    break;
                }
                x += 1.0;
                last = now;
            }
            Rfm::new(x, last, t)
        })
        .collect()
}

#[test]
fn gamma_gompertz_nbd_recovers_ageing_lifetimes() {
    use clv_core::models::{GammaGompertzNbd, Likelihood};
    // Strong ageing: the hazard doubles every ln 2/0.06 ≈ 12 weeks.
    let truth = [0.8, 4.0, 0.06, 2.0, 6.0];
    let data = Weighted::from_rows(simulated_ggomnbd(7, 3000, truth));
    let f = fit::<GammaGompertzNbd>(&data, &FitOptions::default()).unwrap();
    assert!(f.report.convergence.converged, "{:?}", f.report.convergence);
    for (p, want) in f.report.params.iter().zip(truth) {
        let se = p.std_error.unwrap();
        assert!((p.value - want).abs() < 3.0 * se, "{}: {} ± {se} vs {want}", p.name, p.value);
    }
    // Pareto/NBD (constant hazard) fits these data worse: ageing is identified.
    let pareto = fit::<clv_core::models::ParetoNbd>(&data, &FitOptions::default()).unwrap();
    assert!(
        f.report.log_likelihood > pareto.report.log_likelihood + 5.0,
        "{} vs {}",
        f.report.log_likelihood,
        pareto.report.log_likelihood
    );
    assert_eq!(GammaGompertzNbd::PARAMS, ["r", "alpha", "b", "s", "beta"]);
}
