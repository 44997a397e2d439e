//! Installs a pinned CLI from npm once per machine, into a cache outside the repository.
//!
//! Both npm packages are thin JavaScript launchers; the real binary lives in an optional
//! per-platform package (`@anthropic-ai/claude-code-linux-x64`, `@openai/codex-linux-x64`, an
//! alias of `@openai/codex@<version>-linux-x64`). We install only that platform package, with
//! scripts off, and run its binary directly: no Node at run time, and npm checks each tarball
//! against the registry's `dist.integrity`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::model::cli::versions::{Cli, Pin, VersionsError, pinned};

/// The proxy CA of the build machines is in the system bundle; npm (Node) reads only its own
/// store unless told.
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Names the platform package inside a finished install; its presence marks the install
/// complete.
const MARKER: &str = ".platform-package";

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Versions(#[from] VersionsError),
    #[error("neither XDG_CACHE_HOME nor HOME is set, so there is no cache directory for the CLIs")]
    NoCacheDir,
    #[error("{action} ({path}): {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not run npm (is Node.js installed?): {0}")]
    NpmMissing(std::io::Error),
    #[error("`npm {args}` failed with {status}: {stderr}")]
    Npm {
        args: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error(
        "{package}@{version} has no platform package {platform} (optional dependencies: {available})"
    )]
    NoPlatformPackage {
        package: String,
        version: String,
        platform: String,
        available: String,
    },
    #[error("the installed {platform} has no usable binary: {reason}")]
    Layout { platform: String, reason: String },
    #[error("{binary} --version printed {printed:?}, expected version {expected}")]
    WrongVersion {
        binary: PathBuf,
        printed: String,
        expected: String,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> InstallError {
    let path = path.to_owned();
    move |source| InstallError::Io {
        action,
        path,
        source,
    }
}

/// A CLI ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledCli {
    pub cli: Cli,
    pub version: String,
    /// The native executable.
    pub binary: PathBuf,
    /// Directories to put first on `PATH` (Codex ships its own `rg` beside the binary).
    pub path_dirs: Vec<PathBuf>,
}

/// `$XDG_CACHE_HOME/gitlab-ai/cli`, else `~/.cache/gitlab-ai/cli`.
pub fn cache_root() -> Result<PathBuf, InstallError> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(xdg) => PathBuf::from(xdg),
        None => std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|home| PathBuf::from(home).join(".cache"))
            .ok_or(InstallError::NoCacheDir)?,
    };
    Ok(base.join("gitlab-ai").join("cli"))
}

/// The pinned version of `cli`, installed into [`cache_root`] on first use.
///
/// Blocking: call it before starting async work or through `spawn_blocking`. Parallel callers,
/// in one process or many, wait on a file lock and install once.
pub fn install(cli: Cli) -> Result<InstalledCli, InstallError> {
    install_pinned_into(cli, &pinned(cli)?, &cache_root()?)
}

/// Installs `pin` of `cli` under `root/<name>-<version>` unless already there.
pub fn install_pinned_into(cli: Cli, pin: &Pin, root: &Path) -> Result<InstalledCli, InstallError> {
    let dir = root.join(format!("{}-{}", cli.name(), pin.version));
    if let Some(found) = installed(cli, pin, &dir)? {
        return Ok(found);
    }
    fs::create_dir_all(root).map_err(io("creating the CLI cache", root))?;
    let lock_path = root.join(format!("{}-{}.lock", cli.name(), pin.version));
    let lock = File::create(&lock_path).map_err(io("creating the install lock", &lock_path))?;
    lock.lock()
        .map_err(io("taking the install lock", &lock_path))?;
    if let Some(found) = installed(cli, pin, &dir)? {
        return Ok(found);
    }

    let staging = root.join(format!("{}-{}.staging", cli.name(), pin.version));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io("removing an unfinished install", &staging))?;
    }
    fs::create_dir_all(&staging).map_err(io("creating the staging directory", &staging))?;
    let platform = platform_package(cli);
    let spec = platform_spec(pin, &platform)?;
    npm(&[
        "install",
        "--prefix",
        &staging.to_string_lossy(),
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--ignore-scripts",
        "--loglevel=error",
        &format!("{platform}@{spec}"),
    ])?;
    let staged = locate(cli, &staging, &platform)?;
    check_version(&staged, &pin.version)?;
    fs::write(staging.join(MARKER), &platform).map_err(io("marking the install done", &staging))?;
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(io("removing a broken install", &dir))?;
    }
    fs::rename(&staging, &dir).map_err(io("moving the install in place", &dir))?;
    let found = locate(cli, &dir, &platform)?;
    drop(lock);
    Ok(InstalledCli {
        version: pin.version.clone(),
        ..found
    })
}

fn installed(cli: Cli, pin: &Pin, dir: &Path) -> Result<Option<InstalledCli>, InstallError> {
    let Ok(platform) = fs::read_to_string(dir.join(MARKER)) else {
        return Ok(None);
    };
    let found = locate(cli, dir, platform.trim())?;
    Ok(Some(InstalledCli {
        version: pin.version.clone(),
        ..found
    }))
}

/// The npm name of the platform package for this machine, as the launcher package lists it in
/// `optionalDependencies`.
fn platform_package(cli: Cli) -> String {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "x64",
    };
    match cli {
        Cli::Claude if cfg!(target_env = "musl") => {
            format!("@anthropic-ai/claude-code-linux-{arch}-musl")
        }
        Cli::Claude => format!("@anthropic-ai/claude-code-linux-{arch}"),
        Cli::Codex => format!("@openai/codex-linux-{arch}"),
    }
}

