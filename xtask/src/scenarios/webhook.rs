//! The webhook-mode story, run in the built images as GitLab and a runner run it: a Developer
//! comments `@claude please fix this` on an issue; the GitLab double fires the project's
//! Comments hook with setup's custom template, calls its own trigger URL and records the
//! pipeline the real `templates/claude.yml` rules give it (`ai-claude-ack` and `ai-claude`, in
//! the issue's resource group); the acknowledgement job runs in the slim `entrypoint` image and
//! posts the placeholder, linking the pipeline (where the answering job's log shows the
//! progress); the answering job runs in the Claude image with the real CLI against the model
//! double, takes the placeholder over without editing it (an edit would be one more Comments
//! event, so one more pipeline), pushes the fix and opens the merge request, whose link
//! replaces the placeholder. Every pipeline but the comments' holds only unplayed manual jobs.
//! A second Developer's mention on another issue gets its own pipeline in another resource
//! group, and its jobs run while the first answer is still running: the two answering jobs
//! overlap in time, as GitLab runs jobs of different resource groups.
//!
//! Every container joins the network namespace of a holder container that has nothing but
//! loopback, where both doubles listen (`netns.rs`), as in `in_image.rs`. The jobs get
//! the pipeline's own variables as recorded by the double (the `AI_HOOK_*` the template sent),
//! `TRIGGER_PAYLOAD` as the file GitLab's runner writes for a file-type variable, and the ack
//! job's dotenv report as variables of the answering job, as GitLab passes `needs:` reports.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use ai_core::Assistant;
use ai_core::hook_vars::TEMPLATE;
use ai_core::marker::{NoteRole, marker};
use anyhow::{Context, bail, ensure};
use bollard::Docker;
use doubles::ci_config::Config;
use doubles::gitlab::double::{
    GitLabDouble, HookSpec, IssueSpec, NoteSpec, Noteable, ProjectSpec, SeededUser, UserSpec,
};
use doubles::gitlab::model::Pipeline;
use doubles::model::stories::{GREETING_FIXED, claude_runs_then_fixes_greeting};
use doubles::model::{ModelDouble, anthropic};

use crate::engine::container::{self, Entrypoint, Network, RunSpec};
use crate::engine::netns::NetnsRuntime;
use crate::scenarios::{BUILDS, CHECKOUT, PROJECT_PATH, trigger_job_env};

/// Far above a healthy job and below the CLI's minutes of retries.
const JOB_LIMIT: Duration = Duration::from_secs(300);
const CLAUDE_KEY: &str = "sk-ant-webhook-story-5b6c7d8e";
/// How long the double may take to deliver a hook and create the pipeline.
const DELIVERY: Duration = Duration::from_secs(10);

/// One mention: its issue, its pipeline and its model double.
struct Mention {
    issue_iid: u64,
    pipeline: Pipeline,
    model: ModelDouble,
}

/// What the doubles hold.
struct World {
    gitlab: GitLabDouble,
    project: u64,
    bot: SeededUser,
    job_token: String,
    mentions: Vec<Mention>,
}

/// The project set up for webhook mode with the template, and two mentions on two issues, each
/// a comment whose Comments event the double delivers to its trigger URL.
async fn world() -> anyhow::Result<World> {
    let gitlab = GitLabDouble::start().await?;
    let project = gitlab.add_project(ProjectSpec::new(PROJECT_PATH))?.id;
    let owner = gitlab.add_user(UserSpec::human("olga"))?;
    gitlab.add_member(project, owner.id, 50)?;
    let bot = gitlab.add_user(UserSpec::project_bot(project, "AI"))?;
    gitlab.add_member(project, bot.id, 40)?;
    let dev = gitlab.add_user(UserSpec::human("dana"))?;
    gitlab.add_member(project, dev.id, 30)?;
    let job_token = doubles::model::stories::seed_greeting(&gitlab, project, dev.id)?;
    gitlab.set_ci_config(project, Config::from_templates(&["claude.yml"]));
    let token = gitlab.add_trigger(project, owner.id, "comments")?;
    let url = format!(
        "{}/projects/{project}/ref/main/trigger/pipeline?token={token}",
        gitlab.api_url()
    );
    gitlab.add_hook(project, HookSpec::notes(&url).custom_template(TEMPLATE))?;

    let mut mentions = Vec::new();
    for title in ["Greeting has a typo", "Greeting typo, again"] {
        let issue_iid = gitlab
            .create_issue(project, IssueSpec::new(dev.id, title))?
            .iid;
        let before = gitlab.pipelines(project).len();
        gitlab.add_note(
            project,
            Noteable::Issue(issue_iid),
            NoteSpec::new(dev.id, "@claude please fix this").emit_hooks(),
        )?;
        let deliveries = gitlab
            .wait_for_deliveries(mentions.len() + 1, DELIVERY)
            .await?;
        let delivered = deliveries.last().and_then(|d| d.status);
        ensure!(
            delivered.is_some_and(|s| (200..300).contains(&s)),
            "the trigger call for issue #{issue_iid}'s comment answered {delivered:?}"
        );
        let pipelines = gitlab.pipelines(project);
        let [pipeline] = &pipelines[before..] else {
            bail!(
                "issue #{issue_iid}'s comment created {} pipelines, expected one",
                pipelines.len() - before
            );
        };
        let model = anthropic::start(claude_runs_then_fixes_greeting(
            Path::new(CHECKOUT),
            "echo checked",
        ))
        .await?;
        mentions.push(Mention {
            issue_iid,
            pipeline: pipeline.clone(),
            model,
        });
    }
    Ok(World {
        gitlab,
        project,
        bot,
        job_token,
        mentions,
    })
}

