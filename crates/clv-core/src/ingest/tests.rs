use super::*;
use crate::time::days_from_civil;

fn run(csv: &str) -> Ingested {
    run_with(csv, &IngestOptions::default())
}

fn run_with(csv: &str, opts: &IngestOptions) -> Ingested {
    ingest(csv.as_bytes(), opts, &mut |_| {}).expect("ingest")
}

fn reason<'a>(r: &'a IngestReport, code: &str) -> &'a ReasonSummary {
    r.reasons.iter().find(|s| s.reason == code).unwrap_or_else(|| panic!("no {code} in {:?}", r.reasons))
}

fn day(y: i32, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d).unwrap() * 86_400
}

#[test]
fn counts_always_add_up_and_lines_are_physical() {
    // Line 1 header, line 3 blank, line 5 starts a quoted field spanning two lines.
    let csv = "user_id,ts,amount,note\r\n\
               a,2024-01-01,10,x\r\n\
               \r\n\
               b,2024-01-02,,y\r\n\
               c,2024-01-03,5,\"multi\nline, with comma\"\r\n\
               d,2024-02-30,1,z\r\n\
               a,2024-01-01,10,x\r\n";
    let r = run(csv).report;
    assert_eq!(r.rows, 5);
    assert_eq!((r.accepted, r.rejected, r.duplicates), (2, 2, 1));
    assert_eq!(r.accepted + r.rejected + r.duplicates, r.rows);
    assert_eq!(reason(&r, "missing_amount").first_lines, vec![4]);
    assert_eq!(reason(&r, "impossible_date").first_lines, vec![7]);
    assert_eq!(r.duplicate_lines, vec![8]);
    assert!(r.rejections[0].message.contains("\"amount\""), "{:?}", r.rejections[0]);
}

#[test]
fn bom_quotes_and_semicolons_with_decimal_commas() {
    let csv = "\u{feff}Kunde;Datum;Umsatz\n\"K;1\";05.03.2024;\"1.234,50\"\nK2;06.03.2024 14:30;12,5\nK2;07.03.2024;\"He said \"\"hi\"\"\"\n";
    let out = run(csv);
    let r = &out.report;
    assert_eq!(r.formats["delimiter"], "';'");
    assert!(r.formats["decimal_separator"].starts_with("comma"));
    assert_eq!(r.accepted, 2, "{:?}", r.rejections);
    assert_eq!(out.transactions.id(0), "K;1");
    assert_eq!(out.transactions.history(0)[0].amount, 1234.5);
    assert_eq!(out.transactions.history(1)[0].ts, day(2024, 3, 6) + 14 * 3600 + 1800);
    assert_eq!(reason(r, "bad_amount").first_lines, vec![4]);
}

#[test]
fn header_aliases_are_case_insensitive() {
    let csv = "CustomerID\tInvoiceDate\tSales\nx\t2024-01-01T10:00:00+02:00\t$1,000.00\n";
    let out = run(csv);
    assert_eq!(out.report.accepted, 1);
    assert_eq!(out.transactions.history(0)[0], Txn { ts: day(2024, 1, 1) + 8 * 3600, amount: 1000.0 });
}

#[test]
fn uci_online_retail_layout_derives_amount_and_cancellations() {
    let csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n\
               536365,85123A,HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom\n\
               C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527,United Kingdom\n\
               536380,22,X,2,12/13/2010 9:41,1.00,14527,United Kingdom\n";
    let out = run(csv);
    let r = &out.report;
    assert_eq!(r.accepted, 3);
    let d = r.date_order.as_ref().unwrap();
    assert_eq!((d.order, d.decided_by.as_str()), (DateOrder::MonthFirst, "evidence"));
    assert!((r.net_revenue - (15.3 - 27.5 + 2.0)).abs() < 1e-9);
    assert_eq!(r.refunds, 1);
    let h = out.transactions.history(1);
    assert_eq!(h[0].ts, day(2010, 12, 1) + 9 * 3600 + 41 * 60);
    assert_eq!(h[1].ts, day(2010, 12, 13) + 9 * 3600 + 41 * 60);
}

