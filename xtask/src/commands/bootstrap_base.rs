//! `cargo xtask bootstrap-base`: makes the local Debian image that stands in for `ubuntu:24.04`
//! on machines that cannot pull from Docker Hub: `debootstrap --variant=minbase`, then an import
//! through the Engine API (`POST /images/create?fromSrc=-`, what `docker import` does).
//!
//! Both steps are cached: the image is left alone when present, and the rootfs tarball is kept
//! under the cache directory so a new daemon (fresh CI machine state) imports it in seconds.

use clap::Parser;

use crate::engine;
use crate::images::debian_base::{DEFAULT_MIRROR, ensure};

/// Flags of `cargo xtask bootstrap-base`.
#[derive(Debug, Parser)]
pub struct Args {
    /// Rebuild the rootfs and re-import even when cached.
    #[arg(long)]
    force: bool,
    /// The Debian mirror debootstrap downloads from.
    #[arg(long, default_value = DEFAULT_MIRROR)]
    mirror: String,
}

/// Ensures the Debian base image exists.
pub fn run(args: Args) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let docker = engine::connect().await?;
        ensure(&docker, args.force, &args.mirror).await
    })
}
