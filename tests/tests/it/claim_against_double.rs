//! The claim (the bot's reactions on a note) as the lock that keeps two deliveries, replicas or
//! scans from answering one mention twice, against a double whose award endpoint races the way
//! GitLab's does (uniqueness checked, then inserted, not atomically).

use crate::support::gitlab_client::client;
use crate::support::seeded::{Seeded, deref_to_seeded};
use std::time::{Duration, Instant};

use doubles::gitlab::double::Noteable as DoubleNoteable;
use doubles::gitlab::faults::{FaultAction, FaultRule, Schedule};
use doubles::gitlab::model::Award;
use entrypoint::agent::Assistant;
use entrypoint::claim::{self, Claim, ClaimSettings, HandOver, State, Target};
use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::award_emoji::AwardOutcome;
use entrypoint::gitlab::ids::{AwardId, IssueIid, NoteId, Noteable, ProjectRef, UserId};

/// The seeded double and dana's issue "Broken", which her mentions go on.
struct World {
    seeded: Seeded,
    project: ProjectRef,
    issue: u64,
}

deref_to_seeded!(World);

async fn world() -> World {
    let seeded = Seeded::start().await;
    World {
        project: seeded.project_ref(),
        issue: seeded.issue("Broken"),
        seeded,
    }
}

impl World {
    fn mention(&self, body: &str) -> NoteId {
        NoteId(self.comment(DoubleNoteable::Issue(self.issue), body).id)
    }

    /// The issue, as the product names it.
    fn noteable(&self) -> Noteable {
        Noteable::Issue(IssueIid(self.issue))
    }

    fn target(&self, note: NoteId) -> Target<'_> {
        Target {
            project: &self.project,
            noteable: self.noteable(),
            subject: entrypoint::claim::Subject::Note(note),
        }
    }

    /// `gitlab`'s user reacts with `eyes` to `note` (what a claim posts).
    async fn eyes(&self, gitlab: &GitLab, note: NoteId) -> AwardOutcome {
        let awarded = gitlab.award_note(&self.project, self.noteable(), note, "eyes");
        awarded.await.expect("GitLab answers")
    }

    fn bot(&self) -> GitLab {
        client(&self.gl.api_url(), &self.bot.token)
    }

    /// The bot's reactions named `name` on the note.
    fn bot_awards(&self, note: NoteId, name: &str) -> usize {
        self.bots(self.gl.awards(note.0), name)
    }

    /// How many of `awards` are the bot's and named `name`.
    fn bots(&self, awards: Vec<Award>, name: &str) -> usize {
        let bots = |a: &&Award| a.user_id == self.bot.id && a.name == name;
        awards.iter().filter(bots).count()
    }
}

/// Short lease and pauses so the tests wait seconds, not minutes.
fn settings(lease: Duration) -> ClaimSettings {
    ClaimSettings {
        lease,
        max_pause: Duration::from_millis(200),
    }
}

/// The lease of the stories that wait for a claim to expire.
const SHORT_LEASE: Duration = Duration::from_secs(3);

/// Waits until a claim made now is past [`SHORT_LEASE`].
async fn past_the_short_lease() {
    tokio::time::sleep(SHORT_LEASE + Duration::from_millis(200)).await;
}

/// Eight callers claiming `note` at once, each with its own client (as eight replicas would be).
async fn eight_claims(w: &World, note: NoteId, settings: &ClaimSettings) -> Vec<Claim> {
    eight_claims_of(w, w.target(note), settings).await
}

/// [`eight_claims`] of any `target`.
async fn eight_claims_of(w: &World, target: Target<'_>, settings: &ClaimSettings) -> Vec<Claim> {
    let clients: Vec<GitLab> = (0..8).map(|_| w.bot()).collect();
    let attempts = clients
        .iter()
        .map(|gitlab| claim::claim(gitlab, target, Assistant::Claude, settings));
    futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|outcome| outcome.expect("a claim reaches a decision"))
        .collect()
}

/// The awards of the claims among `outcomes` that won.
fn winners(outcomes: &[Claim]) -> Vec<AwardId> {
    let won = |c: &Claim| match c {
        Claim::Won(award) => Some(*award),
        Claim::Taken => None,
    };
    outcomes.iter().filter_map(won).collect()
}

/// Whether every one of eight claims on `note` found it taken.
async fn all_taken(w: &World, note: NoteId, settings: &ClaimSettings) -> bool {
    let outcomes = eight_claims(w, note, settings).await;
    outcomes.iter().all(|c| *c == Claim::Taken)
}

