//! A review's hand-over: the assistant writes its findings as JSON to a file outside the
//! repository, and we post each finding as a thread on the right diff line, with an
//! applicable suggestion when it proposes replacement text.
//!
//! Positions are checked against the merge request's diff before posting, because GitLab
//! rejects (400) or silently misplaces comments on lines that are not in the diff. A `new`-side
//! comment must sit on an added or unchanged line, an `old`-side one on a removed or unchanged
//! line, and unchanged lines need both line numbers
//! (<https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff>).
//! Findings that cannot be placed, or that GitLab refuses, are not lost: they are listed in the
//! summary as `file:line — text`.
//!
//! What a review reads besides the diff lives here too, below both flows that review (the review
//! job, [`crate::review`], and a mention's run, [`crate::run`]): the instructions for the hand-over
//! file ([`handover_instructions`]) and the target branch's `REVIEW.md` ([`review_rules`]).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::text::{NOTE_LIMIT_CHARS, defuse_markers, fence_for, inline_code, truncate};
use crate::agent::Assistant;
use crate::gitlab::diff_position::{DiffPosition, PositionType};
use crate::gitlab::discussions::Discussion;
use crate::gitlab::draft_notes::NewDraftNote;
use crate::gitlab::ids::{DiscussionId, MergeRequestIid, NoteId, Noteable, ProjectRef, UserId};
use crate::gitlab::merge_request_diffs::FileDiff;
use crate::gitlab::merge_requests::DiffRefs;
use crate::gitlab::notes::{NewNote, Note};
use crate::gitlab::{GitLab, GitLabError};
use crate::marker::{
    NoteRole, finding_line, finding_of, line_key_line, line_key_of, marker, reviewed_line,
    reviewed_of,
};
use crate::quick_action::Inert;
use crate::redact::Redactor;

/// The file name the assistant is told to write.
pub(crate) const REVIEW_FILE_NAME: &str = "ai-review.json";

/// GitLab applies at most this many lines below the commented one
/// (<https://docs.gitlab.com/user/project/merge_requests/reviews/suggestions/#multi-line-suggestions>).
pub(crate) const MAX_SUGGESTION_LINES_BELOW: u32 = 100;

/// Longest replacement text repeated in the summary for a comment that could not be placed.
const LISTED_SUGGESTION_CHARS: usize = 5_000;

/// Which side of the diff a comment is on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The merge request's version: added or unchanged lines.
    #[default]
    New,
    /// The target branch's version: removed or unchanged lines.
    Old,
}

/// How much a finding matters. Three levels, as Anthropic's managed Code Review and most human
/// review guides use them, named by what the author should do rather than by priority numbers
/// (P0–P2 read differently from team to team); documented in `docs/review.md`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A bug, a security hole, data loss: the merge request should not merge as it is.
    MustFix,
    /// A real problem worth fixing in this merge request (the default when the assistant
    /// gives none).
    #[default]
    ShouldFix,
    /// Style, naming, a small improvement: take it or leave it.
    Nit,
}

impl Severity {
    /// Every level, most serious first (the order of the summary's counts).
    pub const ALL: [Severity; 3] = [Severity::MustFix, Severity::ShouldFix, Severity::Nit];

    /// The label a thread starts with and the summary counts by.
    pub fn label(self) -> &'static str {
        match self {
            Severity::MustFix => "🔴 must fix",
            Severity::ShouldFix => "🟡 should fix",
            Severity::Nit => "⚪ nit",
        }
    }
}

/// What the assistant writes: a summary and line comments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// The overall verdict, in Markdown.
    pub summary: String,
    #[serde(default)]
    pub comments: Vec<ReviewComment>,
}

/// One finding on one line (or, with a suggestion, a range of lines).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewComment {
    /// The file's path in the repository (the new path for renamed files on the new side).
    pub path: String,
    /// The line number on `side`.
    pub line: u32,
    #[serde(default)]
    pub side: Side,
    /// The comment, in Markdown.
    pub body: String,
    /// How much it matters.
    #[serde(default)]
    pub severity: Severity,
    /// Replacement text for lines `line..=end_line` of the new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The last line the suggestion replaces; `line` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
}

/// The JSON Schema (draft 2020-12) of [`Review`], given to the assistant with the task.
pub(crate) fn json_schema() -> serde_json::Value {
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Merge request review",
        "type": "object",
        "additionalProperties": false,
        "required": ["summary"],
        "properties": {
            "summary": {"type": "string", "description": "Overall verdict in Markdown."},
            "comments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["path", "line", "body", "severity"],
                    "properties": {
                        "path": {"type": "string", "description": "File path in the repository."},
                        "line": {"type": "integer", "minimum": 1, "description": "Line number on the chosen side of the diff; must be a line shown in the merge request diff."},
                        "side": {"enum": ["new", "old"], "default": "new", "description": "new: added or unchanged line of the new version; old: removed line of the old version."},
                        "body": {"type": "string", "description": "The comment in Markdown."},
                        "severity": {"enum": ["must_fix", "should_fix", "nit"], "description": "must_fix: a bug, security hole or data loss that blocks merging; should_fix: a real problem worth fixing in this merge request; nit: style or a small improvement."},
                        "suggestion": {"type": "string", "description": "Replacement text for lines line..end_line of the new version (new side only)."},
                        "end_line": {"type": "integer", "minimum": 1, "description": "Last line replaced by the suggestion; defaults to line."}
                    }
                }
            }
        }
    })
}

