//! Property-based fuzzing of the model fits on random small data sets,
//! including degenerate ones (nobody repeats, everyone identical, a single
//! repeat buyer): a fit returns a result or a `ModelError`, never panics,
//! and a result it calls converged is a finite interior local maximum.
//!
//! Fits are slow, so the default is a few cases; a long run:
//! `CLV_FUZZ_MODEL_CASES=2000 cargo test -p clv-core --release --test fuzz_models`.

mod fuzz_common;

use clv_core::models::gamma_gamma::Spend;
use clv_core::models::{
    fit, BgBb, BgNbd, CountModel, FitOptions, GammaGamma, Likelihood, MbgNbd, ParetoNbd, Rfm, Weighted,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::time::Duration;

/// Step on each log-parameter for the local-maximum check.
const STEP: f64 = 1e-3;

/// A fit of at most 200 customers takes well under a second; one that runs
/// this long is a hang (the "Pareto/NBD fits run for minutes").
const FIT_BUDGET: Duration = Duration::from_secs(30);

/// One continuous-time customer: x repeat purchases, the last at t_x ≤ T.
fn rfm_row() -> impl Strategy<Value = Rfm> {
    (0u32..50, 0.0f64..=1.0, 0.5f64..500.0).prop_map(|(x, frac, t)| {
        let t_x = if x == 0 { 0.0 } else { (frac * t).max(1e-3) };
        Rfm::new(f64::from(x), t_x, t)
    })
}

/// Random sets and the degenerate shapes that broke fits before.
fn rfm_data() -> impl Strategy<Value = Vec<Rfm>> {
    prop_oneof![
        4 => proptest::collection::vec(rfm_row(), 10..200),
        1 => (10usize..200, 0.5f64..500.0).prop_map(|(n, t)| vec![Rfm::new(0.0, 0.0, t); n]),
        1 => (10usize..200, rfm_row()).prop_map(|(n, r)| vec![r; n]),
        1 => (proptest::collection::vec(rfm_row(), 10..200), rfm_row()).prop_map(|(rows, buyer)| {
            let mut rows: Vec<Rfm> = rows.into_iter().map(|r| Rfm::new(0.0, 0.0, r.t)).collect();
            rows[0] = buyer;
            rows
        }),
        // Nobody drops out: everyone buys at a steady pace up to T.
        1 => proptest::collection::vec((1u32..50, 10.0f64..500.0), 10..200)
            .prop_map(|v| v.into_iter().map(|(x, t)| Rfm::new(f64::from(x), t, t)).collect()),
    ]
}

/// One discrete-time (BG/BB) customer: x ≤ t_x ≤ n whole periods.
fn bgbb_data() -> impl Strategy<Value = Vec<Rfm>> {
    let row = (1u32..30, 0.0f64..=1.0, 0.0f64..=1.0).prop_map(|(n, a, b)| {
        let t_x = (a * f64::from(n)).round();
        let x = (b * t_x).round();
        Rfm::new(x, t_x, f64::from(n))
    });
    prop_oneof![
        4 => proptest::collection::vec(row.clone(), 10..200),
        1 => (10usize..200, row).prop_map(|(n, r)| vec![r; n]),
        1 => (10usize..200, 1u32..30).prop_map(|(k, n)| vec![Rfm::new(0.0, 0.0, f64::from(n)); k]),
    ]
}

fn spend_data() -> impl Strategy<Value = Vec<Spend>> {
    let row = (1u32..50, -2.0f64..4.0).prop_map(|(x, lg)| Spend { x: f64::from(x), mean: 10f64.powf(lg) });
    prop_oneof![
        4 => proptest::collection::vec(row.clone(), 10..200),
        1 => (10usize..200, row).prop_map(|(n, r)| vec![r; n]),
    ]
}

fn ln_l<M: Likelihood>(m: &M, data: &Weighted<M::Row>) -> f64 {
    data.iter().map(|(r, w)| w * m.ln_likelihood(r)).sum()
}

/// Fit `M`; when it returns a model, check what its report claims.
/// Returns the model and its convergence status.
fn check_fit<M>(data: &Weighted<M::Row>) -> Result<Option<(M, &'static str)>, TestCaseError>
where
    M: Likelihood + Send + 'static,
    M::Row: Send + std::fmt::Debug + 'static,
{
    let owned = data.clone();
    let input = format!("{} on {:?}", M::ID, data.rows);
    let fitted = match fuzz_common::within(FIT_BUDGET, input, move || fit::<M>(&owned, &FitOptions::default())) {
        Ok(f) => f,
        Err(e) => {
            prop_assert!(!e.to_string().is_empty());
            return Ok(None);
        }
    };
    let r = &fitted.report;
    prop_assert!(r.log_likelihood.is_finite(), "{}: ln L = {}", M::ID, r.log_likelihood);
    for p in &r.params {
        prop_assert!(p.value.is_finite() && p.value > 0.0, "{}: {} = {}", M::ID, p.name, p.value);
    }
    if r.convergence.converged {
        prop_assert!(r.convergence.boundary.is_none(), "{}: converged at a boundary", M::ID);
        let ll = ln_l(&fitted.model, data);
        prop_assert!(ll.is_finite(), "{}: row sum ln L = {}", M::ID, ll);
        let slack = 1e-9 * ll.abs().max(1.0);
        let p = fitted.model.params();
        for i in 0..p.len() {
            for dir in [-1.0, 1.0] {
                let mut q = p.clone();
                q[i] *= (dir * STEP).exp();
                let Ok(m) = M::from_params(&q) else { continue };
                let moved = ln_l(&m, data);
                prop_assert!(
                    moved <= ll + slack,
                    "{}: \"converged\" at {:?} (ln L {}) but ln L rises to {} with {} × e^{}",
                    M::ID,
                    p,
                    ll,
                    moved,
                    M::PARAMS[i],
                    dir * STEP
                );
            }
        }
    }
    let status = fitted.report.convergence.status();
    Ok(Some((fitted.model, status)))
}

/// Predictions for every row: finite, probabilities in [0, 1], a pmf
/// that sums to at most 1.
fn check_predictions<M: CountModel + std::fmt::Debug>(
    m: &M,
    status: &str,
    rows: &[Rfm],
    horizon: f64,
) -> Result<(), TestCaseError> {
    let m_ = format!("{m:?} ({status}), horizon {horizon}");
    for c in rows.iter().take(20) {
        let p = m.p_alive(c);
        prop_assert!(p.is_finite() && (0.0..=1.0).contains(&p), "{}: p_alive {} for {:?}", m_, p, c);
        let e = m.expected_purchases(c, horizon);
        prop_assert!(e.is_finite() && e >= 0.0, "{}: E[purchases] {} for {:?}", m_, e, c);
        let pmf = m.purchase_pmf(c, horizon, 8);
        prop_assert!(pmf.iter().all(|v| v.is_finite() && *v >= -1e-12), "{}: pmf {:?} for {:?}", m_, pmf, c);
        let sum: f64 = pmf.iter().sum();
        prop_assert!(sum <= 1.0 + 1e-9, "{}: pmf sums to {} for {:?}", m_, sum, c);
    }
    Ok(())
}

fn check_count_model<M: Likelihood<Row = Rfm> + CountModel + std::fmt::Debug + Send + 'static>(
    rows: &[Rfm],
    horizon: f64,
) -> Result<(), TestCaseError> {
    let data = Weighted::from_rows(rows.iter().copied());
    if let Some((m, status)) = check_fit::<M>(&data)? {
        check_predictions(&m, status, rows, horizon)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_common::config_from("CLV_FUZZ_MODEL_CASES", 16))]

    #[test]
    fn bgnbd_fits_on_random_small_data_are_honest(rows in rfm_data(), horizon in 0.1f64..100.0) {
        check_count_model::<BgNbd>(&rows, horizon)?;
    }

    #[test]
    fn mbgnbd_fits_on_random_small_data_are_honest(rows in rfm_data(), horizon in 0.1f64..100.0) {
        check_count_model::<MbgNbd>(&rows, horizon)?;
    }

    #[test]
    fn pareto_nbd_fits_on_random_small_data_are_honest(rows in rfm_data(), horizon in 0.1f64..100.0) {
        check_count_model::<ParetoNbd>(&rows, horizon)?;
    }

    #[test]
    fn bgbb_fits_on_random_small_data_are_honest(rows in bgbb_data(), horizon in 1u32..20) {
        check_count_model::<BgBb>(&rows, f64::from(horizon))?;
    }

    #[test]
    fn gamma_gamma_fits_on_random_spend_are_honest(rows in spend_data()) {
        let data = Weighted { weights: vec![1.0; rows.len()], rows };
        check_fit::<GammaGamma>(&data)?;
    }
}

