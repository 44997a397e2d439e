//! Starting the pipeline that answers one mention, with the `AI_*` variables `entrypoint run`
//! reads ([`crate::trigger::ci_vars::CiRequest::variables`], or for a request without a note
//! [`crate::trigger::event_vars::EventRequest::variables`]): they name the note or the event,
//! never carry its text, so the job reads the request back from GitLab and a forged variable cannot put
//! words in anyone's mouth. The digest of the body the guard checked goes along, so the job
//! refuses a note edited since.

use crate::gitlab::ids::ProjectRef;
use crate::gitlab::pipelines::{
    NewPipeline, Pipeline, PipelineTrigger, PipelineVariable, VariableType,
};
use crate::gitlab::{GitLab, GitLabError};
use crate::secret::Secret;
use crate::trigger::ci_vars::CiRequest;

/// How a project's pipeline is started.
#[derive(Clone, Debug)]
pub enum PipelineStart {
    /// `POST /projects/:id/trigger/pipeline` with this pipeline trigger token; the pipeline runs
    /// as the token's owner. <https://docs.gitlab.com/api/pipeline_triggers/#trigger-a-pipeline-with-a-token>
    TriggerToken(Secret),
    /// `POST /projects/:id/pipeline` with the bot token; the pipeline runs as the bot.
    /// <https://docs.gitlab.com/api/pipelines/#create-a-new-pipeline>
    BotToken,
}

/// Where and how the relay or the scan starts the pipeline for one mention.
#[derive(Clone, Copy, Debug)]
pub struct Launch<'a> {
    /// The client with the bot token.
    pub gitlab: &'a GitLab,
    /// How the pipeline is started.
    pub start: &'a PipelineStart,
    /// The branch it runs on.
    pub git_ref: &'a str,
}

/// Starts the pipeline for `request` the way the project is configured to. The client retries
/// what is safe to retry ([`crate::gitlab::retry`]); a start that still fails is the caller's
/// to report.
pub async fn start(
    launch: Launch<'_>,
    project: &ProjectRef,
    request: &CiRequest,
) -> Result<Pipeline, GitLabError> {
    start_with(launch, project, request.variables()).await
}

/// [`start`] with the variables given: those of a note ([`CiRequest::variables`]) or of a
/// request without one, plus any the caller adds (the attempt of a quota retry).
pub async fn start_with(
    launch: Launch<'_>,
    project: &ProjectRef,
    variables: std::collections::BTreeMap<&'static str, String>,
) -> Result<Pipeline, GitLabError> {
    let variables = variables.into_iter();
    match launch.start {
        PipelineStart::TriggerToken(token) => {
            let request = PipelineTrigger {
                token: token.clone(),
                git_ref: launch.git_ref.to_owned(),
                variables: variables
                    .map(|(key, value)| (key.to_owned(), value))
                    .collect(),
            };
            launch.gitlab.trigger_pipeline(project, &request).await
        }
        PipelineStart::BotToken => {
            let request = NewPipeline {
                git_ref: launch.git_ref.to_owned(),
                variables: variables
                    .map(|(key, value)| PipelineVariable {
                        key: key.to_owned(),
                        value,
                        variable_type: VariableType::EnvVar,
                    })
                    .collect(),
            };
            launch.gitlab.create_pipeline(project, &request).await
        }
    }
}
