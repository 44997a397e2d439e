//! The issue → merge request story, run inside a built image as a GitLab job runs it.
//!
//! A holder container owns a network namespace with nothing but loopback; the GitLab double and
//! the model double listen on that loopback (see `netns.rs`), and every container of the story
//! joins it, so no traffic leaves the namespace and the job may load the network sandbox's
//! firewall rules without touching the host's. A clone container checks the project out with
//! the job token (as the runner does), then the job container runs `entrypoint run` with the
//! variables of a trigger pipeline. The double's recorded state must then show what the person
//! who asked sees: the placeholder replaced by the answer, a branch pushed with the fix, and a
//! merge request that closes the issue, linked from the answer.
//!
//! Both jobs run as root, as the templates run them (`image: docker: user: root`), and the
//! entrypoint starts the CLI as the sandbox uid, fenced to the key proxy (`AI_SANDBOX=on`, with
//! `NET_ADMIN`) or not. Before fixing the typo the model has the CLI's shell dump every
//! `/proc/<pid>/environ` and `cmdline` it can read into the builds directory: neither the
//! job's shell (whose command line carries a marker) nor the entrypoint may give away
//! `GITLAB_TOKEN`, `CI_JOB_TOKEN`, the model key or a planted `CI_REGISTRY_PASSWORD`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use ai_core::Assistant;
use ai_core::marker::{NoteRole, marker};
use anyhow::{Context, bail, ensure};
use bollard::Docker;
use doubles::gitlab::double::{
    GitLabDouble, IssueSpec, NoteSpec, Noteable, ProjectSpec, SeededUser, UserSpec,
};
use doubles::model::stories::{
    GREETING_FIXED, claude_runs_then_fixes_greeting, codex_runs_then_fixes_greeting,
};
use doubles::model::{ModelDouble, anthropic, openai};

use crate::engine::container::{self, Entrypoint, Network, RunSpec};
use crate::engine::netns::NetnsRuntime;
use crate::images::builder::LocalImage;
use crate::scenarios::{BUILDS, CHECKOUT, PROJECT_PATH, trigger_job_env};

/// A model name Codex knows, so it advertises `apply_patch`.
const CODEX_MODEL: &str = "gpt-5.5";
/// Far above a healthy job (seconds) and below the CLIs' minutes of retries.
const JOB_LIMIT: Duration = Duration::from_secs(240);
/// What `entrypoint run` logs once the fence is loaded and verified.
const SANDBOX_VERIFIED: &str = "network sandbox verified";
/// What the answer says when the assistant ran unfenced.
const UNFENCED_NOTICE: &str = "not network-sandboxed";
/// Where the assistant's shell writes its /proc dump: the bind-mounted builds directory, so the
/// host reads it after the job (a file in the checkout would be committed).
const PROC_DUMP: &str = "/builds/proc-dump.txt";
/// In the job shell's command line, which every uid may read: proof that the dump saw it.
const JOB_SHELL_MARKER: &str = "image-job-shell-5d1c";
/// A secret the job has but the assistant is never given.
const REGISTRY_PASSWORD: &str = "registry-image-canary-7e20";
/// The sandbox uid's default.
const SANDBOX_UID: u32 = 64123;
const CLAUDE_KEY: &str = "sk-ant-image-story-0f9e8d7c";
const OPENAI_KEY: &str = "sk-image-story-1a2b3c4d";

/// What the doubles hold for one story.
struct World {
    gitlab: GitLabDouble,
    model: ModelDouble,
    project: u64,
    bot: SeededUser,
    job_token: String,
    issue_iid: u64,
    note: u64,
}

/// A project with a typo, a bot with Maintainer access, and a Developer's issue mentioning the
/// assistant. Runs on the namespace's thread, so both doubles listen there.
async fn world(assistant: Assistant) -> anyhow::Result<World> {
    let gitlab = GitLabDouble::start().await?;
    let project = gitlab.add_project(ProjectSpec::new(PROJECT_PATH))?.id;
    let bot = gitlab.add_user(UserSpec::project_bot(project, "AI"))?;
    gitlab.add_member(project, bot.id, 40)?;
    let dev = gitlab.add_user(UserSpec::human("dana"))?;
    gitlab.add_member(project, dev.id, 30)?;
    let job_token = doubles::model::stories::seed_greeting(&gitlab, project, dev.id)?;
    let issue_iid = gitlab
        .create_issue(project, IssueSpec::new(dev.id, "Greeting has a typo"))?
        .iid;
    let note = gitlab
        .add_note(
            project,
            Noteable::Issue(issue_iid),
            NoteSpec::new(dev.id, &format!("@{} please fix this", assistant.name())),
        )?
        .id;
    let dump = doubles::sandbox::proc_dump(PROC_DUMP);
    let model = match assistant {
        Assistant::Claude => {
            anthropic::start(claude_runs_then_fixes_greeting(Path::new(CHECKOUT), &dump)).await?
        }
        Assistant::Codex => openai::start(codex_runs_then_fixes_greeting(&dump)).await?,
    };
    Ok(World {
        gitlab,
        model,
        project,
        bot,
        job_token,
        issue_iid,
        note,
    })
}