/// A predictive pmf is a probability distribution: its first terms sum to
/// at most 1, and enough of them to 1.
fn assert_pmf_is_a_distribution<M: CountModel>(m: &M, c: Rfm, horizon: f64) {
    let head: f64 = m.purchase_pmf(&c, horizon, 8).iter().sum();
    assert!(head <= 1.0 + 1e-12, "{}: the first 9 terms sum to {head}", m.name());
    let all: f64 = m.purchase_pmf(&c, horizon, 2000).iter().sum();
    assert!((all - 1.0).abs() < 1e-9, "{}: the pmf sums to {all}", m.name());
}

/// Found by `bgnbd_fits_on_random_small_data_are_honest`: a boundary fit
/// (a, b ~ 10¹⁰) whose pmf summed to 1 + 1.5·10⁻⁷ (ln B differences).
#[test]
fn bgnbd_pmf_at_a_boundary_fit_is_a_distribution() {
    let m = BgNbd::new(0.35403715420329246, 0.23697842945484116, 7947703378.993844, 236801759396.30676).unwrap();
    assert_pmf_is_a_distribution(&m, Rfm::new(4.0, 31.720683125884925, 313.94725884235595), 10.711694656677903);
}

/// Found by `mbgnbd_fits_on_random_small_data_are_honest`: 1 + 1.6·10⁻⁵.
#[test]
fn mbgnbd_pmf_at_a_boundary_fit_is_a_distribution() {
    let m = MbgNbd::new(0.40513954898862486, 0.34994181096406113, 5448271839.813048, 172769865831.39584).unwrap();
    assert_pmf_is_a_distribution(&m, Rfm::new(17.0, 261.3523505727158, 321.9775531295937), 29.02920766107545);
}

