//! What the scripted model answers: one [`Turn`] per model request, in order.
//!
//! The script is written once, in neutral terms (write this file, run this command, fail with
//! this status), and each API double renders it in its own wire format, so the same story can be
//! told to Claude Code and to Codex.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::model::recorded::RecordedRequest;

/// The ordered answers of the scripted model.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub(crate) turns: Vec<Turn>,
    pub(crate) unknown_models: Vec<String>,
}

impl Script {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the answer to the next model request.
    pub fn then(mut self, turn: Turn) -> Self {
        self.turns.push(turn);
        self
    }

    /// Answers every request for `model` with the API's "model not found" error (Anthropic
    /// `404 not_found_error`, OpenAI `404 model_not_found`) without using a turn, as the real
    /// APIs do for a retired or unknown model however often it is asked.
    pub fn unknown_model(mut self, model: impl Into<String>) -> Self {
        self.unknown_models.push(model.into());
        self
    }

    pub fn len(&self) -> usize {
        self.turns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }
}

/// The answer to one model request.
#[derive(Debug, Clone)]
pub struct Turn {
    pub(crate) reply: Reply,
    pub(crate) expect: Option<Expectation>,
    pub(crate) delay: Option<Duration>,
    pub(crate) usage: Usage,
    pub(crate) times: usize,
}

/// A successful assistant message or a failure.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Text (possibly empty) followed by tool calls; with no tool calls the turn ends the
    /// conversation (`end_turn` / a final `message` item).
    Message {
        text: String,
        tool_calls: Vec<ToolCall>,
    },
    Fault(Fault),
}

impl Turn {
    /// A final answer: text and no tool calls.
    pub fn text(text: impl Into<String>) -> Self {
        Self::from_reply(Reply::Message {
            text: text.into(),
            tool_calls: Vec::new(),
        })
    }

    /// A turn that asks the CLI to run one tool.
    pub fn tool_call(call: ToolCall) -> Self {
        Self::tool_calls(vec![call])
    }

    pub fn tool_calls(calls: Vec<ToolCall>) -> Self {
        Self::from_reply(Reply::Message {
            text: String::new(),
            tool_calls: calls,
        })
    }

    pub fn fault(fault: Fault) -> Self {
        Self::from_reply(Reply::Fault(fault))
    }

    fn from_reply(reply: Reply) -> Self {
        Self {
            reply,
            expect: None,
            delay: None,
            usage: Usage::default(),
            times: 1,
        }
    }

    /// Answers this many consecutive requests the same way (a fault that persists through a
    /// CLI's retries). Zero counts as one.
    pub fn times(mut self, times: usize) -> Self {
        self.times = times.max(1);
        self
    }

    /// Adds text before the tool calls of a message turn (no effect on a fault).
    pub fn with_text(mut self, new_text: impl Into<String>) -> Self {
        if let Reply::Message { text, .. } = &mut self.reply {
            *text = new_text.into();
        }
        self
    }

    /// Answers only a request that satisfies `expect`; any other request gets an error and is
    /// reported by [`crate::model::ModelDouble::problems`].
    pub fn expecting(mut self, expect: Expectation) -> Self {
        self.expect = Some(expect);
        self
    }

    /// Waits before answering (a slow model, or a CLI timeout test).
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Token counts reported for this turn.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }
}

/// Token counts the double reports, so tests can check that usage reaches the job log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    /// `input_tokens` read and `output_tokens` written.
    pub const fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
        }
    }
}

impl Default for Usage {
    fn default() -> Self {
        Self::new(100, 20)
    }
}

/// One tool invocation, with the id the CLI echoes back in its tool output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    pub action: ToolAction,
}

