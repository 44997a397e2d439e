//! `cargo xtask test`: the one command that runs every check and test, locally and in CI.

use clap::Parser;

use crate::util::cmd;
use crate::util::prerequisites;

/// Flags of `cargo xtask test`.
#[derive(Debug, Parser)]
pub struct Args {
    /// Skip `cargo fmt --check` and clippy (for a quick local loop).
    #[arg(long)]
    no_lint: bool,
    /// Skip the image suite (build, test and publish the ubuntu-family images on a real Docker
    /// engine and registry), which needs root or a running engine.
    #[arg(long)]
    no_images: bool,
    /// Extra arguments for the test runner, e.g. a test name filter.
    #[arg(last = true)]
    filter: Vec<String>,
}

/// Installs missing prerequisites, then runs formatting and lint checks, the image suite (real
/// Docker engine and registry) and the whole workspace test suite.
pub fn run(args: Args) -> anyhow::Result<()> {
    let root = cmd::workspace_root()?;
    let backend = prerequisites::git_http_backend()?;
    eprintln!("git http-backend: {}", backend.display());
    prerequisites::npm()?;
    prerequisites::sandbox_tools()?;
    prerequisites::python_gitlab()?;
    if !args.no_lint {
        cmd::run(&root, "cargo", ["fmt", "--all", "--", "--check"])?;
        cmd::run(
            &root,
            "cargo",
            [
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        )?;
    }
    // The image suite prints its own `N passed, N failed` line; it runs before the workspace
    // suite so that the runner's summary of every test is the last thing printed.
    if !args.no_images && args.filter.is_empty() {
        crate::scenarios::e2e::run()?;
    }
    // nextest runs each test in its own process, which keeps the doubles' servers and child
    // processes of one test from leaking into another; plain `cargo test` is the fallback.
    let mut test_args: Vec<String> = if cmd::available("cargo-nextest") {
        ["nextest", "run", "--workspace", "--no-fail-fast"]
            .map(String::from)
            .to_vec()
    } else {
        ["test", "--workspace", "--no-fail-fast"]
            .map(String::from)
            .to_vec()
    };
    let whole_suite = args.filter.is_empty();
    if !whole_suite {
        if test_args[0] == "test" {
            test_args.push("--".into());
        }
        test_args.extend(args.filter);
    }
    // nextest does not run doctests (the documented call sequences must keep compiling); run
    // them first so the runner's summary of the whole suite is the last thing printed.
    if whole_suite && test_args[0] == "nextest" {
        cmd::run(&root, "cargo", ["test", "--workspace", "--doc"])?;
    }
    cmd::run(&root, "cargo", &test_args)
}
