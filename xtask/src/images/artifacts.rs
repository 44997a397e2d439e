//! The downloaded artifacts (assistant CLIs, Node), fetched once per machine into the cache
//! outside the clone, verified against `images/images.lock`, and unpacked for the build context.
//!
//! A cache entry is named after the package and the verified integrity, and is complete only
//! once its marker exists: an interrupted download or extraction is redone, never half-used.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::images::cache;
use crate::images::integrity::Integrity;
use crate::images::lockfile::Lock;
use crate::images::manifest::NpmPackage;
use crate::images::npm_registry::NpmRegistry;
use crate::util::public_url::without_userinfo;

const COMPLETE_MARKER: &str = ".verified";

/// An artifact unpacked in the cache.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// Which package this is.
    pub package: NpmPackage,
    /// Its verified integrity; it stands for the content of every file below `root`.
    pub integrity: Integrity,
    /// The package's top directory (npm tarballs hold one, usually `package/`).
    pub root: PathBuf,
}

/// Fetches and unpacks artifacts, checked against the lock file.
pub struct ArtifactStore {
    dir: PathBuf,
    lock: Lock,
    registry: NpmRegistry,
}

impl ArtifactStore {
    /// The store under the machine's cache (`<cache>/artifacts`).
    pub fn open(lock: Lock) -> anyhow::Result<Self> {
        Ok(ArtifactStore {
            dir: cache::cache_dir("artifacts")?,
            lock,
            registry: NpmRegistry::from_env()?,
        })
    }

    /// A store in `dir` using `registry` (tests).
    #[cfg(test)]
    pub fn with(dir: PathBuf, lock: Lock, registry: NpmRegistry) -> Self {
        ArtifactStore {
            dir,
            lock,
            registry,
        }
    }

    /// The unpacked artifact, downloading and verifying it unless the cache already has it.
    pub async fn fetch(&self, package: &NpmPackage) -> anyhow::Result<Artifact> {
        let integrity = self.lock.integrity_of(package)?;
        let entry = self.dir.join(format!(
            "{}-{}-{}",
            package.name.trim_start_matches('@').replace('/', "-"),
            package.version,
            integrity.short_hex()
        ));
        if !entry.join(COMPLETE_MARKER).is_file() {
            self.download_and_unpack(package, &integrity, &entry)
                .await
                .with_context(|| format!("fetching {package}"))?;
        }
        Ok(Artifact {
            package: package.clone(),
            integrity,
            root: single_top_dir(&entry)?,
        })
    }

    async fn download_and_unpack(
        &self,
        package: &NpmPackage,
        integrity: &Integrity,
        entry: &Path,
    ) -> anyhow::Result<()> {
        let meta = self.registry.version_metadata(package).await?;
        let published = meta.dist.integrity.as_deref().with_context(|| {
            format!("the registry gives no sha512 integrity for {package}: refusing an unverifiable download")
        })?;
        let published = Integrity::parse(published)?;
        if published != *integrity {
            bail!(
                "the registry {} publishes {package} with integrity {published}, but images/images.lock records {integrity}: the registry serves different bytes for this version; investigate before running `cargo xtask lock-artifacts`",
                without_userinfo(self.registry.base())
            );
        }
        eprintln!(
            "downloading {package} from {}",
            without_userinfo(&meta.dist.tarball)
        );
        let partial = tempfile::Builder::new()
            .prefix(".partial-")
            .tempdir_in(&self.dir)
            .context("cannot create a download directory in the artifact cache")?;
        let tgz = partial.path().join("package.tgz");
        self.registry
            .download(&meta.dist.tarball, &package.to_string(), integrity, &tgz)
            .await?;
        let unpacked = partial.path().join("unpacked");
        unpack_tgz(&tgz, &unpacked)?;
        std::fs::write(unpacked.join(COMPLETE_MARKER), integrity.to_string())?;
        if entry.exists() {
            std::fs::remove_dir_all(entry).with_context(|| {
                format!("cannot replace the stale cache entry {}", entry.display())
            })?;
        }
        std::fs::rename(&unpacked, entry)
            .with_context(|| format!("cannot move the artifact into {}", entry.display()))?;
        Ok(())
    }
}

