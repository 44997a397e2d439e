//! `entrypoint setup` against the GitLab double: what a Maintainer sees and what the project
//! ends up with, run after run.

use crate::support::gitlab_client::fast_retrying_client;
use crate::support::seeded::rest;
use reqwest::Method;
use std::time::Duration;

use doubles::gitlab::double::{GitLabDouble, HookSpec, ProjectSpec, SeededUser, UserSpec};
use doubles::gitlab::model::RecordedRequest;
use entrypoint::agent::Assistant;
use entrypoint::gitlab::GitLab;
use entrypoint::secret::Secret;
use entrypoint::setup::{self, Mode, Options, Outcome, Ui};

const MODEL_KEY: &str = "sk-ant-api03-Test_Key-0123456789abcdef";

pub fn client(api_url: &str, token: &str) -> GitLab {
    fast_retrying_client(api_url, token, 3, Duration::from_secs(10))
}

/// A scripted person at the terminal.
#[derive(Default)]
struct Script {
    lines: Vec<String>,
    answer: bool,
    key: Option<String>,
    asked_for_key: bool,
}

impl Ui for Script {
    fn say(&mut self, line: &str) {
        self.lines.push(line.to_owned());
    }
    fn confirm(&mut self, _question: &str) -> anyhow::Result<bool> {
        Ok(self.answer)
    }
    fn read_secret(&mut self, _prompt: &str) -> anyhow::Result<Secret> {
        self.asked_for_key = true;
        self.key
            .clone()
            .map(Secret::new)
            .ok_or_else(|| anyhow::anyhow!("no key scripted"))
    }
}

impl Script {
    fn text(&self) -> String {
        self.lines.join("\n")
    }
}

struct World {
    gl: GitLabDouble,
    project: u64,
    maintainer: SeededUser,
    developer: SeededUser,
}

impl World {
    /// Alice deletes the project's `path` (a variable, a hook) behind setup's back.
    async fn delete(&self, path: &str) -> reqwest::Response {
        let path = format!("/projects/{}{path}", self.project);
        rest(
            &self.gl,
            Method::DELETE,
            &path,
            &self.maintainer.token,
            None,
        )
        .await
    }
}

async fn world(spec: ProjectSpec, maintainer_level: u8) -> World {
    let gl = GitLabDouble::start().await.expect("double starts");
    let project = gl.add_project(spec).expect("project").id;
    let maintainer = gl.add_user(UserSpec::human("alice")).expect("alice");
    gl.add_member(project, maintainer.id, maintainer_level)
        .expect("alice's role");
    let developer = gl.add_user(UserSpec::human("dana")).expect("dana");
    gl.add_member(project, developer.id, 30)
        .expect("dana is a Developer");
    World {
        gl,
        project,
        maintainer,
        developer,
    }
}

fn options(project: u64, mode: Mode) -> Options {
    crate::support::setup::unattended(project, mode, MODEL_KEY)
}

