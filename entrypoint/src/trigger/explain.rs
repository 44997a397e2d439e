//! `entrypoint explain`: what started this job and what the job would do about it, as JSON.
//!
//! The same code path as a real run up to the decision, so a team debugging "why did @claude not
//! answer?" sees the exact reason: a system note, the bot's own note, an edit, no mention, a
//! comment on a commit…

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::ci_vars::CiRequest;
use super::decision::{BotIdentity, Decision, SkipReason, decide};
use super::hook_vars::HookEvent;
use super::load::{self, Entry};
use super::resolve::resolve;
use super::webhook::{self, WebhookError};
use super::{Source, Trigger};
use crate::agent::{Assistant, Handles};
use crate::env::Env;
use crate::gitlab::{ClientConfig, GitLab};

/// What `explain` prints.
#[derive(Debug, Serialize)]
pub struct Explanation {
    /// How the job was (or would be) started.
    pub source: Source,
    /// The normalised trigger; `null` when the comment was refused before it became one.
    pub trigger: Option<Trigger>,
    /// Run or skip, and why.
    pub decision: Decision,
    /// Checks that could not be made (no token, offline), so a "run" is read with care.
    pub unchecked: Vec<String>,
}

/// Inputs of `explain`.
#[derive(Debug, Default)]
pub struct Options<'a> {
    /// A Note Hook body in a file, instead of the job's variables.
    pub webhook: Option<&'a Path>,
    /// Decide as the job of this assistant would.
    pub assistant: Option<Assistant>,
    /// Make no API call (the bot's identity and CI-variable notes are then not checked).
    pub offline: bool,
}

/// Builds the explanation from a webhook file or from the job's variables.
pub async fn explain(
    options: &Options<'_>,
    vars: &dyn Env,
    handles: &Handles,
) -> anyhow::Result<Explanation> {
    let entry = match options.webhook {
        Some(path) => {
            let body = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the webhook payload {}", path.display()))?;
            match webhook::parse(&body, handles) {
                Ok(trigger) => Entry::Webhook {
                    variable: "--webhook",
                    trigger: Ok(trigger),
                },
                Err(refused @ WebhookError::UnsupportedNoteable(_)) => Entry::Webhook {
                    variable: "--webhook",
                    trigger: Err(refused),
                },
                Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
            }
        }
        None => load::detect(vars, handles)?,
    };
    let mut unchecked = Vec::new();
    let client = if options.offline {
        unchecked.push("the bot's own notes: --offline".to_owned());
        None
    } else if vars
        .var("GITLAB_TOKEN")
        .is_some_and(|t| !t.trim().is_empty())
    {
        Some(GitLab::new(ClientConfig::from_env(vars)?)?)
    } else {
        unchecked.push("the bot's own notes: GITLAB_TOKEN is not set".to_owned());
        None
    };
    let (source, trigger) = match entry {
        Entry::NotAComment { reason } => {
            return Ok(Explanation {
                source: Source::Webhook,
                trigger: None,
                decision: Decision::Skip {
                    reason: SkipReason::NotAComment,
                    message: reason,
                },
                unchecked,
            });
        }
        Entry::Webhook {
            trigger: Err(refused),
            ..
        } => {
            return Ok(Explanation {
                source: Source::Webhook,
                trigger: None,
                decision: Decision::Skip {
                    reason: SkipReason::UnsupportedNoteable,
                    message: refused.to_string(),
                },
                unchecked,
            });
        }
        Entry::Webhook { trigger: Ok(t), .. } => (Source::Webhook, t),
        Entry::Flow(t) => (Source::DuoFlow, t),
        Entry::Hook(HookEvent::Ignored(reason)) => {
            return Ok(Explanation {
                source: Source::CiVariables,
                trigger: None,
                decision: Decision::Skip {
                    reason: SkipReason::NotAComment,
                    message: reason,
                },
                unchecked,
            });
        }
        Entry::Hook(HookEvent::Comment {
            project,
            noteable,
            note,
        }) => {
            let gitlab = client.as_ref().context(
                "explaining AI_HOOK_NOTE_ID needs the note itself: set GITLAB_TOKEN (and CI_API_V4_URL outside CI)",
            )?;
            let request = CiRequest {
                project,
                // Only the note is read; the assistants are the ones it mentions.
                assistant: options.assistant.unwrap_or(Assistant::Claude),
                noteable,
                note,
                discussion: None,
                placeholder: None,
                checked_body: None,
            };
            let trigger = resolve(&request, gitlab, handles).await?;
            let bot = bot_identity(gitlab).await?;
            return Ok(Explanation {
                source: Source::CiVariables,
                decision: decide(&trigger, Some(&bot), options.assistant),
                trigger: Some(trigger),
                unchecked,
            });
        }
        Entry::EventVars(request) => {
            let EventInputs {
                gitlab,
                bot,
                assistant,
                label,
            } = event_inputs(
                client.as_ref(),
                "explaining AI_EVENT needs the issue or merge request itself",
                options,
                vars,
            )
            .await?;
            let confirmed = super::event_vars::confirm(
                gitlab,
                &request,
                assistant,
                handles,
                &bot,
                label.as_deref(),
            )
            .await?;
            return Ok(event_explanation(
                Source::CiVariables,
                confirmed,
                assistant,
                unchecked,
            ));
        }
        Entry::Event { change, .. } => {
            let EventInputs {
                bot,
                assistant,
                label,
                ..
            } = event_inputs(
                client.as_ref(),
                "explaining an issue or merge request event needs the bot user (an assignment counts only for it)",
                options,
                vars,
            )
            .await?;
            let rules = super::event::Rules {
                assistant,
                bot: &bot,
                label: label.as_deref(),
                handles,
            };
            let answer = match change.verdict(rules) {
                super::event::Verdict::Answer(event) => Ok(super::event::into_trigger(
                    &change, event, assistant, handles,
                )),
                super::event::Verdict::Ignore(message) => Err(message),
            };
            return Ok(event_explanation(
                Source::Webhook,
                answer,
                assistant,
                unchecked,
            ));
        }
        Entry::Ci(request) => {
            let gitlab = client.as_ref().context(
                "explaining AI_NOTE_ID needs the note itself: set GITLAB_TOKEN (and CI_API_V4_URL outside CI) or pass --webhook FILE",
            )?;
            let only = options.assistant.or(Some(request.assistant));
            let trigger = resolve(&request, gitlab, handles).await?;
            let bot = bot_identity(gitlab).await?;
            return Ok(Explanation {
                source: Source::CiVariables,
                decision: decide(&trigger, Some(&bot), only),
                trigger: Some(trigger),
                unchecked,
            });
        }
    };
    let bot = match &client {
        Some(gitlab) => Some(bot_identity(gitlab).await?),
        None => None,
    };
    Ok(Explanation {
        source,
        decision: decide(&trigger, bot.as_ref(), options.assistant),
        trigger: Some(trigger),
        unchecked,
    })
}