#[test]
fn day_first_evidence_decides_the_whole_column() {
    // 03/04 is ambiguous on its own; 25/04 proves the column is day-first.
    let csv = "user,date,amount\na,03/04/2024,1\nb,25/04/2024,1\nc,04/13/2024,1\nd,26/04/2024,1\n";
    let out = run(csv);
    let r = &out.report;
    let d = r.date_order.as_ref().unwrap();
    assert_eq!(d.order, DateOrder::DayFirst);
    assert_eq!(out.transactions.history(0)[0].ts, day(2024, 4, 3));
    // The month-first-only row is rejected, not silently re-read.
    assert_eq!(reason(r, "date_order_conflict").first_lines, vec![4]);
    assert_eq!(r.accepted + r.rejected, 4);
    assert_eq!(r.customers, 3);
    // Two day-first dates against one month-first: the conflict is named.
    let w = r.warnings.iter().find(|w| w.starts_with("slash dates conflict")).expect("a conflict warning");
    assert!(w.contains("2 only fit day-first and 1 only fit month-first"), "{w}");
}

#[test]
fn a_handful_of_dates_deciding_for_many_is_warned() {
    // One 25/04 decides day-first for 40 dates that fit either order.
    let mut csv = String::from("user,date,amount\n");
    for i in 0..40 {
        csv += &format!("u{i},0{}/0{}/2024,1\n", 1 + i % 9, 1 + i % 7);
    }
    csv += "z,25/04/2024,1\n";
    let r = run(&csv).report;
    let d = r.date_order.as_ref().unwrap();
    assert_eq!((d.order, d.day_first_only, d.ambiguous), (DateOrder::DayFirst, 1, 40));
    let w = r.warnings.iter().find(|w| w.contains("thin evidence")).expect("a thin-evidence warning");
    assert!(w.contains("1 date(s) decide it for 40 that fit either order"), "{w}");
    // Enough evidence (5 deciding dates): no warning.
    for i in 0..4 {
        csv += &format!("y{i},2{i}/05/2024,1\n");
    }
    let r = run(&csv).report;
    assert!(r.warnings.iter().all(|w| !w.contains("slash dates")), "{:?}", r.warnings);
}

#[test]
fn ambiguous_column_follows_the_setting_and_says_so() {
    let csv = "user,date,amount\na,03/04/2024,1\n";
    let r = run(csv).report;
    assert!(r.warnings.iter().any(|w| w.contains("never show which part is the day")));
    let opts = IngestOptions { ambiguous_date_order: DateOrder::DayFirst, ..Default::default() };
    let out = run_with(csv, &opts);
    assert_eq!(out.transactions.history(0)[0].ts, day(2024, 4, 3));
}

#[test]
fn refunds_net_and_flags_are_read() {
    let csv = "user_id,ts,amount,is_refund\na,2024-01-01,10,0\na,2024-01-05,4,yes\na,2024-01-06,-1,\na,2024-01-07,3,perhaps\n";
    let out = run(csv);
    let r = &out.report;
    assert_eq!(r.accepted, 3);
    assert_eq!(r.refunds, 2);
    assert_eq!(r.net_revenue, 5.0);
    assert_eq!(r.refund_total, -5.0);
    assert_eq!(reason(r, "bad_refund_flag").first_lines, vec![5]);
}

#[test]
fn currencies_need_a_table() {
    let csv = "user_id,ts,amount,currency\na,2024-01-01,10,EUR\nb,2024-01-01,10,USD\nc,2024-01-01,1,EUR\n";
    let err = ingest(csv.as_bytes(), &IngestOptions::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("EUR: 2 rows") && err.contains("USD: 1 rows"), "{err}");
    let opts =
        IngestOptions { currency_rates: parse_rates("currency,rate\nEUR,1.1\nUSD,1\n").unwrap(), ..Default::default() };
    let out = run_with(csv, &opts);
    assert!((out.report.net_revenue - 22.1).abs() < 1e-9);
    // Converted amounts are in the table's rate-1 currency, and the report says so.
    assert_eq!(out.report.currency.as_deref(), Some("USD"));
    let opts = IngestOptions { currency_rates: vec![("EUR".into(), 1.1)], ..Default::default() };
    let r = run_with(csv, &opts).report;
    assert_eq!(reason(&r, "bad_currency").first_lines, vec![3]);
    assert_eq!(r.currency, None, "no rate-1 currency: no currency is claimed");
}

