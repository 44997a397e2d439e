//! The image scenarios: the product run in its images against the doubles, judged as a user
//! would judge it (in_image, webhook, e2e), and the checks they share.

pub(crate) mod e2e;
pub(crate) mod in_image;
pub(crate) mod webhook;

use anyhow::ensure;
use doubles::gitlab::double::{GitLabDouble, Noteable};
use doubles::gitlab::model::{MergeRequest, Note};

/// Where the project is checked out in the containers (a host directory is mounted on the
/// parent), as the runner's `builds_dir` does.
const BUILDS: &str = "/builds";
/// The project the scenarios' mentions are in.
const PROJECT_PATH: &str = "acme/widgets";
/// [`PROJECT_PATH`] checked out under [`BUILDS`] (`CI_PROJECT_DIR`).
const CHECKOUT: &str = "/builds/acme/widgets";

/// The clone URL of `project` with the job's token, as the runner gives it to the job.
fn repository_url(gitlab: &GitLabDouble, project: u64, job_token: &str) -> anyhow::Result<String> {
    Ok(gitlab.git_url(project)?.replacen(
        "http://",
        &format!("http://gitlab-ci-token:{job_token}@"),
        1,
    ))
}

/// The variables GitLab gives job `job_id` of a trigger pipeline of `project`
/// (<https://docs.gitlab.com/ci/variables/predefined_variables/>), and the bot's token the job's
/// settings add; each scenario adds its own.
fn trigger_job_env(
    gitlab: &GitLabDouble,
    project: u64,
    job_token: &str,
    job_id: u64,
    bot_token: &str,
) -> anyhow::Result<Vec<String>> {
    let base = gitlab.base_url();
    Ok(vec![
        "CI=true".to_owned(),
        "GITLAB_CI=true".to_owned(),
        "CI_PIPELINE_SOURCE=trigger".to_owned(),
        format!("CI_PROJECT_ID={project}"),
        format!("CI_PROJECT_PATH={PROJECT_PATH}"),
        format!("CI_PROJECT_DIR={CHECKOUT}"),
        format!("CI_API_V4_URL={}", gitlab.api_url()),
        format!("CI_SERVER_URL={base}"),
        "CI_SERVER_HOST=127.0.0.1".to_owned(),
        "CI_DEFAULT_BRANCH=main".to_owned(),
        format!(
            "CI_REPOSITORY_URL={}",
            repository_url(gitlab, project, job_token)?
        ),
        format!("CI_JOB_TOKEN={job_token}"),
        format!("CI_JOB_ID={job_id}"),
        format!("CI_JOB_URL={base}/{PROJECT_PATH}/-/jobs/{job_id}"),
        format!("GITLAB_TOKEN={bot_token}"),
    ])
}

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
