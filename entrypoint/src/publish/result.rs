//! The note that replaces the placeholder when the run ends: the answer (or what went wrong and
//! what to do about it), the links people need, and what the run cost.
//!
//! Replacing the placeholder (`PUT …/notes/:id`) rather than posting a second note keeps one
//! note per request, and an edit does not notify anyone again, so nobody is pinged twice.
//! <https://docs.gitlab.com/api/notes/#modify-existing-issue-note>

use std::fmt::Write as _;
use std::time::Duration;

use super::text::{NOTE_LIMIT_CHARS, defuse_markers, truncate};
use super::{JobLink, Placeholder};
use crate::agent::Assistant;
use crate::agent::events::{Limit, Usage};
pub use crate::agent::failure::Failure;
use crate::agent::run::{Outcome, RunReport};
use crate::budget::UsageLine;
use crate::gitlab::notes::{NewNote, Note};
use crate::gitlab::{GitLab, GitLabError};
use crate::marker::{NoteRole, marker};
use crate::quick_action::Inert;
use crate::redact::Redactor;

/// How the run ended, as far as the person who asked is concerned.
#[derive(Clone, Debug, PartialEq)]
pub enum Conclusion {
    /// The assistant's answer, or its summary of the work it did.
    Answered { text: String },
    /// The run failed.
    Failed(Failure),
}

impl Conclusion {
    /// The answer of a successful run, or the [`Failure`] of any other.
    pub fn from_outcome(outcome: &Outcome, assistant: Assistant, model: Option<&str>) -> Self {
        match outcome {
            Outcome::Succeeded { final_text, .. } => Self::Answered {
                text: final_text.clone(),
            },
            Outcome::TimedOut { after } => Self::Failed(Failure::TimedOut { after: *after }),
            Outcome::Failed { message } => {
                Self::Failed(Failure::from_message(message, assistant, model))
            }
            // What it did until the limit is published like an answer; [`Stop`] says why it
            // ended early.
            Outcome::LimitReached { partial_text, .. } => Self::Answered {
                text: partial_text.clone(),
            },
        }
    }
}

/// How a [`Failure`] reads in the note: what happened, and what to do about it.
impl Failure {
    /// One line saying what happened.
    pub fn headline(&self) -> String {
        match self {
            Self::TimedOut { after } => {
                format!("the run timed out after {}", human_duration(*after))
            }
            Self::ModelUnauthorized { .. } => "the model API rejected the API key (401)".into(),
            Self::ModelForbidden { .. } => "the model API refused access (403)".into(),
            Self::ModelRateLimited => "the model API rate limit or quota was reached (429)".into(),
            Self::ModelNotFound { model, .. } => format!("the model {model} is not available"),
            Self::ModelApiDown => "the model API failed on its side".into(),
            Self::TurnLimit => "the assistant reached its turn limit".into(),
            Self::GitLab { message } => format!("a GitLab request failed: {message}"),
            Self::PushRejected { message } => format!("the changes could not be pushed: {message}"),
            Self::Assistant { message } => message.trim().to_owned(),
            Self::QuotaExhausted { attempts } => format!(
                "the model API rate limit or quota was still reached after {attempts} attempts"
            ),
        }
    }

    /// One line saying what to do about it.
    pub fn advice(&self) -> String {
        match self {
            Self::TimedOut { .. } => "Raise the `AI_TIMEOUT` CI/CD variable (for example `40m`), or ask for a smaller change.".into(),
            Self::ModelUnauthorized { key_variable } => format!("Check the `{key_variable}` CI/CD variable: the key may be wrong, expired or revoked."),
            Self::ModelForbidden { key_variable } => format!("Check that the key in `{key_variable}` may use this model, and the organization's or project's settings."),
            Self::ModelRateLimited => "Wait a few minutes and ask again, or raise the API plan's limits.".into(),
            Self::ModelNotFound { model_variable, .. } => format!("Set the `{model_variable}` CI/CD variable to a model your key can use."),
            Self::ModelApiDown => "Ask again later; check the provider's status page.".into(),
            Self::TurnLimit => "Raise the `AI_MAX_TURNS` CI/CD variable, or ask for a smaller change.".into(),
            Self::GitLab { .. } => "Check the `GITLAB_TOKEN` CI/CD variable: it needs the `api` scope and at least the Developer role.".into(),
            Self::PushRejected { .. } => "Check that the bot user may push to the branch (protected branches, fork permissions).".into(),
            Self::Assistant { .. } => "See the job log for details.".into(),
            Self::QuotaExhausted { .. } => "Check the API plan's limits and billing with the provider, then ask again; raise `AI_QUOTA_RETRIES` or `AI_QUOTA_BACKOFF_SECONDS` to wait longer.".into(),
        }
    }
}

