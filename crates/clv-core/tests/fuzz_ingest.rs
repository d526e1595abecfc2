//! Property-based fuzzing of everything that reads a user's file: the
//! transaction ingest, its date and amount cell parsers, and the summary
//! reader. Random inputs never panic, and what they produce adds up.
//!
//! Short by default (part of `cargo test`); a long run:
//! `CLV_FUZZ_CASES=100000 cargo test -p clv-core --release --test fuzz_ingest`.
//! The coverage-guided counterparts are in `fuzz/` (cargo-fuzz, nightly).

mod fuzz_common;

use clv_core::features::parse_summary;
use clv_core::ingest::amount::{parse_amount, parse_flag, plain_number, DecimalEvidence, MAX_AMOUNT};
use clv_core::ingest::dates::{is_missing, iso_day, parse_date, placeholder, Cell};
use clv_core::ingest::{ingest, DateOrder, DecimalSeparator, IngestError, IngestOptions, Ingested};
use clv_core::limits::{MAX_MONEY, MAX_PERIODS, MAX_SUMMARY_VALUE, MAX_WEIGHT};
use clv_core::time::{days_from_civil, format_ts};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Every time a date cell can stand for: year 0000 to 9999, ± a day of
/// UTC offset.
fn ts_range() -> std::ops::RangeInclusive<i64> {
    let day = 86_400;
    let first = days_from_civil(0, 1, 1).unwrap() * day - day;
    let last = days_from_civil(9999, 12, 31).unwrap() * day + 2 * day;
    first..=last
}

fn date_cell() -> impl Strategy<Value = String> {
    let ymd = || (0u32..10_000, 0u32..14, 0u32..33);
    prop_oneof![
        ymd().prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        (ymd(), 0u32..25, 0u32..61, 0u32..61, -15i32..15).prop_map(|((y, m, d), hh, mm, ss, off)| format!(
            "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}{off:+03}:00"
        )),
        ymd().prop_map(|(y, m, d)| format!("{d}/{m}/{y}")),
        ymd().prop_map(|(y, m, d)| format!("{d:02}.{m:02}.{y}")),
        ymd().prop_map(|(y, m, d)| format!("{y:04}{m:02}{d:02}")),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("0000-01-01".to_string()),
        Just("1970-01-01".to_string()),
        Just("9999-12-31 23:59:59".to_string()),
        "[0-9 :/.TZ+-]{0,24}",
    ]
}

fn amount_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:e}")),
        (any::<i32>(), 0u32..100).prop_map(|(i, f)| format!("{i},{f:02}")),
        (any::<i32>(), 0u32..1000).prop_map(|(i, f)| format!("${i}.{f:03}")),
        (0u32..1000, 0u32..1000, 0u32..100).prop_map(|(a, b, c)| format!("({a},{b:03}.{c:02})")),
        (0u32..1000, 0u32..1000, 0u32..100).prop_map(|(a, b, c)| format!("{a}.{b:03},{c:02} €")),
        "[0-9]{16,400}",
        "[0-9]{1,400}\\.[0-9]{1,20}",
        Just("1e400".to_string()),
        Just("-1e308".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("USD 7.25".to_string()),
        "[0-9$€£(),. +-]{0,16}",
    ]
}

fn id_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,4}",
        Just("NULL".to_string()),
        Just("-".to_string()),
        Just(String::new()),
        Just(" 42\u{200b}".to_string()),
        Just("=HYPERLINK(\"x\")".to_string()),
    ]
}

/// Any cell: a plausible one of each kind, or text with the characters
/// that break CSV (quotes, delimiters, line ends) and non-ASCII letters.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        date_cell(),
        amount_cell(),
        id_cell(),
        prop_oneof![Just("1"), Just("true"), Just("no"), Just("x"), Just("USD"), Just("EUR"), Just("€")]
            .prop_map(str::to_string),
        "[\",;\t|\r\n a-z0-9.\\-/éü€]{0,12}",
        "\\PC{0,8}",
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    const KNOWN: &[&str] = &[
        "user_id",
        "customer_id",
        "Customer",
        "Id",
        "ts",
        "date",
        "order_date",
        "InvoiceDate",
        "amount",
        "revenue",
        "price",
        "UnitPrice",
        "Quantity",
        "is_refund",
        "Amount Refunded",
        "invoice",
        "InvoiceNo",
        "invoice_status",
        "currency",
        "channel",
        "cost",
        "frequency",
        "recency",
        "T",
    ];
    prop_oneof![4 => proptest::sample::select(KNOWN).prop_map(str::to_string), 1 => "\\PC{0,10}"]
}

/// How a cell is written: as is, quoted (quotes doubled), or with a stray
/// quote that may never close.
fn write_cell(out: &mut String, text: &str, style: u8) {
    match style % 8 {
        0 | 1 => {
            out.push('"');
            out.push_str(&text.replace('"', "\"\""));
            out.push('"');
        }
        2 if style > 250 => {
            out.push('"');
            out.push_str(text);
        }
        _ => out.push_str(text),
    }
}

