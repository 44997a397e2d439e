//! Starting the pipeline that answers one mention, with the `AI_*` variables `entrypoint run`
//! reads ([`crate::trigger::ci_vars`]): they name the note, never carry its text, so the job
//! reads the request back from GitLab and a forged variable cannot put words in anyone's mouth.
//! The digest of the body the relay checked goes along, so the job refuses a note edited since.

use std::collections::BTreeMap;

use crate::gitlab::GitLabError;
use crate::gitlab::pipelines::{
    NewPipeline, Pipeline, PipelineTrigger, PipelineVariable, VariableType,
};
use crate::relay::config::PipelineStart;
use crate::relay::projects::Project;
use crate::trigger::Trigger;

/// Starts the pipeline the way the project is configured to. The client retries what is safe
/// to retry ([`crate::gitlab::retry`]); a start that still fails is the caller's to report.
pub async fn start(
    project: &Project,
    trigger: &Trigger,
    variables: BTreeMap<String, String>,
) -> Result<Pipeline, GitLabError> {
    match &project.start {
        PipelineStart::TriggerToken(token) => {
            let request = PipelineTrigger {
                token: token.clone(),
                git_ref: project.git_ref.clone(),
                variables,
            };
            project
                .gitlab
                .trigger_pipeline(&trigger.project, &request)
                .await
        }
        PipelineStart::BotToken => {
            let request = NewPipeline {
                git_ref: project.git_ref.clone(),
                variables: variables
                    .into_iter()
                    .map(|(key, value)| PipelineVariable {
                        key,
                        value,
                        variable_type: VariableType::EnvVar,
                    })
                    .collect(),
            };
            project
                .gitlab
                .create_pipeline(&trigger.project, &request)
                .await
        }
    }
}
