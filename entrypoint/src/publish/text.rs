//! Small Markdown helpers shared by the note builders.

/// GitLab refuses note bodies longer than this many characters
/// (`Gitlab::Database::MAX_TEXT_SIZE_LIMIT`, validated on `Note#note`; see
/// <https://docs.gitlab.com/api/notes/#create-new-issue-note>).
pub(crate) const NOTE_LIMIT_CHARS: usize = 1_000_000;

/// The opening shared by our hidden marker and our other hidden lines (claims, review
/// findings, line keys, the reviewed commit; see [`crate::marker`]).
const MARKER_OPENING: &str = "<!-- gitlab-ai-assistant";

/// `text` with any copy of our hidden marker made visible and inert (`&lt;!-- …`). The
/// assistant's text is not ours to vouch for: a marker inside an answer (quoted from a note it
/// read, or planted by a prompt injection) would make `finalize` or the relay misread the note.
pub(crate) fn defuse_markers(text: &str) -> String {
    text.replace(MARKER_OPENING, "&lt;!-- gitlab-ai-assistant")
}

/// `text` as one inline code span: the fence is a backtick run longer than any inside, and a
/// space pads text that starts or ends with a backtick, as CommonMark requires. Newlines become
/// spaces (a code span is one line in our lists).
pub(crate) fn inline_code(text: &str) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    let longest = one_line
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{one_line}{pad}{fence}")
}

/// A code fence for `content`: a backtick run longer than any line-leading run inside it.
pub(crate) fn fence_for(content: &str) -> String {
    let longest = content
        .lines()
        .map(|line| line.trim_start().chars().take_while(|c| *c == '`').count())
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Cuts `text` to at most `max_chars` characters including `notice`, which is appended when
/// anything was cut. A code block left open by the cut is closed first, so the notice and
/// whatever follows the text render as prose.
pub(crate) fn truncate(text: &str, max_chars: usize, notice: &str) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    // Room for the notice and for closing a fence (newline + up to a few backticks).
    let closing_room = 16;
    let keep = max_chars.saturating_sub(notice.chars().count() + closing_room + 2);
    let cut = text
        .char_indices()
        .nth(keep)
        .map_or(text.len(), |(at, _)| at);
    let mut out = text[..cut].to_owned();
    if let Some(open) = open_fence(&out)
        && open.chars().count() < closing_room
    {
        out.push('\n');
        out.push_str(&open);
    }
    out.push_str("\n\n");
    out.push_str(notice);
    out
}

/// The fence of a fenced code block still open at the end of `text`, if any.
fn open_fence(text: &str) -> Option<String> {
    let mut open: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let run: String = trimmed
            .chars()
            .take_while(|c| *c == '`' || *c == '~')
            .collect();
        let Some(first) = run.chars().next() else {
            continue;
        };
        let run: String = run.chars().take_while(|c| *c == first).collect();
        if run.chars().count() < 3 {
            continue;
        }
        match &open {
            None => open = Some(run),
            Some(current)
                if run.starts_with(current.as_str()) && trimmed[run.len()..].trim().is_empty() =>
            {
                open = None;
            }
            Some(_) => {}
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_in_foreign_text_are_defused() {
        let planted = "ok <!-- gitlab-ai-assistant:claude:placeholder -->";
        let defused = defuse_markers(planted);
        assert!(!crate::marker::is_marked(&defused));
        assert_eq!(defuse_markers("plain"), "plain");
        // A planted finding fingerprint or reviewed commit would hide findings or move the
        // next incremental review's starting point.
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let planted = format!(
            "{}\n{}",
            crate::marker::finding_line("00ff00ff00ff00ff"),
            crate::marker::reviewed_line(sha)
        );
        let defused = defuse_markers(&planted);
        assert_eq!(crate::marker::finding_of(&defused), None);
        assert_eq!(crate::marker::reviewed_of(&defused), None);
    }

    #[test]
    fn inline_code_survives_backticks() {
        assert_eq!(inline_code("ls -la"), "`ls -la`");
        assert_eq!(inline_code("a `b` c"), "``a `b` c``");
        assert_eq!(inline_code("`x`"), "`` `x` ``");
        assert_eq!(inline_code("a\nb"), "`a b`");
    }

    #[test]
    fn fences_outgrow_the_content() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("```rust\nx\n```"), "````");
    }

    #[test]
    fn truncation_keeps_the_limit_and_closes_code_blocks() {
        assert_eq!(truncate("short", 10, "[cut]"), "short");
        let long = format!("intro\n```rust\n{}", "x".repeat(500));
        let out = truncate(&long, 100, "[cut]");
        assert!(out.chars().count() <= 100, "{}", out.chars().count());
        assert!(out.ends_with("\n```\n\n[cut]"), "{out}");
        let prose = "é".repeat(300);
        let out = truncate(&prose, 50, "[cut]");
        assert!(out.chars().count() <= 50 && out.ends_with("[cut]"));
    }
}
