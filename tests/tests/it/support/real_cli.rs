//! What the stories that run a real CLI as the sandbox uid against a model double share
//! (`assistant_secrets`, `mcp_servers`, `sandbox_real_clis`): the CLI installed where that uid
//! can run it, the double of the API each CLI speaks, the sandbox plan, what the CLI sent back
//! to the model for one tool call, and the issue tracker's MCP server (`doubles::mcp`) as a
//! team configures it and as each CLI calls its tool.

use std::path::PathBuf;

use doubles::mcp::TOOL;
use doubles::model::cli::{Cli, InstalledCli, install};
use doubles::model::{ModelDouble, Script, ToolAction, anthropic, openai};
use entrypoint::agent::Assistant;
use entrypoint::sandbox::{Capabilities, Plan, ProbeProgram, SandboxUid, Settings};

/// `cli`, installed (once per machine) and linked where the sandbox uid can run it.
pub async fn reachable(cli: Cli) -> InstalledCli {
    tokio::task::spawn_blocking(move || {
        doubles::sandbox::reachable_cli(&install(cli).expect("installing the CLI"))
    })
    .await
    .unwrap()
}

/// The model double of the API `assistant`'s CLI speaks, playing `script`.
pub async fn model_double(assistant: Assistant, script: Script) -> ModelDouble {
    match assistant {
        Assistant::Claude => anthropic::start(script).await.unwrap(),
        Assistant::Codex => openai::start(script).await.unwrap(),
    }
}

/// The sandbox of `settings`, its network checked with `probe` (an `entrypoint` binary).
pub fn plan(settings: Settings, probe: PathBuf) -> Plan {
    Plan {
        settings,
        probe: ProbeProgram(probe),
        capabilities: Capabilities::current().unwrap(),
    }
}

/// The open network as `uid`, checked with this build's `entrypoint`.
pub fn open_plan(uid: u32) -> Plan {
    plan(
        Settings::open(SandboxUid::new(uid).unwrap()),
        doubles::binaries::entrypoint()
            .expect("the entrypoint binary")
            .to_owned(),
    )
}

/// What the CLI sent the model as the output of tool call `call_id`, in every request that
/// carried it.
pub fn tool_outputs(double: &ModelDouble, call_id: &str) -> Vec<String> {
    double
        .model_calls()
        .iter()
        .flat_map(|c| c.tool_outputs())
        .filter(|o| o.call_id == call_id)
        .map(|o| o.text)
        .collect()
}

/// The job's CI/CD variable that holds the tracker's token.
pub const TRACKER_VARIABLE: &str = "TRACKER_TOKEN";

/// The configuration a team would put on its default branch for the tracker at `url`: the
/// token comes from the job's [`TRACKER_VARIABLE`].
pub fn tracker_config(url: &str) -> String {
    format!(
        "[mcp_servers.tracker]\nurl = \"{url}\"\nheaders = {{ Authorization = \"Bearer ${{{TRACKER_VARIABLE}}}\" }}\n"
    )
}

/// The tracker's tool as Claude shows it to the model (`mcp__<server>__<tool>`).
pub fn claude_tracker_tool() -> String {
    format!("mcp__tracker__{TOOL}")
}

/// `assistant`'s call of the tracker's tool for issue WEB-7 (Codex groups a server's tools in
/// a namespace tool of its own).
pub fn tracker_call(assistant: Assistant) -> ToolAction {
    let arguments = serde_json::json!({"key": "WEB-7"});
    match assistant {
        Assistant::Claude => ToolAction::ClaudeTool {
            name: claude_tracker_tool(),
            input: arguments,
        },
        Assistant::Codex => ToolAction::CodexNamespacedFunction {
            namespace: "mcp__tracker".into(),
            name: TOOL.into(),
            arguments,
        },
    }
}
