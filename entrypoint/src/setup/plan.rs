//! What the project has and what setup would add: read-only calls, then a list of steps.

use chrono::{Days, NaiveDate, Utc};
use reqwest::StatusCode;

use super::ci_include::{self, IncludeChange};
use super::masking::MaskableSecret;
use super::{BOT_TOKEN_VARIABLE, Mode, Options, model_key_variable};
use crate::gitlab::GitLab;
use crate::gitlab::GitLabError;
use crate::gitlab::ids::{MergeRequestIid, ProjectRef};
use crate::gitlab::members::AccessLevel;
use crate::gitlab::projects::{PipelineVariablesRole, PipelineVariablesRule, Project};
use crate::gitlab::triggers::TriggerToken;
use crate::gitlab::users::CurrentUser;
use crate::gitlab::version::{self, GitLabVersion};
use crate::secret::Secret;
use crate::trigger::hook_vars;

pub use crate::contract::{
    HOOK_NAME, SCAN_CRON, SCAN_VARIABLE, SCHEDULE_DESCRIPTION, TOKEN_LIFETIME_DAYS,
    TRIGGER_DESCRIPTION, include_branch, templates_available,
};

/// One change to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Lower "minimum role to use pipeline variables" to Developer, since every webhook
    /// trigger carries `TRIGGER_PAYLOAD` as a pipeline variable.
    AllowPipelineVariables {
        /// The current setting.
        from: PipelineVariablesRule,
    },
    /// Create the bot's project access token and store it as `GITLAB_TOKEN`.
    CreateBotToken {
        /// Token name (the bot's display name).
        name: String,
        /// Expiry.
        expires_at: NaiveDate,
        /// Active tokens of that name already exist, but GitLab never shows a token again, so
        /// without `GITLAB_TOKEN` they cannot be reused.
        unreadable_namesakes: usize,
    },
    /// Store the given bot token as `GITLAB_TOKEN`.
    StoreGivenBotToken,
    /// Store the model key.
    StoreModelKey {
        /// Variable name.
        variable: &'static str,
    },
    /// Create the pipeline trigger token.
    CreateTrigger,
    /// Create the Comments webhook.
    CreateWebhook {
        /// Where it points, without any token.
        target: String,
    },
    /// Give setup's existing webhook-mode hook the custom template (a project set up before
    /// the template existed, or a template someone edited): its trigger calls then carry the
    /// `AI_HOOK_*` variables the templates' rules decide on.
    UpgradeWebhook {
        /// The hook.
        hook_id: u64,
        /// Where it points, without any token.
        target: String,
    },
    /// Create the scan schedule.
    CreateSchedule,
    /// Propose the `include:` block in a merge request.
    ProposeInclude {
        /// Source branch.
        branch: String,
        /// New `.gitlab-ci.yml`.
        content: String,
        /// Whether `.gitlab-ci.yml` exists on the branch the content is based on.
        exists: bool,
        /// Setup's merge request that is already open: commit to its branch instead.
        merge_request: Option<MergeRequestIid>,
    },
}

/// The project as found, and the steps that are missing.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The project.
    pub project: Project,
    /// Its default branch.
    pub default_branch: String,
    /// Who runs setup.
    pub caller: CurrentUser,
    /// Their role.
    pub level: AccessLevel,
    /// Setup's trigger token, when it exists and is readable.
    pub trigger: Option<TriggerToken>,
    /// The steps, in the order they are applied.
    pub steps: Vec<Step>,
    /// The model key from the environment, already checked.
    pub model_key: Option<MaskableSecret>,
    /// Set when the `include:` block must be added by hand: the sentence to print before it.
    pub include_by_hand: Option<String>,
    /// The instance's release (`GET /version`), when it could be read.
    pub gitlab_version: Option<GitLabVersion>,
}

impl Plan {
    /// Whether variables setup stores will really be hidden: GitLab before 17.4 ignores
    /// `masked_and_hidden` and stores them masked only. Unknown versions are assumed able to;
    /// [`super::apply`] checks what GitLab answered in any case.
    pub(crate) fn hides_variables(&self) -> bool {
        self.gitlab_version
            .is_none_or(|v| version::feature("masked-and-hidden").is_none_or(|f| f.available_in(v)))
    }
}

