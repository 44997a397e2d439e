//! The real Claude Code CLI (pinned in `images/images.toml`) against the Anthropic double.
//!
//! The first run installs the CLI from npm into the user cache (about 15 s); later runs reuse it.

use std::path::Path;
use std::time::Duration;

use crate::support::cli::{cli_command, run_reported};
use doubles::model::cli::{Cli, Finished};
use doubles::model::{
    ApiError, Expectation, Fault, ModelDouble, Script, ToolCall, Turn, Usage, anthropic,
};
use serde_json::Value;

/// Far above a healthy run (under 2 s here) and far below Claude's minutes of retries.
const RUN_LIMIT: Duration = Duration::from_secs(90);
const API_KEY: &str = "sk-ant-test-key-0001";

/// `claude -p PROMPT` in `work`, headless, with edits allowed, talking only to `double`.
async fn run_claude(
    double: &ModelDouble,
    home: &Path,
    work: &Path,
    extra_args: &[&str],
    envs: &[(&str, &str)],
) -> Finished {
    let mut command = cli_command(Cli::Claude, home).await;
    command
        .current_dir(work)
        .env("ANTHROPIC_BASE_URL", double.base_url())
        .env("ANTHROPIC_API_KEY", API_KEY)
        .envs(envs.iter().copied())
        .args([
            "-p",
            "Do the task.",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "bypassPermissions",
        ])
        .args(extra_args);
    run_reported(Cli::Claude, &mut command, RUN_LIMIT).await
}

fn result_event(finished: &Finished) -> Value {
    finished
        .json_lines()
        .into_iter()
        .rfind(|event| event["type"] == "result")
        .unwrap_or_else(|| panic!("no result event in:\n{}", finished.stdout))
}

#[tokio::test]
async fn claude_writes_a_file_then_reports_the_final_text_and_usage() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let target = work.path().join("hello.txt");
    let script = Script::new()
        .then(
            Turn::tool_call(ToolCall::write_file(
                "toolu_write_1",
                &target,
                "hello from the double\n",
            ))
            .with_text("I will write the file.")
            .with_usage(Usage::new(1000, 30)),
        )
        .then(
            Turn::text("Wrote hello.txt.")
                .expecting(Expectation::ToolOutputFor("toolu_write_1".into()))
                .with_usage(Usage::new(1500, 40)),
        );
    let double = anthropic::start(script).await.unwrap();

    let finished = run_claude(
        &double,
        home.path(),
        work.path(),
        &["--model", "claude-sonnet-4-6"],
        &[],
    )
    .await;

    assert!(finished.status.success(), "stdout:\n{}", finished.stdout);
    assert_eq!(double.problems(), Vec::<String>::new());
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "hello from the double\n"
    );

    let calls = double.model_calls();
    assert_eq!(calls.len(), 2, "one call per turn");
    for call in &calls {
        assert_eq!(call.query.as_deref(), Some("beta=true"));
        assert!(call.wants_stream());
        assert_eq!(call.credential(), Some(API_KEY));
        assert_eq!(call.model(), Some("claude-sonnet-4-6"));
        assert!(call.contains(&format!(
            "Primary working directory: {}",
            work.path().display()
        )));
    }
    let outputs = calls[1].tool_outputs();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(outputs[0].call_id, "toolu_write_1");
    assert!(outputs[0].text.contains("hello.txt"), "{}", outputs[0].text);

    let result = result_event(&finished);
    assert_eq!(result["is_error"], false);
    assert_eq!(result["result"], "Wrote hello.txt.");
    assert_eq!(result["num_turns"], 2);
    assert_eq!(result["usage"]["input_tokens"], 2500);
    assert_eq!(result["usage"]["output_tokens"], 70);
}

