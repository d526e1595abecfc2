use super::clv::value_cohorts;
use super::*;
use crate::features::parse_users;
use crate::forecast::{Method, Reconciliation};
use crate::ingest::{DateOrder, Txn};
use crate::time::{days_from_civil, SECONDS_PER_DAY};

fn day(y: i32, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d).unwrap()
}

fn txn(d: i64, amount: f64) -> Txn {
    Txn { ts: d * SECONDS_PER_DAY + 3600, amount }
}

fn params(grain: CohortGrain, unit: TimeUnit, cutoff: i64, horizon: i64, segment: Option<&str>) -> CohortParams {
    CohortParams::new(
        grain,
        unit,
        Cutoff::day(cutoff),
        crate::time::Horizon::days(horizon).unwrap(),
        0.9,
        segment.map(str::to_string),
    )
    .unwrap()
}

/// Three buyers in the March 2024 cohort, one in April; cutoff 2024-04-30.
fn small() -> Transactions {
    let (m1, m5, m10, a2) = (day(2024, 3, 1), day(2024, 3, 5), day(2024, 3, 10), day(2024, 4, 2));
    Transactions::from_pairs([
        ("a", txn(m1, 10.0)),
        ("a", txn(m1 + 8, 5.0)),
        ("a", txn(m1 + 40, 7.0)),
        ("b", txn(m5, 20.0)),
        ("b", txn(m5 + 3, -4.0)), // refund, netted
        ("c", txn(m10, 8.0)),
        ("c", txn(day(2024, 5, 20), 99.0)), // after the cutoff: not seen
        ("d", txn(a2, 30.0)),
    ])
}

#[test]
fn cohort_table_by_hand() {
    let cutoff = day(2024, 4, 30);
    let t = build(&small(), None, &params(CohortGrain::Month, TimeUnit::Week, cutoff, 90, None)).unwrap();
    assert_eq!(t.cohorts.len(), 2);
    let march = &t.cohorts[0];
    assert_eq!((march.cohort.as_str(), march.users), ("2024-03", 3));
    assert_eq!(march.observed_revenue, 10.0 + 5.0 + 7.0 + 20.0 - 4.0 + 8.0);
    // The last signup (Mar 10) has lived 52 days by Apr 30 (ages 0..=51).
    assert_eq!(march.observed_days, 52);
    // 7 complete weeks: week 0 = ages 0–6: a 10, b 20 − 4, c 8; all three active.
    assert_eq!(march.table.len(), 7);
    let w0 = &march.table[0];
    assert_eq!((w0.active_users, w0.revenue, w0.retention), (3, 34.0, 1.0));
    assert!((w0.cumulative_per_user - 34.0 / 3.0).abs() < 1e-12);
    // week 1 (ages 7–13): a's 5 at age 8
    assert_eq!((march.table[1].active_users, march.table[1].revenue), (1, 5.0));
    assert!((march.table[1].retention - 1.0 / 3.0).abs() < 1e-12);
    // a's 7 at age 40 → week 5
    assert_eq!((march.table[5].active_users, march.table[5].revenue), (1, 7.0));
    assert!((march.table[6].cumulative_per_user - 46.0 / 3.0).abs() < 1e-12);
    let april = &t.cohorts[1];
    assert_eq!((april.users, april.observed_days, april.table.len()), (1, 29, 4));
    // Coherent: cohorts add up to all net revenue to the cutoff, and to the calendar series.
    assert_eq!(t.total_revenue, 76.0);
    assert_eq!(march.observed_revenue + april.observed_revenue, t.total_revenue);
    assert!((t.daily_revenue.iter().sum::<f64>() - t.total_revenue).abs() < 1e-12);
    assert_eq!(t.first_day, day(2024, 3, 1));
}

const USERS: &str = "user_id,signup_ts,country\n\
a,2024-02-27,DE\n\
b,2024-03-05,FR\n\
c,2024-03-09,DE\n\
e,2024-03-20,FR\n\
f,,FR\n";

