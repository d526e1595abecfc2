//! The likelihoods stay exact wherever the optimiser can go: 600 rows with
//! every parameter drawn log-uniformly from 1e-8 to 1e12, against mpmath at 60
//! digits (`tests/data/fixtures/make_extreme_fixtures.py`, which evaluates
//! Pareto/NBD by quadrature, not by the ₂F₁ route used here). Before the
//! likelihoods were rewritten with stable ln Γ ratios and `ln_1p` groupings,
//! rows like r = 4·10⁶, α = 1.4·10⁻⁸ were off by whole units of log-likelihood
//! and BG/NBD returned positive values on boundary data.

use clv_core::models::gamma_gamma::Spend;
use clv_core::models::validity::count_row_bound;
use clv_core::models::{BgNbd, GammaGamma, Likelihood, MbgNbd, ParetoNbd, Rfm};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/fixtures/extreme_likelihoods_mpmath.csv");

/// Relative tolerance (absolute below |ln L| = 1). The inputs are exact
/// doubles; ln Γ itself (statrs, Lanczos) is good to a few 1e-15 relative.
const TOLERANCE: f64 = 1e-9;

fn eval(model: &str, p: &[f64], x: f64, t_x: f64, t: f64) -> f64 {
    let c = Rfm::new(x, t_x, t);
    match model {
        "bgnbd" => BgNbd::from_params(p).unwrap().ln_likelihood(&c),
        "mbgnbd" => MbgNbd::from_params(p).unwrap().ln_likelihood(&c),
        "pnbd" => ParetoNbd::from_params(p).unwrap().ln_likelihood(&c),
        "gg" => GammaGamma::from_params(&p[..3]).unwrap().ln_likelihood(&Spend { x, mean: t_x }),
        other => panic!("unknown model {other}"),
    }
}

#[test]
fn likelihoods_match_mpmath_from_1e_minus_8_to_1e12() {
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let (mut checked, mut bad) = (0, Vec::new());
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |s: &str| if s.is_empty() { f64::NAN } else { s.parse::<f64>().unwrap() };
        let p: Vec<f64> = f[1..5].iter().map(|s| num(s)).collect();
        let (x, t_x, t, want) = (num(f[5]), num(f[6]), num(f[7]), num(f[8]));
        let got = eval(f[0], &p, x, t_x, t);
        checked += 1;
        if (got - want).abs() > TOLERANCE * want.abs().max(1.0) || got.is_nan() {
            bad.push(format!("{line}: got {got:e}"));
        }
        if f[0] != "gg" {
            // A density can exceed 1, but never the single-process bound.
            if got > count_row_bound(&Rfm::new(x, t_x, t)) + 1e-12 {
                bad.push(format!("{line}: {got} above its bound"));
            }
        }
    }
    assert_eq!(checked, 600);
    assert!(bad.is_empty(), "{} of {checked} rows off by more than {TOLERANCE:e}:\n{}", bad.len(), bad.join("\n"));
}
