//! Tagging the local images for the registry, pushing every tag, checking that the registry
//! serves the digest the push reported, and signing/attesting them: `cargo xtask publish`,
//! `build-images --push` and the e2e suite publish this way.
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

use ai_core::Secret;
use anyhow::{Context, bail};
use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use futures::StreamExt;
use std::sync::Arc;

use crate::engine::container::{self, Entrypoint, RunSpec};
use crate::engine::{self, mb};
use crate::images::args::ImageArgs;
use crate::images::builder::CONTEXT_HASH_LABEL;
use crate::images::lockfile::Lock;
use crate::images::manifest::{Base, Manifest};
use crate::images::revision;
use crate::images::slim_image;
use crate::images::variants::{TagPolicy, Variant, published_tags};
use crate::registry::credentials::{self, CredentialInputs};
use crate::registry::image_index::{self, AssembledIndex};
use crate::registry::oci::Arch;
use crate::registry::oci::host_arch;
use crate::registry::skip::{self, PushPlan};
use crate::registry::{self, Credentials, RegistryClient, Repository};
use crate::supply_chain::keyless::{self, KeylessSigner};
use crate::supply_chain::sbom::{self, Component, Subject};
use crate::supply_chain::signing::SigningKey;
use crate::supply_chain::{self, Attachments, Signer};
use crate::util::cmd;

/// The variable holding the CI job's OIDC ID token for Fulcio: the name GitLab's signing
/// examples give it and cosign reads (https://docs.gitlab.com/ci/yaml/signing_examples/).
pub const ID_TOKEN_VARIABLE: &str = "SIGSTORE_ID_TOKEN";

/// Where to publish, and as whom.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Target {
    /// The registry path the images go under (`<it>/claude:<tag>`).
    #[arg(long, env = "CI_REGISTRY_IMAGE", value_name = "HOST/PATH")]
    pub registry_image: Option<String>,
    /// Registry user.
    #[arg(long, env = "CI_REGISTRY_USER")]
    pub registry_user: Option<String>,
    /// Registry password or token.
    #[arg(long, env = "CI_REGISTRY_PASSWORD", hide_env_values = true)]
    pub registry_password: Option<String>,
    /// Also move `<base>` and `latest` without a release (e.g. on the default branch).
    #[arg(long)]
    pub latest: bool,
    /// The ECDSA P-256 key (PKCS#8 PEM) the published images and indexes are signed with, in
    /// cosign's format; each image also gets its SBOM and provenance attached. Required for
    /// releases. `cargo xtask verify-image --generate-key DIR` makes one.
    #[arg(long, env = "IMAGE_SIGNING_KEY_FILE", value_name = "PEM")]
    pub signing_key: Option<std::path::PathBuf>,
    /// Also (or only) sign keylessly: exchange the CI job's OIDC ID token `SIGSTORE_ID_TOKEN`
    /// (`id_tokens:` with `aud: sigstore`) at Fulcio for a certificate of an ephemeral key, as
    /// `cosign sign` does without a key. No transparency-log entry is made (see images/README.md).
    #[arg(long)]
    pub keyless: bool,
    /// The Fulcio instance `--keyless` asks for certificates.
    #[arg(long, default_value = keyless::PUBLIC_FULCIO, value_name = "URL")]
    pub fulcio_url: String,
    /// The ID token for `--keyless`; read from `SIGSTORE_ID_TOKEN` when not set here. Never a
    /// flag: a token on a command line is visible to every process of the machine.
    #[arg(skip)]
    pub id_token: Option<Secret>,
}

/// One image `publish` handles: an assistant image, or the slim `entrypoint` image that the
/// templates' acknowledgement job, the relay, `setup` and `doctor` run (issue 16). Both are
/// pushed, checked, signed and attested the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublishedImage {
    /// `<registry image>/<assistant>:<tag>`.
    Assistant(Variant),
    /// `<registry image>/entrypoint:<tag>`.
    Entrypoint,
}

impl std::fmt::Display for PublishedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublishedImage::Assistant(variant) => variant.fmt(f),
            PublishedImage::Entrypoint => f.write_str(slim_image::REPOSITORY),
        }
    }
}

