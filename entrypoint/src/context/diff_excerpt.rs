//! The lines of a diff around the line a DiffNote points at, so the model sees what the
//! reviewer saw.

/// Lines of context on each side of the commented line.
pub(crate) const CONTEXT_LINES: usize = 3;

/// Which line a note is on: `new_line` for added and unchanged lines, `old_line` for removed
/// ones (GitLab's position fields).
/// <https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff>
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LineRef {
    /// Line in the old file.
    pub old_line: Option<u32>,
    /// Line in the new file.
    pub new_line: Option<u32>,
}

/// The hunk lines around `line` in `diff` (GitLab's hunk text, starting at `@@`), the
/// commented line marked with `>`; `None` when the line is not in the diff.
pub(crate) fn excerpt(diff: &str, line: LineRef) -> Option<String> {
    let mut old = 0u32;
    let mut new = 0u32;
    let mut lines: Vec<&str> = Vec::new();
    let mut hit = None;
    for text in diff.lines() {
        if let Some(header) = text.strip_prefix("@@") {
            let (o, n) = parse_hunk_header(header)?;
            old = o;
            new = n;
            lines.push(text);
            continue;
        }
        let (this_old, this_new) = match text.chars().next() {
            Some('+') => (None, Some(new)),
            Some('-') => (Some(old), None),
            Some('\\') => (None, None),
            _ => (Some(old), Some(new)),
        };
        let matches = match (line.new_line, line.old_line) {
            (Some(n), _) => this_new == Some(n),
            (None, Some(o)) => this_old == Some(o),
            (None, None) => false,
        };
        if matches && hit.is_none() {
            hit = Some(lines.len());
        }
        lines.push(text);
        if this_old.is_some() {
            old += 1;
        }
        if this_new.is_some() {
            new += 1;
        }
    }
    let hit = hit?;
    let start = hit.saturating_sub(CONTEXT_LINES);
    let end = (hit + CONTEXT_LINES + 1).min(lines.len());
    Some(
        (start..end)
            .map(|i| {
                let mark = if i == hit { ">" } else { " " };
                format!("{mark} {}", lines[i])
            })
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// `-a,b +c,d @@` → (a, c).
fn parse_hunk_header(header: &str) -> Option<(u32, u32)> {
    let mut parts = header.split_whitespace();
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let start = |range: &str| range.split(',').next()?.parse::<u32>().ok();
    Some((start(old)?, start(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "@@ -1,6 +1,6 @@\n a\n b\n-c\n+C\n d\n e\n f\n";

    #[test]
    fn added_line_with_surroundings() {
        let text = excerpt(
            DIFF,
            LineRef {
                old_line: None,
                new_line: Some(3),
            },
        )
        .unwrap();
        assert_eq!(text, "   a\n   b\n  -c\n> +C\n   d\n   e\n   f");
    }

    #[test]
    fn removed_and_unchanged_lines() {
        let removed = excerpt(
            DIFF,
            LineRef {
                old_line: Some(3),
                new_line: None,
            },
        )
        .unwrap();
        assert!(removed.contains("> -c"), "{removed}");
        let unchanged = excerpt(
            DIFF,
            LineRef {
                old_line: Some(4),
                new_line: Some(4),
            },
        )
        .unwrap();
        assert!(unchanged.contains(">  d"), "{unchanged}");
        assert_eq!(
            excerpt(
                DIFF,
                LineRef {
                    old_line: None,
                    new_line: Some(99)
                }
            ),
            None
        );
    }
}
