//! The relay when GitLab or the load misbehave: GitLab answering 503 and 429, the queue full,
//! a burst far beyond the queue, slow and silent connections past the connection limit, the
//! largest delivery GitLab can send, a shutdown with work queued, a pipeline that cannot be
//! started, and secrets under all of it.

use crate::relay_support;
use crate::support::own_process::in_own_process;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doubles::gitlab::double::{IssueSpec, NoteSpec, Noteable as DoubleNoteable};
use doubles::gitlab::faults::{FaultAction, FaultRule, Schedule};
use entrypoint::relay::config::{ConnectionLimits, DEFAULT_MAX_BODY_BYTES};
use entrypoint::relay::{Relay, RelayConfig};
use relay_support::{WEBHOOK_SECRET, redeliver, resend, rule, wait_for, webhook_url, world};
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn gitlab_503s_and_rate_limits_are_retried_and_each_mention_is_still_answered_once() {
    let w = world().await;
    let faults = w.gl.faults();
    // Reads and edits are safe to repeat: every second one fails with 503. A POST that GitLab
    // may have acted on is not repeated blindly, but a rate-limited one is refused before
    // GitLab acts: every third POST gets 429.
    for method in ["GET", "PUT", "DELETE"] {
        faults.add(rule(
            method,
            "/api/v4/**",
            FaultAction::Status { code: 503 },
            Schedule::EveryNth { n: 2 },
        ));
    }
    faults.add(rule(
        "POST",
        "/api/v4/**",
        FaultAction::RateLimited {
            retry_after_secs: 0,
        },
        Schedule::EveryNth { n: 3 },
    ));
    let relay = w.standard_relay().await;
    w.mentions("job", 8);
    let stats = wait_for(&relay, "eight pipelines", |s| s.pipelines == 8).await;
    assert_eq!((stats.placeholders, stats.failed), (8, 0), "{stats:?}");
    assert!(
        faults.injected() >= 16,
        "faults fired: {}",
        faults.injected()
    );
    faults.clear();
    tokio::time::sleep(Duration::from_millis(200)).await;
    w.assert_answered(8);
    relay.shutdown().await.unwrap();
}

/// Every claim (the bot's reaction on a note) takes `ms` milliseconds more.
fn slow_claims(ms: u64) -> FaultRule {
    let awards = "/api/v4/projects/*/issues/*/notes/*/award_emoji";
    rule(
        "POST",
        awards,
        FaultAction::Latency { ms },
        Schedule::Always,
    )
}

