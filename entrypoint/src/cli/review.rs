//! `entrypoint review`: the merge request pipeline's automatic review.

use crate::agent::Assistant;
use crate::config::HandleArgs;

/// Flags of `entrypoint review`.
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// The assistant that reviews (`claude` or `codex`).
    #[arg(long, env = crate::env::AI_ASSISTANT.name(), value_name = "ASSISTANT")]
    assistant: Assistant,
    #[command(flatten)]
    handles: HandleArgs,
}

/// `entrypoint review` over the process environment.
pub fn run(args: &ReviewArgs) -> anyhow::Result<()> {
    let (_, redactor, runtime) = super::job_setup(&args.handles)?;
    let vars = |name: &str| std::env::var(name).ok();
    let end = runtime.block_on(crate::review::review(args.assistant, &vars, redactor))?;
    eprintln!("review: {end:?}");
    Ok(())
}
