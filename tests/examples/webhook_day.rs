//! What a day of comments costs in webhook mode: the design before custom webhook templates
//! (the Comments hook sends the whole event, the placeholder shows progress by editing itself)
//! against the template design (docs/modes.md), replayed against the GitLab double.
//!
//! `cargo run -p doubles --example webhook_day`
//!
//! The day: 100 comments by four developers on 10 issues and 5 merge requests between 09:00
//! and 17:00, 10 of them `@claude` mentions (five in a burst after the morning stand-up, five
//! after lunch, each on another issue or merge request), each answer running 5 minutes. The
//! clock is simulated: nothing waits 5 minutes.
//!
//! Every figure comes from what the double recorded, not from constants: each comment, each
//! placeholder, each progress edit and each final edit is written through the REST API; the
//! double fires the Comments webhook (edits included, GitLab 16.11+), renders the hook's custom
//! template, calls its own trigger URL, and records the pipeline with the jobs the real
//! `templates/claude.yml` rules let in (a trigger whose pipeline would have no job fails, and
//! would be counted). What each job then does is what `entrypoint run` decides for that
//! pipeline's variables (the same `detect`, `resolve` and `decide`): a job that answers holds
//! its resource group for 5 minutes and writes the placeholder, the progress edits (every
//! `ProgressSettings::default().interval` while it works, unless the job was started by a
//! Comments webhook) and the answer; any other job exits at once. Jobs in one resource group
//! run one after the other, as GitLab runs them; any number of runners is assumed otherwise.
//!
//! Image sizes: a job pulls its image on a cold runner (no cache between jobs, the worst case;
//! a runner with `pull_policy = if-not-present` pulls each image once): 235 MB for the Claude
//! image, 8 MB for the slim `entrypoint` image (images/README.md), by the job's `image:` name.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::time::Duration;

use anyhow::{Context as _, bail};
use doubles::ci_config::{Config, PlannedJob};
use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{HookSpec, IssueSpec, MrSpec, ProjectSpec, UserSpec};
use doubles::gitlab::model::Pipeline;
use entrypoint::agent::{Assistant, Handles};
use entrypoint::gitlab::{ApiBaseUrl, ClientConfig, GitLab, GitLabToken};
use entrypoint::publish::progress::ProgressSettings;
use entrypoint::run::settings::started_by_comment_webhook;
use entrypoint::secret::Secret;
use entrypoint::trigger::decision::{BotIdentity, Decision, decide};
use entrypoint::trigger::hook_vars::{HookEvent, TEMPLATE};
use entrypoint::trigger::load::{Entry, detect};
use entrypoint::trigger::resolve::resolve;
use serde_json::{Value, json};

#[path = "../tests/it/support/pipeline_job.rs"]
mod pipeline_job;

const COMMENTS: usize = 100;
const ISSUES: u64 = 10;
const MERGE_REQUESTS: u64 = 5;
const MENTIONS: usize = 10;
const DAY_START: u64 = 9 * 3600;
const DAY_END: u64 = 17 * 3600;
const ANSWER: u64 = 5 * 60;
const ASSISTANT_IMAGE_MB: u64 = 235;
const SLIM_IMAGE_MB: u64 = 8;
const WAIT: Duration = Duration::from_secs(10);

/// The two webhook-mode designs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Design {
    /// The hook sends the Note Hook itself (setup before the template; GitLab before 16.10).
    Today,
    /// The hook sends setup's custom template.
    Template,
}

/// Where a comment goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Target {
    Issue(u64),
    MergeRequest(u64),
}

impl Target {
    fn notes_path(self, project: u64) -> String {
        match self {
            Target::Issue(iid) => format!("/projects/{project}/issues/{iid}/notes"),
            Target::MergeRequest(iid) => format!("/projects/{project}/merge_requests/{iid}/notes"),
        }
    }
}

/// Something that happens at a simulated second.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// A developer comments.
    Comment {
        author: usize,
        target: Target,
        mention: bool,
    },
    /// The answering job posts its placeholder.
    Placeholder { answer: usize, target: Target },
    /// The answering job edits its placeholder (progress, or the answer when `last`).
    Edit { answer: usize, last: bool },
}

impl Event {
    /// What a pipeline started by this event is for, as the breakdown prints it.
    fn cause(&self) -> &'static str {
        match self {
            Event::Comment { mention: true, .. } => "a developer's comment with a mention",
            Event::Comment { mention: false, .. } => "a developer's comment without a mention",
            Event::Placeholder { .. } => "the bot's placeholder (a new note)",
            Event::Edit { last: false, .. } => "the bot's progress edits",
            Event::Edit { last: true, .. } => "the bot's answer (an edit of the placeholder)",
        }
    }
}

