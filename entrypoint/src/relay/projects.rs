//! Which GitLab client, branch and pipeline-start method serve a delivery's project: the
//! project's own `[[projects]]` entry, else `[defaults]` (a group webhook's other projects).

use std::sync::Arc;

use tokio::sync::OnceCell;

use super::config::{PipelineStart, ProjectRoute, RelayConfig};
use crate::gitlab::ids::{ProjectId, ProjectRef};
use crate::gitlab::{ClientBuildError, ClientConfig, GitLab, GitLabError, GitLabToken};
use crate::secret::Secret;
use crate::trigger::decision::BotIdentity;

/// A configured project, ready to use.
#[derive(Debug)]
pub struct Project {
    /// The client with the bot token for this project.
    pub gitlab: GitLab,
    /// How its pipelines are started.
    pub start: PipelineStart,
    /// The branch its pipelines run on.
    pub git_ref: String,
    /// The user behind the token, read once (`GET /user`) when first needed: issue and merge
    /// request events are decided by it ([`crate::trigger::event::HookChange::verdict`]), and
    /// the quota sweep finds its notes.
    bot: OnceCell<BotIdentity>,
}

impl Project {
    /// The bot user, once a worker has read it: intake decides without an API call.
    pub(crate) fn known_bot(&self) -> Option<&BotIdentity> {
        self.bot.get()
    }

    /// The bot user, read on first use and kept (a token's user never changes).
    pub async fn bot(&self) -> Result<&BotIdentity, GitLabError> {
        self.bot
            .get_or_try_init(|| BotIdentity::current(&self.gitlab))
            .await
    }
}

/// Every configured project, built once at start.
#[derive(Debug)]
pub struct Projects {
    listed: Vec<(ProjectRef, Arc<Project>)>,
    default: Option<Arc<Project>>,
}

impl Projects {
    /// Builds one client per distinct bot token.
    pub fn new(config: &RelayConfig) -> Result<Self, ClientBuildError> {
        let mut clients: Vec<(Secret, GitLab)> = Vec::new();
        let mut client_for = |token: &Secret| -> Result<GitLab, ClientBuildError> {
            if let Some((_, client)) = clients.iter().find(|(t, _)| t == token) {
                return Ok(client.clone());
            }
            let mut client_config =
                ClientConfig::new(config.gitlab.clone(), GitLabToken::new(token.clone()));
            client_config.retry = config.retry.clone();
            let client = GitLab::new(client_config)?;
            clients.push((token.clone(), client.clone()));
            Ok(client)
        };
        let mut build = |route: &ProjectRoute| -> Result<Arc<Project>, ClientBuildError> {
            let token = route.bot_token.as_ref().unwrap_or(&config.bot_token);
            Ok(Arc::new(Project {
                gitlab: client_for(token)?,
                start: route.start.clone(),
                git_ref: route.git_ref.clone(),
                bot: OnceCell::new(),
            }))
        };
        let listed = config
            .projects
            .iter()
            .map(|(key, route)| Ok((key.clone(), build(route)?)))
            .collect::<Result<_, ClientBuildError>>()?;
        let default = config.default_route.as_ref().map(&mut build).transpose()?;
        Ok(Self { listed, default })
    }

    /// Every configured project with its key (the sweep's list; `[defaults]` serves projects
    /// the relay learns of only from deliveries, so it is not among them).
    pub fn listed(&self) -> impl Iterator<Item = (&ProjectRef, &Arc<Project>)> {
        self.listed.iter().map(|(key, project)| (key, project))
    }

    /// The project with this id, or this path (`path_with_namespace`, any case), else the
    /// default; `None` when the relay does not serve it.
    pub fn find(&self, id: ProjectId, path: Option<&str>) -> Option<Arc<Project>> {
        self.listed
            .iter()
            .find(|(key, _)| match key {
                ProjectRef::Id(wanted) => *wanted == id,
                ProjectRef::Path(wanted) => path.is_some_and(|p| p.eq_ignore_ascii_case(wanted)),
            })
            .map(|(_, project)| Arc::clone(project))
            .or_else(|| self.default.clone())
    }
}
