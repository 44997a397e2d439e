//! The variant table: assistant × base → Dockerfile, build args, labels, tags and size budget,
//! derived from the manifest the way `docker buildx bake` expands a matrix. Every command
//! (plan, build, test, publish, bench) works from these rows.

use std::collections::BTreeMap;
use std::fmt;

use ai_core::Assistant;
use anyhow::Context;

use crate::images::manifest::{Base, Manifest};

/// Where `build-images` puts the images people build and use (`gitlab-ai/claude:ubuntu`).
pub const LOCAL_NAMESPACE: &str = "gitlab-ai";

/// Where the test suite builds: its images never move or untag the user's own, and are removed
/// when the suite ends.
pub const TEST_NAMESPACE: &str = "gitlab-ai-test";

/// The label naming an image's variant (`claude-ubuntu`), used to find its older builds.
pub const VARIANT_LABEL: &str = "gitlab-ai.variant";

/// One image: an assistant on a base.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Variant {
    /// Which CLI the image carries.
    pub assistant: Assistant,
    /// Which operating system it is built on.
    pub base: Base,
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.assistant, self.base)
    }
}

impl Variant {
    /// The variants matching the optional filters, in a stable order.
    pub fn select(assistant: Option<Assistant>, base: Option<Base>) -> Vec<Variant> {
        let mut out = Vec::new();
        for a in Assistant::ALL {
            for b in Base::ALL {
                if assistant.is_none_or(|x| x == a) && base.is_none_or(|x| x == b) {
                    out.push(Variant {
                        assistant: a,
                        base: b,
                    });
                }
            }
        }
        out
    }

    /// The local repository the xtask builds into (`gitlab-ai/claude` in the user's
    /// [`LOCAL_NAMESPACE`]); tags are per base.
    pub fn local_repo(&self, namespace: &str) -> String {
        format!("{namespace}/{}", self.assistant)
    }

    /// The moving local tag of the last build (`gitlab-ai/claude:ubuntu`).
    pub fn local_image(&self, namespace: &str) -> String {
        format!("{}:{}", self.local_repo(namespace), self.base)
    }
}

/// Where the build runs and what it is labelled with: the parts of a build that are not in the
/// manifest.
#[derive(Clone, Debug)]
pub struct BuildSettings {
    /// The release version in tags and the `org.opencontainers.image.version` label.
    pub version: String,
    /// The full commit sha (`org.opencontainers.image.revision`).
    pub revision: String,
    /// The project URL (`org.opencontainers.image.source`).
    pub source: String,
    /// Replacement base images (`--base-image ubuntu=local/debian-bookworm`).
    pub base_images: BTreeMap<Base, String>,
    /// The local namespace images are built into ([`LOCAL_NAMESPACE`] or [`TEST_NAMESPACE`]).
    pub local_namespace: String,
}

