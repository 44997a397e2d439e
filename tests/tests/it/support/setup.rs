//! What `entrypoint setup` is given in the stories that run it as a library (`setup_project`,
//! `doctor_findings`): a maintainer answering yes to everything, with the model key on the
//! command line and the templates from a fixed project and tag.

use entrypoint::agent::{Assistant, Handles};
use entrypoint::gitlab::ids::{ProjectId, ProjectRef};
use entrypoint::secret::Secret;
use entrypoint::setup::{Mode, Options, TemplateSource};

/// Where the stories' CI include points: `tools/assistants` at `v1.0.0`.
pub fn template() -> TemplateSource {
    TemplateSource {
        project: "tools/assistants".into(),
        git_ref: "v1.0.0".into(),
    }
}

/// `entrypoint setup --yes --merge-request` for Claude on `project` in `mode`, with `model_key`.
pub fn unattended(project: u64, mode: Mode, model_key: &str) -> Options {
    Options {
        project: ProjectRef::Id(ProjectId(project)),
        assistant: Assistant::Claude,
        mode,
        bot_token: None,
        model_key: Some(Secret::new(model_key)),
        yes: true,
        merge_request: true,
        template: template(),
        handles: Handles::default(),
    }
}
