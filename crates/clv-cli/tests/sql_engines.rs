//! `clv sql` run on real engines: the summary equals `clv summary` row for row, the histogram's
//! fits equal the per-customer fits, and the scored join equals `clv predict` per customer.
//!
//! The engines (DuckDB from PyPI, PostgreSQL from Debian) are installed by `./dev test`, which
//! sets `CLV_SQL_ENGINES=duckdb,postgres` and `CLV_SQL_PYTHON` (the venv holding duckdb); then
//! every listed engine must be there. A plain `cargo test` without them says so and skips.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(name)
}

fn clv(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_clv")).args(args).output().expect("run clv");
    assert!(out.status.success(), "clv {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The engines to test, or `None` (with a note) when `./dev test` did not install them.
fn engines() -> Option<(Vec<String>, String)> {
    let Ok(list) = std::env::var("CLV_SQL_ENGINES") else {
        eprintln!("CLV_SQL_ENGINES is not set: the SQL engine tests run under ./dev test");
        return None;
    };
    let python = std::env::var("CLV_SQL_PYTHON").unwrap_or_else(|_| "python3".into());
    Some((list.split(',').map(str::to_string).collect(), python))
}

/// Runs `sql` on `engine` over `orders` (plus `tables`, name → CSV) and returns the result as CSV.
fn run(python: &str, engine: &str, orders: &Path, sql: &str, tables: &[(&str, &Path)], dir: &Path) -> String {
    let (query, out) = (dir.join("query.sql"), dir.join(format!("{engine}-result.csv")));
    std::fs::write(&query, sql).unwrap();
    let runner = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sql/run_sql.py");
    let mut cmd = Command::new(python);
    cmd.arg(runner).args(["--engine", engine, "--orders"]).arg(orders).arg("--sql").arg(&query).arg("--out").arg(&out);
    for (name, path) in tables {
        cmd.arg("--table").arg(format!("{name}={}", path.display()));
    }
    let o = cmd.output().expect("run the SQL runner");
    assert!(o.status.success(), "{engine}: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap()
}

/// CSV text → rows keyed by their first column, each a map column → cell.
fn table(csv: &str) -> HashMap<String, HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let row: HashMap<String, String> = headers.iter().cloned().zip(rec.iter().map(str::to_string)).collect();
            (rec[0].to_string(), row)
        })
        .collect()
}

fn num(row: &HashMap<String, String>, col: &str) -> f64 {
    let cell = row.get(col).unwrap_or_else(|| panic!("no column {col}: {row:?}"));
    cell.parse().unwrap_or_else(|_| panic!("{col} = {cell:?} is not a number"))
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// Every customer of `expected` in `got` with the same numbers in `cols`: `exact` ones bit for bit,
/// the rest within `rel`.
fn same_rows(got: &str, expected: &str, exact: &[&str], cols: &[&str], rel: f64, what: &str) {
    let (got, expected) = (table(got), table(expected));
    assert_eq!(got.len(), expected.len(), "{what}: {} rows, clv has {}", got.len(), expected.len());
    for (id, e) in &expected {
        let g = got.get(id).unwrap_or_else(|| panic!("{what}: customer {id:?} missing"));
        for c in exact {
            assert_eq!(num(g, c), num(e, c), "{what}: customer {id:?}, {c}");
        }
        for c in cols {
            assert!(close(num(g, c), num(e, c), rel), "{what}: customer {id:?}, {c}: {} vs clv's {}", g[*c], e[*c]);
        }
    }
}

fn sql(dialect: &str, emit: &str, cutoff: &str, periods: &[&str]) -> String {
    let mut args = vec!["sql", "--dialect", dialect, "--emit", emit, "--table", "orders", "--cutoff", cutoff];
    args.extend(["--user-col", "user_id", "--ts-col", "ts", "--amount-col", "amount"]);
    args.extend(periods);
    match emit {
        "score" => args.extend(["--predictions", "predictions"]),
        "features" => args.extend(["--horizon-days", "90"]),
        _ => {}
    }
    clv(&args)
}

/// The histogram `clv` itself would make from a summary CSV: (x, t_x, T) → (count, Σ monetary).
fn histogram_of(summary: &str) -> HashMap<String, (f64, f64)> {
    let mut r = csv::Reader::from_reader(summary.as_bytes());
    let mut out: HashMap<String, (f64, f64)> = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let key = format!(
            "{}|{}|{}",
            &rec[1].parse::<f64>().unwrap(),
            &rec[2].parse::<f64>().unwrap(),
            &rec[3].parse::<f64>().unwrap()
        );
        let e = out.entry(key).or_default();
        e.0 += 1.0;
        e.1 += rec[4].parse::<f64>().unwrap();
    }
    out
}

