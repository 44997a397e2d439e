//! The product's own binary, for tests and benchmarks that run it as a CI job or a service would.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context as _, bail};

/// Builds the `entrypoint` binary of the calling test's or example's build profile (cargo builds
/// a dependency's library for tests and examples, not its binaries) and returns its path.
pub fn build_entrypoint() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("the running test's own path")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("tests and examples run from target/<profile>/<kind>")?;
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
    if !build.status().context("running cargo build")?.success() {
        bail!("building the entrypoint binary failed");
    }
    Ok(profile_dir.join("entrypoint"))
}

/// [`build_entrypoint`] once per test process; a test cannot go on without it, so a failed build
/// fails the test.
pub fn entrypoint_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match build_entrypoint() {
        Ok(path) => path,
        Err(error) => panic!("{error:#}"),
    })
}
