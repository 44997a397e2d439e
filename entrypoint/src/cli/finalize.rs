//! `entrypoint finalize`: the after_script that never leaves a placeholder saying "working".

use crate::config::HandleArgs;
use crate::publish::finalize;
use crate::redact::Redactor;

/// Flags of `entrypoint finalize`.
#[derive(Debug, clap::Args)]
pub struct FinalizeArgs {
    #[command(flatten)]
    handles: HandleArgs,
}

/// `entrypoint finalize` over the process environment: prints how many placeholders it replaced.
pub fn run(args: &FinalizeArgs) -> anyhow::Result<()> {
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
