//! `cargo xtask test-images`: checks each image in containers (no network): the CLI reports its
//! pinned version, our entrypoint runs both as the image's ENTRYPOINT and with `entrypoint: [""]`
//! (how GitLab CI jobs run `script:`), git works, the user is not root, the tools and CA bundle
//! are there, package caches are gone, Node ≥ 22 where carried, and in the images with iptables
//! the network sandbox refuses to start without `NET_ADMIN` and holds with it (as root); then
//! prints a size table and fails when an image is over its budget (compressed size ≤ the
//! assistant's runtime gzipped + `budget_over_binary_mb` of images.toml, where the runtime is
//! the CLI binary, and Node in the images that carry it for the CLI's launcher).
//!
//! The slim `entrypoint` image has checks of its own (`slim_image.rs`).
//!
//! `--e2e` runs the whole daemon-backed suite instead (see `e2e.rs`).

use anyhow::{Context, bail};
use clap::Parser;

use crate::engine;
use crate::images::args::ImageArgs;
use crate::images::container_checks::{judge_sizes, test_image};
use crate::images::manifest::Manifest;
use crate::images::variants::{Variant, VariantPlan};
use crate::scenarios::e2e;
use crate::util::cmd;

/// Flags of `cargo xtask test-images`.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(flatten)]
    images: ImageArgs,
    /// Run the end-to-end suite against a real engine: bootstrap the base, build the ubuntu
    /// family, test, rebuild (nothing may be rebuilt), publish to a local registry and read the
    /// manifests back. Installs and starts what is missing when run as root on Debian.
    #[arg(long)]
    e2e: bool,
    /// Only the end-to-end suite's webhook-mode story (comment → Comments hook → trigger →
    /// ack job in the slim image → answer in the Claude image → merge request, twice in
    /// parallel), on the images `build-images` left locally (`gitlab-ai/entrypoint:slim`,
    /// `gitlab-ai/claude:ubuntu`).
    #[arg(long, conflicts_with = "e2e")]
    webhook_story: bool,
    /// With `--e2e`: write the wall and CPU seconds of each stage to this file as JSON (how
    /// `cargo xtask test --timings` reads the stages of the suite it runs in the background).
    #[arg(long, requires = "e2e", hide = true)]
    timings_json: Option<std::path::PathBuf>,
}

/// Tests the selected local images (`gitlab-ai/<assistant>:<base>`), or runs the e2e suite.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.e2e {
        let rows = e2e::run()?;
        if let Some(path) = &args.timings_json {
            std::fs::write(path, serde_json::to_vec(&rows)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        return Ok(());
    }
    if args.webhook_story {
        return tokio::runtime::Runtime::new()?.block_on(async {
            let docker = engine::connect().await?;
            let namespace = &args.images.local_namespace;
            let slim = crate::images::slim_image::local_image(namespace);
            let claude = Variant {
                assistant: ai_core::Assistant::Claude,
                base: crate::images::manifest::Base::Ubuntu,
            }
            .local_image(namespace);
            for image in [&slim, &claude] {
                if engine::inspect_image(&docker, image).await?.is_none() {
                    bail!("{image} does not exist: run `cargo xtask build-images --assistant claude --base ubuntu` first");
                }
            }
            let told = crate::scenarios::webhook::webhook_mentions(&docker, &slim, &claude).await?;
            println!("webhook story: {told}");
            Ok(())
        });
    }
    tokio::runtime::Runtime::new()?.block_on(async {
        let docker = engine::connect().await?;
        let root = cmd::workspace_root()?;
        let manifest = Manifest::load(&root)?;
        let settings = args.images.settings(&root)?;
        let mut reports = Vec::new();
        for variant in args.images.variants() {
            let reference = variant.local_image(&args.images.local_namespace);
            if engine::inspect_image(&docker, &reference).await?.is_none() {
                eprintln!(
                    "[{variant}] {reference} does not exist: run `cargo xtask build-images` first"
                );
                continue;
            }
            let plan = VariantPlan::new(&manifest, &settings, variant)?;
            reports.push(test_image(&docker, &reference, &plan).await?);
        }
        let slim = crate::images::slim_image::local_image(&args.images.local_namespace);
        let slim_found = engine::inspect_image(&docker, &slim).await?.is_some();
        if slim_found {
            let plan = crate::images::slim_image::SlimPlan::new(&manifest, &settings)?;
            crate::images::slim_image::test(&docker, &slim, &plan).await?;
        } else {
            eprintln!("[entrypoint] {slim} does not exist: run `cargo xtask build-images` first");
        }
        if reports.is_empty() && !slim_found {
            bail!("none of the selected images exists locally: run `cargo xtask build-images`");
        }
        judge_sizes(&reports)
    })
}
