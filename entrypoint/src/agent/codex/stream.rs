//! `codex exec --json` output: one JSON object per line (codex-rs `exec/src/exec_events.rs`).
//!
//! `thread.started`, `turn.started`, `item.started` / `item.updated` / `item.completed` with
//! an `item` (`command_execution`, `file_change`, `mcp_tool_call`, `web_search`,
//! `agent_message`, `reasoning`, …), `turn.completed` with `usage`, `turn.failed` with
//! `error.message`, and `error` with `message`. The final answer is the last completed
//! `agent_message`; Codex reports no cost.

use std::collections::HashSet;

use serde_json::Value;

use crate::agent::events::{AssistantEvent, StreamParser, Summarizer, Usage};

/// What the parser remembers across lines.
#[derive(Debug, Default)]
pub(crate) struct CodexState {
    /// Items already shown as a tool call (started, then updated and completed).
    announced: HashSet<String>,
    last_message: Option<String>,
    /// `error` then `turn.failed` usually carry the same message; it is reported once.
    last_failure: Option<String>,
}

impl StreamParser for CodexState {
    fn events(&mut self, value: &Value, summarize: &Summarizer<'_>) -> Vec<AssistantEvent> {
        CodexState::events(self, value, summarize)
    }
}

impl CodexState {
    pub(crate) fn events(
        &mut self,
        value: &Value,
        summarize: &Summarizer<'_>,
    ) -> Vec<AssistantEvent> {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match kind {
            "item.started" | "item.updated" | "item.completed" => {
                let Some(item) = value.get("item") else {
                    return Vec::new();
                };
                self.item(item, kind == "item.completed", summarize)
                    .into_iter()
                    .collect()
            }
            "turn.completed" => vec![AssistantEvent::Finished {
                final_text: self.last_message.clone().unwrap_or_default(),
                usage: value.get("usage").and_then(usage),
                cost_usd: None,
            }],
            "turn.failed" => self.failure(value.pointer("/error/message")),
            "error" => self.failure(value.get("message")),
            _ => Vec::new(),
        }
    }

    fn item(
        &mut self,
        item: &Value,
        completed: bool,
        summarize: &Summarizer<'_>,
    ) -> Option<AssistantEvent> {
        let text = |field: &str| item.get(field).and_then(Value::as_str).unwrap_or_default();
        let (name, summary) = match text("type") {
            "agent_message" if completed => {
                let message = text("text").to_owned();
                if message.trim().is_empty() {
                    return None;
                }
                self.last_message = Some(message.clone());
                return Some(AssistantEvent::Message { text: message });
            }
            "command_execution" => ("shell", summarize.line(text("command"))),
            "file_change" => ("apply_patch", file_changes(item, summarize)),
            "mcp_tool_call" => ("mcp", format!("{}/{}", text("server"), text("tool"))),
            "web_search" => ("web_search", summarize.line(text("query"))),
            _ => return None,
        };
        let id = text("id").to_owned();
        if !id.is_empty() && !self.announced.insert(id) {
            return None;
        }
        Some(AssistantEvent::ToolCall {
            name: name.to_owned(),
            summary,
        })
    }

    fn failure(&mut self, message: Option<&Value>) -> Vec<AssistantEvent> {
        let message = readable(message.and_then(Value::as_str).unwrap_or_default());
        let message = if message.trim().is_empty() {
            "Codex reported an error without a message".to_owned()
        } else {
            message
        };
        if self.last_failure.as_deref() == Some(message.as_str()) {
            return Vec::new();
        }
        self.last_failure = Some(message.clone());
        vec![AssistantEvent::Failed { message }]
    }
}

