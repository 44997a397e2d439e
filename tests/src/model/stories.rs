//! Scripts that more than one end-to-end suite tells: the same model turns drive `entrypoint
//! run` on the host (`tests/tests/it/run_mentions.rs`) and inside the built images
//! (`xtask/src/scenarios/in_image.rs`).

use std::path::Path;

use super::{Expectation, Script, ToolCall, Turn};
use crate::gitlab::double::GitLabDouble;
use crate::gitlab::repo::{FileChange, Signature};

/// The project's first commit on `main`, the greeting these stories fix: `greet.txt` with
/// "Hello wrold", by Dana; and a CI job token of `job_user` for the runner's checkout.
pub fn seed_greeting(gl: &GitLabDouble, project: u64, job_user: u64) -> anyhow::Result<String> {
    gl.repo(project)?.commit(
        "main",
        &[FileChange::write("greet.txt", "Hello wrold\n")],
        "Add greeting\n",
        &Signature::new("Dana Dev", "dana@example.com"),
    )?;
    gl.add_job_token(project, job_user)
}

/// What the model says once the typo is fixed.
pub const GREETING_FIXED: &str = "Fixed the typo in greet.txt.";

/// Claude reads `greet.txt` (its `Edit` tool requires a read first), fixes "Hello wrold", then
/// says so. `checkout` is the absolute checkout path as the CLI sees it.
pub fn claude_fixes_greeting(checkout: &Path) -> Script {
    claude_fix(Script::new(), checkout, None)
}

/// Codex patches `greet.txt` (relative to its working directory), then says so.
pub fn codex_fixes_greeting() -> Script {
    codex_fix(Script::new(), None)
}

/// [`claude_fixes_greeting`] after running `command` through its shell tool (`Bash`).
pub fn claude_runs_then_fixes_greeting(checkout: &Path, command: &str) -> Script {
    let script = Script::new().then(Turn::tool_call(ToolCall::shell("toolu_s0", command)));
    claude_fix(script, checkout, Some("toolu_s0"))
}

/// [`codex_fixes_greeting`] after running `command` through its shell tool (`exec_command`).
pub fn codex_runs_then_fixes_greeting(command: &str) -> Script {
    let script = Script::new().then(Turn::tool_call(ToolCall::shell("call_s0", command)));
    codex_fix(script, Some("call_s0"))
}

/// `turn`, answered only once the output of tool call `after` came back, when there is one.
fn after_call(turn: Turn, after: Option<&str>) -> Turn {
    match after {
        Some(id) => turn.expecting(Expectation::ToolOutputFor(id.into())),
        None => turn,
    }
}

/// `script` then Claude's read, edit and report of the greeting fix; the read waits for the
/// output of tool call `after`.
fn claude_fix(script: Script, checkout: &Path, after: Option<&str>) -> Script {
    let file = checkout.join("greet.txt");
    let read = Turn::tool_call(ToolCall::read_file("toolu_r1", &file));
    script
        .then(after_call(read, after))
        .then(
            Turn::tool_call(ToolCall::edit_file(
                "toolu_e1",
                &file,
                "Hello wrold",
                "Hello world",
            ))
            .expecting(Expectation::ToolOutputFor("toolu_r1".into())),
        )
        .then(Turn::text(GREETING_FIXED).expecting(Expectation::ToolOutputFor("toolu_e1".into())))
}

/// `script` then Codex's patch and report of the greeting fix; the patch waits for the output
/// of tool call `after`.
fn codex_fix(script: Script, after: Option<&str>) -> Script {
    let edit = Turn::tool_call(ToolCall::edit_file(
        "call_e1",
        "greet.txt",
        "Hello wrold",
        "Hello world",
    ));
    script
        .then(after_call(edit, after))
        .then(Turn::text(GREETING_FIXED).expecting(Expectation::ToolOutputFor("call_e1".into())))
}
