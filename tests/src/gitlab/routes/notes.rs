//! Notes on issues and merge requests (<https://docs.gitlab.com/api/notes/>). All of them call
//! `authenticate!`; job tokens are accepted only on `GET` of merge request notes
//! (<https://docs.gitlab.com/ci/jobs/ci_job_token/#job-token-access>).

use crate::gitlab::version::COMMENT_EDIT_EVENTS;
use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use super::noteable::{
    Comment, NewNote, Resolved, can_see_internal, insert_note, internal_param, validate_body,
};
use super::{accepted, created, no_content, ok};
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::{JobTokens, ProjectAccess};
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::{Model, Note, NoteAction, NoteableKind, NoteableRef};
use crate::gitlab::quick_actions::{self, QuickActionSource};
use crate::gitlab::routes::issues::ListOrder;
use crate::gitlab::{time, webhooks};

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for kind in [NoteableKind::Issue, NoteableKind::MergeRequest] {
        let base = format!("/projects/{{id}}/{}/{{noteable_iid}}/notes", kind.segment());
        router = router
            .route(
                &base,
                get(move |p, c| list(kind, p, c)).post(move |p, c| create(kind, p, c)),
            )
            .route(
                &format!("{base}/{{note_id}}"),
                get(move |p, c| one(kind, p, c))
                    .put(move |p, c| update(kind, p, c))
                    .delete(move |p, c| delete(kind, p, c)),
            );
    }
    router
}

pub fn job_tokens_for_read(kind: NoteableKind) -> JobTokens {
    match kind {
        NoteableKind::MergeRequest => JobTokens::Allowed,
        NoteableKind::Issue => JobTokens::Ignored,
    }
}

/// May the caller comment here? Issues: whoever can read them; merge requests: whoever can read
/// code (<https://docs.gitlab.com/user/permissions/>).
pub fn require_can_comment(access: &ProjectAccess, kind: NoteableKind) -> ApiResult<()> {
    match kind {
        NoteableKind::Issue => access.require_read(),
        NoteableKind::MergeRequest => access.require_read_code(),
    }
}

pub fn visible(access: &ProjectAccess, note: &Note) -> bool {
    !note.internal || can_see_internal(access)
}

/// The notes of `resolved` the caller may see, in no particular order.
pub fn visible_notes<'m>(
    model: &'m Model,
    access: &ProjectAccess,
    resolved: Resolved,
) -> Vec<&'m Note> {
    model
        .notes_of(resolved.noteable)
        .filter(|n| visible(access, n))
        .collect()
}

fn visible_note<'m>(
    model: &'m Model,
    access: &ProjectAccess,
    resolved: Resolved,
    note_id: u64,
) -> ApiResult<&'m Note> {
    model
        .note(resolved.noteable, note_id)
        .filter(|n| visible(access, n))
        .ok_or(ApiError::RecordNotFound)
}

