//! What turns a comment into a pipeline: a project webhook with comment events pointing at the
//! project's pipeline trigger URL (webhook mode) or at a relay, a pipeline trigger token used
//! from elsewhere, or a pipeline schedule that scans (scan mode).
//!
//! Webhooks, trigger tokens and schedules are listed for Maintainers only
//! (<https://docs.gitlab.com/api/project_webhooks/>,
//! <https://docs.gitlab.com/api/pipeline_triggers/>,
//! <https://docs.gitlab.com/api/pipeline_schedules/>). A trigger token is shown in full to its
//! owner and by its first four characters to others, so a webhook's token can be confirmed
//! only when the caller owns it. A webhook-triggered pipeline carries the webhook body as the pipeline variable
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
use crate::gitlab::projects::{PipelineVariablesRule, Project};
use crate::gitlab::triggers::TriggerToken;
use crate::trigger::hook_vars;

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
        let target = shown(hook);
        let (trigger, unverified) = match hook_trigger(hook, &triggers) {
            TokenMatch::Full(trigger) => (trigger, ""),
            TokenMatch::Prefix(trigger) => (
                trigger,
                " (owned by someone else, so GitLab shows this token only by its first characters and doctor cannot compare it in full)",
            ),
            TokenMatch::None => {
                report.push(Finding::fail(
                    Check::Trigger,
                    format!("the comments webhook to {target} carries a trigger token the project does not have (revoked?)"),
                    "delete that webhook and run entrypoint setup --mode webhook, which creates a token and a webhook that uses it",
                ));
                return;
            }
        };
        report.push(Finding::ok(
            Check::Trigger,
            format!(
                "webhook mode: comments go to {target} with the trigger token \"{}\"{unverified}{}",
                trigger.description,
                if hook.confidential_note_events {
                    ""
                } else {
                    " (internal comments are not sent: enable Confidential comments on the webhook to answer them)"
                }
            ),
        ));
        // Before 16.10 the `gitlab-feature custom-webhook-template` line already says it.
        let version = gitlab.gitlab_version().await.ok();
        if crate::contract::templates_available(version) {
            report.push(template(hook));
        }
        report.push(pipeline_variables(gitlab, project, trigger).await);
        return;
    }
    if let Some(hook) = comment_hooks.first() {
        report.push(Finding::ok(
            Check::Trigger,
            format!("relay mode: comments go to {}", shown(hook)),
        ));
        report.extend(for_the_bot(
            project,
            "a relay that starts pipelines with the bot's token",
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
        Some(schedule) => {
            report.push(Finding::ok(
                Check::Trigger,
                format!(
                    "scan mode: pipeline schedule \"{}\" ({}) on {}",
                    schedule.description, schedule.cron, schedule.git_ref
                ),
            ));
            report.extend(for_the_bot(
                project,
                "the scan's pipeline hand-off (AI_SCAN_MODE=pipeline)",
            ));
        }
        None => report.push(Finding::fail(
            Check::Trigger,
            "nothing turns comments into pipelines: no webhook with comment events, no pipeline trigger token, no active pipeline schedule",
            SET_UP_TRIGGER,
        )),
    }
}

/// Whether the webhook-mode hook sends setup's custom template (GitLab 16.10+), which lets the
/// templates' rules skip the bot's own notes and every edit without a runner and lock each
/// issue or merge request on its own (docs/modes.md). A hook set up before the template
/// existed still works, at the old cost: a warning that says what it costs and how to upgrade.
fn template(hook: &ProjectHook) -> Finding {
    match hook.custom_webhook_template.as_deref() {
        Some(template) if template == hook_vars::TEMPLATE => Finding::ok(
            Check::Trigger,
            "the webhook sends setup's custom template: the bot's own notes and every edit start no runner, and mentions on different issues or merge requests run in parallel",
        ),
        Some(_) => Finding::warn(
            Check::Trigger,
            "the webhook's custom template is not the one entrypoint setup writes: unless it sends the same AI_HOOK_* variables, the jobs cannot find the note, or every job waits in one resource group",
            "run entrypoint setup --mode webhook again, which restores the template",
        ),
        None => Finding::warn(
            Check::Trigger,
            "the webhook sends the whole comment event (the design before custom webhook templates): every comment and every edit of the bot's placeholder starts a job that pulls the assistant image, and all of the assistant's jobs wait in one resource group",
            "on GitLab 16.10 or later run entrypoint setup --mode webhook again, which gives the webhook its custom template; on older GitLab consider the relay (docs/modes.md)",
        ),
    }
}

/// The hook's URL as it may be printed: without its query (a trigger token) and without any
/// user name or password in it.
fn shown(hook: &ProjectHook) -> String {
    match url::Url::parse(hook.url_without_query()) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => "a webhook URL GitLab accepted but this tool cannot parse".to_owned(),
    }
}

/// `…/projects/:id/ref/:ref/trigger/pipeline?token=…` or `…/projects/:id/trigger/pipeline`.
fn is_trigger_url(hook: &ProjectHook) -> bool {
    hook.url_without_query().ends_with("/trigger/pipeline")
}