/// Reasons setup refuses before changing anything.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The caller is below Maintainer.
    #[error(
        "{username} is {level} in {project}; setup creates tokens, variables and webhooks, which needs the Maintainer or Owner role. Run it with a Maintainer's personal access token in GITLAB_TOKEN"
    )]
    NotMaintainer {
        /// Caller.
        username: String,
        /// Their role.
        level: String,
        /// Project.
        project: String,
    },
    /// Project access tokens are unavailable and no token was given.
    #[error(
        "project access tokens are not available for {project} (GitLab answered {status} — on GitLab.com they need the Premium or Ultimate tier; on self-managed an administrator may have disabled them). Create a bot user, give it the Developer role in the project, make a personal access token with the api scope for it, and pass it with --gitlab-token-from-env NAME"
    )]
    AccessTokensUnavailable {
        /// Project.
        project: String,
        /// GitLab's status.
        status: String,
    },
    /// Pipeline variables are blocked and only an Owner may change that.
    #[error(
        "{project} lets {role} use pipeline variables, so webhook-triggered pipelines would fail with \"Insufficient permissions to set pipeline variables\"; only an Owner can change this setting from {role}. Ask an Owner to run setup, or to set Settings > CI/CD > Variables > Minimum role to use pipeline variables to Developer"
    )]
    PipelineVariablesNeedOwner {
        /// Project.
        project: String,
        /// The setting.
        role: &'static str,
    },
    /// The project has no default branch (an empty repository).
    #[error("{project} has no default branch yet: push a first commit, then run setup again")]
    EmptyRepository {
        /// Project.
        project: String,
    },
}

/// The trigger URL (GitLab's "use a webhook" form), with the token.
/// <https://docs.gitlab.com/ci/triggers/#use-a-webhook>
pub fn trigger_url(gitlab: &GitLab, project: &Project, branch: &str, token: &Secret) -> Secret {
    Secret::new(format!(
        "{}?token={}",
        trigger_url_base(gitlab, project, branch),
        token.expose()
    ))
}

/// The trigger URL without the token, safe to print.
pub(crate) fn trigger_url_base(gitlab: &GitLab, project: &Project, branch: &str) -> String {
    format!(
        "{}/projects/{}/ref/{}/trigger/pipeline",
        gitlab.base_url().as_str(),
        project.id,
        percent_encoding::utf8_percent_encode(branch, percent_encoding::NON_ALPHANUMERIC)
    )
}

fn is_unavailable(error: &GitLabError) -> Option<StatusCode> {
    error.status().filter(|s| {
        matches!(
            *s,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        )
    })
}

