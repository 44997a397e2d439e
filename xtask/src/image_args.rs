//! Flags shared by the image commands (`plan`, `build-images`, `test-images`, `publish`,
//! `bench-images`): which variants, which bases, which version.

use std::collections::BTreeMap;
use std::path::Path;

use entrypoint::assistant::Assistant;

use crate::manifest::Base;
use crate::revision;
use crate::variants::{BuildSettings, Variant, parse_base_image};

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
    /// The release version in `<version>-<base>` tags and the version label
    /// (default: `CI_COMMIT_TAG`, else the workspace version).
    #[arg(long)]
    pub tag: Option<String>,
}

impl ImageArgs {
    /// The selected variants.
    pub fn variants(&self) -> Vec<Variant> {
        Variant::select(self.assistant, self.base)
    }

    /// The version used in tags and labels.
    pub fn version(&self) -> String {
        self.tag
            .clone()
            .or_else(|| {
                std::env::var("CI_COMMIT_TAG")
                    .ok()
                    .filter(|t| !t.is_empty())
            })
            .map(|t| t.trim_start_matches('v').to_owned())
            .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned())
    }

    /// Labels and base replacements for a build from `root`.
    pub fn settings(&self, root: &Path) -> anyhow::Result<BuildSettings> {
        Ok(BuildSettings {
            version: self.version(),
            revision: revision::commit_sha(root)?,
            source: revision::source_url(root),
            base_images: self.base_images.iter().cloned().collect::<BTreeMap<_, _>>(),
        })
    }
}
