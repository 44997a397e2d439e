//! Records every request (method, path, query, headers, body, final status) so tests can count
//! calls and check that secrets only travel where they should.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::app::{AppState, BODY_LIMIT};
use super::errors::ApiError;
use super::model::RecordedRequest;

pub async fn record(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(e) => return ApiError::BadRequest(format!("unreadable body: {e}")).into_response(),
    };
    let path = parts.uri.path().to_string();
    let is_git = path.contains(".git/");
    let recorded_body = if is_git {
        format!("<{} bytes of git protocol>", bytes.len())
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let method = parts.method.to_string();
    let query = parts.uri.query().map(str::to_string);
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    app.lock().requests.push(RecordedRequest {
        method,
        path,
        query,
        headers,
        body: recorded_body,
        status: response.status().as_u16(),
    });
    response
}
