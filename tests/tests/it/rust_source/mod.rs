//! The entrypoint's own source, read the way the compiler tokenises it, for the tests that keep
//! the documentation true: which variable names the product code spells, and which messages it
//! can print.
//!
//! Tokens rather than text: string literals keep their real value (escapes, `\` line
//! continuations and raw strings resolved), attributes such as `#[arg(env = "…")]` and
//! `#[error("…")]` are included, and doc comments and `#[cfg(test)]` items are left out, so a
//! name that only a test or a comment spells is not required in the docs.

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// What one source file's product code contains.
#[derive(Debug, Default)]
pub struct Scan {
    /// The value of every string literal.
    pub literals: Vec<String>,
    /// The first literal of every `#[error("…")]`, `.context("…")`, `bail!("…")` and
    /// `anyhow!("…")`: the messages a person reads.
    pub messages: Vec<String>,
}

/// The repository's root: `MODULES`-style lists name product files relative to it.
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `src/` directories of the product's crates: the entrypoint and the crates it is built
/// from (`crates/*`), whose variables and messages reach users the same way.
pub fn product_src_dirs() -> Vec<PathBuf> {
    let root = repository_root();
    let mut dirs = vec![root.join("entrypoint/src")];
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/ readable")
        .map(|entry| entry.expect("directory entry").path().join("src"))
        .filter(|src| src.is_dir())
        .collect();
    crates.sort();
    dirs.extend(crates);
    dirs
}

/// Every product `.rs` file (see [`product_src_dirs`]), sorted per directory.
pub fn product_files() -> Vec<PathBuf> {
    product_src_dirs()
        .iter()
        .flat_map(|dir| rust_files(dir))
        .collect()
}

/// Every `.rs` file under `dir`, sorted, except modules that exist only for tests.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("source directory readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !matches!(
                    path.file_name().and_then(|n| n.to_str()),
                    Some("tests.rs" | "test_support.rs")
                )
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The tokens of the Rust file at `path`.
fn tokens(path: &Path) -> TokenStream {
    let text = std::fs::read_to_string(path).expect("source readable");
    text.parse()
        .unwrap_or_else(|e| panic!("{} does not tokenise: {e}", path.display()))
}

/// Scans one file's product code.
pub fn scan(path: &Path) -> Scan {
    let mut scan = Scan::default();
    walk(tokens(path), &mut scan);
    scan
}

fn string_value(token: &TokenTree) -> Option<String> {
    match token {
        TokenTree::Literal(literal) => syn::parse_str::<syn::LitStr>(&literal.to_string())
            .ok()
            .map(|l| l.value()),
        _ => None,
    }
}

fn first_ident(stream: &TokenStream) -> Option<String> {
    match stream.clone().into_iter().next() {
        Some(TokenTree::Ident(ident)) => Some(ident.to_string()),
        _ => None,
    }
}

/// `cfg(test)` exactly: the attribute of unit-test modules and helpers.
fn is_cfg_test(attribute: &TokenStream) -> bool {
    let tokens: Vec<TokenTree> = attribute.clone().into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Ident(cfg), TokenTree::Group(args)] if cfg == "cfg" => {
            args.stream().to_string() == "test"
        }
        _ => false,
    }
}

/// The inside of the attribute `#[…]` that starts at `at`, if one does.
fn attribute_at(tokens: &[TokenTree], at: usize) -> Option<TokenStream> {
    match (tokens.get(at), tokens.get(at + 1)) {
        (Some(TokenTree::Punct(hash)), Some(TokenTree::Group(attribute)))
            if hash.as_char() == '#' && attribute.delimiter() == Delimiter::Bracket =>
        {
            Some(attribute.stream())
        }
        _ => None,
    }
}

/// The index just past the item that starts at `at` (a `#[cfg(test)]` one being skipped): past
/// its body or its `;`.
fn past_item(tokens: &[TokenTree], mut at: usize) -> usize {
    while let Some(next) = tokens.get(at) {
        at += 1;
        match next {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => break,
            TokenTree::Punct(p) if p.as_char() == ';' => break,
            _ => {}
        }
    }
    at
}

