//! `entrypoint serve` against the GitLab double, over real HTTP: GitLab's own webhook deliveries
//! reach the relay, which claims each mention, posts one threaded placeholder and starts one
//! pipeline whose variables are exactly what `entrypoint run` reads.

use crate::relay_support;
use crate::support::pipeline_job::job_env;

use std::collections::BTreeSet;
use std::time::Duration;

use doubles::gitlab::double::{NoteSpec, Noteable as DoubleNoteable};
use entrypoint::agent::{Assistant, Handles};
use entrypoint::gitlab::ids::{IssueIid, NoteId, Noteable, ProjectId, ProjectRef};
use entrypoint::relay::RelayConfig;
use entrypoint::trigger::ci_vars;
use entrypoint::trigger::load::{Entry, detect};
use relay_support::{WEBHOOK_SECRET, redeliver, wait_for, webhook_url, world};

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused_with_401_and_nothing_happens() {
    let w = world().await;
    let relay = entrypoint::relay::Relay::start(w.config()).await.unwrap();
    w.gl.add_hook(
        w.project,
        doubles::gitlab::double::HookSpec::notes(&webhook_url(relay.addr()))
            .token("not-the-secret"),
    )
    .unwrap();
    w.mention("@claude please look");
    let deliveries = w.deliveries(1).await;
    assert_eq!(deliveries[0].status, Some(401));

    let without = redeliver(&relay, &deliveries[0], &[("X-Gitlab-Token", "")]).await;
    assert_eq!(without.status(), 401);
    let body = without.text().await.unwrap();
    assert!(!body.contains(WEBHOOK_SECRET), "{body}");

    let stats = relay.stats();
    assert_eq!(
        (stats.unauthorized, stats.deliveries, stats.queued),
        (2, 0, 0)
    );
    w.assert_answered(0);
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn events_other_than_comments_and_notes_without_a_mention_are_acknowledged_and_ignored() {
    let w = world().await;
    let relay = w.standard_relay().await;
    w.mention("no assistant mentioned here");
    let deliveries = w.deliveries(1).await;
    assert_eq!(deliveries[0].status, Some(200));

    let push = redeliver(
        &relay,
        &deliveries[0],
        &[
            ("X-Gitlab-Event", "Push Hook"),
            ("Idempotency-Key", "push-1"),
        ],
    )
    .await;
    assert_eq!(push.status(), 200);
    let body: serde_json::Value = push.json().await.unwrap();
    assert_eq!(body["status"], "ignored");

    let stats = relay.stats();
    assert_eq!((stats.deliveries, stats.ignored, stats.queued), (2, 2, 0));
    w.assert_answered(0);
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_thread_mention_gets_a_threaded_placeholder_and_a_pipeline_with_the_run_variables() {
    let w = world().await;
    let relay = w.standard_relay().await;
    let opener =
        w.gl.add_note(
            w.project,
            DoubleNoteable::Issue(w.issue),
            NoteSpec::new(w.dev.id, "Something is off with the build").thread(),
        )
        .unwrap();
    let mention =
        w.gl.add_note(
            w.project,
            DoubleNoteable::Issue(w.issue),
            NoteSpec::new(w.dev.id, "@claude can you find out why?")
                .reply_to(&opener.discussion_id)
                .emit_hooks(),
        )
        .unwrap();
    let stats = wait_for(&relay, "one pipeline", |s| s.pipelines == 1).await;
    assert_eq!((stats.placeholders, stats.failed), (1, 0));

    let placeholders = w.placeholders();
    assert_eq!(placeholders.len(), 1, "{placeholders:?}");
    let placeholder = &placeholders[0];
    assert_eq!(placeholder.discussion_id, mention.discussion_id, "threaded");
    assert_eq!(placeholder.author_id, w.bot.id);
    assert!(!placeholder.body.contains("@claude"));
    assert_eq!(
        w.gl.award_names(mention.id),
        vec!["eyes".to_owned(), "hourglass_flowing_sand".to_owned()],
        "claimed, then handed over"
    );

    let pipelines = w.gl.pipelines(w.project);
    assert_eq!(pipelines.len(), 1);
    let pipeline = &pipelines[0];
    assert_eq!(pipeline.git_ref, "main");
    // The placeholder links the pipeline.
    assert!(
        placeholder
            .body
            .contains(&format!("/-/pipelines/{}", pipeline.id)),
        "{}",
        placeholder.body
    );

    let names: BTreeSet<&str> = pipeline.variables.iter().map(|v| v.key.as_str()).collect();
    let expected: BTreeSet<&str> = [
        ci_vars::names::ASSISTANT,
        ci_vars::names::NOTEABLE_TYPE,
        ci_vars::names::NOTEABLE_IID,
        ci_vars::names::NOTE_ID,
        ci_vars::names::DISCUSSION_ID,
        ci_vars::names::PLACEHOLDER_NOTE_ID,
        ci_vars::names::NOTE_SHA256,
        // Added by GitLab to every trigger-token pipeline.
        "TRIGGER_PAYLOAD",
    ]
    .into_iter()
    .collect();
    assert_eq!(names, expected);

    // Exactly what `entrypoint run` reads: the job's environment is these plus GitLab's own.
    let vars = job_env(pipeline, w.project);
    let request = ci_vars::parse(&vars).unwrap();
    assert_eq!(request.project, ProjectRef::Id(ProjectId(w.project)));
    assert_eq!(request.assistant, Assistant::Claude);
    assert_eq!(request.noteable, Noteable::Issue(IssueIid(w.issue)));
    assert_eq!(request.note, NoteId(mention.id));
    assert_eq!(request.placeholder, Some(NoteId(placeholder.id)));
    assert_eq!(
        request.discussion.as_ref().map(|d| d.to_string()),
        Some(mention.discussion_id.clone())
    );
    let Entry::Ci(detected) = detect(&vars, &Handles::default()).unwrap() else {
        panic!("the job must take the AI_* variables, not TRIGGER_PAYLOAD")
    };
    assert_eq!(detected, request);
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_note_for_both_assistants_starts_one_pipeline_for_each() {
    let w = world().await;
    let relay = w.standard_relay().await;
    w.mention("@claude @codex compare your approaches");
    wait_for(&relay, "two pipelines", |s| s.pipelines == 2).await;
    let assistants: BTreeSet<String> =
        w.gl.pipelines(w.project)
            .iter()
            .filter_map(|p| p.variable("AI_ASSISTANT").map(str::to_owned))
            .collect();
    assert_eq!(
        assistants,
        BTreeSet::from(["claude".to_owned(), "codex".to_owned()])
    );
    assert_eq!(w.placeholders().len(), 2);
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_delivery_resent_with_the_same_or_a_new_uuid_starts_nothing_more() {
    let w = world().await;
    let relay = w.standard_relay().await;
    w.mention("@claude fix the flaky test");
    let deliveries = w.deliveries(1).await;
    assert_eq!(deliveries[0].status, Some(202));
    wait_for(&relay, "the first pipeline", |s| s.pipelines == 1).await;

    let same = redeliver(&relay, &deliveries[0], &[]).await;
    assert_eq!(same.status(), 200);
    let renamed = redeliver(
        &relay,
        &deliveries[0],
        &[
            (
                "X-Gitlab-Event-UUID",
                "0b4a5d8e-2f1c-4e7a-9d3b-111111111111",
            ),
            ("Idempotency-Key", "0b4a5d8e-2f1c-4e7a-9d3b-222222222222"),
        ],
    )
    .await;
    assert_eq!(renamed.status(), 200);

    // A restarted relay has forgotten everything: the claim in GitLab still holds.
    relay.shutdown().await.unwrap();
    let restarted = entrypoint::relay::Relay::start(w.config()).await.unwrap();
    let after_restart = redeliver(&restarted, &deliveries[0], &[]).await;
    assert_eq!(after_restart.status(), 202);
    wait_for(&restarted, "the claim check", |s| s.claimed_elsewhere == 1).await;
    restarted.shutdown().await.unwrap();

    w.assert_answered(1);
}

#[tokio::test]
async fn two_relays_receiving_the_same_delivery_answer_it_once() {
    let w = world().await;
    let first = w.standard_relay().await;
    let second = w.standard_relay().await;
    w.mentions("task", 5);
    w.deliveries(10).await;
    let done = |r: &entrypoint::relay::Relay| {
        let s = r.stats();
        s.pipelines + s.claimed_elsewhere
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while done(&first) + done(&second) < 10 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?} {:?}",
            first.stats(),
            second.stats()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (a, b) = (first.stats(), second.stats());
    assert_eq!(a.pipelines + b.pipelines, 5, "{a:?} {b:?}");
    assert_eq!(a.claimed_elsewhere + b.claimed_elsewhere, 5);
    w.assert_answered(5);
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_burst_of_fifty_concurrent_mentions_gets_one_placeholder_and_one_pipeline_each() {
    let w = world().await;
    let relay = w.standard_relay().await;
    let mut notes = BTreeSet::new();
    for n in 0..50 {
        notes.insert(w.mention(&format!("@claude item {n}")).id);
    }
    wait_for(&relay, "fifty pipelines", |s| s.pipelines == 50).await;
    // Let anything stray arrive before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pipelines = w.gl.pipelines(w.project);
    assert_eq!(pipelines.len(), 50);
    let answered: BTreeSet<u64> = pipelines
        .iter()
        .filter_map(|p| p.variable("AI_NOTE_ID")?.parse().ok())
        .collect();
    assert_eq!(answered, notes, "each mention exactly once");
    let placeholders: BTreeSet<u64> = pipelines
        .iter()
        .filter_map(|p| p.variable("AI_PLACEHOLDER_NOTE_ID")?.parse().ok())
        .collect();
    assert_eq!(placeholders.len(), 50);
    assert_eq!(w.placeholders().len(), 50);
    let stats = relay.stats();
    assert_eq!(
        (stats.placeholders, stats.failed, stats.queue_full),
        (50, 0, 0)
    );
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_project_named_by_path_without_a_trigger_token_gets_its_pipeline_from_the_bot_token() {
    let w = world().await;
    let relay = w
        .relay(RelayConfig {
            projects: vec![(
                ProjectRef::Path("ACME/Widgets".to_owned()),
                entrypoint::relay::config::ProjectRoute {
                    start: entrypoint::relay::config::PipelineStart::BotToken,
                    git_ref: "main".to_owned(),
                    bot_token: None,
                },
            )],
            ..w.config()
        })
        .await;
    let mention = w.mention("@codex write the release notes");
    wait_for(&relay, "the pipeline", |s| s.pipelines == 1).await;
    let pipelines = w.gl.pipelines(w.project);
    assert_eq!(pipelines.len(), 1);
    let pipeline = &pipelines[0];
    assert_eq!(pipeline.source, doubles::gitlab::model::PipelineSource::Api);
    assert_eq!(pipeline.user_id, w.bot.id, "runs as the bot");
    assert_eq!(pipeline.variable("AI_ASSISTANT"), Some("codex"));
    assert_eq!(
        pipeline.variable("AI_NOTE_ID"),
        Some(mention.id.to_string().as_str())
    );
    assert_eq!(pipeline.variable("TRIGGER_PAYLOAD"), None);
    assert_eq!(
        w.gl.award_names(mention.id),
        vec!["robot".to_owned(), "gear".to_owned()]
    );
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn deliveries_larger_than_the_limit_are_refused_with_413_and_unserved_projects_are_ignored() {
    let w = world().await;
    let relay = w
        .relay(RelayConfig {
            max_body_bytes: 512,
            ..w.config()
        })
        .await;
    w.mention("@claude this payload is far larger than 512 bytes");
    let deliveries = w.deliveries(1).await;
    assert_eq!(deliveries[0].status, Some(413));

    let mut other = w.config();
    other.projects.clear();
    other.default_route = None;
    let unserved = entrypoint::relay::Relay::start(other).await.unwrap();
    let response = redeliver(&unserved, &deliveries[0], &[]).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ignored");
    assert!(
        body["reason"].as_str().unwrap().contains("acme/widgets"),
        "{body}"
    );
    w.assert_answered(0);
    relay.shutdown().await.unwrap();
    unserved.shutdown().await.unwrap();
}