/// How a webhook's trigger token was found among the project's trigger tokens.
#[derive(Debug)]
enum TokenMatch<'t> {
    /// The caller owns it, so GitLab listed it in full and it is the same token.
    Full(&'t TriggerToken),
    /// Someone else owns it: GitLab lists only its first four characters, which every
    /// `glptt-` token shares, so the match is only a guess.
    Prefix(&'t TriggerToken),
    /// No trigger token of the project can be the one in the URL.
    None,
}

/// The trigger token in the webhook's URL, among the project's.
fn hook_trigger<'t>(hook: &ProjectHook, triggers: &'t [TriggerToken]) -> TokenMatch<'t> {
    let token = url::Url::parse(hook.url.expose()).ok().and_then(|url| {
        url.query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    let Some(token) = token else {
        return TokenMatch::None;
    };
    if let Some(full) = triggers.iter().find(|t| t.token.expose() == token) {
        return TokenMatch::Full(full);
    }
    triggers
        .iter()
        .find(|t| {
            let listed = t.token.expose();
            listed.len() <= 4 && !listed.is_empty() && token.starts_with(listed)
        })
        .map_or(TokenMatch::None, TokenMatch::Prefix)
}

/// Pipeline variables judged for the bot, a Developer, where the bot's own token creates the
/// pipelines (`POST /projects/:id/pipeline` with `TRIGGER_PAYLOAD`): GitLab applies the same
/// rule to API pipelines as to triggers. A warning, since `who` may not be in use.
fn for_the_bot(project: &Project, who: &str) -> Option<Finding> {
    let rule = project.pipeline_variables_rule();
    match rule.allows(AccessLevel::DEVELOPER)? {
        true => Some(Finding::ok(
            Check::PipelineVariables,
            format!(
                "pipeline variables: {}; the bot (Developer) may pass them",
                rule.describe()
            ),
        )),
        false => Some(Finding::warn(
            Check::PipelineVariables,
            format!(
                "pipeline variables: {}, above the bot's role (Developer): {who} fails with \"Insufficient permissions to set pipeline variables\"",
                rule.describe()
            ),
            "set Settings > CI/CD > Variables > Minimum role to use pipeline variables to Developer (an Owner must change it from owner or no_one_allowed), or run entrypoint setup --mode relay",
        )),
    }
}

async fn pipeline_variables(gitlab: &GitLab, project: &Project, trigger: &TriggerToken) -> Finding {
    // Read both settings: from 17.1 to 17.9 the role is ignored while
    // `restrict_user_defined_variables` is false, and before 17.1 there is no role at all.
    let rule = project.pipeline_variables_rule();
    if rule == PipelineVariablesRule::Hidden {
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
    if rule.allows(level) == Some(true) {
        Finding::ok(
            Check::PipelineVariables,
            format!(
                "pipeline variables: {}; the trigger's owner {owner} is {level}",
                rule.describe()
            ),
        )
    } else {
        Finding::fail(
            Check::PipelineVariables,
            format!(
                "pipeline variables: {}, above the trigger owner {owner} ({level}): webhook pipelines fail with \"Insufficient permissions to set pipeline variables\" because TRIGGER_PAYLOAD is one",
                rule.describe()
            ),
            "set Settings > CI/CD > Variables > Minimum role to use pipeline variables to Developer (an Owner must change it from owner or no_one_allowed), or run entrypoint setup",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::report::Status;
    use crate::secret::Secret;

    fn hook(url: &str) -> ProjectHook {
        ProjectHook {
            id: 1,
            url: Secret::new(url),
            note_events: true,
            confidential_note_events: true,
            issues_events: false,
            confidential_issues_events: false,
            merge_requests_events: false,
            custom_webhook_template: None,
        }
    }

    #[test]
    fn a_webhook_without_setups_template_is_a_warning_that_says_what_it_costs() {
        let old = template(&hook(
            "https://gitlab.example.com/api/v4/projects/1/ref/main/trigger/pipeline?token=glptt-x",
        ));
        assert_eq!(old.status, Status::Warn);
        assert!(old.found.contains("whole comment event"), "{}", old.found);
        assert!(
            old.fix
                .as_deref()
                .is_some_and(|f| f.contains("entrypoint setup --mode webhook"))
        );
        let mut current = hook(
            "https://gitlab.example.com/api/v4/projects/1/ref/main/trigger/pipeline?token=glptt-x",
        );
        current.custom_webhook_template = Some(hook_vars::TEMPLATE.to_owned());
        assert_eq!(template(&current).status, Status::Ok);
        current.custom_webhook_template = Some("{\"variables\":{}}".to_owned());
        assert!(
            format!("{:?}", template(&current)).contains("not the one entrypoint setup writes")
        );
    }

    fn trigger(token: &str) -> TriggerToken {
        TriggerToken {
            id: 2,
            description: "d".into(),
            token: Secret::new(token),
            owner: None,
        }
    }

    #[test]
    fn a_hook_is_shown_without_its_token_or_credentials() {
        let h = hook(
            "https://gl.example.com/api/v4/projects/7/ref/main/trigger/pipeline?token=glptt-secret",
        );
        assert!(is_trigger_url(&h));
        assert_eq!(
            shown(&h),
            "https://gl.example.com/api/v4/projects/7/ref/main/trigger/pipeline"
        );
        let relay = hook("https://bot:pa55word@relay.example.com/hook?key=k");
        assert!(!is_trigger_url(&relay));
        assert_eq!(shown(&relay), "https://relay.example.com/hook");
    }

    #[test]
    fn the_hooks_token_matches_a_trigger_in_full_or_only_guessed_by_its_first_characters() {
        let h = hook(
            "https://gl.example.com/api/v4/projects/7/ref/main/trigger/pipeline?token=glptt-abcdef",
        );
        let owned = [trigger("glptt-abcdef")];
        assert!(matches!(hook_trigger(&h, &owned), TokenMatch::Full(_)));
        let others = [trigger("glpt")];
        assert!(matches!(hook_trigger(&h, &others), TokenMatch::Prefix(_)));
        let unrelated = [trigger("glptt-zzz"), trigger("glptt-abcdefgh")];
        assert!(matches!(hook_trigger(&h, &unrelated), TokenMatch::None));
    }
}