/// Where the assistant writes its review: a file in `dir`, which must be outside the
/// repository so the file is never committed or read as part of the project.
pub fn review_file_in(dir: &Path) -> PathBuf {
    dir.join(REVIEW_FILE_NAME)
}

/// The paragraph for the prompt that tells the assistant how to hand its review over.
pub(crate) fn handover_instructions(file: &Path) -> String {
    let schema = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    format!(
        "When the review is done, write it as JSON to {} following this JSON Schema. Comment only on lines that appear in the merge request diff (added, removed or unchanged context lines); use \"suggestion\" only for new-side lines, with the full replacement text for lines line..end_line.\n\n```json\n{schema}\n```",
        file.display()
    )
}

/// The review file could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReviewFileError {
    #[error("the assistant did not write its review to {}", .0.display())]
    Missing(PathBuf),
    #[error("could not read the review in {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the review in {} is not valid: {source}", .path.display())]
    Invalid {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// Reads and parses the review the assistant wrote.
pub(crate) fn read_review(path: &Path) -> Result<Review, ReviewFileError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReviewFileError::Missing(path.to_owned()));
        }
        Err(source) => {
            return Err(ReviewFileError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_str(&text).map_err(|source| ReviewFileError::Invalid {
        path: path.to_owned(),
        source,
    })
}

/// The lines one file's diff shows, with their numbers on both sides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DiffLines {
    /// New-side line → its old-side number when the line is unchanged context.
    by_new: BTreeMap<u32, Option<u32>>,
    /// Old-side line → its new-side number when the line is unchanged context.
    by_old: BTreeMap<u32, Option<u32>>,
    /// New-side line → its text (without the diff's leading `+` or space).
    new_text: BTreeMap<u32, String>,
    /// Old-side line → its text (without the diff's leading `-` or space).
    old_text: BTreeMap<u32, String>,
}

impl DiffLines {
    /// Reads a unified diff's hunks (`@@ -a,b +c,d @@` and the lines after them); file headers
    /// and `\ No newline at end of file` markers are skipped.
    pub(crate) fn parse(diff: &str) -> Self {
        let mut lines = Self::default();
        let mut cursor: Option<(u32, u32)> = None;
        for line in diff.lines() {
            if line.starts_with("@@") {
                cursor = hunk_start(line);
                continue;
            }
            let Some((old, new)) = cursor.as_mut() else {
                continue;
            };
            match line.as_bytes().first() {
                Some(b'+') => {
                    lines.by_new.insert(*new, None);
                    lines.new_text.insert(*new, line[1..].to_owned());
                    *new += 1;
                }
                Some(b'-') => {
                    lines.by_old.insert(*old, None);
                    lines.old_text.insert(*old, line[1..].to_owned());
                    *old += 1;
                }
                Some(b'\\') => {}
                // A context line; an empty line is context whose leading space was trimmed.
                Some(b' ') | None => {
                    let text = line.get(1..).unwrap_or_default().to_owned();
                    lines.by_new.insert(*new, Some(*old));
                    lines.by_old.insert(*old, Some(*new));
                    lines.new_text.insert(*new, text.clone());
                    lines.old_text.insert(*old, text);
                    *old += 1;
                    *new += 1;
                }
                Some(_) => cursor = None,
            }
        }
        lines
    }

    /// `(old_line, new_line)` for a comment on `line` of `side`, when the diff shows it.
    pub(crate) fn locate(&self, side: Side, line: u32) -> Option<(Option<u32>, Option<u32>)> {
        match side {
            Side::New => self.by_new.get(&line).map(|old| (*old, Some(line))),
            Side::Old => self.by_old.get(&line).map(|new| (Some(line), *new)),
        }
    }

    /// The text of `line` on `side`, when the diff shows it.
    pub(crate) fn text(&self, side: Side, line: u32) -> Option<&str> {
        match side {
            Side::New => self.new_text.get(&line),
            Side::Old => self.old_text.get(&line),
        }
        .map(String::as_str)
    }

    /// True when every new-side line from `first` to `last` is in the diff, so a suggestion
    /// over them replaces what the reviewer saw.
    fn shows_new_range(&self, first: u32, last: u32) -> bool {
        (first..=last).all(|line| self.by_new.contains_key(&line))
    }
}

/// `@@ -12,7 +12,8 @@ fn x` → the first old and new line numbers.
fn hunk_start(header: &str) -> Option<(u32, u32)> {
    let mut parts = header.split_whitespace().skip(1);
    let number = |part: Option<&str>, sign: char| -> Option<u32> {
        let part = part?.strip_prefix(sign)?;
        part.split(',').next()?.parse().ok()
    };
    let old = number(parts.next(), '-')?;
    let new = number(parts.next(), '+')?;
    // A side with no lines (`-0,0`) starts before line 1; its counter is never used.
    Some((old.max(1), new.max(1)))
}

/// A comment that will be posted on a diff line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Placed {
    pub comment: ReviewComment,
    pub position: DiffPosition,
    /// The thread body (before redaction).
    pub body: String,
    /// What identifies the finding across reviews ([`fingerprint`]).
    pub fingerprint: String,
}

