//! The image the job runs: is it signed, and is it the newest patch release of its line?
//!
//! In a job the image is `CI_JOB_IMAGE`, "the name of the Docker image running the job"
//! (<https://docs.gitlab.com/ci/variables/predefined_variables/>); locally it is `--image`.
//! Doctor resolves the tag to its manifest digest (`HEAD /v2/<name>/manifests/<reference>`,
//! answered with `Docker-Content-Digest`,
//! <https://github.com/opencontainers/distribution-spec/blob/main/spec.md#checking-if-content-exists-in-the-registry>),
//! then looks for the signature the release stores next to it under the tag
//! `sha256-<hex>.sig` (cosign's key-based layout, written by `cargo xtask publish`), and lists
//! the repository's tags (`GET /v2/<name>/tags/list`, paginated through `Link: <…>;
//! rel="next"`,
//! <https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags>) to
//! find newer patch releases of the same `MAJOR.MINOR`.
//!
//! Registries ask for credentials with `401` and a `WWW-Authenticate` challenge: GitLab's
//! registry answers `Bearer realm=…,service=…,scope=…`, and the token comes from the realm with
//! Basic credentials (<https://distribution.github.io/distribution/spec/auth/token/>,
//! <https://docs.gitlab.com/user/packages/container_registry/authenticate_with_container_registry/>);
//! a registry with htpasswd answers `Basic` and takes the credentials directly. In a job the
//! credentials are `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD`, sent only to `CI_REGISTRY` itself
//! (and to its token realm only over HTTPS); locally none are sent (public projects allow
//! anonymous pulls). The existence of a `.sig` tag is not a verification: the findings say how
//! to verify with the public key.
//!
//! Nothing here fails the report: an unknown image or an unreachable registry is a warning.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, LINK, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use sha2::{Digest as _, Sha256};
use url::Url;

use super::report::{Check, Finding, Report};
use super::{Inputs, Place};
use crate::secret::Secret;

/// How long each registry request may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The manifest types an image tag may point at (OCI and Docker, single and multi-platform):
/// without them a registry may convert or refuse, and the digest would not be the pushed one
/// (<https://distribution.github.io/distribution/spec/manifest-v2-2/>).
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Docker Hub's registry, for references without a registry host.
const DOCKER_HUB: &str = "registry-1.docker.io";

/// At most this many tag pages are read (a page holds up to 1000 tags).
const MAX_TAG_PAGES: usize = 50;

/// Why the image could not be checked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ImageError {
    /// The text is not `[registry/]repository[:tag][@digest]`.
    #[error(
        "{0:?} is not an image reference (registry/repository:tag or registry/repository@sha256:…)"
    )]
    Reference(String),
    /// The HTTP client could not be built.
    #[error("cannot set up HTTPS: {0}")]
    Client(#[source] reqwest::Error),
    /// No answer.
    #[error("{host} is unreachable: {cause}")]
    Unreachable {
        /// The registry.
        host: String,
        /// The transport error, without URLs.
        cause: String,
    },
    /// An answer other than the one the registry API gives.
    #[error("{host} answered {what} with {status}")]
    Status {
        /// The registry.
        host: String,
        /// The request, without credentials.
        what: String,
        /// The status.
        status: StatusCode,
    },
    /// The registry wants credentials that doctor does not have or that it refused.
    #[error("{host} refused access to {repository} ({why})")]
    Unauthorized {
        /// The registry.
        host: String,
        /// The repository.
        repository: String,
        /// What happened.
        why: String,
    },
    /// A reply that does not parse.
    #[error("{host} sent an unreadable {what}: {cause}")]
    Unreadable {
        /// The registry.
        host: String,
        /// Which document.
        what: &'static str,
        /// Why.
        cause: String,
    },
}

