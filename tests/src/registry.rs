//! A real OCI registry on loopback: Debian's `docker-registry` (distribution 2.x) with htpasswd
//! authentication, its configuration and storage in a temporary directory, stopped when
//! dropped; and pushes of tiny images through the registry API over plain HTTP (no Docker).
//!
//! The one test registry of the workspace: the entrypoint's integration tests (`doctor` reading
//! tags, digests and signatures) push to it, and xtask's publish tests and end-to-end scenario
//! publish to it (`xtask/src/registry/local_registry.rs` installs the packages and starts it).
//! The push follows the distribution spec: a monolithic blob upload (`POST
//! /v2/<name>/blobs/uploads/`, then `PUT <Location>&digest=…`) and `PUT
//! /v2/<name>/manifests/<tag>`
//! (<https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs>).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sha2::{Digest as _, Sha256};

/// Where Debian's package installs the registry.
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// A running registry.
pub struct LocalRegistry {
    child: Child,
    _dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The one user in its htpasswd file.
    pub user: String,
    /// That user's password.
    pub password: String,
}

impl LocalRegistry {
    /// Starts a registry on a free loopback port and waits until it answers. Needs the
    /// `docker-registry` and `apache2-utils` (htpasswd) packages.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {})
    }

    /// [`LocalRegistry::start`], with `configure` applied to the registry's command before it is
    /// spawned: xtask detaches it from the descriptors it inherited (a registry that held the
    /// descriptor of `flock LOCK cargo xtask …` would hold the lock).
    pub fn start_with(configure: impl FnOnce(&mut Command)) -> anyhow::Result<Self> {
        if !Path::new(REGISTRY_BIN).exists() {
            bail!("{REGISTRY_BIN} is missing: apt-get install docker-registry apache2-utils");
        }
        let dir = tempfile::Builder::new()
            .prefix("doubles-registry-")
            .tempdir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let host = format!("127.0.0.1:{port}");
        let user = "puller".to_owned();
        let password = format!("pw-{}-{port}", std::process::id());
        let htpasswd = Command::new("htpasswd")
            .args(["-Bbn", &user, &password])
            .output()
            .context("running htpasswd (apt-get install apache2-utils)")?;
        if !htpasswd.status.success() {
            bail!(
                "htpasswd failed: {}",
                String::from_utf8_lossy(&htpasswd.stderr)
            );
        }
        std::fs::write(dir.path().join("htpasswd"), &htpasswd.stdout)?;
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {data}\nhttp:\n  addr: {host}\nauth:\n  htpasswd:\n    realm: doubles-test\n    path: {htpasswd}\n",
            data = dir.path().join("data").display(),
            htpasswd = dir.path().join("htpasswd").display(),
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config)?;
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path)?;
        let mut command = Command::new(REGISTRY_BIN);
        command
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        configure(&mut command);
        let child = command
            .spawn()
            .with_context(|| format!("starting {REGISTRY_BIN}"))?;
        let mut registry = LocalRegistry {
            child,
            _dir: dir,
            host,
            user,
            password,
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(status) = registry.child.try_wait()? {
                bail!(
                    "docker-registry exited ({status}): {}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            if std::net::TcpStream::connect(&registry.host).is_ok() {
                return Ok(registry);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "docker-registry did not listen on {} within 30 s: {}",
            registry.host,
            std::fs::read_to_string(&log_path).unwrap_or_default()
        )
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }

    /// Uploads `bytes` as a blob of `repository`; returns its digest.
    pub async fn push_blob(&self, repository: &str, bytes: &[u8]) -> anyhow::Result<String> {
        let http = reqwest::Client::new();
        let digest = sha256(bytes);
        let started = http
            .post(format!("{}/v2/{repository}/blobs/uploads/", self.url()))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await?;
        if started.status() != reqwest::StatusCode::ACCEPTED {
            bail!("starting an upload: {}", started.status());
        }
        let location = started
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .context("the upload has no Location")?;
        let mut target = reqwest::Url::parse(&self.url())?.join(location)?;
        target.query_pairs_mut().append_pair("digest", &digest);
        let done = http
            .put(target)
            .basic_auth(&self.user, Some(&self.password))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await?;
        if done.status() != reqwest::StatusCode::CREATED {
            bail!("finishing the upload: {}", done.status());
        }
        Ok(digest)
    }

    /// Pushes an image whose config is `config` (no layers) under `tag`; returns the manifest
    /// digest the registry computed.
    pub async fn push_image(
        &self,
        repository: &str,
        tag: &str,
        config: &serde_json::Value,
    ) -> anyhow::Result<String> {
        let config = serde_json::to_vec(config)?;
        let config_digest = self.push_blob(repository, &config).await?;
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": [],
        }))?;
        let response = reqwest::Client::new()
            .put(format!("{}/v2/{repository}/manifests/{tag}", self.url()))
            .basic_auth(&self.user, Some(&self.password))
            .header(reqwest::header::CONTENT_TYPE, OCI_MANIFEST)
            .body(manifest.clone())
            .send()
            .await?;
        if response.status() != reqwest::StatusCode::CREATED {
            bail!(
                "pushing {repository}:{tag}: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
        let digest = sha256(&manifest);
        let told = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok());
        if told != Some(digest.as_str()) {
            bail!("the registry named the manifest {told:?}, not {digest}");
        }
        Ok(digest)
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}
