//! Who answers a mention: at most one answer per mention, on GitLab's real semantics.
//!
//! A mention can reach us more than once: GitLab re-sends a webhook it thinks timed out, a
//! project and a group hook both fire, two relay replicas behind a load balancer both receive a
//! delivery, the webhook job and a scheduled scan both see the same note, a scan dies half-way
//! and the next one starts over. None of them shares memory, so the lock lives in GitLab: the bot
//! user's reaction on the note (the *claim* emoji, [`emoji`]).
//!
//! # Why a reaction alone is not a lock
//!
//! GitLab checks "one reaction per user, emoji and note" in the application only
//! (`validates :name, uniqueness:` in `app/models/award_emoji.rb`, no unique index,
//! gitlab-org/gitlab#18914): two requests that both validate before either inserts both get
//! `201`. Every caller here is the same bot user, so racing callers can all "win" the `POST`.
//! Ids do not help either: they come from a Postgres sequence when the `INSERT` runs, but
//! transactions commit in any order, so a lower id can become visible *after* a higher one
//! (a "lowest id wins" rule lets the higher one see itself alone and win, then the lower one
//! commit, see both, and win too).
//!
//! # The rule: announce, then look (award, list, alone or withdraw)
//!
//! A caller adds its claim, then lists the note's reactions. It wins only if its claim is the
//! only claim of the bot there; otherwise it withdraws (deletes its own claim) and tries again
//! after a random pause, at most [`ROUNDS`] times.
//!
//! Why two callers can never both win: GitLab is one database, read-committed. A caller's list
//! starts after its own `POST` returned, i.e. after its insert committed, and shows every row
//! committed before the list started. Take two winners A and B and say A's list started first.
//! A's insert committed before A's list, hence before B's list, so B's list shows A's claim —
//! unless A deleted it, and a winner never deletes its claim while it answers. B saw another
//! claim, so B did not win. Contradiction. This holds for any interleaving of inserts, lists and
//! deletions, and whatever order the ids were handed out in. The price is liveness: callers that
//! all see each other all withdraw; the random pauses make one of them alone soon (the tests run
//! eight at once, fifty times).
//!
//! A caller whose `POST` is refused as "already taken" did not add a claim: it looks at the
//! list and stops ([`Claim::Taken`]) unless every claim there has expired (below).
//!
//! A `POST` whose answer was lost (5xx, timeout) may have created a claim. Every caller is the
//! same user, so "the bot's claim" on the list may be ours or a racing replica's: nothing on the
//! list tells them apart (same user, same emoji; the id is what we did not get back). Adopting it
//! could make two winners, so such a caller treats any claim it sees as someone else's and stops;
//! if the claim was its own, nobody answers it until its lease expires, then the next delivery or
//! scan takes it over. Late, never twice.
//!
//! # A claim is a lease
//!
//! A claimer can die after claiming (a relay replica killed, a job cancelled). So a claim alone
//! holds the mention for [`ClaimSettings::lease`] from its `created_at`; a winner that really
//! answers marks the *hand-over* with a second reaction of the bot ([`handover_emoji`]) before
//! it does anything that cannot be undone (starting the pipeline, posting the refusal, running
//! the assistant), see [`hand_over`]. A mention with the hand-over reaction is answered or being
//! answered (the job's own `after_script` covers a job cancelled later); a claim older than the
//! lease without it belongs to a claimer that died, and the next caller deletes it and claims
//! anew (a taker-over races like any other caller, so exactly one wins). A relay's or scan's
//! placeholder names the claim it was posted under ([`crate::marker::claim_line`]), so the
//! taker also removes the placeholder a dead claimer left saying "working".
//!
//! Why the hand-over is safe against a claimer that was only slow: it adds the hand-over
//! reaction, then lists, and goes on only if its claim is still there; a taker deletes the
//! stale claim, adds its own, lists, and goes on only if it is alone and no hand-over reaction
//! is there. Whichever list starts later sees the other's change, as above.
//!
//! Both reactions live on the note itself, so one `GET` of its reactions says everything, and
//! people see at a glance that the bot took the request. Everything here is one user's
//! reactions on one note: nothing else in GitLab offers a conditional write to the REST API.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::StatusCode;

