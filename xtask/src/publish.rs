//! `cargo xtask publish`: tags the local images for the registry, pushes every tag, and checks
//! that the registry serves the digest the push reported.
//!
//! Target and credentials default to GitLab CI's predefined variables `CI_REGISTRY_IMAGE`,
//! `CI_REGISTRY_USER`, `CI_REGISTRY_PASSWORD` and `CI_REGISTRY`
//! (https://docs.gitlab.com/ci/variables/predefined_variables/); images go to
//! `$CI_REGISTRY_IMAGE/<assistant>:<tag>`.

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use clap::Parser;
use entrypoint::secret::Secret;
use futures::StreamExt;

use crate::engine::{self, mb};
use crate::image_args::ImageArgs;
use crate::manifest::Manifest;
use crate::registry::{self, Credentials, Repository};
use crate::variants::{TagPolicy, Variant, published_tags};
use crate::{cmd, revision};

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
}

/// Flags of `cargo xtask publish`.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(flatten)]
    images: ImageArgs,
    #[command(flatten)]
    target: Target,
}

/// One pushed image.
#[derive(Debug, Clone)]
pub struct Published {
    /// Which image.
    pub variant: Variant,
    /// `<registry image>/<assistant>`.
    pub repository: String,
    /// Every tag pushed.
    pub tags: Vec<String>,
    /// The manifest digest the registry serves for all of them.
    pub digest: String,
    /// Sum of the layer sizes in the registry's manifest.
    pub compressed_size: u64,
}

/// Publishes the selected local images.
pub fn run(args: Args) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let docker = engine::connect().await?;
        publish(&docker, &args.images, &args.target).await?;
        Ok(())
    })
}

/// Publishes every selected variant that exists locally (`gitlab-ai/<assistant>:<base>`).
pub async fn publish(
    docker: &Docker,
    images: &ImageArgs,
    target: &Target,
) -> anyhow::Result<Vec<Published>> {
    let root = cmd::workspace_root()?;
    let manifest = Manifest::load(&root)?;
    let registry_image = target
        .registry_image
        .clone()
        .filter(|s| !s.is_empty())
        .context(
            "no registry to publish to: set CI_REGISTRY_IMAGE or pass --registry-image HOST/PATH",
        )?;
    let registry_image = registry_image.trim_end_matches('/').to_owned();
    let credentials = match (&target.registry_user, &target.registry_password) {
        (Some(user), Some(password)) if !user.is_empty() => Some(Credentials {
            username: user.clone(),
            password: Secret::new(password.clone()),
        }),
        _ => None,
    };
    let release = images.release();
    let short = revision::short_sha(&root)?;
    let policy = TagPolicy {
        release: release.as_deref(),
        moving: target.latest,
        short_sha: &short,
    };
    let mut published = Vec::new();
    for variant in images.variants() {
        let local = variant.local_image();
        if engine::inspect_image(docker, &local).await?.is_none() {
            eprintln!("[{variant}] {local} does not exist locally; not published (build it first)");
            continue;
        }
        let repository = format!("{registry_image}/{}", variant.assistant);
        let tags = published_tags(variant, policy, manifest.default_base);
        let digest = push_tags(docker, &local, &repository, &tags, credentials.as_ref())
            .await
            .with_context(|| format!("publishing {variant}"))?;
        let repo = Repository::parse(&repository)?;
        let mut compressed_size = 0;
        for tag in &tags {
            let remote = registry::fetch_manifest(&repo, tag, credentials.as_ref())
                .await
                .with_context(|| format!("reading {repository}:{tag} back from the registry"))?;
            if remote.digest != digest {
                bail!(
                    "{repository}:{tag} is served with digest {}, but the push reported {digest}",
                    remote.digest
                );
            }
            compressed_size = remote.compressed_size;
        }
        eprintln!(
            "[{variant}] published {repository}@{digest} as {} ({} compressed, per the registry)",
            tags.join(", "),
            mb(compressed_size)
        );
        published.push(Published {
            variant,
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

/// Tags `local` as `repository:tag` and pushes each tag; returns the digest the pushes reported
/// (all tags of one image share it). Error items in the push stream fail the push.
async fn push_tags(
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
