//! Everything the job posts to GitLab, in the order a run posts it: the [`placeholder`] note
//! before anything slow, [`progress`] refreshes of it while the assistant works, the
//! [`result`] that replaces it, a [`review`]'s diff threads, the [`merge_request`] for an issue,
//! and [`finalize`], which the template's `after_script` runs so that no placeholder is left
//! saying "working" when the job is cancelled or times out, using the run's [`state`] file.
//!
//! Every body goes through [`crate::redact::Redactor`] before it leaves the process.
//!
//! The orchestrator's sequence, in short:
//!
//! ```no_run
//! # async fn story(
//! #     gitlab: entrypoint::gitlab::GitLab,
//! #     trigger: entrypoint::trigger::Trigger,
//! #     spec: entrypoint::agent::run::RunSpec,
//! #     plan: entrypoint::sandbox::Plan,
//! # ) -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use entrypoint::agent::{Assistant, Handles};
//! use entrypoint::agent::run::run;
//! use entrypoint::publish::placeholder::{must_be_internal, post_placeholder};
//! use entrypoint::publish::progress::{Progress, ProgressSettings};
//! use entrypoint::publish::result::{ResultReport, publish_result};
//! use entrypoint::publish::state::StateFile;
//! use entrypoint::publish::JobLink;
//! use entrypoint::redact::Redactor;
//!
//! let vars = |name: &str| std::env::var(name).ok();
//! let redactor = Arc::new(Redactor::from_process_env(Handles::default()));
//! let job = JobLink::from_env(&vars);
//! let internal = must_be_internal(&trigger);
//! let placeholder = post_placeholder(&gitlab, &trigger, Assistant::Claude, job.as_ref()).await?;
//! let mut state = StateFile::path_from_env(&vars).map(StateFile::create);
//! if let Some(state) = state.as_mut() {
//!     state.record_placeholder(&placeholder, internal)?;
//! }
//! let progress = Progress::start(
//!     gitlab.clone(),
//!     placeholder.clone(),
//!     job.clone(),
//!     Arc::clone(&redactor),
//!     ProgressSettings::default(),
//! );
//! let report = run(&spec, &plan, |event| progress.record(event)).await?;
//! progress.stop().await;
//! let mut result = ResultReport::from_run(Assistant::Claude, &report);
//! result.job = job;
//! publish_result(&gitlab, &placeholder, &result, &redactor, internal).await?;
//! if let Some(state) = state.as_mut() {
//!     state.mark_finalized(placeholder.note)?;
//! }
//! # Ok(())
//! # }
//! ```

pub mod finalize;
pub mod merge_request;
pub mod placeholder;
pub mod progress;
pub mod result;
pub mod review;
pub mod state;
pub(crate) mod text;

use serde::{Deserialize, Serialize};

pub use placeholder::Placeholder;

use crate::env::Env;

/// The CI job a note links to, so people can read the log of the run that answered them.
/// <https://docs.gitlab.com/ci/variables/predefined_variables/>
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLink {
    /// `CI_JOB_URL`.
    pub url: String,
    /// `CI_JOB_ID`, shown as the link text.
    pub id: Option<u64>,
}

/// The URL in `url_var` and the number in `id_var` of a CI object (a job, a pipeline); `None`
/// outside CI, where the URL is unset or blank. An id that is not a number is left out.
pub(crate) fn ci_link(
    vars: &dyn Env,
    url_var: &str,
    id_var: &str,
) -> Option<(String, Option<u64>)> {
    let url = vars.var(url_var)?.trim().to_owned();
    if url.is_empty() {
        return None;
    }
    Some((url, vars.var(id_var).and_then(|id| id.trim().parse().ok())))
}

impl JobLink {
    /// Reads `CI_JOB_URL` and `CI_JOB_ID`; `None` outside CI (no URL).
    pub fn from_env(vars: &dyn Env) -> Option<Self> {
        let (url, id) = ci_link(vars, "CI_JOB_URL", "CI_JOB_ID")?;
        Some(Self { url, id })
    }

    /// `[job #123](url)` (or `[job](url)` without an id).
    pub fn markdown(&self) -> String {
        match self.id {
            Some(id) => format!("[job #{id}]({})", self.url),
            None => format!("[job]({})", self.url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    #[test]
    fn job_link_comes_from_the_predefined_variables() {
        let job = JobLink::from_env(&vars(&[
            ("CI_JOB_URL", "https://gitlab.example.com/g/p/-/jobs/42"),
            ("CI_JOB_ID", "42"),
        ]))
        .unwrap();
        assert_eq!(
            job.markdown(),
            "[job #42](https://gitlab.example.com/g/p/-/jobs/42)"
        );
        assert_eq!(JobLink::from_env(&vars(&[("CI_JOB_ID", "42")])), None);
        assert_eq!(JobLink::from_env(&vars(&[("CI_JOB_URL", " ")])), None);
    }
}
