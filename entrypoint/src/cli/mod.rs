//! The command line: one file per command, each parsing its flags, calling the module that does
//! the work, and turning the outcome into the exit status. `main.rs` only declares the clap enum
//! and dispatches here; what a command does lives in its module (`setup`, `doctor`, `run`, …).

pub mod ack;
pub mod doctor;
pub mod explain;
pub mod finalize;
pub mod mentions;
pub mod review;
pub mod run;
pub mod sandbox;
pub mod scan;
pub mod serve;
pub mod setup;

use std::sync::Arc;

use crate::agent::Handles;
use crate::config::HandleArgs;
use crate::redact::Redactor;

/// What `run` and `scan` share: logging, the handles, the redactor that knows the job's
/// secrets, and a runtime with room for the assistant's output and the progress refreshes.
fn job_setup(
    handles: &HandleArgs,
) -> anyhow::Result<(Handles, Arc<Redactor>, tokio::runtime::Runtime)> {
    init_logging();
    let handles = handles.handles()?;
    let redactor = Arc::new(Redactor::from_process_env(handles.clone()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    Ok((handles, redactor, runtime))
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
