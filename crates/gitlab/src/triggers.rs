//! Pipeline trigger tokens, which the webhook URL carries to start a pipeline.
//! <https://docs.gitlab.com/api/pipeline_triggers/>

use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::Result;
use super::ids::ProjectRef;
use super::users::UserBasic;
use ai_core::secret::Secret;

/// A trigger token. GitLab shows the full token only to its owner; others see its first four
/// characters, so only an owned token can be reused.
#[derive(Clone, Debug)]
pub struct TriggerToken {
    /// Id.
    pub id: u64,
    /// Description, which setup uses to find its own token again.
    pub description: String,
    /// The token (`glptt-…`), or its first characters when someone else owns it.
    pub token: Secret,
    /// Who the triggered pipelines run as.
    pub owner: Option<UserBasic>,
}

#[derive(Deserialize)]
struct Raw {
    id: u64,
    description: Option<String>,
    token: String,
    owner: Option<UserBasic>,
}

impl From<Raw> for TriggerToken {
    fn from(raw: Raw) -> Self {
        TriggerToken {
            id: raw.id,
            description: raw.description.unwrap_or_default(),
            token: Secret::new(raw.token),
            owner: raw.owner,
        }
    }
}

#[derive(Serialize)]
struct NewTrigger<'a> {
    description: &'a str,
}

impl GitLab {
    /// `GET /projects/:id/triggers` (every page). Maintainer and above.
    pub async fn trigger_tokens(&self, project: &ProjectRef) -> Result<Vec<TriggerToken>> {
        let raw: Vec<Raw> = self.get_all(&project.api("triggers"), &[]).await?;
        Ok(raw.into_iter().map(TriggerToken::from).collect())
    }

    /// `POST /projects/:id/triggers`: a new token owned by the caller.
    pub async fn create_trigger_token(
        &self,
        project: &ProjectRef,
        description: &str,
    ) -> Result<TriggerToken> {
        let raw: Raw = self
            .post(&project.api("triggers"), &NewTrigger { description })
            .await?;
        Ok(raw.into())
    }
}
