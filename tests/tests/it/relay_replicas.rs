//! Two real `entrypoint serve` processes against the GitLab double, every delivery sent to both
//! (one project hook each), under the replica-death rows of issue 15's table: a replica
//! SIGKILLed mid-load while GitLab is slow to start pipelines, or to take notes; GitLab failing
//! a fifth of its requests. Each ends with every mention answered once, every Guest refused
//! once (or, when GitLab failed the pipeline start itself, one note saying so), none lost and
//! none answered twice; a delivery whose replica died before it could act is answered when it
//! is resent ("Resend request"), once the dead claimer's lease has run out.

use std::time::Duration;

use crate::relay_support::rule;
use doubles::gitlab::double::Noteable;
use doubles::gitlab::faults::{FaultAction, Schedule};
use doubles::replicas::{Fate, Fleet, Posted, Tally};

/// Short, so that the dead replica's claims expire within the test.
const LEASE: Duration = Duration::from_secs(3);

/// Posts `count` mentions, every fifth by a Guest, calling `midway` after the first third.
async fn load(
    fleet: &mut Fleet,
    count: usize,
    midway: impl AsyncFnOnce(&mut Fleet),
) -> Vec<Posted> {
    let mut posted = Vec::new();
    let mut midway = Some(midway);
    for n in 0..count {
        if n == count / 3
            && let Some(midway) = midway.take()
        {
            midway(fleet).await;
        }
        posted.push(
            fleet
                .mention(n % 5 != 4, &format!("@claude look at case {n}"))
                .expect("mention"),
        );
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    posted
}

/// Waits until every mention has an end, or until the replicas still running stop making
/// progress (what a killed replica held never ends by itself); then, if some have none, waits
/// for the dead claimer's lease to run out, resends their deliveries to the replicas still
/// running, as a person would from the hook's "Recent events", and waits again.
async fn settle_and_resend(fleet: &Fleet, posted: &[Posted]) {
    let ended = |fleet: &Fleet| posted.iter().all(|m| fleet.fate(m) != Fate::Lost);
    // Several of GitLab's slow answers (400 ms each) and the relay's retries fit in it.
    let stalled_after = Duration::from_secs(5);
    let give_up = tokio::time::Instant::now() + Duration::from_secs(40);
    let mut last = fleet.tally(posted);
    let mut changed = tokio::time::Instant::now();
    while !ended(fleet)
        && changed.elapsed() < stalled_after
        && tokio::time::Instant::now() < give_up
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = fleet.tally(posted);
        if now != last {
            last = now;
            changed = tokio::time::Instant::now();
        }
    }
    if !ended(fleet) {
        tokio::time::sleep(LEASE + Duration::from_secs(1)).await;
        fleet.resend_lost(posted).await;
        fleet.wait_for_ends(posted, Duration::from_secs(30)).await;
    }
    // A replica may still be working on its copy of a mention that already has an end (riding
    // out GitLab's failures, or about to remove an earlier failure note): wait until nothing
    // has changed for longer than its retries take.
    let mut last = fleet.tally(posted);
    let mut still = 0;
    while still < 20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = fleet.tally(posted);
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
}

fn assert_once(fleet: &Fleet, posted: &[Posted], tally: &Tally, failures_allowed: bool) {
    let report: Vec<_> = posted
        .iter()
        .filter(|m| fleet.fate(m) != Fate::Once)
        .map(|m| {
            let notes: Vec<String> = fleet
                .gl
                .notes(fleet.project, Noteable::Issue(m.issue))
                .into_iter()
                .filter(|n| n.author_id == fleet.bot.id)
                .map(|n| n.body.lines().last().unwrap_or_default().to_owned())
                .collect();
            (
                m.note.id,
                fleet.fate(m),
                fleet.gl.award_names(m.note.id),
                notes,
            )
        })
        .collect();
    assert_eq!(
        (tally.lost, tally.duplicated),
        (0, 0),
        "{tally:?} {report:?}"
    );
    let guests = posted.iter().filter(|m| !m.allowed).count();
    if failures_allowed {
        assert_eq!(
            tally.answered + tally.refused + tally.failed_visibly,
            posted.len(),
            "{tally:?}"
        );
    } else {
        assert_eq!(tally.refused, guests, "{tally:?} {report:?}");
        assert_eq!(
            tally.answered,
            posted.len() - guests,
            "{tally:?} {report:?}"
        );
    }
}

