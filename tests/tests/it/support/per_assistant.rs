//! What the stories told once per assistant share: the model double each CLI speaks to, the
//! scripts most stories play, the pair of tests (`…_with_claude`, `…_with_codex`) that run one
//! story body for each, and the check that a note or log holds a text, which every story makes
//! many times.

use std::path::{Path, PathBuf};

use doubles::model::stories::{claude_fixes_greeting, codex_fixes_greeting};
use doubles::model::{Expectation, ModelDouble, Script, ToolCall, Turn, Usage, anthropic, openai};
use entrypoint::agent::Assistant;

/// A model double playing `script` in the API `assistant`'s CLI calls (Anthropic's Messages
/// API for Claude, OpenAI's Responses API for Codex).
pub async fn model_for(assistant: Assistant, script: Script) -> ModelDouble {
    match assistant {
        Assistant::Claude => anthropic::start(script).await,
        Assistant::Codex => openai::start(script).await,
    }
    .unwrap_or_else(|e| panic!("the {assistant} model double starts: {e}"))
}

/// `assistant` fixes the greeting's typo in the job's `checkout` (Claude's tools take absolute
/// paths, Codex's are relative to its workspace).
pub fn fixes_greeting(assistant: Assistant, checkout: &Path) -> Script {
    match assistant {
        Assistant::Claude => claude_fixes_greeting(checkout),
        Assistant::Codex => codex_fixes_greeting(),
    }
}

/// The call `id` of `assistant` that writes `content` to `file` in the workspace (the job's
/// checkout) `work`: Claude's tools take absolute paths, Codex's are relative to its workspace.
pub fn write_in(
    assistant: Assistant,
    work: &Path,
    id: &str,
    file: &str,
    content: &str,
) -> ToolCall {
    let path: PathBuf = match assistant {
        Assistant::Claude => work.join(file),
        Assistant::Codex => file.into(),
    };
    ToolCall::write_file(id, path, content)
}

/// The model makes the tool call `call`, then answers `answer` once the call's output is back:
/// the shape of most scripted runs that act before they answer.
pub fn call_then_answer(call: ToolCall, answer: &str) -> Script {
    let id = call.id.clone();
    Script::new()
        .then(Turn::tool_call(call))
        .then(Turn::text(answer).expecting(Expectation::ToolOutputFor(id)))
}

/// The model answers each of `texts` in turn, one per request.
pub fn answers(texts: &[&str]) -> Script {
    texts
        .iter()
        .fold(Script::new(), |script, text| script.then(Turn::text(*text)))
}

/// The usage of a huge answer: 2M prompt tokens cost dollars at any listed price, so one such
/// answer goes over every budget the stories set.
pub fn expensive() -> Usage {
    Usage {
        input_tokens: 2_000_000,
        output_tokens: 1_000,
    }
}

/// The model answers `answer` with [`expensive`] usage, and has one more answer that no
/// request may get once the budget is spent.
pub fn over_budget(answer: &str) -> Script {
    Script::new()
        .then(Turn::text(answer).with_usage(expensive()))
        .then(Turn::text("Never asked for."))
}

/// The output of the tool call `call_id`, as the CLI sent it back to the model.
#[track_caller]
pub fn tool_output(model: &ModelDouble, call_id: &str) -> String {
    model
        .requests()
        .iter()
        .flat_map(|r| r.tool_outputs())
        .find(|o| o.call_id == call_id)
        .map(|o| o.text.clone())
        .unwrap_or_else(|| panic!("the CLI answered the call {call_id}"))
}

/// The model answers `answer`, and only to a request that holds `needle` (the double reports
/// one that does not as a problem).
pub fn answer_if_asked_with(answer: &str, needle: &str) -> Script {
    Script::new().then(Turn::text(answer).expecting(Expectation::Contains(needle.into())))
}

/// `text` holds `needle`; the failure shows the whole text, as the stories' notes and logs are
/// what a reader needs to see.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} is not in:\n{text}");
}

/// One `#[tokio::test]` per assistant, each running the story body `story(assistant)`, named
/// as given (the stories' names, such as `<story>_with_claude` and `<story>_with_codex`, are
/// cited by the docs and kept).
macro_rules! each_assistant {
    ($story:ident: $claude:ident, $codex:ident) => {
        #[tokio::test]
        async fn $claude() {
            $story(entrypoint::agent::Assistant::Claude).await;
        }

        #[tokio::test]
        async fn $codex() {
            $story(entrypoint::agent::Assistant::Codex).await;
        }
    };
}
pub(crate) use each_assistant;
