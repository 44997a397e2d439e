//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! `main` only parses flags and dispatches; each command is its own module.

mod build_images;
mod cmd;
mod prerequisites;
mod test;

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
    /// Build, test and publish the claude/codex x alpine/ubuntu images.
    BuildImages(build_images::Args),
    /// Run every check and test: formatting, clippy, unit, integration and end-to-end tests.
    /// Installs what a fresh Debian machine lacks when run as root.
    Test(test::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::BuildImages(args) => build_images::run(args),
        Command::Test(args) => test::run(args),
    }
}
