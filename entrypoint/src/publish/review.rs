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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::text::{NOTE_LIMIT_CHARS, defuse_markers, fence_for, inline_code, truncate};
use crate::assistant::Assistant;
use crate::gitlab::diff_position::{DiffPosition, PositionType};
use crate::gitlab::ids::{MergeRequestIid, ProjectRef};
use crate::gitlab::merge_request_diffs::FileDiff;
use crate::gitlab::merge_requests::DiffRefs;
use crate::gitlab::{GitLab, GitLabError};
use crate::marker::{NoteRole, marker};
use crate::quick_action::Inert;
use crate::redact::Redactor;

/// The file name the assistant is told to write.
pub const REVIEW_FILE_NAME: &str = "ai-review.json";

/// GitLab applies at most this many lines below the commented one
/// (<https://docs.gitlab.com/user/project/merge_requests/reviews/suggestions/#multi-line-suggestions>).
pub const MAX_SUGGESTION_LINES_BELOW: u32 = 100;

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
    /// Replacement text for lines `line..=end_line` of the new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The last line the suggestion replaces; `line` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
}

/// The JSON Schema (draft 2020-12) of [`Review`], given to the assistant with the task.
pub fn json_schema() -> serde_json::Value {
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
                    "required": ["path", "line", "body"],
                    "properties": {
                        "path": {"type": "string", "description": "File path in the repository."},
                        "line": {"type": "integer", "minimum": 1, "description": "Line number on the chosen side of the diff; must be a line shown in the merge request diff."},
                        "side": {"enum": ["new", "old"], "default": "new", "description": "new: added or unchanged line of the new version; old: removed line of the old version."},
                        "body": {"type": "string", "description": "The comment in Markdown."},
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
pub fn handover_instructions(file: &Path) -> String {
    let schema = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    format!(
        "When the review is done, write it as JSON to {} following this JSON Schema. Comment only on lines that appear in the merge request diff (added, removed or unchanged context lines); use \"suggestion\" only for new-side lines, with the full replacement text for lines line..end_line.\n\n```json\n{schema}\n```",
        file.display()
    )
}

/// The review file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReviewFileError {
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
pub fn read_review(path: &Path) -> Result<Review, ReviewFileError> {
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
pub struct DiffLines {
    /// New-side line → its old-side number when the line is unchanged context.
    by_new: BTreeMap<u32, Option<u32>>,
    /// Old-side line → its new-side number when the line is unchanged context.
    by_old: BTreeMap<u32, Option<u32>>,
}

impl DiffLines {
    /// Reads a unified diff's hunks (`@@ -a,b +c,d @@` and the lines after them); file headers
    /// and `\ No newline at end of file` markers are skipped.
    pub fn parse(diff: &str) -> Self {
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
                    *new += 1;
                }
                Some(b'-') => {
                    lines.by_old.insert(*old, None);
                    *old += 1;
                }
                Some(b'\\') => {}
                // A context line; an empty line is context whose leading space was trimmed.
                Some(b' ') | None => {
                    lines.by_new.insert(*new, Some(*old));
                    lines.by_old.insert(*old, Some(*new));
                    *old += 1;
                    *new += 1;
                }
                Some(_) => cursor = None,
            }
        }
        lines
    }

    /// `(old_line, new_line)` for a comment on `line` of `side`, when the diff shows it.
    pub fn locate(&self, side: Side, line: u32) -> Option<(Option<u32>, Option<u32>)> {
        match side {
            Side::New => self.by_new.get(&line).map(|old| (*old, Some(line))),
            Side::Old => self.by_old.get(&line).map(|new| (Some(line), *new)),
        }
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
pub struct Placed {
    pub comment: ReviewComment,
    pub position: DiffPosition,
    /// The thread body (before redaction).
    pub body: String,
}

/// A comment that could not go on its line, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unplaced {
    pub comment: ReviewComment,
    pub reason: String,
}

/// Decides where each comment goes, without calling GitLab.
pub fn place_comments(
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

    let mut body = defuse_markers(comment.body.trim());
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
    body.push_str(&marker(assistant, NoteRole::Result));

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
    })
}

/// What [`publish_review`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewPublished {
    /// Comments posted as diff threads.
    pub inline: usize,
    /// Comments listed in the summary instead.
    pub unplaced: Vec<Unplaced>,
    /// The summary note's Markdown (the review summary, the count of line comments and the
    /// unplaced ones): the orchestrator posts it as the run's result, replacing the
    /// placeholder.
    pub summary: String,
}

/// Posts the review on merge request `merge_request`: each placeable comment as a diff
/// thread, the others (and any GitLab refuses) listed in the returned summary. Only failing to
/// read the merge request or its diff is an error; a refused comment is not.
pub async fn publish_review(
    gitlab: &GitLab,
    project: &ProjectRef,
    merge_request: MergeRequestIid,
    assistant: Assistant,
    review: &Review,
    redactor: &Redactor,
) -> Result<ReviewPublished, GitLabError> {
    let mr = gitlab.merge_request(project, merge_request).await?;
    let diffs = gitlab.merge_request_diffs(project, merge_request).await?;
    let (placed, mut unplaced) = place_comments(assistant, review, &diffs, mr.diff_refs.as_ref());
    let mut inline = 0;
    for p in placed {
        let body = Inert::new(&redactor.redact(&p.body));
        match gitlab
            .create_diff_discussion(project, merge_request, &body, &p.position)
            .await
        {
            Ok(_) => inline += 1,
            Err(error) => {
                tracing::warn!(path = %p.comment.path, line = p.comment.line, %error, "GitLab refused a line comment; it goes into the summary");
                unplaced.push(Unplaced {
                    comment: p.comment,
                    reason: match error.api_message() {
                        Some(message) => format!("GitLab refused it: {message}"),
                        None => "GitLab could not be reached".into(),
                    },
                });
            }
        }
    }
    let summary = summary_markdown(review, inline, &unplaced);
    Ok(ReviewPublished {
        inline,
        unplaced,
        summary: redactor.redact(&summary),
    })
}

/// The summary note: the verdict, how many line comments were posted, and the findings that
/// could not be placed as `path:line — body`.
pub fn summary_markdown(review: &Review, inline: usize, unplaced: &[Unplaced]) -> String {
    let mut out = defuse_markers(review.summary.trim());
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
            let body = c.body.trim().replace('\n', " ");
            let _ = write!(
                out,
                "\n- {}{side} — {body}",
                inline_code(&format!("{}:{}", c.path, c.line))
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
                .ends_with("<!-- gitlab-ai-assistant:claude:result -->")
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
        let md = summary_markdown(&review, 1, &unplaced);
        assert!(
            md.starts_with("Two issues.\n\n1 comment on the diff."),
            "{md}"
        );
        assert!(
            md.contains("- `src/main.rs:7` — Look here <sub>(line 7 is not in the diff)</sub>"),
            "{md}"
        );
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
}
