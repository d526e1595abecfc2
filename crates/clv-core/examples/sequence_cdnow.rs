//! The sequence model against Pareto/NBD on CDNOW master (issue 17's targets): calibration to
//! 1997-09-30, the 39-week holdout to 1998-06-30; every training label is a week before the cutoff.
//! Prints each epoch's losses, the training and forecast times, and the holdout RMSE, total bias and
//! MAE of the mean forecast and the MAE of the median forecast, beside Pareto/NBD's.
//!
//! `cargo run --release -p clv-core --example sequence_cdnow [transactions.csv] [hidden] [epochs] [rate] [batch] [samples]`
use std::ops::ControlFlow;
use std::time::Instant;

use clv_core::evaluate::{bias_percent, mae, rmse};
use clv_core::features::{Cutoff, HoldoutSplit};
use clv_core::holdout;
use clv_core::ingest::{ingest, IngestOptions};
use clv_core::learned::sequence::{train, SequenceParams, Sequences};
use clv_core::models::{FitOptions, ModelId};
use clv_core::pipeline::ModelKind;
use clv_core::time::{Day, TimeUnit};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path =
        args.get(1).cloned().unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/demo/cdnow.csv").into());
    let arg = |i: usize, d: f64| args.get(i).map_or(d, |s| s.parse().expect("a number"));
    let tx = ingest(std::fs::File::open(&path).expect("the file"), &IngestOptions::default(), &mut |_| {})
        .expect("CDNOW reads")
        .transactions;
    let day = |s: &str| s.parse::<Day>().unwrap().number();
    let (cutoff, end) = (Cutoff::day(day("1997-09-30")), day("1998-06-30"));
    let split = HoldoutSplit::build(&tx, cutoff, end, TimeUnit::Week);
    let actual: Vec<f64> = split.rows.iter().map(|r| f64::from(r.holdout_frequency)).collect();
    let report = holdout::evaluate(&split, &tx, &[ModelKind::Pnbd], &FitOptions::default()).expect("Pareto/NBD");
    let pnbd = report.models.iter().find(|m| m.model == ModelId::Pnbd).expect("scored");
    println!(
        "Pareto/NBD   mean: RMSE {:.4}  bias {:+.2}%  MAE {:.4}   median forecast MAE {:.4}",
        pnbd.rmse,
        pnbd.bias.unwrap_or(f64::NAN),
        pnbd.mae,
        pnbd.mae_median
    );
    let customers: Vec<usize> = split.calibration.rows.iter().map(|r| r.customer).collect();
    let t0 = Instant::now();
    let params = SequenceParams {
        hidden: arg(2, 16.0) as usize,
        epochs: arg(3, 8.0) as usize,
        learning_rate: arg(4, 0.02),
        batch: arg(5, 256.0) as usize,
        samples: arg(6, 50.0) as usize,
        ..SequenceParams::default()
    };
    let seqs = Sequences::build(&tx, &customers, cutoff, params.max_weeks);
    println!(
        "{} customers, {} distinct sequences, built in {:.2} s",
        seqs.len(),
        seqs.distinct(),
        t0.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let model = train(&seqs, &params.check().unwrap(), &mut |e| {
        println!(
            "  epoch {:>2}/{}: training {:.5}  validation {:.5}  ({:.1} s)",
            e.epoch,
            e.epochs,
            e.training_loss,
            e.validation_loss,
            t.elapsed().as_secs_f64()
        );
        ControlFlow::Continue(())
    })
    .expect("trains");
    println!("trained in {:.2} s, kept epoch {}", t.elapsed().as_secs_f64(), model.best_epoch);
    let ahead = model.one_week_ahead(&seqs, 38);
    println!(
        "one week ahead, last 38 calibration weeks (expected/actual): {:?}",
        ahead.iter().map(|(e, a)| format!("{e:.0}/{a:.0}")).collect::<Vec<_>>()
    );
    let t = Instant::now();
    let weeks = ((end - cutoff.day) as f64 / 7.0).ceil() as usize;
    let forecast = model.forecast(&seqs, weeks);
    println!("forecast {weeks} weeks in {:.2} s", t.elapsed().as_secs_f64());
    let means = forecast.means();
    let weekly: Vec<f64> = (0..weeks).map(|k| forecast.iter().map(|f| f.cumulative[k]).sum::<f64>()).collect();
    println!(
        "cumulative forecast by week 1, 4, 13, 39: {:.0} {:.0} {:.0} {:.0}; actual per week from the split: {:?}",
        weekly[0],
        weekly[3],
        weekly[12],
        weekly[weeks - 1],
        &split.per_period[..6]
    );
    let medians: Vec<f64> = forecast.iter().map(|f| f.median()).collect();
    println!(
        "Sequence     mean: RMSE {:.4}  bias {:+.2}%  MAE {:.4}   median forecast MAE {:.4}   ({:.3}× Pareto/NBD's RMSE)",
        rmse(&means, &actual),
        bias_percent(&means, &actual).unwrap_or(f64::NAN),
        mae(&means, &actual),
        mae(&medians, &actual),
        rmse(&means, &actual) / pnbd.rmse
    );
}
