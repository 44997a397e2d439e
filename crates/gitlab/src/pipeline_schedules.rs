//! Pipeline schedules: the polling alternative to webhooks (`--mode scan`).
//! <https://docs.gitlab.com/api/pipeline_schedules/>

use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::Result;
use super::ids::ProjectRef;

/// A schedule as listed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PipelineSchedule {
    /// Id.
    pub id: u64,
    /// Description, which setup uses to find its own schedule again.
    pub description: String,
    /// Branch it runs on.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Cron expression.
    pub cron: String,
    /// Whether it runs.
    pub active: bool,
}

/// Body of `POST /projects/:id/pipeline_schedules`.
#[derive(Clone, Debug, Serialize)]
pub struct NewPipelineSchedule {
    /// Description.
    pub description: String,
    /// Branch to run on.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Cron expression, e.g. `*/10 * * * *`.
    pub cron: String,
    /// Time zone of the cron expression.
    pub cron_timezone: String,
    /// Whether it runs.
    pub active: bool,
}

#[derive(Serialize)]
struct NewScheduleVariable<'a> {
    key: &'a str,
    value: &'a str,
    variable_type: &'static str,
}

impl GitLab {
    /// `GET /projects/:id/pipeline_schedules` (every page).
    pub async fn pipeline_schedules(&self, project: &ProjectRef) -> Result<Vec<PipelineSchedule>> {
        self.get_all(&project.api("pipeline_schedules"), &[]).await
    }

    /// `POST /projects/:id/pipeline_schedules`; it runs as the caller.
    pub async fn create_pipeline_schedule(
        &self,
        project: &ProjectRef,
        new: &NewPipelineSchedule,
    ) -> Result<PipelineSchedule> {
        self.post(&project.api("pipeline_schedules"), new).await
    }

    /// `POST /projects/:id/pipeline_schedules/:pipeline_schedule_id/variables` (an
    /// environment variable).
    pub async fn add_pipeline_schedule_variable(
        &self,
        project: &ProjectRef,
        schedule_id: u64,
        key: &str,
        value: &str,
    ) -> Result<()> {
        let _: serde_json::Value = self
            .post(
                &project.api(format!("pipeline_schedules/{schedule_id}/variables")),
                &NewScheduleVariable {
                    key,
                    value,
                    variable_type: "env_var",
                },
            )
            .await?;
        Ok(())
    }
}
