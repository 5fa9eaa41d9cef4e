//! The tokenizer and line parsers on any bytes; the checks are in
//! aggmetrics::fuzzing::lines (shared with tests/inputs/fuzz_regressions.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| aggmetrics::fuzzing::lines(data));
