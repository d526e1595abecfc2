//! The `clv` binary end to end: outputs, JSON shapes, and errors that name
//! file, line, column and what was expected.

use std::path::PathBuf;
use std::process::{Command, Output};

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(name)
        .display()
        .to_string()
}

fn clv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clv"))
        .args(args)
        .output()
        .expect("run clv")
}

fn ok(args: &[&str]) -> String {
    let out = clv(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn summary_of_the_cdnow_sample_matches_the_papers() {
    let csv = ok(&[
        "summary",
        "--input",
        &data("cdnow_sample_transactions.csv"),
        "--cutoff",
        "1997-09-30",
        "--unit",
        "week",
    ]);
    let published = std::fs::read_to_string(data("cdnow_customers_summary.csv")).unwrap();
    let mut ours: Vec<(u32, String)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let (r, t): (f64, f64) = (f[2].parse().unwrap(), f[3].parse().unwrap());
            (
                f[0].parse().unwrap(),
                format!("{},{},{:.2},{:.2}", f[0], f[1], r, t),
            )
        })
        .collect();
    ours.sort();
    let theirs: Vec<String> = published
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let (r, t): (f64, f64) = (f[2].parse().unwrap(), f[3].parse().unwrap());
            format!("{},{},{:.2},{:.2}", f[0], f[1], r, t)
        })
        .collect();
    assert_eq!(ours.len(), 2357);
    assert_eq!(ours.into_iter().map(|(_, s)| s).collect::<Vec<_>>(), theirs);
}

#[test]
fn inspect_json_has_the_documented_shape() {
    let dir = std::env::temp_dir().join(format!("clv-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("messy.csv");
    std::fs::write(
        &file,
        "user_id,ts,amount\na,2024-01-01,1\nb,2024-13-01,2\na,2024-01-01,1\nc,2024-01-02,NULL\n",
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "inspect",
        "--input",
        file.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["rows"], 4);
    assert_eq!(
        (
            v["accepted"].as_u64(),
            v["rejected"].as_u64(),
            v["duplicates"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(v["rejections"][0]["line"], 3);
    assert_eq!(v["rejections"][0]["reason"], "impossible_date");
    assert_eq!(v["rejections"][1]["line"], 5);
    assert_eq!(v["rejections"][1]["reason"], "missing_amount");
    assert_eq!(v["columns"][2]["role"], "amount");
    assert!(v["formats"]["date"]
        .as_str()
        .unwrap()
        .contains("YYYY-MM-DD"));
}

#[test]
fn errors_name_the_file_and_what_was_expected() {
    let out = clv(&["inspect", "--input", "/nonexistent/x.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.csv"));

    let dir = std::env::temp_dir().join(format!("clv-cli-e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("nouser.csv");
    std::fs::write(&file, "when,amount\n2024-01-01,1\n").unwrap();
    let out = clv(&[
        "summary",
        "--input",
        file.to_str().unwrap(),
        "--cutoff",
        "2024-02-01",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("nouser.csv") && err.contains("no user id") && err.contains("when, amount"),
        "{err}"
    );

    let out = clv(&[
        "summary",
        "--input",
        &data("cdnow_sample_transactions.csv"),
        "--cutoff",
        "1997-02-30",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--cutoff"),
        "bad cutoff must be named"
    );
}

#[test]
fn simulate_then_summarise() {
    let dir = std::env::temp_dir().join(format!("clv-cli-s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sim.csv");
    ok(&[
        "simulate",
        "--customers",
        "500",
        "--params",
        "r=0.24,alpha=4.4,a=0.79,b=2.4",
        "--spend",
        "p=6,q=4,gamma=15",
        "--seed",
        "3",
        "--output",
        file.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "inspect",
        "--input",
        file.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["rejected"], 0);
    assert_eq!(v["customers"], 500);
    let out = clv(&[
        "simulate",
        "--customers",
        "5",
        "--params",
        "r=1,alpha=1,a=1",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing b"));
}

#[test]
fn features_with_users() {
    let dir = std::env::temp_dir().join(format!("clv-cli-f-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tx = dir.join("tx.csv");
    let users = dir.join("users.csv");
    std::fs::write(
        &tx,
        "user_id,ts,amount\na,2024-01-01,10\na,2024-02-15,5\nb,2024-03-01,7\n",
    )
    .unwrap();
    std::fs::write(
        &users,
        "user_id,signup_ts,country\na,2023-12-30,DE\nb,2024-01-20,FR\nc,2024-01-25,US\n",
    )
    .unwrap();
    let csv = ok(&[
        "features",
        "--input",
        tx.to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
        "--cutoff",
        "2024-01-31",
        "--horizon-days",
        "30",
        "--cohort",
        "month",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].ends_with("cohort,country"));
    assert!(
        lines[1].starts_with("a,1,10,10,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z,30,30,5,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with(",2023-12,DE"), "{}", lines[1]);
    assert!(lines[2].starts_with("b,0,0,0,,,,,7,"), "{}", lines[2]);
}
