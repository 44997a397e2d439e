//! `entrypoint` run as a GitLab CI job runs it: a runner's checkout of the GitLab double's
//! repository as `CI_PROJECT_DIR`, the variables GitLab sets for a job
//! (<https://docs.gitlab.com/ci/variables/predefined_variables/>), the real pinned CLI and a
//! model double. The mention stories (`run_mentions`) and the automation stories
//! (`automation_run`) each had a copy of this; they differ only in what they add on top.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use doubles::gitlab::double::GitLabDouble;
use doubles::gitlab::repo::{FileChange, Signature, git_command};
use doubles::model::ModelDouble;
use doubles::model::cli::{Cli, InstalledCli, install};
use doubles::sandbox::UidLease;
use entrypoint::agent::Assistant;

/// A model name Codex knows, so it advertises `apply_patch`.
pub const CODEX_KNOWN_MODEL: &str = "gpt-5.5";
/// Far above a healthy job (seconds) and below the CLIs' minutes of retries.
pub const JOB_LIMIT: Duration = Duration::from_secs(180);

/// The CLI where the sandbox uid, which the job runs it as, can execute it.
pub fn installed(cli: Cli) -> InstalledCli {
    doubles::sandbox::reachable_cli(&install(cli).expect("installing the CLI"))
}

/// The developer who writes the project's commits in these stories.
pub fn dana() -> Signature {
    Signature {
        name: "Dana Dev".into(),
        email: "dana@example.com".into(),
    }
}

pub fn write(path: &str, content: &str) -> FileChange {
    FileChange::Write {
        path: path.into(),
        content: content.as_bytes().to_vec(),
    }
}

/// `base`, or `base-1`, `base-2`… when a job of the same test already has it: each job gets a
/// fresh checkout of its own, as a CI job does.
pub fn free_name(dir: &Path, base: &str) -> String {
    (0..)
        .map(|n| match n {
            0 => base.to_owned(),
            n => format!("{base}-{n}"),
        })
        .find(|name| !dir.join(name).exists())
        .expect("a free directory name")
}

/// `CI_REPOSITORY_URL`: the project's clone URL with the job token as the password of
/// `gitlab-ci-token`, as the runner gets it.
pub fn repository_url(gl: &GitLabDouble, project: u64, job_token: &str) -> String {
    gl.git_url(project).unwrap().replacen(
        "http://",
        &format!("http://gitlab-ci-token:{job_token}@"),
        1,
    )
}

/// A checkout as the runner makes it: cloned with the job token in the URL, shallow,
/// detached at the default branch.
pub fn runner_checkout(gl: &GitLabDouble, project: u64, job_token: &str, dir: &Path) -> PathBuf {
    let mut clone = git_command();
    clone.args(["clone", "--quiet", "--depth", "20"]);
    git_succeeds(clone.arg(repository_url(gl, project, job_token)).arg(dir));
    git_succeeds(
        git_command()
            .current_dir(dir)
            .args(["checkout", "--quiet", "--detach"]),
    );
    dir.to_path_buf()
}

/// Runs `git`, which must succeed; its error output otherwise.
fn git_succeeds(git: &mut Command) {
    let out = git.output().expect("git runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
}

/// The API keys a story gives the job; each story has its own, so a leak names its story.
#[derive(Clone, Copy)]
pub struct ModelKeys {
    pub anthropic: &'static str,
    pub openai: &'static str,
}

/// One job of project `acme/widgets` as GitLab starts it.
pub struct CiJob<'a> {
    pub gl: &'a GitLabDouble,
    pub project: u64,
    pub job_token: &'a str,
    /// `GITLAB_TOKEN`: the bot's token the project stores as a CI/CD variable.
    pub bot_token: &'a str,
    pub checkout: &'a Path,
    pub job_id: &'a str,
    pub assistant: Assistant,
    pub model: &'a ModelDouble,
    pub keys: ModelKeys,
}

impl CiJob<'_> {
    /// `entrypoint <subcommand>` with nothing but the variables a job has. Finishing a run
    /// kills every process of its sandbox uid, so the job gets a uid `lease` this test holds
    /// alone; keep it until the job has ended.
    pub fn command(&self, subcommand: &str, lease: &UidLease) -> tokio::process::Command {
        let base = self.gl.base_url();
        let cli = installed(match self.assistant {
            Assistant::Claude => Cli::Claude,
            Assistant::Codex => Cli::Codex,
        });
        let path = std::env::join_paths(
            cli.path_dirs
                .iter()
                .cloned()
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        let mut command = tokio::process::Command::new(
            doubles::binaries::entrypoint().expect("the entrypoint binary"),
        );
        command
            .arg(subcommand)
            .env_clear()
            .env("PATH", path)
            .env("HOME", std::env::var_os("HOME").unwrap())
            .env("CI", "true")
            .env("CI_PROJECT_ID", self.project.to_string())
            .env("CI_PROJECT_PATH", "acme/widgets")
            .env("CI_PROJECT_DIR", self.checkout)
            .env("CI_API_V4_URL", self.gl.api_url())
            .env("CI_SERVER_URL", &base)
            .env("CI_SERVER_HOST", "127.0.0.1")
            .env("CI_DEFAULT_BRANCH", "main")
            .env(
                "CI_REPOSITORY_URL",
                repository_url(self.gl, self.project, self.job_token),
            )
            .env("CI_JOB_TOKEN", self.job_token)
            .env("CI_JOB_ID", self.job_id)
            .env(
                "CI_JOB_URL",
                format!("{base}/acme/widgets/-/jobs/{}", self.job_id),
            )
            .env("GITLAB_TOKEN", self.bot_token)
            .env("AI_ASSISTANT", self.assistant.name())
            .env("AI_TIMEOUT", "150s")
            // These jobs run in the machine's own network namespace, whose firewall is not the
            // tests' to change; the fenced runs are proven in their own namespaces by
            // sandbox_real_clis.rs and sandbox_netns.rs.
            .env("AI_SANDBOX", "off")
            .env("AI_SANDBOX_UID", lease.uid.to_string())
            .env(
                match self.assistant {
                    Assistant::Claude => "AI_CLAUDE_BIN",
                    Assistant::Codex => "AI_CODEX_BIN",
                },
                &cli.binary,
            );
        match self.assistant {
            Assistant::Claude => {
                command
                    .env("ANTHROPIC_API_KEY", self.keys.anthropic)
                    .env("ANTHROPIC_BASE_URL", self.model.base_url())
                    .env("CLAUDE_MODEL", "claude-sonnet-4-6");
            }
            Assistant::Codex => {
                command
                    .env("OPENAI_API_KEY", self.keys.openai)
                    .env("OPENAI_BASE_URL", format!("{}/v1", self.model.base_url()))
                    .env("CODEX_MODEL", CODEX_KNOWN_MODEL);
            }
        }
        command
    }
}

/// The job's output once it ended, within [`JOB_LIMIT`].
pub async fn finish(mut command: tokio::process::Command) -> Output {
    tokio::time::timeout(JOB_LIMIT, command.output())
        .await
        .expect("the job finished in time")
        .expect("the job ran")
}

/// `command` with `extra` variables on top (the story's own), run to its end within
/// [`JOB_LIMIT`]; its output goes to the test's log, labelled `what`, for a failure's report.
pub async fn run_with(
    mut command: tokio::process::Command,
    extra: &[(&str, &str)],
    what: &str,
) -> Output {
    command.envs(extra.iter().copied());
    let output = finish(command).await;
    eprintln!(
        "--- {what} ({:?}) ---\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
