//! `cargo bench -p clv-core --bench learned`: boosted trees at the sizes issue 17 names — training
//! on 4 snapshots of CDNOW's 23,570 customers (94,280 rows, 16 features, 400 trees) and scoring a
//! million customers. Features are drawn (seeded); targets are Poisson counts of a known function
//! of them, on top of an offset, as in the temporal protocol. Then the same on CDNOW master's real
//! snapshots (4 earlier cutoffs, each with its Pareto/NBD fit, 400 trees): what `tests/web_bench.rs`
//! times in a browser worker, so the two print comparable figures.
use std::time::Instant;

use clv_core::learned::{Column, FeatureMatrix, Gbt, GbtParams, Loss};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Poisson};

const FEATURES: usize = 16;

fn matrix(rows: usize, seed: u64) -> (FeatureMatrix, Vec<f64>, Vec<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let columns: Vec<Vec<f64>> = (0..FEATURES)
        .map(|j| {
            (0..rows)
                .map(|_| if j % 3 == 0 { f64::from(rng.random_range(0..40u32)) } else { rng.random::<f64>() * 10.0 })
                .collect()
        })
        .collect();
    let offset: Vec<f64> = (0..rows).map(|i| (0.1 + columns[0][i] / 20.0).ln()).collect();
    let y: Vec<f64> = (0..rows)
        .map(|i| {
            let mean = offset[i].exp() * (0.7 + 0.06 * columns[1][i]) * if columns[2][i] > 5.0 { 1.3 } else { 0.9 };
            Poisson::new(mean).unwrap().sample(&mut rng)
        })
        .collect();
    let names = (0..FEATURES).map(|j| format!("f{j}")).collect();
    (FeatureMatrix::new(names, columns.into_iter().map(Column::Numeric).collect()).unwrap(), y, offset)
}

fn main() {
    let (x, y, offset) = matrix(4 * 23_570, 1);
    for depth in [3, 6] {
        let params = GbtParams {
            loss: Loss::Poisson,
            trees: 400,
            learning_rate: 0.05,
            max_depth: depth,
            min_leaf: 100,
            row_sample: 0.8,
            col_sample: 0.8,
            seed: 1,
            ..GbtParams::default()
        };
        let set = clv_core::learned::gbt::TrainingSet { x: &x, y: &y, weight: None, offset: Some(&offset) };
        let t = Instant::now();
        let model = Gbt::fit(&params.check().unwrap(), &set, None).unwrap();
        let train = t.elapsed().as_secs_f64();
        let (big, _, big_offset) = matrix(1_000_000, 2);
        let t = Instant::now();
        clv_core::learned::bins::BinnedMatrix::apply(&big, &model.names, model.cuts.clone()).unwrap();
        let binning = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let p = model.predict(&big, Some(&big_offset)).unwrap();
        let score = t.elapsed().as_secs_f64();
        println!(
            "depth {depth}: train 94,280 rows × {FEATURES} features, 400 trees: {train:.2} s; score 1,000,000 customers: {score:.2} s, of which cutting into bins {binning:.2} s (mean prediction {:.3})",
            p.iter().sum::<f64>() / p.len() as f64
        );
    }
    cdnow();
}

/// The configuration on CDNOW master (as `tests/web_bench.rs` in the browser).
fn cdnow() {
    use clv_core::features::Cutoff;
    use clv_core::learned::temporal::{train, training, Protocol, Target};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/demo/cdnow.csv");
    let file = std::fs::File::open(path).expect("the demo file");
    let tx = clv_core::ingest::ingest(file, &Default::default(), &mut |_| {}).unwrap().transactions;
    let cutoff = Cutoff::day(clv_core::time::parse_day("1997-09-30").unwrap());
    let t0 = Instant::now();
    let protocol = Protocol::spread(&tx, cutoff, 4, clv_core::pipeline::ModelKind::Pnbd).unwrap();
    let set = training(&tx, None, cutoff, &protocol).unwrap();
    let snapshots = t0.elapsed().as_secs_f64();
    let rows: usize = set.snapshots.iter().map(|s| s.purchases.len()).sum();
    // The page's settings (LearnedSettings::default) at the 400 trees.
    let params = GbtParams { trees: 400, ..clv_core::learned::leaderboard::LearnedSettings::default().gbt };
    let t1 = Instant::now();
    let model = train(&set.snapshots, Target::Purchases, &params.check().unwrap(), true).unwrap();
    println!(
        "CDNOW master natively: {} training snapshots ({rows} rows, each with its Pareto/NBD fit) {snapshots:.2} s; {} trees of depth 3 {:.2} s",
        set.snapshots.len(),
        model.gbt.trees.len(),
        t1.elapsed().as_secs_f64()
    );
}
