//! A command for a real CLI that cannot reach public hosts by itself: empty environment except
//! what it needs, a private home, and every switch that stops start-up traffic.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use crate::model::cli::install::InstalledCli;
use crate::model::cli::versions::Cli;

/// Without these Claude Code contacts Anthropic's public host (`HEAD /api/hello`, telemetry,
/// update checks) besides the base URL; `IS_SANDBOX=1` lets root use `bypassPermissions`.
const CLAUDE_QUIET: &[(&str, &str)] = &[
    ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
    ("DISABLE_AUTOUPDATER", "1"),
    ("DISABLE_TELEMETRY", "1"),
    ("DISABLE_ERROR_REPORTING", "1"),
    ("IS_SANDBOX", "1"),
];

/// `codex` with config overrides that stop its update check, plugin sync and analytics, which
/// otherwise reach github.com and chatgpt.com at start.
pub const CODEX_QUIET_CONFIG: &[&str] = &[
    "check_for_update_on_startup=false",
    "features.plugins=false",
    "features.remote_plugin=false",
    "analytics.enabled=false",
];

/// `installed`'s binary with a cleared environment: `PATH` (its own tool directory first),
/// `HOME` and the XDG directories inside `home`, `CODEX_HOME` for Codex, the quiet switches for
/// Claude, no proxies, stdin closed (Codex otherwise waits for more prompt) and killed when
/// dropped. For Codex, pass [`CODEX_QUIET_CONFIG`] as `-c` arguments.
pub fn isolated_command(installed: &InstalledCli, home: &Path) -> std::io::Result<Command> {
    let mut command = Command::new(&installed.binary);
    command.env_clear();
    let system_path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    let path = std::env::join_paths(
        installed
            .path_dirs
            .iter()
            .cloned()
            .chain(std::env::split_paths(&system_path)),
    )
    .map_err(std::io::Error::other)?;
    command
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("LANG", "C.UTF-8")
        .env("NO_PROXY", "127.0.0.1,localhost,::1");
    match installed.cli {
        Cli::Claude => {
            command.envs(CLAUDE_QUIET.iter().copied());
        }
        Cli::Codex => {
            let codex_home = home.join(".codex");
            std::fs::create_dir_all(&codex_home)?;
            command.env("CODEX_HOME", codex_home);
        }
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Ok(command)
}