#[derive(Debug, Clone)]
struct CsvText {
    delimiter: char,
    line_end: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<(String, u8)>>,
}

fn csv_text() -> impl Strategy<Value = CsvText> {
    (
        proptest::sample::select(vec![',', ';', '\t', '|', ' ']),
        proptest::sample::select(vec!["\n", "\r\n", "\r", "\n\n"]),
        proptest::collection::vec(header_name(), 1..8),
        proptest::collection::vec(proptest::collection::vec((cell(), any::<u8>()), 0..10), 0..40),
    )
        .prop_map(|(delimiter, line_end, header, rows)| CsvText { delimiter, line_end, header, rows })
}

impl CsvText {
    fn render(&self) -> String {
        let mut out = self.header.join(&self.delimiter.to_string());
        for row in &self.rows {
            out.push_str(self.line_end);
            for (i, (text, style)) in row.iter().enumerate() {
                if i > 0 {
                    out.push(self.delimiter);
                }
                write_cell(&mut out, text, *style);
            }
        }
        out
    }
}

/// The bytes of a text as a user's tools might have saved it.
fn encode(text: &str, how: u8, noise: &[(usize, u8)]) -> Vec<u8> {
    let utf16 = |big: bool| -> Vec<u8> {
        text.encode_utf16().flat_map(|u| if big { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
    };
    let mut bytes = match how % 7 {
        0 | 1 => text.as_bytes().to_vec(),
        2 => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        3 => [&[0xFF, 0xFE][..], &utf16(false)].concat(),
        4 => utf16(false),
        5 => [&[0xFE, 0xFF][..], &utf16(true)].concat(),
        // Latin-1: every char below U+0100 as one byte.
        _ => text.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect(),
    };
    for &(at, byte) in noise {
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
    }
    bytes
}

fn options() -> impl Strategy<Value = IngestOptions> {
    (
        proptest::option::weighted(0.2, proptest::sample::select(vec![',', ';', '\t', '|'])),
        proptest::option::weighted(0.2, prop_oneof![Just(DecimalSeparator::Point), Just(DecimalSeparator::Comma)]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(delimiter, decimal, day_first, keep_duplicates, margin)| IngestOptions {
            delimiter,
            decimal,
            ambiguous_date_order: if day_first { DateOrder::DayFirst } else { DateOrder::MonthFirst },
            keep_duplicates,
            margin,
            ..IngestOptions::default()
        })
}

/// What every successful ingest must satisfy.
fn check_ingested(out: &Ingested) -> Result<(), TestCaseError> {
    let r = &out.report;
    prop_assert_eq!(r.accepted + r.rejected + r.duplicates, r.rows, "rows do not add up: {:?}", r);
    prop_assert_eq!(r.reasons.iter().map(|s| s.count).sum::<u64>(), r.rejected);
    prop_assert_eq!(out.transactions.len() as u64, r.accepted);
    prop_assert_eq!(out.transactions.customers() as u64, r.customers);
    prop_assert!(r.net_revenue.is_finite() && r.refund_total.is_finite(), "{} {}", r.net_revenue, r.refund_total);
    prop_assert!(r.refunds <= r.accepted && r.days_spanned >= 0);
    let mut sum = 0.0;
    let mut scale = 0.0;
    for t in out.transactions.all() {
        prop_assert!(t.amount.is_finite() && t.amount.abs() <= MAX_AMOUNT, "amount {}", t.amount);
        prop_assert!(ts_range().contains(&t.ts), "time {}", t.ts);
        sum += t.amount;
        scale += t.amount.abs();
    }
    prop_assert!((sum - r.net_revenue).abs() <= 1e-9 * scale + 1e-9, "net {} vs Σ {}", r.net_revenue, sum);
    for (id, history) in out.transactions.iter() {
        prop_assert!(!history.is_empty(), "customer {:?} without transactions", id);
    }
    Ok(())
}

fn check_error(e: &IngestError) -> Result<(), TestCaseError> {
    let text = e.to_string();
    prop_assert!(!text.is_empty());
    if let IngestError::Csv { line, .. } | IngestError::UnclosedQuote { line, .. } = e {
        prop_assert!(*line >= 1, "error without a line: {}", text);
    }
    Ok(())
}

fn check_ingest(bytes: &[u8], opts: &IngestOptions) -> Result<(), TestCaseError> {
    match ingest(bytes, opts, &mut |_| {}) {
        Ok(out) => check_ingested(&out),
        Err(e) => check_error(&e),
    }
}

proptest! {
    #![proptest_config(fuzz_common::config(256))]

    #[test]
    fn ingest_of_csv_like_text_never_panics_and_adds_up(
        text in csv_text(),
        how in any::<u8>(),
        noise in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        opts in options(),
    ) {
        check_ingest(&encode(&text.render(), how, &noise), &opts)?;
    }

    #[test]
    fn ingest_of_random_bytes_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        opts in options(),
    ) {
        check_ingest(&bytes, &opts)?;
    }

    #[test]
    fn ingest_of_a_valid_header_then_random_bytes_never_panics(
        rest in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let bytes = [&b"user_id,ts,amount\n"[..], &rest].concat();
        check_ingest(&bytes, &IngestOptions::default())?;
    }

    #[test]
    fn date_cells_parse_to_real_times_or_say_why(raw in prop_oneof![date_cell(), "\\PC{0,30}", ".{0,30}"]) {
        match parse_date(&raw) {
            Ok(Cell::Exact(ts, _)) => {
                prop_assert!(ts_range().contains(&ts), "{:?} → {}", raw, ts);
                prop_assert!(!format_ts(ts).is_empty());
                let _ = placeholder(ts);
            }
            Ok(Cell::Slash(d)) => {
                let (day_first, month_first) = d.valid_orders();
                prop_assert!(day_first || month_first, "{:?} accepted with no valid order", raw);
                for ts in [DateOrder::DayFirst, DateOrder::MonthFirst].into_iter().filter_map(|o| d.resolve(o)) {
                    prop_assert!(ts_range().contains(&ts), "{:?} → {}", raw, ts);
                }
            }
            Err(e) => prop_assert!(!e.message().is_empty()),
        }
        if let Some(fast) = iso_day(raw.as_bytes()) {
            prop_assert_eq!(Ok(fast), parse_date(&raw));
        }
        let _ = is_missing(&raw);
    }

    #[test]
    fn placeholder_and_calendar_never_panic(ts in any::<i64>(), y in any::<i32>(), m in any::<u32>(), d in any::<u32>()) {
        let _ = placeholder(ts);
        if let Some(day) = days_from_civil(y, m, d) {
            prop_assert!((-9999..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d));
            prop_assert!(!format_ts(day * 86_400).is_empty());
        }
    }

    #[test]
    fn amount_cells_parse_to_finite_numbers_or_say_why(
        raw in prop_oneof![amount_cell(), "\\PC{0,30}", ".{0,30}"],
        comma in any::<bool>(),
    ) {
        let sep = if comma { DecimalSeparator::Comma } else { DecimalSeparator::Point };
        match parse_amount(&raw, sep) {
            Ok(v) => prop_assert!(v.is_finite(), "{:?} → {}", raw, v),
            Err(e) => prop_assert!(!e.message(sep).is_empty()),
        }
        if let Some(v) = plain_number(raw.trim().as_bytes(), sep) {
            prop_assert!(v.is_finite(), "{:?} → {}", raw, v);
            prop_assert_eq!(parse_amount(&raw, sep), Ok(v), "the fast path and the general one disagree");
        }
        let _ = parse_flag(&raw);
    }

    #[test]
    fn decimal_evidence_decides_from_any_cells(cells in proptest::collection::vec(amount_cell(), 0..50)) {
        let mut evidence = DecimalEvidence::default();
        for c in &cells {
            evidence.observe(c);
        }
        prop_assert!(!evidence.decide().describe().is_empty());
    }

    #[test]
    fn summary_files_read_or_name_the_line(text in summary_text()) {
        check_summary(text.as_bytes())?;
    }

    #[test]
    fn summary_reader_on_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_summary(&bytes)?;
    }
}

fn summary_text() -> impl Strategy<Value = String> {
    const NAMES: &[&str] = &[
        "user_id",
        "id",
        "frequency",
        "x",
        "recency",
        "t_x",
        "T",
        "periods",
        "n",
        "weights",
        "count",
        "monetary_value",
        "zbar",
        "m",
        "other",
    ];
    let value = prop_oneof![
        (0u32..60).prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        Just("1e308".to_string()),
        Just("NaN".to_string()),
        Just("-0".to_string()),
        Just(String::new()),
        "\\PC{0,6}",
    ];
    (
        proptest::collection::vec(proptest::sample::select(NAMES), 1..7),
        proptest::collection::vec(proptest::collection::vec(value, 0..8), 0..20),
        proptest::sample::select(vec!["\n", "\r\n", "\r"]),
    )
        .prop_map(|(header, rows, end)| {
            let mut out = header.join(",");
            for row in rows {
                out.push_str(end);
                out.push_str(&row.join(","));
            }
            out
        })
}

fn check_summary(bytes: &[u8]) -> Result<(), TestCaseError> {
    match parse_summary(bytes) {
        Ok(s) => {
            for r in &s.rows {
                for (v, max) in [
                    (r.frequency, MAX_SUMMARY_VALUE),
                    (r.recency, MAX_SUMMARY_VALUE),
                    (r.t, MAX_SUMMARY_VALUE.max(MAX_PERIODS)),
                    (r.monetary_value, MAX_MONEY),
                    (r.weight, MAX_WEIGHT),
                ] {
                    prop_assert!(v.is_finite() && (0.0..=max).contains(&v), "{} out of 0..={} in {:?}", v, max, r);
                }
            }
        }
        Err(IngestError::Csv { line, message }) => {
            prop_assert!(line >= 1, "no line number: {}", message);
            prop_assert!(!message.is_empty());
        }
        Err(e @ IngestError::MissingColumn { .. }) => prop_assert!(!e.to_string().is_empty()),
        Err(e) => prop_assert!(false, "unexpected kind of summary error: {:?}", e),
    }
    Ok(())
}
