//! Which bytes of a note GitLab renders as plain text, and which of those can mention someone.
//!
//! GitLab looks for `@username` in the text nodes of the rendered note, skipping text under
//! `pre`, `code`, `a` and, when it collects mentions to notify, `blockquote` (the
//! `ignore_ancestor_query` of GitLab's `Banzai::Filter::References::ReferenceFilter`; see also
//! <https://docs.gitlab.com/user/markdown/>). We mirror that on the Markdown source with a
//! CommonMark parser, so every decision maps back to exact byte offsets of the note.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, TagEnd};

/// The byte is part of rendered text (a `Text` event), not of Markdown syntax.
const TEXT: u8 = 1;
/// The byte is rendered text in a place where a mention notifies its user.
const LIVE: u8 = 2;
/// The run of non-blank text that ends just before this byte is a URL.
const AFTER_URL: u8 = 4;

/// One flag set per byte of the note.
pub(super) struct TextMap {
    flags: Vec<u8>,
}

impl TextMap {
    /// Parses `source` as GitLab Flavored Markdown (CommonMark plus the GFM extensions GitLab
    /// renders: tables, strikethrough, task lists, footnotes, and `>>>` multi-line quotes).
    pub(super) fn new(source: &str) -> Self {
        let mut flags = vec![0u8; source.len()];
        // Containers whose text never mentions anyone: code blocks, quotes, HTML blocks, links and
        // images (a mention inside a link is rendered as the link: GitLab's `a` ancestor rule).
        let mut hidden = 0usize;
        // Raw inline HTML elements open in the current block (see `inline_html_depth_change`).
        let mut inline_html = 0usize;
        // Code and HTML blocks, where a `>>>` line is content, not a quote fence.
        let mut verbatim = Vec::new();

        for (event, range) in Parser::new_ext(source, options()).into_offset_iter() {
            match event {
                Event::Start(tag) => {
                    let end = tag.to_end();
                    if !is_inline(&end) {
                        inline_html = 0;
                    }
                    if matches!(end, TagEnd::CodeBlock | TagEnd::HtmlBlock) {
                        verbatim.push(range.clone());
                    }
                    if hides_text(&end) {
                        hidden += 1;
                    }
                }
                Event::End(end) => {
                    if !is_inline(&end) {
                        inline_html = 0;
                    }
                    if hides_text(&end) {
                        hidden = hidden.saturating_sub(1);
                    }
                }
                Event::Text(_) => {
                    let flag = if hidden == 0 && inline_html == 0 {
                        TEXT | LIVE
                    } else {
                        TEXT
                    };
                    if let Some(bytes) = flags.get_mut(range) {
                        bytes.fill(flag);
                    }
                }
                Event::InlineHtml(html) => {
                    inline_html =
                        inline_html.saturating_add_signed(inline_html_depth_change(&html));
                }
                _ => {}
            }
        }

        let mut hidden_ranges = fenced_quotes(source, &verbatim);
        hidden_ranges.extend(inline_diffs(source.as_bytes(), &flags));
        for range in hidden_ranges {
            if let Some(bytes) = flags.get_mut(range) {
                bytes.iter_mut().for_each(|flag| *flag &= !LIVE);
            }
        }
        mark_after_urls(source.as_bytes(), &mut flags);
        Self { flags }
    }

    /// True when byte `index` is rendered text (as opposed to Markdown syntax or out of range).
    pub(super) fn is_text(&self, index: usize) -> bool {
        self.flags.get(index).is_some_and(|flag| flag & TEXT != 0)
    }

    /// True when byte `index` is rendered text where a mention would notify its user.
    pub(super) fn is_live(&self, index: usize) -> bool {
        self.flags.get(index).is_some_and(|flag| flag & LIVE != 0)
    }

