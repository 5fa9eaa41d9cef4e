//! Judging reports: conditions on key paths (`expr`), the rollout gates
//! and their verdict (`gates`), and report-to-report regressions
//! (`compare`). All of it works on the JSON form of a report, so a report
//! read back from a file is judged exactly like a fresh one. No I/O.

pub mod compare;
pub mod expr;
pub mod gates;
pub mod schema;
