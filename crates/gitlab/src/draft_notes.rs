//! Draft notes: pending review comments on a merge request, published together as one review.
//! <https://docs.gitlab.com/api/draft_notes/>
//!
//! Why a review goes through drafts: each note posted through the discussions API notifies the
//! merge request's participants on its own, while `bulk_publish` creates every note in one
//! review with a single notification (`app/services/draft_notes/publish_service.rb`,
//! `NotificationService#new_review`; `NewNoteWorker` skips notes that belong to a review).
//!
//! GitLab facts the callers must respect (checked in `lib/api/draft_notes.rb` and the
//! services it calls):
//! - Only the author sees, edits and publishes their drafts; another user's draft is a 404.
//! - The line of a draft's `position` is not checked when the draft is made. On publish,
//!   `Notes::CreateService` returns an invalid note unsaved without raising, the publish still
//!   answers 204, and every draft is deleted: a draft on a line outside the diff vanishes
//!   silently. Check positions before drafting and the threads after publishing.
//! - Quick actions in a draft run when it is published, as its author: draft bodies are
//!   [`Inert`] like every other note we write.
//! - A reply draft (`in_reply_to_discussion_id`) with `resolve_discussion` resolves its thread
//!   on publish; a reply draft without it reopens the thread.

use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::diff_position::DiffPosition;
use super::error::Result;
use super::ids::{DiscussionId, MergeRequestIid, ProjectRef};
use super::lenient;
use super::merge_requests::mr_path;
use crate::quick_action::Inert;

/// A draft note as GitLab returns it (`lib/api/entities/draft_note.rb`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct DraftNote {
    /// Draft id (not a note id: the note gets its own id when published).
    pub id: u64,
    /// Who wrote it; only they can see it.
    pub author_id: u64,
    /// The text, published as the note's body.
    pub note: String,
    /// The thread it replies to, if any.
    #[serde(default)]
    pub discussion_id: Option<String>,
    /// Resolve that thread on publish.
    #[serde(default)]
    pub resolve_discussion: bool,
    /// GitLab sends a position with null fields for a general comment; such a position (or
    /// one this client cannot read) is `None`.
    #[serde(default, deserialize_with = "line_position")]
    pub position: Option<DiffPosition>,
}

/// A draft's `position`: `None` for the all-null position GitLab shows on general comments,
/// else read leniently like a note's.
fn line_position<'de, D>(deserializer: D) -> Result<Option<DiffPosition>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    if value.get("base_sha").is_none_or(serde_json::Value::is_null) {
        return Ok(None);
    }
    lenient::optional(value).map_err(serde::de::Error::custom)
}

/// What to draft: a comment on a diff line, a general comment, or a reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewDraftNote {
    /// The text, inert to quick actions (they would run on publish, as the bot).
    note: Inert,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<DiffPosition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_reply_to_discussion_id: Option<DiscussionId>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    resolve_discussion: bool,
}

impl NewDraftNote {
    /// A comment starting a thread on a diff line.
    pub fn on_line(note: Inert, position: DiffPosition) -> Self {
        Self {
            note,
            position: Some(position),
            in_reply_to_discussion_id: None,
            resolve_discussion: false,
        }
    }

    /// A comment starting a thread that is on no line.
    pub fn general(note: Inert) -> Self {
        Self {
            note,
            position: None,
            in_reply_to_discussion_id: None,
            resolve_discussion: false,
        }
    }

    /// A reply in `thread`; with `resolve`, publishing it also resolves the thread.
    pub fn reply(note: Inert, thread: DiscussionId, resolve: bool) -> Self {
        Self {
            note,
            position: None,
            in_reply_to_discussion_id: Some(thread),
            resolve_discussion: resolve,
        }
    }
}

fn drafts_path(project: &ProjectRef, merge_request: MergeRequestIid) -> String {
    format!("{}/draft_notes", mr_path(project, merge_request))
}

impl GitLab {
    /// `GET …/draft_notes`: the caller's own pending drafts on the merge request.
    pub async fn draft_notes(
        &self,
        project: &ProjectRef,
        merge_request: MergeRequestIid,
    ) -> Result<Vec<DraftNote>> {
        self.get(&drafts_path(project, merge_request), &[]).await
    }

    /// `POST …/draft_notes`.
    pub async fn create_draft_note(
        &self,
        project: &ProjectRef,
        merge_request: MergeRequestIid,
        draft: &NewDraftNote,
    ) -> Result<DraftNote> {
        self.post(&drafts_path(project, merge_request), draft).await
    }

    /// `DELETE …/draft_notes/:id`.
    pub async fn delete_draft_note(
        &self,
        project: &ProjectRef,
        merge_request: MergeRequestIid,
        id: u64,
    ) -> Result<()> {
        self.delete(&format!("{}/{id}", drafts_path(project, merge_request)))
            .await
    }

    /// `POST …/draft_notes/bulk_publish`: publishes all the caller's drafts on the merge request
    /// as one review (204, no body). Drafts GitLab finds invalid on publish are dropped
    /// silently; see the module documentation.
    pub async fn bulk_publish_draft_notes(
        &self,
        project: &ProjectRef,
        merge_request: MergeRequestIid,
    ) -> Result<()> {
        self.post_expecting_no_content(
            &format!("{}/bulk_publish", drafts_path(project, merge_request)),
            &serde_json::json!({}),
        )
        .await
    }
}