fn writes(requests: &[RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// Requests whose method, path, query, headers or body contain `secret`.
fn carrying(requests: &[RecordedRequest], secret: &str) -> Vec<String> {
    requests
        .iter()
        .filter(|r| {
            r.path.contains(secret)
                || r.query.as_deref().is_some_and(|q| q.contains(secret))
                || r.body.contains(secret)
                || r.headers.iter().any(|(_, v)| v.contains(secret))
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

async fn setup_once(w: &World, options: &Options) -> (anyhow::Result<Outcome>, Script) {
    let gitlab = client(&w.gl.api_url(), &w.maintainer.token);
    let mut script = Script::default();
    let outcome = setup::run(&gitlab, options, &mut script).await;
    (outcome, script)
}

/// [`setup_once`], which must apply a plan; what it said.
async fn setup_applies(w: &World, options: &Options) -> Script {
    let (outcome, script) = setup_once(w, options).await;
    assert_eq!(outcome.expect("setup succeeds"), Outcome::Applied);
    script
}

/// The relay setup points the hook at in relay mode, and the hook's secret.
const RELAY_URL: &str = "https://relay.example.com/hook";
const RELAY_SECRET: &str = "relay-secret-0123456789";

/// `--mode relay` with [`RELAY_URL`] and [`RELAY_SECRET`].
fn relay_mode() -> Mode {
    Mode::Relay {
        url: url::Url::parse(RELAY_URL).expect("URL"),
        secret: Secret::new(RELAY_SECRET),
    }
}

/// A Maintainer's `acme/widgets` whose "minimum role to use pipeline variables" is `role`.
async fn world_with_minimum_role(role: &str) -> World {
    let spec = ProjectSpec::new("acme/widgets").pipeline_variables_minimum_role(role);
    world(spec, 40).await
}

#[tokio::test]
async fn webhook_setup_of_an_empty_project_creates_exactly_the_documented_objects() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let (outcome, script) = setup_once(&w, &options(w.project, Mode::Webhook)).await;
    assert_eq!(outcome.expect("setup succeeds"), Outcome::Applied);
    let requests = w.gl.requests();
    let out = script.text();
    crate::assert_note_snapshot!("webhook_setup_of_an_empty_project", &out);

    // The bot: one project access token, Developer, api, within a year.
    let tokens = w.gl.access_tokens(w.project);
    assert_eq!(tokens.len(), 1);
    let token = &tokens[0];
    assert_eq!(
        (token.name.as_str(), token.access_level.value()),
        ("Claude", 30)
    );
    assert_eq!(token.scopes, vec!["api"]);
    let expires = chrono::NaiveDate::parse_from_str(&token.expires_at, "%Y-%m-%d").unwrap();
    let days = (expires - chrono::Utc::now().date_naive()).num_days();
    assert!((300..=365).contains(&days), "expires in {days} days");
    let bot =
        w.gl.users()
            .into_iter()
            .find(|u| u.id == token.user_id)
            .unwrap();
    assert!(
        bot.bot
            && bot
                .username
                .starts_with(&format!("project_{}_bot_", w.project))
    );

    // Two variables, both masked and hidden, not protected.
    let vars = w.gl.variables(w.project);
    let mut keys: Vec<&str> = vars.iter().map(|v| v.key.as_str()).collect();
    keys.sort();
    assert_eq!(keys, vec!["CLAUDE_API_KEY", "GITLAB_TOKEN"]);
    for v in &vars {
        assert!(
            v.masked && v.hidden && !v.protected,
            "{} flags: {v:?}",
            v.key
        );
    }
    let bot_token = vars
        .iter()
        .find(|v| v.key == "GITLAB_TOKEN")
        .unwrap()
        .value
        .clone();
    let who = client(&w.gl.api_url(), &bot_token)
        .current_user()
        .await
        .expect("the stored token works");
    assert_eq!(who.id.0, bot.id);
    assert_eq!(
        vars.iter()
            .find(|v| v.key == "CLAUDE_API_KEY")
            .unwrap()
            .value,
        MODEL_KEY
    );

    // The trigger and the hook pointing at it, with both note events.
    let triggers = w.gl.triggers(w.project);
    assert_eq!(triggers.len(), 1);
    let hooks = w.gl.hooks(w.project);
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    assert_eq!(
        hook.url,
        format!(
            "{}/projects/{}/ref/main/trigger/pipeline?token={}",
            w.gl.api_url(),
            w.project,
            triggers[0].token
        )
    );
    assert!(hook.note_events && hook.confidential_note_events && !hook.push_events);
    let hook_secret = w.gl.hook_token(hook.id).expect("the hook has a secret");
    assert!(hook_secret.len() >= 32);
    assert!(w.gl.pipeline_schedules(w.project).is_empty());

    // The merge request adding the include block; main itself is untouched.
    let mrs = w.gl.merge_requests(w.project);
    assert_eq!(mrs.len(), 1);
    assert_eq!(
        (mrs[0].source_branch.as_str(), mrs[0].target_branch.as_str()),
        ("entrypoint-setup", "main")
    );
    let repo = w.gl.repo(w.project).unwrap();
    let ci = String::from_utf8(
        repo.file_at("entrypoint-setup", ".gitlab-ci.yml")
            .unwrap()
            .expect("the branch has .gitlab-ci.yml"),
    )
    .unwrap();
    assert_eq!(
        ci,
        "include:\n  - project: 'tools/assistants'\n    ref: 'v1.0.0'\n    file: '/templates/claude.yml'\n"
    );
    assert!(repo.file_at("main", ".gitlab-ci.yml").unwrap().is_none());

    // Each secret travels in exactly the request that stores it, and never reaches the output.
    let variables_path = format!("/api/v4/projects/{}/variables", w.project);
    let hooks_path = format!("/api/v4/projects/{}/hooks", w.project);
    for (secret, path) in [
        (bot_token.as_str(), &variables_path),
        (MODEL_KEY, &variables_path),
        (triggers[0].token.as_str(), &hooks_path),
        (hook_secret.as_str(), &hooks_path),
    ] {
        assert_eq!(
            carrying(&requests, secret),
            vec![format!("POST {path}")],
            "where a secret went"
        );
        assert!(!out.contains(secret), "a secret reached the output:\n{out}");
    }
    assert!(!out.contains(&w.maintainer.token));
}

#[tokio::test]
async fn a_second_run_finds_nothing_to_do_and_writes_nothing() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let opts = options(w.project, Mode::Webhook);
    setup_once(&w, &opts).await.0.expect("first run");
    w.gl.clear_requests();
    let mut again = opts.clone();
    again.model_key = None;
    let (outcome, script) = setup_once(&w, &again).await;
    assert_eq!(outcome.expect("second run"), Outcome::NothingToDo);
    let out = script.text();
    assert!(
        out.contains("Nothing to do: acme/widgets is already set up for claude in webhook mode."),
        "{out}"
    );
    assert!(!script.asked_for_key);
    assert_eq!(writes(&w.gl.requests()), Vec::<String>::new());
    assert_eq!(w.gl.access_tokens(w.project).len(), 1);
    assert_eq!(w.gl.variables(w.project).len(), 2);
    assert_eq!(w.gl.triggers(w.project).len(), 1);
    assert_eq!(w.gl.hooks(w.project).len(), 1);
    assert_eq!(w.gl.merge_requests(w.project).len(), 1);
}

#[tokio::test]
async fn a_developers_token_is_refused_before_any_change() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let gitlab = client(&w.gl.api_url(), &w.developer.token);
    let mut script = Script::default();
    let error = setup::run(&gitlab, &options(w.project, Mode::Webhook), &mut script)
        .await
        .expect_err("a Developer cannot set up");
    crate::assert_note_snapshot!("developer_refused", format!("{error:#}"));
    assert_eq!(writes(&w.gl.requests()), Vec::<String>::new());
}

#[tokio::test]
async fn without_confirmation_nothing_changes_and_the_key_is_read_only_when_applying() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let mut opts = options(w.project, Mode::Webhook);
    opts.yes = false;
    opts.model_key = None;
    let gitlab = client(&w.gl.api_url(), &w.maintainer.token);
    let mut script = Script {
        answer: false,
        key: Some(MODEL_KEY.into()),
        ..Script::default()
    };
    let outcome = setup::run(&gitlab, &opts, &mut script).await.unwrap();
    assert_eq!(outcome, Outcome::Declined);
    assert!(!script.asked_for_key);
    assert_eq!(writes(&w.gl.requests()), Vec::<String>::new());

    let mut script = Script {
        answer: true,
        key: Some(MODEL_KEY.into()),
        ..Script::default()
    };
    assert_eq!(
        setup::run(&gitlab, &opts, &mut script).await.unwrap(),
        Outcome::Applied
    );
    assert!(script.asked_for_key);
    assert!(script.text().contains("asked for without echo"));
}

#[tokio::test]
async fn an_unmaskable_model_key_fails_clearly_and_writes_nothing() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let mut opts = options(w.project, Mode::Webhook);
    opts.model_key = Some(Secret::new("short"));
    let error = setup_once(&w, &opts).await.0.expect_err("refused");
    let message = format!("{error:#}");
    assert!(
        message.contains("CLAUDE_API_KEY is 5 characters long") && !message.contains("short"),
        "{message}"
    );
    opts.model_key = Some(Secret::new("has spaces in it"));
    let message = format!("{:#}", setup_once(&w, &opts).await.0.expect_err("refused"));
    assert!(message.contains("cannot mask at position 4"), "{message}");
    assert_eq!(writes(&w.gl.requests()), Vec::<String>::new());
}

