//! `cargo xtask publish`: tags the local images for the registry, pushes every tag, and checks
//! that the registry serves the digest the push reported.
//!
//! Target and credentials default to GitLab CI's predefined variables `CI_REGISTRY_IMAGE`,
//! `CI_REGISTRY_USER`, `CI_REGISTRY_PASSWORD` and `CI_REGISTRY`
//! (https://docs.gitlab.com/ci/variables/predefined_variables/), then `DOCKER_AUTH_CONFIG` and
//! `~/.docker/config.json` (see `credentials`); images go to
//! `$CI_REGISTRY_IMAGE/<assistant>:<tag>`.
//!
//! Multi-platform releases run `publish --arch amd64` and `publish --arch arm64` on native
//! runners (tags `<tag>-<arch>`), then `publish --index` once to write each `<tag>` as an OCI
//! index of both.

use clap::Parser;

use crate::engine;
use crate::images::args::ImageArgs;
use crate::registry::oci::Arch;
use crate::registry::publish::{Target, publish_for, publish_indexes};

/// Flags of `cargo xtask publish`.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(flatten)]
    images: ImageArgs,
    #[command(flatten)]
    target: Target,
    /// Publish this platform's image: every tag gets a `-<arch>` suffix (`1.2.0-ubuntu-arm64`)
    /// for `--index` to combine. Without it the tags are plain (single-platform releases).
    #[arg(long, value_name = "amd64|arm64", conflicts_with = "index")]
    arch: Option<Arch>,
    /// Instead of pushing, assemble every tag as a multi-platform OCI index of its
    /// `<tag>-<arch>` images already in the registry (no Docker engine needed).
    #[arg(long)]
    index: bool,
    /// The platforms `--index` combines (default: amd64,arm64).
    #[arg(long, value_delimiter = ',', requires = "index")]
    archs: Vec<Arch>,
}

/// Publishes the selected local images, or assembles the indexes.
pub fn run(args: Args) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        if args.index {
            let archs = if args.archs.is_empty() {
                Arch::ALL.to_vec()
            } else {
                args.archs
            };
            publish_indexes(&args.images, &args.target, &archs).await?;
            return Ok(());
        }
        let docker = engine::connect().await?;
        publish_for(&docker, &args.images, &args.target, args.arch).await?;
        Ok(())
    })
}
