//! The relay's quota sweep (docs/relay.md): a relay has no scheduled scan, so it looks for the
//! bot's queued notes itself and starts each due one's retry pipeline, claimed with the reaction
//! the scan's retry takes on the queued note. Replicas and a scan racing for the same queued
//! note answer it once; a note not yet due is left alone; a quiet project costs a few calls.

use crate::relay_support;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use doubles::gitlab::double::{NoteSpec, Noteable as DoubleNoteable};
use entrypoint::agent::Assistant;
use entrypoint::claim::ClaimSettings;
use entrypoint::gitlab::ids::{IssueIid, NoteId, Noteable, ProjectId, ProjectRef, UserId};
use entrypoint::gitlab::{ApiBaseUrl, ClientConfig, GitLab, GitLabToken};
use entrypoint::marker::{NoteRole, marker};
use entrypoint::quota::retry::{Due, QueuedNote, claim_due};
use entrypoint::quota::{Queued, QueuedRequest};
use entrypoint::relay::{Relay, RelayConfig};
use entrypoint::secret::Secret;
use relay_support::{World, wait_for, world};

/// A mention the model API's limit queued: the developer's note and the bot's queued note in
/// its place, as `entrypoint run` leaves them ([`Queued::body`]'s hidden lines).
fn queued_mention(w: &World, retry_in: TimeDelta) -> (u64, u64, Queued) {
    let mention =
        w.gl.add_note(
            w.project,
            DoubleNoteable::Issue(w.issue),
            NoteSpec::new(w.dev.id, "@claude please fix the export"),
        )
        .unwrap();
    let queued = Queued {
        assistant: Assistant::Claude,
        request: QueuedRequest::Mention {
            note: NoteId(mention.id),
            discussion: None,
        },
        attempts: 1,
        retry_at: Utc::now() + retry_in,
    };
    let body = format!(
        "⏸️ **Claude** is queued.\n\n{}\n{}",
        marker(Assistant::Claude, NoteRole::Queued),
        queued.line()
    );
    let note =
        w.gl.add_note(
            w.project,
            DoubleNoteable::Issue(w.issue),
            NoteSpec::new(w.bot.id, &body),
        )
        .unwrap();
    (mention.id, note.id, queued)
}

fn sweeping(w: &World) -> RelayConfig {
    RelayConfig {
        quota_sweep: Some(Duration::from_millis(300)),
        ..w.config()
    }
}

#[tokio::test]
async fn two_relay_replicas_and_a_scan_retry_a_queued_mention_once() {
    let w = world().await;
    let (mention, queued_note, queued) = queued_mention(&w, TimeDelta::seconds(-1));
    let project = ProjectRef::Id(ProjectId(w.project));
    let bot = GitLab::new(ClientConfig::new(
        ApiBaseUrl::parse(&w.gl.api_url()).unwrap(),
        GitLabToken::new(Secret::new(w.bot.token.clone())),
    ))
    .unwrap();
    let note = QueuedNote {
        noteable: Noteable::Issue(IssueIid(w.issue)),
        note: NoteId(queued_note),
        queued,
    };
    let settings = ClaimSettings {
        lease: Duration::from_secs(600),
        max_pause: Duration::from_millis(200),
    };
    // The scan's retry claims through the same function, at the same moment as both replicas'
    // first sweeps.
    let (first, second, scan) = tokio::join!(
        Relay::start(sweeping(&w)),
        Relay::start(sweeping(&w)),
        claim_due(
            &bot,
            &project,
            UserId(w.bot.id),
            &settings,
            &note,
            Utc::now()
        ),
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    wait_for(&first, "a few sweeps by both", |a| {
        a.sweeps >= 3 && second.stats().sweeps >= 3
    })
    .await;
    let scan_won = matches!(scan, Due::Claimed { .. });
    let (a, b) = (first.stats(), second.stats());
    assert_eq!(
        a.retries + b.retries + u64::from(scan_won),
        1,
        "{a:?} {b:?} {scan:?}"
    );
    assert_eq!((a.retry_failures, b.retry_failures), (0, 0));
    let pipelines = w.gl.pipelines(w.project);
    assert_eq!(pipelines.len() as u64, a.retries + b.retries);
    if let Some(pipeline) = pipelines.first() {
        // The retry answers the queued mention in place of the queued note.
        assert_eq!(
            pipeline.variable("AI_NOTE_ID"),
            Some(mention.to_string().as_str())
        );
        assert_eq!(
            pipeline.variable("AI_PLACEHOLDER_NOTE_ID"),
            Some(queued_note.to_string().as_str())
        );
        assert_eq!(pipeline.variable("AI_QUOTA_ATTEMPT"), Some("2"));
        assert_eq!(pipeline.variable("AI_ASSISTANT"), Some("claude"));
    }
    assert_eq!(
        w.gl.award_names(queued_note),
        vec!["eyes".to_owned(), "hourglass_flowing_sand".to_owned()],
        "claimed once on the queued note, then handed over"
    );
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_queued_mention_not_yet_due_is_left_alone_by_the_relay() {
    let w = world().await;
    let (_, queued_note, _) = queued_mention(&w, TimeDelta::hours(1));
    let relay = Relay::start(sweeping(&w)).await.unwrap();
    let stats = wait_for(&relay, "three sweeps", |s| s.sweeps >= 3).await;
    assert_eq!((stats.retries, stats.sweep_failures), (0, 0), "{stats:?}");
    assert!(w.gl.pipelines(w.project).is_empty());
    assert!(w.gl.award_names(queued_note).is_empty(), "not even claimed");
    let metrics = relay_support::get(&relay, "/metrics")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("\ngitlab_ai_relay_retries_total 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE gitlab_ai_relay_sweeps_total counter\n"),
        "{metrics}"
    );
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_sweep_of_a_quiet_project_costs_three_calls() {
    let w = world().await;
    let relay = Relay::start(sweeping(&w)).await.unwrap();
    // The first sweep also reads the bot user (once per project) and lists a day back.
    wait_for(&relay, "the first sweep", |s| s.sweeps >= 1).await;
    let first = relay.stats();
    let stats = wait_for(&relay, "five more sweeps", |s| s.sweeps >= first.sweeps + 5).await;
    let calls = stats.sweep_api_calls - first.sweep_api_calls;
    let sweeps = stats.sweeps - first.sweeps;
    // Issues and merge requests updated since the last sweep (none touched): two list
    // requests, plus one notes page for the seeded issue while it is inside the reach.
    assert!(
        calls <= 3 * sweeps,
        "{calls} calls in {sweeps} sweeps: {stats:?}"
    );
    eprintln!(
        "quota sweep of a quiet project: {calls} calls in {sweeps} sweeps ({:.1} per sweep); first sweep {} calls",
        calls as f64 / sweeps as f64,
        first.sweep_api_calls
    );
    relay.shutdown().await.unwrap();
}
