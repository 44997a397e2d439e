//! The CI/CD variables a job needs: `GITLAB_TOKEN` and each assistant's model key.
//!
//! In a job, the variable must be in the environment. With a token that may list the project's
//! variables (Maintainer, `GET /projects/:id/variables`,
//! <https://docs.gitlab.com/api/project_level_variables/>) each one must also be masked
//! (else its value appears in clear wherever a job prints it,
//! <https://docs.gitlab.com/ci/variables/#mask-a-cicd-variable>) and not protected: a protected
//! variable is only passed to pipelines on protected branches and tags
//! (<https://docs.gitlab.com/ci/variables/#protect-a-cicd-variable>), and the pipelines that
//! answer mentions run on whatever ref their trigger names. Hidden
//! (<https://docs.gitlab.com/ci/variables/#hide-a-cicd-variable>, GitLab 17.4+) is reported but
//! not required. Group and instance variables are not listed by this endpoint, so a variable
//! defined there shows as missing locally; the job's view is authoritative.

use super::report::{Check, Finding, Report};
use super::{Inputs, Place, ProjectView, unreadable};
use crate::agent::Assistant;
use crate::agent::settings::model_key_variables;
use crate::contract::BOT_TOKEN_VARIABLE;
use crate::gitlab::variables::ProjectVariable;

/// Checks `GITLAB_TOKEN` and the model key of every assistant.
pub fn check(
    inputs: &Inputs<'_>,
    assistants: &[Assistant],
    seen: Option<&ProjectView>,
    report: &mut Report,
) {
    let listed = seen.map(|s| &s.variables);
    if let Some(Err(e)) = listed
        && let Some(finding) = unreadable(
            Check::Variable(BOT_TOKEN_VARIABLE),
            "the project's CI/CD variables",
            e,
            inputs.place,
        )
    {
        report.push(finding);
    }
    let listed = listed.and_then(|l| l.as_ref().ok());
    let mut wanted: Vec<&'static [&'static str]> = vec![&[BOT_TOKEN_VARIABLE]];
    wanted.extend(assistants.iter().map(|&a| model_key_variables(a)));
    for names in wanted {
        if let Some(finding) = one(inputs, names, listed) {
            report.push(finding);
        }
    }
}

/// The finding for one variable, which may go by any of `names` (the first is preferred).
fn one(
    inputs: &Inputs<'_>,
    names: &'static [&'static str],
    listed: Option<&Vec<ProjectVariable>>,
) -> Option<Finding> {
    let preferred = names[0];
    let check = Check::Variable(preferred);
    let shown = names.join(" or ");
    let variable = listed.and_then(|vars| {
        names
            .iter()
            .find_map(|name| vars.iter().find(|v| v.key == *name))
    });
    let add = format!(
        "add {preferred} under Settings > CI/CD > Variables as masked and hidden, not protected (entrypoint setup does this)"
    );
    if inputs.place == Place::Job && !names.iter().any(|n| inputs.var(n).is_some()) {
        let why = match (variable, inputs.var("CI_COMMIT_REF_PROTECTED").as_deref()) {
            (Some(v), Some(protected)) if v.protected && protected != "true" => format!(
                ": it is protected, and this pipeline's ref {} is not",
                inputs.var("CI_COMMIT_REF_NAME").unwrap_or_default()
            ),
            _ => String::new(),
        };
        let fix = if why.is_empty() {
            add
        } else {
            unprotect(preferred)
        };
        return Some(Finding::fail(
            check,
            format!("{shown} is not set in this job{why}"),
            fix,
        ));
    }
    if listed.is_none() {
        return (inputs.place == Place::Job).then(|| Finding::ok(check, "set in this job"));
    }
    let Some(variable) = variable else {
        return Some(Finding::fail(
            check,
            format!("{shown} is not among the project's CI/CD variables"),
            add,
        ));
    };
    let key = &variable.key;
    let mut problems = Vec::new();
    if !variable.masked {
        problems.push("is not masked, so its value shows in clear wherever a job prints it");
    }
    if variable.protected {
        problems.push("is protected, so pipelines on unprotected refs get no value");
    }
    Some(match problems.as_slice() {
        [] => Finding::ok(
            check,
            format!(
                "{key} is masked{}, not protected",
                if variable.hidden {
                    " and hidden"
                } else {
                    " (not hidden: Maintainers can still reveal it)"
                }
            ),
        ),
        _ => Finding::fail(
            check,
            format!("{key} {}", problems.join(", and ")),
            match (variable.masked, variable.protected) {
                (false, true) => format!(
                    "delete {key} and add it again masked and hidden, with Protect variable cleared"
                ),
                (false, false) => format!(
                    "delete {key} and add it again masked and hidden (Settings > CI/CD > Variables)"
                ),
                _ => unprotect(key),
            },
        ),
    })
}

fn unprotect(key: &str) -> String {
    format!("edit {key} under Settings > CI/CD > Variables and clear Protect variable")
}
