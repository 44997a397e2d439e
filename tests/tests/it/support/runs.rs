//! What the stories that call `agent::run` directly (with a real CLI and a model double)
//! share: the spec they start from and the check of a test re-run in a child process, both the
//! `entrypoint` tests' own (one file, included by path), and the model API each CLI speaks.

use entrypoint::agent::Assistant;
use entrypoint::proxy::ModelApi;

#[path = "../../../../entrypoint/tests/it/shared.rs"]
mod shared;

pub(crate) use shared::{assert_child_test_passed, spec};

/// The model API `assistant`'s CLI speaks, and its base URL on the model double at `server`
/// (the OpenAI API is under `/v1`).
pub fn api_of(assistant: Assistant, server: &str) -> (ModelApi, String) {
    match assistant {
        Assistant::Claude => (ModelApi::Anthropic, server.to_owned()),
        Assistant::Codex => (ModelApi::OpenAi, format!("{server}/v1")),
    }
}
