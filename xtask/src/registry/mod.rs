//! The registry: reading an image manifest back to check that what `docker push` reported is
//! what the registry serves (and to learn the compressed size from the layer descriptors), and
//! pushing the small documents the engine does not push (signatures, attestations, indexes).
//!
//! The Distribution API (https://github.com/opencontainers/distribution-spec/blob/main/spec.md)
//! and its authentication are the `oci-client` crate's: it reads the challenge of `GET /v2/`,
//! answers `Basic` with the credentials and `Bearer realm=…,service=…` by fetching a token from
//! the realm with them (https://distribution.github.io/distribution/spec/auth/token/), which is
//! how GitLab's container registry authenticates the job's `CI_REGISTRY_USER`/
//! `CI_REGISTRY_PASSWORD`
//! (https://docs.gitlab.com/user/packages/container_registry/authenticate_with_container_registry/).

pub(crate) mod credentials;
#[cfg(test)]
pub(crate) mod fixture;
pub(crate) mod image_index;
pub(crate) mod local_registry;
pub(crate) mod oci;
pub(crate) mod publish;
pub(crate) mod remote_image;
pub(crate) mod skip;

use ai_core::Secret;
use anyhow::{Context, bail};
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

/// What the registry serves for a tag.
#[derive(Debug)]
pub struct RemoteManifest {
    /// `sha256:…` of the manifest bytes (checked against `Docker-Content-Digest`).
    pub digest: String,
    /// Sum of the layer descriptors' sizes: the compressed image size.
    pub compressed_size: u64,
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

/// A client for one repository's part of the Distribution API: manifests by tag or digest,
/// blobs, monolithic uploads, on `oci-client`. Authenticates on first use and keeps the token
/// per operation (a pull token is not reused for a push).
pub struct RegistryClient {
    client: oci_client::Client,
    repo: Repository,
    auth: oci_client::secrets::RegistryAuth,
    anonymous: bool,
}

/// What the registry said no to, in the words a person reading `cargo xtask publish` needs.
#[derive(Debug, thiserror::Error)]
enum RegistryError {
    /// No credentials, and the registry wants some.
    #[error(
        "the registry requires authentication: set CI_REGISTRY_USER and CI_REGISTRY_PASSWORD (or --registry-user/--registry-password, DOCKER_AUTH_CONFIG, ~/.docker/config.json)"
    )]
    AuthenticationRequired,
    /// Credentials the registry (or its token service) refused.
    #[error(
        "the registry refused the credentials of {username:?} for {what} (check CI_REGISTRY_USER and CI_REGISTRY_PASSWORD, or the token's scopes)"
    )]
    Refused {
        /// The user, never the password.
        username: String,
        /// `GET manifests/latest` and the like.
        what: String,
    },
    /// A body whose digest is not the one the registry announced or was asked for.
    #[error("the registry's Docker-Content-Digest does not match the {what} it sent: {detail}")]
    DigestMismatch {
        /// `manifest` or `blob`.
        what: &'static str,
        /// The crate's comparison.
        detail: String,
    },
    /// Anything else, with the registry's own explanation.
    #[error("{what} on {repository}: {source}")]
    Other {
        /// The operation.
        what: String,
        /// `host/path`.
        repository: String,
        /// The client's error (status, URL and the registry's error body).
        source: oci_client::errors::OciDistributionError,
    },
}

