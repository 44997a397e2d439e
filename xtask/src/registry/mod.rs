//! Reading an image manifest back from a registry over the Distribution HTTP API v2, to check
//! that what `docker push` reported is what the registry serves (and to learn the compressed
//! size from the layer descriptors).
//!
//! Authentication follows the distribution spec's challenge flow: an unauthenticated request is
//! answered `401` with `WWW-Authenticate`; `Basic` means retry with the credentials, `Bearer
//! realm=…,service=…,scope=…` means fetch a token from the realm with the credentials, then
//! retry with it (https://distribution.github.io/distribution/spec/auth/token/). GitLab's
//! container registry uses the Bearer flow with the job's `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD`
//! (https://docs.gitlab.com/user/packages/container_registry/authenticate_with_container_registry/).

pub(crate) mod image_index;
pub(crate) mod local_registry;
pub(crate) mod oci;
pub(crate) mod publish;
pub(crate) mod registry_auth;
#[cfg(test)]
pub(crate) mod registry_fixture;
pub(crate) mod registry_skip;
pub(crate) mod remote_image;

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use entrypoint::secret::Secret;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::registry::oci::ImageManifest;

/// Media types we accept for a single-platform image manifest.
pub const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

/// `user:password` for a registry.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// User name (`CI_REGISTRY_USER`).
    pub username: String,
    /// Password or token (`CI_REGISTRY_PASSWORD`).
    pub password: Secret,
}

/// A repository in a registry: `host[:port]` and the path below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// `registry.gitlab.com` or `127.0.0.1:5000`.
    pub host: String,
    /// `group/project/claude`.
    pub path: String,
}

impl Repository {
    /// Splits `host[:port]/path` (the first component is a host when it has a `.` or `:` or is
    /// `localhost`, as Docker decides).
    pub fn parse(reference: &str) -> anyhow::Result<Self> {
        let (host, path) = reference
            .split_once('/')
            .filter(|(h, _)| h.contains('.') || h.contains(':') || *h == "localhost")
            .with_context(|| {
                format!("{reference:?} does not start with a registry host (like CI_REGISTRY_IMAGE: registry.example.com/group/project)")
            })?;
        if path.is_empty() || path.contains(':') || path.contains('@') {
            bail!("{reference:?} is not `host/path` without a tag");
        }
        Ok(Repository {
            host: host.to_owned(),
            path: path.to_owned(),
        })
    }

    /// Plain HTTP for loopback registries (which the Docker daemon also treats as insecure), else
    /// HTTPS.
    pub fn base_url(&self) -> String {
        let name = self
            .host
            .rsplit_once(':')
            .map_or(self.host.as_str(), |(h, _)| h);
        let loopback = name == "localhost" || name.starts_with("127.") || name == "[::1]";
        format!(
            "{}://{}",
            if loopback { "http" } else { "https" },
            self.host
        )
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, PartialEq, Eq)]
pub enum Challenge {
    /// Retry with HTTP basic authentication.
    Basic,
    /// Get a token from `realm` with these parameters (`service`, `scope`).
    Bearer {
        /// The token endpoint.
        realm: String,
        /// Query parameters for it.
        params: BTreeMap<String, String>,
    },
}

impl Challenge {
    /// Parses `Basic realm="x"` or `Bearer realm="…",service="…",scope="…"`.
    pub fn parse(header: &str) -> anyhow::Result<Self> {
        let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
        let mut params = BTreeMap::new();
        let mut rest = rest.trim();
        while !rest.is_empty() {
            let (key, after) = rest
                .split_once('=')
                .with_context(|| format!("malformed WWW-Authenticate {header:?}"))?;
            let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted
                    .find('"')
                    .with_context(|| format!("unterminated quote in {header:?}"))?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                after.split_once(',').map_or((after, ""), |(v, a)| (v, a))
            };
            params.insert(key.trim().to_ascii_lowercase(), value.to_owned());
            rest = after.trim_start_matches(',').trim();
        }
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => Ok(Challenge::Basic),
            "bearer" => {
                let realm = params
                    .remove("realm")
                    .with_context(|| format!("Bearer challenge without realm: {header:?}"))?;
                Ok(Challenge::Bearer { realm, params })
            }
            other => bail!("unsupported registry authentication scheme {other:?}"),
        }
    }
}

