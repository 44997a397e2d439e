//! The job's git checkout (`CI_PROJECT_DIR`): prepared before the assistant runs, published
//! after.
//!
//! [`Workspace::open`] removes credentials the runner left in remote URLs and remembers
//! `.git/config`; [`Workspace::checkout`] fetches and checks out the right commit (the default
//! branch for an issue, the merge request's `sha` for a merge request) with enough history in a
//! shallow clone; after the assistant ran, [`Workspace::changes`], [`Workspace::commit`] and
//! [`Workspace::push`] publish its work, and a refused push comes back as
//! [`PushOutcome::Impossible`] with a patch ([`Workspace::patch`]) the caller can post instead.
//!
//! The assistant runs in the same directory and may rewrite `.git/config` (a `url.insteadOf`
//! that sends our next push, with its `Authorization` header, to another host) or add hooks, so
//! the remembered configuration is written back before every command that authenticates, and
//! hooks never run (see [`git::Git`]).

pub mod branch;
pub mod checkout;
pub mod commit;
pub mod git;
pub mod push;
pub mod remote;

use std::path::{Path, PathBuf};

pub use branch::{AssistantBranch, BranchNameError, BranchPrefix};
pub use checkout::{Checkout, CheckoutTarget, MergeRequestSource, PushAccess};
pub use commit::{Change, CommitIdentity, Person};
pub use git::{Git, GitAuth, GitError};
pub use push::{PushDestination, PushOutcome, PushRefusal};
pub use remote::{RemoteUrl, RemoteUrlError};

/// Something went wrong preparing or publishing the checkout.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A git command failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// `.git/config` could not be read or restored.
    #[error("cannot read or restore {path}: {source}")]
    Config {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A remote URL in `.git/config` cannot be cleaned.
    #[error(transparent)]
    RemoteUrl(#[from] RemoteUrlError),
    /// A fork URL on another host than the project: the bot token is never sent there.
    #[error(
        "the merge request's source repository {url} is not on the same GitLab as {origin}; refusing to send the bot token there"
    )]
    ForeignRemote {
        /// The fork's URL.
        url: String,
        /// The project's URL.
        origin: String,
    },
    /// [`Workspace::checkout`] has not run yet.
    #[error("the checkout has not been prepared; call Workspace::checkout first")]
    NotCheckedOut,
    /// The merge request's commit is not in the source branch (it was force-pushed away).
    #[error(
        "commit {sha} of the merge request cannot be fetched from {branch}: the branch was probably force-pushed; ask again on the merge request"
    )]
    MissingCommit {
        /// The commit.
        sha: String,
        /// The branch it was expected on.
        branch: String,
    },
}

/// Settings of the checkout and its publication.
#[derive(Clone, Debug)]
pub struct WorkspaceSettings {
    /// Branches the assistant creates live under this prefix.
    pub branch_prefix: BranchPrefix,
    /// Commits the assistant makes, authored as this identity.
    pub author: Person,
    /// History to fetch in a shallow clone: the runner's `GIT_DEPTH`, at least
    /// [`MIN_SHALLOW_DEPTH`].
    pub shallow_depth: u32,
}

/// Commits fetched in a shallow clone when `GIT_DEPTH` asks for fewer: enough for recent
/// history (`git log`, blame of recent lines) without fetching the whole project.
pub const MIN_SHALLOW_DEPTH: u32 = 50;

/// A setting of the workspace cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceSettingsError {
    /// `AI_BRANCH_PREFIX` is not a branch namespace.
    #[error("AI_BRANCH_PREFIX: {0}")]
    Prefix(#[from] BranchNameError),
}

impl WorkspaceSettings {
    /// Reads a CI job's environment for `assistant`: `AI_BRANCH_PREFIX` (default
    /// `<assistant>/`, such as `claude/`), `AI_COMMIT_AUTHOR_NAME` and `AI_COMMIT_AUTHOR_EMAIL`
    /// (default the assistant's display name and `noreply@<CI_SERVER_HOST>`), and `GIT_DEPTH`.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        assistant: crate::assistant::Assistant,
    ) -> Result<Self, WorkspaceSettingsError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let prefix = get("AI_BRANCH_PREFIX").unwrap_or_else(|| format!("{}/", assistant.name()));
        let host = get("CI_SERVER_HOST").unwrap_or_else(|| "localhost".to_owned());
        let display = match assistant {
            crate::assistant::Assistant::Claude => "Claude",
            crate::assistant::Assistant::Codex => "Codex",
        };
        Ok(Self::new(
            BranchPrefix::new(prefix.trim())?,
            Person::assistant_from_env(env, display, host.trim()),
            get("GIT_DEPTH").as_deref(),
        ))
    }

    /// `prefix` for branches, `author` for commits, depth from `GIT_DEPTH`.
    pub fn new(branch_prefix: BranchPrefix, author: Person, git_depth: Option<&str>) -> Self {
        let depth = git_depth
            .and_then(|d| d.trim().parse::<u32>().ok())
            .unwrap_or(0);
        Self {
            branch_prefix,
            author,
            shallow_depth: depth.max(MIN_SHALLOW_DEPTH),
        }
    }
}