/// A comment that could not go on its line, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unplaced {
    pub comment: ReviewComment,
    pub reason: String,
}

/// Identifies a finding across reviews: the file, the text of the commented line (not its
/// number, which moves when lines are added above it; a changed line makes a new finding) and
/// the comment's words, lowercased, without punctuation or spacing. 16 hex digits of SHA-256.
pub fn fingerprint(path: &str, line_text: &str, body: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let words: Vec<String> = body
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut hasher = Sha256::new();
    for part in [path, line_text.trim(), &words.join(" ")] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Identifies the text of one line of a file, wherever it moves: 16 hex digits of SHA-256 of
/// the path and the trimmed text. A finding's thread carries it so that a later review can tell
/// whether a push changed the line.
pub(crate) fn line_key(path: &str, line_text: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(line_text.trim().as_bytes());
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Decides where each comment goes, without calling GitLab.
pub(crate) fn place_comments(
    assistant: Assistant,
    review: &Review,
    diffs: &[FileDiff],
    refs: Option<&DiffRefs>,
) -> (Vec<Placed>, Vec<Unplaced>) {
    let parsed: Vec<(&FileDiff, DiffLines)> = diffs
        .iter()
        .map(|file| (file, DiffLines::parse(&file.diff)))
        .collect();
    let mut placed = Vec::new();
    let mut unplaced = Vec::new();
    for comment in &review.comments {
        match place(assistant, comment, &parsed, refs) {
            Ok(p) => placed.push(p),
            Err(reason) => unplaced.push(Unplaced {
                comment: comment.clone(),
                reason,
            }),
        }
    }
    (placed, unplaced)
}

fn place(
    assistant: Assistant,
    comment: &ReviewComment,
    files: &[(&FileDiff, DiffLines)],
    refs: Option<&DiffRefs>,
) -> Result<Placed, String> {
    let refs = refs.ok_or("the merge request has no diff yet")?;
    if comment.body.trim().is_empty() && comment.suggestion.is_none() {
        return Err("the comment is empty".into());
    }
    let path = comment.path.trim().trim_start_matches("./");
    let (file, lines) = files
        .iter()
        .find(|(file, _)| match comment.side {
            Side::New => file.new_path == path,
            Side::Old => file.old_path == path,
        })
        .or_else(|| {
            files
                .iter()
                .find(|(file, _)| file.new_path == path || file.old_path == path)
        })
        .ok_or("the file is not changed by this merge request")?;
    let (old_line, new_line) = lines.locate(comment.side, comment.line).ok_or_else(|| {
        if file.diff.trim().is_empty() && (file.too_large || file.collapsed) {
            "GitLab does not show this file's diff (too large)".to_owned()
        } else {
            format!("line {} is not in the diff", comment.line)
        }
    })?;
    let line_text = lines.text(comment.side, comment.line).unwrap_or_default();
    let fingerprint = fingerprint(path, line_text, &comment.body);

    let mut body = format!(
        "**{}** · {}",
        comment.severity.label(),
        defuse_markers(comment.body.trim())
    );
    if let Some(replacement) = &comment.suggestion {
        let end = comment.end_line.unwrap_or(comment.line);
        let below = end.checked_sub(comment.line);
        let usable = comment.side == Side::New
            && below.is_some_and(|b| b <= MAX_SUGGESTION_LINES_BELOW)
            && lines.shows_new_range(comment.line, end);
        let replacement = replacement.strip_suffix('\n').unwrap_or(replacement);
        let fence = fence_for(replacement);
        if usable {
            let below = below.unwrap_or(0);
            let _ = write!(
                body,
                "\n\n{fence}suggestion:-0+{below}\n{replacement}\n{fence}"
            );
        } else {
            // Not applicable as a suggestion (old side, or lines outside the diff): still
            // worth showing.
            let _ = write!(
                body,
                "\n\nSuggested replacement:\n\n{fence}\n{replacement}\n{fence}"
            );
        }
    }
    // Cutting the comment could cut a suggestion, which would then apply half a change.
    if body.chars().count() > NOTE_LIMIT_CHARS - 1000 {
        return Err("the comment is too long for a GitLab note".into());
    }
    body.push_str("\n\n");
    body.push_str(&finding_line(&fingerprint));
    body.push('\n');
    if comment.side == Side::New {
        body.push_str(&line_key_line(&line_key(&file.new_path, line_text)));
        body.push('\n');
    }
    body.push_str(&marker(assistant, NoteRole::Finding));

    Ok(Placed {
        comment: comment.clone(),
        position: DiffPosition {
            position_type: PositionType::Text,
            base_sha: refs.base_sha.clone(),
            start_sha: refs.start_sha.clone(),
            head_sha: refs.head_sha.clone(),
            old_path: file.old_path.clone(),
            new_path: file.new_path.clone(),
            old_line,
            new_line,
            line_range: None,
        },
        body,
        fingerprint,
    })
}

/// Findings counted by severity, most serious first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeverityCounts([usize; 3]);

impl SeverityCounts {
    fn add(&mut self, severity: Severity) {
        if let Some(slot) = Severity::ALL
            .iter()
            .position(|s| *s == severity)
            .and_then(|i| self.0.get_mut(i))
        {
            *slot += 1;
        }
    }

    /// How many findings of `severity`.
    pub fn of(&self, severity: Severity) -> usize {
        Severity::ALL
            .iter()
            .position(|s| *s == severity)
            .and_then(|i| self.0.get(i).copied())
            .unwrap_or(0)
    }

    /// All findings.
    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }
}

/// What [`publish_review`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewPublished {
    /// New findings posted as diff threads.
    pub inline: usize,
    /// Findings left out because one of the bot's threads already holds them (same file, same
    /// line text, same words).
    pub repeated: usize,
    /// The bot's open threads answered "addressed in `<sha>`" and resolved: a push changed
    /// their line and this review no longer reports them.
    pub resolved: usize,
    /// Comments listed in the summary instead.
    pub unplaced: Vec<Unplaced>,
    /// The new findings (inline and listed) by severity.
    pub counts: SeverityCounts,
    /// The head commit the review covered, recorded in the summary note.
    pub head_sha: Option<String>,
    /// The summary's Markdown (verdict, counts, unplaced findings), as posted in the review
    /// summary note.
    pub summary: String,
    /// The merge request's one review summary note, created or updated in place.
    pub summary_note: NoteId,
    /// The summary note's address (`<merge request URL>#note_<id>`).
    pub summary_url: String,
}

