//! Against values computed by mpmath (60 digits) and Python `lifetimes`
//! 0.11.3: see tests/data/fixtures/README.md and make_fixtures.py. These
//! files are committed data; the tests never need Python.

use clv_core::clv::{discounted_clv, ClvParams, Discounting};
use clv_core::models::special::ln_hyp2f1;
use clv_core::models::{BgNbd, CountModel, GammaGamma, Likelihood, MbgNbd, ParetoNbd, Rfm};
use clv_core::time::{Horizon, TimeUnit};

fn rows(name: &str) -> Vec<Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/fixtures").join(name);
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-300)
}

#[test]
fn hyp2f1_matches_mpmath() {
    let rows = rows("hyp2f1_mpmath.csv");
    assert!(rows.len() > 100);
    let mut worst: f64 = 0.0;
    for r in &rows {
        let (a, b, c, z, want) = (num(&r[0]), num(&r[1]), num(&r[2]), num(&r[3]), num(&r[4]));
        let got = ln_hyp2f1(a, b, c, z).unwrap_or_else(|e| panic!("{e}"));
        // ln values: absolute error for small ones, relative for large (up to ~1000).
        let err = (got - want).abs() / want.abs().max(1.0);
        worst = worst.max(err);
        assert!(err < 1e-12, "2F1({a}, {b}; {c}; {z}): ln {got} vs {want}");
    }
    eprintln!("worst ln 2F1 error vs mpmath: {worst:.1e}");
}

#[test]
fn pareto_nbd_matches_mpmath_including_heavy_buyers() {
    for r in rows("pareto_nbd_mpmath.csv") {
        let m = ParetoNbd::new(num(&r[0]), num(&r[1]), num(&r[2]), num(&r[3])).unwrap();
        let c = Rfm::new(num(&r[4]), num(&r[5]), num(&r[6]));
        let (ll, pa) = (num(&r[7]), num(&r[8]));
        let got = m.ln_likelihood(&c);
        assert!((got - ll).abs() <= 1e-11 * ll.abs().max(1.0), "{c:?}: ll {got} vs {ll}");
        let got_pa = m.p_alive(&c);
        assert!(
            (got_pa - pa).abs() <= 1e-10 * pa.max(1e-300) || (pa == 0.0 && got_pa < 1e-300),
            "{c:?}: P(alive) {got_pa} vs {pa}"
        );
    }
    // Where scipy's 2F1 overflows and lifetimes returns NaN (README: "Where lifetimes does fail").
    let m = ParetoNbd::new(0.553276, 10.577613, 0.606214, 11.667915).unwrap();
    for (c, want) in
        [(Rfm::new(10000.0, 1.0, 104.0), 57603.70498972829), (Rfm::new(10000.0, 0.0, 104.0), 58507.132045447644)]
    {
        let got = m.ln_likelihood(&c);
        assert!(rel(got, want) < 1e-12, "{c:?}: {got} vs {want}");
    }
}

#[test]
fn predictions_match_lifetimes() {
    let bg = BgNbd::new(0.242593, 4.413532, 0.792886, 2.425754).unwrap();
    let pn = ParetoNbd::new(0.553276, 10.577613, 0.606214, 11.667915).unwrap();
    let mbg = MbgNbd::new(0.525, 6.183, 0.891, 1.614).unwrap();
    let mut checked = 0;
    for r in rows("lifetimes_predictions.csv") {
        let model: &dyn CountModel = match r[0].trim_end_matches("_uncond") {
            "bgnbd" => &bg,
            "pnbd" => &pn,
            "mbgnbd" => &mbg,
            other => panic!("{other}"),
        };
        let t = num(&r[4]);
        let want = num(&r[6]);
        if r[0].ends_with("_uncond") {
            let got = model.expected_unconditional(t);
            assert!(rel(got, want) < 1e-9, "{} E[X({t})] {got} vs {want}", r[0]);
        } else {
            let c = Rfm::new(num(&r[1]), num(&r[2]), num(&r[3]));
            let (pa, got) = (model.p_alive(&c), model.expected_purchases(&c, t));
            assert!(rel(pa, num(&r[5])) < 1e-9, "{} {c:?} P(alive) {pa} vs {}", r[0], r[5]);
            assert!(rel(got, want) < 1e-9, "{} {c:?} E[Y({t})] {got} vs {want}", r[0]);
        }
        checked += 1;
    }
    assert_eq!(checked, 84);
}

