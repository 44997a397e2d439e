//! The checks between the trigger decision ([`crate::trigger::decision`]) and any work, the ones
//! that need the API: who the bot is, whether a bot wrote the note, whether the note still says
//! what the trigger carried, and whether its author may make the assistant act.
//!
//! The outcome says what to tell the author: a [`Refusal`] is posted politely by the caller
//! (people who asked deserve to know why nothing happens), an [`IgnoreReason`] is silent (bots
//! and vanished notes must not get answers, which could loop).

pub mod edit;
pub mod settings;

use serde::Serialize;

use crate::gitlab::ids::UserId;
use crate::gitlab::members::AccessLevel;
use crate::gitlab::{GitLab, GitLabError};
use crate::trigger::Trigger;
use crate::trigger::decision::BotIdentity;

pub use settings::{GuardSettings, GuardSettingsError};

/// What the guard decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum GuardOutcome {
    /// Go ahead.
    Proceed {
        /// The user behind our token (`GET /user`).
        bot: BotIdentity,
        /// The note author's effective role; `None` when the trigger has no note (a Duo flow,
        /// where GitLab itself decided that the user may run the agent).
        author_level: Option<AccessLevel>,
    },
    /// Do not act, and tell the author why.
    Refuse(Refusal),
    /// Do not act and post nothing.
    Ignore(IgnoreReason),
}

/// A refusal to explain to the note's author.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The author is not a member of the project (public projects let anyone comment).
    NotAMember {
        /// Who asked.
        username: String,
        /// The least role needed.
        required: AccessLevel,
    },
    /// The author's role is below `AI_MIN_ACCESS_LEVEL`.
    InsufficientAccess {
        /// Who asked.
        username: String,
        /// Their role.
        level: AccessLevel,
        /// The least role needed.
        required: AccessLevel,
    },
    /// The note was edited after it triggered the job.
    EditedAfterTrigger {
        /// Who wrote it.
        username: String,
    },
    /// The request is over `AI_RATE_LIMIT` or `AI_MONTHLY_BUDGET_USD`
    /// ([`crate::budget::rate`]).
    Limited {
        /// Who asked.
        username: String,
        /// Why, as a clause ("you have asked 3 times in the last hour, …").
        why: String,
        /// When the request may be made again.
        retry_at: chrono::DateTime<chrono::Utc>,
    },
}

impl Refusal {
    /// A polite Markdown sentence for the note's thread. It mentions the author so they are
    /// notified, and never mentions an assistant (which could trigger another run).
    pub fn message(&self) -> String {
        match self {
            Refusal::NotAMember { username, required } => format!(
                "Sorry @{username}, only project members with at least the {required} role can ask me to work here. A maintainer can add you to the project."
            ),
            Refusal::InsufficientAccess {
                username,
                level,
                required,
            } => format!(
                "Sorry @{username}, your role in this project is {level}, and asking me to work here needs at least {required}. A maintainer can change your role or ask on your behalf."
            ),
            Refusal::Limited {
                username,
                why,
                retry_at,
            } => format!(
                "Sorry @{username}, {why}. Please ask again after {} UTC.",
                retry_at.format("%Y-%m-%d %H:%M")
            ),
            Refusal::EditedAfterTrigger { username } => format!(
                "@{username}, your comment was edited after it was sent, so I did not act on it. Please post the request again as a new comment."
            ),
        }
    }
}

/// Why nothing is done and nothing is posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum IgnoreReason {
    /// A bot user wrote the note and it is not listed in `AI_ALLOWED_BOTS`.
    BotAuthor {
        /// The bot's username.
        username: String,
    },
    /// The note was deleted (or hidden from our token) since the event.
    NoteGone,
    /// GitLab does not know the note's author any more (deleted user).
    UnknownAuthor {
        /// The id the trigger carried.
        id: UserId,
    },
}

impl IgnoreReason {
    /// One sentence for the job log.
    pub fn message(&self) -> String {
        match self {
            IgnoreReason::BotAuthor { username } => format!(
                "the note was written by the bot user @{username}; list it in AI_ALLOWED_BOTS to act on its notes"
            ),
            IgnoreReason::NoteGone => {
                "the triggering note no longer exists or is hidden from the bot's token".to_owned()
            }
            IgnoreReason::UnknownAuthor { id } => {
                format!("GitLab does not know the note's author (user {id}) any more")
            }
        }
    }
}

/// Runs the checks for `trigger` (which [`crate::trigger::decision::decide`] said to run):
/// `GET /user`, then for a note `GET /users/:author`, `GET …/notes/:note_id` and
/// `GET /projects/:id/members/all/:author`: four requests at most.
///
/// The membership endpoint includes inherited and invited-group membership, and answers 404
/// for non-members. <https://docs.gitlab.com/api/members/#get-a-member-of-a-group-or-project-including-inherited-and-invited-members>
pub async fn check(
    gitlab: &GitLab,
    trigger: &Trigger,
    settings: &GuardSettings,
) -> Result<GuardOutcome, GitLabError> {
    check_note(gitlab, trigger, settings, NoteRead::Again).await
}