/// Unpacks a gzipped tarball into `dest`; `unpack_in` refuses entries escaping `dest`.
pub fn unpack_tgz(tgz: &Path, dest: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dest)?;
    let file =
        std::fs::File::open(tgz).with_context(|| format!("cannot open {}", tgz.display()))?;
    let mut archive =
        tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    archive.set_preserve_permissions(true);
    for entry in archive.entries().context("not a gzipped tarball")? {
        let mut entry = entry.context("corrupt tarball entry")?;
        entry
            .unpack_in(dest)
            .with_context(|| format!("cannot unpack {}", tgz.display()))?;
    }
    Ok(())
}

fn single_top_dir(entry: &Path) -> anyhow::Result<PathBuf> {
    let mut dirs = Vec::new();
    for child in
        std::fs::read_dir(entry).with_context(|| format!("cannot read {}", entry.display()))?
    {
        let child = child?;
        if child.file_type()?.is_dir() {
            dirs.push(child.path());
        }
    }
    match dirs.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!(
            "the artifact in {} does not hold exactly one top directory; delete it to re-download",
            entry.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::lockfile::LockedArtifact;

    fn tarball(content: &[u8]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        builder
            .append_data(&mut header, "package/bin/tool", content)
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap()
    }

    /// Serves `GET /tool/1.0.0` (metadata naming `published`) and `GET /tool.tgz` (`served`)
    /// on loopback; returns the base URL.
    async fn registry(published: Integrity, served: Vec<u8>) -> String {
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let meta = serde_json::json!({
            "dist": { "tarball": format!("{base}/tool.tgz"), "integrity": published.to_string() }
        });
        let app = axum::Router::new()
            .route("/tool/1.0.0", get(move || async move { axum::Json(meta) }))
            .route("/tool.tgz", get(move || async move { served }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }

    fn lock_with(integrity: &Integrity) -> Lock {
        Lock {
            artifacts: vec![LockedArtifact {
                package: "tool".into(),
                version: "1.0.0".into(),
                integrity: integrity.to_string(),
            }],
        }
    }

    /// A store caching in `cache` that trusts `integrity` for `tool` and downloads from the
    /// npm registry at `base`.
    fn store_of(cache: &Path, integrity: &Integrity, base: &str) -> ArtifactStore {
        ArtifactStore::with(
            cache.to_owned(),
            lock_with(integrity),
            NpmRegistry::new(base).unwrap(),
        )
    }

    fn tool() -> NpmPackage {
        NpmPackage::parse("tool@1.0.0").unwrap()
    }

    #[tokio::test]
    async fn a_verified_artifact_is_unpacked_and_then_served_from_the_cache() {
        let tgz = tarball(b"#!/bin/sh\necho tool\n");
        let integrity = Integrity::of(&tgz);
        let base = registry(integrity.clone(), tgz).await;
        let cache = tempfile::tempdir().unwrap();
        let store = store_of(cache.path(), &integrity, &base);
        let artifact = store.fetch(&tool()).await.unwrap();
        let tool_path = artifact.root.join("bin/tool");
        assert_eq!(
            std::fs::read(&tool_path).unwrap(),
            b"#!/bin/sh\necho tool\n"
        );

        // A second store pointing at a dead registry still finds it in the cache.
        let offline = store_of(cache.path(), &integrity, "http://127.0.0.1:9");
        assert_eq!(offline.fetch(&tool()).await.unwrap().root, artifact.root);
    }

    #[tokio::test]
    async fn a_tampered_download_is_rejected_and_not_cached() {
        let genuine = tarball(b"genuine");
        let integrity = Integrity::of(&genuine);
        // The registry's metadata still claims the genuine integrity, the bytes differ.
        let base = registry(integrity.clone(), tarball(b"evil")).await;
        let cache = tempfile::tempdir().unwrap();
        let store = store_of(cache.path(), &integrity, &base);
        let err = store.fetch(&tool()).await.unwrap_err();
        assert!(format!("{err:#}").contains("integrity mismatch"), "{err:#}");
        let left: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
        assert!(
            left.is_empty(),
            "nothing half-downloaded stays in the cache"
        );
    }

    #[tokio::test]
    async fn registry_metadata_disagreeing_with_the_lock_is_rejected() {
        let tgz = tarball(b"genuine");
        let locked = Integrity::of(b"what we locked long ago");
        let base = registry(Integrity::of(&tgz), tgz).await;
        let cache = tempfile::tempdir().unwrap();
        let store = store_of(cache.path(), &locked, &base);
        let err = store.fetch(&tool()).await.unwrap_err();
        assert!(
            format!("{err:#}").contains("images/images.lock records"),
            "{err:#}"
        );
    }
}
