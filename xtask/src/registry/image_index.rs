//! The multi-architecture image index: per-platform images are built and pushed on native
//! runners as `<tag>-amd64` and `<tag>-arm64`; this assembles `<tag>` as an OCI image index
//! (`application/vnd.oci.image.index.v1+json`) pointing at them, through the registry API
//! (`PUT /v2/<name>/manifests/<tag>`), then reads it back and checks every digest and platform.
//! The Docker Engine API cannot write indexes, so nothing here goes through the engine.

use anyhow::{Context, bail, ensure};

use crate::registry::RegistryClient;
use crate::registry::oci::{Arch, Descriptor, ImageIndex, OCI_INDEX, OCI_MANIFEST};
use crate::registry::remote_image;

/// The tag of one platform's image: `<tag>-<arch>`.
pub fn platform_tag(tag: &str, arch: Arch) -> String {
    format!("{tag}-{arch}")
}

/// An index that the registry serves, as verified after writing it.
#[derive(Clone, Debug)]
pub struct AssembledIndex {
    /// The multi-platform tag.
    pub tag: String,
    /// The index's digest.
    pub digest: String,
    /// One entry per platform, in `archs` order.
    pub manifests: Vec<Descriptor>,
}

/// Writes `tag` as an index of `<tag>-<arch>` for each of `archs`, and verifies it.
pub async fn assemble(
    client: &RegistryClient,
    tag: &str,
    archs: &[Arch],
) -> anyhow::Result<AssembledIndex> {
    ensure!(!archs.is_empty(), "an index needs at least one platform");
    let mut manifests = Vec::new();
    for &arch in archs {
        let source = platform_tag(tag, arch);
        let image = remote_image::fetch_for(client, &source, arch).await?;
        let media_type = image
            .parsed
            .media_type
            .clone()
            .or_else(|| {
                (!image.manifest.media_type.is_empty()).then(|| image.manifest.media_type.clone())
            })
            .unwrap_or_else(|| OCI_MANIFEST.to_owned());
        manifests.push(Descriptor {
            media_type,
            digest: image.manifest.digest.clone(),
            size: image.manifest.bytes.len() as u64,
            platform: Some(image.config.platform()),
        });
    }
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(OCI_INDEX.to_owned()),
        manifests,
    };
    let bytes = serde_json::to_vec_pretty(&index)?;
    let digest = client
        .put_manifest(tag, OCI_INDEX, &bytes)
        .await
        .with_context(|| format!("writing the index {tag}"))?;
    verify(client, tag, &digest, &index.manifests).await?;
    Ok(AssembledIndex {
        tag: tag.to_owned(),
        digest,
        manifests: index.manifests,
    })
}

