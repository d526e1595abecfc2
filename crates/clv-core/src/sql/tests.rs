use super::*;
use crate::time::TimeUnit;

fn source(table: &str) -> SqlSource {
    SqlSource {
        table: TableName::new(table, "--table").unwrap(),
        user: Ident::new("user_id", "--user-col").unwrap(),
        ts: Ident::new("ts", "--ts-col").unwrap(),
        amount: Ident::new("amount", "--amount-col").unwrap(),
        keep_duplicates: false,
    }
}

fn params(predictions: Option<&str>) -> SqlParams {
    let predictions = predictions.map(|t| TableName::new(t, "--predictions").unwrap());
    SqlParams::new(source("orders"), "1997-09-30".parse().unwrap(), Periods::Elapsed(TimeUnit::Week), predictions)
        .with_horizon(crate::time::Horizon::days(90).unwrap())
}

#[test]
fn names_that_would_need_escaping_are_refused_with_the_option_named() {
    for (name, ch) in [("a\"b", '"'), ("a`b", '`'), ("a\\b", '\\'), ("a\nb", '\n'), ("x\u{0}", '\u{0}')] {
        let e = Ident::new(name, "--user-col").unwrap_err();
        assert_eq!(e, NameError::BadChar { what: "--user-col".into(), name: name.into(), ch });
        assert!(e.to_string().starts_with("--user-col: "), "{e}");
    }
    assert_eq!(Ident::new("", "--ts-col").unwrap_err(), NameError::Empty { what: "--ts-col".into() });
    assert_eq!(TableName::new("db..orders", "--table").unwrap_err(), NameError::Empty { what: "--table".into() });
    let long = "x".repeat(MAX_NAME + 1);
    assert_eq!(Ident::new(&long, "--table").unwrap_err(), NameError::TooLong { what: "--table".into(), len: 301 });
    // Spaces, dashes, non-ASCII and SQL keywords are fine: every name is quoted.
    for ok in ["order date", "Montant-€", "select", "drop table x; --"] {
        assert_eq!(Ident::new(ok, "--ts-col").unwrap().as_str(), ok);
    }
}