#[test]
fn users_file_gives_signups_segments_and_silent_users() {
    let users = parse_users(USERS.as_bytes(), DateOrder::MonthFirst).unwrap();
    let cutoff = day(2024, 4, 30);
    let t = build(&small(), Some(&users), &params(CohortGrain::Month, TimeUnit::Week, cutoff, 90, Some("country")))
        .unwrap();
    let label = |c: &Cohort| format!("{}/{}", c.cohort, c.segment.as_deref().unwrap_or("all"));
    let labels: Vec<String> = t.cohorts.iter().map(label).collect();
    assert_eq!(
        labels,
        [
            "2024-02/all",
            "2024-02/DE",
            "2024-03/all",
            "2024-03/DE",
            "2024-03/FR",
            "2024-04/all",
            "2024-04/(not in users file)"
        ]
    );
    // e signed up and never bought: acquired, counted, no revenue.
    let fr = &t.cohorts[4];
    assert_eq!((fr.users, fr.observed_revenue), (2, 16.0));
    // c bought on Mar 10, a day after signup on Mar 9: age 1.
    let de = &t.cohorts[3];
    assert_eq!(de.revenue_by_age[1], 8.0);
    // Segments add up to their cohort.
    for (total, parts) in [(2, 3..5), (5, 6..7)] {
        let users: u32 = t.cohorts[parts.clone()].iter().map(|c| c.users).sum();
        let revenue: f64 = t.cohorts[parts].iter().map(|c| c.observed_revenue).sum();
        assert_eq!((users, revenue), (t.cohorts[total].users, t.cohorts[total].observed_revenue));
    }
    let totals: f64 = t.cohorts.iter().filter(|c| c.segment.is_none()).map(|c| c.observed_revenue).sum();
    assert_eq!(totals, t.total_revenue);
    assert!(t.notes.iter().any(|n| n.starts_with("1 users in the users file have no signup date")), "{:?}", t.notes);
    let err = build(&small(), Some(&users), &params(CohortGrain::Month, TimeUnit::Week, cutoff, 90, Some("device")));
    assert_eq!(
        err.unwrap_err().to_string(),
        "segment column \"device\" is neither in the users file nor a kept transaction column; available: country"
    );
    assert!(matches!(
        build(&small(), None, &params(CohortGrain::Day, TimeUnit::Day, cutoff, 90, Some("country"))),
        Err(CohortError::SegmentWithoutUsers)
    ));
}

#[test]
fn purchases_before_signup_are_counted_at_age_zero_and_said() {
    let users = parse_users("user_id,signup_ts\na,2024-03-03\n".as_bytes(), DateOrder::MonthFirst).unwrap();
    let t =
        build(&small(), Some(&users), &params(CohortGrain::Month, TimeUnit::Day, day(2024, 4, 30), 30, None)).unwrap();
    assert!(t.notes.iter().any(|n| n.starts_with("1 purchases were dated before")), "{:?}", t.notes);
    // a's Mar 1 purchase (2 days before signup) + b's and c's first purchases
    assert_eq!(t.cohorts[0].revenue_by_age[0], 10.0 + 20.0 + 8.0);
}

/// Daily cohorts from a known process: `n` users sign up each day, each
/// user's expected revenue at age d is `base · decay^d · week[weekday]`.
fn synthetic(days: i64, users_per_day: usize, seed: u64) -> (Transactions, i64) {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let week = [1.0, 0.8, 0.8, 0.9, 1.1, 1.5, 1.4];
    let start = day(2023, 1, 2);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pairs = Vec::new();
    for c in 0..days {
        for u in 0..users_per_day {
            let id = format!("{c}-{u}");
            pairs.push((id.clone(), txn(start + c, 20.0)));
            for d in 1..(days - c) {
                let p = 0.3 * 0.99f64.powi(d as i32) * week[((start + c + d + 3).rem_euclid(7)) as usize];
                if rng.random::<f64>() < p {
                    pairs.push((id.clone(), txn(start + c + d, 10.0)));
                }
            }
        }
    }
    (Transactions::from_pairs(pairs), start + days - 1)
}

