//! Requests exactly as the double received them, so tests can check what a CLI sent: which
//! credentials, which model, which prompt, and that no secret left the job.

use serde_json::Value;

use crate::model::server::Api;

/// One HTTP request received by a model double.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub(crate) api: Api,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<Value>,
}

/// A tool result the CLI sent back to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub call_id: String,
    /// The output's text; structured outputs are joined from their text parts.
    pub text: String,
}

impl ToolOutput {
    /// A tool result as either API sends it back: the id of the call it answers under
    /// `call_id_key`, the output under `output_key` (a missing one reads as empty).
    pub(crate) fn read(item: &Value, call_id_key: &str, output_key: &str) -> Self {
        Self {
            call_id: item
                .get(call_id_key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            text: output_text(item.get(output_key).unwrap_or(&Value::Null)),
        }
    }
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The credential the client presented: Anthropic's `x-api-key`, else the token of an
    /// `Authorization: Bearer` header (OpenAI, and Anthropic OAuth tokens).
    pub fn credential(&self) -> Option<&str> {
        if self.api == Api::Anthropic
            && let Some(key) = self.header("x-api-key")
        {
            return Some(key);
        }
        self.header("authorization")?.strip_prefix("Bearer ")
    }

    /// Whether `needle` appears anywhere in the request: path, query, headers or body. The body
    /// is also searched after JSON decoding, so escaped text (`\n`, `\"`) is found as written.
    pub fn contains(&self, needle: &str) -> bool {
        self.path.contains(needle)
            || self.query.as_deref().is_some_and(|q| q.contains(needle))
            || self
                .headers
                .iter()
                .any(|(n, v)| n.contains(needle) || v.contains(needle))
            || self.body.contains(needle)
            || self.json.as_ref().is_some_and(|j| json_contains(j, needle))
    }

    /// Whether this was a model call (`POST /v1/messages` or `POST /v1/responses`).
    pub fn is_model_call(&self) -> bool {
        self.method == "POST" && self.path == self.api.model_path()
    }

    /// The `model` field of a JSON body.
    pub fn model(&self) -> Option<&str> {
        self.json.as_ref()?.get("model")?.as_str()
    }

    /// Whether the client asked for a Server-Sent Events stream.
    pub fn wants_stream(&self) -> bool {
        self.json
            .as_ref()
            .and_then(|j| j.get("stream"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The tool outputs in the conversation this request carries.
    pub fn tool_outputs(&self) -> Vec<ToolOutput> {
        let Some(json) = &self.json else {
            return Vec::new();
        };
        match self.api {
            Api::Anthropic => crate::model::anthropic::tool_outputs(json),
            Api::OpenAi => crate::model::openai::tool_outputs(json),
        }
    }
}

fn json_contains(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(s) => s.contains(needle),
        Value::Array(items) => items.iter().any(|v| json_contains(v, needle)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains(needle) || json_contains(v, needle)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Joins the text of a tool output that is either a string or a list of content parts.
pub(crate) fn output_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