#[test]
fn a_file_of_ids_and_dates_counts_purchases() {
    let out = run("user_id,date\na,2024-01-01\na,2024-02-01\nb,2024-01-05\n");
    let r = &out.report;
    assert_eq!((r.accepted, r.customers, r.net_revenue, r.counts_only), (3, 2, 0.0, true));
    assert!(r.warnings.iter().any(|w| w.starts_with("no amount column: purchases are counted only")), "{r:?}");
    assert_eq!(out.transactions.history(0).len(), 2);
    // A quantity without a price is still counts only; a price without a quantity is a mistake.
    assert!(run("user_id,date,quantity\na,2024-01-01,2\n").report.counts_only);
    let err = ingest("user_id,date,unit_price\na,2024-01-01,2\n".as_bytes(), &IngestOptions::default(), &mut |_| {});
    assert!(err.unwrap_err().to_string().contains("no quantity (to multiply unit_price by)"));
    assert!(!run("user_id,ts,amount\na,2024-01-01,1\n").report.counts_only);
}

#[test]
fn currency_codes_are_case_insensitive() {
    // One currency written two ways is one currency (ISO 4217 codes ignore case).
    let csv = "user_id,ts,amount,currency\na,2024-01-01,10,USD\nb,2024-01-02,5,usd\nc,2024-01-03,1, Usd \n";
    let out = run(csv);
    assert_eq!((out.report.accepted, out.report.currency.as_deref()), (3, Some("USD")));
    assert!((out.report.net_revenue - 16.0).abs() < 1e-12);
    // Two currencies in any case are still two.
    let csv = "user_id,ts,amount,currency\na,2024-01-01,10,usd\nb,2024-01-01,10,eur\nc,2024-01-01,1,EUR\n";
    let err = ingest(csv.as_bytes(), &IngestOptions::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("EUR: 2 rows") && err.contains("USD: 1 rows"), "{err}");
}

#[test]
fn duplicates_can_be_kept() {
    let csv = "user_id,ts,amount\na,2024-01-01,10\na,2024-01-01,10\n";
    assert_eq!(run(csv).report.duplicates, 1);
    let opts = IngestOptions { keep_duplicates: true, ..Default::default() };
    let out = run_with(csv, &opts);
    assert_eq!((out.report.accepted, out.report.duplicates), (2, 0));
}

#[test]
fn ids_are_byte_exact_and_lookalikes_warned() {
    let csv = "user_id,ts,amount\n42,2024-01-01,1\n42 ,2024-01-01,1\n4\u{200b}2,2024-01-02,1\n";
    let out = run(csv);
    assert_eq!(out.transactions.customers(), 3);
    let w = out.report.warnings.join(" ");
    assert!(w.contains("invisible characters") && w.contains("\"42 \""), "{w}");
}

#[test]
fn field_count_and_utf8_problems_are_rejected_not_fatal() {
    // The ids of the field-count rows are UTF-8 characters: a UTF-8 file
    // with one broken row, not a Windows-1252 one.
    let mut bytes = "user_id,ts,amount\né,2024-01-01,1,extra\nü,2024-01-01\n".as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\xfe,2024-01-01,1\nc,2024-01-01,2,\n");
    let out = ingest(&bytes[..], &IngestOptions::default(), &mut |_| {}).unwrap();
    let r = &out.report;
    assert_eq!(r.rows, 4);
    assert_eq!(reason(r, "field_count").first_lines, vec![2, 3]);
    assert_eq!(reason(r, "invalid_utf8").first_lines, vec![4]);
    assert_eq!(r.accepted, 1, "a trailing empty field is tolerated");
}

#[test]
fn fatal_errors_are_specific() {
    let err = ingest(&b""[..], &IngestOptions::default(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, IngestError::Empty));
    let err = ingest(&b"name,qty\nx,1\n"[..], &IngestOptions::default(), &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("no user id") && err.contains("name, qty"), "{err}");
}

#[test]
fn explicit_mapping_overrides_detection() {
    let csv = "a,b,c\nu1,2024-01-01,5\n";
    let mapping = ColumnMapping { user_id: Some(0), timestamp: Some(1), amount: Some(2), ..Default::default() };
    let opts = IngestOptions { mapping: Some(mapping), ..Default::default() };
    let r = run_with(csv, &opts).report;
    assert_eq!(r.accepted, 1);
    assert_eq!(r.columns[2].role, Some(Role::Amount));
}

