//! `entrypoint review --assistant A`: the automatic merge request review, run by the template's
//! review job in `merge_request_event` pipelines (input `auto_review`, docs/review.md).
//!
//! It shares its publishing with the `@claude review` mention ([`publish_review`]): one GitLab
//! review of draft notes, severities, one summary note per merge request updated in place, no
//! repeated findings, addressed threads resolved. What it adds is the decision whether to review
//! at all ([`decide`]) and **incremental** reviews: the summary note records the head commit a
//! review covered, and the next run shows the assistant only the commits since then
//! (`git diff <reviewed>..HEAD`), so a re-review costs what the new commits cost, not what the
//! whole merge request does. A history rewritten since (force push, rebase) makes the next
//! review a full one.
//!
//! The assistant runs exactly as in a mention job: as the sandbox uid, with the key proxy and
//! the network fence the settings ask for, on a checkout whose configuration files (`CLAUDE.md`,
//! `AGENTS.md`, settings, hooks) come from the target branch. Review-only guidance comes from
//! `REVIEW.md` on the target branch, never from the branch under review.

use std::fmt::Write as _;
use std::sync::Arc;

use anyhow::Context as _;
use tracing::Instrument as _;

pub mod paths;

use crate::agent::Assistant;
use crate::agent::run::RunSpec;
use crate::env::Env;
use crate::gitlab::ids::{MergeRequestIid, ProjectId, ProjectRef};
use crate::gitlab::merge_request_diffs::FileDiff;
use crate::gitlab::{ClientConfig, GitLab};
use crate::publish::review::{
    PastReviews, handover_instructions, publish_review, read_review, review_file_in, review_rules,
    rules_section, upsert_summary,
};
use crate::publish::text::truncate;
use crate::redact::Redactor;
use crate::run::{JobSettings, ReviewDir, log_event, workspace, written_by};
use crate::trigger::decision::BotIdentity;

/// `AI_AUTO_REVIEW`, the template input `auto_review`: when the review job reviews.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoReview {
    /// Never (the template adds no job at all; the command says why and exits).
    Off,
    /// Once, in the first pipeline of the merge request, draft or not.
    Opened,
    /// Once, in the first pipeline that finds the merge request not a draft.
    Ready,
    /// On every push while the merge request is not a draft, each time only the new commits.
    EveryPush,
}

impl AutoReview {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "off" => Some(Self::Off),
            "opened" => Some(Self::Opened),
            "ready" => Some(Self::Ready),
            "every_push" => Some(Self::EveryPush),
            _ => None,
        }
    }
}

/// A review setting that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ReviewSettingsError {
    #[error(
        "CI_MERGE_REQUEST_IID is not set: `entrypoint review` reviews the merge request of a merge request pipeline (`merge_request_event`); run it from the template's review job (input auto_review) or set CI_MERGE_REQUEST_IID"
    )]
    NoMergeRequest,
    #[error("{name} is {value:?}: {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(transparent)]
    Paths(#[from] paths::PathGlobError),
}

/// What the review job reads besides the run settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReviewSettings {
    /// `CI_PROJECT_ID`.
    pub project: ProjectRef,
    /// `CI_MERGE_REQUEST_IID`.
    pub merge_request: MergeRequestIid,
    /// `AI_AUTO_REVIEW`; `None` when unset: someone ran the command on purpose, so it reviews
    /// whatever the merge request's state.
    pub mode: Option<AutoReview>,
    /// `AI_REVIEW_MAX_DIFF_LINES`: above this many changed lines in the diff to review, the job
    /// posts why it did not review instead (default [`DEFAULT_MAX_DIFF_LINES`]).
    pub max_diff_lines: usize,
    /// `AI_REVIEW_SKIP_LABELS`: merge requests with any of these labels are not reviewed
    /// automatically (comma-separated, compared without case).
    pub skip_labels: Vec<String>,
    /// `AI_REVIEW_SKIP_AUTHORS`: merge requests opened by any of these usernames (dependency
    /// bots, say) are not reviewed automatically (comma-separated, `@` optional).
    pub skip_authors: Vec<String>,
    /// `AI_REVIEW_PATHS` and `AI_REVIEW_SKIP_PATHS`: the changed files an automatic review
    /// looks at ([`paths`]).
    pub paths: paths::PathFilter,
}

