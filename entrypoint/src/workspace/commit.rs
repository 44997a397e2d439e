//! Finding what the assistant changed and committing it under the assistant's name, with the
//! person who asked credited as co-author.

use super::{Workspace, WorkspaceError};
use crate::env::Env;

/// A name and email for commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
}

impl Person {
    /// GitLab's private commit email for a user, `<id>-<username>@<commit email hostname>`,
    /// whose hostname defaults to `users.noreply.<GitLab host>` (`lib/gitlab/private_commit_email.rb`
    /// and `ApplicationSetting.default_commit_email_hostname` in GitLab's source), for requesters
    /// whose public email is unknown: GitLab maps it back to their profile without exposing an
    /// address. `host` is the GitLab host (`CI_SERVER_HOST`).
    /// <https://docs.gitlab.com/user/profile/#use-an-automatically-generated-private-commit-email>
    pub fn gitlab_noreply(name: &str, user_id: u64, username: &str, host: &str) -> Self {
        Self {
            name: name.to_owned(),
            email: format!("{user_id}-{username}@users.noreply.{host}"),
        }
    }

    /// The commit author for the assistant: `AI_COMMIT_AUTHOR_NAME` and
    /// `AI_COMMIT_AUTHOR_EMAIL`, else `default_name` with `noreply@<host>`.
    pub(crate) fn assistant_from_env(env: &dyn Env, default_name: &str, host: &str) -> Self {
        Self {
            name: crate::env::AI_COMMIT_AUTHOR_NAME
                .non_blank(env)
                .unwrap_or_else(|| default_name.to_owned()),
            email: crate::env::AI_COMMIT_AUTHOR_EMAIL
                .non_blank(env)
                .unwrap_or_else(|| format!("noreply@{host}")),
        }
    }
}

/// Who a commit is by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitIdentity {
    /// Author and committer.
    pub author: Person,
    /// Credited with a `Co-authored-by:` trailer (the person who asked).
    pub co_author: Option<Person>,
}

/// One changed path, as `git status --porcelain` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The two-letter status (`??` untracked, ` M` modified, `D ` deleted, `R ` renamed…).
    pub status: String,
    /// The path (the new path for renames).
    pub path: String,
}

/// Parses `git status --porcelain=v1 -z`: `XY path\0`, renames followed by `orig\0`.
fn parse_status(raw: &[u8]) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut entries = raw.split(|b| *b == 0).filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        let text = String::from_utf8_lossy(entry);
        if text.len() < 4 {
            continue;
        }
        let status = text[..2].to_owned();
        if status.contains('R') || status.contains('C') {
            entries.next();
        }
        changes.push(Change {
            status,
            path: text[3..].to_owned(),
        });
    }
    changes
}

/// The message with a blank line and the trailer appended, as `git interpret-trailers` expects.
fn message_with_trailer(message: &str, co_author: Option<&Person>) -> String {
    let mut text = message.trim_end().to_owned();
    if let Some(person) = co_author {
        text.push_str(&format!(
            "\n\nCo-authored-by: {} <{}>",
            one_line(&person.name),
            one_line(&person.email)
        ));
    }
    text.push('\n');
    text
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r', '<', '>'], " ").trim().to_owned()
}

impl Workspace {
    /// Paths changed in the working tree, untracked files included and ignored ones
    /// (`.gitignore`) left out.
    pub async fn changes(&self) -> Result<Vec<Change>, WorkspaceError> {
        let output = self
            .trusted_git()?
            .run(&[
                "status",
                "--porcelain=v1",
                "-z",
                "--untracked-files=all",
                "--ignore-submodules=all",
            ])
            .await?;
        Ok(parse_status(&output.stdout))
    }

    /// True when there is anything to publish: uncommitted changes, or commits the assistant
    /// made itself since the checkout.
    pub async fn has_work(&self) -> Result<bool, WorkspaceError> {
        let checkout = self
            .checkout
            .as_ref()
            .ok_or(WorkspaceError::NotCheckedOut)?;
        Ok(!self.changes().await?.is_empty() || self.head().await? != checkout.base)
    }

    /// Stages everything (respecting `.gitignore`) and commits it as `identity`; `None` when
    /// there was nothing to commit.
    pub async fn commit(
        &self,
        identity: &CommitIdentity,
        message: &str,
    ) -> Result<Option<String>, WorkspaceError> {
        if self.changes().await?.is_empty() {
            return Ok(None);
        }
        self.trusted_git()?.run(&["add", "--all"]).await?;
        let text = message_with_trailer(message, identity.co_author.as_ref());
        let author = &identity.author;
        let env = [
            ("GIT_AUTHOR_NAME", author.name.as_str()),
            ("GIT_AUTHOR_EMAIL", author.email.as_str()),
            ("GIT_COMMITTER_NAME", author.name.as_str()),
            ("GIT_COMMITTER_EMAIL", author.email.as_str()),
        ];
        self.trusted_git()?
            .run_with_env(
                &[
                    "commit",
                    "--quiet",
                    "--no-verify",
                    "--no-gpg-sign",
                    "-m",
                    &text,
                ],
                &env,
            )
            .await?;
        Ok(Some(self.head().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    #[test]
    fn porcelain_status_with_renames_and_spaces() {
        let raw = b"?? new file.txt\0 M src/lib.rs\0R  b.rs\0a.rs\0D  gone.txt\0";
        let changes = parse_status(raw);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["new file.txt", "src/lib.rs", "b.rs", "gone.txt"]);
        assert_eq!(changes[0].status, "??");
    }

    #[test]
    fn trailer_follows_a_blank_line_and_cannot_break_lines() {
        let alice = Person {
            name: "Alice\nSigned-off-by: x".to_owned(),
            email: "a@example.com".to_owned(),
        };
        let text = message_with_trailer("Fix the crash\n\n", Some(&alice));
        assert_eq!(
            text,
            "Fix the crash\n\nCo-authored-by: Alice Signed-off-by: x <a@example.com>\n"
        );
        assert_eq!(message_with_trailer("Fix", None), "Fix\n");
    }

    #[test]
    fn identities() {
        let p = Person::gitlab_noreply("Alice", 5, "alice", "gitlab.example.com");
        assert_eq!(p.email, "5-alice@users.noreply.gitlab.example.com");
        let a = Person::assistant_from_env(&vars::<&str>(&[]), "Claude", "gitlab.example.com");
        assert_eq!(
            (a.name.as_str(), a.email.as_str()),
            ("Claude", "noreply@gitlab.example.com")
        );
        let a = Person::assistant_from_env(
            &vars(&[
                ("AI_COMMIT_AUTHOR_NAME", "Bot"),
                ("AI_COMMIT_AUTHOR_EMAIL", "bot@x"),
            ]),
            "Claude",
            "h",
        );
        assert_eq!((a.name.as_str(), a.email.as_str()), ("Bot", "bot@x"));
    }
}