#[tokio::test]
async fn scan_mode_creates_a_schedule_with_ai_scan_and_no_webhook() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    setup_applies(&w, &options(w.project, Mode::Scan)).await;
    let schedules = w.gl.pipeline_schedules(w.project);
    assert_eq!(schedules.len(), 1);
    let s = &schedules[0];
    assert_eq!(
        (s.cron.as_str(), s.git_ref.as_str(), s.active),
        ("*/10 * * * *", "refs/heads/main", true)
    );
    assert_eq!(s.owner_id, w.maintainer.id);
    assert_eq!(
        s.variables
            .iter()
            .map(|v| (v.key.as_str(), v.value.as_str()))
            .collect::<Vec<_>>(),
        vec![("AI_SCAN", "1")]
    );
    assert!(w.gl.hooks(w.project).is_empty() && w.gl.triggers(w.project).is_empty());
    w.gl.clear_requests();
    let (outcome, _) = setup_once(&w, &options(w.project, Mode::Scan)).await;
    assert_eq!(outcome.unwrap(), Outcome::NothingToDo);
    assert_eq!(writes(&w.gl.requests()), Vec::<String>::new());
}

#[tokio::test]
async fn relay_mode_points_the_hook_at_the_relay_with_its_secret() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let relay = relay_mode();
    let script = setup_applies(&w, &options(w.project, relay.clone())).await;
    let hooks = w.gl.hooks(w.project);
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].url, RELAY_URL);
    assert_eq!(w.gl.hook_token(hooks[0].id).as_deref(), Some(RELAY_SECRET));
    // Comments, and the issue and merge request events the relay answers assignments, review
    // requests, the trigger label and description mentions from.
    let h = &hooks[0];
    assert!(h.note_events && h.confidential_note_events, "{h:?}");
    assert!(
        h.issues_events && h.confidential_issues_events && h.merge_requests_events,
        "{h:?}"
    );
    assert!(!h.push_events, "{h:?}");
    assert!(w.gl.triggers(w.project).is_empty());
    assert!(!script.text().contains(RELAY_SECRET));
    let (outcome, _) = setup_once(&w, &options(w.project, relay)).await;
    assert_eq!(outcome.unwrap(), Outcome::NothingToDo);
}