#[test]
fn progress_reports_bytes_and_rows() {
    let mut csv = String::from("user_id,ts,amount\n");
    for i in 0..70_000 {
        csv.push_str(&format!("u{},2024-01-01,1\n", i % 100));
    }
    let mut seen = Vec::new();
    let out =
        ingest(csv.as_bytes(), &IngestOptions { keep_duplicates: true, ..Default::default() }, &mut |p| seen.push(p))
            .unwrap();
    assert_eq!(out.report.accepted, 70_000);
    assert!(seen.len() >= 2);
    let last = seen.last().unwrap();
    assert_eq!((last.rows, last.bytes), (70_000, csv.len() as u64));
}

#[test]
fn sniff_proposes_a_mapping_from_a_prefix() {
    let s = sniff(b"order_id;customer;order_date;total\n1;a;2024-01-01;3\n2;b;2024-01-0", None).unwrap();
    assert_eq!(s.delimiter, ';');
    assert_eq!(s.mapping.user_id, Some(1));
    assert_eq!(s.mapping.timestamp, Some(2));
    assert_eq!(s.mapping.amount, Some(3));
}

#[test]
fn margins_subtract_the_variable_cost_and_returns_reverse_them() {
    let csv = "customer_id,order_date,revenue,cogs,currency\n\
               a,2024-01-01,100,60,EUR\n\
               a,2024-01-05,-100,60,EUR\n\
               b,2024-01-02,50,70,USD\n\
               b,2024-01-03,30,,EUR\n";
    let rates = vec![("EUR".to_string(), 1.0), ("USD".to_string(), 0.5)];
    let revenue = run_with(csv, &IngestOptions { currency_rates: rates.clone(), ..Default::default() });
    let amounts = |t: &Transactions| t.all().map(|x| x.amount).collect::<Vec<_>>();
    assert_eq!(amounts(&revenue.transactions), vec![100.0, -100.0, 25.0, 30.0]);
    let col = |r: &IngestReport| r.columns.iter().find(|c| c.name == "cogs").unwrap().read_as.clone();
    assert!(col(&revenue.report).starts_with("not used"), "{}", col(&revenue.report));

    let margin = run_with(csv, &IngestOptions { currency_rates: rates, margin: true, ..Default::default() });
    // a: +40 then the return −40; b: (50 − 70)·0.5 = −10, a sale below cost; the
    // row without a cost is rejected, never read as 0.
    assert_eq!(amounts(&margin.transactions), vec![40.0, -40.0, -10.0]);
    assert_eq!(reason(&margin.report, "missing_amount").count, 1);
    assert!(reason(&margin.report, "missing_amount").example.contains("variable cost is missing"));
    assert!(col(&margin.report).contains("margins"));

    let err = ingest(
        "user_id,ts,amount\na,2024-01-01,5\n".as_bytes(),
        &IngestOptions { margin: true, ..Default::default() },
        &mut |_| {},
    );
    assert!(err.unwrap_err().to_string().contains("variable cost (e.g. variable_cost, cost, cogs)"));
}

#[test]
fn the_plain_number_fast_path_agrees_with_the_general_parser() {
    use amount::{parse_amount, DecimalSeparator::*};
    for (raw, sep, want) in [
        ("12.50", Point, Some(12.5)),
        (" -3 ", Point, Some(-3.0)),
        ("+7.", Point, Some(7.0)),
        (".5", Point, Some(0.5)),
        ("12,50", Comma, Some(12.5)),
        ("1,234", Point, Some(1234.0)),
        ("1.234", Comma, Some(1234.0)),
        ("$9.99", Point, Some(9.99)),
        ("(4.00)", Point, Some(-4.0)),
        ("1.2.3", Point, None),
        ("-", Point, None),
        ("NA", Point, None),
    ] {
        assert_eq!(parse_amount(raw, sep).ok(), want, "{raw:?}");
    }
    assert_eq!(parse_amount("-", Point), Err(amount::AmountError::Missing));
}

