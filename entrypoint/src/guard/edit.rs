//! Whether the triggering note changed between the event and the job (a time-of-check /
//! time-of-use gap: someone could edit a harmless request into another after a Developer wrote
//! it, or an author could edit it after the relay's checks).

use chrono::{DateTime, TimeDelta, Utc};

/// The note as GitLab has it now.
#[derive(Clone, Copy, Debug)]
pub struct CurrentNote<'a> {
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
pub fn edited_since_trigger(trigger_body: &str, current: CurrentNote<'_>) -> bool {
    let touched = current.updated_at - current.created_at > UNEDITED_SLACK;
    touched && current.body.trim_end() != trigger_body.trim_end()
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
