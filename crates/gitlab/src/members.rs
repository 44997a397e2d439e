//! Project membership, to check that whoever mentions the bot may make it act.
//! <https://docs.gitlab.com/api/members/>

use std::fmt;

use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::Result;
use super::ids::{ProjectRef, UserId};

/// A role's access level. A number rather than an enum because GitLab adds levels (Planner,
/// 15, came in 17.7) and custom roles are based on these numbers; compare with the constants.
/// <https://docs.gitlab.com/api/members/#roles>
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(transparent)]
pub struct AccessLevel(pub u8);

impl AccessLevel {
    /// No access.
    pub const NO_ACCESS: Self = Self(0);
    /// Minimal access.
    pub const MINIMAL_ACCESS: Self = Self(5);
    /// Guest.
    pub const GUEST: Self = Self(10);
    /// Planner.
    pub const PLANNER: Self = Self(15);
    /// Reporter.
    pub const REPORTER: Self = Self(20);
    /// Developer: may push to unprotected branches and open merge requests.
    pub const DEVELOPER: Self = Self(30);
    /// Maintainer.
    pub const MAINTAINER: Self = Self(40);
    /// Owner.
    pub const OWNER: Self = Self(50);

    /// The role's name, for messages.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "No access",
            5 => "Minimal access",
            10 => "Guest",
            15 => "Planner",
            20 => "Reporter",
            30 => "Developer",
            40 => "Maintainer",
            50 => "Owner",
            _ => return None,
        })
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "access level {}", self.0),
        }
    }
}

/// A member with their effective role in the project.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Member {
    /// The user's id.
    pub id: UserId,
    /// `@` handle without the `@`.
    pub username: String,
    /// Display name.
    pub name: String,
    /// `active`, `blocked`, …
    pub state: String,
    /// Effective role.
    pub access_level: AccessLevel,
}

impl GitLab {
    /// `GET /projects/:id/members/all/:user_id`: the user's effective membership, inherited
    /// from groups included; `None` when they are not a member (GitLab answers 404).
    pub async fn project_member(
        &self,
        project: &ProjectRef,
        user: UserId,
    ) -> Result<Option<Member>> {
        self.get_optional(&project.api(format!("members/all/{user}")), &[])
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_levels_compare_and_print() {
        assert!(AccessLevel::MAINTAINER >= AccessLevel::DEVELOPER);
        assert!(AccessLevel::PLANNER < AccessLevel::DEVELOPER);
        assert_eq!(AccessLevel::DEVELOPER.to_string(), "Developer (30)");
        assert_eq!(AccessLevel(25).to_string(), "access level 25");
        let m: Member = serde_json::from_str(
            r#"{"id": 1, "username": "raymond_smith", "name": "Raymond Smith", "state": "active",
                "access_level": 30, "expires_at": null}"#,
        )
        .unwrap();
        assert_eq!(m.access_level, AccessLevel::DEVELOPER);
    }
}
