//! Whether the figures are right: against the platform scripts, NumPy-style references and
//! our own exact mode; windows, gates, verdicts, comparisons, merges and user kinds.
//!
//! One test binary per area (see tests/README.md); a module per subject.

#[path = "../common/mod.rs"]
mod common;

mod arrays;
mod compare;
mod conditions;
mod distinct;
mod dotted_keys;
mod empty;
mod exact;
mod fortnight;
mod gates;
mod gates_bounds;
mod hdr_precision;
mod heavy_groups;
mod independent;
mod merge;
mod odd_values;
mod other_times;
mod parser_differential;
mod risk;
mod shadow;
mod stats;
mod user_kinds;
mod where_filter;
mod window;