#[test]
fn gamma_gamma_and_clv_match_lifetimes() {
    let gg = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
    for r in rows("lifetimes_gamma_gamma.csv") {
        let (x, m, want) = (num(&r[3]), num(&r[4]), num(&r[5]));
        let got = gg.expected_spend(x, m).unwrap();
        assert!(rel(got, want) < 1e-12, "x={x} m={m}: {got} vs {want}");
    }
    let bg = BgNbd::new(0.242593, 4.413532, 0.792886, 2.425754).unwrap();
    // lifetimes' discount_rate is monthly (0.01): the annual rate that compounds to it, over 12 months.
    let year = Horizon::days(360).unwrap().into();
    let p = ClvParams::new(year, 1.01f64.powi(12) - 1.0, TimeUnit::Week, Discounting::LifetimesMonthly).unwrap();
    assert_eq!(p.months(), 12);
    assert!((p.monthly_discount() - 0.01).abs() < 1e-15);
    for r in rows("lifetimes_clv.csv") {
        let c = Rfm::new(num(&r[0]), num(&r[1]), num(&r[2]));
        let spend = gg.expected_spend(c.x, num(&r[3])).unwrap();
        let got = discounted_clv(&bg, &c, spend, &p);
        let want = num(&r[7]);
        assert!(rel(got, want) < 1e-9, "{c:?}: CLV {got} vs {want}");
    }
}

/// P(Y(t) = n | x, t_x, T) and a new customer's P(X(t) = n), against mpmath's
/// integration of the individual-level models over their mixing distributions
/// (`make_pmf_fixtures.py`): an independent check of the closed forms.
#[test]
fn purchase_pmfs_match_an_independent_integration() {
    let bg = BgNbd::new(0.242593, 4.413532, 0.792886, 2.425754).unwrap();
    let pn = ParetoNbd::new(0.553276, 10.577613, 0.606214, 11.667915).unwrap();
    let (mut checked, mut worst) = (0, 0.0f64);
    for r in rows("pmf_mpmath.csv") {
        let model: &dyn CountModel = match r[0].as_str() {
            "bgnbd" => &bg,
            "pnbd" => &pn,
            other => panic!("{other}"),
        };
        let (t, n, want) = (num(&r[5]), num(&r[6]) as usize, num(&r[7]));
        let got = match r[1].as_str() {
            "conditional" => model.purchase_pmf(&Rfm::new(num(&r[2]), num(&r[3]), num(&r[4])), t, n)[n],
            _ => model.unconditional_pmf(t, n)[n],
        };
        let e = rel(got, want);
        worst = worst.max(e);
        assert!(e < 1e-9, "{r:?}: {got} vs {want}");
        checked += 1;
    }
    assert_eq!(checked, 180);
    assert!(worst < 1e-9, "{worst}");
}

#[test]
fn gamma_gompertz_nbd_matches_mpmath() {
    use clv_core::models::GammaGompertzNbd;
    let params = |name: &str| -> GammaGompertzNbd {
        let p = match name {
            "ageing" => [0.55, 10.58, 0.05, 0.6, 2.0],
            "clvtools_cdnow" => [0.55313, 10.5758, 0.0000011, 0.60682, 0.000013],
            "steep" => [1.2, 4.0, 0.3, 3.0, 50.0],
            other => panic!("unknown parameter set {other}"),
        };
        GammaGompertzNbd::from_params(&p).unwrap()
    };
    let rows = rows("ggomnbd_mpmath.csv");
    assert!(rows.len() > 180, "{}", rows.len());
    let mut worst: f64 = 0.0;
    for r in &rows {
        let m = params(&r[0]);
        let c = || Rfm::new(num(&r[1]), num(&r[2]), num(&r[3]));
        let want = num(&r[7]);
        let (got, tol) = match r[4].as_str() {
            "ln_likelihood" => (m.ln_likelihood(&c()), 5e-10),
            "p_alive" => (m.p_alive(&c()), 1e-9),
            "expected_purchases" => (m.expected_purchases(&c(), num(&r[5])), 1e-9),
            "expected_unconditional" => (m.expected_unconditional(num(&r[5])), 1e-9),
            "pmf" => (m.purchase_pmf(&c(), num(&r[5]), 4)[num(&r[6]) as usize], 1e-8),
            "pmf_unconditional" => (m.unconditional_pmf(num(&r[5]), 4)[num(&r[6]) as usize], 1e-8),
            other => panic!("unknown quantity {other}"),
        };
        let err = (got - want).abs() / want.abs().max(1.0);
        worst = worst.max(err);
        assert!(err < tol, "{}: {got} vs {want} (error {err:.1e})", r.join(","));
    }
    eprintln!("worst Gamma–Gompertz/NBD error vs mpmath: {worst:.1e}");
}
