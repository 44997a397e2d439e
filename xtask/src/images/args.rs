//! Flags shared by the image commands (`plan`, `build-images`, `test-images`, `publish`,
//! `bench-images`): which variants, which bases, which version.

use std::collections::BTreeMap;
use std::path::Path;

use ai_core::Assistant;

use crate::images::manifest::Base;
use crate::images::revision;
use crate::images::variants::{BuildSettings, LOCAL_NAMESPACE, Variant, parse_base_image};

/// Which images, and how they are named.
#[derive(Debug, Clone, clap::Args)]
pub struct ImageArgs {
    /// Only this assistant (claude or codex).
    #[arg(long)]
    pub assistant: Option<Assistant>,
    /// Only this base (alpine or ubuntu).
    #[arg(long)]
    pub base: Option<Base>,
    /// Build on IMAGE instead of the manifest's base, e.g. `ubuntu=local/debian-bookworm`
    /// (made by `cargo xtask bootstrap-base`). Repeatable.
    #[arg(long = "base-image", value_name = "BASE=IMAGE", value_parser = parse_base_image)]
    pub base_images: Vec<(Base, String)>,
    /// The release version: published as `<version>-<base>` (and moves `<base>`/`latest`);
    /// default `CI_COMMIT_TAG`. Without it only `sha-<short>` tags are published.
    #[arg(long)]
    pub tag: Option<String>,
    /// The local namespace of the images: `gitlab-ai` for people, another for the test suite so
    /// that it never touches the user's tags.
    #[arg(skip = LOCAL_NAMESPACE.to_owned())]
    pub local_namespace: String,
}

impl ImageArgs {
    /// The selected variants.
    pub fn variants(&self) -> Vec<Variant> {
        Variant::select(self.assistant, self.base)
    }

    /// The release version: `--tag`, else a tag pipeline's `CI_COMMIT_TAG` (without a leading
    /// `v`); `None` outside releases.
    pub fn release(&self) -> Option<String> {
        self.tag
            .clone()
            .or_else(|| std::env::var("CI_COMMIT_TAG").ok())
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().trim_start_matches('v').to_owned())
    }

    /// The version in the image's version label: the release, else the workspace version.
    pub fn version(&self) -> String {
        self.release()
            .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned())
    }

    /// Labels and base replacements for a build from `root`.
    pub fn settings(&self, root: &Path) -> anyhow::Result<BuildSettings> {
        Ok(BuildSettings {
            version: self.version(),
            revision: revision::commit_sha(root)?,
            source: revision::source_url(root),
            base_images: self.base_images.iter().cloned().collect::<BTreeMap<_, _>>(),
            local_namespace: self.local_namespace.clone(),
        })
    }
}
