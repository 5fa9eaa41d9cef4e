//! Two states read through `merge`; the checks are in
//! aggmetrics::fuzzing::merge (shared with tests/inputs/fuzz_regressions.rs).
//! Run with -malloc_limit_mb so a large allocation is a finding too.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| aggmetrics::fuzzing::merge(data));
