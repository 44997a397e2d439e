//! The double's own control endpoints under `{relative_url_root}/-/double/` for tests that run
//! the `gitlab-double` binary (in a container, say): inspect state, script faults, read the
//! request log and the Note Hook events. Guarded by the admin token (`Authorization: Bearer
//! <token>`); closed (404) when no admin token is configured.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::app::AppState;
use super::errors::ApiError;
use super::faults::FaultRule;
use super::json;
use super::routes::merge_requests::repo_facts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/state", get(state))
        .route(
            "/faults",
            axum::routing::post(add_fault).delete(clear_faults),
        )
        .route("/requests", get(requests))
        .route("/events", get(events))
}

fn authorize(app: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = app.config.admin_token.as_deref() else {
        return Err(ApiError::NotFound(None));
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given == Some(expected) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

async fn state(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&app, &headers)?;
    let model = app.lock();
    let base = app.base_url();
    let projects: Vec<Value> = model
        .projects
        .iter()
        .map(|p| {
            let mut value = json::project(&model, p, base);
            if let Value::Object(map) = &mut value {
                map.insert(
                    "branches".into(),
                    json!(p.repo.branches().unwrap_or_default()),
                );
                map.insert(
                    "members".into(),
                    json!(
                        p.members
                            .iter()
                            .map(|(u, l)| json!({"user_id": u, "access_level": l.value()}))
                            .collect::<Vec<_>>()
                    ),
                );
                map.insert("protected_branches".into(), json!(p.protected_branches));
            }
            value
        })
        .collect();
    let issues: Vec<Value> = model
        .issues
        .iter()
        .filter_map(|i| {
            model
                .project(i.project_id)
                .map(|p| json::issue(&model, p, i, base))
        })
        .collect();
    let merge_requests: Vec<Value> = model
        .merge_requests
        .iter()
        .filter_map(|m| {
            model
                .project(m.project_id)
                .map(|p| json::merge_request(&model, p, m, &repo_facts(p, m), base))
        })
        .collect();
    let body = json!({
        "users": model.users.iter().map(|u| { let mut v = json::current_user(u, base); if let Value::Object(m) = &mut v { m.remove("email"); } v }).collect::<Vec<_>>(),
        "groups": model.groups.iter().map(|g| json!({"id": g.id, "full_path": g.full_path, "members": g.members.iter().map(|(u, l)| json!({"user_id": u, "access_level": l.value()})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "projects": projects,
        "issues": issues,
        "merge_requests": merge_requests,
        "notes": model.notes,
        "awards": model.awards,
        "hooks": model.hooks,
        "pipelines": model.pipelines,
    });
    Ok(axum::Json(body).into_response())
}

async fn add_fault(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&app, &headers)?;
    let rule: FaultRule = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("fault rule: {e}")))?;
    let id = app.faults.add(rule);
    Ok((StatusCode::CREATED, axum::Json(json!({"id": id.0}))).into_response())
}

async fn clear_faults(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&app, &headers)?;
    app.faults.clear();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn requests(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&app, &headers)?;
    let requests = app.lock().requests.clone();
    Ok(axum::Json(requests).into_response())
}

async fn events(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&app, &headers)?;
    let model = app.lock();
    Ok(axum::Json(json!({
        "note_events": model.note_events,
        "deliveries": model.deliveries,
    }))
    .into_response())
}
