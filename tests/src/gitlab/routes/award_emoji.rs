//! Emoji reactions on notes (<https://docs.gitlab.com/api/emoji_reactions/>), as GitLab's
//! `POST` creates them (`lib/api/award_emoji.rb` → `AwardEmojis::AddService`, which calls
//! `awardable.award_emoji.create` and reports the model's validation errors as
//! `not_found!("Award Emoji #{message}")`):
//!
//! - The name is normalised (`Gitlab::Emoji.normalize_emoji_name`: `+1` → `thumbsup`) and must
//!   be an emoji GitLab knows (`validates :name, 'gitlab/emoji_name': true`,
//!   `app/validators/gitlab/emoji_name_validator.rb`: `TanukiEmoji.find_by_alpha_code` or a
//!   group's custom emoji). Otherwise 404
//!   `{"message":"404 Award Emoji Name is not a valid emoji name Not Found"}`.
//! - Reacting twice with the same emoji fails with 404
//!   `{"message":"404 Award Emoji Name has already been taken Not Found"}`
//!   (`spec/requests/api/award_emoji_spec.rb`, "when the emoji already has been awarded").
//! - That uniqueness is a Rails validation only (`validates :name, uniqueness: { scope: [:user,
//!   :awardable_type, :awardable_id] }` in `app/models/award_emoji.rb`; the table has no unique
//!   index; gitlab-org/gitlab#18914 "Rails validations are not atomic"): the `SELECT` that checks
//!   and the `INSERT` are separate statements, so two identical requests that both check before
//!   either inserts both succeed. The double reproduces it: the check runs, the lock is
//!   released for [`DEFAULT_RACE_WINDOW`] (or what the test set with
//!   `GitLabDouble::set_award_race_window`), and the insert follows without checking again.
//! - Issues and merge requests take reactions themselves too
//!   (`/projects/:id/issues/:issue_iid/award_emoji`, `…/merge_requests/:merge_request_iid/…`),
//!   with the same validation and the same errors: `Awardable` is one concern for notes,
//!   issues and merge requests.
//! - Lists are ordered by id (`has_many :award_emoji, -> { includes(:user).order(:id) }` in
//!   `app/models/concerns/awardable.rb`); ids grow with each insert.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;

use super::noteable::resolve;
use super::notes::visible;
use super::{created, no_content, ok};
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::{Award, Awardable, Model, NoteableKind};
use crate::gitlab::time;

/// How long an award waits, by default, between the uniqueness check and the insert: about the
/// time a Rails request spends between its validation `SELECT` and its `INSERT`.
pub const DEFAULT_RACE_WINDOW: std::time::Duration = std::time::Duration::from_millis(10);

/// The emoji names the double accepts: a subset of TanukiEmoji's alpha codes (every name our
/// code and tests award, and common ones people use). GitLab knows far more; a name missing
/// here is refused, which makes the double stricter than GitLab, never kinder.
const KNOWN_EMOJI: &[&str] = &[
    "eyes",
    "robot",
    "thumbsup",
    "thumbsdown",
    "white_check_mark",
    "heavy_check_mark",
    "x",
    "warning",
    "rocket",
    "tada",
    "heart",
    "smile",
    "laughing",
    "confused",
    "blowfish",
    "8ball",
    "hourglass",
    "hourglass_flowing_sand",
    "gear",
    "arrow_forward",
    "fast_forward",
    "construction",
    "no_entry",
    "stop_sign",
];

/// `Gitlab::Emoji.normalize_emoji_name`: the `+1`/`-1` aliases of the thumbs.
fn normalize(name: &str) -> &str {
    match name {
        "+1" => "thumbsup",
        "-1" => "thumbsdown",
        other => other,
    }
}

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for kind in [NoteableKind::Issue, NoteableKind::MergeRequest] {
        let on_note = format!(
            "/projects/{{id}}/{}/{{noteable_iid}}/notes/{{note_id}}/award_emoji",
            kind.segment()
        );
        let on_issuable = format!(
            "/projects/{{id}}/{}/{{noteable_iid}}/award_emoji",
            kind.segment()
        );
        router = router
            .route(
                &on_note,
                get(move |Path((id, iid, note)): Path<(String, u64, u64)>, c| {
                    list(kind, (id, iid, Some(note)), c)
                })
                .post(
                    move |Path((id, iid, note)): Path<(String, u64, u64)>, c| {
                        create(kind, (id, iid, Some(note)), c)
                    },
                ),
            )
            .route(
                &format!("{on_note}/{{award_id}}"),
                get(
                    move |Path((id, iid, note, award)): Path<(String, u64, u64, u64)>, c| {
                        one(kind, (id, iid, Some(note)), award, c)
                    },
                )
                .delete(
                    move |Path((id, iid, note, award)): Path<(String, u64, u64, u64)>, c| {
                        delete(kind, (id, iid, Some(note)), award, c)
                    },
                ),
            )
            .route(
                &on_issuable,
                get(move |Path((id, iid)): Path<(String, u64)>, c| list(kind, (id, iid, None), c))
                    .post(move |Path((id, iid)): Path<(String, u64)>, c| {
                        create(kind, (id, iid, None), c)
                    }),
            )
            .route(
                &format!("{on_issuable}/{{award_id}}"),
                get(move |Path((id, iid, award)): Path<(String, u64, u64)>, c| {
                    one(kind, (id, iid, None), award, c)
                })
                .delete(
                    move |Path((id, iid, award)): Path<(String, u64, u64)>, c| {
                        delete(kind, (id, iid, None), award, c)
                    },
                ),
            );
    }
    router
}

