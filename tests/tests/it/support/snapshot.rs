//! Snapshots of what people read (notes, comments, Markdown): one `insta` snapshot shows the
//! whole text and, in review, its change, where a row of `contains` checks showed neither.
//!
//! Snapshots live in `tests/tests/it/snapshots/`. Outside CI a mismatch writes a `.snap.new`
//! beside the snapshot for review (`cargo insta review`, or rename it after reading it); with
//! `CI` set (GitLab sets `CI=true` in every job) insta's default `INSTA_UPDATE=auto` means `no`:
//! a mismatch or a missing snapshot fails the test and nothing is written
//! (`snapshot_update_behavior` in insta's `src/env.rs`).

/// What changes from one run to the next and is no part of the text's meaning: the doubles'
/// ports, commit SHAs (commit times differ), note ids, calendar dates (token expiry is
/// relative to today) and the random part of a project bot's username (`project_<id>_bot_<hex>`,
/// see `UserSpec::project_bot` in the GitLab double).
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    settings.add_filter(r"\b\d{4}-\d{2}-\d{2}\b", "[date]");
    settings.add_filter(r"\b[0-9a-f]{40}\b", "[sha]");
    settings.add_filter(r"#note_\d+", "#note_[id]");
    settings.add_filter(r"\b(project_\d+_bot)_[0-9a-f]+\b", "${1}_[random]");
    settings
}

/// `insta::assert_snapshot!` with [`settings`]: the snapshot is named `name` in the calling
/// test's module.
#[macro_export]
macro_rules! assert_note_snapshot {
    ($name:expr, $text:expr) => {
        $crate::support::snapshot::settings().bind(|| {
            insta::assert_snapshot!($name, $text);
        })
    };
}