#[tokio::test]
async fn the_double_lets_racing_identical_awards_through_as_gitlab_does_and_refuses_unknown_emoji()
{
    let w = world().await;
    let note = w.mention("@claude please fix this");
    let clients: Vec<GitLab> = (0..8).map(|_| w.bot()).collect();
    let awards = clients
        .iter()
        .map(|gitlab| gitlab.award_note(&w.project, w.noteable(), note, "eyes"));
    let outcomes = futures::future::join_all(awards).await;
    let awarded = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(AwardOutcome::Awarded(_))))
        .count();
    assert!(
        awarded > 1,
        "the double must not be kinder than GitLab: {outcomes:?}"
    );
    assert_eq!(w.bot_awards(note, "eyes"), awarded);

    // Sequential duplicates are still refused, and unknown names as GitLab refuses them.
    let url = format!(
        "{}/projects/{}/issues/{}/notes/{}/award_emoji",
        w.gl.api_url(),
        w.seeded.project,
        w.issue,
        note.0
    );
    let http = reqwest::Client::new();
    let post = |name: &'static str| {
        http.post(&url)
            .header("PRIVATE-TOKEN", &w.bot.token)
            .json(&serde_json::json!({ "name": name }))
            .send()
    };
    let again = post("eyes").await.unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"message": "404 Award Emoji Name has already been taken Not Found"})
    );
    let unknown = post("not_an_emoji_at_all").await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"message": "404 Award Emoji Name is not a valid emoji name Not Found"})
    );
    // `+1` is GitLab's alias of `thumbsup`.
    assert_eq!(post("+1").await.unwrap().status(), 201);
    assert_eq!(w.bot_awards(note, "thumbsup"), 1);
    w.seeded.gl.shutdown().await.unwrap();
}

