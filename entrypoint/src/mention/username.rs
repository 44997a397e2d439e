//! GitLab's grammar for `@username` references, read over the rendered text of a note.
//!
//! GitLab's `User.reference_pattern` is `(?<!\w)@(?<user>FULL_NAMESPACE_FORMAT_REGEX)`, where a
//! path segment (`Gitlab::PathRegex::NAMESPACE_FORMAT_REGEX`) is ASCII letters, digits, `_`, `-`
//! and `.`, starts with anything but `-`, and segments joined by `/` name a group or project
//! instead of a user. Usernames are matched case-insensitively
//! (<https://docs.gitlab.com/user/discussions/#mentions>). Where we differ, the function says why.

use std::ops::Range;

use super::markdown::TextMap;

/// `@username` at a place GitLab would read it as a reference.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Reference {
    /// Source bytes to remove or wrap: the `@` (with the backslash escaping it, if any) up to
    /// the last byte of the username.
    pub(super) range: Range<usize>,
    /// The username as rendered (escapes resolved), without `@`.
    pub(super) username: String,
}

/// The reference that the `@` at byte `at` of `source` starts, if any. `at` must be a live `@`.
pub(super) fn reference_at(source: &str, map: &TextMap, at: usize) -> Option<Reference> {
    let bytes = source.as_bytes();
    let backslashes = bytes[..at]
        .iter()
        .rev()
        .take_while(|b| **b == b'\\')
        .count();
    // `\@` renders as `@`: the escaping backslash belongs to the reference, so removing or
    // wrapping the reference never leaves a backslash that would escape whatever follows.
    let start = if backslashes % 2 == 1 { at - 1 } else { at };
    // An even, non-zero run renders as literal backslashes, which may precede a mention.
    if backslashes < 2 {
        if previous_rendered_char(source, map, start).is_some_and(blocks_mention) {
            return None;
        }
        if map.follows_url(start) {
            return None;
        }
    }

    username_after(bytes, map, start, at)
}

/// The reference that the `@` at byte `at` would start once the mention ending there is
/// removed (`@claude@claude`): what preceded that mention did not block it, so it does not block
/// this one either.
pub(super) fn chained_reference_at(source: &str, map: &TextMap, at: usize) -> Option<Reference> {
    let bytes = source.as_bytes();
    if bytes.get(at) != Some(&b'@') || !map.is_live(at) {
        return None;
    }
    username_after(bytes, map, at, at)
}

fn username_after(bytes: &[u8], map: &TextMap, start: usize, at: usize) -> Option<Reference> {
    let (username, end) = scan_segment(bytes, map, at + 1)?;
    if starts_group_path(bytes, map, end) {
        return None;
    }
    Some(Reference {
        range: start..end,
        username,
    })
}

/// The rendered character just before byte `index`, or `None` at the start of a text node
/// (start of the note, a line break, a table cell, the edge of emphasis or of a code span, ...).
fn previous_rendered_char(source: &str, map: &TextMap, index: usize) -> Option<char> {
    if index == 0 || !map.is_text(index - 1) {
        return None;
    }
    source[..index].chars().next_back()
}

/// Characters after which `@` does not start a mention.
///
/// GitLab stops only at ASCII word characters (`(?<!\w)`). We also stop at any Unicode letter or
/// digit and at `.`, `-`, `+`, `%`, `=`, `/` and `@`, which join an `@` to an e-mail address, a
/// URL or another handle (`first.last@claude`, `x/@claude`, `?to=@claude`, `@@claude`): a bot that
/// starts a paid job must not fire on text that only looks like a mention.
fn blocks_mention(previous: char) -> bool {
    previous.is_alphanumeric() || matches!(previous, '_' | '.' | '-' | '+' | '%' | '=' | '/' | '@')
}

/// Reads one path segment starting at byte `from`: username characters of rendered text, with
/// `\_`, `\.` and `\-` read as the escaped character. Trailing `.` and `-` are punctuation (a
/// username cannot end with them), so `@Claude.` is `Claude`. Returns the segment and the
/// source offset just after it.
fn scan_segment(bytes: &[u8], map: &TextMap, from: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut ends = Vec::new();
    let mut index = from;
    while index < bytes.len() {
        let byte = bytes[index];
        if map.is_text(index) && is_username_byte(byte) {
            name.push(char::from(byte));
            index += 1;
        } else if byte == b'\\'
            && bytes
                .get(index + 1)
                .is_some_and(|next| matches!(next, b'_' | b'.' | b'-'))
            && map.is_text(index + 1)
        {
            name.push(char::from(bytes[index + 1]));
            index += 2;
        } else {
            break;
        }
        ends.push(index);
    }
    // Deliberate difference: GitLab's pattern lets a username end with `-`, but its username
    // validation and our `Handle` do not, so a trailing dash is read as punctuation.
    while name.ends_with(['.', '-']) {
        name.pop();
        ends.pop();
    }
    if name.is_empty() || name.starts_with('-') {
        return None;
    }
    Some((name, *ends.last()?))
}

fn is_username_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-')
}

/// `@claude/tools` names the group or project `claude/tools`, not the user `claude`.
fn starts_group_path(bytes: &[u8], map: &TextMap, end: usize) -> bool {
    bytes.get(end) == Some(&b'/') && map.is_text(end) && scan_segment(bytes, map, end + 1).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(source: &str) -> Option<String> {
        let map = TextMap::new(source);
        let at = source.rfind('@').unwrap();
        reference_at(source, &map, at).map(|r| r.username)
    }

    #[test]
    fn reads_whole_username_and_drops_trailing_punctuation() {
        assert_eq!(reference("@claude_code").as_deref(), Some("claude_code"));
        assert_eq!(reference("@Claude.").as_deref(), Some("Claude"));
        assert_eq!(reference("@claude-.").as_deref(), Some("claude"));
        assert_eq!(reference("@claude.team").as_deref(), Some("claude.team"));
        assert_eq!(reference("@ai\\-bot").as_deref(), Some("ai-bot"));
        assert_eq!(reference("@-claude"), None);
        assert_eq!(reference("@ claude"), None);
    }

    #[test]
    fn group_paths_are_not_users() {
        assert_eq!(reference("@claude/tools"), None);
        assert_eq!(reference("@claude/ now").as_deref(), Some("claude"));
    }

    #[test]
    fn escaped_at_sign_is_part_of_the_range() {
        let source = "\\@claude";
        let map = TextMap::new(source);
        let found = reference_at(source, &map, 1).unwrap();
        assert_eq!(found.range, 0..8);
    }

    #[test]
    fn emphasis_delimiters_are_not_previous_characters() {
        assert_eq!(reference("_@claude_").as_deref(), Some("claude"));
        assert_eq!(reference("a_@claude"), None);
    }
}
