//! One neutral event stream for both CLIs, so the orchestrator logs tool calls and reads the
//! final answer the same way whichever assistant ran.
//!
//! Each CLI's own format is read by its [`StreamParser`], which lives with the rest of what only
//! that CLI has (`agent/<name>/stream.rs`): this module knows the events, not the parsers.
//! Parsers ignore event kinds they do not know and lines that are not JSON, because the CLIs
//! add event kinds between releases and may print stray text.

use std::fmt;
use std::path::{Path, PathBuf};

// The limits and the token counts belong to the budget, which meters them; the events carry them.
pub use crate::budget::usage::{Limit, Usage};

/// Longest tool-call summary, in characters: one line of a job log.
const SUMMARY_CHARS: usize = 120;

/// Something the assistant did that the job log or the placeholder note should show.
#[derive(Debug, Clone, PartialEq)]
pub enum AssistantEvent {
    /// The assistant used a tool. `summary` is one short line (a path, a command's first
    /// line), never the tool's full input or output.
    ToolCall { name: String, summary: String },
    /// Text the model wrote to the user between tool calls, or as its answer.
    Message { text: String },
    /// The run ended normally with this answer.
    Finished {
        final_text: String,
        usage: Option<Usage>,
        cost_usd: Option<f64>,
    },
    /// The CLI reported that the run failed, with its reason.
    Failed { message: String },
    /// The structured result of a run given an output schema (`AI_OUTPUT_SCHEMA`): Claude's
    /// `structured_output`, reported just before [`AssistantEvent::Finished`]. Codex has no
    /// such field: its final answer is the JSON text itself.
    Structured { value: serde_json::Value },
    /// The run stopped at one of its limits (`AI_MAX_BUDGET_USD`, `AI_MAX_TURNS`): not a
    /// failure of the assistant, so the job publishes what it did so far.
    Stopped {
        limit: Limit,
        usage: Option<Usage>,
        cost_usd: Option<f64>,
    },
}

/// One CLI's output format: turns one JSON line into the events it carries. Implemented in
/// `agent/<name>/stream.rs`; it may keep state between lines (Codex reports a file change's
/// paths only when the item completes).
pub(crate) trait StreamParser: fmt::Debug + Send {
    /// The events in one line of the CLI's output, already parsed as JSON.
    fn events(
        &mut self,
        value: &serde_json::Value,
        summarize: &Summarizer<'_>,
    ) -> Vec<AssistantEvent>;
}

/// Reads one CLI's stdout, line by line, into [`AssistantEvent`]s.
#[derive(Debug)]
pub(crate) struct EventParser {
    workspace: Option<PathBuf>,
    format: Box<dyn StreamParser>,
}

impl EventParser {
    /// A reader of the output `format` describes (see [`crate::agent::event_parser`] for one
    /// assistant's). Paths inside `workspace` are shown relative to it.
    pub(crate) fn new(format: Box<dyn StreamParser>, workspace: Option<&Path>) -> Self {
        Self {
            workspace: workspace.map(Path::to_path_buf),
            format,
        }
    }

    /// The events in one line of output; none for blank lines, text that is not JSON and
    /// event kinds that carry nothing to report.
    pub(crate) fn parse_line(&mut self, line: &str) -> Vec<AssistantEvent> {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line.trim()) else {
            if !line.trim().is_empty() {
                tracing::debug!(line, "assistant output line is not JSON");
            }
            return Vec::new();
        };
        let summarize = Summarizer {
            workspace: self.workspace.as_deref(),
        };
        self.format.events(&value, &summarize)
    }
}

/// Turns a tool's input into one log line.
pub(crate) struct Summarizer<'a> {
    workspace: Option<&'a Path>,
}

impl Summarizer<'_> {
    /// `text`'s first line, paths in the workspace made relative, cut to one log line.
    pub(crate) fn line(&self, text: &str) -> String {
        let mut first = text.trim().lines().next().unwrap_or("").trim().to_owned();
        let more_lines = text.trim().lines().nth(1).is_some();
        if let Some(root) = self
            .workspace
            .and_then(Path::to_str)
            .filter(|r| !r.is_empty())
        {
            let root = root.trim_end_matches('/');
            first = first.replace(&format!("{root}/"), "");
            if first == root {
                first = ".".to_owned();
            }
        }
        let mut cut: String = first.chars().take(SUMMARY_CHARS).collect();
        if more_lines || cut.chars().count() < first.chars().count() {
            cut.push('…');
        }
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_one_short_line_relative_to_the_workspace() {
        let s = Summarizer {
            workspace: Some(Path::new("/builds/group/project")),
        };
        assert_eq!(s.line("/builds/group/project/src/main.rs"), "src/main.rs");
        assert_eq!(s.line("/builds/group/project"), ".");
        assert_eq!(s.line("cargo test\necho done"), "cargo test…");
        let long = "x".repeat(300);
        let cut = s.line(&long);
        assert_eq!(cut.chars().count(), SUMMARY_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(
            s.line("é".repeat(200).as_str()).chars().count(),
            SUMMARY_CHARS + 1
        );
    }

    #[test]
    fn garbage_and_blank_lines_yield_nothing() {
        for assistant in crate::agent::Assistant::ALL {
            let mut parser = crate::agent::event_parser(assistant, None);
            for line in [
                "",
                "   ",
                "not json",
                "{\"type\":",
                "[1,2]",
                "42",
                "{\"type\":\"brand.new\"}",
            ] {
                assert_eq!(parser.parse_line(line), Vec::new(), "{assistant}: {line:?}");
            }
        }
    }
}
