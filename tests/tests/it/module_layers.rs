//! The entrypoint's top-level modules form layers (issue 21): no two of them import each other,
//! directly or round a loop, so each can be read, tested and changed from the ones below it.
//! The relay and the scan, which find requests, never import the run flow that answers them.
//!
//! Only the cycles listed in [`ALLOWED_CYCLE_EDGES`] may remain; a new import that closes a loop
//! fails here with the loop's files, and breaking an allowed one fails until it leaves the list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::rust_source;

/// The imports that may still close a loop: none. (The last loop, `agent` → `sandbox` →
/// `proxy` → `budget` → `agent`, ended when the usage and limit types moved to the budget
/// that meters them and the duration parser to `env`.)
const ALLOWED_CYCLE_EDGES: &[(&str, &str)] = &[];

/// Importer → imported → the importer's files that name it.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// The imports between the entrypoint library's top-level modules, from its product code.
fn module_graph() -> Graph {
    let src = rust_source::repository_root().join("entrypoint/src");
    let files = rust_source::rust_files(&src);
    let relative: Vec<Vec<String>> = files
        .iter()
        .map(|file| {
            file.strip_prefix(&src)
                .expect("under src/")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .collect();
    let modules: BTreeSet<String> = relative
        .iter()
        .filter(
            |parts| !matches!(parts.as_slice(), [root] if root == "lib.rs" || root == "main.rs"),
        )
        .map(|parts| parts[0].trim_end_matches(".rs").to_owned())
        .collect();
    let mut graph = Graph::new();
    for (file, parts) in files.iter().zip(&relative) {
        let module = parts[0].trim_end_matches(".rs");
        if !modules.contains(module) {
            continue;
        }
        let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod.rs"));
        for imported in rust_source::crate_modules(file, depth) {
            if imported != module && modules.contains(&imported) {
                graph
                    .entry(module.to_owned())
                    .or_default()
                    .entry(imported)
                    .or_default()
                    .insert(shown(file, &src));
            }
        }
    }
    graph
}

fn shown(file: &Path, src: &Path) -> String {
    file.strip_prefix(src)
        .expect("under src/")
        .display()
        .to_string()
}

/// True when `to` can be reached from `from` along imports.
fn reaches(graph: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut pending = vec![from];
    while let Some(module) = pending.pop() {
        if module == to {
            return true;
        }
        if seen.insert(module) {
            pending.extend(
                graph
                    .get(module)
                    .into_iter()
                    .flat_map(|m| m.keys().map(String::as_str)),
            );
        }
    }
    false
}

#[test]
fn entrypoint_modules_import_each_other_without_cycles() {
    let graph = module_graph();
    assert!(
        graph.len() > 20 && graph["run"].contains_key("answer"),
        "the reader found the modules' imports: {graph:?}"
    );
    let mut unexpected = Vec::new();
    let mut on_cycles = BTreeSet::new();
    for (importer, imports) in &graph {
        for (imported, files) in imports {
            if reaches(&graph, imported, importer) {
                on_cycles.insert((importer.as_str(), imported.as_str()));
                if !ALLOWED_CYCLE_EDGES.contains(&(importer.as_str(), imported.as_str())) {
                    unexpected.push(format!(
                        "{importer} -> {imported} (in {}) closes a loop back to {importer}",
                        files.iter().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "import cycles between entrypoint modules; move the shared item to the lower module \
         or a new small one:\n{}",
        unexpected.join("\n")
    );
    let gone: Vec<_> = ALLOWED_CYCLE_EDGES
        .iter()
        .filter(|edge| !on_cycles.contains(*edge))
        .collect();
    assert!(
        gone.is_empty(),
        "no longer on a cycle, take them off ALLOWED_CYCLE_EDGES: {gone:?}"
    );
}

#[test]
fn relay_and_scan_never_import_from_run() {
    let graph = module_graph();
    for finder in ["relay", "scan"] {
        assert!(
            !graph[finder].contains_key("run"),
            "{finder} imports run in {:?}; it hands requests over through crate::in_job or a pipeline",
            graph[finder].get("run")
        );
    }
}
