//! Repository URLs without credentials.
//!
//! The runner clones with the job token inside the URL
//! (`https://gitlab-ci-token:<token>@host/group/project.git`, `CI_REPOSITORY_URL`) and leaves it
//! in `.git/config`, where the assistant could read it; every URL we keep or use is stripped of
//! its user information first.
//! <https://docs.gitlab.com/ci/variables/predefined_variables/>

use std::fmt;

use url::Url;

use crate::env::Env;

/// An `http(s)` repository URL that carries no username or password.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteUrl(Url);

/// The text is not a usable repository URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} is not an http(s) repository URL: {reason}")]
pub struct RemoteUrlError {
    /// Where the value came from, for the message.
    pub variable: String,
    /// What is wrong.
    pub reason: String,
}

impl RemoteUrl {
    /// Parses `value` (named `variable` in errors) and drops any credentials in it.
    pub fn parse(variable: &str, value: &str) -> Result<Self, RemoteUrlError> {
        let error = |reason: String| RemoteUrlError {
            variable: variable.to_owned(),
            reason,
        };
        let mut url = Url::parse(value.trim()).map_err(|e| error(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(error(format!(
                "scheme {:?} is not http or https",
                url.scheme()
            )));
        }
        if url.host_str().is_none() {
            return Err(error("the URL has no host".to_owned()));
        }
        // Infallible for http(s) URLs with a host, which were just checked.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Ok(Self(url))
    }

    /// `<server>/<project path>.git`, as GitLab serves git over HTTP.
    pub(crate) fn for_project(
        server_url: &str,
        project_path: &str,
    ) -> Result<Self, RemoteUrlError> {
        let server = server_url.trim().trim_end_matches('/');
        let path = project_path.trim().trim_matches('/');
        Self::parse("CI_SERVER_URL", &format!("{server}/{path}.git"))
    }

    /// The job's project: `CI_SERVER_URL` + `CI_PROJECT_PATH`, else `CI_REPOSITORY_URL` without
    /// its job token.
    pub fn from_env(env: &dyn Env) -> Result<Self, RemoteUrlError> {
        if let (Some(server), Some(path)) = (env.set("CI_SERVER_URL"), env.set("CI_PROJECT_PATH")) {
            return Self::for_project(&server, &path);
        }
        match env.set("CI_REPOSITORY_URL") {
            Some(url) => Self::parse("CI_REPOSITORY_URL", &url),
            None => Err(RemoteUrlError {
                variable: "CI_SERVER_URL and CI_PROJECT_PATH".to_owned(),
                reason: "not set; run inside a GitLab CI job".to_owned(),
            }),
        }
    }

    /// True when both URLs are on the same scheme, host and port: our credentials may only
    /// go to the GitLab instance they belong to.
    pub(crate) fn same_origin(&self, other: &RemoteUrl) -> bool {
        self.0.origin() == other.0.origin()
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    #[test]
    fn credentials_are_dropped() {
        let url = RemoteUrl::parse(
            "CI_REPOSITORY_URL",
            "https://gitlab-ci-token:glcbt-secret@gitlab.example.com/g/p.git",
        )
        .unwrap();
        assert_eq!(url.as_str(), "https://gitlab.example.com/g/p.git");
        assert!(RemoteUrl::parse("X", "git@gitlab.example.com:g/p.git").is_err());
    }

    #[test]
    fn project_url_from_the_ci_variables() {
        let env = vars(&[
            ("CI_SERVER_URL", "https://example.com/gitlab/"),
            ("CI_PROJECT_PATH", "group/sub/proj"),
        ]);
        assert_eq!(
            RemoteUrl::from_env(&env).unwrap().as_str(),
            "https://example.com/gitlab/group/sub/proj.git"
        );
        let a = RemoteUrl::parse("A", "https://host/g/p.git").unwrap();
        assert!(a.same_origin(&RemoteUrl::parse("B", "https://host:443/fork/p.git").unwrap()));
        assert!(!a.same_origin(&RemoteUrl::parse("B", "https://other/g/p.git").unwrap()));
        let env = vars(&[(
            "CI_REPOSITORY_URL",
            "https://gitlab-ci-token:tok@host/g/p.git",
        )]);
        assert_eq!(
            RemoteUrl::from_env(&env).unwrap().as_str(),
            "https://host/g/p.git"
        );
    }
}
