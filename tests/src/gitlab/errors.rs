//! GitLab's error bodies (<https://docs.gitlab.com/api/rest/troubleshooting/>): `{"message": …}`
//! from `render_api_error!` (`401 Unauthorized`, `403 Forbidden`, `404 Project Not Found`,
//! `400 Bad request - …`, validation hashes) and `{"error": "… is missing"}` from Grape's
//! parameter validation.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401 `{"message":"401 Unauthorized"}`: missing or bad token where one is required.
    Unauthorized,
    /// 401 `{"error":"invalid_token","error_description":…}`: a revoked or expired access token,
    /// as GitLab's API guard answers it (`lib/api/api_guard.rb`).
    InvalidToken(&'static str),
    /// 403 `{"message":"403 Forbidden"}` or `403 Forbidden - <reason>`.
    Forbidden(Option<String>),
    /// 404 `{"message":"404 <Resource> Not Found"}` (`not_found!(resource)`), or
    /// `404 Not Found` without a resource.
    NotFound(Option<&'static str>),
    /// 404 `{"message":"404 Not found"}`: ActiveRecord's RecordNotFound as rendered by the API.
    RecordNotFound,
    /// 400 `{"message":"400 Bad request - <reason>"}`.
    BadRequest(String),
    /// 400 `{"error":"<param> is missing"}`.
    MissingParam(String),
    /// 400 `{"error":"<param> <problem>"}` (e.g. `does not have a valid value`, `is invalid`).
    InvalidParam(String, &'static str),
    /// Any other status with a `{"message": <value>}` body (validation errors, 409, 422).
    Message(StatusCode, Value),
}

impl ApiError {
    pub fn missing(param: &str) -> ApiError {
        ApiError::MissingParam(param.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::RecordNotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) | ApiError::MissingParam(_) | ApiError::InvalidParam(..) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Message(status, _) => *status,
        }
    }

    pub fn body(&self) -> Value {
        match self {
            ApiError::Unauthorized => json!({"message": "401 Unauthorized"}),
            ApiError::InvalidToken(description) => {
                json!({"error": "invalid_token", "error_description": description})
            }
            ApiError::Forbidden(None) => json!({"message": "403 Forbidden"}),
            ApiError::Forbidden(Some(reason)) => {
                json!({"message": format!("403 Forbidden - {reason}")})
            }
            ApiError::NotFound(Some(what)) => json!({"message": format!("404 {what} Not Found")}),
            ApiError::NotFound(None) => json!({"message": "404 Not Found"}),
            ApiError::RecordNotFound => json!({"message": "404 Not found"}),
            ApiError::BadRequest(reason) => {
                json!({"message": format!("400 Bad request - {reason}")})
            }
            ApiError::MissingParam(param) => json!({"error": format!("{param} is missing")}),
            ApiError::InvalidParam(param, problem) => {
                json!({"error": format!("{param} {problem}")})
            }
            ApiError::Message(_, value) => json!({ "message": value }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
