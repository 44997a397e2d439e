//! Roles and project visibility.
//!
//! Role numbers are GitLab's `access_level` values
//! (<https://docs.gitlab.com/api/members/#roles>); visibility decides who may see a project at
//! all (<https://docs.gitlab.com/user/public_access/>).

use serde::{Deserialize, Serialize};

/// A member's role as GitLab numbers it. Ordered, so `level >= AccessLevel::Developer` reads as
/// GitLab's permission tables do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum AccessLevel {
    Guest,
    Reporter,
    Developer,
    Maintainer,
    Owner,
}

impl AccessLevel {
    pub fn value(self) -> u8 {
        match self {
            AccessLevel::Guest => 10,
            AccessLevel::Reporter => 20,
            AccessLevel::Developer => 30,
            AccessLevel::Maintainer => 40,
            AccessLevel::Owner => 50,
        }
    }
}

/// A number that is not one of GitLab's five member roles.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not a GitLab access level (10, 20, 30, 40 or 50)")]
pub struct UnknownAccessLevel(pub u8);

impl TryFrom<u8> for AccessLevel {
    type Error = UnknownAccessLevel;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Ok(match value {
            10 => AccessLevel::Guest,
            20 => AccessLevel::Reporter,
            30 => AccessLevel::Developer,
            40 => AccessLevel::Maintainer,
            50 => AccessLevel::Owner,
            other => return Err(UnknownAccessLevel(other)),
        })
    }
}

impl From<AccessLevel> for u8 {
    fn from(level: AccessLevel) -> u8 {
        level.value()
    }
}

/// Project visibility; `visibility_level` in webhook payloads uses 0/10/20.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    #[default]
    Private,
    Internal,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }

    pub fn level(self) -> u8 {
        match self {
            Visibility::Private => 0,
            Visibility::Internal => 10,
            Visibility::Public => 20,
        }
    }
}
