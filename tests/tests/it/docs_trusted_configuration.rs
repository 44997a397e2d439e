//! docs/security.md's "Trusted configuration" table quotes the paths the entrypoint takes from
//! the target branch (each assistant's list in `entrypoint/src/agent/<name>/trusted.rs`,
//! gathered by `entrypoint::workspace::trusted_paths`): every path, each assistant that reads it
//! and its CLI documentation link appear there, and the page lists no path the code does not
//! restore.

use entrypoint::workspace::trusted_paths;

fn section() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/security.md");
    let page = std::fs::read_to_string(path).expect("docs/security.md");
    let start = page
        .find("## Trusted configuration")
        .expect("a Trusted configuration section");
    let rest = &page[start + 2..];
    let end = rest.find("\n## ").map_or(rest.len(), |i| i + 1);
    rest[..end].to_owned()
}

/// The paths in a row's first cell, without a directory's trailing `/`.
fn paths_of(row: &str) -> Vec<&str> {
    row.split('|')
        .nth(1)
        .unwrap_or("")
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|p| p.trim_end_matches('/'))
        .collect()
}

#[test]
fn every_trusted_path_is_in_the_security_page() {
    let section = section();
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
    for (assistant, trusted) in trusted_paths() {
        let row = rows
            .iter()
            .find(|row| paths_of(row).contains(&trusted.name))
            .unwrap_or_else(|| panic!("{} has no row in docs/security.md", trusted.name));
        let name = assistant.display_name();
        assert!(
            row.contains(name),
            "{} row names {name}: {row}",
            trusted.name
        );
        assert!(
            row.contains(trusted.doc),
            "{} row links {}: {row}",
            trusted.name,
            trusted.doc
        );
    }
    for row in rows {
        for name in paths_of(row) {
            assert!(
                trusted_paths().any(|(_, t)| t.name == name),
                "docs/security.md lists {name}, which the entrypoint does not restore"
            );
        }
    }
}
