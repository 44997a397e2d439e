//! Whether a trigger is acted on, and for which assistants.
//!
//! These checks need nothing but the trigger itself (and, for the bot's own notes, who the bot
//! is), so every entry point applies them before anything costly: the relay before it starts a
//! pipeline, a webhook-started job before it posts anything, the scan before it answers.

use serde::Serialize;

use super::Trigger;
use crate::agent::Assistant;
use crate::gitlab::ids::UserId;
use crate::marker;

/// The GitLab user behind our token (`GET /user`); its own notes never trigger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BotIdentity {
    /// The bot user's id.
    pub id: UserId,
    /// The bot user's username.
    pub username: String,
}

impl BotIdentity {
    /// The user behind `gitlab`'s token (`GET /user`).
    pub async fn current(
        gitlab: &crate::gitlab::GitLab,
    ) -> Result<Self, crate::gitlab::GitLabError> {
        let me = gitlab.current_user().await?;
        Ok(Self {
            id: me.id,
            username: me.username,
        })
    }
}

/// What to do with a trigger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Decision {
    /// Run these assistants (one independent result each).
    Run {
        /// In name order.
        assistants: Vec<Assistant>,
    },
    /// Do nothing, for this reason.
    Skip {
        /// Why.
        reason: SkipReason,
        /// The reason in one sentence, for logs and `explain`.
        message: String,
    },
}

/// Why a trigger is not acted on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// GitLab wrote the note itself ("added 1 commit", "mentioned in …").
    SystemNote,
    /// The bot wrote the note: acting on it could loop.
    OwnNote,
    /// The note carries our hidden marker (a placeholder or result of ours).
    OurNote,
    /// The event is an edit of an existing note; only new notes are requests.
    EditedNote,
    /// The note mentions no assistant.
    NoMention,
    /// The note mentions assistants, but not the one this job runs.
    OtherAssistant,
    /// A comment on a commit or snippet: the product answers on issues and merge requests.
    UnsupportedNoteable,
    /// The pipeline was started by a trigger token for something other than a comment.
    NotAComment,
}

impl Decision {
    fn skip(reason: SkipReason, message: impl Into<String>) -> Self {
        Decision::Skip {
            reason,
            message: message.into(),
        }
    }

    /// The assistants to run; empty when skipping.
    pub fn assistants(&self) -> &[Assistant] {
        match self {
            Decision::Run { assistants } => assistants,
            Decision::Skip { .. } => &[],
        }
    }
}

/// Decides what to do with `trigger`.
///
/// `bot` is who our token belongs to, when known; `only` restricts the decision to the assistant
/// this job runs (each template's job acts only for its own assistant, so one note mentioning both
/// gives two independent runs and a note for the other assistant costs this job nothing).
pub fn decide(trigger: &Trigger, bot: Option<&BotIdentity>, only: Option<Assistant>) -> Decision {
    if let Some(note) = &trigger.note {
        if note.system {
            return Decision::skip(
                SkipReason::SystemNote,
                "the note is a system note written by GitLab",
            );
        }
        if let Some(bot) = bot {
            let by_bot = note.author.id == bot.id
                || note
                    .author
                    .username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(&bot.username));
            if by_bot {
                return Decision::skip(
                    SkipReason::OwnNote,
                    format!(
                        "the note was written by the bot user @{} itself",
                        bot.username
                    ),
                );
            }
        }
        if marker::is_marked(&note.body) {
            return Decision::skip(
                SkipReason::OurNote,
                "the note is one of the assistant's own placeholders or results",
            );
        }
        if note.edited {
            return Decision::skip(
                SkipReason::EditedNote,
                "the event is an edit of an existing note; post a new comment to ask again",
            );
        }
    }
    if trigger.assistants.is_empty() {
        return Decision::skip(SkipReason::NoMention, "the note mentions no assistant");
    }
    let assistants: Vec<Assistant> = trigger
        .assistants
        .iter()
        .copied()
        .filter(|a| only.is_none_or(|o| o == *a))
        .collect();
    if assistants.is_empty() {
        let mentioned: Vec<&str> = trigger.assistants.iter().map(|a| a.name()).collect();
        return Decision::skip(
            SkipReason::OtherAssistant,
            format!(
                "the note is for {} and this job runs {}",
                mentioned.join(" and "),
                only.map(Assistant::name).unwrap_or_default()
            ),
        );
    }
    Decision::Run { assistants }
}
