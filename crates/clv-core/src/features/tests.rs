use super::*;
use crate::ingest::{Transactions, Txn};
use crate::time::{CohortGrain, Horizon, TimeUnit};
use proptest::prelude::*;

const DAY: i64 = 86_400;

fn txn(day: i64, amount: f64) -> Txn {
    Txn { ts: day * DAY + 3600, amount }
}

#[test]
fn occasions_merge_days_and_net_refunds() {
    let h = [txn(0, 5.0), txn(0, 2.0), txn(3, 4.0), txn(4, -1.5), txn(9, 1.0)];
    let mut out = Vec::new();
    occasions(&h, &mut out);
    assert_eq!(
        out,
        vec![Occasion { day: 0, amount: 7.0 }, Occasion { day: 3, amount: 2.5 }, Occasion { day: 9, amount: 1.0 }]
    );
    occasions(&[txn(1, -3.0), txn(2, 4.0)], &mut out);
    assert_eq!(out, vec![Occasion { day: 2, amount: 4.0 }]);
}

#[test]
fn summary_counts_exclusions() {
    let tx = Transactions::from_pairs([
        ("early", txn(0, 10.0)),
        ("early", txn(14, 20.0)),
        ("early", txn(21, 40.0)),
        ("late", txn(40, 1.0)),
        ("refund_only", txn(2, -5.0)),
    ]);
    let s = RfmSummary::build(&tx, Cutoff::day(28), TimeUnit::Week);
    assert_eq!((s.excluded_after_cutoff, s.excluded_no_purchase), (1, 1));
    assert_eq!(s.rows.len(), 1);
    let r = s.rows[0];
    assert_eq!((r.frequency, r.recency, r.t, r.monetary_value), (2, 3.0, 4.0, 30.0));
    assert_eq!(s.to_csv(&tx, &mut Default::default()), "user_id,frequency,recency,T,monetary_value\nearly,2,3,4,30\n");
    let d = RfmSummary::build(&tx, Cutoff::day(28), TimeUnit::Day).rows[0];
    assert_eq!((d.recency, d.t), (21.0, 28.0));
}

#[test]
fn holdout_counts_occasions_after_cutoff() {
    let tx = Transactions::from_pairs([
        ("a", txn(0, 1.0)),
        ("a", txn(10, 2.0)),
        ("a", txn(11, 3.0)),
        ("a", txn(11, 3.0)),
        ("a", txn(12, -1.0)),
        ("a", txn(30, 9.0)),
    ]);
    let split = HoldoutSplit::build(&tx, Cutoff::day(7), 20, TimeUnit::Week);
    assert_eq!(split.rows[0].holdout_frequency, 2);
    assert_eq!(split.rows[0].holdout_revenue, 7.0);
    assert_eq!(split.duration, 13.0 / 7.0);
    assert_eq!(split.rows[0].calibration.frequency, 0);
}

#[test]
fn leakage_guard_refuses_rows_after_the_cutoff() {
    let rows = [txn(1, 1.0), txn(9, 1.0)];
    let err = Cutoff::day(5).view(&rows).unwrap_err();
    assert_eq!((err.day, err.cutoff), (9, 5));
    assert!(err.to_string().contains("after the cutoff"));
    assert_eq!(Cutoff::day(9).view(&rows).unwrap().rows().len(), 2);
    // The last second of the cutoff day is history; the next second is not.
    assert!(Cutoff::day(5).includes(6 * DAY - 1));
    assert!(!Cutoff::day(5).includes(6 * DAY));
}

#[test]
fn feature_table_values() {
    let tx = Transactions::from_pairs([
        ("a", txn(0, 10.0)),
        ("a", txn(40, 30.0)),
        ("a", txn(41, -5.0)),
        ("a", txn(70, 8.0)),   // label window (60, 90]
        ("a", txn(100, 99.0)), // beyond the horizon
        ("b", txn(65, 3.0)),   // first purchase after the cutoff
    ]);
    let p = FeatureParams::new(Cutoff::day(60), Horizon::days(30).unwrap(), CohortGrain::Month);
    let t = FeatureTable::build(&tx, None, p);
    assert_eq!((t.rows.len(), t.excluded_after_cutoff), (1, 1));
    let r = &t.rows[0];
    assert_eq!((r.hist_txn_cnt, r.hist_revenue, r.hist_aov), (2, 35.0, 17.5));
    assert_eq!((r.recency_days, r.tenure_days), (Some(19), Some(60)));
    assert_eq!(r.label_y, 8.0);
    assert_eq!((r.hist_purchase_days, r.label_orders, r.label_purchase_days, r.label_mean_spend), (2, 1, 1, 8.0));
    assert_eq!(r.arpu, 35.0 / 2.0);
    assert!((r.log_hist_revenue - 36f64.ln()).abs() < 1e-12);
    assert_eq!(r.cohort.as_deref(), Some("1970-01"));
    assert!(Horizon::days(0).is_err());
    assert!(Horizon::days(i64::MAX).unwrap_err().to_string().contains("1 to 3650 days"));
}