#[test]
fn cohort_clv_observed_forecast_and_pooled() {
    let (tx, cutoff) = synthetic(70, 30, 1);
    let t = build(&tx, None, &params(CohortGrain::Day, TimeUnit::Week, cutoff, 60, None)).unwrap();
    let r = value_cohorts(&t).unwrap();
    assert_eq!(r.values.len(), 70);
    for v in &r.values {
        assert!(v.clv_per_user.is_finite() && v.clv_per_user >= v.observed_per_user - 1e-9);
        if let (Some(lo), Some(hi)) = (v.clv_lower, v.clv_upper) {
            assert!(lo <= v.clv_per_user + 1e-9 && v.clv_per_user <= hi + 1e-9, "{v:?}");
        }
    }
    // Old cohorts: observed, value = revenue of ages 0..60 per user.
    let oldest = &r.values[0];
    assert_eq!(oldest.method, Method::Observed);
    let c0 = &t.cohorts[0];
    assert!((oldest.clv_per_user - c0.revenue_by_age[..60].iter().sum::<f64>() / 30.0).abs() < 1e-9);
    // 40 days of history (39 repeat days): Holt–Winters on the cohort's own series.
    let mid = &r.values[30];
    assert_eq!((mid.observed_days, mid.method), (40, Method::DampedHoltWinters));
    assert_eq!(mid.forecast.len(), 20);
    // 5 days: pooled; its forecast is users × the pooled per-user curve.
    let young = &r.values[65];
    assert_eq!((young.observed_days, young.method), (5, Method::Pooled));
    let pooled_day_5: f64 = {
        let olds: Vec<&Cohort> = t.cohorts.iter().filter(|c| c.observed_days > 5).collect();
        olds.iter().map(|c| c.revenue_by_age[5]).sum::<f64>() / (30 * olds.len()) as f64
    };
    assert!((young.forecast[0] - 30.0 * pooled_day_5).abs() < 1e-9);
    assert!(young.clv_lower.is_some(), "11 older cohorts cover ages 5..60: {}", young.note);
    // The truth per user over 60 days: 20 + Σ_d 10 · 0.3 · 0.99^d · (mean weekday factor 1.0714).
    let truth: f64 = 20.0 + (1..60).map(|d| 10.0 * 0.3 * 0.99f64.powi(d) * 7.5 / 7.0).sum::<f64>();
    for v in &r.values {
        // 30 users a cohort: observed cohorts alone scatter ±7% around the truth.
        assert!(
            (v.clv_per_user / truth - 1.0).abs() < 0.25,
            "{} {:?}: {} vs truth {truth}",
            v.cohort,
            v.method,
            v.clv_per_user
        );
    }
    let mean = r.values.iter().map(|v| v.clv_per_user).sum::<f64>() / 70.0;
    assert!((mean / truth - 1.0).abs() < 0.03, "mean cohort CLV {mean} vs truth {truth}");
    assert!(r.backtest.is_some(), "{}", r.backtest_note);
}

#[test]
fn segments_are_reconciled_to_their_totals() {
    let (tx, cutoff) = synthetic(60, 20, 2);
    let mut csv = String::from("user_id,signup_ts,channel\n");
    for (id, h) in tx.iter() {
        let ch = if id.ends_with('1') || id.ends_with('3') { "ads" } else { "organic" };
        csv.push_str(&format!("{id},{},{ch}\n", crate::time::format_day(day_of(h[0].ts))));
    }
    let users = parse_users(csv.as_bytes(), DateOrder::MonthFirst).unwrap();
    let t = build(&tx, Some(&users), &params(CohortGrain::Week, TimeUnit::Week, cutoff, 90, Some("channel"))).unwrap();
    let r = value_cohorts(&t).unwrap();
    let mut checked = 0;
    for (i, v) in r.values.iter().enumerate().filter(|(_, v)| v.segment.is_none()) {
        let parts: Vec<&super::clv::CohortValue> =
            r.values[i + 1..].iter().take_while(|p| p.segment.is_some()).collect();
        if v.method == Method::Observed {
            continue;
        }
        assert!(v.reconciliation.is_some());
        for h in 0..v.forecast.len() {
            let sum: f64 = parts.iter().map(|p| p.forecast[h]).sum();
            assert!((sum - v.forecast[h]).abs() < 1e-6 * v.forecast[h].max(1.0), "{} h={h}", v.cohort);
        }
        let total_value: f64 = parts.iter().map(|p| p.clv_per_user * f64::from(p.users)).sum();
        assert!((total_value - v.clv_per_user * f64::from(v.users)).abs() < 1e-6 * total_value);
        checked += 1;
    }
    assert!(checked >= 5);
    assert!(r.values.iter().any(|v| v.reconciliation == Some(Reconciliation::MintShrink)));
}

