//! Making text safe to publish as the bot: no handle in it can summon an assistant.

use std::ops::Range;

use super::triggering;
use crate::agent::Handles;

/// Wraps every triggering mention in inline code, inserting bytes and changing nothing else.
///
/// Usually the wrapper is a backtick run longer than any in the text, so it can only pair with
/// itself. Where a backtick touches the mention, a backtick wrapper would merge with it into a
/// different run, so `<code>…</code>` is used instead (GitLab ignores mentions under `code`, and
/// so do we). Wrapping can turn a neighbour into a mention (in `@claude@claude` the second `@`
/// follows a letter until the first is wrapped), so wrapping repeats until nothing triggers;
/// text without a triggering mention comes back unchanged, which makes the function idempotent.
///
/// Two rounds of wrapping settle every case we know of. Should a Markdown corner ever keep a
/// wrapped mention live, later rounds put a WORD JOINER (U+2060, invisible) right after the
/// `@`: no username can start there, for GitLab or for us, so publishing can never loop forever.
pub(super) fn neutralize(text: &str, handles: &Handles) -> String {
    const WRAPPING_ROUNDS: usize = 4;
    let mut current = text.to_owned();
    for round in 0.. {
        let ranges: Vec<Range<usize>> = triggering(&current, handles)
            .into_iter()
            .map(|found| found.range)
            .collect();
        if ranges.is_empty() {
            break;
        }
        current = if round < WRAPPING_ROUNDS {
            wrap(&current, &ranges)
        } else {
            join_after_at_sign(&current, &ranges)
        };
    }
    current
}

/// Puts U+2060 WORD JOINER after the `@` of each of the sorted, disjoint `ranges`.
fn join_after_at_sign(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len() + ranges.len() * 3);
    let mut cursor = 0;
    for range in ranges {
        let Some(at) = text[range.clone()]
            .find('@')
            .map(|offset| range.start + offset)
        else {
            continue;
        };
        out.push_str(&text[cursor..=at]);
        out.push('\u{2060}');
        cursor = at + 1;
    }
    out.push_str(&text[cursor..]);
    out
}

/// Wraps the sorted, disjoint `ranges` of `text` in inline code.
fn wrap(text: &str, ranges: &[Range<usize>]) -> String {
    let fence = "`".repeat(longest_backtick_run(text) + 1);
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + ranges.len() * (2 * fence.len() + 13));
    let mut cursor = 0;
    for range in ranges {
        let touches_backtick = (range.start > 0 && bytes[range.start - 1] == b'`')
            || bytes.get(range.end) == Some(&b'`');
        let (open, close) = if touches_backtick {
            ("<code>", "</code>")
        } else {
            (fence.as_str(), fence.as_str())
        };
        out.push_str(&text[cursor..range.start]);
        out.push_str(open);
        out.push_str(&text[range.clone()]);
        out.push_str(close);
        cursor = range.end;
    }
    out.push_str(&text[cursor..]);
    out
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_is_longer_than_any_backtick_run() {
        assert_eq!(
            wrap("a @claude", std::slice::from_ref(&(2..9))),
            "a `@claude`"
        );
        assert_eq!(
            wrap("``x`` @claude", std::slice::from_ref(&(6..13))),
            "``x`` ```@claude```"
        );
    }

    #[test]
    fn word_joiner_separates_at_sign_from_username() {
        let joined = join_after_at_sign("a \\@claude b", std::slice::from_ref(&(2..10)));
        assert_eq!(joined, "a \\@\u{2060}claude b");
        assert!(triggering(&joined, &Handles::default()).is_empty());
    }

    #[test]
    fn touching_backtick_gets_a_code_element() {
        assert_eq!(
            wrap("`@claude", std::slice::from_ref(&(1..8))),
            "`<code>@claude</code>"
        );
    }
}
