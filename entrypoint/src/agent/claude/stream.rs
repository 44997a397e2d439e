//! Claude Code's `--output-format stream-json --verbose` output: one JSON object per line.
//!
//! `system` (start-up, hooks), `assistant` (a model message whose `content` holds `text` and
//! `tool_use` blocks), `user` (tool results sent back to the model; not shown, they can hold
//! whole files) and a final `result` with `is_error`, `result` (the answer or the error),
//! `usage` and `total_cost_usd`. See
//! <https://docs.anthropic.com/en/docs/claude-code/sdk/sdk-headless#output-formats>.

use serde_json::Value;

use crate::agent::events::{AssistantEvent, Limit, StreamParser, Summarizer, Usage};

/// The input fields that best say what a tool call touches, in order of preference.
const SUMMARY_FIELDS: &[&str] = &[
    "file_path",
    "notebook_path",
    "command",
    "pattern",
    "url",
    "query",
    "description",
    "path",
    "skill",
];

/// Claude Code's format: each line stands alone, so the parser keeps no state.
#[derive(Debug, Default)]
pub(crate) struct ClaudeStream;

impl StreamParser for ClaudeStream {
    fn events(&mut self, value: &Value, summarize: &Summarizer<'_>) -> Vec<AssistantEvent> {
        events(value, summarize)
    }
}

fn events(value: &Value, summarize: &Summarizer<'_>) -> Vec<AssistantEvent> {
    match value.get("type").and_then(Value::as_str) {
        Some("assistant") => assistant_message(value, summarize),
        // With `--json-schema`, the `result` carries the model's `StructuredOutput` tool input
        // as `structured_output` (Claude Code 2.1.331, checked against a model double); a run
        // whose model never called the tool succeeds without it.
        Some("result") => match value.get("structured_output").filter(|v| !v.is_null()) {
            Some(structured) => vec![
                AssistantEvent::Structured {
                    value: structured.clone(),
                },
                result(value),
            ],
            None => vec![result(value)],
        },
        _ => Vec::new(),
    }
}

fn assistant_message(value: &Value, summarize: &Summarizer<'_>) -> Vec<AssistantEvent> {
    let blocks = value
        .pointer("/message/content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    blocks
        .iter()
        .filter_map(|block| match block.get("type").and_then(Value::as_str) {
            Some("text") => block
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty())
                .map(|text| AssistantEvent::Message {
                    text: text.to_owned(),
                }),
            Some("tool_use") => {
                let name = block.get("name").and_then(Value::as_str)?.to_owned();
                let input = block.get("input").unwrap_or(&Value::Null);
                Some(AssistantEvent::ToolCall {
                    summary: tool_summary(&name, input, summarize),
                    name,
                })
            }
            _ => None,
        })
        .collect()
}

fn tool_summary(name: &str, input: &Value, summarize: &Summarizer<'_>) -> String {
    if name == "TodoWrite" {
        let count = input
            .get("todos")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        return format!("{count} items");
    }
    SUMMARY_FIELDS
        .iter()
        .find_map(|field| input.get(*field).and_then(Value::as_str))
        .map(|text| summarize.line(text))
        .unwrap_or_default()
}

fn result(value: &Value) -> AssistantEvent {
    let text = value
        .get("result")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let is_error = value
        .get("is_error")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let subtype = value
        .get("subtype")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // `--max-turns` and `--max-budget-usd` end the run with these subtypes (the `result`
    // message's schema in Claude Code 2.1.331 lists `error_max_turns` and
    // `error_max_budget_usd`); the run did work worth publishing, so they are no failures.
    let limit = match subtype {
        "error_max_turns" => Some(Limit::Turns),
        "error_max_budget_usd" => Some(Limit::Budget),
        _ => None,
    };
    if let Some(limit) = limit {
        return AssistantEvent::Stopped {
            limit,
            usage: run_usage(value),
            cost_usd: value.get("total_cost_usd").and_then(Value::as_f64),
        };
    }
    if is_error || subtype.starts_with("error") {
        let message = if !text.trim().is_empty() {
            text.to_owned()
        } else if subtype.is_empty() {
            "Claude reported an error without a message".to_owned()
        } else {
            format!("Claude reported an error ({subtype})")
        };
        return AssistantEvent::Failed { message };
    }
    AssistantEvent::Finished {
        final_text: text.to_owned(),
        usage: value.get("usage").and_then(usage),
        cost_usd: value.get("total_cost_usd").and_then(Value::as_f64),
    }
}

/// The tokens of a run that stopped at a limit: the sum of `modelUsage` (per model, camel-case
/// fields), else `usage`. In Claude Code 2.1.331's `error_max_budget_usd` result `usage` is not
/// the run's total (all zero, or one call's), while `modelUsage` is.
fn run_usage(value: &Value) -> Option<Usage> {
    let summed = value
        .get("modelUsage")
        .and_then(Value::as_object)
        .map(|models| {
            let mut total = Usage::default();
            for per_model in models.values() {
                let count = |field: &str| per_model.get(field).and_then(Value::as_u64).unwrap_or(0);
                total.input += count("inputTokens")
                    + count("cacheReadInputTokens")
                    + count("cacheCreationInputTokens");
                total.output += count("outputTokens");
            }
            total
        })
        .filter(|u| u.input + u.output > 0);
    summed.or_else(|| value.get("usage").and_then(usage))
}

