//! `entrypoint`: clap parsing and dispatch only; each command lives in its own module.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use entrypoint::agent::Assistant;
use entrypoint::config::{HandleArgs, HandleError};
use entrypoint::doctor;
use entrypoint::mention;
use entrypoint::passthrough;
use entrypoint::publish::finalize;
use entrypoint::redact::Redactor;
use entrypoint::run::RunOptions;
use entrypoint::sandbox;
use entrypoint::setup;
use entrypoint::trigger::explain;

/// The @claude / @codex GitLab integration.
#[derive(Debug, Parser)]
#[command(name = "entrypoint", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print which assistants a note summons and what it asks them, as one JSON line.
    Mentions(mention::command::MentionsArgs),
    /// Print what started this job (a Note Hook body, the AI_* variables or a Duo flow) and
    /// whether, and for which assistants, a job would act on it, as JSON.
    Explain(ExplainArgs),
    /// For the job's after_script: replace a placeholder the run left saying "working" with
    /// how the job ended (cancelled, timed out, failed) and a link to the job.
    Finalize(FinalizeArgs),
    /// Set a project up (bot token, CI/CD variables, trigger, webhook or schedule, and a merge
    /// request with the include: block); prints the plan and applies it after confirmation.
    Setup(Box<setup::command::SetupArgs>),
    /// Apply, verify, show or remove the network sandbox that fences the assistant (for
    /// debugging in a job; a run does all of it itself).
    Sandbox(sandbox::command::SandboxArgs),
    /// Check that the project is set up for @-mentions (token, bot role, variables, trigger,
    /// CI include, NET_ADMIN for Codex, registry): one line per finding with its fix; exits
    /// non-zero when a check fails.
    Doctor(doctor::command::DoctorArgs),
    /// Run the webhook relay: receive GitLab's comment webhooks, post a placeholder and start a
    /// pipeline for each mention (settings from --config and AI_RELAY_* variables).
    Serve(ServeArgs),
    /// The acknowledgement job of a webhook pipeline (slim image): decide whether the comment
    /// mentions the assistant, check who asked, claim the note and post the placeholder, then
    /// write the dotenv report that tells the assistant job what is left (docs/modes.md).
    Ack(AckArgs),
    /// Answer the mention that started this job: check who asked, post a placeholder, run the
    /// assistant on the checkout and publish its answer, review, commits or merge request.
    Run(RunArgs),
    /// For a merge request pipeline: review the merge request (only the commits since the last
    /// review), as one GitLab review with a summary note; AI_AUTO_REVIEW says when
    /// (docs/review.md).
    Review(ReviewArgs),
    /// For a scheduled pipeline: find the mentions of the assistant since the last scan and
    /// answer each once, in this job or in a pipeline of its own (docs/scan.md).
    Scan(ScanArgs),
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// The assistant whose mentions this scan answers (`claude` or `codex`).
    #[arg(long, env = "AI_ASSISTANT", value_name = "ASSISTANT")]
    assistant: Assistant,
    #[command(flatten)]
    handles: HandleArgs,
}

#[derive(Debug, clap::Args)]
struct ReviewArgs {
    /// The assistant that reviews (`claude` or `codex`).
    #[arg(long, env = "AI_ASSISTANT", value_name = "ASSISTANT")]
    assistant: Assistant,
    #[command(flatten)]
    handles: HandleArgs,
}

#[derive(Debug, clap::Args)]
struct AckArgs {
    /// The assistant whose mention this job acknowledges (`claude` or `codex`).
    #[arg(long, env = "AI_ASSISTANT", value_name = "ASSISTANT")]
    assistant: Assistant,
    /// Where the dotenv report goes (the template's `artifacts:reports:dotenv`).
    #[arg(long, value_name = "FILE", default_value = entrypoint::ack::command::DOTENV_FILE)]
    dotenv: PathBuf,
    #[command(flatten)]
    handles: HandleArgs,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The assistant this job runs (`claude` or `codex`).
    #[arg(long, env = "AI_ASSISTANT", value_name = "ASSISTANT")]
    assistant: Assistant,
    /// Automation mode: run the task in this file of the default branch (a repository path)
    /// instead of answering a mention; `AI_PROMPT` gives the task as text instead.
    #[arg(long, env = "AI_PROMPT_FILE", value_name = "FILE")]
    prompt_file: Option<String>,
    #[command(flatten)]
    handles: HandleArgs,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The relay's TOML config; every global setting can also come from AI_RELAY_* variables.
    #[arg(long, env = "AI_RELAY_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct FinalizeArgs {
    #[command(flatten)]
    handles: HandleArgs,
}

