//! The cache outside the clone: CI starts from a fresh clone on a machine that is kept between
//! runs, so downloads and the bootstrapped base rootfs must live where a new clone finds them.

use std::path::PathBuf;

use anyhow::Context;

/// `$GITLAB_AI_CACHE_DIR`, else `$XDG_CACHE_HOME/gitlab-ai`, else `~/.cache/gitlab-ai`.
pub fn cache_root() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GITLAB_AI_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("gitlab-ai"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("neither GITLAB_AI_CACHE_DIR, XDG_CACHE_HOME nor HOME is set: set GITLAB_AI_CACHE_DIR to a directory for downloads")?;
    Ok(PathBuf::from(home).join(".cache").join("gitlab-ai"))
}

/// A subdirectory of the cache, created when missing.
pub fn cache_dir(name: &str) -> anyhow::Result<PathBuf> {
    let dir = cache_root()?.join(name);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the cache directory {}", dir.display()))?;
    Ok(dir)
}