/// An image reference, split as Docker splits it
/// (<https://github.com/distribution/reference/blob/main/reference.go>): the first path
/// component is a registry host when it has a `.` or a `:` or is `localhost`; otherwise the
/// image is on Docker Hub, under `library/` when it has a single component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImageRef {
    /// `host[:port]` of the registry.
    pub host: String,
    /// The repository inside it.
    pub repository: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The digest (`sha256:…`), if any.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `[host/]repository[:tag][@digest]`.
    pub(crate) fn parse(text: &str) -> Result<Self, ImageError> {
        let bad = || ImageError::Reference(text.to_owned());
        let text = text.trim();
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                let hex = digest.strip_prefix("sha256:").ok_or_else(bad)?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad());
                }
                (name, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        let (path, tag) = match name.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path, Some(tag.to_owned())),
            _ => (name, None),
        };
        let (host, repository) = match path.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), rest.to_owned())
            }
            Some(_) => (DOCKER_HUB.to_owned(), path.to_owned()),
            None => (DOCKER_HUB.to_owned(), format!("library/{path}")),
        };
        let valid = |s: &str| {
            !s.split('/').any(str::is_empty)
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b))
        };
        if host.is_empty() || !valid(&repository) || tag.as_deref().is_some_and(str::is_empty) {
            return Err(bad());
        }
        let host = if host == "docker.io" {
            DOCKER_HUB.to_owned()
        } else {
            host
        };
        Ok(Self {
            host,
            repository,
            tag,
            digest,
        })
    }

    /// The registry's base URL: HTTPS, except on loopback, which Docker treats as an insecure
    /// (plain HTTP) registry by default
    /// (<https://docs.docker.com/reference/cli/dockerd/#insecure-registries>).
    pub(crate) fn base(&self) -> Result<Url, ImageError> {
        let hostname = self
            .host
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(self.host.as_str(), |(h, _)| h);
        let loopback = hostname == "localhost"
            || hostname == "[::1]"
            || hostname
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback());
        let scheme = if loopback { "http" } else { "https" };
        Url::parse(&format!("{scheme}://{}/", self.host))
            .map_err(|_| ImageError::Reference(self.to_string()))
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.host, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// A `WWW-Authenticate` challenge
/// (<https://datatracker.ietf.org/doc/html/rfc9110#name-www-authenticate>).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// Get a token from `realm` (distribution's token authentication).
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The `service` parameter, passed back.
        service: Option<String>,
        /// The `scope` parameter, passed back.
        scope: Option<String>,
    },
    /// Send Basic credentials with each request.
    Basic,
}

impl Challenge {
    /// Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
    pub(crate) fn parse(header: &str) -> Option<Self> {
        let header = header.trim();
        let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = auth_params(params);
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    }
}

/// `name="value", name=value` pairs; quoted values may hold commas (GitLab's scopes do not,
/// but `scope` lists in general may) and backslash escapes.
fn auth_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = text.trim();
    while let Some((name, after)) = rest.split_once('=') {
        let name = name.trim().trim_start_matches(',').trim().to_owned();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        params.push((name, value));
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    params
}

/// Basic credentials for the registry.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The user name (`CI_REGISTRY_USER`).
    pub user: String,
    /// The password (`CI_REGISTRY_PASSWORD`, a job token).
    pub password: Secret,
}

/// A registry API client for one repository, authenticating on the first `401`.
struct Registry {
    http: reqwest::Client,
    base: Url,
    image: ImageRef,
    credentials: Option<Credentials>,
    /// The `Authorization` header value once a challenge was answered.
    authorization: Option<Secret>,
}