use crate::agent::Assistant;
use crate::env::Env;
use crate::gitlab::award_emoji::{AwardEmoji, AwardOutcome};
use crate::gitlab::client::GitLab;
use crate::gitlab::error::GitLabError;
use crate::gitlab::ids::{AwardId, NoteId, Noteable, ProjectRef, UserId};
use crate::gitlab::notes::NoteListOptions;

/// How long a claim without hand-over holds a mention: `AI_CLAIM_LEASE_SECONDS`.
pub(crate) const LEASE_VAR: &str = crate::env::AI_CLAIM_LEASE_SECONDS.name();

/// Ten minutes. A live claimer needs a handful of requests between its claim and the hand-over
/// (list, placeholder, hand-over reaction): well under a second when GitLab is healthy (the
/// tests measure it), and up to a minute per request while the client rides out a deploy or a
/// rate limit ([`crate::gitlab::RetryPolicy`]'s budget). Ten minutes covers that with room to
/// spare, and clocks that disagree by a few minutes.
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(600);

/// Attempts of one [`claim`] call when callers collide; each collision costs every colliding
/// caller one withdrawal and a random pause.
pub(crate) const ROUNDS: u32 = 10;

/// The reaction that claims a note for `assistant`. Each assistant has its own, so one bot user
/// serving both can claim the same note once for each (`@claude @codex compare`).
pub fn emoji(assistant: Assistant) -> &'static str {
    assistant.profile().claim_emoji
}

/// The reaction that says the claimer handed the mention over (pipeline started, refusal
/// posted, or the job answering it is running): the claim is no longer a lease.
pub fn handover_emoji(assistant: Assistant) -> &'static str {
    assistant.profile().handover_emoji
}

/// The claim's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimSettings {
    /// How long a claim that was never handed over keeps others away.
    pub lease: Duration,
    /// The longest random pause between two rounds (the first pause is up to a quarter of it).
    pub max_pause: Duration,
}

impl Default for ClaimSettings {
    fn default() -> Self {
        Self {
            lease: DEFAULT_LEASE,
            max_pause: Duration::from_secs(2),
        }
    }
}

/// `AI_CLAIM_LEASE_SECONDS` is not a whole number of seconds of at least 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "AI_CLAIM_LEASE_SECONDS={0:?} is not a lease length: set it to a whole number of seconds (at least 1; default 600), longer than a claimer needs to start the pipeline"
)]
pub struct LeaseError(pub String);

impl ClaimSettings {
    /// Reads [`LEASE_VAR`]; unset or empty means [`DEFAULT_LEASE`].
    pub fn from_env(vars: &dyn Env) -> Result<Self, LeaseError> {
        let Some(text) = vars
            .var(LEASE_VAR)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        else {
            return Ok(Self::default());
        };
        match text.parse::<u64>() {
            Ok(seconds) if seconds >= 1 => Ok(Self {
                lease: Duration::from_secs(seconds),
                ..Self::default()
            }),
            _ => Err(LeaseError(text)),
        }
    }
}

/// The outcome of [`claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This caller's claim is the only one: it must answer, and call [`hand_over`] before
    /// anything irreversible.
    Won(AwardId),
    /// Another delivery, replica, job or scan holds a live claim, or handed the mention over.
    Taken,
}

/// A request that can be claimed: a note, or an event on an issue or merge request.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The project.
    pub project: &'a ProjectRef,
    /// The issue or merge request.
    pub noteable: Noteable,
    /// What carries the reactions.
    pub subject: Subject,
}

/// What the reactions of a claim sit on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The note with the mention.
    Note(NoteId),
    /// The issue or merge request itself, for a trigger without a note (the bot assigned, its
    /// review requested, the trigger label added, a description mention): GitLab keeps one
    /// reaction per user and emoji there too, so it is the same lock. One issue sees many such
    /// events over its life, so the bot's reactions made before this event's time belong to an
    /// earlier one: for this event they are as good as expired, and the claimer removes them
    /// and claims anew. A duplicate delivery of the same event carries the same time and finds
    /// the live claim. (Hook times have whole seconds: two events on one issue within the same
    /// second are one request.)
    Event {
        /// When the event happened.
        at: DateTime<Utc>,
    },
}

