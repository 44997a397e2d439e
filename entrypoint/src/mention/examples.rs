//! Examples of what summons an assistant and what does not, one test per behaviour.

use super::*;
use crate::agent::Handle;

fn summoned(text: &str) -> Vec<Assistant> {
    find_mentions(text, &Handles::default())
        .into_iter()
        .map(|m| m.assistant)
        .collect()
}

fn instruction(text: &str) -> String {
    let mentions = find_mentions(text, &Handles::default());
    assert!(!mentions.is_empty(), "{text:?} should summon someone");
    mentions[0].instruction.clone()
}

fn assert_summons(cases: &[&str], expected: &[Assistant]) {
    for text in cases {
        assert_eq!(summoned(text), expected, "note: {text:?}");
    }
}

fn assert_silent(cases: &[&str]) {
    assert_summons(cases, &[]);
}

const CLAUDE: &[Assistant] = &[Assistant::Claude];

#[test]
fn mention_followed_by_punctuation_triggers() {
    assert_summons(
        &[
            "@claude please fix this",
            "@claude, fix this",
            "thanks @Claude.",
            "(@claude)",
            "@claude!",
            "@claude: fix",
            "@claude?",
            "hey @CLAUDE",
            "cc:@claude",
            "'@claude'",
            "@claude/",
            "@claude-",
        ],
        CLAUDE,
    );
}

#[test]
fn longer_usernames_do_not_trigger() {
    assert_silent(&[
        "@claudette",
        "@claude-bot",
        "@claude_code",
        "@claude.team",
        "@claude__init__",
        "@claude\\_code",
        "@claude/tools",
        "@claude2",
    ]);
}

#[test]
fn emails_and_urls_do_not_trigger() {
    assert_silent(&[
        "mail dev@claude.ai",
        "x@claude",
        "https://x/@claude",
        "see https://mastodon.social/@claude",
        "/@claude",
        "www.example.com/@claude",
        "https://example.com/#@claude",
        "first.last@claude",
        "a_@claude",
        "@@claude",
        "é@claude",
        "x\\@claude",
    ]);
}

#[test]
fn escaped_at_sign_still_triggers_as_gitlab_renders_it() {
    assert_summons(&["\\@claude fix"], CLAUDE);
    assert_eq!(instruction("\\@claude fix"), "fix");
}

#[test]
fn code_never_triggers() {
    assert_silent(&[
        "`@claude`",
        "use `@claude fix` to ask",
        "``a ` @claude``",
        "```\n@claude\n```",
        "~~~ text\n@claude fix\n~~~",
        "    @claude indented code",
        "- item\n\n      @claude code in item",
    ]);
}

#[test]
fn quotes_never_trigger() {
    assert_silent(&[
        "> @claude said this",
        "> quoted\n@claude lazy continuation stays in the quote",
        "> > @claude nested",
        ">>>\n@claude in a multi-line quote\n>>>",
        "- > @claude quote in a list",
    ]);
}

#[test]
fn raw_html_and_comments_never_trigger() {
    assert_silent(&[
        "<!-- @claude -->",
        "text <!-- @claude --> text",
        "<!--\n@claude\nmulti-line comment\n-->",
        "<div>\n@claude\n</div>",
        "a <code>@claude</code> b",
        "a <b>@claude</b> b",
        "<img alt=\"@claude\">",
        "<details>\n<summary>@claude</summary>\n</details>",
    ]);
}

#[test]
fn markdown_between_html_blocks_triggers() {
    // A common GitLab idiom: Markdown separated by blank lines from `<details>` tags.
    let note = "<details>\n<summary>Logs</summary>\n\n@claude please look\n\n</details>";
    assert_summons(&[note, "<kbd>Ctrl</kbd> @claude"], CLAUDE);
    assert_eq!(
        instruction(note),
        "<details>\n<summary>Logs</summary>\n\nplease look\n\n</details>"
    );
}

#[test]
fn inline_diffs_never_trigger() {
    assert_silent(&[
        "was {- @claude -} now",
        "[+@claude+]",
        "a [- x @claude y -] b",
    ]);
    assert_summons(&["[- @claude", "{+ done +} @claude"], CLAUDE);
}

#[test]
fn links_never_trigger() {
    assert_silent(&[
        "[@claude](https://example.com)",
        "[ask @claude here](https://example.com)",
        "[docs](https://example.com/@claude)",
        "<https://example.com/@claude>",
        "<dev@claude.ai>",
        "![@claude](image.png)",
        "[ref]\n\n[ref]: https://example.com/@claude",
    ]);
}

#[test]
fn formatted_text_triggers() {
    assert_summons(
        &[
            "# @claude fix the title",
            "Title\n=====\n\n## Ask @claude",
            "- @claude in a list item",
            "1. first\n2. @claude second",
            "- [ ] @claude task",
            "*@claude* emphasised",
            "_@claude_ emphasised",
            "**@claude** strong",
            "~~@claude~~ struck",
            "| who | what |\n|-----|------|\n| @claude | fix |",
            "`code` then @claude",
            "`code`@claude",
            "[link](https://e.com) @claude",
            "text[^1]\n\n[^1]: @claude footnote",
            "<br>@claude",
        ],
        CLAUDE,
    );
}

