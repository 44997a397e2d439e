//! Whether the triggering note changed between the event and the job (a time-of-check /
//! time-of-use gap: someone could edit a harmless request into another after a Developer wrote
//! it, or an author could edit it after the relay's checks).

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

/// The note as GitLab has it now.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CurrentNote<'a> {
    /// Its body now.
    pub body: &'a str,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// GitLab sets `updated_at` a little after `created_at` on notes that were never edited (the
/// two are written by separate statements), so only a gap beyond this counts as an edit.
const UNEDITED_SLACK: TimeDelta = TimeDelta::seconds(1);

/// True when the note was edited after it was written AND its body differs from the one the
/// trigger carried. Both are needed: GitLab also bumps `updated_at` when a thread is resolved
/// or an emoji is awarded, and the body alone could differ only by a trailing newline a relay
/// trimmed.
pub(crate) fn edited_since_trigger(trigger_body: &str, current: CurrentNote<'_>) -> bool {
    let touched = current.updated_at - current.created_at > UNEDITED_SLACK;
    touched && current.body.trim_end() != trigger_body.trim_end()
}

/// The digest a relay or scan passes in `AI_NOTE_SHA256` for the body it checked, and the job
/// compares with the body it reads back: SHA-256 in lowercase hex of the body without trailing
/// whitespace (as [`edited_since_trigger`] ignores it). In relay and scan mode the job reads the
/// note from GitLab, so without it a note edited between the relay's checks and the job would
/// be acted on as edited. A digest rather than the body: variables are shown in the pipeline's
/// UI, and a digest can only make the job refuse, never put words in anyone's mouth.
pub fn body_digest(body: &str) -> String {
    let digest = Sha256::digest(body.trim_end().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// True when `body` is not the body whose digest the relay or scan passed.
pub(crate) fn differs_from_checked(body: &str, checked_digest: &str) -> bool {
    !body_digest(body).eq_ignore_ascii_case(checked_digest.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn note(body: &str, updated_after: i64) -> CurrentNote<'_> {
        CurrentNote {
            body,
            created_at: at(0),
            updated_at: at(updated_after),
        }
    }

    #[test]
    fn a_later_different_body_is_an_edit() {
        assert!(edited_since_trigger(
            "@claude fix the typo",
            note("@claude delete everything", 60)
        ));
    }

    #[test]
    fn the_digest_names_the_body_that_was_checked() {
        let checked = body_digest("@claude fix the typo\n");
        assert_eq!(checked.len(), 64);
        assert_eq!(checked, body_digest("@claude fix the typo"));
        assert!(!differs_from_checked("@claude fix the typo", &checked));
        assert!(!differs_from_checked(
            "@claude fix the typo",
            &checked.to_uppercase()
        ));
        assert!(differs_from_checked("@claude delete everything", &checked));
        // sha256("hello"), so the format matches what other tools print.
        assert_eq!(
            body_digest("hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn same_body_or_no_real_update_is_not_an_edit() {
        assert!(!edited_since_trigger(
            "@claude fix",
            note("@claude fix\n", 60)
        ));
        assert!(!edited_since_trigger(
            "@claude fix",
            note("@claude other", 1)
        ));
        assert!(!edited_since_trigger("@claude fix", note("@claude fix", 0)));
    }
}