/// Reads the project and decides the steps. Makes no change.
pub async fn plan(gitlab: &GitLab, options: &Options) -> anyhow::Result<Plan> {
    use anyhow::Context;
    let caller = gitlab
        .current_user()
        .await
        .context("finding out who GITLAB_TOKEN belongs to (GET /user)")?;
    let project = gitlab
        .project(&options.project)
        .await
        .with_context(|| format!("reading project {}", options.project))?;
    let pref = ProjectRef::Id(project.id);
    let level = gitlab
        .project_member(&pref, caller.id)
        .await
        .context("reading your role in the project")?
        .map(|m| m.access_level)
        .unwrap_or(AccessLevel::NO_ACCESS);
    // Read for the plan's wording only; an instance that hides its version is assumed current.
    let gitlab_version = gitlab.gitlab_version().await.ok();
    let name = project.path_with_namespace.clone();
    if level < AccessLevel::MAINTAINER {
        return Err(Refusal::NotMaintainer {
            username: caller.username.clone(),
            level: level.to_string(),
            project: name,
        }
        .into());
    }
    let default_branch =
        project
            .default_branch
            .clone()
            .ok_or_else(|| Refusal::EmptyRepository {
                project: name.clone(),
            })?;
    let model_key_name = model_key_variable(options.assistant);
    let model_key = options
        .model_key
        .clone()
        .map(|k| MaskableSecret::new(model_key_name, k))
        .transpose()?;
    let mut steps = Vec::new();

    // Judged on whoever creates the pipelines that carry variables, not on the person running
    // setup: in webhook mode the trigger token's owner (setup creates it as the caller), in
    // relay mode the bot, a Developer, whose token the relay may start pipelines with. GitLab
    // applies the rule to every pipeline created with variables, API and trigger alike.
    let creator = match options.mode {
        Mode::Relay { .. } => AccessLevel::DEVELOPER,
        Mode::Webhook | Mode::Scan => level,
    };
    let rule = project.pipeline_variables_rule();
    if rule.allows(creator) == Some(false) {
        if let PipelineVariablesRule::Role(
            role @ (PipelineVariablesRole::Owner | PipelineVariablesRole::NoOneAllowed),
        ) = rule
            && level < AccessLevel::OWNER
        {
            return Err(Refusal::PipelineVariablesNeedOwner {
                project: name,
                role: role.as_str(),
            }
            .into());
        }
        steps.push(Step::AllowPipelineVariables { from: rule });
    }

    let variables = gitlab
        .project_variables(&pref)
        .await
        .context("listing the project's CI/CD variables")?;
    let has_variable = |key: &str| variables.iter().any(|v| v.key == key);
    if !has_variable(BOT_TOKEN_VARIABLE) {
        if options.bot_token.is_some() {
            steps.push(Step::StoreGivenBotToken);
        } else {
            let token_name = options.assistant.display_name();
            let existing = match gitlab.project_access_tokens(&pref).await {
                Ok(tokens) => tokens,
                Err(e) => {
                    return match is_unavailable(&e) {
                        Some(status) => Err(Refusal::AccessTokensUnavailable {
                            project: name,
                            status: status.to_string(),
                        }
                        .into()),
                        None => Err(anyhow::Error::new(e).context("listing project access tokens")),
                    };
                }
            };
            let today = Utc::now().date_naive();
            steps.push(Step::CreateBotToken {
                unreadable_namesakes: existing
                    .iter()
                    .filter(|t| t.active && t.name == token_name)
                    .count(),
                name: token_name.to_owned(),
                expires_at: today
                    .checked_add_days(Days::new(TOKEN_LIFETIME_DAYS))
                    .unwrap_or(today),
            });
        }
    }
    if !has_variable(model_key_name) {
        steps.push(Step::StoreModelKey {
            variable: model_key_name,
        });
    }

    let mut trigger = None;
    match &options.mode {
        Mode::Webhook => {
            trigger = gitlab
                .trigger_tokens(&pref)
                .await
                .context("listing pipeline trigger tokens")?
                .into_iter()
                .find(|t| {
                    t.description == TRIGGER_DESCRIPTION
                        && t.owner.as_ref().is_some_and(|o| o.id == caller.id)
                        && t.token.expose().len() > 4
                });
            let base = trigger_url_base(gitlab, &project, &default_branch);
            let hook = match &trigger {
                None => None,
                Some(t) => {
                    let full = trigger_url(gitlab, &project, &default_branch, &t.token);
                    gitlab
                        .project_hooks(&pref)
                        .await
                        .context("listing webhooks")?
                        .into_iter()
                        .find(|h| h.url == full)
                }
            };
            if trigger.is_none() {
                steps.push(Step::CreateTrigger);
            }
            let templates = templates_available(gitlab_version);
            match hook {
                None => steps.push(Step::CreateWebhook { target: base }),
                Some(h)
                    if !(h.note_events && h.confidential_note_events)
                        || (templates
                            && h.custom_webhook_template.as_deref()
                                != Some(hook_vars::TEMPLATE)) =>
                {
                    steps.push(Step::UpgradeWebhook {
                        hook_id: h.id,
                        target: base,
                    });
                }
                Some(_) => {}
            }
        }
        Mode::Relay { url, .. } => {
            let hook = gitlab
                .project_hooks(&pref)
                .await
                .context("listing webhooks")?
                .into_iter()
                .find(|h| h.url.expose() == url.as_str());
            match hook {
                None => steps.push(Step::CreateWebhook {
                    target: url.to_string(),
                }),
                // A relay hook made before the relay took issue and merge request events (or
                // by hand with Comments only) answers comments but never an assignment.
                Some(h) if !h.sends(hook_events(&options.mode)) => {
                    steps.push(Step::UpgradeWebhook {
                        hook_id: h.id,
                        target: url.to_string(),
                    });
                }
                Some(_) => {}
            }
        }
        Mode::Scan => {
            let scheduled = gitlab
                .pipeline_schedules(&pref)
                .await
                .context("listing pipeline schedules")?
                .iter()
                .any(|s| s.description == SCHEDULE_DESCRIPTION);
            if !scheduled {
                steps.push(Step::CreateSchedule);
            }
        }
    }

    let mut include_by_hand = None;
    let branch = include_branch();
    // An open setup merge request (say for the other assistant) gets this include too, so
    // the project ends up with one change to review rather than two that conflict.
    let open = if options.merge_request {
        gitlab
            .find_open_merge_request(&pref, &branch)
            .await
            .context("looking for setup's merge request")?
    } else {
        None
    };
    let read_from = if open.is_some() {
        branch.as_str()
    } else {
        default_branch.as_str()
    };
    let ci_file = gitlab
        .file_text(&pref, ".gitlab-ci.yml", read_from)
        .await
        .context("reading .gitlab-ci.yml")?
        .transpose()?;
    let in_default_branch = open.is_none()
        || gitlab
            .file_text(&pref, ".gitlab-ci.yml", &default_branch)
            .await
            .context("reading .gitlab-ci.yml")?
            .transpose()?
            .is_some_and(|text| {
                ci_include::change(Some(&text), &options.template, options.assistant)
                    == IncludeChange::Present
            });
    match ci_include::change(ci_file.as_deref(), &options.template, options.assistant) {
        IncludeChange::Present => {}
        _ if open.is_some() && in_default_branch => {}
        IncludeChange::Manual => {
            include_by_hand = Some(
                ".gitlab-ci.yml has an include: that is not a list; add this entry to it by hand:"
                    .into(),
            );
        }
        IncludeChange::Write { .. } if !options.merge_request => {
            include_by_hand =
                Some("Add this to .gitlab-ci.yml through a merge request (--no-mr):".into());
        }
        IncludeChange::Write { content, exists } => {
            steps.push(Step::ProposeInclude {
                branch,
                content,
                exists,
                merge_request: open.map(|mr| mr.iid),
            });
        }
    }

    Ok(Plan {
        project,
        default_branch,
        caller,
        level,
        trigger,
        steps,
        model_key,
        include_by_hand,
        gitlab_version,
    })
}

