//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! `main` only parses flags and dispatches; each command is its own module.

mod commands;
mod engine;
mod images;
mod registry;
mod scenarios;
mod supply_chain;
#[cfg(test)]
mod tidy;
mod timings;
mod util;

use clap::{Parser, Subcommand};

use commands::{
    bench_images, bench_placeholder, bootstrap_base, build_images, bump_versions, lock_artifacts,
    plan, publish, test, test_images, verify_image,
};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
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
    /// Build the claude/codex x alpine/ubuntu images and the slim `entrypoint` image (skipping
    /// unchanged ones), then test them.
    BuildImages(build_images::Args),
    /// Test the local images in containers and print their sizes; `--e2e` runs the whole
    /// daemon-backed suite (build, test, no-op rebuild, publish to a local registry).
    TestImages(test_images::Args),
    /// Benchmark the images: sizes against the budget, cold/warm/no-op build times.
    BenchImages(bench_images::Args),
    /// Time from a webhook job's start to its placeholder note, with the acknowledgement job in
    /// the slim image and in the Claude image, cold and warm image cache (docs/modes.md).
    BenchPlaceholder(bench_placeholder::Args),
    /// Tag and push the local images (claude, codex, the slim entrypoint) to CI_REGISTRY_IMAGE
    /// and check the pushed digests; with a signing key and/or --keyless, sign them and attach
    /// their SBOM and provenance.
    Publish(publish::Args),
    /// Check a published image's signature, SBOM and provenance against a public key or a
    /// keyless identity (Fulcio certificate).
    VerifyImage(verify_image::Args),
    /// Print the image variant table: Dockerfile, build args, tags and size budget.
    Plan(plan::Args),
    /// Record the registry's integrity of every artifact pinned in images/images.toml.
    LockArtifacts(lock_artifacts::Args),
    /// Find newer Claude Code, Codex and Node releases on the npm registry; `--apply` writes
    /// images/images.toml and images/images.lock (the tests read their CLI pins from there too).
    BumpVersions(bump_versions::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Test(args) => test::run(args),
        Command::BootstrapBase(args) => bootstrap_base::run(args),
        Command::BuildImages(args) => build_images::run(args),
        Command::TestImages(args) => test_images::run(args),
        Command::BenchImages(args) => bench_images::run(args),
        Command::BenchPlaceholder(args) => bench_placeholder::run(args),
        Command::Publish(args) => publish::run(args),
        Command::VerifyImage(args) => verify_image::run(args),
        Command::Plan(args) => plan::run(args),
        Command::LockArtifacts(args) => lock_artifacts::run(args),
        Command::BumpVersions(args) => bump_versions::run(args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn help_names_the_command_people_type() {
        let mut cli = Cli::command();
        cli.build();
        let usage = cli.render_usage().to_string();
        assert!(usage.contains("Usage: cargo xtask <COMMAND>"), "{usage}");
        let help = cli
            .find_subcommand_mut("build-images")
            .unwrap()
            .render_usage()
            .to_string();
        assert!(help.contains("cargo xtask build-images"), "{help}");
    }
}
