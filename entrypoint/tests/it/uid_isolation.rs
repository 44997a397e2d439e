//! The assistant's uid cannot reach what the entrypoint keeps: the git directories of the
//! checkout it is lent (whatever umask and owner the runner left them with), nor the secrets in
//! the entrypoint's own `/proc/<pid>/environ`, even from a process of the entrypoint's uid.
//!
//! These run as root, as the jobs do (the templates set `image: docker: user: root`).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use entrypoint::sandbox::privileges;
use entrypoint::sandbox::{
    Capabilities, Enclosure, Plan, ProbeProgram, SandboxUid, Settings, Site,
};

const ENTRYPOINT: &str = env!("CARGO_BIN_EXE_entrypoint");
/// One uid per test: finishing an enclosure kills every process of its uid.
const GIT_UID: u32 = 64212;
const DUMP_UID: u32 = 64213;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("umask 0000 && exec git \"$@\"")
        .arg("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A checkout as GitLab Runner's Docker executor leaves it: made under `umask 0000`, so the git
/// directory is world-writable; plus a linked worktree, whose `.git` is a file.
fn runner_checkout(parent: &Path) -> (PathBuf, PathBuf) {
    let repo = parent.join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(repo.join("README.md"), "hello\n").unwrap();
    git(&repo, &["add", "README.md"]);
    git(&repo, &["commit", "--quiet", "-m", "first"]);
    git(&repo, &["pack-refs", "--all"]);
    let worktree = parent.join("worktree");
    git(
        &repo,
        &[
            "worktree",
            "add",
            "--quiet",
            "-b",
            "side",
            worktree.to_str().unwrap(),
        ],
    );
    let mode = std::fs::metadata(repo.join(".git/config")).unwrap().mode();
    assert_eq!(
        mode & 0o022,
        0o022,
        "made world-writable, as the runner does"
    );
    (repo, worktree)
}

/// Every path below `root` (not following links).
fn tree(root: &Path) -> Vec<PathBuf> {
    let mut all = vec![root.to_owned()];
    let mut i = 0;
    while i < all.len() {
        let path = all[i].clone();
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                all.push(entry.unwrap().path());
            }
        }
        i += 1;
    }
    all
}

fn plan(uid: u32) -> Plan {
    Plan {
        settings: Settings::open(SandboxUid::new(uid).unwrap()),
        probe: ProbeProgram(ENTRYPOINT.into()),
        capabilities: Capabilities::current().unwrap(),
    }
}

