//! Carries out a [`Plan`]: each step is one or two API calls, in the order listed, and each
//! secret goes out in exactly one request (the one that stores it).

use anyhow::Context;
use rand::Rng;

use super::masking::MaskableSecret;
use super::plan::{
    self, HOOK_NAME, Plan, SCAN_CRON, SCAN_VARIABLE, SCHEDULE_DESCRIPTION, Step,
    TRIGGER_DESCRIPTION,
};
use super::{BOT_TOKEN_VARIABLE, Mode, Options};
use crate::gitlab::access_tokens::NewAccessToken;
use crate::gitlab::hooks::NewNoteHook;
use crate::gitlab::ids::{MergeRequestIid, ProjectRef};
use crate::gitlab::members::AccessLevel;
use crate::gitlab::merge_requests::NewMergeRequest;
use crate::gitlab::pipeline_schedules::NewPipelineSchedule;
use crate::gitlab::projects::{PipelineVariablesRole, PipelineVariablesRule};
use crate::gitlab::repository::{CommitAction, FileAction, NewCommit};
use crate::gitlab::variables::NewVariable;
use crate::gitlab::{GitLab, GitLabError};
use crate::quick_action::Inert;
use crate::secret::Secret;
use crate::setup::plan::hook_events;
use crate::trigger::hook_vars;
use crate::ui::Ui;

/// A random webhook secret: 32 bytes as hex.
fn webhook_secret() -> Secret {
    let bytes: [u8; 32] = rand::rng().random();
    Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn hidden_variable(key: &str, value: &Secret, description: &str) -> NewVariable {
    NewVariable {
        key: key.to_owned(),
        value: value.clone(),
        masked: true,
        hidden: true,
        protected: false,
        raw: true,
        description: Some(description.to_owned()),
    }
}

/// Stores the bot's token as [`BOT_TOKEN_VARIABLE`], whether setup created it or was given it;
/// says how GitLab stored it.
async fn store_bot_token(
    gitlab: &GitLab,
    project: &ProjectRef,
    token: &Secret,
) -> anyhow::Result<&'static str> {
    store_hidden(
        gitlab,
        project,
        BOT_TOKEN_VARIABLE,
        token,
        "GitLab token of the @-mention bot",
    )
    .await
    .with_context(|| format!("storing the bot token as {BOT_TOKEN_VARIABLE}"))
}

/// Stores a variable setup means to hide, and says how GitLab really stored it: before 17.4
/// GitLab drops `masked_and_hidden` without a word and answers 201 with a masked variable that
/// Maintainers can reveal, so the answer's `hidden` decides what setup claims.
async fn store_hidden(
    gitlab: &GitLab,
    project: &ProjectRef,
    key: &str,
    value: &Secret,
    description: &str,
) -> Result<&'static str, GitLabError> {
    let stored = gitlab
        .create_project_variable(project, &hidden_variable(key, value, description))
        .await?;
    Ok(match (stored.masked, stored.hidden) {
        (true, true) => " (masked and hidden)",
        (true, false) => {
            " (masked but NOT hidden: this GitLab cannot hide variables before 17.4, so Maintainers can reveal it)"
        }
        (false, _) => " (NOT masked: GitLab did not mask it; delete it and add it again masked)",
    })
}

