//! Finding `@claude` / `@codex` mentions in a note, the way GitLab finds the users a note
//! mentions, and making the bot's own text unable to summon anyone.
//!
//! A note summons an assistant when GitLab would notify that assistant's user: `@` plus the
//! whole username (module `username`), case-insensitively, in rendered text outside code,
//! links, quotes, inline diffs and raw HTML (module `markdown`). Matching GitLab means users get
//! what they see: the username turns into a mention link in the note exactly when the job starts.
//! Sources: <https://docs.gitlab.com/user/discussions/#mentions>,
//! <https://docs.gitlab.com/user/markdown/>.
//!
//! Decisions, in short (each is explained where it is implemented):
//! - Never trigger: inline code, fenced and indented code blocks, `>` quotes (with their lazy
//!   continuation lines, as CommonMark reads them) and `>>>` quotes, links (text, destination,
//!   autolinks, bare URLs), images, HTML blocks and comments, text inside raw inline HTML
//!   elements, inline diffs (`{+ … +}`).
//! - Trigger: paragraphs, headings, list and task items, emphasis, strikethrough, table cells,
//!   footnotes, and `\@claude` (GitLab renders the escape as a plain `@`, which still mentions).
//! - Stricter than GitLab: no mention right after a letter, digit or `_ . - + % = / @`
//!   (`first.last@claude`, `x/@claude`), nor anywhere in a URL.
//! - Not modelled: HTML entities (`&#64;claude` never triggers) and `$…$` math.

mod instruction;
mod markdown;
mod neutralize;
mod username;

#[cfg(test)]
mod examples;
#[cfg(test)]
mod properties;

use std::ops::Range;

use serde::Serialize;

use crate::agent::{Assistant, Handles};
use markdown::TextMap;

/// One assistant summoned by a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mention {
    /// Who was summoned.
    pub assistant: Assistant,
    /// The note with the summoning mentions removed: what the assistant is asked to do.
    pub instruction: String,
}

/// Finds the assistants mentioned in `text`: one entry per assistant (deduplicated), sorted by
/// assistant name; every entry carries the same instruction (the text with the triggering mentions
/// removed, whitespace normalised). Empty vec when none.
pub fn find_mentions(text: &str, handles: &Handles) -> Vec<Mention> {
    let mut assistants: Vec<Assistant> = triggering(text, handles)
        .into_iter()
        .map(|found| found.assistant)
        .collect();
    if assistants.is_empty() {
        return Vec::new();
    }
    assistants.sort();
    assistants.dedup();
    let instruction = instruction::without_mentions(text, handles);
    assistants
        .into_iter()
        .map(|assistant| Mention {
            assistant,
            instruction: instruction.clone(),
        })
        .collect()
}

/// Rewrites `text` so that no assistant handle in it can trigger (wraps each would-trigger
/// `@claude` in inline code: `` `@claude` ``), leaving everything else byte-identical. Used to
/// publish the bot's own answers so Claude's reply can never summon Codex (a documented loop of the
/// GitHub integrations). Idempotent; `find_mentions(neutralize(t))` is always empty.
pub fn neutralize(text: &str, handles: &Handles) -> String {
    neutralize::neutralize(text, handles)
}

/// A mention of an assistant's handle that GitLab would turn into a notification.
struct Found {
    range: Range<usize>,
    assistant: Assistant,
}

/// Every triggering mention in `text`, in source order, with disjoint ranges.
fn triggering(text: &str, handles: &Handles) -> Vec<Found> {
    if !text.contains('@') {
        return Vec::new();
    }
    triggering_in(text, &TextMap::new(text), handles)
}

fn triggering_in(text: &str, map: &TextMap, handles: &Handles) -> Vec<Found> {
    text.match_indices('@')
        .filter(|(at, _)| map.is_live(*at))
        .filter_map(|(at, _)| username::reference_at(text, map, at))
        .filter_map(|reference| {
            handles
                .assistant_for(&reference.username)
                .map(|assistant| Found {
                    range: reference.range,
                    assistant,
                })
        })
        .collect()
}

/// The triggering mentions of `text` plus those that removing them reveals directly behind
/// them (`@claude@claude`), so a chain goes in one pass instead of one pass per link.
/// Sorted and disjoint.
fn removable(text: &str, handles: &Handles) -> Vec<Range<usize>> {
    if !text.contains('@') {
        return Vec::new();
    }
    let map = TextMap::new(text);
    let mut ranges = Vec::new();
    for found in triggering_in(text, &map, handles) {
        let mut end = found.range.end;
        ranges.push(found.range);
        while let Some(next) = username::chained_reference_at(text, &map, end)
            .filter(|next| handles.assistant_for(&next.username).is_some())
        {
            end = next.range.end;
            ranges.push(next.range);
        }
    }
    ranges
}
