//! What the relay tests share: a double with a project, a developer and the bot; a relay
//! configured for it; and waiting for the relay to finish.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use doubles::gitlab::double::{
    GitLabDouble, HookSpec, NoteSpec, Noteable as DoubleNoteable, SeededNote, SeededUser,
};
use doubles::gitlab::faults::{FaultAction, FaultRule, Schedule};
use doubles::gitlab::model::{HookDelivery, Note};
use doubles::gitlab::seed::Seed;
use entrypoint::agent::Handles;
use entrypoint::gitlab::ids::{ProjectId, ProjectRef};
use entrypoint::gitlab::{ApiBaseUrl, ClientConfig, GitLab, GitLabToken, RetryPolicy};
use entrypoint::guard::GuardSettings;
use entrypoint::relay::config::{ConnectionLimits, PipelineStart, ProjectRoute};
use entrypoint::relay::{Relay, RelayConfig, Snapshot};
use entrypoint::secret::Secret;

pub const WEBHOOK_SECRET: &str = "relay-webhook-secret-4f7a9c";

pub struct World {
    pub gl: GitLabDouble,
    pub project: u64,
    pub bot: SeededUser,
    pub dev: SeededUser,
    pub issue: u64,
    pub trigger_token: String,
}

/// The world as a seed: a developer, the bot user (a Developer too) owning the trigger token,
/// and an issue to comment on.
const SEED: &str = r#"
[[users]]
username = "dana"
token = "glpat-relay-dana-0001"
[[users]]
username = "claude-bot"
bot = true
token = "glpat-relay-bot-0002"
[[projects]]
path = "acme/widgets"
members = [{ username = "dana", access_level = 30 }, { username = "claude-bot", access_level = 30 }]
[[triggers]]
project = "acme/widgets"
owner = "claude-bot"
token = "glptt-relay-trigger-0003"
[[issues]]
project = "acme/widgets"
author = "dana"
title = "Broken build"
"#;

pub async fn world() -> World {
    let gl = GitLabDouble::start().await.expect("double starts");
    let seed = Seed::parse(SEED).expect("seed parses");
    let users = seed.apply(&gl).expect("seed applies");
    let user = |name: &str| {
        users
            .iter()
            .find(|u| u.username == name)
            .cloned()
            .expect("seeded user")
    };
    let (dev, bot) = (user("dana"), user("claude-bot"));
    let client = GitLab::new(ClientConfig::new(
        ApiBaseUrl::parse(&gl.api_url()).expect("API URL"),
        GitLabToken::new(Secret::new(dev.token.clone())),
    ))
    .expect("client");
    let project = client
        .project(&ProjectRef::Path("acme/widgets".to_owned()))
        .await
        .expect("the seeded project")
        .id
        .0;
    let issue = gl.issues(project)[0].iid;
    let trigger_token = seed.triggers[0].token.clone().expect("seeded token");
    World {
        gl,
        project,
        bot,
        dev,
        issue,
        trigger_token,
    }
}

impl World {
    /// A relay for the world's project, starting pipelines with the trigger token, with
    /// millisecond retries, the test lease, and room for bursts.
    pub fn config(&self) -> RelayConfig {
        RelayConfig {
            queue_capacity: 256,
            workers: 16,
            retry: RetryPolicy {
                max_attempts: 10,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                total_budget: Duration::from_secs(20),
            },
            claim: claim_settings(),
            overflow_bytes: 64 * 1024 * 1024,
            ..relay_for(
                &self.gl.api_url(),
                &self.bot.token,
                self.project,
                PipelineStart::TriggerToken(Secret::new(self.trigger_token.clone())),
                WEBHOOK_SECRET,
            )
        }
    }

    /// [`World::relay`] of [`World::config`].
    pub async fn standard_relay(&self) -> Relay {
        self.relay(self.config()).await
    }

