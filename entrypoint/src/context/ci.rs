//! CI results for "fix the failing pipeline": the entrypoint, never the model (it holds no
//! token), reads the pipeline a request is about and the end of each failed job's log.
//!
//! Which pipeline: on a merge request, its head pipeline (the pipeline of the source branch's
//! head commit, as GitLab links it); on an issue, every pipeline or job of the same project that
//! the description, the request or its thread links (`<project>/-/pipelines/N`,
//! `<project>/-/jobs/N`). Job logs can be huge and hold secrets: each is streamed keeping only
//! its end, cut to `AI_CONTEXT_MAX_LOG_BYTES` and `AI_CONTEXT_MAX_LOG_LINES`, cleaned of
//! terminal escapes and redacted with the job's secrets and the well-known token formats before
//! it is rendered. Everything here is best effort: a log that cannot be read is named with the
//! reason, and the run goes on.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use super::budget::ContextBudget;
use super::gather::Context;
use super::sanitize::strip_invisible;
use crate::gitlab::ids::{JobId, PipelineId, ProjectRef};
use crate::gitlab::jobs::{Job, PipelineRef};
use crate::gitlab::pipelines::PipelineStatus;
use crate::gitlab::{GitLab, GitLabError, TextTail};
use crate::redact::Redactor;

/// Pipelines and jobs linked from an issue that are read at most: links beyond are listed as
/// not read, so a description full of links cannot turn one mention into hundreds of calls.
pub(crate) const MAX_LINKED: usize = 3;

/// Bytes of one log read at most. GitLab's own log limit is configurable and can be far
/// larger; past this, the end of the log is out of reach and the prompt says so.
pub(crate) const MAX_LOG_DOWNLOAD: u64 = 64 * 1024 * 1024;

/// What is known about one job's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogExcerpt {
    /// The end of the log, cleaned and redacted.
    Shown {
        /// The text shown.
        text: String,
        /// Lines shown.
        lines_shown: usize,
        /// Lines in the whole log.
        total_lines: u64,
        /// Bytes in the whole log.
        total_bytes: u64,
    },
    /// The job has no log (GitLab answers an empty body).
    Empty,
    /// The log is longer than [`MAX_LOG_DOWNLOAD`]; its end was not reached.
    TooLarge,
    /// GitLab refused or failed: the reason.
    Unreadable(String),
    /// Not read: over `AI_CONTEXT_MAX_FAILED_JOBS`.
    NotRead,
}

/// One job and its log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobReport {
    /// The job.
    pub job: Job,
    /// Its log's end.
    pub log: LogExcerpt,
}

/// One pipeline and its failed jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineReport {
    /// The pipeline.
    pub pipeline: PipelineRef,
    /// Its failed jobs, with logs for the first `AI_CONTEXT_MAX_FAILED_JOBS`; `Err` with the
    /// reason when the list could not be read.
    pub failed_jobs: Result<Vec<JobReport>, String>,
}

/// One thing the CI section shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CiItem {
    /// A pipeline (the merge request's head pipeline, or one an issue links).
    Pipeline(PipelineReport),
    /// A job an issue links.
    Job(JobReport),
    /// A link that was not followed or could not be read: what it named and why.
    Skipped {
        /// `pipeline 12` or `job 34`.
        what: String,
        /// Why.
        reason: String,
    },
}

/// The CI section of the context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CiContext {
    /// Pipelines and jobs, in the order found.
    pub items: Vec<CiItem>,
    /// For a merge request without a head pipeline: say so, so the model does not look for one.
    pub merge_request_without_pipeline: bool,
    /// API requests made.
    pub api_calls: u32,
}

impl CiContext {
    /// True when there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && !self.merge_request_without_pipeline
    }

    /// Logs shown, for the job log's summary line.
    pub fn logs_shown(&self) -> usize {
        self.jobs()
            .filter(|j| matches!(j.log, LogExcerpt::Shown { .. }))
            .count()
    }

    fn jobs(&self) -> impl Iterator<Item = &JobReport> {
        self.items.iter().flat_map(|item| match item {
            CiItem::Pipeline(p) => p.failed_jobs.as_ref().map(|j| j.iter()).unwrap_or_default(),
            CiItem::Job(j) => std::slice::from_ref(j).iter(),
            CiItem::Skipped { .. } => [].iter(),
        })
    }
}

