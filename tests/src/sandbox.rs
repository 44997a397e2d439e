//! What a test needs to run an assistant CLI the way the entrypoint always does, as the sandbox
//! uid: a uid no other test process uses at the same time (finishing a run kills every process
//! of its uid), directories that uid can enter, and the CLI where it can execute it (the
//! install cache under root's home is closed to other users).

use std::fs::{File, TryLockError};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::model::cli::InstalledCli;

/// Where the leases and the reachable CLI copies live: world-enterable, outside root's home.
const SHARED: &str = "/var/tmp/gitlab-ai-tests";

/// The uids handed out to tests; clear of the product's default sandbox uid (64123) and the
/// fixed uids of the sandbox tests (64xxx).
const LEASED_UIDS: std::ops::Range<u32> = 65100..65900;

/// A sandbox uid held by this test process alone until dropped (an exclusive `flock` on a file
/// per uid, which other test processes skip).
#[derive(Debug)]
pub struct UidLease {
    pub uid: u32,
    _lock: File,
}

impl UidLease {
    /// The first uid no other process holds.
    pub fn take() -> Self {
        let dir = Path::new(SHARED).join("uids");
        std::fs::create_dir_all(&dir).expect("creating the uid lease directory");
        for uid in LEASED_UIDS {
            let file = File::create(dir.join(format!("{uid}.lock"))).expect("a lease file");
            match file.try_lock() {
                Ok(()) => {
                    return Self { uid, _lock: file };
                }
                Err(TryLockError::WouldBlock) => continue,
                Err(TryLockError::Error(error)) => panic!("locking a uid lease: {error}"),
            }
        }
        panic!("every test sandbox uid is taken")
    }
}

/// A temporary directory the sandbox uid can enter (tempfile's are `0700`), for a checkout or a
/// stand-in CLI.
pub fn reachable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("opening the temporary directory");
    dir
}

/// `installed`, hard-linked (or copied) once per version under a directory every user can
/// enter, so the sandbox uid can execute it as it can in the images.
pub fn reachable_cli(installed: &InstalledCli) -> InstalledCli {
    let package = package_root(&installed.binary, &installed.path_dirs);
    let name = package
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let target = Path::new(SHARED).join("cli").join(format!(
        "{}-{}-{name}",
        installed.cli.name(),
        installed.version
    ));
    if !target.join(".complete").exists() {
        let parent = target.parent().expect("a parent");
        std::fs::create_dir_all(parent).expect("creating the shared CLI directory");
        for dir in [Path::new(SHARED), parent] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let staging = tempfile::tempdir_in(parent).expect("a staging directory");
        let copy = staging.path().join("tree");
        link_tree(&package, &copy);
        std::fs::write(copy.join(".complete"), "").expect("marking the copy complete");
        // Another test process may have won the race; its copy is as good as ours.
        if std::fs::rename(&copy, &target).is_err() && !target.join(".complete").exists() {
            panic!("could not publish the CLI copy at {}", target.display());
        }
    }
    let relink = |p: &Path| target.join(p.strip_prefix(&package).expect("inside the package"));
    InstalledCli {
        cli: installed.cli,
        version: installed.version.clone(),
        binary: relink(&installed.binary),
        path_dirs: installed.path_dirs.iter().map(|d| relink(d)).collect(),
    }
}

/// Hard-links (or copies) the tree at `from` to `to`, every directory enterable by anyone.
pub fn link_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creating a directory");
    for entry in std::fs::read_dir(from).expect("reading a directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("a file type");
        if kind.is_dir() {
            link_tree(&entry.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).expect("a link"), &target)
                .expect("linking");
        } else if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).expect("copying");
        }
    }
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The deepest directory holding the binary and its `PATH` directories.
pub fn package_root(binary: &Path, path_dirs: &[PathBuf]) -> PathBuf {
    let mut root = binary.parent().expect("a parent").to_owned();
    while !path_dirs.iter().all(|d| d.starts_with(&root)) {
        root = root.parent().expect("a parent").to_owned();
    }
    root
}

