//! Who the token acts as, and the user objects embedded in other resources.

use serde::Deserialize;

use super::client::GitLab;
use super::error::Result;
use super::ids::UserId;

/// The short user object GitLab embeds as `author`, `user`, `resolved_by`.
/// <https://docs.gitlab.com/api/notes/>
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct UserBasic {
    /// Global user id.
    pub id: UserId,
    /// `@` handle without the `@`.
    pub username: String,
    /// Display name.
    pub name: String,
    /// `active`, `blocked`, …
    pub state: String,
}

/// The token's own user (`GET /user`). For a project or group access token this is the bot
/// user GitLab created for it (`"bot": true`); the product uses its id and username to ignore
/// its own notes.
/// <https://docs.gitlab.com/api/users/#retrieve-the-current-user>
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CurrentUser {
    /// Global user id.
    pub id: UserId,
    /// `@` handle without the `@`.
    pub username: String,
    /// Display name (the token's name for access-token bots).
    pub name: String,
    /// `active`, `blocked`, …
    pub state: String,
    /// True for access-token and service-account bots. Older GitLab versions omit the field.
    #[serde(default)]
    pub bot: bool,
    /// Profile page.
    pub web_url: String,
}

/// Any user as `GET /users/:id` returns them; `bot` tells access-token bots and service
/// accounts from people (the `User` entity exposes `bot?` as `bot`, `lib/api/entities/user.rb`).
/// <https://docs.gitlab.com/api/users/#retrieve-a-single-user>
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct User {
    /// Global user id.
    pub id: UserId,
    /// `@` handle without the `@`.
    pub username: String,
    /// Display name.
    pub name: String,
    /// `active`, `blocked`, …
    pub state: String,
    /// True for access-token and service-account bots. Older GitLab versions omit the field.
    #[serde(default)]
    pub bot: bool,
}

impl GitLab {
    /// `GET /user`: the user the token authenticates as.
    pub async fn current_user(&self) -> Result<CurrentUser> {
        self.get("/user", &[]).await
    }

    /// `GET /users/:id`; `None` when GitLab answers 404 (no such user, or hidden from us).
    pub async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.get_optional(&format!("/users/{id}"), &[]).await
    }
}
