//! What a registry holds under a reference: the manifest and the image configuration it names,
//! read through the Distribution API without pulling layers. Publishing uses it to skip images
//! the registry already has (same context-hash label) and to check per-platform images before
//! listing them in an index.

use anyhow::{Context, bail};

use crate::registry::oci::{
    Arch, DOCKER_LIST, DOCKER_MANIFEST, ImageConfig, ImageIndex, ImageManifest, OCI_INDEX,
    OCI_MANIFEST,
};
use crate::registry::{FetchedManifest, MANIFEST_TYPES, RegistryClient};

/// A single-platform image in the registry.
#[derive(Clone, Debug)]
pub struct RemoteImage {
    /// The manifest as served (its digest identifies the image).
    pub manifest: FetchedManifest,
    /// The parsed manifest.
    pub parsed: ImageManifest,
    /// The image configuration blob it names.
    pub config: ImageConfig,
}

/// The single-platform image under `reference` (a tag or digest); for a multi-platform tag,
/// the entry for `arch`. `None` when the registry has nothing under that reference.
pub async fn fetch(
    client: &RegistryClient,
    reference: &str,
    arch: Arch,
) -> anyhow::Result<Option<RemoteImage>> {
    let accept = format!("{DOCKER_MANIFEST}, {OCI_MANIFEST}, {OCI_INDEX}, {DOCKER_LIST}");
    let Some(mut manifest) = client.manifest(reference, &accept).await? else {
        return Ok(None);
    };
    if is_index(&manifest) {
        let index: ImageIndex = serde_json::from_slice(&manifest.bytes)
            .with_context(|| format!("{reference} is not a valid image index"))?;
        let Some(entry) = index.manifests.iter().find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == arch.name())
        }) else {
            return Ok(None);
        };
        manifest = client
            .manifest(&entry.digest, MANIFEST_TYPES)
            .await?
            .with_context(|| {
                format!(
                    "the index {reference} lists {}, which the registry does not have",
                    entry.digest
                )
            })?;
    }
    let parsed: ImageManifest = serde_json::from_slice(&manifest.bytes)
        .with_context(|| format!("{reference} is not a single-platform image manifest"))?;
    let config_bytes = client
        .blob(&parsed.config.digest)
        .await
        .with_context(|| format!("reading the configuration of {reference}"))?;
    let config: ImageConfig = serde_json::from_slice(&config_bytes).with_context(|| {
        format!("the configuration of {reference} is not an image configuration")
    })?;
    Ok(Some(RemoteImage {
        manifest,
        parsed,
        config,
    }))
}

fn is_index(manifest: &FetchedManifest) -> bool {
    let declared = serde_json::from_slice::<serde_json::Value>(&manifest.bytes)
        .ok()
        .and_then(|v| {
            v.get("mediaType")
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        });
    [
        manifest.media_type.as_str(),
        declared.as_deref().unwrap_or(""),
    ]
    .iter()
    .any(|t| t.starts_with(OCI_INDEX) || t.starts_with(DOCKER_LIST))
}

/// The single-platform image under `reference`, which must be for `arch`.
pub async fn fetch_for(
    client: &RegistryClient,
    reference: &str,
    arch: Arch,
) -> anyhow::Result<RemoteImage> {
    let repo = client.repository();
    let image = fetch(client, reference, arch).await?.with_context(|| {
        format!(
            "{}/{}:{reference} does not exist: publish the {arch} image first (`cargo xtask publish --arch {arch}` on an {arch} runner)",
            repo.host, repo.path
        )
    })?;
    if image.config.os != "linux" || image.config.architecture != arch.name() {
        bail!(
            "{}/{}:{reference} is a {} image, not linux/{arch}",
            repo.host,
            repo.path,
            image.config.platform()
        );
    }
    Ok(image)
}
