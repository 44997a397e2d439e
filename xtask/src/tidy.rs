//! Checks on the source tree itself, run as ordinary `#[test]`s (rust-analyzer's `tidy.rs`).

use std::path::{Path, PathBuf};

/// The command modules (`src/commands/*.rs`, without `mod.rs`), by name.
fn command_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_owned();
            (name != "mod").then_some((name, path))
        })
        .collect();
    files.sort();
    files
}

/// The lines of `source` (the command `name`) that reach into another command: through
/// `crate::commands::…` or `super::<other command>`. A command composes the library folders
/// (`images`, `registry`, `engine`, …); what two commands share belongs there, so that running
/// one command never means reading another.
fn imports_of_other_commands(name: &str, source: &str, commands: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let through_crate = code.contains("crate::commands::");
        let through_super = commands.iter().any(|other| {
            other != name
                && (code.contains(&format!("super::{other}::"))
                    || code.contains(&format!("super::{other};"))
                    || code.contains(&format!("super::super::{other}")))
        });
        if through_crate || through_super {
            found.push(format!("{name}.rs:{}: {}", number + 1, line.trim()));
        }
    }
    found
}

#[test]
fn commands_never_import_each_other() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let files = command_files(&dir);
    assert!(
        files.len() >= 10,
        "expected the command modules in {}",
        dir.display()
    );
    let names: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
    let mut offending = Vec::new();
    for (name, path) in &files {
        let source = std::fs::read_to_string(path).unwrap();
        offending.extend(imports_of_other_commands(name, &source, &names));
    }
    assert!(
        offending.is_empty(),
        "a command imports another command; move what they share into a library folder \
         (images/, registry/, engine/, supply_chain/, scenarios/, util/):\n{}",
        offending.join("\n")
    );
}

#[test]
fn the_check_sees_both_ways_of_importing_a_command() {
    let names = vec!["publish".to_owned(), "build_images".to_owned()];
    let source = "use crate::images::build;\nuse crate::commands::publish::Target;\n\
                  fn f() { super::publish::run(); }\n// crate::commands::publish in a comment\n";
    let found = imports_of_other_commands("build_images", source, &names);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("build_images.rs:2:"), "{found:?}");
    assert!(found[1].starts_with("build_images.rs:3:"), "{found:?}");
    assert!(imports_of_other_commands("publish", "use super::*;\n", &names).is_empty());
}
