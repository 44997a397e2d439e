//! Running one test in a process of its own.
//!
//! Every integration test of a crate is linked into one binary, and plain `cargo test` (what a
//! machine without nextest runs) runs that binary's tests as threads of ONE process. A test
//! that changes something process-wide would change it under its neighbours: the environment
//! (`PATH`, secrets their CLIs would then inherit), a signal sent to the process, or `tracing`'s
//! per-callsite cache, which a neighbour's thread can fill while a scoped subscriber captures.
//! Such a test starts with [`in_own_process`]: called in the test runner's process it runs the
//! binary again with that one test on one thread and fails unless the test passed there; called
//! in that child it returns `true` and the test's body runs alone. Under nextest, which already
//! gives each test a process, the extra process costs a few milliseconds.
//!
//! The entrypoint crate's test binary includes this file too (`#[path]`), so both binaries
//! isolate tests one way.

use std::process::Command;

/// The variable that tells the child which test it runs alone.
const ALONE: &str = "IT_TEST_ALONE";

/// `true` in the child, where the body of test `name` (`module::test_fn`, as the test runner
/// names it) must run; `false` in the parent, after the child ran it and passed (the parent
/// panics with the child's output otherwise, or when no test of that name exists).
pub(crate) fn in_own_process(name: &str) -> bool {
    if std::env::var(ALONE).is_ok_and(|alone| alone == name) {
        return true;
    }
    let binary = std::env::current_exe().expect("the test binary's path");
    let output = Command::new(&binary)
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(ALONE, name)
        .output()
        .expect("running the test binary again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{name} alone in {}: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        binary.display(),
        output.status
    );
    false
}
