//! Several real `entrypoint serve` processes in front of one GitLab double, every delivery sent
//! to each of them (one project hook per replica, as a project hook and a group hook, or two
//! load-balanced replicas receiving GitLab's retries, would), and the score of what they did:
//! which mentions were answered once, refused once, lost or answered twice.
//!
//! Used by the `relay_replicas` integration tests and the `relay_faults` benchmark.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::gitlab::double::{
    GitLabDouble, HookSpec, IssueSpec, NoteSpec, Noteable, SeededNote, SeededUser,
};
use crate::gitlab::faults::{FaultAction, FaultRule, Faults, Schedule};
use crate::gitlab::model::HookDelivery;
use crate::gitlab::seed::Seed;

/// The webhook secret every replica and hook share.
pub const WEBHOOK_SECRET: &str = "replicas-webhook-secret-7d21";

const SEED: &str = r#"
[[users]]
username = "dana"
token = "glpat-replicas-dana-0001"
[[users]]
username = "gus"
token = "glpat-replicas-gus-0004"
[[users]]
username = "claude-bot"
bot = true
token = "glpat-replicas-bot-0002"
[[projects]]
path = "acme/widgets"
members = [
  { username = "dana", access_level = 30 },
  { username = "gus", access_level = 10 },
  { username = "claude-bot", access_level = 30 },
]
[[triggers]]
project = "acme/widgets"
owner = "claude-bot"
token = "glptt-replicas-trigger-0003"
"#;

/// One `entrypoint serve` process.
pub struct Replica {
    /// Where it listens.
    pub addr: SocketAddr,
    spool: PathBuf,
    child: Option<tokio::process::Child>,
}

impl Replica {
    /// Its webhook URL.
    pub fn url(&self) -> String {
        format!("http://{}/webhook", self.addr)
    }

    /// True while its process runs.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

/// The double, its people, and the replicas.
pub struct Fleet {
    /// The GitLab double, with its fault injection ([`GitLabDouble::faults`]).
    pub gl: GitLabDouble,
    /// The project every mention is in.
    pub project: u64,
    /// A Developer: their mentions are answered.
    pub dev: SeededUser,
    /// A Guest: their mentions are refused.
    pub guest: SeededUser,
    /// The bot user behind the replicas' token.
    pub bot: SeededUser,
    trigger_token: String,
    lease: Duration,
    env: Vec<(String, String)>,
    replicas: Vec<Replica>,
    _dir: tempfile::TempDir,
}

/// A mention posted by [`Fleet::mention`], on an issue of its own so that everything the bot
/// posts about it is told apart.
#[derive(Clone, Debug)]
pub struct Posted {
    /// The issue's IID.
    pub issue: u64,
    /// The note.
    pub note: SeededNote,
    /// Whether its author may ask (a Guest's is to be refused).
    pub allowed: bool,
}

/// What became of one mention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// One pipeline and one placeholder (allowed), or one refusal (not allowed).
    Once,
    /// No pipeline, and one note that says it failed and how to retry.
    FailedVisibly,
    /// Nothing, or a placeholder with no pipeline behind it.
    Lost,
    /// More than one pipeline, or more than one note of the bot, or a failure note beside an
    /// answer.
    Duplicated,
}

/// The score of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Allowed mentions answered once.
    pub answered: usize,
    /// Guest mentions refused once.
    pub refused: usize,
    /// Mentions that ended with one failure note.
    pub failed_visibly: usize,
    /// Mentions that ended with nothing, or a placeholder left "working" without a pipeline.
    pub lost: usize,
    /// Mentions answered, refused or noted more than once.
    pub duplicated: usize,
}

impl Fleet {
    /// Starts the double and `replicas` relays with a claim lease of `lease`, each with its own
    /// spool directory and `workers` workers, and one project hook per replica.
    pub async fn start(replicas: usize, lease: Duration, workers: usize) -> anyhow::Result<Fleet> {
        Self::start_with(replicas, lease, workers, &[]).await
    }