impl World {
    /// GitLab's `CI_*` variables of a job of `mention`'s pipeline, and the pipeline's own
    /// variables (the template's `AI_HOOK_*`; `TRIGGER_PAYLOAD` as the path of its file).
    fn job_env(&self, mention: &Mention, job_id: u64, image: &str) -> anyhow::Result<Vec<String>> {
        let mut env = trigger_job_env(
            &self.gitlab,
            self.project,
            &self.job_token,
            job_id,
            &self.bot.token,
        )?;
        env.extend([
            format!("CI_PIPELINE_ID={}", mention.pipeline.id),
            format!("CI_PIPELINE_URL={}", self.pipeline_url(mention)),
            format!("CI_JOB_IMAGE={image}"),
            format!("TRIGGER_PAYLOAD={BUILDS}/TRIGGER_PAYLOAD"),
        ]);
        for variable in &mention.pipeline.variables {
            if variable.key != "TRIGGER_PAYLOAD" {
                env.push(format!("{}={}", variable.key, variable.value));
            }
        }
        Ok(env)
    }

    fn pipeline_url(&self, mention: &Mention) -> String {
        format!(
            "{}/{PROJECT_PATH}/-/pipelines/{}",
            self.gitlab.base_url(),
            mention.pipeline.id
        )
    }

    fn bot_notes(&self, issue_iid: u64) -> Vec<doubles::gitlab::model::Note> {
        super::bot_notes(&self.gitlab, self.project, self.bot.id, issue_iid)
    }

    /// What the person who asked on `mention`'s issue sees at the end: the placeholder turned
    /// into the answer linking a merge request that carries the fix and closes the issue.
    fn check_answer(&self, mention: &Mention, placeholder: u64) -> anyhow::Result<String> {
        let problems = mention.model.problems();
        ensure!(
            problems.is_empty(),
            "issue #{}: the model double's script did not run as written: {problems:?}",
            mention.issue_iid
        );
        let prefix = format!("claude/issue-{}-", mention.issue_iid);
        let mrs = self.gitlab.merge_requests(self.project);
        let mr = mrs
            .iter()
            .find(|mr| mr.source_branch.starts_with(&prefix))
            .with_context(|| format!("no merge request from {prefix}…: {mrs:#?}"))?;
        super::ensure_mr_fixes_issue(&self.gitlab, self.project, mr, mention.issue_iid)?;
        let notes = self.bot_notes(mention.issue_iid);
        let [answer] = notes.as_slice() else {
            bail!(
                "issue #{}: expected the placeholder to become the one answer, found {} notes by the bot",
                mention.issue_iid,
                notes.len()
            );
        };
        let link = format!("!{}", mr.iid);
        ensure!(
            answer.id == placeholder
                && answer
                    .body
                    .contains(&marker(Assistant::Claude, NoteRole::Result))
                && answer.body.contains(&link)
                && answer.body.contains(GREETING_FIXED),
            "issue #{}: the placeholder {placeholder} did not become the result linking {link}: {answer:#?}",
            mention.issue_iid
        );
        Ok(format!("#{} → !{}", mention.issue_iid, mr.iid))
    }
}

