//! `entrypoint finalize`, for the template's `after_script`: no placeholder is ever left
//! saying "working".
//!
//! GitLab runs `after_script` after a failed job, and since GitLab 17.0 also after a cancelled
//! one; a job that hits its timeout runs it too, with `CI_JOB_STATUS` telling how the job ended
//! (`success`, `failed`, `canceled`; newer runners report `timedout`).
//! <https://docs.gitlab.com/ci/yaml/#after_script>,
//! <https://docs.gitlab.com/ci/variables/predefined_variables/>
//!
//! Every placeholder the run recorded in its [`StateFile`] and did not finalize is replaced by
//! a short ending ("cancelled", "timed out", "failed") with the job link. It is idempotent: a
//! note that no longer carries the placeholder marker (the result got there first) is left
//! alone, and every replacement is recorded at once. Without a state file (the run died before
//! writing it), the placeholder is looked up in the thread by its marker and this job's URL.

use chrono::{DateTime, Utc};

use super::result::replace_placeholder;
use super::state::{StateError, StateFile};
use super::{JobLink, Placeholder};
use crate::agent::Assistant;
use crate::env::Env;
use crate::gitlab::ids::{NoteId, Noteable, ProjectRef};
use crate::gitlab::notes::NoteListOptions;
use crate::gitlab::{GitLab, GitLabError};
use crate::marker::{NoteRole, marker};
use crate::redact::Redactor;

/// How the job ended, as `after_script` sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobEnd {
    /// The script succeeded; a placeholder still "working" means the run stopped before
    /// posting its result.
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
}

impl JobEnd {
    /// Reads `CI_JOB_STATUS`. A `failed` job whose time is up (`CI_JOB_STARTED_AT` +
    /// `CI_JOB_TIMEOUT` seconds, within a minute, at `now`) counts as timed out, because older
    /// runners report a timeout as `failed`. `None` when the status is missing or unknown.
    pub fn from_env(vars: &dyn Env, now: DateTime<Utc>) -> Option<Self> {
        let status = vars.var("CI_JOB_STATUS")?.trim().to_ascii_lowercase();
        let end = match status.as_str() {
            "success" => Self::Succeeded,
            "failed" => Self::Failed,
            "canceled" | "cancelled" | "canceling" => Self::Cancelled,
            "timedout" | "timed_out" => Self::TimedOut,
            _ => return None,
        };
        if end == Self::Failed && time_is_up(vars, now) {
            return Some(Self::TimedOut);
        }
        Some(end)
    }
}

fn time_is_up(vars: &dyn Env, now: DateTime<Utc>) -> bool {
    let started = vars
        .var("CI_JOB_STARTED_AT")
        .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok());
    let timeout = vars
        .var("CI_JOB_TIMEOUT")
        .and_then(|s| s.trim().parse::<i64>().ok());
    match (started, timeout) {
        (Some(started), Some(timeout)) => {
            let deadline = started.with_timezone(&Utc) + chrono::Duration::seconds(timeout);
            now + chrono::Duration::seconds(60) >= deadline
        }
        _ => false,
    }
}

/// The text that replaces a placeholder the run could not replace itself. It carries the
/// result marker, so it is final: finalize never rewrites it.
pub(crate) fn ending_body(assistant: Assistant, end: JobEnd, job: Option<&JobLink>) -> String {
    let name = assistant.display_name();
    let (headline, advice) = match end {
        JobEnd::Cancelled => (
            format!("🚫 **{name}** was cancelled before it finished."),
            "Mention it again to start over.",
        ),
        JobEnd::TimedOut => (
            format!("⏱️ **{name}** ran out of time: the job hit its timeout."),
            "Raise the job's timeout (and `AI_TIMEOUT` below it), or ask for a smaller change.",
        ),
        JobEnd::Failed => (
            format!("❌ **{name}** could not finish: the job failed."),
            "The job log says why; mention it again once that is fixed.",
        ),
        JobEnd::Succeeded => (
            format!("❌ **{name}** stopped without posting a result."),
            "The job log says why; mention it again to retry.",
        ),
    };
    let job = job
        .map(|job| format!(" See the {}.", job.markdown()))
        .unwrap_or_default();
    format!(
        "{headline}{job} {advice}\n\n{}",
        marker(assistant, NoteRole::Result)
    )
}

