//! The binary is the images' ENTRYPOINT, so `docker run IMAGE entrypoint mentions` reaches it
//! as `entrypoint entrypoint mentions`; both forms must work.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs the binary with `args`, `env` and `stdin` written to its standard input.
fn run(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_entrypoint"))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("AI_CLAUDE_HANDLE")
        .env_remove("AI_CODEX_HANDLE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn mentions(args: &[&str]) -> String {
    let output = run(args, &[], b"@codex why?\n");
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

/// GitLab Runner starts the job container with the image's ENTRYPOINT and `sh` as the command,
/// then writes the job script to the shell's standard input.
#[test]
fn a_shell_given_as_the_command_runs_the_script_on_its_stdin() {
    let output = run(
        &["sh", "-s", "--", "job"],
        &[("STAGE", "test")],
        b"echo \"$1 in $STAGE\"\nexit 3\n",
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "job in test\n");
    assert_eq!(output.status.code(), Some(3), "the shell's own exit status");

    let absolute = Command::new(env!("CARGO_BIN_EXE_entrypoint"))
        .args(["entrypoint", "/bin/sh", "-c", "echo $0", "named"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&absolute.stdout), "named\n");
}

#[test]
fn an_unknown_word_is_still_an_unknown_subcommand() {
    let output = Command::new(env!("CARGO_BIN_EXE_entrypoint"))
        .arg("no-such-program-or-subcommand")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unrecognized subcommand"));
}
