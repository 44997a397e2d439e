//! The commit an image is built from and the project it comes from, for tags and OCI labels:
//! GitLab CI's predefined variables when present
//! (https://docs.gitlab.com/ci/variables/predefined_variables/), else the git checkout.

use std::path::Path;

use crate::util::cmd;
use crate::util::public_url::without_userinfo;

/// The full commit sha: `CI_COMMIT_SHA`, else `git rev-parse HEAD`.
pub fn commit_sha(root: &Path) -> anyhow::Result<String> {
    if let Some(sha) = env("CI_COMMIT_SHA") {
        return Ok(sha);
    }
    cmd::read(root, "git", ["rev-parse", "HEAD"])
}

/// The short sha used in `sha-<short>` tags: `CI_COMMIT_SHORT_SHA`, else the first 8 digits
/// (GitLab's length).
pub fn short_sha(root: &Path) -> anyhow::Result<String> {
    if let Some(short) = env("CI_COMMIT_SHORT_SHA") {
        return Ok(short);
    }
    Ok(commit_sha(root)?.chars().take(8).collect())
}

/// The project's URL without credentials: `CI_PROJECT_URL`, else the `origin` remote, else
/// `unknown`. It becomes the `org.opencontainers.image.source` label of published images, and a
/// clone's `origin` may carry a token (`https://oauth2:glpat-…@host/…`), so the userinfo is
/// always removed.
pub fn source_url(root: &Path) -> String {
    source_url_from(env("CI_PROJECT_URL"), root)
}

fn source_url_from(ci_project_url: Option<String>, root: &Path) -> String {
    ci_project_url
        .or_else(|| cmd::read(root, "git", ["remote", "get-url", "origin"]).ok())
        .filter(|s| !s.is_empty())
        .map(|url| without_userinfo(&url))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_url_with_a_token_never_reaches_the_source_label() {
        let repo = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| cmd::read(repo.path(), "git", args).unwrap();
        git(&["init", "-q"]);
        git(&[
            "remote",
            "add",
            "origin",
            "https://oauth2:glpat-SECRETTOKEN@gitlab.example.com/group/project.git",
        ]);
        assert_eq!(
            source_url_from(None, repo.path()),
            "https://gitlab.example.com/group/project.git"
        );
        assert_eq!(
            source_url_from(
                Some("https://u:SECRET@gitlab.example.com/g/p".to_owned()),
                repo.path()
            ),
            "https://gitlab.example.com/g/p"
        );
    }
}