impl<'a> Target<'a> {
    /// A note's claim.
    pub fn note(project: &'a ProjectRef, noteable: Noteable, note: NoteId) -> Self {
        Self {
            project,
            noteable,
            subject: Subject::Note(note),
        }
    }

    /// The claim of an event on the issue or merge request itself ([`Subject::Event`]).
    pub fn event(project: &'a ProjectRef, noteable: Noteable, at: DateTime<Utc>) -> Self {
        Self {
            project,
            noteable,
            subject: Subject::Event { at },
        }
    }

    /// Made before this target's event: a reaction of an earlier event on the same issue.
    fn earlier(&self, award: &AwardEmoji) -> bool {
        matches!(self.subject, Subject::Event { at } if award.created_at < at)
    }

    async fn awards(&self, gitlab: &GitLab) -> Result<Vec<AwardEmoji>, GitLabError> {
        let (project, noteable) = (self.project, self.noteable);
        match self.subject {
            Subject::Note(note) => gitlab.note_awards(project, noteable, note).await,
            Subject::Event { .. } => gitlab.noteable_awards(project, noteable).await,
        }
    }

    async fn award(&self, gitlab: &GitLab, name: &str) -> Result<AwardOutcome, GitLabError> {
        let (project, noteable) = (self.project, self.noteable);
        match self.subject {
            Subject::Note(note) => gitlab.award_note(project, noteable, note, name).await,
            Subject::Event { .. } => gitlab.award_noteable(project, noteable, name).await,
        }
    }

    async fn unaward(&self, gitlab: &GitLab, award: AwardId) -> Result<(), GitLabError> {
        let (project, noteable) = (self.project, self.noteable);
        match self.subject {
            Subject::Note(note) => {
                gitlab
                    .delete_note_award(project, noteable, note, award)
                    .await
            }
            Subject::Event { .. } => gitlab.delete_noteable_award(project, noteable, award).await,
        }
    }
}

/// Where a mention stands, read from its reactions ([`state`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No claim: nobody took it yet.
    Free,
    /// Claimed, lease running: a claimer is on its way to the hand-over.
    Held,
    /// Claimed, lease over, never handed over: the claimer died; the next [`claim`] takes over.
    Expired,
    /// Handed over: answered or being answered.
    HandedOver,
}

/// The claim failed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// GitLab could not be asked or refused.
    #[error(transparent)]
    GitLab(#[from] GitLabError),
    /// Every round collided with another caller.
    #[error(
        "the note was claimed by several deliveries, replicas or scans at once {0} times in a row; the claim was given back so a retry can take it"
    )]
    Contended(u32),
}

/// True when a failed `POST` may nevertheless have created the award: no answer at all, a 5xx,
/// or a success we could not read.
fn may_have_landed(error: &GitLabError) -> bool {
    error
        .status()
        .is_none_or(|s| s.is_server_error() || s.is_success())
}

fn is_gone(error: &GitLabError) -> bool {
    error.status() == Some(StatusCode::NOT_FOUND)
}

/// The bot's reactions of `name` on the note, lowest id first.
fn named<'a>(awards: &'a [AwardEmoji], bot: UserId, name: &str) -> Vec<&'a AwardEmoji> {
    let mut found: Vec<_> = awards
        .iter()
        .filter(|a| a.user.id == bot && a.name == name)
        .collect();
    found.sort_by_key(|a| a.id.0);
    found
}

fn expired(award: &AwardEmoji, lease: Duration, now: DateTime<Utc>) -> bool {
    let lease = chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::MAX);
    award
        .created_at
        .checked_add_signed(lease)
        .is_none_or(|until| until <= now)
}

/// Reads where the mention stands from the note's reactions (one `GET`).
pub fn state_of(
    awards: &[AwardEmoji],
    assistant: Assistant,
    bot: UserId,
    settings: &ClaimSettings,
    now: DateTime<Utc>,
) -> State {
    state_since(awards, assistant, bot, settings, now, None)
}

