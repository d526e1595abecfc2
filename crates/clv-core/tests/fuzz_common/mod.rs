//! Shared by the `fuzz_*` property tests: how many cases to run.
//!
//! The default is small so that `cargo test` (and `./dev test`) stays fast;
//! a long run sets `CLV_FUZZ_CASES`, e.g.
//! `CLV_FUZZ_CASES=100000 cargo test -p clv-core --release --test fuzz_ingest`.

use proptest::test_runner::Config;

/// The environment variable `var` when set (a long run), else `default`.
pub fn cases(var: &str, default: u32) -> u32 {
    match std::env::var(var) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{var} must be a whole number, got {v:?}")),
        Err(_) => default,
    }
}

/// A proptest configuration with `CLV_FUZZ_CASES` (default `default`)
/// cases. Failures are not persisted to files: the shrunk input is printed,
/// and that is what goes into a regression test.
pub fn config(default: u32) -> Config {
    config_from("CLV_FUZZ_CASES", default)
}

/// As [`config`], with the case count read from `var`.
pub fn config_from(var: &str, default: u32) -> Config {
    Config { cases: cases(var, default), failure_persistence: None, ..Config::default() }
}
