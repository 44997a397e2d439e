//! What the relay tests share: a double with a project, a developer and the bot; a relay
//! configured for it; and waiting for the relay to finish.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use doubles::gitlab::double::{
    GitLabDouble, HookSpec, IssueSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec,
    SeededNote, SeededUser, UserSpec,
};
use doubles::gitlab::model::{HookDelivery, Note};
use entrypoint::assistant::Handles;
use entrypoint::gitlab::ids::{ProjectId, ProjectRef};
use entrypoint::gitlab::{ApiBaseUrl, RetryPolicy};
use entrypoint::guard::GuardSettings;
use entrypoint::relay::config::{PipelineStart, ProjectRoute};
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

pub async fn world() -> World {
    let gl = GitLabDouble::start().await.expect("double starts");
    let project = gl
        .add_project(ProjectSpec::new("acme/widgets").default_branch("main"))
        .expect("project")
        .id;
    let bot = gl
        .add_user(UserSpec::project_bot(project, "Claude"))
        .expect("bot user");
    gl.add_member(project, bot.id, 30)
        .expect("bot is a Developer");
    let dev = gl.add_user(UserSpec::human("dana")).expect("developer");
    gl.add_member(project, dev.id, 30)
        .expect("dana is a Developer");
    let issue = gl
        .create_issue(project, IssueSpec::new(dev.id, "Broken build"))
        .expect("issue")
        .iid;
    let trigger_token = gl
        .add_trigger(project, bot.id, "relay")
        .expect("trigger token");
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
    /// millisecond retries.
    pub fn config(&self) -> RelayConfig {
        RelayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            gitlab: ApiBaseUrl::parse(&self.gl.api_url()).expect("API URL"),
            webhook_secrets: vec![Secret::new(WEBHOOK_SECRET)],
            bot_token: Secret::new(self.bot.token.clone()),
            handles: Handles::default(),
            guard: GuardSettings::default(),
            projects: vec![(
                ProjectRef::Id(ProjectId(self.project)),
                ProjectRoute {
                    start: PipelineStart::TriggerToken(Secret::new(self.trigger_token.clone())),
                    git_ref: "main".to_owned(),
                    bot_token: None,
                },
            )],
            default_route: None,
            queue_capacity: 256,
            workers: 16,
            max_body_bytes: 1024 * 1024,
            retry: RetryPolicy {
                max_attempts: 10,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                total_budget: Duration::from_secs(20),
            },
            dedup_ttl: Duration::from_secs(600),
        }
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

    pub fn notes(&self) -> Vec<Note> {
        self.gl
            .notes(self.project, DoubleNoteable::Issue(self.issue))
    }

    /// Notes carrying the relay's "working" placeholder marker (or the job's, once rewritten).
    pub fn placeholders(&self) -> Vec<Note> {
        self.notes()
            .into_iter()
            .filter(|n| n.body.contains(":placeholder -->"))
            .collect()
    }
}

pub fn webhook_url(addr: SocketAddr) -> String {
    format!("http://{addr}/webhook")
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
