//! What doctor found: one [`Finding`] per check, printed as one line each (or as JSON), and
//! whether any of them failed. Findings are built from names, roles, flags and statuses only;
//! no secret is ever put into one.

use std::fmt;

use serde::Serialize;

use crate::agent::Assistant;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Works as the integration needs.
    Ok,
    /// Works, but something will break or leak later (an expiring token) or could not be
    /// checked with this token.
    Warn,
    /// Mentions will not be answered (or a secret is exposed) until this is fixed.
    Fail,
}

impl Status {
    /// Lower-case name, as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// Which check a finding is about; its `Display` form is the stable name the docs list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// The token is accepted (`GET /user`).
    Token,
    /// The token's scopes (`GET /personal_access_tokens/self`).
    TokenScope,
    /// The token's expiry.
    TokenExpiry,
    /// The project can be read.
    Project,
    /// The bot's project access token, seen from a Maintainer's token.
    BotToken,
    /// The bot's role in the project.
    BotRole,
    /// Which assistants the project is set up for.
    Assistants,
    /// One CI/CD variable.
    Variable(&'static str),
    /// Something turns comments into pipelines.
    Trigger,
    /// Webhook-triggered pipelines may carry `TRIGGER_PAYLOAD`.
    PipelineVariables,
    /// `.gitlab-ci.yml` includes the assistant's template.
    CiInclude(Assistant),
    /// Codex's network sandbox can be set up.
    NetAdmin,
    /// The image registry answers.
    Registry,
    /// The instance's GitLab release is supported.
    GitLabVersion,
    /// A feature of newer GitLab releases the instance lacks (by its name in
    /// [`crate::gitlab::version::FEATURES`]).
    GitLabFeature(&'static str),
    /// The image could be checked (`image`).
    Image,
    /// The image has a signature (`image-signature`).
    ImageSignature,
    /// The image is the newest patch release of its line (`image-version`).
    ImageVersion,
    /// This month's spending against `AI_MONTHLY_BUDGET_USD` (`spending`).
    Spending,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Token => f.write_str("token"),
            Check::TokenScope => f.write_str("token-scope"),
            Check::TokenExpiry => f.write_str("token-expiry"),
            Check::Project => f.write_str("project"),
            Check::BotToken => f.write_str("bot-token"),
            Check::BotRole => f.write_str("bot-role"),
            Check::Assistants => f.write_str("assistants"),
            Check::Variable(key) => write!(f, "variable {key}"),
            Check::Trigger => f.write_str("trigger"),
            Check::PipelineVariables => f.write_str("pipeline-variables"),
            Check::CiInclude(assistant) => write!(f, "ci-include {}", assistant.name()),
            Check::NetAdmin => f.write_str("net-admin"),
            Check::Registry => f.write_str("registry"),
            Check::GitLabVersion => f.write_str("gitlab-version"),
            Check::GitLabFeature(name) => write!(f, "gitlab-feature {name}"),
            Check::Image => f.write_str("image"),
            Check::ImageSignature => f.write_str("image-signature"),
            Check::ImageVersion => f.write_str("image-version"),
            Check::Spending => f.write_str("spending"),
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was checked.
    pub check: Check,
    /// How it came out.
    pub status: Status,
    /// What doctor saw.
    pub found: String,
    /// What to do; `None` when there is nothing to do.
    pub fix: Option<String>,
}

impl Finding {
    /// A check that passed.
    pub fn ok(check: Check, found: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Ok,
            found: found.into(),
            fix: None,
        }
    }

    /// A warning with its fix.
    pub fn warn(check: Check, found: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Warn,
            found: found.into(),
            fix: Some(fix.into()),
        }
    }

    /// A failure with its fix.
    pub fn fail(check: Check, found: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Fail,
            found: found.into(),
            fix: Some(fix.into()),
        }
    }

    /// `ok   token: … — fix: …`, one line.
    pub fn line(&self) -> String {
        let mut line = format!("{:<4} {}: {}", self.status.as_str(), self.check, self.found);
        if let Some(fix) = &self.fix {
            line.push_str(" — fix: ");
            line.push_str(fix);
        }
        line
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    check: String,
    status: Status,
    found: &'a str,
    fix: Option<&'a str>,
}

/// Every finding, in the order the checks ran.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Adds a finding.
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Adds findings.
    pub fn extend(&mut self, findings: impl IntoIterator<Item = Finding>) {
        self.findings.extend(findings);
    }

    /// True when a check failed: the command then exits non-zero.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.status == Status::Fail)
    }

    /// How many findings have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    /// One line per finding.
    pub fn lines(&self) -> Vec<String> {
        self.findings.iter().map(Finding::line).collect()
    }

    /// `{"ok": bool, "findings": [{"check", "status", "found", "fix"}]}` for machines.
    pub fn to_json(&self) -> serde_json::Value {
        let findings: Vec<JsonFinding<'_>> = self
            .findings
            .iter()
            .map(|f| JsonFinding {
                check: f.check.to_string(),
                status: f.status,
                found: &f.found,
                fix: f.fix.as_deref(),
            })
            .collect();
        serde_json::json!({ "ok": !self.failed(), "findings": findings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_status_check_finding_and_fix() {
        let f = Finding::fail(
            Check::Variable("GITLAB_TOKEN"),
            "is not masked",
            "tick Mask variable",
        );
        assert_eq!(
            f.line(),
            "fail variable GITLAB_TOKEN: is not masked — fix: tick Mask variable"
        );
        assert_eq!(
            Finding::ok(Check::Token, "accepted").line(),
            "ok   token: accepted"
        );
    }

    #[test]
    fn the_report_fails_on_any_failure_and_says_so_in_json() {
        let mut report = Report::default();
        report.push(Finding::ok(Check::Token, "accepted"));
        report.push(Finding::warn(Check::TokenExpiry, "soon", "rotate"));
        assert!(!report.failed());
        assert_eq!(report.to_json()["ok"], true);
        report.push(Finding::fail(
            Check::CiInclude(Assistant::Codex),
            "no include",
            "add it",
        ));
        assert!(report.failed());
        let json = report.to_json();
        assert_eq!(json["ok"], false);
        assert_eq!(json["findings"][2]["check"], "ci-include codex");
        assert_eq!(json["findings"][2]["status"], "fail");
        assert_eq!(json["findings"][0]["fix"], serde_json::Value::Null);
    }
}