impl Registry {
    fn new(image: &ImageRef, credentials: Option<Credentials>) -> Result<Self, ImageError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .build()
            .map_err(ImageError::Client)?;
        Ok(Self {
            http,
            base: image.base()?,
            image: image.clone(),
            credentials,
            authorization: None,
        })
    }

    fn unreachable(&self, e: reqwest::Error) -> ImageError {
        ImageError::Unreachable {
            host: self.image.host.clone(),
            cause: crate::gitlab::error::cause_chain(&e.without_url()),
        }
    }

    fn unauthorized(&self, why: impl Into<String>) -> ImageError {
        ImageError::Unauthorized {
            host: self.image.host.clone(),
            repository: self.image.repository.clone(),
            why: why.into(),
        }
    }

    async fn attempt(&self, method: &Method, url: &Url) -> Result<Response, ImageError> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(ACCEPT, MANIFEST_ACCEPT);
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth.expose());
        }
        request.send().await.map_err(|e| self.unreachable(e))
    }

    /// Sends `method url`, answering one authentication challenge.
    async fn send(&mut self, method: Method, url: &Url) -> Result<Response, ImageError> {
        let response = self.attempt(&method, url).await?;
        if response.status() != StatusCode::UNAUTHORIZED || self.authorization.is_some() {
            return self.checked(response);
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(Challenge::parse)
            .ok_or_else(|| self.unauthorized("401 without a challenge doctor understands"))?;
        self.authorization = Some(self.answer(challenge).await?);
        let response = self.attempt(&method, url).await?;
        self.checked(response)
    }

    /// A `401`/`403` after authenticating means the credentials were refused.
    fn checked(&self, response: Response) -> Result<Response, ImageError> {
        match response.status() {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(self.unauthorized(format!(
                "{} with {}",
                response.status(),
                if self.credentials.is_some() {
                    "CI_REGISTRY_USER's credentials"
                } else {
                    "no credentials"
                }
            ))),
            _ => Ok(response),
        }
    }

    fn basic(&self) -> Option<String> {
        use base64::Engine as _;
        self.credentials.as_ref().map(|c| {
            let pair = format!("{}:{}", c.user, c.password.expose());
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        })
    }

    /// The `Authorization` value that answers `challenge`.
    async fn answer(&self, challenge: Challenge) -> Result<Secret, ImageError> {
        match challenge {
            Challenge::Basic => self.basic().map(Secret::new).ok_or_else(|| {
                self.unauthorized(
                    "the registry wants a user and password, and doctor has no credentials for it",
                )
            }),
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let mut url = Url::parse(&realm).map_err(|e| ImageError::Unreadable {
                    host: self.image.host.clone(),
                    what: "token realm",
                    cause: e.to_string(),
                })?;
                {
                    let mut query = url.query_pairs_mut();
                    if let Some(service) = &service {
                        query.append_pair("service", service);
                    }
                    let scope = scope
                        .unwrap_or_else(|| format!("repository:{}:pull", self.image.repository));
                    query.append_pair("scope", &scope);
                }
                // The realm is named by the registry; the job's credentials go there only
                // over HTTPS (or on loopback, where the registry itself is plain HTTP).
                let protected = url.scheme() == "https"
                    || matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
                let mut request = self.http.get(url);
                if let Some(basic) = self.basic().filter(|_| protected) {
                    request = request.header(AUTHORIZATION, basic);
                }
                let response = request.send().await.map_err(|e| self.unreachable(e))?;
                if !response.status().is_success() {
                    return Err(self.unauthorized(format!(
                        "its token service answered {}",
                        response.status()
                    )));
                }
                #[derive(serde::Deserialize)]
                struct TokenReply {
                    token: Option<String>,
                    access_token: Option<String>,
                }
                let reply: TokenReply =
                    response.json().await.map_err(|e| ImageError::Unreadable {
                        host: self.image.host.clone(),
                        what: "token reply",
                        cause: crate::gitlab::error::cause_chain(&e.without_url()),
                    })?;
                let token = reply
                    .token
                    .or(reply.access_token)
                    .ok_or_else(|| self.unauthorized("its token service sent no token"))?;
                Ok(Secret::new(format!("Bearer {token}")))
            }
        }
    }

    fn url(&self, path: &str) -> Result<Url, ImageError> {
        self.base
            .join(&format!("v2/{}/{path}", self.image.repository))
            .map_err(|_| ImageError::Reference(self.image.to_string()))
    }

    fn status(&self, what: String, status: StatusCode) -> ImageError {
        ImageError::Status {
            host: self.image.host.clone(),
            what,
            status,
        }
    }

    /// The digest `reference` (a tag) points at, `None` when the tag does not exist.
    async fn digest(&mut self, reference: &str) -> Result<Option<String>, ImageError> {
        let url = self.url(&format!("manifests/{reference}"))?;
        let head = self.send(Method::HEAD, &url).await?;
        match head.status() {
            StatusCode::NOT_FOUND => return Ok(None),
            s if s.is_success() => {
                if let Some(digest) = content_digest(head.headers()) {
                    return Ok(Some(digest));
                }
            }
            s => return Err(self.status(format!("HEAD manifests/{reference}"), s)),
        }
        // No Docker-Content-Digest on HEAD: the digest is the sha256 of the manifest's bytes.
        let get = self.send(Method::GET, &url).await?;
        if !get.status().is_success() {
            return Err(self.status(format!("GET manifests/{reference}"), get.status()));
        }
        if let Some(digest) = content_digest(get.headers()) {
            return Ok(Some(digest));
        }
        let body = get.bytes().await.map_err(|e| self.unreachable(e))?;
        Ok(Some(format!("sha256:{:x}", Sha256::digest(&body))))
    }

    /// Whether the tag exists (`HEAD` on its manifest).
    async fn has_tag(&mut self, tag: &str) -> Result<bool, ImageError> {
        let url = self.url(&format!("manifests/{tag}"))?;
        let response = self.send(Method::HEAD, &url).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(false),
            s if s.is_success() => Ok(true),
            s => Err(self.status(format!("HEAD manifests/{tag}"), s)),
        }
    }

    /// Every tag of the repository, following `Link: <…>; rel="next"`.
    async fn tags(&mut self) -> Result<Vec<String>, ImageError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut tags = Vec::new();
        let mut next = Some(self.url("tags/list?n=1000")?);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let response = self.send(Method::GET, &url).await?;
            if !response.status().is_success() {
                return Err(self.status("GET tags/list".to_owned(), response.status()));
            }
            next = next_link(response.headers()).and_then(|link| url.join(&link).ok());
            let list: TagList = response.json().await.map_err(|e| ImageError::Unreadable {
                host: self.image.host.clone(),
                what: "tag list",
                cause: crate::gitlab::error::cause_chain(&e.without_url()),
            })?;
            tags.extend(list.tags.unwrap_or_default());
            if pages >= MAX_TAG_PAGES {
                break;
            }
        }
        Ok(tags)
    }
}

