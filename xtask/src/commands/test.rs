//! `cargo xtask test`: the one command that runs every check and test, locally and in CI.

use clap::Parser;

use crate::timings::{self, Phases};
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
    /// Print a table of wall and CPU seconds per phase at the end (the image suite per stage),
    /// and have cargo write its per-crate compile timings to target/cargo-timings/.
    #[arg(long)]
    timings: bool,
    /// Extra arguments for the test runner, e.g. a test name filter.
    #[arg(last = true)]
    filter: Vec<String>,
}

/// Installs missing prerequisites, then runs formatting and lint checks, the image suite (real
/// Docker engine and registry) and the whole workspace test suite.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut phases = Phases::default();
    let build = timings::xtask_build()?;
    eprintln!("{}", build.line());
    phases.push_first(build);
    let timings = args.timings;
    let result = phases_run(args, &mut phases);
    if timings {
        eprintln!("\n{}", phases.table());
        let junit = target_dir()?.join("nextest/default/junit.xml");
        match std::fs::read_to_string(&junit) {
            Ok(xml) => {
                eprintln!("slowest tests (wall s, {}):", junit.display());
                for (seconds, test) in timings::slowest_tests(&xml, 15) {
                    eprintln!("{seconds:>8.1}  {test}");
                }
            }
            Err(err) => eprintln!("no test durations: cannot read {}: {err}", junit.display()),
        }
    }
    result
}

/// Where cargo builds: `CARGO_TARGET_DIR`, else the workspace's `target/`.
fn target_dir() -> anyhow::Result<std::path::PathBuf> {
    Ok(match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => dir.into(),
        None => cmd::workspace_root()?.join("target"),
    })
}

/// The phases of [`run`], each timed into `phases`.
fn phases_run(args: Args, phases: &mut Phases) -> anyhow::Result<()> {
    let root = cmd::workspace_root()?;
    // `--timings` for the cargo commands that compile: their HTML reports show which crates
    // the time went to.
    let cargo_timings: &[&str] = if args.timings { &["--timings"] } else { &[] };
    phases.time("prerequisites", || {
        let backend = prerequisites::git_http_backend()?;
        eprintln!("git http-backend: {}", backend.display());
        prerequisites::npm()?;
        prerequisites::sandbox_tools()?;
        prerequisites::python_gitlab()
    })?;
    if !args.no_lint {
        phases.time("fmt", || {
            cmd::run(&root, "cargo", ["fmt", "--all", "--", "--check"])
        })?;
        phases.time("clippy", || {
            cmd::run(
                &root,
                "cargo",
                ["clippy", "--workspace", "--all-targets"]
                    .iter()
                    .chain(cargo_timings)
                    .chain(&["--", "-D", "warnings"]),
            )
        })?;
    }
    // The image suite prints its own `N passed, N failed` line; it runs before the workspace
    // suite so that the runner's summary of every test is the last thing printed.
    if !args.no_images && args.filter.is_empty() {
        let stages = phases.time("image suite", crate::scenarios::e2e::run_timed)?;
        phases.push_detail(stages);
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
    test_args.extend(cargo_timings.iter().map(|a| a.to_string()));
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
        phases.time("doctests", || {
            cmd::run(&root, "cargo", ["test", "--workspace", "--doc"])
        })?;
    }
    phases.time("tests", || cmd::run(&root, "cargo", &test_args))
}
