//! Notes (comments) on issues and merge requests: list, read, create, edit.
//! <https://docs.gitlab.com/api/notes/>

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::diff_position::DiffPosition;
use super::error::Result;
use super::ids::{NoteId, Noteable, ProjectRef};
use super::lenient;
use super::list_options::{OrderBy, Sort, push_order};
use super::users::UserBasic;
use crate::quick_action::Inert;

/// `type` of a note: a plain comment has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum NoteType {
    /// A comment in a thread (started as a thread or replied to).
    DiscussionNote,
    /// A comment on a diff line.
    DiffNote,
    /// A kind this client does not know (older or newer GitLab versions).
    #[serde(other)]
    Other,
}

/// A note as GitLab returns it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Note {
    /// Global note id.
    pub id: NoteId,
    /// `null` for a plain comment.
    #[serde(rename = "type")]
    pub note_type: Option<NoteType>,
    /// Markdown body.
    pub body: String,
    /// Who wrote it.
    pub author: UserBasic,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last edit.
    pub updated_at: DateTime<Utc>,
    /// GitLab's own notes ("added 1 commit", "mentioned in …"); never an answer to a mention.
    pub system: bool,
    /// Global id of the issue or merge request; `null` for commit notes.
    pub noteable_id: Option<u64>,
    /// `Issue`, `MergeRequest`, `Commit`, `Snippet`.
    pub noteable_type: String,
    /// IID of the issue or merge request.
    #[serde(default)]
    pub noteable_iid: Option<u64>,
    /// True when the note can be resolved (threads on merge requests).
    pub resolvable: bool,
    /// Only sent for resolvable notes.
    #[serde(default)]
    pub resolved: Option<bool>,
    /// Visible to Reporter and above only. Versions before 15.x send `confidential` instead.
    #[serde(default)]
    pub internal: bool,
    /// Only sent for diff notes. A position this client cannot read (another tool's, an older
    /// GitLab's) is dropped rather than losing the note with it.
    #[serde(default, deserialize_with = "lenient::optional")]
    pub position: Option<DiffPosition>,
}

/// Ordering for [`GitLab::notes`]; GitLab's default is newest first by creation time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoteListOptions {
    /// `created_at` or `updated_at`.
    pub order_by: Option<OrderBy>,
    /// `asc` or `desc`.
    pub sort: Option<Sort>,
}

/// Body of a new note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewNote {
    /// Markdown, at most 1,000,000 characters, inert to quick actions.
    pub body: Inert,
    /// Post as an internal note (Reporter+ only can see it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

impl NewNote {
    /// A public note with `body` made inert to quick actions.
    pub fn new(body: &str) -> Self {
        Self {
            body: Inert::new(body),
            internal: false,
        }
    }
}

#[derive(Serialize)]
struct BodyOnly<'a> {
    body: &'a Inert,
}

/// `/projects/:id/{issues|merge_requests}/:iid`: the root of every endpoint that works the same
/// on issues and merge requests (notes, discussions, award emoji, label events).
pub fn noteable_path(project: &ProjectRef, noteable: Noteable) -> String {
    project.api(format!("{}/{}", noteable.collection(), noteable.iid()))
}

impl GitLab {
    /// `GET /projects/:id/{issues|merge_requests}/:iid/notes`, every page.
    pub async fn notes(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        options: NoteListOptions,
    ) -> Result<Vec<Note>> {
        let mut query = Vec::new();
        push_order(&mut query, options.order_by, options.sort);
        self.get_all(
            &format!("{}/notes", noteable_path(project, noteable)),
            &query,
        )
        .await
    }

    /// `GET …/notes/:note_id`.
    pub async fn note(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        note: NoteId,
    ) -> Result<Note> {
        self.get(
            &format!("{}/notes/{note}", noteable_path(project, noteable)),
            &[],
        )
        .await
    }

    /// `POST …/notes`. Not retried after it may have reached GitLab (see [`super::retry`]).
    pub async fn create_note(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        note: &NewNote,
    ) -> Result<Note> {
        self.post(&format!("{}/notes", noteable_path(project, noteable)), note)
            .await
    }

    /// `PUT …/notes/:note_id` with a new body. Editing does not notify mentioned users again,
    /// but GitLab runs the quick actions of the new text (`Notes::UpdateService`), hence
    /// [`Inert`].
    pub async fn update_note(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        note: NoteId,
        body: &Inert,
    ) -> Result<Note> {
        self.put(
            &format!("{}/notes/{note}", noteable_path(project, noteable)),
            &[],
            Some(&BodyOnly { body }),
        )
        .await
    }

    /// `DELETE …/notes/:note_id` (the note's author or a Maintainer may).
    pub async fn delete_note(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        note: NoteId,
    ) -> Result<()> {
        self.delete(&format!(
            "{}/notes/{note}",
            noteable_path(project, noteable)
        ))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_note_parses() {
        let json = r#"{
          "id": 302, "body": "closed", "attachment": null,
          "author": {"id": 1, "username": "pipin", "email": "admin@example.com", "name": "Pip",
                     "state": "active", "created_at": "2013-09-30T13:46:01Z"},
          "created_at": "2013-10-02T09:22:45Z", "updated_at": "2013-10-02T10:22:45Z",
          "system": true, "noteable_id": 377, "noteable_type": "Issue", "project_id": 5,
          "noteable_iid": 377, "resolvable": false, "confidential": false, "internal": false,
          "imported": false, "imported_from": "none", "type": null
        }"#;
        let note: Note = serde_json::from_str(json).unwrap();
        assert_eq!(note.id, NoteId(302));
        assert!(note.system && note.note_type.is_none() && note.resolved.is_none());
    }

    #[test]
    fn unknown_note_types_do_not_break_lists() {
        let json = r#"{"id": 1, "type": "LegacyDiffNote", "body": "", "author": {"id": 1,
          "username": "u", "name": "U", "state": "active"}, "created_at": "2024-01-01T00:00:00Z",
          "updated_at": "2024-01-01T00:00:00Z", "system": false, "noteable_id": 1,
          "noteable_type": "MergeRequest", "resolvable": true, "resolved": false}"#;
        let note: Note = serde_json::from_str(json).unwrap();
        assert_eq!(note.note_type, Some(NoteType::Other));
        assert_eq!(note.resolved, Some(false));
    }

    #[test]
    fn a_position_this_client_cannot_read_costs_only_the_position() {
        let json = r#"{"id": 2, "type": "DiffNote", "body": "see here", "author": {"id": 1,
          "username": "u", "name": "U", "state": "active"}, "created_at": "2024-01-01T00:00:00Z",
          "updated_at": "2024-01-01T00:00:00Z", "system": false, "noteable_id": 1,
          "noteable_type": "MergeRequest", "resolvable": true, "resolved": false,
          "position": {"position_type": "text", "base_sha": null, "new_line": {"x": 1}}}"#;
        let note: Note = serde_json::from_str(json).unwrap();
        assert_eq!(note.body, "see here");
        assert_eq!(note.position, None);
    }

    #[test]
    fn public_notes_leave_internal_out() {
        assert_eq!(
            serde_json::to_value(NewNote::new("hi")).unwrap(),
            serde_json::json!({"body": "hi"})
        );
        let internal = NewNote {
            internal: true,
            ..NewNote::new("x")
        };
        assert_eq!(serde_json::to_value(internal).unwrap()["internal"], true);
    }
}
