//! The bot's past answers, read back from GitLab: the only memory rate limits and the monthly
//! budget need, so they hold in every trigger mode (webhook, relay, scan, Duo flow) without a
//! service or a database of their own.
//!
//! An answer is a note by the bot user carrying a usage line ([`UsageLine`]), which only the
//! entrypoint writes (the model's text is defused) and only on the note that replaces the
//! placeholder. Its `created_at` is the placeholder's: when the request was taken on.
//!
//! Reading: the project's issues and merge requests updated since the window's start, then per
//! item its notes newest first, stopping at the first page older than the window. Posting or
//! editing a note updates its issue's or merge request's `updated_at` (GitLab's `Note` model
//! touches its noteable, `app/models/note.rb`), so every answer in the window is on a listed item.
//! <https://docs.gitlab.com/api/issues/#list-project-issues>,
//! <https://docs.gitlab.com/api/merge_requests/#list-project-merge-requests>,
//! <https://docs.gitlab.com/api/notes/#list-project-issue-notes>

use chrono::{DateTime, Utc};

use super::UsageLine;
use crate::gitlab::ids::{Noteable, ProjectRef, UserId};
use crate::gitlab::{GitLab, GitLabError};
use crate::recent::{recent_notes, updated_noteables};

/// One answer of the bot.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub noteable: Noteable,
    /// When the request was taken on (the placeholder's creation).
    pub at: DateTime<Utc>,
    pub usage: UsageLine,
}

/// Every answer of the bot (`bot`) in `project` since `since`, oldest first.
pub(crate) async fn answers_since(
    gitlab: &GitLab,
    project: &ProjectRef,
    bot: UserId,
    since: DateTime<Utc>,
) -> Result<Vec<Answer>, GitLabError> {
    let noteables = updated_noteables(gitlab, project, since).await?;
    let mut answers = Vec::new();
    for noteable in noteables {
        for note in recent_notes(gitlab, project, noteable, Some(since)).await? {
            if note.author.id != bot || note.created_at < since {
                continue;
            }
            if let Some(usage) = UsageLine::find(&note.body) {
                answers.push(Answer {
                    noteable,
                    at: note.created_at,
                    usage,
                });
            }
        }
    }
    answers.sort_by_key(|a| a.at);
    Ok(answers)
}
