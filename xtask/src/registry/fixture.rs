//! Test images pushed straight through the registry API: a genuine OCI image (config with the
//! platform and a context-hash label, one gzipped layer whose `diff_id` is the uncompressed
//! tar's digest) that is small enough to create in every test. The arm64 ones need not run here;
//! registries and clients only read their documents.

use std::collections::BTreeMap;
use std::io::Write;

use crate::images::builder::CONTEXT_HASH_LABEL;
use crate::registry::local_registry::{self, LocalRegistry};
use crate::registry::oci::{Arch, Descriptor, ImageManifest, OCI_MANIFEST};
use crate::registry::{RegistryClient, Repository, sha256_digest};

const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A test registry and a client of its repository `path`, as its one user. The registry stops
/// when the first half is dropped: keep it bound (`_registry`) for as long as the client is used.
pub fn registry_with(path: &str) -> (LocalRegistry, RegistryClient) {
    let registry = local_registry::start().unwrap();
    let repo = Repository::parse(&format!("{}/{path}", registry.host)).unwrap();
    let client = RegistryClient::new(repo, Some(local_registry::credentials(&registry))).unwrap();
    (registry, client)
}

/// Pushes a one-file image for `arch` labelled with `context` under `tag`; returns the
/// manifest digest.
pub async fn push_small_image(
    client: &RegistryClient,
    tag: &str,
    arch: Arch,
    context: &str,
) -> String {
    let mut tar = tar::Builder::new(Vec::new());
    let content = format!("built for {arch} from {context}\n");
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(1_153_704_088);
    header.set_cksum();
    tar.append_data(&mut header, "etc/gitlab-ai-fixture", content.as_bytes())
        .unwrap();
    let layer_tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&layer_tar).unwrap();
    let layer = gz.finish().unwrap();

    let mut config = serde_json::json!({
        "architecture": arch.name(),
        "os": "linux",
        "config": {"Labels": BTreeMap::from([(CONTEXT_HASH_LABEL, context)])},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(&layer_tar)]},
    });
    if arch == Arch::Arm64 {
        config["variant"] = "v8".into();
    }
    let config = serde_json::to_vec(&config).unwrap();

    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        config: Descriptor {
            media_type: OCI_CONFIG.to_owned(),
            digest: client.push_blob(&config).await.unwrap(),
            size: config.len() as u64,
            platform: None,
        },
        layers: vec![Descriptor {
            media_type: OCI_LAYER_GZIP.to_owned(),
            digest: client.push_blob(&layer).await.unwrap(),
            size: layer.len() as u64,
            platform: None,
        }],
    };
    let bytes = serde_json::to_vec(&manifest).unwrap();
    client
        .put_manifest(tag, OCI_MANIFEST, &bytes)
        .await
        .unwrap()
}
