//! The commit an image is built from and the project it comes from, for tags and OCI labels:
//! GitLab CI's predefined variables when present
//! (https://docs.gitlab.com/ci/variables/predefined_variables/), else the git checkout.

use std::path::Path;

use crate::cmd;

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

/// The project's URL: `CI_PROJECT_URL`, else the `origin` remote, else `unknown`.
pub fn source_url(root: &Path) -> String {
    env("CI_PROJECT_URL")
        .or_else(|| cmd::read(root, "git", ["remote", "get-url", "origin"]).ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
