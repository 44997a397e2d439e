//! Running the `git` CLI in the job's checkout, authenticated without leaving the token anywhere
//! the assistant could later read it.
//!
//! The token travels as an `Authorization` header that git adds to every HTTP request
//! (`http.extraHeader`), passed through git's environment-variable configuration
//! (`GIT_CONFIG_COUNT`, `GIT_CONFIG_KEY_0`, `GIT_CONFIG_VALUE_0`,
//! <https://git-scm.com/docs/git-config#Documentation/git-config.txt-GITCONFIGCOUNT>): never in a
//! remote URL, never in `.git/config`, never in a process argument (arguments are world-readable
//! in `/proc/<pid>/cmdline`; the environment is readable by the same user only, and only while
//! that git process runs, which ends long before the assistant starts). GitLab accepts HTTP Basic
//! with any username and an access token as the password for git over HTTPS
//! (<https://docs.gitlab.com/user/project/settings/project_access_tokens/>).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use base64::Engine;

use crate::secret::Secret;

/// A git command failed or could not start.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` is not installed or the directory is missing.
    #[error("cannot run `git {args}` in {dir}: {source}")]
    Spawn {
        /// The arguments (never secret: credentials travel in the environment).
        args: String,
        /// The working directory.
        dir: String,
        /// Why the process could not start.
        source: std::io::Error,
    },
    /// git exited with a failure.
    #[error("`git {args}` failed ({status}): {stderr}")]
    Failed {
        /// The arguments.
        args: String,
        /// Exit status.
        status: std::process::ExitStatus,
        /// What git printed on standard error.
        stderr: String,
    },
    /// git printed something that is not UTF-8 where text was expected.
    #[error("`git {args}` printed output that is not UTF-8")]
    NotUtf8 {
        /// The arguments.
        args: String,
    },
}

impl GitError {
    /// Standard error of a failed command (empty for other errors).
    pub fn stderr(&self) -> &str {
        match self {
            GitError::Failed { stderr, .. } => stderr,
            _ => "",
        }
    }
}

/// The credentials git sends to GitLab, held in memory only.
#[derive(Clone, Debug)]
pub struct GitAuth {
    /// `Authorization: Basic base64(oauth2:<token>)`.
    header: Secret,
}

impl GitAuth {
    /// Credentials for an access token (project, group or personal).
    pub fn token(token: &Secret) -> Self {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("oauth2:{}", token.expose()));
        Self {
            header: Secret::new(format!("Authorization: Basic {basic}")),
        }
    }
}

/// Output of a successful command.
#[derive(Clone, Debug)]
pub struct Output {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error (git prints progress and remote messages there).
    pub stderr: String,
}

/// Command-line configuration given to every command, the second line of defence after
/// [`super::gitdir::GitDirSnapshot`] restored the repository's own files: command-line
/// settings win over every configuration file (<https://git-scm.com/docs/git-config#FILES>),
/// and git passes them on to the git processes it starts itself (submodules) through
/// `GIT_CONFIG_PARAMETERS`. Each neutralises a key whose value git executes or that decides
/// where a request goes:
/// - `core.hooksPath=/dev/null`: no hook runs, whatever `.git/hooks/` holds
///   (<https://git-scm.com/docs/githooks>);
/// - `core.fsmonitor=false`: `status`, `add` and `commit` would start the named program;
/// - `credential.helper=` (empty: resets the list) and `core.askPass=`: no helper sees a
///   credential prompt (`GIT_ASKPASS=true` answers it first anyway);
/// - `core.pager=cat` besides `--no-pager` (and `pager.<command>` is never consulted then);
/// - `core.editor=true`, `sequence.editor=true`: nothing opens an editor;
/// - `commit.gpgSign`, `tag.gpgSign`, `push.gpgSign` off, so `gpg.program` never runs;
/// - `core.sshCommand=false`, `core.gitProxy=`, and `protocol.allow=never` with only `http`
///   and `https` allowed (<https://git-scm.com/docs/git-config#Documentation/git-config.txt-protocolallow>):
///   no `ext::` command, no ssh, no `file://` alternate, whatever a URL is rewritten to;
/// - `submodule.recurse=false`, `diff.ignoreSubmodules=all`, `status.submoduleSummary=false`,
///   `push.recurseSubmodules=no`, `fetch.recurseSubmodules=no`: no git process starts inside
///   a `.git/modules/*` repository with a configuration of its own;
/// - `core.attributesFile=/dev/null` (with `GIT_ATTR_NOSYSTEM=1`): no attributes file outside
///   the repository names a driver.
///
/// Not overridable here, and so left to the restored configuration: per-URL keys
/// (`url.<base>.insteadOf`, `http.<url>.proxy`), `include.path`, and driver keys whose names
/// the attacker picks (`filter.<driver>.*`, `diff.<driver>.*`, `merge.<driver>.*`).
/// `alias.*` never replaces a built-in command, so it needs nothing.
const SAFE_CONFIG: &[&str] = &[
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "credential.helper=",
    "core.askPass=",
    "core.pager=cat",
    "core.editor=true",
    "sequence.editor=true",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "push.gpgSign=false",
    "core.sshCommand=false",
    "core.gitProxy=",
    "protocol.allow=never",
    "protocol.http.allow=always",
    "protocol.https.allow=always",
    "submodule.recurse=false",
    "diff.ignoreSubmodules=all",
    "status.submoduleSummary=false",
    "push.recurseSubmodules=no",
    "fetch.recurseSubmodules=no",
    "core.attributesFile=/dev/null",
];