impl PublishedImage {
    /// The images a run with these flags publishes: the selected variants, and the slim image
    /// unless `--assistant` names one assistant or `--base` a base the slim image is not built
    /// from (it is gathered on the default base).
    pub fn select(images: &ImageArgs, default_base: Base) -> Vec<PublishedImage> {
        let mut out: Vec<PublishedImage> = images
            .variants()
            .into_iter()
            .map(PublishedImage::Assistant)
            .collect();
        if images.assistant.is_none() && images.base.is_none_or(|b| b == default_base) {
            out.push(PublishedImage::Entrypoint);
        }
        out
    }

    /// The local image `build-images` leaves.
    fn local_image(self, namespace: &str) -> String {
        match self {
            PublishedImage::Assistant(variant) => variant.local_image(namespace),
            PublishedImage::Entrypoint => slim_image::local_image(namespace),
        }
    }

    /// The last path segment of its repository in the registry.
    fn repository_name(self) -> String {
        match self {
            PublishedImage::Assistant(variant) => variant.assistant.to_string(),
            PublishedImage::Entrypoint => slim_image::REPOSITORY.to_owned(),
        }
    }
}

/// One pushed image.
#[derive(Debug, Clone)]
pub struct Published {
    /// Which image.
    pub image: PublishedImage,
    /// `<registry image>/<assistant>` or `<registry image>/entrypoint`.
    pub repository: String,
    /// Every tag pushed.
    pub tags: Vec<String>,
    /// The manifest digest the registry serves for all of them.
    pub digest: String,
    /// Sum of the layer sizes in the registry's manifest.
    pub compressed_size: u64,
}

/// Where to publish and as whom, resolved from the flags and the environment.
struct Destination {
    registry_image: String,
    credentials: Option<Credentials>,
}

impl Destination {
    fn resolve(target: &Target) -> anyhow::Result<Self> {
        let registry_image = target
            .registry_image
            .clone()
            .filter(|s| !s.is_empty())
            .context(
                "no registry to publish to: set CI_REGISTRY_IMAGE or pass --registry-image HOST/PATH",
            )?;
        let registry_image = registry_image.trim_end_matches('/').to_owned();
        let host = Repository::parse(&format!("{registry_image}/probe"))?.host;
        let inputs = CredentialInputs::from_env(
            target.registry_user.clone(),
            target.registry_password.clone(),
        );
        let credentials = match credentials::resolve(&inputs, &host)? {
            Some((credentials, source)) => {
                eprintln!(
                    "registry {host}: authenticating as {} (from {source})",
                    credentials.username
                );
                Some(credentials)
            }
            None => {
                eprintln!("registry {host}: no credentials found; trying anonymously");
                None
            }
        };
        Ok(Destination {
            registry_image,
            credentials,
        })
    }

    fn repository(&self, image: PublishedImage) -> String {
        format!("{}/{}", self.registry_image, image.repository_name())
    }

    fn client(&self, repository: &str) -> anyhow::Result<RegistryClient> {
        RegistryClient::new(Repository::parse(repository)?, self.credentials.clone())
    }
}

/// What one publish run needs for every variant: where, as whom, which tags, and who signs.
struct Run {
    destination: Destination,
    signing_key: Option<Arc<SigningKey>>,
    /// Fulcio's URL and the ID token, for `--keyless`.
    keyless: Option<(String, Secret)>,
    default_base: Base,
    release: Option<String>,
    moving: bool,
    short_sha: String,
}

