//! Emoji reactions on notes (the bot's 👀 while it works, ✅ when done) and on issues and merge
//! requests themselves (the claim of a trigger that has no note: an assignment, a label).
//! <https://docs.gitlab.com/api/emoji_reactions/#add-reactions-to-comments>,
//! <https://docs.gitlab.com/api/emoji_reactions/#add-a-new-emoji-reaction>

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::{GitLabError, Result};
use super::ids::{AwardId, NoteId, Noteable, ProjectRef};
use super::notes::noteable_path;
use super::users::UserBasic;

/// An emoji reaction.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AwardEmoji {
    /// Needed to remove it again.
    pub id: AwardId,
    /// Emoji name without colons (`eyes`, `thumbsup`).
    pub name: String,
    /// Who reacted.
    pub user: UserBasic,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Id of the note (or issue/MR) it is on.
    pub awardable_id: u64,
    /// `Note`, `Issue`, `MergeRequest`, …
    pub awardable_type: String,
}

/// Result of [`GitLab::award_note`]: reacting twice is not a failure. GitLab checks the
/// uniqueness in the application only, so two concurrent identical awards can both come back
/// [`AwardOutcome::Awarded`]; the entrypoint's claim (`entrypoint::claim`) does not rely on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AwardOutcome {
    /// The reaction was added.
    Awarded(AwardEmoji),
    /// The token's user had already reacted with this emoji.
    AlreadyAwarded,
}

#[derive(Serialize)]
struct NewAward<'a> {
    name: &'a str,
}

/// GitLab answers a duplicate reaction with 404 and the validation message
/// (`404 Award Emoji Name has already been taken Not Found`), see `lib/api/award_emoji.rb`.
fn is_already_awarded(error: &GitLabError) -> bool {
    matches!(
        error.status(),
        Some(StatusCode::NOT_FOUND) | Some(StatusCode::BAD_REQUEST)
    ) && error
        .api_message()
        .is_some_and(|m| m.as_str().contains("has already been taken"))
}

fn note_awards_path(project: &ProjectRef, noteable: Noteable, note: NoteId) -> String {
    format!(
        "{}/notes/{note}/award_emoji",
        noteable_path(project, noteable)
    )
}

fn noteable_awards_path(project: &ProjectRef, noteable: Noteable) -> String {
    format!("{}/award_emoji", noteable_path(project, noteable))
}

impl GitLab {
    /// `GET …/notes/:note_id/award_emoji`, every page.
    pub async fn note_awards(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        note: NoteId,
    ) -> Result<Vec<AwardEmoji>> {
        self.awards(&note_awards_path(project, noteable, note))
            .await
    }

    /// `POST …/notes/:note_id/award_emoji` with `name` (no colons).
    pub async fn award_note(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        note: NoteId,
        name: &str,
    ) -> Result<AwardOutcome> {
        self.award(&note_awards_path(project, noteable, note), name)
            .await
    }

    /// `DELETE …/notes/:note_id/award_emoji/:award_id` (only the reaction's author may).
    pub async fn delete_note_award(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        note: NoteId,
        award: AwardId,
    ) -> Result<()> {
        self.unaward(&note_awards_path(project, noteable, note), award)
            .await
    }

    /// `GET /projects/:id/{issues,merge_requests}/:iid/award_emoji`, every page: the reactions
    /// on the issue or merge request itself.
    pub async fn noteable_awards(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
    ) -> Result<Vec<AwardEmoji>> {
        self.awards(&noteable_awards_path(project, noteable)).await
    }

    /// `POST /projects/:id/{issues,merge_requests}/:iid/award_emoji` with `name`; the same
    /// "already taken" answer as on a note.
    pub async fn award_noteable(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        name: &str,
    ) -> Result<AwardOutcome> {
        self.award(&noteable_awards_path(project, noteable), name)
            .await
    }

    /// `DELETE /projects/:id/{issues,merge_requests}/:iid/award_emoji/:award_id`.
    pub async fn delete_noteable_award(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        award: AwardId,
    ) -> Result<()> {
        self.unaward(&noteable_awards_path(project, noteable), award)
            .await
    }

    // GitLab's award emoji endpoints are the same under a note and under an issue or merge
    // request; `awards` is the `…/award_emoji` collection of either.

    async fn awards(&self, awards: &str) -> Result<Vec<AwardEmoji>> {
        self.get_all(awards, &[]).await
    }

    async fn award(&self, awards: &str, name: &str) -> Result<AwardOutcome> {
        match self.post(awards, &NewAward { name }).await {
            Ok(award) => Ok(AwardOutcome::Awarded(award)),
            Err(e) if is_already_awarded(&e) => Ok(AwardOutcome::AlreadyAwarded),
            Err(e) => Err(e),
        }
    }

    async fn unaward(&self, awards: &str, award: AwardId) -> Result<()> {
        self.delete(&format!("{awards}/{award}")).await
    }
}