/// The jobs of `pipeline` the rules let in, by name, with their resource groups.
fn planned(pipeline: &Pipeline) -> anyhow::Result<String> {
    let ack = pipeline
        .jobs
        .iter()
        .find(|j| j.name == "ai-claude-ack")
        .context("the pipeline has no ai-claude-ack job")?;
    let answer = pipeline
        .jobs
        .iter()
        .find(|j| j.name == "ai-claude")
        .context("the pipeline has no ai-claude job")?;
    ensure!(
        ack.when != "manual" && answer.when != "manual",
        "a new Developer comment's jobs must run, not wait to be played: {:?}",
        pipeline.jobs
    );
    ensure!(
        ack.image.contains("/entrypoint:"),
        "the ack job's image is {}, not the slim entrypoint image",
        ack.image
    );
    answer
        .resource_group
        .clone()
        .context("the answering job has no resource group")
}

/// Runs the story with the slim image `slim` and the Claude image `claude`; returns one line
/// saying what happened.
pub async fn webhook_mentions(docker: &Docker, slim: &str, claude: &str) -> anyhow::Result<String> {
    let started = Instant::now();
    let holder = RunSpec::new(Entrypoint::Cleared, &["sleep", "infinity"]);
    let (holder_id, pid) = container::start_detached(docker, claude, &holder).await?;
    let story = run_story(docker, slim, claude, &holder_id, pid).await;
    container::remove(docker, &holder_id).await;
    story
        .map(|told| format!("{told} in {:.1?}", started.elapsed()))
        .context("the webhook-mode story (comment → hook → trigger → ack → answer)")
}

/// What one mention's jobs did.
struct Answered {
    placeholder: u64,
    /// When the answering job started and ended, from the story's start.
    ran: (Duration, Duration),
    log: String,
}

async fn run_story(
    docker: &Docker,
    slim: &str,
    claude: &str,
    holder_id: &str,
    pid: i64,
) -> anyhow::Result<String> {
    let netns = NetnsRuntime::enter(pid)?;
    let world = netns.run(world()).await??;
    let groups = world
        .mentions
        .iter()
        .map(|m| planned(&m.pipeline))
        .collect::<anyhow::Result<Vec<_>>>()?;
    ensure!(
        groups[0] != groups[1],
        "mentions on two issues share the resource group {}",
        groups[0]
    );
    let t0 = Instant::now();
    let jobs = world.mentions.iter().enumerate().map(|(n, mention)| {
        mention_jobs(
            docker, &world, mention, n as u64, slim, claude, holder_id, t0,
        )
    });
    let results = futures::future::join_all(jobs).await;
    let mut answered = Vec::new();
    for result in results {
        answered.push(result?);
    }
    let mut told = Vec::new();
    for (mention, done) in world.mentions.iter().zip(&answered) {
        told.push(
            world
                .check_answer(mention, done.placeholder)
                .with_context(|| format!("the answering job's log:\n{}", done.log.trim()))?,
        );
    }
    let pipelines = world.gitlab.pipelines(world.project);
    let ids: Vec<u64> = world.mentions.iter().map(|m| m.pipeline.id).collect();
    // Each answer is two Comments events, the placeholder and the answer: the answering job
    // takes the acknowledgement job's placeholder over without editing it.
    ensure!(
        pipelines.len() == ids.len() * 3,
        "{} pipelines for {} comments, expected the comments' and two per answer: {:#?}",
        pipelines.len(),
        ids.len(),
        pipelines
            .iter()
            .map(|p| (&p.jobs, &p.variables))
            .collect::<Vec<_>>()
    );
    for pipeline in pipelines.iter().filter(|p| !ids.contains(&p.id)) {
        ensure!(
            pipeline.jobs.iter().all(|j| j.when == "manual"),
            "the bot's own note events started a pipeline with jobs that run: {:?} ({:?})",
            pipeline.jobs,
            pipeline.variables
        );
    }
    let (a, b) = (answered[0].ran, answered[1].ran);
    ensure!(
        a.0 < b.1 && b.0 < a.1,
        "the two answering jobs did not overlap: {a:?} and {b:?}"
    );
    drop(world);
    drop(netns);
    Ok(format!(
        "two mentions answered in parallel in resource groups {} and {}: {}; {} pipelines for 2 comments, the bot's {} with only unplayed manual jobs",
        groups[0],
        groups[1],
        told.join(", "),
        pipelines.len(),
        pipelines.len() - ids.len()
    ))
}