impl Run {
    fn prepare(images: &ImageArgs, target: &Target) -> anyhow::Result<Self> {
        let root = cmd::workspace_root()?;
        let signing_key = match &target.signing_key {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "cannot read the signing key {} (IMAGE_SIGNING_KEY_FILE)",
                        path.display()
                    )
                })?;
                Some(Arc::new(SigningKey::from_pem(
                    &text,
                    &path.display().to_string(),
                )?))
            }
            None if target.keyless => None,
            None if images.release().is_some() => bail!(
                "a release must be signed: pass --signing-key PEM or set IMAGE_SIGNING_KEY_FILE (a protected CI/CD file variable in the release pipeline; `cargo xtask verify-image --generate-key DIR` makes a key pair), or --keyless with SIGSTORE_ID_TOKEN"
            ),
            None => {
                eprintln!(
                    "no signing key (--signing-key / IMAGE_SIGNING_KEY_FILE): these images are published unsigned and without SBOM"
                );
                None
            }
        };
        let keyless = if target.keyless {
            let token = target
                .id_token
                .clone()
                .or_else(|| std::env::var(ID_TOKEN_VARIABLE).ok().map(Secret::new))
                .filter(|t| !t.expose().is_empty())
                .with_context(|| {
                    format!("--keyless needs the CI job's OIDC ID token in {ID_TOKEN_VARIABLE}: add `id_tokens: {ID_TOKEN_VARIABLE}: aud: sigstore` to the job")
                })?;
            Some((target.fulcio_url.clone(), token))
        } else {
            None
        };
        Ok(Run {
            destination: Destination::resolve(target)?,
            signing_key,
            keyless,
            default_base: Manifest::load(&root)?.default_base,
            release: images.release(),
            moving: target.latest,
            short_sha: revision::short_sha(&root)?,
        })
    }

    /// Who signs one image: the key, and a fresh Fulcio certificate (10 minutes of validity,
    /// so one per image rather than one for a run that pushes for longer). Empty when the run
    /// signs nothing.
    async fn signers(&self) -> anyhow::Result<Vec<Signer>> {
        let mut signers = Vec::new();
        if let Some(key) = &self.signing_key {
            signers.push(Signer::Key(key.clone()));
        }
        if let Some((fulcio, token)) = &self.keyless {
            signers.push(Signer::Keyless(KeylessSigner::obtain(fulcio, token).await?));
        }
        Ok(signers)
    }

    /// The tags `image` is published under (see [`published_tags`] and
    /// [`slim_image::published_tags`]).
    fn tags(&self, image: PublishedImage) -> Vec<String> {
        let policy = TagPolicy {
            release: self.release.as_deref(),
            moving: self.moving,
            short_sha: &self.short_sha,
        };
        match image {
            PublishedImage::Assistant(variant) => {
                published_tags(variant, policy, self.default_base)
            }
            PublishedImage::Entrypoint => slim_image::published_tags(policy),
        }
    }
}

/// Publishes every selected image that exists locally (`gitlab-ai/<assistant>:<base>`,
/// `gitlab-ai/entrypoint:slim`) under plain (single-platform) tags.
pub async fn publish(
    docker: &Docker,
    images: &ImageArgs,
    target: &Target,
) -> anyhow::Result<Vec<Published>> {
    publish_for(docker, images, target, None).await
}

/// Publishes every selected variant that exists locally; with `arch`, under `<tag>-<arch>`.
/// Images whose context the registry already holds are not pushed again (see
/// [`skip`]).
pub async fn publish_for(
    docker: &Docker,
    images: &ImageArgs,
    target: &Target,
    arch: Option<Arch>,
) -> anyhow::Result<Vec<Published>> {
    let run = Run::prepare(images, target)?;
    let destination = &run.destination;
    let mut published = Vec::new();
    for image in PublishedImage::select(images, run.default_base) {
        let local = image.local_image(&images.local_namespace);
        let Some(inspect) = engine::inspect_image(docker, &local).await? else {
            eprintln!("[{image}] {local} does not exist locally; not published (build it first)");
            continue;
        };
        let image_arch = match (arch, inspect.architecture.as_deref()) {
            (Some(wanted), Some(actual)) if actual != wanted.name() => {
                bail!("[{image}] {local} is a {actual} image; it cannot be published as {wanted}")
            }
            (Some(wanted), _) => wanted,
            (None, actual) => actual
                .and_then(|a| a.parse().ok())
                .or_else(Arch::host)
                .context("the image's architecture is neither amd64 nor arm64")?,
        };
        let context = inspect
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .and_then(|l| l.get(CONTEXT_HASH_LABEL))
            .cloned()
            .with_context(|| {
                format!("{local} has no {CONTEXT_HASH_LABEL} label: build it with `cargo xtask build-images`")
            })?;
        let repository = destination.repository(image);
        let mut tags = run.tags(image);
        if let Some(arch) = arch {
            tags = tags
                .iter()
                .map(|t| image_index::platform_tag(t, arch))
                .collect();
        }
        let client = destination.client(&repository)?;
        let plan = skip::plan(&client, &tags, &context, image_arch)
            .await
            .with_context(|| format!("reading {repository} from the registry"))?;
        eprintln!("[{image}] {plan}");
        let digest = match &plan {
            PushPlan::AlreadyPublished { existing } => existing.manifest.digest.clone(),
            PushPlan::Retag {
                existing, missing, ..
            } => {
                skip::retag(&client, existing, missing)
                    .await
                    .with_context(|| format!("tagging {repository} in the registry"))?;
                existing.manifest.digest.clone()
            }
            PushPlan::Push => push_tags(
                docker,
                &local,
                &repository,
                &tags,
                destination.credentials.as_ref(),
            )
            .await
            .with_context(|| format!("publishing {image}"))?,
        };
        let repo = client.repository();
        let mut compressed_size = 0;
        for tag in &tags {
            let remote = registry::fetch_manifest(repo, tag, destination.credentials.as_ref())
                .await
                .with_context(|| format!("reading {repository}:{tag} back from the registry"))?;
            if remote.digest != digest {
                bail!(
                    "{repository}:{tag} is served with digest {}, but the publish reported {digest}",
                    remote.digest
                );
            }
            compressed_size = remote.compressed_size;
        }
        eprintln!(
            "[{image}] published {repository}@{digest} as {} ({} compressed, per the registry)",
            tags.join(", "),
            mb(compressed_size)
        );
        let signers = run.signers().await?;
        if !signers.is_empty() {
            let attachments = attachments(docker, image, &local, &repository, &digest)
                .await
                .with_context(|| format!("[{image}] making the SBOM and provenance"))?;
            supply_chain::sign_and_attest(&client, &digest, &signers, &attachments).await?;
        }
        published.push(Published {
            image,
            repository,
            tags,
            digest,
            compressed_size,
        });
    }
    if published.is_empty() {
        bail!("none of the selected images exists locally: run `cargo xtask build-images` first");
    }
    Ok(published)
}

