//! `GET /projects/:id/issues/:iid/resource_label_events` and
//! `GET /projects/:id/merge_requests/:iid/resource_label_events`
//! (<https://docs.gitlab.com/api/resource_label_events/>), as `lib/api/resource_label_events.rb`
//! answers them:
//!
//! - signed in only (`before { authenticate! }`), the issue or merge request found with the
//!   notes' read rules (`find_noteable`: a confidential issue the caller may not see is 404, a
//!   merge request the caller's role cannot read 403), as [`super::noteable::resolve`] does;
//! - every event on it, paginated, then filtered to the labels the caller may read
//!   (`ResourceLabelEvent.visible_to_user?(current_user, paginate(events))`). The double's labels
//!   are all project labels, which whoever reads the project reads (`ProjectPolicy`
//!   `read_label`), so nothing is filtered out here;
//! - no order is asked of the database; GitLab's answers come in insertion order, which the
//!   double gives (ids grow), and callers should not rely on it;
//! - `Entities::ResourceLabelEvent` (`lib/api/entities/resource_label_event.rb`): `id`, `user`
//!   (`UserBasic`, `null` once the user is deleted), `created_at`, `resource_type`
//!   (`Issue`/`MergeRequest`), `resource_id` (the global id), `label` (`LabelBasic`) and
//!   `action` (`add`/`remove`).
//!
//! The events themselves are written by [`crate::gitlab::model::Model::record_label_changes`]
//! wherever the double changes labels.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::noteable::resolve;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::ApiResult;
use crate::gitlab::json;
use crate::gitlab::model::{LabelEvent, Model, NoteableKind, label_id};
use crate::gitlab::pagination::{PageRequest, paginate};
use crate::gitlab::time;

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for kind in [NoteableKind::Issue, NoteableKind::MergeRequest] {
        router = router.route(
            &format!(
                "/projects/{{id}}/{}/{{noteable_iid}}/resource_label_events",
                kind.segment()
            ),
            get(move |s, Path((id, iid)): Path<(String, u64)>, c| list(kind, s, id, iid, c)),
        );
    }
    router
}

async fn list(
    kind: NoteableKind,
    State(app): State<AppState>,
    id: String,
    iid: u64,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = app.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let resolved = resolve(&model, &access, kind, iid)?;
    let items = model
        .label_events
        .iter()
        .filter(|e| e.noteable == resolved.noteable)
        .map(|e| render(&model, e, app.base_url()))
        .collect();
    Ok(paginate(
        items,
        PageRequest::from_params(&ctx.params),
        &ctx.url,
    ))
}

fn render(model: &Model, event: &LabelEvent, base_url: &str) -> Value {
    json!({
        "id": event.id,
        "user": model
            .user(event.user_id)
            .map(|u| json::user_basic(u, base_url))
            .unwrap_or(Value::Null),
        "created_at": time::api(event.created_at),
        "resource_type": match event.noteable.kind {
            NoteableKind::Issue => "Issue",
            NoteableKind::MergeRequest => "MergeRequest",
        },
        "resource_id": event.noteable_id,
        "label": {
            "id": label_id(&event.label),
            "name": event.label,
            "color": "#6699cc",
            "description": Value::Null,
            "description_html": "",
            "text_color": "#FFFFFF",
        },
        "action": if event.added { "add" } else { "remove" },
    })
}
