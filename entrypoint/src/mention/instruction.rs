//! The instruction an assistant receives: the note without the mentions that summoned it.

use std::ops::Range;

use super::removable;
use crate::agent::Handles;

/// `text` with every triggering mention removed and whitespace normalised ([`normalise`]).
///
/// Removing a mention can create another one (`@claude@claude`: the second `@` follows a letter
/// until the first mention is gone). [`removable`] takes such chains along; removal still repeats
/// until no mention is left, for anything the removal reveals in other ways. Each round removes
/// at least one `@` and normalising adds none, so the loop ends.
pub(super) fn without_mentions(text: &str, handles: &Handles) -> String {
    let mut current = text.to_owned();
    loop {
        let ranges = removable(&current, handles);
        if ranges.is_empty() {
            return normalise(&current);
        }
        current = normalise(&remove(&current, &ranges));
    }
}

/// Removes the sorted, disjoint `ranges` from `text`. A mention that starts a line (after its
/// indentation) or follows a blank takes along a directly following `,` or `:` and the blanks
/// after it, so `please @claude fix` reads `please fix` and `@claude: fix` reads `fix`.
/// Indentation is kept: it decides whether a line is code.
fn remove(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    // Whether `out` so far ends in a line holding nothing but blanks, kept up to date as text is
    // copied so that each mention costs only the bytes copied before it.
    let mut line_blank = true;
    let mut cursor = 0;
    for range in ranges {
        if range.start < cursor {
            continue;
        }
        let kept = &text[cursor..range.start];
        line_blank = match kept.rfind('\n') {
            Some(newline) => is_blank(&kept[newline + 1..]),
            None => line_blank && is_blank(kept),
        };
        out.push_str(kept);
        let follows_blank = line_blank || out.ends_with([' ', '\t']);
        let mut rest = &text[range.end..];
        if follows_blank {
            rest = rest.strip_prefix([',', ':']).unwrap_or(rest);
            rest = rest.trim_start_matches([' ', '\t']);
        }
        cursor = text.len() - rest.len();
    }
    out.push_str(&text[cursor..]);
    out
}

fn is_blank(text: &str) -> bool {
    text.bytes().all(|byte| byte == b' ' || byte == b'\t')
}

/// Trailing whitespace removed from every line, leading and trailing blank lines dropped, and
/// runs of blank lines cut to one. Leading indentation is kept, so an indented code block stays
/// code (and a mention in it stays hidden). Idempotent.
pub(super) fn normalise(text: &str) -> String {
    // Written out line by line into one string, without a list of lines: a note of a million
    // short lines would otherwise cost 16 bytes per line on top of its text.
    let mut out = String::with_capacity(text.len());
    let mut blank_pending = false;
    for line in text.split('\n').map(str::trim_end) {
        if line.is_empty() {
            blank_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_pending {
                out.push('\n');
            }
        }
        blank_pending = false;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_chain_of_mentions_goes_in_one_pass() {
        let chain = "@claude@codex".repeat(20_000) + " fix";
        assert_eq!(removable(&chain, &Handles::default()).len(), 40_000);
        assert_eq!(without_mentions(&chain, &Handles::default()), "fix");
    }

    #[test]
    fn normalise_trims_lines_and_blank_runs_but_keeps_indentation() {
        assert_eq!(normalise("\n\n  a  \r\n\n\n\n    b\t\n\n"), "  a\n\n    b");
        assert_eq!(normalise(" \n \n"), "");
    }

    #[test]
    fn remove_collapses_the_blank_left_behind() {
        for (text, mentions, left) in [
            ("please @claude fix", &[(7, 14)][..], "please fix"),
            ("@claude: fix", &[(0, 7)], "fix"),
            ("  @claude fix", &[(2, 9)], "  fix"),
            ("(@claude)", &[(1, 8)], "()"),
            ("@claude @codex go", &[(0, 7), (8, 14)], "go"),
        ] {
            let mentions: Vec<_> = mentions.iter().map(|&(start, end)| start..end).collect();
            assert_eq!(remove(text, &mentions), left, "{text:?}");
        }
    }
}
