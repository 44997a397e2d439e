//! Emoji reactions on notes (<https://docs.gitlab.com/api/emoji_reactions/>). Reacting twice
//! with the same emoji fails as `lib/api/award_emoji.rb` reports the model's uniqueness error:
//! 404 `{"message":"404 Award Emoji Name has already been taken Not Found"}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::noteable::resolve;
use super::notes::visible;
use super::{created, no_content, ok};
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::{Award, NoteableKind};
use crate::gitlab::pagination::{PageRequest, paginate};
use crate::gitlab::time;

type NotePath = Path<(String, u64, u64)>;

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for kind in [NoteableKind::Issue, NoteableKind::MergeRequest] {
        let base = format!(
            "/projects/{{id}}/{}/{{noteable_iid}}/notes/{{note_id}}/award_emoji",
            kind.segment()
        );
        router = router
            .route(
                &base,
                get(move |s, p: NotePath, c| list(kind, s, p, c))
                    .post(move |s, p: NotePath, c| create(kind, s, p, c)),
            )
            .route(
                &format!("{base}/{{award_id}}"),
                get(move |s, p, c| one(kind, s, p, c)).delete(move |s, p, c| delete(kind, s, p, c)),
            );
    }
    router
}

/// The note, checked for visibility; 404 `{"message":"404 Not found"}` otherwise.
fn note_scope(
    model: &crate::gitlab::model::Model,
    ctx: &Ctx,
    kind: NoteableKind,
    id: &str,
    iid: u64,
    note_id: u64,
) -> ApiResult<(crate::gitlab::auth::ProjectAccess, u64)> {
    let access = ctx.project_signed_in(model, id, JobTokens::Ignored)?;
    let resolved = resolve(model, &access, kind, iid)?;
    let note = model
        .note(resolved.noteable, note_id)
        .filter(|n| visible(&access, n))
        .ok_or(ApiError::RecordNotFound)?;
    Ok((access, note.id))
}

async fn list(
    kind: NoteableKind,
    State(app): State<AppState>,
    Path((id, iid, note_id)): NotePath,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = app.lock();
    let (_, note_id) = note_scope(&model, &ctx, kind, &id, iid, note_id)?;
    let items = model
        .awards
        .iter()
        .filter(|a| a.note_id == note_id)
        .map(|a| json::award(&model, a, app.base_url()))
        .collect();
    Ok(paginate(
        items,
        PageRequest::from_params(&ctx.params),
        &ctx.url,
    ))
}

async fn one(
    kind: NoteableKind,
    State(app): State<AppState>,
    Path((id, iid, note_id, award_id)): Path<(String, u64, u64, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = app.lock();
    let (_, note_id) = note_scope(&model, &ctx, kind, &id, iid, note_id)?;
    let award = model
        .awards
        .iter()
        .find(|a| a.note_id == note_id && a.id == award_id)
        .ok_or(ApiError::RecordNotFound)?;
    Ok(ok(json::award(&model, award, app.base_url())))
}

async fn create(
    kind: NoteableKind,
    State(app): State<AppState>,
    Path((id, iid, note_id)): NotePath,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = app.lock();
    let name = ctx.params.required_str("name")?;
    let (access, note_id) = note_scope(&model, &ctx, kind, &id, iid, note_id)?;
    let user_id = access.caller.require_user()?;
    let name = name.trim_matches(':').to_string();
    if model
        .awards
        .iter()
        .any(|a| a.note_id == note_id && a.user_id == user_id && a.name == name)
    {
        return Err(ApiError::NotFound(Some(
            "Award Emoji Name has already been taken",
        )));
    }
    let now = time::now();
    let award = Award {
        id: model.next_award_id(),
        name,
        user_id,
        note_id,
        created_at: now,
        updated_at: now,
    };
    let value = json::award(&model, &award, app.base_url());
    model.awards.push(award);
    Ok(created(value))
}

/// Only the user who reacted may remove the reaction; others get 401 (`unauthorized!`).
async fn delete(
    kind: NoteableKind,
    State(app): State<AppState>,
    Path((id, iid, note_id, award_id)): Path<(String, u64, u64, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = app.lock();
    let (access, note_id) = note_scope(&model, &ctx, kind, &id, iid, note_id)?;
    let user_id = access.caller.require_user()?;
    let award = model
        .awards
        .iter()
        .find(|a| a.note_id == note_id && a.id == award_id)
        .ok_or(ApiError::RecordNotFound)?;
    if award.user_id != user_id {
        return Err(ApiError::Unauthorized);
    }
    model.awards.retain(|a| a.id != award_id);
    Ok(no_content())
}
