//! Preparing the checkout for the trigger: the default branch and a new branch under the
//! assistant's prefix for an issue, the merge request's source branch at its `sha` otherwise,
//! with the assistant's own configuration files taken from the merge request's target branch
//! ([`crate::workspace::trusted`]).

use anyhow::Context as _;

use super::settings::JobSettings;
use crate::context::Context;
use crate::env::Env;
use crate::gitlab::GitLab;
use crate::gitlab::ids::{IssueIid, MergeRequestIid, Noteable, ProjectRef};
use crate::gitlab::merge_requests::MergeRequest;
use crate::trigger::decision::BotIdentity;
use crate::workspace::{
    AssistantBranch, CheckoutTarget, ConfigurationSwap, GitAuth, MergeRequestSource, RemoteUrl,
    Workspace,
};

/// What the checkout was prepared for, and so where its changes go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A new branch for an issue, and a merge request into `default_branch`.
    Issue {
        iid: IssueIid,
        branch: AssistantBranch,
        default_branch: String,
    },
    /// The merge request's source branch.
    MergeRequest {
        iid: MergeRequestIid,
        /// The bot opened the merge request, so its branch is the assistant's own.
        created_by_assistant: bool,
        /// The configuration files swapped for the target branch's versions, put back before
        /// anything is committed.
        configuration: ConfigurationSwap,
    },
}

impl Target {
    /// For a merge request whose configuration files were swapped: a prompt paragraph saying
    /// so, because the working tree then shows the target's versions of files the merge
    /// request may change, and a review must read the merge request's own. Empty otherwise.
    pub(crate) fn configuration_note(&self) -> String {
        let Target::MergeRequest { configuration, .. } = self else {
            return String::new();
        };
        let paths: Vec<String> = configuration.paths().map(|p| format!("`{p}`")).collect();
        if paths.is_empty() {
            return String::new();
        }
        format!(
            "\n## Your configuration files\n\nFor this run, {} in the working tree are the target branch's versions (your rules and settings come from there). The merge request's own versions are the code under review: read them with `git show HEAD:<path>`. Changes you make to these files are not committed.\n",
            paths.join(", ")
        )
    }
}

/// What the checkout is prepared for.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    /// An issue: a new branch, named after its title.
    Issue {
        /// The issue.
        iid: IssueIid,
        /// Its title.
        title: &'a str,
    },
    /// A merge request as the caller already read it from GitLab: its source branch at the
    /// head commit of that read, so the checkout is the commit whose diff the caller shows
    /// and the merge request is not read twice.
    MergeRequest(&'a MergeRequest),
}

impl<'a> Subject<'a> {
    /// The issue or merge request of a gathered context.
    pub(crate) fn of(context: &'a Context) -> anyhow::Result<Self> {
        Ok(match context.noteable {
            Noteable::Issue(iid) => Subject::Issue {
                iid,
                title: &context.title,
            },
            Noteable::MergeRequest(_) => Subject::MergeRequest(
                &context
                    .merge_request
                    .as_ref()
                    .context("the context of a merge request lacks the merge request; this is a bug, please report it")?
                    .read,
            ),
        })
    }
}

/// Opens the checkout and checks out what `subject` needs.
pub async fn prepare(
    settings: &JobSettings,
    vars: &dyn Env,
    gitlab: &GitLab,
    project: &ProjectRef,
    subject: Subject<'_>,
    bot: &BotIdentity,
) -> anyhow::Result<(Workspace, Target)> {
    let mut workspace = Workspace::open(
        settings.project_dir.clone(),
        settings.origin.clone(),
        GitAuth::token(&settings.token),
        settings.workspace.clone(),
    )
    .await
    .context("opening the job's checkout (CI_PROJECT_DIR)")?;
    let target = match subject {
        Subject::Issue { iid, title } => {
            let default_branch = default_branch(vars, gitlab, project).await?;
            workspace
                .checkout(CheckoutTarget::Issue {
                    default_branch: default_branch.clone(),
                })
                .await?;
            let branch = workspace.settings().branch_prefix.issue_branch(iid, title);
            workspace.start_branch(&branch).await?;
            Target::Issue {
                iid,
                branch,
                default_branch,
            }
        }
        Subject::MergeRequest(mr) => {
            let sha = mr
                .sha
                .clone()
                .or_else(|| mr.diff_refs.as_ref().map(|d| d.head_sha.clone()))
                .context("GitLab reported no commit (sha) for the merge request")?;
            let source = if mr.source_project_id == mr.target_project_id {
                MergeRequestSource::SameProject
            } else {
                let fork = gitlab
                    .project(&ProjectRef::Id(mr.source_project_id))
                    .await
                    .context("reading the merge request's source project (a fork)")?;
                MergeRequestSource::Fork {
                    url: RemoteUrl::parse("http_url_to_repo", &fork.http_url_to_repo)?,
                    allow_collaboration: mr.allow_collaboration.unwrap_or(false),
                }
            };
            let default_branch = default_branch(vars, gitlab, project).await?;
            workspace
                .checkout(CheckoutTarget::MergeRequest {
                    source_branch: mr.source_branch.clone(),
                    sha,
                    target_branch: mr.target_branch.clone(),
                    default_branch,
                    source,
                })
                .await?;
            let configuration = workspace
                .use_target_configuration(settings.spec.assistant)
                .await
                .context("taking the assistant's configuration files from the merge request's target branch")?;
            Target::MergeRequest {
                iid: mr.iid,
                created_by_assistant: mr.author.id == bot.id,
                configuration,
            }
        }
    };
    Ok((workspace, target))
}

/// `CI_DEFAULT_BRANCH` (set in every CI job), else the project's `default_branch`.
/// <https://docs.gitlab.com/ci/variables/predefined_variables/>
pub(crate) async fn default_branch(
    vars: &dyn Env,
    gitlab: &GitLab,
    project: &ProjectRef,
) -> anyhow::Result<String> {
    if let Some(branch) = vars
        .var("CI_DEFAULT_BRANCH")
        .filter(|b| !b.trim().is_empty())
    {
        return Ok(branch.trim().to_owned());
    }
    gitlab
        .project(project)
        .await
        .context("reading the project's default branch")?
        .default_branch
        .context("the project has no default branch: its repository is empty")
}
