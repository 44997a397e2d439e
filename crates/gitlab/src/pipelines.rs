//! Starting pipelines: with a pipeline trigger token (the webhook relay) or with the access
//! token (`POST /projects/:id/pipeline`).
//! <https://docs.gitlab.com/api/pipeline_triggers/#trigger-a-pipeline-with-a-token>
//! <https://docs.gitlab.com/api/pipelines/#create-a-new-pipeline>

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::Result;
use super::ids::{PipelineId, ProjectId, ProjectRef};
use ai_core::secret::Secret;

/// `status` of a pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineStatus {
    /// `created`.
    Created,
    /// `waiting_for_resource`.
    WaitingForResource,
    /// `preparing`.
    Preparing,
    /// `pending`.
    Pending,
    /// `running`.
    Running,
    /// `success`.
    Success,
    /// `failed`.
    Failed,
    /// `canceling`.
    Canceling,
    /// `canceled`.
    Canceled,
    /// `skipped`.
    Skipped,
    /// `manual`.
    Manual,
    /// `scheduled`.
    Scheduled,
    /// A status this client does not know yet.
    #[serde(other)]
    Other,
}

/// A pipeline as the create and trigger endpoints return it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Pipeline {
    /// Global id.
    pub id: PipelineId,
    /// Number inside the project.
    pub iid: u64,
    /// The project.
    pub project_id: ProjectId,
    /// Commit built.
    pub sha: String,
    /// Branch or tag built.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Current status.
    pub status: PipelineStatus,
    /// Browser URL, for the "working on it" note.
    pub web_url: String,
}

/// `variable_type` of a pipeline variable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableType {
    /// An environment variable.
    #[default]
    EnvVar,
    /// A file whose path is put in the variable.
    File,
}

/// One variable for [`GitLab::create_pipeline`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PipelineVariable {
    /// Name.
    pub key: String,
    /// Value.
    pub value: String,
    /// Environment variable or file.
    pub variable_type: VariableType,
}

/// Body of `POST /projects/:id/pipeline`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewPipeline {
    /// Branch or tag to run.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Pipeline variables (subject to the project's "minimum role to use pipeline variables").
    pub variables: Vec<PipelineVariable>,
}

/// A trigger request: `token`, `ref` and `variables` (a map of name → value).
#[derive(Clone, Debug)]
pub struct PipelineTrigger {
    /// The pipeline trigger token (`glptt-…`), sent in the body, never in the URL.
    pub token: Secret,
    /// Branch or tag to run.
    pub git_ref: String,
    /// Pipeline variables.
    pub variables: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct TriggerBody<'a> {
    token: &'a str,
    #[serde(rename = "ref")]
    git_ref: &'a str,
    variables: &'a BTreeMap<String, String>,
}

/// A pipeline as `GET /projects/:id/pipelines` lists it (the fields the scan needs).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PipelineSummary {
    /// Global id.
    pub id: PipelineId,
    /// Current status.
    pub status: PipelineStatus,
    /// Branch or tag built.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// When GitLab created it: for a scheduled pipeline, when the schedule fired.
    pub created_at: DateTime<Utc>,
}

/// Filters for [`GitLab::latest_pipeline`], as the list endpoint names them.
/// <https://docs.gitlab.com/api/pipelines/#list-project-pipelines>
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipelineFilter {
    /// `source` (`schedule`, `push`, `api`, `trigger`, …).
    pub source: Option<String>,
    /// `status` (`success`, `failed`, …).
    pub status: Option<String>,
    /// `ref`.
    pub git_ref: Option<String>,
}

impl GitLab {
    /// The newest pipeline matching `filter` (`order_by=id`, `sort=desc`, `per_page=1`): one
    /// request, whatever the project's history.
    pub async fn latest_pipeline(
        &self,
        project: &ProjectRef,
        filter: &PipelineFilter,
    ) -> Result<Option<PipelineSummary>> {
        let mut query = vec![
            ("order_by", "id".to_owned()),
            ("sort", "desc".to_owned()),
            ("per_page", "1".to_owned()),
        ];
        for (name, value) in [
            ("source", &filter.source),
            ("status", &filter.status),
            ("ref", &filter.git_ref),
        ] {
            if let Some(value) = value {
                query.push((name, value.clone()));
            }
        }
        let page: Vec<PipelineSummary> = self.get(&project.api("pipelines"), &query).await?;
        Ok(page.into_iter().next())
    }

    /// `POST /projects/:id/trigger/pipeline`. Sent without our `PRIVATE-TOKEN`: the trigger
    /// token authenticates, and the pipeline runs as its owner.
    pub async fn trigger_pipeline(
        &self,
        project: &ProjectRef,
        trigger: &PipelineTrigger,
    ) -> Result<Pipeline> {
        let body = TriggerBody {
            token: trigger.token.expose(),
            git_ref: &trigger.git_ref,
            variables: &trigger.variables,
        };
        self.post_unauthenticated(&project.api("trigger/pipeline"), &body)
            .await
    }

    /// `POST /projects/:id/pipeline` as the token's user.
    pub async fn create_pipeline(
        &self,
        project: &ProjectRef,
        pipeline: &NewPipeline,
    ) -> Result<Pipeline> {
        self.post(&project.api("pipeline"), pipeline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_uses_gitlab_names() {
        let body = serde_json::to_value(NewPipeline {
            git_ref: "main".into(),
            variables: vec![PipelineVariable {
                key: "AI_FLOW_INPUT".into(),
                value: "x".into(),
                variable_type: VariableType::File,
            }],
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"ref": "main", "variables": [
                {"key": "AI_FLOW_INPUT", "value": "x", "variable_type": "file"}]})
        );
    }

    #[test]
    fn documented_pipeline_parses() {
        let p: Pipeline = serde_json::from_str(
            r#"{"id": 61, "iid": 21, "project_id": 1, "sha": "384c44",
                "ref": "main", "status": "pending", "source": "trigger",
                "web_url": "https://example.com/foo/bar/pipelines/61"}"#,
        )
        .unwrap();
        assert_eq!((p.id, p.status), (PipelineId(61), PipelineStatus::Pending));
        assert!(
            !format!(
                "{:?}",
                PipelineTrigger {
                    token: Secret::new("glptt-secret"),
                    git_ref: "main".into(),
                    variables: BTreeMap::new(),
                }
            )
            .contains("glptt-secret")
        );
    }
}