#[tokio::test]
async fn a_relay_hook_with_comments_only_gets_the_issue_and_merge_request_events() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let mut spec = HookSpec::notes(RELAY_URL);
    spec.token = Some(RELAY_SECRET.into());
    let id = w.gl.add_hook(w.project, spec).unwrap();
    let relay = relay_mode();
    let script = setup_applies(&w, &options(w.project, relay.clone())).await;
    assert!(
        script.text().contains(&format!(
            "Updated webhook {id} to {RELAY_URL} with the issue and merge request events."
        )),
        "{}",
        script.text()
    );
    let hooks = w.gl.hooks(w.project);
    assert_eq!(hooks.len(), 1, "the hook is updated, not doubled");
    let h = &hooks[0];
    assert_eq!(h.id, id);
    assert!(
        h.note_events
            && h.confidential_note_events
            && h.issues_events
            && h.confidential_issues_events
            && h.merge_requests_events,
        "{h:?}"
    );
    assert!(
        h.custom_webhook_template
            .as_deref()
            .unwrap_or("")
            .is_empty(),
        "the relay reads the events themselves: {h:?}"
    );
    assert_eq!(
        w.gl.hook_token(id).as_deref(),
        Some(RELAY_SECRET),
        "the secret token is left as it was"
    );
    let (outcome, _) = setup_once(&w, &options(w.project, relay)).await;
    assert_eq!(outcome.unwrap(), Outcome::NothingToDo);
}

#[tokio::test]
async fn no_mr_prints_the_include_block_and_opens_nothing() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let mut opts = options(w.project, Mode::Webhook);
    opts.merge_request = false;
    let script = setup_applies(&w, &opts).await;
    let out = script.text();
    assert!(
        out.contains("    include:\n      - project: 'tools/assistants'\n        ref: 'v1.0.0'\n        file: '/templates/claude.yml'"),
        "{out}"
    );
    assert!(w.gl.merge_requests(w.project).is_empty());
    let branches: Vec<String> =
        w.gl.repo(w.project)
            .unwrap()
            .branches()
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
    assert_eq!(branches, vec!["main"]);
}