/// A comma-separated list, trimmed, without empty items.
fn list(value: Option<String>, strip: char) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|item| item.trim().trim_start_matches(strip).to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// Changed lines above which a review is declined by default: past this size a review costs
/// much and finds little that a person would read.
pub(crate) const DEFAULT_MAX_DIFF_LINES: usize = 5_000;

impl ReviewSettings {
    pub(crate) fn from_env(vars: &dyn Env) -> Result<Self, ReviewSettingsError> {
        let set = |name: &str| {
            vars.var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let merge_request = set("CI_MERGE_REQUEST_IID")
            .ok_or(ReviewSettingsError::NoMergeRequest)?
            .parse()
            .map(MergeRequestIid)
            .map_err(|_| ReviewSettingsError::Invalid {
                name: "CI_MERGE_REQUEST_IID",
                value: vars.var("CI_MERGE_REQUEST_IID").unwrap_or_default(),
                expected: "a merge request IID (a number)",
            })?;
        let project = match set("CI_PROJECT_ID") {
            Some(id) => ProjectRef::Id(ProjectId(id.parse().map_err(|_| {
                ReviewSettingsError::Invalid {
                    name: "CI_PROJECT_ID",
                    value: id.clone(),
                    expected: "the project's numeric id, as GitLab sets it in every job",
                }
            })?)),
            None => {
                return Err(ReviewSettingsError::Invalid {
                    name: "CI_PROJECT_ID",
                    value: String::new(),
                    expected: "the project's numeric id, as GitLab sets it in every job",
                });
            }
        };
        let mode = match set(crate::env::AI_AUTO_REVIEW.name()) {
            None => None,
            Some(value) => Some(
                AutoReview::parse(&value).ok_or(ReviewSettingsError::Invalid {
                    name: crate::env::AI_AUTO_REVIEW.name(),
                    value,
                    expected: "off, opened, ready or every_push (template input auto_review)",
                })?,
            ),
        };
        let max_diff_lines = match set(crate::env::AI_REVIEW_MAX_DIFF_LINES.name()) {
            None => DEFAULT_MAX_DIFF_LINES,
            Some(value) => value
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ReviewSettingsError::Invalid {
                    name: crate::env::AI_REVIEW_MAX_DIFF_LINES.name(),
                    value,
                    expected: "a positive number of changed lines (template input review_max_diff_lines)",
                })?,
        };
        Ok(Self {
            project,
            merge_request,
            mode,
            max_diff_lines,
            skip_labels: list(set(crate::env::AI_REVIEW_SKIP_LABELS.name()), '~'),
            skip_authors: list(set(crate::env::AI_REVIEW_SKIP_AUTHORS.name()), '@'),
            paths: paths::PathFilter::from_values(
                set(crate::env::AI_REVIEW_PATHS.name()).as_deref(),
                set(crate::env::AI_REVIEW_SKIP_PATHS.name()).as_deref(),
            )?,
        })
    }

    /// Why an automatic review leaves this merge request alone (a label or its author), if it
    /// does. Someone running the command by hand (`AI_AUTO_REVIEW` unset) is not filtered.
    pub(crate) fn filtered_out(&self, labels: &[String], author: &str) -> Option<String> {
        self.mode?;
        if let Some(label) = labels
            .iter()
            .find(|l| self.skip_labels.iter().any(|s| s.eq_ignore_ascii_case(l)))
        {
            return Some(format!(
                "the merge request has the label {label:?}, listed in AI_REVIEW_SKIP_LABELS"
            ));
        }
        if self
            .skip_authors
            .iter()
            .any(|a| a.eq_ignore_ascii_case(author))
        {
            return Some(format!(
                "the merge request was opened by @{author}, listed in AI_REVIEW_SKIP_AUTHORS"
            ));
        }
        None
    }
}

/// What to do with this pipeline's merge request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing; the reason goes to the job log.
    Skip(String),
    /// Review the commits after `since`, or the whole merge request when `None`.
    Review { since: Option<String> },
}

/// The review decision from what GitLab says about the merge request and the bot's summary
/// note: the mode, whether it is a draft, whether a review happened already and up to which
/// head commit.
pub fn decide(
    mode: Option<AutoReview>,
    draft: bool,
    reviewed_before: bool,
    reviewed_sha: Option<&str>,
    head_sha: &str,
) -> Plan {
    match mode {
        Some(AutoReview::Off) => {
            return Plan::Skip("AI_AUTO_REVIEW is off: no automatic review".into());
        }
        Some(AutoReview::Ready | AutoReview::EveryPush) if draft => {
            return Plan::Skip(
                "the merge request is a draft: it is reviewed once it is marked ready (or ask with a @-mention)"
                    .into(),
            );
        }
        Some(AutoReview::Opened | AutoReview::Ready) if reviewed_before => {
            return Plan::Skip(
                "the merge request was reviewed already (auto_review reviews once; every_push reviews each push)"
                    .into(),
            );
        }
        _ => {}
    }
    if reviewed_sha == Some(head_sha) {
        return Plan::Skip(format!("commit {head_sha} was reviewed already"));
    }
    Plan::Review {
        since: reviewed_sha.map(str::to_owned),
    }
}

