//! The registry-side skip: every image carries the hash of the context it was built from as a
//! label, so before pushing, the target tags are read back from the registry (manifest and
//! configuration, no layers). When they already hold an image built from the same context,
//! nothing is pushed; when only some do, the others are pointed at that image by writing the
//! same manifest under them (a registry-side tag, no upload). Only an unknown context is pushed.
//!
//! A scheduled rebuild whose inputs did not change therefore costs a few small requests, and a
//! new commit that does not touch the images re-tags instead of re-uploading.

use std::fmt;

use crate::images::builder::CONTEXT_HASH_LABEL;
use crate::registry::RegistryClient;
use crate::registry::oci::Arch;
use crate::registry::remote_image::{self, RemoteImage};

/// What publishing one image needs.
#[derive(Debug)]
pub enum PushPlan {
    /// Every tag already holds an image built from this context.
    AlreadyPublished {
        /// The image they hold.
        existing: Box<RemoteImage>,
    },
    /// Some tag holds this context; the rest get its manifest.
    Retag {
        /// The image to tag.
        existing: Box<RemoteImage>,
        /// The tag it was found under.
        found_as: String,
        /// The tags to write.
        missing: Vec<String>,
    },
    /// No tag holds this context: push the image.
    Push,
}

impl fmt::Display for PushPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushPlan::AlreadyPublished { existing } => write!(
                f,
                "the registry already has every tag as {} (same context): nothing to push",
                existing.manifest.digest
            ),
            PushPlan::Retag {
                existing,
                found_as,
                missing,
            } => write!(
                f,
                "the registry has this context as {found_as} ({}): tagging {} in the registry, nothing to upload",
                existing.manifest.digest,
                missing.join(", ")
            ),
            PushPlan::Push => f.write_str("no tag in the registry holds this context: pushing"),
        }
    }
}

/// Decides how to publish an image built from `context` under `tags`.
pub async fn plan(
    client: &RegistryClient,
    tags: &[String],
    context: &str,
    arch: Arch,
) -> anyhow::Result<PushPlan> {
    let mut found: Option<(String, RemoteImage)> = None;
    let mut missing = Vec::new();
    for tag in tags {
        match remote_image::fetch(client, tag, arch).await? {
            Some(image) if image.config.label(CONTEXT_HASH_LABEL) == Some(context) => {
                if found.is_none() {
                    found = Some((tag.clone(), image));
                }
            }
            _ => missing.push(tag.clone()),
        }
    }
    Ok(match found {
        None => PushPlan::Push,
        Some((_, image)) if missing.is_empty() => PushPlan::AlreadyPublished {
            existing: Box::new(image),
        },
        Some((found_as, image)) => PushPlan::Retag {
            existing: Box::new(image),
            found_as,
            missing,
        },
    })
}

/// Carries out a [`PushPlan::Retag`]: writes the manifest under each missing tag and checks the
/// registry serves it there.
pub async fn retag(
    client: &RegistryClient,
    existing: &RemoteImage,
    tags: &[String],
) -> anyhow::Result<()> {
    for tag in tags {
        let digest = client
            .put_manifest(tag, &existing.manifest.media_type, &existing.manifest.bytes)
            .await?;
        anyhow::ensure!(
            digest == existing.manifest.digest,
            "{tag} was written as {digest}, not {}",
            existing.manifest.digest
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fixture::{push_small_image, registry_with};

    #[tokio::test]
    async fn an_unchanged_context_is_not_pushed_again_and_new_tags_are_written_in_the_registry() {
        let (_registry, client) = registry_with("gitlab-ai/claude");
        let digest = push_small_image(&client, "sha-aaaa-ubuntu", Arch::Amd64, "sha256:c1").await;
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();

        let published = tags(&["sha-aaaa-ubuntu"]);
        let same = plan(&client, &published, "sha256:c1", Arch::Amd64)
            .await
            .unwrap();
        assert!(matches!(same, PushPlan::AlreadyPublished { .. }), "{same}");

        let changed = plan(&client, &published, "sha256:c2", Arch::Amd64)
            .await
            .unwrap();
        assert!(matches!(changed, PushPlan::Push), "{changed}");

        let wanted = tags(&["sha-bbbb-ubuntu", "sha-aaaa-ubuntu", "ubuntu"]);
        let partly = plan(&client, &wanted, "sha256:c1", Arch::Amd64)
            .await
            .unwrap();
        let PushPlan::Retag {
            existing,
            found_as,
            missing,
        } = partly
        else {
            panic!("expected a registry-side retag, got {partly}");
        };
        assert_eq!(found_as, "sha-aaaa-ubuntu");
        assert_eq!(missing, ["sha-bbbb-ubuntu", "ubuntu"]);
        retag(&client, &existing, &missing).await.unwrap();
        let after = plan(&client, &wanted, "sha256:c1", Arch::Amd64)
            .await
            .unwrap();
        let PushPlan::AlreadyPublished { existing } = after else {
            panic!("every tag should now hold the image: {after}");
        };
        assert_eq!(existing.manifest.digest, digest);
    }
}
