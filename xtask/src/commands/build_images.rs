//! `cargo xtask build-images`: builds the selected images through the Docker Engine API, skips
//! the ones whose context is unchanged, tests what it built, and optionally publishes.
//!
//! It is the README's first command, so it works on a fresh machine as written: it starts the
//! engine when none answers (as root on Debian, installing it), pulls the pinned bases, and when
//! no registry serves them builds the Debian family on the local Debian stand-in (saying so in
//! one line); variants that cannot be built here are reported as skipped with the reason.

use crate::engine;
use crate::images::build;
use crate::images::container_checks;
use crate::images::slim_image;
use crate::registry::publish;

/// Flags of `cargo xtask build-images` (the benchmarks and the e2e suite fill them in too).
pub use crate::images::build::BuildArgs as Args;

/// Builds, then tests what was built.
pub fn run(args: Args) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let docker = engine::connect_or_start().await?;
        let images = build::build(&docker, &args).await?;
        if !args.no_test && !images.built.is_empty() {
            container_checks::test_all(&docker, &images.built).await?;
        }
        if let Some(slim) = images.slim.as_ref().filter(|s| s.built && !args.no_test) {
            slim_image::test(&docker, &slim.reference, &slim.plan).await?;
        }
        if args.push {
            publish::publish(&docker, &args.images, &args.target).await?;
        }
        Ok(())
    })
}
