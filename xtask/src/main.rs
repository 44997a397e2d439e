//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! `main` only parses flags and dispatches; each command is its own module.

mod artifacts;
mod cache;
mod cmd;
mod context;
mod image_args;
mod integrity;
mod lock_artifacts;
mod lockfile;
mod manifest;
mod npm_registry;
mod payload;
mod plan;
mod prerequisites;
mod revision;
mod variants;

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
    /// Print the image variant table: Dockerfile, build args, tags and size budget.
    Plan(plan::Args),
    /// Record the registry's integrity of every artifact pinned in images/images.toml.
    LockArtifacts(lock_artifacts::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Plan(args) => plan::run(args),
        Command::LockArtifacts(args) => lock_artifacts::run(args),
    }
}
