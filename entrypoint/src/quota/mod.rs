//! A model-API quota or rate-limit error queues the request instead of failing it.
//!
//! When the model API answers 429 (Anthropic `rate_limit_error`, OpenAI `rate_limit_exceeded`
//! or `insufficient_quota`) or says it is overloaded (Anthropic `overloaded_error`, 529), the
//! run ends with ONE note "queued, retrying at HH:MM (UTC)" in place of its placeholder, never a
//! failure note. The queued state lives in GitLab alone: the note carries a hidden line
//! ([`Queued::line`]) with the mention it answers, the attempts made and the retry time, so the
//! next scheduled scan (`entrypoint scan`, [`retry`]) finds it and runs the mention again once
//! that time has passed. Each further quota error doubles the wait (capped at
//! [`MAX_BACKOFF`]); after `AI_QUOTA_RETRIES` retries the note says the request failed and what
//! to do. A retry is claimed on the queued note itself (the bot's reactions, [`crate::claim`]),
//! so two scans never run it twice.
//!
//! Queueing only helps when a scan runs: it is on by default in the scan's own jobs and off
//! elsewhere unless `AI_QUOTA_RETRIES` is set (a webhook-only project would otherwise be left
//! with a note that waits for nobody).
//! Anthropic's errors: <https://docs.anthropic.com/en/api/errors>; OpenAI's:
//! <https://platform.openai.com/docs/guides/error-codes>.

pub mod retry;

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use crate::agent::Assistant;
use crate::env::Env;
use crate::gitlab::ids::{DiscussionId, NoteId, UserId};
use crate::marker::{NoteRole, marker};
use crate::publish::JobLink;
use crate::publish::result::Failure;
use crate::trigger::event_vars::Requested;

/// Set by the scan for a retry: the number of this attempt (the first run is attempt 1).
pub(crate) const ATTEMPT_VAR: &str = crate::env::AI_QUOTA_ATTEMPT.name();

/// Retries in a scan job when `AI_QUOTA_RETRIES` is unset.
pub(crate) const DEFAULT_RETRIES: u32 = 3;
/// Five minutes: the window most per-minute rate limits reset in, and one scan period.
pub(crate) const DEFAULT_BACKOFF: Duration = Duration::from_secs(300);
/// The longest wait between two attempts (unless the first wait is set longer, or the API asks
/// for more with `Retry-After`).
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// A quota variable cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QuotaSettingsError {
    #[error(
        "AI_QUOTA_RETRIES={0:?} is not a number of retries: set it to a whole number (0 turns queueing off; default 3 in the scan's jobs, 0 elsewhere)"
    )]
    Retries(String),
    #[error(
        "AI_QUOTA_BACKOFF_SECONDS={0:?} is not a wait: set it to a whole number of seconds of at least 1 (default 300)"
    )]
    Backoff(String),
    #[error(
        "AI_QUOTA_ATTEMPT={0:?} is not an attempt number; it is set by `entrypoint scan` for a retry: remove it from the CI/CD variables"
    )]
    Attempt(String),
}

/// How quota errors are handled in this job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QuotaSettings {
    /// Retries after the first attempt; 0 fails at once, as before queueing existed.
    pub retries: u32,
    /// The wait after the first quota error; doubled after each further one.
    pub backoff: Duration,
    /// This run's attempt (1 unless the scan is retrying a queued request).
    pub attempt: u32,
}

impl QuotaSettings {
    /// Reads `AI_QUOTA_RETRIES` (by default none outside a scan, `AI_SCAN`), `AI_QUOTA_BACKOFF_SECONDS`
    /// and [`ATTEMPT_VAR`].
    pub(crate) fn from_env(vars: &dyn Env) -> Result<Self, QuotaSettingsError> {
        let in_scan = crate::env::AI_SCAN.non_blank(vars).is_some();
        let retries = match crate::env::AI_QUOTA_RETRIES.non_blank(vars) {
            None => {
                if in_scan {
                    DEFAULT_RETRIES
                } else {
                    0
                }
            }
            Some(text) => text
                .parse()
                .map_err(|_| QuotaSettingsError::Retries(text))?,
        };
        let backoff = match crate::env::AI_QUOTA_BACKOFF_SECONDS.non_blank(vars) {
            None => DEFAULT_BACKOFF,
            Some(text) => match text.parse::<u64>() {
                Ok(seconds) if seconds >= 1 => Duration::from_secs(seconds),
                _ => return Err(QuotaSettingsError::Backoff(text)),
            },
        };
        let attempt = match crate::env::AI_QUOTA_ATTEMPT.non_blank(vars) {
            None => 1,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => return Err(QuotaSettingsError::Attempt(text)),
            },
        };
        Ok(Self {
            retries,
            backoff,
            attempt,
        })
    }

    /// What to do after this run's attempt ended with a quota error at `now`; `retry_after` is
    /// the wait the API asked for, if it said.
    pub(crate) fn next(&self, now: DateTime<Utc>, retry_after: Option<Duration>) -> Next {
        if self.attempt > self.retries {
            return Next::GiveUp {
                attempts: self.attempt,
            };
        }
        let doublings = self.attempt.saturating_sub(1).min(16);
        let cap = MAX_BACKOFF.max(self.backoff);
        let wait = self
            .backoff
            .saturating_mul(1 << doublings)
            .min(cap)
            .max(retry_after.unwrap_or_default());
        let wait = TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX);
        // Whole seconds: the time is written into the note and read back.
        let at = now.checked_add_signed(wait).unwrap_or(now);
        let at = DateTime::from_timestamp(
            at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0),
            0,
        )
        .unwrap_or(at);
        Next::Queue { retry_at: at }
    }
}