/// A row of a messy export: quoted fields with line breaks and delimiters,
/// CRLF, blank lines, refunds, bad and slash dates, duplicates, channels.
fn messy_row(pick: (u8, u8, u8, u8)) -> String {
    let (user, day, kind, amount) = pick;
    let id = ["a", "b", "\"c,1\"", "d", "\"e\"\"q\"", "f "][usize::from(user) % 6];
    let channel = ["web", "\"shop\nfloor\"", "", "app"][usize::from(kind) % 4];
    let date = match kind % 7 {
        0 => format!("2024-01-{:02}", day % 28 + 1),
        1 => format!("{}/{}/2024", day % 12 + 1, day % 28 + 1),
        2 => format!("2024-01-{:02}T10:00:00+02:00", day % 28 + 1),
        3 if day % 5 == 0 => "2024-02-30".into(),
        4 if day % 7 == 0 => String::new(),
        _ => format!("2024-02-{:02}", day % 28 + 1),
    };
    // Quarters add up exactly in any order, so sums over pieces are exact.
    let value = f64::from(amount) / 4.0 - 8.0;
    let money = if kind % 11 == 5 { "NA".to_string() } else { format!("{value}") };
    let end = if day % 3 == 0 { "\r\n" } else { "\n" };
    let blank = if user % 9 == 8 { "\n" } else { "" };
    format!("{blank}{id},{date},{money},{channel}{end}")
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Blocks and pieces are an implementation detail: any sizes, down to a
    /// byte, give the same transactions and the same report.
    #[test]
    fn any_block_and_piece_size_gives_the_same_result(
        picks in proptest::collection::vec(proptest::prelude::any::<(u8, u8, u8, u8)>(), 1..120),
        block in 1usize..96,
        piece in 1usize..48,
    ) {
        let mut csv = String::from("user_id,ts,amount,channel\n");
        for p in &picks {
            csv.push_str(&messy_row(*p));
        }
        let opts = IngestOptions::default();
        let whole = ingest(csv.as_bytes(), &opts, &mut |_| {}).unwrap();
        let cut = ingest_in_blocks(csv.as_bytes(), &opts, &mut |_| {}, Some((block, piece))).unwrap();
        proptest::prop_assert_eq!(&cut.transactions, &whole.transactions);
        proptest::prop_assert_eq!(&cut.report, &whole.report);
        let r = &whole.report;
        proptest::prop_assert_eq!(r.accepted + r.rejected + r.duplicates, r.rows);
    }
}

/// Grouping by hand: each customer (first-appearance order) gets their rows
/// in file order, stably sorted by day, without (`dedupe`) any row whose
/// text equals an earlier one's (same customer and day, so the same time).
/// Rows whose amount does not read are left out, as ingest rejects them.
fn grouped_by_hand(lines: &[String], dedupe: bool) -> (Vec<(String, Vec<Txn>)>, u64) {
    // Per customer: (time, amount, whole line).
    type Rows<'a> = Vec<(i64, f64, &'a str)>;
    let mut out: Vec<(String, Rows)> = Vec::new();
    for line in lines {
        let line = line.trim();
        let mut f = line.split(',');
        let (id, date, amount) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let Ok(amount) = amount.parse::<f64>() else { continue };
        let ts = crate::time::parse_day(date).unwrap() * 86_400;
        let at = out.iter().position(|(c, _)| c == id).unwrap_or_else(|| {
            out.push((id.to_string(), Vec::new()));
            out.len() - 1
        });
        out[at].1.push((ts, amount, line));
    }
    let mut duplicates = 0;
    let grouped = out
        .into_iter()
        .map(|(id, mut rows)| {
            rows.sort_by_key(|r| r.0);
            let mut kept: Rows = Vec::new();
            for r in rows {
                if dedupe && kept.contains(&r) {
                    duplicates += 1;
                } else {
                    kept.push(r);
                }
            }
            (id, kept.iter().map(|&(ts, amount, _)| Txn { ts, amount }).collect())
        })
        .collect();
    (grouped, duplicates)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Customers listed together or scattered, same-day rows, duplicates
    /// next to each other or far apart, rejected rows and blank lines,
    /// duplicates dropped or kept, pieces from a few rows to the whole file
    /// (histories used in place, gathered, or a mix): always the grouping
    /// done by hand, and every duplicate's line is a line holding a copy.
    #[test]
    fn grouping_matches_grouping_by_hand(
        picks in proptest::collection::vec((0u8..6, 0u8..5, 0u8..6), 1..150),
        by_customer in proptest::prelude::any::<bool>(),
        keep_duplicates in proptest::prelude::any::<bool>(),
        piece in 20usize..2000,
    ) {
        let mut picks = picks;
        if by_customer {
            picks.sort_by_key(|p| p.0);
        }
        let lines: Vec<String> = picks
            .iter()
            .map(|&(u, d, a)| {
                // "x" is rejected; the last kind is "1" with a blank line after it.
                let amount = ["1", "2.5", "-3", "1.0", "x", "1\n"][usize::from(a)];
                format!("u{u},2024-03-{:02},{amount}", d + 1)
            })
            .collect();
        let csv = format!("user_id,ts,amount\n{}\n", lines.join("\n"));
        let opts = IngestOptions { keep_duplicates, ..Default::default() };
        let out = ingest_in_blocks(csv.as_bytes(), &opts, &mut |_| {}, Some((4096, piece))).unwrap();
        let (expected, duplicates) = grouped_by_hand(&lines, !keep_duplicates);
        let got: Vec<(String, Vec<Txn>)> = out.transactions.iter().map(|(id, h)| (id.to_string(), h.to_vec())).collect();
        proptest::prop_assert_eq!(got, expected);
        proptest::prop_assert_eq!(out.report.duplicates, duplicates);
        proptest::prop_assert_eq!(out.transactions.len() as u64, out.report.accepted);
        let physical: Vec<&str> = csv.split('\n').collect();
        for &line in &out.report.duplicate_lines {
            let text = physical[line as usize - 1];
            let copies = physical[1..line as usize - 1].iter().filter(|l| **l == text).count();
            proptest::prop_assert!(copies > 0, "line {} {:?} has no earlier copy", line, text);
        }
    }
}

