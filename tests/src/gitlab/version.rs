//! The GitLab release the double behaves as (`--gitlab-version`, [`super::GitLabDoubleBuilder::gitlab_version`]).
//!
//! Self-managed instances lag GitLab.com, and several behaviours the product depends on changed
//! between releases; the double answers as the release it is told to be, so tests can run on
//! both sides of each floor. The floors below are GitLab's, each with where it is documented.

use std::fmt;
use std::str::FromStr;

/// `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GitLabVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl GitLabVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Whether this release is `floor` or newer.
    pub fn has(self, floor: GitLabVersion) -> bool {
        self >= floor
    }
}

/// The release the double is unless told otherwise.
pub const LATEST: GitLabVersion = GitLabVersion::new(18, 6, 0);

/// `GET /metadata` (<https://docs.gitlab.com/api/metadata/>): 15.2.
pub const METADATA: GitLabVersion = GitLabVersion::new(15, 2, 0);
/// `unidiff=true` on merge request diffs (<https://docs.gitlab.com/api/merge_requests/#list-merge-request-diffs>): 16.5.
pub const UNIDIFF: GitLabVersion = GitLabVersion::new(16, 5, 0);
/// `custom_webhook_template` on project hooks (MR !142738,
/// <https://docs.gitlab.com/user/project/integrations/webhooks/#custom-webhook-template>): 16.10.
pub const CUSTOM_WEBHOOK_TEMPLATE: GitLabVersion = GitLabVersion::new(16, 10, 0);
/// Comment edits fire Note Hooks with `action: update` (MR !147856): 16.11.
pub const COMMENT_EDIT_EVENTS: GitLabVersion = GitLabVersion::new(16, 11, 0);
/// `ci_pipeline_variables_minimum_override_role` exists (MR !149343): 17.1. From 17.1 to 17.9 it
/// only applies while `restrict_user_defined_variables` is true.
pub const PIPELINE_VARIABLES_ROLE: GitLabVersion = GitLabVersion::new(17, 1, 0);
/// The role alone decides, and projects were migrated to `restrict: true, role: developer`
/// (MR !187035): 17.10.
pub const PIPELINE_VARIABLES_ROLE_ALONE: GitLabVersion = GitLabVersion::new(17, 10, 0);
/// `masked_and_hidden` on variables (<https://docs.gitlab.com/ci/variables/#hide-a-cicd-variable>): 17.4.
pub const MASKED_AND_HIDDEN: GitLabVersion = GitLabVersion::new(17, 4, 0);
/// `Idempotency-Key` on webhook deliveries (<https://docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers>): 17.4.
pub const IDEMPOTENCY_KEY: GitLabVersion = GitLabVersion::new(17, 4, 0);
/// A new to-do even when one is pending on the same target (gitlab-org/gitlab#506387): 17.8.
pub const MULTIPLE_TODOS: GitLabVersion = GitLabVersion::new(17, 8, 0);

impl Default for GitLabVersion {
    fn default() -> Self {
        LATEST
    }
}

impl fmt::Display for GitLabVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for GitLabVersion {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        let numbers = text.split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<&str> = numbers.split('.').collect();
        let number = |i: usize| -> anyhow::Result<u32> {
            match parts.get(i) {
                None if i == 2 => Ok(0),
                None => anyhow::bail!("{text:?} is not a GitLab version such as 17.4.0"),
                Some(p) => p.parse().map_err(|_| {
                    anyhow::anyhow!("{text:?} is not a GitLab version such as 17.4.0")
                }),
            }
        };
        if parts.len() > 3 {
            anyhow::bail!("{text:?} is not a GitLab version such as 17.4.0");
        }
        Ok(Self::new(number(0)?, number(1)?, number(2)?))
    }
}
