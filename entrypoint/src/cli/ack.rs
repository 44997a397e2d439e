//! `entrypoint ack`: the acknowledgement job of a webhook pipeline (see [`crate::ack`]).

use std::path::PathBuf;

use crate::ack::command::{self, Handed};
use crate::agent::Assistant;
use crate::config::HandleArgs;

/// Flags of `entrypoint ack`.
#[derive(Debug, clap::Args)]
pub struct AckArgs {
    /// The assistant whose mention this job acknowledges (`claude` or `codex`).
    #[arg(long, env = crate::env::AI_ASSISTANT.name(), value_name = "ASSISTANT")]
    assistant: Assistant,
    /// Where the dotenv report goes (the template's `artifacts:reports:dotenv`).
    #[arg(long, value_name = "FILE", default_value = command::DOTENV_FILE)]
    dotenv: PathBuf,
    #[command(flatten)]
    handles: HandleArgs,
}

/// `entrypoint ack` over the process environment: acknowledges and writes the dotenv report.
pub fn run(args: &AckArgs) -> anyhow::Result<()> {
    let (handles, redactor, runtime) = super::job_setup(&args.handles)?;
    let vars = |name: &str| std::env::var(name).ok();
    let handed = runtime.block_on(command::ack(args.assistant, &handles, &vars, &redactor))?;
    command::write_dotenv(&args.dotenv, &handed, vars("CI_JOB_IMAGE").as_deref())?;
    match &handed {
        Handed::Posted(note) => tracing::info!(
            placeholder = note.0,
            "acknowledged; the assistant job takes the placeholder over"
        ),
        Handed::Done { reason } => tracing::info!(%reason, "nothing to do for {}", args.assistant),
        Handed::Defer => tracing::info!("the assistant job does the whole flow itself"),
    }
    Ok(())
}
