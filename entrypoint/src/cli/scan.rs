//! `entrypoint scan`: the scheduled pipeline that answers the mentions since the last scan.

use crate::agent::Assistant;
use crate::config::HandleArgs;

/// Flags of `entrypoint scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The assistant whose mentions this scan answers (`claude` or `codex`).
    #[arg(long, env = crate::env::AI_ASSISTANT.name(), value_name = "ASSISTANT")]
    assistant: Assistant,
    #[command(flatten)]
    handles: HandleArgs,
}

/// `entrypoint scan` over the process environment: prints the summary, fails when a mention
/// could not be handed over.
pub fn run(args: &ScanArgs) -> anyhow::Result<()> {
    let (handles, redactor, runtime) = super::job_setup(&args.handles)?;
    let options = crate::scan::ScanOptions {
        assistant: args.assistant,
        handles,
    };
    let vars = |name: &str| std::env::var(name).ok();
    let report = runtime.block_on(crate::scan::scan(&options, &vars, redactor))?;
    println!("{}", report.summary());
    match report.failures() {
        0 => Ok(()),
        failed => anyhow::bail!(
            "{failed} mention(s) could not be handed over; their claims were given back and the next scan tries again"
        ),
    }
}
