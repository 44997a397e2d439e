//! The token the client authenticates with, as GitLab describes it: its scopes, whether it is
//! active, when it expires.
//! <https://docs.gitlab.com/api/personal_access_tokens/#self-inform> (GitLab 15.5+)
//!
//! Project and group access tokens are personal access tokens of their bot user, so `self`
//! answers for them too. A revoked or expired token never gets this far: GitLab refuses it
//! with `401 {"error":"invalid_token","error_description":"Token was revoked. …"}` (or
//! `"Token is expired. …"`), as for every other endpoint.

use chrono::NaiveDate;
use serde::Deserialize;

use super::client::GitLab;
use super::error::Result;
use super::ids::UserId;

/// `GET /personal_access_tokens/self`, the fields doctor reads.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TokenSelf {
    /// Token id.
    pub id: u64,
    /// The name given at creation (a project access token's name is its bot's display name).
    pub name: String,
    /// Scopes such as `api`, `read_api`.
    pub scopes: Vec<String>,
    /// Whose token it is.
    pub user_id: UserId,
    /// Neither revoked nor expired.
    pub active: bool,
    /// Revoked.
    pub revoked: bool,
    /// `YYYY-MM-DD`, or `null` on instances that allow tokens without expiry.
    pub expires_at: Option<NaiveDate>,
}

impl TokenSelf {
    /// Whether the token may call every endpoint the bot needs (notes, branches, merge
    /// requests): only the `api` scope grants write access to the REST API.
    /// <https://docs.gitlab.com/user/profile/personal_access_tokens/#personal-access-token-scopes>
    pub fn has_api_scope(&self) -> bool {
        self.scopes.iter().any(|s| s == "api")
    }
}

impl GitLab {
    /// `GET /personal_access_tokens/self`.
    pub async fn token_self(&self) -> Result<TokenSelf> {
        self.get("/personal_access_tokens/self", &[]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_answer_parses() {
        let t: TokenSelf = serde_json::from_str(
            r#"{"id": 4, "name": "Test Token", "revoked": false, "created_at": "2020-07-23T14:31:47.729Z",
                "description": "d", "scopes": ["read_api"], "user_id": 3,
                "last_used_at": "2021-10-06T17:58:37.550Z", "active": true, "expires_at": null}"#,
        )
        .unwrap();
        assert!(!t.has_api_scope());
        assert_eq!(t.expires_at, None);
    }
}
