//! `entrypoint finalize`, as the template's `after_script` runs it.

use std::process::{Command, Output};

fn finalize(vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_entrypoint"))
        .arg("finalize")
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn outside_after_script_it_says_where_to_run_it() {
    let output = finalize(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CI_JOB_STATUS"), "{stderr}");
    assert!(stderr.contains("after_script"), "{stderr}");
}

#[test]
fn a_job_that_never_started_a_run_has_nothing_to_finalize() {
    let dir = tempfile::tempdir().unwrap();
    let output = finalize(&[
        ("CI_JOB_STATUS", "canceled"),
        ("CI_PROJECT_DIR", dir.path().to_str().unwrap()),
    ]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("0 placeholder(s) replaced"), "{stdout}");
}

#[test]
fn a_broken_state_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, "{not json").unwrap();
    let output = finalize(&[
        ("CI_JOB_STATUS", "failed"),
        ("AI_STATE_FILE", state.to_str().unwrap()),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not valid"), "{stderr}");
}