fn content_digest(headers: &HeaderMap) -> Option<String> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| v.starts_with("sha256:"))
}

/// The target of `Link: <url>; rel="next"` (RFC 8288).
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|link| {
            let (target, params) = link.split_once(';')?;
            let next = params
                .split(';')
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            next.then(|| target.to_owned())
        })
}

/// A release tag of the scheme in `xtask/src/images/variants.rs`: `<version>` or `<version>-<base>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReleaseTag {
    /// The release.
    pub version: semver::Version,
    /// `-<base>`, or empty for the default family's bare version.
    pub suffix: String,
}

impl ReleaseTag {
    /// `None` for any other tag (`sha-…`, `latest`, `ubuntu`).
    pub(crate) fn parse(tag: &str) -> Option<Self> {
        let (version, suffix) = match tag.split_once('-') {
            Some((version, base)) => (version, format!("-{base}")),
            None => (tag, String::new()),
        };
        let version = semver::Version::parse(version).ok()?;
        Some(Self { version, suffix })
    }
}

/// The newest tag of `tags` in the same family (suffix) and `MAJOR.MINOR` as `current`, when it
/// is newer than `current`.
pub(crate) fn newer_patch<'t>(
    current: &ReleaseTag,
    tags: &'t [String],
) -> Option<(&'t str, ReleaseTag)> {
    tags.iter()
        .filter_map(|t| ReleaseTag::parse(t).map(|r| (t.as_str(), r)))
        .filter(|(_, r)| {
            r.suffix == current.suffix
                && r.version.major == current.version.major
                && r.version.minor == current.version.minor
                && r.version.pre.is_empty()
                && r.version > current.version
        })
        .max_by(|a, b| a.1.version.cmp(&b.1.version))
}

/// Which image to check: `--image`, else `CI_JOB_IMAGE` in a job.
fn image_text(inputs: &Inputs<'_>) -> Option<String> {
    inputs.image.clone().or_else(|| match inputs.place {
        Place::Job => inputs.var("CI_JOB_IMAGE"),
        Place::Local => None,
    })
}

