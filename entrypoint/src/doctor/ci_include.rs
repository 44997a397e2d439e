//! `.gitlab-ci.yml` on the default branch includes the assistant's template: without it a
//! triggered pipeline has no job to answer the mention. Read through the repository files API
//! (<https://docs.gitlab.com/api/repository_files/#retrieve-a-file-from-a-repository>); the
//! template arrives as `include: project` with `file: '/templates/<assistant>.yml'`
//! (<https://docs.gitlab.com/ci/yaml/#includeproject>) or as a CI/CD component
//! `…/<assistant>@<version>` (<https://docs.gitlab.com/ci/yaml/#includecomponent>).

use super::report::{Check, Finding, Report};
use super::{Inputs, ProjectView};
use crate::agent::Assistant;
use crate::contract::include_branch;
use crate::gitlab::GitLab;
use crate::gitlab::ids::ProjectRef;
use crate::gitlab::projects::Project;

/// Whether the CI file's text includes the template of `assistant`, as a project file or as a
/// component.
pub fn includes(text: &str, assistant: Assistant) -> bool {
    let file = format!("templates/{}.yml", assistant.name());
    let component = format!("/{}@", assistant.name());
    text.contains(&file)
        || text
            .lines()
            .any(|line| line.contains("component:") && line.contains(&component))
}

/// One finding per assistant.
pub async fn check(
    gitlab: &GitLab,
    project: &Project,
    seen: &ProjectView,
    inputs: &Inputs<'_>,
    assistants: &[Assistant],
    report: &mut Report,
) {
    let branch = project
        .default_branch
        .as_deref()
        .unwrap_or("the default branch");
    let text = match &seen.ci_file {
        Ok(text) => text.as_deref(),
        Err(e) => {
            for &assistant in assistants {
                report.push(Finding::warn(
                    Check::CiInclude(assistant),
                    format!("could not read .gitlab-ci.yml on {branch}: {e}"),
                    "run doctor again; the token needs at least the Reporter role to read files",
                ));
            }
            return;
        }
    };
    let missing: Vec<Assistant> = assistants
        .iter()
        .copied()
        .filter(|&a| !text.is_some_and(|t| includes(t, a)))
        .collect();
    for &assistant in assistants {
        if !missing.contains(&assistant) {
            report.push(Finding::ok(
                Check::CiInclude(assistant),
                format!(
                    ".gitlab-ci.yml on {branch} includes the {} template",
                    assistant.display_name()
                ),
            ));
        }
    }
    if missing.is_empty() {
        return;
    }
    let open = gitlab
        .find_open_merge_request(&ProjectRef::Id(project.id), &include_branch())
        .await
        .ok()
        .flatten();
    for assistant in missing {
        let found = match text {
            None => format!("{branch} has no .gitlab-ci.yml, so no job answers mentions"),
            Some(_) => format!(
                ".gitlab-ci.yml on {branch} does not include the {} template, so no job answers its mentions",
                assistant.display_name()
            ),
        };
        let fix = match &open {
            Some(mr) => format!("merge !{} (opened by entrypoint setup)", mr.iid),
            None => format!(
                "add to .gitlab-ci.yml: {} (entrypoint setup opens a merge request with it)",
                inputs
                    .template
                    .block(assistant)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        };
        report.push(Finding::fail(Check::CiInclude(assistant), found, fix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_includes_and_components_count() {
        let project =
            "include:\n  - project: 'tools/ai'\n    ref: 'v1'\n    file: '/templates/claude.yml'\n";
        assert!(includes(project, Assistant::Claude));
        assert!(!includes(project, Assistant::Codex));
        let component = "include:\n  - component: $CI_SERVER_FQDN/tools/ai/codex@1.0.0\n";
        assert!(includes(component, Assistant::Codex));
        assert!(!includes("test:\n  script: codex@home\n", Assistant::Codex));
    }
}