/// A small deterministic generator (64-bit LCG), so every run replays the same day.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

/// The day's comments: `(second, author, target, mention)`.
fn day() -> Vec<(u64, usize, Target, bool)> {
    let mut rng = Lcg(16);
    let targets: Vec<Target> = (1..=ISSUES)
        .map(Target::Issue)
        .chain((1..=MERGE_REQUESTS).map(Target::MergeRequest))
        .collect();
    let mut comments = Vec::new();
    for n in 0..MENTIONS {
        let (start, window) = if n < MENTIONS / 2 {
            (9 * 3600 + 30 * 60, 30 * 60)
        } else {
            (14 * 3600, 30 * 60)
        };
        let target = targets[n % targets.len()];
        comments.push((start + rng.next(window), n % 4, target, true));
    }
    while comments.len() < COMMENTS {
        let at = DAY_START + rng.next(DAY_END - DAY_START);
        let target = targets[rng.next(targets.len() as u64) as usize];
        comments.push((at, rng.next(4) as usize, target, false));
    }
    comments.sort();
    comments
}

/// What one design's day produced.
#[derive(Debug, Default)]
struct Figures {
    note_events: usize,
    failed_calls: usize,
    pipelines: usize,
    jobs_run: usize,
    jobs_assistant_image: usize,
    jobs_slim_image: usize,
    non_mention_jobs_assistant_image: usize,
    manual_jobs: usize,
    mb_pulled: u64,
    answers: usize,
    /// Longest wait of an answering job while another issue's or merge request's answer held
    /// its resource group.
    longest_cross_wait: u64,
    /// Longest wait of any job in a resource group.
    longest_wait: u64,
    /// Pipelines by the event that started them ([`Event::cause`]).
    pipelines_by_cause: BTreeMap<&'static str, usize>,
}

struct World {
    gl: GitLabDouble,
    project: u64,
    devs: Vec<(u64, String)>,
    bot: (BotIdentity, String),
    http: reqwest::Client,
}

async fn world(design: Design) -> anyhow::Result<World> {
    let gl = GitLabDouble::start().await?;
    let project = gl.add_project(ProjectSpec::new("acme/widgets"))?.id;
    let owner = gl.add_user(UserSpec::human("olga"))?;
    gl.add_member(project, owner.id, 50)?;
    let mut devs = Vec::new();
    for name in ["alice", "bruno", "chen", "dana"] {
        let user = gl.add_user(UserSpec::human(name))?;
        gl.add_member(project, user.id, 30)?;
        devs.push((user.id, user.token));
    }
    let bot = gl.add_user(UserSpec::project_bot(project, "Claude"))?;
    gl.add_member(project, bot.id, 30)?;
    for n in 1..=ISSUES {
        gl.create_issue(project, IssueSpec::new(devs[0].0, &format!("Issue {n}")))?;
    }
    let repo = gl.repo(project)?;
    for n in 1..=MERGE_REQUESTS {
        let branch = format!("feature-{n}");
        repo.create_branch(&branch, "main")?;
        gl.create_merge_request(
            project,
            MrSpec::new(devs[1].0, &branch, "main", &format!("Feature {n}")),
        )?;
    }
    gl.set_ci_config(project, Config::from_templates(&["claude.yml"]));
    let token = gl.add_trigger(project, owner.id, "comments")?;
    let url = format!(
        "{}/projects/{project}/ref/main/trigger/pipeline?token={token}",
        gl.api_url()
    );
    let hook = match design {
        Design::Today => HookSpec::notes(&url),
        Design::Template => HookSpec::notes(&url).custom_template(TEMPLATE),
    };
    gl.add_hook(project, hook)?;
    let identity = BotIdentity {
        id: entrypoint::gitlab::ids::UserId(bot.id),
        username: bot.username.clone(),
    };
    Ok(World {
        gl,
        project,
        devs,
        bot: (identity, bot.token),
        http: reqwest::Client::new(),
    })
}