/// Where to look for a placeholder when there is no state file: the request's thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    pub project: ProjectRef,
    pub noteable: Noteable,
    pub assistant: Assistant,
    /// The relay's placeholder, when the job was told about one.
    pub placeholder: Option<NoteId>,
}

/// What finalize did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalizeReport {
    /// Placeholders replaced with an ending.
    pub replaced: Vec<NoteId>,
    /// Placeholders found already final or deleted (left untouched).
    pub untouched: Vec<NoteId>,
    /// Placeholders that could not be checked or replaced, with GitLab's error; the others
    /// were still handled.
    pub failed: Vec<(NoteId, String)>,
}

/// Finalize failed.
#[derive(Debug, thiserror::Error)]
pub enum FinalizeError {
    /// The thread could not be searched for placeholders.
    #[error(transparent)]
    GitLab(#[from] GitLabError),
    /// A finalized placeholder could not be recorded.
    #[error(transparent)]
    State(#[from] StateError),
}

/// Replaces every placeholder of this job that still says "working" (see the module docs).
pub async fn finalize(
    gitlab: &GitLab,
    end: JobEnd,
    job: Option<&JobLink>,
    state: Option<&mut StateFile>,
    lookup: Option<&Lookup>,
    redactor: &Redactor,
) -> Result<FinalizeReport, FinalizeError> {
    let mut report = FinalizeReport::default();
    match state {
        Some(state) => {
            let open: Vec<_> = state
                .state()
                .placeholders
                .iter()
                .filter(|p| !p.finalized)
                .cloned()
                .collect();
            for p in open {
                let outcome =
                    end_placeholder(gitlab, &p.placeholder, p.internal, end, job, redactor).await;
                if record(&mut report, p.placeholder.note, outcome) {
                    state.mark_finalized(p.placeholder.note)?;
                }
            }
        }
        None => {
            let Some(lookup) = lookup else {
                return Ok(report);
            };
            for placeholder in find_placeholders(gitlab, lookup, job).await? {
                let outcome =
                    end_placeholder(gitlab, &placeholder, false, end, job, redactor).await;
                record(&mut report, placeholder.note, outcome);
            }
        }
    }
    Ok(report)
}

/// Files one outcome; true when the placeholder is settled (replaced, or final already).
fn record(report: &mut FinalizeReport, note: NoteId, outcome: Result<bool, GitLabError>) -> bool {
    match outcome {
        Ok(true) => report.replaced.push(note),
        Ok(false) => report.untouched.push(note),
        Err(error) => {
            tracing::warn!(%note, %error, "could not finalize a placeholder");
            report.failed.push((note, error.to_string()));
            return false;
        }
    }
    true
}

/// Replaces one placeholder if it still is one. `false` when it was already final or deleted.
async fn end_placeholder(
    gitlab: &GitLab,
    placeholder: &Placeholder,
    internal: bool,
    end: JobEnd,
    job: Option<&JobLink>,
    redactor: &Redactor,
) -> Result<bool, GitLabError> {
    let p = placeholder;
    let current = match gitlab.note(&p.project, p.noteable, p.note).await {
        Ok(note) => note,
        Err(error) if error.is_not_found() => return Ok(false),
        Err(error) => return Err(error),
    };
    let still_working = current
        .body
        .contains(&marker(p.assistant, NoteRole::Placeholder))
        && !current
            .body
            .contains(&marker(p.assistant, NoteRole::Result));
    if !still_working {
        return Ok(false);
    }
    let body = redactor.redact(&ending_body(p.assistant, end, job));
    replace_placeholder(gitlab, p, &body, internal).await?;
    Ok(true)
}

/// This job's placeholders in the thread: the relay's, and any note carrying the assistant's
/// placeholder marker and this job's URL.
async fn find_placeholders(
    gitlab: &GitLab,
    lookup: &Lookup,
    job: Option<&JobLink>,
) -> Result<Vec<Placeholder>, GitLabError> {
    let wanted = marker(lookup.assistant, NoteRole::Placeholder);
    let notes = gitlab
        .notes(&lookup.project, lookup.noteable, NoteListOptions::default())
        .await?;
    let mut found: Vec<NoteId> = notes
        .iter()
        .filter(|note| note.body.contains(&wanted))
        .filter(|note| {
            Some(note.id) == lookup.placeholder
                || job.is_some_and(|job| note.body.contains(&format!("({})", job.url)))
        })
        .map(|note| note.id)
        .collect();
    found.dedup();
    Ok(found
        .into_iter()
        .map(|note| Placeholder {
            assistant: lookup.assistant,
            project: lookup.project.clone(),
            noteable: lookup.noteable,
            note,
            discussion: None,
        })
        .collect())
}

/// The `entrypoint finalize` command over a job's variables: reads `CI_JOB_STATUS`, the state
/// file ([`StateFile::path_from_env`]) and, without one, the `AI_*` variables that name the
/// request, then finalizes. A job without our variables and state has nothing to finalize.
pub async fn run_command(vars: &dyn Env, redactor: &Redactor) -> anyhow::Result<FinalizeReport> {
    use anyhow::Context as _;

    let end = JobEnd::from_env(vars, Utc::now()).context(
        "CI_JOB_STATUS is not set or unknown: run `entrypoint finalize` from the job's after_script",
    )?;
    let job = JobLink::from_env(vars);
    let mut state = match StateFile::path_from_env(vars) {
        Some(path) => StateFile::load(&path)?,
        None => None,
    };
    let lookup = if state.is_none() && crate::trigger::ci_vars::present(vars) {
        let request = crate::trigger::ci_vars::parse(vars)?;
        Some(Lookup {
            project: request.project,
            noteable: request.noteable,
            assistant: request.assistant,
            placeholder: request.placeholder,
        })
    } else {
        None
    };
    if state.is_none() && lookup.is_none() {
        tracing::info!("no run state and no request variables: nothing to finalize");
        return Ok(FinalizeReport::default());
    }
    let config = crate::gitlab::ClientConfig::from_env(vars)?;
    let gitlab = GitLab::new(config)?;
    let report = finalize(
        &gitlab,
        end,
        job.as_ref(),
        state.as_mut(),
        lookup.as_ref(),
        redactor,
    )
    .await?;
    if let Some((note, error)) = report.failed.first() {
        anyhow::bail!(
            "{} placeholder(s) could not be finalized; note {note}: {error}",
            report.failed.len()
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marker::is_marked;
    use crate::test_support::vars;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_job_status_says_how_the_job_ended() {
        let now = at("2026-01-01T10:05:00Z");
        let end = |pairs: &[(&str, &str)]| JobEnd::from_env(&vars(pairs), now);
        assert_eq!(
            end(&[("CI_JOB_STATUS", "success")]),
            Some(JobEnd::Succeeded)
        );
        assert_eq!(
            end(&[("CI_JOB_STATUS", "canceled")]),
            Some(JobEnd::Cancelled)
        );
        assert_eq!(
            end(&[("CI_JOB_STATUS", "timedout")]),
            Some(JobEnd::TimedOut)
        );
        assert_eq!(end(&[("CI_JOB_STATUS", "failed")]), Some(JobEnd::Failed));
        assert_eq!(end(&[("CI_JOB_STATUS", "running")]), None);
        assert_eq!(end(&[]), None);
        let started = [
            ("CI_JOB_STATUS", "failed"),
            ("CI_JOB_STARTED_AT", "2026-01-01T10:00:00Z"),
            ("CI_JOB_TIMEOUT", "300"),
        ];
        assert_eq!(end(&started), Some(JobEnd::TimedOut));
        let early = [
            ("CI_JOB_STATUS", "failed"),
            ("CI_JOB_STARTED_AT", "2026-01-01T10:00:00Z"),
            ("CI_JOB_TIMEOUT", "3600"),
        ];
        assert_eq!(end(&early), Some(JobEnd::Failed));
    }

    #[test]
    fn endings_say_what_happened_link_the_job_and_are_final() {
        let job = JobLink {
            url: "https://gitlab.example.com/g/p/-/jobs/3".into(),
            id: Some(3),
        };
        let body = ending_body(Assistant::Claude, JobEnd::Cancelled, Some(&job));
        assert!(body.starts_with("🚫 **Claude** was cancelled"), "{body}");
        assert!(body.contains("[job #3](https://gitlab.example.com/g/p/-/jobs/3)"));
        assert!(is_marked(&body));
        assert!(!body.contains(&marker(Assistant::Claude, NoteRole::Placeholder)));
        assert!(ending_body(Assistant::Codex, JobEnd::TimedOut, None).contains("ran out of time"));
        assert!(ending_body(Assistant::Codex, JobEnd::Failed, None).contains("the job failed"));
    }
}