/// The first string literal of a parenthesised group, as in `context("…")`.
fn first_string(token: Option<&TokenTree>) -> Option<String> {
    match token {
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis => group
            .stream()
            .into_iter()
            .next()
            .as_ref()
            .and_then(string_value),
        _ => None,
    }
}

fn walk(stream: TokenStream, scan: &mut Scan) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut at = 0;
    while at < tokens.len() {
        let token = &tokens[at];
        if let (TokenTree::Punct(hash), Some(TokenTree::Group(attribute))) =
            (token, tokens.get(at + 1))
            && hash.as_char() == '#'
            && attribute.delimiter() == Delimiter::Bracket
        {
            let inner = attribute.stream();
            if is_cfg_test(&inner) {
                // Skip the attribute and the item it guards: up to its body or its `;`.
                at += 2;
                at = past_item(&tokens, at);
                continue;
            }
            match first_ident(&inner).as_deref() {
                Some("doc") => {}
                Some("error") => {
                    let mut parts = inner.clone().into_iter();
                    parts.next();
                    if let Some(message) = first_string(parts.next().as_ref()) {
                        scan.messages.push(message);
                    }
                    walk(inner, scan);
                }
                _ => walk(inner, scan),
            }
            at += 2;
            continue;
        }
        match token {
            TokenTree::Ident(ident) if ident == "context" => {
                if let Some(message) = first_string(tokens.get(at + 1)) {
                    scan.messages.push(message);
                }
            }
            TokenTree::Ident(ident) if ident == "bail" || ident == "anyhow" => {
                if matches!(tokens.get(at + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!')
                    && let Some(message) = first_string(tokens.get(at + 2))
                {
                    scan.messages.push(message);
                }
            }
            TokenTree::Group(group) => walk(group.stream(), scan),
            other => {
                if let Some(value) = string_value(other) {
                    scan.literals.push(value);
                }
            }
        }
        at += 1;
    }
}

/// Every place a file's product code branches on one named assistant: a match arm
/// (`Assistant::Claude =>`) or a comparison (`== Assistant::Codex`, `!= …`). `#[cfg(test)]`
/// items, doc comments and other attributes are left out.
pub fn assistant_branches(path: &Path) -> Vec<String> {
    let mut found = Vec::new();
    branches(tokens(path), &mut found);
    found
}

/// Where to go on when an attribute starts at `at`: past it, and past the item it guards when
/// it is `#[cfg(test)]`; `None` when no attribute starts there.
fn past_attribute(tokens: &[TokenTree], at: usize) -> Option<usize> {
    let attribute = attribute_at(tokens, at)?;
    Some(if is_cfg_test(&attribute) {
        past_item(tokens, at + 2)
    } else {
        at + 2
    })
}

/// True when the punctuation at `at` spells `chars` (`=>`, `==`, `!=`).
fn punct_run(tokens: &[TokenTree], at: usize, chars: &str) -> bool {
    chars
        .chars()
        .enumerate()
        .all(|(i, c)| matches!(tokens.get(at + i), Some(TokenTree::Punct(p)) if p.as_char() == c))
}

/// Calls `visit` with every position of `stream`'s product code, at every depth (a group's
/// inside before the group itself); attributes and the items `#[cfg(test)]` guards are passed
/// over.
fn visit_product_code(stream: TokenStream, visit: &mut dyn FnMut(&[TokenTree], usize)) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut at = 0;
    while at < tokens.len() {
        if let Some(next) = past_attribute(&tokens, at) {
            at = next;
            continue;
        }
        if let TokenTree::Group(group) = &tokens[at] {
            visit_product_code(group.stream(), visit);
        }
        visit(&tokens, at);
        at += 1;
    }
}

fn branches(stream: TokenStream, found: &mut Vec<String>) {
    visit_product_code(stream, &mut |tokens, at| {
        if let (TokenTree::Ident(ty), Some(TokenTree::Ident(variant))) =
            (&tokens[at], tokens.get(at + 3))
            && ty == "Assistant"
            && punct_run(tokens, at + 1, "::")
            && *variant != "ALL"
        {
            let arm = punct_run(tokens, at + 4, "=>");
            let compared =
                at >= 2 && (punct_run(tokens, at - 2, "==") || punct_run(tokens, at - 2, "!="));
            if arm {
                found.push(format!("Assistant::{variant} =>"));
            } else if compared {
                found.push(format!("== Assistant::{variant}"));
            }
        }
    });
}

