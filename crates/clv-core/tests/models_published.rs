//! Every model converges to the published maximum-likelihood optimum on the
//! papers' data (REFERENCE.md): CDNOW sample in weeks, and the BG/BB donations.

use clv_core::models::gamma_gamma::Spend;
use clv_core::models::{
    fit, BgBb, BgNbd, CountModel, FitOptions, Fitted, GammaGamma, GammaGompertzNbd, Likelihood, MbgNbd, ParetoNbd, Rfm,
    Weighted,
};

fn data(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(name))
        .unwrap()
}

fn cdnow() -> Weighted<Rfm> {
    let text = data("cdnow_customers_summary.csv");
    Weighted::from_rows(text.lines().skip(1).map(|l| {
        let f: Vec<f64> = l.split(',').map(|v| v.parse().unwrap()).collect();
        Rfm::new(f[1], f[2], f[3])
    }))
}

/// Agreement to `digits` significant digits (relative error ≤ ½·10^(1−digits)).
fn sig(got: f64, want: f64, digits: i32) -> bool {
    (got - want).abs() <= 0.5 * 10f64.powi(1 - digits) * want.abs()
}

/// `ll_tol`: half a unit of the last published digit of the log-likelihood.
fn check<M: Likelihood>(f: &Fitted<M>, want: &[f64], ll: f64, digits: i32, ll_tol: f64) {
    let r = &f.report;
    assert!(r.convergence.converged, "{}: {:?}", r.model, r.convergence);
    for (p, w) in r.params.iter().zip(want) {
        assert!(sig(p.value, *w, digits), "{} {}: {} vs {w}", r.model, p.name, p.value);
        let se = p.std_error.expect("standard error");
        assert!(se > 0.0 && se < p.value, "{} {} se {se}", r.model, p.name);
        assert!(p.ci_low.unwrap() < p.value && p.value < p.ci_high.unwrap());
    }
    assert!((r.log_likelihood - ll).abs() <= ll_tol, "{} LL {} vs {ll}", r.model, r.log_likelihood);
}

#[test]
fn bgnbd_cdnow() {
    let d = cdnow();
    assert!(d.rows.len() < 2357, "identical customers are weighted, not repeated");
    let f = fit::<BgNbd>(&d, &FitOptions::default()).unwrap();
    check(&f, &[0.242593, 4.413532, 0.792886, 2.425754], -9582.4256, 5, 5e-5);
    assert_eq!(f.report.n_customers, 2357.0);
    let e = f.model.expected_purchases(&Rfm::new(2.0, 30.43, 38.86), 39.0);
    assert!((e - 1.226).abs() < 5e-4, "{e}");
}

#[test]
fn pareto_nbd_cdnow() {
    let f = fit::<ParetoNbd>(&cdnow(), &FitOptions::default()).unwrap();
    check(&f, &[0.553276, 10.577613, 0.606214, 11.667915], -9594.97393, 5, 5e-6);
}

#[test]
fn mbgnbd_cdnow() {
    // Published to 3–4 digits (Batislam et al. 2007; BTYDplus).
    let f = fit::<MbgNbd>(&cdnow(), &FitOptions::default()).unwrap();
    check(&f, &[0.525, 6.183, 0.891, 1.614], -9582.1, 3, 0.05);
}

#[test]
fn gamma_gamma_cdnow() {
    let text = data("cdnow_customers_summary_with_transactions.csv");
    let rows: Vec<Spend> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<f64> = l.split(',').map(|v| v.parse().unwrap()).collect();
            (f[1] > 0.0).then(|| Spend { x: f[1], mean: f[4] })
        })
        .collect();
    assert_eq!(rows.len(), 946);
    let w = Weighted { weights: vec![1.0; rows.len()], rows };
    let f = fit::<GammaGamma>(&w, &FitOptions::default()).unwrap();
    let r = &f.report;
    assert!(r.convergence.converged);
    // FHL (2005) "RFM and CLV": p 6.25, q 3.74, γ 15.44.
    for (p, want) in r.params.iter().zip([6.25, 3.74, 15.44]) {
        assert!((p.value - want).abs() < 0.006 * want, "{} {} vs {want}", p.name, p.value);
    }
}

#[test]
fn bgbb_donations() {
    let text = data("donations.csv");
    let w = Weighted::from_weighted(text.lines().skip(1).map(|l| {
        let f: Vec<f64> = l.split(',').map(|v| v.parse().unwrap()).collect();
        (Rfm::new(f[0], f[1], f[2]), f[3])
    }));
    assert_eq!(w.total_weight(), 11104.0);
    let f = fit::<BgBb>(&w, &FitOptions::default()).unwrap();
    check(&f, &[1.204, 0.750, 0.657, 2.783], -33225.6, 4, 0.05);
}

