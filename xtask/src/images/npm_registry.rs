//! A client for an npm-compatible registry: version metadata and verified tarball downloads.
//!
//! Only the two documented endpoints are used: `GET /<name>/<version>` (a version's packument,
//! with `dist.tarball` and `dist.integrity`) and the tarball URL it names
//! (https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use futures::StreamExt;
use serde::Deserialize;

use crate::engine::progress::Step;
use crate::images::integrity::{Integrity, IntegrityWriter};
use crate::images::manifest::NpmPackage;
use crate::util::public_url::without_userinfo;

/// The public registry, used unless `NPM_CONFIG_REGISTRY` names another (as npm itself does).
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";

/// An npm-compatible registry.
pub struct NpmRegistry {
    base: String,
    client: reqwest::Client,
}

/// The part of a version's metadata we use.
#[derive(Debug, Deserialize)]
pub struct VersionMetadata {
    /// Where and what to download.
    pub dist: Dist,
}

/// The parts of a package's document (`GET /<name>`) that show its releases.
#[derive(Debug, Deserialize)]
pub struct Packument {
    /// `latest` and other tags, each naming a version.
    #[serde(rename = "dist-tags", default)]
    pub dist_tags: BTreeMap<String, String>,
    /// Every published version (the values are not needed).
    #[serde(default)]
    pub versions: BTreeMap<String, serde::de::IgnoredAny>,
}

/// `dist` of a version's metadata.
#[derive(Debug, Deserialize)]
pub struct Dist {
    /// The tarball's URL.
    pub tarball: String,
    /// The tarball's Subresource Integrity (absent on very old packages, which we refuse).
    pub integrity: Option<String>,
}

impl NpmRegistry {
    /// The registry named by `NPM_CONFIG_REGISTRY` (or npm's lowercase spelling), else npmjs.
    pub fn from_env() -> anyhow::Result<Self> {
        let base = ["NPM_CONFIG_REGISTRY", "npm_config_registry"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_REGISTRY.to_owned());
        Self::new(&base)
    }

    /// A client for the registry at `base` (trailing slash optional).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("gitlab-ai-xtask/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .build()
            .context("cannot create the HTTP client for the npm registry")?;
        Ok(NpmRegistry {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }

    /// The registry's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET /<name>` in npm's abbreviated form (`Accept: application/vnd.npm.install-v1+json`,
    /// https://github.com/npm/registry/blob/main/docs/responses/package-metadata.md), which
    /// still carries `dist-tags` and every version but not each version's readme.
    pub async fn packument(&self, name: &str) -> anyhow::Result<Packument> {
        let accept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8";
        self.get_json(name, &[name], accept).await
    }

    /// `GET /<name>/<version>`.
    pub async fn version_metadata(&self, package: &NpmPackage) -> anyhow::Result<VersionMetadata> {
        let spec = package.to_string();
        self.get_json(
            &spec,
            &[&package.name, &package.version],
            "application/json",
        )
        .await
    }

    /// `GET /<segments…>` as JSON; a scoped name's `/` is escaped as npm clients do.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        segments: &[&str],
        accept: &str,
    ) -> anyhow::Result<T> {
        let path: Vec<String> = segments.iter().map(|s| s.replace('/', "%2f")).collect();
        let url = format!("{}/{}", self.base, path.join("/"));
        let shown = without_userinfo(&url);
        let request = self.client.get(&url).header("accept", accept);
        let response = send(request, || {
            format!("cannot reach the npm registry at {shown}")
        })
        .await?;
        let status = response.status();
        if !status.is_success() {
            bail!("the npm registry answered {status} for {shown}: is {what} published there?");
        }
        response
            .json()
            .await
            .map_err(reqwest::Error::without_url)
            .with_context(|| format!("unexpected metadata for {what} from {shown}"))
    }

    /// Downloads `url` into `dest`, failing (and removing `dest`) unless its bytes have the
    /// `expected` integrity.
    pub async fn download(
        &self,
        url: &str,
        what: &str,
        expected: &Integrity,
        dest: &Path,
    ) -> anyhow::Result<()> {
        let shown = without_userinfo(url);
        let response = send(self.client.get(url), || {
            format!("cannot download {what} from {shown}")
        })
        .await?;
        let status = response.status();
        if !status.is_success() {
            bail!("downloading {what} from {shown} failed: {status}");
        }
        let file = std::fs::File::create(dest)
            .with_context(|| format!("cannot create {}", dest.display()))?;
        let mut writer = IntegrityWriter::new(std::io::BufWriter::new(file));
        let step = Step::bytes(&format!("downloading {what}"), response.content_length());
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk
                .map_err(reqwest::Error::without_url)
                .with_context(|| format!("downloading {what} from {shown}"))?;
            step.advance(chunk.len() as u64);
            writer
                .write_all(&chunk)
                .with_context(|| format!("cannot write {}", dest.display()))?;
        }
        let (mut inner, actual) = writer.finish();
        inner.flush()?;
        if let Err(mismatch) = expected.check(what, actual) {
            let _ = std::fs::remove_file(dest);
            return Err((*mismatch).into());
        }
        Ok(())
    }
}

/// Sends `request`; when no answer comes, the error is `unreachable`'s, without the URL
/// reqwest's errors repeat (userinfo included).
async fn send(
    request: reqwest::RequestBuilder,
    unreachable: impl FnOnce() -> String,
) -> anyhow::Result<reqwest::Response> {
    request
        .send()
        .await
        .map_err(reqwest::Error::without_url)
        .with_context(unreachable)
}
