//! What each consumer of an output gets: the formats read back by their real readers
//! (Prometheus, node_exporter, a browser, a Markdown renderer, a terminal, a spreadsheet),
//! privacy, the command line and its exit codes.
//!
//! One test binary per area (see tests/README.md); a module per subject.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod exit_codes;
mod formats;
mod hostile_outputs;
mod html;
mod privacy;
mod prometheus;
mod snapshots;
mod terminal;
