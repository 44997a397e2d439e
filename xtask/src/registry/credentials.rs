//! Where the registry credentials come from, in the order a GitLab job or a developer machine
//! provides them: explicit flags (or GitLab's `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD`,
//! https://docs.gitlab.com/ci/variables/predefined_variables/), then the Docker client
//! configuration JSON in `DOCKER_AUTH_CONFIG` (the variable GitLab runners read for private
//! registries, https://docs.gitlab.com/ci/docker/using_docker_images/), then the file
//! `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` written by `docker login`.
//!
//! The configurations are read by the `docker_credential` crate: `auths` entries (`auth` =
//! base64 of `user:password`, or separate `username` and `password`) and the credential helpers
//! of `credHelpers`/`credsStore`, which it runs as `docker login` does. The secret never reaches
//! a message: only where it came from.

use std::fmt;
use std::path::PathBuf;

use ai_core::Secret;

use crate::registry::Credentials;

/// Where a set of credentials was found, for the log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// `--registry-user`/`--registry-password` or `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD`.
    Explicit,
    /// The `DOCKER_AUTH_CONFIG` variable.
    DockerAuthConfig,
    /// A Docker client configuration file.
    ConfigFile(PathBuf),
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Explicit => f.write_str(
                "--registry-user/--registry-password (CI_REGISTRY_USER/CI_REGISTRY_PASSWORD)",
            ),
            CredentialSource::DockerAuthConfig => f.write_str("DOCKER_AUTH_CONFIG"),
            CredentialSource::ConfigFile(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A Docker configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// Not the `{"auths": {...}}` JSON.
    #[error(
        "{source_name} is not a Docker client configuration (`{{\"auths\": {{\"HOST\": {{\"auth\": \"base64(user:password)\"}}}}}}`)"
    )]
    Json {
        /// Which variable or file.
        source_name: String,
    },
    /// An `auth` value that is not base64 of `user:password`, or that contradicts the
    /// `username`/`password` fields beside it.
    #[error("{source_name}: the `auth` entry for {host} is not base64 of `user:password`")]
    Auth {
        /// Which variable or file.
        source_name: String,
        /// The registry key.
        host: String,
    },
    /// The host is served by a credential helper program (`credHelpers`, `credsStore`) that
    /// could not be run or refused.
    #[error(
        "{source_name} delegates {host} to a credential helper (`docker-credential-…` from credHelpers/credsStore) that did not answer: {reason}; set CI_REGISTRY_USER and CI_REGISTRY_PASSWORD (or --registry-user/--registry-password) instead"
    )]
    Helper {
        /// Which variable or file.
        source_name: String,
        /// The registry host.
        host: String,
        /// What went wrong, as the credential crate tells it (the helper's name and output
        /// when it ran, never a secret: a helper that answered has no error).
        reason: String,
    },
    /// An `identitytoken` entry: an OAuth refresh token for Docker's own token flow, which the
    /// registry client does not speak.
    #[error(
        "{source_name} holds an identity token for {host}, which xtask cannot use: set CI_REGISTRY_USER and CI_REGISTRY_PASSWORD (or --registry-user/--registry-password) instead"
    )]
    IdentityToken {
        /// Which variable or file.
        source_name: String,
        /// The registry host.
        host: String,
    },
}

/// The credentials a Docker configuration holds for `host`, if any, read by the
/// `docker_credential` crate: `auths` entries keyed by a bare host or a `https://host/…` URL
/// (`auth` = base64 of `user:password`, or separate `username` and `password`), and the
/// credential helpers of `credHelpers`/`credsStore`, run as `docker login` would run them.
fn from_docker_config(
    json: &str,
    source_name: &str,
    host: &str,
) -> Result<Option<Credentials>, AuthConfigError> {
    use docker_credential::{CredentialRetrievalError as Error, DockerCredential};
    match docker_credential::get_credential_from_reader(json.as_bytes(), host) {
        Ok(DockerCredential::UsernamePassword(username, password)) => Ok(Some(Credentials {
            username,
            password: Secret::new(password),
        })),
        Ok(DockerCredential::IdentityToken(_)) => Err(AuthConfigError::IdentityToken {
            source_name: source_name.to_owned(),
            host: host.to_owned(),
        }),
        Err(Error::NoCredentialConfigured) => Ok(None),
        Err(Error::ConfigReadError | Error::ConfigNotFound) => Err(AuthConfigError::Json {
            source_name: source_name.to_owned(),
        }),
        Err(Error::CredentialDecodingError | Error::CredentialMismatchError) => {
            Err(AuthConfigError::Auth {
                source_name: source_name.to_owned(),
                host: host.to_owned(),
            })
        }
        Err(
            error @ (Error::HelperCommunicationError
            | Error::MalformedHelperResponse
            | Error::HelperFailure { .. }),
        ) => Err(AuthConfigError::Helper {
            source_name: source_name.to_owned(),
            host: host.to_owned(),
            reason: error.to_string(),
        }),
    }
}