/// A pipeline or job an issue links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiLink {
    /// `<project>/-/pipelines/N`.
    Pipeline(PipelineId),
    /// `<project>/-/jobs/N`.
    Job(JobId),
}

/// The pipelines and jobs of the project at `project_web_url` linked in `texts`, in order,
/// without repeats. Links to other projects (or other hosts) are not followed: job and pipeline
/// ids are global, but the job's secrets and the model's view are this project's.
pub fn links(project_web_url: &str, texts: &[&str]) -> Vec<CiLink> {
    let project = project_web_url.trim_end_matches('/');
    let Ok(pattern) = Regex::new(&format!(
        r"{}/-/(pipelines|jobs)/([0-9]{{1,18}})\b",
        regex::escape(project)
    )) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for text in texts {
        for capture in pattern.captures_iter(text) {
            // A longer project path (`…/widgets-old`) cannot match: `/-/` must follow at once;
            // a prefix (`…/acme/widgets` inside `…/x/acme/widgets`) must start the URL.
            let start = capture.get(0).map_or(0, |m| m.start());
            if text[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '/' || c == '.' || c == '-')
            {
                continue;
            }
            let Ok(id) = capture[2].parse::<u64>() else {
                continue;
            };
            let link = match &capture[1] {
                "pipelines" => CiLink::Pipeline(PipelineId(id)),
                _ => CiLink::Job(JobId(id)),
            };
            if !found.contains(&link) {
                found.push(link);
            }
        }
    }
    found
}

/// Reads the CI results `context` is about (see the module comment).
pub async fn gather_ci(
    gitlab: &GitLab,
    project: &ProjectRef,
    context: &Context,
    budget: &ContextBudget,
    redactor: &Redactor,
) -> CiContext {
    let mut ci = CiContext::default();
    let mut reader = Reader {
        gitlab,
        budget,
        redactor,
        api_calls: 0,
        logs_read: 0,
    };
    if let Some(mr) = &context.merge_request {
        match &mr.read.head_pipeline {
            Some(pipeline) => {
                let report = reader.pipeline_report(pipeline.clone()).await;
                ci.items.push(CiItem::Pipeline(report));
            }
            None => ci.merge_request_without_pipeline = true,
        }
    } else {
        let texts = context.request_texts();
        for (index, link) in links(context.project_web_url(), &texts)
            .into_iter()
            .enumerate()
        {
            let what = match link {
                CiLink::Pipeline(id) => format!("pipeline {id}"),
                CiLink::Job(id) => format!("job {id}"),
            };
            if index >= MAX_LINKED {
                ci.items.push(CiItem::Skipped {
                    what,
                    reason: format!(
                        "only the first {MAX_LINKED} linked pipelines and jobs are read"
                    ),
                });
                continue;
            }
            let item = match link {
                CiLink::Pipeline(id) => {
                    reader.api_calls += 1;
                    match found(gitlab.pipeline(project, id).await) {
                        Ok(pipeline) => CiItem::Pipeline(reader.pipeline_report(pipeline).await),
                        Err(reason) => CiItem::Skipped { what, reason },
                    }
                }
                CiLink::Job(id) => {
                    reader.api_calls += 1;
                    match found(gitlab.job(project, id).await) {
                        Ok(job) => {
                            let log = reader.log(project, &job).await;
                            CiItem::Job(JobReport { job, log })
                        }
                        Err(reason) => CiItem::Skipped { what, reason },
                    }
                }
            };
            ci.items.push(item);
        }
    }
    ci.api_calls = reader.api_calls;
    ci
}

struct Reader<'a> {
    gitlab: &'a GitLab,
    budget: &'a ContextBudget,
    redactor: &'a Redactor,
    api_calls: u32,
    /// Logs read so far, against `AI_CONTEXT_MAX_FAILED_JOBS`.
    logs_read: usize,
}