impl World {
    async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.gl.api_url()))
            .header("PRIVATE-TOKEN", token)
            .json(&body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("{path}: {}", response.status());
        }
        Ok(response.json().await?)
    }

    /// What `entrypoint run --assistant claude` decides in this pipeline: the noteable it
    /// answers, or `None` when it exits at once.
    async fn job_answers(&self, pipeline: &Pipeline) -> anyhow::Result<Option<Target>> {
        let lookup = pipeline_job::job_env(pipeline, self.project);
        let handles = Handles::default();
        let trigger = match detect(&lookup, &handles)? {
            Entry::Webhook {
                trigger: Ok(trigger),
                ..
            } => trigger,
            Entry::Hook(HookEvent::Comment {
                project,
                noteable,
                note,
            }) => {
                let request = pipeline_job::template_comment(project, noteable, note);
                let gitlab = GitLab::new(ClientConfig::new(
                    ApiBaseUrl::parse(&self.gl.api_url()).map_err(anyhow::Error::msg)?,
                    GitLabToken::new(Secret::new(self.bot.1.clone())),
                ))?;
                resolve(&request, &gitlab, &handles).await?
            }
            _ => return Ok(None),
        };
        Ok(
            match decide(&trigger, Some(&self.bot.0), Some(Assistant::Claude)) {
                Decision::Run { .. } => Some(match trigger.noteable {
                    entrypoint::gitlab::ids::Noteable::Issue(iid) => Target::Issue(iid.0),
                    entrypoint::gitlab::ids::Noteable::MergeRequest(iid) => {
                        Target::MergeRequest(iid.0)
                    }
                }),
                Decision::Skip { .. } => None,
            },
        )
    }
}

/// The acknowledgement job of a webhook pipeline.
fn is_ack(job: &PlannedJob) -> bool {
    job.name.ends_with("-ack")
}

/// MB a cold runner pulls for `job`: its `image:`, or the slim image when the job's image is
/// `$AI_JOB_IMAGE` and the acknowledgement job pointed it there (`slim_by_ack`).
fn image_mb(job: &PlannedJob, slim_by_ack: bool) -> u64 {
    let slim =
        job.image.contains("/entrypoint:") || (job.image.contains("$AI_JOB_IMAGE") && slim_by_ack);
    if slim {
        SLIM_IMAGE_MB
    } else {
        ASSISTANT_IMAGE_MB
    }
}

async fn replay(design: Design) -> anyhow::Result<Figures> {
    let w = world(design).await?;
    let mut figures = Figures::default();
    let mut queue: BinaryHeap<Reverse<(u64, u64, Event)>> = BinaryHeap::new();
    let mut seq = 0u64;
    for (at, author, target, mention) in day() {
        seq += 1;
        queue.push(Reverse((
            at,
            seq,
            Event::Comment {
                author,
                target,
                mention,
            },
        )));
    }
    // Resource group → the second it is free, and the noteable of the job that last held it.
    let mut groups: HashMap<String, (u64, Option<Target>)> = HashMap::new();
    let mut placeholders: BTreeMap<usize, u64> = BTreeMap::new();
    let mut answer_targets: BTreeMap<usize, Target> = BTreeMap::new();
    let mut delivered = 0usize;
    while let Some(Reverse((at, _, event))) = queue.pop() {
        let before = w.gl.pipelines(w.project).len();
        match &event {
            Event::Comment {
                author,
                target,
                mention,
            } => {
                let body = if *mention {
                    "@claude please fix the failing test"
                } else {
                    "Looks good to me, one nit inline."
                };
                w.call(
                    &w.devs[*author].1,
                    reqwest::Method::POST,
                    &target.notes_path(w.project),
                    json!({ "body": body }),
                )
                .await?;
            }
            Event::Placeholder { answer, target } => {
                let note = w
                    .call(
                        &w.bot.1,
                        reqwest::Method::POST,
                        &target.notes_path(w.project),
                        json!({ "body": "Claude is working on it: [job log](https://gitlab.example.com/jobs/1)" }),
                    )
                    .await?;
                let id = note["id"].as_u64().context("a note id")?;
                placeholders.insert(*answer, id);
            }
            Event::Edit { answer, last } => {
                let path = format!(
                    "{}/{}",
                    answer_targets[answer].notes_path(w.project),
                    placeholders[answer]
                );
                let body = if *last {
                    "Done: opened !1"
                } else {
                    "Working: ran the tests"
                };
                w.call(
                    &w.bot.1,
                    reqwest::Method::PUT,
                    &path,
                    json!({ "body": body }),
                )
                .await?;
            }
        };
        figures.note_events += 1;
        delivered += 1;
        let deliveries = w.gl.wait_for_deliveries(delivered, WAIT).await?;
        if deliveries
            .last()
            .is_some_and(|d| d.status.is_none_or(|s| !(200..300).contains(&s)))
        {
            figures.failed_calls += 1;
        }
        let pipelines = w.gl.pipelines(w.project);
        for pipeline in pipelines.iter().skip(before) {
            figures.pipelines += 1;
            *figures.pipelines_by_cause.entry(event.cause()).or_default() += 1;
            // The slim acknowledgement job (`ai-claude-ack`) answers nothing itself; when it
            // finds nothing to do, its dotenv report points the answering job's `image:`
            // (`$AI_JOB_IMAGE`) at the slim image too.
            let has_ack = pipeline
                .jobs
                .iter()
                .any(|j| is_ack(j) && j.when != "manual");
            let answers = w.job_answers(pipeline).await?;
            for job in &pipeline.jobs {
                if job.when == "manual" {
                    figures.manual_jobs += 1;
                    continue;
                }
                figures.jobs_run += 1;
                let answers = if is_ack(job) { None } else { answers };
                let mb = image_mb(job, has_ack && answers.is_none());
                figures.mb_pulled += mb;
                let slim = mb == SLIM_IMAGE_MB;
                if slim {
                    figures.jobs_slim_image += 1;
                } else {
                    figures.jobs_assistant_image += 1;
                }
                if answers.is_none() && !slim {
                    figures.non_mention_jobs_assistant_image += 1;
                }
                let duration = if answers.is_some() { ANSWER } else { 0 };
                // A job outside any resource group waits for nobody.
                let Some(group) = job.resource_group.clone() else {
                    continue;
                };
                let (free, holder) = groups.get(&group).copied().unwrap_or((0, None));
                let start = at.max(free);
                let wait = start - at;
                figures.longest_wait = figures.longest_wait.max(wait);
                if let Some(target) = answers {
                    if wait > 0 && holder.is_some_and(|h| h != target) {
                        figures.longest_cross_wait = figures.longest_cross_wait.max(wait);
                    }
                    let answer = figures.answers;
                    figures.answers += 1;
                    answer_targets.insert(answer, target);
                    seq += 1;
                    queue.push(Reverse((start, seq, Event::Placeholder { answer, target })));
                    let progress = (!started_by_comment_webhook(&|name: &str| {
                        pipeline.variable(name).map(str::to_owned)
                    }))
                    .then(ProgressSettings::default);
                    // Before the template, progress edits were on in every mode: today's
                    // design is the product as it was.
                    let interval = match (design, progress) {
                        (Design::Today, _) => ProgressSettings::default().interval.as_secs(),
                        (Design::Template, Some(p)) => p.interval.as_secs(),
                        (Design::Template, None) => 0,
                    };
                    if interval > 0 {
                        let mut t = start + interval;
                        while t < start + ANSWER {
                            seq += 1;
                            queue.push(Reverse((
                                t,
                                seq,
                                Event::Edit {
                                    answer,
                                    last: false,
                                },
                            )));
                            t += interval;
                        }
                    }
                    seq += 1;
                    queue.push(Reverse((
                        start + ANSWER,
                        seq,
                        Event::Edit { answer, last: true },
                    )));
                }
                groups.insert(group, (start + duration, answers.or(holder)));
            }
        }
    }
    Ok(figures)
}