/// The date in GitLab's "Expires at must be before YYYY-MM-DD", the answer to a token whose
/// lifetime exceeds the instance's maximum (`expires_at_before_instance_max_expiry_date`).
fn stated_expiry_limit(message: &str) -> Option<chrono::NaiveDate> {
    let (_, rest) = message.split_once("must be before ")?;
    let date = rest.get(..10)?;
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// "does not have permission" on create: the tier or instance forbids project access tokens.
fn tokens_refused(error: &GitLabError) -> bool {
    error
        .api_message()
        .is_some_and(|m| m.as_str().contains("does not have permission"))
}

/// Applies every step of `plan`.
pub async fn apply(
    gitlab: &GitLab,
    options: &Options,
    plan: &Plan,
    ui: &mut dyn Ui,
) -> anyhow::Result<()> {
    let project = ProjectRef::Id(plan.project.id);
    let model_key_name = super::model_key_variable(options.assistant);
    // Every secret is gathered and checked before the first write.
    let model_key = match (
        &plan.model_key,
        plan.steps
            .iter()
            .any(|s| matches!(s, Step::StoreModelKey { .. })),
    ) {
        (_, false) => None,
        (Some(key), true) => Some(key.clone()),
        (None, true) => {
            let raw = ui.read_secret(&format!(
                "{} model key for {model_key_name}",
                options.assistant.display_name()
            ))?;
            Some(MaskableSecret::new(model_key_name, raw)?)
        }
    };
    let given_bot_token = options
        .bot_token
        .clone()
        .map(|t| MaskableSecret::new(BOT_TOKEN_VARIABLE, t))
        .transpose()?;
    let mut trigger_token = plan.trigger.as_ref().map(|t| t.token.clone());

    for step in &plan.steps {
        match step {
            Step::AllowPipelineVariables {
                from: PipelineVariablesRule::MaintainersOnly,
            } => {
                gitlab
                    .set_restrict_user_defined_variables(&project, false)
                    .await
                    .context("turning off restrict pipeline variables")?;
            }
            Step::AllowPipelineVariables { .. } => {
                gitlab
                    .set_pipeline_variables_role(&project, PipelineVariablesRole::Developer)
                    .await
                    .context("setting the minimum role to use pipeline variables to developer")?;
            }
            Step::CreateBotToken {
                name, expires_at, ..
            } => {
                let mut new_token = NewAccessToken {
                    name: name.clone(),
                    scopes: vec!["api".into()],
                    access_level: AccessLevel::DEVELOPER,
                    expires_at: *expires_at,
                    description: Some(format!(
                        "The {} bot of the @-mention integration (created by entrypoint setup)",
                        options.assistant.display_name()
                    )),
                };
                let mut created = gitlab
                    .create_project_access_token(&project, &new_token)
                    .await;
                // An administrator may have set a shorter maximum lifetime than the 364 days
                // asked for; GitLab then names its limit, and the token is made to end just
                // before it.
                if let Err(e) = &created
                    && let Some(limit) = e
                        .api_message()
                        .and_then(|m| stated_expiry_limit(m.as_str()))
                    && let Some(latest) = limit.pred_opt()
                    && latest < new_token.expires_at
                {
                    ui.say(&format!(
                        "This GitLab limits access tokens to a shorter lifetime than {} days: the bot's token will expire on {latest}; rotate it before then (doctor warns 30 days ahead).",
                        plan::TOKEN_LIFETIME_DAYS
                    ));
                    new_token.expires_at = latest;
                    created = gitlab
                        .create_project_access_token(&project, &new_token)
                        .await;
                }
                let created = match created {
                    Ok(created) => created,
                    Err(e) if tokens_refused(&e) => {
                        return Err(plan::Refusal::AccessTokensUnavailable {
                            project: plan.project.path_with_namespace.clone(),
                            status: e
                                .status()
                                .map(|s| s.to_string())
                                .unwrap_or_else(|| "an error".into()),
                        }
                        .into());
                    }
                    Err(e) => {
                        return Err(anyhow::Error::new(e)
                            .context("creating the bot's project access token"));
                    }
                };
                let token = MaskableSecret::new(BOT_TOKEN_VARIABLE, created.token)?;
                let how = store_bot_token(gitlab, &project, token.secret()).await?;
                ui.say(&format!(
                    "Created project access token \"{name}\" (bot user id {}) and stored it in {BOT_TOKEN_VARIABLE}{how}.",
                    created.info.user_id
                ));
            }
            Step::StoreGivenBotToken => {
                let Some(token) = &given_bot_token else {
                    anyhow::bail!("the plan stores a given bot token, but none was given");
                };
                let how = store_bot_token(gitlab, &project, token.secret()).await?;
                ui.say(&format!(
                    "Stored the given bot token in {BOT_TOKEN_VARIABLE}{how}."
                ));
            }
            Step::StoreModelKey { variable } => {
                let Some(key) = &model_key else {
                    anyhow::bail!("the plan stores a model key, but none was read");
                };
                let how = store_hidden(
                    gitlab,
                    &project,
                    variable,
                    key.secret(),
                    "Model API key of the assistant",
                )
                .await
                .with_context(|| format!("storing the model key as {variable}"))?;
                ui.say(&format!("Stored the model key in {variable}{how}."));
            }
            Step::CreateTrigger => {
                let created = gitlab
                    .create_trigger_token(&project, TRIGGER_DESCRIPTION)
                    .await
                    .context("creating the pipeline trigger token")?;
                trigger_token = Some(created.token);
                ui.say(&format!(
                    "Created pipeline trigger token \"{TRIGGER_DESCRIPTION}\"."
                ));
            }
            Step::CreateWebhook { target } => {
                let url = match &options.mode {
                    Mode::Webhook => {
                        let Some(token) = &trigger_token else {
                            anyhow::bail!("no trigger token to point the webhook at");
                        };
                        plan::trigger_url(gitlab, &plan.project, &plan.default_branch, token)
                    }
                    Mode::Relay { url, .. } => Secret::new(url.as_str()),
                    Mode::Scan => anyhow::bail!("scan mode has no webhook"),
                };
                let secret_token = match &options.mode {
                    Mode::Relay { secret, .. } => secret.clone(),
                    _ => webhook_secret(),
                };
                let custom_webhook_template = (matches!(options.mode, Mode::Webhook)
                    && plan::templates_available(plan.gitlab_version))
                .then(|| hook_vars::TEMPLATE.to_owned());
                let id = gitlab
                    .create_note_hook(
                        &project,
                        &NewNoteHook {
                            url,
                            secret_token,
                            name: HOOK_NAME.into(),
                            custom_webhook_template,
                            events: hook_events(&options.mode),
                        },
                    )
                    .await
                    .context("creating the comments webhook")?;
                ui.say(&format!("Created webhook {id} to {target}."));
            }
            Step::UpgradeWebhook { hook_id, target } => match &options.mode {
                // The relay reads the events themselves: no template.
                Mode::Relay { url, .. } => {
                    gitlab
                        .update_note_hook(
                            &project,
                            *hook_id,
                            &Secret::new(url.as_str()),
                            hook_events(&options.mode),
                            "",
                        )
                        .await
                        .context(
                            "adding the issue and merge request events to the relay's webhook",
                        )?;
                    ui.say(&format!(
                        "Updated webhook {hook_id} to {target} with the issue and merge request events."
                    ));
                }
                _ => {
                    let Some(token) = &trigger_token else {
                        anyhow::bail!("no trigger token to point the webhook at");
                    };
                    let url = plan::trigger_url(gitlab, &plan.project, &plan.default_branch, token);
                    gitlab
                        .update_note_hook(
                            &project,
                            *hook_id,
                            &url,
                            hook_events(&options.mode),
                            hook_vars::TEMPLATE,
                        )
                        .await
                        .context("giving the comments webhook its custom template")?;
                    ui.say(&format!(
                        "Updated webhook {hook_id} to {target} with the custom template."
                    ));
                }
            },
            Step::CreateSchedule => {
                let schedule = gitlab
                    .create_pipeline_schedule(
                        &project,
                        &NewPipelineSchedule {
                            description: SCHEDULE_DESCRIPTION.into(),
                            git_ref: plan.default_branch.clone(),
                            cron: SCAN_CRON.into(),
                            cron_timezone: "UTC".into(),
                            active: true,
                        },
                    )
                    .await
                    .context("creating the scan schedule")?;
                gitlab
                    .add_pipeline_schedule_variable(
                        &project,
                        schedule.id,
                        SCAN_VARIABLE.0,
                        SCAN_VARIABLE.1,
                    )
                    .await
                    .context("adding AI_SCAN to the scan schedule")?;
                ui.say(&format!(
                    "Created pipeline schedule {} ({SCAN_CRON}).",
                    schedule.id
                ));
            }
            Step::ProposeInclude {
                branch,
                content,
                exists,
                merge_request,
            } => {
                let iid = propose_include(
                    gitlab,
                    options,
                    plan,
                    branch,
                    content,
                    *exists,
                    *merge_request,
                )
                .await?;
                ui.say(&format!(
                    "{} merge request !{iid}; merge it to finish.",
                    if merge_request.is_some() {
                        "Added the include to"
                    } else {
                        "Opened"
                    }
                ));
            }
        }
    }
    Ok(())
}

async fn propose_include(
    gitlab: &GitLab,
    options: &Options,
    plan: &Plan,
    branch: &str,
    content: &str,
    exists: bool,
    open: Option<MergeRequestIid>,
) -> anyhow::Result<MergeRequestIid> {
    let project = ProjectRef::Id(plan.project.id);
    if open.is_none() {
        create_or_reuse_branch(gitlab, &project, branch, &plan.default_branch).await?;
    }
    commit_ci_file(gitlab, options, &project, branch, content, exists).await?;
    if let Some(iid) = open {
        return Ok(iid);
    }
    open_merge_request(gitlab, options, plan, &project, branch).await
}

async fn create_or_reuse_branch(
    gitlab: &GitLab,
    project: &ProjectRef,
    branch: &str,
    from: &str,
) -> anyhow::Result<()> {
    match gitlab.create_branch(project, branch, from).await {
        Ok(_) => {}
        // A branch left by an earlier run that stopped before its merge request: reuse it.
        Err(e)
            if e.api_message()
                .is_some_and(|m| m.as_str().contains("already exists")) => {}
        Err(e) => return Err(anyhow::Error::new(e).context(format!("creating branch {branch}"))),
    }
    Ok(())
}

async fn commit_ci_file(
    gitlab: &GitLab,
    options: &Options,
    project: &ProjectRef,
    branch: &str,
    content: &str,
    exists: bool,
) -> anyhow::Result<()> {
    let assistant = options.assistant;
    gitlab
        .create_commit(
            project,
            &NewCommit {
                branch: branch.to_owned(),
                commit_message: format!(
                    "Include the @{} CI template",
                    options.handles.handle(assistant).as_str()
                ),
                actions: vec![CommitAction {
                    action: if exists {
                        FileAction::Update
                    } else {
                        FileAction::Create
                    },
                    file_path: ".gitlab-ci.yml".into(),
                    content: content.to_owned(),
                }],
            },
        )
        .await
        .context("committing .gitlab-ci.yml")?;
    Ok(())
}

async fn open_merge_request(
    gitlab: &GitLab,
    options: &Options,
    plan: &Plan,
    project: &ProjectRef,
    branch: &str,
) -> anyhow::Result<MergeRequestIid> {
    let assistant = options.assistant;
    let mut mr = NewMergeRequest::new(
        branch,
        &plan.default_branch,
        &format!(
            "Let @{} answer comments",
            options.handles.handle(assistant).as_str()
        ),
    );
    mr.description = Some(Inert::new(&format!(
        "Adds the `include:` of `{}` from `{}` at `{}` (made by `entrypoint setup`).\n\nThe CI/CD variables, trigger and webhook are already in place; after merging, mention @{} in an issue or merge request comment.",
        options.template.file(assistant),
        options.template.project,
        options.template.git_ref,
        options.handles.handle(assistant).as_str()
    )));
    mr.remove_source_branch = Some(true);
    let created = gitlab
        .create_merge_request(project, &mr)
        .await
        .context("opening the merge request")?;
    Ok(created.iid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_lifetime_limit_is_read_from_gitlabs_message() {
        assert_eq!(
            stated_expiry_limit("400 Bad request - Expires at must be before 2027-03-01"),
            chrono::NaiveDate::from_ymd_opt(2027, 3, 1)
        );
        assert_eq!(stated_expiry_limit("Expires at must be before soon"), None);
        assert_eq!(stated_expiry_limit("403 Forbidden"), None);
    }
}