/// Assembles each selected variant's tags as OCI indexes of the `<tag>-<arch>` images already
/// in the registry, and verifies them by reading them back.
pub async fn publish_indexes(
    images: &ImageArgs,
    target: &Target,
    archs: &[Arch],
) -> anyhow::Result<Vec<AssembledIndex>> {
    let run = Run::prepare(images, target)?;
    let destination = &run.destination;
    let mut indexes = Vec::new();
    for image in PublishedImage::select(images, run.default_base) {
        let repository = destination.repository(image);
        let client = destination.client(&repository)?;
        for tag in run.tags(image) {
            let started = std::time::Instant::now();
            let index = image_index::assemble(&client, &tag, archs)
                .await
                .with_context(|| format!("assembling {repository}:{tag}"))?;
            let platforms: Vec<String> = index
                .manifests
                .iter()
                .map(|d| {
                    let platform = d
                        .platform
                        .as_ref()
                        .map(|p| p.to_string())
                        .unwrap_or_default();
                    format!("{platform} {}", d.digest)
                })
                .collect();
            let signers = run.signers().await?;
            if !signers.is_empty() {
                supply_chain::sign(&client, &index.digest, &signers).await?;
            }
            eprintln!(
                "[{image}] {repository}:{} = index {} ({}), written and verified in {:.1?}",
                index.tag,
                index.digest,
                platforms.join(", "),
                started.elapsed()
            );
            indexes.push(index);
        }
    }
    Ok(indexes)
}

/// Tags `local` as `repository:tag` and pushes each tag; returns the digest the pushes reported
/// (all tags of one image share it). Error items in the push stream fail the push.
pub(crate) async fn push_tags(
    docker: &Docker,
    local: &str,
    repository: &str,
    tags: &[String],
    credentials: Option<&Credentials>,
) -> anyhow::Result<String> {
    let server = Repository::parse(repository)?.host;
    let docker_credentials = credentials.map(|c| DockerCredentials {
        username: Some(c.username.clone()),
        password: Some(c.password.expose().to_owned()),
        serveraddress: Some(server.clone()),
        ..Default::default()
    });
    let mut digest: Option<String> = None;
    for tag in tags {
        docker
            .tag_image(
                local,
                Some(
                    TagImageOptionsBuilder::default()
                        .repo(repository)
                        .tag(tag)
                        .build(),
                ),
            )
            .await
            .with_context(|| format!("cannot tag {local} as {repository}:{tag}"))?;
        // An explicit tag: without one the engine pushes every local tag of the repository.
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let mut stream = docker.push_image(repository, Some(options), docker_credentials.clone());
        let mut reported = None;
        while let Some(item) = stream.next().await {
            let info = item.with_context(|| format!("pushing {repository}:{tag}"))?;
            if let Some(status) = info.status.as_deref()
                && let Some(rest) = status.split_once(" digest: ").map(|(_, r)| r)
            {
                reported = rest.split_whitespace().next().map(str::to_owned);
            }
        }
        let reported = reported
            .with_context(|| format!("the push of {repository}:{tag} reported no digest"))?;
        eprintln!("pushed {repository}:{tag} ({reported})");
        match &digest {
            Some(d) if *d != reported => {
                bail!("{repository}:{tag} got digest {reported}, other tags {d}")
            }
            _ => digest = Some(reported),
        }
    }
    digest.context("no tags to push")
}