/// [`state_of`] for a target: an event's earlier reactions do not count
/// ([`Subject::Event`]).
fn state_since(
    awards: &[AwardEmoji],
    assistant: Assistant,
    bot: UserId,
    settings: &ClaimSettings,
    now: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
) -> State {
    let current = |a: &&AwardEmoji| since.is_none_or(|at| a.created_at >= at);
    if named(awards, bot, handover_emoji(assistant))
        .iter()
        .any(current)
    {
        return State::HandedOver;
    }
    let claims = named(awards, bot, emoji(assistant));
    if claims.is_empty() {
        State::Free
    } else if claims
        .iter()
        .all(|a| !current(a) || expired(a, settings.lease, now))
    {
        State::Expired
    } else {
        State::Held
    }
}

/// Where the mention stands for `bot`: one `GET` of the note's reactions, for a scan deciding
/// what is left to do ([`claim`] remains the lock).
pub async fn state(
    gitlab: &GitLab,
    target: Target<'_>,
    assistant: Assistant,
    bot: UserId,
    settings: &ClaimSettings,
) -> Result<State, GitLabError> {
    let awards = target.awards(gitlab).await?;
    let since = match target.subject {
        Subject::Event { at } => Some(at),
        Subject::Note(_) => None,
    };
    Ok(state_since(
        &awards,
        assistant,
        bot,
        settings,
        Utc::now(),
        since,
    ))
}

/// Claims the note for `assistant` as the token's user (see the module documentation for the
/// rule and why it holds on GitLab).
pub async fn claim(
    gitlab: &GitLab,
    target: Target<'_>,
    assistant: Assistant,
    settings: &ClaimSettings,
) -> Result<Claim, ClaimError> {
    let name = emoji(assistant);
    let mut bot: Option<UserId> = None;
    let mut pause = false;
    for round in 0..ROUNDS {
        if pause {
            tokio::time::sleep(jitter(settings.max_pause, round)).await;
        }
        pause = true;
        let mine = match target.award(gitlab, name).await {
            Ok(AwardOutcome::Awarded(award)) => {
                bot = Some(award.user.id);
                Some(award.id)
            }
            Ok(AwardOutcome::AlreadyAwarded) => None,
            Err(error) if may_have_landed(&error) => {
                tracing::warn!(%error, "the claim's answer was lost; looking at the note's reactions instead");
                None
            }
            Err(error) => return Err(error.into()),
        };
        let bot = match bot {
            Some(bot) => bot,
            None => {
                let me = gitlab.current_user().await?.id;
                bot = Some(me);
                me
            }
        };
        let awards = target.awards(gitlab).await?;
        // An earlier event's reactions are cleared like a dead claimer's: its hand-over too,
        // or this event's own hand-over would find it and stop.
        let earlier: Vec<&AwardEmoji> = named(&awards, bot, handover_emoji(assistant))
            .into_iter()
            .chain(named(&awards, bot, name))
            .filter(|a| target.earlier(a) && Some(a.id) != mine)
            .collect();
        if !earlier.is_empty() {
            if let Some(mine) = mine {
                withdraw(gitlab, target, mine).await?;
            }
            take_over(gitlab, target, bot, &earlier).await?;
            pause = false;
            continue;
        }
        let handed_over = !named(&awards, bot, handover_emoji(assistant)).is_empty();
        let claims = named(&awards, bot, name);
        match mine {
            Some(mine) if !handed_over && claims.iter().all(|a| a.id == mine) => {
                return Ok(Claim::Won(mine));
            }
            Some(mine) => {
                withdraw(gitlab, target, mine).await?;
                if handed_over {
                    return Ok(Claim::Taken);
                }
                let now = Utc::now();
                let others: Vec<&AwardEmoji> =
                    claims.iter().copied().filter(|a| a.id != mine).collect();
                if others.iter().all(|a| expired(a, settings.lease, now)) {
                    // Only dead claimers besides us: clear them; the next round is a fresh race.
                    take_over(gitlab, target, bot, &others).await?;
                    pause = false;
                } else {
                    tracing::debug!(round, "another caller claimed at the same time; withdrew");
                }
            }
            None if handed_over => return Ok(Claim::Taken),
            None if claims.is_empty() => {
                // Withdrawn meanwhile, or our POST never landed: try again.
                pause = false;
            }
            None => {
                let now = Utc::now();
                if claims.iter().all(|a| expired(a, settings.lease, now)) {
                    take_over(gitlab, target, bot, &claims).await?;
                    pause = false;
                } else {
                    return Ok(Claim::Taken);
                }
            }
        }
    }
    Err(ClaimError::Contended(ROUNDS))
}

