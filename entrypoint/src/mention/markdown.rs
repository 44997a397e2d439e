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
/// The byte is inside a code or HTML block, where a `>>>` line is content, not a quote fence.
const VERBATIM: u8 = 8;

/// A note is parsed in pieces of about this many bytes, cut at blank lines between top-level
/// blocks. pulldown-cmark keeps a tree node (about 60 bytes) for every block, text run and
/// delimiter of what it parses, up to one per byte of input; parsing a whole 1 MB note at once
/// cost 80 MB. In pieces, the tree never holds more than one piece.
const PIECE: usize = 16 * 1024;

/// A piece that finds no clean cut by this size takes the rest of the note (see
/// [`TextMap::new`]).
const LARGEST_PIECE: usize = 64 * 1024;

/// One flag set per byte of the note.
pub(super) struct TextMap {
    flags: Vec<u8>,
}

impl TextMap {
    /// Parses `source` as GitLab Flavored Markdown (CommonMark plus the GFM extensions GitLab
    /// renders: tables, strikethrough, task lists, footnotes, and `>>>` multi-line quotes).
    ///
    /// Long notes are parsed piece by piece ([`PIECE`]), each cut at a blank line after which a
    /// new top-level block starts at column 0, and only where the piece's own parse shows no
    /// code or HTML block running into the cut: such a cut parses exactly as the whole note
    /// would, except for link reference and footnote definitions that a piece cannot see (see
    /// [`pieces`]). Inside one long paragraph, list, quote or table the cut falls between two
    /// of its lines ([`continues_alike`]); inside one line longer than a piece, between two of
    /// its words where no code span, link or inline HTML is left open ([`inline_clean`]). What
    /// finds no cut within [`LARGEST_PIECE`] bytes (a code block that never closes, a long
    /// quote line, a line with an opener at every word) is parsed whole, at the parser's cost.
    pub(super) fn new(source: &str) -> Self {
        let mut flags = vec![0u8; source.len()];
        for piece in pieces(source) {
            let Piece::Parsed(range) = piece;
            mark_piece(source, range, &mut flags);
        }
        let mut hidden_ranges = fenced_quotes(source, &flags);
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

/// A stretch of the note, parsed on its own.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Parsed(Range<usize>),
}

/// Cuts `source` into pieces that parse on their own as they do in the whole note.
///
/// Link reference definitions (`[x]: https://…`) and footnote definitions apply to the whole
/// note; a piece that does not hold the definition reads `[@claude][x]` as text instead of a
/// link. So a long note with anything that could be such a definition is parsed whole.
fn pieces(source: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    if source.len() <= PIECE {
        pieces.push(Piece::Parsed(0..source.len()));
        return pieces;
    }
    // Every definition has `]:` (`[label]: …`, `[^note]: …`), wherever it is nested.
    let has_definitions = source.contains("]:");
    if has_definitions {
        pieces.push(Piece::Parsed(0..source.len()));
        return pieces;
    }
    let closers = Closers::of(source);
    let inside_line = |source: &str, range: Range<usize>| inline_clean(source, range, &closers);
    let mut start = 0;
    while start < source.len() {
        if source.len() - start <= PIECE {
            pieces.push(Piece::Parsed(start..source.len()));
            break;
        }
        // Between blocks if possible; inside one long paragraph, list, quote or table, between
        // its lines.
        // A shorter piece rather than none, when nothing fits the usual size.
        // A line longer than a piece: between two of its words.
        let cut = [PIECE, 1].into_iter().find_map(|least| {
            find_cut(source, start, least, next_cut, &ends_cleanly)
                .or_else(|| find_cut(source, start, least, next_line_cut, &continues_alike))
                .or_else(|| find_cut(source, start, least, next_word_cut, &inside_line))
        });
        match cut {
            Some(cut) => {
                pieces.push(Piece::Parsed(start..cut));
                start = cut;
            }
            None => {
                // No cut that reads alike: one block that never closes (an unclosed fence), a
                // long quote or table line, or inline code, links or HTML left open at every
                // word. Read it whole: correct, at the parser's own cost.
                pieces.push(Piece::Parsed(start..source.len()));
                break;
            }
        }
    }
    pieces
}

/// The first cut `least` bytes or more after `start` that `next` offers and `clean` accepts,
/// within [`LARGEST_PIECE`]. A block left open at one cut is usually closed a few lines on:
/// the next cuts are tried, then the search leaps, so a piece is parsed a bounded number of
/// times.
fn find_cut(
    source: &str,
    start: usize,
    least: usize,
    next: fn(&[u8], usize, usize) -> Option<usize>,
    clean: &dyn Fn(&str, Range<usize>) -> bool,
) -> Option<usize> {
    let mut wanted = start + least;
    let mut attempts = 0;
    while wanted - start <= LARGEST_PIECE {
        let candidate = next(source.as_bytes(), wanted, start + LARGEST_PIECE)?;
        if candidate - start > LARGEST_PIECE {
            return None;
        }
        if clean(source, start..candidate) {
            return Some(candidate);
        }
        attempts += 1;
        wanted = if attempts < 8 {
            candidate + 1
        } else {
            start + (candidate - start) * 2
        };
    }
    None
}

/// The first line at or after `from` (and not after `limit`) that starts at column 0 right after
/// a non-blank line.
fn next_line_cut(bytes: &[u8], from: usize, limit: usize) -> Option<usize> {
    column0_line_after(bytes, from, limit, false)
}

/// The first non-blank line at or after `from` (and not after `limit`) that starts at column 0
/// and whose previous line is blank (`after_blank`) or not blank (`!after_blank`): the offset of
/// its first byte. The line before the first one looked at counts as the opposite of what is
/// asked, so the first line never qualifies by its predecessor alone.
fn column0_line_after(bytes: &[u8], from: usize, limit: usize, after_blank: bool) -> Option<usize> {
    let mut line_start = bytes[..from.min(bytes.len())]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |nl| nl + 1);
    let mut previous_blank = !after_blank;
    while line_start < bytes.len() && line_start <= limit {
        let line_end = bytes[line_start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |nl| line_start + nl);
        let line = &bytes[line_start..line_end];
        let blank = line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
        if previous_blank == after_blank
            && !blank
            && line_start >= from
            && !matches!(line[0], b' ' | b'\t')
        {
            return Some(line_start);
        }
        previous_blank = blank;
        line_start = line_end + 1;
    }
    None
}

