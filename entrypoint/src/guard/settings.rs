//! Who may make the assistant act: the minimum role (`AI_MIN_ACCESS_LEVEL`) and the bot users
//! whose notes are still requests (`AI_ALLOWED_BOTS`).

use crate::env::Env;
use crate::gitlab::members::AccessLevel;

/// The variable naming the minimum role.
pub(crate) const MIN_ACCESS_LEVEL_VAR: &str = crate::env::AI_MIN_ACCESS_LEVEL.name();
/// The variable listing allowed bot usernames.
pub(crate) const ALLOWED_BOTS_VAR: &str = crate::env::AI_ALLOWED_BOTS.name();

/// The guard's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardSettings {
    /// The least role a note's author needs (Developer by default: the role that may push to
    /// unprotected branches, so the assistant cannot do more than its requester could).
    pub min_access: AccessLevel,
    /// Usernames (without `@`, compared case-insensitively) of bots whose notes are acted on.
    pub allowed_bots: Vec<String>,
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            min_access: AccessLevel::DEVELOPER,
            allowed_bots: Vec::new(),
        }
    }
}

/// A setting cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardSettingsError {
    /// `AI_MIN_ACCESS_LEVEL` is neither a number nor a role name.
    #[error(
        "AI_MIN_ACCESS_LEVEL={0:?} is not a role: use guest, planner, reporter, developer, maintainer, owner or a number such as 30"
    )]
    AccessLevel(String),
}

impl GuardSettings {
    /// Reads `AI_MIN_ACCESS_LEVEL` (default developer) and `AI_ALLOWED_BOTS` (comma list,
    /// default none). Empty values count as unset.
    pub fn from_env(env: &dyn Env) -> Result<Self, GuardSettingsError> {
        let min_access = match env.set(MIN_ACCESS_LEVEL_VAR) {
            Some(value) => parse_access_level(&value)
                .ok_or_else(|| GuardSettingsError::AccessLevel(value.clone()))?,
            None => AccessLevel::DEVELOPER,
        };
        let allowed_bots = env
            .var(ALLOWED_BOTS_VAR)
            .unwrap_or_default()
            .split(',')
            .map(|name| name.trim().trim_start_matches('@').to_owned())
            .filter(|name| !name.is_empty())
            .collect();
        Ok(Self {
            min_access,
            allowed_bots,
        })
    }

    /// True when `username` is listed in `AI_ALLOWED_BOTS`.
    pub(crate) fn bot_allowed(&self, username: &str) -> bool {
        self.allowed_bots
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(username))
    }
}

/// A role name (case-insensitive) or a number.
/// <https://docs.gitlab.com/api/members/#roles>
pub(crate) fn parse_access_level(value: &str) -> Option<AccessLevel> {
    let value = value.trim();
    if let Ok(number) = value.parse::<u8>() {
        return Some(AccessLevel(number));
    }
    Some(match value.to_ascii_lowercase().as_str() {
        "guest" => AccessLevel::GUEST,
        "planner" => AccessLevel::PLANNER,
        "reporter" => AccessLevel::REPORTER,
        "developer" => AccessLevel::DEVELOPER,
        "maintainer" => AccessLevel::MAINTAINER,
        "owner" => AccessLevel::OWNER,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    #[test]
    fn defaults_to_developer_and_no_bots() {
        let settings = GuardSettings::from_env(&vars::<&str>(&[])).unwrap();
        assert_eq!(settings, GuardSettings::default());
        assert_eq!(settings.min_access, AccessLevel::DEVELOPER);
    }

    #[test]
    fn access_levels_by_name_or_number() {
        let read = |v: &str| {
            GuardSettings::from_env(&vars(&[(MIN_ACCESS_LEVEL_VAR, v)])).map(|s| s.min_access)
        };
        assert_eq!(read("Maintainer"), Ok(AccessLevel::MAINTAINER));
        assert_eq!(read(" reporter "), Ok(AccessLevel::REPORTER));
        assert_eq!(read("40"), Ok(AccessLevel(40)));
        assert_eq!(read(""), Ok(AccessLevel::DEVELOPER));
        assert_eq!(
            read("admin"),
            Err(GuardSettingsError::AccessLevel("admin".to_owned()))
        );
    }

    #[test]
    fn allowed_bots_are_a_trimmed_case_insensitive_list() {
        let settings = GuardSettings::from_env(&vars(&[(
            ALLOWED_BOTS_VAR,
            " renovate-bot, @Dependabot ,,",
        )]))
        .unwrap();
        assert_eq!(settings.allowed_bots, ["renovate-bot", "Dependabot"]);
        assert!(settings.bot_allowed("dependabot"));
        assert!(!settings.bot_allowed("project_1_bot_abc"));
    }
}