impl ReviewPublished {
    /// The short answer for a `@claude review` mention: the counts and where the summary is
    /// (the summary note is the one place the full summary lives, whoever asked for the review).
    pub fn answer(&self) -> String {
        let commit = self
            .head_sha
            .as_deref()
            .map(|sha| format!(" of {}", inline_code(sha.get(..8).unwrap_or(sha))))
            .unwrap_or_default();
        let findings = if self.counts.total() == 0 {
            "no new findings".to_owned()
        } else {
            Severity::ALL
                .iter()
                .map(|s| format!("{} {}", self.counts.of(*s), s.label()))
                .collect::<Vec<_>>()
                .join(" · ")
        };
        format!(
            "Review{commit} done: {findings}. The summary is in [the review note]({}).",
            self.summary_url
        )
    }
}

/// The bot's review threads on a merge request and its summary note, read once per review.
pub(crate) struct PastReviews {
    /// The bot's threads that carry a finding fingerprint.
    pub threads: Vec<Discussion>,
    /// The bot's review summary note for this assistant, if one exists.
    pub summary: Option<Note>,
}

impl PastReviews {
    /// Reads what the bot (`bot`, the token's user) posted: only its own notes count, so a
    /// person cannot plant a marker that hides a finding or moves the reviewed commit.
    pub(crate) async fn read(
        gitlab: &GitLab,
        project: &ProjectRef,
        merge_request: MergeRequestIid,
        assistant: Assistant,
        bot: UserId,
    ) -> Result<Self, GitLabError> {
        // Standalone notes come as one-note discussions: one listing finds both.
        let all = gitlab
            .discussions(project, Noteable::MergeRequest(merge_request))
            .await?;
        let summary_mark = marker(assistant, NoteRole::ReviewSummary);
        let summary = all
            .iter()
            .flat_map(|d| d.notes.iter())
            .filter(|n| n.author.id == bot && !n.system && n.body.contains(&summary_mark))
            .min_by_key(|n| n.id)
            .cloned();
        let threads = all
            .into_iter()
            .filter(|d| {
                d.notes
                    .first()
                    .is_some_and(|n| n.author.id == bot && finding_of(&n.body).is_some())
            })
            .collect();
        Ok(Self { threads, summary })
    }

    /// The head commit the last review covered, from the summary note.
    pub(crate) fn reviewed_sha(&self) -> Option<&str> {
        self.summary.as_ref().and_then(|n| reviewed_of(&n.body))
    }

    /// Fingerprints of every finding already posted.
    pub(crate) fn fingerprints(&self) -> HashSet<&str> {
        self.threads
            .iter()
            .filter_map(|d| d.notes.first())
            .filter_map(|n| finding_of(&n.body))
            .collect()
    }
}