#[test]
fn btyd_cohort_values_add_observed_and_expected_revenue() {
    use super::btyd::btyd_by_cohort;
    use crate::models::{BgNbd, CountModel};
    let cutoff = day(2024, 4, 30);
    let p = params(CohortGrain::Month, TimeUnit::Week, cutoff, 90, None);
    let m = BgNbd::new(0.25, 4.0, 0.8, 2.5).unwrap();
    let v = btyd_by_cohort(&small(), None, &p, &m, None, TimeUnit::Week).unwrap();
    assert_eq!(v.iter().map(|c| (c.cohort.as_str(), c.users)).collect::<Vec<_>>(), [("2024-03", 3), ("2024-04", 1)]);
    // d bought once (30) on Apr 2, is 29 days old: 61 days left.
    let rfm = crate::models::Rfm::new(0.0, 0.0, 28.0 / 7.0); // T counts whole days to the cutoff day
    let want = 30.0 + 30.0 * m.expected_purchases(&rfm, 61.0 / 7.0);
    assert!((v[1].clv_per_user - want).abs() < 1e-9, "{} vs {want}", v[1].clv_per_user);
    // Never below what was already observed in the first 90 days.
    assert!(v[0].clv_per_user > (10.0 + 5.0 + 7.0 + 20.0 - 4.0 + 8.0) / 3.0);
}

#[test]
fn transaction_columns_give_segments_from_the_first_purchase() {
    use crate::ingest::{ingest, IngestOptions};
    // b's first purchase came through ads; later ones through email.
    let csv = "customer_id,order_date,revenue,channel,country\n\
               a,2024-03-01,10,email,DE\n\
               b,2024-03-04,20,email,FR\n\
               b,2024-03-02,5,ads,FR\n\
               c,2024-03-09,8,,DE\n";
    let out = ingest(csv.as_bytes(), &IngestOptions::default(), &mut |_| {}).unwrap();
    let tx = out.transactions;
    let names: Vec<&str> = tx.attributes().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["channel", "country"]);
    let p = params(CohortGrain::Month, TimeUnit::Week, day(2024, 4, 30), 30, Some("Channel"));
    let t = build(&tx, None, &p).unwrap();
    let seg: Vec<(Option<&str>, u32, f64)> =
        t.cohorts.iter().map(|c| (c.segment.as_deref(), c.users, c.observed_revenue)).collect();
    assert_eq!(
        seg,
        [
            (None, 3, 43.0),
            Some("(blank)").map(|s| (Some(s), 1, 8.0)).unwrap(),
            (Some("ads"), 1, 25.0),
            (Some("email"), 1, 10.0)
        ]
    );
    let err = build(&tx, None, &params(CohortGrain::Month, TimeUnit::Week, day(2024, 4, 30), 30, Some("sku")));
    assert_eq!(err.unwrap_err().to_string(), "segment column \"sku\" is neither in the users file nor a kept transaction column; available: channel, country");
}

#[test]
fn pooled_tail_leaves_out_the_acquisition_day() {
    // One old cohort (10 days: a 100 first purchase, then 1 a day) and a
    // young one (2 days): beyond age 10 the pooled tail is the repeat rate 1,
    // not an average dragged up by the first purchase.
    let cohort = |name: &str, start: i64, revenue: Vec<f64>| Cohort {
        cohort: name.into(),
        start_day: start,
        segment: None,
        users: 1,
        observed_revenue: revenue.iter().sum(),
        observed_days: revenue.len(),
        revenue_by_age: revenue,
        table: Vec::new(),
    };
    let mut old = vec![1.0; 10];
    old[0] = 100.0;
    let table = CohortTable {
        params: params(CohortGrain::Day, TimeUnit::Day, 20_000, 20, None),
        cohorts: vec![cohort("old", 19_990, old), cohort("young", 19_999, vec![100.0, 1.0])],
        total_revenue: 0.0,
        daily_revenue: vec![1.0; 10],
        first_day: 19_990,
        notes: Vec::new(),
    };
    let r = value_cohorts(&table).unwrap();
    let young = &r.values[1];
    assert_eq!(young.method, Method::Pooled);
    assert!(young.forecast[8..].iter().all(|v| (*v - 1.0).abs() < 1e-12), "{:?}", young.forecast);
}