/// What follows a quota error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Queue the request until this time.
    Queue { retry_at: DateTime<Utc> },
    /// Every attempt ran into the quota: fail with [`Failure::QuotaExhausted`].
    GiveUp { attempts: u32 },
}

/// True for the failures a later attempt may not meet: a rate limit, a used-up quota, an
/// overloaded or failing model API.
pub(crate) fn is_quota(failure: &Failure) -> bool {
    matches!(failure, Failure::ModelRateLimited | Failure::ModelApiDown)
}

/// The opening of the hidden line a queued note carries; its own prefix, like
/// [`crate::marker::claim_line`]'s.
const QUEUED_PREFIX: &str = "<!-- gitlab-ai-assistant-queued:";
/// The fourth field of a queued line that holds a request without a note (a note id is digits).
const EVENT_FIELD: &str = "event";

/// What a queued note waits to answer: what the retry needs to rebuild the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueuedRequest {
    /// A mention in a comment.
    Mention {
        /// The note with the mention.
        note: NoteId,
        /// The mention's thread, where the answer goes.
        discussion: Option<DiscussionId>,
    },
    /// A request without a note (the bot assigned, its review requested, the trigger label
    /// added, a description mention), named as the scan names it to the run
    /// ([`crate::trigger::event_vars::EventRequest`]); the issue or merge request is the queued
    /// note's own.
    Event {
        /// What was asked.
        requested: Requested,
        /// Who asked.
        actor: UserId,
        /// When: the event's claim is for this time.
        at: DateTime<Utc>,
    },
}

/// A request waiting for its retry, as its queued note records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    /// Whose request it is.
    pub assistant: Assistant,
    /// The request.
    pub request: QueuedRequest,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this time.
    pub retry_at: DateTime<Utc>,
}

impl Queued {
    /// The hidden line: `assistant;attempts;retry time;mention;thread or -` for a mention,
    /// `assistant;attempts;retry time;event;what;actor id;event time` for a request without a
    /// note.
    pub fn line(&self) -> String {
        let request = match &self.request {
            QueuedRequest::Mention { note, discussion } => format!(
                "{note};{}",
                discussion.as_ref().map_or("-", DiscussionId::as_str)
            ),
            QueuedRequest::Event {
                requested,
                actor,
                at,
            } => format!(
                "{EVENT_FIELD};{};{actor};{}",
                requested.field(),
                at.to_rfc3339_opts(SecondsFormat::Millis, true)
            ),
        };
        format!(
            "{QUEUED_PREFIX}{};{};{};{request} -->",
            self.assistant.name(),
            self.attempts,
            self.retry_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
    }

    /// The queued state a note body records, if it carries [`Queued::line`] (the last one: ours
    /// is appended after any text).
    pub fn find(body: &str) -> Option<Self> {
        let rest = &body[body.rfind(QUEUED_PREFIX)? + QUEUED_PREFIX.len()..];
        let value = rest.split(" -->").next()?;
        let mut fields = value.split(';');
        // Exactly the name [`Queued::line`] wrote (no trimming or case folding, unlike FromStr).
        let name = fields.next()?;
        let assistant = Assistant::ALL.into_iter().find(|a| a.name() == name)?;
        let attempts = fields.next()?.parse().ok()?;
        let retry_at = DateTime::parse_from_rfc3339(fields.next()?)
            .ok()?
            .with_timezone(&Utc);
        let request = match fields.next()? {
            EVENT_FIELD => {
                let requested = Requested::from_field(fields.next()?)?;
                let actor = UserId(fields.next()?.parse().ok().filter(|id| *id > 0)?);
                let at = DateTime::parse_from_rfc3339(fields.next()?)
                    .ok()?
                    .with_timezone(&Utc);
                QueuedRequest::Event {
                    requested,
                    actor,
                    at,
                }
            }
            note => {
                let note = NoteId(note.parse().ok()?);
                let discussion = match fields.next()? {
                    "-" => None,
                    id => Some(DiscussionId::new(id).ok()?),
                };
                QueuedRequest::Mention { note, discussion }
            }
        };
        if fields.next().is_some() {
            return None;
        }
        Some(Self {
            assistant,
            request,
            attempts,
            retry_at,
        })
    }

    /// True once the retry time has come.
    pub(crate) fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.retry_at <= now
    }