/// Reads `tag` back: it must be an index with `digest`, listing exactly `expected`, and each
/// entry must resolve to an image of its platform.
pub async fn verify(
    client: &RegistryClient,
    tag: &str,
    digest: &str,
    expected: &[Descriptor],
) -> anyhow::Result<()> {
    let served = client
        .manifest(tag, OCI_INDEX)
        .await?
        .with_context(|| format!("the registry does not serve {tag} after it was written"))?;
    if served.digest != digest {
        bail!(
            "{tag} is served as {}, but the index written was {digest}",
            served.digest
        );
    }
    let index: ImageIndex = serde_json::from_slice(&served.bytes)
        .with_context(|| format!("{tag} is not an image index"))?;
    ensure!(
        index.manifests == expected,
        "{tag} lists {:?}, expected {:?}",
        index.manifests,
        expected
    );
    for entry in &index.manifests {
        let platform = entry
            .platform
            .as_ref()
            .with_context(|| format!("{tag} lists {} without a platform", entry.digest))?;
        let arch: Arch = platform.architecture.parse()?;
        let image = remote_image::fetch_for(client, &entry.digest, arch).await?;
        ensure!(
            image.manifest.digest == entry.digest,
            "{} resolved to {}",
            entry.digest,
            image.manifest.digest
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fixture::{push_small_image, registry_with};
    use crate::registry::local_registry;

    #[tokio::test]
    async fn an_index_of_an_amd64_and_an_arm64_image_is_written_and_read_back() {
        let (_registry, client) = registry_with("gitlab-ai/claude");
        let amd64 = push_small_image(&client, "1.0.0-ubuntu-amd64", Arch::Amd64, "ctx-a").await;
        let arm64 = push_small_image(&client, "1.0.0-ubuntu-arm64", Arch::Arm64, "ctx-a").await;

        let index = assemble(&client, "1.0.0-ubuntu", &Arch::ALL).await.unwrap();
        let listed: Vec<(&str, &str)> = index
            .manifests
            .iter()
            .map(|d| {
                let p = d.platform.as_ref().unwrap();
                (d.digest.as_str(), p.architecture.as_str())
            })
            .collect();
        assert_eq!(
            listed,
            [(amd64.as_str(), "amd64"), (arm64.as_str(), "arm64")]
        );

        // A client that follows the index to its platform gets the per-platform image.
        let resolved = remote_image::fetch(&client, "1.0.0-ubuntu", Arch::Arm64)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resolved.manifest.digest, arm64);
        assert_eq!(resolved.config.variant.as_deref(), Some("v8"));
    }

    /// The whole path with a real engine: the local Debian base (a genuine amd64 image) pushed by
    /// the engine as `<tag>-amd64`, a small arm64 image through the registry API, the index
    /// written and read back, then pulled by the engine, which must resolve it to the very
    /// amd64 image it pushed.
    #[tokio::test]
    async fn an_engine_pulls_the_index_of_a_real_amd64_image_and_an_arm64_image() {
        let docker = crate::engine::connect_or_start().await.unwrap();
        crate::images::debian_base::ensure(
            &docker,
            false,
            crate::images::debian_base::DEFAULT_MIRROR,
        )
        .await
        .unwrap();
        let base =
            crate::engine::inspect_image(&docker, crate::images::debian_base::DEBIAN_BASE_IMAGE)
                .await
                .unwrap()
                .unwrap();
        let (registry, client) = registry_with("gitlab-ai/base");
        let repository = format!("{}/gitlab-ai/base", registry.host);
        let creds = local_registry::credentials(&registry);
        let amd64 = crate::registry::publish::push_tags(
            &docker,
            crate::images::debian_base::DEBIAN_BASE_IMAGE,
            &repository,
            &["t-amd64".to_owned()],
            Some(&creds),
        )
        .await
        .unwrap();
        push_small_image(&client, "t-arm64", Arch::Arm64, "ctx").await;
        let index = assemble(&client, "t", &Arch::ALL).await.unwrap();
        assert_eq!(index.manifests[0].digest, amd64);

        // The engine needs the credentials to pull; it resolves the index to its platform.
        let pulled = format!("{repository}:t");
        let options = bollard::query_parameters::CreateImageOptionsBuilder::default()
            .from_image(&pulled)
            .build();
        let credentials = bollard::auth::DockerCredentials {
            username: Some(registry.user.clone()),
            password: Some(registry.password.clone()),
            serveraddress: Some(registry.host.clone()),
            ..Default::default()
        };
        let mut stream = docker.create_image(Some(options), None, Some(credentials));
        while let Some(item) = futures::StreamExt::next(&mut stream).await {
            item.unwrap();
        }
        let image = crate::engine::inspect_image(&docker, &pulled)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(image.id, base.id);
        assert!(
            image
                .repo_digests
                .unwrap_or_default()
                .contains(&format!("{repository}@{}", index.digest)),
            "the engine records the index digest it pulled"
        );
        for tag in ["t", "t-amd64"] {
            let _ = docker
                .remove_image(
                    &format!("{repository}:{tag}"),
                    None::<bollard::query_parameters::RemoveImageOptions>,
                    None,
                )
                .await;
        }
    }

    #[tokio::test]
    async fn a_platform_tag_holding_another_architecture_is_refused() {
        let (_registry, client) = registry_with("gitlab-ai/codex");
        push_small_image(&client, "t-amd64", Arch::Amd64, "ctx").await;
        // An arm64 tag that actually holds an amd64 image.
        push_small_image(&client, "t-arm64", Arch::Amd64, "ctx").await;
        let err = assemble(&client, "t", &Arch::ALL).await.unwrap_err();
        assert!(
            format!("{err:#}").contains("is a linux/amd64 image, not linux/arm64"),
            "{err:#}"
        );
        let missing = assemble(&client, "absent", &[Arch::Amd64])
            .await
            .unwrap_err();
        assert!(
            format!("{missing:#}").contains("publish the amd64 image first"),
            "{missing:#}"
        );
    }
}
