//! Anthropic's Messages API as Claude Code calls it: `POST /v1/messages?beta=true`, streamed.
//!
//! Stream shape: <https://docs.anthropic.com/en/api/messages-streaming> (`message_start`,
//! `ping`, then per content block `content_block_start` / `content_block_delta` (`text_delta`
//! or `input_json_delta`) / `content_block_stop`, then `message_delta` with the stop reason and
//! output usage, then `message_stop`).
//! Errors: <https://docs.anthropic.com/en/api/errors> (`{"type":"error","error":{"type","message"}}`,
//! a `request-id` header). The API adds `x-should-retry`; Claude Code retries for minutes
//! without `x-should-retry: false`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::model::recorded::{RecordedRequest, ToolOutput};
use crate::model::script::{ApiError, Fault, Reply, ToolAction, ToolCall, Turn, Usage};
use crate::model::sse::{Ending, SseEvent, halves, stream};
use crate::model::{ModelDouble, Script};

/// Starts an Anthropic Messages API double serving `script`.
pub async fn start(script: Script) -> std::io::Result<ModelDouble> {
    ModelDouble::start(crate::model::Api::Anthropic, script).await
}

/// Answers a model call with the turn, streamed or as one JSON message as the request asks.
pub(crate) fn answer(
    request: &RecordedRequest,
    index: usize,
    turn: &Turn,
) -> Result<Response, String> {
    let model = request.model().unwrap_or("claude-double").to_owned();
    let message_id = format!("msg_double_{index:02}");
    match &turn.reply {
        Reply::Fault(Fault::Status(error)) => Ok(error_response(error)),
        Reply::Fault(Fault::DropStream) => Ok(stream(
            vec![message_start(&message_id, &model, turn.usage)],
            Ending::Reset,
        )),
        Reply::Message { text, tool_calls } => {
            let blocks = content_blocks(text, tool_calls)?;
            let stop_reason = if tool_calls.is_empty() {
                "end_turn"
            } else {
                "tool_use"
            };
            if request.wants_stream() {
                Ok(stream(
                    stream_events(&message_id, &model, &blocks, stop_reason, turn.usage),
                    Ending::Complete,
                ))
            } else {
                Ok(Json(json!({
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": blocks,
                    "stop_reason": stop_reason,
                    "stop_sequence": null,
                    "usage": usage_json(turn.usage, turn.usage.output_tokens),
                }))
                .into_response())
            }
        }
    }
}