impl Reader<'_> {
    /// The pipeline's failed jobs, with the logs of as many as the budget allows. Jobs are
    /// read in the pipeline's project (a fork's, for a fork's merge request).
    async fn pipeline_report(&mut self, pipeline: PipelineRef) -> PipelineReport {
        let project = ProjectRef::Id(pipeline.project_id);
        self.api_calls += 1;
        let failed_jobs = match self.gitlab.failed_jobs(&project, pipeline.id).await {
            Ok(jobs) => {
                let mut reports = Vec::with_capacity(jobs.len());
                for job in jobs {
                    let log = self.log(&project, &job).await;
                    reports.push(JobReport { job, log });
                }
                Ok(reports)
            }
            Err(error) => Err(short(&error)),
        };
        PipelineReport {
            pipeline,
            failed_jobs,
        }
    }

    async fn log(&mut self, project: &ProjectRef, job: &Job) -> LogExcerpt {
        if self.logs_read >= self.budget.max_failed_jobs {
            return LogExcerpt::NotRead;
        }
        self.logs_read += 1;
        self.api_calls += 1;
        // Terminal escapes are removed after the cut; keep room for them.
        let keep = self.budget.max_log_bytes.saturating_mul(4).max(4096);
        match self
            .gitlab
            .job_log_tail(project, job.id, keep, MAX_LOG_DOWNLOAD)
            .await
        {
            Ok(tail) if !tail.complete => LogExcerpt::TooLarge,
            Ok(tail) if tail.total_bytes == 0 => LogExcerpt::Empty,
            Ok(tail) => excerpt(&tail, self.budget, self.redactor),
            Err(error) => LogExcerpt::Unreadable(short(&error)),
        }
    }
}

/// GitLab's status, or the error's first line: enough for "why is this log missing".
/// A linked pipeline or job GitLab returned, or why it is left out: gone, or not readable with
/// this token.
fn found<T>(read: Result<Option<T>, GitLabError>) -> Result<T, String> {
    match read {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err("not found in this project".to_owned()),
        Err(error) => Err(short(&error)),
    }
}

fn short(error: &GitLabError) -> String {
    match error.status() {
        Some(status) => format!("GitLab answered {status}"),
        None => error
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// The end of a log as the prompt shows it: a partial first line dropped (it may hold the
/// second half of a secret the redactor cannot recognise), cleaned, redacted, then cut to the
/// line and byte budgets from the end.
pub(crate) fn excerpt(tail: &TextTail, budget: &ContextBudget, redactor: &Redactor) -> LogExcerpt {
    let mut bytes = tail.bytes.as_slice();
    if !tail.is_whole() {
        match bytes.iter().position(|b| *b == b'\n') {
            Some(at) => bytes = &bytes[at + 1..],
            None => bytes = &[],
        }
    }
    let cleaned = clean_log(&String::from_utf8_lossy(bytes));
    let redacted = redactor.remove_secrets(&cleaned);
    let lines: Vec<&str> = redacted.lines().collect();
    let mut shown: Vec<&str> = Vec::new();
    let mut used = 0usize;
    for line in lines.iter().rev() {
        if shown.len() >= budget.max_log_lines || used + line.len() + 1 > budget.max_log_bytes {
            break;
        }
        used += line.len() + 1;
        shown.push(line);
    }
    shown.reverse();
    LogExcerpt::Shown {
        lines_shown: shown.len(),
        text: shown.join("\n"),
        total_lines: tail.total_lines,
        total_bytes: tail.total_bytes,
    }
}

/// Terminal colour and cursor sequences (CSI, OSC, and two-byte escapes).
#[allow(clippy::expect_used)] // a constant pattern, compiled by the unit tests
static ESCAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
        .expect("the escape pattern is a valid expression")
});

/// GitLab Runner's collapsible section markers (`section_start:1700000000:step_script[collapsed=true]`).
/// <https://docs.gitlab.com/ci/jobs/job_logs/#custom-collapsible-sections>
#[allow(clippy::expect_used)] // a constant pattern, compiled by the unit tests
static SECTIONS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"section_(?:start|end):[0-9]+:[A-Za-z0-9_.\-]+(?:\[[^\]\n]*\])?")
        .expect("the section pattern is a valid expression")
});

