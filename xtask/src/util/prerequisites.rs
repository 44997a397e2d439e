//! What the tests need from the machine, and how a fresh Debian machine gets it.
//!
//! The test command must work on a fresh clone on a fresh machine, so each prerequisite is
//! checked, and when missing it is installed with apt-get if we are root on a Debian-family
//! system; otherwise the error says exactly what to install.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

use crate::util::cmd;

/// The real `git http-backend`, which the GitLab double uses to serve repositories over smart
/// HTTP. It ships with Debian's `git` package.
pub fn git_http_backend() -> anyhow::Result<PathBuf> {
    if let Some(path) = find_http_backend() {
        return Ok(path);
    }
    apt_install(&["git"])?;
    find_http_backend().context("git was installed but git-http-backend is still missing")
}

fn find_http_backend() -> Option<PathBuf> {
    let out = Command::new("git").arg("--exec-path").output().ok()?;
    let dir = String::from_utf8(out.stdout).ok()?;
    let path = PathBuf::from(dir.trim()).join("git-http-backend");
    path.is_file().then_some(path)
}

/// npm, which installs the pinned real `claude` and `codex` CLIs that the end-to-end tests drive
/// (Debian's `npm` package brings Node.js with it).
pub fn npm() -> anyhow::Result<()> {
    if cmd::available("npm") {
        return Ok(());
    }
    apt_install(&["nodejs", "npm"])?;
    if cmd::available("npm") {
        Ok(())
    } else {
        bail!("npm was installed but does not start")
    }
}

/// The tools the network-sandbox tests drive: iptables/ip6tables (nft backend) and their
/// -restore/-save, `ip`, `unshare`/`setpriv`, and curl for the probes' counterparts.
pub fn sandbox_tools() -> anyhow::Result<()> {
    let wanted = [
        ("iptables-restore", "iptables"),
        ("ip6tables-restore", "iptables"),
        ("ip", "iproute2"),
        ("unshare", "util-linux"),
        ("setpriv", "util-linux"),
        ("curl", "curl"),
    ];
    let mut missing: Vec<&str> = wanted
        .iter()
        .filter(|(program, _)| !on_path(program))
        .map(|(_, package)| *package)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

/// The python-gitlab release the GitLab fidelity suite (`tests/fidelity/gitlab_fidelity.py`) is
/// written against: the client most GitLab users script with, driving the double as it would
/// drive GitLab.
const PYTHON_GITLAB: &str = "python-gitlab==8.6.0";

/// python-gitlab for the `python3` on PATH (the one the fidelity test runs), installed with that
/// interpreter's pip; Debian's `python3-pip` is installed first when the interpreter has none.
pub fn python_gitlab() -> anyhow::Result<()> {
    if python_succeeds(&["-c", "import gitlab"]) {
        return Ok(());
    }
    if !python_succeeds(&["-m", "pip", "--version"]) {
        apt_install(&["python3-pip"])?;
    }
    eprintln!("installing {PYTHON_GITLAB} (missing on this machine)");
    let root = std::path::Path::new("/");
    let pip = ["-m", "pip", "install", "--quiet", PYTHON_GITLAB];
    // Debian 12 marks its own Python as externally managed (PEP 668); pyenv's and older pips
    // do not know the flag, so try with it first and without it second.
    let with_flag = [&pip[..], &["--break-system-packages"]].concat();
    if cmd::run(root, "python3", with_flag).is_err() {
        cmd::run(root, "python3", pip)?;
    }
    if python_succeeds(&["-c", "import gitlab"]) {
        Ok(())
    } else {
        bail!("{PYTHON_GITLAB} was installed but `python3 -c 'import gitlab'` still fails")
    }
}

fn python_succeeds(args: &[&str]) -> bool {
    Command::new("python3")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        || ["/usr/sbin", "/sbin"]
            .iter()
            .any(|dir| std::path::Path::new(dir).join(program).is_file())
}

/// Installs Debian packages, or explains how to when this process cannot.
pub fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    let list = packages.join(" ");
    if !is_root() || !cmd::available("apt-get") {
        bail!(
            "missing prerequisite: install the Debian/Ubuntu package(s) `{list}` (apt-get install -y {list}) and run again"
        );
    }
    eprintln!("installing {list} (missing on this machine)");
    let root = std::path::Path::new("/");
    cmd::run(root, "apt-get", ["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    cmd::run(root, "apt-get", args)
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .is_some_and(|uid| uid.trim() == "0")
}
