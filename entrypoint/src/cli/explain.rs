//! `entrypoint explain`: prints what started this job and whether a job would act on it.

use std::path::PathBuf;

use crate::agent::Assistant;
use crate::config::HandleArgs;
use crate::trigger::explain;

/// Flags of `entrypoint explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A Note Hook body in a file, instead of the job's variables.
    #[arg(long, value_name = "FILE")]
    webhook: Option<PathBuf>,
    /// Decide as the job of this assistant would (`claude` or `codex`).
    #[arg(long, value_name = "ASSISTANT")]
    assistant: Option<Assistant>,
    /// Make no GitLab API call: the bot's identity is then not checked, and AI_NOTE_ID cannot be
    /// explained.
    #[arg(long)]
    offline: bool,
    #[command(flatten)]
    handles: HandleArgs,
}

/// `entrypoint explain` over the process environment: the explanation as pretty JSON.
pub fn run(args: &ExplainArgs) -> anyhow::Result<()> {
    let handles = args.handles.handles()?;
    let options = explain::Options {
        webhook: args.webhook.as_deref(),
        assistant: args.assistant,
        offline: args.offline,
    };
    let vars = |name: &str| std::env::var(name).ok();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let explanation = runtime.block_on(explain::explain(&options, &vars, &handles))?;
    println!("{}", serde_json::to_string_pretty(&explanation)?);
    Ok(())
}
