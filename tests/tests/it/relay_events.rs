//! `entrypoint serve` takes Issue and Merge Request Hooks (docs/relay.md): the bot assigned, its
//! review requested, the trigger label added, a mention in a new issue's description. The double
//! sends the hooks GitLab sends to an "Issues events" and "Merge request events" webhook; the
//! relay decides with webhook mode's code, claims the issue or merge request for the event's time,
//! posts one placeholder and starts one pipeline whose `AI_EVENT*` variables the job reads back.

use crate::relay_support;
use crate::support::pipeline_job::job_env;

use std::time::Duration;

use doubles::gitlab::double::{
    HookSpec, IssuableChange, IssueSpec, Noteable as DoubleNoteable, UserSpec,
};
use entrypoint::agent::{Assistant, Handles};
use entrypoint::gitlab::ids::{IssueIid, NoteId, Noteable, ProjectId, ProjectRef};
use entrypoint::relay::{Relay, RelayConfig};
use entrypoint::trigger::event_vars::Requested;
use entrypoint::trigger::load::{Entry, detect};
use relay_support::{WEBHOOK_SECRET, World, get, redeliver, wait_for, webhook_url, world};

/// Starts `config` and points a hook for comments, issues and merge requests at it.
async fn relay(w: &World, config: RelayConfig) -> Relay {
    let relay = Relay::start(config).await.expect("relay starts");
    w.gl.add_hook(
        w.project,
        HookSpec {
            issues_events: true,
            merge_requests_events: true,
            ..HookSpec::notes(&webhook_url(relay.addr())).token(WEBHOOK_SECRET)
        },
    )
    .expect("hook");
    relay
}

/// `by` changes issue `issue` as GitLab's UI would, which delivers the Issue Hook.
fn change(w: &World, issue: u64, by: u64, change: IssuableChange) {
    w.gl.change_issuable(w.project, DoubleNoteable::Issue(issue), by, change)
        .expect("the change applies");
}

fn labelled(w: &World) -> RelayConfig {
    RelayConfig {
        label_trigger: Some("claude".to_owned()),
        ..w.config()
    }
}

fn bot_notes(w: &World, issue: u64) -> Vec<doubles::gitlab::model::Note> {
    w.gl.notes(w.project, DoubleNoteable::Issue(issue))
        .into_iter()
        .filter(|n| n.author_id == w.bot.id)
        .collect()
}

/// No pipeline, note or claim comes later: the relay's workers have had time to act.
async fn nothing_happened(w: &World, relay: &Relay, issue: u64) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = relay.stats();
    assert_eq!((stats.placeholders, stats.pipelines), (0, 0), "{stats:?}");
    assert!(w.gl.pipelines(w.project).is_empty());
    assert!(bot_notes(w, issue).is_empty());
    assert!(
        w.gl.noteable_awards(w.project, DoubleNoteable::Issue(issue))
            .is_empty()
    );
}

