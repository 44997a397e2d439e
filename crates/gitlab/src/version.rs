//! Which GitLab the product runs against, and what it needs from it.
//!
//! Self-managed instances lag GitLab.com by months or years. [`MINIMUM`] is the oldest release
//! the product supports; [`FEATURES`] lists what newer releases add that the product uses, each
//! with what a user of an older instance loses and what to do about it. `doctor` reads the
//! instance's version (`GET /version`, <https://docs.gitlab.com/api/version/>) and reports each
//! missing feature in one line; `docs/gitlab-versions.md` holds the same table, and a test keeps
//! the two in step.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use super::client::GitLab;
use super::error::GitLabError;

/// A GitLab release, `major.minor.patch`; suffixes such as `-ee` or `-pre` are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GitLabVersion {
    /// Major release.
    pub major: u32,
    /// Minor release.
    pub minor: u32,
    /// Patch release.
    pub patch: u32,
}

impl GitLabVersion {
    /// `major.minor.0`.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self {
            major,
            minor,
            patch: 0,
        }
    }
}

impl fmt::Display for GitLabVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A version string that is not `major.minor[.patch][-suffix]`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a GitLab version (expected major.minor.patch, such as 17.4.2-ee)")]
pub struct VersionParseError(String);

impl FromStr for GitLabVersion {
    type Err = VersionParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || VersionParseError(text.to_owned());
        let numbers = text
            .trim()
            .split(['-', '+', ' '])
            .next()
            .ok_or_else(error)?;
        let mut parts = numbers.split('.').map(|p| p.parse::<u32>());
        let major = parts.next().and_then(Result::ok).ok_or_else(error)?;
        let minor = parts.next().and_then(Result::ok).ok_or_else(error)?;
        let patch = match parts.next() {
            None => 0,
            Some(p) => p.map_err(|_| error())?,
        };
        if parts.next().is_some() {
            return Err(error());
        }
        Ok(Self {
            major,
            minor,
            patch,
        })
    }
}

/// The oldest GitLab the product supports: the merge request `/diffs` endpoint the review
/// reads (15.7), `/personal_access_tokens/self` (15.5) and internal notes (15.0).
pub const MINIMUM: GitLabVersion = GitLabVersion::new(15, 7);

/// A feature of newer GitLab releases that the product uses when it is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Feature {
    /// Stable short name, as doctor prints it (`gitlab-feature <name>`).
    pub name: &'static str,
    /// The first release that has it.
    pub since: GitLabVersion,
    /// What GitLab does.
    pub what: &'static str,
    /// What a user of an older instance sees.
    pub effect: &'static str,
    /// What to do about it.
    pub workaround: &'static str,
}

impl Feature {
    /// Whether `version` has it.
    pub fn available_in(&self, version: GitLabVersion) -> bool {
        version >= self.since
    }
}

/// Every optional feature, oldest first.
pub const FEATURES: &[Feature] = &[
    Feature {
        name: "variable-description",
        since: GitLabVersion::new(16, 2),
        what: "CI/CD variables carry a description",
        effect: "the variables setup creates have no description saying what they are for",
        workaround: "none needed; describe them by hand if you like",
    },
    Feature {
        name: "custom-webhook-template",
        since: GitLabVersion::new(16, 10),
        what: "a webhook can send a custom template instead of the event (MR !142738)",
        effect: "in webhook mode every comment and every edit of the bot's notes starts a job that pulls the assistant image, and all jobs of an assistant wait in one resource group",
        workaround: "upgrade GitLab, or use the relay, which starts pipelines only for mentions",
    },
    Feature {
        name: "comment-edit-events",
        since: GitLabVersion::new(16, 11),
        what: "editing a comment fires a Note Hook",
        effect: "a mention added by editing a comment is not answered in webhook and relay modes",
        workaround: "write the mention in a new comment, or use scan mode",
    },
    Feature {
        name: "pipeline-variables-role",
        since: GitLabVersion::new(17, 1),
        what: "projects have ci_pipeline_variables_minimum_override_role",
        effect: "only restrict_user_defined_variables decides who may pass pipeline variables (Maintainers when it is on)",
        workaround: "leave Settings > CI/CD > Variables > Restrict pipeline variables off",
    },
    Feature {
        name: "hook-name",
        since: GitLabVersion::new(17, 1),
        what: "webhooks have a name",
        effect: "the webhook setup creates shows by URL only",
        workaround: "none needed",
    },
    Feature {
        name: "masked-and-hidden",
        since: GitLabVersion::new(17, 4),
        what: "CI/CD variables can be hidden as well as masked",
        effect: "setup creates GITLAB_TOKEN and the model key masked but not hidden: Maintainers can reveal them",
        workaround: "keep the project's Maintainers to people trusted with the keys",
    },
    Feature {
        name: "idempotency-key",
        since: GitLabVersion::new(17, 4),
        what: "webhook deliveries carry an Idempotency-Key header",
        effect: "the relay cannot recognise a redelivered webhook; the claim on the note still stops a second answer",
        workaround: "none needed",
    },
    Feature {
        name: "multiple-todos",
        since: GitLabVersion::new(17, 8),
        what: "a new mention creates a to-do even when one is pending on the same issue or merge request",
        effect: "the scan cannot rely on to-dos and reads the notes of recently updated issues and merge requests instead (more API calls)",
        workaround: "none needed",
    },
];

