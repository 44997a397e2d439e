//! What the stories of the real assistant CLIs share: the CLI installed (from the user cache
//! after the first run) off the async runtime, and a bounded run whose ending is printed, so a
//! failing test shows the CLI's side.

use std::path::Path;
use std::time::Duration;

use doubles::model::cli::{Cli, Finished, install, isolated_command, run_bounded};
use tokio::process::Command;

/// `cli`'s isolated command (see [`isolated_command`]) with `home` as its home, installing the
/// pinned CLI first when the cache does not hold it yet.
pub async fn cli_command(cli: Cli, home: &Path) -> Command {
    let installed = tokio::task::spawn_blocking(move || install(cli))
        .await
        .expect("install task panicked")
        .unwrap_or_else(|e| panic!("installing {}: {e}", cli.name()));
    isolated_command(&installed, home)
        .unwrap_or_else(|e| panic!("building the {} command: {e}", cli.name()))
}

/// Runs `command` for at most `limit` and prints how `cli` ended (status, time, stderr).
pub async fn run_reported(cli: Cli, command: &mut Command, limit: Duration) -> Finished {
    let finished = run_bounded(command, limit)
        .await
        .unwrap_or_else(|e| panic!("{} did not finish: {e}", cli.name()));
    eprintln!(
        "{} exited {:?} after {:?}\nstderr: {}",
        cli.name(),
        finished.status,
        finished.elapsed,
        finished.stderr
    );
    finished
}
