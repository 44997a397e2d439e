//! `cargo xtask test --timings`: a table of wall and CPU seconds per phase of the test command,
//! so that figures about where its time goes can be reproduced, also on a shared machine.
//!
//! Wall time alone says little on a loaded machine, so each row also has:
//! - **CPU s**: user+system seconds of this process and of the children it waited for (cargo,
//!   rustc, nextest and the tests), read from `/proc/self/stat`. Work done by the Docker engine
//!   and its containers is not ours in this sense and is left out;
//! - **machine CPU s**: busy seconds of every core over the phase (`/proc/stat`), which includes
//!   the engine's work and everyone else's: the difference to our CPU is what the phase did not
//!   cause itself, or what the engine did for it;
//! - **load**: the 1-minute load average when the phase ended (`/proc/loadavg`).
//!
//! A machine's cores can be shared, so compare CPU seconds between runs, wall seconds only
//! between runs at similar load.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context;

/// One reading of the clocks a phase is measured with.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    at: Instant,
    /// Our own and our waited-for children's user+system seconds.
    cpu: f64,
    /// Busy seconds of all cores of the machine.
    machine: f64,
}

impl Mark {
    /// Reads the clocks now.
    pub fn now() -> anyhow::Result<Self> {
        Ok(Self {
            at: Instant::now(),
            cpu: own_cpu_seconds()?,
            machine: machine_busy_seconds()?,
        })
    }
}

/// One row of the table.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// What the phase did, e.g. `clippy` or `  e2e: images built`.
    pub name: String,
    pub wall: Duration,
    pub cpu: f64,
    /// `None` where it cannot be known (the build of xtask, before this process started).
    pub machine: Option<f64>,
    pub load: f64,
    /// It ran beside the rows after it (the image suite beside clippy and the tests), so its
    /// wall seconds overlap theirs; the table says so in its name.
    #[serde(default)]
    pub beside: bool,
}

impl Row {
    /// The name shown in the table: a row that ran beside others says so.
    fn label(&self) -> String {
        if self.beside {
            format!("{} (beside the next rows)", self.name)
        } else {
            self.name.clone()
        }
    }

    /// The row as one log line.
    pub fn line(&self) -> String {
        let machine = self.machine.map_or("n/a".to_owned(), |m| format!("{m:.1}"));
        format!(
            "timings: {}: {:.1} s wall, {:.1} s CPU, {machine} s machine CPU, load {:.2}",
            self.name.trim(),
            self.wall.as_secs_f64(),
            self.cpu,
            self.load
        )
    }

    /// The row from `start` to now.
    pub fn since(name: impl Into<String>, start: Mark) -> anyhow::Result<Self> {
        let end = Mark::now()?;
        Ok(Self {
            name: name.into(),
            wall: end.at - start.at,
            cpu: end.cpu - start.cpu,
            machine: Some(end.machine - start.machine),
            load: load_average()?,
            beside: false,
        })
    }
}

/// The phases measured so far, in order.
#[derive(Debug)]
pub struct Phases {
    rows: Vec<Row>,
    /// When the first phase started: the total is measured from here, not added up, because
    /// some phases run side by side.
    start: Mark,
}