/// True when the line at the end of `source[range]` continues the piece's last block in a way
/// that reads the same on its own: after a paragraph, any line at column 0 (a new paragraph
/// instead of the same one: its text stays text); after a list, a new item; after a quote, a
/// quoted line; after a table, a row; after a heading or a rule, anything. Code and HTML
/// blocks never: their end is not known from the piece.
///
/// Deliberate difference from one parse: a code span, link or inline HTML element that spans
/// this very line break inside a paragraph longer than [`PIECE`] is read as text from the cut
/// on. Only notes of such paragraphs are affected, and only by reading a mention their author
/// wrote as live.
fn continues_alike(source: &str, range: Range<usize>) -> bool {
    let next = source.as_bytes().get(range.end..).unwrap_or_default();
    let piece = &source[range];
    let mut depth = 0usize;
    let mut last = None;
    for (event, _) in Parser::new_ext(piece, options()).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    last = Some(tag.to_end());
                }
                depth += 1;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Rule if depth == 0 => last = None,
            _ => {}
        }
    }
    let starts = |prefix: &[u8]| next.starts_with(prefix);
    let list_item = || {
        matches!(next.first(), Some(b'-' | b'*' | b'+')) && matches!(next.get(1), Some(b' ')) || {
            let digits = next.iter().take_while(|b| b.is_ascii_digit()).count();
            digits > 0
                && matches!(next.get(digits), Some(b'.' | b')'))
                && matches!(next.get(digits + 1), Some(b' '))
        }
    };
    match last {
        None | Some(TagEnd::Paragraph | TagEnd::Heading(_)) => true,
        Some(TagEnd::List(_)) => list_item(),
        Some(TagEnd::BlockQuote(_)) => starts(b">"),
        Some(TagEnd::Table) => starts(b"|"),
        Some(_) => false,
    }
}

/// Where the last byte that can close an inline construct is: a construct opened before a cut
/// can only run past it when its closer comes later in the note.
struct Closers {
    backtick: Option<usize>,
    bracket: Option<usize>,
    angle: Option<usize>,
}

impl Closers {
    fn of(source: &str) -> Self {
        let bytes = source.as_bytes();
        let last = |byte: u8| bytes.iter().rposition(|b| *b == byte);
        Self {
            backtick: last(b'`'),
            bracket: last(b']'),
            angle: last(b'>'),
        }
    }

    fn after(at: Option<usize>, cut: usize) -> bool {
        at.is_some_and(|at| at >= cut)
    }
}

/// The first place at or after `from` (and not after `limit`) inside a line, after some
/// non-blank text of it, where a word starting with an ASCII letter or `@` follows a space or
/// an emphasis delimiter: a piece starting there is paragraph text (neither can open a block),
/// and no `@name` is split.
fn next_word_cut(bytes: &[u8], from: usize, limit: usize) -> Option<usize> {
    let end = limit.min(bytes.len().saturating_sub(1));
    let mut index = from.max(1);
    while index <= end {
        if (bytes[index].is_ascii_alphabetic() || bytes[index] == b'@')
            && matches!(bytes[index - 1], b' ' | b'\t' | b'*' | b'_' | b'~')
        {
            let line_start = bytes[..index]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |nl| nl + 1);
            if bytes[line_start..index]
                .iter()
                .any(|b| !matches!(b, b' ' | b'\t' | b'\r'))
            {
                return Some(index);
            }
        }
        index += 1;
    }
    None
}