/// Something worth telling the reader besides the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Codex was retried with another model because the configured one does not exist.
    ModelFallback { missing: String, used: String },
    /// The assistant ran with unrestricted network access.
    NotNetworkSandboxed,
    /// Free text from the orchestrator (already plain Markdown).
    Other(String),
}

impl Notice {
    fn markdown(&self) -> String {
        match self {
            Self::ModelFallback { missing, used } => {
                format!("{missing} is not available; used {used} instead.")
            }
            Self::NotNetworkSandboxed => "This run was not network-sandboxed.".into(),
            Self::Other(text) => text.clone(),
        }
    }
}

/// Why a run that answered ended before it finished: a per-run limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Stop {
    pub limit: Limit,
    /// The limit's value as set (`$0.50`, `3 turns`).
    pub max: String,
    /// Files the assistant had changed when it stopped (committed to the branch or merge
    /// request linked above, like any other run's changes).
    pub files: Vec<String>,
}

impl Stop {
    /// The stop of `run`, when it reached a limit; `files` are filled in by the caller, which
    /// holds the workspace.
    pub(crate) fn of_run(run: &RunReport) -> Option<Self> {
        let Outcome::LimitReached { limit, .. } = &run.outcome else {
            return None;
        };
        let max = match limit {
            Limit::Budget => run.limits.max_usd.map(|usd| format!("${usd:.2}")),
            Limit::Turns => run.limits.max_turns.map(|turns| format!("{turns} turns")),
        }
        .unwrap_or_else(|| "the limit".to_owned());
        Some(Self {
            limit: *limit,
            max,
            files: Vec::new(),
        })
    }

    fn markdown(&self, cost_usd: Option<f64>) -> String {
        let what = match self.limit {
            Limit::Budget => "budget",
            Limit::Turns => "turn limit",
        };
        let spent = cost_usd
            .map(|usd| format!(" after spending about ${usd:.2}"))
            .unwrap_or_default();
        let files = if self.files.is_empty() {
            "It had changed no files.".to_owned()
        } else {
            const LISTED: usize = 20;
            let mut list: Vec<String> = self
                .files
                .iter()
                .take(LISTED)
                .map(|f| format!("`{}`", f.replace('`', "'")))
                .collect();
            if self.files.len() > LISTED {
                list.push(format!("{} more", self.files.len() - LISTED));
            }
            format!(
                "It had changed {}; those changes are published as usual (links above).",
                list.join(", ")
            )
        };
        format!(
            "**Stopped:** the run reached its {what} of {} (`{}`){spent}, before it finished. {files} Raise `{}` or ask for a smaller step to go on.",
            self.max,
            self.limit.variable(),
            self.limit.variable(),
        )
    }
}

/// A link with a label (`[!12](…)`, `[claude/issue-3-fix](…)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// Everything the final note says.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultReport {
    pub assistant: Assistant,
    pub conclusion: Conclusion,
    /// The merge request opened or updated.
    pub merge_request: Option<Link>,
    /// The branch the changes were pushed to.
    pub branch: Option<Link>,
    pub job: Option<JobLink>,
    /// How long the run took.
    pub duration: Option<Duration>,
    pub usage: Option<Usage>,
    pub cost_usd: Option<f64>,
    pub notices: Vec<Notice>,
    /// Markdown appended after the answer (a patch in a `<details>` block); already safe.
    pub appendix: Option<String>,
    /// Set when the run stopped at `AI_MAX_BUDGET_USD` or `AI_MAX_TURNS`.
    pub stopped: Option<Stop>,
    /// The hidden usage line later runs sum ([`crate::budget::usage`]).
    pub usage_line: Option<UsageLine>,
    /// The model the run used (`None`: the CLI's default), for the usage record.
    pub model: Option<String>,
    /// The model API's `Retry-After` on a rate-limited run, for queueing ([`crate::quota`]).
    pub retry_after: Option<Duration>,
}