#[tokio::test]
async fn an_existing_ci_file_is_updated_in_the_merge_request_not_on_main() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let repo = w.gl.repo(w.project).unwrap();
    let original = "stages: [test]\ntest:\n  script: make test\n";
    repo.commit(
        "main",
        &[doubles::gitlab::repo::FileChange::Write {
            path: ".gitlab-ci.yml".into(),
            content: original.as_bytes().to_vec(),
        }],
        "CI",
        &doubles::gitlab::repo::Signature {
            name: "a".into(),
            email: "a@example.com".into(),
        },
    )
    .unwrap();
    let script = setup_applies(&w, &options(w.project, Mode::Webhook)).await;
    assert!(script.text().contains("updates .gitlab-ci.yml"));
    let on_branch = String::from_utf8(
        repo.file_at("entrypoint-setup", ".gitlab-ci.yml")
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(on_branch.starts_with("include:\n") && on_branch.ends_with(original));
    assert_eq!(
        repo.file_at("main", ".gitlab-ci.yml").unwrap().unwrap(),
        original.as_bytes()
    );
}

#[tokio::test]
async fn gitlab_com_free_says_so_and_takes_a_bot_users_personal_access_token() {
    let w = world(ProjectSpec::new("acme/widgets").gitlab_com_free(), 50).await;
    let error = setup_once(&w, &options(w.project, Mode::Webhook))
        .await
        .0
        .expect_err("no project access tokens on Free");
    crate::assert_note_snapshot!("gitlab_com_free_refused", format!("{error:#}"));
    assert_eq!(writes(&w.gl.requests()), Vec::<String>::new());

    let bot =
        w.gl.add_user(UserSpec::human("claude-bot"))
            .expect("bot user");
    w.gl.add_member(w.project, bot.id, 30).unwrap();
    let mut opts = options(w.project, Mode::Webhook);
    opts.bot_token = Some(Secret::new(bot.token.clone()));
    w.gl.clear_requests();
    let script = setup_applies(&w, &opts).await;
    assert!(w.gl.access_tokens(w.project).is_empty());
    let stored =
        w.gl.variables(w.project)
            .into_iter()
            .find(|v| v.key == "GITLAB_TOKEN")
            .unwrap();
    assert_eq!(stored.value, bot.token);
    assert!(stored.hidden && stored.masked);
    // Free projects refuse pipeline variables; the Owner running setup allows them.
    assert_eq!(
        w.gl.pipeline_variables_minimum_role(w.project).as_deref(),
        Some("developer")
    );
    assert_eq!(
        carrying(&w.gl.requests(), &bot.token),
        vec![format!("POST /api/v4/projects/{}/variables", w.project)]
    );
    assert!(!script.text().contains(&bot.token));
}

#[tokio::test]
async fn a_maintainer_cannot_lift_no_one_allowed_and_is_told_to_ask_an_owner() {
    let w = world_with_minimum_role("no_one_allowed").await;
    let message = format!(
        "{:#}",
        setup_once(&w, &options(w.project, Mode::Webhook))
            .await
            .0
            .expect_err("refused")
    );
    assert!(
        message.contains("only an Owner can change this setting from no_one_allowed"),
        "{message}"
    );
    assert_eq!(writes(&w.gl.requests()), Vec::<String>::new());
}

#[tokio::test]
async fn a_lost_token_variable_makes_a_new_token_and_says_the_old_one_cannot_be_read() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let opts = options(w.project, Mode::Webhook);
    setup_once(&w, &opts).await.0.expect("first run");
    let deleted = w.delete("/variables/GITLAB_TOKEN").await;
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    w.gl.clear_requests();
    let script = setup_applies(&w, &opts).await;
    let out = script.text();
    assert!(
        out.contains("1 active token(s) named \"Claude\" exist but GitLab cannot show them again"),
        "{out}"
    );
    assert_eq!(w.gl.access_tokens(w.project).len(), 2);
    let mut written = writes(&w.gl.requests());
    written.sort();
    assert_eq!(
        written,
        vec![
            format!("POST /api/v4/projects/{}/access_tokens", w.project),
            format!("POST /api/v4/projects/{}/variables", w.project),
        ]
    );
}

