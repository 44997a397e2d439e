//! A [`RunSpec`] as the tests build one: what a test does not set is the same in all of them.
//! The doubles' stories (`tests/tests/it`) include this file by path: they cannot reach this
//! crate's test modules otherwise, and their specs are the same struct literal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use entrypoint::agent::Assistant;
use entrypoint::agent::run::{ApiConfig, Provider, RunSpec};
use entrypoint::proxy::{ModelApi, Upstream};
use entrypoint::secret::Secret;

/// `program` told "Do the task." in `workspace`, its model API `api` at `base` with `key`: the
/// CLI's own model, no retries (a test's model answers each call once), two minutes, nothing
/// passed through. Tests change what they are about with struct update syntax.
pub(crate) fn spec(
    assistant: Assistant,
    program: PathBuf,
    workspace: &Path,
    (api, base): (ModelApi, &str),
    key: &str,
) -> RunSpec {
    RunSpec {
        options: Default::default(),
        assistant,
        program,
        extra_path: Vec::new(),
        workspace: workspace.to_owned(),
        prompt: "Do the task.".to_owned(),
        model: None,
        fallback_model: None,
        max_turns: None,
        max_budget_usd: None,
        price: None,
        max_retries: Some(0),
        timeout: Duration::from_secs(120),
        provider: Provider::Api(ApiConfig {
            upstream: Upstream::parse(api, base).expect("the model API's URL"),
            key: Secret::new(key),
        }),
        passthrough: Vec::new(),
    }
}