impl ResultReport {
    /// How the run ended, for its usage record: answered, stopped at a limit with an answer, or
    /// failed.
    pub(crate) fn run_outcome(&self) -> crate::budget::RunOutcome {
        use crate::budget::RunOutcome;
        match (&self.conclusion, &self.stopped) {
            (Conclusion::Answered { .. }, None) => RunOutcome::Answered,
            (Conclusion::Answered { .. }, Some(_)) => RunOutcome::Stopped,
            (Conclusion::Failed(_), _) => RunOutcome::Failed,
        }
    }

    /// A report with only the essentials; fill in the rest field by field.
    pub fn new(assistant: Assistant, conclusion: Conclusion) -> Self {
        Self {
            assistant,
            conclusion,
            merge_request: None,
            branch: None,
            job: None,
            duration: None,
            usage: None,
            cost_usd: None,
            notices: Vec::new(),
            appendix: None,
            stopped: None,
            usage_line: None,
            model: None,
            retry_after: None,
        }
    }

    /// A report of one assistant run: its answer or failure, duration, tokens and cost, and
    /// the model-fallback notice when Codex had to switch models. Links, the job and other
    /// notices are the caller's to add.
    pub fn from_run(assistant: Assistant, run: &RunReport) -> Self {
        let mut report = Self::new(
            assistant,
            Conclusion::from_outcome(&run.outcome, assistant, run.model.as_deref()),
        );
        report.duration = Some(run.elapsed);
        if let Outcome::Succeeded {
            usage, cost_usd, ..
        }
        | Outcome::LimitReached {
            usage, cost_usd, ..
        } = &run.outcome
        {
            report.usage = *usage;
            report.cost_usd = *cost_usd;
        }
        report.stopped = Stop::of_run(run);
        report.model = run.model.clone();
        report.retry_after = run.retry_after;
        if let Some((missing, used)) = &run.fallback_used {
            report.notices.push(Notice::ModelFallback {
                missing: if missing.is_empty() {
                    "The configured model".to_owned()
                } else {
                    missing.clone()
                },
                used: used.clone(),
            });
        }
        // Codex is fenced by default; a run without the fence (AI_SANDBOX=off) says so. Claude
        // runs unfenced unless AI_SANDBOX=on, which is its documented default, not news.
        if !run.sandboxed && assistant.profile().fenced_by_default {
            report.notices.push(Notice::NotNetworkSandboxed);
        }
        report
    }