/// Deletes the claims of claimers whose lease ran out, by id (never a live one: a newer claim
/// has another id), and the placeholders they left "working" ([`crate::marker::claim_line`]).
/// A 404 means another taker was first.
async fn take_over(
    gitlab: &GitLab,
    target: Target<'_>,
    bot: UserId,
    stale: &[&AwardEmoji],
) -> Result<(), GitLabError> {
    for award in stale {
        if target.earlier(award) {
            tracing::info!(award = award.id.0, claimed_at = %award.created_at, "the bot's reaction belongs to an earlier event on this issue or merge request; claiming the new one");
        } else {
            tracing::info!(award = award.id.0, claimed_at = %award.created_at, "the claim's lease expired without a hand-over; taking the mention over");
        }
        withdraw(gitlab, target, award.id).await?;
    }
    // Best effort: a placeholder left behind is untidy, not wrong, and must not stop the answer.
    let notes = match gitlab
        .notes(target.project, target.noteable, NoteListOptions::default())
        .await
    {
        Ok(notes) => notes,
        Err(error) => {
            tracing::warn!(%error, "the notes could not be listed to remove the dead claimer's placeholder");
            return Ok(());
        }
    };
    let stale_ids: Vec<AwardId> = stale.iter().map(|a| a.id).collect();
    for note in notes.iter().filter(|n| {
        n.author.id == bot
            && crate::marker::claim_of(&n.body).is_some_and(|c| stale_ids.contains(&AwardId(c)))
    }) {
        match gitlab
            .delete_note(target.project, target.noteable, note.id)
            .await
        {
            Ok(()) => tracing::info!(
                note = note.id.0,
                "removed the placeholder a dead claimer left"
            ),
            Err(error) if is_gone(&error) => {}
            Err(error) => {
                tracing::warn!(%error, note = note.id.0, "the dead claimer's placeholder could not be removed")
            }
        }
    }
    Ok(())
}

/// Deletes one of the bot's reactions; already gone is fine.
async fn withdraw(gitlab: &GitLab, target: Target<'_>, award: AwardId) -> Result<(), GitLabError> {
    match target.unaward(gitlab, award).await {
        Ok(()) => Ok(()),
        Err(error) if is_gone(&error) => Ok(()),
        Err(error) => Err(error),
    }
}

/// A random pause before round `round` (counting from 1): between a quarter of and
/// `max / 4 * 2^(round-1)`, capped at `max`, so colliding callers spread out over more than a
/// request's round trip and one of them finds itself alone.
fn jitter(max: Duration, round: u32) -> Duration {
    let cap = (max / 4)
        .checked_mul(1u32 << round.saturating_sub(1).min(10))
        .unwrap_or(max)
        .min(max);
    let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rand::rng().random_range(nanos / 4..=nanos))
}

/// The outcome of [`hand_over`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandOver {
    /// The mention is handed over; this award marks it. Give it back with [`release`] if the
    /// irreversible step then fails.
    Done(AwardId),
    /// Our claim is gone: the lease ran out and another caller took the mention over. Stop.
    Lost,
}

/// Marks the mention as handed over by the winner of `claim` (see the module documentation):
/// call it right before the first step that cannot be undone.
pub async fn hand_over(
    gitlab: &GitLab,
    target: Target<'_>,
    assistant: Assistant,
    claim: AwardId,
) -> Result<HandOver, GitLabError> {
    let name = handover_emoji(assistant);
    let added = match target.award(gitlab, name).await {
        Ok(AwardOutcome::Awarded(award)) => award.id,
        // A hand-over is already there: only a caller holding the claim adds one, so ours was
        // taken over and handed over by someone else.
        Ok(AwardOutcome::AlreadyAwarded) => return Ok(HandOver::Lost),
        Err(error) => {
            if may_have_landed(&error) {
                remove_own(gitlab, target, name).await;
            }
            return Err(error);
        }
    };
    let awards = match target.awards(gitlab).await {
        Ok(awards) => awards,
        Err(error) => {
            let _ = withdraw(gitlab, target, added).await;
            return Err(error);
        }
    };
    if awards.iter().any(|a| a.id == claim) {
        return Ok(HandOver::Done(added));
    }
    withdraw(gitlab, target, added).await?;
    Ok(HandOver::Lost)
}

