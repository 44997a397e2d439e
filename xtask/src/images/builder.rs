//! Building one variant through the Engine API: resolve the base, fetch the artifacts, assemble
//! the deterministic context, skip the build when an image with the same context hash exists,
//! else stream the context to `POST /build` and report one line per Dockerfile step.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, RemoveImageOptions, TagImageOptionsBuilder,
};
use futures::StreamExt;
use tokio_util::io::ReaderStream;

use crate::engine::progress::Step;
use crate::engine::{self, mb};
use crate::images::artifacts::ArtifactStore;
use crate::images::context::{BuildContext, ContextHash};
use crate::images::debian_base::DEBIAN_BASE_IMAGE;
use crate::images::entrypoint_binary::EntrypointBinaries;
use crate::images::manifest::{Family, Manifest};
use crate::images::payload::{self, PayloadInputs};
use crate::images::variants::{BuildSettings, VARIANT_LABEL, Variant, VariantPlan};
use crate::registry::oci::host_arch;

/// The label carrying the context hash an image was built from.
pub const CONTEXT_HASH_LABEL: &str = "gitlab-ai.context-hash";

/// A whole image build may take this long (context upload, package installs, layer commits).
const BUILD_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// How the builds run.
pub struct BuildOptions {
    /// Rebuild every layer even when the context is unchanged.
    pub no_cache: bool,
    /// PEM bundle trusted during the build and in the image.
    pub extra_ca: Vec<u8>,
    /// The release entrypoint binary per image family.
    pub entrypoints: EntrypointBinaries,
    /// Where context tarballs are written while building.
    pub scratch: PathBuf,
    /// The network of the build's `RUN` steps when not the engine's default bridge (`host` on an
    /// engine started without one, see [`engine::build_network`]).
    pub network: Option<String>,
}

/// An image that exists locally for a variant.
#[derive(Clone, Debug)]
pub struct LocalImage {
    /// Which variant.
    pub variant: Variant,
    /// Its row of the variant table.
    pub plan: VariantPlan,
    /// The content-addressed local reference (`gitlab-ai/claude:ctx-…`).
    pub reference: String,
    /// The image id.
    pub id: String,
    /// The context hash it was built from.
    pub hash: ContextHash,
}

/// What happened to one variant.
#[derive(Debug)]
pub enum BuildOutcome {
    /// Built now.
    Built(LocalImage),
    /// An image with the same context hash existed; only the moving tag was updated.
    Unchanged(LocalImage),
    /// It cannot be built on this machine (its base is unavailable); the reason says why.
    Unavailable(Variant, String),
}

/// Builds variants against one engine.
pub struct ImageBuilder<'a> {
    /// The engine.
    pub docker: &'a Docker,
    /// The workspace root (Dockerfiles under `images/`).
    pub root: &'a Path,
    /// The manifest.
    pub manifest: &'a Manifest,
    /// Labels and base replacements.
    pub settings: &'a BuildSettings,
    /// Where artifacts come from.
    pub store: &'a ArtifactStore,
    /// How.
    pub options: &'a BuildOptions,
}