/// A row of the figures table: its label, and how to read its figure from one replay.
type Row = (&'static str, fn(&Figures) -> String);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let today = replay(Design::Today).await?;
    let template = replay(Design::Template).await?;
    let rows: [Row; 12] = [
        ("human comments", |_| COMMENTS.to_string()),
        ("comment events (bot notes and edits included)", |f| {
            f.note_events.to_string()
        }),
        ("failed trigger calls", |f| f.failed_calls.to_string()),
        ("pipelines created", |f| f.pipelines.to_string()),
        ("jobs run", |f| f.jobs_run.to_string()),
        ("  on the assistant image", |f| {
            f.jobs_assistant_image.to_string()
        }),
        ("  on the slim entrypoint image", |f| {
            f.jobs_slim_image.to_string()
        }),
        ("  non-mention jobs on the assistant image", |f| {
            f.non_mention_jobs_assistant_image.to_string()
        }),
        ("manual jobs left unplayed (no runner)", |f| {
            f.manual_jobs.to_string()
        }),
        ("MB of image pulled (cold cache per job)", |f| {
            f.mb_pulled.to_string()
        }),
        (
            "longest wait of a mention behind another noteable's answer",
            |f| format!("{} s", f.longest_cross_wait),
        ),
        ("longest wait of any job in its resource group", |f| {
            format!("{} s", f.longest_wait)
        }),
    ];
    println!(
        "{:<62} {:>22} {:>22}",
        "webhook mode, one day", "no template", "custom template"
    );
    for (label, figure) in rows {
        println!(
            "{label:<62} {:>22} {:>22}",
            figure(&today),
            figure(&template)
        );
    }
    println!("answers: {} / {}", today.answers, template.answers);
    println!();
    println!("pipelines by the comment event that started them");
    let causes: std::collections::BTreeSet<&str> = today
        .pipelines_by_cause
        .keys()
        .chain(template.pipelines_by_cause.keys())
        .copied()
        .collect();
    for cause in causes {
        let count = |f: &Figures| f.pipelines_by_cause.get(cause).copied().unwrap_or(0);
        println!(
            "{:<62} {:>22} {:>22}",
            format!("  {cause}"),
            count(&today),
            count(&template)
        );
    }
    Ok(())
}
