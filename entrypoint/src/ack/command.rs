//! `entrypoint ack --assistant A`: the acknowledgement job of a webhook-mode pipeline.
//!
//! It runs in the slim `entrypoint` image, a few MB that a runner pulls in a second, before the
//! assistant job whose 200+ MB image dominates the time to the placeholder on a runner that has
//! not cached it. It decides whether the comment mentions the assistant, runs the guard, claims
//! the note, posts the placeholder and hands the claim over ([`super::acknowledge`], the relay's
//! flow), then tells the assistant job (`needs:` this one) what is left through a dotenv
//! report ([`DOTENV_FILE`]):
//!
//! - `AI_ACK=posted` and `AI_PLACEHOLDER_NOTE_ID`: the job takes the placeholder over, as it
//!   does one a relay posted, without claiming again;
//! - `AI_ACK=done` and `AI_JOB_IMAGE` set to this job's own image (`CI_JOB_IMAGE`): nothing is
//!   left (no mention, a bot, a refusal posted, another job's claim), and the assistant job,
//!   whose `image:` is `$AI_JOB_IMAGE`, starts in the slim image and exits at once;
//! - `AI_ACK=defer`: the job does the whole flow itself, as without this job (a relay, scan or
//!   Duo flow pipeline, or GitLab failed the acknowledgement: the job retries it).
//!
//! Why a dotenv report and an image switch rather than `rules:`: `rules:` are evaluated when
//! the pipeline is created, before any job ran, and cannot read a job's result; a failing ack
//! job would stop the assistant job but mark every comment's pipeline failed. Dotenv variables
//! reach the jobs that `needs:` the job and take precedence over the variables defined in the
//! `.gitlab-ci.yml` (so they replace the assistant job's default `AI_JOB_IMAGE`), but not over
//! pipeline variables (<https://docs.gitlab.com/ci/variables/dotenv_variables/>), so a trigger
//! request's own variables still win. The runner expands `image:` with the job's variables,
//! these included (<https://docs.gitlab.com/ci/yaml/#image>). The pipeline then shows two
//! green jobs on the slim image for a comment that needs nothing.

use std::path::Path;

use anyhow::Context as _;

use crate::agent::{Assistant, Handles};
use crate::answer::{Acknowledged, Ask, acknowledge};
use crate::claim::ClaimSettings;
use crate::env::Env;
use crate::gitlab::ClientConfig;
use crate::gitlab::GitLab;
use crate::gitlab::ids::NoteId;
use crate::guard::GuardSettings;
use crate::publish::placeholder::PipelineLink;
use crate::redact::Redactor;
use crate::trigger::ci_vars::CiRequest;
use crate::trigger::decision::{Decision, decide};
use crate::trigger::hook_vars::HookEvent;
use crate::trigger::load::{Entry, detect};
use crate::trigger::resolve::{ResolveError, resolve};
use crate::trigger::{Source, Trigger};

/// The dotenv report the template's ack job uploads (`artifacts:reports:dotenv`), in the job's
/// working directory.
pub const DOTENV_FILE: &str = "ai-ack.env";

/// The variable that carries the acknowledgement's outcome to the assistant job.
pub(crate) const ACK_VAR: &str = crate::env::AI_ACK.name();

/// The assistant job's image; the ack job points it at the slim image when nothing is left.
pub(crate) const JOB_IMAGE_VAR: &str = crate::env::AI_JOB_IMAGE.name();

/// What the acknowledgement left for the assistant job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handed {
    /// The placeholder is up and the claim handed over: take the placeholder over.
    Posted(NoteId),
    /// Nothing is left to do.
    Done {
        /// Why, in one sentence.
        reason: String,
    },
    /// Do the whole flow (no acknowledgement ran, or it could not finish).
    Defer,
}

