//! Publishing what the assistant changed: a commit under the assistant's name crediting the
//! person who asked, pushed to a new branch with a merge request that closes the issue, or to
//! the merge request's source branch; a patch in the result when nothing can be pushed. On a
//! merge request the assistant's configuration files go back to the merge request's versions
//! first, and what the model changed in them is named in the result instead of committed
//! ([`crate::workspace::trusted`]).

use anyhow::Context as _;

use super::workspace::Target;
use crate::agent::Assistant;
use crate::gitlab::GitLab;
use crate::gitlab::ids::ProjectRef;
use crate::publish::merge_request::{MergeRequestDraft, open_merge_request, patch_block};
use crate::publish::result::Link;
use crate::redact::Redactor;
use crate::trigger::Author;
use crate::workspace::{
    CommitIdentity, Person, PushDestination, PushOutcome, PushRefusal, Workspace,
};

/// What publishing the changes produced, for the result note.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Published {
    /// The merge request opened (or updated) for an issue.
    pub merge_request: Option<Link>,
    /// The branch the commits went to.
    pub branch: Option<Link>,
    /// The patch, when the push was impossible.
    pub appendix: Option<String>,
}

/// Everything [`publish`] needs besides the workspace.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub assistant: Assistant,
    pub project: &'a ProjectRef,
    /// The project's browser URL, for branch links.
    pub project_web_url: Option<&'a str>,
    /// The issue's title (issues only), for the merge request.
    pub title: &'a str,
    /// The instruction, for the commit message.
    pub instruction: &'a str,
    /// The assistant's summary, for the merge request's description.
    pub summary: &'a str,
    /// Who asked, credited as co-author.
    pub requester: Option<&'a Author>,
    /// The GitLab host, for the requester's private commit email.
    pub host: Option<&'a str>,
}

/// Commits and pushes the assistant's work, if there is any.
pub async fn publish(
    workspace: &Workspace,
    target: &Target,
    gitlab: &GitLab,
    request: Request<'_>,
    redactor: &Redactor,
) -> anyhow::Result<Published> {
    let mut kept_out = Vec::new();
    if let Target::MergeRequest { configuration, .. } = target {
        kept_out = workspace
            .restore_reviewed_configuration(request.assistant, configuration)
            .await
            .context(
                "putting the merge request's versions of the assistant's configuration files back",
            )?;
    }
    let published = publish_work(workspace, target, gitlab, request, redactor).await?;
    Ok(with_kept_out(published, &kept_out, redactor))
}

/// Names the configuration files whose changes were not committed, in the result's appendix.
fn with_kept_out(mut published: Published, kept_out: &[String], redactor: &Redactor) -> Published {
    if kept_out.is_empty() {
        return published;
    }
    let list: Vec<String> = kept_out.iter().map(|p| format!("`{p}`")).collect();
    let text = redactor.redact(&format!(
        "Not committed: changes to {}. On a merge request the assistant runs with the target branch's versions of its configuration files, so its edits to them would undo this merge request's own changes; apply them by hand if they are wanted.",
        list.join(", ")
    ));
    published.appendix = Some(match published.appendix.take() {
        Some(patch) => format!("{text}\n\n{patch}"),
        None => text,
    });
    published
}

async fn publish_work(
    workspace: &Workspace,
    target: &Target,
    gitlab: &GitLab,
    request: Request<'_>,
    redactor: &Redactor,
) -> anyhow::Result<Published> {
    if !workspace.has_work().await? {
        tracing::info!("the assistant changed no files");
        return Ok(Published::default());
    }
    let identity = CommitIdentity {
        author: workspace.settings().author.clone(),
        co_author: co_author(request.requester, request.host),
    };
    let message = commit_message(target, request);
    if let Some(sha) = workspace.commit(&identity, &message).await? {
        tracing::info!(%sha, "committed the assistant's changes");
    }
    let destination = match target {
        Target::Issue { branch, .. } => PushDestination::NewBranch(branch.clone()),
        Target::MergeRequest {
            created_by_assistant,
            ..
        } => PushDestination::SourceBranch {
            created_by_assistant: *created_by_assistant,
        },
    };
    match workspace.push(&destination).await? {
        PushOutcome::NothingToPush => Ok(Published::default()),
        PushOutcome::Pushed { branch, sha } => {
            tracing::info!(%branch, %sha, "pushed");
            let branch_link = request.project_web_url.map(|web| Link {
                label: branch.clone(),
                url: format!("{}/-/tree/{branch}", web.trim_end_matches('/')),
            });
            let merge_request = match target {
                Target::Issue {
                    iid,
                    default_branch,
                    ..
                } => {
                    let draft = MergeRequestDraft {
                        assistant: request.assistant,
                        issue: *iid,
                        issue_title: request.title.to_owned(),
                        source_branch: branch.clone(),
                        target_branch: default_branch.clone(),
                        summary: request.summary.to_owned(),
                        requester: request.requester.and_then(|a| a.username.clone()),
                    };
                    let (mr, upsert) =
                        open_merge_request(gitlab, request.project, &draft, redactor)
                            .await
                            .context("opening the merge request for the pushed branch")?;
                    tracing::info!(merge_request = %mr.iid, ?upsert, url = %mr.web_url, "merge request ready");
                    Some(Link {
                        label: format!("!{}", mr.iid),
                        url: mr.web_url,
                    })
                }
                Target::MergeRequest { .. } => None,
            };
            Ok(Published {
                merge_request,
                branch: branch_link,
                appendix: None,
            })
        }
        PushOutcome::Impossible {
            reason,
            detail,
            patch,
        } => {
            tracing::warn!(?reason, detail = %redactor.redact(&detail), "the changes could not be pushed; the patch goes into the result");
            Ok(Published {
                appendix: Some(patch_block(&patch, why(&reason), redactor)),
                ..Published::default()
            })
        }
    }
}

