//! Where the client connects, with which token, trusting which CAs, and how patiently.
//!
//! Everything is read through an injectable source of variables ([`Env`], the entrypoint's too)
//! so tests describe an environment without touching the process environment.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use url::Url;

use ai_core::env::Env;

use super::retry::RetryPolicy;
use ai_core::secret::Secret;

/// The fix every token problem points to, so the user reads the same instruction everywhere.
const TOKEN_FIX: &str = "create a project access token with role Developer and scope `api` \
                         (Settings > Access tokens) and store it as a masked CI/CD variable \
                         named GITLAB_TOKEN";

/// GitLab's prefix for CI/CD job tokens. An instance may put its own prefix in front
/// (`mycompany-glcbt-…`), so a token matches when it starts with this or contains `-glcbt-`.
/// <https://docs.gitlab.com/security/tokens/#token-prefixes>
pub const JOB_TOKEN_PREFIX: &str = "glcbt-";

/// The REST v4 root, for example `https://gitlab.example.com/api/v4` or, on a self-managed
/// instance served under a sub-path, `https://example.com/gitlab/api/v4`.
///
/// Endpoint URLs are made by appending the endpoint's path to this text, never with
/// [`Url::join`], which would drop the sub-path for an absolute path like `/projects/1`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiBaseUrl(String);

impl ApiBaseUrl {
    /// Validates an `http(s)` URL without query or fragment; a trailing `/` is dropped.
    pub fn parse(value: &str) -> Result<Self, String> {
        let url = Url::parse(value.trim()).map_err(|e| e.to_string())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme {:?} is not http or https", url.scheme()));
        }
        if url.host_str().is_none() {
            return Err("the URL has no host".to_owned());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("the URL must not carry a query or fragment".to_owned());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the URL must not carry credentials".to_owned());
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The URL of an endpoint, `path` starting with `/` and already percent-encoded where needed
    /// (see [`super::ids::ProjectRef::segment`]).
    pub fn endpoint(&self, path: &str) -> Result<Url, url::ParseError> {
        Url::parse(&format!("{}{}", self.0, path))
    }

    /// The root as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ApiBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A token GitLab accepts in the `PRIVATE-TOKEN` header: a project, group or personal access
/// token. Never a CI job token, which [`ClientConfig::from_env`] refuses because it cannot
/// create notes (<https://docs.gitlab.com/ci/jobs/ci_job_token/>).
#[derive(Clone, Debug)]
pub struct GitLabToken(Secret);

impl GitLabToken {
    /// Wraps a token. Tests and the cross tests use this with any string their double accepts.
    pub fn new(token: Secret) -> Self {
        Self(token)
    }

    /// The secret, for the one header that sends it.
    pub(crate) fn secret(&self) -> &Secret {
        &self.0
    }
}

/// True when `token` is a CI/CD job token: equal to `CI_JOB_TOKEN`, or carrying GitLab's job
/// token prefix (possibly behind an instance prefix).
pub fn is_job_token(token: &str, ci_job_token: Option<&str>) -> bool {
    let token = token.trim();
    if ci_job_token.is_some_and(|job| !job.trim().is_empty() && job.trim() == token) {
        return true;
    }
    token.starts_with(JOB_TOKEN_PREFIX) || token.contains(&format!("-{JOB_TOKEN_PREFIX}"))
}

/// Extra root certificates from a PEM file named by an environment variable, trusted in
/// addition to the system store (self-managed GitLab behind a private CA).
#[derive(Clone, Debug)]
pub struct CaBundle {
    /// The variable that named the file, repeated in every error about it.
    pub variable: String,
    /// Where the PEM file is.
    pub path: PathBuf,
    /// The certificates it holds (at least one).
    pub certificates: Vec<reqwest::Certificate>,
}

impl CaBundle {
    /// Reads the PEM bundle at `path`. Certificates that cannot serve as trust anchors are
    /// skipped, as the system store skips them, because one odd entry in a large bundle must not
    /// break every connection; an unreadable file, or one without a single usable certificate,
    /// is an error naming `variable`.
    pub fn load(variable: &str, path: &Path) -> Result<Self, ConfigError> {
        let fail = |reason: String| ConfigError::CaFile {
            variable: variable.to_owned(),
            path: path.to_owned(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let mut certificates = Vec::new();
        let mut skipped = 0usize;
        for der in CertificateDer::pem_slice_iter(&pem) {
            let der = der.map_err(|e| fail(format!("not a valid PEM file: {e}")))?;
            let mut probe = rustls::RootCertStore::empty();
            let usable = probe.add(der.clone()).is_ok();
            match reqwest::Certificate::from_der(&der) {
                Ok(certificate) if usable => certificates.push(certificate),
                _ => skipped += 1,
            }
        }
        if certificates.is_empty() {
            return Err(fail(format!(
                "no usable PEM certificate found in the file ({skipped} unusable)"
            )));
        }
        if skipped > 0 {
            tracing::debug!(
                variable,
                skipped,
                "skipped CA certificates that cannot be trust anchors"
            );
        }
        Ok(Self {
            variable: variable.to_owned(),
            path: path.to_owned(),
            certificates,
        })
    }
}

/// Why the client could not be configured. Each message names the variable and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither API URL variable is set.
    #[error(
        "neither CI_API_V4_URL nor CI_SERVER_URL is set: run inside a GitLab CI/CD job or set \
         CI_API_V4_URL to your instance's API root, e.g. https://gitlab.example.com/api/v4"
    )]
    MissingBaseUrl,
    /// The API URL variable does not hold a usable URL.
    #[error("{variable}={value:?} is not a usable GitLab URL: {reason}")]
    InvalidBaseUrl {
        /// `CI_API_V4_URL` or `CI_SERVER_URL`.
        variable: &'static str,
        /// What it held (a URL, never a secret).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `GITLAB_TOKEN` is not set.
    #[error("GITLAB_TOKEN is not set: {TOKEN_FIX}")]
    MissingToken,
    /// `GITLAB_TOKEN` is the CI job token, which GitLab does not allow to write notes.
    #[error(
        "GITLAB_TOKEN holds the CI/CD job token, which cannot post notes or open merge requests: {TOKEN_FIX}"
    )]
    JobToken,
    /// A CA bundle variable names a file that cannot be used.
    #[error(
        "{variable}={path:?} cannot be used as a CA bundle: {reason}; point it at a PEM file of CA certificates or unset it"
    )]
    CaFile {
        /// `CI_SERVER_TLS_CA_FILE` or `SSL_CERT_FILE`.
        variable: String,
        /// The file named.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
}

