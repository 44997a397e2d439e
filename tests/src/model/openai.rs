//! OpenAI's Responses API as Codex calls it: `POST /v1/responses` with `stream: true`.
//!
//! Stream shape: <https://platform.openai.com/docs/api-reference/responses-streaming>
//! (`response.created`, `response.in_progress`, per output item `response.output_item.added`,
//! its deltas and `response.output_item.done`, then `response.completed` carrying usage; every
//! event has a growing `sequence_number`). Errors: `{"error":{"message","type","param","code"}}`
//! (<https://platform.openai.com/docs/guides/error-codes>). Codex asks for a websocket first
//! when the provider supports it and falls back to HTTP on `426 Upgrade Required`.

use std::path::Path;

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::model::recorded::{RecordedRequest, ToolOutput};
use crate::model::script::{ApiError, Fault, Reply, ToolAction, ToolCall, Turn, Usage};
use crate::model::sse::{Ending, SseEvent, halves, stream};
use crate::model::{Api, ModelDouble, Script};

/// Starts an OpenAI Responses API double serving `script`.
pub async fn start(script: Script) -> std::io::Result<ModelDouble> {
    ModelDouble::start(Api::OpenAi, script).await
}

/// Answers a model call with the turn.
pub(crate) fn answer(
    request: &RecordedRequest,
    index: usize,
    turn: &Turn,
) -> Result<Response, String> {
    let model = request.model().unwrap_or("gpt-double").to_owned();
    let response_id = format!("resp_double_{index:02}");
    match &turn.reply {
        Reply::Fault(Fault::Status(error)) => Ok(error_response(error, None)),
        Reply::Fault(Fault::DropStream) => {
            let mut sequence = Sequence::default();
            Ok(stream(
                vec![sequence.event(
                    "response.created",
                    json!({"response": response_object(&response_id, &model, "in_progress", &[], None)}),
                )],
                Ending::Reset,
            ))
        }
        Reply::Message { text, tool_calls } => {
            let items = output_items(index, text, tool_calls)?;
            if request.wants_stream() {
                Ok(stream(
                    stream_events(&response_id, &model, &items, turn.usage),
                    Ending::Complete,
                ))
            } else {
                Ok(Json(response_object(
                    &response_id,
                    &model,
                    "completed",
                    &items,
                    Some(turn.usage),
                ))
                .into_response())
            }
        }
    }
}

fn output_items(turn: usize, text: &str, tool_calls: &[ToolCall]) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    if !text.is_empty() {
        items.push(json!({
            "id": format!("msg_double_{turn:02}"),
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }));
    }
    for (position, call) in tool_calls.iter().enumerate() {
        let item_id = format!("item_double_{turn:02}_{position}");
        items.push(match &call.action {
            ToolAction::WriteFile { path, content } => {
                custom_call(&item_id, &call.id, "apply_patch", &add_file_patch(path, content))
            }
            ToolAction::EditFile { path, old, new } => {
                custom_call(&item_id, &call.id, "apply_patch", &update_file_patch(path, old, new))
            }
            ToolAction::ReadFile { path } => exec_command(
                &item_id,
                &call.id,
                &format!("cat -- {}", shell_quote(&path.to_string_lossy())),
            ),
            ToolAction::Shell { command } => exec_command(&item_id, &call.id, command),
            ToolAction::CodexFunction { name, arguments } => {
                function_call(&item_id, &call.id, name, arguments)
            }
            ToolAction::CodexNamespacedFunction {
                namespace,
                name,
                arguments,
            } => {
                let mut item = function_call(&item_id, &call.id, name, arguments);
                item["namespace"] = json!(namespace);
                item
            }
            ToolAction::CodexCustom { name, input } => {
                custom_call(&item_id, &call.id, name, input)
            }
            ToolAction::ClaudeTool { name, .. } => {
                return Err(format!(
                    "the script gives Codex the Claude-only tool {name:?}; use a neutral action or ToolAction::CodexFunction"
                ));
            }
        });
    }
    Ok(items)
}

fn custom_call(item_id: &str, call_id: &str, name: &str, input: &str) -> Value {
    json!({
        "id": item_id,
        "type": "custom_tool_call",
        "status": "completed",
        "call_id": call_id,
        "name": name,
        "input": input,
    })
}

fn function_call(item_id: &str, call_id: &str, name: &str, arguments: &Value) -> Value {
    json!({
        "id": item_id,
        "type": "function_call",
        "status": "completed",
        "call_id": call_id,
        "name": name,
        "arguments": arguments.to_string(),
    })
}

/// Codex's shell tool (`exec_command`, arguments `{"cmd": …}`).
fn exec_command(item_id: &str, call_id: &str, command: &str) -> Value {
    function_call(item_id, call_id, "exec_command", &json!({"cmd": command}))
}

/// An `apply_patch` envelope adding a file; every line of the content is a `+` line.
fn add_file_patch(path: &Path, content: &str) -> String {
    let mut patch = format!("*** Begin Patch\n*** Add File: {}\n", path.display());
    for line in content.lines() {
        patch.push('+');
        patch.push_str(line);
        patch.push('\n');
    }
    patch.push_str("*** End Patch\n");
    patch
}

/// An `apply_patch` envelope replacing the lines `old` by the lines `new`.
fn update_file_patch(path: &Path, old: &str, new: &str) -> String {
    let mut patch = format!("*** Begin Patch\n*** Update File: {}\n@@\n", path.display());
    for line in old.lines() {
        patch.push('-');
        patch.push_str(line);
        patch.push('\n');
    }
    for line in new.lines() {
        patch.push('+');
        patch.push_str(line);
        patch.push('\n');
    }
    patch.push_str("*** End Patch\n");
    patch
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    })
}

