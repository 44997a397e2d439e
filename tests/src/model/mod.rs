//! Scripted doubles of the two model APIs the assistant CLIs call, good enough for the real
//! `claude` and `codex` binaries to run against them end to end, and an installer for those
//! binaries.
//!
//! A test writes one [`Script`] (turns of text, tool calls and faults), starts
//! [`anthropic::start`] or [`openai::start`] with it, points the CLI at
//! [`ModelDouble::base_url`], and afterwards reads [`ModelDouble::requests`] to check what the
//! CLI sent.
//!
//! ```no_run
//! # async fn story() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use doubles::model::cli::{Cli, install, isolated_command, run_bounded};
//! use doubles::model::{Expectation, Script, ToolCall, Turn, anthropic};
//!
//! let work = tempfile::tempdir()?;
//! let home = tempfile::tempdir()?;
//! let script = Script::new()
//!     .then(Turn::tool_call(ToolCall::write_file("t1", work.path().join("a.txt"), "hi\n")))
//!     .then(Turn::text("Done.").expecting(Expectation::ToolOutputFor("t1".into())));
//! let double = anthropic::start(script).await?;
//! let claude = tokio::task::spawn_blocking(|| install(Cli::Claude)).await??;
//! let mut command = isolated_command(&claude, home.path())?;
//! command
//!     .current_dir(work.path())
//!     .env("ANTHROPIC_BASE_URL", double.base_url())
//!     .env("ANTHROPIC_API_KEY", "test-key")
//!     .args(["-p", "Write a.txt", "--output-format", "stream-json", "--verbose"])
//!     .args(["--permission-mode", "bypassPermissions"]);
//! let finished = run_bounded(&mut command, Duration::from_secs(90)).await?;
//! assert!(finished.status.success() && double.problems().is_empty());
//! assert!(double.requests().iter().all(|r| !r.contains("a-secret-value")));
//! # Ok(())
//! # }
//! ```

pub mod anthropic;
pub mod cli;
pub mod openai;
mod recorded;
mod script;
mod server;
mod sse;
pub mod stories;

pub use recorded::{RecordedRequest, ToolOutput};
pub use script::{ApiError, Expectation, Fault, Reply, Script, ToolAction, ToolCall, Turn, Usage};
pub use server::{Api, ModelDouble};
