//! `aggmetrics completions SHELL` and `aggmetrics man [COMMAND]`: shell
//! completion scripts and the manual page, generated from the same clap
//! model as `--help`, so they cannot drift from the flags.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::Error;

pub fn completions(a: &CompletionsArgs) -> anyhow::Result<i32> {
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "aggmetrics", &mut buf);
    super::write_stdout(&buf)?;
    Ok(crate::exit::OK)
}

pub fn man(a: &ManArgs) -> anyhow::Result<i32> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = match &a.command {
        None => cmd,
        Some(name) => {
            let names: Vec<String> = cmd
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let sub = cmd.find_subcommand(name).cloned().ok_or_else(|| {
                Error::Usage(format!(
                    "no subcommand '{name}': use one of {}",
                    names.join(", ")
                ))
            })?;
            // `aggmetrics-summarize(1)`, as man pages of subcommands are named.
            sub.name(format!("aggmetrics-{name}"))
        }
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    super::write_stdout(&buf)?;
    Ok(crate::exit::OK)
}
