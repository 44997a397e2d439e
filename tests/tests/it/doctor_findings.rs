//! `entrypoint doctor` against the GitLab double: a project `entrypoint setup` prepared passes
//! every check, and each pitfall alone gives exactly its own finding, with its fix, and a
//! failing exit. No secret ever reaches the output.

use crate::support::doctor::finding;
use crate::support::seeded::project_on;
use crate::support::setup::{template, unattended};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;
use doubles::gitlab::double::{GitLabDouble, ProjectSpec, SeededUser, UserSpec};
use doubles::gitlab::repo::{FileChange, Signature};
use doubles::gitlab::version::GitLabVersion;
use entrypoint::agent::Assistant;
use entrypoint::doctor::{self, Check, Finding, Inputs, Place, Report, Status};
use entrypoint::gitlab::ids::{ProjectId, ProjectRef};
use entrypoint::gitlab::projects::PipelineVariablesRole;
use entrypoint::gitlab::variables::NewVariable;
use entrypoint::gitlab::{ApiBaseUrl, ClientConfig, GitLab, GitLabToken};
use entrypoint::sandbox::capability::Capabilities;
use entrypoint::secret::Secret;
use entrypoint::setup::{self, Mode, Ui};
use tokio::net::TcpListener;

const MODEL_KEY: &str = "sk-ant-api03-Doctor_Key-0123456789abcdef";
const RELAY_SECRET: &str = "relay-secret-0123456789abcdef";

fn client(api_url: &str, token: &str) -> GitLab {
    GitLab::new(ClientConfig::new(
        ApiBaseUrl::parse(api_url).expect("the double's API URL parses"),
        GitLabToken::new(Secret::new(token)),
    ))
    .expect("client builds")
}

/// Setup's conversation, answered "yes" without a person; what setup says is kept.
#[derive(Default)]
struct Unattended {
    lines: Vec<String>,
}

impl Ui for Unattended {
    fn say(&mut self, line: &str) {
        self.lines.push(line.to_owned());
    }
    fn confirm(&mut self, _question: &str) -> anyhow::Result<bool> {
        Ok(true)
    }
    fn read_secret(&mut self, _prompt: &str) -> anyhow::Result<Secret> {
        anyhow::bail!("the model key comes from the options")
    }
}