/// The ack job in the slim image, then the checkout and the answering job in the Claude image,
/// for one mention; the placeholder must be up, linking a job, before the answering job starts.
#[allow(clippy::too_many_arguments)]
async fn mention_jobs(
    docker: &Docker,
    world: &World,
    mention: &Mention,
    n: u64,
    slim: &str,
    claude: &str,
    holder_id: &str,
    t0: Instant,
) -> anyhow::Result<Answered> {
    let builds = tempfile::tempdir().context("cannot create the builds directory")?;
    // Both images' users must write there (the dotenv report, the checkout).
    std::fs::set_permissions(builds.path(), std::fs::Permissions::from_mode(0o777))?;
    let payload = mention
        .pipeline
        .variable("TRIGGER_PAYLOAD")
        .context("the trigger pipeline has no TRIGGER_PAYLOAD")?;
    std::fs::write(builds.path().join("TRIGGER_PAYLOAD"), payload)?;
    let base = |entrypoint: Entrypoint, cmd: &[&str]| RunSpec {
        network: Network::Container(holder_id.to_owned()),
        binds: vec![format!("{}:{BUILDS}", builds.path().display())],
        timeout: JOB_LIMIT,
        ..RunSpec::new(entrypoint, cmd)
    };
    let issue = mention.issue_iid;

    // ai-claude-ack: the template's job runs as the slim image's own user.
    let ack_job_id = 5000 + 2 * n;
    let ack = RunSpec {
        env: world.job_env(mention, ack_job_id, slim)?,
        ..base(
            Entrypoint::Cleared,
            &[
                "entrypoint",
                "ack",
                "--assistant",
                "claude",
                "--dotenv",
                "/builds/ai-ack.env",
            ],
        )
    };
    let acked = container::run(docker, slim, &ack).await?;
    ensure!(
        acked.exit_code == 0,
        "issue #{issue}: the ack job exited {}: {}",
        acked.exit_code,
        acked.stderr.trim()
    );
    let report = std::fs::read_to_string(builds.path().join("ai-ack.env"))
        .with_context(|| format!("issue #{issue}: the ack job wrote no dotenv report"))?;
    let placeholder = report
        .lines()
        .find_map(|l| l.strip_prefix("AI_PLACEHOLDER_NOTE_ID="))
        .and_then(|id| id.trim().parse::<u64>().ok())
        .with_context(|| {
            format!("issue #{issue}: the ack job's report names no placeholder: {report:?}")
        })?;
    ensure!(
        report.lines().any(|l| l == "AI_ACK=posted"),
        "issue #{issue}: the ack job's report does not say posted: {report:?}"
    );
    // What the person sees before the big image is even pulled: the placeholder, linking the
    // pipeline whose answering job's log shows the progress.
    let notes = world.bot_notes(issue);
    let [posted] = notes.as_slice() else {
        bail!("issue #{issue}: expected the placeholder alone, found {notes:#?}");
    };
    let pipeline_link = format!(
        "[pipeline #{}]({})",
        mention.pipeline.id,
        world.pipeline_url(mention)
    );
    ensure!(
        posted.id == placeholder
            && posted
                .body
                .contains(&marker(Assistant::Claude, NoteRole::Placeholder))
            && posted.body.contains(&pipeline_link),
        "issue #{issue}: the ack job's note is not the placeholder linking {pipeline_link}: {}",
        posted.body
    );

    let clone_script = format!(
        "git clone --quiet --depth 20 \"$CI_REPOSITORY_URL\" {CHECKOUT} && git -C {CHECKOUT} checkout --quiet --detach"
    );
    let job_id = ack_job_id + 1;
    let mut env = world.job_env(mention, job_id, claude)?;
    let clone = RunSpec {
        env: env.clone(),
        user: Some("root".to_owned()),
        ..base(Entrypoint::Cleared, &["sh", "-c", &clone_script])
    };
    let cloned = container::run(docker, claude, &clone).await?;
    ensure!(
        cloned.exit_code == 0,
        "issue #{issue}: the checkout failed: {}",
        cloned.stderr.trim()
    );
    // ai-claude: `needs:` the ack job, so its dotenv report arrives as variables.
    env.extend(report.lines().map(str::to_owned));
    env.extend([
        format!("ANTHROPIC_API_KEY={CLAUDE_KEY}"),
        format!("ANTHROPIC_BASE_URL={}", mention.model.base_url()),
        "CLAUDE_MODEL=claude-sonnet-4-6".to_owned(),
        "AI_TIMEOUT=240s".to_owned(),
        "AI_SANDBOX=off".to_owned(),
    ]);
    let job = RunSpec {
        env,
        user: Some("root".to_owned()),
        ..base(
            Entrypoint::Cleared,
            &["sh", "-c", "entrypoint run --assistant claude"],
        )
    };
    let start = t0.elapsed();
    let ran = container::run(docker, claude, &job).await?;
    let end = t0.elapsed();
    ensure!(
        ran.exit_code == 0,
        "issue #{issue}: the answering job exited {}: {}",
        ran.exit_code,
        ran.stderr.trim()
    );
    Ok(Answered {
        placeholder,
        ran: (start, end),
        log: ran.stderr,
    })
}