/// Thirty mentions while GitLab takes 400 ms for every POST to `slow_path`; the first replica is
/// SIGKILLed a third of the way in. Every mention still ends once.
async fn a_replica_killed_while_gitlab_is_slow_on(slow_path: &str) {
    let mut fleet = Fleet::start(2, LEASE, 4).await.expect("fleet");
    fleet.gl.faults().add(rule(
        "POST",
        slow_path,
        FaultAction::Latency { ms: 400 },
        Schedule::Always,
    ));
    let posted = load(&mut fleet, 30, async |fleet: &mut Fleet| {
        tokio::time::sleep(Duration::from_millis(300)).await;
        fleet.kill(0).await.expect("kill");
    })
    .await;
    settle_and_resend(&fleet, &posted).await;
    let tally = fleet.tally(&posted);
    assert_once(&fleet, &posted, &tally, false);
}

#[tokio::test]
async fn a_replica_killed_while_pipelines_start_slowly_loses_nothing_and_a_resend_answers() {
    a_replica_killed_while_gitlab_is_slow_on("/api/v4/projects/*/trigger/pipeline").await;
}

#[tokio::test]
async fn a_replica_killed_while_notes_post_slowly_loses_nothing_and_a_resend_answers() {
    a_replica_killed_while_gitlab_is_slow_on("/api/v4/projects/*/issues/*/notes").await;
}

#[tokio::test]
async fn a_fifth_of_gitlabs_answers_failing_leaves_every_mention_answered_refused_or_noted_once() {
    let fleet = Fleet::start(2, LEASE, 4).await.expect("fleet");
    let faults = fleet.gl.faults();
    for (n, (method, code)) in [("GET", 500), ("POST", 503), ("PUT", 500), ("DELETE", 503)]
        .into_iter()
        .enumerate()
    {
        faults.add(rule(
            method,
            "/api/v4/**",
            FaultAction::Status { code },
            Schedule::Fraction {
                ratio: 0.14,
                seed: 15 + n as u64,
            },
        ));
    }
    faults.add(rule(
        "POST",
        "/api/v4/**",
        FaultAction::RateLimited {
            retry_after_secs: 0,
        },
        Schedule::Fraction {
            ratio: 0.07,
            seed: 99,
        },
    ));
    let mut fleet = fleet;
    let posted = load(&mut fleet, 30, async |_: &mut Fleet| {}).await;
    settle_and_resend(&fleet, &posted).await;
    let tally = fleet.tally(&posted);
    assert!(faults.injected() > 0);
    assert_once(&fleet, &posted, &tally, true);
}

#[tokio::test]
async fn a_burst_far_beyond_each_replicas_queue_is_answered_once() {
    // Two mentions fit each replica's queue, one worker each: the rest waits in the overflow
    // (and the spool), never refused, never answered twice.
    let fleet = Fleet::start_with(2, LEASE, 1, &[("AI_RELAY_QUEUE_CAPACITY", "2")])
        .await
        .expect("fleet");
    let posted: Vec<Posted> = (0..40)
        .map(|n| {
            fleet
                .mention(n % 5 != 4, &format!("@claude burst {n}"))
                .expect("mention")
        })
        .collect();
    settle_and_resend(&fleet, &posted).await;
    let refused: Vec<_> = posted
        .iter()
        .flat_map(|m| fleet.deliveries_of(m))
        .map(|d| d.status)
        .filter(|s| *s != Some(202))
        .collect();
    assert!(refused.is_empty(), "deliveries not accepted: {refused:?}");
    let tally = fleet.tally(&posted);
    assert_once(&fleet, &posted, &tally, false);
}