/// After a hand-over whose answer was lost, removes the bot's hand-over reactions again, best
/// effort (the caller is failing and gives its claim back, so the mention must not look handed
/// over).
async fn remove_own(gitlab: &GitLab, target: Target<'_>, name: &str) {
    let Ok(me) = gitlab.current_user().await else {
        return;
    };
    let Ok(awards) = target.awards(gitlab).await else {
        return;
    };
    for award in named(&awards, me.id, name) {
        let _ = withdraw(gitlab, target, award.id).await;
    }
}

/// The bot's claim and hand-over reactions on a mention whose hand-over is older than the
/// lease while the claim is still there: a candidate for a claimer that died after the
/// hand-over, before it confirmed the answer started. Only the caller knows how that
/// confirmation looks (the relay rewrites its placeholder once the pipeline runs,
/// [`crate::answer::in_pipeline`]), so this only names the reactions; `None` when the mention
/// is free, held or handed over within the lease.
pub(crate) fn stale_handover(
    awards: &[AwardEmoji],
    assistant: Assistant,
    bot: UserId,
    settings: &ClaimSettings,
    now: DateTime<Utc>,
) -> Option<(Vec<AwardId>, Vec<AwardId>)> {
    let handovers = named(awards, bot, handover_emoji(assistant));
    let claims = named(awards, bot, emoji(assistant));
    if handovers.is_empty()
        || claims.is_empty()
        || !handovers.iter().all(|a| expired(a, settings.lease, now))
    {
        return None;
    }
    Some((
        claims.iter().map(|a| a.id).collect(),
        handovers.iter().map(|a| a.id).collect(),
    ))
}

/// Deletes the bot's reactions `awards` from the note (already gone is fine), for a caller
/// taking over a mention whose claimer died ([`stale_handover`]).
pub(crate) async fn withdraw_all(
    gitlab: &GitLab,
    target: Target<'_>,
    awards: &[AwardId],
) -> Result<(), GitLabError> {
    for award in awards {
        withdraw(gitlab, target, *award).await?;
    }
    Ok(())
}

/// Removes the bot's claim and hand-over reactions of `assistant` from `target`, whoever added
/// them: for a job that queued its request again ([`crate::quota`]) in a retry pipeline the
/// relay's sweep started and claimed, which holds no award ids, so that the next sweep or scan
/// can claim the queued note again. Already gone is fine.
pub(crate) async fn release_own(
    gitlab: &GitLab,
    target: Target<'_>,
    assistant: Assistant,
    bot: UserId,
) -> Result<(), GitLabError> {
    let awards = target.awards(gitlab).await?;
    for name in [handover_emoji(assistant), emoji(assistant)] {
        for award in named(&awards, bot, name) {
            withdraw(gitlab, target, award.id).await?;
        }
    }
    Ok(())
}

