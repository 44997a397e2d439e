//! Finding the issue or merge request a note route addresses, with GitLab's read rules, and
//! creating notes the way `Notes::CreateService` does (each standalone note opens its own
//! discussion).

use rand::Rng;

use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::Ctx;
use crate::gitlab::auth::{JobTokens, ProjectAccess};
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::model::{Model, Note, NoteType, NoteableKind, NoteableRef};
use crate::gitlab::params::Params;
use crate::gitlab::time::{self, Timestamp};

/// Notes longer than this are refused (`Gitlab::Database::MAX_TEXT_SIZE_LIMIT`,
/// <https://docs.gitlab.com/api/notes/#create-new-issue-note>).
pub const MAX_NOTE_CHARS: usize = 1_000_000;

#[derive(Clone, Copy, Debug)]
pub struct Resolved {
    pub noteable: NoteableRef,
    pub noteable_id: u64,
    pub author_id: u64,
}

/// The noteable, or 404 `{"message":"404 Not found"}` (unknown IID, or a confidential issue the
/// caller may not see), or 403 for merge requests the caller's role cannot read.
pub fn resolve(
    model: &Model,
    access: &ProjectAccess,
    kind: NoteableKind,
    iid: u64,
) -> ApiResult<Resolved> {
    let project_id = access.project.id;
    let noteable = NoteableRef {
        project_id,
        kind,
        iid,
    };
    match kind {
        NoteableKind::Issue => {
            let issue = model
                .issue(project_id, iid)
                .ok_or(ApiError::RecordNotFound)?;
            let caller = access.caller.user_id();
            let may_see_confidential = access.at_least(AccessLevel::Reporter)
                || caller == Some(issue.author_id)
                || caller.is_some_and(|c| issue.assignee_ids.contains(&c));
            if !access.can_read() || (issue.confidential && !may_see_confidential) {
                return Err(ApiError::RecordNotFound);
            }
            Ok(Resolved {
                noteable,
                noteable_id: issue.id,
                author_id: issue.author_id,
            })
        }
        NoteableKind::MergeRequest => {
            let mr = model
                .merge_request(project_id, iid)
                .ok_or(ApiError::RecordNotFound)?;
            access.require_read_code()?;
            Ok(Resolved {
                noteable,
                noteable_id: mr.id,
                author_id: mr.author_id,
            })
        }
    }
}

/// A request to add a note: who writes what on which issue or merge request, read in GitLab's
/// order (401 anonymous, 404 unknown project, 400 without `body`, then the noteable's 404/403,
/// as `post ":id/#{noteables_str}/:noteable_id/notes"` and the discussion routes in
/// `lib/api/notes.rb` and `lib/api/discussions.rb` do: `authenticate!` and `requires :body`
/// before `find_noteable`).
pub struct Comment {
    pub access: ProjectAccess,
    pub author_id: u64,
    pub body: String,
    pub resolved: Resolved,
}

impl Comment {
    pub fn read(
        model: &Model,
        ctx: &Ctx,
        raw_id: &str,
        kind: NoteableKind,
        iid: u64,
    ) -> ApiResult<Comment> {
        let access = ctx.project_signed_in(model, raw_id, JobTokens::Ignored)?;
        let author_id = access.caller.require_user()?;
        let body = ctx.params.required_str("body")?;
        let resolved = resolve(model, &access, kind, iid)?;
        Ok(Comment {
            access,
            author_id,
            body,
            resolved,
        })
    }

    /// The note this comment stores unless the route says otherwise:
    /// [`NewNote::comment`] by its author on its noteable.
    pub fn note(self) -> NewNote {
        NewNote::comment(self.resolved, self.author_id, self.body)
    }
}

/// `internal`, or its deprecated name `confidential`: whether a new note is internal
/// (<https://docs.gitlab.com/api/notes/#create-new-issue-note>).
pub fn internal_param(params: &Params) -> ApiResult<bool> {
    Ok(params.bool("internal")?.unwrap_or(false) || params.bool("confidential")?.unwrap_or(false))
}

