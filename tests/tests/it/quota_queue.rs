//! A model-API quota error queues the mention instead of failing it (issue 19): the scheduled
//! scan runs the product binary with the real Codex CLI (which gives up after one 429) against
//! the OpenAI double; the mention gets ONE note "queued, retrying at HH:MM (UTC)", a scan before
//! that time does nothing, the first scan after it answers in the same note, and later scans do
//! nothing. Every further quota error doubles the wait, and after `AI_QUOTA_RETRIES` retries the
//! note says what to do.

use std::process::Output;
use std::time::Duration;

use chrono::Utc;
use doubles::gitlab::double::{IssuableChange, NoteSpec, Noteable as DoubleNoteable, UserSpec};
use doubles::gitlab::model::Note;
use doubles::model::{ApiError, Fault, ModelDouble, Turn};
use entrypoint::agent::Assistant;
use entrypoint::gitlab::ids::UserId;
use entrypoint::marker::{NoteRole, marker};
use entrypoint::quota::{Queued, QueuedRequest};
use entrypoint::trigger::event_vars::Requested;
use reqwest::Method;

use crate::support::ci_job::{ModelKeys, run_with};
use crate::support::scripted::codex;
use crate::support::seeded::rest;
use crate::support::story::{Story, story_world};

const KEYS: ModelKeys = ModelKeys {
    anthropic: "sk-ant-quota-key-4e5d6c7b8a9f",
    openai: "sk-quota-key-9a8b7c6d5e4f",
};
/// The first wait after a quota error: long enough for the "too early" scan to run before it.
const BACKOFF_SECONDS: u64 = 20;

story_world!();

async fn world() -> World {
    World {
        story: Story::team(false).await,
    }
}

/// A bot user named like the handle (`codex`): GitLab files its to-dos (an assignment among
/// them), and the scan reads them.
async fn world_with_codex_user() -> World {
    World {
        story: Story::with_bot(|_| UserSpec::human("codex"), 30, false).await,
    }
}

/// A 429 as OpenAI answers a used-up rate limit.
fn rate_limited() -> Turn {
    Turn::fault(Fault::Status(ApiError::new(
        429,
        "Rate limit reached for requests. Please try again in 20s.",
    )))
}

impl World {
    /// dana's issue "Typo".
    fn typo_issue(&self) -> DoubleNoteable {
        DoubleNoteable::Issue(self.issue("Typo"))
    }

    /// dana's issue "Typo" and her question to Codex on it (its note id).
    fn typo_mention(&self) -> (DoubleNoteable, u64) {
        let issue = self.typo_issue();
        let note = self.note(issue, self.dev.id, "@codex what does greet.txt say?");
        (issue, note)
    }

    /// `entrypoint scan --assistant codex` as the scheduled scan job runs it (in-job mode); it
    /// succeeds (a request that fails or is queued is the scan's business, not its exit code).
    async fn scan(&self, model: &ModelDouble, extra: &[(&str, &str)]) -> Output {
        let scan = self.job("scan", model, extra).await;
        assert!(scan.status.success(), "{}", stdout(&scan));
        scan
    }

    /// The request on `issue` meets the rate limit once (a Codex double with nothing but that
    /// 429) in a scan with `extra`, and is queued: the double, and the queued state.
    async fn queued_once(
        &self,
        issue: DoubleNoteable,
        extra: &[(&str, &str)],
    ) -> (ModelDouble, Queued) {
        let model = codex([rate_limited()]).await;
        self.scan(&model, extra).await;
        let queued = only_note(self, issue).1.expect("queued");
        (model, queued)
    }

    /// `entrypoint <subcommand> --assistant codex` in a job of the project; `extra` on top of
    /// the scan job's variables (an empty value hides one).
    async fn job(&self, subcommand: &str, model: &ModelDouble, extra: &[(&str, &str)]) -> Output {
        let checkout = self.checkout("scan");
        let lease = doubles::sandbox::UidLease::take();
        let mut command = self
            .ci_job(&checkout, "4545", Assistant::Codex, model, KEYS)
            .command(subcommand, &lease);
        command
            .args(["--assistant", "codex"])
            .env("CI_PIPELINE_SOURCE", "schedule")
            .env("CI_COMMIT_REF_NAME", "main")
            .env("AI_SCAN", "true")
            .env("AI_QUOTA_BACKOFF_SECONDS", BACKOFF_SECONDS.to_string());
        run_with(command, extra, subcommand).await
    }