/// Everything [`super::GitLab::new`] needs. Build it with [`ClientConfig::new`] (tests, cross
/// tests against the double) or [`ClientConfig::from_env`] (a CI job), then adjust fields.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The REST v4 root.
    pub base_url: ApiBaseUrl,
    /// Sent as `PRIVATE-TOKEN`.
    pub token: GitLabToken,
    /// Trusted in addition to the system store.
    pub extra_roots: Vec<CaBundle>,
    /// Limit for establishing a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Limit for one attempt, from sending to the last byte of the body.
    pub request_timeout: Duration,
    /// When and how long to retry.
    pub retry: RetryPolicy,
    /// The `User-Agent` header, so GitLab admins can tell our traffic apart.
    pub user_agent: String,
}

impl ClientConfig {
    /// A configuration with default timeouts and retry policy and no extra CA.
    pub fn new(base_url: ApiBaseUrl, token: GitLabToken) -> Self {
        Self {
            base_url,
            token,
            extra_roots: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            // The product's name, as before the client became a crate of its own: GitLab's logs
            // and rate-limit reports show it.
            user_agent: concat!("entrypoint/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// Reads a CI job's environment: `CI_API_V4_URL` (else `CI_SERVER_URL` + `/api/v4`),
    /// `GITLAB_TOKEN` (refused when it is the job token), and the CA bundles named by
    /// `CI_SERVER_TLS_CA_FILE` and `SSL_CERT_FILE`. Empty values count as unset.
    /// <https://docs.gitlab.com/ci/variables/predefined_variables/>
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let base_url = base_url_from_env(env)?;
        let token = env.set("GITLAB_TOKEN").ok_or(ConfigError::MissingToken)?;
        if is_job_token(&token, env.set("CI_JOB_TOKEN").as_deref()) {
            return Err(ConfigError::JobToken);
        }
        let mut config = Self::new(base_url, GitLabToken::new(Secret::new(token)));
        for variable in ["CI_SERVER_TLS_CA_FILE", "SSL_CERT_FILE"] {
            if let Some(path) = env.set(variable) {
                config
                    .extra_roots
                    .push(CaBundle::load(variable, Path::new(path.trim()))?);
            }
        }
        Ok(config)
    }

    /// [`ClientConfig::from_env`] over the process environment.
    pub fn from_process_env() -> Result<Self, ConfigError> {
        Self::from_env(&|name: &str| std::env::var(name).ok())
    }
}

/// `CI_API_V4_URL` wins; `CI_SERVER_URL` (scheme, host, port and any sub-path of the instance)
/// gets `/api/v4` appended.
fn base_url_from_env(env: &dyn Env) -> Result<ApiBaseUrl, ConfigError> {
    let invalid =
        |variable: &'static str, value: &str, reason: String| ConfigError::InvalidBaseUrl {
            variable,
            value: value.to_owned(),
            reason,
        };
    if let Some(api) = env.set("CI_API_V4_URL") {
        return ApiBaseUrl::parse(&api).map_err(|r| invalid("CI_API_V4_URL", &api, r));
    }
    if let Some(server) = env.set("CI_SERVER_URL") {
        let joined = format!("{}/api/v4", server.trim().trim_end_matches('/'));
        return ApiBaseUrl::parse(&joined).map_err(|r| invalid("CI_SERVER_URL", &server, r));
    }
    Err(ConfigError::MissingBaseUrl)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn api_url_variable_wins_over_server_url() {
        let c = ClientConfig::from_env(&env(&[
            ("CI_API_V4_URL", "https://api.example.com/api/v4/"),
            ("CI_SERVER_URL", "https://other.example.com"),
            ("GITLAB_TOKEN", "glpat-secret-value"),
        ]))
        .unwrap();
        assert_eq!(c.base_url.as_str(), "https://api.example.com/api/v4");
    }

    #[test]
    fn server_url_with_sub_path_keeps_the_sub_path() {
        let c = ClientConfig::from_env(&env(&[
            ("CI_SERVER_URL", "https://example.com/gitlab/"),
            ("GITLAB_TOKEN", "glpat-secret-value"),
        ]))
        .unwrap();
        assert_eq!(c.base_url.as_str(), "https://example.com/gitlab/api/v4");
        assert_eq!(
            c.base_url.endpoint("/projects/1").unwrap().as_str(),
            "https://example.com/gitlab/api/v4/projects/1"
        );
    }

    #[test]
    fn endpoint_keeps_encoded_project_paths() {
        let base = ApiBaseUrl::parse("http://127.0.0.1:8080/api/v4").unwrap();
        let url = base.endpoint("/projects/group%2Fproject/issues/3").unwrap();
        assert_eq!(url.path(), "/api/v4/projects/group%2Fproject/issues/3");
    }

    #[test]
    fn missing_or_bad_urls_name_the_variable() {
        let e = ClientConfig::from_env(&env(&[("GITLAB_TOKEN", "x")])).unwrap_err();
        assert!(e.to_string().contains("CI_API_V4_URL"), "{e}");
        let e = ClientConfig::from_env(&env(&[
            ("CI_API_V4_URL", "ftp://example.com"),
            ("GITLAB_TOKEN", "x"),
        ]))
        .unwrap_err();
        assert!(e.to_string().starts_with("CI_API_V4_URL="), "{e}");
        assert!(ApiBaseUrl::parse("https://h/api/v4?x=1").is_err());
        assert!(ApiBaseUrl::parse("https://user:pw@h/api/v4").is_err());
    }

    #[test]
    fn missing_token_names_gitlab_token_and_the_fix() {
        let e = ClientConfig::from_env(&env(&[
            ("CI_SERVER_URL", "https://gitlab.com"),
            ("GITLAB_TOKEN", "  "),
        ]))
        .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, ConfigError::MissingToken));
        assert!(
            text.contains("GITLAB_TOKEN") && text.contains("scope `api`"),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }

