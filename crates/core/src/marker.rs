//! The hidden marker every note we post carries.
//!
//! GitLab fires a Note Hook for the bot's own notes and their edits too, and the scheduled scan
//! lists them beside human notes. The marker lets every entry point recognise our notes without an
//! API call, so a placeholder or an answer can never start another run (the loop the GitHub
//! integrations suffered from). It lives in an HTML comment, which GitLab does not render.
//!
//! It lives here, below the GitLab client, because the image scenarios (`xtask`) judge the notes
//! a real image posts by this same text: they read it from here without building the entrypoint.
//! For that reason it knows no GitLab type: the claim line takes and gives the award's number,
//! and the entrypoint's callers wrap it in their `AwardId`.

use crate::Assistant;

/// The opening of the marker comment; its presence alone identifies our notes.
const PREFIX: &str = "<!-- gitlab-ai-assistant:";

/// What kind of note we posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteRole {
    /// "Claude is working on it…", replaced by the result later.
    Placeholder,
    /// A final answer, summary or error that replaced a placeholder.
    Result,
    /// A polite refusal (the author lacks access).
    Refusal,
    /// The one review summary of a merge request, updated in place by every review.
    ReviewSummary,
    /// A review finding: a thread on a diff line.
    Finding,
    /// A request waiting for its retry after a model-API quota error (the entrypoint's `quota`).
    Queued,
}

impl NoteRole {
    fn as_str(self) -> &'static str {
        match self {
            NoteRole::Placeholder => "placeholder",
            NoteRole::Result => "result",
            NoteRole::Refusal => "refusal",
            NoteRole::ReviewSummary => "review",
            NoteRole::Finding => "finding",
            NoteRole::Queued => "queued",
        }
    }
}

/// The marker line to append to a note posted for `assistant`.
pub fn marker(assistant: Assistant, role: NoteRole) -> String {
    format!("{PREFIX}{}:{} -->", assistant.name(), role.as_str())
}

/// True when a note body carries our marker, whichever assistant or role.
pub fn is_marked(body: &str) -> bool {
    body.contains(PREFIX)
}

/// The opening of the line that ties a relay's or scan's placeholder to the claim it was posted
/// under (the entrypoint's `claim`); a different prefix, so [`is_marked`] and role lookups ignore
/// it.
const CLAIM_PREFIX: &str = "<!-- gitlab-ai-assistant-claim:";

/// The hidden line a placeholder posted before the hand-over carries: the id of the claim (the
/// bot's reaction) it was posted under. A caller that takes over an expired claim finds and
/// removes the placeholder its dead claimer left "working". `award` is the number of the claim's
/// `AwardId` (GitLab's award emoji id).
pub fn claim_line(award: u64) -> String {
    format!("{CLAIM_PREFIX}{award} -->")
}

/// The award id of the claim a placeholder was posted under, if it carries [`claim_line`].
pub fn claim_of(body: &str) -> Option<u64> {
    let rest = &body[body.find(CLAIM_PREFIX)? + CLAIM_PREFIX.len()..];
    let id = rest.split(" -->").next()?;
    id.parse().ok()
}

/// The opening of the line a finding's thread carries: the finding's fingerprint
/// (`entrypoint::publish::review::fingerprint`), so a later review recognises a finding it posted
/// already. Its own prefix, like [`claim_line`]'s.
const FINDING_PREFIX: &str = "<!-- gitlab-ai-assistant-finding:";

/// The opening of the line a finding's thread carries beside its fingerprint: the key of the
/// commented line's text (`entrypoint::publish::review::line_key`), so a later review sees whether
/// a push changed that line.
const LINE_PREFIX: &str = "<!-- gitlab-ai-assistant-line:";

/// The hidden line naming the key of a finding's line.
pub fn line_key_line(key: &str) -> String {
    format!("{LINE_PREFIX}{key} -->")
}

/// The line key a finding's thread carries, if any.
pub fn line_key_of(body: &str) -> Option<&str> {
    hidden_value(body, LINE_PREFIX)
}

/// The opening of the line the review summary carries: the head commit the review covered, so
/// the next review starts from there.
const REVIEWED_PREFIX: &str = "<!-- gitlab-ai-assistant-reviewed:";

/// The hidden line naming a finding's fingerprint.
pub fn finding_line(fingerprint: &str) -> String {
    format!("{FINDING_PREFIX}{fingerprint} -->")
}

/// The fingerprint in a finding's thread, if it carries [`finding_line`].
pub fn finding_of(body: &str) -> Option<&str> {
    hidden_value(body, FINDING_PREFIX)
}

/// The hidden line naming the head commit a review covered.
pub fn reviewed_line(sha: &str) -> String {
    format!("{REVIEWED_PREFIX}{sha} -->")
}

/// The head commit a review summary says it covered: 40 hex digits, or nothing.
pub fn reviewed_of(body: &str) -> Option<&str> {
    hidden_value(body, REVIEWED_PREFIX)
        .filter(|sha| sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The value of the last hidden line with `prefix`: ours are appended after any text, so a copy
/// that slipped into the text above cannot shadow them.
fn hidden_value<'b>(body: &'b str, prefix: &str) -> Option<&'b str> {
    let rest = &body[body.rfind(prefix)? + prefix.len()..];
    let value = rest.split(" -->").next()?;
    (!value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_notes_are_recognised() {
        let body = format!(
            "Claude is working…\n\n{}",
            marker(Assistant::Claude, NoteRole::Placeholder)
        );
        assert!(is_marked(&body));
        assert!(body.ends_with("<!-- gitlab-ai-assistant:claude:placeholder -->"));
        assert!(!is_marked("@claude please fix this"));
    }

    #[test]
    fn a_placeholder_names_the_claim_it_was_posted_under() {
        let body = format!(
            "working\n\n{}\n{}",
            marker(Assistant::Codex, NoteRole::Placeholder),
            claim_line(4711)
        );
        assert_eq!(claim_of(&body), Some(4711));
        assert_eq!(claim_of("working"), None);
        assert_eq!(claim_of("<!-- gitlab-ai-assistant-claim:x -->"), None);
    }

    #[test]
    fn findings_and_reviewed_commits_are_read_back() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let body = format!(
            "summary\n{}\n{}",
            reviewed_line(sha),
            marker(Assistant::Claude, NoteRole::ReviewSummary)
        );
        assert_eq!(reviewed_of(&body), Some(sha));
        assert_eq!(reviewed_of(&reviewed_line("abc")), None);
        assert_eq!(reviewed_of(&reviewed_line("--> <b>")), None);
        let finding = format!("**x**\n\n{}", finding_line("00ff00ff00ff00ff"));
        assert_eq!(finding_of(&finding), Some("00ff00ff00ff00ff"));
        assert_eq!(finding_of("plain"), None);
        assert!(
            !is_marked(&finding),
            "a finding line alone is not our marker"
        );
    }
}
