//! Reading any input safely: paths, rotation, live and damaged files, hostile input, shared
//! folders, crashes, the memory budget, and state files.
//!
//! One test binary per area (see tests/README.md); a module per subject.

#[path = "../common/mod.rs"]
mod common;

mod crash;
mod damaged;
mod fuzz_regressions;
mod hostile;
mod live_files;
mod memory;
mod read_paths;
mod rotated;
mod serve;
mod shared_folders;
mod state;
mod state_bounds;