    /// The queued note: what happened, when the retry comes, the job that ran into the limit,
    /// and the hidden lines (our marker, so it is never read as a request, and the queued
    /// state).
    pub fn body(&self, failure: &Failure, retries: u32, job: Option<&JobLink>) -> String {
        let job = job
            .map(|job| format!(" · {}", job.markdown()))
            .unwrap_or_default();
        format!(
            "⏸️ **{}** is queued, retrying at {} (UTC): {}.{job}\n\nAttempt {} of {} ran into the limit; a scheduled scan retries after that time. Nothing needs to be done.\n\n{}\n{}",
            self.assistant.display_name(),
            self.retry_at.format("%H:%M"),
            failure.headline(),
            self.attempts,
            retries + 1,
            marker(self.assistant, NoteRole::Queued),
            self.line(),
        )
    }
}

/// The end of a run whose report failed on the model API's limit: the placeholder replaced by
/// the queued note ([`crate::answer::in_job::JobEnd::Queued`]) while retries remain, otherwise the report's
/// failure turned into [`Failure::QuotaExhausted`] (after retries) for the caller to publish.
/// `None` for every other report, and for one that already pushed a branch or opened a merge
/// request: a retry would start from the default branch again and redo, or contradict, work
/// that is already published, so the run fails as any other and its failure note names the
/// branch or merge request for a person to pick up. A request without a note (an assignment,
/// a review request, the trigger label, a description mention) is queued like a mention, its
/// queued line naming the event ([`QueuedRequest::Event`]).
pub(crate) async fn after_run(
    gitlab: &crate::gitlab::GitLab,
    trigger: &crate::trigger::Trigger,
    placeholder: &crate::publish::Placeholder,
    report: &mut crate::publish::result::ResultReport,
    settings: &QuotaSettings,
    internal: bool,
) -> Result<Option<crate::answer::in_job::JobEnd>, crate::gitlab::GitLabError> {
    use crate::publish::result::Conclusion;
    let Conclusion::Failed(failure) = &report.conclusion else {
        return Ok(None);
    };
    let request = match (&trigger.note, &trigger.event) {
        (Some(note), _) => QueuedRequest::Mention {
            note: note.id,
            discussion: note.discussion.clone(),
        },
        (None, Some(event)) => QueuedRequest::Event {
            requested: Requested::of(&event.kind),
            actor: event.actor.id,
            at: event.at,
        },
        (None, None) => return Ok(None),
    };
    if !is_quota(failure) || report.branch.is_some() || report.merge_request.is_some() {
        return Ok(None);
    }
    match settings.next(Utc::now(), report.retry_after) {
        Next::Queue { retry_at } => {
            let queued = Queued {
                assistant: report.assistant,
                request,
                attempts: settings.attempt,
                retry_at,
            };
            let body = queued.body(failure, settings.retries, report.job.as_ref());
            let posted =
                crate::publish::result::replace_placeholder(gitlab, placeholder, &body, internal)
                    .await?;
            tracing::warn!(note = %posted.id, attempt = settings.attempt, retry_at = %retry_at, "the model API's limit was reached; queued for a retry by the scheduled scan or the relay's sweep");
            // A retry runs under the retrier's claim on the queued note (the scan's, or the
            // relay sweep's whose pipeline this is): give it back now that the note says when,
            // so the next retrier can claim it. The scan gives its own back too; gone is fine.
            if settings.attempt > 1 {
                let target =
                    crate::claim::Target::note(&trigger.project, trigger.noteable, posted.id);
                let released = match gitlab.current_user().await {
                    Ok(me) => {
                        crate::claim::release_own(gitlab, target, report.assistant, me.id).await
                    }
                    Err(error) => Err(error),
                };
                if let Err(error) = released {
                    tracing::warn!(note = %posted.id, %error, "the claim on the queued note could not be given back; remove the bot's reactions on it to have it retried");
                }
            }
            Ok(Some(crate::answer::in_job::JobEnd::Queued {
                note: posted.id,
                retry_at,
            }))
        }
        Next::GiveUp { attempts } if attempts > 1 => {
            report.conclusion = Conclusion::Failed(Failure::QuotaExhausted { attempts });
            Ok(None)
        }
        Next::GiveUp { .. } => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<QuotaSettings, QuotaSettingsError> {
        QuotaSettings::from_env(&|name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn queueing_is_on_in_scan_jobs_and_opt_in_elsewhere() {
        assert_eq!(settings(&[]).unwrap().retries, 0);
        assert_eq!(settings(&[("AI_SCAN", "true")]).unwrap().retries, 3);
        assert_eq!(settings(&[("AI_QUOTA_RETRIES", "5")]).unwrap().retries, 5);
        assert_eq!(
            settings(&[("AI_SCAN", "true"), ("AI_QUOTA_RETRIES", "0")])
                .unwrap()
                .retries,
            0
        );
        assert!(matches!(
            settings(&[("AI_QUOTA_RETRIES", "many")]),
            Err(QuotaSettingsError::Retries(_))
        ));
        assert!(matches!(
            settings(&[("AI_QUOTA_BACKOFF_SECONDS", "0")]),
            Err(QuotaSettingsError::Backoff(_))
        ));
        assert!(matches!(
            settings(&[(ATTEMPT_VAR, "0")]),
            Err(QuotaSettingsError::Attempt(_))
        ));
    }

    #[test]
    fn each_quota_error_doubles_the_wait_up_to_the_cap_then_gives_up() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
        let at = |attempt: u32, retry_after: Option<u64>| {
            let s = QuotaSettings {
                retries: 8,
                backoff: DEFAULT_BACKOFF,
                attempt,
            };
            match s.next(now, retry_after.map(Duration::from_secs)) {
                Next::Queue { retry_at } => (retry_at - now).num_seconds(),
                Next::GiveUp { .. } => -1,
            }
        };
        assert_eq!(at(1, None), 300);
        assert_eq!(at(2, None), 600);
        assert_eq!(at(3, None), 1200);
        assert_eq!(at(5, None), 3600, "capped");
        assert_eq!(at(8, None), 3600);
        assert_eq!(at(1, Some(900)), 900, "Retry-After wins when longer");
        assert_eq!(at(2, Some(10)), 600, "but never shortens the back-off");
        assert_eq!(at(9, None), -1, "1 attempt + 8 retries, then a failure");
        let off = QuotaSettings {
            retries: 0,
            backoff: DEFAULT_BACKOFF,
            attempt: 1,
        };
        assert_eq!(off.next(now, None), Next::GiveUp { attempts: 1 });
    }

    #[test]
    fn a_queued_line_in_the_models_answer_is_never_read_as_queued() {
        // A prompt injection could make the model print a queued line naming someone else's
        // note; the answer note must not make the scan run that note.
        let planted = Queued {
            assistant: Assistant::Claude,
            request: QueuedRequest::Mention {
                note: NoteId(7),
                discussion: None,
            },
            attempts: 1,
            retry_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }
        .line();
        let report = crate::publish::result::ResultReport::new(
            Assistant::Claude,
            crate::publish::result::Conclusion::Answered {
                text: format!("Done.\n\n{planted}"),
            },
        );
        let rendered = report.render(&crate::redact::Redactor::new(
            crate::agent::Handles::default(),
        ));
        assert_eq!(Queued::find(&rendered), None, "{rendered}");
    }

    #[tokio::test]
    async fn a_run_that_already_pushed_a_branch_is_not_queued_and_its_failure_names_the_branch() {
        use crate::gitlab::ids::{IssueIid, Noteable, ProjectId, ProjectRef};
        use crate::publish::result::{Conclusion, Link, ResultReport};
        use crate::trigger::event::{EventKind, TriggerEvent};
        // Nothing listens here: a queueing attempt would fail, so `Ok(None)` means none was made.
        let gitlab = crate::gitlab::GitLab::new(crate::gitlab::ClientConfig::new(
            crate::gitlab::ApiBaseUrl::parse("http://127.0.0.1:9/api/v4").unwrap(),
            crate::gitlab::GitLabToken::new(crate::secret::Secret::new("glpat-x")),
        ))
        .unwrap();
        let project = ProjectRef::Id(ProjectId(7));
        let noteable = Noteable::Issue(IssueIid(3));
        let trigger = crate::trigger::Trigger {
            source: crate::trigger::Source::CiVariables,
            project: project.clone(),
            noteable,
            note: None,
            assistants: vec![Assistant::Claude],
            instruction: "please handle this issue".into(),
            placeholder: None,
            confidential: false,
            event: Some(TriggerEvent {
                kind: EventKind::Assigned,
                actor: crate::trigger::Author {
                    id: UserId(5),
                    username: Some("dana".into()),
                },
                at: Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap(),
            }),
        };
        let placeholder = crate::publish::Placeholder {
            assistant: Assistant::Claude,
            project,
            noteable,
            note: NoteId(900),
            discussion: None,
        };
        let mut report = ResultReport::new(
            Assistant::Claude,
            Conclusion::Failed(Failure::ModelRateLimited),
        );
        report.branch = Some(Link {
            label: "claude/issue-3".into(),
            url: "https://gitlab.example.com/g/p/-/tree/claude/issue-3".into(),
        });
        let settings = QuotaSettings {
            retries: 3,
            backoff: DEFAULT_BACKOFF,
            attempt: 1,
        };
        let end = after_run(
            &gitlab,
            &trigger,
            &placeholder,
            &mut report,
            &settings,
            false,
        )
        .await
        .unwrap();
        assert_eq!(end, None, "not queued: a retry would redo published work");
        assert_eq!(
            report.conclusion,
            Conclusion::Failed(Failure::ModelRateLimited)
        );
        let note = report.render(&crate::redact::Redactor::new(
            crate::agent::Handles::default(),
        ));
        assert!(note.contains("could not finish"), "{note}");
        assert!(note.contains("branch [claude/issue-3]"), "{note}");
        assert_eq!(Queued::find(&note), None);
    }

    #[test]
    fn the_queued_state_is_read_back_from_the_note() {
        let queued = Queued {
            assistant: Assistant::Codex,
            request: QueuedRequest::Mention {
                note: NoteId(41),
                discussion: Some(
                    DiscussionId::new("6a9c1750b37d513a43987b574953fceb50b03ce7").unwrap(),
                ),
            },
            attempts: 2,
            retry_at: Utc.with_ymd_and_hms(2026, 12, 7, 9, 5, 0).unwrap(),
        };
        let body = queued.body(&Failure::ModelRateLimited, 3, None);
        assert!(body.contains("retrying at 09:05 (UTC)"), "{body}");
        assert!(body.contains("Attempt 2 of 4"), "{body}");
        assert!(crate::marker::is_marked(&body), "never read as a request");
        assert_eq!(Queued::find(&body), Some(queued.clone()));
        let threadless = Queued {
            request: QueuedRequest::Mention {
                note: NoteId(41),
                discussion: None,
            },
            ..queued.clone()
        };
        assert_eq!(Queued::find(&threadless.line()), Some(threadless));
        // A request without a note: what the retry needs to name the event again.
        for requested in [
            Requested::Assigned,
            Requested::ReviewRequested,
            Requested::Labelled {
                label: "ai; ready -->".into(),
            },
            Requested::DescriptionMention,
        ] {
            let event = Queued {
                request: QueuedRequest::Event {
                    requested,
                    actor: UserId(5),
                    at: Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap()
                        + TimeDelta::milliseconds(250),
                },
                ..queued.clone()
            };
            assert_eq!(
                Queued::find(&event.body(&Failure::ModelRateLimited, 3, None)),
                Some(event)
            );
        }
        for broken in [
            "<!-- gitlab-ai-assistant-queued:claude;1;2026-12-07T09:05:00Z;event;closed;5;2026-12-07T08:00:00Z -->",
            "<!-- gitlab-ai-assistant-queued:claude;1;2026-12-07T09:05:00Z;event;assigned;0;2026-12-07T08:00:00Z -->",
            "<!-- gitlab-ai-assistant-queued:claude;1;2026-12-07T09:05:00Z;event;assigned;5 -->",
            "<!-- gitlab-ai-assistant-queued:claude;1;2026-12-07T09:05:00Z;event;assigned;5;2026-12-07T08:00:00Z;x -->",
        ] {
            assert_eq!(Queued::find(broken), None, "{broken}");
        }
        assert_eq!(Queued::find("plain"), None);
        assert_eq!(
            Queued::find("<!-- gitlab-ai-assistant-queued:claude;x;y;1;- -->"),
            None
        );
        assert!(
            !Queued {
                attempts: 1,
                ..Queued::find(&body).unwrap()
            }
            .is_due(Utc.with_ymd_and_hms(2026, 12, 7, 9, 4, 59).unwrap())
        );
    }
}
