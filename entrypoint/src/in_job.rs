//! Answering a mention in this job rather than in a pipeline of its own: `entrypoint run` is
//! that flow ([`crate::run::run`]), and the scan's `AI_SCAN_MODE=job` runs it once per mention
//! it found ([`in_job`]) and once per due queued request ([`crate::scan::retry`]); how each
//! ended is a [`JobEnd`].
//!
//! It sits above [`crate::run`] and below the scan, so that neither [`crate::answer`] (which
//! the run flow builds on) nor the scan imports the run flow's module.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::agent::{Assistant, Handles};
use crate::answer::in_job::JobEnd;
use crate::env::Env;
use crate::redact::Redactor;
use crate::run::RunOptions;
use crate::trigger::ci_vars::{CiRequest, names};
use crate::trigger::load::{TRIGGER_PAYLOAD, WEBHOOK_PAYLOAD};

/// Every variable a trigger is read from. An in-job run sees only those its request sets, so
/// that the scan job's own (a stale placeholder, a payload of another trigger) never decide
/// which request it answers.
const TRIGGER_VARIABLES: &[&str] = &[
    WEBHOOK_PAYLOAD,
    TRIGGER_PAYLOAD,
    names::NOTE_ID,
    names::DISCUSSION_ID,
    names::PLACEHOLDER_NOTE_ID,
    names::NOTE_SHA256,
    crate::trigger::flow::names::INPUT,
    crate::trigger::flow::names::CONTEXT,
    crate::trigger::flow::names::EVENT,
    crate::trigger::event_vars::names::EVENT,
    crate::trigger::event_vars::names::ACTOR_ID,
    crate::trigger::event_vars::names::AT,
];

/// The job's own variables `vars` with `overlay` on top and every other trigger variable hidden.
fn overlaid<'a>(
    overlay: BTreeMap<&'static str, String>,
    vars: &'a dyn Env,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| match overlay.get(name) {
        Some(value) => Some(value.clone()),
        None if TRIGGER_VARIABLES.contains(&name) => None,
        None => vars.var(name),
    }
}

/// Runs the run flow for `request` in this job, with the job's own variables `vars` beneath
/// the request's. The run claims the note itself unless `request` passes a placeholder, so a
/// mention someone else took meanwhile is skipped there.
pub async fn in_job(
    request: &CiRequest,
    handles: &Handles,
    vars: &dyn Env,
    redactor: Arc<Redactor>,
) -> anyhow::Result<JobEnd> {
    run_with(
        request.variables(),
        request.assistant,
        handles,
        vars,
        redactor,
    )
    .await
}

/// Runs the run flow for `assistant` in this job with the trigger variables `overlay` (a
/// request's: a note's [`CiRequest::variables`], an issue or merge request event's, a queued
/// mention's) on top of the job's own `vars`, and every other trigger variable hidden.
pub(crate) async fn run_with(
    overlay: BTreeMap<&'static str, String>,
    assistant: Assistant,
    handles: &Handles,
    vars: &dyn Env,
    redactor: Arc<Redactor>,
) -> anyhow::Result<JobEnd> {
    let job_vars = overlaid(overlay, vars);
    let options = RunOptions {
        assistant,
        handles: handles.clone(),
    };
    crate::run::run(&options, &job_vars, redactor).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ids::{IssueIid, NoteId, Noteable, ProjectId, ProjectRef};
    use crate::test_support::vars as env;

    #[test]
    fn an_in_job_run_reads_its_own_request_and_no_other_trigger() {
        let request = CiRequest::for_note(
            ProjectRef::Id(ProjectId(7)),
            Assistant::Claude,
            Noteable::Issue(IssueIid(4)),
            NoteId(55),
        );
        // The scheduled job's variables: a stale placeholder and a payload of another trigger.
        let job = env(&[
            ("CI_PROJECT_ID", "7"),
            ("AI_NOTE_ID", "1"),
            ("AI_PLACEHOLDER_NOTE_ID", "2"),
            ("AI_WEBHOOK_PAYLOAD", "{}"),
            ("TRIGGER_PAYLOAD", "{}"),
            ("CI_JOB_ID", "99"),
        ]);
        let vars = overlaid(request.variables(), &job);
        assert_eq!(crate::trigger::ci_vars::parse(&vars).unwrap(), request);
        assert_eq!(vars(WEBHOOK_PAYLOAD), None);
        assert_eq!(vars(TRIGGER_PAYLOAD), None);
        assert_eq!(vars("CI_JOB_ID").as_deref(), Some("99"));
    }
}