#[test]
fn every_name_is_quoted_in_the_dialects_own_way_and_parts_of_a_table_one_by_one() {
    let mut p = params(None);
    p.source.user = Ident::new("drop table x; --", "--user-col").unwrap();
    p.source.table = TableName::new("proj.sales.orders", "--table").unwrap();
    let pg = p.generate(Dialect::Postgres, Emit::Summary).unwrap();
    assert!(pg.contains(r#"FROM "proj"."sales"."orders""#), "{pg}");
    assert!(pg.contains(r#""drop table x; --" AS "user_id""#), "{pg}");
    let bq = p.generate(Dialect::Bigquery, Emit::Summary).unwrap();
    assert!(bq.contains("FROM `proj`.`sales`.`orders`"), "{bq}");
    assert!(bq.contains("UNIX_DATE(CAST(`ts` AS DATE))"), "{bq}");
    // The name appears only quoted: never as bare SQL.
    assert_eq!(pg.matches("drop table x; --").count(), pg.matches(r#""drop table x; --""#).count());
}

#[test]
fn the_cutoff_is_a_day_number_and_the_unit_the_same_double_clv_divides_by() {
    let p = params(None);
    let sql = p.generate(Dialect::Duckdb, Emit::Summary).unwrap();
    // 1997-09-30 is day 10134 after 1970-01-01.
    assert!(sql.contains("WHERE day <= 10134") && sql.contains("10134 - MIN(occasion) AS t_span"), "{sql}");
    assert!(sql.contains("CAST(recency_span AS DOUBLE) / 7.0 AS \"recency\""), "{sql}");
    let month =
        SqlParams::new(source("orders"), "1997-09-30".parse().unwrap(), Periods::Elapsed(TimeUnit::Month), None);
    assert!(month.generate(Dialect::Postgres, Emit::Histogram).unwrap().contains("/ 30.4375"));
    let mut keep = params(None);
    keep.source.keep_duplicates = true;
    assert!(!keep.generate(Dialect::Duckdb, Emit::Summary).unwrap().contains("SELECT DISTINCT"));
    assert!(sql.contains("SELECT DISTINCT * FROM \"orders\""));
}

#[test]
fn calendar_periods_key_rows_by_their_monday_or_month_as_clv_summary_does() {
    use crate::time::CohortGrain;
    let at = |grain| SqlParams::new(source("orders"), "1997-09-30".parse().unwrap(), Periods::Calendar(grain), None);
    let week = at(CohortGrain::Week).generate(Dialect::Postgres, Emit::Summary).unwrap();
    // 1997-09-30 is a Tuesday: its week starts on Monday 1997-09-29, day 10133.
    assert!(week.contains("10133 - MIN(occasion) AS t_span"), "{week}");
    assert!(week.contains("- MOD(MOD((CAST(\"ts\" AS DATE) - DATE '1970-01-01') + 3, 7) + 7, 7) AS period"), "{week}");
    assert!(week.contains("CAST(recency_span AS DOUBLE PRECISION) / 7.0"), "{week}");
    assert!(week.contains("calendar weeks (Monday to Sunday)"));
    // Months are counted as year × 12 + month: September 1997 is 23973.
    let month = at(CohortGrain::Month).generate(Dialect::Bigquery, Emit::Histogram).unwrap();
    assert!(month.contains("23973 - MIN(occasion) AS t_span"), "{month}");
    assert!(month.contains("EXTRACT(MONTH FROM CAST(`ts` AS DATE))") && month.contains("/ 1.0"), "{month}");
    // The feature table counts purchase days whatever the summary's periods.
    let features = at(CohortGrain::Month).with_horizon(crate::time::Horizon::days(30).unwrap());
    let features = features.generate(Dialect::Duckdb, Emit::Features).unwrap();
    assert!(features.contains("MAX(CASE WHEN amount >= 0 THEN day END)") && !features.contains("THEN period END"));
}

#[test]
fn features_need_their_label_window() {
    let p = SqlParams::new(source("orders"), "1997-09-30".parse().unwrap(), Periods::Elapsed(TimeUnit::Week), None);
    assert_eq!(p.generate(Dialect::Duckdb, Emit::Features), Err(SqlError::NoHorizon));
    let sql = params(None).generate(Dialect::Duckdb, Emit::Features).unwrap();
    // (cutoff, cutoff + 90 days]: days 10135 ..= 10224.
    assert!(sql.contains("WHERE day > 10134 AND day <= 10224"), "{sql}");
}

#[test]
fn score_needs_its_predictions_table() {
    assert_eq!(params(None).generate(Dialect::Duckdb, Emit::Score), Err(SqlError::NoPredictions));
    let sql = params(Some("pred")).generate(Dialect::Spark, Emit::Score).unwrap();
    assert!(sql.contains("LEFT JOIN `pred` p"), "{sql}");
    for c in PREDICTION_COLUMNS.iter().filter(|c| **c != "count") {
        assert!(sql.contains(&format!("p.`{c}`")), "{c} not read: {sql}");
    }
}

#[test]
fn dialect_and_emit_codes_round_trip() {
    for d in Dialect::ALL {
        assert_eq!(d.code().parse::<Dialect>().unwrap(), d);
    }
    assert_eq!(" DuckDB ".parse::<Dialect>().unwrap(), Dialect::Duckdb);
    assert!("mysql".parse::<Dialect>().unwrap_err().to_string().contains("expected duckdb, spark"));
    for e in Emit::ALL {
        assert_eq!(e.code().parse::<Emit>().unwrap(), e);
    }
}

/// The generated SQL of every dialect and output, compared with the reviewed copies in
/// `tests/data/sql/` (`CLV_BLESS=1 cargo test -p clv-core sql::` rewrites them after a deliberate
/// change; the diff is then reviewed). The BigQuery, Snowflake and Spark copies are also parsed by
/// sqlglot in `./dev test` (`tests/sql/check_dialects.py`).
#[test]
fn generated_sql_equals_the_reviewed_golden_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sql");
    let bless = std::env::var_os("CLV_BLESS").is_some();
    let p = params(Some("predictions"));
    let mut stale = Vec::new();
    for d in Dialect::ALL {
        for e in Emit::ALL {
            let sql = p.generate(d, e).unwrap().replace(env!("CARGO_PKG_VERSION"), "VERSION");
            let path = dir.join(format!("{}-{}.sql", d.code(), e.code()));
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &sql).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(&*sql) {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(stale.is_empty(), "generated SQL differs from (or lacks) {stale:?}: review, then CLV_BLESS=1");
}
