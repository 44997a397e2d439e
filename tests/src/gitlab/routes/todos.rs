//! The to-do list (<https://docs.gitlab.com/api/todos/>): `GET /todos` with `state` (default
//! `pending`), `action`, `project_id` and `type`, newest first; `POST /todos/:id/mark_as_done`
//! and `POST /todos/mark_as_done`. The entity follows `lib/api/entities/todo.rb`: the note that
//! caused a to-do is only named by the `#note_<id>` fragment of `target_url`.
//!
//! To-dos are filed the way GitLab's `TodoService` files them for a new note: every user the
//! note mentions who can see the project gets one, `directly_addressed` when the mention opens
//! a line (`DirectlyAddressedUserParser`), `mentioned` otherwise; nobody gets one for their own
//! note nor for a system note. A user who comments on an issue or merge request has their
//! pending to-dos on it marked done
//! (<https://docs.gitlab.com/user/todos/#actions-that-mark-a-to-do-item-as-done>).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::issues::Dated;
use super::{created, no_content};
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::{Model, NoteableKind, Todo};
use crate::gitlab::pagination::{PageRequest, paginate};
use crate::gitlab::time::{self, Timestamp};
use crate::gitlab::version::MULTIPLE_TODOS;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/todos", get(list))
        .route("/todos/mark_as_done", post(mark_all_done))
        .route("/todos/{todo_id}/mark_as_done", post(mark_done))
}