/// `add a.txt, update src/b.rs`.
fn file_changes(item: &Value, summarize: &Summarizer<'_>) -> String {
    let changes = item
        .get("changes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let listed: Vec<String> = changes
        .iter()
        .map(|change| {
            let kind = change
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("change");
            let path = change.get("path").and_then(Value::as_str).unwrap_or("?");
            format!("{kind} {path}")
        })
        .collect();
    summarize.line(&listed.join(", "))
}

/// Codex passes some API errors on as the raw JSON body; the `error.message` inside is the
/// part a person needs.
fn readable(message: &str) -> String {
    serde_json::from_str::<Value>(message)
        .ok()
        .and_then(|body| {
            body.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| message.to_owned())
}

/// `input_tokens` already includes `cached_input_tokens`, as in the Responses API.
fn usage(value: &Value) -> Option<Usage> {
    Some(Usage {
        input: value.get("input_tokens").and_then(Value::as_u64)?,
        output: value.get("output_tokens").and_then(Value::as_u64)?,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::agent::events::{AssistantEvent, EventParser, Usage};

    fn parse(lines: &[&str]) -> Vec<AssistantEvent> {
        let mut parser = EventParser::new(
            Box::new(super::CodexState::default()),
            Some(Path::new("/work")),
        );
        lines.iter().flat_map(|l| parser.parse_line(l)).collect()
    }

    #[test]
    fn a_successful_turn_reads_as_tool_calls_messages_and_a_result() {
        let events = parse(&[
            r#"{"type":"thread.started","thread_id":"t"}"#,
            r#"{"type":"turn.started"}"#,
            r#"{"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"bash -lc 'cargo test'","aggregated_output":"","status":"in_progress"}}"#,
            r#"{"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"bash -lc 'cargo test'","aggregated_output":"ok","exit_code":0,"status":"completed"}}"#,
            r#"{"type":"item.completed","item":{"id":"item_1","type":"reasoning","text":"thinking"}}"#,
            r#"{"type":"item.completed","item":{"id":"item_2","type":"file_change","changes":[{"path":"/work/a.txt","kind":"add"},{"path":"/work/src/b.rs","kind":"update"}],"status":"completed"}}"#,
            r#"{"type":"item.completed","item":{"id":"item_3","type":"mcp_tool_call","server":"gitlab","tool":"get_issue","status":"completed"}}"#,
            r#"{"type":"item.completed","item":{"id":"item_4","type":"agent_message","text":"Added a.txt."}}"#,
            r#"{"type":"turn.completed","usage":{"input_tokens":2500,"cached_input_tokens":2000,"output_tokens":70}}"#,
        ]);
        assert_eq!(
            events,
            vec![
                AssistantEvent::ToolCall {
                    name: "shell".into(),
                    summary: "bash -lc 'cargo test'".into()
                },
                AssistantEvent::ToolCall {
                    name: "apply_patch".into(),
                    summary: "add a.txt, update src/b.rs".into()
                },
                AssistantEvent::ToolCall {
                    name: "mcp".into(),
                    summary: "gitlab/get_issue".into()
                },
                AssistantEvent::Message {
                    text: "Added a.txt.".into()
                },
                AssistantEvent::Finished {
                    final_text: "Added a.txt.".into(),
                    usage: Some(Usage {
                        input: 2500,
                        output: 70
                    }),
                    cost_usd: None,
                },
            ]
        );
    }

    #[test]
    fn a_failed_turn_is_reported_once_with_the_readable_message() {
        let events = parse(&[
            r#"{"type":"error","message":"{\"error\":{\"message\":\"The model `o4-mini` does not exist or you do not have access to it.\",\"type\":\"invalid_request_error\",\"code\":\"model_not_found\"}}"}"#,
            r#"{"type":"turn.failed","error":{"message":"The model `o4-mini` does not exist or you do not have access to it."}}"#,
            r#"{"type":"turn.failed","error":{}}"#,
        ]);
        assert_eq!(
            events,
            vec![
                AssistantEvent::Failed {
                    message: "The model `o4-mini` does not exist or you do not have access to it."
                        .into()
                },
                AssistantEvent::Failed {
                    message: "Codex reported an error without a message".into()
                },
            ]
        );
    }

    #[test]
    fn unknown_items_and_events_are_skipped() {
        let events = parse(&[
            r#"{"type":"item.completed"}"#,
            r#"{"type":"item.completed","item":{"type":"hologram"}}"#,
            r#"{"type":"item.completed","item":{"id":"x","type":"agent_message","text":"  "}}"#,
            r#"{"type":"request_user_input","questions":[]}"#,
            r#"{"type":"turn.completed"}"#,
        ]);
        assert_eq!(
            events,
            vec![AssistantEvent::Finished {
                final_text: String::new(),
                usage: None,
                cost_usd: None
            }]
        );
    }
}
