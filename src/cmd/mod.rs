//! One module per subcommand, each a thin `run()` (compare, merge, risk,
//! shadow, stats, summarize), and what they share: `options` (checked before reading),
//! `window` (time arguments), `diagnostics` (reading logs, warnings),
//! `loading` (gates files, baselines, reports, states), `checks`
//! (`--fail-on`, `--strict`) and `output` (locks, atomic writes, rendering).

pub mod compare;
pub mod docs;
pub mod merge;
pub mod risk;
pub mod serve;
pub mod shadow;
pub mod stats;
pub mod summarize;
pub mod window;

pub mod checks;
pub mod diagnostics;
pub mod loading;
pub mod options;
pub mod output;
pub mod outputs;

pub use checks::{check_fail_on, fail_on, strict_fails, Checks};
pub use diagnostics::{read_logs, read_logs_with, warn_read};
pub use loading::{read_capped, read_doc, read_setting};
pub use options::{check_percentiles, read_threads, thresholds};
pub use output::{check_format, check_output_dir, write_stdout, OutputLock};
pub use outputs::emit;
pub use outputs::Outputs;

pub use crate::exit;
