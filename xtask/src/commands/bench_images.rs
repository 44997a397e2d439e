//! `cargo xtask bench-images`: per image, the compressed and uncompressed size beside the
//! assistant binary (raw and gzipped), Node gzipped where carried, and the size budget; the
//! build time cold (no layer cache; artifacts and base cached), warm (layer cache hit, only
//! labels change) and no-op; then the no-op rebuild of every selected image. The base image's
//! compressed size is shown beside it, so what the image adds over its base is visible.
//! Targets: compressed ≤ the assistant's runtime gzipped + the manifest's allowance; no-op
//! rebuild of everything < 5 s.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bollard::Docker;
use clap::Parser;

use crate::engine::{self, mb};
use crate::images::args::ImageArgs;
use crate::images::build::{self, BuildReport};
use crate::images::container_checks;
use crate::images::size;
use crate::images::variants::Variant;
use crate::registry::publish::Target;

/// The no-op rebuild of everything must stay under this.
const NOOP_TARGET: Duration = Duration::from_secs(5);

/// Flags of `cargo xtask bench-images`.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(flatten)]
    images: ImageArgs,
    /// As for build-images.
    #[arg(long, env = "EXTRA_CA_CERTS", value_name = "PEM")]
    extra_ca_certs: Option<PathBuf>,
}

struct Row {
    variant: Variant,
    compressed: u64,
    uncompressed: u64,
    binary: u64,
    binary_gz: u64,
    node_gz: u64,
    budget: u64,
    /// The images the cold and warm builds made, removed once the moving tags are restored.
    bench_ids: Vec<String>,
    base_compressed: u64,
    cold: Duration,
    warm: Duration,
    noop: Duration,
}

/// Runs the benchmark and prints the table.
pub fn run(args: Args) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let docker = engine::connect().await?;
        let base = build::BuildArgs {
            images: args.images.clone(),
            no_pull: true,
            pull: false,
            slim_only: false,
            no_cache: false,
            extra_ca_certs: args.extra_ca_certs.clone(),
            no_test: true,
            push: false,
            target: Target::default(),
        };
        let present = build::build(&docker, &base).await?;
        let mut rows = Vec::new();
        for image in present.all() {
            rows.push(bench_one(&docker, &base, image.variant).await?);
        }
        // Point the moving tags back at the regular images, then time the no-op of everything.
        build::build(&docker, &base).await?;
        for id in rows.iter().flat_map(|r| &r.bench_ids) {
            let _ = docker
                .remove_image(
                    id,
                    None::<bollard::query_parameters::RemoveImageOptions>,
                    None,
                )
                .await;
        }
        let started = Instant::now();
        let noop_all = build::build(&docker, &base).await?;
        let noop_all_time = started.elapsed();
        if !noop_all.built.is_empty() {
            bail!("the no-op rebuild rebuilt images; the context is not deterministic");
        }
        print_table(&rows, noop_all_time, &noop_all);
        Ok(())
    })
}

async fn bench_one(
    docker: &Docker,
    base: &build::BuildArgs,
    variant: Variant,
) -> anyhow::Result<Row> {
    let with = |tag: &str, no_cache: bool| {
        let mut args = base.clone();
        args.images.assistant = Some(variant.assistant);
        args.images.base = Some(variant.base);
        args.images.tag = Some(tag.to_owned());
        args.no_cache = no_cache;
        args
    };
    let timed =
        |report: &BuildReport, started: Instant, expect_built: bool| -> anyhow::Result<Duration> {
            let built = !report.built.is_empty();
            if built != expect_built {
                bail!(
                    "[{variant}] expected {} build",
                    if expect_built { "a" } else { "no" }
                );
            }
            Ok(started.elapsed())
        };
    let started = Instant::now();
    let cold_report = build::build(docker, &with("bench-cold", true)).await?;
    let cold = timed(&cold_report, started, true)?;
    let started = Instant::now();
    let warm_report = build::build(docker, &with("bench-warm", false)).await?;
    let warm = timed(&warm_report, started, true)?;
    let started = Instant::now();
    let noop_report = build::build(docker, &with("bench-warm", false)).await?;
    let noop = timed(&noop_report, started, false)?;

    let image = warm_report
        .built
        .first()
        .context("the warm build left no image")?;
    let tested = container_checks::test_image(docker, &image.reference, &image.plan).await?;
    let base_size = size::measure(docker, &image.plan.base_image).await?;
    let bench_ids = [&cold_report, &warm_report]
        .iter()
        .flat_map(|r| r.built.iter().map(|b| b.id.clone()))
        .collect();
    Ok(Row {
        variant,
        compressed: tested.size.compressed,
        uncompressed: tested.size.uncompressed,
        binary: tested.binary_size,
        binary_gz: tested.binary_gzipped,
        node_gz: tested.node_gzipped,
        bench_ids,
        budget: tested.budget,
        base_compressed: base_size.compressed,
        cold,
        warm,
        noop,
    })
}

fn print_table(rows: &[Row], noop_all: Duration, report: &BuildReport) {
    println!(
        "{:<14} {:>11} {:>13} {:>10} {:>10} {:>10} {:>11} {:>7} {:>10} {:>10} {:>8} {:>8} {:>8}",
        "image",
        "compressed",
        "uncompressed",
        "binary",
        "binary.gz",
        "node.gz",
        "budget",
        "within",
        "base.gz",
        "over base",
        "cold",
        "warm",
        "no-op"
    );
    for r in rows {
        println!(
            "{:<14} {:>11} {:>13} {:>10} {:>10} {:>10} {:>11} {:>7} {:>10} {:>10} {:>7.1}s {:>7.1}s {:>7.2}s",
            r.variant.to_string(),
            mb(r.compressed),
            mb(r.uncompressed),
            mb(r.binary),
            mb(r.binary_gz),
            mb(r.node_gz),
            mb(r.budget),
            if r.compressed <= r.budget {
                "yes"
            } else {
                "NO"
            },
            mb(r.base_compressed),
            mb(r.compressed.saturating_sub(r.base_compressed)),
            r.cold.as_secs_f64(),
            r.warm.as_secs_f64(),
            r.noop.as_secs_f64(),
        );
    }
    println!(
        "no-op rebuild of everything ({} images): {:.2}s (target < {}s: {})",
        report.unchanged.len(),
        noop_all.as_secs_f64(),
        NOOP_TARGET.as_secs(),
        if noop_all < NOOP_TARGET {
            "met"
        } else {
            "MISSED"
        }
    );
}