/// The job's registry credentials, only for `CI_REGISTRY` itself: they are a job token that
/// must not be sent to any other registry.
fn credentials(inputs: &Inputs<'_>, image: &ImageRef) -> Option<Credentials> {
    if inputs.place != Place::Job {
        return None;
    }
    let registry = inputs.var("CI_REGISTRY")?;
    let registry = registry
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    if !registry.eq_ignore_ascii_case(&image.host) {
        return None;
    }
    Some(Credentials {
        user: inputs.var("CI_REGISTRY_USER")?,
        password: Secret::new(inputs.var("CI_REGISTRY_PASSWORD")?),
    })
}

/// Checks the image: its signature, then its version. Locally without `--image` there is no
/// image to check and nothing is reported.
pub async fn check(inputs: &Inputs<'_>, report: &mut Report) {
    let Some(text) = image_text(inputs) else {
        if inputs.place == Place::Job {
            report.push(Finding::warn(
                Check::Image,
                "the job's image is unknown (CI_JOB_IMAGE is empty)",
                "run doctor in a job that has an image: (the templates' image), or locally with --image registry.example.com/group/project/claude:0.1.0-ubuntu",
            ));
        }
        return;
    };
    let unreachable_fix = "check that the image name is right and that the registry is reachable from here; run doctor again to check the signature and version";
    let image = match ImageRef::parse(&text) {
        Ok(image) => image,
        Err(e) => {
            report.push(Finding::warn(
                Check::Image,
                format!("cannot check the image: {e}"),
                "pass --image registry/repository:tag (in a job, CI_JOB_IMAGE is the job's image:)",
            ));
            return;
        }
    };
    match inspect(&image, credentials(inputs, &image)).await {
        Ok(findings) => findings.into_iter().for_each(|f| report.push(f)),
        Err(e) => {
            let fix = match e {
                ImageError::Unauthorized { .. } => {
                    "doctor sends CI_REGISTRY_USER/CI_REGISTRY_PASSWORD to CI_REGISTRY only, and no credentials locally; check a private image with cargo xtask verify-image IMAGE --key cosign.pub --registry-user USER (password in CI_REGISTRY_PASSWORD)"
                }
                _ => unreachable_fix,
            };
            report.push(Finding::warn(
                Check::Image,
                format!("cannot check {image}: {e}"),
                fix,
            ));
        }
    }
}

