//! `entrypoint run`: answers the mention that started this job, or runs an automation task.

use crate::agent::Assistant;
use crate::config::HandleArgs;
use crate::env::{self, ProcessEnv};
use crate::run::RunOptions;

/// Flags of `entrypoint run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The assistant this job runs (`claude` or `codex`).
    #[arg(long, env = env::AI_ASSISTANT.name(), value_name = "ASSISTANT")]
    assistant: Assistant,
    /// Automation mode: run the task in this file of the default branch (a repository path)
    /// instead of answering a mention; `AI_PROMPT` gives the task as text instead.
    #[arg(long, env = env::AI_PROMPT_FILE.name(), value_name = "FILE")]
    prompt_file: Option<String>,
    #[command(flatten)]
    handles: HandleArgs,
}

/// `entrypoint run` over the process environment; fails when the answer posted is an error.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let automation = args
        .prompt_file
        .as_deref()
        .is_some_and(|f| !f.trim().is_empty())
        || env::AI_PROMPT.non_blank(&ProcessEnv).is_some();
    if automation {
        return run_task(args);
    }
    let (handles, redactor, runtime) = super::job_setup(&args.handles)?;
    let options = RunOptions {
        assistant: args.assistant,
        handles,
    };
    let vars = |name: &str| std::env::var(name).ok();
    let end = runtime.block_on(crate::run::run(&options, &vars, redactor))?;
    match end {
        crate::answer::in_job::JobEnd::Failed { headline, .. } => {
            anyhow::bail!("{headline} (the error is posted in place of the placeholder)")
        }
        _ => Ok(()),
    }
}

/// Automation mode (`--prompt-file` or `AI_PROMPT`): a task without a mention.
fn run_task(args: &RunArgs) -> anyhow::Result<()> {
    use crate::automation::artifacts::TaskConclusion;
    let (handles, redactor, runtime) = super::job_setup(&args.handles)?;
    let options = RunOptions {
        assistant: args.assistant,
        handles,
    };
    let vars = |name: &str| std::env::var(name).ok();
    let end = runtime.block_on(crate::automation::run(
        &options,
        args.prompt_file.as_deref(),
        &vars,
        redactor,
    ))?;
    match (end.conclusion, end.headline) {
        (TaskConclusion::Failure, headline) => anyhow::bail!(
            "the task failed: {} (ai-result.json has the details)",
            headline.unwrap_or_else(|| "see the job log".to_owned())
        ),
        _ => Ok(()),
    }
}
