//! `entrypoint`: clap parsing and dispatch only; each command is one file under `entrypoint/src/cli/`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use entrypoint::cli;
use entrypoint::config::HandleError;
use entrypoint::passthrough;
use entrypoint::sandbox;

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
    Mentions(cli::mentions::MentionsArgs),
    /// Print what started this job (a Note Hook body, the AI_* variables or a Duo flow) and
    /// whether, and for which assistants, a job would act on it, as JSON.
    Explain(cli::explain::ExplainArgs),
    /// For the job's after_script: replace a placeholder the run left saying "working" with
    /// how the job ended (cancelled, timed out, failed) and a link to the job.
    Finalize(cli::finalize::FinalizeArgs),
    /// Set a project up (bot token, CI/CD variables, trigger, webhook or schedule, and a merge
    /// request with the include: block); prints the plan and applies it after confirmation.
    Setup(Box<cli::setup::SetupArgs>),
    /// Apply, verify, show or remove the network sandbox that fences the assistant (for
    /// debugging in a job; a run does all of it itself).
    Sandbox(cli::sandbox::SandboxArgs),
    /// Check that the project is set up for @-mentions (token, bot role, variables, trigger,
    /// CI include, NET_ADMIN for Codex, registry): one line per finding with its fix; exits
    /// non-zero when a check fails.
    Doctor(cli::doctor::DoctorArgs),
    /// Run the webhook relay: receive GitLab's comment webhooks, post a placeholder and start a
    /// pipeline for each mention (settings from --config and AI_RELAY_* variables).
    Serve(cli::serve::ServeArgs),
    /// The acknowledgement job of a webhook pipeline (slim image): decide whether the comment
    /// mentions the assistant, check who asked, claim the note and post the placeholder, then
    /// write the dotenv report that tells the assistant job what is left (docs/modes.md).
    Ack(cli::ack::AckArgs),
    /// Answer the mention that started this job: check who asked, post a placeholder, run the
    /// assistant on the checkout and publish its answer, review, commits or merge request.
    Run(cli::run::RunArgs),
    /// For a merge request pipeline: review the merge request (only the commits since the last
    /// review), as one GitLab review with a summary note; AI_AUTO_REVIEW says when
    /// (docs/review.md).
    Review(cli::review::ReviewArgs),
    /// For a scheduled pipeline: find the mentions of the assistant since the last scan and
    /// answer each once, in this job or in a pipeline of its own (docs/scan.md).
    Scan(cli::scan::ScanArgs),
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
        Command::Mentions(args) => cli::mentions::run(&args),
        Command::Explain(args) => cli::explain::run(&args),
        Command::Finalize(args) => cli::finalize::run(&args),
        Command::Setup(args) => cli::setup::run(&args),
        Command::Sandbox(args) => cli::sandbox::run(&args),
        Command::Ack(args) => cli::ack::run(&args),
        Command::Run(args) => cli::run::run(&args),
        Command::Scan(args) => cli::scan::run(&args),
        Command::Review(args) => cli::review::run(&args),
        Command::Doctor(args) => cli::doctor::run(&args),
        Command::Serve(args) => cli::serve::run(&args),
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
