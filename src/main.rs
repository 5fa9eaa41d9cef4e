//! Parse the command line, dispatch, and map failures to exit codes: the
//! one place where an error class becomes a code (docs/cli.md).

use std::process::ExitCode;

use aggmetrics::cli::{Cli, Command};
use aggmetrics::cmd::{self, exit};
use aggmetrics::error::Error;
use clap::Parser;

/// Every heap byte counted against `--max-memory` (src/budget.rs).
#[global_allocator]
static ALLOC: aggmetrics::budget::Counting = aggmetrics::budget::Counting;

/// The exit code of a failure, by its class.
fn code_of(e: &anyhow::Error) -> i32 {
    match e.downcast_ref::<Error>() {
        Some(Error::Usage(_) | Error::StdinNeedsKind | Error::UnknownKind(_)) => exit::USAGE,
        Some(Error::NotFound(_) | Error::Io { .. } | Error::BadInput { .. }) => exit::NO_INPUT,
        Some(Error::Output(_)) => exit::OUTPUT,
        Some(Error::Locked(_)) => exit::LOCKED,
        // Every failure the library expects has a class above; anything
        // else is a bug, and must not pass for "input cannot be read".
        None => exit::INTERNAL,
    }
}

fn main() -> ExitCode {
    // A bug must not pass for another outcome: a panic (an abort in
    // release builds, whose code would be 134) exits 70 with its message,
    // as any internal error does.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("aggmetrics: internal error (please report it): {info}");
        std::process::exit(exit::INTERNAL);
    }));
    let mut cli = Cli::parse();
    aggmetrics::budget::set(
        cli.max_memory
            .unwrap_or_else(aggmetrics::budget::machine_default),
    );
    cli.dedupe();
    // A fault for tests/outputs/exit_codes.rs to reach the internal-error code;
    // only in debug builds (the tests'), never in a release.
    #[cfg(debug_assertions)]
    if std::env::var_os("AGGMETRICS_TEST_PANIC").is_some() {
        panic!("a fault injected by AGGMETRICS_TEST_PANIC");
    }
    cmd::output::set_color_choice(cli.color);
    // Thousands of rotated files under a soft limit of 1024: use what the
    // hard limit allows (inputs are read in batches within it either way).
    aggmetrics::read::raise_open_files_limit();
    let result = match &cli.command {
        Command::Summarize(a) => cmd::summarize::run(a),
        Command::Risk(a) => cmd::risk::run(a),
        Command::Shadow(a) => cmd::shadow::run(a),
        Command::Stats(a) => cmd::stats::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Merge(a) => cmd::merge::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Completions(a) => cmd::docs::completions(a),
        Command::Man(a) => cmd::docs::man(a),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            // A closed pipe downstream is not worth a message.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::from(exit::OK as u8);
            }
            let code = code_of(&e);
            if code == exit::INTERNAL {
                eprintln!("aggmetrics: internal error (please report it): {e:#}");
            } else {
                eprintln!(
                    "aggmetrics: error: {}",
                    aggmetrics::escape::message(&format!("{e:#}"))
                );
            }
            ExitCode::from(code as u8)
        }
    }
}