    /// True when the run of non-blank text that ends just before byte `index` is a URL
    /// (`https://host/`, `www.host/`), which GitLab turns into a link before it looks for mentions
    /// (<https://docs.gitlab.com/user/markdown/#url-auto-linking>).
    pub(super) fn follows_url(&self, index: usize) -> bool {
        self.flags
            .get(index)
            .is_some_and(|flag| flag & AFTER_URL != 0)
    }
}

/// Sets [`AFTER_URL`] in one pass, so asking about any `@` costs nothing however long its run.
fn mark_after_urls(bytes: &[u8], flags: &mut [u8]) {
    let mut run_start = 0;
    let mut is_url = false;
    for index in 0..bytes.len() {
        if is_url {
            flags[index] |= AFTER_URL;
        }
        if flags[index] & TEXT == 0 || bytes[index].is_ascii_whitespace() {
            run_start = index + 1;
            is_url = false;
        } else if !is_url {
            let run = &bytes[run_start..=index];
            is_url = run.ends_with(b"://") || (run.len() == 4 && run.eq_ignore_ascii_case(b"www."));
        }
    }
}

/// GitLab Flavored Markdown as far as pulldown-cmark knows it
/// (<https://docs.gitlab.com/user/markdown/>). Math (`$…$`) is left off: its delimiter rules differ
/// between the two, and a stray `$` must not hide a real mention.
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

/// Inline tags live inside a block; any other tag starts or ends a block, which closes every raw
/// inline HTML element left open.
fn is_inline(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

fn hides_text(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::CodeBlock
            | TagEnd::BlockQuote(_)
            | TagEnd::Link
            | TagEnd::Image
            | TagEnd::HtmlBlock
    )
}

/// HTML elements that have no content, so their start tag opens nothing.
const VOID_ELEMENTS: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// How one raw inline HTML tag changes the number of open raw elements.
///
/// Deliberate difference from GitLab: GitLab would still find `@claude` in `<b>@claude</b>`; we
/// treat all text inside raw inline HTML as part of the HTML, because people paste rendered pages
/// and logs as HTML far more often than they summon a bot through it. `<code>` (which
/// [`super::neutralize`] relies on) is also hidden by GitLab itself. Comments, declarations and
/// processing instructions (`<!-- … -->`, `<!…>`, `<?…?>`) open nothing: pulldown-cmark already
/// delivers their whole text as HTML.
fn inline_html_depth_change(html: &str) -> isize {
    let Some(tag) = html.strip_prefix('<') else {
        return 0;
    };
    let (closing, tag) = match tag.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, tag),
    };
    let name_len = tag
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(tag.len());
    let name = &tag[..name_len];
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return 0;
    }
    if closing {
        -1
    } else if html.trim_end().ends_with("/>")
        || VOID_ELEMENTS
            .iter()
            .any(|void| void.eq_ignore_ascii_case(name))
    {
        0
    } else {
        1
    }
}

/// GitLab's multi-line blockquotes: a line `>>>` opens a quote that the next such line closes
/// (GitLab's `Banzai::Filter::BlockquoteFenceFilter`, documented at
/// <https://docs.gitlab.com/user/markdown/#multiline-blockquote>). CommonMark does not know this
/// syntax, so the quoted ranges are found here: from each opening fence line to its closing one,
/// skipping fence lines inside code and HTML blocks. Deliberately more lenient than GitLab, which
/// also wants blank lines around the fences: treating a little too much as quoted can only hide a
/// mention, never invent one.
fn fenced_quotes(source: &str, verbatim: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut quotes = Vec::new();
    let mut open: Option<usize> = None;
    let mut start = 0;
    for line in source.split_inclusive('\n') {
        let end = start + line.len();
        let is_fence = line.trim_start_matches(' ').trim_end() == ">>>"
            && !verbatim.iter().any(|block| block.contains(&start));
        if is_fence {
            match open.take() {
                None => open = Some(start),
                Some(from) => quotes.push(from..end),
            }
        }
        start = end;
    }
    quotes
}