/// The features `version` lacks, oldest first.
pub fn missing_features(version: GitLabVersion) -> impl Iterator<Item = &'static Feature> {
    FEATURES.iter().filter(move |f| !f.available_in(version))
}

/// Looks a feature up by name; the names are the constants of [`FEATURES`].
pub fn feature(name: &str) -> Option<&'static Feature> {
    FEATURES.iter().find(|f| f.name == name)
}

/// `GET /version`'s body.
#[derive(Deserialize)]
struct VersionBody {
    version: String,
}

/// Reading the version failed.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// The request failed.
    #[error(transparent)]
    Api(#[from] GitLabError),
    /// GitLab answered something that is not a version.
    #[error(transparent)]
    Parse(#[from] VersionParseError),
}

impl GitLab {
    /// `GET /version` (every release the product supports has it; `/metadata` came in 15.2 and
    /// answers the same `version`). Any authenticated token may read it.
    pub async fn gitlab_version(&self) -> Result<GitLabVersion, VersionError> {
        let body: VersionBody = self.get("/version", &[]).await?;
        Ok(body.version.parse()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_edition_suffixes() {
        let v: GitLabVersion = "17.4.2-ee".parse().unwrap();
        assert_eq!(
            v,
            GitLabVersion {
                major: 17,
                minor: 4,
                patch: 2
            }
        );
        assert_eq!(
            "16.11.0-pre".parse::<GitLabVersion>().unwrap(),
            GitLabVersion::new(16, 11)
        );
        assert_eq!(
            "18.6".parse::<GitLabVersion>().unwrap(),
            GitLabVersion::new(18, 6)
        );
        assert!("eighteen".parse::<GitLabVersion>().is_err());
        assert!("18".parse::<GitLabVersion>().is_err());
        assert!("1.2.3.4".parse::<GitLabVersion>().is_err());
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(GitLabVersion::new(16, 11) > GitLabVersion::new(16, 2));
        assert!(GitLabVersion::new(17, 0) > GitLabVersion::new(16, 11));
    }

    #[test]
    fn features_are_listed_oldest_first_above_the_minimum_with_unique_names() {
        for pair in FEATURES.windows(2) {
            assert!(
                pair[0].since <= pair[1].since,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for f in FEATURES {
            assert!(f.since > MINIMUM, "{} is not above the minimum", f.name);
            assert_eq!(FEATURES.iter().filter(|g| g.name == f.name).count(), 1);
        }
    }

    #[test]
    fn a_16_0_instance_misses_every_feature_and_18_misses_none() {
        assert_eq!(
            missing_features(GitLabVersion::new(16, 0)).count(),
            FEATURES.len()
        );
        assert_eq!(missing_features(GitLabVersion::new(18, 0)).count(), 0);
        let names: Vec<_> = missing_features(GitLabVersion::new(17, 4))
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["multiple-todos"]);
    }
}

#[cfg(test)]
mod docs {
    use super::*;

    const DOC: &str = include_str!("../../../docs/gitlab-versions.md");

    fn short(v: GitLabVersion) -> String {
        format!("{}.{}", v.major, v.minor)
    }

    #[test]
    fn the_docs_table_lists_every_feature_with_its_release_and_nothing_else() {
        let rows: Vec<&str> = DOC.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(rows.len(), FEATURES.len(), "{rows:#?}");
        for (row, f) in rows.iter().zip(FEATURES) {
            let cells: Vec<&str> = row.split(" | ").collect();
            assert_eq!(cells[0], format!("| `{}`", f.name));
            assert_eq!(cells[1], short(f.since), "{}", f.name);
            assert_eq!(cells[2].replace('`', ""), f.what, "{}", f.name);
            assert_eq!(cells[3].replace('`', ""), f.effect, "{}", f.name);
            assert_eq!(cells[4].trim_end_matches(" |"), f.workaround, "{}", f.name);
        }
        assert!(DOC.contains(&format!("**GitLab {}.**", short(MINIMUM))));
    }
}