/// Posts the review on merge request `merge_request` as one GitLab review: every new placeable
/// finding becomes a draft note, and one `bulk_publish` turns them into threads with a single
/// notification. Findings one of the bot's threads already holds are not posted again. The
/// others, any GitLab refuses, and any it drops on publish (a draft on a line GitLab cannot
/// find vanishes without an error) are listed in the summary. The summary then replaces the
/// merge request's one review summary note (or starts it), recording the head commit reviewed.
/// Only failing to read the merge request, its diff or its threads, or to publish, is an error.
pub async fn publish_review(
    gitlab: &GitLab,
    project: &ProjectRef,
    merge_request: MergeRequestIid,
    assistant: Assistant,
    review: &Review,
    redactor: &Redactor,
) -> Result<ReviewPublished, GitLabError> {
    let bot = gitlab.current_user().await?.id;
    let mr = gitlab.merge_request(project, merge_request).await?;
    let diffs = gitlab.merge_request_diffs(project, merge_request).await?;
    let past = PastReviews::read(gitlab, project, merge_request, assistant, bot).await?;
    let (placed, mut unplaced) = place_comments(assistant, review, &diffs, mr.diff_refs.as_ref());
    let known = past.fingerprints();
    let reported: HashSet<String> = placed.iter().map(|p| p.fingerprint.clone()).collect();
    let head_sha = mr.diff_refs.as_ref().map(|r| r.head_sha.clone());
    let addressed = match &head_sha {
        Some(_) => addressed_threads(&past, bot, &reported, &diffs),
        None => Vec::new(),
    };
    let (repeated, fresh): (Vec<Placed>, Vec<Placed>) = placed
        .into_iter()
        .partition(|p| known.contains(p.fingerprint.as_str()));
    let mut counts = SeverityCounts::default();
    for c in fresh
        .iter()
        .map(|p| &p.comment)
        .chain(unplaced.iter().map(|u| &u.comment))
    {
        counts.add(c.severity);
    }

    discard_leftover_drafts(gitlab, project, merge_request, assistant).await;
    let mut drafted = Vec::new();
    for p in fresh {
        let draft =
            NewDraftNote::on_line(Inert::new(&redactor.redact(&p.body)), p.position.clone());
        match gitlab
            .create_draft_note(project, merge_request, &draft)
            .await
        {
            Ok(_) => drafted.push(p),
            Err(error) => {
                tracing::warn!(path = %p.comment.path, line = p.comment.line, %error, "GitLab refused a line comment; it goes into the summary");
                unplaced.push(refused(p.comment, &error));
            }
        }
    }
    let mut resolved = 0;
    if let Some(sha) = &head_sha {
        let short = sha.get(..8).unwrap_or(sha);
        for thread in addressed {
            let reply = NewDraftNote::reply(
                Inert::new(&format!(
                    "Addressed in `{short}`.\n\n{}",
                    marker(assistant, NoteRole::Finding)
                )),
                thread.clone(),
                true,
            );
            match gitlab
                .create_draft_note(project, merge_request, &reply)
                .await
            {
                Ok(_) => resolved += 1,
                Err(error) => {
                    tracing::warn!(%error, thread = %thread, "could not draft the reply that resolves an addressed thread");
                }
            }
        }
    }
    let mut inline = 0;
    if !drafted.is_empty() || resolved > 0 {
        gitlab
            .bulk_publish_draft_notes(project, merge_request)
            .await?;
        let landed = PastReviews::read(gitlab, project, merge_request, assistant, bot).await?;
        let landed = landed.fingerprints();
        for p in drafted {
            if landed.contains(p.fingerprint.as_str()) {
                inline += 1;
            } else {
                tracing::warn!(path = %p.comment.path, line = p.comment.line, "GitLab dropped a line comment on publish; it goes into the summary");
                unplaced.push(Unplaced {
                    comment: p.comment,
                    reason: "GitLab did not keep it on its line".into(),
                });
            }
        }
    }
    let mut summary = summary_markdown(review, inline, &unplaced, &counts);
    if resolved > 0 {
        let s = if resolved == 1 { "" } else { "s" };
        let _ = write!(
            summary,
            "\n\n{resolved} earlier finding{s} addressed by the latest commits: resolved."
        );
    }
    let summary = redactor.redact(&summary);
    let summary_note = upsert_summary(
        gitlab,
        project,
        merge_request,
        assistant,
        &past,
        &summary,
        head_sha.as_deref(),
    )
    .await?;
    Ok(ReviewPublished {
        inline,
        repeated: repeated.len(),
        resolved,
        unplaced,
        counts,
        head_sha,
        summary,
        summary_url: format!("{}#note_{summary_note}", mr.web_url),
        summary_note,
    })
}

/// The bot's open finding threads that a push addressed: nobody but the bot wrote in them (a
/// thread a person replied to stays for that person), this review does not report the finding
/// again, and the commented line's text no longer appears on the new side of the file's diff.
pub(crate) fn addressed_threads(
    past: &PastReviews,
    bot: UserId,
    reported: &HashSet<String>,
    diffs: &[FileDiff],
) -> Vec<DiscussionId> {
    let current: Vec<(&str, HashSet<String>)> = diffs
        .iter()
        .map(|file| {
            let lines = DiffLines::parse(&file.diff);
            let keys = lines
                .new_text
                .values()
                .map(|text| line_key(&file.new_path, text))
                .collect();
            (file.new_path.as_str(), keys)
        })
        .collect();
    past.threads
        .iter()
        .filter(|thread| !thread.is_resolved())
        .filter(|thread| thread.notes.iter().all(|n| n.author.id == bot))
        .filter_map(|thread| {
            let first = thread.notes.first()?;
            let fingerprint = finding_of(&first.body)?;
            let key = line_key_of(&first.body)?;
            let path = &first.position.as_ref()?.new_path;
            let still_there = current
                .iter()
                .any(|(p, keys)| p == path && keys.contains(key));
            (!reported.contains(fingerprint) && !still_there).then(|| thread.id.clone())
        })
        .collect()
}

fn refused(comment: ReviewComment, error: &GitLabError) -> Unplaced {
    Unplaced {
        comment,
        reason: match error.api_message() {
            Some(message) => format!("GitLab refused it: {message}"),
            None => "GitLab could not be reached".into(),
        },
    }
}

