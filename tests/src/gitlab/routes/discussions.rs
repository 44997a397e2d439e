//! Discussions (threads) on issues and merge requests
//! (<https://docs.gitlab.com/api/discussions/>): list, get, create (with a diff `position` on
//! merge requests), reply, resolve (merge requests), edit and delete thread notes.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::{get, put};

use super::merge_requests::diff_refs;
use super::noteable::{Comment, NewNote, Resolved, internal_param, validate_body};
use super::notes::{
    delete_note, note_json, post_note, require_can_comment, update_body, visible_notes,
};
use super::{no_content, ok};
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::{JobTokens, ProjectAccess};
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::model::{Model, Note, NoteType, NoteableKind};
use crate::gitlab::{json, position, time};

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for kind in [NoteableKind::Issue, NoteableKind::MergeRequest] {
        let base = format!(
            "/projects/{{id}}/{}/{{noteable_iid}}/discussions",
            kind.segment()
        );
        let single = get(move |p, c| one(kind, p, c));
        let single = match kind {
            NoteableKind::MergeRequest => single.put(resolve_thread),
            NoteableKind::Issue => single,
        };
        router = router
            .route(
                &base,
                get(move |p, c| list(kind, p, c)).post(move |p, c| create(kind, p, c)),
            )
            .route(&format!("{base}/{{discussion_id}}"), single)
            .route(
                &format!("{base}/{{discussion_id}}/notes"),
                axum::routing::post(move |p, c| reply(kind, p, c)),
            )
            .route(
                &format!("{base}/{{discussion_id}}/notes/{{note_id}}"),
                put(move |p, c| update_note(kind, p, c)).delete(move |p, c| delete(kind, p, c)),
            );
    }
    router
}

/// Visible notes of one discussion, oldest first.
fn thread<'m>(
    model: &'m Model,
    access: &ProjectAccess,
    resolved: Resolved,
    discussion_id: &str,
) -> Vec<&'m Note> {
    let mut notes = visible_notes(model, access, resolved);
    notes.retain(|n| n.discussion_id == discussion_id);
    notes.sort_by_key(|n| (n.created_at, n.id));
    notes
}

fn discussion_not_found() -> ApiError {
    ApiError::NotFound(Some("Discussion"))
}