/// The signature and version findings for `image`.
async fn inspect(
    image: &ImageRef,
    credentials: Option<Credentials>,
) -> Result<Vec<Finding>, ImageError> {
    let mut registry = Registry::new(image, credentials)?;
    let digest = match (&image.digest, &image.tag) {
        (Some(digest), _) => digest.clone(),
        (None, tag) => {
            let tag = tag.as_deref().unwrap_or("latest");
            match registry.digest(tag).await? {
                Some(digest) => digest,
                None => {
                    return Ok(vec![Finding::warn(
                        Check::Image,
                        format!("{image} does not exist: the registry has no tag {tag}"),
                        "use a published tag (see the release notes, e.g. 0.1.0-ubuntu)",
                    )]);
                }
            }
        }
    };
    let hex = digest.trim_start_matches("sha256:");
    let sig_tag = format!("sha256-{hex}.sig");
    let repo = format!("{}/{}", image.host, image.repository);
    let signature = if registry.has_tag(&sig_tag).await? {
        Finding::ok(
            Check::ImageSignature,
            format!(
                "{image} ({digest}) has a signature ({sig_tag}); doctor does not check it cryptographically"
            ),
        )
    } else {
        Finding::warn(
            Check::ImageSignature,
            format!(
                "{image} is unsigned: the registry has no {sig_tag} for its digest {digest}, so nothing shows the release published it"
            ),
            format!(
                "use a released, signed image, and verify it with the release's public key: cosign verify --key cosign.pub --insecure-ignore-tlog=true {repo}@{digest} (or cargo xtask verify-image {repo}@{digest} --key cosign.pub)"
            ),
        )
    };
    let mut findings = vec![signature];
    let Some(current) = image.tag.as_deref().and_then(ReleaseTag::parse) else {
        findings.push(Finding::ok(
            Check::ImageVersion,
            format!("{image} is not a release tag (<version>-<base>); its version is not compared"),
        ));
        return Ok(findings);
    };
    let tags = registry.tags().await?;
    findings.push(match newer_patch(&current, &tags) {
        Some((newest, release)) => Finding::warn(
            Check::ImageVersion,
            format!(
                "{image} is older than {} ({newest}), the newest patch release of {}.{}",
                release.version, current.version.major, current.version.minor
            ),
            format!(
                "move the image: to {repo}:{newest} in .gitlab-ci.yml (or the include's ref); patch releases only fix things"
            ),
        ),
        None => Finding::ok(
            Check::ImageVersion,
            format!(
                "{image} is the newest patch release of {}.{}",
                current.version.major, current.version.minor
            ),
        ),
    });
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_as_docker_splits_them() {
        let r = ImageRef::parse("registry.gitlab.com/g/p/claude:0.1.0-ubuntu").unwrap();
        assert_eq!(r.host, "registry.gitlab.com");
        assert_eq!(r.repository, "g/p/claude");
        assert_eq!(r.tag.as_deref(), Some("0.1.0-ubuntu"));
        assert_eq!(r.base().unwrap().as_str(), "https://registry.gitlab.com/");
        let r = ImageRef::parse("127.0.0.1:5000/a/b:1.0.0").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repository.as_str()),
            ("127.0.0.1:5000", "a/b")
        );
        assert_eq!(r.base().unwrap().as_str(), "http://127.0.0.1:5000/");
        let r = ImageRef::parse("ubuntu").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.tag.as_deref()),
            (DOCKER_HUB, "library/ubuntu", None)
        );
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("gcr.io/x/y@{digest}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(digest.as_str()));
        assert_eq!(r.tag, None);
        assert!(ImageRef::parse("gcr.io/x/y@sha256:zz").is_err());
        assert!(ImageRef::parse("host.example/UPPER:1").is_err());
        assert!(ImageRef::parse("").is_err());
    }

    #[test]
    fn challenges_parse_as_gitlab_and_htpasswd_registries_send_them() {
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",scope="repository:g/p/claude:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://gitlab.example.com/jwt/auth".into(),
                service: Some("container_registry".into()),
                scope: Some("repository:g/p/claude:pull".into()),
            })
        );
        assert_eq!(
            Challenge::parse(r#"bearer realm=https://r/token, scope="a:b:pull,push""#),
            Some(Challenge::Bearer {
                realm: "https://r/token".into(),
                service: None,
                scope: Some("a:b:pull,push".into()),
            })
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="gitlab-ai-test""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Bearer service=\"x\""), None);
        assert_eq!(Challenge::parse("Negotiate"), None);
    }

    #[test]
    fn link_headers_give_the_next_page() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            "</v2/a/b/tags/list?last=x&n=2>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("/v2/a/b/tags/list?last=x&n=2")
        );
        headers.insert(LINK, "</other>; rel=\"prev\"".parse().unwrap());
        assert_eq!(next_link(&headers), None);
    }

    #[test]
    fn only_newer_patches_of_the_same_line_and_base_count() {
        let tags: Vec<String> = [
            "0.1.0-ubuntu",
            "0.1.2-ubuntu",
            "0.1.3-alpine",
            "0.2.0-ubuntu",
            "0.1.4-rc.1-ubuntu",
            "sha-abc-ubuntu",
            "latest",
        ]
        .map(String::from)
        .into();
        let current = ReleaseTag::parse("0.1.0-ubuntu").unwrap();
        let (tag, release) = newer_patch(&current, &tags).unwrap();
        assert_eq!(
            (tag, release.version.to_string()),
            ("0.1.2-ubuntu", "0.1.2".into())
        );
        let newest = ReleaseTag::parse("0.1.2-ubuntu").unwrap();
        assert_eq!(newer_patch(&newest, &tags), None);
        assert_eq!(ReleaseTag::parse("sha-abc-ubuntu"), None);
        assert_eq!(ReleaseTag::parse("latest"), None);
    }
}
