//! Learned models against Pareto/NBD on CDNOW master (issue 17's targets): calibration to
//! 1997-09-30, the 39-week holdout to 1998-06-30, the temporal protocol (training snapshots inside
//! the calibration period only). Prints each model's holdout RMSE, total bias and MAE of the mean
//! forecast, and the MAE of a median forecast, beside Pareto/NBD's.
//!
//! `cargo run --release -p clv-core --example learned_cdnow [transactions.csv]` (default: the app's
//! bundled demo file, which is CDNOW master).
use std::time::Instant;

use clv_core::evaluate::{bias_percent, mae, rmse};
use clv_core::features::{Cutoff, HoldoutSplit};
use clv_core::holdout;
use clv_core::ingest::{ingest, IngestOptions};
use clv_core::learned::temporal::{scoring, train, training, Protocol, Target};
use clv_core::learned::{GbtParams, Loss};
use clv_core::models::FitOptions;
use clv_core::pipeline::ModelKind;
use clv_core::time::{Day, TimeUnit};

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/demo/cdnow.csv").into());
    let tx = ingest(std::fs::File::open(&path).expect("the file"), &IngestOptions::default(), &mut |_| {})
        .expect("CDNOW reads")
        .transactions;
    let day = |s: &str| s.parse::<Day>().unwrap().number();
    let (cutoff, end) = (Cutoff::day(day("1997-09-30")), day("1998-06-30"));
    let split = HoldoutSplit::build(&tx, cutoff, end, TimeUnit::Week);
    let actual: Vec<f64> = split.rows.iter().map(|r| f64::from(r.holdout_frequency)).collect();
    let report = holdout::evaluate(&split, &tx, &[ModelKind::Pnbd], &FitOptions::default()).expect("Pareto/NBD");
    let pnbd = report.models.iter().find(|m| m.model == clv_core::models::ModelId::Pnbd).expect("scored");
    println!("{} customers, {} holdout purchase days", actual.len(), actual.iter().sum::<f64>());
    println!(
        "Pareto/NBD          mean: RMSE {:.4}  bias {:+.2}%  MAE {:.4}   median forecast MAE {:.4}",
        pnbd.rmse,
        pnbd.bias.unwrap_or(f64::NAN),
        pnbd.mae,
        pnbd.mae_median
    );
    for cutoffs in [4, 8] {
        let t0 = Instant::now();
        let protocol = Protocol::spread(&tx, cutoff, cutoffs, ModelKind::Pnbd).unwrap();
        let t = training(&tx, None, cutoff, &protocol).expect("training snapshots");
        for skipped in &t.skipped {
            println!("  skipped the cutoff {skipped}");
        }
        let snaps = t.snapshots;
        let score = scoring(&tx, None, cutoff, end - cutoff.day, ModelKind::Pnbd).expect("scoring snapshot");
        let rows: usize = snaps.iter().map(|s| s.purchases.len()).sum();
        println!(
            "{cutoffs} training cutoffs (every {} days): {rows} rows, snapshots in {:.2} s",
            protocol.earlier(cutoff)[0].day.abs_diff(cutoff.day),
            t0.elapsed().as_secs_f64()
        );
        let base_rmse = rmse(&score.base_forecast, &actual);
        println!("  (base forecast in the scoring snapshot: RMSE {base_rmse:.4})");
        // (name, loss, starts from the base forecast, trees, early stopping rounds)
        for (name, loss, from_base, trees, stop) in [
            ("Poisson + base, 100 trees", Loss::Poisson, true, 100, 0),
            ("Poisson + base, early stop", Loss::Poisson, true, 400, 30),
            ("Tweedie 1.5 + base, 100", Loss::Tweedie { power: 1.5 }, true, 100, 0),
            ("L2 + base, 100 trees", Loss::L2, true, 100, 0),
            ("Poisson alone, early stop", Loss::Poisson, false, 400, 30),
            ("median (L1) + base, 100", Loss::L1, true, 100, 0),
        ] {
            let params = GbtParams {
                loss,
                trees,
                learning_rate: 0.05,
                max_depth: 3,
                min_leaf: 100,
                row_sample: 0.8,
                col_sample: 0.8,
                early_stopping: stop,
                seed: 1,
                ..GbtParams::default()
            };
            let t = Instant::now();
            let model = train(&snaps, Target::Purchases, &params.check().unwrap(), from_base).expect("trains");
            let secs = t.elapsed().as_secs_f64();
            let p = model.predict(&score).expect("scores");
            println!(
                "  {name:<24} RMSE {:.4} ({:.3}× Pareto/NBD)  bias {:+.2}%  MAE {:.4}  trees {} (validation {:?})  {secs:.2} s",
                rmse(&p, &actual),
                rmse(&p, &actual) / pnbd.rmse,
                bias_percent(&p, &actual).unwrap_or(f64::NAN),
                mae(&p, &actual),
                model.gbt.trees.len(),
                model.rounds_from_validation,
            );
        }
    }
}
