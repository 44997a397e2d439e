//! The real Codex CLI (pinned in `images/images.toml`) against the OpenAI Responses double.
//!
//! The first run installs the CLI from npm into the user cache (about 15 s); later runs reuse it.

use std::path::Path;
use std::time::Duration;

use crate::support::cli::{cli_command, run_reported};
use doubles::model::cli::{CODEX_QUIET_CONFIG, Cli, Finished};
use doubles::model::{
    ApiError, Expectation, Fault, ModelDouble, Script, ToolCall, Turn, Usage, openai,
};
use serde_json::Value;

/// Far above a healthy run (under 2 s here) and above Codex's 25 s of retries on a 500.
const RUN_LIMIT: Duration = Duration::from_secs(90);
const API_KEY: &str = "sk-test-key-0002";
/// A model name Codex knows, so it advertises `apply_patch`.
const KNOWN_MODEL: &str = "gpt-5.5";

/// Settings that make Codex give up on the first failed request or stream, for the
/// failure stories.
const NO_RETRIES: &str = ",request_max_retries=0,stream_max_retries=0";

/// `codex exec --json`, unsandboxed and quiet, in `work` with `home` as its home; the caller
/// adds the provider, the model and the prompt.
async fn codex_exec(home: &Path, work: &Path) -> tokio::process::Command {
    let mut command = cli_command(Cli::Codex, home).await;
    command
        .current_dir(work)
        .env("OPENAI_API_KEY", API_KEY)
        .args([
            "exec",
            "--json",
            "--dangerously-bypass-approvals-and-sandbox",
        ]);
    for setting in CODEX_QUIET_CONFIG {
        command.arg("-c").arg(setting);
    }
    command
}

/// The one `turn.failed` event of a run that failed.
fn failed_turn(finished: &Finished) -> Value {
    assert!(!finished.status.success());
    let failed = events_of(finished, "turn.failed");
    assert_eq!(failed.len(), 1, "{}", finished.stdout);
    failed[0].clone()
}

/// `codex exec --json` in `work` with a provider pointing at `double`; `provider_extra` adds
/// keys to the provider table.
async fn run_codex(
    double: &ModelDouble,
    home: &Path,
    work: &Path,
    model: &str,
    provider_extra: &str,
) -> Finished {
    let mut command = codex_exec(home, work).await;
    command
        .arg("-c")
        .arg(r#"model_provider="local""#)
        .arg("-c")
        .arg(format!(
            r#"model_providers.local={{name="local",base_url="{}/v1",env_key="OPENAI_API_KEY",wire_api="responses"{provider_extra}}}"#,
            double.base_url()
        ))
        .args(["-m", model, "Do the task."]);
    run_reported(Cli::Codex, &mut command, RUN_LIMIT).await
}

/// A run with [`KNOWN_MODEL`] that must succeed, having played the script out exactly.
async fn run_codex_ok(double: &ModelDouble, home: &Path, work: &Path) -> Finished {
    let finished = run_codex(double, home, work, KNOWN_MODEL, "").await;
    assert!(finished.status.success(), "stdout:\n{}", finished.stdout);
    assert_eq!(double.problems(), Vec::<String>::new());
    finished
}

fn events_of(finished: &Finished, kind: &str) -> Vec<Value> {
    finished
        .json_lines()
        .into_iter()
        .filter(|event| event["type"] == kind)
        .collect()
}

fn completed_items(finished: &Finished, item_type: &str) -> Vec<Value> {
    events_of(finished, "item.completed")
        .into_iter()
        .map(|event| event["item"].clone())
        .filter(|item| item["type"] == item_type)
        .collect()
}

#[tokio::test]
async fn codex_applies_a_patch_then_reports_the_final_message_and_usage() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let script = Script::new()
        .then(
            Turn::tool_call(ToolCall::write_file(
                "call_patch_1",
                "hello.txt",
                "hello from the double\nsecond line\n",
            ))
            .with_usage(Usage::new(1000, 30)),
        )
        .then(
            Turn::text("Added hello.txt.")
                .expecting(Expectation::ToolOutputFor("call_patch_1".into()))
                .with_usage(Usage::new(1500, 40)),
        );
    let double = openai::start(script).await.unwrap();

    let finished = run_codex_ok(&double, home.path(), work.path()).await;

    assert_eq!(
        std::fs::read_to_string(work.path().join("hello.txt")).unwrap(),
        "hello from the double\nsecond line\n"
    );

    let calls = double.model_calls();
    assert_eq!(calls.len(), 2, "one call per turn");
    for call in &calls {
        assert!(call.wants_stream());
        assert_eq!(call.credential(), Some(API_KEY));
        assert_eq!(call.model(), Some(KNOWN_MODEL));
        assert!(call.contains(&format!("<cwd>{}</cwd>", work.path().display())));
    }
    assert!(
        calls[0].contains(r#""name":"apply_patch""#) || calls[0].body.contains("apply_patch"),
        "Codex advertises apply_patch for {KNOWN_MODEL}"
    );
    let outputs = calls[1].tool_outputs();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(outputs[0].call_id, "call_patch_1");
    assert!(outputs[0].text.contains("hello.txt"), "{}", outputs[0].text);

    let changes = completed_items(&finished, "file_change");
    assert_eq!(changes.len(), 1, "{}", finished.stdout);
    assert_eq!(changes[0]["changes"][0]["kind"], "add");
    let messages = completed_items(&finished, "agent_message");
    assert_eq!(messages.last().unwrap()["text"], "Added hello.txt.");
    let turn = events_of(&finished, "turn.completed");
    assert_eq!(turn.len(), 1);
    assert_eq!(turn[0]["usage"]["input_tokens"], 2500);
    assert_eq!(turn[0]["usage"]["output_tokens"], 70);
}

#[tokio::test]
async fn codex_edits_a_file_and_runs_a_command_whose_output_reaches_the_model() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("notes.txt"), "one\ntwo\n").unwrap();
    let script = Script::new()
        .then(Turn::tool_call(ToolCall::edit_file(
            "call_edit_1",
            "notes.txt",
            "two",
            "three",
        )))
        .then(
            Turn::tool_call(ToolCall::shell("call_cat_1", "cat notes.txt"))
                .expecting(Expectation::ToolOutputFor("call_edit_1".into())),
        )
        .then(
            Turn::text("notes.txt now ends with three.")
                .expecting(Expectation::ToolOutputFor("call_cat_1".into())),
        );
    let double = openai::start(script).await.unwrap();

    let finished = run_codex_ok(&double, home.path(), work.path()).await;

    assert_eq!(
        std::fs::read_to_string(work.path().join("notes.txt")).unwrap(),
        "one\nthree\n"
    );
    let last = double.model_calls().pop().unwrap();
    let cat = last
        .tool_outputs()
        .into_iter()
        .find(|o| o.call_id == "call_cat_1")
        .unwrap();
    assert!(cat.text.contains("one\nthree"), "{}", cat.text);
    let commands = completed_items(&finished, "command_execution");
    assert_eq!(commands.len(), 1, "{}", finished.stdout);
    assert_eq!(commands[0]["exit_code"], 0);
}