#[tokio::test]
async fn claude_shell_output_reaching_the_model_is_seen_in_the_recorded_requests() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let canary = "canary-7f3a9c1e-never-send-me";
    let script = Script::new()
        .then(Turn::tool_call(ToolCall::shell(
            "toolu_env_1",
            "printenv GITLAB_AI_TEST_CANARY",
        )))
        .then(
            Turn::text("I printed it.").expecting(Expectation::ToolOutputFor("toolu_env_1".into())),
        );
    let double = anthropic::start(script).await.unwrap();

    let finished = run_claude(
        &double,
        home.path(),
        work.path(),
        &[],
        &[("GITLAB_AI_TEST_CANARY", canary)],
    )
    .await;

    assert!(finished.status.success(), "stdout:\n{}", finished.stdout);
    assert_eq!(double.problems(), Vec::<String>::new());
    let calls = double.model_calls();
    assert!(
        !calls[0].contains(canary),
        "the environment must not be in the prompt"
    );
    let outputs = calls[1].tool_outputs();
    assert!(
        outputs.iter().any(|o| o.text.contains(canary)),
        "the Bash result carries the variable's value: {outputs:?}"
    );
    assert!(double.requests().iter().any(|r| r.contains(canary)));
}

#[tokio::test]
async fn claude_stops_after_one_request_on_a_500_marked_not_retryable() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let script = Script::new().then(
        Turn::fault(Fault::Status(
            ApiError::new(500, "Internal server error").should_retry(false),
        ))
        .times(20),
    );
    let double = anthropic::start(script).await.unwrap();

    let finished = run_claude(&double, home.path(), work.path(), &[], &[]).await;

    assert!(!finished.status.success());
    assert!(
        finished.elapsed < Duration::from_secs(30),
        "{:?}",
        finished.elapsed
    );
    assert_eq!(double.model_calls().len(), 1);
    let result = result_event(&finished);
    assert_eq!(result["is_error"], true);
    assert_eq!(result["api_error_status"], 500);
    assert!(
        result["result"]
            .as_str()
            .unwrap()
            .contains("Internal server error"),
        "{result}"
    );
}

#[tokio::test]
async fn claude_names_the_model_problem_when_the_model_does_not_exist() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let retired = "claude-retired-1-0";
    let double = anthropic::start(Script::new().unknown_model(retired))
        .await
        .unwrap();

    let finished = run_claude(
        &double,
        home.path(),
        work.path(),
        &["--model", retired],
        &[],
    )
    .await;

    assert!(!finished.status.success());
    let calls = double.model_calls();
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|c| c.model() == Some(retired)));
    let result = result_event(&finished);
    assert_eq!(result["is_error"], true);
    assert_eq!(result["api_error_status"], 404);
    let text = result["result"].as_str().unwrap();
    assert!(
        text.contains(retired) && text.contains("may not exist"),
        "{text}"
    );
}

#[tokio::test]
async fn claude_reads_then_edits_a_file() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let notes = work.path().join("notes.txt");
    std::fs::write(&notes, "one\ntwo\n").unwrap();
    let script = Script::new()
        .then(Turn::tool_call(ToolCall::read_file("toolu_read_1", &notes)))
        .then(
            Turn::tool_call(ToolCall::edit_file("toolu_edit_1", &notes, "two", "three"))
                .expecting(Expectation::ToolOutputFor("toolu_read_1".into())),
        )
        .then(
            Turn::text("notes.txt now ends with three.")
                .expecting(Expectation::ToolOutputFor("toolu_edit_1".into())),
        );
    let double = anthropic::start(script).await.unwrap();

    let finished = run_claude(&double, home.path(), work.path(), &[], &[]).await;

    assert!(finished.status.success(), "stdout:\n{}", finished.stdout);
    assert_eq!(double.problems(), Vec::<String>::new());
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "one\nthree\n");
    let read = double.model_calls()[1]
        .tool_outputs()
        .into_iter()
        .find(|o| o.call_id == "toolu_read_1")
        .unwrap();
    assert!(read.text.contains("two"), "{}", read.text);
    assert_eq!(
        result_event(&finished)["result"],
        "notes.txt now ends with three."
    );
}