impl World {
    /// The clone URL with the job token, as the runner's `CI_REPOSITORY_URL`.
    fn repository_url(&self) -> anyhow::Result<String> {
        super::repository_url(&self.gitlab, self.project, &self.job_token)
    }

    /// The variables of a trigger pipeline's job (the relay's `AI_*` ones and GitLab's `CI_*`),
    /// its network fenced or not.
    fn job_env(&self, assistant: Assistant, fenced: bool) -> anyhow::Result<Vec<String>> {
        let mut env = trigger_job_env(
            &self.gitlab,
            self.project,
            &self.job_token,
            4242,
            &self.bot.token,
        )?;
        env.extend([
            format!("AI_ASSISTANT={}", assistant.name()),
            "AI_NOTEABLE_TYPE=issue".to_owned(),
            format!("AI_NOTEABLE_IID={}", self.issue_iid),
            format!("AI_NOTE_ID={}", self.note),
            "AI_TIMEOUT=180s".to_owned(),
            format!("AI_SANDBOX={}", if fenced { "on" } else { "off" }),
            format!("CI_REGISTRY_PASSWORD={REGISTRY_PASSWORD}"),
        ]);
        let model = self.model.base_url();
        env.extend(match assistant {
            Assistant::Claude => [
                format!("ANTHROPIC_API_KEY={CLAUDE_KEY}"),
                format!("ANTHROPIC_BASE_URL={model}"),
                "CLAUDE_MODEL=claude-sonnet-4-6".to_owned(),
            ],
            Assistant::Codex => [
                format!("OPENAI_API_KEY={OPENAI_KEY}"),
                format!("OPENAI_BASE_URL={model}/v1"),
                format!("CODEX_MODEL={CODEX_MODEL}"),
            ],
        });
        Ok(env)
    }

    /// The secrets the job holds, none of which the assistant may read.
    fn secrets(&self) -> Vec<String> {
        vec![
            self.bot.token.clone(),
            self.job_token.clone(),
            CLAUDE_KEY.to_owned(),
            OPENAI_KEY.to_owned(),
            REGISTRY_PASSWORD.to_owned(),
        ]
    }

    /// What the person who asked must see; the error names the first thing that is not so.
    /// `sandboxed`: whether the run had to be fenced (its log must report the fence's
    /// verification, and its answer must not call it unfenced).
    fn check_outcome(
        &self,
        assistant: Assistant,
        sandboxed: bool,
        log: &str,
    ) -> anyhow::Result<String> {
        let problems = self.model.problems();
        ensure!(
            problems.is_empty(),
            "the model double's script did not run as written: {problems:?}"
        );
        let mrs = self.gitlab.merge_requests(self.project);
        let [mr] = mrs.as_slice() else {
            bail!("expected one merge request, found {}", mrs.len());
        };
        let prefix = format!("{}/issue-{}-", assistant.name(), self.issue_iid);
        ensure!(
            mr.source_branch.starts_with(&prefix) && mr.target_branch == "main",
            "the merge request goes from {} to {}, expected {prefix}… to main",
            mr.source_branch,
            mr.target_branch
        );
        super::ensure_mr_fixes_issue(&self.gitlab, self.project, mr, self.issue_iid)?;
        let bot_notes = super::bot_notes(&self.gitlab, self.project, self.bot.id, self.issue_iid);
        let [answer] = bot_notes.as_slice() else {
            bail!(
                "expected the placeholder to become the one answer, found {} notes by the bot",
                bot_notes.len()
            );
        };
        let result_marker = marker(assistant, NoteRole::Result);
        let link = format!("!{}", mr.iid);
        ensure!(
            answer.body.contains(&result_marker)
                && answer.body.contains(&link)
                && answer.body.contains(GREETING_FIXED),
            "the answer is not the result linking {link}: {}",
            answer.body
        );
        let verified = log.contains(SANDBOX_VERIFIED);
        ensure!(
            verified == sandboxed,
            "the run was expected {}network-sandboxed, but its log {} the fence's verification",
            if sandboxed { "" } else { "not " },
            if verified { "reports" } else { "lacks" }
        );
        ensure!(
            !(sandboxed && answer.body.contains(UNFENCED_NOTICE)),
            "the fenced run's answer says it was not network-sandboxed: {}",
            answer.body
        );
        Ok(format!(
            "issue #{} → branch {} → merge request !{} linked from the answer ({})",
            self.issue_iid,
            mr.source_branch,
            mr.iid,
            if sandboxed {
                "network-sandboxed"
            } else {
                "not sandboxed"
            }
        ))
    }
}

