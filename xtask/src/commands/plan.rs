//! `cargo xtask plan`: prints the variant table (assistant × base → Dockerfile, build args,
//! tags, size budget) without touching Docker or the network.

use clap::Parser;

use crate::images::args::ImageArgs;
use crate::images::manifest::Manifest;
use crate::images::revision;
use crate::images::variants::{TagPolicy, VariantPlan, published_tags};
use crate::registry::oci::host_arch;
use crate::util::cmd;

/// Flags of `cargo xtask plan`.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(flatten)]
    images: ImageArgs,
}

/// Prints one block per selected variant.
pub fn run(args: Args) -> anyhow::Result<()> {
    let root = cmd::workspace_root()?;
    let manifest = Manifest::load(&root)?;
    let settings = args.images.settings(&root)?;
    let short = revision::short_sha(&root)?;
    for variant in args.images.variants() {
        let plan = VariantPlan::new(&manifest, &settings, variant)?;
        println!("{variant}");
        println!("  dockerfile   images/{}", plan.dockerfile);
        println!("  base image   {}", plan.base_image);
        for (key, value) in &plan.build_args {
            println!("  build arg    {key}={value}");
        }
        for (_, package) in manifest.artifacts(variant.assistant, variant.base, host_arch()?)? {
            println!("  artifact     {package}");
        }
        println!(
            "  local image  {} (+ ctx-<context hash>)",
            variant.local_image(&args.images.local_namespace)
        );
        println!(
            "  tags         <registry image>/{}:{} (version and moving tags only for releases or --latest)",
            variant.assistant,
            published_tags(
                variant,
                TagPolicy {
                    release: Some(&settings.version),
                    moving: true,
                    short_sha: &short,
                },
                manifest.default_base
            )
            .join(", ")
        );
        println!(
            "  size budget  compressed ≤ {} binary gzipped + {} MB",
            variant.assistant, plan.budget_over_binary_mb
        );
    }
    Ok(())
}