    /// The note body: redacted, within GitLab's length limit (the answer is cut, visibly, so
    /// the links and the marker always survive), ending with the result marker.
    pub fn render(&self, redactor: &Redactor) -> String {
        let name = self.assistant.display_name();
        let headline = match &self.conclusion {
            Conclusion::Answered { .. } if self.stopped.is_some() => {
                format!("⏹️ **{name}** stopped at its limit")
            }
            Conclusion::Answered { .. } => format!("✅ **{name}** finished"),
            Conclusion::Failed(_) => format!("❌ **{name}** could not finish"),
        };
        let mut head = headline;
        if let Some(duration) = self.duration {
            let _ = write!(head, " in {}", human_duration(duration));
        }
        let links: Vec<String> = [
            self.merge_request
                .as_ref()
                .map(|l| format!("[{}]({})", l.label, l.url)),
            self.branch
                .as_ref()
                .map(|l| format!("branch [{}]({})", l.label, l.url)),
            self.job.as_ref().map(JobLink::markdown),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !links.is_empty() {
            let _ = write!(head, " · {}", links.join(" · "));
        }

        let main = match &self.conclusion {
            Conclusion::Answered { text } => match &self.stopped {
                Some(stop) => {
                    let partial = if text.trim().is_empty() {
                        "*(It had not written an answer yet.)*".to_owned()
                    } else {
                        format!("Its last message:\n\n{}", text.trim())
                    };
                    format!("{}\n\n{partial}", stop.markdown(self.cost_usd))
                }
                None => text.trim().to_owned(),
            },
            Conclusion::Failed(failure) => {
                let job = self
                    .job
                    .as_ref()
                    .map(|job| format!(" The {} has the details.", job.markdown()))
                    .unwrap_or_default();
                format!(
                    "**Error:** {}\n\n**What to do:** {}{job}",
                    failure.headline(),
                    failure.advice()
                )
            }
        };

        let mut tail = String::new();
        if let Some(appendix) = &self.appendix {
            let _ = write!(tail, "\n\n{}", appendix.trim_end());
        }
        let mut facts = Vec::new();
        if let Some(usage) = self.usage {
            facts.push(format!("{} tokens in, {} out", usage.input, usage.output));
        }
        if let Some(cost) = self.cost_usd {
            facts.push(format!("about ${cost:.2}"));
        }
        let notices: Vec<String> = self.notices.iter().map(Notice::markdown).collect();
        if !facts.is_empty() || !notices.is_empty() {
            tail.push_str("\n\n---\n");
            for line in facts.iter().chain(&notices) {
                let _ = write!(tail, "\n<sub>{line}</sub>");
            }
        }
        let mark = marker(self.assistant, NoteRole::Result);
        // Appended after the model's text was defused: the only usage line that counts.
        let mark = match &self.usage_line {
            Some(line) => format!("{}\n{mark}", line.render()),
            None => mark,
        };

        let head = redactor.redact(&defuse_markers(&head));
        let tail = redactor.redact(&defuse_markers(&tail));
        let main = redactor.redact(&defuse_markers(&main));
        let frame = head.chars().count() + tail.chars().count() + mark.chars().count() + 8;
        let notice = format!(
            "*(Cut here: the full text is {} characters, more than a GitLab note holds. The job log has all of it.)*",
            main.chars().count()
        );
        let main = truncate(&main, NOTE_LIMIT_CHARS.saturating_sub(frame), &notice);
        format!("{head}\n\n{main}{tail}\n\n{mark}")
    }
}

/// Replaces the placeholder with the report. When the placeholder is gone (someone deleted it:
/// 404), the report is posted as a new note in the same place instead, so the answer is never
/// lost.
pub async fn publish_result(
    gitlab: &GitLab,
    placeholder: &Placeholder,
    report: &ResultReport,
    redactor: &Redactor,
    internal: bool,
) -> Result<Note, GitLabError> {
    replace_placeholder(gitlab, placeholder, &report.render(redactor), internal).await
}

/// `PUT`s `body` over the placeholder, or posts it anew (a reply in the same thread, else a
/// comment, `internal` as given) when the placeholder was deleted.
pub(crate) async fn replace_placeholder(
    gitlab: &GitLab,
    placeholder: &Placeholder,
    body: &str,
    internal: bool,
) -> Result<Note, GitLabError> {
    let p = placeholder;
    let body = &Inert::new(body);
    match gitlab
        .update_note(&p.project, p.noteable, p.note, body)
        .await
    {
        Err(error) if error.is_not_found() => {
            tracing::warn!(note = %p.note, "the placeholder was deleted; posting the result as a new note");
            if let Some(discussion) = &p.discussion {
                match gitlab
                    .reply_to_discussion(&p.project, p.noteable, discussion, body)
                    .await
                {
                    Err(error) if error.is_not_found() => {}
                    other => return other,
                }
            }
            let note = NewNote {
                body: body.clone(),
                internal,
            };
            gitlab.create_note(&p.project, p.noteable, &note).await
        }
        other => other,
    }
}

/// The polite answer to someone whose role is too low to run an assistant: which role is
/// needed, and who can help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub assistant: Assistant,
    /// The username of the person who asked, without `@` (mentioning them is intended: they
    /// should learn why nothing happens).
    pub author: Option<String>,
    /// The role needed, as GitLab names it (`Developer`).
    pub required_role: String,
}

impl Refusal {
    /// The note body, redacted, ending with the refusal marker.
    pub fn render(&self, redactor: &Redactor) -> String {
        let greeting = self
            .author
            .as_deref()
            .map(|user| format!("Sorry @{user}, "))
            .unwrap_or_else(|| "Sorry, ".to_owned());
        let body = format!(
            "{greeting}**{}** only works for project members with at least the **{}** role. A maintainer of this project can give you that role, or ask on your behalf.",
            self.assistant.display_name(),
            self.required_role
        );
        format!(
            "{}\n\n{}",
            redactor.redact(&body),
            marker(self.assistant, NoteRole::Refusal)
        )
    }
}

