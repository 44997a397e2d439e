//! The instance's GitLab release against the product's floor and the features it uses
//! (see [`crate::gitlab::version`]): below [`MINIMUM`] is a failure; each feature the release
//! lacks is one warning line with its effect and workaround.

use super::report::{Check, Finding, Report};
use crate::gitlab::GitLab;
use crate::gitlab::version::{GitLabVersion, MINIMUM, VersionError, missing_features};

/// Reads `GET /version` and reports.
pub async fn check(gitlab: &GitLab, report: &mut Report) {
    match gitlab.gitlab_version().await {
        Ok(version) => findings(version, report),
        Err(e) => report.push(unreadable(&e)),
    }
}

fn unreadable(error: &VersionError) -> Finding {
    Finding::warn(
        Check::GitLabVersion,
        format!("could not read the GitLab version (GET /version): {error}"),
        format!(
            "make sure the instance runs GitLab {MINIMUM} or newer; see docs/gitlab-versions.md for what older releases lack"
        ),
    )
}

/// The findings for a known release.
pub fn findings(version: GitLabVersion, report: &mut Report) {
    if version < MINIMUM {
        report.push(Finding::fail(
            Check::GitLabVersion,
            format!("GitLab {version} is older than {MINIMUM}, the oldest release this integration supports"),
            format!("upgrade GitLab to {MINIMUM} or newer"),
        ));
        return;
    }
    report.push(Finding::ok(
        Check::GitLabVersion,
        format!("GitLab {version} (supported from {MINIMUM})"),
    ));
    for feature in missing_features(version) {
        report.push(Finding::warn(
            Check::GitLabFeature(feature.name),
            format!(
                "GitLab {version} is older than {}, where {}: {}",
                feature.since, feature.what, feature.effect
            ),
            feature.workaround,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn a_16_instance_gets_one_warning_line_per_missing_feature() {
        let mut report = Report::default();
        findings(GitLabVersion::new(16, 5), &mut report);
        let lines = report.lines();
        assert_eq!(report.count(Status::Ok), 1);
        assert!(lines.iter().any(|l| l.starts_with(
            "warn gitlab-feature comment-edit-events: GitLab 16.5.0 is older than 16.11.0"
        )));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("warn gitlab-feature masked-and-hidden:"))
        );
        assert!(!lines.iter().any(|l| l.contains("variable-description")));
        assert!(!report.failed());
    }

    #[test]
    fn below_the_floor_fails() {
        let mut report = Report::default();
        findings(GitLabVersion::new(15, 4), &mut report);
        assert!(report.failed());
        assert_eq!(report.findings.len(), 1);
    }
}