/// Prints the image's OS id, then one `name<TAB>version` line per dpkg package, or `apk info -v`.
const PACKAGES_PROBE: &str = ". /etc/os-release && echo \"$ID\" && if command -v dpkg-query >/dev/null; then dpkg-query -W -f '${Package}\\t${Version}\\n'; else apk info -v; fi";

/// The SBOM and provenance of a published image: the pinned artifacts with their integrity, the
/// distribution packages as the image's own package database lists them, the entrypoint's
/// crates; the source revision, the pipeline and the job that built it (GitLab's predefined
/// variables, https://docs.gitlab.com/ci/variables/predefined_variables/).
async fn attachments(
    docker: &Docker,
    image: PublishedImage,
    local: &str,
    repository: &str,
    digest: &str,
) -> anyhow::Result<Attachments> {
    let root = cmd::workspace_root()?;
    let mut components = Vec::new();
    let probe = match image {
        PublishedImage::Assistant(variant) => {
            let manifest = Manifest::load(&root)?;
            let lock = Lock::load(&root)?;
            for (_, package) in manifest.artifacts(variant.assistant, variant.base, host_arch()?)? {
                components.push(Component::Npm {
                    integrity: lock.integrity_of(&package)?,
                    name: package.name,
                    version: package.version,
                });
            }
            PACKAGES_PROBE.to_owned()
        }
        // `scratch` has no package database: the build wrote the owners of its files.
        PublishedImage::Entrypoint => format!("cat {}", slim_image::PACKAGES_FILE),
    };
    let out = container::run(
        docker,
        local,
        &RunSpec::new(Entrypoint::Cleared, &["sh", "-c", &probe]),
    )
    .await?;
    if out.exit_code != 0 {
        bail!(
            "listing the packages of {local} failed: {}",
            out.stderr.trim()
        );
    }
    let (distro, listing) = out
        .stdout
        .split_once('\n')
        .unwrap_or((out.stdout.as_str(), ""));
    let packages = sbom::distro_packages(distro.trim(), listing);
    if packages.is_empty() {
        bail!("{local} lists no distribution packages");
    }
    components.extend(packages);
    components.extend(sbom::crate_closure(&root.join("Cargo.lock"), "entrypoint")?);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let source = revision::source_url(&root);
    let subject = Subject {
        repository: repository.to_owned(),
        digest: digest.to_owned(),
    };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let builder = env("CI_JOB_URL").unwrap_or_else(|| {
        format!(
            "cargo xtask publish (gitlab-ai-xtask {}, outside CI)",
            env!("CARGO_PKG_VERSION")
        )
    });
    Ok(Attachments {
        sbom: sbom::spdx(&subject, &source, &now, &components)?,
        provenance: sbom::provenance(
            &source,
            &revision::commit_sha(&root)?,
            env("CI_PIPELINE_URL").as_deref(),
            &builder,
            &now,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ai_core::Assistant;

    fn args(assistant: Option<Assistant>, base: Option<Base>) -> ImageArgs {
        ImageArgs {
            assistant,
            base,
            base_images: Vec::new(),
            tag: None,
            local_namespace: crate::images::variants::LOCAL_NAMESPACE.to_owned(),
        }
    }

    fn names(images: &[PublishedImage]) -> Vec<String> {
        images.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_slim_image_is_published_with_the_assistant_images_unless_filtered_out() {
        let all = PublishedImage::select(&args(None, None), Base::Ubuntu);
        assert_eq!(
            names(&all),
            [
                "claude-alpine",
                "claude-ubuntu",
                "codex-alpine",
                "codex-ubuntu",
                "entrypoint"
            ]
        );
        let ubuntu = PublishedImage::select(&args(None, Some(Base::Ubuntu)), Base::Ubuntu);
        assert_eq!(
            names(&ubuntu),
            ["claude-ubuntu", "codex-ubuntu", "entrypoint"]
        );
        // The slim image is gathered on the default base: an alpine-only run does not carry it.
        let alpine = PublishedImage::select(&args(None, Some(Base::Alpine)), Base::Ubuntu);
        assert_eq!(names(&alpine), ["claude-alpine", "codex-alpine"]);
        let claude = PublishedImage::select(&args(Some(Assistant::Claude), None), Base::Ubuntu);
        assert!(!claude.contains(&PublishedImage::Entrypoint));
    }

    /// `publish --index --keyless` for a release, against Debian's real registry and the Fulcio
    /// double: every index of every tag of claude, codex and the slim entrypoint image is
    /// written and signed with a certificate for the release job, and (with its platform images
    /// signed the same way, as `publish --arch --keyless` does) verifies with that identity.
    #[tokio::test]
    async fn a_keyless_release_signs_the_index_of_every_image_including_the_slim_one() {
        use crate::registry::fixture::push_small_image;
        use crate::registry::local_registry;
        use crate::supply_chain::Verifier;
        use crate::supply_chain::release_job::ReleaseJob;

        let registry = local_registry::start().unwrap();
        let release = ReleaseJob::start("1.0.0").unwrap();
        let images = ImageArgs {
            tag: Some("1.0.0".into()),
            ..args(None, Some(Base::Ubuntu))
        };
        let target = Target {
            registry_image: Some(format!("{}/gitlab-ai", registry.host)),
            registry_user: Some(registry.user.clone()),
            registry_password: Some(registry.password.clone()),
            keyless: true,
            fulcio_url: release.fulcio.url.clone(),
            id_token: Some(release.id_token().unwrap()),
            ..Target::default()
        };
        let run = Run::prepare(&images, &target).unwrap();
        let attachments = |repository: &str, digest: &str| {
            let subject = Subject {
                repository: repository.to_owned(),
                digest: digest.to_owned(),
            };
            Attachments {
                sbom: sbom::spdx(
                    &subject,
                    "https://gitlab.com/gitlab-ai/gitlab-ai",
                    "2026-12-07T00:00:00Z",
                    &sbom::distro_packages("debian", "libc6\t2.36-9\n"),
                )
                .unwrap(),
                provenance: sbom::provenance(
                    "https://gitlab.com/gitlab-ai/gitlab-ai",
                    "abc123",
                    None,
                    "test",
                    "2026-12-07T00:00:00Z",
                ),
            }
        };
        let selected = PublishedImage::select(&images, run.default_base);
        for image in &selected {
            let repository = run.destination.repository(*image);
            let client = run.destination.client(&repository).unwrap();
            for tag in run.tags(*image) {
                for arch in Arch::ALL {
                    let digest = push_small_image(
                        &client,
                        &image_index::platform_tag(&tag, arch),
                        arch,
                        "ctx-a",
                    )
                    .await;
                    let signers = run.signers().await.unwrap();
                    supply_chain::sign_and_attest(
                        &client,
                        &digest,
                        &signers,
                        &attachments(&repository, &digest),
                    )
                    .await
                    .unwrap();
                }
            }
        }
        let indexes = publish_indexes(&images, &target, &Arch::ALL).await.unwrap();
        assert_eq!(
            indexes.len(),
            6 + 6 + 3,
            "claude, codex: 6 tags each; entrypoint: 3"
        );

        let policy = || Verifier::Keyless(release.policy().unwrap());
        for image in &selected {
            let repository = run.destination.repository(*image);
            let client = run.destination.client(&repository).unwrap();
            let verified = supply_chain::verify(&client, "1.0.0", &policy())
                .await
                .unwrap();
            assert_eq!(verified.len(), 2, "{image}: both platforms");
        }
        let entrypoint = run
            .destination
            .client(&format!("{}/gitlab-ai/entrypoint", registry.host))
            .unwrap();
        supply_chain::verify(&entrypoint, "latest", &policy())
            .await
            .unwrap();
    }
}