/// The checkout and what we know about it.
#[derive(Debug)]
pub struct Workspace {
    git: Git,
    origin: RemoteUrl,
    settings: WorkspaceSettings,
    config_path: PathBuf,
    config: Vec<u8>,
    checkout: Option<Checkout>,
}

impl Workspace {
    /// Opens the checkout at `dir` whose project lives at `origin`: rewrites every remote URL
    /// that carries credentials (the runner's job token) to `origin`'s form without them, and
    /// remembers the resulting `.git/config`.
    pub async fn open(
        dir: impl Into<PathBuf>,
        origin: RemoteUrl,
        auth: GitAuth,
        settings: WorkspaceSettings,
    ) -> Result<Self, WorkspaceError> {
        let git = Git::new(dir, Some(auth));
        let git_dir = git.text(&["rev-parse", "--absolute-git-dir"]).await?;
        let config_path = Path::new(&git_dir).join("config");
        strip_remote_credentials(&git).await?;
        drop_extra_headers(&git).await?;
        let config = std::fs::read(&config_path).map_err(|source| WorkspaceError::Config {
            path: config_path.display().to_string(),
            source,
        })?;
        Ok(Self {
            git,
            origin,
            settings,
            config_path,
            config,
            checkout: None,
        })
    }

    /// The git runner for this checkout (local commands carry no credentials).
    pub fn git(&self) -> &Git {
        &self.git
    }

    /// The checkout's directory.
    pub fn dir(&self) -> &Path {
        self.git.dir()
    }

    /// The settings it was opened with.
    pub fn settings(&self) -> &WorkspaceSettings {
        &self.settings
    }

    /// What [`Workspace::checkout`] prepared.
    pub fn current(&self) -> Option<&Checkout> {
        self.checkout.as_ref()
    }

    /// Writes back the configuration remembered at [`Workspace::open`], undoing whatever the
    /// assistant changed in `.git/config`.
    fn restore_config(&self) -> Result<(), WorkspaceError> {
        let current = std::fs::read(&self.config_path).ok();
        if current.as_deref() == Some(self.config.as_slice()) {
            return Ok(());
        }
        tracing::info!(path = %self.config_path.display(), "restoring .git/config changed during the run");
        std::fs::write(&self.config_path, &self.config).map_err(|source| WorkspaceError::Config {
            path: self.config_path.display().to_string(),
            source,
        })
    }
}

/// Removes `http.extraHeader` and `http.<url>.extraHeader` entries from `.git/config`: a runner
/// or an earlier step may have put a token there.
async fn drop_extra_headers(git: &Git) -> Result<(), WorkspaceError> {
    let listed = match git
        .text(&[
            "config",
            "--local",
            "--name-only",
            "--get-regexp",
            r"^http\..*extraheader$",
        ])
        .await
    {
        Ok(listed) => listed,
        Err(GitError::Failed { status, .. }) if status.code() == Some(1) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for key in listed.lines().collect::<std::collections::BTreeSet<_>>() {
        git.run(&["config", "--local", "--unset-all", key]).await?;
        tracing::info!(key, "removed an HTTP header setting from .git/config");
    }
    Ok(())
}

/// Rewrites `remote.<name>.url` values that carry a username or password.
async fn strip_remote_credentials(git: &Git) -> Result<(), WorkspaceError> {
    let listed = match git
        .text(&[
            "config",
            "--local",
            "--get-regexp",
            r"^remote\..*\.(push)?url$",
        ])
        .await
    {
        Ok(listed) => listed,
        // Exit status 1: no remote configured.
        Err(GitError::Failed { status, .. }) if status.code() == Some(1) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for line in listed.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        let Ok(url) = url::Url::parse(value) else {
            continue;
        };
        if url.username().is_empty() && url.password().is_none() {
            continue;
        }
        let clean = RemoteUrl::parse(key, value)?;
        git.run(&["config", "--local", "--replace-all", key, clean.as_str()])
            .await?;
        tracing::info!(
            remote = key,
            "removed credentials from a remote URL in .git/config"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assistant::Assistant;
    use crate::test_support::vars;

    #[test]
    fn settings_from_the_job_environment() {
        let env = vars(&[
            ("CI_SERVER_HOST", "gitlab.example.com"),
            ("GIT_DEPTH", "20"),
        ]);
        let settings = WorkspaceSettings::from_env(&env, Assistant::Codex).unwrap();
        assert_eq!(settings.branch_prefix.as_str(), "codex/");
        assert_eq!(settings.author.name, "Codex");
        assert_eq!(settings.author.email, "noreply@gitlab.example.com");
        assert_eq!(settings.shallow_depth, MIN_SHALLOW_DEPTH);
        let env = vars(&[("AI_BRANCH_PREFIX", "bots/claude/"), ("GIT_DEPTH", "500")]);
        let settings = WorkspaceSettings::from_env(&env, Assistant::Claude).unwrap();
        assert_eq!(settings.branch_prefix.as_str(), "bots/claude/");
        assert_eq!(settings.shallow_depth, 500);
        let env = vars(&[("AI_BRANCH_PREFIX", "main")]);
        assert!(WorkspaceSettings::from_env(&env, Assistant::Claude).is_err());
    }
}
