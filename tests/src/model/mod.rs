//! Scripted doubles of the two model APIs the assistant CLIs call, good enough for the real
//! `claude` and `codex` binaries to run against them end to end, and an installer for those
//! binaries.
//!
//! A test writes one [`Script`] (turns of text, tool calls and faults), starts
//! [`anthropic::start`] or [`openai::start`] with it, points the CLI at
//! [`ModelDouble::base_url`], and afterwards reads [`ModelDouble::requests`] to check what the
//! CLI sent.

pub mod anthropic;
pub mod cli;
pub mod openai;
mod recorded;
mod script;
mod server;
mod sse;

pub use recorded::{RecordedRequest, ToolOutput};
pub use script::{ApiError, Expectation, Fault, Reply, Script, ToolAction, ToolCall, Turn, Usage};
pub use server::{Api, ModelDouble};