/// The version spec the launcher package pins its platform package to (a plain version, or an
/// `npm:` alias for Codex).
fn platform_spec(pin: &Pin, platform: &str) -> Result<String, InstallError> {
    let output = npm(&[
        "view",
        &format!("{}@{}", pin.package, pin.version),
        "optionalDependencies",
        "--json",
    ])?;
    let deps: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&output).map_err(|e| InstallError::NoPlatformPackage {
            package: pin.package.clone(),
            version: pin.version.clone(),
            platform: platform.to_owned(),
            available: format!("unreadable npm answer ({e}): {output}"),
        })?;
    deps.get(platform)
        .cloned()
        .ok_or_else(|| InstallError::NoPlatformPackage {
            package: pin.package.clone(),
            version: pin.version.clone(),
            platform: platform.to_owned(),
            available: deps.keys().cloned().collect::<Vec<_>>().join(", "),
        })
}

/// Codex's `codex-package.json`: the layout of the vendored binary, which changes between
/// releases.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodexLayout {
    entrypoint: String,
    #[serde(default)]
    path_dir: Option<String>,
}

fn locate(cli: Cli, dir: &Path, platform: &str) -> Result<InstalledCli, InstallError> {
    let package_dir = dir.join("node_modules").join(platform);
    let layout_error = |reason: String| InstallError::Layout {
        platform: platform.to_owned(),
        reason,
    };
    let (binary, path_dirs) = match cli {
        Cli::Claude => (package_dir.join("claude"), Vec::new()),
        Cli::Codex => {
            let vendor = package_dir.join("vendor");
            let target = fs::read_dir(&vendor)
                .map_err(|e| layout_error(format!("{}: {e}", vendor.display())))?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .find(|path| path.join("codex-package.json").is_file())
                .ok_or_else(|| {
                    layout_error(format!("no codex-package.json under {}", vendor.display()))
                })?;
            let manifest_path = target.join("codex-package.json");
            let manifest = fs::read_to_string(&manifest_path)
                .map_err(|e| layout_error(format!("{}: {e}", manifest_path.display())))?;
            let layout: CodexLayout = serde_json::from_str(&manifest)
                .map_err(|e| layout_error(format!("{}: {e}", manifest_path.display())))?;
            let path_dirs = layout
                .path_dir
                .map(|p| target.join(p))
                .filter(|p| p.is_dir())
                .into_iter()
                .collect();
            (target.join(layout.entrypoint), path_dirs)
        }
    };
    if !binary.is_file() {
        return Err(layout_error(format!("{} is missing", binary.display())));
    }
    Ok(InstalledCli {
        cli,
        version: String::new(),
        binary,
        path_dirs,
    })
}

fn check_version(found: &InstalledCli, expected: &str) -> Result<(), InstallError> {
    let output = Command::new(&found.binary)
        .arg("--version")
        .output()
        .map_err(io("running --version", &found.binary))?;
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() && printed.contains(expected) {
        Ok(())
    } else {
        Err(InstallError::WrongVersion {
            binary: found.binary.clone(),
            printed,
            expected: expected.to_owned(),
        })
    }
}

fn npm(args: &[&str]) -> Result<String, InstallError> {
    let mut command = Command::new("npm");
    command
        .args(args)
        .env("npm_config_update_notifier", "false");
    if std::env::var_os("NODE_EXTRA_CA_CERTS").is_none() && Path::new(SYSTEM_CA_BUNDLE).is_file() {
        command.env("NODE_EXTRA_CA_CERTS", SYSTEM_CA_BUNDLE);
    }
    let output = command.output().map_err(InstallError::NpmMissing)?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(InstallError::Npm {
            args: args.join(" "),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn codex_binary_and_tool_dir_come_from_codex_package_json() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir
            .path()
            .join("node_modules/@openai/codex-linux-x64/vendor/some-target");
        touch(
            &target.join("codex-package.json"),
            r#"{"layoutVersion":1,"entrypoint":"bin/codex-main","pathDir":"tools","resourcesDir":"r"}"#,
        );
        touch(&target.join("bin/codex-main"), "");
        fs::create_dir_all(target.join("tools")).unwrap();

        let found = locate(Cli::Codex, dir.path(), "@openai/codex-linux-x64").unwrap();

        assert_eq!(found.binary, target.join("bin/codex-main"));
        assert_eq!(found.path_dirs, vec![target.join("tools")]);
    }

    #[test]
    fn a_platform_package_without_its_binary_is_a_layout_error() {
        let dir = tempfile::tempdir().unwrap();
        let package = "@anthropic-ai/claude-code-linux-x64";
        touch(
            &dir.path()
                .join("node_modules")
                .join(package)
                .join("package.json"),
            "{}",
        );

        let error = locate(Cli::Claude, dir.path(), package).unwrap_err();

        assert!(matches!(error, InstallError::Layout { .. }), "{error}");
    }

    #[test]
    fn an_install_without_its_marker_is_not_taken_as_done() {
        let dir = tempfile::tempdir().unwrap();
        let pin = Pin {
            package: "@anthropic-ai/claude-code".into(),
            version: "1.2.3".into(),
        };
        let platform = platform_package(Cli::Claude);
        touch(
            &dir.path()
                .join("node_modules")
                .join(&platform)
                .join("claude"),
            "",
        );
        assert_eq!(installed(Cli::Claude, &pin, dir.path()).unwrap(), None);

        touch(&dir.path().join(MARKER), &platform);
        let found = installed(Cli::Claude, &pin, dir.path()).unwrap().unwrap();
        assert_eq!(found.version, "1.2.3");
        assert!(found.binary.ends_with("claude"));
    }
}