/// Anthropic counts cached prompt tokens apart from `input_tokens`
/// (<https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching>); all of them are
/// prompt tokens.
fn usage(value: &Value) -> Option<Usage> {
    let count = |field: &str| value.get(field).and_then(Value::as_u64);
    let output = count("output_tokens")?;
    let input = count("input_tokens")?
        + count("cache_creation_input_tokens").unwrap_or(0)
        + count("cache_read_input_tokens").unwrap_or(0);
    Some(Usage { input, output })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::agent::events::{AssistantEvent, EventParser, Limit, Usage};

    fn parse(lines: &[&str]) -> Vec<AssistantEvent> {
        let mut parser = EventParser::new(Box::new(super::ClaudeStream), Some(Path::new("/work")));
        lines.iter().flat_map(|l| parser.parse_line(l)).collect()
    }

    #[test]
    fn a_structured_output_comes_just_before_the_finish() {
        // The shape Claude Code 2.1.331 printed with `--json-schema` against a model double.
        let events = parse(&[
            r#"{"type":"result","subtype":"success","is_error":false,"result":"{\"outdated\":3}","structured_output":{"outdated":3},"total_cost_usd":0.0001,"usage":{"input_tokens":10,"output_tokens":5}}"#,
        ]);
        assert_eq!(
            events[0],
            AssistantEvent::Structured {
                value: serde_json::json!({"outdated": 3})
            }
        );
        assert!(
            matches!(&events[1], AssistantEvent::Finished { final_text, .. } if final_text == "{\"outdated\":3}")
        );
        let without = parse(&[
            r#"{"type":"result","subtype":"success","is_error":false,"result":"done","structured_output":null}"#,
        ]);
        assert_eq!(without.len(), 1);
        assert!(matches!(without[0], AssistantEvent::Finished { .. }));
    }

    #[test]
    fn a_successful_run_reads_as_tool_calls_messages_and_a_result() {
        let events = parse(&[
            r#"{"type":"system","subtype":"init","cwd":"/work","session_id":"s","tools":["Write"]}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"I will write it."},{"type":"tool_use","id":"t1","name":"Write","input":{"file_path":"/work/a.txt","content":"SECRET CONTENT"}}]}}"#,
            r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"File created"}]}}"#,
            r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t2","name":"Bash","input":{"command":"cargo test\nls","description":"Run tests"}}]}}"#,
            r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t3","name":"TodoWrite","input":{"todos":[{},{}]}},{"type":"tool_use","id":"t4","name":"mcp__x__y","input":{}}]}}"#,
            r#"{"type":"result","subtype":"success","is_error":false,"result":"Done.","num_turns":3,"total_cost_usd":0.0123,"usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":70}}"#,
        ]);
        assert_eq!(
            events,
            vec![
                AssistantEvent::Message {
                    text: "I will write it.".into()
                },
                AssistantEvent::ToolCall {
                    name: "Write".into(),
                    summary: "a.txt".into()
                },
                AssistantEvent::ToolCall {
                    name: "Bash".into(),
                    summary: "cargo test…".into()
                },
                AssistantEvent::ToolCall {
                    name: "TodoWrite".into(),
                    summary: "2 items".into()
                },
                AssistantEvent::ToolCall {
                    name: "mcp__x__y".into(),
                    summary: String::new()
                },
                AssistantEvent::Finished {
                    final_text: "Done.".into(),
                    usage: Some(Usage {
                        input: 1110,
                        output: 70
                    }),
                    cost_usd: Some(0.0123),
                },
            ]
        );
    }

    #[test]
    fn error_results_are_failures_with_a_reason() {
        let events = parse(&[
            r#"{"type":"result","subtype":"success","is_error":true,"api_error_status":500,"result":"API Error: 500 Internal server error"}"#,
            r#"{"type":"result","subtype":"error_during_execution"}"#,
        ]);
        assert_eq!(
            events,
            vec![
                AssistantEvent::Failed {
                    message: "API Error: 500 Internal server error".into()
                },
                AssistantEvent::Failed {
                    message: "Claude reported an error (error_during_execution)".into()
                },
            ]
        );
    }

    #[test]
    fn a_limit_stops_the_run_with_its_usage_and_cost() {
        let events = parse(&[
            r#"{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":3}"#,
            r#"{"type":"result","subtype":"error_max_budget_usd","is_error":true,"total_cost_usd":0.61,"usage":{"input_tokens":0,"output_tokens":0},"modelUsage":{"claude-sonnet-4-6":{"inputTokens":60,"cacheReadInputTokens":40,"cacheCreationInputTokens":0,"outputTokens":20,"costUSD":0.61}},"errors":["Reached maximum budget ($0.5)"]}"#,
        ]);
        assert_eq!(
            events,
            vec![
                AssistantEvent::Stopped {
                    limit: Limit::Turns,
                    usage: None,
                    cost_usd: None
                },
                AssistantEvent::Stopped {
                    limit: Limit::Budget,
                    usage: Some(Usage {
                        input: 100,
                        output: 20
                    }),
                    cost_usd: Some(0.61)
                },
            ]
        );
    }

    #[test]
    fn unknown_shapes_are_skipped_without_panicking() {
        let events = parse(&[
            r#"{"type":"assistant"}"#,
            r#"{"type":"assistant","message":{"content":"text instead of blocks"}}"#,
            r#"{"type":"assistant","message":{"content":[{"type":"thinking","thinking":"x"},{"type":"tool_use"}]}}"#,
            r#"{"type":"stream_event","event":{}}"#,
            r#"{"type":"result","result":"ok","usage":{"input_tokens":"many"}}"#,
        ]);
        assert_eq!(
            events,
            vec![AssistantEvent::Finished {
                final_text: "ok".into(),
                usage: None,
                cost_usd: None
            }]
        );
    }
}
