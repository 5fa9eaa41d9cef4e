//! aggmetrics: turn the LLM platform's structured JSONL logs into latency
//! percentiles, fallback and error rates, and rollout verdicts.
//!
//! Data flows through the modules in this order: `input` (paths -> sources),
//! `read` (sources -> newline-aligned blocks), `parse` (line -> record),
//! `agg` (records -> mergeable accumulators), `report` (accumulators -> a
//! plain serde model), `render` (model -> table, JSON, ...).

pub mod agg;
pub mod budget;
pub mod check;
pub mod cli;
pub mod cmd;
pub mod error;
pub mod escape;
pub mod exit;
#[doc(hidden)]
pub mod fuzzing;
pub mod input;
pub mod kinds;
pub mod measure;
pub mod parse;
pub mod read;
pub mod render;
pub mod report;
pub mod state;
pub mod stats;