/// Gives a claim (and its hand-over, when there was one) back, for a caller that won but could
/// not answer, so that a retry or the next scan can take the mention again.
pub async fn release(
    gitlab: &GitLab,
    target: Target<'_>,
    claim: AwardId,
    handover: Option<AwardId>,
) -> Result<(), GitLabError> {
    if let Some(handover) = handover {
        withdraw(gitlab, target, handover).await?;
    }
    withdraw(gitlab, target, claim).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::users::UserBasic;

    #[test]
    fn each_assistant_has_its_own_reactions() {
        assert_ne!(emoji(Assistant::Claude), emoji(Assistant::Codex));
        assert_ne!(
            handover_emoji(Assistant::Claude),
            handover_emoji(Assistant::Codex)
        );
        for assistant in Assistant::ALL {
            // GitLab's API takes the name without colons.
            assert!(!emoji(assistant).contains(':'));
            assert_ne!(emoji(assistant), handover_emoji(assistant));
        }
    }

    fn award(id: u64, user: u64, name: &str, age_secs: i64, now: DateTime<Utc>) -> AwardEmoji {
        let at = now - chrono::TimeDelta::seconds(age_secs);
        AwardEmoji {
            id: AwardId(id),
            name: name.to_owned(),
            user: UserBasic {
                id: UserId(user),
                username: format!("u{user}"),
                name: "U".to_owned(),
                state: "active".to_owned(),
            },
            created_at: at,
            updated_at: at,
            awardable_id: 1,
            awardable_type: "Note".to_owned(),
        }
    }

    /// The bot user of the tests' reactions (user 8 is a person).
    const BOT: UserId = UserId(7);

    /// Claim settings with a lease of one minute.
    fn minute_lease() -> ClaimSettings {
        ClaimSettings {
            lease: Duration::from_secs(60),
            ..ClaimSettings::default()
        }
    }

    #[test]
    fn the_state_follows_the_bots_reactions_and_the_lease() {
        let now = Utc::now();
        let settings = minute_lease();
        let state =
            |awards: &[AwardEmoji]| state_of(awards, Assistant::Claude, BOT, &settings, now);
        assert_eq!(state(&[]), State::Free);
        // A person's 👀 is no claim.
        assert_eq!(state(&[award(1, 8, "eyes", 5, now)]), State::Free);
        assert_eq!(state(&[award(1, 7, "eyes", 5, now)]), State::Held);
        assert_eq!(state(&[award(1, 7, "eyes", 61, now)]), State::Expired);
        assert_eq!(
            state(&[award(1, 7, "eyes", 61, now), award(2, 7, "eyes", 1, now)]),
            State::Held
        );
        assert_eq!(
            state(&[
                award(1, 7, "eyes", 3600, now),
                award(2, 7, "hourglass_flowing_sand", 3599, now)
            ]),
            State::HandedOver
        );
        // Codex's reactions say nothing about Claude's mention.
        assert_eq!(state(&[award(1, 7, "gear", 5, now)]), State::Free);
    }

    #[test]
    fn the_lease_comes_from_its_variable() {
        let vars = |value: Option<&'static str>| {
            move |name: &str| {
                (name == LEASE_VAR)
                    .then(|| value.map(str::to_owned))
                    .flatten()
            }
        };
        assert_eq!(
            ClaimSettings::from_env(&vars(None)).unwrap().lease,
            DEFAULT_LEASE
        );
        assert_eq!(
            ClaimSettings::from_env(&vars(Some(" 5 "))).unwrap().lease,
            Duration::from_secs(5)
        );
        for bad in ["0", "-3", "ten", "1.5"] {
            let error = ClaimSettings::from_env(&vars(Some(bad))).unwrap_err();
            assert!(error.to_string().starts_with("AI_CLAIM_LEASE_SECONDS="));
        }
    }

    #[test]
    fn pauses_grow_and_stay_under_the_cap() {
        let max = Duration::from_secs(2);
        for round in 1..ROUNDS {
            let pause = jitter(max, round);
            assert!(pause <= max, "{pause:?}");
        }
        assert!(jitter(max, 1) <= Duration::from_millis(500));
        assert_eq!(jitter(Duration::ZERO, 3), Duration::ZERO);
    }

    #[test]
    fn only_a_hand_over_older_than_the_lease_with_its_claim_still_there_is_stale() {
        let now = Utc::now();
        let settings = minute_lease();
        let stale =
            |awards: &[AwardEmoji]| stale_handover(awards, Assistant::Claude, BOT, &settings, now);
        let claim = award(1, 7, "eyes", 120, now);
        let old = award(2, 7, "hourglass_flowing_sand", 61, now);
        assert_eq!(
            stale(&[claim.clone(), old.clone()]),
            Some((vec![AwardId(1)], vec![AwardId(2)]))
        );
        // Within the lease, or without a claim, or a person's reactions: not stale.
        assert_eq!(
            stale(&[claim.clone(), award(2, 7, "hourglass_flowing_sand", 5, now)]),
            None
        );
        assert_eq!(stale(std::slice::from_ref(&old)), None);
        assert_eq!(
            stale(&[claim, award(2, 8, "hourglass_flowing_sand", 61, now)]),
            None
        );
        assert_eq!(stale(&[]), None);
    }
}