    /// [`Fleet::start`], with more `AI_RELAY_*` settings for every replica (a small queue).
    pub async fn start_with(
        replicas: usize,
        lease: Duration,
        workers: usize,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Fleet> {
        let gl = GitLabDouble::start().await?;
        let seed = Seed::parse(SEED)?;
        let users = seed.apply(&gl)?;
        let user = |name: &str| {
            users
                .iter()
                .find(|u| u.username == name)
                .cloned()
                .with_context(|| format!("seeded user {name}"))
        };
        let project: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/projects/acme%2Fwidgets", gl.api_url()))
            .header("PRIVATE-TOKEN", user("dana")?.token)
            .send()
            .await?
            .json()
            .await?;
        let project = project["id"].as_u64().context("the seeded project's id")?;
        let trigger_token = seed
            .triggers
            .first()
            .and_then(|t| t.token.clone())
            .context("the seeded trigger token")?;
        let dir = tempfile::tempdir()?;
        let mut fleet = Fleet {
            gl,
            project,
            dev: user("dana")?,
            guest: user("gus")?,
            bot: user("claude-bot")?,
            trigger_token,
            lease,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            replicas: Vec::new(),
            _dir: dir,
        };
        for index in 0..replicas {
            let addr = {
                let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
                probe.local_addr()?
            };
            let spool = fleet._dir.path().join(format!("spool-{index}"));
            fleet.replicas.push(Replica {
                addr,
                spool,
                child: None,
            });
            fleet.spawn(index, workers).await?;
            fleet.gl.add_hook(
                project,
                HookSpec::notes(&fleet.replicas[index].url()).token(WEBHOOK_SECRET),
            )?;
        }
        Ok(fleet)
    }

    /// The replicas.
    pub fn replicas(&self) -> &[Replica] {
        &self.replicas
    }

    async fn spawn(&mut self, index: usize, workers: usize) -> anyhow::Result<()> {
        let binary = crate::binaries::entrypoint()?;
        let replica = &mut self.replicas[index];
        let child = tokio::process::Command::new(binary)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("AI_RELAY_LISTEN", replica.addr.to_string())
            .env("AI_RELAY_GITLAB_URL", self.gl.base_url())
            .env("AI_RELAY_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env("AI_RELAY_BOT_TOKEN", &self.bot.token)
            .env("AI_RELAY_DEFAULT_TRIGGER_TOKEN", &self.trigger_token)
            .env("AI_RELAY_WORKERS", workers.to_string())
            .env("AI_RELAY_SPOOL_DIR", &replica.spool)
            .env(
                "AI_CLAIM_LEASE_SECONDS",
                self.lease.as_secs().max(1).to_string(),
            )
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting entrypoint serve")?;
        replica.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let url = format!("http://{}/healthz", replica.addr);
        loop {
            if let Ok(response) = reqwest::get(&url).await
                && response.status().is_success()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("replica {index} never answered /healthz");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILLs replica `index`: no drain, no goodbye.
    pub async fn kill(&mut self, index: usize) -> anyhow::Result<()> {
        if let Some(mut child) = self.replicas[index].child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    /// Starts replica `index` again on its address and spool.
    pub async fn restart(&mut self, index: usize, workers: usize) -> anyhow::Result<()> {
        self.kill(index).await?;
        self.spawn(index, workers).await
    }

    /// Posts a mention on a new issue, delivered to every replica's hook.
    pub fn mention(&self, allowed: bool, body: &str) -> anyhow::Result<Posted> {
        let author = if allowed { &self.dev } else { &self.guest };
        let issue = self
            .gl
            .create_issue(self.project, IssueSpec::new(self.dev.id, body))?;
        let note = self.gl.add_note(
            self.project,
            Noteable::Issue(issue.iid),
            NoteSpec::new(author.id, body).emit_hooks(),
        )?;
        Ok(Posted {
            issue: issue.iid,
            note,
            allowed,
        })
    }

    /// What became of `mention`, from the double's state.
    pub fn fate(&self, mention: &Posted) -> Fate {
        let pipelines = self
            .gl
            .pipelines(self.project)
            .iter()
            .filter(|p| p.variable("AI_NOTE_ID") == Some(mention.note.id.to_string().as_str()))
            .count();
        let notes = self.gl.notes(self.project, Noteable::Issue(mention.issue));
        let bot: Vec<_> = notes
            .iter()
            .filter(|n| n.author_id == self.bot.id)
            .collect();
        let count = |role: &str| bot.iter().filter(|n| n.body.contains(role)).count();
        let (placeholders, results, refusals) = (
            count(":placeholder -->"),
            count(":result -->"),
            count(":refusal -->"),
        );
        if pipelines > 1 || bot.len() > 1 {
            return Fate::Duplicated;
        }
        match (mention.allowed, pipelines, placeholders, results, refusals) {
            (true, 1, 1, 0, 0) | (false, 0, 0, 0, 1) => Fate::Once,
            (_, 0, 0, 1, 0) => Fate::FailedVisibly,
            (_, 0, _, 0, 0) => Fate::Lost,
            _ => Fate::Duplicated,
        }
    }

    /// The score over `mentions`.
    pub fn tally(&self, mentions: &[Posted]) -> Tally {
        let mut tally = Tally::default();
        for mention in mentions {
            match (self.fate(mention), mention.allowed) {
                (Fate::Once, true) => tally.answered += 1,
                (Fate::Once, false) => tally.refused += 1,
                (Fate::FailedVisibly, _) => tally.failed_visibly += 1,
                (Fate::Lost, _) => tally.lost += 1,
                (Fate::Duplicated, _) => tally.duplicated += 1,
            }
        }
        tally
    }

    /// The deliveries of `mention` (one per hook).
    pub fn deliveries_of(&self, mention: &Posted) -> Vec<HookDelivery> {
        self.gl
            .hook_deliveries()
            .into_iter()
            .filter(|d| {
                serde_json::from_str::<serde_json::Value>(&d.body)
                    .ok()
                    .and_then(|body| body["object_attributes"]["id"].as_u64())
                    == Some(mention.note.id)
            })
            .collect()
    }

    /// "Resend request" in the hook's recent events: the same delivery, headers and body, sent
    /// again to the hook's URL (whichever replica listens there now). `None` when the replica
    /// did not answer.
    pub async fn resend(&self, delivery: &HookDelivery) -> Option<u16> {
        let mut request = reqwest::Client::new()
            .post(&delivery.url)
            .timeout(Duration::from_secs(10));
        for (name, value) in &delivery.headers {
            request = request.header(name, value);
        }
        let response = request.body(delivery.body.clone()).send().await.ok()?;
        Some(response.status().as_u16())
    }

    /// Waits until `settled` holds; at most `timeout`.
    pub async fn settle(
        &self,
        timeout: Duration,
        settled: impl Fn(&Fleet) -> bool,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        while !settled(self) {
            if tokio::time::Instant::now() > deadline {
                bail!("the replicas did not settle within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// The counters of every running replica (`/healthz`), summed.
    pub async fn stats(&self) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
        let mut sum = serde_json::Map::new();
        for replica in self.replicas.iter().filter(|r| r.is_running()) {
            let health: serde_json::Value =
                reqwest::get(format!("http://{}/healthz", replica.addr))
                    .await?
                    .json()
                    .await?;
            if let Some(stats) = health["stats"].as_object() {
                for (key, value) in stats {
                    if let Some(n) = value.as_u64() {
                        let total = sum.get(key).and_then(|v| v.as_u64()).unwrap_or(0) + n;
                        sum.insert(key.clone(), total.into());
                    }
                }
            }
        }
        Ok(sum)
    }

    /// Waits until every mention of `posted` has an end (answered, refused or a failure note);
    /// false when some have none after `timeout`.
    pub async fn wait_for_ends(&self, posted: &[Posted], timeout: Duration) -> bool {
        let ended = |fleet: &Fleet| posted.iter().all(|m| fleet.fate(m) != Fate::Lost);
        self.settle(timeout, ended).await.is_ok()
    }

    /// Resends, to the replicas still running, the deliveries of every mention of `posted` that
    /// has no end, as a person would from the hook's "Recent events"; the number resent.
    pub async fn resend_lost(&self, posted: &[Posted]) -> usize {
        let running: Vec<String> = self
            .replicas
            .iter()
            .filter(|r| r.is_running())
            .map(|r| r.url())
            .collect();
        let mut resent = 0;
        for mention in posted.iter().filter(|m| self.fate(m) == Fate::Lost) {
            for delivery in self
                .deliveries_of(mention)
                .into_iter()
                .filter(|d| running.contains(&d.url))
            {
                resent += 1;
                self.resend(&delivery).await;
            }
        }
        resent
    }
}

/// Makes GitLab fail about a fifth of its answers, the same way on every run (seeded): 14 % of
/// the requests of each method answer 500 or 503, and 7 % of POSTs 429 without `Retry-After`
/// delay. What the relay's fault tests and the `relay_faults` benchmark put the fleet through.
pub fn fail_a_fifth(faults: &Faults) {
    for (n, (method, code)) in [("GET", 500), ("POST", 503), ("PUT", 500), ("DELETE", 503)]
        .into_iter()
        .enumerate()
    {
        let schedule = Schedule::Fraction {
            ratio: 0.14,
            seed: 15 + n as u64,
        };
        faults.add(FaultRule::on(
            method,
            "/api/v4/**",
            FaultAction::Status { code },
            schedule,
        ));
    }
    let rate_limited = FaultAction::RateLimited {
        retry_after_secs: 0,
    };
    let schedule = Schedule::Fraction {
        ratio: 0.07,
        seed: 99,
    };
    faults.add(FaultRule::on("POST", "/api/v4/**", rate_limited, schedule));
}

/// The 1, 5 and 15 minute load averages as the kernel reports them, for the relay benchmarks
/// to print beside their figures (a loaded machine explains slow ones).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|e| format!("unknown ({e})"))
}
