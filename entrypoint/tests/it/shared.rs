//! What these tests and the doubles' stories (`tests/tests/it`, which include this file by path:
//! they cannot reach this crate's test modules otherwise) both need: a [`RunSpec`] where what a
//! test does not set is the same in all of them, and the check of a test re-run in a child
//! process (its own network namespace, or other variables).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use entrypoint::agent::Assistant;
use entrypoint::agent::run::{ApiConfig, Provider, RunSpec};
use entrypoint::proxy::{ModelApi, Upstream};
use entrypoint::secret::Secret;

/// `test`, run again as `out` in its `place` (a namespace, a child), passed there: it ran,
/// not just a filter that matched nothing. The child's output goes to this test's log.
pub(crate) fn assert_child_test_passed(out: &Output, test: &str, place: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the test failed in its {place}");
    assert!(
        stdout.contains(&format!("test {test} ... ok")) && stdout.contains("1 passed"),
        "the test did not run in its {place}"
    );
}

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