fn check_histogram(got: &str, summary: &str, what: &str) {
    let expected = histogram_of(summary);
    let mut r = csv::Reader::from_reader(got.as_bytes());
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), ["frequency", "recency", "T", "count", "sum_monetary"]);
    let mut rows = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let f = |i: usize| rec[i].parse::<f64>().unwrap();
        let key = format!("{}|{}|{}", f(0), f(1), f(2));
        let (count, sum) = expected.get(&key).unwrap_or_else(|| panic!("{what}: row {key} is not in clv's summary"));
        assert_eq!(f(3), *count, "{what}: count of {key}");
        assert!((f(4) - sum).abs() <= 1e-9 * sum.abs().max(1.0), "{what}: sum_monetary of {key}: {} vs {sum}", f(4));
        rows += 1;
    }
    assert_eq!(rows, expected.len(), "{what}: distinct rows");
}

/// A spend histogram's rows (frequency, mean spend, count), sorted.
fn spend_rows(csv: &str) -> Vec<(f64, f64, f64)> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let mut rows: Vec<(f64, f64, f64)> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].parse().unwrap(), rec[1].parse().unwrap(), rec[2].parse().unwrap())
        })
        .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows
}

/// Estimates of a `clv fit --json` card, by name.
fn estimates(card: &str) -> Vec<(String, f64)> {
    let v: serde_json::Value = serde_json::from_str(card).unwrap();
    let params = v.get("params").or_else(|| v.get("parameters")).unwrap_or_else(|| panic!("no params in {card}"));
    params.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_f64().unwrap())).collect()
}

struct Case {
    name: &'static str,
    orders: PathBuf,
    cutoff: &'static str,
    /// How time is counted: `--unit …` or `--calendar …`, given to every `clv` command and to `clv sql`.
    periods: &'static [&'static str],
    /// Count models whose histogram fit is compared with the per-customer fit.
    models: &'static [&'static str],
    /// Whether Gamma–Gamma can be fitted (repeat buyers with spend).
    spend: bool,
}

/// Steps 1 and 2 of every case: the summary row for row, the histogram equal to clv's summary
/// grouped, the feature table row for row. Returns the engine's histogram.
fn summary_and_histogram(case: &Case, engine: &str, python: &str, dir: &Path) -> String {
    let orders = case.orders.to_str().unwrap();
    let what = |s: &str| format!("{} on {engine}: {s}", case.name);
    let expected = clv(&[&["summary", "--input", orders, "--cutoff", case.cutoff], case.periods].concat());
    let got = run(python, engine, &case.orders, &sql(engine, "summary", case.cutoff, case.periods), &[], dir);
    // Day spans divided by the same double: bit for bit. Sums may be added in another order.
    same_rows(&got, &expected, &["frequency", "recency", "T"], &["monetary_value"], 1e-12, &what("summary"));
    let hist = run(python, engine, &case.orders, &sql(engine, "histogram", case.cutoff, case.periods), &[], dir);
    check_histogram(&hist, &expected, &what("histogram"));
    if case.name == "cdnow" {
        // The committed copy the page's tests load (made by DuckDB with this SQL) is still this histogram.
        let committed = std::fs::read_to_string(data("sql/cdnow_histogram.csv")).unwrap();
        check_histogram(&committed, &expected, "tests/data/sql/cdnow_histogram.csv");
    }

    // The feature table with its 90-day label, as `clv features`.
    let features = run(python, engine, &case.orders, &sql(engine, "features", case.cutoff, case.periods), &[], dir);
    let clv_features = clv(&["features", "--input", orders, "--cutoff", case.cutoff, "--horizon-days", "90"]);
    let counts = ["hist_txn_cnt", "recency_days", "tenure_days", "rfm_recency", "rfm_frequency", "hist_purchase_days"];
    let counts = [&counts[..], &["label_orders", "label_purchase_days"]].concat();
    let money = ["hist_revenue", "hist_aov", "label_y", "rfm_monetary", "arpu", "log_hist_revenue", "label_mean_spend"];
    same_rows(&features, &clv_features, &counts, &money, 1e-12, &what("features"));
    let (got_f, want_f) = (table(&features), table(&clv_features));
    for (id, want) in &want_f {
        for c in ["first_txn_ts", "last_txn_ts", "cohort"] {
            assert_eq!(got_f[id][c], want[c], "{}: customer {id:?}, {c}", what("features"));
        }
    }
    hist
}

