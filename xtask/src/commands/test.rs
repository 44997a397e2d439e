//! `cargo xtask test`: the one command that runs every check and test, locally and in CI.

use anyhow::Context;
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

/// Installs missing prerequisites, then runs the formatting check, clippy and the workspace
/// tests in the foreground while the image suite (real Docker engine and registry) runs beside
/// them in a process of its own. Every check runs even when one before it failed; the command
/// fails, naming them, if any did.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut phases = Phases::new()?;
    let build = timings::xtask_build()?;
    eprintln!("{}", build.line());
    phases.push_first(build);
    let timings = args.timings;
    // nextest runs each test in its own process, which keeps the doubles' servers and child
    // processes of one test from leaking into another; plain `cargo test` is the fallback,
    // where the few tests that change their process isolate themselves.
    let nextest = cmd::available("cargo-nextest");
    let result = phases_run(args, nextest, &mut phases);
    if timings {
        eprintln!("\n{}", phases.table()?);
        // Test durations come from nextest's report; plain `cargo test` writes none, and an
        // earlier run's report would list other tests' times.
        if !nextest {
            eprintln!("no test durations: cargo test (nextest is not installed) reports none");
            return result;
        }
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

/// Threads (under nextest: processes) the workspace tests run on. Most tests wait on a CLI, a
/// double's server or a timeout rather than compute: on the 2-core machine the stories' binary
/// took 224 s on 2 threads and 108 s on 8 (`cargo test -p doubles --test it -- --test-threads N`).
fn test_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (4 * cores).clamp(8, 32)
}

/// The checks that failed, by phase name, for the closing error.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    /// Keeps going after a failed check, so that one run reports every failure.
    fn record(&mut self, phase: &str, result: anyhow::Result<()>) {
        if let Err(error) = result {
            eprintln!("{phase} failed: {error:#}");
            self.0.push(phase.to_owned());
        }
    }

    fn into_result(self) -> anyhow::Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("failed: {}", self.0.join(", "))
        }
    }
}

/// The phases of [`run`], each timed into `phases`.
fn phases_run(args: Args, nextest: bool, phases: &mut Phases) -> anyhow::Result<()> {
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
    let mut failures = Failures::default();
    if !args.no_lint {
        let fmt = phases.time("fmt", || {
            cmd::run(&root, "cargo", ["fmt", "--all", "--", "--check"])
        });
        failures.record("fmt", fmt);
    }
    // The image suite runs beside the other checks. Its first stage (the release build, with
    // debootstrap and the downloads) is the run's critical path and the rest of it mostly
    // waits on the engine, so the foreground's cargo runs at a lower priority: the release
    // build gets the cores first, and its waiting stages then overlap the tests instead of
    // running alone at the end.
    let suite = if !args.no_images && args.filter.is_empty() {
        Some(ImageSuite::start(&target_dir()?)?)
    } else {
        None
    };
    let cargo = Foreground {
        root: &root,
        yield_to_suite: suite.is_some(),
    };
    if !args.no_lint {
        let clippy = phases.time("clippy", || {
            cargo.run(
                ["clippy", "--workspace", "--all-targets"]
                    .iter()
                    .chain(cargo_timings)
                    .chain(&["--", "-D", "warnings"]),
            )
        });
        failures.record("clippy", clippy);
    }
    let threads = test_threads().to_string();
    // `--tests` leaves the benchmarks (examples) unlinked: clippy has checked them, and no test
    // runs them.
    let mut test_args: Vec<&str> = if nextest {
        vec!["nextest", "run", "--workspace", "--no-fail-fast"]
    } else {
        vec!["test", "--workspace", "--tests", "--no-fail-fast"]
    };
    test_args.extend(cargo_timings);
    if nextest {
        test_args.extend(["--test-threads", &threads]);
    } else {
        test_args.extend(["--", "--test-threads", &threads]);
    }
    let whole_suite = args.filter.is_empty();
    test_args.extend(args.filter.iter().map(String::as_str));
    // Neither nextest nor `cargo test --tests` runs doctests (the documented call sequences
    // must keep compiling).
    if whole_suite {
        let doctests = phases.time("doctests", || cargo.run(["test", "--workspace", "--doc"]));
        failures.record("doctests", doctests);
    }
    let tests = phases.time("tests", || cargo.run(&test_args));
    failures.record("tests", tests);
    if let Some(suite) = suite {
        failures.record("image suite", suite.finish(phases));
    }
    failures.into_result()
}

/// Runs cargo in the foreground, at a lower priority while the image suite runs beside it.
struct Foreground<'a> {
    root: &'a std::path::Path,
    yield_to_suite: bool,
}

impl Foreground<'_> {
    /// `cargo ARGS`, under `nice -n 10` when the image suite runs beside it.
    fn run<I, S>(&self, args: I) -> anyhow::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        if self.yield_to_suite {
            let args = ["-n", "10", "cargo"]
                .map(std::ffi::OsString::from)
                .into_iter()
                .chain(args.into_iter().map(|a| a.as_ref().to_os_string()));
            cmd::run(self.root, "nice", args)
        } else {
            cmd::run(self.root, "cargo", args)
        }
    }
}

/// `cargo xtask test-images --e2e` running beside the other checks, its output in a log file
/// (printed when it ends) so that it does not interleave with the tests' output.
struct ImageSuite {
    child: std::process::Child,
    log: std::path::PathBuf,
    stages: std::path::PathBuf,
    started: timings::Mark,
}

impl ImageSuite {
    fn start(target: &std::path::Path) -> anyhow::Result<Self> {
        let dir = target.join("xtask");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let log = dir.join("image-suite.log");
        let stages = dir.join("image-suite-stages.json");
        // A stale stage file must not pass for this run's.
        let _ = std::fs::remove_file(&stages);
        let output = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let xtask = std::env::current_exe().context("cannot find the running xtask")?;
        let started = timings::Mark::now()?;
        let child = std::process::Command::new(xtask)
            .args(["test-images", "--e2e", "--timings-json"])
            .arg(&stages)
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .context("cannot start the image suite")?;
        eprintln!(
            "image suite: running beside clippy and the tests (pid {}); its log: {}",
            child.id(),
            log.display()
        );
        Ok(Self {
            child,
            log,
            stages,
            started,
        })
    }

    /// Waits for the suite, prints its log (its last lines when it passed), and adds its row,
    /// and its stages' rows, to `phases`.
    fn finish(mut self, phases: &mut Phases) -> anyhow::Result<()> {
        eprintln!("image suite: waiting for it to finish");
        let status = self.child.wait().context("waiting for the image suite")?;
        let mut row = timings::Row::since("image suite", self.started)?;
        row.beside = true;
        let stages: Vec<timings::Row> = std::fs::read(&self.stages)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default();
        if !stages.is_empty() {
            row.wall = stages.iter().map(|s| s.wall).sum();
            row.cpu = stages.iter().map(|s| s.cpu).sum();
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let shown = if status.success() { 20 } else { 200 };
        eprintln!(
            "--- image suite: the last {} of {} lines of {}",
            shown.min(lines.len()),
            lines.len(),
            self.log.display()
        );
        for line in &lines[lines.len().saturating_sub(shown)..] {
            eprintln!("{line}");
        }
        eprintln!("--- image suite: {status}");
        phases.push(row);
        phases.push_detail(stages);
        if !status.success() {
            anyhow::bail!(
                "the image suite failed ({status}); its log: {}",
                self.log.display()
            );
        }
        Ok(())
    }
}
