//! Two real `entrypoint serve` processes against the GitLab double, every delivery sent to both
//! (one project hook each), under the replica-death rows of issue 15's table: a replica
//! SIGKILLed mid-load while GitLab is slow to start pipelines, or to take notes. Each ends with
//! every mention answered once, every Guest refused once, none lost and none answered twice; a
//! delivery whose replica died before it could act is answered when it is resent ("Resend
//! request"), once the dead claimer's lease has run out.

use std::time::Duration;

use doubles::gitlab::faults::{FaultAction, FaultRule, Schedule};
use doubles::replicas::{Fate, Fleet, Posted, Tally};

/// Short, so that the dead replica's claims expire within the test.
const LEASE: Duration = Duration::from_secs(3);

fn rule(method: &str, path: &str, action: FaultAction, schedule: Schedule) -> FaultRule {
    FaultRule {
        method: Some(method.to_owned()),
        path: path.to_owned(),
        action,
        schedule,
    }
}

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

/// Waits until every mention has an end (answered, refused or a failure note), else until the
/// lease has run out and nothing moves any more.
async fn settle(fleet: &Fleet, posted: &[Posted]) {
    let done = |fleet: &Fleet| posted.iter().all(|m| !matches!(fleet.fate(m), Fate::Lost));
    if fleet.settle(Duration::from_secs(40), done).await.is_err() {
        // Some are lost for now: give the dead claimer's leases time to run out.
        tokio::time::sleep(LEASE + Duration::from_secs(1)).await;
    }
}

/// Resends, to the replicas still running, the deliveries of every mention that has no end
/// yet, as a person would from the hook's "Recent events"; then waits for them.
async fn resend_lost(fleet: &Fleet, posted: &[Posted]) -> usize {
    let running: Vec<String> = fleet
        .replicas()
        .iter()
        .filter(|r| r.is_running())
        .map(|r| r.url())
        .collect();
    let mut resent = 0;
    for mention in posted.iter().filter(|m| fleet.fate(m) == Fate::Lost) {
        for delivery in fleet
            .deliveries_of(mention)
            .into_iter()
            .filter(|d| running.contains(&d.url))
        {
            resent += 1;
            fleet.resend(&delivery).await;
        }
    }
    let done = |fleet: &Fleet| posted.iter().all(|m| fleet.fate(m) != Fate::Lost);
    let _ = fleet.settle(Duration::from_secs(30), done).await;
    resent
}

fn assert_once(fleet: &Fleet, posted: &[Posted], tally: &Tally, failures_allowed: bool) {
    let report: Vec<_> = posted
        .iter()
        .filter(|m| fleet.fate(m) != Fate::Once)
        .map(|m| (m.note.id, fleet.fate(m)))
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

#[tokio::test]
async fn a_replica_killed_while_pipelines_start_slowly_loses_nothing_and_a_resend_answers() {
    let mut fleet = Fleet::start(2, LEASE, 4).await.expect("fleet");
    fleet.gl.faults().add(rule(
        "POST",
        "/api/v4/projects/*/trigger/pipeline",
        FaultAction::Latency { ms: 400 },
        Schedule::Always,
    ));
    let posted = load(&mut fleet, 30, async |fleet: &mut Fleet| {
        tokio::time::sleep(Duration::from_millis(300)).await;
        fleet.kill(0).await.expect("kill");
    })
    .await;
    settle(&fleet, &posted).await;
    resend_lost(&fleet, &posted).await;
    let tally = fleet.tally(&posted);
    assert_once(&fleet, &posted, &tally, false);
}

#[tokio::test]
async fn a_replica_killed_while_notes_post_slowly_loses_nothing_and_a_resend_answers() {
    let mut fleet = Fleet::start(2, LEASE, 4).await.expect("fleet");
    fleet.gl.faults().add(rule(
        "POST",
        "/api/v4/projects/*/issues/*/notes",
        FaultAction::Latency { ms: 400 },
        Schedule::Always,
    ));
    let posted = load(&mut fleet, 30, async |fleet: &mut Fleet| {
        tokio::time::sleep(Duration::from_millis(300)).await;
        fleet.kill(0).await.expect("kill");
    })
    .await;
    settle(&fleet, &posted).await;
    resend_lost(&fleet, &posted).await;
    let tally = fleet.tally(&posted);
    assert_once(&fleet, &posted, &tally, false);
}
