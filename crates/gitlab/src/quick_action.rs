//! Making text inert to GitLab's quick actions before the bot posts it.
//!
//! GitLab runs quick actions (`/close`, `/merge`, `/approve`, `/label ~x`, …) found in a note
//! when it is created *and* when it is edited (`Notes::CreateService`, `Notes::UpdateService`),
//! and in issue and merge request descriptions, executing them as the author: the bot, a
//! Developer. Anything the model writes can end up at the start of a line of such a text, so
//! every body the client sends is an [`Inert`], which only [`neutralize`] produces.
//!
//! Which lines count is GitLab's `Gitlab::QuickActions::Extractor`
//! (`lib/gitlab/quick_actions/extractor.rb`): after deleting every `\r`, a command is a line
//! that starts (column 0, no indentation) with `/` and a command name, matched
//! case-insensitively; it is skipped inside four kinds of regions: a ```` ``` ```` block (from a
//! line starting with three backticks to the next line that is exactly three backticks), a run
//! ending in inline code, an HTML block and a `>>>` quote. <https://docs.gitlab.com/user/project/quick_actions/>
//!
//! We do not rely on a list of command names (new ones appear in every release, and Ruby's
//! case-insensitive match folds characters such as `ſ` to `s`): every line starting with `/`
//! followed by anything that could begin a name is neutralised, wherever it is, except inside
//! the ```` ``` ```` blocks GitLab is certain to skip (see [`protected_lines`]), so that code and
//! suggestions keep their bytes.

use serde::Serialize;

/// The HTML entity for `/`. CommonMark decodes entities in paragraphs, tables and raw HTML, so the
/// line renders as it did; GitLab's extractor sees `&`, not `/`, at the start of the line. (A
/// backslash escape would render as `\/` inside an HTML block.)
const SLASH_ENTITY: &str = "&#47;";

/// Text that GitLab will not read a quick action from; the only way to make one is
/// [`Inert::new`], and every write method of [`crate::GitLab`] that sends Markdown
/// takes one, so no body can reach GitLab without passing [`neutralize`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Inert(String);

impl Inert {
    /// `text` with every line GitLab could run as a quick action neutralised (see
    /// [`neutralize`]).
    pub fn new(text: &str) -> Self {
        Self(neutralize(text))
    }