/// Found by `bgbb_fits_on_random_small_data_are_honest`: γ, δ ~ 10⁹ gave
/// 1 + 1.1·10⁻⁶.
#[test]
fn bgbb_pmf_at_a_boundary_fit_is_a_distribution() {
    let m = BgBb::new(0.5597123511721587, 0.985263515317046, 89988853.75741468, 1799134333.6411912).unwrap();
    assert_pmf_is_a_distribution(&m, Rfm::new(1.0, 19.0, 22.0), 10.0);
}

/// Found by `pareto_nbd_fits_on_random_small_data_are_honest`: s ~ 4·10⁸
/// gave 1 + 6·10⁻⁹ (the quadrature of the death time had too much mass).
#[test]
fn pareto_nbd_pmf_at_a_boundary_fit_is_a_distribution() {
    let m = ParetoNbd::new(0.5672545923213828, 1.131259717537102, 384941495.68508685, 66543657297.422325).unwrap();
    assert_pmf_is_a_distribution(&m, Rfm::new(13.0, 481.9396689056138, 483.13410841664506), 26.075299599380987);
}

/// Found by the long run of `pareto_nbd_fits_on_random_small_data_are_honest`:
/// r ~ 10²³, α ~ 10²² (a Poisson limit) made the pmf sum to 3.5, since
/// α/(α+τ) rounded to 1 before its logarithm was multiplied by r.
#[test]
fn pareto_nbd_pmf_in_the_poisson_limit_is_a_distribution() {
    let m = ParetoNbd::new(5.52388230274936e23, 3.7565727903485927e22, 1138660.9435167448, 2367954.01045902).unwrap();
    assert_pmf_is_a_distribution(&m, Rfm::new(7.0, 0.34594214039620436, 0.5), 0.1);
}

/// Found by the long fuzz run: a limit fit of MBG/NBD (a → 0, b → ∞) gave
/// E[purchases] = −2.3e23, the closed form's bracket amplified by (a+b−1)/(a−1).
#[test]
fn mbgnbd_expected_purchases_at_a_limit_is_a_mean() {
    use clv_core::models::{CountModel, MbgNbd, Rfm};
    let m = MbgNbd::new(53737324.47668108, 8453165616.815091, 1.179887934435482e-20, 4.555176457360917e31).unwrap();
    let c = Rfm::new(3.0, 292.1244065671267, 471.91854935060286);
    for t in [0.1, 10.0, 52.0] {
        let e = m.expected_purchases(&c, t);
        let pmf = m.purchase_pmf(&c, t, 400);
        let mean: f64 = pmf.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert!(e.is_finite() && e >= 0.0 && (e - mean).abs() <= 1e-6 * mean.max(1e-12), "t={t}: {e} vs {mean}");
    }
}
