//! The redacted transcript of one run: one JSON object per line for each step the assistant
//! took (tool calls with their one-line summary, its messages, how it ended), with the
//! milliseconds since the run started. The same [`crate::redact::Redactor`] as every note runs
//! over each line, and tool inputs and outputs (whole files, command output) are never in it,
//! as they are never in the job log.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use serde_json::json;

use crate::agent::Assistant;
use crate::agent::events::AssistantEvent;
use crate::agent::run::Outcome;
use crate::redact::Redactor;

/// At most this many bytes are kept; later steps are counted, not kept.
const LIMIT_BYTES: usize = 8 * 1024 * 1024;

/// The steps of one run, kept in memory until the run ends.
#[derive(Debug)]
pub struct Transcript {
    started: Instant,
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    lines: Vec<String>,
    bytes: usize,
    dropped: usize,
}

impl Default for Transcript {
    fn default() -> Self {
        Self::new()
    }
}

impl Transcript {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            kept: Mutex::new(Kept::default()),
        }
    }

    /// Records the stop of a Codex run the key proxy ended at its limit. Codex never reports a
    /// stop: the proxy refused its next model call, which Codex reports as a failure; the
    /// transcript ends with the stop all the same. (Claude reports its own stop as an event.)
    /// Any assistant the key proxy meters (`Agent::metered_by_proxy`) is
    /// recorded so.
    pub(crate) fn record_codex_stop(
        &self,
        assistant: Assistant,
        outcome: &Outcome,
        redactor: &Redactor,
    ) {
        if crate::agent::agent(assistant).metered_by_proxy()
            && let Outcome::LimitReached {
                limit,
                usage,
                cost_usd,
                ..
            } = outcome
        {
            self.record(
                &AssistantEvent::Stopped {
                    limit: *limit,
                    usage: *usage,
                    cost_usd: *cost_usd,
                },
                redactor,
            );
        }
    }

    /// Adds one step, redacted.
    pub fn record(&self, event: &AssistantEvent, redactor: &Redactor) {
        let at_ms = self.started.elapsed().as_millis() as u64;
        let redact = |text: &str| redactor.redact(text);
        let value = match event {
            AssistantEvent::ToolCall { name, summary } => {
                json!({"at_ms": at_ms, "step": "tool_call", "tool": redact(name), "summary": redact(summary)})
            }
            AssistantEvent::Message { text } => {
                json!({"at_ms": at_ms, "step": "message", "text": redact(text)})
            }
            AssistantEvent::Finished {
                final_text,
                usage,
                cost_usd,
            } => json!({
                "at_ms": at_ms, "step": "finished", "text": redact(final_text),
                "input_tokens": usage.map(|u| u.input), "output_tokens": usage.map(|u| u.output),
                "cost_usd": cost_usd,
            }),
            AssistantEvent::Failed { message } => {
                json!({"at_ms": at_ms, "step": "failed", "message": redact(message)})
            }
            AssistantEvent::Structured { value } => {
                json!({"at_ms": at_ms, "step": "structured_output", "text": redact(&value.to_string())})
            }
            AssistantEvent::Stopped {
                limit,
                usage,
                cost_usd,
            } => json!({
                "at_ms": at_ms, "step": "stopped", "limit": limit.variable(),
                "input_tokens": usage.map(|u| u.input), "output_tokens": usage.map(|u| u.output),
                "cost_usd": cost_usd,
            }),
        };
        let line = value.to_string();
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.bytes + line.len() > LIMIT_BYTES {
            kept.dropped += 1;
            return;
        }
        kept.bytes += line.len() + 1;
        kept.lines.push(line);
    }

    /// The JSON Lines file; a last line counts the steps left out past the size limit.
    pub(crate) fn to_jsonl(&self) -> String {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let mut text = String::with_capacity(kept.bytes + 64);
        for line in &kept.lines {
            text.push_str(line);
            text.push('\n');
        }
        if kept.dropped > 0 {
            text.push_str(&json!({"step": "omitted", "count": kept.dropped}).to_string());
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Handles;

    #[test]
    fn steps_are_redacted_json_lines() {
        let mut redactor = Redactor::new(Handles::default());
        redactor.add_secret("glpat-SECRETSECRETSECRET");
        let transcript = Transcript::new();
        transcript.record(
            &AssistantEvent::ToolCall {
                name: "Bash".into(),
                summary: "curl -H glpat-SECRETSECRETSECRET".into(),
            },
            &redactor,
        );
        transcript.record(
            &AssistantEvent::Message {
                text: "done".into(),
            },
            &redactor,
        );
        let text = transcript.to_jsonl();
        assert!(!text.contains("glpat-SECRETSECRETSECRET"), "{text}");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["step"], "tool_call");
        assert_eq!(lines[0]["tool"], "Bash");
        assert_eq!(lines[1]["text"], "done");
    }
}
