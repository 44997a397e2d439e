//! Load on `entrypoint serve`: the GitLab double posts note events at a steady rate for a while,
//! each delivered as a real webhook over loopback to an in-process relay, which answers every
//! mention as in production (access checks, claim, placeholder, pipeline, link).
//!
//! `cargo run --release -p doubles --example relay_load [-- RATE SECONDS WORKERS]` (default
//! 500/s, 30 s, 16 workers: the relay's default)
//!
//! Prints the rate achieved, mentions lost (no pipeline) and duplicated (more than one pipeline
//! or placeholder), p50/p99/max of webhook received → placeholder posted (target: 0 lost,
//! 0 duplicated, p99 < 100 ms), and the machine's load average (`/proc/loadavg`) at the start
//! and the end, so a figure quoted in the docs carries how busy the machine was.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{
    HookSpec, IssueSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, UserSpec,
};
use doubles::replicas::load_average;
use entrypoint::agent::Handles;
use entrypoint::gitlab::ids::{ProjectId, ProjectRef};
use entrypoint::gitlab::{ApiBaseUrl, RetryPolicy};
use entrypoint::guard::GuardSettings;
use entrypoint::relay::config::{ConnectionLimits, PipelineStart, ProjectRoute};
use entrypoint::relay::{Relay, RelayConfig};
use entrypoint::secret::Secret;

const SECRET: &str = "load-test-webhook-secret";
/// Notes are spread over this many issues, as mentions are in a real instance.
const ISSUES: u64 = 200;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let rate: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(500);
    let seconds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(30);
    let workers: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(16);

    let gl = GitLabDouble::start().await?;
    let project = gl.add_project(ProjectSpec::new("load/app"))?.id;
    let bot = gl.add_member_user(project, UserSpec::project_bot(project, "Claude"), 30)?;
    let dev = gl.add_member_user(project, UserSpec::human("dana"), 30)?;
    let issues: Vec<u64> = (0..ISSUES)
        .map(|n| {
            Ok(gl
                .create_issue(project, IssueSpec::new(dev.id, &format!("Issue {n}")))?
                .iid)
        })
        .collect::<anyhow::Result<_>>()?;
    let trigger = gl.add_trigger(project, bot.id, "relay")?;

    let relay = Relay::start(RelayConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        gitlab: ApiBaseUrl::parse(&gl.api_url()).map_err(anyhow::Error::msg)?,
        webhook_secrets: vec![Secret::new(SECRET)],
        bot_token: Secret::new(bot.token.clone()),
        handles: Handles::default(),
        guard: GuardSettings::default(),
        projects: vec![(
            ProjectRef::Id(ProjectId(project)),
            ProjectRoute {
                start: PipelineStart::TriggerToken(Secret::new(trigger)),
                git_ref: "main".to_owned(),
                bot_token: None,
            },
        )],
        default_route: None,
        queue_capacity: 4096,
        workers,
        max_body_bytes: 1024 * 1024,
        retry: RetryPolicy::default(),
        dedup_ttl: Duration::from_secs(3600),
        claim: entrypoint::claim::ClaimSettings::default(),
        limits: ConnectionLimits::default(),
        overflow_bytes: 64 * 1024 * 1024,
        spool_dir: None,
        label_trigger: None,
        event_assistant: entrypoint::agent::Assistant::Claude,
        quota_sweep: None,
    })
    .await?;
    gl.add_hook(
        project,
        HookSpec::notes(&format!("http://{}/webhook", relay.addr())).token(SECRET),
    )?;

    println!("relay_load: {rate} note events/s for {seconds} s over loopback, {workers} workers");
    println!(
        "machine: {} cores, load average {} (1, 5, 15 min) at the start",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let started = Instant::now();
    let total = rate * seconds;
    let mut sent = 0u64;
    while sent < total {
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
        while sent < due.min(total) {
            let issue = issues[(sent % ISSUES) as usize];
            gl.add_note(
                project,
                DoubleNoteable::Issue(issue),
                NoteSpec::new(dev.id, &format!("@claude task {sent}")).emit_hooks(),
            )?;
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let sending = started.elapsed();
    println!(
        "sent {sent} mentions in {:.1} s: {:.0} events/s",
        sending.as_secs_f64(),
        sent as f64 / sending.as_secs_f64()
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stats = relay.stats();
        if stats.pipelines + stats.failed >= sent {
            break;
        }
        if Instant::now() > deadline {
            println!("gave up waiting: {stats:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained = started.elapsed();
    let stats = relay.stats();
    relay.shutdown().await?;

    let mut pipelines_per_note: HashMap<String, u64> = HashMap::new();
    for pipeline in gl.pipelines(project) {
        let note = pipeline
            .variable("AI_NOTE_ID")
            .context("a pipeline without AI_NOTE_ID")?;
        *pipelines_per_note.entry(note.to_owned()).or_default() += 1;
    }
    let mut placeholders = 0u64;
    for issue in &issues {
        placeholders += gl
            .notes(project, DoubleNoteable::Issue(*issue))
            .iter()
            .filter(|n| n.author_id == bot.id && n.body.contains(":placeholder -->"))
            .count() as u64;
    }
    let answered = pipelines_per_note.len() as u64;
    let lost = sent - answered;
    let duplicated = pipelines_per_note.values().filter(|n| **n > 1).count() as u64
        + placeholders.saturating_sub(answered);
    let statuses = gl
        .hook_deliveries()
        .iter()
        .fold(HashMap::new(), |mut acc, d| {
            *acc.entry(d.status.map_or("error".to_owned(), |s| s.to_string()))
                .or_insert(0u64) += 1;
            acc
        });
    let latency = stats.placeholder_latency;
    println!(
        "all answered {:.1} s after the first event",
        drained.as_secs_f64()
    );
    println!("deliveries by status: {statuses:?}");
    println!(
        "mentions: {sent} sent, {answered} answered, {lost} lost, {duplicated} duplicated, {} failed",
        stats.failed
    );
    println!(
        "webhook received -> placeholder posted: p50 {} ms, p99 {} ms, max {} ms ({} samples)",
        latency.p50_ms, latency.p99_ms, latency.max_ms, latency.count
    );
    println!(
        "throughput: {:.0} mentions answered/s; load average {} at the end",
        answered as f64 / drained.as_secs_f64(),
        load_average()
    );
    if lost > 0 || duplicated > 0 {
        bail!("{lost} lost and {duplicated} duplicated mentions");
    }
    Ok(())
}
