//! The product's own binary, for tests that run it as a CI job or a service would.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The `entrypoint` binary of the calling test's build profile, built once per test process
/// (cargo builds a dependency's library for the tests, not its binaries).
pub fn entrypoint_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's own path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("tests run from target/<profile>/deps");
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
        let status = build.status().expect("running cargo build");
        assert!(status.success(), "building the entrypoint binary failed");
        profile_dir.join("entrypoint")
    })
}
