//! Building the selected images through the Docker Engine API, skipping the ones whose context
//! is unchanged: `cargo xtask build-images`, the benchmarks and the e2e suite all build this way.
//!
//! It works on a fresh machine: it starts the engine when none answers (as root on Debian,
//! installing it), pulls the pinned bases, and when no registry serves them builds the Debian
//! family on the local Debian stand-in (saying so in one line); variants that cannot be built
//! here are reported as skipped with the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, bail};
use bollard::Docker;
use clap::Parser;

use crate::engine;
use crate::images::args::ImageArgs;
use crate::images::artifacts::ArtifactStore;
use crate::images::builder::{BuildOptions, BuildOutcome, ImageBuilder, LocalImage};
use crate::images::debian_base::{self, DEBIAN_BASE_IMAGE};
use crate::images::entrypoint_binary;
use crate::images::lockfile::Lock;
use crate::images::manifest::{Base, Family, Manifest};
use crate::images::slim_image::{self, SlimImage, SlimPlan};
use crate::images::variants::BuildSettings;
use crate::registry::publish;
use crate::util::cmd;

/// Flags of `cargo xtask build-images`, also filled in by the benchmarks and the e2e suite.
#[derive(Debug, Clone, Parser)]
pub struct BuildArgs {
    #[command(flatten)]
    pub images: ImageArgs,
    /// Do not pull missing base images (the Debian family then builds on the local Debian
    /// stand-in, see `cargo xtask bootstrap-base`).
    #[arg(long)]
    pub no_pull: bool,
    /// Require the manifest's pinned base images: pull them when missing and fail when that is
    /// impossible, never building on a stand-in (release pipelines).
    #[arg(long, conflicts_with = "no_pull")]
    pub pull: bool,
    /// Rebuild every layer, even for unchanged contexts (scheduled rebuilds pick up base fixes).
    #[arg(long)]
    pub no_cache: bool,
    /// PEM bundle of extra CA certificates trusted during the build and in the images
    /// (intercepting proxies, private mirrors, self-managed GitLab with a private CA).
    #[arg(long, env = "EXTRA_CA_CERTS", value_name = "PEM")]
    pub extra_ca_certs: Option<PathBuf>,
    /// Build only the slim `entrypoint` image, none of the assistant images.
    #[arg(long)]
    pub slim_only: bool,
    /// Do not run `test-images` on the images built.
    #[arg(long)]
    pub no_test: bool,
    /// After building and testing, publish the selected images (see `cargo xtask publish`).
    #[arg(long)]
    pub push: bool,
    #[command(flatten)]
    pub target: publish::Target,
}

/// The images the build left, split by what happened.
#[derive(Debug, Default)]
pub struct BuildReport {
    /// Built now.
    pub built: Vec<LocalImage>,
    /// Already present with the same context hash.
    pub unchanged: Vec<LocalImage>,
    /// Variants this machine cannot build, with the reason.
    pub unavailable: Vec<String>,
    /// The slim `entrypoint` image, unless its base could not be had.
    pub slim: Option<SlimImage>,
}

impl BuildReport {
    /// Every image that exists after the build.
    pub fn all(&self) -> Vec<LocalImage> {
        self.built.iter().chain(&self.unchanged).cloned().collect()
    }
}

