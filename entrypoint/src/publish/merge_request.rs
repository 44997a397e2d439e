//! The merge request an issue's run opens: a branch name people recognise, a title and a
//! description that close the issue and credit who asked, created once and updated on later
//! runs. Where nothing can be pushed (a fork's branch, a protected branch), the patch goes into
//! the result note instead, folded away.

use super::text::{NOTE_LIMIT_CHARS, fence_for, truncate};
use crate::agent::Assistant;
use crate::gitlab::ids::{IssueIid, ProjectRef};
use crate::gitlab::merge_requests::{MergeRequest, NewMergeRequest, Upsert};
use crate::gitlab::{GitLab, GitLabError};
use crate::quick_action::Inert;
use crate::redact::Redactor;

/// GitLab refuses longer merge request titles (`validates :title, length: { maximum: 255 }`).
pub(crate) const TITLE_CHARS: usize = 255;

/// Largest patch shown inline; a bigger one would crowd out the answer and slow the page down.
pub(crate) const PATCH_CHARS: usize = 200_000;

/// What the merge request for an issue says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeRequestDraft {
    pub assistant: Assistant,
    pub issue: IssueIid,
    pub issue_title: String,
    /// The branch the changes were pushed to (see [`crate::workspace::BranchPrefix::issue_branch`]).
    pub source_branch: String,
    /// Usually the project's default branch.
    pub target_branch: String,
    /// The assistant's summary of the change.
    pub summary: String,
    /// The username of whoever asked, credited in the description.
    pub requester: Option<String>,
}

impl MergeRequestDraft {
    /// `Resolve "<issue title>"`, as GitLab titles merge requests created from an issue, within
    /// [`TITLE_CHARS`].
    pub fn title(&self) -> String {
        let title = format!("Resolve \"{}\"", self.issue_title.trim());
        if title.chars().count() <= TITLE_CHARS {
            return title;
        }
        let cut: String = self.issue_title.chars().take(TITLE_CHARS - 12).collect();
        format!("Resolve \"{}…\"", cut.trim_end())
    }

    /// The summary, `Closes #<iid>` (so merging closes the issue; see
    /// <https://docs.gitlab.com/user/project/issues/managing_issues/#closing-issues-automatically>)
    /// and the credit line; redacted.
    pub fn description(&self, redactor: &Redactor) -> String {
        let requester = self
            .requester
            .as_deref()
            .map(|user| format!(" Requested by @{user}."))
            .unwrap_or_default();
        let credit = format!(
            "Closes #{}\n\n<sub>Made by {} for #{}.{requester}</sub>",
            self.issue,
            self.assistant.display_name(),
            self.issue
        );
        let credit = redactor.redact(&credit);
        let summary = redactor.redact(self.summary.trim());
        let room = NOTE_LIMIT_CHARS.saturating_sub(credit.chars().count() + 4);
        let summary = truncate(&summary, room, "*(Summary cut to fit.)*");
        format!("{summary}\n\n{credit}")
    }

    /// The create request.
    pub(crate) fn new_merge_request(&self, redactor: &Redactor) -> NewMergeRequest {
        NewMergeRequest {
            source_branch: self.source_branch.clone(),
            target_branch: self.target_branch.clone(),
            title: Inert::new(&redactor.redact(&self.title())),
            description: Some(Inert::new(&self.description(redactor))),
            remove_source_branch: Some(true),
            ..NewMergeRequest::default()
        }
    }
}

/// Opens the merge request, or updates the open one for the same branch (an earlier run's).
pub async fn open_merge_request(
    gitlab: &GitLab,
    project: &ProjectRef,
    draft: &MergeRequestDraft,
    redactor: &Redactor,
) -> Result<(MergeRequest, Upsert), GitLabError> {
    gitlab
        .create_or_update_merge_request(project, &draft.new_merge_request(redactor))
        .await
}

/// The patch as a folded `<details>` block for the result note, when it could not be pushed
/// (`why` says why, in a few words). Redacted; a patch over [`PATCH_CHARS`] is not shown, and
/// the block says where to find it instead.
pub(crate) fn patch_block(patch: &str, why: &str, redactor: &Redactor) -> String {
    let patch = redactor.remove_secrets(patch);
    let size = patch.chars().count();
    let summary = format!("The changes as a patch ({why}); apply with <code>git apply</code>");
    if size > PATCH_CHARS {
        return format!(
            "<details><summary>{summary}</summary>\n\nThe patch is {size} characters, too large to show here; the job log has it.\n\n</details>"
        );
    }
    let fence = fence_for(&patch);
    format!(
        "<details><summary>{summary}</summary>\n\n{fence}diff\n{}\n{fence}\n\n</details>",
        patch.trim_end_matches('\n')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Handles;
    use crate::mention::find_mentions;

    fn draft() -> MergeRequestDraft {
        MergeRequestDraft {
            assistant: Assistant::Codex,
            issue: IssueIid(7),
            issue_title: "Fix the build".into(),
            source_branch: "codex/issue-7-fix-the-build".into(),
            target_branch: "main".into(),
            summary: "Pinned the toolchain. @claude may review. key: glpat-AbCdEfGhIjKlMnOpQrSt"
                .into(),
            requester: Some("alice".into()),
        }
    }

    #[test]
    fn the_description_closes_the_issue_and_credits_the_requester() {
        let redactor = Redactor::new(Handles::default());
        let new = draft().new_merge_request(&redactor);
        assert_eq!(new.title, "Resolve \"Fix the build\"");
        let description = new.description.unwrap();
        assert!(
            description.starts_with("Pinned the toolchain."),
            "{description}"
        );
        assert!(description.contains("Closes #7"));
        assert!(description.contains("Requested by @alice."));
        assert!(!description.contains("glpat-"));
        assert!(find_mentions(&description, &Handles::default()).is_empty());
        assert_eq!(new.source_branch, "codex/issue-7-fix-the-build");
    }

    #[test]
    fn long_titles_fit_gitlabs_limit() {
        let mut long = draft();
        long.issue_title = "word ".repeat(100);
        assert!(long.title().chars().count() <= TITLE_CHARS);
    }

    #[test]
    fn patches_fold_away_and_large_ones_are_not_inlined() {
        let redactor = Redactor::new(Handles::default());
        let patch = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n ```\n-a\n+b\n";
        let block = patch_block(patch, "the fork's branch cannot be pushed", &redactor);
        assert!(block.starts_with("<details><summary>The changes as a patch (the fork"));
        assert!(block.contains("````diff\n--- a/x"), "{block}");
        assert!(block.ends_with("````\n\n</details>"));
        let huge = patch_block(&"+x\n".repeat(PATCH_CHARS), "protected", &redactor);
        assert!(huge.contains("too large to show") && huge.len() < 1000);
    }
}