#[tokio::test]
async fn codex_fails_after_one_request_on_a_500_when_provider_retries_are_off() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let script = Script::new()
        .then(Turn::fault(Fault::Status(ApiError::new(500, "Internal server error"))).times(40));
    let double = openai::start(script).await.unwrap();

    let finished = run_codex(&double, home.path(), work.path(), KNOWN_MODEL, NO_RETRIES).await;

    failed_turn(&finished);
    assert!(
        finished.elapsed < Duration::from_secs(20),
        "{:?}",
        finished.elapsed
    );
    assert_eq!(double.model_calls().len(), 1);
}

#[tokio::test]
async fn codex_reports_a_dropped_stream_as_a_failed_turn() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let double = openai::start(Script::new().then(Turn::fault(Fault::DropStream)))
        .await
        .unwrap();

    let finished = run_codex(&double, home.path(), work.path(), KNOWN_MODEL, NO_RETRIES).await;

    let failed = failed_turn(&finished);
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stream disconnected"),
        "{}",
        finished.stdout
    );
}

#[tokio::test]
async fn codex_names_the_missing_model_when_o4_mini_is_gone() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let double = openai::start(Script::new().unknown_model("o4-mini"))
        .await
        .unwrap();

    let finished = run_codex(&double, home.path(), work.path(), "o4-mini", "").await;

    let failed = failed_turn(&finished);
    assert!(
        finished.elapsed < Duration::from_secs(20),
        "{:?}",
        finished.elapsed
    );
    let calls = double.model_calls();
    assert_eq!(calls.len(), 1, "Codex does not retry a 404");
    assert_eq!(calls[0].model(), Some("o4-mini"));
    assert_eq!(
        failed["error"]["message"],
        "The model `o4-mini` does not exist or you do not have access to it."
    );
}

#[tokio::test]
async fn codex_with_the_built_in_provider_falls_back_to_http_when_the_websocket_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let double = openai::start(Script::new().then(Turn::text("Over HTTP.")))
        .await
        .unwrap();
    let mut command = codex_exec(home.path(), work.path()).await;
    command
        .arg("-c")
        .arg(format!(r#"openai_base_url="{}/v1""#, double.base_url()))
        .args(["-m", KNOWN_MODEL, "Do the task."]);

    let finished = run_reported(Cli::Codex, &mut command, RUN_LIMIT).await;

    assert!(
        finished.status.success(),
        "{}\n{}",
        finished.stdout,
        finished.stderr
    );
    let requests = double.requests();
    assert_eq!(requests[0].header("upgrade"), Some("websocket"));
    assert_eq!(requests[0].path, "/v1/responses");
    assert!(requests[1].is_model_call());
    assert_eq!(
        completed_items(&finished, "agent_message")[0]["text"],
        "Over HTTP."
    );
}
