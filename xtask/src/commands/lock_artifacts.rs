//! `cargo xtask lock-artifacts`: records the registry's integrity of every artifact pinned in
//! `images/images.toml` into `images/images.lock`. Run after changing a version.

use clap::Parser;

use crate::images::lockfile::{lock_for, lock_path};
use crate::images::manifest::Manifest;
use crate::images::npm_registry::NpmRegistry;
use crate::util::cmd;

/// Flags of `cargo xtask lock-artifacts`.
#[derive(Debug, Parser)]
pub struct Args {
    /// Only report whether the lock file is up to date (exit 1 if not).
    #[arg(long)]
    check: bool,
}

/// Queries the registry for each pinned artifact and writes (or checks) the lock file.
pub fn run(args: Args) -> anyhow::Result<()> {
    let root = cmd::workspace_root()?;
    let manifest = Manifest::load(&root)?;
    let registry = NpmRegistry::from_env()?;
    let lock = tokio::runtime::Runtime::new()?.block_on(lock_for(&manifest, &registry))?;
    let text = lock.render()?;
    let path = lock_path(&root);
    if args.check {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        anyhow::ensure!(
            current == text,
            "{} is out of date: run `cargo xtask lock-artifacts`",
            path.display()
        );
        eprintln!("{} is up to date", path.display());
    } else {
        std::fs::write(&path, text)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