/// True when a cut inside a line at the end of `source[range]` reads alike: the line is a
/// paragraph or heading (whose text is live either way, where a quote or a table row would
/// not be) and none of its code spans, links or inline HTML elements is left open with a
/// closer further on in the note. A literal `` ` ``, `[` or `<` in its text is such an opener
/// (the parser gives unmatched delimiters back as text).
fn inline_clean(source: &str, range: Range<usize>, closers: &Closers) -> bool {
    let cut = range.end;
    let piece = &source[range];
    let mut depth = 0usize;
    let mut last = None;
    let mut open_html = 0isize;
    let mut literal = (false, false, false);
    for (event, _) in Parser::new_ext(piece, options()).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    last = Some(tag.to_end());
                    open_html = 0;
                    literal = (false, false, false);
                }
                depth += 1;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(text) => {
                literal.0 |= text.contains('`');
                literal.1 |= text.contains('[');
                literal.2 |= text.contains('<');
            }
            Event::InlineHtml(html) => open_html += inline_html_depth_change(&html),
            _ => {}
        }
    }
    matches!(last, Some(TagEnd::Paragraph | TagEnd::Heading(_)))
        && open_html == 0
        && !(literal.0 && Closers::after(closers.backtick, cut))
        && !(literal.1 && Closers::after(closers.bracket, cut))
        && !(literal.2 && Closers::after(closers.angle, cut))
}

/// The first place at or after `from` (and not after `limit`) where a line that starts a
/// top-level block at column 0 follows a blank line: the offset of that line's first byte.
fn next_cut(bytes: &[u8], from: usize, limit: usize) -> Option<usize> {
    column0_line_after(bytes, from, limit, true)
}

/// True when no code or HTML block of `source[range]`, parsed alone, runs to its end: the
/// blank line before the cut then closes every open block in the whole note too.
fn ends_cleanly(source: &str, range: Range<usize>) -> bool {
    let piece = &source[range];
    let content_end = piece.trim_end_matches(['\n', ' ', '\t', '\r']).len();
    Parser::new_ext(piece, options())
        .into_offset_iter()
        .all(|(event, span)| match event {
            Event::End(TagEnd::CodeBlock | TagEnd::HtmlBlock) => span.end <= content_end + 1,
            _ => true,
        })
}

