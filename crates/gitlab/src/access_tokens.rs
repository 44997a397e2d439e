//! Project access tokens: the bot identity setup creates.
//! <https://docs.gitlab.com/api/project_access_tokens/>
//!
//! Creating one makes a bot user (`project_<id>_bot_<hex>`, display name = token name) with the
//! token's role. The endpoint needs a personal access token of a Maintainer; on GitLab.com Free
//! the feature is unavailable (listing answers 401/403/404, creating 400 "User does not have
//! permission to create project access token",
//! <https://docs.gitlab.com/user/project/settings/project_access_tokens/>).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::Result;
use super::ids::{ProjectRef, UserId};
use super::members::AccessLevel;
use ai_core::secret::Secret;

/// A project access token as listed (never with its value).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ProjectAccessToken {
    /// Token id.
    pub id: u64,
    /// Name, also the bot user's display name.
    pub name: String,
    /// The bot user.
    pub user_id: UserId,
    /// Scopes such as `api`.
    pub scopes: Vec<String>,
    /// Not revoked and not expired.
    pub active: bool,
    /// Revoked.
    pub revoked: bool,
    /// `YYYY-MM-DD`, or `null` on instances that allow tokens without expiry.
    pub expires_at: Option<NaiveDate>,
    /// The bot user's role.
    pub access_level: AccessLevel,
}

/// A freshly created token: the only time GitLab shows its value.
#[derive(Clone, Debug)]
pub struct CreatedAccessToken {
    /// What GitLab lists about it.
    pub info: ProjectAccessToken,
    /// The token itself.
    pub token: Secret,
}

/// Body of `POST /projects/:id/access_tokens`.
#[derive(Clone, Debug, Serialize)]
pub struct NewAccessToken {
    /// Name, also the bot user's display name.
    pub name: String,
    /// Scopes such as `api`.
    pub scopes: Vec<String>,
    /// The bot user's role.
    pub access_level: AccessLevel,
    /// Expiry (`YYYY-MM-DD`); at most 365 days ahead by default.
    pub expires_at: NaiveDate,
    /// Shown in the token list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    #[serde(flatten)]
    info: ProjectAccessToken,
    token: String,
}

impl GitLab {
    /// `GET /projects/:id/access_tokens` (every page).
    pub async fn project_access_tokens(
        &self,
        project: &ProjectRef,
    ) -> Result<Vec<ProjectAccessToken>> {
        self.get_all(&project.api("access_tokens"), &[]).await
    }

    /// `POST /projects/:id/access_tokens`.
    pub async fn create_project_access_token(
        &self,
        project: &ProjectRef,
        new: &NewAccessToken,
    ) -> Result<CreatedAccessToken> {
        let created: Created = self.post(&project.api("access_tokens"), new).await?;
        Ok(CreatedAccessToken {
            info: created.info,
            token: Secret::new(created.token),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_create_answer_parses_and_hides_the_token() {
        let c: Created = serde_json::from_str(
            r#"{"scopes":["api","read_repository"],"active":true,"name":"test","revoked":false,
                "created_at":"2021-01-21T19:35:37.921Z","description":"d","user_id":166,"id":58,
                "expires_at":"2021-01-31","token":"D4y-Wzr-secret","access_level":30}"#,
        )
        .unwrap();
        let created = CreatedAccessToken {
            info: c.info,
            token: Secret::new(c.token),
        };
        assert_eq!(created.info.access_level, AccessLevel::DEVELOPER);
        assert!(!format!("{created:?}").contains("D4y-Wzr-secret"));
    }
}
