//! Parse the command line, dispatch, and map errors to exit codes.

use std::process::ExitCode;

use aggmetrics::cli::{Cli, Command};
use aggmetrics::cmd::{self, exit, LockedError, OutputError};
use aggmetrics::error::Error;
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Summarize(a) => cmd::summarize::run(a),
        Command::Risk(a) => cmd::risk::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Merge(a) => cmd::merge::run(a),
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
            eprintln!("aggmetrics: error: {e:#}");
            let code = if e.downcast_ref::<LockedError>().is_some() {
                exit::LOCKED
            } else if e.downcast_ref::<OutputError>().is_some() {
                exit::OUTPUT
            } else {
                match e.downcast_ref::<Error>() {
                    Some(Error::Usage(_) | Error::StdinNeedsKind | Error::UnknownKind(_)) => {
                        exit::USAGE
                    }
                    Some(Error::NotFound(_) | Error::Io { .. } | Error::BadInput { .. }) => {
                        exit::NO_INPUT
                    }
                    None => exit::NO_INPUT,
                }
            };
            ExitCode::from(code as u8)
        }
    }
}
