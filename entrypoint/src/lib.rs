//! The entrypoint baked into every image.
//!
//! One module per concept of the product, so that "where are mentions parsed?" is answered by the
//! file tree alone: [`mention`] finds `@claude`/`@codex` in a note, [`trigger`] turns whatever
//! started the job into one normalised [`trigger::Trigger`], [`gitlab`] is the REST v4 client,
//! [`agent`] names the assistants and runs their CLIs, [`answer`] checks who asked, claims the note and posts the placeholder before the answer starts (for the relay, the scan, the run and the acknowledgement job [`ack`] alike), [`quick_action`] keeps GitLab from running commands found in what we post, [`sandbox`] fences the assistant's network, and [`secret`] keeps tokens out of logs.

pub mod ack;
pub mod answer;
// The GitLab client and the quick-action neutraliser live in `crates/gitlab`, the secret type and
// the note marker in `crates/core`; they are re-exported under their old paths so
// `crate::gitlab::…` and `crate::marker::…` keep reading as before.
pub use ::gitlab;
pub use ::gitlab::quick_action;
pub use ai_core::marker;
pub use ai_core::secret;
pub mod agent;
pub mod audit;
pub mod automation;
pub mod budget;
pub mod claim;
pub mod cli;
pub mod config;
pub mod context;
pub mod contract;
pub mod doctor;
pub mod env;
pub mod error_chain;
pub mod guard;
pub mod in_job;
pub mod mention;
pub mod passthrough;
pub mod proxy;
pub mod publish;
pub mod quota;
pub mod recent;
pub mod redact;
pub mod relay;
pub mod review;
pub mod run;
pub mod sandbox;
pub mod scan;
pub mod setup;
pub mod trigger;
pub mod ui;
pub mod workspace;

#[cfg(test)]
mod test_support;