impl ImageBuilder<'_> {
    /// Builds `variant` unless unchanged or unavailable.
    pub async fn build(&self, variant: Variant) -> anyhow::Result<BuildOutcome> {
        let started = Instant::now();
        let plan = VariantPlan::new(self.manifest, self.settings, variant)?;
        let base_id = match self.base_image_id(&plan).await? {
            Ok(id) => id,
            Err(reason) => return Ok(BuildOutcome::Unavailable(variant, reason)),
        };
        let family = self.manifest.base(variant.base)?.family;
        let entrypoint = match self.options.entrypoints.get(&family) {
            Some(Ok(path)) => path.clone(),
            Some(Err(reason)) => return Ok(BuildOutcome::Unavailable(variant, reason.clone())),
            None => bail!("no entrypoint was built for the {family:?} family"),
        };
        let mut artifacts = Vec::new();
        let arch = host_arch()?;
        for (role, package) in self
            .manifest
            .artifacts(variant.assistant, variant.base, arch)?
        {
            artifacts.push((role, self.store.fetch(&package).await?));
        }
        let dockerfile_path = self.root.join("images").join(plan.dockerfile);
        let dockerfile = std::fs::read_to_string(&dockerfile_path)
            .with_context(|| format!("cannot read {}", dockerfile_path.display()))?;
        let mut payload = payload::assemble(PayloadInputs {
            plan: &plan,
            dockerfile,
            extra_ca: self.options.extra_ca.clone(),
            entrypoint: &entrypoint,
            artifacts: &artifacts,
        })?;
        payload.context.add_input("base-image-id", &base_id);
        let hash = payload.context.hash();
        let reference = format!(
            "{}:ctx-{}",
            variant.local_repo(&self.settings.local_namespace),
            hash.short()
        );
        let image = |id: String| LocalImage {
            variant,
            plan: plan.clone(),
            reference: reference.clone(),
            id,
            hash,
        };

        if !self.options.no_cache
            && let Some(existing) = engine::inspect_image(self.docker, &reference).await?
        {
            self.tag_moving(variant, &reference).await?;
            eprintln!(
                "[{variant}] unchanged (context {}), {reference}",
                hash.short()
            );
            return Ok(BuildOutcome::Unchanged(image(
                existing.id.unwrap_or_default(),
            )));
        }

        let mut labels = plan.labels.clone();
        labels.insert(CONTEXT_HASH_LABEL.to_owned(), hash.to_string());
        let id = build_context(
            self.docker,
            self.options,
            ContextBuild {
                name: &variant.to_string(),
                context: &payload.context,
                dockerfile: plan.dockerfile,
                from: &plan.base_image,
                reference: &reference,
                build_args: &plan.build_args,
                labels: &labels,
            },
        )
        .await?;
        self.tag_moving(variant, &reference).await?;
        self.remove_older_builds(variant, &id).await?;
        let elapsed = started.elapsed();
        eprintln!("[{variant}] built {reference} ({id}) in {elapsed:.1?}");
        Ok(BuildOutcome::Built(image(id)))
    }

    /// The base image's id; `Err(reason)` when it is not present (`build-images` pulls or
    /// bootstraps the bases before building).
    async fn base_image_id(&self, plan: &VariantPlan) -> anyhow::Result<Result<String, String>> {
        if let Some(image) = engine::inspect_image(self.docker, &plan.base_image).await? {
            return Ok(Ok(image.id.unwrap_or_default()));
        }
        let family = self.manifest.base(plan.variant.base)?.family;
        let remedy = match family {
            Family::Debian => format!(
                "build or pull it first, or build on the local Debian stand-in: `cargo xtask bootstrap-base`, then --base-image {}={DEBIAN_BASE_IMAGE}",
                plan.variant.base
            ),
            Family::Alpine => "the alpine family also needs an Alpine package mirror, so it is built where both are reachable (the release pipeline)".to_owned(),
        };
        Ok(Err(format!(
            "its base image {} is not present locally; {remedy}",
            plan.base_image
        )))
    }

    /// Untags the variant's earlier `ctx-…` builds (see [`remove_older_builds`]).
    async fn remove_older_builds(&self, variant: Variant, keep_id: &str) -> anyhow::Result<()> {
        let prefix = format!(
            "{}:ctx-",
            variant.local_repo(&self.settings.local_namespace)
        );
        remove_older_builds(
            self.docker,
            &variant.to_string(),
            &variant.to_string(),
            &prefix,
            keep_id,
        )
        .await
    }

    /// Points `gitlab-ai/<assistant>:<base>` at the image.
    async fn tag_moving(&self, variant: Variant, reference: &str) -> anyhow::Result<()> {
        let options = TagImageOptionsBuilder::default()
            .repo(&variant.local_repo(&self.settings.local_namespace))
            .tag(variant.base.name())
            .build();
        self.docker
            .tag_image(reference, Some(options))
            .await
            .with_context(|| {
                format!(
                    "cannot tag {reference} as {}",
                    variant.local_image(&self.settings.local_namespace)
                )
            })
    }
}

/// One image build from an assembled context.
pub struct ContextBuild<'a> {
    /// What is built, in log lines and the scratch tarball's name (`claude-ubuntu`).
    pub name: &'a str,
    /// The context.
    pub context: &'a BuildContext,
    /// The Dockerfile's path inside the context.
    pub dockerfile: &'a str,
    /// The base image, for the log line.
    pub from: &'a str,
    /// The content-addressed tag to build (`gitlab-ai/claude:ctx-…`).
    pub reference: &'a str,
    /// `--build-arg`s.
    pub build_args: &'a BTreeMap<String, String>,
    /// Labels, the context hash among them.
    pub labels: &'a BTreeMap<String, String>,
}