#[test]
fn many_rows_at_one_time_keep_all_but_exact_copies() {
    // A date-only export: one customer, 40 purchases on one day (past the
    // pairwise comparison's group size), one of them listed twice far apart.
    let mut csv = String::from("user_id,ts,amount\n");
    for i in 0..40 {
        csv.push_str(&format!("g,2024-05-01,{i}.5\n"));
    }
    csv.push_str("g,2024-05-01,7.5\nh,2024-05-02,1\n");
    for sizes in [None, Some((64, 16))] {
        let out = ingest_in_blocks(csv.as_bytes(), &IngestOptions::default(), &mut |_| {}, sizes).unwrap();
        assert_eq!((out.report.accepted, out.report.duplicates), (41, 1), "{sizes:?}");
        assert_eq!(out.report.duplicate_lines, vec![42]);
        let amounts: Vec<f64> = out.transactions.history(0).iter().map(|t| t.amount).collect();
        assert_eq!(amounts, (0..40).map(|i| f64::from(i) + 0.5).collect::<Vec<_>>(), "{sizes:?}");
    }
}

#[test]
fn messy_rows_read_as_the_csv_crate_reads_them() {
    // Same fields as the `csv` crate for every kind of messy row: the
    // accepted count equals a reference count made with it.
    let picks: Vec<(u8, u8, u8, u8)> =
        (0..400u32).map(|i| (i as u8, (i * 7) as u8, (i * 3) as u8, (i * 13) as u8)).collect();
    let mut csv = String::from("user_id,ts,amount,channel\n");
    for p in &picks {
        csv.push_str(&messy_row(*p));
    }
    let out = run(&csv);
    let reference = csv::ReaderBuilder::new().flexible(true).from_reader(csv.as_bytes()).records().count() as u64;
    assert_eq!(out.report.rows, reference);
    let r = &out.report;
    assert_eq!(r.accepted + r.rejected + r.duplicates, r.rows);
    assert!(r.duplicates > 0 && r.rejected > 0 && out.transactions.attribute("channel").is_some());
    let c = out.transactions.iter().position(|(id, _)| id == "c,1").expect("quoted id with a comma");
    assert!(!out.transactions.history(c).is_empty());
}

#[test]
fn a_bom_starting_a_data_row_is_kept_after_a_crlf_header() {
    // csv-core would strip it on a reader's first read; after a CRLF
    // header the body starts with the header's `\n`.
    let csv = "user_id,ts,amount\r\n\u{feff}a,2024-01-01,\"1\"\r\nb,2024-01-02,2\r\n";
    for sizes in [None, Some((3, 2)), Some((40, 7))] {
        let out = ingest_in_blocks(csv.as_bytes(), &IngestOptions::default(), &mut |_| {}, sizes).unwrap();
        assert_eq!(out.transactions.id(0), "\u{feff}a", "{sizes:?}");
        assert_eq!(out.report.accepted, 2);
    }
}