    /// Once `queued` is due, the next scan retries it and answers in the queued note itself,
    /// which is then the bot's only note on `issue` and queued no more; that answer.
    async fn retry_answers(
        &self,
        queued: &Queued,
        queued_note: &Note,
        issue: DoubleNoteable,
        model: &ModelDouble,
        extra: &[(&str, &str)],
    ) -> Note {
        wait_until(queued.retry_at).await;
        let retry = self.scan(model, extra).await;
        assert!(
            stdout(&retry).contains("1 queued request(s) retried"),
            "{}",
            stdout(&retry)
        );
        assert_eq!(model.model_calls().len(), 2);
        let (answer, still_queued) = only_note(self, issue);
        assert_eq!(
            answer.id, queued_note.id,
            "the queued note became the answer"
        );
        assert!(still_queued.is_none(), "{}", answer.body);
        answer
    }

    /// The request behind `queued` was withdrawn before it was due (`with` names what it went
    /// with): the scan once it is due asks the model nothing more and leaves no note of the
    /// bot's on `issue`.
    async fn retry_finds_withdrawn(
        &self,
        queued: &Queued,
        issue: DoubleNoteable,
        model: &ModelDouble,
        extra: &[(&str, &str)],
        with: &str,
    ) {
        wait_until(queued.retry_at).await;
        self.scan(model, extra).await;
        assert_eq!(
            model.model_calls().len(),
            1,
            "the model was not asked again"
        );
        assert!(
            self.bot_notes(issue).is_empty(),
            "the queued note went with {with}: {:#?}",
            self.bot_notes(issue)
        );
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The one note of the bot on the issue, and the queued state it records (if any).
fn only_note(w: &World, issue: DoubleNoteable) -> (Note, Option<Queued>) {
    let notes = w.bot_notes(issue);
    assert_eq!(notes.len(), 1, "one note of the bot: {notes:#?}");
    let note = notes[0].clone();
    let queued = Queued::find(&note.body);
    (note, queued)
}

/// Sleeps until just after `at`.
async fn wait_until(at: chrono::DateTime<Utc>) {
    let left = (at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(1200)).await;
}

#[tokio::test]
async fn a_quota_error_queues_the_mention_and_a_later_scan_answers_it_once() {
    let w = world().await;
    let (issue, mention) = w.typo_mention();
    let model = codex([rate_limited(), Turn::text("It says Hello wrold.")]).await;

    // The first scan meets the limit: one queued note, no failure.
    let before = Utc::now();
    let first = w.scan(&model, &[]).await;
    assert!(stdout(&first).contains("scan: 1 new mention(s)"));
    assert_eq!(model.model_calls().len(), 1, "Codex gives up after one 429");
    let (queued_note, queued) = only_note(&w, issue);
    let queued = queued.expect("the note records the queued state");
    assert!(
        matches!(queued.request, QueuedRequest::Mention { note, .. } if note.0 == mention),
        "{queued:?}"
    );
    assert_eq!(queued.attempts, 1);
    assert!(
        queued.retry_at >= before + chrono::TimeDelta::seconds(BACKOFF_SECONDS as i64)
            && queued.retry_at
                <= Utc::now() + chrono::TimeDelta::seconds(BACKOFF_SECONDS as i64 + 1),
        "retry after AI_QUOTA_BACKOFF_SECONDS: {queued:?}"
    );
    let shown = format!(
        "queued, retrying at {} (UTC)",
        queued.retry_at.format("%H:%M")
    );
    assert!(queued_note.body.contains(&shown), "{}", queued_note.body);
    assert!(
        queued_note
            .body
            .contains(&marker(Assistant::Codex, NoteRole::Queued)),
        "{}",
        queued_note.body
    );
    assert!(
        !queued_note.body.contains("could not finish")
            && !queued_note
                .body
                .contains(&marker(Assistant::Codex, NoteRole::Result)),
        "no failure note: {}",
        queued_note.body
    );

    // Before the retry time a scan leaves it alone.
    assert!(
        Utc::now() < queued.retry_at,
        "the test ran too slowly to check"
    );
    let early = w.scan(&model, &[]).await;
    assert!(
        stdout(&early).contains("0 queued request(s) retried"),
        "{}",
        stdout(&early)
    );
    assert_eq!(
        model.model_calls().len(),
        1,
        "the model was not asked again"
    );
    assert_eq!(only_note(&w, issue).0.body, queued_note.body);

    // After it, the next scan answers in the same note.
    let answer = w
        .retry_answers(&queued, &queued_note, issue, &model, &[])
        .await;
    assert!(
        answer.body.contains("It says Hello wrold."),
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains(&marker(Assistant::Codex, NoteRole::Result))
    );

    // And a later scan does nothing.
    let again = w.scan(&model, &[]).await;
    assert!(stdout(&again).contains("0 queued request(s) retried"));
    assert!(stdout(&again).contains("scan: 0 new mention(s)"));
    assert_eq!(model.model_calls().len(), 2, "answered once");
    assert_eq!(only_note(&w, issue).0.body, answer.body);
}

#[tokio::test]
async fn every_further_quota_error_doubles_the_wait_and_the_last_one_says_what_to_do() {
    let w = world().await;
    let (issue, _) = w.typo_mention();
    let model = codex([rate_limited().times(3)]).await;
    let extra = [("AI_QUOTA_RETRIES", "2"), ("AI_QUOTA_BACKOFF_SECONDS", "2")];

    w.scan(&model, &extra).await;
    let (_, queued) = only_note(&w, issue);
    let first_queue = queued.expect("queued");
    assert_eq!(first_queue.attempts, 1);

    wait_until(first_queue.retry_at).await;
    let retried_at = Utc::now();
    w.scan(&model, &extra).await;
    let (note, queued) = only_note(&w, issue);
    let second_queue = queued.expect("queued again");
    assert_eq!(second_queue.attempts, 2);
    assert!(note.body.contains("Attempt 2 of 3"), "{}", note.body);
    assert!(
        second_queue.retry_at >= retried_at + chrono::TimeDelta::seconds(4),
        "the wait doubled: {second_queue:?}"
    );

    wait_until(second_queue.retry_at).await;
    // The last attempt fails the request: the scan's exit code is not what this story checks.
    let last = w.job("scan", &model, &extra).await;
    assert_eq!(model.model_calls().len(), 3);
    assert!(
        stdout(&last).contains("1 queued request(s) retried"),
        "{}",
        stdout(&last)
    );
    let (failure, queued) = only_note(&w, issue);
    assert!(queued.is_none(), "{}", failure.body);
    assert!(
        failure.body.contains("still reached after 3 attempts")
            && failure.body.contains("AI_QUOTA_RETRIES"),
        "{}",
        failure.body
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_the_back_off_is_respected() {
    let w = world().await;
    let (issue, _) = w.typo_mention();
    let model = codex([Turn::fault(Fault::Status(
        ApiError::new(429, "Rate limit reached for requests.").retry_after(900),
    ))])
    .await;

    let before = Utc::now();
    w.scan(&model, &[]).await;
    let queued = only_note(&w, issue).1.expect("queued");
    assert!(
        queued.retry_at >= before + chrono::TimeDelta::seconds(900),
        "not before the API's Retry-After, though AI_QUOTA_BACKOFF_SECONDS is {BACKOFF_SECONDS}: {queued:?}"
    );
}

#[tokio::test]
async fn a_queued_mention_deleted_before_its_retry_leaves_no_queued_note_behind() {
    let w = world().await;
    let (issue, mention) = w.typo_mention();
    let extra = [("AI_QUOTA_BACKOFF_SECONDS", "2")];
    let (model, queued) = w.queued_once(issue, &extra).await;

    // Its author deletes the mention, as people do once they found the answer elsewhere.
    let DoubleNoteable::Issue(iid) = issue else {
        unreachable!("the typo mention is on an issue")
    };
    let note = format!("/projects/{}/issues/{iid}/notes/{mention}", w.project);
    let deleted = rest(&w.gl, Method::DELETE, &note, &w.dev.token, None).await;
    assert!(deleted.status().is_success(), "{}", deleted.status());

    w.retry_finds_withdrawn(&queued, issue, &model, &extra, "its mention")
        .await;
}

#[tokio::test]
async fn with_queueing_off_a_quota_error_fails_at_once_as_before() {
    let w = world().await;
    let (issue, _) = w.typo_mention();
    let model = codex([rate_limited()]).await;
    w.scan(&model, &[("AI_QUOTA_RETRIES", "0")]).await;
    let (note, queued) = only_note(&w, issue);
    assert!(queued.is_none(), "{}", note.body);
    for part in [
        "the model API rate limit or quota was reached (429)",
        &marker(Assistant::Codex, NoteRole::Result),
    ] {
        assert!(note.body.contains(part), "{}", note.body);
    }
}

#[tokio::test]
async fn a_quota_error_on_an_assignment_is_queued_and_a_later_scan_answers_it_once() {
    let w = world_with_codex_user().await;
    let issue = w.typo_issue();
    w.change(issue, w.dev.id, IssuableChange::assign(&[w.bot.id]));
    let model = codex([
        rate_limited(),
        Turn::text("Handled: greet.txt says Hello wrold."),
    ])
    .await;
    let extra = [("AI_QUOTA_BACKOFF_SECONDS", "3")];

    // The scan answers the assignment's to-do, and the model API says no: one queued note that
    // names the assignment (who asked, when), no failure.
    let first = w.scan(&model, &extra).await;
    assert!(
        stdout(&first).contains("0 new mention(s) and 1 assignment(s)"),
        "{}",
        stdout(&first)
    );
    assert_eq!(model.model_calls().len(), 1);
    let (queued_note, queued) = only_note(&w, issue);
    let queued = queued.expect("the note records the queued assignment");
    match &queued.request {
        QueuedRequest::Event {
            requested, actor, ..
        } => {
            assert_eq!(*requested, Requested::Assigned);
            assert_eq!(*actor, UserId(w.dev.id));
        }
        other => panic!("queued as {other:?}"),
    }
    assert!(
        queued_note.body.contains("queued, retrying at"),
        "{}",
        queued_note.body
    );

    // Once due, the scan's retry answers it in the same note, once.
    let answer = w
        .retry_answers(&queued, &queued_note, issue, &model, &extra)
        .await;
    assert!(
        answer.body.contains("Handled: greet.txt says Hello wrold.")
            && answer
                .body
                .contains(&marker(Assistant::Codex, NoteRole::Result)),
        "{}",
        answer.body
    );
    let prompt = model.model_calls()[1].body.clone();
    assert!(
        prompt.contains("please handle this issue"),
        "the retry asks what the assignment asked"
    );

    let again = w.scan(&model, &extra).await;
    assert!(stdout(&again).contains("0 queued request(s) retried"));
    assert!(
        stdout(&again).contains("0 new mention(s) and 0 assignment(s)"),
        "{}",
        stdout(&again)
    );
    assert_eq!(model.model_calls().len(), 2, "answered once");
    assert_eq!(only_note(&w, issue).0.body, answer.body);
}

#[tokio::test]
async fn a_queued_assignment_withdrawn_before_its_retry_leaves_no_queued_note_behind() {
    let w = world_with_codex_user().await;
    let issue = w.typo_issue();
    w.change(issue, w.dev.id, IssuableChange::assign(&[w.bot.id]));
    let extra = [("AI_QUOTA_BACKOFF_SECONDS", "2")];
    let (model, queued) = w.queued_once(issue, &extra).await;
    // Unassigned meanwhile: the request no longer stands.
    w.change(issue, w.dev.id, IssuableChange::assign(&[]));
    w.retry_finds_withdrawn(&queued, issue, &model, &extra, "the assignment")
        .await;
}

#[tokio::test]
async fn a_quota_error_on_the_trigger_label_is_queued_and_retried_by_a_scan_that_reads_the_lists() {
    // A project bot (no to-dos): the scan finds the label in the label events, and the retry
    // rebuilds the label request from the queued line.
    let w = world().await;
    let issue = w.typo_issue();
    w.change(issue, w.dev.id, IssuableChange::add_label("codex"));
    let model = codex([rate_limited(), Turn::text("Labelled, handled.")]).await;
    let extra = [
        ("AI_QUOTA_BACKOFF_SECONDS", "2"),
        ("AI_LABEL_TRIGGER", "codex"),
    ];
    w.scan(&model, &extra).await;
    let (queued_note, queued) = only_note(&w, issue);
    let queued = queued.expect("queued");
    assert!(
        matches!(
            queued.request,
            QueuedRequest::Event {
                requested: Requested::Labelled { .. },
                ..
            }
        ),
        "{queued:?}"
    );
    let answer = w
        .retry_answers(&queued, &queued_note, issue, &model, &extra)
        .await;
    assert!(
        answer.body.contains("Labelled, handled."),
        "{}",
        answer.body
    );
    w.scan(&model, &extra).await;
    assert_eq!(model.model_calls().len(), 2, "answered once");
}

/// The relay's quota sweep (docs/relay.md) retries a queued mention in a pipeline of its own;
/// when that retry meets the limit again, its job rewrites the queued note and gives the sweep's
/// claim back, so the next sweep retries it: the real binary and the real Codex CLI in the
/// retry pipeline's job.
#[tokio::test]
async fn a_relay_retry_that_meets_the_limit_again_is_retried_by_the_next_sweep() {
    use entrypoint::gitlab::ids::NoteId;
    use entrypoint::relay::RelayConfig;
    let w = world().await;
    let (issue, mention) = w.typo_mention();
    // What a relay pipeline's first run left (quota_queue's first test shows how it is made).
    let queued = Queued {
        assistant: Assistant::Codex,
        request: QueuedRequest::Mention {
            note: NoteId(mention),
            discussion: None,
        },
        attempts: 1,
        retry_at: Utc::now() - chrono::TimeDelta::seconds(1),
    };
    let queued_note =
        w.gl.add_note(
            w.project,
            issue,
            NoteSpec::new(
                w.bot.id,
                &format!(
                    "queued\n\n{}\n{}",
                    marker(Assistant::Codex, NoteRole::Queued),
                    queued.line()
                ),
            ),
        )
        .unwrap()
        .id;
    let relay = entrypoint::relay::Relay::start(RelayConfig {
        quota_sweep: Some(Duration::from_millis(500)),
        ..w.relay_config("quota-sweep-secret")
    })
    .await
    .expect("relay starts");
    let retry_pipelines = async |n: usize| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let pipelines = w.gl.pipelines(w.project);
            if pipelines.len() >= n {
                return pipelines;
            }
            assert!(tokio::time::Instant::now() < deadline, "{pipelines:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let first = retry_pipelines(1).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].variable("AI_QUOTA_ATTEMPT"), Some("2"));
    assert_eq!(
        first[0].variable("AI_PLACEHOLDER_NOTE_ID"),
        Some(queued_note.to_string().as_str())
    );

    // Its job meets the limit again: queueing is on in relay pipelines with AI_QUOTA_RETRIES.
    let model = codex([rate_limited()]).await;
    let mut extra: Vec<(String, String)> = first[0]
        .variables
        .iter()
        .map(|v| (v.key.clone(), v.value.clone()))
        .collect();
    extra.extend([
        ("AI_SCAN".to_owned(), String::new()),
        ("AI_QUOTA_RETRIES".to_owned(), "3".to_owned()),
        ("AI_QUOTA_BACKOFF_SECONDS".to_owned(), "1".to_owned()),
        ("CI_PIPELINE_SOURCE".to_owned(), "api".to_owned()),
    ]);
    let extra: Vec<(&str, &str)> = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let job = w.job("run", &model, &extra).await;
    assert!(job.status.success(), "{}", stdout(&job));
    let (note, requeued) = only_note(&w, issue);
    assert_eq!(note.id, queued_note, "the same note, rewritten");
    assert_eq!(requeued.expect("still queued").attempts, 2);
    // The job gave the sweep's claim back, so the next sweep takes the note again.
    let second = retry_pipelines(2).await;
    assert_eq!(second.len(), 2);
    assert!(
        second
            .iter()
            .any(|p| p.variable("AI_QUOTA_ATTEMPT") == Some("3")),
        "{second:?}"
    );
    // The sweep counts a retry once GitLab answered the pipeline's creation, a moment after
    // the pipeline shows in the double.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let stats = loop {
        let stats = relay.stats();
        if stats.retries >= 2 || tokio::time::Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((stats.retries, stats.retry_failures), (2, 0), "{stats:?}");
    relay.shutdown().await.unwrap();
}