/// Builds the entrypoint and the selected variants; prints a summary.
pub async fn build(docker: &Docker, args: &BuildArgs) -> anyhow::Result<BuildReport> {
    let root = cmd::workspace_root()?;
    let manifest = Manifest::load(&root)?;
    let lock = Lock::load(&root)?;
    lock.check_matches(&manifest)?;
    let mut settings = args.images.settings(&root)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let extra_ca = match &args.extra_ca_certs {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("cannot read the extra CA certificates {}", path.display()))?,
        None => Vec::new(),
    };
    let variants = if args.slim_only {
        Vec::new()
    } else {
        args.images.variants()
    };
    let mut families = variants
        .iter()
        .map(|v| manifest.base(v.base).map(|b| b.family))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The slim image carries the Debian family's build.
    families.push(Family::Debian);
    let skipped = resolve_bases(docker, &manifest, &mut settings, args).await?;
    let options = BuildOptions {
        network: engine::build_network(docker).await?,
        no_cache: args.no_cache,
        extra_ca,
        entrypoints: entrypoint_binary::build(&root, &families)?,
        scratch: target.join("images"),
    };
    let store = ArtifactStore::open(lock)?;
    let builder = ImageBuilder {
        docker,
        root: &root,
        manifest: &manifest,
        settings: &settings,
        store: &store,
        options: &options,
    };
    let mut report = BuildReport::default();
    for variant in variants {
        if let Some(reason) = skipped.get(&variant.base) {
            eprintln!("[{variant}] skipped: {reason}");
            report.unavailable.push(variant.to_string());
            continue;
        }
        match builder
            .build(variant)
            .await
            .with_context(|| format!("building {variant}"))?
        {
            BuildOutcome::Built(image) => report.built.push(image),
            BuildOutcome::Unchanged(image) => report.unchanged.push(image),
            BuildOutcome::Unavailable(variant, reason) => {
                eprintln!("[{variant}] skipped: {reason}");
                report.unavailable.push(variant.to_string());
            }
        }
    }
    report.slim = match skipped.get(&manifest.default_base) {
        Some(reason) => {
            eprintln!("[{}] skipped: {reason}", slim_image::REPOSITORY);
            None
        }
        None => {
            let binary = match options.entrypoints.get(&Family::Debian) {
                Some(Ok(path)) => path.clone(),
                Some(Err(reason)) => bail!("the slim entrypoint image cannot be built: {reason}"),
                None => bail!("no entrypoint was built for the Debian family"),
            };
            let plan = SlimPlan::new(&manifest, &settings)?;
            Some(
                slim_image::build(docker, &root, plan, &settings, &options, &binary)
                    .await
                    .context("building the slim entrypoint image")?,
            )
        }
    };
    let slim = match &report.slim {
        Some(slim) if slim.built => "built",
        Some(_) => "unchanged",
        None => "skipped",
    };
    eprintln!(
        "built: {}; unchanged: {}; skipped: {}; slim entrypoint image: {slim}",
        names(&report.built),
        names(&report.unchanged),
        if report.unavailable.is_empty() {
            "none".to_owned()
        } else {
            report.unavailable.join(", ")
        }
    );
    if report.built.is_empty() && report.unchanged.is_empty() && report.slim.is_none() {
        bail!("none of the selected images can be built on this machine (see above)");
    }
    Ok(report)
}

/// Makes sure every selected base is there before building: an explicit `--base-image` is
/// used as given; else the manifest's pinned digest, pulled when missing (unless `--no-pull`).
/// When it cannot be had, a Debian-family base is replaced by the local Debian stand-in
/// (bootstrapped once and cached) with one line saying so; any other base's variants are
/// skipped, with the reason returned per base.
async fn resolve_bases(
    docker: &Docker,
    manifest: &Manifest,
    settings: &mut BuildSettings,
    args: &BuildArgs,
) -> anyhow::Result<BTreeMap<Base, String>> {
    let mut skipped = BTreeMap::new();
    let mut bases: BTreeSet<Base> = if args.slim_only {
        BTreeSet::new()
    } else {
        args.images.variants().iter().map(|v| v.base).collect()
    };
    // The slim entrypoint image gathers its files on the default base.
    bases.insert(manifest.default_base);
    for base in bases {
        if settings.base_images.contains_key(&base) {
            continue;
        }
        let spec = manifest.base(base)?;
        let pinned = match &spec.digest {
            Some(digest) => format!("{}@{digest}", spec.image),
            None => spec.image.clone(),
        };
        if engine::inspect_image(docker, &pinned).await?.is_some() {
            continue;
        }
        let why = if args.no_pull {
            "it is not present and --no-pull was given".to_owned()
        } else {
            match engine::pull(docker, &pinned).await? {
                Ok(()) => {
                    eprintln!("[{base}] pulled {pinned}");
                    continue;
                }
                Err(err) if args.pull => bail!(
                    "[{base}] --pull requires the pinned base {pinned}, and pulling it failed: {err}. Check the registry connection (or drop --pull to build the Debian family on the local stand-in)"
                ),
                Err(err) => format!("no registry serves it here ({err})"),
            }
        };
        match spec.family {
            Family::Debian => {
                eprintln!(
                    "[{base}] the pinned base {pinned} cannot be had: {why}; building on the local Debian stand-in {DEBIAN_BASE_IMAGE} instead (debootstrap, cached; published images are built on the real base)"
                );
                debian_base::ensure(docker, false, debian_base::DEFAULT_MIRROR).await?;
                settings
                    .base_images
                    .insert(base, DEBIAN_BASE_IMAGE.to_owned());
            }
            Family::Alpine => {
                skipped.insert(
                    base,
                    format!(
                        "its pinned base {pinned} cannot be had: {why}; there is no local stand-in, because the alpine family also installs from Alpine's package mirror. It is built in the release pipeline, or here with a registry and Alpine mirror reachable"
                    ),
                );
            }
        }
    }
    Ok(skipped)
}

fn names(images: &[LocalImage]) -> String {
    if images.is_empty() {
        return "none".to_owned();
    }
    images
        .iter()
        .map(|i| i.variant.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