#[tokio::test]
async fn the_relay_turns_an_assignment_into_one_pipeline_even_when_the_hook_comes_twice() {
    let w = world().await;
    let first = relay(&w, w.config()).await;
    // A second replica behind its own hook: every event reaches both.
    let second = relay(&w, w.config()).await;
    change(&w, w.issue, w.dev.id, IssuableChange::assign(&[w.bot.id]));
    let deliveries = w.deliveries(2).await;
    assert!(
        deliveries.iter().all(|d| d.status == Some(202)),
        "cheap intake: {deliveries:?}"
    );
    wait_for(&first, "one answer between the replicas", |a| {
        let b = second.stats();
        a.pipelines + b.pipelines == 1 && a.claimed_elsewhere + b.claimed_elsewhere == 1
    })
    .await;
    // GitLab's "Resend request", and the same event under a new id, to the first replica.
    // 200 from the in-memory check, or 202 where that replica lost the claim and forgot the
    // event (its claimer might have died): the claim then answers it.
    let same = redeliver(&first, &deliveries[0], &[]).await;
    assert!(same.status().is_success());
    let renamed = redeliver(
        &first,
        &deliveries[0],
        &[
            ("X-Gitlab-Event-UUID", "another-uuid"),
            ("Idempotency-Key", "another-key"),
        ],
    )
    .await;
    assert!(renamed.status().is_success());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let pipelines = w.gl.pipelines(w.project);
    assert_eq!(pipelines.len(), 1, "{pipelines:?}");
    let placeholders = w.placeholders();
    assert_eq!(placeholders.len(), 1, "{placeholders:?}");
    let awards: Vec<String> =
        w.gl.noteable_awards(w.project, DoubleNoteable::Issue(w.issue))
            .into_iter()
            .map(|a| a.name)
            .collect();
    assert_eq!(
        awards,
        vec!["eyes".to_owned(), "hourglass_flowing_sand".to_owned()],
        "the issue is claimed for the event, then handed over"
    );
    let stats = first.stats();
    assert!(stats.events >= 1, "{stats:?}");

    // The job reads exactly these variables back, takes the placeholder over, and claims
    // nothing again.
    let pipeline = &pipelines[0];
    let vars = job_env(pipeline, w.project);
    assert_eq!(pipeline.variable("AI_ASSISTANT"), Some("claude"));
    let Entry::EventVars(request) = detect(&vars, &Handles::default()).unwrap() else {
        panic!("the job must take the AI_EVENT* variables")
    };
    assert_eq!(request.project, ProjectRef::Id(ProjectId(w.project)));
    assert_eq!(request.noteable, Noteable::Issue(IssueIid(w.issue)));
    assert_eq!(request.requested, Requested::Assigned);
    assert_eq!(request.actor.0, w.dev.id);
    assert_eq!(request.placeholder, Some(NoteId(placeholders[0].id)));
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_relay_ignores_the_bots_own_label_change() {
    let w = world().await;
    let relay = relay(&w, labelled(&w)).await;
    // The bot user read once, as the first event of a project makes the relay do.
    change(&w, w.issue, w.dev.id, IssuableChange::assign(&[w.dev.id]));
    wait_for(&relay, "the assignment to someone else decided", |s| {
        s.events_ignored == 1
    })
    .await;
    // The bot labels what it works on: no request, decided at intake without an API call.
    let calls = w.gl.requests().len();
    change(&w, w.issue, w.bot.id, IssuableChange::add_label("claude"));
    let deliveries = w.deliveries(2).await;
    assert_eq!(deliveries[1].status, Some(200), "{:?}", deliveries[1]);
    assert_eq!(
        w.gl.requests().len(),
        calls,
        "no API call for the bot's own change"
    );
    nothing_happened(&w, &relay, w.issue).await;
    assert_eq!(relay.stats().events_ignored, 1);
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_trigger_label_added_by_a_developer_through_the_relay_starts_one_pipeline() {
    let w = world().await;
    let relay = relay(&w, labelled(&w)).await;
    change(&w, w.issue, w.dev.id, IssuableChange::add_label("bug"));
    let other = w.deliveries(1).await.remove(0);
    assert_eq!(other.status, Some(200), "another label: ignored at intake");
    change(&w, w.issue, w.dev.id, IssuableChange::add_label("claude"));
    wait_for(&relay, "one pipeline", |s| s.pipelines == 1).await;
    let stats = relay.stats();
    assert_eq!(stats.events, 1, "{stats:?}");
    let metrics = get(&relay, "/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            "# TYPE gitlab_ai_relay_events_total counter\ngitlab_ai_relay_events_total 1\n"
        ),
        "{metrics}"
    );
    let pipelines = w.gl.pipelines(w.project);
    assert_eq!(pipelines[0].variable("AI_EVENT"), Some("labelled"));
    assert_eq!(pipelines[0].variable("AI_EVENT_LABEL"), Some("claude"));
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_mention_in_a_new_issues_description_through_the_relay_asks_the_assistant_named() {
    let w = world().await;
    let relay = relay(&w, w.config()).await;
    let issue =
        w.gl.open_issue(
            w.project,
            IssueSpec::new(w.dev.id, "Flaky test")
                .description("@codex please find out why the export test is flaky"),
        )
        .unwrap()
        .iid;
    wait_for(&relay, "one pipeline", |s| s.pipelines == 1).await;
    let pipelines = w.gl.pipelines(w.project);
    assert_eq!(pipelines.len(), 1);
    assert_eq!(pipelines[0].variable("AI_ASSISTANT"), Some("codex"));
    assert_eq!(
        pipelines[0].variable("AI_EVENT"),
        Some("description_mention")
    );
    assert_eq!(
        pipelines[0].variable("AI_NOTEABLE_IID"),
        Some(issue.to_string().as_str())
    );
    assert_eq!(bot_notes(&w, issue).len(), 1, "one placeholder");
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_reporter_assigning_the_bot_through_the_relay_is_refused_once() {
    let w = world().await;
    let reporter = w.gl.add_user(UserSpec::human("rita")).unwrap();
    w.gl.add_member(w.project, reporter.id, 20).unwrap();
    let relay = relay(&w, w.config()).await;
    change(
        &w,
        w.issue,
        reporter.id,
        IssuableChange::assign(&[w.bot.id]),
    );
    let delivery = w.deliveries(1).await.remove(0);
    wait_for(&relay, "the refusal", |s| s.not_allowed == 1).await;
    // Resent after the in-memory check forgot it (a new id): the claim still holds.
    redeliver(
        &relay,
        &delivery,
        &[
            ("X-Gitlab-Event-UUID", "resent-uuid"),
            ("Idempotency-Key", "resent-key"),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(w.gl.pipelines(w.project).is_empty());
    let notes = bot_notes(&w, w.issue);
    assert_eq!(notes.len(), 1, "one refusal: {notes:?}");
    assert!(notes[0].body.contains("@rita"), "{}", notes[0].body);
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_assignment_for_codex_is_answered_by_the_configured_event_assistant() {
    let w = world().await;
    let relay = relay(
        &w,
        RelayConfig {
            event_assistant: Assistant::Codex,
            ..w.config()
        },
    )
    .await;
    change(&w, w.issue, w.dev.id, IssuableChange::assign(&[w.bot.id]));
    wait_for(&relay, "one pipeline", |s| s.pipelines == 1).await;
    let pipelines = w.gl.pipelines(w.project);
    assert_eq!(pipelines.len(), 1);
    assert_eq!(pipelines[0].variable("AI_ASSISTANT"), Some("codex"));
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_confidential_issue_assigned_to_the_bot_through_the_relay_gets_an_internal_placeholder() {
    let w = world().await;
    let relay = Relay::start(w.config()).await.expect("relay starts");
    // Issues events alone do not carry confidential issues: the hook must opt in.
    let url = webhook_url(relay.addr());
    w.gl.add_hook(
        w.project,
        HookSpec::issues_and_merge_requests(&url).token(WEBHOOK_SECRET),
    )
    .unwrap();
    let issue =
        w.gl.create_issue(
            w.project,
            IssueSpec::new(w.dev.id, "Leaked key").confidential(),
        )
        .unwrap()
        .iid;
    change(&w, issue, w.dev.id, IssuableChange::assign(&[w.dev.id]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        w.gl.hook_deliveries().is_empty(),
        "not sent to an ordinary hook"
    );
    assert_eq!(relay.stats().deliveries, 0);

    w.gl.add_hook(
        w.project,
        HookSpec {
            confidential_issues_events: true,
            ..HookSpec::issues_and_merge_requests(&url).token(WEBHOOK_SECRET)
        },
    )
    .unwrap();
    change(
        &w,
        issue,
        w.dev.id,
        IssuableChange::assign(&[w.dev.id, w.bot.id]),
    );
    let delivery = w.deliveries(1).await.remove(0);
    let event = delivery
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("X-Gitlab-Event"))
        .map(|(_, value)| value.clone());
    assert_eq!(event.as_deref(), Some("Confidential Issue Hook"));
    wait_for(&relay, "one pipeline", |s| s.pipelines == 1).await;
    let notes = bot_notes(&w, issue);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].internal,
        "answers on a confidential issue stay internal"
    );
    relay.shutdown().await.unwrap();
}