    /// Starts `config` and points a project hook with the right secret at it.
    pub async fn relay(&self, config: RelayConfig) -> Relay {
        let relay = Relay::start(config).await.expect("relay starts");
        self.gl
            .add_hook(
                self.project,
                HookSpec::notes(&webhook_url(relay.addr())).token(WEBHOOK_SECRET),
            )
            .expect("hook");
        relay
    }

    /// A comment on the world's issue, delivered to the hooks.
    pub fn mention(&self, body: &str) -> SeededNote {
        self.gl
            .add_note(
                self.project,
                DoubleNoteable::Issue(self.issue),
                NoteSpec::new(self.dev.id, body).emit_hooks(),
            )
            .expect("note")
    }

    /// `count` comments on the world's issue saying `@claude <word> <n>`, delivered to the hooks.
    pub fn mentions(&self, word: &str, count: usize) {
        for n in 0..count {
            self.mention(&format!("@claude {word} {n}"));
        }
    }

    /// The first `count` webhook deliveries, once they have finished.
    pub async fn deliveries(&self, count: usize) -> Vec<HookDelivery> {
        self.gl
            .wait_for_deliveries(count, Duration::from_secs(10))
            .await
            .expect("deliveries")
    }

    /// Exactly `count` pipelines and `count` placeholders exist.
    pub fn assert_answered(&self, count: usize) {
        assert_eq!(self.gl.pipelines(self.project).len(), count, "pipelines");
        assert_eq!(self.placeholders().len(), count, "placeholders");
    }

    pub fn notes(&self) -> Vec<Note> {
        self.gl
            .notes(self.project, DoubleNoteable::Issue(self.issue))
    }

    /// The bot's notes on the world's issue: placeholders, results, failure notes.
    pub fn bot_notes(&self) -> Vec<Note> {
        self.notes()
            .into_iter()
            .filter(|n| n.author_id == self.bot.id)
            .collect()
    }

    /// GitLab refuses the next pipeline start with a 500, as when its CI is briefly down.
    pub fn fail_next_pipeline_start(&self) {
        self.gl.faults().add(rule(
            "POST",
            "/api/v4/projects/*/trigger/pipeline",
            FaultAction::Status { code: 500 },
            Schedule::Times { n: 1 },
        ));
    }

    /// `method` on the API path `path` (below `/api/v4`) as the holder of `token`, with `body`
    /// as JSON: what another replica or a person does over REST, beside the relay.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        crate::support::seeded::rest(&self.gl, method, path, token, Some(body)).await
    }

    /// Notes carrying the relay's "working" placeholder marker (or the job's, once rewritten).
    pub fn placeholders(&self) -> Vec<Note> {
        self.notes()
            .into_iter()
            .filter(|n| n.body.contains(":placeholder -->"))
            .collect()
    }
}

/// A relay on a free local port for `project` of the double whose API is at `api`, and for it
/// alone: webhooks signed with `secret`, pipelines started on `main` as `start` says, answered
/// by Claude, no label trigger and no quota sweep, GitLab's default retries and claim lease.
pub fn relay_for(
    api: &str,
    bot_token: &str,
    project: u64,
    start: PipelineStart,
    secret: &str,
) -> RelayConfig {
    RelayConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        gitlab: ApiBaseUrl::parse(api).expect("the double's API URL"),
        webhook_secrets: vec![Secret::new(secret)],
        bot_token: Secret::new(bot_token),
        handles: Handles::default(),
        guard: GuardSettings::default(),
        projects: vec![(
            ProjectRef::Id(ProjectId(project)),
            ProjectRoute {
                start,
                git_ref: "main".to_owned(),
                bot_token: None,
            },
        )],
        default_route: None,
        queue_capacity: 16,
        workers: 2,
        max_body_bytes: 1024 * 1024,
        retry: RetryPolicy::default(),
        dedup_ttl: Duration::from_secs(600),
        claim: entrypoint::claim::ClaimSettings::default(),
        limits: ConnectionLimits::default(),
        overflow_bytes: 1024 * 1024,
        spool_dir: None,
        label_trigger: None,
        event_assistant: entrypoint::agent::Assistant::Claude,
        quota_sweep: None,
    }
}

