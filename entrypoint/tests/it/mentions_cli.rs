//! `entrypoint mentions`, run as a user or a CI rule runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn entrypoint() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_entrypoint"));
    command
        .arg("mentions")
        .env_remove("AI_CLAUDE_HANDLE")
        .env_remove("AI_CODEX_HANDLE");
    command
}

fn with_stdin(mut command: Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let written = child.stdin.take().unwrap().write_all(input.as_bytes());
    // A command that fails on its flags exits before reading its input.
    if let Err(error) = written {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn note_on_stdin_prints_one_json_line() {
    let output = with_stdin(entrypoint(), "@claude please fix this\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "{\"mentions\":[{\"assistant\":\"claude\",\"instruction\":\"please fix this\"}]}\n"
    );
}

#[test]
fn note_without_mentions_prints_an_empty_list_and_succeeds() {
    let output = with_stdin(entrypoint(), "`@claude` is only code here\n");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "{\"mentions\":[]}\n");
}

#[test]
fn note_from_a_file_with_both_assistants() {
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("note.md");
    std::fs::write(&note, "@codex @claude compare \"a\" and b\n").unwrap();
    let output = entrypoint().arg("--text-file").arg(&note).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"mentions": [
            {"assistant": "claude", "instruction": "compare \"a\" and b"},
            {"assistant": "codex", "instruction": "compare \"a\" and b"},
        ]})
    );
}

#[test]
fn handles_come_from_flags_or_variables() {
    let mut by_flag = entrypoint();
    by_flag.args(["--claude-handle", "ai-bot"]);
    let output = with_stdin(by_flag, "@AI-bot go; @claude stay\n");
    assert_eq!(
        stdout(&output),
        "{\"mentions\":[{\"assistant\":\"claude\",\"instruction\":\"go; @claude stay\"}]}\n"
    );

    let mut by_variable = entrypoint();
    by_variable.env("AI_CODEX_HANDLE", "@helper");
    let output = with_stdin(by_variable, "@helper review\n");
    assert_eq!(
        stdout(&output),
        "{\"mentions\":[{\"assistant\":\"codex\",\"instruction\":\"review\"}]}\n"
    );
}

#[test]
fn invalid_handle_is_a_usage_error_naming_the_setting() {
    let mut command = entrypoint();
    command.env("AI_CLAUDE_HANDLE", "claude.");
    let output = with_stdin(command, "@claude hi\n");
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("AI_CLAUDE_HANDLE"), "{message}");
    assert!(message.contains("\"claude.\""), "{message}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn same_handle_for_both_assistants_is_a_usage_error() {
    let mut command = entrypoint();
    command.args(["--claude-handle", "bot", "--codex-handle", "BOT"]);
    let output = with_stdin(command, "@bot hi\n");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1);
}

#[test]
fn unreadable_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-note.md");
    let output = entrypoint()
        .arg("--text-file")
        .arg(&missing)
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
    let message = stderr(&output);
    assert!(message.contains("no-such-note.md"), "{message}");
    assert!(stdout(&output).is_empty());
}