#[test]
fn dropping_a_duplicate_sale_below_cost_does_not_touch_refunds() {
    // With margins a sale below cost is negative without being a refund:
    // removing its duplicate must undo exactly what was counted.
    let csv = "user_id,ts,amount,variable_cost\na,2024-01-01,5,10\na,2024-01-01,5,10\nb,2024-01-01,-5,1\n";
    let out = run_with(csv, &IngestOptions { margin: true, ..Default::default() });
    let r = &out.report;
    assert_eq!((r.accepted, r.duplicates, r.refunds), (2, 1, 1));
    assert_eq!(r.net_revenue, -5.0 - 4.0);
    assert_eq!(r.refund_total, -4.0);
}

#[test]
fn overflowing_products_are_rejected_and_totals_stay_finite() {
    // 1e200 × 1e200 is infinite; 1e8 × 1e8 = 1e16 is past the bound; each
    // cell alone reads fine.
    let huge = format!("1{}", "0".repeat(200));
    let csv = format!(
        "user_id,ts,quantity,unit_price\na,2024-01-01,1e3,1\nb,2024-01-01,100000000,100000000\n\
         c,2024-01-01,2,2.5\nd,2024-01-01,{huge},{huge}\n"
    );
    let csv = csv.as_str();
    let r = run(csv).report;
    assert_eq!((r.accepted, r.net_revenue), (1, 5.0));
    assert_eq!(reason(&r, "bad_amount").first_lines, vec![2, 3, 5]);
    let over = r.rejections.iter().find(|x| x.line == 3).unwrap();
    assert_eq!(
        over.message,
        "column \"unit_price\": 1e16 is beyond ±1e15, the largest amount accepted (totals must stay finite)"
    );
    let inf = r.rejections.iter().find(|x| x.line == 5).unwrap();
    assert!(inf.message.contains("inf is beyond"), "{}", inf.message);
}

#[test]
fn the_decimal_separator_can_be_set_by_hand() {
    let csv = "user_id;ts;amount\na;2024-01-01;1,500\nc;2024-01-01;2,250\nb;2024-01-02;7,5\n";
    let r = run(csv).report;
    assert_eq!((r.accepted, r.net_revenue), (2, 3750.0));
    let opts = IngestOptions { decimal: Some(DecimalSeparator::Comma), ..Default::default() };
    let r = run_with(csv, &opts).report;
    assert_eq!((r.accepted, r.net_revenue), (3, 11.25));
    assert_eq!(r.formats["decimal_separator"], "comma (1.234,56), set by hand");
}

#[test]
fn placeholder_ids_and_dates_are_counted_reasons() {
    let csv = "user_id,ts,amount\nNULL,2024-01-01,1\n-,2024-01-01,1\n  ,2024-01-01,1\nnull-ish,2024-01-01,1\n\
               a,1970-01-01,1\na,1970-01-01 00:00:01,1\n";
    let r = run(csv).report;
    assert_eq!(reason(&r, "missing_user_id").first_lines, vec![2, 3, 4]);
    assert_eq!(reason(&r, "placeholder_date").first_lines, vec![6]);
    assert_eq!(r.accepted, 2);
    assert!(
        r.warnings.iter().any(|w| w.starts_with("3 rows have no real customer id (\"  \" ×1, \"-\" ×1, \"NULL\" ×1)")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_stray_quote_closed_far_below_is_named_with_the_lines_it_joins() {
    // Line 10 opens a quote in the notes column, line 190 closes it: the
    // lines between are one row. An address over two lines is normal.
    let mut csv = String::from("user,date,amount,notes\n");
    for line in 2..=200 {
        let note = match line {
            10 => "\"left a \"\"note".to_string(),
            190 => "typo\"".to_string(),
            50 => "x".to_string(),
            _ => "ok".to_string(),
        };
        csv += &format!("u{line},2024-01-02,1,{note}\n");
    }
    csv = csv.replace("u5,2024-01-02,1,ok\n", "u5,2024-01-02,1,\"Main St\n2nd floor\"\n");
    let r = run(&csv).report;
    let w = r.warnings.iter().find(|w| w.starts_with("line 11:")).unwrap_or_else(|| panic!("{:?}", r.warnings));
    assert!(w.contains("runs over 181 lines (to line 191)") && w.contains("2 row(s) in all"), "{w}");
    // Two line breaks are an address, not a warning.
    let r = run("user,date,amount,notes\na,2024-01-02,1,\"Main St\n2nd\nfloor\"\n").report;
    assert!(r.warnings.iter().all(|w| !w.contains("quoted field runs over")), "{:?}", r.warnings);
}