/// What the registry serves for a tag.
#[derive(Debug)]
pub struct RemoteManifest {
    /// `sha256:…` of the manifest bytes (checked against `Docker-Content-Digest`).
    pub digest: String,
    /// Sum of the layer descriptors' sizes: the compressed image size.
    pub compressed_size: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
}

/// A manifest as the registry served it.
#[derive(Clone, Debug)]
pub struct FetchedManifest {
    /// `sha256:…` of `bytes`, checked against the `Docker-Content-Digest` header.
    pub digest: String,
    /// The `Content-Type` the registry sent.
    pub media_type: String,
    /// The manifest exactly as stored (digests are over these bytes).
    pub bytes: Vec<u8>,
}

/// `sha256:<hex>` of `bytes`, the content address the distribution API uses.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A client for one repository's part of the Distribution API
/// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md): manifests by tag or
/// digest, blobs, monolithic uploads. Authenticates on the first `401` and keeps the resulting
/// `Authorization` for later requests (re-authenticating when a token's scope is not enough,
/// e.g. a pull token for a push).
pub struct RegistryClient {
    http: reqwest::Client,
    repo: Repository,
    credentials: Option<Credentials>,
    authorization: std::sync::Mutex<Option<String>>,
}

impl RegistryClient {
    /// A client for `repo`, authenticating as `credentials` when the registry asks.
    pub fn new(repo: Repository, credentials: Option<Credentials>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("gitlab-ai-xtask/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .build()
            .context("cannot create the HTTP client for the registry")?;
        Ok(RegistryClient {
            http,
            repo,
            credentials,
            authorization: std::sync::Mutex::new(None),
        })
    }

    /// The repository this client talks to.
    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/v2/{}/{tail}", self.repo.base_url(), self.repo.path)
    }

    fn cached_authorization(&self) -> Option<String> {
        self.authorization
            .lock()
            .map(|guard| guard.clone())
            .unwrap_or_default()
    }

