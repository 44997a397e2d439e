//! One run's usage record: who asked, where, which model, tokens, cost, outcome, duration.
//!
//! It is written twice: as the job artifact `ai-usage.json` (the audit trail, kept as long as
//! the project keeps artifacts), and, in short, as a hidden line in the bot's answer
//! ([`UsageLine`]), so later runs can sum what was spent from the answers themselves without a
//! database or a service of their own.

use serde::{Deserialize, Serialize};

use ai_core::assistant::Assistant;

/// The opening of the usage line. It starts like every marker of ours, so the neutraliser of
/// model text (`publish::text::defuse_markers`) defuses a forged one the model writes into its
/// answer, and only the line the entrypoint appends survives.
const LINE_PREFIX: &str = "<!-- gitlab-ai-assistant:usage ";
const LINE_SUFFIX: &str = " -->";

/// A per-run limit the run can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `AI_MAX_BUDGET_USD`: the dollars the run may spend on the model API.
    Budget,
    /// `AI_MAX_TURNS`: the model calls (Claude: agentic turns) the run may make.
    Turns,
}

impl Limit {
    /// The variable that sets the limit, for the answer's advice.
    pub fn variable(self) -> &'static str {
        match self {
            Self::Budget => crate::env::AI_MAX_BUDGET_USD.name(),
            Self::Turns => crate::env::AI_MAX_TURNS.name(),
        }
    }
}

/// Tokens used by the whole run. `input` counts every prompt token, cached or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
}

/// How a run ended, for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Answered,
    /// Stopped at `AI_MAX_BUDGET_USD` or `AI_MAX_TURNS`, with what it did published.
    Stopped,
    Failed,
}

/// The artifact `ai-usage.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRecord {
    pub assistant: Assistant,
    /// The username of whoever asked (`None`: an automation run, or a trigger without an author).
    pub requester: Option<String>,
    /// `group/project`.
    pub project: String,
    /// `issue` or `merge_request`, `None` for a run that answered nowhere.
    pub noteable_type: Option<String>,
    pub noteable_iid: Option<u64>,
    /// The note that asked.
    pub note_id: Option<u64>,
    pub model: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// Claude's own figure; for Codex the key proxy's estimate ([`super::price`]).
    pub cost_usd: Option<f64>,
    pub outcome: RunOutcome,
    pub duration_seconds: f64,
    /// `CI_JOB_ID`, where the transcript and the log are.
    pub job_id: Option<u64>,
    /// When the run ended (RFC 3339, UTC).
    pub finished_at: String,
}

/// The short form in the answer: what a later run needs to sum spending and count requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageLine {
    /// Format version.
    pub v: u32,
    /// Who asked.
    pub by: Option<String>,
    pub usd: Option<f64>,
    #[serde(rename = "in")]
    pub input: Option<u64>,
    pub out: Option<u64>,
    pub outcome: RunOutcome,
}

impl UsageLine {
    pub fn of(record: &UsageRecord) -> Self {
        Self {
            v: 1,
            by: record.requester.clone(),
            usd: record.cost_usd,
            input: record.input_tokens,
            out: record.output_tokens,
            outcome: record.outcome,
        }
    }

    /// The hidden line. `>` is escaped inside the JSON so no value can close the comment.
    pub fn render(&self) -> String {
        let json = serde_json::to_string(self)
            .unwrap_or_else(|_| unreachable!("a struct of plain fields always serializes"))
            .replace('>', "\\u003e");
        format!("{LINE_PREFIX}{json}{LINE_SUFFIX}")
    }

    /// The usage line in a note body, if it has one (the last one: the entrypoint appends its
    /// line after everything else).
    pub fn find(body: &str) -> Option<Self> {
        let start = body.rfind(LINE_PREFIX)? + LINE_PREFIX.len();
        let rest = &body[start..];
        let json = &rest[..rest.find(LINE_SUFFIX)?];
        serde_json::from_str(json).ok()
    }
}

impl UsageRecord {
    /// Tokens as the record holds them.
    pub(crate) fn set_usage(&mut self, usage: Option<Usage>) {
        self.input_tokens = usage.map(|u| u.input);
        self.output_tokens = usage.map(|u| u.output);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_round_trips_and_cannot_be_closed_early() {
        let line = UsageLine {
            v: 1,
            by: Some("dana-->x".into()),
            usd: Some(0.0123),
            input: Some(1110),
            out: Some(70),
            outcome: RunOutcome::Stopped,
        };
        let rendered = line.render();
        assert_eq!(rendered.matches("-->").count(), 1, "{rendered}");
        assert!(rendered.starts_with("<!-- gitlab-ai-assistant:usage {"));
        let body = format!("Answer\n\n{rendered}\n<!-- gitlab-ai-assistant:claude:result -->");
        assert_eq!(UsageLine::find(&body), Some(line));
        assert_eq!(UsageLine::find("no line here"), None);
        assert_eq!(
            UsageLine::find("<!-- gitlab-ai-assistant:usage {broken -->"),
            None
        );
    }
}