/// The project, the issue or merge request, and the note when the path names one.
type Where = (String, u64, Option<u64>);

/// The awardable, checked for visibility; 404 `{"message":"404 Not found"}` otherwise.
fn scope(
    model: &Model,
    ctx: &Ctx,
    kind: NoteableKind,
    (id, iid, note_id): &Where,
) -> ApiResult<(crate::gitlab::auth::ProjectAccess, Awardable)> {
    let access = ctx.project_signed_in(model, id, JobTokens::Ignored)?;
    let resolved = resolve(model, &access, kind, *iid)?;
    let on = match note_id {
        Some(note_id) => {
            let note = model
                .note(resolved.noteable, *note_id)
                .filter(|n| visible(&access, n))
                .ok_or(ApiError::RecordNotFound)?;
            Awardable::Note(note.id)
        }
        None => Awardable::Issuable {
            noteable: resolved.noteable,
            id: resolved.noteable_id,
        },
    };
    Ok((access, on))
}

async fn list(kind: NoteableKind, at: Where, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let (_, on) = scope(&model, &ctx, kind, &at)?;
    let items = model
        .awards
        .iter()
        .filter(|a| a.on == on)
        .map(|a| json::award(&model, a, ctx.app.base_url()))
        .collect();
    Ok(ctx.page(items))
}

async fn one(kind: NoteableKind, at: Where, award_id: u64, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let (_, on) = scope(&model, &ctx, kind, &at)?;
    let award = model
        .awards
        .iter()
        .find(|a| a.on == on && a.id == award_id)
        .ok_or(ApiError::RecordNotFound)?;
    Ok(ok(json::award(&model, award, ctx.app.base_url())))
}

async fn create(kind: NoteableKind, at: Where, ctx: Ctx) -> ApiResult<Response> {
    let (user_id, on, name) = {
        let model = ctx.lock();
        let name = ctx.params.required_str("name")?;
        let (access, on) = scope(&model, &ctx, kind, &at)?;
        let user_id = access.caller.require_user()?;
        let name = normalize(name.trim_matches(':')).to_string();
        if !KNOWN_EMOJI.contains(&name.as_str()) {
            return Err(ApiError::NotFound(Some(
                "Award Emoji Name is not a valid emoji name",
            )));
        }
        if model
            .awards
            .iter()
            .any(|a| a.on == on && a.user_id == user_id && a.name == name)
        {
            return Err(ApiError::NotFound(Some(
                "Award Emoji Name has already been taken",
            )));
        }
        (user_id, on, name)
    };
    // The validation above and the insert below are not atomic on GitLab either.
    let window = ctx
        .app
        .award_race_window_us
        .load(std::sync::atomic::Ordering::Relaxed);
    if window > 0 {
        tokio::time::sleep(std::time::Duration::from_micros(window)).await;
    }
    let mut model = ctx.lock();
    let now = time::now();
    let award = Award {
        id: model.next_award_id(),
        name,
        user_id,
        on,
        created_at: now,
        updated_at: now,
    };
    let value = json::award(&model, &award, ctx.app.base_url());
    model.awards.push(award);
    Ok(created(value))
}

/// Only the user who reacted may remove the reaction; others get 401 (`unauthorized!`).
async fn delete(kind: NoteableKind, at: Where, award_id: u64, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let (access, on) = scope(&model, &ctx, kind, &at)?;
    let user_id = access.caller.require_user()?;
    let award = model
        .awards
        .iter()
        .find(|a| a.on == on && a.id == award_id)
        .ok_or(ApiError::RecordNotFound)?;
    if award.user_id != user_id {
        return Err(ApiError::Unauthorized);
    }
    model.awards.retain(|a| a.id != award_id);
    Ok(no_content())
}