impl Phases {
    /// No phases yet; the clocks of the total start now.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            rows: Vec::new(),
            start: Mark::now()?,
        })
    }

    /// Adds a row measured by the caller (a phase that ran beside others).
    pub fn push(&mut self, row: Row) {
        eprintln!("{}", row.line());
        self.rows.push(row);
    }
    /// Runs `phase` and records its row.
    pub fn time<T>(
        &mut self,
        name: &str,
        phase: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let start = Mark::now()?;
        let out = phase();
        let row = Row::since(name, start)?;
        // At once too, so a run stopped early still tells where its time went.
        eprintln!("{}", row.line());
        self.rows.push(row);
        out
    }

    /// Adds rows measured elsewhere (the image suite's stages), indented under the last row.
    pub fn push_detail(&mut self, rows: Vec<Row>) {
        self.rows.extend(rows.into_iter().map(|mut r| {
            r.name = format!("  {}", r.name);
            r
        }));
    }

    /// Adds a row measured before the phases started (the build of xtask itself).
    pub fn push_first(&mut self, row: Row) {
        self.rows.insert(0, row);
    }

    /// The table, with a total from the first phase's start until now, plus the rows measured
    /// before it (the build of xtask).
    pub fn table(&self) -> anyhow::Result<String> {
        let width = self
            .rows
            .iter()
            .map(|r| r.label().chars().count())
            .max()
            .unwrap_or(0)
            .max("total".len());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:width$}  {:>8}  {:>8}  {:>11}  {:>5}",
            "phase", "wall s", "CPU s", "machine CPU", "load"
        );
        for r in &self.rows {
            let machine = r.machine.map_or("n/a".to_owned(), |m| format!("{m:.1}"));
            let _ = writeln!(
                out,
                "{:width$}  {:>8.1}  {:>8.1}  {machine:>11}  {:>5.2}",
                r.label(),
                r.wall.as_secs_f64(),
                r.cpu,
                r.load
            );
        }
        let since = Row::since("total", self.start)?;
        let before = self
            .rows
            .iter()
            .filter(|r| r.machine.is_none() && !r.name.starts_with(' '));
        let (wall, cpu) = before.fold((since.wall.as_secs_f64(), since.cpu), |(w, c), r| {
            (w + r.wall.as_secs_f64(), c + r.cpu)
        });
        let machine = since.machine.unwrap_or(0.0);
        let _ = writeln!(
            out,
            "{:width$}  {wall:>8.1}  {cpu:>8.1}  {machine:>11.1}",
            "total"
        );
        Ok(out)
    }
}

/// The `limit` longest test cases of nextest's JUnit report (.config/nextest.toml), longest
/// first, as (seconds, `binary test-name`). nextest writes each case on one `<testcase …>` tag
/// with `name`, `classname` (the binary) and `time` attributes.
pub fn slowest_tests(junit: &str, limit: usize) -> Vec<(f64, String)> {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = tag[start..].find('"')?;
        Some(tag[start..start + len].to_owned())
    };
    let mut cases: Vec<(f64, String)> = junit
        .split("<testcase ")
        .skip(1)
        .filter_map(|rest| {
            // The space the split took, so that every attribute is found by ` name="`.
            let tag = format!(" {}", &rest[..rest.find('>')?]);
            let seconds = attribute(&tag, "time")?.parse().ok()?;
            let binary = attribute(&tag, "classname").unwrap_or_default();
            Some((seconds, format!("{binary} {}", attribute(&tag, "name")?)))
        })
        .collect();
    cases.sort_by(|a, b| b.0.total_cmp(&a.0));
    cases.truncate(limit);
    cases
}

/// The build of xtask that `cargo xtask` (an alias of `cargo run`) did before `main` started.
/// `cargo run` execs the program in its own process, so the time since this process started and
/// the CPU it has used so far (its own and that of the compilers it waited for) are the build's.
/// Started some other way, the row shows next to nothing.
pub fn xtask_build() -> anyhow::Result<Row> {
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    let own = stat_fields("/proc/self/stat")?;
    // Field 22 (index 19 here) is the start time in ticks since boot.
    let started = own.get(19).copied().unwrap_or(0) as f64 / ticks;
    let uptime = std::fs::read_to_string("/proc/uptime").context("cannot read /proc/uptime")?;
    let now: f64 = uptime
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .context("/proc/uptime does not start with a number")?;
    Ok(Row {
        name: "build xtask (cargo xtask)".into(),
        wall: Duration::from_secs_f64((now - started).max(0.0)),
        cpu: own_cpu_seconds()?,
        machine: None,
        load: load_average()?,
        beside: false,
    })
}

/// The numeric fields of a `/proc/PID/stat` line after the command name (field 3 onwards, so
/// index 0 is field 3); the command is skipped by its closing parenthesis, as it may hold spaces.
fn stat_fields(path: &str) -> anyhow::Result<Vec<u64>> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .with_context(|| format!("{path} has no command field: {stat}"))?;
    // Field 3 is the state letter; it parses as 0, which keeps the indices aligned.
    Ok(after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect())
}

