//! The hidden marker every note we post carries.
//!
//! GitLab fires a Note Hook for the bot's own notes and their edits too, and the scheduled scan
//! lists them beside human notes. The marker lets every entry point recognise our notes without an
//! API call, so a placeholder or an answer can never start another run (the loop the GitHub
//! integrations suffered from). It lives in an HTML comment, which GitLab does not render.

use crate::assistant::Assistant;
use crate::gitlab::ids::AwardId;

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
}

impl NoteRole {
    fn as_str(self) -> &'static str {
        match self {
            NoteRole::Placeholder => "placeholder",
            NoteRole::Result => "result",
            NoteRole::Refusal => "refusal",
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
/// under ([`crate::claim`]); a different prefix, so [`is_marked`] and role lookups ignore it.
const CLAIM_PREFIX: &str = "<!-- gitlab-ai-assistant-claim:";

/// The hidden line a placeholder posted before the hand-over carries: the id of the claim (the
/// bot's reaction) it was posted under. A caller that takes over an expired claim finds and
/// removes the placeholder its dead claimer left "working".
pub fn claim_line(award: AwardId) -> String {
    format!("{CLAIM_PREFIX}{award} -->")
}

/// The claim a placeholder was posted under, if it carries [`claim_line`].
pub fn claim_of(body: &str) -> Option<AwardId> {
    let rest = &body[body.find(CLAIM_PREFIX)? + CLAIM_PREFIX.len()..];
    let id = rest.split(" -->").next()?;
    id.parse().ok().map(AwardId)
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
            claim_line(AwardId(4711))
        );
        assert_eq!(claim_of(&body), Some(AwardId(4711)));
        assert_eq!(claim_of("working"), None);
        assert_eq!(claim_of("<!-- gitlab-ai-assistant-claim:x -->"), None);
    }
}