#[test]
fn underscores_inside_a_username_never_split_it() {
    // pulldown-cmark splits text at `_`; the username is read over the source, so these are
    // one username each.
    assert_silent(&["@claude_code_", "*@claude_code*", "@claude_x_y"]);
    let ai_bot = Handles::new([
        Handle::new("ai_bot").unwrap(),
        Handle::new("codex").unwrap(),
    ])
    .unwrap();
    assert_eq!(
        find_mentions("ping @ai_bot", &ai_bot)[0].assistant,
        Assistant::Claude
    );
}

#[test]
fn configured_handles_replace_the_defaults() {
    let handles = Handles::new([
        Handle::new("ai-bot").unwrap(),
        Handle::new("@Code.Helper").unwrap(),
    ])
    .unwrap();
    let found: Vec<Assistant> = find_mentions("@AI-bot and @code.helper, go", &handles)
        .into_iter()
        .map(|m| m.assistant)
        .collect();
    assert_eq!(found, [Assistant::Claude, Assistant::Codex]);
    assert!(find_mentions("@claude @codex", &handles).is_empty());
    assert!(find_mentions("@ai-bot-2", &handles).is_empty());
    assert_eq!(
        find_mentions("@ai\\-bot fix", &handles)[0].instruction,
        "fix"
    );
}

#[test]
fn repeated_mentions_are_deduplicated() {
    let mentions = find_mentions("@claude do it. @CLAUDE now! @claude", &Handles::default());
    assert_eq!(mentions.len(), 1);
    assert_eq!(mentions[0].assistant, Assistant::Claude);
    assert_eq!(mentions[0].instruction, "do it. now!");
}

#[test]
fn assistants_come_sorted_by_name_with_one_shared_instruction() {
    let mentions = find_mentions("@codex and @claude: compare", &Handles::default());
    assert_eq!(
        mentions,
        [
            Mention {
                assistant: Assistant::Claude,
                instruction: "and compare".to_owned(),
            },
            Mention {
                assistant: Assistant::Codex,
                instruction: "and compare".to_owned(),
            },
        ]
    );
}

#[test]
fn no_mention_gives_an_empty_list() {
    assert!(find_mentions("", &Handles::default()).is_empty());
    assert!(find_mentions("just a comment", &Handles::default()).is_empty());
}

#[test]
fn instruction_is_the_note_without_mentions() {
    for (note, asked) in [
        ("@claude please fix this", "please fix this"),
        ("please @claude fix this", "please fix this"),
        ("fix this @claude", "fix this"),
        ("@claude, @codex: review", "review"),
        ("@claude", ""),
        (
            "\n\n@claude   \n\n\n\nline one   \nline two\n\n\n",
            "line one\nline two",
        ),
    ] {
        assert_eq!(instruction(note), asked, "{note:?}");
    }
}

#[test]
fn instruction_keeps_code_and_indentation() {
    assert_eq!(
        instruction("@claude run this:\n\n    make test  \n\n```\n@codex\n```"),
        "run this:\n\n    make test\n\n```\n@codex\n```"
    );
    assert_eq!(
        instruction("- @claude fix\n  - nested item"),
        "- fix\n  - nested item"
    );
}

#[test]
fn instruction_never_keeps_a_revealed_mention() {
    assert_eq!(instruction("@claude@claude fix"), "fix");
    // The second mention only becomes live once the first is gone; it does not summon Codex.
    assert_eq!(summoned("@claude@codex fix"), CLAUDE);
    assert_eq!(instruction("@claude@codex fix"), "fix");
}

#[test]
fn neutralize_wraps_mentions_in_code() {
    let handles = Handles::default();
    assert_eq!(
        neutralize("Done, @codex can review. Thanks @Claude.", &handles),
        "Done, `@codex` can review. Thanks `@Claude`."
    );
    assert_eq!(neutralize("`x` @claude", &handles), "`x` ``@claude``");
    assert_eq!(
        neutralize("@claude@claude", &handles),
        "`@claude`<code>@claude</code>"
    );
    assert_eq!(neutralize("\\@claude", &handles), "`\\@claude`");
}

#[test]
fn neutralize_leaves_harmless_text_byte_identical() {
    let handles = Handles::default();
    for text in [
        "no mentions here\r\n  with   spacing  ",
        "`@claude` in code and dev@claude.ai and @claudette",
        "> @codex quoted\n",
    ] {
        assert_eq!(neutralize(text, &handles), text);
    }
}

#[test]
fn adversarial_notes_are_handled_in_linear_passes() {
    let handles = Handles::default();
    let long_run = "(@claude".repeat(30_000);
    assert_eq!(instruction(&long_run), "(".repeat(30_000));
    let long_line = "a @claude ".repeat(30_000);
    assert_eq!(instruction(&long_line), "a ".repeat(30_000).trim_end());
    let url_run = format!("https://x/{}", "(@claude".repeat(30_000));
    assert!(find_mentions(&url_run, &handles).is_empty());
    let chain = "@claude".repeat(30_000);
    assert!(find_mentions(&neutralize(&chain, &handles), &handles).is_empty());
}