/// A registry that answers the version check as an authenticating registry does.
async fn registry() -> SocketAddr {
    let app = Router::new().route(
        "/v2/",
        get(|| async {
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"http://127.0.0.1/jwt/auth\"",
                )],
                "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
            )
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

struct World {
    gl: GitLabDouble,
    /// What setup printed.
    setup_output: Vec<String>,
    project: u64,
    maintainer: SeededUser,
    bot_token: String,
    bot_id: u64,
    registry: url::Url,
}

impl World {
    fn maintainer_client(&self) -> GitLab {
        client(&self.gl.api_url(), &self.maintainer.token)
    }

    fn project_ref(&self) -> ProjectRef {
        ProjectRef::Id(ProjectId(self.project))
    }

    /// Every secret the project holds, none of which may be printed.
    fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![
            self.maintainer.token.clone(),
            self.bot_token.clone(),
            MODEL_KEY.to_owned(),
            RELAY_SECRET.to_owned(),
        ];
        secrets.extend(self.gl.triggers(self.project).into_iter().map(|t| t.token));
        secrets.extend(
            self.gl
                .hooks(self.project)
                .iter()
                .filter_map(|h| self.gl.hook_token(h.id)),
        );
        secrets
    }

    async fn doctor(&self, place: Place, token: &str, env: &[(&str, &str)]) -> Report {
        let gitlab = client(&self.gl.api_url(), token);
        let vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = move |name: &str| vars.get(name).cloned();
        let inputs = Inputs {
            project: self.project_ref(),
            place,
            assistants: Vec::new(),
            template: template(),
            registry: Some(self.registry.clone()),
            image: None,
            capabilities: None,
            env: &lookup,
        };
        let report = doctor::run(Some(&gitlab), &inputs).await;
        let text = report.lines().join("\n");
        for secret in self.secrets() {
            assert!(
                !text.contains(&secret),
                "a secret reached the report:\n{text}"
            );
        }
        report
    }

    /// Doctor as a Maintainer runs it on their machine.
    async fn local(&self) -> Report {
        self.doctor(Place::Local, &self.maintainer.token, &[]).await
    }

    /// Doctor in a job of the project, with the bot's token and the job's variables.
    async fn job(&self) -> Report {
        self.job_with(&self.job_vars()).await
    }

    /// Doctor in a job of the project, with the bot's token and `vars` as the job's variables.
    async fn job_with(&self, vars: &[(&'static str, String)]) -> Report {
        self.doctor(Place::Job, &self.bot_token, &borrowed(vars))
            .await
    }

    /// The variables a job of the project has: the predefined ones, the bot token setup stored
    /// as GITLAB_TOKEN, and the model key.
    fn job_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITLAB_CI", "true".to_owned()),
            ("CI_API_V4_URL", self.gl.api_url()),
            ("CI_PROJECT_ID", self.project.to_string()),
            ("GITLAB_TOKEN", self.bot_token.clone()),
            ("CLAUDE_API_KEY", MODEL_KEY.to_owned()),
        ]
    }

    /// A Maintainer deletes the project's CLAUDE_API_KEY variable.
    async fn delete_model_key(&self) {
        self.maintainer_client()
            .delete(&format!(
                "/projects/{}/variables/CLAUDE_API_KEY",
                self.project
            ))
            .await
            .expect("the key is deleted");
    }

    /// A Maintainer sets the minimum role that may pass pipeline variables.
    async fn set_pipeline_variables_role(&self, role: PipelineVariablesRole) {
        self.maintainer_client()
            .set_pipeline_variables_role(&self.project_ref(), role)
            .await
            .expect("the role is set");
    }

    async fn replace_model_key(&self, masked: bool, protected: bool) {
        self.delete_model_key().await;
        self.maintainer_client()
            .create_project_variable(
                &self.project_ref(),
                &NewVariable {
                    key: "CLAUDE_API_KEY".into(),
                    value: Secret::new(MODEL_KEY),
                    masked,
                    hidden: false,
                    protected,
                    raw: true,
                    description: None,
                },
            )
            .await
            .expect("the key is stored again");
    }
}

/// A project `entrypoint setup` prepared for Claude in `mode`; with `merged`, its merge request
/// adding the `include:` is merged too.
async fn set_up(mode: Mode, merged: bool) -> World {
    set_up_on(
        GitLabVersion::default(),
        ProjectSpec::new("acme/widgets"),
        mode,
        merged,
    )
    .await
}

/// [`set_up`] on a double answering as GitLab `version`, for a project seeded as `spec`.
async fn set_up_on(version: GitLabVersion, spec: ProjectSpec, mode: Mode, merged: bool) -> World {
    let (gl, project) = project_on(version, spec).await;
    let maintainer = gl.add_user(UserSpec::human("alice")).expect("alice");
    gl.add_member(project, maintainer.id, 40)
        .expect("alice maintains");
    let options = unattended(project, mode, MODEL_KEY);
    let mut ui = Unattended::default();
    setup::run(&client(&gl.api_url(), &maintainer.token), &options, &mut ui)
        .await
        .expect("setup succeeds");
    if merged {
        let repo = gl.repo(project).expect("repository");
        let ci = repo
            .file_at("entrypoint-setup", ".gitlab-ci.yml")
            .expect("readable")
            .expect("setup's branch has .gitlab-ci.yml");
        repo.commit(
            "main",
            &[FileChange::Write {
                path: ".gitlab-ci.yml".into(),
                content: ci,
            }],
            "Merge setup's include",
            &Signature {
                name: "alice".into(),
                email: "alice@example.com".into(),
            },
        )
        .expect("merged");
    }
    let variable = gl
        .variables(project)
        .into_iter()
        .find(|v| v.key == "GITLAB_TOKEN")
        .expect("setup stored the bot token");
    let bot_id = gl.access_tokens(project)[0].user_id;
    let registry = url::Url::parse(&format!("http://{}", registry().await)).expect("URL");
    World {
        gl,
        setup_output: ui.lines,
        project,
        maintainer,
        bot_token: variable.value,
        bot_id,
        registry,
    }
}