#[test]
fn users_file_left_joins() {
    let users = parse_users(
        "user_id,signup_ts,country,emb_0\na,1970-01-01,DE,0.5\nz,1970-02-10,FR,1.5\n,1970-01-01,x,1\n".as_bytes(),
        Default::default(),
    )
    .unwrap();
    assert_eq!(users.attribute_names, vec!["country", "emb_0"]);
    assert_eq!(users.rejected.len(), 1);
    let tx = Transactions::from_pairs([("a", txn(3, 10.0)), ("q", txn(3, 1.0))]);
    let p = FeatureParams::new(Cutoff::day(60), Horizon::days(30).unwrap(), CohortGrain::Day);
    let t = FeatureTable::build(&tx, Some(&users), p);
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[1].user_id, "z");
    assert_eq!((t.rows[1].hist_txn_cnt, t.rows[1].label_y, t.rows[1].recency_days), (0, 0.0, None));
    assert_eq!(t.rows[1].cohort.as_deref(), Some("1970-02-10"));
    assert!(t.to_csv(&mut Default::default()).starts_with("user_id,hist_txn_cnt,"));
    assert!(t
        .to_csv(&mut Default::default())
        .lines()
        .next()
        .unwrap()
        .ends_with(",cohort,hist_purchase_days,label_orders,label_purchase_days,label_mean_spend,country,emb_0"));
}

#[test]
fn users_file_placeholder_ids_are_rejected_with_their_line() {
    let users =
        parse_users("user_id,signup_ts\na,2024-01-01\nNULL,2024-01-02\n-,2024-01-03\n".as_bytes(), Default::default())
            .unwrap();
    assert_eq!(users.rejected.len(), 2);
    assert_eq!(users.rejected[0].0, 3);
    assert!(users.rejected[0].1.contains("\"NULL\" stands for a missing id"), "{:?}", users.rejected);
}

fn arb_history() -> impl Strategy<Value = Vec<(u8, i64, i32)>> {
    prop::collection::vec((0u8..6, 0i64..200, -50i32..500), 1..60)
}

proptest! {
    /// Changing or deleting any transaction after t0 leaves every feature and
    /// the BTYD summary unchanged.
    #[test]
    fn features_ignore_everything_after_the_cutoff(
        base in arb_history(),
        cutoff in 0i64..200,
        edits in prop::collection::vec((0u8..6, 0i64..400, -50i32..500, any::<bool>()), 0..20),
    ) {
        let to_pairs = |v: &[(u8, i64, i32)]| -> Vec<(String, Txn)> {
            v.iter().map(|&(u, d, a)| (format!("u{u}"), Txn { ts: d * DAY + 7, amount: f64::from(a) / 10.0 })).collect()
        };
        let cut = Cutoff::day(cutoff);
        let mut after_edit: Vec<(u8, i64, i32)> = base.clone();
        for &(u, d, a, delete) in &edits {
            if delete {
                // delete every transaction after the cutoff for this user
                after_edit.retain(|&(uu, dd, _)| !(uu == u && dd > cutoff));
            } else {
                after_edit.push((u, cutoff + 1 + d, a));
            }
        }
        // Rewrite amounts of everything after the cutoff.
        for row in after_edit.iter_mut().filter(|r| r.1 > cutoff) { row.2 += 1; }
        let a = Transactions::from_pairs(to_pairs(&base));
        let b = Transactions::from_pairs(to_pairs(&after_edit));
        let p = FeatureParams::new(cut, Horizon::days(30).unwrap(), CohortGrain::Week);
        let strip = |t: FeatureTable| {
            let mut rows: Vec<FeatureRow> = t.rows.into_iter().map(|mut r| { r.label_y = 0.0; r.label_orders = 0; r.label_purchase_days = 0; r.label_mean_spend = 0.0; r }).collect();
            rows.sort_by(|x, y| x.user_id.cmp(&y.user_id));
            rows
        };
        prop_assert_eq!(strip(FeatureTable::build(&a, None, p)), strip(FeatureTable::build(&b, None, p)));
        let key = |s: RfmSummary, tx: &Transactions| {
            let mut v: Vec<(String, u32, u64, u64, u64)> = s.rows.iter().map(|r| (tx.id(r.customer).to_string(), r.frequency, r.recency.to_bits(), r.t.to_bits(), r.monetary_value.to_bits())).collect();
            v.sort();
            v
        };
        prop_assert_eq!(key(RfmSummary::build(&a, cut, TimeUnit::Week), &a), key(RfmSummary::build(&b, cut, TimeUnit::Week), &b));
    }
}
