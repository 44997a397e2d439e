//! CI results the prompt shows: a pipeline, its failed jobs, and the end of a job's log.
//! <https://docs.gitlab.com/api/jobs/>, <https://docs.gitlab.com/api/pipelines/>
//!
//! Reading jobs and logs needs `read_build` on the project (`authorize_read_builds!` in
//! GitLab's `lib/api/ci/jobs.rb`): Reporter and above, or anyone who can see the project when
//! its pipelines are public (<https://docs.gitlab.com/ci/pipelines/settings/#change-which-users-can-view-your-pipelines>);
//! otherwise 403. A job of another project, or no such job, is 404.

use serde::Deserialize;

use super::client::{GitLab, TextTail};
use super::error::Result;
use super::ids::{JobId, PipelineId, ProjectId, ProjectRef};
use super::pipelines::PipelineStatus;

/// A pipeline as a merge request's `head_pipeline` and `GET /projects/:id/pipelines/:id`
/// show it (the fields the context uses).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PipelineRef {
    /// Global id.
    pub id: PipelineId,
    /// The project it ran in: for a merge request from a fork, the fork.
    pub project_id: ProjectId,
    /// Commit built.
    pub sha: String,
    /// Branch or tag built.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Current status.
    pub status: PipelineStatus,
    /// Browser URL.
    pub web_url: String,
}

/// A job as `GET /projects/:id/jobs/:job_id` and the pipeline's job list return it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Job {
    /// Global id.
    pub id: JobId,
    /// The job's name in `.gitlab-ci.yml`.
    pub name: String,
    /// Its stage.
    pub stage: String,
    /// `failed`, `success`, `running`, … (the set grows with GitLab releases, so text).
    pub status: String,
    /// Why a failed job failed (`script_failure`, `job_execution_timeout`,
    /// `runner_system_failure`, …); GitLab adds values over releases (the enum in
    /// `app/models/concerns/enums/ci/commit_status.rb`), so it is kept as text. Only failed
    /// jobs carry it.
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// A failure that does not fail the pipeline.
    #[serde(default)]
    pub allow_failure: bool,
    /// Browser URL.
    pub web_url: String,
}

impl GitLab {
    /// `GET /projects/:id/pipelines/:pipeline_id`; `None` when missing or hidden.
    pub async fn pipeline(
        &self,
        project: &ProjectRef,
        pipeline: PipelineId,
    ) -> Result<Option<PipelineRef>> {
        self.get_optional(&project.api(format!("pipelines/{pipeline}")), &[])
            .await
    }

    /// The failed jobs of a pipeline (`scope[]=failed`), every page, oldest retry left out
    /// (GitLab lists only the latest attempt of each job unless `include_retried` is set).
    /// <https://docs.gitlab.com/api/jobs/#list-pipeline-jobs>
    pub async fn failed_jobs(
        &self,
        project: &ProjectRef,
        pipeline: PipelineId,
    ) -> Result<Vec<Job>> {
        self.get_all(
            &project.api(format!("pipelines/{pipeline}/jobs")),
            &[("scope[]", "failed".to_owned())],
        )
        .await
    }

    /// `GET /projects/:id/jobs/:job_id`; `None` when missing or hidden.
    pub async fn job(&self, project: &ProjectRef, job: JobId) -> Result<Option<Job>> {
        self.get_optional(&project.api(format!("jobs/{job}")), &[])
            .await
    }

    /// The end of a job's log (`GET /projects/:id/jobs/:job_id/trace`, `text/plain`; an
    /// empty body when the job has no log). GitLab serves the whole log and ignores `Range`
    /// (<https://gitlab.com/gitlab-org/gitlab/-/issues/30391>), so it is streamed and only
    /// the last `keep` bytes are kept; reading stops after `max_read` bytes.
    pub async fn job_log_tail(
        &self,
        project: &ProjectRef,
        job: JobId,
        keep: usize,
        max_read: u64,
    ) -> Result<TextTail> {
        self.get_text_tail(&project.api(format!("jobs/{job}/trace")), keep, max_read)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_job_parses() {
        let job: Job = serde_json::from_str(
            r#"{"id": 7, "status": "failed", "stage": "test", "name": "rspec",
                "ref": "main", "tag": false, "coverage": null, "allow_failure": false,
                "failure_reason": "script_failure",
                "web_url": "https://example.com/foo/bar/-/jobs/7",
                "pipeline": {"id": 6, "project_id": 1, "status": "failed"}}"#,
        )
        .unwrap();
        assert_eq!(job.id, JobId(7));
        assert_eq!(job.failure_reason.as_deref(), Some("script_failure"));
        let running: Job = serde_json::from_str(
            r#"{"id": 8, "status": "running", "stage": "test", "name": "x",
                "web_url": "https://example.com/foo/bar/-/jobs/8"}"#,
        )
        .unwrap();
        assert_eq!(running.failure_reason, None);
    }
}