    /// Sends a request, answering one authentication challenge.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> anyhow::Result<reqwest::Response> {
        let attempt = |authorization: Option<String>| {
            let mut request = self.http.request(method.clone(), url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(authorization) = authorization {
                request = request.header("authorization", authorization);
            }
            if let Some(body) = body {
                request = request.body(body.to_vec());
            }
            request.send()
        };
        let response = attempt(self.cached_authorization())
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|h| h.to_str().ok())
            .context("the registry answered 401 without a WWW-Authenticate challenge")?
            .to_owned();
        let authorization = self.answer(&challenge).await?;
        if let Ok(mut guard) = self.authorization.lock() {
            *guard = Some(authorization.clone());
        }
        attempt(Some(authorization))
            .await
            .with_context(|| format!("cannot reach {url}"))
    }

    /// The `Authorization` value answering a challenge.
    async fn answer(&self, challenge: &str) -> anyhow::Result<String> {
        let creds = self.credentials.as_ref().context(
            "the registry requires authentication: set CI_REGISTRY_USER and CI_REGISTRY_PASSWORD (or --registry-user/--registry-password, DOCKER_AUTH_CONFIG, ~/.docker/config.json)",
        )?;
        Ok(match Challenge::parse(challenge)? {
            Challenge::Basic => basic(creds),
            Challenge::Bearer { realm, params } => {
                let token: TokenResponse = self
                    .http
                    .get(&realm)
                    .query(&params)
                    .header("authorization", basic(creds))
                    .send()
                    .await
                    .with_context(|| format!("cannot reach the registry's token service {realm}"))?
                    .error_for_status()
                    .with_context(|| format!("the token service {realm} refused the credentials"))?
                    .json()
                    .await?;
                let token = token
                    .token
                    .or(token.access_token)
                    .context("the token service answered without a token")?;
                format!("Bearer {token}")
            }
        })
    }

    /// The manifest of a tag or digest, with any of `accept`'s media types; `None` when the
    /// registry has no such manifest.
    pub async fn manifest(
        &self,
        reference: &str,
        accept: &str,
    ) -> anyhow::Result<Option<FetchedManifest>> {
        let url = self.url(&format!("manifests/{reference}"));
        let response = self
            .send(reqwest::Method::GET, &url, &[("accept", accept)], None)
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = fail_unless_success(response, "GET", &url).await?;
        let header_digest = header(&response, "docker-content-digest");
        let media_type = header(&response, "content-type").unwrap_or_default();
        let bytes = response.bytes().await?.to_vec();
        let digest = sha256_digest(&bytes);
        if let Some(header) = header_digest
            && header != digest
        {
            bail!(
                "the registry's Docker-Content-Digest {header} does not match the manifest it sent ({digest})"
            );
        }
        Ok(Some(FetchedManifest {
            digest,
            media_type,
            bytes,
        }))
    }

    /// A blob's bytes, verified against its digest.
    pub async fn blob(&self, digest: &str) -> anyhow::Result<Vec<u8>> {
        let url = self.url(&format!("blobs/{digest}"));
        let response = self.send(reqwest::Method::GET, &url, &[], None).await?;
        let bytes = fail_unless_success(response, "GET", &url)
            .await?
            .bytes()
            .await?
            .to_vec();
        let actual = sha256_digest(&bytes);
        if actual != digest {
            bail!("the registry served {actual} for the blob {digest}");
        }
        Ok(bytes)
    }

    /// Uploads `bytes` as a blob in one request (POST a session, PUT with `?digest=`), unless
    /// the repository already has it; returns its digest. Images are pushed by the engine; the
    /// tests push small per-platform images this way, and signatures and attestations are
    /// pushed this way.
    pub async fn push_blob(&self, bytes: &[u8]) -> anyhow::Result<String> {
        let digest = sha256_digest(bytes);
        let head_url = self.url(&format!("blobs/{digest}"));
        let head = self
            .send(reqwest::Method::HEAD, &head_url, &[], None)
            .await?;
        if head.status().is_success() {
            return Ok(digest);
        }
        let start_url = self.url("blobs/uploads/");
        let started = self
            .send(
                reqwest::Method::POST,
                &start_url,
                &[("content-length", "0")],
                None,
            )
            .await?;
        let started = fail_unless_success(started, "POST", &start_url).await?;
        let location = header(&started, "location")
            .context("the registry opened an upload without a Location")?;
        let base = reqwest::Url::parse(&self.repo.base_url())?;
        let mut upload = base
            .join(&location)
            .with_context(|| format!("the registry's upload Location {location:?} is not a URL"))?;
        upload.query_pairs_mut().append_pair("digest", &digest);
        let upload = upload.to_string();
        let put = self
            .send(
                reqwest::Method::PUT,
                &upload,
                &[("content-type", "application/octet-stream")],
                Some(bytes),
            )
            .await?;
        fail_unless_success(put, "PUT", &upload).await?;
        Ok(digest)
    }

    /// Stores a manifest under a tag or digest; returns its digest, checked against the one the
    /// registry reports.
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> anyhow::Result<String> {
        let url = self.url(&format!("manifests/{reference}"));
        let response = self
            .send(
                reqwest::Method::PUT,
                &url,
                &[("content-type", media_type)],
                Some(bytes),
            )
            .await?;
        let response = fail_unless_success(response, "PUT", &url).await?;
        let digest = sha256_digest(bytes);
        if let Some(reported) = header(&response, "docker-content-digest")
            && reported != digest
        {
            bail!("the registry stored {url} as {reported}, but its bytes are {digest}");
        }
        Ok(digest)
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
}

/// The response, or an error carrying the status and the registry's error body (the
/// distribution API explains refusals as `{"errors":[{"code":…,"message":…}]}`).
async fn fail_unless_success(
    response: reqwest::Response,
    method: &str,
    url: &str,
) -> anyhow::Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(500).collect();
    bail!("{method} {url} answered {status}: {}", body.trim())
}

/// Fetches `repo:tag`'s single-platform manifest, authenticating as the registry asks.
pub async fn fetch_manifest(
    repo: &Repository,
    tag: &str,
    credentials: Option<&Credentials>,
) -> anyhow::Result<RemoteManifest> {
    let client = RegistryClient::new(repo.clone(), credentials.cloned())?;
    let fetched = client
        .manifest(tag, MANIFEST_TYPES)
        .await?
        .with_context(|| format!("{}/{}:{tag} does not exist", repo.host, repo.path))?;
    let manifest: ImageManifest = serde_json::from_slice(&fetched.bytes)
        .context("the registry sent an unexpected manifest")?;
    Ok(RemoteManifest {
        digest: fetched.digest,
        compressed_size: manifest.layers.iter().map(|l| l.size).sum(),
    })
}

