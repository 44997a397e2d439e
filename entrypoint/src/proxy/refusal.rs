//! The proxy's own error answers, in the error shape of the API behind it, so the CLI prints
//! a readable message instead of failing to parse the body.
//!
//! Anthropic: `{"type":"error","error":{"type":…,"message":…}}` with `x-should-retry`
//! (<https://docs.anthropic.com/en/api/errors>). OpenAI:
//! `{"error":{"message":…,"type":…,"param":null,"code":…}}`
//! (<https://platform.openai.com/docs/guides/error-codes>).

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::proxy::upstream::ModelApi;

/// Why the proxy answered itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not for this proxy: another host, `CONNECT`, or a path without the run's prefix.
    Forbidden,
    /// The request body is larger than the proxy buffers.
    TooLarge,
    /// The upstream could not be reached or broke off before answering.
    BadGateway,
    /// The run reached `AI_MAX_BUDGET_USD` or `AI_MAX_TURNS` ([`crate::budget::meter`]). A
    /// 400, on which Codex 0.169.0 gives up after one request instead of retrying.
    LimitReached,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadGateway => StatusCode::BAD_GATEWAY,
            Self::LimitReached => StatusCode::BAD_REQUEST,
        }
    }

    fn anthropic_type(self) -> &'static str {
        match self {
            Self::Forbidden => "permission_error",
            Self::TooLarge => "request_too_large",
            Self::BadGateway => "api_error",
            Self::LimitReached => "invalid_request_error",
        }
    }

    fn openai_code(self) -> &'static str {
        match self {
            Self::Forbidden => "proxy_forbidden",
            Self::TooLarge => "request_too_large",
            Self::BadGateway => "upstream_unreachable",
            Self::LimitReached => "run_limit_reached",
        }
    }

    /// The response, with `message` for the person reading the job log.
    pub(crate) fn respond(self, api: ModelApi, message: &str) -> Response {
        let message = format!("gitlab-ai key proxy: {message}");
        let mut response = match api {
            ModelApi::Anthropic => Json(json!({
                "type": "error",
                "error": {"type": self.anthropic_type(), "message": message},
            }))
            .into_response(),
            ModelApi::OpenAi => Json(json!({
                "error": {
                    "message": message,
                    "type": if self == Self::BadGateway { "server_error" } else { "invalid_request_error" },
                    "param": null,
                    "code": self.openai_code(),
                },
            }))
            .into_response(),
        };
        *response.status_mut() = self.status();
        if self != Self::BadGateway {
            // A refused request fails the same way every time; let Claude Code stop at once.
            response
                .headers_mut()
                .insert("x-should-retry", HeaderValue::from_static("false"));
        }
        response
    }
}