#[tokio::test]
async fn past_the_overflow_budget_a_delivery_gets_503_and_a_resent_one_is_answered_later() {
    let w = world().await;
    let faults = w.gl.faults();
    // Each claim takes a while, so one worker falls behind.
    let slow = faults.add(slow_claims(700));
    let relay = w
        .relay(RelayConfig {
            workers: 1,
            queue_capacity: 1,
            overflow_bytes: 0,
            ..w.config()
        })
        .await;
    w.mentions("burst", 6);
    let deliveries = w.deliveries(6).await;
    let refused: Vec<_> = deliveries
        .iter()
        .filter(|d| d.status == Some(503))
        .collect();
    let accepted = deliveries.iter().filter(|d| d.status == Some(202)).count();
    assert!(
        !refused.is_empty(),
        "{:?}",
        deliveries.iter().map(|d| d.status).collect::<Vec<_>>()
    );
    assert_eq!(accepted + refused.len(), 6);
    assert!(relay.stats().queue_full >= 1);

    faults.remove(slow);
    wait_for(&relay, "the accepted mentions", |s| {
        s.pipelines == accepted as u64
    })
    .await;
    // GitLab (or a person with "Resend request") sends the refused ones again.
    for (n, delivery) in refused.iter().enumerate() {
        let response = redeliver(&relay, delivery, &[]).await;
        assert_eq!(response.status(), 202);
        let answered = (accepted + n + 1) as u64;
        wait_for(&relay, "the resent mention", |s| s.pipelines == answered).await;
    }
    wait_for(&relay, "every mention", |s| s.pipelines == 6).await;
    w.assert_answered(6);
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_burst_of_228_mentions_against_a_small_queue_is_answered_exactly_once() {
    let w = world().await;
    // Claims take a while, so the four places of the queue fill at once and the rest of the
    // burst goes to the overflow. GitLab never resends a refused delivery: nothing may be 503.
    w.gl.faults().add(slow_claims(20));
    let relay = w
        .relay(RelayConfig {
            workers: 4,
            queue_capacity: 4,
            ..w.config()
        })
        .await;
    w.mentions("burst", 228);
    let deliveries = w.deliveries(228).await;
    let statuses: Vec<_> = deliveries.iter().map(|d| d.status).collect();
    assert!(statuses.iter().all(|s| *s == Some(202)), "{statuses:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while relay.stats().pipelines < 228 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = relay.stats();
    assert_eq!(
        (stats.pipelines, stats.queue_full, stats.failed),
        (228, 0, 0),
        "{stats:?}"
    );
    assert!(
        stats.overflowed > 0,
        "the burst never reached the overflow: {stats:?}"
    );
    relay.shutdown().await.unwrap();
    w.assert_answered(228);
    let mut answered: Vec<_> =
        w.gl.pipelines(w.project)
            .iter()
            .map(|p| p.variable("AI_NOTE_ID").map(str::to_owned))
            .collect();
    answered.sort();
    answered.dedup();
    assert_eq!(answered.len(), 228, "one pipeline per note");
}

/// How long until the relay closes `stream`, which sends `first` at once and then `drip` one
/// byte per second.
async fn held_open(mut stream: TcpStream, first: Vec<u8>, drip: Vec<u8>) -> Duration {
    let opened = tokio::time::Instant::now();
    let (mut read, mut write) = stream.split();
    let dripping = async {
        if write.write_all(&first).await.is_err() {
            return;
        }
        for byte in drip {
            if write.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        std::future::pending::<()>().await;
    };
    let closed = async {
        let mut buf = [0u8; 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    tokio::select! {
        () = dripping => {}
        () = closed => {}
    }
    opened.elapsed()
}

#[tokio::test]
async fn slow_and_silent_connections_past_the_limit_never_keep_a_delivery_out() {
    let w = world().await;
    let relay = w
        .relay(RelayConfig {
            limits: ConnectionLimits {
                header_timeout: Duration::from_secs(2),
                body_timeout: Duration::from_secs(2),
                max_connections: Some(8),
            },
            ..w.config()
        })
        .await;
    let addr = relay.addr();
    let headers =
        b"POST /webhook HTTP/1.1\r\nHost: relay\r\nX-Gitlab-Event: Note Hook\r\n".to_vec();
    let with_token = format!(
        "POST /webhook HTTP/1.1\r\nHost: relay\r\nX-Gitlab-Event: Note Hook\r\nX-Gitlab-Token: {WEBHOOK_SECRET}\r\nContent-Length: 100\r\n\r\n"
    )
    .into_bytes();
    // Twice the limit of slowloris headers, as many that send nothing, and two that hold the
    // secret and drip their body: they arrive before the real delivery and keep coming.
    let mut attackers = tokio::task::JoinSet::new();
    for round in 0..3 {
        for n in 0..16 {
            let (first, drip) = match n % 8 {
                0..=3 => (Vec::new(), headers.clone()),
                4..=6 => (Vec::new(), Vec::new()),
                _ => (with_token.clone(), b"{\"object_kind\":".to_vec()),
            };
            let stream = TcpStream::connect(addr).await.unwrap();
            attackers.spawn(async move { (n % 8, held_open(stream, first, drip).await) });
        }
        if round == 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            w.mention("@claude the real request");
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let deliveries = w.deliveries(1).await;
    assert_eq!(deliveries[0].status, Some(202), "{:?}", deliveries[0]);
    wait_for(&relay, "the real mention", |s| s.pipelines == 1).await;
    let mut held = Vec::new();
    while let Some(joined) = attackers.join_next().await {
        held.push(joined.unwrap());
    }
    for (kind, time) in &held {
        // 2 s for the headers (slowloris, silent) or for the body (the token holders), plus
        // slack for a loaded machine; those closed to make room end sooner.
        assert!(
            *time < Duration::from_secs(4),
            "kind {kind} held {time:?}: {held:?}"
        );
    }
    assert!(
        held.iter()
            .any(|(_, time)| *time >= Duration::from_millis(1_500)),
        "some connections should have lasted until their deadline: {held:?}"
    );
    w.assert_answered(1);
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_largest_note_hook_gitlab_can_send_is_accepted() {
    let w = world().await;
    let relay = w
        .relay(RelayConfig {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            ..w.config()
        })
        .await;
    // Control characters cost 6 bytes each in JSON (`\u0001`), the most a character can: a
    // 1,000,000-character note (sent twice, as `note` and `description`) on an issue whose
    // description has 1,048,576 of them.
    let issue =
        w.gl.create_issue(
            w.project,
            IssueSpec {
                description: "\u{1}".repeat(1_048_576),
                ..IssueSpec::new(w.dev.id, "Large")
            },
        )
        .unwrap()
        .iid;
    let prefix = "@claude summarise ";
    let note = format!("{prefix}{}", "\u{1}".repeat(1_000_000 - prefix.len()));
    w.gl.add_note(
        w.project,
        DoubleNoteable::Issue(issue),
        NoteSpec::new(w.dev.id, &note).emit_hooks(),
    )
    .unwrap();
    let deliveries = w.deliveries(1).await;
    let size = deliveries[0].body.len();
    assert!(size > 18_000_000, "not a maximal delivery: {size} bytes");
    assert_eq!(deliveries[0].status, Some(202), "{size} bytes");
    wait_for(&relay, "the pipeline", |s| s.pipelines == 1).await;
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_stops_accepting_and_drains_the_queue() {
    let w = world().await;
    let faults = w.gl.faults();
    faults.add(rule(
        "POST",
        "/api/v4/projects/*/trigger/pipeline",
        FaultAction::Latency { ms: 300 },
        Schedule::Always,
    ));
    let relay = w
        .relay(RelayConfig {
            workers: 2,
            ..w.config()
        })
        .await;
    let addr = relay.addr();
    w.mentions("drain", 6);
    let deliveries = w.deliveries(6).await;
    assert!(deliveries.iter().all(|d| d.status == Some(202)));
    assert!(
        relay.stats().pipelines < 6,
        "the test needs work still queued"
    );

    relay.shutdown().await.unwrap();
    assert_eq!(
        w.gl.pipelines(w.project).len(),
        6,
        "every queued mention was handled"
    );
    assert!(
        w.placeholders()
            .iter()
            .all(|n| n.body.contains("/-/pipelines/")),
        "no placeholder left without its pipeline"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn a_pipeline_that_cannot_start_leaves_a_failure_note_and_frees_the_claim_for_a_retry() {
    let w = world().await;
    w.fail_next_pipeline_start();
    let relay = w.standard_relay().await;
    let mention = w.mention("@claude add a changelog entry");
    let stats = wait_for(&relay, "the failure", |s| s.failed == 1).await;
    assert_eq!((stats.placeholders, stats.pipelines), (1, 0));

    let failure = w
        .bot_notes()
        .into_iter()
        .next()
        .expect("the placeholder is still there, replaced");
    assert!(failure.body.contains("could not start"), "{}", failure.body);
    assert!(!failure.body.contains("is working"), "{}", failure.body);
    assert!(failure.body.contains(":result -->"), "{}", failure.body);
    assert!(!failure.body.contains(&w.trigger_token));
    assert!(w.placeholders().is_empty(), "never left saying \"working\"");
    assert!(
        w.gl.award_names(mention.id).is_empty(),
        "the claim was released"
    );

    // The same delivery sent again now succeeds.
    let deliveries = w.deliveries(1).await;
    let again = redeliver(&relay, &deliveries[0], &[]).await;
    assert_eq!(again.status(), 202);
    wait_for(&relay, "the retried pipeline", |s| s.pipelines == 1).await;
    w.assert_answered(1);
    assert_eq!(
        w.gl.award_names(mention.id),
        vec!["eyes".to_owned(), "hourglass_flowing_sand".to_owned()]
    );
    relay.shutdown().await.unwrap();
}

/// Collects everything the relay logs, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn secrets_and_note_bodies_never_reach_the_logs_responses_or_notes() {
    // A scoped subscriber captures the logs: in a process shared with other tests, their
    // threads can fill `tracing`'s callsite cache without it and the capture misses lines.
    if !in_own_process(
        "relay_resilience::secrets_and_note_bodies_never_reach_the_logs_responses_or_notes",
    ) {
        return;
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let w = world().await;
    w.gl.faults().add(rule(
        "POST",
        "/api/v4/projects/*/trigger/pipeline",
        FaultAction::Status { code: 500 },
        Schedule::Times { n: 1 },
    ));
    let relay = w.standard_relay().await;
    let body = "@claude the-private-request-text please";
    w.mention(body);
    wait_for(&relay, "the failed attempt", |s| s.failed == 1).await;
    w.mention("@claude second-private-request");
    wait_for(&relay, "the pipeline", |s| s.pipelines == 1).await;
    let deliveries = w.deliveries(2).await;
    let unauthorized = resend(
        &deliveries[0],
        &webhook_url(relay.addr()),
        &[("X-Gitlab-Token", "guess")],
    )
    .await;
    assert_eq!(unauthorized.status(), 401);
    let health = reqwest::get(format!("http://{}/healthz", relay.addr()))
        .await
        .unwrap();
    let health = health.text().await.unwrap();
    relay.shutdown().await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("placeholder posted"),
        "the capture works: {logs}"
    );
    let secrets = [
        WEBHOOK_SECRET,
        w.bot.token.as_str(),
        w.trigger_token.as_str(),
        "guess",
    ];
    let private = ["the-private-request-text", "second-private-request"];
    for needle in secrets.iter().chain(private.iter()) {
        assert!(!logs.contains(needle), "{needle:?} in the logs:\n{logs}");
        assert!(!health.contains(needle), "{needle:?} in /healthz");
    }
    for note in w.notes().iter().filter(|n| n.author_id == w.bot.id) {
        for needle in secrets {
            assert!(
                !note.body.contains(needle),
                "{needle:?} in a note: {}",
                note.body
            );
        }
    }
}

#[tokio::test]
async fn a_mention_whose_claimer_died_is_answered_once_by_a_resend_after_the_lease() {
    let w = world().await;
    // The relay's first request is slow, so the "other replica" below claims first.
    w.gl.faults().add(rule(
        "GET",
        "/api/v4/user",
        FaultAction::Latency { ms: 300 },
        Schedule::Times { n: 1 },
    ));
    let relay = w.standard_relay().await;
    let mention = w.mention("@claude add a changelog entry");
    // Another replica claimed the note and was killed before handing it over.
    let notes = format!("/projects/{}/issues/{}/notes", w.project, w.issue);
    let dead = w
        .api(
            Method::POST,
            &format!("{notes}/{}/award_emoji", mention.id),
            &w.bot.token,
            serde_json::json!({"name": "eyes"}),
        )
        .await;
    assert_eq!(dead.status(), 201);
    let dead: serde_json::Value = dead.json().await.unwrap();
    // ... and had posted its placeholder, tied to its claim, which now says "working" forever.
    let orphan_body = format!(
        "{}\n{}",
        entrypoint::publish::placeholder::placeholder_body(
            entrypoint::agent::Assistant::Claude,
            None
        ),
        entrypoint::marker::claim_line(dead["id"].as_u64().unwrap())
    );
    let orphan = w
        .api(
            Method::POST,
            &notes,
            &w.bot.token,
            serde_json::json!({ "body": orphan_body }),
        )
        .await;
    assert_eq!(orphan.status(), 201);
    assert_eq!(w.placeholders().len(), 1);
    let stats = wait_for(&relay, "the claim held elsewhere", |s| {
        s.claimed_elsewhere == 1
    })
    .await;
    assert_eq!(stats.pipelines, 0);
    let deliveries = w.deliveries(1).await;

    // GitLab's "Resend request" within the lease: the dead claim still holds.
    let early = redeliver(&relay, &deliveries[0], &[]).await;
    assert_eq!(early.status(), 202);
    wait_for(&relay, "the second look", |s| s.claimed_elsewhere == 2).await;
    assert_eq!(w.gl.pipelines(w.project).len(), 0);

    // After the lease the same resend is answered (not swallowed by the in-memory check).
    tokio::time::sleep(relay_support::TEST_LEASE + Duration::from_millis(300)).await;
    let late = redeliver(&relay, &deliveries[0], &[]).await;
    assert_eq!(late.status(), 202);
    wait_for(&relay, "the pipeline", |s| s.pipelines == 1).await;
    // One pipeline and one placeholder: the dead claimer's was removed.
    w.assert_answered(1);
    assert_eq!(
        w.gl.award_names(mention.id),
        vec!["eyes".to_owned(), "hourglass_flowing_sand".to_owned()],
        "the dead claim replaced by the new one, handed over"
    );
    // What a live claimer needs between its claim and the hand-over (claim check, placeholder,
    // hand-over): the lease must be longer, by far.
    let awards = w.gl.awards(mention.id);
    let needed = awards[1].created_at - awards[0].created_at;
    eprintln!("claim to hand-over: {} ms", needed.num_milliseconds());
    assert!(
        needed.to_std().unwrap() < relay_support::TEST_LEASE,
        "{needed:?}"
    );

    // A resend of the answered mention, even long after the lease, does nothing: this relay
    // remembers answering it, and a replica that does not (a restart, another pod) finds the
    // claim handed over.
    tokio::time::sleep(relay_support::TEST_LEASE + Duration::from_millis(300)).await;
    let again = redeliver(&relay, &deliveries[0], &[]).await;
    assert_eq!(
        again.status(),
        200,
        "a duplicate for the relay that answered it"
    );
    let replica = Relay::start(w.config()).await.unwrap();
    let elsewhere = redeliver(&replica, &deliveries[0], &[]).await;
    assert_eq!(elsewhere.status(), 202);
    let stats = wait_for(&replica, "the replica's look", |s| s.claimed_elsewhere == 1).await;
    assert_eq!((stats.placeholders, stats.pipelines), (0, 0));
    w.assert_answered(1);
    replica.shutdown().await.unwrap();
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_note_edited_after_the_relay_checked_it_is_refused_by_the_job() {
    let w = world().await;
    let relay = w.standard_relay().await;
    let mention = w.mention("@claude fix the typo in the README");
    wait_for(&relay, "the pipeline", |s| s.pipelines == 1).await;
    let pipeline = w.gl.pipelines(w.project).remove(0);
    assert_eq!(
        pipeline.variable("AI_NOTE_SHA256"),
        Some(entrypoint::guard::edit::body_digest("@claude fix the typo in the README").as_str())
    );
    // The author edits the request before the job starts.
    let edited = w
        .api(
            Method::PUT,
            &format!(
                "/projects/{}/issues/{}/notes/{}",
                w.project, w.issue, mention.id
            ),
            &w.dev.token,
            serde_json::json!({"body": "@claude delete the deploy keys"}),
        )
        .await;
    assert!(edited.status().is_success());

    let end = relay_support::run_job(&w, &pipeline).await;
    assert!(
        matches!(end, entrypoint::answer::in_job::JobEnd::Refused { .. }),
        "{end:?}"
    );
    assert!(w.placeholders().is_empty(), "the placeholder was replaced");
    let refusal = w.bot_notes().into_iter().next().expect("the refusal");
    assert!(
        refusal.body.contains("edited after it was sent"),
        "{}",
        refusal.body
    );
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn eight_replicas_receiving_every_delivery_answer_each_mention_once() {
    let w = world().await;
    let mut relays = Vec::new();
    for _ in 0..8 {
        relays.push(w.standard_relay().await);
    }
    w.mentions("task", 5);
    w.deliveries(40).await;
    let settled = |relays: &[Relay]| {
        relays
            .iter()
            .map(|r| {
                let s = r.stats();
                s.pipelines + s.claimed_elsewhere + s.failed
            })
            .sum::<u64>()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while settled(&relays) < 40 {
        assert!(tokio::time::Instant::now() < deadline, "not settled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats: Vec<_> = relays.iter().map(Relay::stats).collect();
    let pipelines: u64 = stats.iter().map(|s| s.pipelines).sum();
    let placeholders: u64 = stats.iter().map(|s| s.placeholders).sum();
    assert_eq!((pipelines, placeholders), (5, 5), "{stats:?}");
    w.assert_answered(5);
    for note in w.notes().iter().filter(|n| n.author_id == w.dev.id) {
        let claims =
            w.gl.awards(note.id)
                .into_iter()
                .filter(|a| a.name == "eyes")
                .count();
        assert_eq!(claims, 1, "note {}: losers withdrew", note.id);
    }
    for relay in relays {
        relay.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_resend_that_answers_removes_the_earlier_failure_note() {
    let w = world().await;
    w.fail_next_pipeline_start();
    let relay = w.standard_relay().await;
    w.mention("@claude add a changelog entry");
    wait_for(&relay, "the failure", |s| s.failed == 1).await;
    let bot_notes = || -> Vec<String> { w.bot_notes().into_iter().map(|n| n.body).collect() };
    assert!(
        bot_notes().iter().any(|b| b.contains("could not start")),
        "{:?}",
        bot_notes()
    );

    let deliveries = w.deliveries(1).await;
    redeliver(&relay, &deliveries[0], &[]).await;
    wait_for(&relay, "the retried pipeline", |s| s.pipelines == 1).await;
    // The failure note goes once the pipeline runs; the placeholder is the bot's only note.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while bot_notes().len() > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let notes = bot_notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains(":placeholder -->"), "{notes:?}");
    relay.shutdown().await.unwrap();
}