/// Deletes the bot's pending drafts that carry this assistant's finding marker: a review that
/// died between drafting and publishing left them, and `bulk_publish` would publish them with
/// this review. The other assistant's drafts are left alone (both may share one bot user, and
/// its review may be drafting right now). Best effort: a draft that stays is published, which is
/// what it was drafted for.
async fn discard_leftover_drafts(
    gitlab: &GitLab,
    project: &ProjectRef,
    merge_request: MergeRequestIid,
    assistant: Assistant,
) {
    let ours = marker(assistant, NoteRole::Finding);
    let drafts = match gitlab.draft_notes(project, merge_request).await {
        Ok(drafts) => drafts,
        Err(error) => {
            tracing::warn!(%error, "could not list the bot's pending draft notes");
            return;
        }
    };
    for draft in drafts.iter().filter(|d| d.note.contains(&ours)) {
        if let Err(error) = gitlab
            .delete_draft_note(project, merge_request, draft.id)
            .await
        {
            tracing::warn!(%error, draft = draft.id, "could not delete a draft note left by an earlier review");
        }
    }
}

/// Writes the summary into the merge request's one review summary note, or posts it.
pub(crate) async fn upsert_summary(
    gitlab: &GitLab,
    project: &ProjectRef,
    merge_request: MergeRequestIid,
    assistant: Assistant,
    past: &PastReviews,
    summary: &str,
    head_sha: Option<&str>,
) -> Result<NoteId, GitLabError> {
    let mut body = summary.to_owned();
    body.push_str("\n\n");
    if let Some(sha) = head_sha {
        body.push_str(&reviewed_line(sha));
        body.push('\n');
    }
    body.push_str(&marker(assistant, NoteRole::ReviewSummary));
    let body = Inert::new(&body);
    let noteable = Noteable::MergeRequest(merge_request);
    if let Some(note) = &past.summary {
        match gitlab.update_note(project, noteable, note.id, &body).await {
            Ok(updated) => return Ok(updated.id),
            Err(error) if error.is_not_found() => {
                tracing::warn!(note = %note.id, "the review summary note is gone; posting a new one");
            }
            Err(error) => return Err(error),
        }
    }
    let note = gitlab
        .create_note(
            project,
            noteable,
            &NewNote {
                body,
                internal: false,
            },
        )
        .await?;
    Ok(note.id)
}

/// The summary note: the verdict, the new findings by severity, how many are on the diff, and
/// the findings that could not be placed as `path:line — body`. With no new finding at all it
/// says so in one line after the verdict.
pub(crate) fn summary_markdown(
    review: &Review,
    inline: usize,
    unplaced: &[Unplaced],
    counts: &SeverityCounts,
) -> String {
    let mut out = defuse_markers(review.summary.trim());
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    if counts.total() == 0 {
        out.push_str("No new findings.");
        return out;
    }
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .map(|s| format!("{} {}", counts.of(*s), s.label()))
        .collect();
    let _ = write!(out, "**Findings:** {}", by_severity.join(" · "));
    if inline > 0 {
        let s = if inline == 1 { "" } else { "s" };
        let _ = write!(out, "\n\n{inline} comment{s} on the diff.");
    }
    if !unplaced.is_empty() {
        out.push_str("\n\nComments that could not be placed on a diff line:\n");
        for u in unplaced {
            let c = &u.comment;
            let side = match c.side {
                Side::New => "",
                Side::Old => " (old)",
            };
            let body = defuse_markers(c.body.trim()).replace('\n', " ");
            let _ = write!(
                out,
                "\n- {}{side} **{}** — {body}",
                inline_code(&format!("{}:{}", c.path, c.line)),
                c.severity.label()
            );
            if let Some(replacement) = &c.suggestion {
                let replacement = &truncate(
                    replacement,
                    LISTED_SUGGESTION_CHARS,
                    "(cut: the full replacement is in the job log)",
                );
                let fence = fence_for(replacement);
                let indented: String =
                    format!("{fence}\n{}\n{fence}", replacement.trim_end_matches('\n'))
                        .lines()
                        .map(|l| format!("  {l}\n"))
                        .collect();
                let _ = write!(
                    out,
                    "\n\n  Suggested replacement:\n\n{}",
                    indented.trim_end()
                );
            }
            let _ = write!(out, " <sub>({})</sub>", u.reason);
        }
    }
    out
}

/// Longest `REVIEW.md` put into the prompt.
const REVIEW_RULES_CHARS: usize = 20_000;

/// `REVIEW.md` at the root of `target_branch`: guidance for reviews only, read from the branch
/// the merge request goes into (never from the branch under review, whose author controls it).
/// A file that cannot be read is left out with a warning: a review without it is still worth
/// having.
pub(crate) async fn review_rules(
    gitlab: &GitLab,
    project: &ProjectRef,
    target_branch: &str,
) -> Option<String> {
    match gitlab.file_text(project, "REVIEW.md", target_branch).await {
        Ok(Some(Ok(text))) => Some(text),
        Ok(None) => None,
        Ok(Some(Err(error))) => {
            tracing::warn!(%error, "REVIEW.md of the target branch could not be read; reviewing without it");
            None
        }
        Err(error) => {
            tracing::warn!(%error, "REVIEW.md of the target branch could not be read; reviewing without it");
            None
        }
    }
}