/// Internal notes are visible to Reporter and above
/// (<https://docs.gitlab.com/user/discussions/#add-an-internal-note>).
pub fn can_see_internal(access: &ProjectAccess) -> bool {
    access.at_least(AccessLevel::Reporter)
}

/// GitLab's note validation: blank and over-long bodies are refused with
/// `400 Bad request - Note {:note=>[...]}`.
pub fn validate_body(body: &str) -> ApiResult<()> {
    if body.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "Note {:note=>[\"can't be blank\"]}".into(),
        ));
    }
    if body.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::BadRequest(format!(
            "Note {{:note=>[\"is too long (maximum is {MAX_NOTE_CHARS} characters)\"]}}"
        )));
    }
    Ok(())
}

pub fn new_discussion_id() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    hex::encode(bytes)
}

/// Everything needed to store a note.
#[derive(Clone, Debug)]
pub struct NewNote {
    pub noteable: NoteableRef,
    pub noteable_id: u64,
    pub author_id: u64,
    pub body: String,
    pub system: bool,
    pub internal: bool,
    pub note_type: NoteType,
    /// `None` opens a new discussion.
    pub discussion_id: Option<String>,
    pub position: Option<serde_json::Value>,
    pub created_at: Option<Timestamp>,
}

impl NewNote {
    /// A signed-in user's plain, public comment on `resolved` that opens its own discussion:
    /// what the notes API stores; thread starts, replies, published drafts and seeded notes
    /// change the fields that differ with struct update syntax.
    pub fn comment(resolved: Resolved, author_id: u64, body: String) -> NewNote {
        NewNote {
            noteable: resolved.noteable,
            noteable_id: resolved.noteable_id,
            author_id,
            body,
            system: false,
            internal: false,
            note_type: NoteType::Plain,
            discussion_id: None,
            position: None,
            created_at: None,
        }
    }
}

/// Stores the note and bumps the noteable's `updated_at`; returns the note id. A note added to
/// an existing discussion first turns that discussion into a thread
/// ([`convert_to_discussion`]), as every way of replying in GitLab does.
pub fn insert_note(model: &mut Model, new: NewNote) -> u64 {
    if let Some(thread) = &new.discussion_id {
        convert_to_discussion(model, new.noteable, thread);
    }
    let id = model.next_note_id();
    let at = new.created_at.unwrap_or_else(time::now);
    let individual = new.discussion_id.is_none() && new.note_type == NoteType::Plain;
    let resolvable = new.noteable.kind == NoteableKind::MergeRequest
        && !new.system
        && new.note_type != NoteType::Plain;
    let discussion_id = new.discussion_id.unwrap_or_else(new_discussion_id);
    model.notes.push(Note {
        id,
        noteable: new.noteable,
        noteable_id: new.noteable_id,
        discussion_id,
        individual,
        note_type: new.note_type,
        body: new.body,
        author_id: new.author_id,
        system: new.system,
        internal: new.internal,
        position: new.position,
        resolvable,
        resolved_by: None,
        resolved_at: None,
        created_at: at,
        updated_at: at,
    });
    model.touch_noteable(new.noteable, at);
    super::todos::on_new_note(model, id);
    id
}

/// Replying to a standalone comment turns it into a thread, as GitLab does when someone
/// answers an individual note.
fn convert_to_discussion(model: &mut Model, noteable: NoteableRef, discussion_id: &str) {
    for note in model
        .notes
        .iter_mut()
        .filter(|n| n.noteable == noteable && n.discussion_id == discussion_id)
    {
        if note.individual {
            note.individual = false;
            if note.note_type == NoteType::Plain {
                note.note_type = NoteType::DiscussionNote;
            }
            note.resolvable = noteable.kind == NoteableKind::MergeRequest && !note.system;
        }
    }
}
