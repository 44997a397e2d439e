//! The CI templates (`templates/claude.yml`, `templates/codex.yml`) as GitLab would read them:
//! the `spec:inputs` header interpolated with its defaults (what `include: project/file` does),
//! the job's `rules:if` evaluated for the pipelines a consumer has, and the job's `script:` and
//! `after_script:` run with bash against the GitLab double with the `entrypoint` binary on PATH.
//!
//! Syntax references: <https://docs.gitlab.com/ci/yaml/> and
//! <https://docs.gitlab.com/ci/jobs/job_rules/#cicd-variable-expressions>.

use std::process::Output;
use std::time::{Duration, Instant};

use doubles::ci_config::{Template, load, load_with};
use doubles::ci_rules::{Rule, Vars, decide, vars};
use doubles::gitlab::double::Noteable as DoubleNoteable;
use yaml_rust2::Yaml;

use crate::support::note_hook::hooked_comment;
use crate::support::story::{Story, story_world};

const TEMPLATES: [(&str, &str); 2] = [("claude.yml", "claude"), ("codex.yml", "codex")];

/// Each template as [`TEMPLATES`] names it, loaded with its inputs' defaults.
fn loaded() -> impl Iterator<Item = (&'static str, &'static str, Template)> {
    TEMPLATES
        .into_iter()
        .map(|(file, assistant)| (file, assistant, load(file)))
}

/// The template's jobs in file order.
trait Jobs {
    fn all_jobs(&self) -> [(&str, &Yaml); 5];
    fn jobs(&self) -> [(&str, &Yaml); 2];
    fn review_job(&self) -> (&str, &Yaml);
    fn ack_job(&self) -> (&str, &Yaml);
    fn job(&self) -> (&str, &Yaml);
    fn scan_job(&self) -> (&str, &Yaml);
    fn task_job(&self) -> (&str, &Yaml);
}

impl Jobs for Template {
    /// Every job, in the file's order: the answering job, the scheduled scan, the automatic
    /// review, the acknowledgement of webhook pipelines and the automation task; no global
    /// keywords.
    fn all_jobs(&self) -> [(&str, &Yaml); 5] {
        let map = self.jobs.as_hash().expect("a map of jobs");
        assert_eq!(map.len(), 5, "five jobs, no global keywords: {map:?}");
        let mut jobs = map
            .iter()
            .map(|(name, job)| (name.as_str().expect("a job name"), job));
        let mut next = |what: &str| jobs.next().unwrap_or_else(|| panic!("the {what} job"));
        let answer = next("answering");
        let scan = next("scan");
        let review = next("review");
        let ack = next("acknowledgement");
        let task = next("automation task");
        [answer, scan, review, ack, task]
    }

    /// The two jobs that run the assistant for mentions, the answering one first, then the
    /// scheduled scan.
    fn jobs(&self) -> [(&str, &Yaml); 2] {
        let [answer, scan, _, _, _] = self.all_jobs();
        [answer, scan]
    }

    /// The automatic review's job, and its name.
    fn review_job(&self) -> (&str, &Yaml) {
        self.all_jobs()[2]
    }

    /// The acknowledgement job of webhook pipelines, and its name.
    fn ack_job(&self) -> (&str, &Yaml) {
        self.all_jobs()[3]
    }

    /// The job that answers a trigger, and its name.
    fn job(&self) -> (&str, &Yaml) {
        self.jobs()[0]
    }

    /// The scheduled scan's job, and its name.
    fn scan_job(&self) -> (&str, &Yaml) {
        self.jobs()[1]
    }

    /// The automation task's job (`AI_PROMPT`), and its name.
    fn task_job(&self) -> (&str, &Yaml) {
        self.all_jobs()[4]
    }
}

fn strings(list: &Yaml) -> Vec<&str> {
    list.as_vec()
        .expect("a list")
        .iter()
        .map(|y| y.as_str().expect("a string"))
        .collect()
}

// ---- rules:if -----------------------------------------------------------------------------

/// Whether the job is added to a pipeline with these variables
/// (<https://docs.gitlab.com/ci/yaml/#rules>); the templates' rules all have an `if`.
fn job_added(job: &Yaml, vars: &Vars) -> bool {
    let rules: Vec<Rule<'_>> = job["rules"]
        .as_vec()
        .expect("rules is a list")
        .iter()
        .map(|rule| {
            let keys: Vec<&str> = rule
                .as_hash()
                .expect("a rule is a map")
                .keys()
                .map(|k| k.as_str().expect("key"))
                .collect();
            assert!(
                keys.iter()
                    .all(|k| ["if", "when", "allow_failure"].contains(k)),
                "the evaluator knows only if/when/allow_failure: {keys:?}"
            );
            Rule {
                condition: Some(rule["if"].as_str().expect("every rule has an if")),
                when: rule["when"].as_str(),
            }
        })
        .collect();
    decide(&rules, vars).is_some()
}

