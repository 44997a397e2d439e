//! What a published image contains, as an SPDX 2.3 JSON document
//! (https://spdx.github.io/spdx-spec/v2.3/), and where it came from, as a SLSA v1 provenance
//! statement (https://slsa.dev/spec/v1.0/provenance). Both are attached to the image as signed
//! in-toto attestations (see `supply_chain`).
//!
//! The SBOM lists the pinned CLI and Node artifacts with their sha512 integrity from
//! images.lock, the distribution packages with their versions as the image's package database
//! reports them, and the entrypoint with every crate it is built from (Cargo.lock, with the
//! registry's sha256). Written with serde structs: the SPDX crates on crates.io are either
//! unmaintained or parsers only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::images::integrity::Integrity;
use crate::util::public_url::without_userinfo;

/// The in-toto predicate type cosign uses for SPDX JSON (`cosign attest --type spdxjson`).
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";

/// SLSA provenance v1.
pub const SLSA_PREDICATE: &str = "https://slsa.dev/provenance/v1";

/// A package in the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Component {
    /// An npm artifact pinned in images.toml/images.lock.
    Npm {
        /// `@scope/name`.
        name: String,
        /// Exact version.
        version: String,
        /// The registry's sha512.
        integrity: Integrity,
    },
    /// A distribution package (`dpkg`/`apk`).
    Distro {
        /// `debian`, `ubuntu` or `alpine` (the purl namespace).
        distro: String,
        /// Package name.
        name: String,
        /// Version as the package manager reports it.
        version: String,
    },
    /// A Rust crate the entrypoint is built from.
    Crate {
        /// Crate name.
        name: String,
        /// Version.
        version: String,
        /// The crates.io sha256 (absent for workspace crates).
        checksum: Option<String>,
    },
}

/// The image an SBOM describes.
#[derive(Clone, Debug)]
pub struct Subject {
    /// `host/path` of the repository.
    pub repository: String,
    /// `sha256:…` of the manifest.
    pub digest: String,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: String,
    data_license: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize, Deserialize, Debug)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    version_info: String,
    download_location: String,
    files_analyzed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: String,
    checksum_value: String,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: String,
    reference_type: String,
    reference_locator: String,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

/// An SPDX id from arbitrary text: letters, digits, `.` and `-` only.
fn spdx_id(kind: &str, index: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("SPDXRef-{kind}-{index}-{clean}")
}

fn purl(component: &Component) -> String {
    match component {
        Component::Npm { name, version, .. } => {
            format!("pkg:npm/{}@{version}", name.replace('@', "%40"))
        }
        Component::Distro {
            distro,
            name,
            version,
        } => {
            let kind = if distro == "alpine" { "apk" } else { "deb" };
            format!(
                "pkg:{kind}/{distro}/{name}@{}",
                version.replace(':', "%3A").replace('+', "%2B")
            )
        }
        Component::Crate { name, version, .. } => format!("pkg:cargo/{name}@{version}"),
    }
}

/// The SPDX 2.3 JSON document for `subject`, built from `source` at `created` (RFC 3339).
pub fn spdx(
    subject: &Subject,
    source: &str,
    created: &str,
    components: &[Component],
) -> anyhow::Result<serde_json::Value> {
    let image_id = "SPDXRef-image".to_owned();
    let mut packages = vec![Package {
        name: subject.repository.clone(),
        spdx_id: image_id.clone(),
        version_info: subject.digest.clone(),
        download_location: "NOASSERTION".to_owned(),
        files_analyzed: false,
        checksums: vec![Checksum {
            algorithm: "SHA256".to_owned(),
            checksum_value: subject.digest.trim_start_matches("sha256:").to_owned(),
        }],
        external_refs: vec![ExternalRef {
            reference_category: "PACKAGE-MANAGER".to_owned(),
            reference_type: "purl".to_owned(),
            reference_locator: format!(
                "pkg:oci/{}@{}?repository_url={}",
                subject.repository.rsplit('/').next().unwrap_or("image"),
                subject.digest.replace(':', "%3A"),
                subject.repository
            ),
        }],
    }];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        relationship_type: "DESCRIBES".to_owned(),
        related_spdx_element: image_id.clone(),
    }];
    for (index, component) in components.iter().enumerate() {
        let (kind, name, version, checksums) = match component {
            Component::Npm {
                name,
                version,
                integrity,
            } => (
                "npm",
                name,
                version,
                vec![Checksum {
                    algorithm: "SHA512".to_owned(),
                    checksum_value: integrity.hex(),
                }],
            ),
            Component::Distro { name, version, .. } => ("distro", name, version, Vec::new()),
            Component::Crate {
                name,
                version,
                checksum,
            } => (
                "crate",
                name,
                version,
                checksum
                    .iter()
                    .map(|c| Checksum {
                        algorithm: "SHA256".to_owned(),
                        checksum_value: c.clone(),
                    })
                    .collect(),
            ),
        };
        let id = spdx_id(kind, index, name);
        packages.push(Package {
            name: name.clone(),
            spdx_id: id.clone(),
            version_info: version.clone(),
            download_location: "NOASSERTION".to_owned(),
            files_analyzed: false,
            checksums,
            external_refs: vec![ExternalRef {
                reference_category: "PACKAGE-MANAGER".to_owned(),
                reference_type: "purl".to_owned(),
                reference_locator: purl(component),
            }],
        });
        relationships.push(Relationship {
            spdx_element_id: image_id.clone(),
            relationship_type: "CONTAINS".to_owned(),
            related_spdx_element: id,
        });
    }
    let document = Document {
        spdx_version: "SPDX-2.3".to_owned(),
        data_license: "CC0-1.0".to_owned(),
        spdx_id: "SPDXRef-DOCUMENT".to_owned(),
        name: format!("{}@{}", subject.repository, subject.digest),
        document_namespace: format!(
            "{}/spdx/{}",
            without_userinfo(source).trim_end_matches('/'),
            subject.digest.trim_start_matches("sha256:")
        ),
        creation_info: CreationInfo {
            created: created.to_owned(),
            creators: vec![format!(
                "Tool: gitlab-ai-xtask-{}",
                env!("CARGO_PKG_VERSION")
            )],
        },
        packages,
        relationships,
    };
    serde_json::to_value(document).context("cannot serialise the SBOM")
}