#[tokio::test]
async fn eight_concurrent_claims_on_racing_awards_give_exactly_one_winner_fifty_times_over() {
    let w = world().await;
    let settings = settings(Duration::from_secs(600));
    let started = Instant::now();
    for round in 0..50 {
        let note = w.mention(&format!("@claude @codex round {round}"));
        let outcomes = eight_claims(&w, note, &settings).await;
        let won = winners(&outcomes);
        assert_eq!(won.len(), 1, "round {round}: {outcomes:?}");
        // The winner's claim is the only one left: every loser withdrew.
        let claims: Vec<_> =
            w.gl.awards(note.0)
                .into_iter()
                .filter(|a| a.name == "eyes")
                .collect();
        assert_eq!(claims.len(), 1, "round {round}: {claims:?}");
        assert_eq!(claims[0].id, won[0].0);
        // Codex's claim on the same note is independent of Claude's.
        assert!(matches!(
            claim::claim(&w.bot(), w.target(note), Assistant::Codex, &settings).await,
            Ok(Claim::Won(_))
        ));
    }
    eprintln!("50 rounds of 8 concurrent claims: {:?}", started.elapsed());
    w.seeded.gl.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_claimer_that_died_before_handing_over_is_taken_over_exactly_once_after_its_lease() {
    let w = world().await;
    let settings = settings(SHORT_LEASE);
    let note = w.mention("@claude please fix this");
    // A replica claims, then dies (its claim is never handed over).
    let dead = match w.claude_claims(w.target(note), &settings).await {
        Claim::Won(award) => award,
        Claim::Taken => unreachable!("the note was free"),
    };
    let state = async || w.claude_state(w.target(note), &settings).await;
    assert_eq!(state().await, State::Held);
    // Within the lease, nobody else answers.
    assert!(all_taken(&w, note, &settings).await);

    past_the_short_lease().await;
    assert_eq!(state().await, State::Expired);
    let outcomes = eight_claims(&w, note, &settings).await;
    let winners = winners(&outcomes);
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert_ne!(winners[0], dead);
    assert_eq!(w.bot_awards(note, "eyes"), 1, "the dead claim is gone");

    // The dead claimer wakes up: its hand-over fails, so it never answers.
    assert_eq!(
        w.claude_hands_over(w.target(note), dead).await,
        HandOver::Lost
    );
    let HandOver::Done(_) = w.claude_hands_over(w.target(note), winners[0]).await else {
        panic!("the new claimer hands over")
    };
    assert_eq!(state().await, State::HandedOver);

    // Handed over, the mention is never taken again, however old the claim gets.
    past_the_short_lease().await;
    assert_eq!(state().await, State::HandedOver);
    assert!(all_taken(&w, note, &settings).await);
    assert_eq!(w.bot_awards(note, "eyes"), 1);
    assert_eq!(w.bot_awards(note, "hourglass_flowing_sand"), 1);
    w.seeded.gl.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_claim_whose_answer_was_lost_is_never_adopted_and_is_taken_over_after_its_lease() {
    let w = world().await;
    let settings = settings(SHORT_LEASE);
    let note = w.mention("@claude please fix this");
    // Our POST landed but its answer was lost: GitLab holds a claim by the bot, and the caller
    // saw a 500. Nothing tells that claim from a racing replica's (same user, same emoji).
    let landed = w.eyes(&w.bot(), note).await;
    assert!(matches!(landed, AwardOutcome::Awarded(_)));
    let faults = w.gl.faults();
    faults.add(FaultRule {
        method: Some("POST".into()),
        path: "/api/v4/projects/*/issues/*/notes/*/award_emoji".into(),
        action: FaultAction::Status { code: 500 },
        schedule: Schedule::Times { n: 1 },
    });
    let lost = w.claude_claims(w.target(note), &settings).await;
    assert_eq!(lost, Claim::Taken, "a claim it cannot prove is its own");
    assert_eq!(faults.injected(), 1);

    past_the_short_lease().await;
    let outcomes = eight_claims(&w, note, &settings).await;
    assert_eq!(winners(&outcomes).len(), 1, "{outcomes:?}");
    assert_eq!(w.bot_awards(note, "eyes"), 1);
    w.seeded.gl.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_released_claim_can_be_taken_again_and_a_persons_reaction_is_no_claim() {
    let w = world().await;
    let settings = settings(Duration::from_secs(600));
    let note = w.mention("@claude @codex please fix this");
    let human = client(&w.gl.api_url(), &w.dev.token);
    w.eyes(&human, note).await;
    assert_eq!(w.claude_state(w.target(note), &settings).await, State::Free);
    let Claim::Won(award) = w.claude_claims(w.target(note), &settings).await else {
        panic!("a person's reaction does not hold the note")
    };
    // The relay could not start the pipeline: it gives the claim back.
    claim::release(&w.bot(), w.target(note), award, None)
        .await
        .unwrap();
    assert_eq!(w.claude_state(w.target(note), &settings).await, State::Free);
    assert!(matches!(
        w.claude_claims(w.target(note), &settings).await,
        Claim::Won(_)
    ));
    w.seeded.gl.shutdown().await.unwrap();
}

/// The event claim: the bot's reactions on the issue itself, for a trigger without a note.
impl World {
    /// Claude's claim on `target`, as the bot reads it.
    async fn claude_state(&self, target: Target<'_>, settings: &ClaimSettings) -> State {
        let me = UserId(self.bot.id);
        claim::state(&self.bot(), target, Assistant::Claude, me, settings)
            .await
            .unwrap()
    }

    /// The bot claims `target` for Claude.
    async fn claude_claims(&self, target: Target<'_>, settings: &ClaimSettings) -> Claim {
        claim::claim(&self.bot(), target, Assistant::Claude, settings)
            .await
            .unwrap()
    }

    /// The bot hands Claude's claim `award` on `target` over to the pipeline.
    async fn claude_hands_over(&self, target: Target<'_>, award: AwardId) -> HandOver {
        claim::hand_over(&self.bot(), target, Assistant::Claude, award)
            .await
            .unwrap()
    }

    fn event(&self, at: chrono::DateTime<chrono::Utc>) -> Target<'_> {
        Target::event(&self.project, self.noteable(), at)
    }

    fn bot_issue_awards(&self, name: &str) -> usize {
        let issue = DoubleNoteable::Issue(self.issue);
        self.bots(self.gl.noteable_awards(self.seeded.project, issue), name)
    }
}

#[tokio::test]
async fn an_event_is_claimed_once_on_the_issue_itself_and_a_duplicate_delivery_finds_it_taken() {
    let w = world().await;
    let settings = settings(Duration::from_secs(60));
    // The hook's time has whole seconds, and the claims come after the event.
    let at = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let outcomes = eight_claims_of(&w, w.event(at), &settings).await;
    let won = winners(&outcomes);
    assert_eq!(won.len(), 1, "{outcomes:?}");
    assert_eq!(w.bot_issue_awards(claim::emoji(Assistant::Claude)), 1);
    assert!(matches!(
        w.claude_hands_over(w.event(at), won[0]).await,
        HandOver::Done(_)
    ));
    // The same event delivered again (a project and a group hook, a retried delivery).
    assert_eq!(w.claude_claims(w.event(at), &settings).await, Claim::Taken);
    assert_eq!(
        w.claude_state(w.event(at), &settings).await,
        State::HandedOver
    );
    // Nothing landed on a note.
    assert!(w.gl.note_events().is_empty());
}

#[tokio::test]
async fn a_later_event_on_the_same_issue_is_answerable_again_and_clears_the_earlier_reactions() {
    let w = world().await;
    let settings = settings(Duration::from_secs(60));
    let first = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let Claim::Won(award) = w.claude_claims(w.event(first), &settings).await else {
        panic!("the first event is free");
    };
    w.claude_hands_over(w.event(first), award).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Unassigned and assigned again: a new event, after the first one's reactions.
    let second = chrono::Utc::now();
    assert_eq!(
        w.claude_state(w.event(second), &settings).await,
        State::Expired,
        "the earlier event's reactions do not hold the new one"
    );
    let Claim::Won(again) = w.claude_claims(w.event(second), &settings).await else {
        panic!("a new event is answered again");
    };
    assert!(matches!(
        w.claude_hands_over(w.event(second), again).await,
        HandOver::Done(_)
    ));
    assert_eq!(w.bot_issue_awards(claim::emoji(Assistant::Claude)), 1);
    assert_eq!(
        w.bot_issue_awards(claim::handover_emoji(Assistant::Claude)),
        1
    );
    // The first event, delivered late, is not answered again: it finds the newer claim.
    assert_eq!(
        w.claude_claims(w.event(first), &settings).await,
        Claim::Taken
    );
}
