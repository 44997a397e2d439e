//! The bot token never appears in any git process's arguments (world-readable in
//! `/proc/<pid>/cmdline`) and only reaches the environment of the git commands that talk to
//! GitLab. A logging `git` wrapper first on `PATH` records every invocation. The test changes
//! the process's `PATH`, so it runs in a process of its own ([`in_own_process`]).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::own_process::in_own_process;

use axum::Router;
use axum::extract::{Path as UrlPath, Request};
use axum::response::Response;
use axum::routing::any;
use base64::Engine;
use doubles::gitlab::faults::Faults;
use doubles::gitlab::git_http::{GitAccess, basic_credentials, serve_git, unauthorized};
use doubles::gitlab::repo::{FileChange, Repo, Signature};
use doubles::gitlab::server::serve;
use entrypoint::gitlab::ids::IssueIid;
use entrypoint::secret::Secret;
use entrypoint::workspace::{
    BranchPrefix, CheckoutTarget, CommitIdentity, GitAuth, Person, PushDestination, PushOutcome,
    RemoteUrl, Workspace, WorkspaceSettings,
};

const TOKEN: &str = "glpat-never-in-argv-42";

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
        .block_on(scenario(dir.path()));

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

async fn scenario(root: &Path) {
    let repo = Repo::init_bare(&root.join("repos/proj.git"), "main").unwrap();
    let author = Signature {
        name: "Dev".into(),
        email: "dev@example.com".into(),
    };
    repo.commit(
        "main",
        &[FileChange::Write {
            path: "README.md".into(),
            content: b"hi\n".to_vec(),
        }],
        "Init\n",
        &author,
    )
    .unwrap();
    let repo_path = repo.path().to_owned();
    let app = Router::new().route(
        "/proj.git/{*rest}",
        any(move |UrlPath(rest): UrlPath<String>, request: Request| {
            let repo_path = repo_path.clone();
            async move {
                let ok = basic_credentials(request.headers()).is_some_and(|c| c.password == TOKEN);
                if !ok {
                    return unauthorized();
                }
                let access = GitAccess {
                    username: "bot".into(),
                    can_read: true,
                    can_push: true,
                    protected_branches: Vec::new(),
                };
                let response: Response =
                    serve_git(&repo_path, &format!("/{rest}"), request, access).await;
                response
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, Faults::default(), async {
        let _ = stopped.await;
    }));

    let work = root.join("work");
    let status = std::process::Command::new("git")
        .args([
            "clone",
            "--quiet",
            &repo.path().display().to_string(),
            &work.display().to_string(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let settings = WorkspaceSettings::new(
        BranchPrefix::new("claude/").unwrap(),
        Person {
            name: "Claude".into(),
            email: "noreply@example.com".into(),
        },
        None,
    );
    let mut workspace = Workspace::open(
        &work,
        RemoteUrl::parse("test", &format!("{base}/proj.git")).unwrap(),
        GitAuth::token(&Secret::new(TOKEN)),
        settings,
    )
    .await
    .unwrap();
    workspace
        .checkout(CheckoutTarget::Issue {
            default_branch: "main".into(),
        })
        .await
        .unwrap();
    std::fs::write(work.join("a.txt"), "a\n").unwrap();
    let branch = BranchPrefix::new("claude/")
        .unwrap()
        .issue_branch(IssueIid(1), "A");
    workspace.start_branch(&branch).await.unwrap();
    let identity = CommitIdentity {
        author: Person {
            name: "Claude".into(),
            email: "noreply@example.com".into(),
        },
        co_author: None,
    };
    workspace.commit(&identity, "Add a").await.unwrap();
    let outcome = workspace
        .push(&PushDestination::NewBranch(branch))
        .await
        .unwrap();
    assert!(matches!(outcome, PushOutcome::Pushed { .. }), "{outcome:?}");
    let config = std::fs::read_to_string(work.join(".git/config")).unwrap();
    assert!(!config.contains(TOKEN));
    let _ = stop.send(());
}