/// Names and versions of the packages an SPDX document lists (for verification output).
pub fn spdx_packages(document: &serde_json::Value) -> anyhow::Result<Vec<(String, String)>> {
    let document: Document =
        serde_json::from_value(document.clone()).context("the SBOM is not SPDX 2.3 JSON")?;
    anyhow::ensure!(
        document.spdx_version == "SPDX-2.3",
        "the SBOM is {}, not SPDX-2.3",
        document.spdx_version
    );
    Ok(document
        .packages
        .into_iter()
        .map(|p| (p.name, p.version_info))
        .collect())
}

#[derive(Deserialize)]
struct CargoLock {
    package: Vec<LockedCrate>,
}

#[derive(Deserialize)]
struct LockedCrate {
    name: String,
    version: String,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// `root` and every crate it depends on (normal, build and dev dependencies alike, as
/// Cargo.lock does not tell them apart), from the workspace's Cargo.lock.
pub fn crate_closure(lock_path: &Path, root: &str) -> anyhow::Result<Vec<Component>> {
    let text = std::fs::read_to_string(lock_path)
        .with_context(|| format!("cannot read {}", lock_path.display()))?;
    let lock: CargoLock = toml::from_str(&text)
        .with_context(|| format!("{} is not a Cargo.lock", lock_path.display()))?;
    let mut by_name: BTreeMap<&str, Vec<&LockedCrate>> = BTreeMap::new();
    for krate in &lock.package {
        by_name.entry(&krate.name).or_default().push(krate);
    }
    // A dependency is `name` or, when several versions are locked, `name version`.
    let resolve = |dep: &str| -> Option<&LockedCrate> {
        let mut parts = dep.split(' ');
        let name = parts.next()?;
        let version = parts.next();
        let candidates = by_name.get(name)?;
        match version {
            Some(v) => candidates.iter().copied().find(|c| c.version == v),
            None => candidates.first().copied(),
        }
    };
    let start = resolve(root).with_context(|| format!("{root} is not in Cargo.lock"))?;
    let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut queue = vec![start];
    let mut out = Vec::new();
    while let Some(krate) = queue.pop() {
        if !seen.insert((&krate.name, &krate.version)) {
            continue;
        }
        out.push(Component::Crate {
            name: krate.name.clone(),
            version: krate.version.clone(),
            checksum: krate.checksum.clone(),
        });
        queue.extend(krate.dependencies.iter().filter_map(|d| resolve(d)));
    }
    out.sort_by_key(purl);
    Ok(out)
}

/// Parses `dpkg-query -W -f '${Package}\t${Version}\n'` or `apk info -v` output.
pub fn distro_packages(distro: &str, output: &str) -> Vec<Component> {
    output
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let (name, version) = if let Some((name, version)) = line.split_once('\t') {
                (name.to_owned(), version.to_owned())
            } else {
                // apk: `name-1.2.3-r0`: the version starts at the second-to-last `-`.
                let mut dashes = line.rmatch_indices('-').map(|(i, _)| i);
                let _release = dashes.next()?;
                let at = dashes.next()?;
                (line[..at].to_owned(), line[at + 1..].to_owned())
            };
            (!name.is_empty() && !version.is_empty()).then(|| Component::Distro {
                distro: distro.to_owned(),
                name,
                version,
            })
        })
        .collect()
}