/// Marks the text of `source[range]`, parsed on its own, in `flags`.
fn mark_piece(source: &str, range: Range<usize>, flags: &mut [u8]) {
    let offset = range.start;
    let piece = &source[range];
    // Containers whose text never mentions anyone: code blocks, quotes, HTML blocks, links and
    // images (a mention inside a link is rendered as the link: GitLab's `a` ancestor rule).
    let mut hidden = 0usize;
    // Raw inline HTML elements open in the current block (see `inline_html_depth_change`).
    let mut inline_html = 0usize;
    for (event, span) in Parser::new_ext(piece, options()).into_offset_iter() {
        let span = span.start + offset..span.end + offset;
        match event {
            Event::Start(tag) => {
                let end = tag.to_end();
                if !is_inline(&end) {
                    inline_html = 0;
                }
                if matches!(end, TagEnd::CodeBlock | TagEnd::HtmlBlock)
                    && let Some(bytes) = flags.get_mut(span)
                {
                    bytes.iter_mut().for_each(|flag| *flag |= VERBATIM);
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
                if let Some(bytes) = flags.get_mut(span) {
                    bytes
                        .iter_mut()
                        .for_each(|byte| *byte = (*byte & VERBATIM) | flag);
                }
            }
            Event::InlineHtml(html) => {
                inline_html = inline_html.saturating_add_signed(inline_html_depth_change(&html));
            }
            _ => {}
        }
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
fn fenced_quotes(source: &str, flags: &[u8]) -> Vec<Range<usize>> {
    let mut quotes = Vec::new();
    let mut open: Option<usize> = None;
    let mut start = 0;
    for line in source.split_inclusive('\n') {
        let end = start + line.len();
        let is_fence = line.trim_start_matches(' ').trim_end() == ">>>"
            && flags.get(start).is_none_or(|flag| flag & VERBATIM == 0);
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
        // The next closer of each kind at or after the last position asked for: positions only
        // grow, so each kind's closers are searched for once in all (no table of positions).
        let mut next_closer: [Option<Option<usize>>; 4] = [None; 4];
        let mut index = 0;
        while index + 1 < run.len() {
            let closing = KINDS.iter().enumerate().find_map(|(kind, (open, close))| {
                if &run[index..index + 2] != *open {
                    return None;
                }
                let from = index + 2;
                let cached = next_closer[kind];
                let found = match cached {
                    Some(Some(at)) if at >= from => Some(at),
                    Some(None) => None,
                    _ => run
                        .get(from..)
                        .and_then(|rest| rest.windows(2).position(|pair| pair == *close))
                        .map(|at| from + at),
                };
                next_closer[kind] = Some(found);
                found
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

    /// The map as one parse of the whole note would make it.
    fn whole(source: &str) -> Vec<u8> {
        let mut flags = vec![0u8; source.len()];
        mark_piece(source, 0..source.len(), &mut flags);
        let mut hidden_ranges = fenced_quotes(source, &flags);
        hidden_ranges.extend(inline_diffs(source.as_bytes(), &flags));
        for range in hidden_ranges {
            flags[range].iter_mut().for_each(|flag| *flag &= !LIVE);
        }
        mark_after_urls(source.as_bytes(), &mut flags);
        flags
    }

    #[test]
    fn a_long_note_parsed_in_pieces_reads_as_the_whole_note() {
        let blocks = [
            "A paragraph @x with *emphasis* and `code @x`\nover two lines.\n\n",
            "```\ncode @x\n\n@x still code\n```\n\n",
            "- item @x\n- item\n\n  continued @x\n\n",
            "> quoted @x\n\n",
            "<div>\n@x\n</div>\n\n",
            "<!--\n\n@x hidden across a blank line\n\n-->\n\n",
            ">>>\nfenced quote @x\n\n>>>\n\n",
            "    indented @x\n\n",
            "| a | b |\n|---|---|\n| @x | [+@x+] |\n\n",
            "# heading @x\n\n",
        ];
        let mut source = String::new();
        let mut n = 0;
        while source.len() < 5 * LARGEST_PIECE {
            source.push_str(blocks[n % blocks.len()]);
            n += 1;
        }
        source.push_str("```\nnever closed @x\n\n@x\n");
        assert!(
            pieces(&source).len() > 5,
            "the note was not cut: {:?}",
            pieces(&source).len()
        );
        reads_as_whole(&source);
    }

    fn live_at(source: &str, needle: &str) -> bool {
        let map = TextMap::new(source);
        let at = source.find(needle).unwrap();
        map.is_live(at)
    }

    #[test]
    fn a_long_paragraph_is_cut_between_its_lines() {
        let source = format!("{}\n@x", "a *b* `c` line\n".repeat(LARGEST_PIECE / 4));
        assert!(pieces(&source).len() > 4, "{:?}", pieces(&source).len());
        assert!(live_at(&source, "@x"));
        // One line, longer than any piece: cut between its words.
        let one_line = format!("{}@x", "a *b* ".repeat(LARGEST_PIECE));
        assert!(pieces(&one_line).len() > 4, "{:?}", pieces(&one_line).len());
        assert!(live_at(&one_line, "@x"));
    }

    /// Every `@x` of `source` is live exactly when one parse of the whole note says so.
    fn reads_as_whole(source: &str) {
        let map = TextMap::new(source);
        let expected = whole(source);
        for (at, _) in source.match_indices("@x") {
            assert_eq!(
                map.is_live(at),
                expected[at] & LIVE != 0,
                "at {at}: {:?}",
                &source[at.saturating_sub(40)..at + 2]
            );
        }
    }

    #[test]
    fn a_long_single_line_is_cut_only_where_it_reads_alike() {
        let unit = "word *em* _u_ `code @x` [link @x](https://e.example) <b>html @x</b> @x plain ";
        let line = unit.repeat(3 * LARGEST_PIECE / unit.len());
        assert!(pieces(&line).len() > 4, "{:?}", pieces(&line).len());
        reads_as_whole(&line);
        // A heading line is cut too; a quote line (whose text never mentions anyone) and a
        // list item (which may hold one) are read whole.
        let heading = format!("# {line}");
        assert!(pieces(&heading).len() > 4);
        reads_as_whole(&heading);
        for prefix in ["> ", "- "] {
            let source = format!("{prefix}{line}");
            assert_eq!(pieces(&source).len(), 1, "{prefix}");
            reads_as_whole(&source);
        }
        // A code span, link or HTML element left open at every word, closed at the very end:
        // never cut inside it.
        for (open, close) in [("`", "`"), ("[", "](https://e.example)"), ("<b>", "</b>")] {
            let source = format!(
                "start {open}{} @x{close} @x",
                "plain words @x ".repeat(LARGEST_PIECE / 3)
            );
            reads_as_whole(&source);
        }
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
