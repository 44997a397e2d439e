//! The real assistant CLIs for end-to-end tests: their pinned versions, a cached installer and
//! a bounded runner.

mod environment;
mod install;
mod run;
mod versions;

pub use environment::{CODEX_QUIET_CONFIG, isolated_command};
pub use install::{InstallError, InstalledCli, cache_root, install, install_pinned_into};
pub use run::{Finished, RunError, run_bounded};
pub use versions::{Cli, Pin, VersionsError, pinned};