impl RegistryClient {
    /// A client for `repo`, authenticating as `credentials` when the registry asks. Loopback
    /// registries are spoken to over plain HTTP, as the Docker daemon does (see
    /// [`Repository::base_url`]).
    pub fn new(repo: Repository, credentials: Option<Credentials>) -> anyhow::Result<Self> {
        use oci_client::client::{ClientConfig, ClientProtocol};
        let protocol = if repo.base_url().starts_with("http://") {
            ClientProtocol::HttpsExcept(vec![repo.host.clone()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            // One POST and one PUT per blob, as `docker push` does for small blobs; the
            // documents we push are a few kilobytes.
            use_monolithic_push: true,
            connect_timeout: Some(std::time::Duration::from_secs(30)),
            user_agent: concat!("gitlab-ai-xtask/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let anonymous = credentials.is_none();
        let auth = match credentials {
            Some(creds) => oci_client::secrets::RegistryAuth::Basic(
                creds.username,
                creds.password.expose().to_owned(),
            ),
            None => oci_client::secrets::RegistryAuth::Anonymous,
        };
        Ok(RegistryClient {
            client: oci_client::Client::new(config),
            repo,
            auth,
            anonymous,
        })
    }

    /// The repository this client talks to.
    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// `repo:tag` or `repo@sha256:…`, after handing the client our credentials for the host
    /// (it authenticates lazily, per operation).
    async fn reference(&self, reference: &str) -> oci_client::Reference {
        self.client
            .store_auth_if_needed(&self.repo.host, &self.auth)
            .await;
        if reference.starts_with("sha256:") {
            oci_client::Reference::with_digest(
                self.repo.host.clone(),
                self.repo.path.clone(),
                reference.to_owned(),
            )
        } else {
            oci_client::Reference::with_tag(
                self.repo.host.clone(),
                self.repo.path.clone(),
                reference.to_owned(),
            )
        }
    }

    /// [`Self::reference`], authenticated for `operation` (with a token for it, where the
    /// registry uses tokens); `what` names the request in the error.
    async fn authorized(
        &self,
        reference: &str,
        operation: oci_client::RegistryOperation,
        what: String,
    ) -> Result<oci_client::Reference, RegistryError> {
        let image = self.reference(reference).await;
        self.client
            .auth(&image, &self.auth, operation)
            .await
            .map_err(|error| self.explain(what, error))?;
        Ok(image)
    }

    /// Our error for the client's: a `401` means missing or refused credentials (the client
    /// retries a refused token request anonymously, so a wrong password shows up as the
    /// request's `401`).
    fn explain(
        &self,
        what: String,
        error: oci_client::errors::OciDistributionError,
    ) -> RegistryError {
        use oci_client::errors::OciDistributionError as E;
        match error {
            E::UnauthorizedError { .. } | E::AuthenticationFailure(_) if self.anonymous => {
                RegistryError::AuthenticationRequired
            }
            E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => RegistryError::Refused {
                username: match &self.auth {
                    oci_client::secrets::RegistryAuth::Basic(user, _) => user.clone(),
                    _ => String::new(),
                },
                what,
            },
            E::ServerError { code: 401, .. } if self.anonymous => {
                RegistryError::AuthenticationRequired
            }
            E::DigestError(detail) => RegistryError::DigestMismatch {
                what: if what.contains("blob") {
                    "blob"
                } else {
                    "manifest"
                },
                detail: detail.to_string(),
            },
            source => RegistryError::Other {
                what,
                repository: format!("{}/{}", self.repo.host, self.repo.path),
                source,
            },
        }
    }

    /// The manifest of a tag or digest, with any of `accept`'s media types; `None` when the
    /// registry has no such manifest (`404`, `MANIFEST_UNKNOWN` or `NAME_UNKNOWN`).
    ///
    /// `oci-client` returns the body and its verified digest but not the `Content-Type`, so the
    /// media type is the document's own `mediaType` field (which Docker and OCI manifests and
    /// indexes carry); without one, an index is told from a manifest by its `manifests` list.
    pub async fn manifest(
        &self,
        reference: &str,
        accept: &str,
    ) -> anyhow::Result<Option<FetchedManifest>> {
        let image = self.reference(reference).await;
        let accepted: Vec<&str> = accept.split(',').map(str::trim).collect();
        let (bytes, digest) = match self
            .client
            .pull_manifest_raw(&image, &self.auth, &accepted)
            .await
        {
            Ok(found) => found,
            Err(error) if is_not_found(&error) => return Ok(None),
            Err(error) => {
                return Err(self
                    .explain(format!("GET manifests/{reference}"), error)
                    .into());
            }
        };
        let bytes = bytes.to_vec();
        let computed = sha256_digest(&bytes);
        if digest != computed {
            bail!(
                "the registry's Docker-Content-Digest {digest} does not match the manifest it sent ({computed})"
            );
        }
        Ok(Some(FetchedManifest {
            digest,
            media_type: media_type_of(&bytes),
            bytes,
        }))
    }

    /// A blob's bytes, verified against its digest (by the client).
    pub async fn blob(&self, digest: &str) -> anyhow::Result<Vec<u8>> {
        let what = || format!("GET blobs/{digest}");
        let image = self
            .authorized(digest, oci_client::RegistryOperation::Pull, what())
            .await?;
        let mut bytes = Vec::new();
        self.client
            .pull_blob(&image, digest, &mut bytes)
            .await
            .map_err(|error| self.explain(what(), error))?;
        Ok(bytes)
    }

    /// Uploads `bytes` as a blob in one request (POST a session, PUT with `?digest=`), unless
    /// the repository already has it; returns its digest. Images are pushed by the engine; the
    /// tests push small per-platform images this way, and signatures and attestations are
    /// pushed this way.
    pub async fn push_blob(&self, bytes: &[u8]) -> anyhow::Result<String> {
        let digest = sha256_digest(bytes);
        let what = || format!("PUT blobs/{digest}");
        let image = self
            .authorized(&digest, oci_client::RegistryOperation::Push, what())
            .await?;
        let present = self
            .client
            .blob_exists(&image, &digest)
            .await
            .map_err(|error| self.explain(format!("HEAD blobs/{digest}"), error))?;
        if !present {
            self.client
                .push_blob(&image, bytes.to_vec(), &digest)
                .await
                .map_err(|error| self.explain(what(), error))?;
        }
        Ok(digest)
    }

    /// Stores a manifest under a tag or digest; returns its digest, checked against the one in
    /// the `Location` the registry answers with when that names a digest.
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> anyhow::Result<String> {
        let what = || format!("PUT manifests/{reference}");
        let content_type = reqwest::header::HeaderValue::from_str(media_type)
            .with_context(|| format!("{media_type:?} is not a media type"))?;
        let image = self
            .authorized(reference, oci_client::RegistryOperation::Push, what())
            .await?;
        let location = self
            .client
            .push_manifest_raw(&image, bytes.to_vec(), content_type)
            .await
            .map_err(|error| self.explain(what(), error))?;
        let digest = sha256_digest(bytes);
        if let Some((_, reported)) = location.rsplit_once("/manifests/")
            && reported.starts_with("sha256:")
            && reported != digest
        {
            bail!(
                "the registry stored {}/{}:{reference} as {reported}, but its bytes are {digest}",
                self.repo.host,
                self.repo.path
            );
        }
        Ok(digest)
    }
}

/// Whether the registry said the manifest or repository does not exist.
fn is_not_found(error: &oci_client::errors::OciDistributionError) -> bool {
    use oci_client::errors::{OciDistributionError as E, OciErrorCode};
    match error {
        E::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::NotFound
            )
        }),
        E::ServerError { code: 404, .. } | E::ImageManifestNotFoundError(_) => true,
        _ => false,
    }
}

/// The media type a manifest or index declares; see [`RegistryClient::manifest`].
fn media_type_of(bytes: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Declared {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Declared>(bytes) {
        Ok(Declared {
            media_type: Some(media_type),
            ..
        }) => media_type,
        Ok(Declared {
            manifests: Some(_), ..
        }) => crate::registry::oci::OCI_INDEX.to_owned(),
        _ => crate::registry::oci::OCI_MANIFEST.to_owned(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    /// challenge (on the API root `GET /v2/` too, where distribution's token authentication
    /// answers every unauthenticated request so: https://distribution.github.io/distribution/spec/auth/token/,
    /// and clients such as `oci-client` look for it), a token service that checks the basic
    /// credentials, then the manifest.
    async fn token_registry(manifest: &'static [u8], header_digest: String) -> String {
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::IntoResponse;
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let realm = format!("{base}/jwt/auth");
        let root_challenge = format!(r#"Bearer realm="{realm}",service="container_registry""#);
        let app = axum::Router::new()
            .route(
                "/v2/",
                get(move || async move {
                    (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, root_challenge)],
                    )
                }),
            )
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

    /// A registry double that, like GitLab's registry, only accepts writes with a token whose
    /// scope includes `push` (a pull token is refused with `401`): the token service grants the
    /// actions of the `scope` asked for, `repository:<path>:pull,push` for a push
    /// (https://distribution.github.io/distribution/spec/auth/jwt/). It answers uploads and
    /// manifests as the distribution spec says: `202` with a `Location` for a new upload, `201`
    /// for the stored blob and manifest. Returns the host and the scopes the token service was
    /// asked for.
    async fn push_token_registry() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use axum::extract::{Query, State};
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::IntoResponse;
        use axum::routing::{get, post, put};
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex};

        #[derive(Clone)]
        struct Double {
            realm: String,
            scopes: Arc<Mutex<Vec<String>>>,
        }
        fn challenge(double: &Double) -> axum::response::Response {
            let challenge = format!(
                r#"Bearer realm="{}",service="container_registry""#,
                double.realm
            );
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, challenge)],
            )
                .into_response()
        }
        fn bearer(headers: &HeaderMap) -> Option<String> {
            headers
                .get(header::AUTHORIZATION)?
                .to_str()
                .ok()?
                .strip_prefix("Bearer ")
                .map(str::to_owned)
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let scopes = Arc::new(Mutex::new(Vec::new()));
        let double = Double {
            realm: format!("{base}/jwt/auth"),
            scopes: scopes.clone(),
        };
        let app =
            axum::Router::new()
                .route(
                    "/v2/",
                    get(|State(double): State<Double>| async move { challenge(&double) }),
                )
                .route(
                    "/jwt/auth",
                    get(
                        |State(double): State<Double>,
                         headers: HeaderMap,
                         Query(query): Query<HashMap<String, String>>| async move {
                            if headers
                                .get(header::AUTHORIZATION)
                                .is_none_or(|v| v != "Basic dXNlcjpzZWNyZXQ=")
                            {
                                return StatusCode::UNAUTHORIZED.into_response();
                            }
                            let scope = query.get("scope").cloned().unwrap_or_default();
                            double.scopes.lock().unwrap().push(scope.clone());
                            let token = if scope.ends_with(":pull,push") {
                                "push"
                            } else {
                                "pull"
                            };
                            axum::Json(serde_json::json!({"token": token})).into_response()
                        },
                    ),
                )
                .route(
                    "/v2/g/p/claude/blobs/{digest}",
                    axum::routing::head(
                        |State(double): State<Double>, headers: HeaderMap| async move {
                            match bearer(&headers) {
                                Some(_) => StatusCode::NOT_FOUND.into_response(),
                                None => challenge(&double),
                            }
                        },
                    ),
                )
                .route(
                    "/v2/g/p/claude/blobs/uploads/",
                    post(
                        |State(double): State<Double>, headers: HeaderMap| async move {
                            if bearer(&headers).as_deref() != Some("push") {
                                return challenge(&double);
                            }
                            (
                                StatusCode::ACCEPTED,
                                [(header::LOCATION, "/v2/g/p/claude/blobs/uploads/u1")],
                            )
                                .into_response()
                        },
                    ),
                )
                .route(
                    "/v2/g/p/claude/blobs/uploads/u1",
                    put(
                        |State(double): State<Double>,
                         headers: HeaderMap,
                         Query(query): Query<HashMap<String, String>>,
                         body: axum::body::Bytes| async move {
                            if bearer(&headers).as_deref() != Some("push") {
                                return challenge(&double);
                            }
                            let digest = query.get("digest").cloned().unwrap_or_default();
                            if digest != sha256_digest(&body) {
                                return StatusCode::BAD_REQUEST.into_response();
                            }
                            let location = format!("/v2/g/p/claude/blobs/{digest}");
                            (StatusCode::CREATED, [(header::LOCATION, location)]).into_response()
                        },
                    ),
                )
                .route(
                    "/v2/g/p/claude/manifests/{reference}",
                    put(
                        |State(double): State<Double>,
                         headers: HeaderMap,
                         body: axum::body::Bytes| async move {
                            if bearer(&headers).as_deref() != Some("push") {
                                return challenge(&double);
                            }
                            let location =
                                format!("/v2/g/p/claude/manifests/{}", sha256_digest(&body));
                            (StatusCode::CREATED, [(header::LOCATION, location)]).into_response()
                        },
                    ),
                )
                .with_state(double);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base.trim_start_matches("http://").to_owned(), scopes)
    }

    #[tokio::test]
    async fn blobs_and_manifests_are_pushed_with_a_push_token_from_the_realm() {
        let (host, scopes) = push_token_registry().await;
        let repo = Repository::parse(&format!("{host}/g/p/claude")).unwrap();
        let client = RegistryClient::new(repo.clone(), Some(creds("secret"))).unwrap();
        let digest = client.push_blob(b"a signature layer").await.unwrap();
        assert_eq!(digest, sha256_digest(b"a signature layer"));
        let stored = client
            .put_manifest("latest", crate::registry::oci::OCI_MANIFEST, MANIFEST)
            .await
            .unwrap();
        assert_eq!(stored, sha256_digest(MANIFEST));
        let asked = scopes.lock().unwrap().clone();
        assert!(
            asked.iter().any(|s| s == "repository:g/p/claude:pull,push"),
            "{asked:?}"
        );

        let anonymous = RegistryClient::new(repo, None).unwrap();
        let err = anonymous.push_blob(b"x").await.unwrap_err();
        assert!(format!("{err:#}").contains("CI_REGISTRY_USER"), "{err:#}");
    }
}