fn response_object(
    id: &str,
    model: &str,
    status: &str,
    output: &[Value],
    usage: Option<Usage>,
) -> Value {
    json!({
        "id": id,
        "object": "response",
        "created_at": chrono::Utc::now().timestamp(),
        "status": status,
        "error": null,
        "incomplete_details": null,
        "model": model,
        "output": output,
        "parallel_tool_calls": true,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage.map(usage_json),
    })
}

/// Numbers the events of one stream.
#[derive(Default)]
struct Sequence(u64);

impl Sequence {
    fn event(&mut self, name: &str, mut data: Value) -> SseEvent {
        if let Value::Object(map) = &mut data {
            map.insert("type".into(), json!(name));
            map.insert("sequence_number".into(), json!(self.0));
        }
        self.0 += 1;
        SseEvent::new(name, data)
    }
}

fn stream_events(id: &str, model: &str, items: &[Value], usage: Usage) -> Vec<SseEvent> {
    let mut seq = Sequence::default();
    let mut events = vec![
        seq.event(
            "response.created",
            json!({"response": response_object(id, model, "in_progress", &[], None)}),
        ),
        seq.event(
            "response.in_progress",
            json!({"response": response_object(id, model, "in_progress", &[], None)}),
        ),
    ];
    for (output_index, item) in items.iter().enumerate() {
        let item_id = item["id"].clone();
        let mut started = item.clone();
        started["status"] = json!("in_progress");
        match item["type"].as_str() {
            Some("message") => {
                let text = item["content"][0]["text"].as_str().unwrap_or_default();
                started["content"] = json!([]);
                events.push(seq.event(
                    "response.output_item.added",
                    json!({"output_index": output_index, "item": started}),
                ));
                let part = |t: &str| json!({"type": "output_text", "text": t, "annotations": []});
                events.push(seq.event(
                    "response.content_part.added",
                    json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "part": part("")}),
                ));
                for delta in halves(text) {
                    events.push(seq.event(
                        "response.output_text.delta",
                        json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "delta": delta, "logprobs": []}),
                    ));
                }
                events.push(seq.event(
                    "response.output_text.done",
                    json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "text": text, "logprobs": []}),
                ));
                events.push(seq.event(
                    "response.content_part.done",
                    json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "part": part(text)}),
                ));
            }
            kind => {
                // A function call streams its `arguments`, a custom tool call its `input`.
                let (field, stream) = if kind == Some("function_call") {
                    ("arguments", "response.function_call_arguments")
                } else {
                    ("input", "response.custom_tool_call_input")
                };
                let value = item[field].as_str().unwrap_or_default();
                started[field] = json!("");
                events.push(seq.event(
                    "response.output_item.added",
                    json!({"output_index": output_index, "item": started}),
                ));
                for delta in halves(value) {
                    events.push(seq.event(
                        &format!("{stream}.delta"),
                        json!({"item_id": item_id, "output_index": output_index, "delta": delta}),
                    ));
                }
                events.push(seq.event(
                    &format!("{stream}.done"),
                    json!({"item_id": item_id, "output_index": output_index, field: value}),
                ));
            }
        }
        events.push(seq.event(
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        ));
    }
    events.push(seq.event(
        "response.completed",
        json!({"response": response_object(id, model, "completed", items, Some(usage))}),
    ));
    events
}

/// OpenAI's error `type` and `code` for a status.
fn error_kind(status: u16) -> (&'static str, Option<&'static str>) {
    match status {
        401 => ("invalid_request_error", Some("invalid_api_key")),
        429 => ("rate_limit_error", Some("rate_limit_exceeded")),
        500..=599 => ("server_error", None),
        _ => ("invalid_request_error", None),
    }
}

pub(crate) fn error_response(error: &ApiError, code: Option<&str>) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (kind, default_code) = error_kind(error.status);
    let mut response = (
        status,
        Json(json!({
            "error": {
                "message": error.message,
                "type": kind,
                "param": null,
                "code": code.or(default_code),
            }
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert("x-request-id", HeaderValue::from_static("req_double_error"));
    if let Some(seconds) = error.retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    response
}

/// OpenAI's answer for a model the key cannot use: 404 with code `model_not_found`.
pub(crate) fn model_not_found(model: &str) -> Response {
    error_response(
        &ApiError::new(
            404,
            format!("The model `{model}` does not exist or you do not have access to it."),
        ),
        Some("model_not_found"),
    )
}

/// A request that does not fit the script: a 400, which Codex does not retry.
pub(crate) fn script_error(problem: &str) -> Response {
    error_response(
        &ApiError::new(400, format!("model double: {problem}")),
        None,
    )
}

/// Codex tries the Responses websocket first for providers that support it; 426 makes it use
/// HTTP at once.
pub(crate) fn websocket_refused() -> Response {
    error_response(
        &ApiError::new(426, "WebSocket is not served here; use HTTP streaming"),
        None,
    )
}

/// Everything besides model calls: OpenAI answers an unknown route with 404 `Invalid URL`.
pub(crate) fn other(request: &RecordedRequest) -> Response {
    error_response(
        &ApiError::new(
            404,
            format!("Invalid URL ({} {})", request.method, request.path),
        ),
        None,
    )
}

/// `function_call_output` and `custom_tool_call_output` items of the input.
pub(crate) fn tool_outputs(body: &Value) -> Vec<ToolOutput> {
    body.get("input")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|item| {
            matches!(
                item.get("type").and_then(Value::as_str),
                Some("function_call_output" | "custom_tool_call_output")
            )
        })
        .map(|item| ToolOutput::read(item, "call_id", "output"))
        .collect()
}