impl Handed {
    /// The dotenv report's lines. `job_image` is the ack job's own image (`CI_JOB_IMAGE`).
    pub fn dotenv(&self, job_image: Option<&str>) -> String {
        match self {
            Handed::Posted(note) => format!(
                "{ACK_VAR}=posted\n{}={note}\n",
                crate::trigger::ci_vars::names::PLACEHOLDER_NOTE_ID
            ),
            Handed::Done { .. } => {
                let mut out = format!("{ACK_VAR}=done\n");
                // An image name never holds a line break or `=` worth keeping; one that did
                // would break the report, so it is left out and the job keeps its image.
                if let Some(image) = job_image
                    .map(str::trim)
                    .filter(|i| !i.is_empty() && !i.contains(['\n', '\r']))
                {
                    out.push_str(&format!("{JOB_IMAGE_VAR}={image}\n"));
                }
                out
            }
            Handed::Defer => format!("{ACK_VAR}=defer\n"),
        }
    }

    /// What an assistant job's variables say the ack job left; `Defer` when no ack job ran.
    /// A placeholder id that is not a note id is an error naming the variable.
    pub fn from_env(vars: &dyn Env) -> anyhow::Result<Self> {
        let placeholder = crate::trigger::ci_vars::names::PLACEHOLDER_NOTE_ID;
        match vars.var(ACK_VAR).as_deref().map(str::trim) {
            Some("posted") => {
                let value = vars.var(placeholder).unwrap_or_default();
                let id = value.trim().parse::<u64>().with_context(|| {
                    format!(
                        "{ACK_VAR}=posted but {placeholder} is {value:?}, not a note id: the acknowledgement job's dotenv report is damaged; retry the pipeline"
                    )
                })?;
                Ok(Handed::Posted(NoteId(id)))
            }
            Some("done") => Ok(Handed::Done {
                reason: "the acknowledgement job found nothing left for this job to do".to_owned(),
            }),
            Some("defer") | Some("") | None => Ok(Handed::Defer),
            Some(other) => anyhow::bail!(
                "{ACK_VAR} is {other:?}: expected posted, done or defer (set by the acknowledgement job `entrypoint ack`; do not set it yourself)"
            ),
        }
    }

    /// Applies a posted placeholder to a webhook trigger (a Note Hook body, or our template's
    /// variables, which resolve as [`Source::CiVariables`]), so the job takes it over as it
    /// takes over a relay's. A relay's trigger carries its own placeholder already; a Duo
    /// flow has no acknowledgement job.
    pub fn apply(&self, trigger: &mut Trigger) {
        if let Handed::Posted(note) = self
            && matches!(trigger.source, Source::Webhook | Source::CiVariables)
            && trigger.placeholder.is_none()
        {
            trigger.placeholder = Some(*note);
        }
    }
}

