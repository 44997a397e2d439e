//! What the job of a pipeline recorded by the double starts from: the pipeline's variables as
//! its environment, and the request a comment named by our webhook template's variables makes.
//! The `webhook_day` example includes this file too (`#[path]`), so it replays a pipeline's job
//! the way these stories check it.

use doubles::gitlab::model::Pipeline;
use entrypoint::agent::Assistant;
use entrypoint::gitlab::ids::{NoteId, Noteable, ProjectRef};
use entrypoint::trigger::ci_vars::CiRequest;

/// The environment the job of `pipeline` in project `project` reads: the pipeline's variables
/// and GitLab's predefined `CI_PROJECT_ID`.
pub fn job_env(pipeline: &Pipeline, project: u64) -> impl Fn(&str) -> Option<String> + '_ {
    let project_id = project.to_string();
    move |name| match name {
        "CI_PROJECT_ID" => Some(project_id.clone()),
        _ => pipeline.variable(name).map(str::to_owned),
    }
}

/// The request for Claude that a comment named by the webhook template's `AI_HOOK_*` variables
/// makes: the note by id alone, no thread, placeholder or checked body yet (reading the note
/// back fills them in).
pub fn template_comment(project: ProjectRef, noteable: Noteable, note: NoteId) -> CiRequest {
    CiRequest {
        project,
        assistant: Assistant::Claude,
        noteable,
        note,
        discussion: None,
        placeholder: None,
        checked_body: None,
    }
}