#[test]
fn penalizer_shrinks_parameters() {
    let d = cdnow();
    let plain = fit::<BgNbd>(&d, &FitOptions::default()).unwrap();
    let pen = fit::<BgNbd>(&d, &FitOptions::new(0.01, 500).unwrap()).unwrap();
    let norm = |f: &Fitted<BgNbd>| f.model.params().iter().map(|v| v * v).sum::<f64>();
    assert!(norm(&pen) < norm(&plain));
    assert!(pen.report.log_likelihood < plain.report.log_likelihood);
    assert!(FitOptions::new(-1.0, 10).is_err());
}

#[test]
fn calibration_frequency_fit_matches_the_paper_figure() {
    // FHL (2005) Fig. 2: BG/NBD's expected counts of customers by repeat
    // purchases track the actual ones; the totals are the sample size.
    use clv_core::pipeline::{frequency_fit, Customers};
    let d = cdnow();
    let c = Customers {
        ids: vec![],
        rfm: d.rows.clone(),
        monetary: vec![0.0; d.rows.len()],
        weights: d.weights.clone(),
        monetary_is_group_mean: false,
    };
    let m = BgNbd::new(0.242593, 4.413532, 0.792886, 2.425754).unwrap();
    let bins = frequency_fit(&m, &c, 7);
    assert_eq!(bins.len(), 8);
    assert_eq!(bins[7].repeat_purchases, "7+");
    let (a, e): (f64, f64) = (bins.iter().map(|b| b.actual).sum(), bins.iter().map(|b| b.expected).sum());
    assert_eq!(a, 2357.0);
    assert!((e - 2357.0).abs() < 1e-6, "{e}");
    assert_eq!(bins[0].actual, 1411.0);
    // Paper: 1,411 actual vs ≈1,390 expected zero-repeat customers.
    assert!((bins[0].expected - 1411.0).abs() < 40.0, "{}", bins[0].expected);
    for b in &bins {
        assert!((b.expected - b.actual).abs() < 0.25 * b.actual.max(40.0), "{b:?}");
    }
}

#[test]
fn fit_options_bound_the_penalizer() {
    // 1e308 once ran for minutes; the bound says why in the message.
    let e = FitOptions::new(1e308, 500).unwrap_err().to_string();
    assert!(e.contains("penalizer must be a number from 0 to 100"), "{e}");
    assert!(FitOptions::new(f64::NAN, 500).is_err());
    assert!(FitOptions::new(100.0, 500).is_ok());
}

#[test]
fn ggomnbd_cdnow_is_pareto_nbd_at_its_edge() {
    // Bemmaor & Glady (2012), Table 2: r 0.553, alpha 10.578, b 0.0002, s 0.603, beta 0.0026,
    // LL −9594.98; CLVTools' estimate: r 0.55313, alpha 10.5758, b 0.0000011, s 0.60682,
    // beta 0.000013, LL −9594.9762. Both sit on the ridge b, beta → 0 with beta/b fixed, where
    // the model is Pareto/NBD: the fit must say it reached that edge, not call (b, beta) estimates.
    let f = fit::<GammaGompertzNbd>(&cdnow(), &FitOptions::default()).unwrap();
    let r = &f.report;
    assert!(!r.convergence.converged, "{:?}", r.convergence);
    let boundary = r.convergence.boundary.as_deref().unwrap();
    assert!(boundary.contains("lifetimes do not age"), "{boundary}");
    let lim = r.limiting.as_ref().expect("the limiting model is fitted");
    assert!(lim.convergence.converged, "{:?}", lim.convergence);
    let p = |name: &str| lim.params.iter().find(|p| p.name == name).unwrap().value;
    assert!(sig(p("r"), 0.553, 3) && sig(p("r"), 0.55313, 3), "r {}", p("r"));
    assert!(sig(p("alpha"), 10.578, 5) && sig(p("alpha"), 10.5758, 4), "alpha {}", p("alpha"));
    assert!(sig(p("s"), 0.60682, 3) && (p("s") - 0.603).abs() < 0.005, "s {}", p("s"));
    // At the edge the model is Pareto/NBD: its published CDNOW optimum (s, beta) = (0.606, 11.67).
    assert!(sig(p("beta/b"), 11.669, 4), "beta/b {}", p("beta/b"));
    // The supremum: no lower than either published point, and within the paper's rounding.
    assert!(lim.log_likelihood >= -9594.9762 && (lim.log_likelihood - -9594.98).abs() < 0.01, "{}", lim.log_likelihood);
    // Our likelihood at their points gives their log-likelihoods (to the digits their rounded
    // parameters carry).
    let at = |p: [f64; 5]| {
        let m = GammaGompertzNbd::from_params(&p).unwrap();
        cdnow().iter().map(|(c, w)| w * m.ln_likelihood(c)).sum::<f64>()
    };
    let clvtools = at([0.55313, 10.5758, 0.0000011, 0.60682, 0.000013]);
    assert!((clvtools - -9594.9762).abs() < 0.01, "{clvtools}");
}
