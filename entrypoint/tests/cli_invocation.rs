//! The binary is the images' ENTRYPOINT, so `docker run IMAGE entrypoint mentions` reaches it
//! as `entrypoint entrypoint mentions`; both forms must work.

use std::io::Write;
use std::process::{Command, Stdio};

fn mentions(args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_entrypoint"))
        .args(args)
        .env_remove("AI_CLAUDE_HANDLE")
        .env_remove("AI_CODEX_HANDLE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"@codex why?\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_repeated_program_name_from_docker_run_is_ignored() {
    let direct = mentions(&["mentions"]);
    assert_eq!(
        direct,
        "{\"mentions\":[{\"assistant\":\"codex\",\"instruction\":\"why?\"}]}\n"
    );
    assert_eq!(mentions(&["entrypoint", "mentions"]), direct);
}