/// The file in the checkout the assistant's shell writes the dump to, by default.
pub const PROC_DUMP_FILE: &str = "proc-dump.txt";

/// A shell command for the assistant: its uid, then for every process its command line and,
/// where readable, its initial environment (`/proc/<pid>/environ`, what unsetting a variable
/// does not erase), into `file`; it prints how many processes it saw. The dump goes to a file
/// rather than the tool's output, which the CLIs truncate.
pub fn proc_dump(file: &str) -> String {
    format!(
        "{{ id -u; for p in /proc/[0-9]*; do echo \"== $p $(tr '\\0' ' ' < $p/cmdline 2>/dev/null)\"; tr '\\0' '\\n' < $p/environ 2>/dev/null && echo \"readable-environ $p\"; done; }} > {file} 2>/dev/null; echo dumped $(grep -c '^== ' {file}) processes"
    )
}

/// A stand-in for the runner's job shell: started with `secrets` in its initial environment as
/// the real one is with every CI/CD variable, and `marker` in its (world-readable) command line.
/// Its process group is killed when it is dropped, so no test leaves a process behind (the
/// shell's `sleep` would otherwise outlive it, holding the test runner's inherited file
/// descriptors, such as a `flock`, for ten minutes).
pub fn job_shell(secrets: &[(&str, &str)], marker: &str) -> JobShell {
    use std::os::unix::process::CommandExt as _;
    JobShell(
        std::process::Command::new("/bin/sh")
            .args(["-c", &format!("sleep 600; : {marker}")])
            .process_group(0)
            .envs(secrets.iter().copied())
            // Not the caller's pipes: a test whose output is read to the end must not wait for it.
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting the job shell stand-in"),
    )
}

/// The running [`job_shell`]; dereferences to its [`std::process::Child`].
#[derive(Debug)]
pub struct JobShell(std::process::Child);

impl std::ops::Deref for JobShell {
    type Target = std::process::Child;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for JobShell {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for JobShell {
    fn drop(&mut self) {
        // The whole group: the shell and its `sleep`. Already gone when the test killed it
        // itself; either way the shell is reaped here.
        if let Some(group) = rustix::process::Pid::from_raw(self.0.id() as i32) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Checks a dump [`proc_dump`] wrote: written as `uid`, it saw the job shell (its `marker`) and
/// read at least its own environment, and holds none of `secrets`. `Err` says what is wrong.
pub fn judge_proc_dump(dump: &str, uid: u32, marker: &str, secrets: &[&str]) -> Result<(), String> {
    if dump.lines().next() != Some(uid.to_string().as_str()) {
        return Err(format!(
            "the shell did not run as the sandbox uid {uid}: {:?}",
            dump.lines().next()
        ));
    }
    if !dump.contains(marker) {
        return Err("the dump did not see the job shell's command line".to_owned());
    }
    if !(dump.contains("readable-environ") && dump.contains("HOME=")) {
        return Err("the dump read no environment at all, not even its own".to_owned());
    }
    for secret in secrets {
        if dump.contains(secret) {
            return Err(format!(
                "a secret ({}…) is readable from /proc by the assistant",
                &secret[..secret.len().min(8)]
            ));
        }
    }
    Ok(())
}

/// [`judge_proc_dump`] on the dump in `workspace`'s [`PROC_DUMP_FILE`], panicking on failure.
pub fn check_proc_dump(workspace: &Path, uid: u32, marker: &str, secrets: &[&str]) {
    let dump = std::fs::read_to_string(workspace.join(PROC_DUMP_FILE))
        .unwrap_or_else(|e| panic!("the assistant's shell wrote no {PROC_DUMP_FILE}: {e}"));
    if let Err(problem) = judge_proc_dump(&dump, uid, marker, secrets) {
        panic!("{problem}");
    }
}
