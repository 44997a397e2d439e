//! Starting the pipeline that answers one mention, with the `AI_*` variables `entrypoint run`
//! reads ([`crate::trigger::ci_vars`]): they name the note, never carry its text, so the job
//! reads the request back from GitLab and a forged variable cannot put words in anyone's mouth.
//! The digest of the body the relay checked goes along, so the job refuses a note edited since.

use std::collections::BTreeMap;

use super::projects::Project;
use crate::assistant::Assistant;
use crate::gitlab::GitLabError;
use crate::gitlab::ids::NoteId;
use crate::gitlab::pipelines::{
    NewPipeline, Pipeline, PipelineTrigger, PipelineVariable, VariableType,
};
use crate::relay::config::PipelineStart;
use crate::trigger::Trigger;
use crate::trigger::ci_vars::names;

/// The variables for the pipeline answering `trigger` for `assistant`, whose placeholder is
/// `placeholder`.
pub fn variables(
    trigger: &Trigger,
    assistant: Assistant,
    placeholder: NoteId,
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::from([
        (names::ASSISTANT.to_owned(), assistant.name().to_owned()),
        (
            names::NOTEABLE_TYPE.to_owned(),
            trigger.noteable.gitlab_type().to_owned(),
        ),
        (
            names::NOTEABLE_IID.to_owned(),
            trigger.noteable.iid().to_string(),
        ),
        (
            names::PLACEHOLDER_NOTE_ID.to_owned(),
            placeholder.to_string(),
        ),
    ]);
    if let Some(note) = &trigger.note {
        vars.insert(names::NOTE_ID.to_owned(), note.id.to_string());
        // The body the relay's guard found unchanged; the job refuses the note if it differs.
        vars.insert(
            names::NOTE_SHA256.to_owned(),
            crate::guard::edit::body_digest(&note.body),
        );
        if let Some(discussion) = &note.discussion {
            vars.insert(names::DISCUSSION_ID.to_owned(), discussion.to_string());
        }
    }
    vars
}

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
