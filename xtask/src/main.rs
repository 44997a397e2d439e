//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! `main` only parses flags and dispatches; each command is its own module.

mod artifacts;
mod cache;
mod cmd;
mod integrity;
mod lock_artifacts;
mod lockfile;
mod manifest;
mod npm_registry;
mod prerequisites;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, test and publish the @claude/@codex GitLab integration"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record the registry's integrity of every artifact pinned in images/images.toml.
    LockArtifacts(lock_artifacts::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::LockArtifacts(args) => lock_artifacts::run(args),
    }
}
