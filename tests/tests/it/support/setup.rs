//! What the `entrypoint setup` stories share: a terminal that says nothing and agrees to
//! everything, and the options of a webhook-mode setup with the model key given.

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

/// `entrypoint setup --mode webhook --yes` for Claude in `project`, with a merge request for the
/// CI file and the templates of `tools/assistants` at `v1.0.0`.
pub fn webhook_options(project: u64, model_key: &str) -> Options {
    Options {
        project: ProjectRef::Id(ProjectId(project)),
        assistant: Assistant::Claude,
        mode: Mode::Webhook,
        bot_token: None,
        model_key: Some(Secret::new(model_key)),
        yes: true,
        merge_request: true,
        template: TemplateSource {
            project: "tools/assistants".into(),
            git_ref: "v1.0.0".into(),
        },
        handles: Handles::default(),
    }
}
