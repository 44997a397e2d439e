//! Branch names the assistant creates, and the rule for which branches it may rewrite.

use std::fmt;

use crate::gitlab::ids::IssueIid;

/// The prefix of every branch the assistant creates (`claude/`, `codex/`). Branches under it are
/// the only ones it ever force-pushes, and only those it created itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchPrefix(String);

/// A prefix or branch name git would refuse, or a prefix that could match human branches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BranchNameError {
    /// The prefix must end with `/` and have a name before it, so it names a namespace.
    #[error("branch prefix {0:?} must be a name followed by `/`, such as `claude/`")]
    Prefix(String),
    /// Not a valid git branch name (`git check-ref-format` rules).
    #[error("{0:?} is not a valid branch name")]
    Invalid(String),
}

impl BranchPrefix {
    /// Validates a prefix such as `claude/`.
    pub fn new(prefix: &str) -> Result<Self, BranchNameError> {
        let name = prefix.strip_suffix('/').unwrap_or_default();
        if name.is_empty() || !valid_branch(&format!("{name}/x")) {
            return Err(BranchNameError::Prefix(prefix.to_owned()));
        }
        Ok(Self(prefix.to_owned()))
    }

    /// The prefix text, ending with `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `branch` lives under this prefix.
    pub fn owns(&self, branch: &str) -> bool {
        branch.len() > self.0.len() && branch.starts_with(&self.0)
    }

    /// `<prefix>issue-<iid>-<slug of the title>`: readable in GitLab's branch list, and unique
    /// per issue so a second request can find the first one's branch.
    pub fn issue_branch(&self, iid: IssueIid, title: &str) -> AssistantBranch {
        self.joined(&[&format!("issue-{iid}"), &slug(title)])
    }

    /// `<prefix>task-<slug of the title>-<run>` for an automation run
    /// ([`crate::automation`]): readable, and new for every run (`run` is the job's id), because
    /// a branch is only ever created, never overwritten.
    pub(crate) fn task_branch(&self, title: &str, run: u64) -> AssistantBranch {
        self.joined(&["task", &slug(title), &run.to_string()])
    }

    /// The prefix, then `parts` joined by `-`, leaving out an empty one (a title with nothing
    /// to slug) rather than writing `--`.
    fn joined(&self, parts: &[&str]) -> AssistantBranch {
        let rest: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
        AssistantBranch(format!("{}{}", self.0, rest.join("-")))
    }

    /// A branch under the prefix with a caller-chosen rest (`fix-7-retry`).
    pub fn branch(&self, rest: &str) -> Result<AssistantBranch, BranchNameError> {
        let name = format!("{}{rest}", self.0);
        if rest.is_empty() || !valid_branch(&name) {
            return Err(BranchNameError::Invalid(name));
        }
        Ok(AssistantBranch(name))
    }
}

/// A branch under the assistant's prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssistantBranch(String);

impl AssistantBranch {
    /// The full branch name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AssistantBranch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest slug kept from a title: branch names show in narrow UI columns.
const MAX_SLUG: usize = 40;

/// Lowercase ASCII letters and digits, other runs turned into one `-`, cut at a word boundary.
fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    if slug.len() > MAX_SLUG {
        let cut = slug[..MAX_SLUG].rfind('-').unwrap_or(MAX_SLUG);
        slug.truncate(cut);
    }
    slug.trim_end_matches('-').to_owned()
}

/// git's branch name rules (`git check-ref-format`), for the names built here.
pub(crate) fn valid_branch(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.ends_with('.')
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && name != "@"
        && !name.split('/').any(|part| part.starts_with('.'))
        && !name
            .chars()
            .any(|c| c.is_ascii_control() || " ~^:?*[\\".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_branches_carry_a_short_slug() {
        let prefix = BranchPrefix::new("claude/").unwrap();
        assert_eq!(
            prefix
                .issue_branch(IssueIid(12), "Fix: crash on *empty* input!")
                .as_str(),
            "claude/issue-12-fix-crash-on-empty-input"
        );
        assert_eq!(
            prefix.issue_branch(IssueIid(3), "日本語").as_str(),
            "claude/issue-3"
        );
        let long = prefix.issue_branch(IssueIid(1), &"word ".repeat(30));
        assert!(long.as_str().len() <= "claude/issue-1-".len() + MAX_SLUG);
        assert!(!long.as_str().ends_with('-'));
    }

    #[test]
    fn task_branches_are_new_for_every_run() {
        let prefix = BranchPrefix::new("codex/").unwrap();
        let branch = prefix.task_branch("Nightly: check dependencies", 4242);
        assert_eq!(
            branch.as_str(),
            "codex/task-nightly-check-dependencies-4242"
        );
        assert!(valid_branch(branch.as_str()));
        assert_eq!(prefix.task_branch("…", 7).as_str(), "codex/task-7");
        assert_ne!(
            prefix.task_branch("same", 1).as_str(),
            prefix.task_branch("same", 2).as_str()
        );
    }

    #[test]
    fn prefixes_name_a_namespace() {
        assert!(BranchPrefix::new("claude").is_err());
        assert!(BranchPrefix::new("/").is_err());
        assert!(BranchPrefix::new("bad name/").is_err());
        let prefix = BranchPrefix::new("codex/").unwrap();
        assert!(prefix.owns("codex/issue-1"));
        assert!(!prefix.owns("codex/"));
        assert!(!prefix.owns("main"));
        assert!(prefix.branch("a..b").is_err());
        assert_eq!(prefix.branch("fix-1").unwrap().as_str(), "codex/fix-1");
    }
}