    /// The text as it will be sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text as it will be sent.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Reading is free; only [`Inert::new`] makes one.
impl std::ops::Deref for Inert {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Inert {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Display for Inert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `text` with the `/` of every command-like line replaced by `&#47;`, which renders the same.
///
/// Carriage returns are removed first, as GitLab removes them before looking for commands (a
/// lone `\r` would otherwise hide a line start from us but not from GitLab). Lines inside the
/// code blocks of [`protected_lines`] are left byte for byte. Idempotent: a neutralised line
/// starts with `&`.
pub fn neutralize(text: &str) -> String {
    let text = text.replace('\r', "");
    let lines: Vec<&str> = text.split('\n').collect();
    let protected = protected_lines(&lines);
    let mut out = String::with_capacity(text.len() + 16);
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        if !protected[index] && is_command_like(line) {
            out.push_str(SLASH_ENTITY);
            out.push_str(&line[1..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// True when GitLab could read `line` as a quick action of some name: it starts with `/` and the
/// next character could begin a name. Only `//`, `/*`, a lone `/` and `/` followed by
/// whitespace are certain not to (names are words; a space ends the name).
fn is_command_like(line: &str) -> bool {
    let mut chars = line.chars();
    if chars.next() != Some('/') {
        return false;
    }
    match chars.next() {
        None => false,
        Some(next) => !(next == '/' || next == '*' || next.is_whitespace()),
    }
}

/// Which lines GitLab's extractor certainly skips as code: the inside of each ```` ``` ````
/// block found the way GitLab's `code` alternative finds it (`^```.+?\n```$`: a line starting
/// with three backticks, up to the next line that is exactly three backticks, with at least one
/// character in between), walked in order so that an unclosed, `~~~`, indented or
/// longer-fenced block, or one GitLab pairs differently from CommonMark, is not protected.
///
/// Two other kinds of region (`<tag>` … `</tag>` and `>>>` … `>>>`) could start before a block
/// and end inside it, after which GitLab would read the rest of the block as text. So nothing is
/// protected after a line starting with `<` or `>>>`, nor a block holding a line that starts with
/// `</` or `>>>`: those lines are neutralised like any other (in code they then show `&#47;`).
fn protected_lines(lines: &[&str]) -> Vec<bool> {
    let mut protected = vec![false; lines.len()];
    let mut region_may_cut_in = false;
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        if line.starts_with("```") {
            let closer = (index + 1..lines.len())
                .find(|&j| lines[j] == "```" && !(j == index + 1 && line == "```"));
            if let Some(closer) = closer {
                let inside = &lines[index + 1..closer];
                let cut_in = inside
                    .iter()
                    .any(|l| l.starts_with("</") || l.starts_with(">>>"));
                if !region_may_cut_in && !cut_in {
                    protected[index + 1..closer].fill(true);
                }
                index = closer + 1;
                continue;
            }
        }
        if line.starts_with('<') || line.starts_with(">>>") {
            region_may_cut_in = true;
        }
        index += 1;
    }
    protected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_render_the_same_but_start_with_an_entity() {
        let text = "Done.\n/close\n/label ~pwned\n/assign @attacker\nBye";
        assert_eq!(
            neutralize(text),
            "Done.\n&#47;close\n&#47;label ~pwned\n&#47;assign @attacker\nBye"
        );
    }

    #[test]
    fn unknown_names_and_odd_case_are_neutralised_too() {
        assert_eq!(neutralize("/CLOSE"), "&#47;CLOSE");
        assert_eq!(neutralize("/cloſe"), "&#47;cloſe");
        assert_eq!(
            neutralize("/some_future_command x"),
            "&#47;some_future_command x"
        );
    }

    #[test]
    fn carriage_returns_go_so_no_line_start_hides() {
        assert_eq!(neutralize("a\r\n/merge\r\n"), "a\n&#47;merge\n");
        assert_eq!(neutralize("a\n\r/merge"), "a\n&#47;merge");
    }

    #[test]
    fn text_without_commands_is_unchanged() {
        for text in [
            "plain",
            "a /close in the middle",
            "  /close indented",
            "// a comment",
            "/* c */",
            "/ spaced",
            "/",
            "",
        ] {
            assert_eq!(neutralize(text), text);
        }
    }

    #[test]
    fn suggestions_and_closed_fences_keep_their_bytes() {
        let text = "Try:\n```suggestion:-0+0\n/close\n```\nand\n```\n\n/merge\n```";
        assert_eq!(neutralize(text), text);
    }

    #[test]
    fn fences_gitlab_does_not_see_are_neutralised() {
        // Unclosed, tilde, indented and four-backtick fences, and an empty opening that GitLab
        // pairs with the next block.
        for (text, expected) in [
            ("```\n/close", "```\n&#47;close"),
            ("~~~\n/close\n~~~", "~~~\n&#47;close\n~~~"),
            (" ```\n/close\n ```", " ```\n&#47;close\n ```"),
            ("````\n/close\n````", "````\n&#47;close\n````"),
            ("```\n/close\n```` ", "```\n&#47;close\n```` "),
        ] {
            assert_eq!(neutralize(text), expected, "{text:?}");
        }
        // GitLab pairs the empty block's opening with the next line that is exactly ```.
        assert_eq!(
            neutralize("```\n```\n/close\n```\n/merge\n```"),
            "```\n```\n/close\n```\n&#47;merge\n```"
        );
    }

    #[test]
    fn html_and_quote_regions_end_protection() {
        assert_eq!(
            neutralize("<div>\n```\n/close\n```"),
            "<div>\n```\n&#47;close\n```"
        );
        assert_eq!(
            neutralize("```\n>>>\n/close\n```"),
            "```\n>>>\n&#47;close\n```"
        );
    }

    #[test]
    fn neutralising_twice_changes_nothing() {
        let once = neutralize("/close\n```\n/merge\n```\n/approve");
        assert_eq!(neutralize(&once), once);
    }

    #[test]
    fn inert_serialises_as_the_neutralised_string() {
        let body = Inert::new("/merge");
        assert_eq!(serde_json::to_value(&body).unwrap(), "&#47;merge");
    }
}