/// git in one working directory, with the host's global and system configuration ignored,
/// hooks disabled and every executing setting overridden ([`SAFE_CONFIG`]): the assistant can
/// write `.git/hooks/*` and, in a checkout made with `umask 0000`, `.git/config`; our
/// commits and pushes must not run what it wrote.
#[derive(Clone, Debug)]
pub struct Git {
    dir: PathBuf,
    auth: Option<GitAuth>,
}

impl Git {
    /// git in `dir`, authenticated with `auth` on commands that talk to GitLab.
    pub fn new(dir: impl Into<PathBuf>, auth: Option<GitAuth>) -> Self {
        Self {
            dir: dir.into(),
            auth,
        }
    }

    /// The working directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs a local command (no credentials in its environment).
    pub async fn run(&self, args: &[&str]) -> Result<Output, GitError> {
        self.execute(args, false, &[]).await
    }

    /// Runs a local command with extra environment variables (commit identities).
    pub(crate) async fn run_with_env(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Output, GitError> {
        self.execute(args, false, env).await
    }

    /// Runs a command that talks to GitLab (fetch, push), with the credentials.
    pub async fn remote(&self, args: &[&str]) -> Result<Output, GitError> {
        self.execute(args, true, &[]).await
    }

    /// Runs a local command and returns its trimmed standard output as text.
    pub async fn text(&self, args: &[&str]) -> Result<String, GitError> {
        let output = self.run(args).await?;
        String::from_utf8(output.stdout)
            .map(|s| s.trim().to_owned())
            .map_err(|_| GitError::NotUtf8 {
                args: args.join(" "),
            })
    }

    /// True when the command succeeds (for questions such as "does this object exist?").
    pub async fn succeeds(&self, args: &[&str]) -> bool {
        self.run(args).await.is_ok()
    }

    async fn execute(
        &self,
        args: &[&str],
        authenticated: bool,
        env: &[(&str, &str)],
    ) -> Result<Output, GitError> {
        let mut command = tokio::process::Command::new("git");
        for (name, _) in std::env::vars_os() {
            if is_git_variable(&name) {
                command.env_remove(name);
            }
        }
        if let Some(parent) = self.dir.parent() {
            // git never looks above the checkout for a repository: if `.git` disappeared,
            // a repository planted in a parent directory must not be used instead.
            command.env("GIT_CEILING_DIRECTORIES", parent);
        }
        command
            .current_dir(&self.dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .env("GIT_EDITOR", "true")
            .env("GIT_SEQUENCE_EDITOR", "true")
            .env("GIT_ATTR_NOSYSTEM", "1")
            .env("GIT_PAGER", "cat")
            .env("LC_ALL", "C")
            .arg("--no-pager")
            .args(SAFE_CONFIG.iter().flat_map(|setting| ["-c", setting]))
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if authenticated && let Some(auth) = &self.auth {
            // No redirects: a redirect to another host would carry the header there too.
            command
                .env("GIT_CONFIG_COUNT", "2")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env("GIT_CONFIG_VALUE_0", auth.header.expose())
                .env("GIT_CONFIG_KEY_1", "http.followRedirects")
                .env("GIT_CONFIG_VALUE_1", "false");
        }
        let shown = args.join(" ");
        let output = command.output().await.map_err(|source| GitError::Spawn {
            args: shown.clone(),
            dir: self.dir.display().to_string(),
            source,
        })?;
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        tracing::debug!(args = %shown, status = %output.status, "git");
        if output.status.success() {
            Ok(Output {
                stdout: output.stdout,
                stderr,
            })
        } else {
            Err(GitError::Failed {
                args: shown,
                status: output.status,
                stderr,
            })
        }
    }
}

/// `GIT_*` variables from the job (`GIT_DIR`, `GIT_CONFIG_*`, the runner's `GIT_DEPTH`…) would
/// change what our commands do; each command gets exactly the ones set here.
fn is_git_variable(name: &OsString) -> bool {
    name.to_string_lossy().starts_with("GIT_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_is_basic_with_the_token_as_password_and_hidden_in_debug() {
        let auth = GitAuth::token(&Secret::new("glpat-abc"));
        let expected = format!(
            "Authorization: Basic {}",
            base64::engine::general_purpose::STANDARD.encode("oauth2:glpat-abc")
        );
        assert_eq!(auth.header.expose(), expected);
        assert!(!format!("{auth:?}").contains("glpat"));
    }

    #[tokio::test]
    async fn failures_carry_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(dir.path(), None);
        let error = git.run(&["rev-parse", "HEAD"]).await.unwrap_err();
        assert!(error.stderr().contains("not a git repository"), "{error}");
    }
}
