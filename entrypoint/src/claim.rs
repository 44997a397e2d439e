//! Who answers a mention: the first entry point to put the bot's reaction on the note.
//!
//! A mention can reach us more than once: GitLab re-sends a webhook it thinks timed out, two relay
//! replicas behind a load balancer both receive a delivery, the webhook trigger and a scheduled
//! scan both see the same note, a scan dies half-way and the next one starts over. None of them
//! shares memory, so the lock lives in GitLab itself: GitLab stores one reaction per user, emoji
//! and note, and refuses the second one ("has already been taken",
//! <https://docs.gitlab.com/api/emoji_reactions/#add-reactions-to-comments>). Whoever adds the
//! bot's reaction first owns the mention; everyone else sees [`Claim::Taken`] and stops. The
//! reaction stays, so it also tells people at a glance that the bot saw the note, and tells a
//! later scan that the note is done.

use crate::assistant::Assistant;
use crate::gitlab::award_emoji::AwardOutcome;
use crate::gitlab::client::GitLab;
use crate::gitlab::error::GitLabError;
use crate::gitlab::ids::{AwardId, NoteId, Noteable, ProjectRef, UserId};

/// The reaction that claims a note for `assistant`. Each assistant has its own, so one bot user
/// serving both can claim the same note once for each (`@claude @codex compare`).
pub fn emoji(assistant: Assistant) -> &'static str {
    match assistant {
        Assistant::Claude => "eyes",
        Assistant::Codex => "robot",
    }
}

/// The outcome of [`claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This caller added the reaction: it must answer the mention.
    Won(AwardId),
    /// The bot's reaction was already there: another delivery, replica, job or scan owns it.
    Taken,
}

/// A note that can be claimed.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The note's project.
    pub project: &'a ProjectRef,
    /// The issue or merge request it is on.
    pub noteable: Noteable,
    /// The note with the mention.
    pub note: NoteId,
}

/// Adds the bot's reaction for `assistant` to the note, as the token's user. Atomic on GitLab's
/// side, so of any number of concurrent callers exactly one gets [`Claim::Won`].
pub async fn claim(
    gitlab: &GitLab,
    target: Target<'_>,
    assistant: Assistant,
) -> Result<Claim, GitLabError> {
    let outcome = gitlab
        .award_note(
            target.project,
            target.noteable,
            target.note,
            emoji(assistant),
        )
        .await?;
    Ok(match outcome {
        AwardOutcome::Awarded(award) => Claim::Won(award.id),
        AwardOutcome::AlreadyAwarded => Claim::Taken,
    })
}

/// Gives a claim back (the reaction is removed), for a caller that won but could not hand the
/// mention on, so that a retry or the next scan can take it again.
pub async fn release(
    gitlab: &GitLab,
    target: Target<'_>,
    award: AwardId,
) -> Result<(), GitLabError> {
    gitlab
        .delete_note_award(target.project, target.noteable, target.note, award)
        .await
}

/// True when `bot` already claimed the note for `assistant`: one `GET` of the note's reactions,
/// for a scan deciding what is left to do without racing anyone ([`claim`] remains the lock).
pub async fn is_claimed(
    gitlab: &GitLab,
    target: Target<'_>,
    assistant: Assistant,
    bot: UserId,
) -> Result<bool, GitLabError> {
    let awards = gitlab
        .note_awards(target.project, target.noteable, target.note)
        .await?;
    Ok(awards
        .iter()
        .any(|award| award.user.id == bot && award.name == emoji(assistant)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_assistant_has_its_own_reaction() {
        assert_ne!(emoji(Assistant::Claude), emoji(Assistant::Codex));
        for assistant in Assistant::ALL {
            // GitLab's API takes the name without colons.
            assert!(!emoji(assistant).contains(':'));
        }
    }
}
