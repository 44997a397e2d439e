//! What the `entrypoint setup` stories share (`setup_project`, `doctor_findings`,
//! `setup_mention_round_trip`, `webhook_mode_template`): a terminal that says nothing and agrees
//! to everything, and a maintainer answering yes to everything, with the model key on the
//! command line and the templates from a fixed project and tag.

use entrypoint::agent::{Assistant, Handles};
use entrypoint::gitlab::ids::{ProjectId, ProjectRef};
use entrypoint::secret::Secret;
use entrypoint::setup::{Mode, Options, TemplateSource, Ui};

/// The terminal of `setup --yes`: the model key comes from the options, never from a prompt.
pub struct Quiet;

impl Ui for Quiet {
    fn say(&mut self, _line: &str) {}
    fn confirm(&mut self, _question: &str) -> anyhow::Result<bool> {
        Ok(true)
    }
    fn read_secret(&mut self, _prompt: &str) -> anyhow::Result<Secret> {
        anyhow::bail!("the key comes from the options")
    }
}

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

/// `entrypoint setup --mode webhook --yes --merge-request` for Claude in `project`.
pub fn webhook_options(project: u64, model_key: &str) -> Options {
    unattended(project, Mode::Webhook, model_key)
}
