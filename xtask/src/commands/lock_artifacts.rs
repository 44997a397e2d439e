//! `cargo xtask lock-artifacts`: records the registry's integrity of every artifact pinned in
//! `images/images.toml` into `images/images.lock`. Run after changing a version.

use clap::Parser;

use crate::images::lockfile::{Lock, LockedArtifact, lock_path};
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

/// The lock of every artifact `manifest` pins, from the registry's metadata.
pub async fn lock_for(manifest: &Manifest, registry: &NpmRegistry) -> anyhow::Result<Lock> {
    let mut lock = Lock::default();
    for package in manifest.all_artifacts()? {
        let meta = registry.version_metadata(&package).await?;
        let integrity = meta.dist.integrity.ok_or_else(|| {
            anyhow::anyhow!("the registry gives no integrity for {package}: cannot lock it")
        })?;
        crate::images::integrity::Integrity::parse(&integrity)?;
        eprintln!("{package}: {integrity}");
        lock.artifacts.push(LockedArtifact {
            package: package.name,
            version: package.version,
            integrity,
        });
    }
    Ok(lock)
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