/// utime, stime, cutime and cstime (fields 14 to 17) of this process, in seconds.
fn own_cpu_seconds() -> anyhow::Result<f64> {
    let fields = stat_fields("/proc/self/stat")?;
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    Ok(fields.iter().skip(11).take(4).sum::<u64>() as f64 / ticks)
}

/// Busy seconds of all cores since boot: every column of the `cpu` line of `/proc/stat` but
/// idle and iowait (guest time is already counted in user).
fn machine_busy_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .context("/proc/stat has no `cpu` line")?;
    let columns: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|c| c.parse().unwrap_or(0))
        .collect();
    let busy: u64 = columns
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    Ok(busy as f64 / rustix::param::clock_ticks_per_second() as f64)
}

fn load_average() -> anyhow::Result<f64> {
    let loadavg = std::fs::read_to_string("/proc/loadavg").context("cannot read /proc/loadavg")?;
    loadavg
        .split_whitespace()
        .next()
        .and_then(|l| l.parse().ok())
        .context("/proc/loadavg does not start with a number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_that_burns_cpu_shows_it_in_the_table() {
        let mut phases = Phases::new().unwrap();
        phases
            .time("spin", || {
                // Spin for CPU time rather than wall time: on a loaded machine 300 ms of wall
                // may be a few ticks of CPU.
                let before = own_cpu_seconds()?;
                let mut x = 0u64;
                while own_cpu_seconds()? - before < 0.2 {
                    for _ in 0..100_000 {
                        x = std::hint::black_box(x.wrapping_add(1));
                    }
                }
                Ok(())
            })
            .unwrap();
        let row = &phases.rows[0];
        assert!(row.cpu >= 0.2, "{row:?}");
        // The process cannot use more CPU than wall time on every core (give or take a 10 ms
        // tick); under `cargo test` other tests' threads in this process count too, so one
        // core's worth would be wrong.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        assert!(row.wall.as_secs_f64() * cores + 0.02 >= row.cpu, "{row:?}");
        assert!(row.machine.unwrap() >= row.cpu * 0.9, "{row:?}");
        let table = phases.table().unwrap();
        assert!(table.starts_with("phase"), "{table}");
        assert!(table.lines().any(|l| l.starts_with("spin ")), "{table}");
        assert!(
            table.lines().last().unwrap().starts_with("total"),
            "{table}"
        );

        // A phase that ran beside the others is labelled so, and the total is measured, not
        // added up.
        phases.push(Row {
            name: "suite".into(),
            wall: Duration::from_secs(1000),
            cpu: 1.0,
            machine: Some(1.0),
            load: 0.0,
            beside: true,
        });
        let table = phases.table().unwrap();
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("suite (beside the next rows) ")),
            "{table}"
        );
        let total: f64 = table
            .lines()
            .last()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert!(total < 1000.0, "{table}");
    }

    #[test]
    fn the_slowest_tests_come_from_the_junit_report_longest_first() {
        let junit = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="3" failures="0" errors="0" time="9.5">
    <testsuite name="doubles::it" tests="3" disabled="0" errors="0" failures="0">
        <testcase name="quota_queue::a_queued_job_runs_later" classname="doubles::it" timestamp="2026-12-07T12:00:00Z" time="7.25">
        </testcase>
        <testcase name="double_rest::fast" classname="doubles::it" timestamp="2026-12-07T12:00:00Z" time="0.01">
        </testcase>
        <testcase name="run_mentions::issue_mention_opens_linked_mr" classname="doubles::it" time="2.5"/>
    </testsuite>
</testsuites>"#;
        assert_eq!(
            slowest_tests(junit, 2),
            [
                (
                    7.25,
                    "doubles::it quota_queue::a_queued_job_runs_later".to_owned()
                ),
                (
                    2.5,
                    "doubles::it run_mentions::issue_mention_opens_linked_mr".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn children_cpu_is_counted_once_they_are_waited_for() {
        let start = Mark::now().unwrap();
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(status.success());
        let row = Row::since("child", start).unwrap();
        assert!(row.cpu > 0.05, "{row:?}");
    }
}