async fn list(
    kind: NoteableKind,
    Path((id, iid)): Path<(String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = ctx.lock();
    let (access, resolved) = ctx.noteable(&model, &id, job_tokens_for_read(kind), kind, iid)?;
    let order = ListOrder::read(&ctx.params, &["created_at", "updated_at"])?;
    let mut notes = visible_notes(&model, &access, resolved);
    order.sort(&mut notes);
    let items = notes
        .into_iter()
        .map(|n| json::note(&model, n, ctx.app.base_url()))
        .collect();
    Ok(ctx.page(items))
}

async fn one(
    kind: NoteableKind,
    Path((id, iid, note_id)): Path<(String, u64, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = ctx.lock();
    let (access, resolved) = ctx.noteable(&model, &id, job_tokens_for_read(kind), kind, iid)?;
    let note = visible_note(&model, &access, resolved, note_id)?;
    Ok(ok(json::note(&model, note, ctx.app.base_url())))
}

async fn create(
    kind: NoteableKind,
    Path((id, iid)): Path<(String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let base_url = ctx.app.base_url();
    ctx.write_then_deliver(|model| {
        let comment = Comment::read(model, &ctx, &id, kind, iid)?;
        require_can_comment(&comment.access, kind)?;
        validate_body(&comment.body)?;
        let resolved = comment.resolved;
        let new = NewNote {
            internal: internal_param(&ctx.params)?,
            ..comment.note()
        };
        post_note(model, new, base_url, |model, note_id| {
            note_json(model, resolved, note_id, base_url)
        })
    })
}

/// Stores a user's new note as `Notes::CreateService` does for the notes and discussions APIs
/// and answers as `process_note_creation_result` does: the note's quick actions run first
/// ([`run_quick_actions`]); a body of nothing but commands keeps no note and answers 202 with
/// GitLab's message, otherwise what is left is stored, a `create` Note Hook recorded, and the
/// answer is 201 with `render` of the new note's id.
pub fn post_note(
    model: &mut Model,
    new: NewNote,
    base_url: &str,
    render: impl FnOnce(&Model, u64) -> ApiResult<Value>,
) -> ApiResult<(Response, Option<webhooks::Outgoing>)> {
    let body = match run_quick_actions(model, new.noteable, new.author_id, &new.body) {
        Ok(kept) => kept,
        Err(commands_only) => return Ok((accepted(commands_only), None)),
    };
    let note_id = insert_note(model, NewNote { body, ..new });
    let outgoing = webhooks::record_note_event(model, note_id, NoteAction::Create, base_url);
    Ok((created(render(model, note_id)?), outgoing))
}

/// The JSON of note `note_id` of `resolved`, as the routes answer it after writing; 404 if the
/// note is gone.
pub fn note_json(
    model: &Model,
    resolved: Resolved,
    note_id: u64,
    base_url: &str,
) -> ApiResult<Value> {
    let note = model
        .note(resolved.noteable, note_id)
        .ok_or(ApiError::RecordNotFound)?;
    Ok(json::note(model, note, base_url))
}

/// Runs the quick actions of a new note's `body` as `author_id` (`Notes::CreateService`; the
/// notes and discussions APIs both answer through `process_note_creation_result` in
/// `lib/api/helpers/notes_helpers.rb`, so a thread start or reply gets the same 202): the
/// text to store, or the body of GitLab's 202 answer when nothing but commands was written and
/// no note is kept.
fn run_quick_actions(
    model: &mut Model,
    noteable: NoteableRef,
    author_id: u64,
    body: &str,
) -> Result<String, Value> {
    let extracted = quick_actions::extract(body);
    let messages = quick_actions::execute(
        model,
        noteable,
        author_id,
        &extracted,
        QuickActionSource::NoteCreate,
    );
    if extracted.only_commands() {
        return Err(quick_actions::commands_only_body(&messages));
    }
    Ok(extracted.content)
}

/// Changes a note's body as its author, running the quick actions of the new text as GitLab's
/// `Notes::UpdateService` does (a note left with nothing but commands is deleted and the
/// answer is 202); records an `update` Note Hook.
pub fn update_body(
    model: &mut Model,
    access: &ProjectAccess,
    resolved: Resolved,
    note_id: u64,
    body: String,
    base_url: &str,
) -> ApiResult<(Response, Option<webhooks::Outgoing>)> {
    let caller = access.caller.require_user()?;
    let note = visible_note(model, access, resolved, note_id)?;
    if note.author_id != caller || note.system {
        return Err(ApiError::Forbidden(None));
    }
    validate_body(&body)?;
    let extracted = quick_actions::extract(&body);
    let messages = quick_actions::execute(
        model,
        resolved.noteable,
        caller,
        &extracted,
        QuickActionSource::NoteUpdate,
    );
    if extracted.only_commands() {
        model.notes.retain(|n| n.id != note_id);
        model
            .awards
            .retain(|a| a.on != crate::gitlab::model::Awardable::Note(note_id));
        return Ok((accepted(quick_actions::commands_only_body(&messages)), None));
    }
    let body = extracted.content;
    let now = time::now();
    if let Some(note) = model.note_by_id_mut(note_id) {
        note.body = body;
        note.updated_at = now;
    }
    model.touch_noteable(resolved.noteable, now);
    // Before 16.11 an edit fires no Note Hook at all (MR !147856).
    let outgoing = if model.gitlab_version.has(COMMENT_EDIT_EVENTS) {
        webhooks::record_note_event(model, note_id, NoteAction::Update, base_url)
    } else {
        None
    };
    Ok((ok(note_json(model, resolved, note_id, base_url)?), outgoing))
}

async fn update(
    kind: NoteableKind,
    Path((id, iid, note_id)): Path<(String, u64, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    ctx.write_then_deliver(|model| {
        let (access, resolved) = ctx.noteable(model, &id, JobTokens::Ignored, kind, iid)?;
        let body = match ctx.params.str("body") {
            Some(body) if body.is_empty() => {
                return Err(ApiError::InvalidParam("body".into(), "is empty"));
            }
            Some(body) => body,
            None => {
                let note = visible_note(model, &access, resolved, note_id)?;
                return Ok((ok(json::note(model, note, ctx.app.base_url())), None));
            }
        };
        update_body(model, &access, resolved, note_id, body, ctx.app.base_url())
    })
}

/// Deletes a note as its author or a Maintainer; its emoji reactions go with it.
pub fn delete_note(
    model: &mut Model,
    access: &ProjectAccess,
    resolved: Resolved,
    note_id: u64,
) -> ApiResult<()> {
    let caller = access.caller.require_user()?;
    let note = visible_note(model, access, resolved, note_id)?;
    if note.author_id != caller && !access.at_least(AccessLevel::Maintainer) {
        return Err(ApiError::Forbidden(None));
    }
    model.notes.retain(|n| n.id != note_id);
    model
        .awards
        .retain(|a| a.on != crate::gitlab::model::Awardable::Note(note_id));
    Ok(())
}

async fn delete(
    kind: NoteableKind,
    Path((id, iid, note_id)): Path<(String, u64, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let (access, resolved) = ctx.noteable(&model, &id, JobTokens::Ignored, kind, iid)?;
    delete_note(&mut model, &access, resolved, note_id)?;
    Ok(no_content())
}
