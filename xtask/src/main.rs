//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! `main` only parses flags and dispatches; each command is its own module.

mod artifacts;
mod bootstrap_base;
mod cache;
mod cmd;
mod context;
mod engine;
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
mod test;
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
    /// Run every check and test: formatting, clippy, unit, integration and end-to-end tests.
    /// Installs what a fresh Debian machine lacks when run as root.
    Test(test::Args),
    /// Make the local Debian base image (debootstrap + import) that stands in for ubuntu:24.04.
    BootstrapBase(bootstrap_base::Args),
    /// Print the image variant table: Dockerfile, build args, tags and size budget.
    Plan(plan::Args),
    /// Record the registry's integrity of every artifact pinned in images/images.toml.
    LockArtifacts(lock_artifacts::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Test(args) => test::run(args),
        Command::BootstrapBase(args) => bootstrap_base::run(args),
        Command::Plan(args) => plan::run(args),
        Command::LockArtifacts(args) => lock_artifacts::run(args),
    }
}