impl BuildSettings {
    /// The labels every image we build carries: the OCI annotations for an image called `title`
    /// built on `base_name` (<https://github.com/opencontainers/image-spec/blob/main/annotations.md>),
    /// the variant label that finds its earlier builds, and the image's own `extra` ones.
    pub fn labels(
        &self,
        title: String,
        base_name: &str,
        variant: String,
        extra: impl IntoIterator<Item = (&'static str, String)>,
    ) -> BTreeMap<String, String> {
        [
            ("org.opencontainers.image.title", title),
            ("org.opencontainers.image.version", self.version.clone()),
            ("org.opencontainers.image.revision", self.revision.clone()),
            ("org.opencontainers.image.source", self.source.clone()),
            ("org.opencontainers.image.base.name", base_name.to_owned()),
            (VARIANT_LABEL, variant),
        ]
        .into_iter()
        .chain(extra)
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }
}

/// A parsed `--base-image BASE=IMAGE` flag.
pub fn parse_base_image(text: &str) -> anyhow::Result<(Base, String)> {
    let (base, image) = text.split_once('=').with_context(|| {
        format!("--base-image {text:?} is not BASE=IMAGE (e.g. ubuntu=local/debian-bookworm)")
    })?;
    anyhow::ensure!(
        !image.trim().is_empty(),
        "--base-image {text:?} names no image"
    );
    Ok((base.parse()?, image.trim().to_owned()))
}

/// One row of the variant table.
#[derive(Clone, Debug)]
pub struct VariantPlan {
    /// The image.
    pub variant: Variant,
    /// The Dockerfile inside `images/` and the context.
    pub dockerfile: &'static str,
    /// The `FROM` image: the manifest's tag pinned to its digest, unless overridden.
    pub base_image: String,
    /// `--build-arg`s.
    pub build_args: BTreeMap<String, String>,
    /// Labels added to the image.
    pub labels: BTreeMap<String, String>,
    /// The pinned assistant version (what `--version` must print).
    pub assistant_version: String,
    /// The CLI's path in the image.
    pub binary: String,
    /// Whether the image carries Node.
    pub needs_node: bool,
    /// MB the compressed image may exceed the gzipped assistant binary by.
    pub budget_over_binary_mb: u64,
}

impl VariantPlan {
    /// The row for `variant`.
    pub fn new(
        manifest: &Manifest,
        settings: &BuildSettings,
        variant: Variant,
    ) -> anyhow::Result<Self> {
        let base = manifest.base(variant.base)?;
        let assistant = manifest.assistant(variant.assistant)?;
        let on = manifest.assistant_on(variant.assistant, variant.base)?;
        let base_image = match settings.base_images.get(&variant.base) {
            Some(image) => image.clone(),
            None => match &base.digest {
                Some(digest) => format!("{}@{digest}", base.image),
                None => base.image.clone(),
            },
        };
        let packages: Vec<&str> = manifest
            .common_packages
            .iter()
            .chain(&on.packages)
            .map(String::as_str)
            .collect();
        let build_args = BTreeMap::from([
            ("BASE_IMAGE".to_owned(), base_image.clone()),
            ("PACKAGES".to_owned(), packages.join(" ")),
        ]);
        let labels = settings.labels(
            format!("gitlab-ai {variant}"),
            &base_image,
            variant.to_string(),
            [
                ("gitlab-ai.assistant", variant.assistant.to_string()),
                ("gitlab-ai.assistant.package", assistant.package.clone()),
                ("gitlab-ai.assistant.version", assistant.version.clone()),
            ],
        );
        Ok(VariantPlan {
            variant,
            dockerfile: base.family.dockerfile(),
            base_image,
            build_args,
            labels,
            assistant_version: assistant.version.clone(),
            binary: assistant.binary.clone(),
            needs_node: assistant.needs_node,
            budget_over_binary_mb: manifest.budget_over_binary_mb,
        })
    }
}

/// Which tags a publish run may set. Immutable `sha-…` tags are always pushed; the version tags
/// only for a release (`--tag` or a tag pipeline's `CI_COMMIT_TAG`), so a branch pipeline never
/// overwrites a released version; the moving `<base>`/`latest` tags only for a release or on
/// request (`--latest`, e.g. on the default branch).
#[derive(Clone, Copy, Debug)]
pub struct TagPolicy<'a> {
    /// The release version, if this is a release.
    pub release: Option<&'a str>,
    /// Whether `<base>` and `latest` move to this image.
    pub moving: bool,
    /// The short commit sha.
    pub short_sha: &'a str,
}