/// Where the inputs to [`resolve`] come from; the environment in production, fixed values in
/// tests.
#[derive(Clone, Debug, Default)]
pub struct CredentialInputs {
    /// `--registry-user` / `CI_REGISTRY_USER`.
    pub user: Option<String>,
    /// `--registry-password` / `CI_REGISTRY_PASSWORD`.
    pub password: Option<String>,
    /// The `DOCKER_AUTH_CONFIG` JSON.
    pub docker_auth_config: Option<String>,
    /// The Docker client configuration file to read.
    pub config_file: Option<PathBuf>,
}

impl CredentialInputs {
    /// The explicit values plus `DOCKER_AUTH_CONFIG` and `$DOCKER_CONFIG/config.json` (else
    /// `~/.docker/config.json`) from the environment.
    pub fn from_env(user: Option<String>, password: Option<String>) -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let config_file = non_empty("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".docker")))
            .map(|dir| dir.join("config.json"));
        CredentialInputs {
            user,
            password,
            docker_auth_config: non_empty("DOCKER_AUTH_CONFIG"),
            config_file,
        }
    }
}

/// The credentials for `host` and where they came from; `None` means anonymous access.
pub fn resolve(
    inputs: &CredentialInputs,
    host: &str,
) -> Result<Option<(Credentials, CredentialSource)>, AuthConfigError> {
    if let (Some(user), Some(password)) = (&inputs.user, &inputs.password)
        && !user.is_empty()
    {
        let credentials = Credentials {
            username: user.clone(),
            password: Secret::new(password.clone()),
        };
        return Ok(Some((credentials, CredentialSource::Explicit)));
    }
    if let Some(json) = &inputs.docker_auth_config
        && let Some(credentials) = from_docker_config(json, "DOCKER_AUTH_CONFIG", host)?
    {
        return Ok(Some((credentials, CredentialSource::DockerAuthConfig)));
    }
    if let Some(path) = &inputs.config_file
        && let Ok(json) = std::fs::read_to_string(path)
        && let Some(credentials) = from_docker_config(&json, &path.display().to_string(), host)?
    {
        return Ok(Some((
            credentials,
            CredentialSource::ConfigFile(path.clone()),
        )));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn encoded(raw: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    #[test]
    fn a_gitlab_runner_auth_config_is_read_for_its_host() {
        let json = format!(
            r#"{{"auths":{{"registry.example.com:5000":{{"auth":"{}"}},"other.example.com":{{"auth":"{}"}}}}}}"#,
            encoded("ci-user:s3cret:with-colon"),
            encoded("x:y")
        );
        let inputs = CredentialInputs {
            docker_auth_config: Some(json),
            ..Default::default()
        };
        let (creds, source) = resolve(&inputs, "registry.example.com:5000")
            .unwrap()
            .unwrap();
        assert_eq!(creds.username, "ci-user");
        assert_eq!(creds.password.expose(), "s3cret:with-colon");
        assert_eq!(source, CredentialSource::DockerAuthConfig);
        assert!(resolve(&inputs, "unknown.example.com").unwrap().is_none());
    }

    #[test]
    fn explicit_credentials_win_over_the_docker_configuration() {
        let inputs = CredentialInputs {
            user: Some("gitlab-ci-token".into()),
            password: Some("job-token".into()),
            docker_auth_config: Some(format!(
                r#"{{"auths":{{"h.example.com":{{"auth":"{}"}}}}}}"#,
                encoded("other:pw")
            )),
            config_file: None,
        };
        let (creds, source) = resolve(&inputs, "h.example.com").unwrap().unwrap();
        assert_eq!(creds.username, "gitlab-ci-token");
        assert_eq!(source, CredentialSource::Explicit);
    }

    #[test]
    fn docker_login_files_with_url_keys_and_split_fields_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"https://registry.example.com/v1/":{"username":"me","password":"pw"}}}"#,
        )
        .unwrap();
        let inputs = CredentialInputs {
            config_file: Some(path.clone()),
            ..Default::default()
        };
        let (creds, source) = resolve(&inputs, "registry.example.com").unwrap().unwrap();
        assert_eq!(
            (creds.username.as_str(), creds.password.expose()),
            ("me", "pw")
        );
        assert_eq!(source, CredentialSource::ConfigFile(path));
    }

    #[test]
    fn broken_or_helper_configurations_are_explained_without_the_secret() {
        let garbage = CredentialInputs {
            docker_auth_config: Some("{not json".into()),
            ..Default::default()
        };
        let err = resolve(&garbage, "h").unwrap_err().to_string();
        assert!(err.contains("DOCKER_AUTH_CONFIG"), "{err}");

        let no_colon = CredentialInputs {
            docker_auth_config: Some(format!(
                r#"{{"auths":{{"h":{{"auth":"{}"}}}}}}"#,
                encoded("token-without-user")
            )),
            ..Default::default()
        };
        let err = resolve(&no_colon, "h").unwrap_err().to_string();
        assert!(err.contains("not base64 of `user:password`"), "{err}");
        assert!(!err.contains("token-without-user"), "{err}");

        let helper = CredentialInputs {
            docker_auth_config: Some(
                r#"{"credHelpers":{"h.example.com":"xtask-test-absent-helper"}}"#.into(),
            ),
            ..Default::default()
        };
        let err = resolve(&helper, "h.example.com").unwrap_err().to_string();
        assert!(
            err.contains("credential helper") && err.contains("CI_REGISTRY_USER"),
            "{err}"
        );
    }
}