async fn list(
    kind: NoteableKind,
    Path((id, iid)): Path<(String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = ctx.lock();
    let (access, resolved) = ctx.noteable(&model, &id, JobTokens::Ignored, kind, iid)?;
    let mut notes = visible_notes(&model, &access, resolved);
    notes.sort_by_key(|n| (n.created_at, n.id));
    let mut order: Vec<&str> = Vec::new();
    for note in &notes {
        if !order.contains(&note.discussion_id.as_str()) {
            order.push(&note.discussion_id);
        }
    }
    let items = order
        .into_iter()
        .map(|did| {
            let thread: Vec<&Note> = notes
                .iter()
                .copied()
                .filter(|n| n.discussion_id == did)
                .collect();
            json::discussion(&model, &thread, ctx.app.base_url())
        })
        .collect();
    Ok(ctx.page(items))
}

async fn one(
    kind: NoteableKind,
    Path((id, iid, discussion_id)): Path<(String, u64, String)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = ctx.lock();
    let (access, resolved) = ctx.noteable(&model, &id, JobTokens::Ignored, kind, iid)?;
    let notes = thread(&model, &access, resolved, &discussion_id);
    if notes.is_empty() {
        return Err(discussion_not_found());
    }
    Ok(ok(json::discussion(&model, &notes, ctx.app.base_url())))
}

async fn create(
    kind: NoteableKind,
    Path((id, iid)): Path<(String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let base_url = ctx.app.base_url();
    ctx.write_then_deliver(|model| {
        let comment = Comment::read(model, &ctx, &id, kind, iid)?;
        let access = &comment.access;
        require_can_comment(access, kind)?;
        let position = match (kind, ctx.params.nested("position")) {
            (NoteableKind::MergeRequest, Some(position)) => {
                let mr = model
                    .merge_request(access.project.id, iid)
                    .ok_or(ApiError::RecordNotFound)?;
                let refs = diff_refs(&access.project, &mr.source_branch, &mr.target_branch)
                    .ok_or_else(|| {
                        ApiError::BadRequest(
                            "Note {:line_code=>[\"can't be blank\", \"must be a valid line code\"]}"
                                .into(),
                        )
                    })?;
                let diffs = access
                    .project
                    .repo
                    .diffs(&refs.base_sha, &refs.head_sha)
                    .unwrap_or_default();
                Some(position::validate(&position, &refs, &diffs)?)
            }
            _ => None,
        };
        validate_body(&comment.body)?;
        let internal = internal_param(&ctx.params)?;
        let note_type = if position.is_some() {
            NoteType::DiffNote
        } else {
            NoteType::DiscussionNote
        };
        let resolved = comment.resolved;
        let new = NewNote {
            internal,
            note_type,
            position,
            ..NewNote::comment(resolved, comment.author_id, comment.body)
        };
        post_note(model, new, base_url, |model, note_id| {
            let discussion_id = model
                .note(resolved.noteable, note_id)
                .map(|n| n.discussion_id.clone())
                .ok_or(ApiError::RecordNotFound)?;
            let notes = thread(model, access, resolved, &discussion_id);
            Ok(json::discussion(model, &notes, base_url))
        })
    })
}

async fn reply(
    kind: NoteableKind,
    Path((id, iid, discussion_id)): Path<(String, u64, String)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let base_url = ctx.app.base_url();
    ctx.write_then_deliver(|model| {
        let comment = Comment::read(model, &ctx, &id, kind, iid)?;
        let first = thread(model, &comment.access, comment.resolved, &discussion_id)
            .first()
            .map(|n| (*n).clone())
            .ok_or_else(discussion_not_found)?;
        require_can_comment(&comment.access, kind)?;
        validate_body(&comment.body)?;
        let note_type = if first.note_type == NoteType::DiffNote {
            NoteType::DiffNote
        } else {
            NoteType::DiscussionNote
        };
        let resolved = comment.resolved;
        let new = NewNote {
            internal: first.internal,
            note_type,
            discussion_id: Some(discussion_id),
            position: first.position,
            ..comment.note()
        };
        post_note(model, new, base_url, |model, note_id| {
            note_json(model, resolved, note_id, base_url)
        })
    })
}

/// Resolving needs Developer or authorship of the merge request
/// (<https://docs.gitlab.com/api/discussions/#resolve-a-merge-request-thread>).
pub fn require_can_resolve(access: &ProjectAccess, resolved: Resolved) -> ApiResult<()> {
    let caller = access.caller.require_user()?;
    if access.at_least(AccessLevel::Developer) || resolved.author_id == caller {
        Ok(())
    } else {
        Err(ApiError::Forbidden(None))
    }
}

pub fn set_resolved(
    model: &mut Model,
    resolved: Resolved,
    filter: impl Fn(&Note) -> bool,
    by: Option<u64>,
) {
    let now = time::now();
    for note in model
        .notes
        .iter_mut()
        .filter(|n| n.noteable == resolved.noteable && n.resolvable && filter(n))
    {
        note.resolved_by = by;
        note.resolved_at = by.map(|_| now);
    }
}

async fn resolve_thread(
    Path((id, iid, discussion_id)): Path<(String, u64, String)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let (access, resolved) = ctx.noteable(
        &model,
        &id,
        JobTokens::Ignored,
        NoteableKind::MergeRequest,
        iid,
    )?;
    let wanted = ctx
        .params
        .bool("resolved")?
        .ok_or_else(|| ApiError::missing("resolved"))?;
    if thread(&model, &access, resolved, &discussion_id).is_empty() {
        return Err(discussion_not_found());
    }
    require_can_resolve(&access, resolved)?;
    let caller = access.caller.require_user()?;
    set_resolved(
        &mut model,
        resolved,
        |n| n.discussion_id == discussion_id,
        wanted.then_some(caller),
    );
    let notes = thread(&model, &access, resolved, &discussion_id);
    Ok(ok(json::discussion(&model, &notes, ctx.app.base_url())))
}

async fn update_note(
    kind: NoteableKind,
    Path((id, iid, discussion_id, note_id)): Path<(String, u64, String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    ctx.write_then_deliver(|model| {
        let (access, resolved) = ctx.noteable(model, &id, JobTokens::Ignored, kind, iid)?;
        if !thread(model, &access, resolved, &discussion_id)
            .iter()
            .any(|n| n.id == note_id)
        {
            return Err(ApiError::RecordNotFound);
        }
        let body = ctx.params.str("body");
        let wanted = ctx.params.bool("resolved")?;
        match (body, wanted) {
            (Some(body), None) => {
                update_body(model, &access, resolved, note_id, body, ctx.app.base_url())
            }
            (None, Some(wanted)) => {
                require_can_resolve(&access, resolved)?;
                let caller = access.caller.require_user()?;
                set_resolved(
                    model,
                    resolved,
                    |n| n.id == note_id,
                    wanted.then_some(caller),
                );
                let note = note_json(model, resolved, note_id, ctx.app.base_url())?;
                Ok((ok(note), None))
            }
            (Some(_), Some(_)) => Err(ApiError::InvalidParam(
                "body, resolved".into(),
                "are mutually exclusive",
            )),
            (None, None) => Err(ApiError::InvalidParam(
                "body, resolved".into(),
                "are missing, exactly one parameter must be provided",
            )),
        }
    })
}

async fn delete(
    kind: NoteableKind,
    Path((id, iid, discussion_id, note_id)): Path<(String, u64, String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let (access, resolved) = ctx.noteable(&model, &id, JobTokens::Ignored, kind, iid)?;
    if !thread(&model, &access, resolved, &discussion_id)
        .iter()
        .any(|n| n.id == note_id)
    {
        return Err(ApiError::RecordNotFound);
    }
    delete_note(&mut model, &access, resolved, note_id)?;
    Ok(no_content())
}
