//! Codex's network sandbox needs `CAP_NET_ADMIN` in the job container, which only the runner's
//! configuration can grant (see [`crate::sandbox::capability`]). Checked in a job only: a
//! local machine says nothing about the runner.

use super::report::{Check, Finding, Report};
use super::{Inputs, Place};
use crate::agent::Assistant;
use crate::sandbox::capability::RUNNER_SNIPPET;

/// One finding when Codex is checked in a job.
pub fn check(inputs: &Inputs<'_>, assistants: &[Assistant], report: &mut Report) {
    // The fence is what needs the capability: checked for an assistant fenced by default.
    if inputs.place != Place::Job || !assistants.iter().any(|a| a.profile().fenced_by_default) {
        return;
    }
    report.push(match inputs.capabilities {
        Some(caps) if caps.net_admin() => Finding::ok(
            Check::NetAdmin,
            "the job has CAP_NET_ADMIN, so Codex's network sandbox can be set up",
        ),
        Some(_) => Finding::fail(
            Check::NetAdmin,
            "the job lacks CAP_NET_ADMIN, so Codex's network sandbox cannot be set up and Codex will not run",
            format!("add {RUNNER_SNIPPET}"),
        ),
        None => Finding::warn(
            Check::NetAdmin,
            "could not read the job's capabilities from /proc/self/status",
            format!("make sure the runner grants NET_ADMIN: {RUNNER_SNIPPET}"),
        ),
    });
}