/// What deciding an issue or merge request event takes: the client, the bot user, the
/// assistant asked (`--assistant`, else Claude) and the trigger label.
struct EventInputs<'a> {
    gitlab: &'a GitLab,
    bot: BotIdentity,
    assistant: Assistant,
    label: Option<String>,
}

/// The [`EventInputs`]; without a client, an error that starts with `needs` (why this event
/// needs GitLab) and says how to give one.
async fn event_inputs<'a>(
    client: Option<&'a GitLab>,
    needs: &str,
    options: &Options<'_>,
    vars: &dyn Env,
) -> anyhow::Result<EventInputs<'a>> {
    let gitlab = client
        .with_context(|| format!("{needs}: set GITLAB_TOKEN (and CI_API_V4_URL outside CI)"))?;
    Ok(EventInputs {
        gitlab,
        bot: bot_identity(gitlab).await?,
        assistant: options.assistant.unwrap_or(Assistant::Claude),
        label: super::event::label_from_env(vars),
    })
}

async fn bot_identity(gitlab: &GitLab) -> anyhow::Result<BotIdentity> {
    BotIdentity::current(gitlab)
        .await
        .context("identifying the bot user behind GITLAB_TOKEN (GET /user)")
}

/// What an issue or merge request event comes to for `assistant`: the trigger it answers, or
/// the message saying why it asks for nothing.
fn event_explanation(
    source: Source,
    answer: Result<super::Trigger, String>,
    assistant: Assistant,
    unchecked: Vec<String>,
) -> Explanation {
    match answer {
        Ok(trigger) => Explanation {
            source,
            trigger: Some(trigger),
            decision: Decision::Run {
                assistants: vec![assistant],
            },
            unchecked,
        },
        Err(message) => Explanation {
            source,
            trigger: None,
            decision: Decision::Skip {
                reason: SkipReason::NotAComment,
                message,
            },
            unchecked,
        },
    }
}