async fn webhook_project() -> World {
    set_up(Mode::Webhook, true).await
}

/// [`webhook_project`] on a double answering as GitLab `version`.
async fn webhook_project_on(version: GitLabVersion) -> World {
    let spec = ProjectSpec::new("acme/widgets");
    set_up_on(version, spec, Mode::Webhook, true).await
}

/// A project set up in relay mode, its relay at `https://relay.example.com/hook`.
async fn relay_project() -> World {
    let url = url::Url::parse("https://relay.example.com/hook").expect("URL");
    let secret = Secret::new(RELAY_SECRET);
    set_up(Mode::Relay { url, secret }, true).await
}

/// `vars` as the `(name, value)` pairs an environment takes.
fn borrowed<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Every finding that is not ok, except the job's unknown image: these jobs run without
/// `CI_JOB_IMAGE`, and the image checks have their own tests (`doctor_image.rs`).
fn problems(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.status != Status::Ok && f.check != Check::Image)
        .collect()
}

/// Asserts `report` has no [`problems`]; its lines, for the assertions that follow.
fn without_problems(report: &Report) -> String {
    let text = report.lines().join("\n");
    assert!(problems(report).is_empty(), "{text}");
    text
}

/// The report's only finding that is not ok, which must be a failure of `check` with a fix.
fn only_failure(report: &Report, check: Check) -> Finding {
    let text = report.lines().join("\n");
    let problems = problems(report);
    assert_eq!(problems.len(), 1, "expected one problem:\n{text}");
    let finding = problems[0].clone();
    assert_eq!(
        (finding.check.clone(), finding.status),
        (check, Status::Fail),
        "{text}"
    );
    assert!(
        finding.fix.as_deref().is_some_and(|fix| !fix.is_empty()),
        "{text}"
    );
    assert!(report.failed());
    finding
}

fn fix(finding: &Finding) -> &str {
    finding.fix.as_deref().unwrap_or_default()
}

/// Asserts `finding` says what it found with `found` and how to fix it with `fix_part`.
fn assert_says(finding: &Finding, found: &str, fix_part: &str) {
    assert!(finding.found.contains(found), "{finding:?}");
    assert!(fix(finding).contains(fix_part), "{finding:?}");
}

#[tokio::test]
async fn a_project_setup_prepared_passes_every_check_locally_and_in_a_job() {
    let w = webhook_project().await;
    let local = w.local().await;
    let text = without_problems(&local);
    let checks: Vec<String> = local.findings.iter().map(|f| f.check.to_string()).collect();
    for expected in [
        "token",
        "token-scope",
        "assistants",
        "bot-token",
        "bot-role",
        "variable GITLAB_TOKEN",
        "variable CLAUDE_API_KEY",
        "trigger",
        "pipeline-variables",
        "ci-include claude",
        "registry",
    ] {
        assert!(
            checks.iter().any(|c| c == expected),
            "no {expected}:\n{text}"
        );
    }
    crate::assert_note_snapshot!("prepared_project_local_report", text);

    let text = without_problems(&w.job().await);
    // The bot's own token: its expiry is known, and it may not list variables or hooks.
    crate::assert_note_snapshot!("prepared_project_job_report", text);
}

