//! Any text as a date cell and as an amount cell: the parsers never panic,
//! and what they read is a real time (years 0000–9999) or a finite number.
#![no_main]

use clv_core::ingest::amount::{parse_amount, plain_number, DecimalSeparator};
use clv_core::ingest::dates::{iso_day, parse_date, placeholder, Cell};
use clv_core::ingest::DateOrder;
use clv_core::time::{days_from_civil, format_ts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let day = 86_400;
    let range = days_from_civil(0, 1, 1).unwrap() * day - day..=days_from_civil(9999, 12, 31).unwrap() * day + 2 * day;
    match parse_date(raw) {
        Ok(Cell::Exact(ts, _)) => {
            assert!(range.contains(&ts), "{raw:?} → {ts}");
            let _ = (format_ts(ts), placeholder(ts));
        }
        Ok(Cell::Slash(d)) => {
            for ts in [DateOrder::DayFirst, DateOrder::MonthFirst].into_iter().filter_map(|o| d.resolve(o)) {
                assert!(range.contains(&ts), "{raw:?} → {ts}");
            }
        }
        Err(e) => assert!(!e.message().is_empty()),
    }
    if let Some(fast) = iso_day(raw.as_bytes()) {
        assert_eq!(Ok(fast), parse_date(raw));
    }
    for sep in [DecimalSeparator::Point, DecimalSeparator::Comma] {
        let general = parse_amount(raw, sep);
        if let Ok(v) = general {
            assert!(v.is_finite(), "{raw:?} → {v}");
        }
        if let Some(v) = plain_number(raw.trim().as_bytes(), sep) {
            assert_eq!(general, Ok(v), "fast and general paths disagree on {raw:?}");
        }
    }
});