/// The top-level modules of its crate that a product file names: every `crate::<module>` path
/// (in a `use`, an expression, a type, a non-doc attribute), every `crate::{<module>, …}` group
/// and every `super::…::<module>` that climbs to the crate root. `depth` is how deep the file's
/// module sits (1 for `src/scan.rs` and `src/scan/mod.rs`, 2 for `src/scan/retry.rs`). Doc
/// comments (intra-doc links are not imports) and `#[cfg(test)]` items are left out.
pub fn crate_modules(path: &Path, depth: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("source readable");
    let tokens: TokenStream = text
        .parse()
        .unwrap_or_else(|e| panic!("{} does not tokenise: {e}", path.display()));
    let mut found = Vec::new();
    module_paths(tokens, depth, &mut found);
    found.sort();
    found.dedup();
    found
}

/// The identifiers that begin each comma-separated part of a `{…}` use group.
fn group_heads(group: &proc_macro2::Group) -> Vec<String> {
    let mut heads = Vec::new();
    let mut expect_head = true;
    for token in group.stream() {
        match token {
            TokenTree::Ident(ident) if expect_head => {
                heads.push(ident.to_string());
                expect_head = false;
            }
            TokenTree::Punct(p) if p.as_char() == ',' => expect_head = true,
            _ => expect_head = false,
        }
    }
    heads
}

fn module_paths(stream: TokenStream, depth: usize, found: &mut Vec<String>) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut at = 0;
    while at < tokens.len() {
        if let Some(inner) = attribute_at(&tokens, at) {
            at += 2;
            if is_cfg_test(&inner) {
                at = past_item(&tokens, at);
            } else if first_ident(&inner).as_deref() != Some("doc") {
                module_paths(inner, depth, found);
            }
            continue;
        }
        // `crate::` climbs to the root at once, each `super::` one level.
        let mut level = None;
        let mut next = at;
        if matches!(&tokens[at], TokenTree::Ident(i) if i == "crate")
            && punct_run(&tokens, at + 1, "::")
        {
            level = Some(0);
            next = at + 3;
        } else {
            let mut climbed = 0;
            while matches!(tokens.get(next), Some(TokenTree::Ident(i)) if i == "super")
                && punct_run(&tokens, next + 1, "::")
            {
                climbed += 1;
                next += 3;
            }
            if climbed > 0 {
                level = Some(depth.saturating_sub(climbed));
            }
        }
        if level == Some(0) {
            match tokens.get(next) {
                Some(TokenTree::Ident(module)) => found.push(module.to_string()),
                Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                    found.extend(group_heads(group));
                }
                _ => {}
            }
        }
        if let TokenTree::Group(group) = &tokens[at] {
            module_paths(group.stream(), depth, found);
        }
        at += 1;
    }
}

/// The names of the `const` and `static` items a file's product code declares, at any depth
/// (`#[cfg(test)]` items left out): the per-assistant constants the adding-an-assistant guard
/// looks for.
pub fn constants(path: &Path) -> Vec<String> {
    let mut found = Vec::new();
    constant_names(tokens(path), &mut found);
    found
}

fn constant_names(stream: TokenStream, found: &mut Vec<String>) {
    visit_product_code(stream, &mut |tokens, at| {
        if let (TokenTree::Ident(keyword), Some(TokenTree::Ident(name))) =
            (&tokens[at], tokens.get(at + 1))
            && (keyword == "const" || keyword == "static")
        {
            // `static mut NAME`; `const fn` and `const _` name no constant.
            let name = match tokens.get(at + 2) {
                Some(TokenTree::Ident(after)) if name == "mut" => after.to_string(),
                _ => name.to_string(),
            };
            if name != "fn" && name != "_" {
                found.push(name);
            }
        }
    });
}