/// A log as a person reads it in GitLab: no escape sequences or section markers, each line as
/// its last carriage return left it (progress bars), no other control or invisible characters.
pub(crate) fn clean_log(text: &str) -> String {
    let without_escapes = ESCAPES.replace_all(text, "");
    let without_sections = SECTIONS.replace_all(&without_escapes, "");
    let mut out = String::with_capacity(without_sections.len());
    for line in without_sections.split('\n') {
        let line = line
            .split('\r')
            .rfind(|part| !part.trim().is_empty())
            .unwrap_or_default();
        let visible: String = line
            .chars()
            .filter(|c| *c == '\t' || !c.is_control())
            .collect();
        out.push_str(&strip_invisible(&visible));
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

/// The CI section in Markdown, every text from GitLab users or the repository (job names, log
/// lines) inside `untrusted` blocks; what was cut is said outside them.
pub fn render_ci(
    ci: &CiContext,
    budget: &ContextBudget,
    untrusted: &dyn Fn(&str, &str) -> String,
) -> String {
    let mut out = String::new();
    if ci.is_empty() {
        return out;
    }
    out.push_str("\n### CI results\n\n");
    if ci.merge_request_without_pipeline {
        out.push_str("No pipeline has run for the merge request's head commit.\n");
    }
    for item in &ci.items {
        match item {
            CiItem::Pipeline(report) => {
                let p = &report.pipeline;
                let _ = writeln!(
                    out,
                    "Pipeline {} ({}) on `{}` at {}: **{}**.",
                    p.id,
                    p.web_url,
                    p.git_ref.replace('`', "'"),
                    short_sha(&p.sha),
                    status_word(&p.status),
                );
                match &report.failed_jobs {
                    Err(reason) => {
                        let _ = writeln!(out, "Its jobs could not be read: {reason}.");
                    }
                    Ok(jobs) if jobs.is_empty() => {
                        out.push_str("No job of it has failed.\n");
                    }
                    Ok(jobs) => {
                        let _ = writeln!(out, "Failed jobs: {}.\n", jobs.len());
                        for job in jobs {
                            render_job(&mut out, job, budget, untrusted);
                        }
                    }
                }
            }
            CiItem::Job(job) => {
                out.push_str("A linked job:\n\n");
                render_job(&mut out, job, budget, untrusted);
            }
            CiItem::Skipped { what, reason } => {
                let _ = writeln!(out, "The linked {what} was not read: {reason}.");
            }
        }
    }
    out
}

fn render_job(
    out: &mut String,
    report: &JobReport,
    budget: &ContextBudget,
    untrusted: &dyn Fn(&str, &str) -> String,
) {
    let job = &report.job;
    let mut facts = format!("Job {} ({}), status {}", job.id, job.web_url, job.status);
    if let Some(reason) = &job.failure_reason {
        let _ = write!(facts, ", failure reason `{reason}`");
    }
    if job.allow_failure {
        facts.push_str(", allowed to fail");
    }
    let _ = writeln!(out, "{facts}.");
    let name = format!("Name: {}\nStage: {}\n", job.name, job.stage);
    let log_note = match &report.log {
        LogExcerpt::Shown {
            text,
            lines_shown,
            total_lines,
            total_bytes,
        } => {
            let _ = writeln!(
                out,
                "Its log: the last {lines_shown} of {total_lines} lines ({total_bytes} bytes in all), secrets redacted; cut at AI_CONTEXT_MAX_LOG_LINES={} / AI_CONTEXT_MAX_LOG_BYTES={}.",
                budget.max_log_lines, budget.max_log_bytes
            );
            let fence = fence_for(text);
            Some(format!("{fence}text\n{text}\n{fence}\n"))
        }
        LogExcerpt::Empty => {
            out.push_str("It has no log.\n");
            None
        }
        LogExcerpt::TooLarge => {
            let _ = writeln!(
                out,
                "Its log is larger than {} MiB, so its end was not read.",
                MAX_LOG_DOWNLOAD / (1024 * 1024)
            );
            None
        }
        LogExcerpt::Unreadable(reason) => {
            let _ = writeln!(out, "Its log could not be read: {reason}.");
            None
        }
        LogExcerpt::NotRead => {
            let _ = writeln!(
                out,
                "Its log was not read (AI_CONTEXT_MAX_FAILED_JOBS={}).",
                budget.max_failed_jobs
            );
            None
        }
    };
    let body = match log_note {
        Some(log) => format!("{name}{log}"),
        None => name,
    };
    out.push_str(&untrusted(&format!("job {} and its log", job.id), &body));
    out.push('\n');
}

/// A code fence longer than any run of backticks in `text`, so the log cannot close it.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn status_word(status: &PipelineStatus) -> &'static str {
    match status {
        PipelineStatus::Created => "created",
        PipelineStatus::WaitingForResource => "waiting for resource",
        PipelineStatus::Preparing => "preparing",
        PipelineStatus::Pending => "pending",
        PipelineStatus::Running => "running",
        PipelineStatus::Success => "passed",
        PipelineStatus::Failed => "failed",
        PipelineStatus::Canceling => "canceling",
        PipelineStatus::Canceled => "canceled",
        PipelineStatus::Skipped => "skipped",
        PipelineStatus::Manual => "manual",
        PipelineStatus::Scheduled => "scheduled",
        PipelineStatus::Other => "in a state this version does not know",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Handles;

    #[test]
    fn links_of_this_project_only() {
        let project = "https://gitlab.example.com/acme/widgets";
        let found = links(
            project,
            &[
                "see https://gitlab.example.com/acme/widgets/-/pipelines/12 and https://gitlab.example.com/acme/widgets/-/jobs/34/raw",
                "not https://gitlab.example.com/acme/widgets-old/-/jobs/1 nor https://gitlab.example.com/x/acme/widgets/-/jobs/2 nor https://evil.example/acme/widgets/-/jobs/3 nor https://gitlab.example.com.evil/acme/widgets/-/jobs/4",
                "again https://gitlab.example.com/acme/widgets/-/pipelines/12",
            ],
        );
        assert_eq!(
            found,
            [CiLink::Pipeline(PipelineId(12)), CiLink::Job(JobId(34))]
        );
    }

    #[test]
    fn logs_are_cleaned_as_gitlab_shows_them() {
        let raw = "section_start:1700000000:step_script[collapsed=true]\r\x1b[0K\x1b[36;1mExecuting \"step_script\"\x1b[0;m\n\
                   Downloading 10%\rDownloading 100%\n\
                   \x1b[31;1mERROR: test failed\x1b[0;m\u{202E}\n\
                   section_end:1700000001:step_script\r\x1b[0K\n";
        assert_eq!(
            clean_log(raw),
            "Executing \"step_script\"\nDownloading 100%\nERROR: test failed"
        );
    }

    fn budget(lines: usize, bytes: usize) -> ContextBudget {
        ContextBudget {
            max_log_lines: lines,
            max_log_bytes: bytes,
            ..ContextBudget::default()
        }
    }

    #[test]
    fn the_excerpt_is_the_redacted_end_within_both_caps() {
        let mut redactor = Redactor::new(Handles::default());
        redactor.add_secret("hunter2-hunter2");
        let log = "line 1\nline 2\npassword hunter2-hunter2\ntoken glpat-abcdefghijklmnopqrstuv\nlast line\n";
        let tail = TextTail {
            bytes: log.as_bytes().to_vec(),
            total_bytes: log.len() as u64,
            total_lines: 5,
            complete: true,
        };
        let LogExcerpt::Shown {
            text, lines_shown, ..
        } = excerpt(&tail, &budget(3, 10_000), &redactor)
        else {
            panic!("shown");
        };
        assert_eq!(lines_shown, 3);
        assert_eq!(text, "password [REDACTED]\ntoken [REDACTED]\nlast line");
        let LogExcerpt::Shown { text, .. } = excerpt(&tail, &budget(100, 12), &redactor) else {
            panic!("shown");
        };
        assert_eq!(text, "last line");
    }

    #[test]
    fn a_tail_that_starts_inside_a_line_drops_that_line() {
        let redactor = Redactor::new(Handles::default());
        // The cut left the end of a token the patterns no longer recognise.
        let tail = TextTail {
            bytes: b"ijklmnopqrstuvwxyz0123\nerror: boom".to_vec(),
            total_bytes: 10_000,
            total_lines: 300,
            complete: true,
        };
        let LogExcerpt::Shown { text, .. } = excerpt(&tail, &budget(100, 10_000), &redactor) else {
            panic!("shown");
        };
        assert_eq!(text, "error: boom");
    }

    #[test]
    fn a_log_cannot_close_its_fence() {
        assert_eq!(fence_for("no ticks"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }
}