/// The prompt section holding `REVIEW.md`, cut to a size that leaves room for the diff.
pub(crate) fn rules_section(rules: &str) -> String {
    format!(
        "\n## Review rules (REVIEW.md of the target branch)\n\n{}\n",
        truncate(rules.trim(), REVIEW_RULES_CHARS, "(REVIEW.md cut)")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "@@ -1,4 +1,5 @@\n fn main() {\n-    old();\n+    new();\n+    more();\n     done();\n }\n@@ -10,2 +11,2 @@ impl X\n a\n-b\n+c\n";

    fn file() -> FileDiff {
        FileDiff {
            old_path: "src/main.rs".into(),
            new_path: "src/main.rs".into(),
            a_mode: "100644".into(),
            b_mode: "100644".into(),
            diff: DIFF.into(),
            new_file: false,
            renamed_file: false,
            deleted_file: false,
            generated_file: false,
            collapsed: false,
            too_large: false,
        }
    }

    fn refs() -> DiffRefs {
        DiffRefs {
            base_sha: "b".repeat(40),
            head_sha: "h".repeat(40),
            start_sha: "s".repeat(40),
        }
    }

    fn comment(line: u32, side: Side) -> ReviewComment {
        ReviewComment {
            path: "src/main.rs".into(),
            line,
            side,
            body: "Look here".into(),
            severity: Severity::ShouldFix,
            suggestion: None,
            end_line: None,
        }
    }

    #[test]
    fn hunks_give_both_line_numbers_of_context_lines() {
        let lines = DiffLines::parse(DIFF);
        assert_eq!(lines.locate(Side::New, 1), Some((Some(1), Some(1))));
        assert_eq!(lines.locate(Side::New, 2), Some((None, Some(2))));
        assert_eq!(lines.locate(Side::New, 3), Some((None, Some(3))));
        assert_eq!(lines.locate(Side::New, 4), Some((Some(3), Some(4))));
        assert_eq!(lines.locate(Side::Old, 2), Some((Some(2), None)));
        assert_eq!(lines.locate(Side::Old, 11), Some((Some(11), None)));
        assert_eq!(lines.locate(Side::New, 12), Some((None, Some(12))));
        assert_eq!(lines.locate(Side::New, 11), Some((Some(10), Some(11))));
        assert_eq!(lines.locate(Side::New, 7), None);
        assert_eq!(hunk_start("@@ -0,0 +1 @@"), Some((1, 1)));
    }

    #[test]
    fn headers_and_end_of_file_markers_are_not_lines() {
        let diff = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n";
        let lines = DiffLines::parse(diff);
        assert_eq!(lines.locate(Side::New, 2), Some((None, Some(2))));
        assert_eq!(lines.locate(Side::Old, 2), Some((Some(2), None)));
        assert_eq!(lines.locate(Side::New, 3), None);
    }

    #[test]
    fn renamed_files_are_found_by_the_path_of_the_commented_side() {
        let renamed = FileDiff {
            old_path: "src/old.rs".into(),
            new_path: "src/new.rs".into(),
            renamed_file: true,
            ..file()
        };
        let review = Review {
            summary: String::new(),
            comments: vec![
                ReviewComment {
                    path: "src/new.rs".into(),
                    ..comment(2, Side::New)
                },
                ReviewComment {
                    path: "./src/old.rs".into(),
                    ..comment(2, Side::Old)
                },
            ],
        };
        let (placed, unplaced) =
            place_comments(Assistant::Claude, &review, &[renamed], Some(&refs()));
        assert!(unplaced.is_empty(), "{unplaced:?}");
        for p in &placed {
            assert_eq!(
                (p.position.old_path.as_str(), p.position.new_path.as_str()),
                ("src/old.rs", "src/new.rs")
            );
        }
    }

    #[test]
    fn comments_land_on_their_lines_or_are_explained() {
        let review = Review {
            summary: "Fine".into(),
            comments: vec![
                comment(2, Side::New),
                comment(4, Side::New),
                comment(2, Side::Old),
                comment(7, Side::New),
                ReviewComment {
                    path: "other.rs".into(),
                    ..comment(1, Side::New)
                },
            ],
        };
        let (placed, unplaced) =
            place_comments(Assistant::Claude, &review, &[file()], Some(&refs()));
        let lines: Vec<_> = placed
            .iter()
            .map(|p| (p.position.old_line, p.position.new_line))
            .collect();
        assert_eq!(
            lines,
            [(None, Some(2)), (Some(3), Some(4)), (Some(2), None)]
        );
        assert_eq!(placed[0].position.head_sha, "h".repeat(40));
        assert!(
            placed[0]
                .body
                .ends_with("<!-- gitlab-ai-assistant:claude:finding -->")
        );
        let reasons: Vec<_> = unplaced.iter().map(|u| u.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "line 7 is not in the diff",
                "the file is not changed by this merge request"
            ]
        );
        let (_, all) = place_comments(Assistant::Claude, &review, &[file()], None);
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn suggestions_cover_the_requested_range() {
        let suggest = |line, end_line, side| ReviewComment {
            suggestion: Some("    renamed();\n    more();\n".into()),
            end_line,
            ..comment(line, side)
        };
        let review = Review {
            summary: String::new(),
            comments: vec![
                suggest(2, Some(3), Side::New),
                suggest(2, None, Side::New),
                suggest(4, Some(9), Side::New),
                suggest(2, None, Side::Old),
            ],
        };
        let (placed, _) = place_comments(Assistant::Codex, &review, &[file()], Some(&refs()));
        assert!(
            placed[0]
                .body
                .contains("```suggestion:-0+1\n    renamed();\n    more();\n```"),
            "{}",
            placed[0].body
        );
        assert!(placed[1].body.contains("```suggestion:-0+0\n"));
        assert!(!placed[2].body.contains("suggestion:"));
        assert!(placed[2].body.contains("Suggested replacement:"));
        assert!(!placed[3].body.contains("suggestion:"));
    }

    #[test]
    fn an_oversized_comment_is_not_cut_but_listed() {
        let review = Review {
            summary: String::new(),
            comments: vec![ReviewComment {
                suggestion: Some("x\n".repeat(NOTE_LIMIT_CHARS / 2)),
                ..comment(2, Side::New)
            }],
        };
        let (placed, unplaced) =
            place_comments(Assistant::Claude, &review, &[file()], Some(&refs()));
        assert!(placed.is_empty());
        assert_eq!(
            unplaced[0].reason,
            "the comment is too long for a GitLab note"
        );
    }

    #[test]
    fn the_summary_lists_what_could_not_be_placed() {
        let review = Review {
            summary: "Two issues.".into(),
            comments: Vec::new(),
        };
        let unplaced = [Unplaced {
            comment: comment(7, Side::New),
            reason: "line 7 is not in the diff".into(),
        }];
        let mut counts = SeverityCounts::default();
        counts.add(Severity::MustFix);
        counts.add(Severity::ShouldFix);
        let md = summary_markdown(&review, 1, &unplaced, &counts);
        assert!(
            md.starts_with(
                "Two issues.\n\n**Findings:** 1 🔴 must fix · 1 🟡 should fix · 0 ⚪ nit\n\n1 comment on the diff."
            ),
            "{md}"
        );
        assert!(
            md.contains("- `src/main.rs:7` **🟡 should fix** — Look here <sub>(line 7 is not in the diff)</sub>"),
            "{md}"
        );
        let quiet = summary_markdown(&review, 0, &[], &SeverityCounts::default());
        assert_eq!(quiet, "Two issues.\n\nNo new findings.");
    }

    #[test]
    fn the_review_file_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = review_file_in(dir.path());
        assert!(matches!(
            read_review(&path),
            Err(ReviewFileError::Missing(_))
        ));
        std::fs::write(
            &path,
            r#"{"summary":"ok","comments":[{"path":"a","line":3,"body":"b","suggestion":"x"}]}"#,
        )
        .unwrap();
        let review = read_review(&path).unwrap();
        assert_eq!(review.comments[0].side, Side::New);
        assert_eq!(review.comments[0].suggestion.as_deref(), Some("x"));
        std::fs::write(&path, r#"{"summary":"ok","verdict":"x"}"#).unwrap();
        assert!(matches!(
            read_review(&path),
            Err(ReviewFileError::Invalid { .. })
        ));
        assert!(handover_instructions(&path).contains("\"additionalProperties\": false"));
    }

    #[test]
    fn the_schema_matches_the_type() {
        let schema = json_schema();
        let item = &schema["properties"]["comments"]["items"]["properties"];
        let example = ReviewComment {
            suggestion: Some("s".into()),
            end_line: Some(4),
            ..comment(3, Side::Old)
        };
        let value = serde_json::to_value(&example).unwrap();
        for key in value.as_object().unwrap().keys() {
            assert!(item.get(key).is_some(), "{key} missing from the schema");
        }
        assert_eq!(
            item.as_object().unwrap().len(),
            value.as_object().unwrap().len()
        );
    }

    #[test]
    fn a_finding_is_recognised_by_file_line_text_and_words_not_line_number() {
        let a = fingerprint("src/a.rs", "    let x = y.unwrap();", "This can panic!");
        assert_eq!(a.len(), 16);
        assert_eq!(
            a,
            fingerprint("src/a.rs", "let x = y.unwrap();  ", "this  can panic")
        );
        assert_ne!(a, fingerprint("src/a.rs", "let x = y?;", "This can panic!"));
        assert_ne!(
            a,
            fingerprint("src/b.rs", "let x = y.unwrap();", "This can panic!")
        );
        assert_ne!(
            a,
            fingerprint("src/a.rs", "let x = y.unwrap();", "Rename x.")
        );
    }

    #[test]
    fn threads_start_with_the_severity_and_carry_the_fingerprint() {
        let review = Review {
            summary: String::new(),
            comments: vec![ReviewComment {
                severity: Severity::MustFix,
                ..comment(2, Side::New)
            }],
        };
        let (placed, _) = place_comments(Assistant::Claude, &review, &[file()], Some(&refs()));
        let body = &placed[0].body;
        assert!(body.starts_with("**🔴 must fix** · Look here"), "{body}");
        assert_eq!(
            finding_of(body),
            Some(fingerprint("src/main.rs", "    new();", "Look here").as_str())
        );
        let parsed: Review = serde_json::from_str(
            r#"{"summary":"s","comments":[{"path":"a","line":1,"body":"b"}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.comments[0].severity, Severity::ShouldFix);
    }
}
