//! The bot token never appears in any git process's arguments (world-readable in
//! `/proc/<pid>/cmdline`) and only reaches the environment of the git commands that talk to
//! GitLab. A logging `git` wrapper first on `PATH` records every invocation. The test changes
//! the process's `PATH`, so it runs in a process of its own ([`in_own_process`]).

use std::os::unix::fs::PermissionsExt;

use crate::support::git_remote::{BOT_TOKEN as TOKEN, GitServer, identity, issue};
use crate::support::own_process::in_own_process;

use base64::Engine;
use entrypoint::gitlab::ids::IssueIid;
use entrypoint::workspace::{BranchPrefix, PushDestination, PushOutcome};

#[test]
fn token_is_never_a_process_argument() {
    // It changes the process's `PATH`.
    if !in_own_process("workspace_token_exposure::token_is_never_a_process_argument") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let real_git = which_git();
    let shim_dir = dir.path().join("bin");
    std::fs::create_dir_all(&shim_dir).unwrap();
    let log = dir.path().join("git.log");
    let shim = shim_dir.join("git");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nif [ -n \"$GIT_CONFIG_VALUE_0\" ]; then auth=AUTH; else auth=NOAUTH; fi\nprintf '%s %s\\n' \"$auth\" \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real_git
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        shim_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // SAFETY: this test runs alone in its process (see above), and no other thread exists yet.
    unsafe { std::env::set_var("PATH", path) };

    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(scenario());

    let log = std::fs::read_to_string(&log).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("oauth2:{TOKEN}"));
    assert!(!log.contains(TOKEN) && !log.contains(&encoded), "{log}");
    let ours: Vec<&str> = log
        .lines()
        .filter(|l| !l.contains("http-backend"))
        .collect();
    assert!(
        ours.iter()
            .any(|l| l.starts_with("AUTH ") && l.contains(" push ")),
        "{log}"
    );
    assert!(
        ours.iter()
            .any(|l| l.starts_with("AUTH ") && l.contains(" fetch ")),
        "{log}"
    );
    for line in &ours {
        if line.starts_with("AUTH ") {
            assert!(
                line.contains(" fetch ") || line.contains(" push ") || line.contains("remote-http"),
                "credentials given to a local command: {line}"
            );
        }
    }
    assert!(
        ours.iter()
            .any(|l| l.starts_with("NOAUTH ") && l.contains(" commit ")),
        "{log}"
    );
}

fn which_git() -> String {
    let output = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The product's post-run flow for an issue against the double's git: a checkout, a commit
/// and a push to a new branch.
async fn scenario() {
    let server = GitServer::start().await;
    let work = server.local_clone("work");
    let mut workspace = server.open(&work).await;
    workspace.checkout(issue()).await.unwrap();
    std::fs::write(work.join("a.txt"), "a\n").unwrap();
    let branch = BranchPrefix::new("claude/")
        .unwrap()
        .issue_branch(IssueIid(1), "A");
    workspace.start_branch(&branch).await.unwrap();
    workspace.commit(&identity(), "Add a").await.unwrap();
    let outcome = workspace
        .push(&PushDestination::NewBranch(branch))
        .await
        .unwrap();
    assert!(matches!(outcome, PushOutcome::Pushed { .. }), "{outcome:?}");
    let config = std::fs::read_to_string(work.join(".git/config")).unwrap();
    assert!(!config.contains(TOKEN));
}