/// GitLab's inline diffs, `[- removed -]` / `{- removed -}` and `[+ added +]` / `{+ added +}`
/// (<https://docs.gitlab.com/user/markdown/#inline-diff>), become `span.idiff` elements, whose
/// text GitLab's reference filters skip. Like GitLab's `Banzai::Filter::InlineDiffFilter`, a
/// diff is the shortest match inside one text node (here: one run of contiguous text bytes).
fn inline_diffs(bytes: &[u8], flags: &[u8]) -> Vec<Range<usize>> {
    const KINDS: [(&[u8; 2], &[u8; 2]); 4] = [
        (b"[-", b"-]"),
        (b"{-", b"-}"),
        (b"[+", b"+]"),
        (b"{+", b"+}"),
    ];
    let mut diffs = Vec::new();
    let mut run_start = 0;
    while run_start < bytes.len() {
        if flags[run_start] & TEXT == 0 {
            run_start += 1;
            continue;
        }
        let run_end = (run_start..bytes.len())
            .find(|index| flags[*index] & TEXT == 0)
            .unwrap_or(bytes.len());
        let run = &bytes[run_start..run_end];
        // Where each closer occurs in the run, so every opener finds its closer by binary search.
        let closers: Vec<Vec<usize>> = KINDS
            .iter()
            .map(|(_, close)| {
                run.windows(2)
                    .enumerate()
                    .filter(|(_, pair)| pair == close)
                    .map(|(index, _)| index)
                    .collect()
            })
            .collect();
        let mut index = 0;
        while index + 1 < run.len() {
            let closing = KINDS
                .iter()
                .zip(&closers)
                .find_map(|((open, _), positions)| {
                    if &run[index..index + 2] != *open {
                        return None;
                    }
                    let first = positions.partition_point(|at| *at < index + 2);
                    positions.get(first).copied()
                });
            match closing {
                Some(close_at) => {
                    diffs.push(run_start + index..run_start + close_at + 2);
                    index = close_at + 2;
                }
                None => index += 1,
            }
        }
        run_start = run_end;
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live_at(source: &str, needle: &str) -> bool {
        let map = TextMap::new(source);
        let at = source.find(needle).unwrap();
        map.is_live(at)
    }

    #[test]
    fn plain_paragraph_text_is_live() {
        assert!(live_at("hello @x there", "@x"));
    }

    #[test]
    fn code_link_and_quote_text_is_not_live() {
        for source in [
            "a `@x` b",
            "```\n@x\n```",
            "    @x",
            "> @x",
            "[@x](https://e.com)",
            "<https://e.com/@x>",
            "![@x](i.png)",
            "<div>\n@x\n</div>",
            "a <b>@x</b> c",
            ">>>\nquoted @x\n>>>",
            "was {- @x -} now",
            "a [+@x+] b",
        ] {
            assert!(!live_at(source, "@x"), "{source:?}");
        }
    }

    #[test]
    fn syntax_bytes_are_not_text() {
        let map = TextMap::new("*@x*");
        assert!(!map.is_text(0));
        assert!(map.is_text(1));
        assert!(!map.is_text(3));
    }

    #[test]
    fn void_and_closed_inline_html_leave_text_live() {
        assert!(live_at("a<br>@x", "@x"));
        assert!(live_at("<b>a</b> @x", "@x"));
        assert!(live_at("a <!-- note --> @x", "@x"));
    }

    #[test]
    fn inline_diff_needs_its_closer_in_the_same_text() {
        assert!(live_at("[- @x", "@x"));
        assert!(live_at("[- `c` @x -]", "@x"));
        assert!(live_at("{+ a +} @x", "@x"));
    }

    #[test]
    fn fence_inside_code_block_is_not_a_quote() {
        let source = "```\n>>>\n```\n@x\n\n```\n>>>\n```";
        assert!(live_at(source, "@x"));
    }
}
