//! What the stories that call `agent::run` directly (with a real CLI and a model double)
//! share: the spec they start from, which is the `entrypoint` tests' own (one file, included
//! by path), and the model API each CLI speaks.

use entrypoint::agent::Assistant;
use entrypoint::proxy::ModelApi;

#[path = "../../../../entrypoint/tests/it/run_spec.rs"]
mod run_spec;

pub(crate) use run_spec::spec;

/// The model API `assistant`'s CLI speaks, and its base URL on the model double at `server`
/// (the OpenAI API is under `/v1`).
pub fn api_of(assistant: Assistant, server: &str) -> (ModelApi, String) {
    match assistant {
        Assistant::Claude => (ModelApi::Anthropic, server.to_owned()),
        Assistant::Codex => (ModelApi::OpenAi, format!("{server}/v1")),
    }
}
