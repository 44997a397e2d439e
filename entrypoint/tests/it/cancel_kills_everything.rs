//! A cancelled job: GitLab Runner sends `SIGTERM` to the job's processes and `SIGKILL` at the
//! end of the grace period. On `SIGTERM` the run must end at once, with the CLI and everything
//! it started gone, even a grandchild that left the CLI's process group and session (which a
//! process-group kill misses: the Claude CLI's tools kept running minutes after one). The
//! placeholder is then left for `entrypoint finalize`, which says "cancelled".
//!
//! The test sends `SIGTERM` to its own process, so it runs in a process of its own
//! ([`in_own_process`]).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::own_process::in_own_process;

use entrypoint::agent::Assistant;
use entrypoint::agent::run::{RunError, RunSpec, run};
use entrypoint::proxy::ModelApi;
use entrypoint::sandbox::{Capabilities, Plan, ProbeProgram, SandboxUid, Settings};

use crate::shared;

const ENTRYPOINT: &str = env!("CARGO_BIN_EXE_entrypoint");
/// This test's sandbox uid, used by no other test: finishing kills every process of it.
const UID: u32 = 64211;

/// A stand-in for the CLI: a grandchild in a session (and so a process group) of its own, its
/// pid in `escaped.pid`, then a long sleep as the CLI itself.
fn stand_in(dir: &Path) -> PathBuf {
    let path = dir.join("fake-claude");
    std::fs::write(
        &path,
        "#!/bin/sh\n\
         setsid sleep 301 </dev/null >/dev/null 2>&1 &\n\
         echo $! > escaped.pid.tmp && mv escaped.pid.tmp escaped.pid\n\
         exec sleep 302\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The pids of the live (not zombie) processes of `uid`.
fn live_processes_of(uid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
            let owner: u32 = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            let zombie = status
                .lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'));
            (owner == uid && !zombie).then_some(pid)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_kills_the_assistant_and_every_process_it_started() {
    if !in_own_process(
        "cancel_kills_everything::sigterm_kills_the_assistant_and_every_process_it_started",
    ) {
        return;
    }
    let tools = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let owner = std::fs::metadata(work.path()).unwrap().uid();
    let spec = RunSpec {
        prompt: "Work forever.".to_owned(),
        ..shared::spec(
            Assistant::Claude,
            stand_in(tools.path()),
            work.path(),
            (ModelApi::Anthropic, "http://127.0.0.1:9"),
            "sk-ant-cancel-test",
        )
    };
    let plan = Plan {
        settings: Settings::open(SandboxUid::new(UID).unwrap()),
        probe: ProbeProgram(ENTRYPOINT.into()),
        capabilities: Capabilities::current().unwrap(),
    };
    let running = tokio::spawn(async move { run(&spec, &plan, |_| {}).await });

    let pid_file = work.path().join("escaped.pid");
    let waited = Instant::now();
    while !pid_file.exists() {
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "the stand-in never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let escaped: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let before = live_processes_of(UID);
    assert!(before.contains(&escaped), "{before:?} lacks {escaped}");
    assert!(before.len() >= 2, "the CLI and its grandchild: {before:?}");
    let session = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after_name = stat.rsplit_once(')').unwrap().1.to_owned();
        after_name.split_whitespace().nth(3).unwrap().to_owned()
    };
    let others: Vec<u32> = before.iter().copied().filter(|p| *p != escaped).collect();
    assert!(
        others.iter().all(|p| session(*p) != session(escaped)),
        "the grandchild left the CLI's session"
    );

    let cancelled = Instant::now();
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::TERM)
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the run ended within the grace period")
        .unwrap();

    assert!(
        matches!(result, Err(RunError::Cancelled)),
        "{:?}",
        result.map(|r| r.outcome)
    );
    let elapsed = cancelled.elapsed();
    eprintln!("cancelled in {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(live_processes_of(UID), Vec::<u32>::new());
    assert_eq!(std::fs::metadata(work.path()).unwrap().uid(), owner);
    assert_eq!(std::fs::metadata(&pid_file).unwrap().uid(), owner);
}