/// The usernames a note mentions, each with whether the mention opens a line.
fn mentioned_usernames(body: &str) -> Vec<(String, bool)> {
    let mut found: Vec<(String, bool)> = Vec::new();
    for line in body.lines() {
        let mut previous: Option<char> = None;
        let leading = line.len() - line.trim_start().len();
        for (at, c) in line.char_indices() {
            let starts_word = previous.is_none_or(|p| !(p.is_alphanumeric() || p == '_'));
            if c == '@' && starts_word {
                let name: String = line[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    .collect();
                let name = name.trim_end_matches('.').to_string();
                if !name.is_empty() {
                    let opens_line = at == leading;
                    match found
                        .iter_mut()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                    {
                        Some(entry) => entry.1 |= opens_line,
                        None => found.push((name, opens_line)),
                    }
                }
            }
            previous = Some(c);
        }
    }
    found
}

/// Files the to-dos a new note causes, and closes its author's pending ones on the same issue
/// or merge request.
pub fn on_new_note(model: &mut Model, note_id: u64) {
    let Some(note) = model.notes.iter().find(|n| n.id == note_id).cloned() else {
        return;
    };
    let at = note.created_at;
    for todo in model.todos.iter_mut().filter(|t| {
        t.user_id == note.author_id && t.noteable == note.noteable && t.state == "pending"
    }) {
        todo.state = "done".into();
        todo.updated_at = at;
    }
    if note.system {
        return;
    }
    let Some(project) = model.project(note.noteable.project_id).cloned() else {
        return;
    };
    let one_per_target = !model.gitlab_version.has(MULTIPLE_TODOS);
    for (username, opens_line) in mentioned_usernames(&note.body) {
        let Some(user) = model.user_by_username(&username).cloned() else {
            continue;
        };
        if user.id == note.author_id || model.access_level(&project, user.id).is_none() {
            continue;
        }
        // Before 17.8, `TodoService#excluded_user_ids` leaves out every user who already has a
        // pending to-do on the target, whatever its action (gitlab-org/gitlab#506387).
        if one_per_target
            && model.todos.iter().any(|t| {
                t.user_id == user.id && t.noteable == note.noteable && t.state == "pending"
            })
        {
            continue;
        }
        let todo = Todo {
            id: model.next_todo_id(),
            user_id: user.id,
            author_id: note.author_id,
            action: if opens_line {
                "directly_addressed"
            } else {
                "mentioned"
            }
            .into(),
            noteable: note.noteable,
            note_id: Some(note.id),
            state: "pending".into(),
            created_at: at,
            updated_at: at,
        };
        model.todos.push(todo);
    }
}

/// Files the to-dos an issue or merge request causes when it is opened or its people change
/// (`TodoService#new_issuable`, `#reassigned_assignable`, `#reassigned_reviewable`,
/// `app/services/todo_service.rb`): `assigned` for each user who became an assignee and
/// `review_requested` for each new reviewer (the actor included: GitLab excludes nobody there),
/// and on opening `directly_addressed`/`mentioned` for the users the description mentions, the
/// author excluded (`filter_mentioned_users`). None of these carry a note.
pub fn on_issuable(
    model: &mut Model,
    target: crate::gitlab::model::NoteableRef,
    author: u64,
    new_assignees: &[u64],
    new_reviewers: &[u64],
    description: Option<&str>,
) {
    let Some(project) = model.project(target.project_id).cloned() else {
        return;
    };
    let at = time::now();
    let one_per_target = !model.gitlab_version.has(MULTIPLE_TODOS);
    let mut wanted: Vec<(u64, &'static str)> = Vec::new();
    wanted.extend(new_assignees.iter().map(|id| (*id, "assigned")));
    wanted.extend(new_reviewers.iter().map(|id| (*id, "review_requested")));
    for (username, opens_line) in description.map(mentioned_usernames).unwrap_or_default() {
        let Some(user) = model.user_by_username(&username) else {
            continue;
        };
        if user.id == author || model.access_level(&project, user.id).is_none() {
            continue;
        }
        wanted.push((
            user.id,
            if opens_line {
                "directly_addressed"
            } else {
                "mentioned"
            },
        ));
    }
    for (user_id, action) in wanted {
        if one_per_target
            && model
                .todos
                .iter()
                .any(|t| t.user_id == user_id && t.noteable == target && t.state == "pending")
        {
            continue;
        }
        let todo = Todo {
            id: model.next_todo_id(),
            user_id,
            author_id: author,
            action: action.into(),
            noteable: target,
            note_id: None,
            state: "pending".into(),
            created_at: at,
            updated_at: at,
        };
        model.todos.push(todo);
    }
}

/// The fields of a to-do's `target` that issues and merge requests share
/// (`lib/api/entities/issuable_entity.rb`), plus the `kind`-specific ones in `extra`.
fn issuable<T: Dated>(item: &T, iid: u64, project_id: u64, title: &str, extra: Value) -> Value {
    let mut target = json!({
        "id": item.id(),
        "iid": iid,
        "project_id": project_id,
        "title": title,
        "created_at": time::api(item.created_at()),
        "updated_at": time::api(item.updated_at()),
    });
    if let (Value::Object(map), Value::Object(extra)) = (&mut target, extra) {
        map.extend(extra);
    }
    target
}

fn todo_json(model: &Model, todo: &Todo, base_url: &str) -> Value {
    let project = model.project(todo.noteable.project_id);
    // The target entity is the full issue or merge request; the fields below are the ones
    // both share, enough for a to-do list.
    let (project_id, iid) = (todo.noteable.project_id, todo.noteable.iid);
    let (target_type, target) = match todo.noteable.kind {
        NoteableKind::Issue => (
            "Issue",
            model.issue(project_id, iid).map(|i| {
                let extra = json!({"state": i.state, "confidential": i.confidential});
                issuable(i, iid, project_id, &i.title, extra)
            }),
        ),
        NoteableKind::MergeRequest => (
            "MergeRequest",
            model.merge_request(project_id, iid).map(|m| {
                let extra = json!({
                    "state": m.state,
                    "source_branch": m.source_branch,
                    "target_branch": m.target_branch,
                });
                issuable(m, iid, project_id, &m.title, extra)
            }),
        ),
    };
    let segment = todo.noteable.kind.segment();
    let path = project.map(|p| p.path_with_namespace()).unwrap_or_default();
    let anchor = todo
        .note_id
        .map(|id| format!("#note_{id}"))
        .unwrap_or_default();
    json!({
        "id": todo.id,
        "project": project.map(|p| json!({
            "id": p.id,
            "name": p.name,
            "name_with_namespace": p.path_with_namespace(),
            "path": p.path,
            "path_with_namespace": p.path_with_namespace(),
        })),
        "author": model.user(todo.author_id).map(|u| json::user_basic(u, base_url)),
        "action_name": todo.action,
        "target_type": target_type,
        "target": target,
        "target_url": format!("{base_url}/{path}/-/{segment}/{}{anchor}", todo.noteable.iid),
        "body": todo.note_id
            .and_then(|id| model.notes.iter().find(|n| n.id == id))
            .map(|n| n.body.clone())
            .unwrap_or_default(),
        "state": todo.state,
        "created_at": time::api(todo.created_at),
        "updated_at": time::api(todo.updated_at),
    })
}

async fn list(State(app): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    let model = app.lock();
    let user = ctx.caller(&model, JobTokens::Ignored)?.require_user()?;
    let p = &ctx.params;
    let state = p.str("state").unwrap_or_else(|| "pending".into());
    if state != "pending" && state != "done" {
        return Err(ApiError::InvalidParam(
            "state".into(),
            "does not have a valid value",
        ));
    }
    let action = p.str("action");
    let project_id = p.u64("project_id")?;
    let kind = p.str("type");
    let mut todos: Vec<&Todo> = model
        .todos
        .iter()
        .filter(|t| t.user_id == user && t.state == state)
        .filter(|t| action.as_deref().is_none_or(|a| t.action == a))
        .filter(|t| project_id.is_none_or(|id| t.noteable.project_id == id))
        .filter(|t| {
            kind.as_deref().is_none_or(|k| match t.noteable.kind {
                NoteableKind::Issue => k == "Issue",
                NoteableKind::MergeRequest => k == "MergeRequest",
            })
        })
        .collect();
    todos.sort_by_key(|t| std::cmp::Reverse(t.id));
    let items = todos
        .into_iter()
        .map(|t| todo_json(&model, t, app.base_url()))
        .collect();
    Ok(paginate(items, PageRequest::from_params(p), &ctx.url))
}

fn close(todo: &mut Todo, at: Timestamp) {
    todo.state = "done".into();
    todo.updated_at = at;
}

async fn mark_done(Path(todo_id): Path<u64>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let user = ctx.caller(&model, JobTokens::Ignored)?.require_user()?;
    let now = time::now();
    let todo = model
        .todos
        .iter_mut()
        .find(|t| t.id == todo_id && t.user_id == user)
        .ok_or(ApiError::RecordNotFound)?;
    close(todo, now);
    let todo = todo.clone();
    Ok(created(todo_json(&model, &todo, ctx.app.base_url())))
}

async fn mark_all_done(State(app): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = app.lock();
    let user = ctx.caller(&model, JobTokens::Ignored)?.require_user()?;
    let now = time::now();
    for todo in model
        .todos
        .iter_mut()
        .filter(|t| t.user_id == user && t.state == "pending")
    {
        close(todo, now);
    }
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_know_whether_they_open_a_line() {
        assert_eq!(
            mentioned_usernames("@claude fix it\nthanks @dana, and cc @Claude."),
            vec![("claude".to_string(), true), ("dana".to_string(), false)]
        );
        assert!(mentioned_usernames("mail me at dana@example.com").is_empty());
        assert_eq!(
            mentioned_usernames("  @codex.")
                .first()
                .map(|(n, d)| (n.as_str(), *d)),
            Some(("codex", true))
        );
    }
}