fn why(reason: &PushRefusal) -> &'static str {
    match reason {
        PushRefusal::DefaultBranch => "the default branch is never pushed to",
        PushRefusal::Protected => "the branch is protected",
        PushRefusal::NotAllowed => "the bot may not push there",
        PushRefusal::Stale => "the branch moved during the run",
        PushRefusal::ReadOnly => "the fork does not allow commits from upstream members",
        PushRefusal::Failed => "the push failed",
    }
}

/// The requester as GitLab's private commit email, so the trailer links to their profile.
fn co_author(requester: Option<&Author>, host: Option<&str>) -> Option<Person> {
    let author = requester?;
    let username = author.username.as_deref()?;
    Some(Person::gitlab_noreply(
        username,
        author.id.0,
        username,
        host?,
    ))
}

fn commit_message(target: &Target, request: Request<'_>) -> String {
    let instruction = request
        .instruction
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty());
    let subject = match (target, instruction) {
        (Target::Issue { iid, .. }, _) => format!("Resolve #{iid}: {}", request.title.trim()),
        (Target::MergeRequest { .. }, Some(line)) => line.to_owned(),
        (Target::MergeRequest { iid, .. }, None) => format!("Changes requested on !{iid}"),
    };
    let subject: String = subject.chars().take(72).collect();
    format!(
        "{subject}\n\nMade by {} in a GitLab CI job.",
        request.assistant.display_name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ids::{IssueIid, MergeRequestIid, ProjectId, UserId};
    use crate::workspace::BranchPrefix;

    fn request<'a>(project: &'a ProjectRef, author: &'a Author) -> Request<'a> {
        Request {
            assistant: Assistant::Claude,
            project,
            project_web_url: None,
            title: "Crash on start",
            instruction: "\n  rename foo to bar \nplease",
            summary: "",
            requester: Some(author),
            host: Some("gitlab.example.com"),
        }
    }

    #[test]
    fn commit_messages_name_the_issue_or_the_request() {
        let project = ProjectRef::Id(ProjectId(1));
        let author = Author {
            id: UserId(7),
            username: Some("dana".into()),
        };
        let issue = Target::Issue {
            iid: IssueIid(3),
            branch: BranchPrefix::new("claude/")
                .unwrap()
                .issue_branch(IssueIid(3), "Crash on start"),
            default_branch: "main".into(),
        };
        let mr = Target::MergeRequest {
            iid: MergeRequestIid(4),
            created_by_assistant: false,
            configuration: Default::default(),
        };
        let req = request(&project, &author);
        assert!(commit_message(&issue, req).starts_with("Resolve #3: Crash on start\n\n"));
        assert!(commit_message(&mr, req).starts_with("rename foo to bar\n\n"));
        let silent = Request {
            instruction: "",
            ..req
        };
        assert!(commit_message(&mr, silent).starts_with("Changes requested on !4\n"));
    }

    #[test]
    fn configuration_changes_left_out_are_named_before_any_patch() {
        let redactor = Redactor::new(crate::agent::Handles::default());
        let published = with_kept_out(
            Published {
                appendix: Some("<details>patch</details>".into()),
                ..Published::default()
            },
            &["CLAUDE.md".into(), ".claude/commands/x.md".into()],
            &redactor,
        );
        let appendix = published.appendix.unwrap();
        assert!(
            appendix.starts_with("Not committed: changes to `CLAUDE.md`, `.claude/commands/x.md`."),
            "{appendix}"
        );
        assert!(appendix.ends_with("<details>patch</details>"), "{appendix}");
        let untouched = with_kept_out(Published::default(), &[], &redactor);
        assert_eq!(untouched, Published::default());
    }

    #[test]
    fn the_requester_is_credited_with_their_private_email() {
        let author = Author {
            id: UserId(7),
            username: Some("dana".into()),
        };
        let person = co_author(Some(&author), Some("gitlab.example.com")).unwrap();
        assert_eq!(person.email, "7-dana@users.noreply.gitlab.example.com");
        assert_eq!(co_author(Some(&author), None), None);
    }
}