fn check_case(case: &Case, engine: &str, python: &str) {
    let dir = std::env::temp_dir().join(format!("clv-sql-{}-{engine}-{}", case.name, std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let orders = case.orders.to_str().unwrap();
    let what = |s: &str| format!("{} on {engine}: {s}", case.name);
    let (cutoff, periods) = (case.cutoff, case.periods);
    let hist = summary_and_histogram(case, engine, python, &dir);
    if case.models.is_empty() {
        std::fs::remove_dir_all(&dir).ok();
        return;
    }

    // 3. Fits on the histogram equal the per-customer fits.
    let hist_path = dir.join("histogram.csv");
    std::fs::write(&hist_path, &hist).unwrap();
    let hist_file = hist_path.to_str().unwrap();
    let mut cards = Vec::new();
    for model in case.models {
        let on_rows =
            clv(&[&["fit", "--model", model, "--input", orders, "--cutoff", cutoff, "--json"], periods].concat());
        let on_hist = clv(&[&["fit", "--model", model, "--input", hist_file, "--json"], periods].concat());
        for ((name, a), (_, b)) in estimates(&on_hist).into_iter().zip(estimates(&on_rows)) {
            assert!(close(a, b, 1e-9), "{}: {model} {name} {a} on the histogram vs {b} on the customers", what("fit"));
        }
        cards.push(on_hist);
    }

    // 4. The scored join equals `clv predict` per customer, at the same models (cards).
    let model_card = dir.join("model.json");
    std::fs::write(&model_card, &cards[0]).unwrap();
    let mut card_args = vec!["--model-card".to_string(), model_card.display().to_string()];
    if case.spend {
        // Gamma–Gamma from the spend histogram (no customer rows) equals it on the customers.
        let spend = run(python, engine, &case.orders, &sql(engine, "spend", cutoff, periods), &[], &dir);
        let spend_path = dir.join("spend.csv");
        std::fs::write(&spend_path, &spend).unwrap();
        if case.name == "cdnow" {
            // The committed copy the page's tests load (made by DuckDB with this SQL) is still this one.
            let committed = std::fs::read_to_string(data("sql/cdnow_spend.csv")).unwrap();
            let (a, b) = (spend_rows(&committed), spend_rows(&spend));
            assert_eq!(a.len(), b.len(), "tests/data/sql/cdnow_spend.csv rows");
            for (r, s) in a.iter().zip(&b) {
                assert!(r.0 == s.0 && close(r.1, s.1, 1e-12) && r.2 == s.2, "cdnow_spend.csv: {r:?} vs {s:?}");
            }
        }
        let gg = clv(&["fit", "--model", "gg", "--input", spend_path.to_str().unwrap(), "--json"]);
        let on_rows =
            clv(&[&["fit", "--model", "gg", "--input", orders, "--cutoff", cutoff, "--json"], periods].concat());
        for ((name, a), (_, b)) in estimates(&gg).into_iter().zip(estimates(&on_rows)) {
            assert!(close(a, b, 1e-9), "{}: gg {name} {a} from the spend histogram vs {b}", what("fit"));
        }
        let gg_card = dir.join("gg.json");
        std::fs::write(&gg_card, gg).unwrap();
        card_args.extend(["--model-card".to_string(), gg_card.display().to_string()]);
    }
    let cards: Vec<&str> = card_args.iter().map(String::as_str).collect();
    let clv_args = [&["--horizon-days", "365", "--discount-rate", "0.1"], periods].concat();
    let mut per_row = vec!["predict", "--input", hist_file];
    per_row.extend(clv_args.iter().chain(&cards));
    let predictions = dir.join("predictions.csv");
    std::fs::write(&predictions, clv(&per_row)).unwrap();
    let scored = run(
        python,
        engine,
        &case.orders,
        &sql(engine, "score", cutoff, periods),
        &[("predictions", &predictions)],
        &dir,
    );
    let mut per_customer = vec!["predict", "--input", orders, "--cutoff", cutoff];
    per_customer.extend(clv_args.iter().chain(&cards));
    let expected = clv(&per_customer);
    let cols = ["p_alive", "expected_txn", "expected_spend", "clv"];
    same_rows(&scored, &expected, &["frequency"], &cols, 1e-12, &what("score"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn generated_sql_on_real_engines_equals_clv() {
    let Some((engines, python)) = engines() else { return };
    let sim = std::env::temp_dir().join(format!("clv-sql-sim-{}.csv", std::process::id()));
    // About a million rows: 130k customers of CDNOW-like buyers over two years.
    clv(&[
        "simulate",
        "--customers",
        "130000",
        "--params",
        "r=0.9,alpha=6,a=0.6,b=3",
        "--spend",
        "p=6.25,q=3.74,gamma=15.44",
        "--observation-days",
        "730",
        "--seed",
        "19",
        "--output",
        sim.to_str().unwrap(),
    ]);
    let cases = [
        Case {
            name: "cdnow",
            orders: data("cdnow_sample_transactions.csv"),
            cutoff: "1997-09-30",
            periods: &["--unit", "week"],
            models: &["bgnbd", "pnbd", "mbgnbd"],
            spend: true,
        },
        Case {
            name: "hostile",
            orders: data("sql/hostile_orders.csv"),
            cutoff: "2020-01-31",
            periods: &["--unit", "day"],
            models: &[],
            spend: false,
        },
        Case {
            name: "hostile-months",
            orders: data("sql/hostile_orders.csv"),
            cutoff: "2020-01-31",
            periods: &["--calendar", "month"],
            models: &[],
            spend: false,
        },
        Case {
            name: "simulated",
            orders: sim.clone(),
            cutoff: "2021-06-30",
            // Calendar weeks: the compact histogram a warehouse would make.
            periods: &["--calendar", "week"],
            models: &["bgnbd", "pnbd"],
            spend: true,
        },
    ];
    for engine in &engines {
        for case in &cases {
            check_case(case, engine, &python);
        }
    }
    std::fs::remove_file(sim).ok();
}