/// Runs the story in `image`; returns one line saying what happened.
/// The story in `image`, the assistant's network fenced (`AI_SANDBOX=on`) or not.
pub async fn issue_to_merge_request(
    docker: &Docker,
    image: &LocalImage,
    fenced: bool,
) -> anyhow::Result<String> {
    let started = std::time::Instant::now();
    let holder = RunSpec::new(Entrypoint::Cleared, &["sleep", "infinity"]);
    let (holder_id, pid) = container::start_detached(docker, &image.reference, &holder).await?;
    let story = run_story(docker, image, &holder_id, pid, fenced).await;
    container::remove(docker, &holder_id).await;
    story
        .map(|told| format!("{told} in {:.1?}", started.elapsed()))
        .with_context(|| format!("[{}] the issue → merge request story", image.variant))
}

async fn run_story(
    docker: &Docker,
    image: &LocalImage,
    holder_id: &str,
    pid: i64,
    fenced: bool,
) -> anyhow::Result<String> {
    let assistant = image.variant.assistant;
    let netns = NetnsRuntime::enter(pid)?;
    let world = netns.run(world(assistant)).await??;
    let builds = tempfile::tempdir().context("cannot create the builds directory")?;
    // The image's user must be able to clone into it.
    std::fs::set_permissions(builds.path(), std::fs::Permissions::from_mode(0o777))?;
    let user = Some("root".to_owned());
    let cap_add = if fenced {
        vec!["NET_ADMIN".to_owned()]
    } else {
        Vec::new()
    };
    let base = |entrypoint: Entrypoint, cmd: &[&str]| RunSpec {
        user: user.clone(),
        network: Network::Container(holder_id.to_owned()),
        binds: vec![format!("{}:{BUILDS}", builds.path().display())],
        ..RunSpec::new(entrypoint, cmd)
    };
    let clone_script = format!(
        "git clone --quiet --depth 20 \"$REPO\" {CHECKOUT} && git -C {CHECKOUT} checkout --quiet --detach"
    );
    let clone = RunSpec {
        env: vec![format!("REPO={}", world.repository_url()?)],
        ..base(Entrypoint::Cleared, &["sh", "-c", &clone_script])
    };
    let cloned = container::run(docker, &image.reference, &clone).await?;
    ensure!(
        cloned.exit_code == 0,
        "the checkout failed: {}",
        cloned.stderr.trim()
    );
    // As the runner does, a shell runs the job's script, holding every variable in its
    // environment; the marker makes its command line recognisable in the dump.
    let script = format!("entrypoint run; status=$?; : {JOB_SHELL_MARKER}; exit $status");
    let job = RunSpec {
        env: world.job_env(assistant, fenced)?,
        cap_add,
        timeout: JOB_LIMIT,
        ..base(Entrypoint::Cleared, &["sh", "-c", &script])
    };
    let ran = container::run(docker, &image.reference, &job).await?;
    let dump = std::fs::read_to_string(builds.path().join("proc-dump.txt"));
    let outcome = if ran.exit_code == 0 {
        world
            .check_outcome(assistant, fenced, &ran.stderr)
            .and_then(|told| {
                let dump = dump.context("the assistant's shell wrote no /proc dump")?;
                let secrets = world.secrets();
                let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
                doubles::sandbox::judge_proc_dump(&dump, SANDBOX_UID, JOB_SHELL_MARKER, &secrets)
                    .map_err(anyhow::Error::msg)?;
                Ok(format!("{told}; its shell read no secret from /proc"))
            })
    } else {
        Err(anyhow::anyhow!(
            "`entrypoint run` exited with {}",
            ran.exit_code
        ))
    };
    drop(world);
    drop(netns);
    outcome.map_err(|error| error.context(format!("the job's log:\n{}", ran.stderr.trim())))
}
