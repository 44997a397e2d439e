//! The large merge request the context and run benchmarks measure on (`#[path]`-included by
//! `context_bench` and `run_overhead`, so both time the same thing).

use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{MrSpec, NoteSpec, Noteable, SeededNoteable};
use doubles::gitlab::repo::{FileChange, Signature};

/// Commits `files` Rust modules of 40 functions each to `feature`, opens the merge request
/// "Big change" from it into `main` as `author`, and adds `notes` review comments by them.
pub fn seed(
    gl: &GitLabDouble,
    project: u64,
    author: u64,
    files: usize,
    notes: usize,
) -> anyhow::Result<SeededNoteable> {
    let changes: Vec<FileChange> = (0..files)
        .map(|i| {
            let functions: String = (0..40)
                .map(|l| format!("pub fn f{l}() -> u32 {{ {i} + {l} }}\n"))
                .collect();
            FileChange::write(format!("src/module_{i:03}.rs"), functions)
        })
        .collect();
    let signature = Signature::new("Dev", "dev@example.com");
    gl.repo(project)?
        .commit("feature", &changes, "Add modules\n", &signature)?;
    let mr = gl.create_merge_request(
        project,
        MrSpec::new(author, "feature", "main", "Big change"),
    )?;
    for i in 0..notes {
        let body = format!("Review comment {i}: please look at module {}.", i % files);
        gl.add_note(
            project,
            Noteable::MergeRequest(mr.iid),
            NoteSpec::new(author, &body),
        )?;
    }
    Ok(mr)
}
