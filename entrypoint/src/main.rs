//! `entrypoint`: clap parsing and dispatch only; each command lives in its own module.

use clap::{Parser, Subcommand};

/// The @claude / @codex GitLab integration.
#[derive(Debug, Parser)]
#[command(name = "entrypoint", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {}
}