/// Relay tests run with a three-second claim lease (`AI_CLAIM_LEASE_SECONDS`), so a claimer that
/// died is taken over within the test, and short pauses between colliding claims.
pub const TEST_LEASE: Duration = Duration::from_secs(3);

pub fn claim_settings() -> entrypoint::claim::ClaimSettings {
    entrypoint::claim::ClaimSettings {
        lease: TEST_LEASE,
        max_pause: Duration::from_millis(200),
    }
}

pub fn webhook_url(addr: SocketAddr) -> String {
    format!("http://{addr}/webhook")
}

/// A fault GitLab injects on `method` requests to `path`.
pub fn rule(method: &str, path: &str, action: FaultAction, schedule: Schedule) -> FaultRule {
    FaultRule {
        method: Some(method.to_owned()),
        path: path.to_owned(),
        action,
        schedule,
    }
}

/// [`resend`] to `relay`'s own webhook: GitLab's "Resend request" for a delivery it recorded.
pub async fn redeliver(
    relay: &Relay,
    delivery: &HookDelivery,
    replace: &[(&str, &str)],
) -> reqwest::Response {
    resend(delivery, &webhook_url(relay.addr()), replace).await
}

/// A GET of the relay's own `path` (`/metrics`, `/healthz`), as a scraper or a probe makes it.
pub async fn get(relay: &Relay, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{}{path}", relay.addr()))
        .await
        .expect("the relay answers")
}

/// Polls `relay`'s counters until `done` holds.
pub async fn wait_for(relay: &Relay, what: &str, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let stats = relay.stats();
        if done(&stats) {
            return stats;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Re-sends a recorded delivery to `url`, with its headers, optionally replacing some.
pub async fn resend(
    delivery: &HookDelivery,
    url: &str,
    replace: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(url);
    for (name, value) in &delivery.headers {
        let replaced = replace
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v);
        request = request.header(name, replaced.unwrap_or(value));
    }
    request
        .body(delivery.body.clone())
        .send()
        .await
        .expect("the relay answers")
}

/// Runs `entrypoint run` in-process for `pipeline` as its job would: the pipeline's `AI_*`
/// variables and the job's own CI variables. Enough for the flows that end before the assistant
/// runs (refusals, skips).
pub async fn run_job(
    w: &World,
    pipeline: &doubles::gitlab::model::Pipeline,
) -> entrypoint::answer::in_job::JobEnd {
    let dir = tempfile::tempdir().expect("a checkout directory");
    let mut vars: std::collections::HashMap<String, String> = pipeline
        .variables
        .iter()
        .map(|v| (v.key.clone(), v.value.clone()))
        .collect();
    for (key, value) in [
        ("CI_PROJECT_ID", w.project.to_string()),
        ("CI_PROJECT_PATH", "acme/widgets".to_owned()),
        ("CI_API_V4_URL", w.gl.api_url()),
        ("CI_SERVER_URL", w.gl.base_url()),
        ("CI_PROJECT_DIR", dir.path().display().to_string()),
        ("GITLAB_TOKEN", w.bot.token.clone()),
        ("ANTHROPIC_API_KEY", "sk-ant-test-0000".to_owned()),
        ("OPENAI_API_KEY", "sk-test-0000".to_owned()),
    ] {
        vars.insert(key.to_owned(), value);
    }
    let lookup = |name: &str| vars.get(name).cloned();
    let assistant = match vars.get("AI_ASSISTANT").map(String::as_str) {
        Some("codex") => entrypoint::agent::Assistant::Codex,
        _ => entrypoint::agent::Assistant::Claude,
    };
    let options = entrypoint::run::RunOptions {
        assistant,
        handles: Handles::default(),
    };
    let redactor = std::sync::Arc::new(entrypoint::redact::Redactor::new(Handles::default()));
    entrypoint::run::run(&options, &lookup, redactor)
        .await
        .expect("the job runs to an end")
}
