//! Any bytes as a summary file: the reader never panics; a result has only
//! finite values in their documented ranges, an error names its line.
#![no_main]

use clv_core::features::parse_summary;
use clv_core::ingest::IngestError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| match parse_summary(data) {
    Ok(s) => {
        for r in &s.rows {
            for v in [r.frequency, r.recency, r.t, r.monetary_value, r.weight] {
                assert!(v.is_finite() && v >= 0.0, "{r:?}");
            }
        }
    }
    Err(IngestError::Csv { line, message }) => assert!(line >= 1, "no line number: {message}"),
    Err(_) => {}
});
