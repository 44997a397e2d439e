//! A comment delivered by GitLab's Comments webhook to a trigger URL, as the stories of the
//! webhook jobs (`ack_job`, `templates`) start from it.

use std::path::PathBuf;

use doubles::gitlab::double::{NoteSpec, Noteable};

use super::story::Story;

/// `author` comments `body` on `noteable` and GitLab fires the Comments hook: the note's id, and
/// the file in the story's directory (`TRIGGER_PAYLOAD-<note id>`) holding the Note Hook's body,
/// as the runner writes a file-type `TRIGGER_PAYLOAD` variable and passes its path.
pub fn hooked_comment(
    story: &Story,
    noteable: Noteable,
    author: u64,
    body: &str,
) -> (u64, PathBuf) {
    let spec = NoteSpec::new(author, body).emit_hooks();
    let note = story
        .gl
        .add_note(story.project, noteable, spec)
        .expect("note")
        .id;
    let event = story
        .gl
        .note_events()
        .into_iter()
        .find(|e| e.note_id == note);
    let event = event.expect("the double recorded the Note Hook");
    let payload = story.dir.path().join(format!("TRIGGER_PAYLOAD-{note}"));
    std::fs::write(&payload, event.payload.to_string()).expect("payload written");
    (note, payload)
}
