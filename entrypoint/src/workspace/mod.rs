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
//! that sends our next push, with its `Authorization` header, to another host; a
//! `core.fsmonitor` that runs as root) or add hooks, so every git command the workspace runs
//! first goes through [`Workspace::trusted_git`]: the repository files git reads as
//! configuration are written back as the checkout left them and `.git` must still be the same
//! directory ([`gitdir`]); each command also overrides every executing setting on its command
//! line ([`git::Git`]).

pub mod branch;
pub mod checkout;
pub mod commit;
pub mod git;
pub mod gitdir;
pub mod push;
pub mod remote;
pub mod trusted;

use std::path::{Path, PathBuf};

pub use branch::{AssistantBranch, BranchNameError, BranchPrefix};
pub use checkout::{Checkout, CheckoutTarget, MergeRequestSource, PushAccess};
pub use commit::{Change, CommitIdentity, Person};
pub use git::{Git, GitAuth, GitError};
pub use gitdir::{GitDirError, GitDirSnapshot};
pub use push::{PushDestination, PushOutcome, PushRefusal};
pub use remote::{RemoteUrl, RemoteUrlError};
pub use trusted::{ConfigurationSwap, TrustedPath, trusted_paths};

use crate::env::Env;

/// Something went wrong preparing or publishing the checkout.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A git command failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// `.git` is not what the checkout left, or its files cannot be restored.
    #[error(transparent)]
    GitDir(#[from] GitDirError),
    /// A file of the working tree could not be swapped for the target branch's version.
    #[error(
        "cannot replace {path} with the target branch's version of the assistant's configuration: {source}"
    )]
    Tree {
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
pub(crate) const MIN_SHALLOW_DEPTH: u32 = 50;

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
        env: &dyn Env,
        assistant: crate::agent::Assistant,
    ) -> Result<Self, WorkspaceSettingsError> {
        let prefix = env
            .set(crate::env::AI_BRANCH_PREFIX.name())
            .unwrap_or_else(|| format!("{}/", assistant.name()));
        let host = env
            .set("CI_SERVER_HOST")
            .unwrap_or_else(|| "localhost".to_owned());
        let display = assistant.display_name();
        Ok(Self::new(
            BranchPrefix::new(prefix.trim())?,
            Person::assistant_from_env(env, display, host.trim()),
            env.set("GIT_DEPTH").as_deref(),
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
    git_dir: GitDirSnapshot,
    checkout: Option<Checkout>,
}

impl Workspace {
    /// Opens the checkout at `dir` whose project lives at `origin`: rewrites every remote URL
    /// that carries credentials (the runner's job token) to `origin`'s form without them, and
    /// remembers the resulting `.git/config` and the other files git reads as configuration
    /// ([`GitDirSnapshot`]). Nothing but the runner has run in the checkout yet: this is the
    /// state trusted for the rest of the job.
    pub async fn open(
        dir: impl Into<PathBuf>,
        origin: RemoteUrl,
        auth: GitAuth,
        settings: WorkspaceSettings,
    ) -> Result<Self, WorkspaceError> {
        let git = Git::new(dir, Some(auth));
        let mut git_dir = GitDirSnapshot::capture(git.dir())?;
        strip_remote_credentials(&git).await?;
        drop_extra_headers(&git).await?;
        git_dir.remember_config()?;
        Ok(Self {
            git,
            origin,
            settings,
            git_dir,
            checkout: None,
        })
    }

    /// The git runner for this checkout, after [`Workspace::trusted_git`]'s checks: local
    /// commands carry no credentials.
    pub fn git(&self) -> Result<&Git, WorkspaceError> {
        self.trusted_git()
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

    /// The git runner, once the repository's configuration files are back to what
    /// [`Workspace::open`] remembered and `.git` is checked to be the same directory. Every
    /// git command of the workspace goes through here, so none can read a configuration the
    /// assistant wrote: the check is a few small file reads, cheap next to starting git.
    pub(crate) fn trusted_git(&self) -> Result<&Git, WorkspaceError> {
        self.git_dir.enforce()?;
        Ok(&self.git)
    }
}

/// The `.git/config` entries whose key matches `pattern` (`git config --local --get-regexp`
/// with `options`), one a line; empty when none does, which git says with exit status 1.
async fn local_config(
    git: &Git,
    options: &[&str],
    pattern: &str,
) -> Result<String, WorkspaceError> {
    let mut args = vec!["config", "--local"];
    args.extend(options);
    args.extend(["--get-regexp", pattern]);
    match git.text(&args).await {
        Ok(listed) => Ok(listed),
        Err(GitError::Failed { status, .. }) if status.code() == Some(1) => Ok(String::new()),
        Err(e) => Err(e.into()),
    }
}

/// Removes `http.extraHeader` and `http.<url>.extraHeader` entries from `.git/config`: a runner
/// or an earlier step may have put a token there.
async fn drop_extra_headers(git: &Git) -> Result<(), WorkspaceError> {
    let listed = local_config(git, &["--name-only"], r"^http\..*extraheader$").await?;
    for key in listed.lines().collect::<std::collections::BTreeSet<_>>() {
        git.run(&["config", "--local", "--unset-all", key]).await?;
        tracing::info!(key, "removed an HTTP header setting from .git/config");
    }
    Ok(())
}

/// Rewrites `remote.<name>.url` values that carry a username or password.
async fn strip_remote_credentials(git: &Git) -> Result<(), WorkspaceError> {
    let listed = local_config(git, &[], r"^remote\..*\.(push)?url$").await?;
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
    use crate::agent::Assistant;
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