/// The tags an image is published under in `<registry image>/<assistant>`:
/// `sha-<short>-<base>`, `<version>-<base>`, `<base>`, and for the default family also
/// `sha-<short>`, `<version>` and `latest` (as the policy allows).
pub fn published_tags(variant: Variant, policy: TagPolicy<'_>, default_base: Base) -> Vec<String> {
    let base = variant.base;
    let short = policy.short_sha;
    let default = base == default_base;
    let mut tags = vec![format!("sha-{short}-{base}")];
    if default {
        tags.push(format!("sha-{short}"));
    }
    if let Some(version) = policy.release {
        tags.push(format!("{version}-{base}"));
        if default {
            tags.push(version.to_owned());
        }
    }
    if policy.moving || policy.release.is_some() {
        tags.push(base.to_string());
        if default {
            tags.push("latest".to_owned());
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(assistant: Assistant, base: Base) -> Variant {
        Variant { assistant, base }
    }

    #[test]
    fn tags_follow_the_documented_scheme() {
        let claude_alpine = variant(Assistant::Claude, Base::Alpine);
        let claude_ubuntu = variant(Assistant::Claude, Base::Ubuntu);
        let release = TagPolicy {
            release: Some("1.4.0"),
            moving: false,
            short_sha: "0123abcd",
        };
        assert_eq!(
            published_tags(claude_alpine, release, Base::Ubuntu),
            ["sha-0123abcd-alpine", "1.4.0-alpine", "alpine"]
        );
        assert_eq!(
            published_tags(claude_ubuntu, release, Base::Ubuntu),
            [
                "sha-0123abcd-ubuntu",
                "sha-0123abcd",
                "1.4.0-ubuntu",
                "1.4.0",
                "ubuntu",
                "latest"
            ]
        );
    }

    #[test]
    fn branch_pipelines_push_only_immutable_tags_unless_asked() {
        let ubuntu = variant(Assistant::Codex, Base::Ubuntu);
        let branch = TagPolicy {
            release: None,
            moving: false,
            short_sha: "abc12345",
        };
        assert_eq!(
            published_tags(ubuntu, branch, Base::Ubuntu),
            ["sha-abc12345-ubuntu", "sha-abc12345"]
        );
        let default_branch = TagPolicy {
            moving: true,
            ..branch
        };
        assert_eq!(
            published_tags(ubuntu, default_branch, Base::Ubuntu),
            ["sha-abc12345-ubuntu", "sha-abc12345", "ubuntu", "latest"]
        );
    }

    #[test]
    fn only_one_family_gets_latest() {
        let mut latest = 0;
        for v in Variant::select(Some(Assistant::Codex), None) {
            let policy = TagPolicy {
                release: Some("1.0.0"),
                moving: true,
                short_sha: "abc",
            };
            latest += published_tags(v, policy, Base::Ubuntu)
                .iter()
                .filter(|t| *t == "latest")
                .count();
        }
        assert_eq!(latest, 1);
    }

    #[test]
    fn filters_select_variants() {
        assert_eq!(Variant::select(None, None).len(), 4);
        assert_eq!(Variant::select(Some(Assistant::Claude), None).len(), 2);
        let one = Variant::select(Some(Assistant::Codex), Some(Base::Alpine));
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].to_string(), "codex-alpine");
    }

    #[test]
    fn base_overrides_replace_the_pinned_base() {
        let root = crate::util::cmd::workspace_root().unwrap();
        let manifest = Manifest::load(&root).unwrap();
        let (base, image) = parse_base_image("ubuntu=local/debian-bookworm").unwrap();
        let settings = BuildSettings {
            version: "1.0.0".into(),
            revision: "abc".into(),
            source: "https://example.invalid/p".into(),
            base_images: BTreeMap::from([(base, image)]),
            local_namespace: LOCAL_NAMESPACE.into(),
        };
        let v = |base| variant(Assistant::Claude, base);
        let ubuntu = VariantPlan::new(&manifest, &settings, v(Base::Ubuntu)).unwrap();
        assert_eq!(ubuntu.build_args["BASE_IMAGE"], "local/debian-bookworm");
        let alpine = VariantPlan::new(&manifest, &settings, v(Base::Alpine)).unwrap();
        assert!(
            alpine.base_image.starts_with("alpine:3.24@sha256:"),
            "{}",
            alpine.base_image
        );
        assert!(alpine.build_args["PACKAGES"].contains("libstdc++"));
        assert_eq!(alpine.labels[VARIANT_LABEL], "claude-alpine");
        assert!(parse_base_image("ubuntu").is_err());
        assert!(parse_base_image("debian=x").is_err());
    }
}