/// Runs `script` with `sh` in `dir` as `uid`, confined as the CLI is; its stdout.
fn as_sandbox_uid(uid: u32, dir: &Path, script: &str) -> String {
    let mut command = Command::new("/bin/sh");
    command
        .args(["-c", script])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    privileges::confine(&mut command, SandboxUid::new(uid).unwrap());
    let out = command.output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Each line an attempt: `name` then a command; prints `ALLOWED name` or `refused name`.
fn attempts(list: &[(&str, &str)]) -> String {
    list.iter()
        .map(|(name, command)| {
            format!("if ( {command} ) 2>/dev/null; then echo \"ALLOWED {name}\"; else echo \"refused {name}\"; fi\n")
        })
        .collect()
}

#[test]
fn the_sandbox_uid_cannot_write_the_git_directories_it_is_lent_with_the_checkout() {
    let parent = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        parent.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let (repo, worktree) = runner_checkout(parent.path());
    // The runner (or a previous job) left the git directory to some other uid.
    for path in tree(&repo.join(".git")) {
        std::os::unix::fs::lchown(&path, Some(64777), Some(64777)).unwrap();
    }
    let config_before = std::fs::read_to_string(repo.join(".git/config")).unwrap();
    let me = rustix::process::geteuid().as_raw();

    for checkout in [&repo, &worktree] {
        let site = Site {
            workspace: checkout.clone(),
            proxy: None,
        };
        let enclosure = Enclosure::establish(&plan(GIT_UID), &site).unwrap();
        assert!(!enclosure.fenced());
        let git_path = checkout.join(".git");
        for path in tree(&git_path) {
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert_eq!(meta.uid(), me, "{}", path.display());
            if !meta.file_type().is_symlink() {
                assert_eq!(meta.mode() & 0o022, 0, "{}", path.display());
            }
        }
        let script = if checkout == &repo {
            attempts(&[
                (
                    "append-config",
                    "echo '[core] fsmonitor = touch /tmp/pwned' >> .git/config",
                ),
                ("create-hook", "echo 'touch /tmp/pwned' > .git/hooks/x"),
                (
                    "replace-config-by-rename",
                    "cp .git/config /tmp/c-$$ && echo '[core] fsmonitor = x' >> /tmp/c-$$ && mv -f /tmp/c-$$ .git/config",
                ),
                (
                    "new-file-renamed-over-config",
                    "echo x > .git/config.new && mv -f .git/config.new .git/config",
                ),
                ("rename-config-away", "mv .git/config .git/config.old"),
                ("chmod-config", "chmod 666 .git/config"),
                (
                    "write-info-attributes",
                    "echo '* filter=x' > .git/info/attributes",
                ),
                ("replace-packed-refs", "echo x > .git/packed-refs"),
                ("write-object-dir", "touch .git/objects/x"),
                ("rename-git-dir-away", "mv .git .git-old"),
                ("remove-git-dir", "rm -rf .git"),
                (
                    "write-worktree-admin",
                    "echo x > .git/worktrees/worktree/gitdir",
                ),
            ])
        } else {
            attempts(&[
                ("remove-git-file", "rm -f .git && test ! -e .git"),
                ("rewrite-git-file", "echo 'gitdir: /tmp/evil' > .git"),
                ("rename-git-file", "mv .git .git-old"),
            ])
        };
        let script = format!("{script}echo ok > written-by-sandbox.txt && echo ALLOWED-WORK\n");
        let out = as_sandbox_uid(GIT_UID, checkout, &script);
        eprintln!("{}:\n{out}", checkout.display());
        assert!(
            out.contains("ALLOWED-WORK"),
            "the checkout itself is lent: {out}"
        );
        let allowed: Vec<&str> = out.lines().filter(|l| l.starts_with("ALLOWED ")).collect();
        assert_eq!(allowed, Vec::<&str>::new(), "{out}");
        enclosure.finish().unwrap();
        assert_eq!(
            std::fs::metadata(checkout.join("written-by-sandbox.txt"))
                .unwrap()
                .uid(),
            me
        );
    }
    assert_eq!(
        std::fs::read_to_string(repo.join(".git/config")).unwrap(),
        config_before
    );
    assert!(!repo.join(".git/hooks/x").exists());
}

/// The uid of `/proc/<pid>/environ`: the process's own, or root's for a non-dumpable one.
fn environ_owner(pid: u32) -> u32 {
    std::fs::metadata(format!("/proc/{pid}/environ"))
        .unwrap()
        .uid()
}

#[test]
fn the_entrypoint_is_not_dumpable_so_its_own_uid_cannot_read_its_environment() {
    const CANARY: &str = "glpat-dumpable-canary-7731";
    let uid = SandboxUid::new(DUMP_UID).unwrap();
    let start = |program: &str, args: &[&str]| {
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .env("GITLAB_TOKEN", CANARY)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        privileges::confine(&mut command, uid);
        command.spawn().unwrap()
    };
    // Both wait on their standard input: the entrypoint reading a note, and a plain process.
    let mut entrypoint = start(ENTRYPOINT, &["mentions"]);
    let mut plain = start("/bin/cat", &[]);
    // Until both have executed their program (between the uid switch and `execve` a child is
    // briefly non-dumpable too) and the entrypoint reached its first statement; a loaded
    // machine may take a while.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read(format!("/proc/{}/cmdline", plain.id())).unwrap_or_default()
        != b"/bin/cat\0"
        || std::fs::read(format!("/proc/{}/cmdline", entrypoint.id())).unwrap_or_default()
            != format!("{ENTRYPOINT}\0mentions\0").into_bytes()
        || environ_owner(entrypoint.id()) != 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the entrypoint never became non-dumpable"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let read = |pid: u32| {
        as_sandbox_uid(
            DUMP_UID,
            Path::new("/"),
            &format!(
                "tr '\\0' '\\n' < /proc/{pid}/environ; cat /proc/{pid}/cmdline >/dev/null && echo cmdline-readable"
            ),
        )
    };

    let from_plain = read(plain.id());
    let from_entrypoint = read(entrypoint.id());
    let owners = (environ_owner(plain.id()), environ_owner(entrypoint.id()));
    drop(entrypoint.stdin.take());
    drop(plain.stdin.take());
    entrypoint.wait().unwrap();
    plain.wait().unwrap();

    assert!(
        from_plain.contains(CANARY),
        "a dumpable process of the same uid is readable, so the check can fail: {from_plain}"
    );
    assert_eq!(owners, (DUMP_UID, 0));
    assert!(!from_entrypoint.contains(CANARY), "{from_entrypoint}");
    assert!(from_entrypoint.contains("cmdline-readable"));
}
