//! The workspace's own binaries for tests that run them as a CI job would. Cargo builds a
//! dependency's library for the tests, not its binaries, so the `entrypoint` binary is built
//! here once per test process, in the same profile as the test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, anyhow, bail};

/// The `entrypoint` binary of this build profile, built on first use (a no-op after a
/// workspace build).
pub fn entrypoint() -> anyhow::Result<&'static Path> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| build_entrypoint().map_err(|e| format!("{e:#}")))
        .as_deref()
        .map_err(|e| anyhow!("{e}"))
}

fn build_entrypoint() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the test's own path")?;
    let profile_dir = exe.parent().and_then(Path::parent).context(
        "tests and examples run from target/<profile>/deps or target/<profile>/examples",
    )?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = std::process::Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "entrypoint",
            "--bin",
            "entrypoint",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().context("running cargo build")?;
    if !status.success() {
        bail!("building the entrypoint binary failed");
    }
    Ok(profile_dir.join("entrypoint"))
}
