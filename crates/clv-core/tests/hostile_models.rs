//! Model fits on the small and boundary files of `tests/data/hostile`
//! (made by `make_models.py`; expected behaviour in its README, section
//! "Models"): every fit returns quickly, refuses too little data in words,
//! names a boundary instead of calling it converged, and a fit it does call
//! converged is a local maximum by an evaluation independent of the
//! optimiser (±10⁻³ in every log-parameter lowers the log-likelihood).

use clv_core::features::{Cutoff, RfmSummary};
use clv_core::ingest::{ingest, IngestOptions};
use clv_core::models::FitOptions;
use clv_core::models::{BgNbd, FitReport, Likelihood, MbgNbd, ModelError, ParetoNbd, Rfm};
use clv_core::pipeline::{fit_count, fit_spend, AnyModel, Customers, ModelKind};
use clv_core::time::{parse_day, TimeUnit};

fn customers(name: &str, cutoff: &str) -> Customers {
    let path = format!("{}/../../tests/data/hostile/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).unwrap();
    let tx = ingest(file, &IngestOptions::default(), &mut |_| {}).unwrap().transactions;
    let summary = RfmSummary::build(&tx, Cutoff::day(parse_day(cutoff).unwrap()), TimeUnit::Week);
    Customers::from_summary(&summary, &tx)
}

fn ll<M: Likelihood<Row = Rfm>>(p: &[f64], rows: &[Rfm]) -> f64 {
    let m = M::from_params(p).unwrap();
    rows.iter().filter(|r| r.t > 0.0).map(|r| m.ln_likelihood(r)).sum()
}

fn total_ll(kind: ModelKind, p: &[f64], rows: &[Rfm]) -> f64 {
    match kind {
        ModelKind::Bgnbd => ll::<BgNbd>(p, rows),
        ModelKind::Pnbd => ll::<ParetoNbd>(p, rows),
        ModelKind::Mbgnbd => ll::<MbgNbd>(p, rows),
        ModelKind::Ggomnbd => ll::<clv_core::models::GammaGompertzNbd>(p, rows),
        ModelKind::Bgbb => unreachable!(),
    }
}

/// What every fit must satisfy, converged or not.
fn check_fit(file: &str, kind: ModelKind, c: &Customers, model: &AnyModel, r: &FitReport) {
    let conv = &r.convergence;
    assert!(r.log_likelihood.is_finite() && r.log_likelihood < 0.0, "{file} {kind:?}: {}", r.log_likelihood);
    for row in &c.rfm {
        let (pa, e) = (model.as_count().p_alive(row), model.as_count().expected_purchases(row, 52.0));
        assert!((0.0..=1.0).contains(&pa) && e.is_finite() && e >= 0.0, "{file} {kind:?} {row:?}: {pa} {e}");
    }
    if conv.converged {
        assert!(conv.boundary.is_none());
        let p: Vec<f64> = r.params.iter().map(|e| e.value).collect();
        let at = total_ll(kind, &p, &c.rfm);
        assert!((at - r.log_likelihood).abs() < 1e-8 * at.abs(), "{file} {kind:?}: {at} vs {}", r.log_likelihood);
        for i in 0..p.len() {
            for step in [1e-3, -1e-3] {
                let mut q = p.clone();
                q[i] *= f64::exp(step);
                let moved = total_ll(kind, &q, &c.rfm);
                assert!(
                    moved <= at + 1e-9 * at.abs(),
                    "{file} {kind:?}: moving {} by {step} raises ln L",
                    r.params[i].name
                );
            }
        }
    } else {
        assert!(conv.boundary.is_some() || conv.message.starts_with("not converged"), "{conv:?}");
        assert!(r.warnings.iter().any(|w| w.contains("must not be used")), "{:?}", r.warnings);
    }
}

type Fit = Result<(AnyModel, FitReport), ModelError>;

fn fit_all(file: &str, cutoff: &str) -> Vec<(ModelKind, Fit)> {
    let c = customers(file, cutoff);
    ModelKind::CONTINUOUS
        .iter()
        .map(|&kind| {
            let fitted = fit_count(kind, &c, &FitOptions::default());
            if let Ok((m, r)) = &fitted {
                check_fit(file, kind, &c, m, r);
            }
            (kind, fitted)
        })
        .collect()
}

#[test]
fn too_little_data_is_refused_in_words() {
    for (file, cutoff, have) in [
        ("models-one-row.csv", "2024-03-01", "1 customers and 0 repeat buyers"),
        ("models-5-rows.csv", "2024-03-01", "3 customers and 2 repeat buyers"),
        ("models-random-2.csv", "2023-04-30", "2 customers and 0 repeat buyers"),
        ("models-random-7.csv", "2023-04-30", "7 customers and 4 repeat buyers"),
    ] {
        for (kind, fitted) in fit_all(file, cutoff) {
            match fitted {
                Err(ModelError::NotEnoughData(why)) => {
                    assert!(why.contains("at least 10 customers and 3 of them with a repeat purchase"), "{why}");
                    assert!(why.contains(have), "{file} {kind:?}: {why}");
                }
                other => panic!("{file} {kind:?}: {other:?}"),
            }
        }
        assert!(fit_spend(&customers(file, cutoff), &FitOptions::default()).is_err(), "{file}");
    }
}

#[test]
fn no_heterogeneity_is_named_with_the_common_rate() {
    // Simulated with every customer buying at 0.6 a week and leaving with p = 0.15.
    let fits = fit_all("models-no-heterogeneity.csv", "2024-02-28");
    for (kind, fitted) in &fits[1..] {
        let (_, r) = fitted.as_ref().unwrap();
        let limit = r.convergence.boundary.as_deref().unwrap_or_else(|| panic!("{kind:?}: {r:#?}"));
        assert!(limit.contains("purchase rates do not differ"), "{kind:?}: {limit}");
        let rate = r.params[0].value / r.params[1].value;
        assert!((0.45..0.7).contains(&rate), "{kind:?}: common rate {rate}");
        assert!(limit.contains(&format!("({rate:.4} per time unit")), "{limit}");
    }
}

#[test]
fn nobody_leaving_is_a_boundary_not_a_result() {
    // Rates differ (gamma), nobody ever leaves: every dropout model runs to a limit.
    for (kind, fitted) in fit_all("models-nobody-leaves.csv", "2024-02-28") {
        let (_, r) = fitted.unwrap();
        assert!(!r.convergence.converged, "{kind:?}: {r:#?}");
        assert_eq!(r.convergence.status(), "at a boundary");
        let limit = r.convergence.boundary.unwrap();
        assert!(limit.contains("dropout") || limit.contains("nobody"), "{limit}");
        // Whatever dropout the limit keeps is small: lifetimes far beyond the 60 weeks seen.
        assert!(r.params[0].value > 0.5 && r.params[0].value < 10.0, "r is identified: {:?}", r.params[0]);
    }
}

#[test]
fn small_real_exports_fit_or_say_why() {
    for (file, cutoff) in [
        ("models-40-semicolon.csv", "2024-02-28"),
        ("models-150-online-retail.csv", "2024-02-28"),
        ("models-random-30.csv", "2023-04-30"),
    ] {
        let fits = fit_all(file, cutoff);
        assert!(fits.iter().all(|(_, f)| f.is_ok()), "{file}: {fits:?}");
        let c = customers(file, cutoff);
        match fit_spend(&c, &FitOptions::default()) {
            Ok((gg, r)) => {
                assert!(r.log_likelihood.is_finite(), "{file}");
                if r.convergence.converged {
                    assert!(gg.population_mean().is_some_and(|m| m.is_finite() && m > 0.0), "{file}");
                }
            }
            Err(e) => panic!("{file}: {e}"),
        }
    }
    // The 40-customer semicolon/decimal-comma export is read as 40 customers with euro cents.
    let c = customers("models-40-semicolon.csv", "2024-02-28");
    assert_eq!(c.rfm.len(), 40);
    assert!(c.monetary.iter().filter(|m| **m > 0.0).all(|m| (5.0..400.0).contains(m)), "{:?}", c.monetary);
}

#[test]
fn the_holdout_report_scores_only_converged_fits() {
    use clv_core::features::HoldoutSplit;
    use clv_core::holdout::evaluate;
    let path = format!("{}/../../tests/data/hostile/models-nobody-leaves.csv", env!("CARGO_MANIFEST_DIR"));
    let tx = ingest(std::fs::File::open(path).unwrap(), &IngestOptions::default(), &mut |_| {}).unwrap().transactions;
    let cutoff = Cutoff::day(parse_day("2023-10-01").unwrap());
    let split = HoldoutSplit::build(&tx, cutoff, parse_day("2024-02-28").unwrap(), TimeUnit::Week);
    let report = evaluate(&split, &tx, &ModelKind::CONTINUOUS, &FitOptions::default()).unwrap();
    for m in &report.models {
        assert!(m.converged && m.fit.as_ref().is_none_or(|f| f.convergence.converged), "{} scored", m.model);
    }
    // Nobody leaves: the dropout models sit at a limit and are listed as failed, with the reason.
    assert!(!report.failed.is_empty(), "{:?}", report.models.iter().map(|m| &m.model).collect::<Vec<_>>());
    for (model, why) in &report.failed {
        assert!(why.starts_with("at a boundary") || why.starts_with("did not converge"), "{model}: {why}");
    }
    assert!(report.models.iter().any(|m| m.model == clv_core::models::ModelId::Naive));
}

/// The limiting models written out by hand, independently of the code that
/// fits them (which evaluates the full models far out along the limit).
mod limit_by_hand {
    use clv_core::models::Rfm;
    use statrs::function::gamma::ln_gamma;

    /// Everyone buys at λ while alive and drops out after each repeat
    /// purchase with probability p (BG/NBD, `shift` 0) — or also at the first
    /// purchase (MBG/NBD, `shift` 1).
    pub fn poisson_geometric(lambda: f64, p: f64, shift: i32, rows: &[Rfm]) -> f64 {
        rows.iter()
            .map(|c| {
                let base = c.x * lambda.ln();
                let alive = (c.x + shift as f64) * (1.0 - p).ln() + base - lambda * c.t;
                let left = p.ln() + (c.x - 1.0 + shift as f64) * (1.0 - p).ln() + base - lambda * c.t_x;
                if c.x == 0.0 && shift == 0 {
                    alive
                } else {
                    alive.max(left) + (-(alive - left).abs()).exp().ln_1p()
                }
            })
            .sum()
    }

    /// Everyone buys at λ and leaves at rate μ (exponential lifetimes).
    pub fn poisson_exponential(lambda: f64, mu: f64, rows: &[Rfm]) -> f64 {
        rows.iter()
            .map(|c| {
                let k = lambda + mu;
                let stays = (c.x + 1.0) * lambda.ln() - k.ln() - k * c.t;
                let leaves = c.x * lambda.ln() + mu.ln() - k.ln() - k * c.t_x;
                stays.max(leaves) + (-(stays - leaves).abs()).exp().ln_1p()
            })
            .sum()
    }

    /// Gamma(r, α) rates and a common dropout probability p after each
    /// repeat purchase (BG/NBD with a, b → ∞).
    pub fn nbd_geometric(r: f64, alpha: f64, p: f64, rows: &[Rfm]) -> f64 {
        rows.iter()
            .map(|c| {
                let g = ln_gamma(r + c.x) - ln_gamma(r) + r * alpha.ln();
                let alive = c.x * (1.0 - p).ln() + g - (r + c.x) * (alpha + c.t).ln();
                if c.x == 0.0 {
                    return alive;
                }
                let left = p.ln() + (c.x - 1.0) * (1.0 - p).ln() + g - (r + c.x) * (alpha + c.t_x).ln();
                alive.max(left) + (-(alive - left).abs()).exp().ln_1p()
            })
            .sum()
    }
}

fn limiting_values(r: &FitReport) -> (f64, Vec<f64>) {
    let l = r.limiting.as_ref().unwrap_or_else(|| panic!("{} has no limiting fit: {r:#?}", r.model));
    assert!(l.convergence.converged, "{}: {:?}", r.model, l.convergence);
    assert!(l.log_likelihood >= r.log_likelihood - 1e-9 * r.log_likelihood.abs(), "the limit is the supremum");
    (l.log_likelihood, l.params.iter().map(|p| p.value).collect())
}

/// ±10⁻³ in each value lowers a hand-written likelihood: a local maximum.
fn is_local_max(f: impl Fn(&[f64]) -> f64, at: &[f64]) {
    let best = f(at);
    for i in 0..at.len() {
        for step in [1e-3, -1e-3] {
            let mut q = at.to_vec();
            q[i] *= f64::exp(step);
            assert!(f(&q) < best, "moving value {i} by {step} raises ln L: {} > {best}", f(&q));
        }
    }
}

#[test]
fn the_limiting_model_of_no_heterogeneity_is_fitted_and_agrees_by_hand() {
    let c = customers("models-no-heterogeneity.csv", "2024-02-28");
    let fits = fit_all("models-no-heterogeneity.csv", "2024-02-28");
    let report = |kind| fits.iter().find(|(k, _)| *k == kind).unwrap().1.as_ref().unwrap().1.clone();
    // MBG/NBD → one rate λ, one dropout probability p (also at the first purchase).
    let (mbg_ll, mbg) = limiting_values(&report(ModelKind::Mbgnbd));
    let rows: Vec<Rfm> = c.rfm.clone();
    assert!((limit_by_hand::poisson_geometric(mbg[0], mbg[1], 1, &rows) - mbg_ll).abs() < 1e-6, "{mbg:?}");
    is_local_max(|v| limit_by_hand::poisson_geometric(v[0], v[1], 1, &rows), &mbg);
    // Pareto/NBD → one rate λ, one dropout rate μ.
    let (pnbd_ll, pnbd) = limiting_values(&report(ModelKind::Pnbd));
    assert!((limit_by_hand::poisson_exponential(pnbd[0], pnbd[1], &rows) - pnbd_ll).abs() < 1e-6, "{pnbd:?}");
    is_local_max(|v| limit_by_hand::poisson_exponential(v[0], v[1], &rows), &pnbd);
    // The two limits are one model: a Poisson stream whose events are a
    // death with probability p is purchases at λ(1 − p) and death at λp.
    assert!((mbg_ll - pnbd_ll).abs() < 1e-6, "{mbg_ll} vs {pnbd_ll}");
    assert!((pnbd[0] - mbg[0] * (1.0 - mbg[1])).abs() < 1e-5 * pnbd[0], "{pnbd:?} {mbg:?}");
    assert!((pnbd[1] - mbg[0] * mbg[1]).abs() < 1e-5 * pnbd[1], "{pnbd:?} {mbg:?}");
    // Simulated at 0.6/week × 0.85 = 0.51 purchases and 0.09 deaths a week.
    assert!((0.4..0.6).contains(&pnbd[0]) && (0.05..0.12).contains(&pnbd[1]), "{pnbd:?}");
}

#[test]
fn the_limiting_model_of_nobody_leaving_keeps_r_and_alpha_with_errors() {
    let c = customers("models-nobody-leaves.csv", "2024-02-28");
    for (kind, fitted) in fit_all("models-nobody-leaves.csv", "2024-02-28") {
        let r = fitted.unwrap().1;
        let l = r.limiting.as_ref().unwrap_or_else(|| panic!("{kind:?}: {r:#?}"));
        let (ll, v) = limiting_values(&r);
        assert_eq!((l.params[0].name.as_str(), l.params[1].name.as_str()), ("r", "alpha"), "{kind:?}");
        assert!(l.params[..2].iter().all(|p| p.std_error.is_some_and(|s| s > 0.0 && s < p.value)), "{l:?}");
        if kind == ModelKind::Bgnbd {
            // Its limit here: gamma rates, one small dropout probability.
            assert_eq!(l.params[2].name, "a/(a+b)");
            assert!((limit_by_hand::nbd_geometric(v[0], v[1], v[2], &c.rfm) - ll).abs() < 1e-6, "{v:?}");
            is_local_max(|v| limit_by_hand::nbd_geometric(v[0], v[1], v[2], &c.rfm), &v);
        }
        // Whatever dropout the limit keeps means lifetimes far beyond the 60 weeks seen.
        let dropout = v.get(2).copied().unwrap_or(0.0);
        assert!(dropout < 0.02, "{kind:?}: {l:?}");
    }
}

/// The learned models on small and hostile exports: never a panic, never NaN in a row — either the
/// boosted trees and the ensemble are scored (finite metrics; the 40- and 150-customer exports,
/// starting from BG/NBD where Pareto/NBD sits at a boundary) or a failed row says why (naming the
/// earlier cutoffs and what went wrong at each: 30 random customers, nobody leaving).
#[test]
fn learned_models_on_small_files_score_or_say_why() {
    use clv_core::features::HoldoutSplit;
    use clv_core::holdout::evaluate;
    use clv_core::learned::leaderboard::{add_or_explain, LearnedSettings};
    use clv_core::models::ModelId;
    for (file, cutoff, end) in [
        ("models-40-semicolon.csv", "2023-10-31", "2024-02-28"),
        ("models-150-online-retail.csv", "2023-10-31", "2024-02-28"),
        ("models-random-30.csv", "2023-03-15", "2023-04-30"),
        ("models-nobody-leaves.csv", "2023-10-01", "2024-02-28"),
    ] {
        let path = format!("{}/../../tests/data/hostile/{file}", env!("CARGO_MANIFEST_DIR"));
        let tx =
            ingest(std::fs::File::open(path).unwrap(), &IngestOptions::default(), &mut |_| {}).unwrap().transactions;
        let split =
            HoldoutSplit::build(&tx, Cutoff::day(parse_day(cutoff).unwrap()), parse_day(end).unwrap(), TimeUnit::Week);
        let Ok(mut report) = evaluate(&split, &tx, &ModelKind::CONTINUOUS, &FitOptions::default()) else { continue };
        let mut epochs = 0;
        add_or_explain(&tx, None, &split, &mut report, &LearnedSettings::default(), &mut |step| {
            epochs += usize::from(matches!(step, clv_core::learned::leaderboard::Step::Sequence(_)));
            std::ops::ControlFlow::Continue(())
        });
        let learned: Vec<_> = report
            .models
            .iter()
            .filter(|m| matches!(m.model, ModelId::Gbt | ModelId::Ensemble | ModelId::Sequence))
            .collect();
        match &report.learned {
            Some(l) => {
                // The sequence model is a row or a failed row saying why; it heard of every epoch.
                let sequence = learned.iter().any(|m| m.model == ModelId::Sequence);
                let failed = report.failed.iter().find(|(m, _)| *m == ModelId::Sequence);
                assert!(sequence != failed.is_some(), "{file}: {:?}", report.failed);
                if let Some((_, why)) = failed {
                    assert!(why.contains("nothing to learn"), "{file}: {why}");
                } else {
                    let s = l.sequence.as_ref().expect("its summary");
                    assert_eq!(epochs, s.epochs.len(), "{file}");
                    assert!(s.epochs.iter().all(|e| e.training_loss.is_finite()), "{file}: {:?}", s.epochs);
                }
                assert_eq!(learned.len(), 2 + usize::from(sequence), "{file}");
                // Revenue: every forecast made is finite, and one not made says why.
                let revenue = l.revenue.as_ref().expect("a revenue board");
                assert!(revenue.rows.len() + revenue.failed.len() >= 2 + usize::from(sequence), "{file}: {revenue:?}");
                for r in &revenue.rows {
                    assert!(r.rmse.is_finite() && r.mae.is_finite() && r.predicted_total.is_finite(), "{file}: {r:?}");
                }
                for m in learned {
                    assert!(m.rmse.is_finite() && m.mae.is_finite() && m.predicted_total.is_finite(), "{file}: {m:?}");
                }
                assert!(l.verdict.sentence.contains(l.verdict.base.label()), "{file}: {}", l.verdict.sentence);
                assert!(l.verdict.difference_interval.0 <= l.verdict.difference_interval.1, "{file}");
            }
            None => {
                assert!(learned.is_empty(), "{file}");
                let (_, why) = report.failed.iter().find(|(m, _)| *m == ModelId::Gbt).expect("a failed row");
                let said = [
                    "no earlier cutoff gives a training snapshot",
                    "did not converge at the cutoff",
                    "nothing to learn",
                ];
                assert!(said.iter().any(|s| why.contains(s)), "{file}: {why}");
            }
        }
    }
}