#[derive(Debug, clap::Args)]
struct ExplainArgs {
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

fn main() -> ExitCode {
    let args = arguments();
    if let Some(program) = foreign_program(&args) {
        let error = passthrough::exec(&program, &args[2..]);
        eprintln!("error: could not run {}: {error}", program.display());
        return ExitCode::from(127);
    }
    // Before anything reads a token: see `make_undumpable` for what this does and does not
    // protect. Every command but the pass-through (which `exec`s and so resets the flag) may
    // hold one: run, scan, serve, setup and doctor read GITLAB_TOKEN or the model keys,
    // finalize and explain the job's tokens.
    if let Err(error) = sandbox::privileges::make_undumpable() {
        eprintln!(
            "error: could not make this process non-dumpable (prctl PR_SET_DUMPABLE): {error}"
        );
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse_from(args);
    let outcome = match cli.command {
        Command::Mentions(args) => mention::command::run(&args),
        Command::Explain(args) => run_explain(&args),
        Command::Finalize(args) => run_finalize(&args),
        Command::Setup(args) => setup::command::run(&args),
        Command::Sandbox(args) => sandbox::command::run(&args),
        Command::Ack(args) => run_ack(&args),
        Command::Run(args) => run_job(&args),
        Command::Scan(args) => run_scan(&args),
        Command::Review(args) => run_review(&args),
        Command::Doctor(args) => doctor::command::run(&args),
        Command::Serve(args) => run_serve(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            // Bad flags or variables are usage errors, like clap's own (status 2).
            if error.is::<HandleError>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The command line, without a repeated program name: the images' ENTRYPOINT is this binary, so
/// `docker run IMAGE entrypoint setup …` (the form the docs and GitLab's `script:` habits
/// suggest) arrives as `entrypoint entrypoint setup …`.
fn arguments() -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|first| first == "entrypoint") {
        args.remove(1);
    }
    args
}

/// The program to run instead of a subcommand (`sh -c …` from GitLab Runner), if the first
/// argument names one; see [`passthrough`].
fn foreign_program(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    use clap::CommandFactory;
    let first = args.get(1)?;
    let ours: Vec<String> = Cli::command()
        .get_subcommands()
        .flat_map(|sub| std::iter::once(sub.get_name()).chain(sub.get_all_aliases()))
        .chain(["help"])
        .map(str::to_owned)
        .collect();
    passthrough::foreign_program(first, &ours, std::env::var_os("PATH").as_deref())
}

fn run_explain(args: &ExplainArgs) -> anyhow::Result<()> {
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

fn run_finalize(args: &FinalizeArgs) -> anyhow::Result<()> {
    let redactor = Redactor::from_process_env(args.handles.handles()?);
    let vars = |name: &str| std::env::var(name).ok();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(finalize::run_command(&vars, &redactor))?;
    println!(
        "finalize: {} placeholder(s) replaced, {} already final",
        report.replaced.len(),
        report.untouched.len()
    );
    Ok(())
}

/// What `run` and `scan` share: logging, the handles, the redactor that knows the job's
/// secrets, and a runtime with room for the assistant's output and the progress refreshes.
fn job_setup(
    handles: &HandleArgs,
) -> anyhow::Result<(
    entrypoint::agent::Handles,
    std::sync::Arc<Redactor>,
    tokio::runtime::Runtime,
)> {
    init_logging();
    let handles = handles.handles()?;
    let redactor = std::sync::Arc::new(Redactor::from_process_env(handles.clone()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    Ok((handles, redactor, runtime))
}

fn run_ack(args: &AckArgs) -> anyhow::Result<()> {
    use entrypoint::ack::command::{self, Handed};
    let (handles, redactor, runtime) = job_setup(&args.handles)?;
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

fn run_job(args: &RunArgs) -> anyhow::Result<()> {
    let automation = args
        .prompt_file
        .as_deref()
        .is_some_and(|f| !f.trim().is_empty())
        || std::env::var(entrypoint::automation::task::PROMPT_VARIABLE)
            .is_ok_and(|prompt| !prompt.trim().is_empty());
    if automation {
        return run_task(args);
    }
    let (handles, redactor, runtime) = job_setup(&args.handles)?;
    let options = RunOptions {
        assistant: args.assistant,
        handles,
    };
    let vars = |name: &str| std::env::var(name).ok();
    let end = runtime.block_on(entrypoint::run::run(&options, &vars, redactor))?;
    match end {
        entrypoint::answer::in_job::JobEnd::Failed { headline, .. } => {
            anyhow::bail!("{headline} (the error is posted in place of the placeholder)")
        }
        _ => Ok(()),
    }
}

/// Automation mode (`--prompt-file` or `AI_PROMPT`): a task without a mention.
fn run_task(args: &RunArgs) -> anyhow::Result<()> {
    use entrypoint::automation::artifacts::TaskConclusion;
    let (handles, redactor, runtime) = job_setup(&args.handles)?;
    let options = RunOptions {
        assistant: args.assistant,
        handles,
    };
    let vars = |name: &str| std::env::var(name).ok();
    let end = runtime.block_on(entrypoint::automation::run(
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

fn run_scan(args: &ScanArgs) -> anyhow::Result<()> {
    let (handles, redactor, runtime) = job_setup(&args.handles)?;
    let options = entrypoint::scan::ScanOptions {
        assistant: args.assistant,
        handles,
    };
    let vars = |name: &str| std::env::var(name).ok();
    let report = runtime.block_on(entrypoint::scan::scan(&options, &vars, redactor))?;
    println!("{}", report.summary());
    match report.failures() {
        0 => Ok(()),
        failed => anyhow::bail!(
            "{failed} mention(s) could not be handed over; their claims were given back and the next scan tries again"
        ),
    }
}

fn run_review(args: &ReviewArgs) -> anyhow::Result<()> {
    let (_, redactor, runtime) = job_setup(&args.handles)?;
    let vars = |name: &str| std::env::var(name).ok();
    let end = runtime.block_on(entrypoint::review::review(args.assistant, &vars, redactor))?;
    eprintln!("review: {end:?}");
    Ok(())
}

fn run_serve(args: &ServeArgs) -> anyhow::Result<()> {
    init_logging();
    let vars = |name: &str| std::env::var(name).ok();
    let config = entrypoint::relay::RelayConfig::load(args.config.as_deref(), &vars)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        entrypoint::relay::Relay::start(config)
            .await?
            .run_until(entrypoint::relay::shutdown::signal())
            .await
    })
}

/// The job log: info lines to stderr, `RUST_LOG` for more; each phase's span closes with its
/// duration.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::fmt::format::FmtSpan;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_span_events(FmtSpan::CLOSE)
        .try_init();
}