/// Decides and acknowledges the comment in the job's variables for `assistant`.
/// `Err` only for a job that cannot work at all (no trigger, a bad variable): it fails, and
/// the assistant job, which `needs:` it, does not start.
pub async fn ack(
    assistant: Assistant,
    handles: &Handles,
    vars: &dyn Env,
    redactor: &Redactor,
) -> anyhow::Result<Handed> {
    let trigger = match detect(vars, handles)? {
        Entry::NotAComment { reason } => return Ok(Handed::Done { reason }),
        Entry::Webhook {
            trigger: Err(refused),
            ..
        } => {
            return Ok(Handed::Done {
                reason: refused.to_string(),
            });
        }
        Entry::Webhook {
            trigger: Ok(trigger),
            ..
        } => trigger,
        // Our webhook template: an edit, a bot's note or a commit comment is nothing to do
        // (its rules keep this job out of such pipelines; this is the job's own check).
        Entry::Hook(HookEvent::Ignored(reason)) => return Ok(Handed::Done { reason }),
        // A new comment, named by id: read it back, as the assistant job would.
        Entry::Hook(HookEvent::Comment {
            project,
            noteable,
            note,
        }) => {
            let request = CiRequest::for_note(project, assistant, noteable, note);
            let gitlab = GitLab::new(ClientConfig::from_env(vars)?)?;
            match resolve(&request, &gitlab, handles).await {
                Ok(trigger) => trigger,
                Err(ResolveError::NoteNotFound { .. }) => {
                    return Ok(Handed::Done {
                        reason: crate::guard::IgnoreReason::NoteGone.message(),
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "the acknowledgement could not read the note; the assistant job will do it itself");
                    return Ok(Handed::Defer);
                }
            }
        }
        // A relay or scan acknowledged the mention already and passed its placeholder; a Duo
        // flow has its own session: the assistant job does what it always did.
        // An issue or merge request event: the run job decides (it needs the bot user), claims
        // the issue or merge request and posts the placeholder itself.
        Entry::Ci(_) | Entry::Flow(_) | Entry::Event { .. } | Entry::EventVars(_) => {
            return Ok(Handed::Defer);
        }
    };
    if let Decision::Skip { message, .. } = decide(&trigger, None, Some(assistant)) {
        return Ok(Handed::Done { reason: message });
    }
    let guard = GuardSettings::from_env(vars)?;
    let claim = ClaimSettings::from_env(vars)?;
    let gitlab = GitLab::new(ClientConfig::from_env(vars)?)?;
    let pipeline = PipelineLink::from_env(vars);
    let ask = Ask {
        gitlab: &gitlab,
        trigger: &trigger,
        assistant,
        claim: &claim,
        job: None,
        pipeline: pipeline.as_ref(),
        redactor,
    };
    Ok(match acknowledge(ask, &guard).await {
        Acknowledged::Placeholder { placeholder, .. } => Handed::Posted(placeholder.note),
        Acknowledged::Refused { note } => Handed::Done {
            reason: format!("the request was refused (note {note})"),
        },
        Acknowledged::Ignored { reason } => Handed::Done { reason },
        Acknowledged::ClaimedElsewhere => Handed::Done {
            reason: "another job, relay or scan owns this mention".to_owned(),
        },
        Acknowledged::Failed(error) => {
            let error = error.describe(redactor);
            tracing::warn!(%error, "the acknowledgement failed; the assistant job will do it itself");
            Handed::Defer
        }
    })
}

/// Writes the dotenv report `file`.
pub fn write_dotenv(file: &Path, handed: &Handed, job_image: Option<&str>) -> anyhow::Result<()> {
    std::fs::write(file, handed.dotenv(job_image)).with_context(|| {
        format!(
            "cannot write the dotenv report {}: the job's working directory must be writable",
            file.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars as env;

    #[test]
    fn the_report_round_trips_through_the_assistant_jobs_variables() {
        for handed in [
            Handed::Posted(NoteId(902)),
            Handed::Defer,
            Handed::Done {
                reason: "the acknowledgement job found nothing left for this job to do".to_owned(),
            },
        ] {
            let text = handed.dotenv(Some("registry.example.com/g/entrypoint:1.0.0"));
            let pairs: Vec<(String, String)> = text
                .lines()
                .map(|l| {
                    let (k, v) = l.split_once('=').unwrap();
                    (k.to_owned(), v.to_owned())
                })
                .collect();
            let vars = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            assert_eq!(Handed::from_env(&vars).unwrap(), handed, "{text}");
        }
    }

    #[test]
    fn nothing_left_switches_the_assistant_job_to_the_slim_image() {
        let done = Handed::Done {
            reason: String::new(),
        };
        assert_eq!(
            done.dotenv(Some("reg/entrypoint:1.0.0")),
            "AI_ACK=done\nAI_JOB_IMAGE=reg/entrypoint:1.0.0\n"
        );
        // No image known, or one that would break the report: the job keeps its own.
        assert_eq!(done.dotenv(None), "AI_ACK=done\n");
        assert_eq!(done.dotenv(Some("a\nAI_ACK=posted")), "AI_ACK=done\n");
        assert!(
            !Handed::Posted(NoteId(1))
                .dotenv(Some("reg/entrypoint:1.0.0"))
                .contains(JOB_IMAGE_VAR)
        );
    }

    #[test]
    fn a_damaged_or_foreign_value_is_an_error_naming_the_variable() {
        let vars = env(&[("AI_ACK", "posted"), ("AI_PLACEHOLDER_NOTE_ID", "x")]);
        let error = format!("{:#}", Handed::from_env(&vars).unwrap_err());
        assert!(error.contains("AI_PLACEHOLDER_NOTE_ID"), "{error}");
        let vars = env(&[("AI_ACK", "skip")]);
        let error = format!("{:#}", Handed::from_env(&vars).unwrap_err());
        assert!(error.contains("AI_ACK"), "{error}");
        assert_eq!(Handed::from_env(&env::<&str>(&[])).unwrap(), Handed::Defer);
    }
}
