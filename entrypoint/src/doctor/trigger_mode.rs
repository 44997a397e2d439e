//! What turns a comment into a pipeline: a project webhook with comment events pointing at the
//! project's pipeline trigger URL (webhook mode) or at a relay, a pipeline trigger token used
//! from elsewhere, or a pipeline schedule that scans (scan mode).
//!
//! Webhooks, trigger tokens and schedules are listed for Maintainers only
//! (<https://docs.gitlab.com/api/project_webhooks/>,
//! <https://docs.gitlab.com/api/pipeline_triggers/>,
//! <https://docs.gitlab.com/api/pipeline_schedules/>). A trigger token is shown in full to its
//! owner and by its first four characters to others, so a webhook's token is matched by
//! prefix. A webhook-triggered pipeline carries the webhook body as the pipeline variable
//! `TRIGGER_PAYLOAD` (<https://docs.gitlab.com/ci/triggers/#use-a-webhook>), which GitLab
//! refuses with "Insufficient permissions to set pipeline variables" when the project's
//! `ci_pipeline_variables_minimum_override_role` is above the trigger owner's role
//! (<https://docs.gitlab.com/ci/variables/#restrict-pipeline-variables>,
//! <https://gitlab.com/gitlab-org/gitlab/-/issues/557381>).

use super::report::{Check, Finding, Report};
use super::{Place, readable};
use crate::gitlab::GitLab;
use crate::gitlab::hooks::ProjectHook;
use crate::gitlab::ids::ProjectRef;
use crate::gitlab::members::AccessLevel;
use crate::gitlab::projects::Project;
use crate::gitlab::triggers::TriggerToken;

/// The fix when nothing starts pipelines for comments.
const SET_UP_TRIGGER: &str = "run entrypoint setup --mode webhook (no service to host), --mode relay --relay-url URL, or --mode scan";

/// Checks the trigger mode and, for webhooks to the trigger URL, the pipeline variables setting.
pub async fn check(gitlab: &GitLab, project: &Project, place: Place, report: &mut Report) {
    let pref = ProjectRef::Id(project.id);
    let Some(hooks) = readable(
        gitlab.project_hooks(&pref).await,
        Check::Trigger,
        "the project's webhooks",
        place,
        report,
    ) else {
        return;
    };
    let Some(triggers) = readable(
        gitlab.trigger_tokens(&pref).await,
        Check::Trigger,
        "the pipeline trigger tokens",
        place,
        report,
    ) else {
        return;
    };
    let comment_hooks: Vec<&ProjectHook> = hooks.iter().filter(|h| h.note_events).collect();
    if let Some(hook) = comment_hooks.iter().find(|h| is_trigger_url(h)) {
        let target = hook.url_without_query().to_owned();
        match hook_trigger(hook, &triggers) {
            Some(trigger) => {
                report.push(Finding::ok(
                    Check::Trigger,
                    format!(
                        "webhook mode: comments go to {target} with the trigger token \"{}\"{}",
                        trigger.description,
                        if hook.confidential_note_events {
                            ""
                        } else {
                            " (internal comments are not sent: enable Confidential comments on the webhook to answer them)"
                        }
                    ),
                ));
                report.push(pipeline_variables(gitlab, project, trigger).await);
            }
            None => report.push(Finding::fail(
                Check::Trigger,
                format!("the comments webhook to {target} carries a trigger token the project does not have (revoked?)"),
                "delete that webhook and run entrypoint setup --mode webhook, which creates a token and a webhook that uses it",
            )),
        }
        return;
    }
    if let Some(hook) = comment_hooks.first() {
        report.push(Finding::ok(
            Check::Trigger,
            format!("relay mode: comments go to {}", hook.url_without_query()),
        ));
        return;
    }
    if let Some(trigger) = triggers.first() {
        report.push(Finding::ok(
            Check::Trigger,
            format!(
                "a pipeline trigger token exists (\"{}\") but no comments webhook: fine when a relay outside GitLab triggers pipelines",
                trigger.description
            ),
        ));
        return;
    }
    let Some(schedules) = readable(
        gitlab.pipeline_schedules(&pref).await,
        Check::Trigger,
        "the pipeline schedules",
        place,
        report,
    ) else {
        return;
    };
    match schedules.iter().find(|s| s.active) {
        Some(schedule) => report.push(Finding::ok(
            Check::Trigger,
            format!(
                "scan mode: pipeline schedule \"{}\" ({}) on {}",
                schedule.description, schedule.cron, schedule.git_ref
            ),
        )),
        None => report.push(Finding::fail(
            Check::Trigger,
            "nothing turns comments into pipelines: no webhook with comment events, no pipeline trigger token, no active pipeline schedule",
            SET_UP_TRIGGER,
        )),
    }
}

/// `…/projects/:id/ref/:ref/trigger/pipeline?token=…` or `…/projects/:id/trigger/pipeline`.
fn is_trigger_url(hook: &ProjectHook) -> bool {
    hook.url_without_query().ends_with("/trigger/pipeline")
}

/// The project's trigger token whose (full, or first four characters of the) token starts the
/// token in the webhook's URL.
fn hook_trigger<'t>(hook: &ProjectHook, triggers: &'t [TriggerToken]) -> Option<&'t TriggerToken> {
    let url = url::Url::parse(hook.url.expose()).ok()?;
    let token = url
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())?;
    triggers.iter().find(|t| {
        let listed = t.token.expose();
        !listed.is_empty() && token.starts_with(listed)
    })
}

async fn pipeline_variables(gitlab: &GitLab, project: &Project, trigger: &TriggerToken) -> Finding {
    let Some(role) = project.ci_pipeline_variables_minimum_override_role else {
        return Finding::ok(
            Check::PipelineVariables,
            "the minimum role to use pipeline variables is not shown to this token; webhook pipelines need it at or below the trigger owner's role",
        );
    };
    let (owner, level) = match &trigger.owner {
        Some(owner) => {
            let level = gitlab
                .project_member(&ProjectRef::Id(project.id), owner.id)
                .await
                .ok()
                .flatten()
                .map_or(AccessLevel::NO_ACCESS, |m| m.access_level);
            (format!("@{}", owner.username), level)
        }
        None => ("its owner".to_owned(), AccessLevel::NO_ACCESS),
    };
    if role.allows(level) {
        Finding::ok(
            Check::PipelineVariables,
            format!(
                "minimum role to use pipeline variables is {}; the trigger's owner {owner} is {level}",
                role.as_str()
            ),
        )
    } else {
        Finding::fail(
            Check::PipelineVariables,
            format!(
                "minimum role to use pipeline variables is {}, above the trigger owner {owner} ({level}): webhook pipelines fail with \"Insufficient permissions to set pipeline variables\" because TRIGGER_PAYLOAD is one",
                role.as_str()
            ),
            "set Settings > CI/CD > Variables > Minimum role to use pipeline variables to Developer (an Owner must change it from owner or no_one_allowed), or run entrypoint setup",
        )
    }
}