#[tokio::test]
async fn setup_ends_with_doctors_findings_then_the_first_comment_to_post() {
    let w = set_up(Mode::Webhook, false).await;
    let out = &w.setup_output;
    let text = out.join("\n");
    let doctor = out
        .iter()
        .position(|l| l == "Doctor:")
        .unwrap_or_else(|| panic!("no doctor section:\n{text}"));
    assert!(
        out[..doctor].iter().any(|l| l == "Done."),
        "doctor runs after the plan is applied:\n{text}"
    );
    // The include waits in setup's merge request; the rest is in place.
    assert!(
        text.contains("  fail ci-include claude: main has no .gitlab-ci.yml, so no job answers mentions — fix: merge !1 (opened by entrypoint setup)"),
        "{text}"
    );
    assert!(text.contains("  ok   bot-role:"), "{text}");
    assert!(text.contains("  ok   variable CLAUDE_API_KEY:"), "{text}");
    let n = out.len();
    assert!(out[n - 2].starts_with("doctor: "), "{text}");
    assert!(out[n - 2].ends_with(" 1 failed"), "{text}");
    assert!(
        out[n - 1].ends_with("@claude hello — can you see this issue?"),
        "{text}"
    );
    for secret in w.secrets() {
        assert!(
            !text.contains(&secret),
            "a secret reached setup's output:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_revoked_or_expired_bot_token_is_the_only_finding_and_says_how_to_replace_it() {
    let w = webhook_project().await;
    w.gl.update_token(&w.bot_token, |t| t.revoked = true)
        .unwrap();
    let job = w.job().await;
    let finding = only_failure(&job, Check::Token);
    assert_says(&finding, "Token was revoked", "GITLAB_TOKEN");
    // A Maintainer sees the same through the project's access tokens.
    let local = w.local().await;
    let finding = only_failure(&local, Check::BotToken);
    assert!(finding.found.contains("revoked or expired"), "{finding:?}");

    w.gl.update_token(&w.bot_token, |t| {
        t.revoked = false;
        t.expires_at = chrono::Utc::now().date_naive().pred_opt();
    })
    .unwrap();
    let finding = only_failure(&w.job().await, Check::Token);
    assert!(finding.found.contains("Token is expired"), "{finding:?}");
}

#[tokio::test]
async fn a_bot_token_without_the_api_scope_is_named() {
    let w = webhook_project().await;
    w.gl.update_token(&w.bot_token, |t| t.scopes = vec!["read_api".into()])
        .unwrap();
    let finding = only_failure(&w.job().await, Check::TokenScope);
    assert_says(&finding, "scopes read_api", "scope api");
}

#[tokio::test]
async fn a_token_about_to_expire_is_a_warning_not_a_failure() {
    let w = webhook_project().await;
    w.gl.update_token(&w.bot_token, |t| {
        t.expires_at = chrono::Utc::now()
            .date_naive()
            .checked_add_days(chrono::Days::new(5));
    })
    .unwrap();
    let job = w.job().await;
    assert!(!job.failed(), "{:?}", job.lines());
    let warnings = problems(&job);
    assert_eq!(warnings.len(), 1, "{:?}", job.lines());
    assert_eq!(
        (warnings[0].check.clone(), warnings[0].status),
        (Check::TokenExpiry, Status::Warn)
    );
    assert!(fix(warnings[0]).contains("rotate"), "{:?}", warnings[0]);
}

#[tokio::test]
async fn a_reporter_bot_cannot_push_and_doctor_says_so() {
    let w = webhook_project().await;
    w.gl.add_member(w.project, w.bot_id, 20).unwrap();
    let finding = only_failure(&w.local().await, Check::BotRole);
    assert_says(&finding, "Reporter (20)", "Developer role");
    let finding = only_failure(&w.job().await, Check::BotRole);
    assert!(finding.found.contains("below Developer"), "{finding:?}");
}

#[tokio::test]
async fn a_missing_model_key_is_named_with_how_to_add_it() {
    let w = webhook_project().await;
    w.delete_model_key().await;
    let finding = only_failure(&w.local().await, Check::Variable("CLAUDE_API_KEY"));
    assert_says(&finding, "not among", "masked and hidden");

    // In a job, the variable is simply absent from the environment.
    let mut vars = w.job_vars();
    vars.retain(|(name, _)| *name != "CLAUDE_API_KEY");
    let job = w.job_with(&vars).await;
    let finding = only_failure(&job, Check::Variable("CLAUDE_API_KEY"));
    assert!(
        finding
            .found
            .contains("CLAUDE_API_KEY or ANTHROPIC_API_KEY is not set in this job"),
        "{finding:?}"
    );
}

/// The only failure doctor finds locally once the model key of a set-up project is stored
/// again with these flags.
async fn model_key_stored_as(masked: bool, protected: bool) -> Finding {
    let w = webhook_project().await;
    w.replace_model_key(masked, protected).await;
    only_failure(&w.local().await, Check::Variable("CLAUDE_API_KEY"))
}

#[tokio::test]
async fn an_unmasked_key_fails_because_job_logs_would_show_it() {
    let finding = model_key_stored_as(false, false).await;
    assert_says(&finding, "is not masked", "masked and hidden");
}

#[tokio::test]
async fn a_protected_key_fails_because_unprotected_refs_get_no_value() {
    let finding = model_key_stored_as(true, true).await;
    assert_says(&finding, "is protected", "clear Protect variable");
}

#[tokio::test]
async fn without_webhook_trigger_or_schedule_nothing_starts_a_pipeline() {
    let w = relay_project().await;
    let before = w.local().await;
    assert!(problems(&before).is_empty(), "{:?}", before.lines());
    assert!(
        before
            .lines()
            .join("\n")
            .contains("relay mode: comments go to https://relay.example.com/hook"),
        "{:?}",
        before.lines()
    );
    let hook = w.gl.hooks(w.project)[0].id;
    w.maintainer_client()
        .delete(&format!("/projects/{}/hooks/{hook}", w.project))
        .await
        .unwrap();
    let finding = only_failure(&w.local().await, Check::Trigger);
    assert_says(
        &finding,
        "nothing turns comments into pipelines",
        "entrypoint setup --mode webhook",
    );
}

#[tokio::test]
async fn pipeline_variables_closed_to_the_trigger_owner_break_webhook_mode() {
    let w = webhook_project().await;
    w.set_pipeline_variables_role(PipelineVariablesRole::NoOneAllowed)
        .await;
    let finding = only_failure(&w.local().await, Check::PipelineVariables);
    assert!(finding.found.contains("no_one_allowed"), "{finding:?}");
    assert!(finding.found.contains("TRIGGER_PAYLOAD"), "{finding:?}");
}

#[tokio::test]
async fn a_16_x_instance_gets_one_line_per_missing_feature_and_nothing_else() {
    let w = webhook_project_on(GitLabVersion::new(16, 5, 0)).await;
    let report = w.local().await;
    let text = report.lines().join("\n");
    assert!(!report.failed(), "{text}");
    assert!(
        text.contains("ok   gitlab-version: GitLab 16.5.0"),
        "{text}"
    );
    let missing: Vec<&Finding> = problems(&report);
    let names: Vec<String> = missing.iter().map(|f| f.check.to_string()).collect();
    assert_eq!(
        names,
        [
            "gitlab-feature custom-webhook-template",
            "gitlab-feature comment-edit-events",
            "gitlab-feature pipeline-variables-role",
            "gitlab-feature hook-name",
            "gitlab-feature masked-and-hidden",
            "gitlab-feature idempotency-key",
            "gitlab-feature multiple-todos",
        ],
        "{text}"
    );
    for finding in &missing {
        assert_eq!(finding.status, Status::Warn, "{text}");
        assert!(
            finding.found.starts_with("GitLab 16.5.0 is older than "),
            "{text}"
        );
        assert!(!fix(finding).is_empty(), "{text}");
        assert_eq!(finding.line().lines().count(), 1, "{text}");
    }
    // Setup said what GitLab really stored: masked, not hidden.
    let said = w.setup_output.join("\n");
    for says in [
        "masked (not hidden: this GitLab is older than 17.4)",
        "(masked but NOT hidden",
    ] {
        assert!(said.contains(says), "{said}");
    }
    assert!(!said.contains("masked and hidden)"), "{said}");
    assert!(
        w.gl.variables(w.project)
            .iter()
            .all(|v| v.masked && !v.hidden)
    );
}

#[tokio::test]
async fn below_the_oldest_supported_release_doctor_fails() {
    let w = webhook_project_on(GitLabVersion::new(15, 6, 0)).await;
    let report = w.local().await;
    let finding = finding(&report, Check::GitLabVersion);
    assert_eq!(finding.status, Status::Fail, "{finding:?}");
    assert!(fix(&finding).contains("15.7.0"), "{finding:?}");
}

#[tokio::test]
async fn with_restrict_off_the_minimum_role_is_ignored_on_17_1_to_17_9() {
    let spec = ProjectSpec::new("acme/widgets").restrict_user_defined_variables(false);
    let w = set_up_on(GitLabVersion::new(17, 5, 0), spec, Mode::Webhook, true).await;
    w.set_pipeline_variables_role(PipelineVariablesRole::NoOneAllowed)
        .await;
    let report = w.local().await;
    let text = report.lines().join("\n");
    let finding = finding(&report, Check::PipelineVariables);
    assert_eq!(finding.status, Status::Ok, "{text}");
    assert!(finding.found.contains("unrestricted"), "{text}");
}

#[tokio::test]
async fn in_relay_mode_pipeline_variables_are_judged_for_the_bot() {
    let w = relay_project().await;
    let text = without_problems(&w.local().await);
    assert!(text.contains("the bot (Developer) may pass them"), "{text}");
    w.set_pipeline_variables_role(PipelineVariablesRole::Maintainer)
        .await;
    let report = w.local().await;
    let text = report.lines().join("\n");
    let found = problems(&report);
    assert_eq!(found.len(), 1, "{text}");
    assert_eq!(
        (found[0].check.clone(), found[0].status),
        (Check::PipelineVariables, Status::Warn),
        "{text}"
    );
    assert!(
        found[0].found.contains("above the bot's role (Developer)"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unmerged_include_points_at_setups_merge_request() {
    let w = set_up(Mode::Webhook, false).await;
    let finding = only_failure(&w.local().await, Check::CiInclude(Assistant::Claude));
    assert!(
        finding.found.contains("main has no .gitlab-ci.yml"),
        "{finding:?}"
    );
    assert_eq!(fix(&finding), "merge !1 (opened by entrypoint setup)");
}

#[tokio::test]
async fn an_unreachable_registry_is_named_with_its_address() {
    let mut w = webhook_project().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    w.registry = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let finding = only_failure(&w.local().await, Check::Registry);
    assert!(
        finding
            .found
            .starts_with(&format!("http://127.0.0.1:{port} is unreachable")),
        "{finding:?}"
    );
    assert!(fix(&finding).contains("reach"), "{finding:?}");
}

#[tokio::test]
async fn codex_in_a_job_without_net_admin_fails_with_the_runner_setting() {
    let w = webhook_project().await;
    let api = w.gl.api_url();
    let gitlab = client(&api, &w.bot_token);
    let vars = [
        ("GITLAB_CI", "true"),
        ("GITLAB_TOKEN", w.bot_token.as_str()),
        ("OPENAI_API_KEY", "sk-proj-0123456789"),
    ];
    let lookup = |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let inputs = Inputs {
        project: w.project_ref(),
        place: Place::Job,
        assistants: vec![Assistant::Codex],
        template: template(),
        registry: Some(w.registry.clone()),
        image: None,
        capabilities: Some(Capabilities::NONE),
        env: &lookup,
    };
    let report = doctor::run(Some(&gitlab), &inputs).await;
    let failing: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.check.to_string())
        .collect();
    // Codex is not included in this Claude project, and the job lacks NET_ADMIN.
    assert_eq!(
        failing,
        vec!["ci-include codex", "net-admin"],
        "{:?}",
        report.lines()
    );
    let net = finding(&report, Check::NetAdmin);
    assert!(fix(&net).contains("cap_add = [\"NET_ADMIN\"]"), "{net:?}");
}

// ---- the binary ------------------------------------------------------------------------------

fn doctor_binary(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let bin = doubles::binaries::entrypoint().expect("the entrypoint binary");
    let mut command = Command::new(bin);
    command
        .arg("doctor")
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("doctor starts");
    if let Some(mut pipe) = child.stdin.take() {
        use std::io::Write;
        pipe.write_all(stdin.unwrap_or_default().as_bytes())
            .expect("stdin");
    }
    child.wait_with_output().expect("doctor ends")
}

fn assert_quiet_about(output: &Output, secrets: &[String]) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for secret in secrets {
        assert!(!all.contains(secret), "a secret was printed:\n{all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_exits_zero_when_all_is_well_and_non_zero_with_json_when_not() {
    let w = webhook_project().await;
    let base = w.gl.base_url();
    let registry = w.registry.to_string();
    let path = "acme/widgets";
    let args = [
        "--project",
        path,
        "--gitlab-url",
        &base,
        "--registry",
        &registry,
        "--template-project",
        "tools/assistants",
    ];
    // Locally, the token read from stdin.
    let ok = tokio::task::block_in_place(|| doctor_binary(&args, &[], Some(&w.maintainer.token)));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{ok:?}");
    assert!(stdout.contains("ok   bot-role:"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("0 warning(s), 0 failed"),
        "{stdout}"
    );
    assert_quiet_about(&ok, &w.secrets());

    // In a job with a revoked token: one failing finding, exit status 1.
    w.gl.update_token(&w.bot_token, |t| t.revoked = true)
        .unwrap();
    let vars = w.job_vars();
    let failed = tokio::task::block_in_place(|| {
        doctor_binary(&["--json", "--registry", &registry], &borrowed(&vars), None)
    });
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
    let json: serde_json::Value =
        serde_json::from_slice(&failed.stdout).expect("doctor --json prints JSON");
    assert_eq!(json["ok"], false);
    let failing: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .collect();
    assert_eq!(failing.len(), 1, "{json}");
    assert_eq!(failing[0]["check"], "token");
    assert!(failing[0]["fix"].as_str().unwrap().contains("GITLAB_TOKEN"));
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("1 check(s) failed"),
        "{failed:?}"
    );
    assert_quiet_about(&failed, &w.secrets());
}

/// `AI_MONTHLY_BUDGET_USD` in a job: doctor sums this month's answers of the bot, as the run
/// does before it refuses a request, and warns once the budget is spent.
#[tokio::test]
async fn doctor_shows_this_months_spending_against_the_monthly_budget() {
    use doubles::gitlab::double::{IssueSpec, NoteSpec, Noteable};
    use entrypoint::budget::{RunOutcome, UsageLine};
    let w = webhook_project().await;
    let work = IssueSpec::new(w.maintainer.id, "Work");
    let issue = w.gl.create_issue(w.project, work).unwrap().iid;
    for (author, usd) in [(w.bot_id, 0.75), (w.bot_id, 0.5), (w.maintainer.id, 100.0)] {
        let line = UsageLine {
            v: 1,
            by: Some("dana".into()),
            usd: Some(usd),
            input: None,
            out: None,
            outcome: RunOutcome::Answered,
        };
        // The maintainer's note imitates an answer: only the bot's answers count.
        w.gl.add_note(
            w.project,
            Noteable::Issue(issue),
            NoteSpec::new(author, &format!("Done.\n\n{}", line.render())),
        )
        .unwrap();
    }
    let job = |budget: &'static str| {
        let mut vars = w.job_vars();
        vars.push(("AI_MONTHLY_BUDGET_USD", budget.to_owned()));
        let w = &w;
        async move { w.job_with(&vars).await }
    };
    let spending = |report: &Report| finding(report, Check::Spending);

    let within = spending(&job("10").await);
    assert_eq!(within.status, Status::Ok, "{within:?}");
    assert!(
        within
            .found
            .contains("about $1.25 of $10.00 spent this month (2 answers"),
        "{within:?}"
    );
    let spent = spending(&job("1").await);
    assert_eq!(spent.status, Status::Warn, "{spent:?}");
    assert!(
        fix(&spent).contains("requests are refused until"),
        "{spent:?}"
    );
}
