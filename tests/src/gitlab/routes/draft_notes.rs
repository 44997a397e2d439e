//! Draft notes: a reviewer's pending comments on a merge request, published together
//! (<https://docs.gitlab.com/api/draft_notes/>; `lib/api/draft_notes.rb`,
//! `app/services/draft_notes/create_service.rb`, `app/services/draft_notes/publish_service.rb`,
//! `app/models/draft_note.rb`).
//!
//! What the double reproduces, because a client could come to rely on it:
//! - Every route lists, reads, edits and publishes only the caller's own drafts
//!   (`draft_notes.authored_by(current_user)`): another user's draft is a 404, and a list shows
//!   none of them.
//! - Creating a draft checks the position's shape (Grape: the three shas and `position_type`
//!   are required) but not its line; the line is looked up only when the draft is published.
//! - `PUT` needs a non-blank `note` (`400 Missing params to modify`) and stores `position` as
//!   sent, so an edit without a position turns a line comment into a general one.
//! - `bulk_publish` turns each draft into a note through `Notes::CreateService`: quick actions
//!   run as the drafts' author, a draft holding only commands leaves no note, and a draft whose
//!   body or line is invalid leaves no note either. That service returns the unsaved note
//!   without raising, so the publish still answers 204 and every draft is deleted
//!   (`draft_notes.delete_all`): an invalid draft disappears silently. The notes belong to one
//!   [`Review`], which GitLab notifies once. A reply draft with `resolve_discussion` resolves its
//!   thread when the author may; any other reply draft unresolves it.
//! - Publishing with no drafts is a 204 that creates nothing.
//!
//! Like the discussions route, the double refuses positions whose shas are not the merge
//! request's current `diff_refs` (GitLab would keep an outdated comment).

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::discussions::{require_can_resolve, set_resolved};
use super::merge_requests::diff_refs;
use super::noteable::{NewNote, Resolved, insert_note, resolve, validate_body};
use super::notes::{require_can_comment, visible};
use super::{created, no_content, ok};
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::{JobTokens, ProjectAccess};
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::model::{DraftNote, Model, NoteAction, NoteType, NoteableKind, Review};
use crate::gitlab::params::Params;
use crate::gitlab::quick_actions::{self, QuickActionSource};
use crate::gitlab::{position, time, webhooks};

pub fn routes() -> Router<AppState> {
    let base = "/projects/{id}/merge_requests/{noteable_iid}/draft_notes";
    Router::new()
        .route(base, get(list).post(create))
        .route(&format!("{base}/bulk_publish"), post(bulk_publish))
        .route(
            &format!("{base}/{{draft_note_id}}"),
            get(one).put(update).delete(delete),
        )
        .route(
            &format!("{base}/{{draft_note_id}}/publish"),
            put(publish_one),
        )
}

fn draft_not_found() -> ApiError {
    ApiError::NotFound(Some("Draft Note"))
}

/// `Entities::DraftNote` (`lib/api/entities/draft_note.rb`).
fn entity(draft: &DraftNote) -> Value {
    let position = draft.position.clone().unwrap_or_else(|| {
        json!({
            "base_sha": null, "start_sha": null, "head_sha": null,
            "old_path": null, "new_path": null, "position_type": "text",
            "old_line": null, "new_line": null, "line_range": null
        })
    });
    json!({
        "id": draft.id,
        "author_id": draft.author_id,
        "merge_request_id": draft.merge_request_id,
        "resolve_discussion": draft.resolve_discussion,
        "discussion_id": draft.discussion_id,
        "note": draft.note,
        "commit_id": draft.commit_id,
        "line_code": null,
        "position": position,
    })
}

/// The merge request, checked as `find_project_merge_request` does, and the signed-in caller.
fn merge_request(
    model: &Model,
    ctx: &Ctx,
    id: &str,
    iid: u64,
) -> ApiResult<(ProjectAccess, Resolved, u64)> {
    let access = ctx.project_signed_in(model, id, JobTokens::Ignored)?;
    let caller = access.caller.require_user()?;
    let resolved = resolve(model, &access, NoteableKind::MergeRequest, iid)?;
    Ok((access, resolved, caller))
}

fn own_drafts(model: &Model, resolved: Resolved, caller: u64) -> impl Iterator<Item = &DraftNote> {
    model
        .draft_notes
        .iter()
        .filter(move |d| d.merge_request == resolved.noteable && d.author_id == caller)
}

