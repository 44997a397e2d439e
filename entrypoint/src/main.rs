//! `entrypoint`: clap parsing and dispatch only; each command lives in its own module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use entrypoint::mention;

/// The @claude / @codex GitLab integration.
#[derive(Debug, Parser)]
#[command(name = "entrypoint", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print which assistants a note summons and what it asks them, as one JSON line.
    Mentions(mention::command::MentionsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Mentions(args) => mention::command::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            // Bad flags or variables are usage errors, like clap's own (status 2).
            if error.is::<mention::command::HandleError>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