/// [`job_added`] with the job's own `variables:` visible to its rules, as GitLab evaluates
/// them (<https://docs.gitlab.com/ci/variables/where_variables_can_be_used/>); the pipeline's
/// variables win over the job's, as in GitLab's precedence.
fn job_added_with_its_variables(job: &Yaml, pipeline_vars: &Vars) -> bool {
    let mut all = Vars::new();
    if let Some(map) = job["variables"].as_hash() {
        for (key, value) in map {
            // `NAME: value`, or `NAME: {value: …, expand: false}`.
            let value = value.as_str().or_else(|| value["value"].as_str());
            all.insert(
                key.as_str().expect("a variable name").to_owned(),
                value.expect("a string value").to_owned(),
            );
        }
    }
    all.extend(pipeline_vars.clone());
    job_added(job, &all)
}

fn pipeline(pairs: &[(&'static str, &str)]) -> Vars {
    vars(pairs)
}

/// The sources of the pipelines a project has without a webhook, a relay or a scan. Not
/// "trigger": GitLab sets TRIGGER_PAYLOAD on every trigger-token pipeline
/// (templates/README.md); a downstream `pipeline` created by `trigger:` has none.
const ORDINARY_SOURCES: [&str; 6] = [
    "push",
    "merge_request_event",
    "web",
    "api",
    "schedule",
    "pipeline",
];

/// A pipeline of `source` with no other variable: what pushes, merge requests, the UI and the
/// API start in a consumer's project every day.
fn plain(source: &str) -> Vars {
    pipeline(&[("CI_PIPELINE_SOURCE", source)])
}

/// Asserts `job` is added to none of the plain pipelines of `sources`.
fn added_to_none(file: &str, job: &Yaml, sources: &[&str]) {
    for source in sources {
        assert!(
            !job_added(job, &plain(source)),
            "{file} in a {source} pipeline"
        );
    }
}

/// A pipeline started by the webhook (a trigger with its payload file).
fn webhook() -> Vars {
    pipeline(&[
        ("CI_PIPELINE_SOURCE", "trigger"),
        ("TRIGGER_PAYLOAD", "/builds/tmp/TRIGGER_PAYLOAD"),
    ])
}

/// `AI_SCAN` in a pipeline of `source`: the scheduled scan when `source` is `schedule`.
fn scan_in(source: &str) -> Vars {
    pipeline(&[("CI_PIPELINE_SOURCE", source), ("AI_SCAN", "true")])
}

/// A Duo flow's pipeline (the API with `AI_FLOW_INPUT`).
fn flow() -> Vars {
    pipeline(&[
        ("CI_PIPELINE_SOURCE", "api"),
        ("AI_FLOW_INPUT", "@claude @codex hi"),
    ])
}

/// The assistant of the other template.
fn other(assistant: &str) -> &'static str {
    if assistant == "claude" {
        "codex"
    } else {
        "claude"
    }
}

fn relay(assistant: &str) -> Vars {
    pipeline(&[
        ("CI_PIPELINE_SOURCE", "trigger"),
        ("AI_ASSISTANT", assistant),
        ("AI_NOTE_ID", "77"),
        ("AI_NOTEABLE_TYPE", "Issue"),
        ("AI_NOTEABLE_IID", "3"),
    ])
}

/// A pipeline started by the Comments webhook with our custom template (the variables of
/// `entrypoint::trigger::hook_vars::TEMPLATE`, rendered without serialization: a missing IID is
/// empty), in a project whose bot user is `bot`.
fn hook_event(action: &str, author: &str, noteable_type: &str, iid: &str) -> Vars {
    let (issue, mr) = match noteable_type {
        "Issue" => (iid, ""),
        "MergeRequest" => ("", iid),
        _ => ("", ""),
    };
    pipeline(&[
        ("CI_PIPELINE_SOURCE", "trigger"),
        ("TRIGGER_PAYLOAD", "{\"variables\":{}}"),
        ("AI_BOT_USERNAME", "bot"),
        ("AI_HOOK_ACTION", action),
        ("AI_HOOK_AUTHOR", author),
        ("AI_HOOK_NOTEABLE_TYPE", noteable_type),
        ("AI_HOOK_NOTE_ID", "901"),
        ("AI_HOOK_ISSUE_IID", issue),
        ("AI_HOOK_MR_IID", mr),
    ])
}

#[test]
fn webhook_template_events_run_a_job_only_for_a_new_human_comment_and_never_leave_none() {
    use doubles::ci_config::Config;
    for (file, assistant) in TEMPLATES {
        let config = Config::from_templates(&[file]);
        let when = |vars: &Vars| -> Vec<String> {
            config.plan(vars).into_iter().map(|j| j.when).collect()
        };
        let job = format!("ai-{assistant}");
        let ack = format!("ai-{assistant}-ack");
        // A new human comment: the slim acknowledgement job, outside any lock, and the
        // answering job, which `needs:` it and queues per noteable.
        let plan = config.plan(&hook_event("create", "alice", "Issue", "12"));
        let planned: Vec<(&str, &str, Option<&str>)> = plan
            .iter()
            .map(|j| {
                (
                    j.name.as_str(),
                    j.when.as_str(),
                    j.resource_group.as_deref(),
                )
            })
            .collect();
        let group = format!("ai-{assistant}-Issue-12");
        assert_eq!(
            planned,
            [
                (job.as_str(), "on_success", Some(group.as_str())),
                (ack.as_str(), "on_success", None)
            ],
            "{file}"
        );
        assert_eq!(
            when(&hook_event("create", "alice", "MergeRequest", "4")),
            ["on_success", "on_success"]
        );
        // The bot's placeholder and answer, every edit (the bot's or anyone's), and comments on
        // commits or snippets: a manual job, so the trigger call succeeds and no runner starts.
        for vars in [
            hook_event("create", "bot", "Issue", "12"),
            hook_event("update", "bot", "Issue", "12"),
            hook_event("update", "alice", "MergeRequest", "4"),
            hook_event("create", "alice", "Commit", ""),
            hook_event("create", "alice", "Snippet", ""),
        ] {
            assert_eq!(when(&vars), ["manual"], "{file}: {vars:?}");
        }
        // A project access token's bot, as setup creates it, is known by its username alone;
        // with AI_ALLOWED_BOTS set the job decides which bots it answers.
        let mut token_bot = hook_event("create", "project_7_bot_0a1b2c3d", "Issue", "12");
        token_bot.remove("AI_BOT_USERNAME");
        assert_eq!(when(&token_bot), ["manual"], "{file}");
        token_bot.insert("AI_ALLOWED_BOTS".into(), "project_7_bot_0a1b2c3d".into());
        assert_eq!(when(&token_bot), ["on_success", "on_success"], "{file}");
        // A personal bot account nobody named in AI_BOT_USERNAME: its notes cost a job, which
        // skips them, but never a failed trigger call.
        let mut unknown_bot = hook_event("create", "bot", "Issue", "12");
        unknown_bot.remove("AI_BOT_USERNAME");
        assert_eq!(when(&unknown_bot), ["on_success", "on_success"], "{file}");
        // The template-less webhook of older GitLab: every comment and edit, acknowledged in
        // the slim image.
        let legacy = pipeline(&[("CI_PIPELINE_SOURCE", "trigger"), ("TRIGGER_PAYLOAD", "{}")]);
        assert_eq!(when(&legacy), ["on_success", "on_success"], "{file}");
        assert_eq!(
            config.plan(&legacy)[0].resource_group.as_deref(),
            Some(format!("ai-{assistant}--").as_str())
        );
    }
}

#[test]
fn both_templates_parse_and_their_job_names_differ() {
    let names: Vec<String> = TEMPLATES
        .iter()
        .flat_map(|(file, _)| load(file).all_jobs().map(|(name, _)| name.to_owned()))
        .collect();
    assert_eq!(
        names,
        [
            "ai-claude",
            "ai-claude-scan",
            "ai-claude-review",
            "ai-claude-ack",
            "ai-claude-task",
            "ai-codex",
            "ai-codex-scan",
            "ai-codex-review",
            "ai-codex-ack",
            "ai-codex-task"
        ]
    );
}

#[test]
fn the_scan_job_runs_only_in_a_schedule_that_asks_for_it() {
    for (file, assistant, t) in loaded() {
        let (_, scan) = t.scan_job();
        assert!(job_added(scan, &scan_in("schedule")), "{file}");
        added_to_none(
            file,
            scan,
            &[
                "push",
                "merge_request_event",
                "web",
                "api",
                "trigger",
                "schedule",
            ],
        );
        assert!(
            !job_added(scan, &scan_in("push")),
            "{file}: AI_SCAN on a push"
        );
        assert!(
            !job_added(scan, &relay(assistant)),
            "{file}: a relayed mention"
        );

        // Same image and answering settings as the answering job; its own script, one scan at
        // a time, and the after_script that finalizes a cancelled run's placeholder.
        let (_, answer) = t.job();
        assert_eq!(scan["image"], answer["image"], "{file}");
        assert_eq!(scan["stage"], answer["stage"], "{file}");
        assert_eq!(
            strings(&scan["script"]),
            [format!("entrypoint scan --assistant {assistant}")]
        );
        assert_eq!(strings(&scan["after_script"]), ["entrypoint finalize"]);
        assert_eq!(
            scan["resource_group"].as_str(),
            Some(format!("ai-{assistant}-scan").as_str())
        );
        assert_eq!(scan["interruptible"].as_bool(), Some(false), "{file}");
        for (name, value) in answer["variables"].as_hash().expect("variables") {
            assert_eq!(
                &scan["variables"][name.as_str().expect("a name")],
                value,
                "{file}"
            );
        }
        assert_eq!(scan["variables"]["AI_SCAN_MODE"].as_str(), Some("job"));
        assert_eq!(
            strings(&t.inputs["scan_mode"]["options"]),
            ["job", "pipeline"]
        );
        assert!(scan["timeout"].as_str().is_some_and(|t| !t.is_empty()));
    }
}

#[test]
fn ordinary_pipelines_start_no_job() {
    for (file, _, t) in loaded() {
        let (_, job) = t.job();
        added_to_none(file, job, &ORDINARY_SOURCES);
        let push_with_assistant =
            pipeline(&[("CI_PIPELINE_SOURCE", "push"), ("AI_ASSISTANT", "claude")]);
        assert!(!job_added(job, &push_with_assistant), "{file}");
    }
}

#[test]
fn a_relayed_trigger_starts_only_its_assistants_job() {
    for (file, assistant, t) in loaded() {
        let (_, job) = t.job();
        assert!(job_added(job, &relay(assistant)), "{file}");
        let other = other(assistant);
        assert!(!job_added(job, &relay(other)), "{file} for {other}");
        let mut api = relay(assistant);
        api.insert("CI_PIPELINE_SOURCE".into(), "api".into());
        assert!(job_added(job, &api), "{file} from the API");
    }
}

#[test]
fn webhook_scheduled_scan_and_flow_pipelines_start_a_job() {
    for (file, _, t) in loaded() {
        let (_, job) = t.job();
        assert!(job_added(job, &webhook()), "{file}: webhook");
        let scan = scan_in("schedule");
        assert!(
            !job_added(job, &scan),
            "{file}: the scan job answers a schedule"
        );
        assert!(job_added(t.scan_job().1, &scan), "{file}: scan");
        assert!(job_added(job, &flow()), "{file}: flow");
        assert!(
            !job_added(job, &scan_in("push")),
            "{file}: AI_SCAN on a push"
        );
    }
}

/// Every job that runs an assistant keeps its audit trail, failed runs included
/// (<https://docs.gitlab.com/ci/yaml/#artifactswhen>); the names are the files `entrypoint`
/// writes.
#[test]
fn every_assistant_job_keeps_its_audit_trail_even_when_it_fails() {
    for (file, _, t) in loaded() {
        for (name, job) in t.jobs() {
            assert_eq!(
                job["artifacts"]["when"].as_str(),
                Some("always"),
                "{file}: {name}"
            );
            assert_eq!(
                strings(&job["artifacts"]["paths"]),
                [
                    entrypoint::audit::TRANSCRIPT_FILE,
                    entrypoint::audit::USAGE_FILE
                ],
                "{file}: {name}"
            );
        }
    }
}

#[test]
fn the_job_is_pinned_serialised_uninterruptible_and_finalized() {
    for (file, assistant, t) in loaded() {
        let (_, job) = t.job();
        // The assistant image, unless the ack job's dotenv report replaces AI_JOB_IMAGE.
        assert_eq!(job["image"]["name"].as_str(), Some("$AI_JOB_IMAGE"));
        let image = job["variables"]["AI_JOB_IMAGE"]
            .as_str()
            .expect("AI_JOB_IMAGE");
        let (repo, tag) = image.rsplit_once(':').expect("a tag");
        assert!(repo.ends_with(&format!("/{assistant}")), "{image}");
        assert!(
            !repo.contains("CI_REGISTRY_IMAGE"),
            "the consumer's registry: {image}"
        );
        let (version, family) = tag.split_once('-').expect("<version>-<base>");
        assert!(
            version.split('.').count() == 3 && version.split('.').all(|p| p.parse::<u32>().is_ok()),
            "a released version: {image}"
        );
        assert!(["ubuntu", "alpine"].contains(&family), "{image}");
        assert_eq!(
            strings(&t.inputs["image_family"]["options"]),
            ["ubuntu", "alpine"]
        );
        assert_eq!(strings(&job["image"]["entrypoint"]), [""]);
        // Both assistants run as a uid of their own, which only root can switch to (the images
        // start as the unprivileged `assistant`, whose processes would hold the job's tokens in
        // a /proc/<pid>/environ the assistant could read); Codex's fence also needs root for
        // its iptables rules. The scan job runs the assistant too.
        for (name, job) in t.jobs() {
            assert_eq!(
                job["image"]["docker"]["user"].as_str(),
                Some("root"),
                "{file}: {name}"
            );
        }

        assert_eq!(
            strings(&job["script"]),
            [format!("entrypoint run --assistant {assistant}")]
        );
        assert_eq!(strings(&job["after_script"]), ["entrypoint finalize"]);
        assert_eq!(job["interruptible"].as_bool(), Some(false), "{file}");
        assert!(
            job["timeout"].as_str().is_some_and(|t| !t.is_empty()),
            "{file}"
        );
        // The lock names the noteable in every mode that knows it before the job starts.
        let group = |vars: &Vars| {
            doubles::ci_config::expand(job["resource_group"].as_str().expect("a group"), vars)
        };
        assert_eq!(group(&relay(assistant)), format!("ai-{assistant}-Issue-3"));
        assert_eq!(
            group(&hook_event("create", "alice", "Issue", "12")),
            format!("ai-{assistant}-Issue-12")
        );
        assert_eq!(
            group(&hook_event("create", "alice", "MergeRequest", "4")),
            format!("ai-{assistant}-MergeRequest-4")
        );
        // <https://docs.gitlab.com/ci/yaml/#resource_group>: the characters it may contain.
        let group = job["resource_group"].as_str().unwrap_or_default();
        assert!(
            group
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_/${}. ".contains(c)),
            "{group}"
        );
        let stage = job["stage"].as_str().expect("a stage");
        assert!(
            ![".pre", ".post"].contains(&stage),
            "a .pre-only pipeline is not created"
        );
    }
}

#[test]
fn variables_are_namespaced_and_fit_for_pushing() {
    for (file, assistant, t) in loaded() {
        let (_, job) = t.job();
        let vars = job["variables"].as_hash().expect("variables");
        let model_var = format!("{}_MODEL", assistant.to_uppercase());
        for name in vars.keys().map(|k| k.as_str().expect("name")) {
            assert!(
                name.starts_with("AI_") || name.starts_with("GIT_") || name == model_var,
                "{file}: {name} may clash with the consumer's variables"
            );
        }
        assert_eq!(job["variables"]["GIT_STRATEGY"].as_str(), Some("fetch"));
        let depth = job["variables"]["GIT_DEPTH"].as_str().expect("GIT_DEPTH");
        assert!(depth.parse::<u32>().is_ok_and(|d| d >= 20), "{depth}");
        // AI_ASSISTANT at job level would match the relay rule in every pipeline.
        assert!(
            !vars.contains_key(&Yaml::String("AI_ASSISTANT".into())),
            "{file}"
        );
    }
    let codex = load("codex.yml");
    assert_eq!(
        codex.job().1["variables"]["CODEX_MODEL"].as_str(),
        Some("o4-mini")
    );
}

#[test]
fn the_ack_job_runs_in_the_slim_image_before_the_answer_in_webhook_pipelines_only() {
    for (file, assistant, t) in loaded() {
        let (name, ack) = t.ack_job();
        let (_, answer) = t.job();
        assert_eq!(name, format!("ai-{assistant}-ack"));
        let image = ack["image"]["name"].as_str().expect("image:name");
        let answer_image = answer["variables"]["AI_JOB_IMAGE"].as_str().expect("image");
        let (registry, tag) = image.rsplit_once(':').expect("a tag");
        assert_eq!(
            registry,
            format!(
                "{}/entrypoint",
                answer_image.rsplit_once('/').expect("a path").0
            )
        );
        assert_eq!(
            answer_image.rsplit_once(':').expect("a tag").1,
            format!("{tag}-ubuntu"),
            "the same release as the assistant image"
        );
        assert_eq!(strings(&ack["image"]["entrypoint"]), [""]);
        assert_eq!(
            strings(&ack["script"]),
            [format!("entrypoint ack --assistant {assistant}")]
        );
        assert_eq!(
            ack["artifacts"]["reports"]["dotenv"].as_str(),
            Some(entrypoint::ack::command::DOTENV_FILE)
        );
        assert_eq!(
            ack["stage"], answer["stage"],
            "a .pre-only pipeline is not created"
        );
        assert_eq!(ack["variables"]["GIT_STRATEGY"].as_str(), Some("none"));
        assert_eq!(
            ack["variables"]["AI_MIN_ACCESS_LEVEL"],
            answer["variables"]["AI_MIN_ACCESS_LEVEL"]
        );
        // The answering job waits for it where it exists, and runs without it elsewhere.
        let needs = answer["needs"].as_vec().expect("needs");
        assert_eq!(needs.len(), 1, "{file}");
        assert_eq!(needs[0]["job"].as_str(), Some(name));
        assert_eq!(needs[0]["optional"].as_bool(), Some(true));

        assert!(job_added(ack, &webhook()), "{file}: webhook");
        assert!(
            !job_added(ack, &relay(assistant)),
            "{file}: the relay acknowledged"
        );
        added_to_none(file, ack, &ORDINARY_SOURCES);
        assert!(!job_added(ack, &scan_in("schedule")), "{file}: scan");
        assert!(!job_added(ack, &flow()), "{file}: flow");
    }
}

// ---- the job's shell lines against the GitLab double ---------------------------------------

story_world!();

async fn world() -> World {
    World {
        story: Story::team(false).await,
    }
}

impl World {
    /// Runs `lines` as the runner runs a job's script: bash, the template's job variables, the
    /// trigger's variables and the predefined ones.
    fn run_lines(
        &self,
        job: &Yaml,
        lines: &[&str],
        trigger: &[(&str, String)],
    ) -> (Output, Duration) {
        let bin_dir = doubles::binaries::entrypoint()
            .expect("the entrypoint binary")
            .parent()
            .expect("a directory");
        let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .expect("PATH");
        let mut command = std::process::Command::new("bash");
        command
            .arg("-euc")
            .arg(lines.join("\n"))
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .envs(self.job_vars("4242"))
            .env("CI_PIPELINE_SOURCE", "trigger")
            .env("CI_PROJECT_DIR", self.dir.path())
            .env("CI_SERVER_HOST", "127.0.0.1")
            .env("CI_DEFAULT_BRANCH", "main")
            .env("CI_JOB_TOKEN", &self.job_token)
            .env("CLAUDE_API_KEY", "sk-ant-template-key-0a1b2c");
        for (name, value) in job["variables"].as_hash().expect("variables") {
            let value = match value {
                Yaml::String(s) => s.clone(),
                other => panic!("a job variable is a string: {other:?}"),
            };
            command.env(name.as_str().expect("name"), value);
        }
        for (name, value) in trigger {
            command.env(name, value);
        }
        let started = Instant::now();
        let output = command.output().expect("bash runs");
        let elapsed = started.elapsed();
        eprintln!(
            "--- {lines:?} ({:?}, {elapsed:?}) ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        (output, elapsed)
    }

    /// The job's `after_script` once its script ended with `status`: it succeeds and writes
    /// nothing.
    fn after_script_writes_nothing(&self, job: &Yaml, vars: &[(&str, String)], status: &str) {
        let vars = [vars, &[("CI_JOB_STATUS", status.to_owned())]].concat();
        let (out, _) = self.run_lines(job, &strings(&job["after_script"]), &vars);
        assert!(out.status.success(), "the after_script succeeds");
        assert_eq!(self.api_writes(), Vec::<String>::new());
    }

    fn api_writes(&self) -> Vec<String> {
        self.gl
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/api/") && r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

fn claude_job() -> Yaml {
    load("claude.yml").job().1.clone()
}

#[tokio::test]
async fn a_relayed_note_without_a_mention_ends_the_script_at_once() {
    let job = claude_job();
    let w = world().await;
    let iid = w.issue("Chatter");
    let issue = DoubleNoteable::Issue(iid);
    let note = w.note(issue, w.dev.id, "just a comment");
    w.gl.clear_requests();

    let trigger = [
        ("AI_ASSISTANT", "claude".to_owned()),
        ("AI_NOTEABLE_TYPE", "issue".to_owned()),
        ("AI_NOTEABLE_IID", iid.to_string()),
        ("AI_NOTE_ID", note.to_string()),
    ];
    let (out, elapsed) = w.run_lines(&job, &strings(&job["script"]), &trigger);

    assert!(out.status.success());
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert_eq!(w.api_writes(), Vec::<String>::new());
    assert!(w.bot_notes(issue).is_empty());

    w.after_script_writes_nothing(&job, &trigger, "success");
}

#[tokio::test]
async fn a_webhook_comment_without_a_mention_costs_no_api_call() {
    let job = claude_job();
    let w = world().await;
    let issue = DoubleNoteable::Issue(w.issue("Chatter"));
    // A file-type variable: the runner writes the value to a file and sets the path.
    let (_, payload) = hooked_comment(&w, issue, w.dev.id, "thanks, looks good");
    w.gl.clear_requests();

    let trigger = [("TRIGGER_PAYLOAD", payload.display().to_string())];
    let (out, elapsed) = w.run_lines(&job, &strings(&job["script"]), &trigger);
    assert!(out.status.success());
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert_eq!(
        w.gl.requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/api/"))
            .count(),
        0
    );

    w.after_script_writes_nothing(&job, &trigger, "canceled");
}

#[tokio::test]
async fn a_scheduled_scan_of_a_quiet_project_reads_a_little_and_writes_nothing() {
    let template = load("claude.yml");
    let job = template.scan_job().1.clone();
    let w = world().await;
    w.issue("Chatter");
    w.gl.clear_requests();
    let schedule = [
        ("CI_PIPELINE_SOURCE", "schedule".to_owned()),
        ("CI_COMMIT_REF_NAME", "main".to_owned()),
        ("AI_SCAN", "true".to_owned()),
    ];

    let (out, _) = w.run_lines(&job, &strings(&job["script"]), &schedule);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("scan: 0 new mention(s)"), "{stdout}");
    assert_eq!(w.api_writes(), Vec::<String>::new());
    w.after_script_writes_nothing(&job, &schedule, "success");
}

/// A merge request pipeline in project 7 for merge request !4 of project 7.
fn merge_request_pipeline() -> Vars {
    merge_request_variables_in("merge_request_event")
}

/// The variables of [`merge_request_pipeline`] in a pipeline of `source`, which GitLab would
/// not set there: the rules must look at the source, not only at the merge request.
fn merge_request_variables_in(source: &str) -> Vars {
    pipeline(&[
        ("CI_PIPELINE_SOURCE", source),
        ("CI_PROJECT_ID", "7"),
        ("CI_MERGE_REQUEST_PROJECT_ID", "7"),
        ("CI_MERGE_REQUEST_IID", "4"),
    ])
}

#[test]
fn auto_review_off_adds_no_job_to_any_pipeline() {
    for (file, _, t) in loaded() {
        assert_eq!(
            t.inputs["auto_review"]["default"].as_str(),
            Some("off"),
            "{file}: off by default"
        );
        let (name, job) = t.review_job();
        for source in [
            "merge_request_event",
            "push",
            "web",
            "api",
            "trigger",
            "schedule",
        ] {
            assert!(
                !job_added_with_its_variables(job, &merge_request_variables_in(source)),
                "{file}: {name} in a {source} pipeline with auto_review off"
            );
        }
    }
}

#[test]
fn auto_review_adds_the_review_job_to_merge_request_pipelines_only() {
    for (file, assistant) in TEMPLATES {
        for mode in ["opened", "ready", "every_push"] {
            let t = load_with(
                file,
                &[
                    ("auto_review", mode),
                    ("review_max_diff_lines", "800"),
                    ("review_skip_labels", "no-ai-review"),
                ],
            );
            let (name, job) = t.review_job();
            assert!(
                job_added_with_its_variables(job, &merge_request_pipeline()),
                "{file}: {name} with {mode}"
            );
            assert_eq!(job["variables"]["AI_AUTO_REVIEW"].as_str(), Some(mode));
            // The group a mention job on the same merge request uses, in every mode: relayed or
            // scanned (AI_NOTEABLE_*, GitLab's spelling) and webhook with the template
            // (AI_HOOK_*), so a review never drafts beside a `@claude review` mention.
            let review_group = doubles::ci_config::expand(
                job["resource_group"].as_str().expect("a group"),
                &merge_request_pipeline(),
            );
            assert_eq!(review_group, format!("ai-{assistant}-MergeRequest-4"));
            let mention_job = t.job().1;
            let mention_group = |vars: &Vars| {
                doubles::ci_config::expand(
                    mention_job["resource_group"].as_str().expect("a group"),
                    vars,
                )
            };
            let mut relayed = relay(assistant);
            relayed.insert("AI_NOTEABLE_TYPE".into(), "MergeRequest".into());
            relayed.insert("AI_NOTEABLE_IID".into(), "4".into());
            assert_eq!(mention_group(&relayed), review_group, "{file}: relay");
            assert_eq!(
                mention_group(&hook_event("create", "alice", "MergeRequest", "4")),
                review_group,
                "{file}: webhook"
            );
            assert_eq!(
                job["variables"]["AI_REVIEW_MAX_DIFF_LINES"].as_str(),
                Some("800")
            );
            assert_eq!(
                job["variables"]["AI_REVIEW_SKIP_LABELS"].as_str(),
                Some("no-ai-review")
            );
            assert_eq!(
                job["variables"]["AI_REVIEW_SKIP_AUTHORS"].as_str(),
                Some("")
            );
            assert_eq!(
                strings(&job["script"]),
                [format!("entrypoint review --assistant {assistant}").as_str()]
            );
            for source in ["push", "web", "api", "trigger", "schedule"] {
                assert!(
                    !job_added_with_its_variables(job, &merge_request_variables_in(source)),
                    "{file}: {source}"
                );
            }
            // A fork's merge request pipeline runs in the fork, without our variables.
            let mut fork = merge_request_pipeline();
            fork.insert("CI_PROJECT_ID".into(), "99".into());
            assert!(!job_added_with_its_variables(job, &fork), "{file}: fork");
            // The mention jobs still stay out of merge request pipelines.
            assert!(!job_added(t.job().1, &merge_request_pipeline()), "{file}");
        }
    }
}

// ---- the automation task (docs/automation.md) ---------------------------------------------

#[test]
fn the_task_job_runs_only_for_a_prompt_in_scheduled_api_web_and_pipeline_pipelines() {
    for (file, assistant, t) in loaded() {
        let (name, task) = t.task_job();
        assert_eq!(name, format!("ai-{assistant}-task"));
        for source in ["schedule", "api", "web", "pipeline"] {
            for prompt in ["AI_PROMPT", "AI_PROMPT_FILE"] {
                let vars = pipeline(&[("CI_PIPELINE_SOURCE", source), (prompt, "x")]);
                assert!(
                    job_added_with_its_variables(task, &vars),
                    "{file}: {source} with {prompt}"
                );
                // The answering job leaves a task to this one, even when addressed to it.
                let mut addressed = vars.clone();
                addressed.insert("AI_ASSISTANT".into(), assistant.into());
                assert!(!job_added(t.job().1, &addressed), "{file}: {source}");
                assert!(job_added_with_its_variables(task, &addressed), "{file}");
            }
            assert!(
                !job_added_with_its_variables(task, &plain(source)),
                "{file}: {source} without a prompt (the inputs default to none)"
            );
        }
        for source in ["push", "merge_request_event", "trigger", "parent_pipeline"] {
            let vars = pipeline(&[("CI_PIPELINE_SOURCE", source), ("AI_PROMPT", "x")]);
            assert!(
                !job_added_with_its_variables(task, &vars),
                "{file}: {source}"
            );
        }
        let for_other = pipeline(&[
            ("CI_PIPELINE_SOURCE", "schedule"),
            ("AI_PROMPT", "x"),
            ("AI_ASSISTANT", other(assistant)),
        ]);
        assert!(!job_added_with_its_variables(task, &for_other), "{file}");
        let scan = pipeline(&[
            ("CI_PIPELINE_SOURCE", "schedule"),
            ("AI_SCAN", "true"),
            ("AI_PROMPT", "x"),
        ]);
        assert!(!job_added_with_its_variables(task, &scan), "{file}: a scan");
    }
}

#[test]
fn the_task_job_leaves_its_result_for_later_jobs_and_never_expands_the_prompt() {
    for (file, assistant, t) in loaded() {
        let (name, task) = t.task_job();
        assert_eq!(
            strings(&task["script"]),
            [format!("entrypoint run --assistant {assistant}")],
            "{file}"
        );
        assert_eq!(task["artifacts"]["when"].as_str(), Some("always"));
        assert_eq!(
            strings(&task["artifacts"]["paths"]),
            [
                entrypoint::automation::artifacts::RESULT_FILE,
                entrypoint::audit::TRANSCRIPT_FILE,
                entrypoint::audit::USAGE_FILE
            ],
            "{file}: {name}"
        );
        assert_eq!(
            task["artifacts"]["reports"]["dotenv"].as_str(),
            Some(entrypoint::automation::artifacts::DOTENV_FILE)
        );
        for variable in ["AI_PROMPT", "AI_OUTPUT_SCHEMA"] {
            assert_eq!(
                task["variables"][variable]["expand"].as_bool(),
                Some(false),
                "{file}: {variable} is text, never a variable reference"
            );
        }
        assert_eq!(task["variables"]["AI_POST_TO"].as_str(), Some("none"));
        assert_eq!(task["image"]["docker"]["user"].as_str(), Some("root"));
        assert_eq!(task["interruptible"].as_bool(), Some(false));
        assert!(
            !task["variables"]
                .as_hash()
                .expect("variables")
                .contains_key(&Yaml::String("AI_ASSISTANT".into())),
            "{file}"
        );
    }
}