/// A review that decided to do nothing: the reason goes to the job log and nowhere else.
fn nothing_to_review(reason: String) -> ReviewEnd {
    tracing::info!(%reason, "nothing to review");
    ReviewEnd::Skipped { reason }
}

/// How the job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReviewEnd {
    Skipped {
        reason: String,
    },
    /// The diff was over the limit; the summary note says so.
    TooLarge {
        lines: usize,
    },
    Reviewed {
        inline: usize,
        resolved: usize,
    },
}

/// Changed lines (`+`/`-`, headers excluded) in a unified diff.
pub(crate) fn changed_lines(diff: &str) -> usize {
    diff.lines()
        .filter(|l| {
            (l.starts_with('+') && !l.starts_with("+++"))
                || (l.starts_with('-') && !l.starts_with("---"))
        })
        .count()
}

/// The merge request's diff as one unified diff, from GitLab's per-file diffs.
fn whole_diff(files: &[FileDiff]) -> String {
    let mut out = String::new();
    for file in files {
        let _ = writeln!(
            out,
            "diff --git a/{} b/{}\n--- a/{}\n+++ b/{}",
            file.old_path, file.new_path, file.old_path, file.new_path
        );
        out.push_str(&file.diff);
        if !file.diff.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Longest diff put into the prompt; the assistant reads the rest from the checkout.
const PROMPT_DIFF_CHARS: usize = 400_000;

/// What the review prompt is made of.
pub struct ReviewPrompt<'a> {
    pub iid: MergeRequestIid,
    pub title: &'a str,
    pub description: &'a str,
    pub target_branch: &'a str,
    /// The commit the previous review covered, for an incremental review.
    pub since: Option<&'a str>,
    pub head: &'a str,
    pub diff: &'a str,
    /// `REVIEW.md` of the target branch.
    pub rules: Option<&'a str>,
    pub review_file: &'a std::path::Path,
}

/// The prompt of an automatic review.
pub fn prompt(parts: &ReviewPrompt<'_>) -> String {
    let mut prompt = format!(
        "You are reviewing merge request !{} in a CI job, on a checkout of its source branch at {}. Do not change files, commit or push: your review is posted as comments.\n\n## What to review\n\n",
        parts.iid, parts.head
    );
    match parts.since {
        Some(since) => {
            let _ = writeln!(
                prompt,
                "Only the commits pushed since the last review, which covered {since}: the diff below is {since}..{}. Earlier findings are already in their threads; do not repeat them. Read other files in the checkout only as far as the new changes need.",
                parts.head
            );
        }
        None => {
            let _ = writeln!(
                prompt,
                "The whole merge request: the diff below is against its target branch `{}`.",
                parts.target_branch
            );
        }
    }
    let _ = write!(
        prompt,
        "\n## The merge request\n\nTitle: {}\n\n{}\n",
        parts.title.trim(),
        truncate(parts.description.trim(), 20_000, "(description cut)")
    );
    if let Some(rules) = parts.rules {
        prompt.push_str(&rules_section(rules));
    }
    let diff = truncate(
        parts.diff,
        PROMPT_DIFF_CHARS,
        "(diff cut: read the rest with git diff in the checkout)",
    );
    let fence = crate::publish::text::fence_for(&diff);
    let _ = write!(prompt, "\n## Diff\n\n{fence}diff\n{diff}\n{fence}\n");
    let _ = write!(
        prompt,
        "\n## Handing the review over\n\nGive each finding a severity: must_fix for bugs, security holes and data loss, should_fix for real problems worth fixing here, nit for style and small improvements. With nothing worth a comment, write the file with an empty comments list. {}\n",
        handover_instructions(parts.review_file)
    );
    prompt
}

/// Runs the review job for the merge request of this pipeline.
pub async fn review(
    assistant: Assistant,
    vars: &dyn Env,
    redactor: Arc<Redactor>,
) -> anyhow::Result<ReviewEnd> {
    let review_settings = ReviewSettings::from_env(vars)?;
    if review_settings.mode == Some(AutoReview::Off) {
        let reason = "AI_AUTO_REVIEW is off: no automatic review".to_owned();
        tracing::info!(%reason, "nothing to do");
        return Ok(ReviewEnd::Skipped { reason });
    }
    let gitlab = GitLab::new(ClientConfig::from_env(vars)?)?;
    let project = &review_settings.project;
    let iid = review_settings.merge_request;
    let me = gitlab
        .current_user()
        .await
        .context("reading the bot user (GET /user with GITLAB_TOKEN)")?;
    let mr = gitlab
        .merge_request(project, iid)
        .await
        .context("reading the merge request")?;
    let head = mr
        .diff_refs
        .as_ref()
        .map(|r| r.head_sha.clone())
        .or_else(|| mr.sha.clone())
        .context("GitLab reported no head commit for the merge request (no diff yet)")?;
    if let Some(reason) = review_settings.filtered_out(&mr.labels, &mr.author.username) {
        return Ok(nothing_to_review(reason));
    }
    let past = PastReviews::read(&gitlab, project, iid, assistant, me.id)
        .await
        .context("reading the bot's earlier review threads and summary")?;
    let plan = decide(
        review_settings.mode,
        mr.draft,
        past.summary.is_some(),
        past.reviewed_sha(),
        &head,
    );
    let since = match plan {
        Plan::Skip(reason) => {
            return Ok(nothing_to_review(reason));
        }
        Plan::Review { since } => since,
    };

    let settings = JobSettings::from_env(vars, assistant)?;
    let bot = BotIdentity {
        id: me.id,
        username: me.username.clone(),
    };
    let (workspace, target) = workspace::prepare(
        &settings,
        vars,
        &gitlab,
        project,
        workspace::Subject::MergeRequest(&mr),
        &bot,
    )
    .instrument(tracing::info_span!("workspace"))
    .await?;
    let git = workspace.git()?;
    // An incremental review needs the reviewed commit in the checkout and on the branch's
    // history; after a force push or rebase it is not, and the whole merge request is reviewed.
    let since = match since {
        Some(old) => {
            let known = git
                .succeeds(&["merge-base", "--is-ancestor", &old, "HEAD"])
                .await;
            if known {
                Some(old)
            } else {
                tracing::info!(reviewed = %old, "the reviewed commit is not in this branch's history (force push?): reviewing the whole merge request");
                None
            }
        }
        None => None,
    };
    // The path filters apply to automatic reviews only: someone who asks reviews everything.
    let filter = review_settings
        .mode
        .is_some()
        .then_some(&review_settings.paths)
        .filter(|f| !f.is_empty());
    let diff = match &since {
        Some(old) => {
            let range = format!("{old}..HEAD");
            let mut args: Vec<String> = ["diff", "--no-color", "--no-ext-diff"]
                .map(str::to_owned)
                .to_vec();
            if let Some(filter) = filter {
                // Each side of a rename is its own path here, and each kept path is passed as
                // a literal pathspec: a file named `*` is that file, not a glob.
                let names = git
                    .text(&["diff", "--no-renames", "--name-only", "-z", &range])
                    .await
                    .context("listing the files changed since the last review")?;
                let kept: Vec<&str> = names
                    .split('\0')
                    .filter(|p| !p.is_empty() && filter.keeps(p))
                    .collect();
                if kept.is_empty() {
                    let reason = format!(
                        "no file changed since the last review is one to review ({})",
                        filter.describe()
                    );
                    return Ok(nothing_to_review(reason));
                }
                args.extend(["--no-renames".to_owned(), range, "--".to_owned()]);
                args.extend(kept.iter().map(|p| format!(":(literal){p}")));
            } else {
                args.push(range);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            git.text(&args)
                .await
                .context("computing the diff since the last review")?
        }
        None => {
            let mut files = gitlab
                .merge_request_diffs(project, iid)
                .await
                .context("reading the merge request's diff")?;
            if let Some(filter) = filter {
                files.retain(|f| filter.keeps_change(&f.old_path, &f.new_path));
                if files.is_empty() {
                    let reason = format!(
                        "no changed file of the merge request is one to review ({})",
                        filter.describe()
                    );
                    return Ok(nothing_to_review(reason));
                }
            }
            whole_diff(&files)
        }
    };
    let lines = changed_lines(&diff);
    tracing::info!(lines, incremental = since.is_some(), "diff to review");
    if lines > review_settings.max_diff_lines {
        let text = format!(
            "Not reviewed automatically: the {} has {lines} changed lines, more than AI_REVIEW_MAX_DIFF_LINES ({}). Raise the limit (template input `review_max_diff_lines`) or ask for a review of the parts that matter with a @-mention.",
            if since.is_some() {
                "diff since the last review"
            } else {
                "merge request's diff"
            },
            review_settings.max_diff_lines
        );
        upsert_summary(&gitlab, project, iid, assistant, &past, &text, None)
            .await
            .context("posting why the merge request was not reviewed")?;
        return Ok(ReviewEnd::TooLarge { lines });
    }
    let rules = review_rules(&gitlab, project, &mr.target_branch).await;

    let sandbox_uid = settings.sandbox.settings.uid;
    let review_dir = ReviewDir::create(workspace.dir(), assistant, sandbox_uid)?;
    let review_file = review_file_in(review_dir.path());
    let text = prompt(&ReviewPrompt {
        iid,
        title: &mr.title,
        description: mr.description.as_deref().unwrap_or_default(),
        target_branch: &mr.target_branch,
        since: since.as_deref(),
        head: &head,
        diff: &diff,
        rules: rules.as_deref(),
        review_file: &review_file,
    }) + &target.configuration_note();
    let mut spec = RunSpec {
        prompt: text,
        ..settings.spec.clone()
    };
    if let Some(mcp) =
        crate::run::house::mcp_config_from_file_variable(vars, &gitlab, project).await?
    {
        spec.options.mcp = mcp;
    }
    let run = crate::agent::run::run(&spec, &settings.sandbox, |event| {
        log_event(event, &redactor);
    })
    .instrument(tracing::info_span!("assistant", %assistant))
    .await
    .with_context(|| format!("running {}", spec.program.display()))?;
    match &run.outcome {
        crate::agent::run::Outcome::Succeeded { .. } => {}
        crate::agent::run::Outcome::Failed { message } => anyhow::bail!(
            "{assistant} failed, so nothing was posted: {}",
            redactor.redact(message)
        ),
        crate::agent::run::Outcome::TimedOut { after } => anyhow::bail!(
            "{assistant} ran out of time after {}s, so nothing was posted: raise AI_TIMEOUT (template input ai_timeout) or lower AI_REVIEW_MAX_DIFF_LINES",
            after.as_secs()
        ),
        // Findings written before the limit stopped the run are still a review: post them.
        crate::agent::run::Outcome::LimitReached { limit, .. } if review_file.exists() => {
            tracing::warn!(
                limit = limit.variable(),
                "the review stopped at its limit; posting the findings it wrote"
            );
        }
        crate::agent::run::Outcome::LimitReached { limit, .. } => anyhow::bail!(
            "{assistant} stopped at its limit ({}) before writing the review, so nothing was posted: raise {} or lower AI_REVIEW_MAX_DIFF_LINES",
            limit.variable(),
            limit.variable()
        ),
    }
    written_by(&review_file, sandbox_uid)?;
    let review = read_review(&review_file)?;
    let published = publish_review(&gitlab, project, iid, assistant, &review, &redactor)
        .instrument(tracing::info_span!("publish"))
        .await
        .context("posting the review")?;
    tracing::info!(
        inline = published.inline,
        repeated = published.repeated,
        resolved = published.resolved,
        unplaced = published.unplaced.len(),
        note = %published.summary_note,
        "review posted"
    );
    Ok(ReviewEnd::Reviewed {
        inline: published.inline,
        resolved: published.resolved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "1111111111111111111111111111111111111111";
    const OLD: &str = "2222222222222222222222222222222222222222";

    #[test]
    fn drafts_wait_for_ready_and_once_means_once() {
        use AutoReview::*;
        assert!(matches!(
            decide(Some(Off), false, false, None, HEAD),
            Plan::Skip(_)
        ));
        assert!(matches!(
            decide(Some(Ready), true, false, None, HEAD),
            Plan::Skip(_)
        ));
        assert!(matches!(
            decide(Some(EveryPush), true, true, Some(OLD), HEAD),
            Plan::Skip(_)
        ));
        assert_eq!(
            decide(Some(Opened), true, false, None, HEAD),
            Plan::Review { since: None }
        );
        assert!(matches!(
            decide(Some(Opened), false, true, Some(OLD), HEAD),
            Plan::Skip(_)
        ));
        assert!(matches!(
            decide(Some(Ready), false, true, None, HEAD),
            Plan::Skip(_)
        ));
        assert_eq!(
            decide(Some(EveryPush), false, true, Some(OLD), HEAD),
            Plan::Review {
                since: Some(OLD.into())
            }
        );
        assert!(matches!(
            decide(Some(EveryPush), false, true, Some(HEAD), HEAD),
            Plan::Skip(_)
        ));
        // Run by hand: drafts too, incremental all the same.
        assert_eq!(
            decide(None, true, true, Some(OLD), HEAD),
            Plan::Review {
                since: Some(OLD.into())
            }
        );
    }

    #[test]
    fn settings_name_the_variable_and_what_to_do() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            ReviewSettings::from_env(&env(&[("CI_PROJECT_ID", "7")])),
            Err(ReviewSettingsError::NoMergeRequest)
        );
        let settings = ReviewSettings::from_env(&env(&[
            ("CI_PROJECT_ID", "7"),
            ("CI_MERGE_REQUEST_IID", "3"),
            ("AI_AUTO_REVIEW", "every_push"),
            ("AI_REVIEW_MAX_DIFF_LINES", "40"),
        ]))
        .unwrap();
        assert_eq!(settings.mode, Some(AutoReview::EveryPush));
        assert_eq!(settings.max_diff_lines, 40);
        let wrong = ReviewSettings::from_env(&env(&[
            ("CI_PROJECT_ID", "7"),
            ("CI_MERGE_REQUEST_IID", "3"),
            ("AI_AUTO_REVIEW", "always"),
        ]))
        .unwrap_err();
        assert!(
            wrong.to_string().contains("AI_AUTO_REVIEW is \"always\""),
            "{wrong}"
        );
        assert!(
            ReviewSettings::from_env(&env(&[
                ("CI_PROJECT_ID", "7"),
                ("CI_MERGE_REQUEST_IID", "3"),
                ("AI_REVIEW_MAX_DIFF_LINES", "0"),
            ]))
            .is_err()
        );
    }

    #[test]
    fn labels_and_authors_filter_automatic_reviews_only() {
        let vars = |mode: Option<&'static str>| {
            move |name: &str| match name {
                "CI_PROJECT_ID" => Some("7".to_owned()),
                "CI_MERGE_REQUEST_IID" => Some("3".to_owned()),
                "AI_AUTO_REVIEW" => mode.map(str::to_owned),
                "AI_REVIEW_SKIP_LABELS" => Some(" ~no-ai-review, ,wip ".to_owned()),
                "AI_REVIEW_SKIP_AUTHORS" => Some("@renovate-bot".to_owned()),
                _ => None,
            }
        };
        let settings = ReviewSettings::from_env(&vars(Some("every_push"))).unwrap();
        assert_eq!(settings.skip_labels, ["no-ai-review", "wip"]);
        let labels = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(
            settings
                .filtered_out(&labels(&["backend", "No-AI-Review"]), "dana")
                .is_some_and(|r| r.contains("AI_REVIEW_SKIP_LABELS"))
        );
        assert!(
            settings
                .filtered_out(&labels(&[]), "Renovate-Bot")
                .is_some_and(|r| r.contains("AI_REVIEW_SKIP_AUTHORS"))
        );
        assert_eq!(settings.filtered_out(&labels(&["backend"]), "dana"), None);
        let by_hand = ReviewSettings::from_env(&vars(None)).unwrap();
        assert_eq!(
            by_hand.filtered_out(&labels(&["wip"]), "renovate-bot"),
            None
        );
    }

    #[test]
    fn changed_lines_skip_file_headers() {
        let diff = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n+d\n";
        assert_eq!(changed_lines(diff), 3);
    }

    #[test]
    fn an_incremental_prompt_names_both_commits_and_the_rules() {
        let file = std::path::Path::new("/tmp/r/ai-review.json");
        let text = prompt(&ReviewPrompt {
            iid: MergeRequestIid(4),
            title: "Parser",
            description: "Adds a parser.",
            target_branch: "main",
            since: Some(OLD),
            head: HEAD,
            diff: "+x\n",
            rules: Some("Flag every unwrap."),
            review_file: file,
        });
        assert!(text.contains(&format!("{OLD}..{HEAD}")), "{text}");
        assert!(text.contains("Flag every unwrap."));
        assert!(text.contains("/tmp/r/ai-review.json"));
        assert!(text.contains("```diff\n+x\n"));
    }
}