fn content_blocks(text: &str, tool_calls: &[ToolCall]) -> Result<Vec<Value>, String> {
    let mut blocks = Vec::new();
    if !text.is_empty() {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for call in tool_calls {
        let (name, input) = tool_use(&call.action)?;
        blocks.push(json!({"type": "tool_use", "id": call.id, "name": name, "input": input}));
    }
    Ok(blocks)
}

/// Claude Code's built-in tool for a neutral action.
fn tool_use(action: &ToolAction) -> Result<(String, Value), String> {
    Ok(match action {
        ToolAction::WriteFile { path, content } => (
            "Write".into(),
            json!({"file_path": path, "content": content}),
        ),
        ToolAction::EditFile { path, old, new } => (
            "Edit".into(),
            json!({"file_path": path, "old_string": old, "new_string": new}),
        ),
        ToolAction::ReadFile { path } => ("Read".into(), json!({"file_path": path})),
        ToolAction::Shell { command } => (
            "Bash".into(),
            json!({"command": command, "description": "Run a scripted command"}),
        ),
        ToolAction::ClaudeTool { name, input } => (name.clone(), input.clone()),
        ToolAction::CodexFunction { name, .. }
        | ToolAction::CodexNamespacedFunction { name, .. }
        | ToolAction::CodexCustom { name, .. } => {
            return Err(format!(
                "the script gives Claude the Codex-only tool {name:?}; use a neutral action or ToolAction::ClaudeTool"
            ));
        }
    })
}

fn usage_json(usage: Usage, output_tokens: u64) -> Value {
    json!({
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    })
}

fn message_start(id: &str, model: &str, usage: Usage) -> SseEvent {
    SseEvent::new(
        "message_start",
        json!({
            "type": "message_start",
            "message": {
                "id": id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage_json(usage, 1),
            }
        }),
    )
}

fn stream_events(
    id: &str,
    model: &str,
    blocks: &[Value],
    stop_reason: &str,
    usage: Usage,
) -> Vec<SseEvent> {
    let mut events = vec![
        message_start(id, model, usage),
        SseEvent::new("ping", json!({"type": "ping"})),
    ];
    for (index, block) in blocks.iter().enumerate() {
        let (start, deltas) = if block["type"] == "tool_use" {
            let input = block["input"].to_string();
            let deltas: Vec<Value> = halves(&input)
                .into_iter()
                .map(|part| json!({"type": "input_json_delta", "partial_json": part}))
                .collect();
            (
                json!({"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}),
                deltas,
            )
        } else {
            let text = block["text"].as_str().unwrap_or_default();
            let deltas: Vec<Value> = halves(text)
                .into_iter()
                .map(|part| json!({"type": "text_delta", "text": part}))
                .collect();
            (json!({"type": "text", "text": ""}), deltas)
        };
        events.push(SseEvent::new(
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": start}),
        ));
        for delta in deltas {
            events.push(SseEvent::new(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": delta}),
            ));
        }
        events.push(SseEvent::new(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
    }
    events.push(SseEvent::new(
        "message_delta",
        json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": {"output_tokens": usage.output_tokens},
        }),
    ));
    events.push(SseEvent::new(
        "message_stop",
        json!({"type": "message_stop"}),
    ));
    events
}

/// The error type Anthropic documents for each status.
fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

pub(crate) fn error_response(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let request_id = "req_double_error";
    let mut response = (
        status,
        Json(json!({
            "type": "error",
            "error": {"type": error_type(error.status), "message": error.message},
            "request_id": request_id,
        })),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert("request-id", HeaderValue::from_static(request_id));
    headers.insert(
        "x-should-retry",
        HeaderValue::from_static(if error.retry_header() {
            "true"
        } else {
            "false"
        }),
    );
    if let Some(seconds) = error.retry_after {
        headers.insert("retry-after", HeaderValue::from(seconds));
    }
    response
}

/// A request that does not fit the script: a 400 Claude does not retry, naming the problem.
pub(crate) fn script_error(problem: &str) -> Response {
    error_response(&ApiError::new(400, format!("model double: {problem}")).should_retry(false))
}

pub(crate) fn websocket_refused() -> Response {
    error_response(&ApiError::new(404, "WebSocket is not served by this API").should_retry(false))
}

/// Anthropic's answer for a model it does not serve.
pub(crate) fn model_not_found(model: &str) -> Response {
    error_response(&ApiError::new(404, format!("model: {model}")).should_retry(false))
}

/// Everything besides model calls. With `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1` Claude Code
/// 2.1.331 sends nothing else; without it, it also sends `HEAD /api/hello` (a reachability check)
/// to the base URL and tries public hosts.
pub(crate) fn other(request: &RecordedRequest) -> Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("HEAD" | "GET", "/api/hello") => StatusCode::OK.into_response(),
        ("POST", "/v1/messages/count_tokens") => {
            // Anthropic's rough rule of thumb: about four characters per token.
            let tokens = request.body.len() / 4;
            Json(json!({"input_tokens": tokens})).into_response()
        }
        (method, path) => error_response(
            &ApiError::new(404, format!("Not found: {method} {path}")).should_retry(false),
        ),
    }
}

/// `tool_result` blocks in user messages.
pub(crate) fn tool_outputs(body: &Value) -> Vec<ToolOutput> {
    body.get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .filter_map(|m| m.get("content").and_then(Value::as_array))
        .flatten()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_result"))
        .map(|block| ToolOutput::read(block, "tool_use_id", "content"))
        .collect()
}
