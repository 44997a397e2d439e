//! Our `entrypoint` binary for each image family: the host's glibc build serves the Debian
//! family; Alpine has no glibc loader, so its images need a static musl build.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::engine::progress::Step;
use crate::images::manifest::Family;
use crate::registry::oci::{Arch, host_arch};
use crate::util::cmd;

/// The entrypoint binary per family, or why it cannot be had on this machine.
pub type EntrypointBinaries = BTreeMap<Family, Result<PathBuf, String>>;

/// The Rust target an image family's entrypoint is built for on `arch`; `None` is the host's
/// own (glibc) build.
pub fn rust_target(family: Family, arch: Arch) -> Option<&'static str> {
    match (family, arch) {
        (Family::Debian, _) => None,
        (Family::Alpine, Arch::Amd64) => Some("x86_64-unknown-linux-musl"),
        (Family::Alpine, Arch::Arm64) => Some("aarch64-unknown-linux-musl"),
    }
}

/// Builds the release entrypoint for each family (once per Rust target).
pub fn build(root: &Path, families: &[Family]) -> anyhow::Result<EntrypointBinaries> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let mut out = BTreeMap::new();
    // cargo draws its own progress bar on a terminal; in a log it prints a line per crate
    // started, and the long ones (the entrypoint itself, with LTO) would be minutes of silence.
    let _step = Step::plain("compiling the release entrypoint");
    for &family in families {
        if out.contains_key(&family) {
            continue;
        }
        let built = match rust_target(family, host_arch()?) {
            None => {
                cmd::run(root, "cargo", ["build", "-p", "entrypoint", "--release"])?;
                Ok(target_dir.join("release").join("entrypoint"))
            }
            Some(target) if target_installed(root, target) => {
                cmd::run(
                    root,
                    "cargo",
                    ["build", "-p", "entrypoint", "--release", "--target", target],
                )?;
                Ok(target_dir.join(target).join("release").join("entrypoint"))
            }
            Some(target) => Err(format!(
                "its entrypoint must be a static {target} build, and that Rust target is not installed here (`rustup target add {target}`; the C parts also need Debian's `musl-tools`)"
            )),
        };
        out.insert(family, built);
    }
    Ok(out)
}

fn target_installed(root: &Path, target: &str) -> bool {
    cmd::read(root, "rustc", ["--print", "sysroot"])
        .map(|sysroot| {
            Path::new(&sysroot)
                .join("lib/rustlib")
                .join(target)
                .join("lib")
                .is_dir()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpine_gets_a_static_musl_entrypoint_and_debian_the_host_build() {
        assert_eq!(
            rust_target(Family::Alpine, Arch::Amd64),
            Some("x86_64-unknown-linux-musl")
        );
        assert_eq!(
            rust_target(Family::Alpine, Arch::Arm64),
            Some("aarch64-unknown-linux-musl")
        );
        assert_eq!(rust_target(Family::Debian, Arch::Arm64), None);
    }
}