/// A validation failure as `render_validation_error!` answers it: 400 with the errors hash.
fn base_error(text: &str) -> ApiError {
    ApiError::Message(axum::http::StatusCode::BAD_REQUEST, json!({"base": [text]}))
}

async fn list(Path((id, iid)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let (_, resolved, caller) = merge_request(&model, &ctx, &id, iid)?;
    let items: Vec<Value> = own_drafts(&model, resolved, caller).map(entity).collect();
    Ok(ok(Value::Array(items)))
}

async fn one(Path((id, iid, draft_id)): Path<(String, u64, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let (_, resolved, caller) = merge_request(&model, &ctx, &id, iid)?;
    let draft = own_drafts(&model, resolved, caller)
        .find(|d| d.id == draft_id)
        .ok_or_else(draft_not_found)?;
    Ok(ok(entity(draft)))
}

async fn create(Path((id, iid)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let (access, resolved, caller) = merge_request(&model, &ctx, &id, iid)?;
    let note = ctx.params.required_str("note")?;
    let position = ctx.params.nested("position");
    if let Some(position) = &position {
        position::check_shape(position)?;
    }
    let resolve_discussion = ctx.params.bool("resolve_discussion")?.unwrap_or(false);
    require_can_comment(&access, NoteableKind::MergeRequest)?;
    let discussion_id = match ctx.params.str("in_reply_to_discussion_id") {
        Some(thread) if !thread.is_empty() => {
            let first = model
                .notes_of(resolved.noteable)
                .filter(|n| n.discussion_id == thread && visible(&access, n))
                .min_by_key(|n| (n.created_at, n.id))
                .ok_or_else(|| base_error("Thread to reply to cannot be found"))?;
            if first.system {
                return Err(base_error("Replies to system notes are not allowed"));
            }
            Some(thread)
        }
        _ => None,
    };
    if resolve_discussion
        && (discussion_id.is_none() || require_can_resolve(&access, resolved).is_err())
    {
        return Err(base_error("User is not allowed to resolve thread"));
    }
    // `validates :author_id, uniqueness: { scope: [:merge_request_id, :discussion_id] }`: one
    // pending reply per thread and author.
    if let Some(thread) = &discussion_id
        && own_drafts(&model, resolved, caller).any(|d| d.discussion_id.as_ref() == Some(thread))
    {
        return Err(ApiError::Message(
            axum::http::StatusCode::BAD_REQUEST,
            json!({"author_id": ["has already been taken"]}),
        ));
    }
    let draft = DraftNote {
        id: model.next_draft_note_id(),
        merge_request: resolved.noteable,
        merge_request_id: resolved.noteable_id,
        author_id: caller,
        note,
        position: position.map(Params::into_value),
        discussion_id,
        resolve_discussion,
        commit_id: ctx.params.str("commit_id").filter(|c| c != "undefined"),
    };
    let value = entity(&draft);
    model.draft_notes.push(draft);
    Ok(created(value))
}

async fn update(
    Path((id, iid, draft_id)): Path<(String, u64, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let (_, resolved, caller) = merge_request(&model, &ctx, &id, iid)?;
    let note = ctx
        .params
        .str("note")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::BadRequest("Missing params to modify".into()))?;
    let position = ctx.params.nested("position");
    if let Some(position) = &position {
        position::check_shape(position)?;
    }
    let draft = model
        .draft_notes
        .iter_mut()
        .find(|d| d.merge_request == resolved.noteable && d.author_id == caller && d.id == draft_id)
        .ok_or_else(draft_not_found)?;
    draft.note = note;
    draft.position = position.map(Params::into_value);
    Ok(ok(entity(draft)))
}

async fn delete(
    Path((id, iid, draft_id)): Path<(String, u64, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let (_, resolved, caller) = merge_request(&model, &ctx, &id, iid)?;
    let before = model.draft_notes.len();
    model.draft_notes.retain(|d| {
        !(d.merge_request == resolved.noteable && d.author_id == caller && d.id == draft_id)
    });
    if model.draft_notes.len() == before {
        return Err(draft_not_found());
    }
    Ok(no_content())
}

async fn publish_one(
    Path((id, iid, draft_id)): Path<(String, u64, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    ctx.write_then_deliver(|model| {
        let (access, resolved, caller) = merge_request(model, &ctx, &id, iid)?;
        let index = model
            .draft_notes
            .iter()
            .position(|d| {
                d.merge_request == resolved.noteable && d.author_id == caller && d.id == draft_id
            })
            .ok_or_else(draft_not_found)?;
        require_can_comment(&access, NoteableKind::MergeRequest)?;
        let draft = model.draft_notes.remove(index);
        let outgoing = publish_draft(model, &access, resolved, &draft, ctx.app.base_url())
            .and_then(|(_, outgoing)| outgoing);
        Ok((no_content(), outgoing))
    })
}

async fn bulk_publish(Path((id, iid)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let outgoing: Vec<Option<webhooks::Outgoing>> = {
        let mut model = ctx.lock();
        let (access, resolved, caller) = merge_request(&model, &ctx, &id, iid)?;
        require_can_comment(&access, NoteableKind::MergeRequest)?;
        let mut drafts: Vec<DraftNote> = Vec::new();
        model.draft_notes.retain(|d| {
            if d.merge_request == resolved.noteable && d.author_id == caller {
                drafts.push(d.clone());
                false
            } else {
                true
            }
        });
        let mut outgoing = Vec::new();
        if !drafts.is_empty() {
            let review_id = model.next_review_id();
            let mut note_ids = Vec::new();
            for draft in &drafts {
                if let Some((note_id, event)) =
                    publish_draft(&mut model, &access, resolved, draft, ctx.app.base_url())
                {
                    note_ids.push(note_id);
                    outgoing.push(event);
                }
            }
            model.reviews.push(Review {
                id: review_id,
                merge_request: resolved.noteable,
                author_id: caller,
                note_ids,
                created_at: time::now(),
            });
        }
        outgoing
    };
    for event in outgoing {
        webhooks::dispatch(&ctx.app, event);
    }
    Ok(no_content())
}

/// `create_note_from_draft`: the note `Notes::CreateService` makes of one draft, or `None` when
/// it keeps none (invalid body or line, only quick actions, a thread that is gone). Returns the
/// note's id and its Note Hook event.
fn publish_draft(
    model: &mut Model,
    access: &ProjectAccess,
    resolved: Resolved,
    draft: &DraftNote,
    base_url: &str,
) -> Option<(u64, Option<webhooks::Outgoing>)> {
    validate_body(&draft.note).ok()?;
    let thread_start = match &draft.discussion_id {
        Some(thread) => Some(
            model
                .notes_of(resolved.noteable)
                .filter(|n| &n.discussion_id == thread)
                .min_by_key(|n| (n.created_at, n.id))?
                .clone(),
        ),
        None => None,
    };
    let position = match (&thread_start, &draft.position) {
        (Some(first), _) => first.position.clone(),
        (None, Some(position)) => {
            let mr = model.merge_request(resolved.noteable.project_id, resolved.noteable.iid)?;
            let refs = diff_refs(&access.project, &mr.source_branch, &mr.target_branch)?;
            let diffs = access
                .project
                .repo
                .diffs(&refs.base_sha, &refs.head_sha)
                .unwrap_or_default();
            let params = Params::from_value(position.clone());
            Some(position::validate(&params, &refs, &diffs).ok()?)
        }
        (None, None) => None,
    };
    let extracted = quick_actions::extract(&draft.note);
    quick_actions::execute(
        model,
        resolved.noteable,
        draft.author_id,
        &extracted,
        QuickActionSource::NoteCreate,
    );
    if extracted.only_commands() {
        return None;
    }
    let note_type = match (&thread_start, &position) {
        (Some(first), _) if first.note_type == NoteType::DiffNote => NoteType::DiffNote,
        (Some(_), _) => NoteType::DiscussionNote,
        (None, Some(_)) => NoteType::DiffNote,
        (None, None) => NoteType::DiscussionNote,
    };
    let note_id = insert_note(
        model,
        NewNote {
            note_type,
            discussion_id: draft.discussion_id.clone(),
            position,
            ..NewNote::comment(resolved, draft.author_id, extracted.content)
        },
    );
    if let Some(thread) = &draft.discussion_id {
        let by = (draft.resolve_discussion && require_can_resolve(access, resolved).is_ok())
            .then_some(draft.author_id);
        set_resolved(model, resolved, |n| &n.discussion_id == thread, by);
    }
    let event = webhooks::record_note_event(model, note_id, NoteAction::Create, base_url);
    Some((note_id, event))
}
