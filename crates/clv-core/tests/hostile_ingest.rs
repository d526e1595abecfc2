//! The hostile ingest files of `tests/data/hostile/ingest-*.csv` (made by
//! `make_ingest.py`, described in its README): each gives exactly the
//! documented behaviour.

use clv_core::ingest::{ingest, IngestError, IngestOptions, IngestReport, Ingested, Role};
use std::path::PathBuf;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/hostile").join(name)
}

fn read(name: &str) -> Result<Ingested, IngestError> {
    let bytes = std::fs::read(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    ingest(&bytes[..], &IngestOptions::default(), &mut |_| {})
}

fn ok(name: &str) -> Ingested {
    read(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn count(r: &IngestReport, code: &str) -> u64 {
    r.reasons.iter().find(|s| s.reason == code).map_or(0, |s| s.count)
}

fn warning<'a>(r: &'a IngestReport, start: &str) -> &'a str {
    r.warnings.iter().find(|w| w.starts_with(start)).unwrap_or_else(|| panic!("no {start:?} in {:?}", r.warnings))
}

#[test]
fn an_unclosed_quote_is_refused_with_the_lines_it_covers() {
    let err = read("ingest-unclosed-quote.csv").expect_err("an error");
    match &err {
        IngestError::UnclosedQuote { line, column, last_line } => {
            assert_eq!((*line, column.as_str(), *last_line), (21, "4 (\"note\")", 201))
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().starts_with(
        "a quote (\") opened at line 21, column 4 (\"note\"), is never closed: lines 21–201 (181 lines, to the end of the file) would be read as one field"
    ), "{err}");
}

#[test]
fn one_decimal_comma_among_thousands_is_rejected_and_warned() {
    let out = ok("ingest-decimal-evidence.csv");
    let r = &out.report;
    assert_eq!((r.rows, r.accepted, r.rejected), (488, 487, 1));
    assert_eq!(r.reasons[0].first_lines, vec![100]);
    // Every "d,ddd" cell read as thousands: the total is in the millions.
    let text = std::fs::read_to_string(path("ingest-decimal-evidence.csv")).unwrap();
    let want: f64 = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(';').nth(2)?.replace(',', "").parse::<f64>().ok())
        .filter(|v| *v > 100.0)
        .sum();
    assert_eq!(r.net_revenue, want);
    assert!(r.net_revenue > 1e6);
    assert!(r.formats["decimal_separator"].starts_with("point (1,234.56): 0 of 488 sampled cells decide it (1 read only with a comma, 0 only with a point, 487 either way)"), "{}", r.formats["decimal_separator"]);
    let w =
        warning(r, "decimal separator: only 1 sampled cell(s) such as \"7,5\" read as a decimal comma, against 487");
    assert!(w.ends_with("Set the decimal separator if that is wrong."), "{w}");
}

#[test]
fn invoice_named_columns_do_not_make_refunds() {
    let out = ok("ingest-invoice-columns.csv");
    let r = &out.report;
    assert_eq!((r.accepted, r.refunds, r.net_revenue), (20, 0, 590.0));
    assert_eq!(r.columns[3].role, None);
    assert_eq!(r.columns[4].role, Some(Role::Country));
    assert!(r.columns[4].read_as.ends_with("role found because the header contains \"country\""));
    warning(
        r,
        "roles found from part of a header, check them: country ← \"invoice_country\" (header contains \"country\")",
    );
}

#[test]
fn non_finite_and_huge_amounts_are_rejected() {
    let out = ok("ingest-nonfinite.csv");
    let r = &out.report;
    assert_eq!((r.rows, r.accepted, r.net_revenue), (20, 12, 78.0));
    assert_eq!((count(r, "bad_amount"), count(r, "missing_amount")), (7, 1));
    let huge = r.rejections.iter().find(|x| x.line == 21).unwrap();
    assert_eq!(
        huge.message,
        "column \"amount\": 1e20 is beyond ±1e15, the largest amount accepted (totals must stay finite)"
    );
}

#[test]
fn placeholder_ids_are_missing_customers() {
    let out = ok("ingest-placeholder-ids.csv");
    let r = &out.report;
    assert_eq!((r.accepted, count(r, "missing_user_id"), r.customers), (50, 300, 10));
    let w = warning(r, "300 rows have no real customer id");
    assert!(
        w.contains("(\"\" ×42, \"-\" ×43, \"N/A\" ×43, \"NA\" ×43, \"NULL\" ×43, \"none\" ×43, \"null\" ×43)"),
        "{w}"
    );
}

#[test]
fn placeholder_dates_are_rejected() {
    let out = ok("ingest-placeholder-dates.csv");
    let r = &out.report;
    assert_eq!((r.accepted, count(r, "placeholder_date")), (4, 6));
    assert_eq!(r.first_ts.as_deref(), Some("1970-01-01T12:30:00Z"));
}

#[test]
fn a_stripe_export_reads_customers_and_ignores_refund_amounts_as_flags() {
    let out = ok("ingest-stripe.csv");
    let r = &out.report;
    assert_eq!((r.rows, r.accepted, r.customers, r.refunds), (40, 40, 12, 0));
    let role = |name: &str| r.columns.iter().find(|c| c.name == name).unwrap().role;
    assert_eq!(role("Customer ID"), Some(Role::UserId));
    assert_eq!(role("Created (UTC)"), Some(Role::Timestamp));
    assert_eq!(role("Amount"), Some(Role::Amount));
    assert_eq!((role("Amount Refunded"), role("id"), role("Invoice ID")), (None, None, None));
    warning(r, "column \"Invoice ID\" is not used as invoice: its values (such as \"in_1Ab000\")");
    warning(r, "column \"Amount Refunded\" is not used: refunds recorded only there are not subtracted");
}

#[test]
fn a_shopify_export_uses_the_email_not_the_order_id() {
    let out = ok("ingest-shopify.csv");
    let r = &out.report;
    assert_eq!((r.rows, r.accepted, r.customers, r.refunds), (31, 30, 9, 0));
    let role = |name: &str| r.columns.iter().find(|c| c.name == name).unwrap().role;
    assert_eq!((role("Email"), role("Id")), (Some(Role::UserId), None));
    assert_eq!(
        (role("Total"), role("Created at"), role("Refunded Amount")),
        (Some(Role::Amount), Some(Role::Timestamp), None)
    );
    // The second line item of order #1005 has no order-level columns.
    assert_eq!(r.reasons[0].first_lines, vec![7]);
    warning(r, "column \"Refunded Amount\" is not used");
}

#[test]
fn utf16_and_windows_1252_exports_are_decoded() {
    for (file, encoding) in [
        ("ingest-utf16le-bom.csv", "decoded from UTF-16LE (byte-order mark)"),
        ("ingest-utf16be-bom.csv", "decoded from UTF-16BE (byte-order mark)"),
        ("ingest-utf16le-nobom.csv", "decoded from UTF-16LE (NUL bytes in every other position)"),
        ("ingest-windows1252.csv", "decoded from windows-1252 (not valid UTF-8)"),
    ] {
        let out = ok(file);
        let r = &out.report;
        assert_eq!((r.rows, r.accepted, r.customers), (4, 4, 3), "{file}: {:?}", r.reasons);
        assert_eq!(r.formats["encoding"], encoding, "{file}");
        assert_eq!(r.formats["delimiter"], "';'");
        assert_eq!(r.net_revenue, 12.5 + 7.25 + 3.0 + 1.75, "{file}");
        let ids: Vec<&str> = out.transactions.iter().map(|(id, _)| id).collect();
        let third = if file.contains("1252") { "Renée €" } else { "Renée" };
        assert_eq!(ids, vec!["Müller", "José", third], "{file}");
    }
    assert_eq!(ok("ingest-stripe.csv").report.formats["encoding"], "UTF-8");
}