/// Writes the context to a tarball in the scratch directory, streams it to `POST /build` and
/// returns the image id; the tarball is removed whatever happens.
pub async fn build_context(
    docker: &Docker,
    options: &BuildOptions,
    build: ContextBuild<'_>,
) -> anyhow::Result<String> {
    let name = build.name;
    std::fs::create_dir_all(&options.scratch)?;
    let tar_path = options.scratch.join(format!("{name}.tar"));
    let file = std::fs::File::create(&tar_path)
        .with_context(|| format!("cannot create {}", tar_path.display()))?;
    let file = build
        .context
        .write_tar(std::io::BufWriter::new(file))?
        .into_inner()
        .map_err(|e| e.into_error())?;
    let size = file.metadata()?.len();
    drop(file);
    eprintln!(
        "[{name}] building {} from {} (context {})",
        build.reference,
        build.from,
        mb(size)
    );
    let labels: HashMap<String, String> = build.labels.clone().into_iter().collect();
    let build_args: HashMap<String, String> = build.build_args.clone().into_iter().collect();
    let mut builder = BuildImageOptionsBuilder::default()
        .dockerfile(build.dockerfile)
        .t(build.reference)
        .buildargs(&build_args)
        .labels(&labels)
        .rm(true)
        .forcerm(true)
        .nocache(options.no_cache);
    if let Some(network) = &options.network {
        builder = builder.networkmode(network);
    }
    let body = bollard::body_try_stream(ReaderStream::new(tokio::fs::File::open(&tar_path).await?));
    let stream = docker.build_image(builder.build(), None, Some(body));
    let result = tokio::time::timeout(BUILD_TIMEOUT, drain_build(name, stream)).await;
    let _ = std::fs::remove_file(&tar_path);
    match result {
        Ok(result) => result,
        Err(_) => bail!("[{name}] the build did not finish within {BUILD_TIMEOUT:?}"),
    }
}

/// Untags the earlier `ctx-…` builds of the image labelled `VARIANT_LABEL=label` (tags starting
/// with `prefix`) so a machine that builds every commit does not keep every image; layers still
/// used by the new image (`keep_id`) stay.
pub async fn remove_older_builds(
    docker: &Docker,
    name: &str,
    label: &str,
    prefix: &str,
    keep_id: &str,
) -> anyhow::Result<()> {
    let images = engine::list_images(
        docker,
        &[("label", vec![format!("{VARIANT_LABEL}={label}")])],
    )
    .await
    .context("cannot list earlier builds")?;
    for image in images.into_iter().filter(|i| i.id != keep_id) {
        // An earlier build whose last tag moved away: remove it by id.
        let untagged = image.repo_tags.iter().all(|t| t == "<none>:<none>");
        let targets: Vec<&String> = if untagged {
            vec![&image.id]
        } else {
            image
                .repo_tags
                .iter()
                .filter(|t| t.starts_with(prefix))
                .collect()
        };
        for tag in targets {
            match docker
                .remove_image(tag, None::<RemoveImageOptions>, None)
                .await
            {
                Ok(_) => eprintln!("[{name}] removed the earlier build {tag}"),
                // Still used by a container or another tag: leave it.
                Err(err) => eprintln!("[{name}] kept {tag}: {err}"),
            }
        }
    }
    Ok(())
}

/// Prints one line per Dockerfile step, keeps the rest of the output for error reports, and
/// returns the built image's id; an error item fails with the daemon's message in full.
async fn drain_build(
    variant: &str,
    stream: impl futures::Stream<Item = Result<bollard::models::BuildInfo, DockerError>>,
) -> anyhow::Result<String> {
    const KEPT_LINES: usize = 60;
    let mut recent: VecDeque<String> = VecDeque::with_capacity(KEPT_LINES);
    let mut id = None;
    // Package installs and the layer commit of a step stream nothing for minutes.
    let step = Step::spinner(&format!("[{variant}] sending the build context"));
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(err) => {
                let output: Vec<String> = recent.into_iter().collect();
                bail!(
                    "[{variant}] the build failed: {err}\n[{variant}] last output:\n{}",
                    output.join("\n")
                );
            }
        };
        if let Some(aux) = info.aux.and_then(|a| a.id) {
            id = Some(aux);
        }
        for line in info.stream.as_deref().unwrap_or("").lines() {
            let line = line.trim_end();
            if line.starts_with("Step ") {
                let shown: String = line.chars().take(160).collect();
                step.println(&format!("[{variant}] {shown}"));
                let short: String = line.chars().take(70).collect();
                step.set_what(&format!("[{variant}] {short}"));
            } else if !line.is_empty() {
                if recent.len() == KEPT_LINES {
                    recent.pop_front();
                }
                recent.push_back(line.to_owned());
            }
        }
    }
    id.with_context(|| format!("[{variant}] the build stream ended without an image id"))
}