#[tokio::test]
async fn a_deleted_webhook_is_recreated_with_the_existing_trigger_token() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    let opts = options(w.project, Mode::Webhook);
    setup_once(&w, &opts).await.0.expect("first run");
    let hook = w.gl.hooks(w.project).remove(0);
    let deleted = w.delete(&format!("/hooks/{}", hook.id)).await;
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    w.gl.clear_requests();
    setup_applies(&w, &opts).await;
    assert_eq!(
        writes(&w.gl.requests()),
        vec![format!("POST /api/v4/projects/{}/hooks", w.project)]
    );
    assert_eq!(w.gl.hooks(w.project)[0].url, hook.url);
}

#[tokio::test]
async fn codex_after_claude_adds_its_key_and_its_include_to_the_same_merge_request() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    setup_once(&w, &options(w.project, Mode::Webhook))
        .await
        .0
        .expect("claude");
    w.gl.clear_requests();
    let mut codex = options(w.project, Mode::Webhook);
    codex.assistant = Assistant::Codex;
    codex.model_key = Some(Secret::new("sk-proj-codex-0123456789"));
    let script = setup_applies(&w, &codex).await;
    assert!(
        script
            .text()
            .ends_with("@codex hello — can you see this issue?")
    );
    let p = w.project;
    assert_eq!(
        writes(&w.gl.requests()),
        vec![
            format!("POST /api/v4/projects/{p}/variables"),
            format!("POST /api/v4/projects/{p}/repository/commits"),
        ]
    );
    assert!(
        script
            .text()
            .contains("Added the include to merge request !1")
    );
    assert_eq!(w.gl.merge_requests(p).len(), 1);
    let ci = String::from_utf8(
        w.gl.repo(p)
            .unwrap()
            .file_at("entrypoint-setup", ".gitlab-ci.yml")
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        ci,
        "include:\n  - project: 'tools/assistants'\n    ref: 'v1.0.0'\n    file: '/templates/codex.yml'\n  - project: 'tools/assistants'\n    ref: 'v1.0.0'\n    file: '/templates/claude.yml'\n"
    );
    w.gl.clear_requests();
    codex.model_key = None;
    assert_eq!(
        setup_once(&w, &codex).await.0.unwrap(),
        Outcome::NothingToDo
    );
    assert_eq!(writes(&w.gl.requests()), Vec::<String>::new());
    assert!(
        w.gl.variables(p)
            .iter()
            .any(|v| v.key == "OPENAI_API_KEY" && v.hidden)
    );
    assert_eq!(
        (
            w.gl.access_tokens(p).len(),
            w.gl.triggers(p).len(),
            w.gl.hooks(p).len()
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn relay_mode_judges_pipeline_variables_by_the_bot_not_by_the_maintainer() {
    // The relay may start pipelines with the bot's token: a Developer. A project set to
    // `maintainer` lets the Maintainer running setup pass, and would refuse every hand-off.
    let w = world_with_minimum_role("maintainer").await;
    let relay = relay_mode();
    let script = setup_applies(&w, &options(w.project, relay)).await;
    assert!(
        script
            .text()
            .contains("set \"minimum role to use pipeline variables\" to developer, now minimum role maintainer"),
        "{}",
        script.text()
    );
    assert_eq!(
        w.gl.pipeline_variables_minimum_role(w.project).as_deref(),
        Some("developer")
    );
}

#[tokio::test]
async fn a_shorter_instance_token_lifetime_is_used_and_said() {
    let w = world(ProjectSpec::new("acme/widgets"), 40).await;
    w.gl.set_max_token_lifetime_days(90);
    let (outcome, script) = setup_once(&w, &options(w.project, Mode::Webhook)).await;
    assert_eq!(outcome.expect("setup succeeds"), Outcome::Applied);
    let tokens = w.gl.access_tokens(w.project);
    assert_eq!(tokens.len(), 1);
    let expected = chrono::Utc::now()
        .date_naive()
        .checked_add_days(chrono::Days::new(89))
        .unwrap()
        .to_string();
    assert_eq!(tokens[0].expires_at, expected);
    assert!(
        script
            .text()
            .contains(&format!("the bot's token will expire on {expected}")),
        "{}",
        script.text()
    );
}
