//! The one way xtask runs another program: echo it, run it with inherited output, fail with the
//! command line in the error when it fails.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

use crate::util::public_url::line_without_userinfo;

/// Runs `program args…` in `dir`, streaming its output, and fails when it exits non-zero.
pub fn run<I, S>(dir: &Path, program: &str, args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args = owned(args);
    let line = command_line(program, &args);
    eprintln!("$ {}", line_without_userinfo(&line));
    let status = Command::new(program)
        .args(&args)
        .current_dir(dir)
        .status()
        .with_context(|| format!("cannot start `{program}`: is it installed and on PATH?"))?;
    if !status.success() {
        bail!("`{}` failed ({status})", line_without_userinfo(&line));
    }
    Ok(())
}

/// The arguments as owned strings, so they can be both passed and shown.
fn owned<I, S>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    args.into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect()
}

/// `program args…` as one line, for echoing and for errors.
fn command_line(program: &str, args: &[OsString]) -> String {
    std::iter::once(program.to_owned())
        .chain(args.iter().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when `program` can be started (it answers `--version`).
pub fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> anyhow::Result<std::path::PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask's manifest directory has no parent: run it from the workspace")
}

/// Runs `program args…` in `dir` and returns its trimmed standard output; fails with its
/// standard error when it exits non-zero.
pub fn read<I, S>(dir: &Path, program: &str, args: I) -> anyhow::Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args = owned(args);
    let output = Command::new(program)
        .args(&args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot start `{program}`: is it installed and on PATH?"))?;
    if !output.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            command_line(program, &args),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Descriptors below this are closed on exec in background services (see [`detach`]).
const INHERITED_FD_LIMIT: i32 = 1024;

/// Starts `program args…` in the background, detached from this process group, with its output
/// appended to `log`; it keeps running after xtask exits (used for `dockerd`, a service, not a
/// step).
pub fn spawn_background<I, S>(
    program: &str,
    args: I,
    log: &Path,
) -> anyhow::Result<std::process::Child>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open the log file {}", log.display()))?;
    let err = out.try_clone()?;
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err);
    detach(&mut command);
    let child = command
        .spawn()
        .with_context(|| format!("cannot start `{program}`: is it installed and on PATH?"))?;
    eprintln!(
        "started {program} (pid {}), log: {}",
        child.id(),
        log.display()
    );
    Ok(child)
}

/// Makes `command` a service's: its own process group (a Ctrl-C of xtask's terminal is not
/// its), and none of the descriptors this process inherited. A service can outlive this process,
/// so it must not keep them: run under `flock LOCK cargo xtask …`, a dockerd started here held
/// the lock (flock's descriptor) for as long as it ran. Marking them close-on-exec keeps std's
/// own exec-error pipe working. Also given to the test registry (`registry::local_registry`).
pub fn detach(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    // SAFETY: only fcntl(2), which is async-signal-safe, runs between fork and exec; borrowing a
    // descriptor number that is not open makes fcntl fail with EBADF, which is ignored.
    unsafe {
        command.pre_exec(|| {
            for fd in 3..INHERITED_FD_LIMIT {
                let fd = rustix::fd::BorrowedFd::borrow_raw(fd);
                if let Ok(flags) = rustix::io::fcntl_getfd(fd) {
                    let _ = rustix::io::fcntl_setfd(fd, flags | rustix::io::FdFlags::CLOEXEC);
                }
            }
            Ok(())
        });
    }
}

/// True when `program args…` can be started and exits successfully (for tools without
/// `--version`).
pub fn available_at(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bug this guards: a dockerd started under `flock LOCK cargo xtask …` kept the lock.
    #[test]
    fn background_services_do_not_inherit_this_processs_descriptors() {
        let dir = tempfile::tempdir().unwrap();
        let inherited = std::fs::File::create(dir.path().join("lock")).unwrap();
        // Clear close-on-exec, as a descriptor handed down by flock(1) is.
        let flags = rustix::io::fcntl_getfd(&inherited).unwrap();
        rustix::io::fcntl_setfd(&inherited, flags - rustix::io::FdFlags::CLOEXEC).unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&inherited);
        let log = dir.path().join("log");
        let mut child = spawn_background(
            "sh",
            [
                "-c",
                &format!("if [ -e /proc/self/fd/{fd} ]; then echo leaked; else echo closed; fi"),
            ],
            &log,
        )
        .unwrap();
        child.wait().unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text.trim(), "closed", "{text}");
    }
}
