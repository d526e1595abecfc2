//! Shared by the `fuzz_*` property tests: how many cases, from which seed,
//! and a time budget that turns a hang into a reported input.
//!
//! The short run (`cargo test`, `./dev test`) uses few cases from a fixed
//! seed, so it is fast and never flaky; a long run sets the case count and
//! draws a new seed each time, e.g.
//! `CLV_FUZZ_CASES=100000 cargo test -p clv-core --release --test fuzz_ingest`.
//! `PROPTEST_RNG_SEED=<n>` replays one seed.

#![allow(dead_code)] // each fuzz file uses its own part

use proptest::test_runner::{Config, RngSeed};
use std::time::Duration;

/// The seed of the short run.
const SHORT_RUN_SEED: u64 = 12;

/// A proptest configuration with `CLV_FUZZ_CASES` (default `default`) cases.
pub fn config(default: u32) -> Config {
    config_from("CLV_FUZZ_CASES", default)
}

/// As [`config`], with the case count read from `var`. Failures are not
/// persisted to files: the shrunk input is printed, and that is what goes
/// into a regression test.
pub fn config_from(var: &str, default: u32) -> Config {
    let base = Config::default(); // reads PROPTEST_* variables
    let long_run = std::env::var(var).ok();
    let cases = match &long_run {
        Some(v) => v.trim().parse().unwrap_or_else(|_| panic!("{var} must be a whole number, got {v:?}")),
        None => default,
    };
    let replay = std::env::var_os("PROPTEST_RNG_SEED").is_some();
    let rng_seed = if long_run.is_none() && !replay { RngSeed::Fixed(SHORT_RUN_SEED) } else { base.rng_seed };
    Config { cases, rng_seed, failure_persistence: None, ..base }
}

/// Run `f`, which must finish within `budget`; otherwise print `input` and
/// abort — a hang cannot be shrunk (every attempt would hang too), and the
/// input is what a regression test needs.
pub fn within<T: Send + 'static>(budget: Duration, input: String, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(budget) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            eprintln!("HANG: still running after {budget:?} on input:\n{input}");
            std::process::abort();
        }
        Err(e) => panic!("the fuzzed call panicked ({e}); its input:\n{input}"),
    }
}