impl Plan {
    /// The plan in words, one line each; never a secret.
    pub fn describe(&self, options: &Options) -> Vec<String> {
        let mut lines = vec![format!(
            "Project {} (id {}), default branch {}; you are {}, {}.",
            self.project.path_with_namespace,
            self.project.id,
            self.default_branch,
            self.caller.username,
            self.level
        )];
        if !self.steps.is_empty() {
            lines.push(format!(
                "Plan for {} in {} mode:",
                options.assistant,
                options.mode.name()
            ));
            for (n, step) in self.steps.iter().enumerate() {
                lines.push(format!(
                    "  {}. {}",
                    n + 1,
                    step.describe(options, self.hides_variables())
                ));
            }
        }
        if let Some(sentence) = &self.include_by_hand {
            lines.push(sentence.clone());
            lines.extend(
                options
                    .template
                    .block(options.assistant)
                    .lines()
                    .map(|l| format!("    {l}")),
            );
        }
        lines
    }
}

impl Step {
    /// One line; never a secret.
    /// `hides` says whether the instance can hide variables (GitLab 17.4+).
    pub fn describe(&self, options: &Options, hides: bool) -> String {
        let kind = if hides {
            "masked, hidden"
        } else {
            "masked (not hidden: this GitLab is older than 17.4)"
        };
        match self {
            Step::AllowPipelineVariables {
                from: PipelineVariablesRule::MaintainersOnly,
            } => "turn off \"restrict pipeline variables\" (this GitLab has no minimum role; webhook triggers and the relay pass TRIGGER_PAYLOAD as a pipeline variable)".to_owned(),
            Step::AllowPipelineVariables { from } => format!(
                "set \"minimum role to use pipeline variables\" to developer, now {} (webhook triggers and the relay pass TRIGGER_PAYLOAD as a pipeline variable)",
                from.describe()
            ),
            Step::CreateBotToken {
                name,
                expires_at,
                unreadable_namesakes,
            } => {
                let note = if *unreadable_namesakes > 0 {
                    format!(
                        "; {unreadable_namesakes} active token(s) named \"{name}\" exist but GitLab cannot show them again, so revoke them once this works"
                    )
                } else {
                    String::new()
                };
                format!(
                    "create project access token \"{name}\" (role Developer, scope api, expires {expires_at}) and store it as {kind} CI/CD variable {BOT_TOKEN_VARIABLE}{note}"
                )
            }
            Step::StoreGivenBotToken => format!(
                "store the given bot token as {kind} CI/CD variable {BOT_TOKEN_VARIABLE}"
            ),
            Step::StoreModelKey { variable } => {
                let source = if options.model_key.is_some() {
                    "from the environment"
                } else {
                    "asked for without echo"
                };
                format!(
                    "store the {} model key ({source}) as {kind} CI/CD variable {variable}",
                    options.assistant.display_name()
                )
            }
            Step::CreateTrigger => {
                format!("create pipeline trigger token \"{TRIGGER_DESCRIPTION}\"")
            }
            Step::CreateWebhook { target } if matches!(options.mode, Mode::Webhook) => format!(
                "create webhook \"{HOOK_NAME}\" for comments and internal comments to {target} (with a random secret token, and a custom template that sends the note's author, action and issue or merge request as AI_HOOK_* pipeline variables on GitLab 16.10+)"
            ),
            Step::CreateWebhook { target } if matches!(options.mode, Mode::Relay { .. }) => format!(
                "create webhook \"{HOOK_NAME}\" for comments, internal comments, issues (confidential ones too) and merge requests to {target} (with the relay's secret token)"
            ),
            Step::CreateWebhook { target } => format!(
                "create webhook \"{HOOK_NAME}\" for comments and internal comments to {target} (with a random secret token)"
            ),
            Step::UpgradeWebhook { hook_id, target } if matches!(options.mode, Mode::Relay { .. }) => format!(
                "update webhook {hook_id} to {target}: add issues (confidential ones too) and merge request events, which the relay answers assignments, review requests, the trigger label and description mentions from"
            ),
            Step::UpgradeWebhook { hook_id, target } => format!(
                "update webhook {hook_id} to {target}: comments and internal comments, with the custom template that sends AI_HOOK_* pipeline variables (the bot's notes and edits then start no runner, and mentions on different issues run in parallel)"
            ),
            Step::CreateSchedule => format!(
                "create pipeline schedule \"{SCHEDULE_DESCRIPTION}\" ({SCAN_CRON}, UTC) with variable {}={}",
                SCAN_VARIABLE.0, SCAN_VARIABLE.1
            ),
            Step::ProposeInclude {
                branch,
                exists,
                merge_request,
                ..
            } => format!(
                "{} from branch {branch} that {} .gitlab-ci.yml to include {} from {} at {}",
                match merge_request {
                    Some(iid) => format!("add a commit to merge request !{iid}"),
                    None => "open a merge request".to_owned(),
                },
                if *exists { "updates" } else { "creates" },
                options.template.file(options.assistant),
                options.template.project,
                options.template.git_ref
            ),
        }
    }
}

/// The events of the hook setup creates for `mode`: the relay decides on issue and merge request
/// events too ([`crate::relay::intake`]); the trigger URL's hook carries the note template.
pub(crate) fn hook_events(mode: &Mode) -> crate::gitlab::hooks::HookEvents {
    use crate::gitlab::hooks::HookEvents;
    match mode {
        Mode::Relay { .. } => HookEvents::CommentsIssuesAndMergeRequests,
        Mode::Webhook | Mode::Scan => HookEvents::Comments,
    }
}