#[test]
fn a_segment_column_is_found_by_its_role_name_too() {
    use crate::ingest::{ingest, IngestOptions};
    let csv = "user_id,ts,amount,utm_source\na,2024-03-01,10,google\nb,2024-03-02,5,newsletter\n";
    let tx = ingest(csv.as_bytes(), &IngestOptions::default(), &mut |_| {}).unwrap().transactions;
    let a = tx.attribute("channel").expect("utm_source is the channel");
    assert_eq!((a.name.as_str(), a.value(0), a.value(1)), ("utm_source", Some("google"), Some("newsletter")));
}

#[test]
fn placeholder_years_are_refused_before_allocating() {
    // Dates in year 1 and 9999: a calendar over them is 3.65 million days.
    let tx = Transactions::from_pairs([("a", txn(day(1, 1, 1), 5.0)), ("b", txn(day(9999, 12, 31), 5.0))]);
    let p = params(CohortGrain::Day, TimeUnit::Week, day(9999, 12, 31), 365, None);
    let e = build(&tx, None, &p).unwrap_err();
    assert!(matches!(e, CohortError::Span { .. }), "{e}");
    assert!(e.to_string().contains("from 0001-01-01 to the cutoff 9999-12-31, 9999 years"), "{e}");
}

#[test]
fn the_table_is_sized_by_the_cohorts_that_exist_and_bounded() {
    // 20 years of daily cohorts, one buyer a day: 7,305 cohorts holding
    // 26.7 million cohort-days in all; monthly cohorts hold 240 × ~3,650.
    let first = day(2000, 1, 1);
    let pairs: Vec<(String, Txn)> = (0..7305).map(|d| (format!("u{d}"), txn(first + d, 1.0))).collect();
    let tx = Transactions::from_pairs(pairs.iter().map(|(id, t)| (id.as_str(), *t)));
    let cutoff = first + 7304;
    let e = build(&tx, None, &params(CohortGrain::Day, TimeUnit::Week, cutoff, 365, None)).unwrap_err();
    assert!(matches!(e, CohortError::TooLarge { days: 26_685_165, groups: 7305, .. }), "{e}");
    assert!(e.to_string().contains("oldest 2000-01-01") && e.to_string().contains("at most 4000000"), "{e}");
    let t = build(&tx, None, &params(CohortGrain::Month, TimeUnit::Week, cutoff, 365, None)).unwrap();
    assert_eq!(t.cohorts.len(), 240);
}

#[test]
fn segments_of_ids_come_from_the_users_file_else_the_transactions() {
    use crate::ingest::{ingest, IngestOptions};
    let csv = "user_id,ts,amount,utm_source\na,2024-03-01,10,google\nb,2024-03-02,5,\nc,2024-03-03,5,newsletter\n";
    let tx = ingest(csv.as_bytes(), &IngestOptions::default(), &mut |_| {}).unwrap().transactions;
    let ids: Vec<String> = ["c", "a", "b", "zz"].iter().map(|s| s.to_string()).collect();
    let by_tx = segments_of(&ids, "channel", &tx, None).unwrap();
    assert_eq!(by_tx, ["newsletter", "google", "(blank)", "(blank)"]);
    let users = parse_users("user_id,plan\na,pro\nb,\n".as_bytes(), Default::default()).unwrap();
    let by_users = segments_of(&ids, "PLAN", &tx, Some(&users)).unwrap();
    assert_eq!(by_users, ["(not in users file)", "pro", "(blank)", "(not in users file)"]);
    assert_eq!(segment_columns(&tx, Some(&users)), ["plan", "utm_source"]);
    let e = segments_of(&ids, "region", &tx, Some(&users)).unwrap_err().to_string();
    assert!(e.contains("available: plan, utm_source"), "{e}");
}