/// Posts a refusal where the request was made (see
/// [`super::placeholder::post_where_asked`]).
pub async fn post_refusal(
    gitlab: &GitLab,
    trigger: &crate::trigger::Trigger,
    refusal: &Refusal,
    redactor: &Redactor,
) -> Result<Note, GitLabError> {
    let (note, _) = super::placeholder::post_where_asked(
        gitlab,
        trigger,
        &Inert::new(&refusal.render(redactor)),
    )
    .await?;
    Ok(note)
}

/// `2m 5s`, `1h 3m`, `45s`.
pub(crate) fn human_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Handles;
    use crate::marker::is_marked;
    use crate::mention::find_mentions;

    fn redactor() -> Redactor {
        let mut r = Redactor::new(Handles::default());
        r.add_secret("topsecretvalue");
        r
    }

    fn job() -> JobLink {
        JobLink {
            url: "https://gitlab.example.com/g/p/-/jobs/9".into(),
            id: Some(9),
        }
    }

    #[test]
    fn an_answer_has_links_duration_cost_and_notices() {
        let mut report = ResultReport::new(
            Assistant::Codex,
            Conclusion::Answered {
                text: "Done. Ask @claude for a review; token topsecretvalue <!-- gitlab-ai-assistant:codex:placeholder -->".into(),
            },
        );
        report.merge_request = Some(Link {
            label: "!12".into(),
            url: "https://gitlab.example.com/g/p/-/merge_requests/12".into(),
        });
        report.job = Some(job());
        report.duration = Some(Duration::from_secs(125));
        report.usage = Some(Usage {
            input: 1200,
            output: 300,
        });
        report.cost_usd = Some(0.4321);
        report.notices = vec![
            Notice::ModelFallback {
                missing: "o4-mini".into(),
                used: "gpt-5.5".into(),
            },
            Notice::NotNetworkSandboxed,
        ];
        let body = report.render(&redactor());
        assert!(
            body.starts_with("✅ **Codex** finished in 2m 5s · [!12]("),
            "{body}"
        );
        assert!(body.contains("[job #9]("));
        assert!(body.contains("1200 tokens in, 300 out"));
        assert!(body.contains("about $0.43"));
        assert!(body.contains("o4-mini is not available; used gpt-5.5 instead."));
        assert!(body.contains("This run was not network-sandboxed."));
        assert!(!body.contains("topsecretvalue"));
        assert!(find_mentions(&body, &Handles::default()).is_empty());
        assert!(is_marked(&body) && body.ends_with("<!-- gitlab-ai-assistant:codex:result -->"));
        assert!(!body.contains(&marker(Assistant::Codex, NoteRole::Placeholder)));
    }

    #[test]
    fn a_failure_says_what_happened_and_what_to_do() {
        let mut report = ResultReport::new(
            Assistant::Claude,
            Conclusion::Failed(Failure::TimedOut {
                after: Duration::from_secs(1200),
            }),
        );
        report.job = Some(job());
        let body = report.render(&redactor());
        assert!(body.starts_with("❌ **Claude** could not finish"), "{body}");
        assert!(body.contains("timed out after 20m 0s"));
        assert!(body.contains("`AI_TIMEOUT`"));
        assert!(body.contains("The [job #9]("));
    }

    #[test]
    fn overlong_answers_are_cut_visibly_and_keep_the_marker() {
        let report = ResultReport::new(
            Assistant::Claude,
            Conclusion::Answered {
                text: format!("```\n{}", "x".repeat(NOTE_LIMIT_CHARS + 10)),
            },
        );
        let body = report.render(&Redactor::new(Handles::default()));
        assert!(
            body.chars().count() <= NOTE_LIMIT_CHARS,
            "{}",
            body.chars().count()
        );
        assert!(body.contains("*(Cut here: the full text is"));
        assert!(body.ends_with("<!-- gitlab-ai-assistant:claude:result -->"));
    }

    #[test]
    fn refusals_name_the_role_and_carry_their_marker() {
        let refusal = Refusal {
            assistant: Assistant::Claude,
            author: Some("bob".into()),
            required_role: "Developer".into(),
        };
        let body = refusal.render(&Redactor::new(Handles::default()));
        assert!(
            body.starts_with("Sorry @bob, **Claude** only works"),
            "{body}"
        );
        assert!(body.contains("**Developer** role"));
        assert!(body.ends_with("<!-- gitlab-ai-assistant:claude:refusal -->"));
        assert!(find_mentions(&body, &Handles::default()).is_empty());
    }

    #[test]
    fn a_run_report_becomes_a_result() {
        let run = RunReport {
            outcome: Outcome::Succeeded {
                final_text: "Done.".into(),
                usage: Some(Usage {
                    input: 10,
                    output: 2,
                }),
                cost_usd: Some(0.01),
            },
            model: Some("gpt-5.5".into()),
            fallback_used: Some(("o4-mini".into(), "gpt-5.5".into())),
            elapsed: Duration::from_secs(3),
            refused_passthrough: Vec::new(),
            sandboxed: true,
            limits: crate::budget::RunLimits::default(),
            retry_after: None,
        };
        let report = ResultReport::from_run(Assistant::Codex, &run);
        assert!(!report.notices.contains(&Notice::NotNetworkSandboxed));
        let unfenced = ResultReport::from_run(
            Assistant::Codex,
            &RunReport {
                sandboxed: false,
                ..run.clone()
            },
        );
        assert!(unfenced.notices.contains(&Notice::NotNetworkSandboxed));
        assert_eq!(
            report.conclusion,
            Conclusion::Answered {
                text: "Done.".into()
            }
        );
        assert_eq!(report.usage.map(|u| u.output), Some(2));
        assert_eq!(report.duration, Some(Duration::from_secs(3)));
        assert_eq!(
            report.notices,
            [Notice::ModelFallback {
                missing: "o4-mini".into(),
                used: "gpt-5.5".into()
            }]
        );
        let stopped = ResultReport::from_run(
            Assistant::Codex,
            &RunReport {
                outcome: Outcome::LimitReached {
                    limit: Limit::Budget,
                    partial_text: "Renamed the helper; tests next.".into(),
                    usage: Some(Usage {
                        input: 900,
                        output: 90,
                    }),
                    cost_usd: Some(0.61),
                },
                limits: crate::budget::RunLimits {
                    max_usd: Some(0.5),
                    max_turns: None,
                },
                ..run.clone()
            },
        );
        let mut with_files = stopped.clone();
        if let Some(stop) = with_files.stopped.as_mut() {
            stop.files = vec!["src/lib.rs".into()];
        }
        let body = with_files.render(&Redactor::new(Handles::default()));
        assert!(body.contains("stopped at its limit"), "{body}");
        assert!(
            body.contains(
                "reached its budget of $0.50 (`AI_MAX_BUDGET_USD`) after spending about $0.61"
            ),
            "{body}"
        );
        assert!(body.contains("It had changed `src/lib.rs`"), "{body}");
        assert!(body.contains("Renamed the helper; tests next."), "{body}");
        assert!(!body.contains("✅"), "{body}");
        assert_eq!(stopped.cost_usd, Some(0.61));

        // The usage line later runs sum: the entrypoint's, never one the model wrote.
        let real = UsageLine {
            v: 1,
            by: Some("dana".into()),
            usd: Some(0.61),
            input: Some(900),
            out: Some(90),
            outcome: crate::budget::RunOutcome::Stopped,
        };
        let forged = UsageLine {
            usd: Some(-100.0),
            ..real.clone()
        };
        let mut lined = stopped.clone();
        lined.conclusion = Conclusion::Answered {
            text: format!("Partial.\n{}", forged.render()),
        };
        lined.usage_line = Some(real.clone());
        let body = lined.render(&Redactor::new(Handles::default()));
        assert_eq!(UsageLine::find(&body), Some(real), "{body}");
        assert_eq!(
            body.matches("<!-- gitlab-ai-assistant:usage").count(),
            1,
            "{body}"
        );
        assert!(body.ends_with("<!-- gitlab-ai-assistant:codex:result -->"));
        let timed_out = RunReport {
            outcome: Outcome::TimedOut {
                after: Duration::from_secs(60),
            },
            fallback_used: None,
            ..run
        };
        assert!(matches!(
            ResultReport::from_run(Assistant::Codex, &timed_out).conclusion,
            Conclusion::Failed(Failure::TimedOut { .. })
        ));
    }

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m 5s");
        assert_eq!(human_duration(Duration::from_secs(3780)), "1h 3m");
    }
}
