//! Properties of the mention parser over generated notes.

use proptest::prelude::*;

use super::instruction::normalise;
use super::*;

/// Pieces of Markdown that exercise every decision of the parser.
const MARKDOWN_PIECES: &[&str] = &[
    "@",
    "@claude",
    "@Codex",
    "@claude_code",
    "claude",
    "codex",
    "`",
    "```",
    "~~~",
    ">",
    ">>>",
    "<!--",
    "-->",
    "<code>",
    "</code>",
    "<b>",
    "<br>",
    "[",
    "](",
    ")",
    "]",
    "<",
    "\\",
    "_",
    "*",
    "|",
    "-",
    ".",
    ",",
    ":",
    "/",
    "https://",
    "x",
    "é",
    " ",
    "  ",
    "    ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "#",
    "1. ",
    "- ",
];

fn markdown_ish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(MARKDOWN_PIECES), 0..48)
        .prop_map(|pieces| pieces.concat())
}

fn any_note() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), markdown_ish()]
}

/// Text that cannot open or close any Markdown construct: no list markers, no `@`, no
/// backticks, brackets, `<`, `>`, `\`, emphasis or table syntax.
fn plain() -> impl Strategy<Value = String> {
    "[a-z ,!?]{0,12}(\n[a-z ,!?]{0,12}){0,2}"
}

/// Code content on one line, with at least one mention.
fn code_line() -> impl Strategy<Value = String> {
    let filler = prop::collection::vec(
        prop::sample::select(&[" ", "fix", "_", ".", "@", "@codex", "x@claude"][..]),
        0..4,
    );
    let mention = prop::sample::select(&["@claude", "@CLAUDE", "@codex", "@Claude."][..]);
    (filler.clone(), mention, filler)
        .prop_map(|(before, mention, after)| before.concat() + mention + &after.concat())
}

/// A note whose every `@` sits inside inline code, a fenced block or an indented block.
fn note_with_mentions_only_in_code() -> impl Strategy<Value = String> {
    let code = prop_oneof![
        code_line().prop_map(|line| format!(" `{line}` ")),
        prop::collection::vec(code_line(), 1..4)
            .prop_map(|lines| format!("\n```\n{}\n```\n", lines.join("\n"))),
        prop::collection::vec(code_line(), 1..4)
            .prop_map(|lines| format!("\n~~~ text\n{}\n~~~\n", lines.join("\n"))),
        code_line().prop_map(|line| format!("\n\n    {line}\n\n")),
    ];
    prop::collection::vec((plain(), code), 1..6)
        .prop_map(|parts| parts.into_iter().map(|(text, code)| text + &code).collect())
}

fn is_subsequence(inner: &str, outer: &str) -> bool {
    let mut outer = outer.chars();
    inner.chars().all(|c| outer.any(|o| o == c))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics(text in any_note()) {
        let handles = Handles::default();
        let _ = find_mentions(&text, &handles);
        let _ = neutralize(&text, &handles);
    }

    #[test]
    fn mentions_inside_code_never_trigger(text in note_with_mentions_only_in_code()) {
        prop_assert!(text.contains('@'));
        prop_assert_eq!(find_mentions(&text, &Handles::default()), vec![]);
    }

    #[test]
    fn instruction_is_a_fixed_point(text in any_note()) {
        let handles = Handles::default();
        for mention in find_mentions(&text, &handles) {
            prop_assert_eq!(find_mentions(&mention.instruction, &handles), vec![]);
            prop_assert_eq!(normalise(&mention.instruction), mention.instruction.clone());
        }
    }

    #[test]
    fn instruction_only_drops_text(text in any_note()) {
        let handles = Handles::default();
        for mention in find_mentions(&text, &handles) {
            prop_assert!(
                is_subsequence(&mention.instruction, &text),
                "instruction {:?} adds to the note", mention.instruction
            );
            let handle = format!("@{}", handles.handle(mention.assistant));
            prop_assert!(text.to_ascii_lowercase().contains(&handle));
        }
    }

    #[test]
    fn neutralize_changes_exactly_the_notes_that_summon(text in any_note()) {
        let handles = Handles::default();
        let summons = !find_mentions(&text, &handles).is_empty();
        prop_assert_eq!(neutralize(&text, &handles) != text, summons);
    }

    #[test]
    fn instruction_is_shared_and_sorted(text in markdown_ish()) {
        let mentions = find_mentions(&text, &Handles::default());
        prop_assert!(mentions.windows(2).all(|pair| pair[0].assistant < pair[1].assistant));
        prop_assert!(mentions.windows(2).all(|pair| pair[0].instruction == pair[1].instruction));
    }

    #[test]
    fn neutralized_text_summons_no_one(text in any_note()) {
        let handles = Handles::default();
        let safe = neutralize(&text, &handles);
        prop_assert_eq!(find_mentions(&safe, &handles), vec![]);
        prop_assert_eq!(neutralize(&safe, &handles), safe.clone());
        prop_assert!(is_subsequence(&text, &safe), "neutralize only inserts: {:?}", safe);
    }
}