/// Whether the guard reads the triggering note again to find an edit since the trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteRead {
    /// The trigger's note came with the event (a webhook body, a scan's listing): read it now.
    Again,
    /// The trigger's note is GitLab's answer of a moment ago, read back by this process
    /// ([`crate::trigger::resolve::resolve`]): it is the note as it is now, so it is not read
    /// a second time (three requests at most). An edit between the relay's or scan's checks
    /// and the job is caught by the digest they pass (`AI_NOTE_SHA256`), compared with that
    /// read.
    Done,
}

/// [`check`], told whether the trigger's note must be read again ([`NoteRead`]).
pub async fn check_note(
    gitlab: &GitLab,
    trigger: &Trigger,
    settings: &GuardSettings,
    read: NoteRead,
) -> Result<GuardOutcome, GitLabError> {
    let bot = BotIdentity::current(gitlab).await?;
    let Some(note) = &trigger.note else {
        return match &trigger.event {
            Some(event) => check_actor(gitlab, trigger, event, bot, settings).await,
            None => Ok(GuardOutcome::Proceed {
                bot,
                author_level: None,
            }),
        };
    };
    let author = match requester(gitlab, note.author.id, &bot, settings).await? {
        Ok(author) => author,
        Err(ignored) => return Ok(ignored),
    };
    if read == NoteRead::Done {
        return membership(gitlab, trigger, author, bot, settings).await;
    }
    let current = match gitlab
        .note(&trigger.project, trigger.noteable, note.id)
        .await
    {
        Ok(current) => current,
        // A missing project is a misconfiguration to report, not a deleted note to skip.
        Err(e) if e.is_not_found() && !e.is_project_not_found() => {
            return Ok(GuardOutcome::Ignore(IgnoreReason::NoteGone));
        }
        Err(e) => return Err(e),
    };
    let now = edit::CurrentNote {
        body: &current.body,
        created_at: current.created_at,
        updated_at: current.updated_at,
    };
    if edit::edited_since_trigger(&note.body, now) {
        return Ok(GuardOutcome::Refuse(Refusal::EditedAfterTrigger {
            username: author.username,
        }));
    }
    membership(gitlab, trigger, author, bot, settings).await
}

/// The checks of a trigger without a note (the bot assigned, a label added, …): the user who
/// did it stands where a comment's author does. GitLab names them as the hook's `user`
/// ("the user who triggered the event",
/// <https://docs.gitlab.com/user/project/integrations/webhook_events/#work-item-events>);
/// a bot among them, the bot user itself included, is ignored as a bot's comment is, so the
/// bot labelling or assigning what it works on never starts a run.
async fn check_actor(
    gitlab: &GitLab,
    trigger: &Trigger,
    event: &crate::trigger::event::TriggerEvent,
    bot: BotIdentity,
    settings: &GuardSettings,
) -> Result<GuardOutcome, GitLabError> {
    match requester(gitlab, event.actor.id, &bot, settings).await? {
        Ok(actor) => membership(gitlab, trigger, actor, bot, settings).await,
        Err(ignored) => Ok(ignored),
    }
}

/// The user who asked (a note's author, an event's actor), as GitLab knows them, or the
/// outcome that ignores them: unknown to GitLab, the bot itself (its own notes and actions
/// never start a run), or a bot `AI_ALLOWED_BOTS` does not list.
async fn requester(
    gitlab: &GitLab,
    id: UserId,
    bot: &BotIdentity,
    settings: &GuardSettings,
) -> Result<Result<crate::gitlab::users::User, GuardOutcome>, GitLabError> {
    let Some(user) = gitlab.user(id).await? else {
        return Ok(Err(GuardOutcome::Ignore(IgnoreReason::UnknownAuthor {
            id,
        })));
    };
    if user.id == bot.id || (user.bot && !settings.bot_allowed(&user.username)) {
        return Ok(Err(GuardOutcome::Ignore(IgnoreReason::BotAuthor {
            username: user.username,
        })));
    }
    Ok(Ok(user))
}

/// The requester's role in the project against `AI_MIN_ACCESS_LEVEL`.
async fn membership(
    gitlab: &GitLab,
    trigger: &Trigger,
    author: crate::gitlab::users::User,
    bot: BotIdentity,
    settings: &GuardSettings,
) -> Result<GuardOutcome, GitLabError> {
    let required = settings.min_access;
    let Some(member) = gitlab.project_member(&trigger.project, author.id).await? else {
        return Ok(GuardOutcome::Refuse(Refusal::NotAMember {
            username: author.username,
            required,
        }));
    };
    if member.access_level < required {
        return Ok(GuardOutcome::Refuse(Refusal::InsufficientAccess {
            username: author.username,
            level: member.access_level,
            required,
        }));
    }
    Ok(GuardOutcome::Proceed {
        bot,
        author_level: Some(member.access_level),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_author_and_the_role_but_no_assistant() {
        let refusal = Refusal::InsufficientAccess {
            username: "guest1".to_owned(),
            level: AccessLevel::REPORTER,
            required: AccessLevel::DEVELOPER,
        };
        let text = refusal.message();
        assert!(text.contains("@guest1") && text.contains("Reporter (20)"));
        assert!(text.contains("Developer (30)"));
        assert!(!text.contains("@claude") && !text.contains("@codex"));
    }
}