    #[test]
    fn job_tokens_are_recognised() {
        assert!(is_job_token("glcbt-64_abcdef", None));
        assert!(is_job_token("acme-glcbt-64_abcdef", None));
        assert!(is_job_token("64_abcdefghij", Some("64_abcdefghij")));
        assert!(!is_job_token("glpat-abcdefghij", Some("64_abcdefghij")));
        assert!(!is_job_token("glpat-abcdefghij", Some("")));
        let e = ClientConfig::from_env(&env(&[
            ("CI_SERVER_URL", "https://gitlab.com"),
            ("GITLAB_TOKEN", "64_same"),
            ("CI_JOB_TOKEN", "64_same"),
        ]))
        .unwrap_err();
        assert!(matches!(e, ConfigError::JobToken));
        assert!(e.to_string().contains("project access token"));
        assert!(!e.to_string().contains("64_same"));
    }

    #[test]
    fn ca_files_are_loaded_or_refused_by_variable_name() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = ClientConfig::from_env(&env(&[
            ("CI_SERVER_URL", "https://gitlab.com"),
            ("GITLAB_TOKEN", "glpat-x"),
            ("CI_SERVER_TLS_CA_FILE", missing.to_str().unwrap()),
        ]))
        .unwrap_err();
        assert!(e.to_string().starts_with("CI_SERVER_TLS_CA_FILE="), "{e}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate").unwrap();
        let e = CaBundle::load("SSL_CERT_FILE", &garbage).unwrap_err();
        assert!(e.to_string().starts_with("SSL_CERT_FILE="), "{e}");

        let mixed = dir.path().join("mixed.pem");
        let mut text =
            String::from("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        text.push_str(&ca_certificate_pem());
        std::fs::write(&mixed, text).unwrap();
        let bundle = CaBundle::load("SSL_CERT_FILE", &mixed).unwrap();
        assert_eq!(
            bundle.certificates.len(),
            1,
            "the unusable entry is skipped"
        );

        let system = Path::new("/etc/ssl/certs/ca-certificates.crt");
        if system.exists() {
            let bundle = CaBundle::load("SSL_CERT_FILE", system).unwrap();
            assert!(!bundle.certificates.is_empty());
        }
    }

    /// A freshly made self-signed CA certificate, as PEM.
    fn ca_certificate_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn debug_output_hides_the_token() {
        let c = ClientConfig::new(
            ApiBaseUrl::parse("https://gitlab.com/api/v4").unwrap(),
            GitLabToken::new(Secret::new("glpat-very-secret")),
        );
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
