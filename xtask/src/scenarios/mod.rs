//! The image scenarios: the product run in its images against the doubles, judged as a user
//! would judge it (in_image, webhook, e2e), and the checks they share.

pub(crate) mod e2e;
pub(crate) mod in_image;
pub(crate) mod webhook;

use anyhow::ensure;
use doubles::gitlab::double::{GitLabDouble, Noteable};
use doubles::gitlab::model::{MergeRequest, Note};

/// What the fixing stories (`doubles::model::stories`) leave behind, as the person who asked
/// sees it in GitLab: `mr` closes issue `#issue_iid` and its branch carries the fixed greeting.
/// Both image scenarios end with this check.
fn ensure_mr_fixes_issue(
    gitlab: &GitLabDouble,
    project: u64,
    mr: &MergeRequest,
    issue_iid: u64,
) -> anyhow::Result<()> {
    let closes = format!("Closes #{issue_iid}");
    ensure!(
        mr.description.contains(&closes),
        "the merge request's description lacks `{closes}`: {}",
        mr.description
    );
    let pushed = gitlab
        .repo(project)?
        .file_at(&mr.source_branch, "greet.txt")?;
    ensure!(
        pushed.as_deref() == Some(b"Hello world\n".as_slice()),
        "the pushed branch {} does not carry the fix: {:?}",
        mr.source_branch,
        pushed.map(|b| String::from_utf8_lossy(&b).into_owned())
    );
    Ok(())
}

/// The notes the bot user `bot_id` wrote on issue `#issue_iid`: the placeholder that became the
/// answer, and nothing else, when a scenario passes.
fn bot_notes(gitlab: &GitLabDouble, project: u64, bot_id: u64, issue_iid: u64) -> Vec<Note> {
    gitlab
        .notes(project, Noteable::Issue(issue_iid))
        .into_iter()
        .filter(|n| n.author_id == bot_id)
        .collect()
}