/// What the model asks for, independent of the API.
///
/// Claude renders these as its built-in tools (`Write`, `Edit`, `Read`, `Bash`), which want
/// absolute paths; Codex renders file changes as an `apply_patch` custom tool call (paths
/// relative to its working directory, or absolute) and the rest as an `exec_command` function
/// call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolAction {
    /// Creates (or replaces) a file.
    WriteFile {
        path: PathBuf,
        content: String,
    },
    /// Replaces `old` by `new`; for Codex both must be whole lines.
    EditFile {
        path: PathBuf,
        old: String,
        new: String,
    },
    ReadFile {
        path: PathBuf,
    },
    Shell {
        command: String,
    },
    /// A tool by its Claude name with its JSON input, for tools without a neutral form.
    ClaudeTool {
        name: String,
        input: serde_json::Value,
    },
    /// A Responses API `function_call` with JSON arguments.
    CodexFunction {
        name: String,
        arguments: serde_json::Value,
    },
    /// A Responses API `function_call` of a tool in a namespace (Codex groups an MCP server's
    /// tools in the namespace `mcp__<server>`).
    CodexNamespacedFunction {
        namespace: String,
        name: String,
        arguments: serde_json::Value,
    },
    /// A Responses API `custom_tool_call` with free-form input.
    CodexCustom {
        name: String,
        input: String,
    },
}

impl ToolCall {
    pub fn new(id: impl Into<String>, action: ToolAction) -> Self {
        Self {
            id: id.into(),
            action,
        }
    }

    pub fn write_file(
        id: impl Into<String>,
        path: impl Into<PathBuf>,
        content: impl Into<String>,
    ) -> Self {
        Self::new(
            id,
            ToolAction::WriteFile {
                path: path.into(),
                content: content.into(),
            },
        )
    }

    pub fn edit_file(
        id: impl Into<String>,
        path: impl Into<PathBuf>,
        old: impl Into<String>,
        new: impl Into<String>,
    ) -> Self {
        Self::new(
            id,
            ToolAction::EditFile {
                path: path.into(),
                old: old.into(),
                new: new.into(),
            },
        )
    }

    pub fn read_file(id: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self::new(id, ToolAction::ReadFile { path: path.into() })
    }

    pub fn shell(id: impl Into<String>, command: impl Into<String>) -> Self {
        Self::new(
            id,
            ToolAction::Shell {
                command: command.into(),
            },
        )
    }
}

/// A failure the double produces instead of an answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An HTTP error with the API's error body.
    Status(ApiError),
    /// Sends the first stream event, then resets the connection mid-stream.
    DropStream,
}

/// An HTTP error status, rendered with the API's error body and headers.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    /// The `x-should-retry` header for the Anthropic double; `None` follows what Anthropic's
    /// API does (`false` for 4xx other than 408/409/429, `true` otherwise). Codex ignores it.
    pub should_retry: Option<bool>,
    /// A `Retry-After` header in seconds, as both APIs send on rate limits (Anthropic:
    /// <https://docs.anthropic.com/en/api/rate-limits#response-headers>).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            should_retry: None,
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn should_retry(mut self, retry: bool) -> Self {
        self.should_retry = Some(retry);
        self
    }

    pub(crate) fn retry_header(&self) -> bool {
        let client_error = (400..500).contains(&self.status);
        let retryable_client_error = [408, 409, 429].contains(&self.status);
        self.should_retry
            .unwrap_or(!client_error || retryable_client_error)
    }
}

/// A condition on the request a turn answers.
#[derive(Clone)]
pub enum Expectation {
    /// The request carries the CLI's output for this tool call id (`tool_result`,
    /// `function_call_output` or `custom_tool_call_output`).
    ToolOutputFor(String),
    /// The request (headers or body) contains this text.
    Contains(String),
    Custom {
        description: String,
        check: Arc<dyn Fn(&RecordedRequest) -> bool + Send + Sync>,
    },
}

impl Expectation {
    pub fn custom(
        description: impl Into<String>,
        check: impl Fn(&RecordedRequest) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self::Custom {
            description: description.into(),
            check: Arc::new(check),
        }
    }

    pub(crate) fn holds(&self, request: &RecordedRequest) -> bool {
        match self {
            Self::ToolOutputFor(id) => request.tool_outputs().iter().any(|o| &o.call_id == id),
            Self::Contains(text) => request.contains(text),
            Self::Custom { check, .. } => check(request),
        }
    }
}

impl fmt::Debug for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ToolOutputFor(id) => write!(f, "the output of tool call {id}"),
            Self::Contains(text) => write!(f, "the text {text:?}"),
            Self::Custom { description, .. } => f.write_str(description),
        }
    }
}