/// The SLSA v1 provenance predicate: the source revision, the pipeline and the builder.
pub fn provenance(
    source: &str,
    revision: &str,
    pipeline: Option<&str>,
    builder: &str,
    started: &str,
) -> serde_json::Value {
    let source = without_userinfo(source);
    serde_json::json!({
        "buildDefinition": {
            "buildType": "https://gitlab.com/gitlab-ai/gitlab-ai/-/blob/main/images/README.md#build-images",
            "externalParameters": {
                "source": {"uri": source, "digest": {"gitCommit": revision}},
            },
            "resolvedDependencies": [
                {"uri": format!("git+{source}"), "digest": {"gitCommit": revision}},
            ],
        },
        "runDetails": {
            "builder": {"id": without_userinfo(builder)},
            "metadata": {
                "invocationId": pipeline.map(without_userinfo),
                "startedOn": started,
            },
        },
    })
}

/// An in-toto v1 statement about `subject`.
pub fn statement(
    subject: &Subject,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{
            "name": subject.repository,
            "digest": {"sha256": subject.digest.trim_start_matches("sha256:")},
        }],
        "predicateType": predicate_type,
        "predicate": predicate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entrypoint_closure_comes_from_cargo_lock_with_checksums() {
        let root = crate::util::cmd::workspace_root().unwrap();
        let crates = crate_closure(&root.join("Cargo.lock"), "entrypoint").unwrap();
        let find = |wanted: &str| {
            crates.iter().find_map(|c| match c {
                Component::Crate {
                    name,
                    version,
                    checksum,
                } if name == wanted => Some((version.clone(), checksum.clone())),
                _ => None,
            })
        };
        let (_, own) = find("entrypoint").expect("the entrypoint itself");
        assert_eq!(own, None, "a workspace crate has no registry checksum");
        let (_, tokio) = find("tokio").expect("tokio is a dependency of the entrypoint");
        assert_eq!(tokio.map(|c| c.len()), Some(64));
        assert!(
            find("bollard").is_none(),
            "xtask's own dependencies are not in the image"
        );
    }

    #[test]
    fn dpkg_and_apk_listings_become_versioned_packages() {
        let deb = distro_packages("debian", "git\t1:2.39.5-0+deb12u2\nbash\t5.2.15-2+b7\n");
        assert_eq!(deb.len(), 2);
        assert_eq!(purl(&deb[0]), "pkg:deb/debian/git@1%3A2.39.5-0%2Bdeb12u2");
        let apk = distro_packages(
            "alpine",
            "musl-1.2.5-r9\nca-certificates-bundle-20241121-r1\n",
        );
        assert_eq!(
            apk[1],
            Component::Distro {
                distro: "alpine".into(),
                name: "ca-certificates-bundle".into(),
                version: "20241121-r1".into()
            }
        );
    }

    #[test]
    fn the_spdx_document_lists_every_component_with_hashes_and_no_credentials() {
        let subject = Subject {
            repository: "127.0.0.1:5000/gitlab-ai/claude".into(),
            digest: format!("sha256:{}", "a".repeat(64)),
        };
        let integrity = Integrity::parse(&format!(
            "sha512-{}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 64])
        ))
        .unwrap();
        let components = vec![
            Component::Npm {
                name: "@anthropic-ai/claude-code".into(),
                version: "9.8.7".into(),
                integrity: integrity.clone(),
            },
            Component::Distro {
                distro: "debian".into(),
                name: "git".into(),
                version: "1:2.39.5".into(),
            },
            Component::Crate {
                name: "tokio".into(),
                version: "1.54.1".into(),
                checksum: Some("b".repeat(64)),
            },
        ];
        let doc = spdx(
            &subject,
            "https://oauth2:SECRET@gitlab.example.com/g/p",
            "2026-12-07T00:00:00Z",
            &components,
        )
        .unwrap();
        let text = doc.to_string();
        assert!(!text.contains("SECRET"));
        let packages = spdx_packages(&doc).unwrap();
        assert_eq!(packages.len(), 4);
        assert!(text.contains(&integrity.hex()));
        assert!(text.contains("pkg:npm/%40anthropic-ai/claude-code@9.8.7"));
        assert_eq!(doc["relationships"].as_array().unwrap().len(), 4);
        let prov = provenance(
            "https://u:SECRET@gitlab.example.com/g/p",
            "abc123",
            Some("https://gitlab.example.com/g/p/-/pipelines/9"),
            "https://gitlab.example.com/g/p/-/runners/1",
            "2026-12-07T00:00:00Z",
        );
        assert!(!prov.to_string().contains("SECRET"));
        assert_eq!(
            prov["buildDefinition"]["externalParameters"]["source"]["digest"]["gitCommit"],
            "abc123"
        );
    }
}