fn basic(creds: &Credentials) -> String {
    use base64::Engine as _;
    let raw = format!("{}:{}", creds.username, creds.password.expose());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gitlab_and_distribution_challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",scope="repository:g/p/claude:pull""#,
        )
        .unwrap();
        let Challenge::Bearer { realm, params } = c else {
            panic!("bearer expected")
        };
        assert_eq!(realm, "https://gitlab.example.com/jwt/auth");
        assert_eq!(params["service"], "container_registry");
        assert_eq!(params["scope"], "repository:g/p/claude:pull");
        assert_eq!(
            Challenge::parse(r#"Basic realm="gitlab-ai-test""#).unwrap(),
            Challenge::Basic
        );
        assert!(Challenge::parse("Negotiate abc").is_err());
    }

    #[test]
    fn repositories_split_into_host_and_path() {
        let r = Repository::parse("registry.gitlab.com/group/project/claude").unwrap();
        assert_eq!(
            (r.host.as_str(), r.path.as_str()),
            ("registry.gitlab.com", "group/project/claude")
        );
        assert_eq!(r.base_url(), "https://registry.gitlab.com");
        let local = Repository::parse("127.0.0.1:5000/gitlab-ai/codex").unwrap();
        assert_eq!(local.base_url(), "http://127.0.0.1:5000");
        assert!(Repository::parse("gitlab-ai/claude").is_err());
        assert!(Repository::parse("registry.gitlab.com/g/p:tag").is_err());
    }

    /// A registry double using the token flow GitLab's registry uses: 401 with a Bearer
    /// challenge, a token service that checks the basic credentials, then the manifest.
    async fn token_registry(manifest: &'static [u8], header_digest: String) -> String {
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::IntoResponse;
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let realm = format!("{base}/jwt/auth");
        let app = axum::Router::new()
            .route(
                "/jwt/auth",
                get(|headers: HeaderMap| async move {
                    // base64("user:secret")
                    let ok = headers
                        .get(header::AUTHORIZATION)
                        .is_some_and(|v| v == "Basic dXNlcjpzZWNyZXQ=");
                    if ok {
                        axum::Json(serde_json::json!({"token": "tok"})).into_response()
                    } else {
                        StatusCode::UNAUTHORIZED.into_response()
                    }
                }),
            )
            .route(
                "/v2/g/p/claude/manifests/latest",
                get(move |headers: HeaderMap| async move {
                    if headers
                        .get(header::AUTHORIZATION)
                        .is_some_and(|v| v == "Bearer tok")
                    {
                        ([("docker-content-digest", header_digest)], manifest).into_response()
                    } else {
                        let challenge = format!(
                            r#"Bearer realm="{realm}",service="container_registry",scope="repository:g/p/claude:pull""#
                        );
                        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)])
                            .into_response()
                    }
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base.trim_start_matches("http://").to_owned()
    }

    const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":10,"digest":"sha256:c"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":1000,"digest":"sha256:a"},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":234,"digest":"sha256:b"}]}"#;

    fn creds(password: &str) -> Credentials {
        Credentials {
            username: "user".into(),
            password: Secret::new(password),
        }
    }

    #[tokio::test]
    async fn a_manifest_is_read_back_through_the_token_flow() {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(MANIFEST)));
        let host = token_registry(MANIFEST, digest.clone()).await;
        let repo = Repository::parse(&format!("{host}/g/p/claude")).unwrap();
        let remote = fetch_manifest(&repo, "latest", Some(&creds("secret")))
            .await
            .unwrap();
        assert_eq!(remote.digest, digest);
        assert_eq!(remote.compressed_size, 1234);

        let refused = fetch_manifest(&repo, "latest", Some(&creds("wrong"))).await;
        assert!(refused.is_err());
        let anonymous = fetch_manifest(&repo, "latest", None).await.unwrap_err();
        assert!(format!("{anonymous:#}").contains("CI_REGISTRY_USER"));
    }

    #[tokio::test]
    async fn a_digest_header_that_does_not_match_the_body_is_refused() {
        let host = token_registry(MANIFEST, "sha256:0000".to_owned()).await;
        let repo = Repository::parse(&format!("{host}/g/p/claude")).unwrap();
        let err = fetch_manifest(&repo, "latest", Some(&creds("secret")))
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("does not match"), "{err:#}");
    }
}
