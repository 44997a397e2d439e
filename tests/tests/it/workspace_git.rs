//! The entrypoint's workspace against real git smart HTTP: a CI-like checkout (shallow,
//! detached, job token in the remote URL) is prepared for an issue or a merge request, the
//! assistant's changes are committed and pushed, refusals come back with a patch, and the
//! bot token never lands in `.git/config`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, Request, State};
use axum::response::Response;
use axum::routing::any;
use doubles::gitlab::faults::Faults;
use doubles::gitlab::git_http::{GitAccess, basic_credentials, serve_git, unauthorized};
use doubles::gitlab::repo::{FileChange, Repo, Signature, git_command};
use doubles::gitlab::server::serve;
use entrypoint::gitlab::ids::IssueIid;
use entrypoint::secret::Secret;
use entrypoint::workspace::{
    BranchPrefix, CheckoutTarget, CommitIdentity, GitAuth, MergeRequestSource, Person,
    PushDestination, PushOutcome, PushRefusal, RemoteUrl, Workspace, WorkspaceSettings,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const BOT_TOKEN: &str = "glpat-bot-token-0123";
const JOB_TOKEN: &str = "glcbt-job-token-4567";

#[derive(Clone)]
struct Served {
    repos: PathBuf,
    access: Arc<Mutex<GitAccess>>,
}

async fn git_route(
    State(served): State<Served>,
    UrlPath((group, rest)): UrlPath<(String, String)>,
    request: Request,
) -> Response {
    let Some(credentials) = basic_credentials(request.headers()) else {
        return unauthorized();
    };
    let mut access = served.access.lock().unwrap().clone();
    match credentials.password.as_str() {
        BOT_TOKEN => {}
        JOB_TOKEN => access.can_push = false,
        _ => return unauthorized(),
    }
    let Some((project, path_info)) = rest.split_once(".git/") else {
        return unauthorized();
    };
    let repo = served.repos.join(&group).join(format!("{project}.git"));
    serve_git(&repo, &format!("/{path_info}"), request, access).await
}

struct Server {
    dir: tempfile::TempDir,
    upstream: Repo,
    fork: Repo,
    access: Arc<Mutex<GitAccess>>,
    base: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn human() -> Signature {
    Signature {
        name: "Human Dev".to_owned(),
        email: "dev@example.com".to_owned(),
    }
}

/// A merge request from `source_branch` (at `sha`) of the same project into `main`.
fn same_project_mr(source_branch: &str, sha: &str) -> CheckoutTarget {
    CheckoutTarget::MergeRequest {
        source_branch: source_branch.to_owned(),
        sha: sha.to_owned(),
        target_branch: "main".to_owned(),
        default_branch: "main".to_owned(),
        source: MergeRequestSource::SameProject,
    }
}

fn write(path: &str, content: &str) -> FileChange {
    FileChange::Write {
        path: path.to_owned(),
        content: content.as_bytes().to_vec(),
    }
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let upstream = Repo::init_bare(&dir.path().join("repos/group/proj.git"), "main").unwrap();
        upstream
            .commit(
                "main",
                &[
                    write("README.md", "# proj\n"),
                    write(".gitignore", "*.log\n"),
                ],
                "Initial commit\n",
                &human(),
            )
            .unwrap();
        let fork = Repo::init_bare(&dir.path().join("repos/someone/proj.git"), "main").unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let access = Arc::new(Mutex::new(GitAccess {
            username: "project_1_bot".to_owned(),
            can_read: true,
            can_push: true,
            protected_branches: vec!["main".to_owned()],
        }));
        let served = Served {
            repos: dir.path().join("repos"),
            access: access.clone(),
        };
        let app = Router::new()
            .route("/{group}/{*rest}", any(git_route))
            .with_state(served);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, app, Faults::default(), async {
            let _ = stopped.await;
        }));
        Server {
            dir,
            upstream,
            fork,
            access,
            base,
            stop: Some(stop),
        }
    }

    fn url(&self, project: &str) -> RemoteUrl {
        RemoteUrl::parse("test", &format!("{}/{project}.git", self.base)).unwrap()
    }

    /// A checkout as the runner leaves it: cloned with the job token in the URL, detached at
    /// the default branch, shallow when `depth` is given.
    fn ci_checkout(&self, depth: Option<u32>) -> PathBuf {
        let work = self.dir.path().join("work");
        let url = format!(
            "{}/group/proj.git",
            self.base
                .replace("http://", &format!("http://gitlab-ci-token:{JOB_TOKEN}@"))
        );
        let mut args = vec!["clone".to_owned(), "--quiet".to_owned()];
        if let Some(depth) = depth {
            args.push(format!("--depth={depth}"));
        }
        args.extend([url, work.display().to_string()]);
        host_git(self.dir.path(), &args);
        host_git(
            &work,
            &["checkout".into(), "--quiet".into(), "--detach".into()],
        );
        work
    }

    async fn open(&self, work: &Path, depth: u32) -> Workspace {
        let mut settings = WorkspaceSettings::new(
            BranchPrefix::new("claude/").unwrap(),
            Person {
                name: "Claude".to_owned(),
                email: "noreply@gitlab.test".to_owned(),
            },
            None,
        );
        settings.shallow_depth = depth;
        Workspace::open(
            work,
            self.url("group/proj"),
            GitAuth::token(&Secret::new(BOT_TOKEN)),
            settings,
        )
        .await
        .unwrap()
    }
}

fn host_git(cwd: &Path, args: &[String]) -> String {
    let output = git_command().current_dir(cwd).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn identity() -> CommitIdentity {
    CommitIdentity {
        author: Person {
            name: "Claude".to_owned(),
            email: "noreply@gitlab.test".to_owned(),
        },
        co_author: Some(Person::gitlab_noreply(
            "Alice Example",
            5,
            "alice",
            "gitlab.test",
        )),
    }
}

fn assert_no_secret_in_config(work: &Path) {
    let config = std::fs::read_to_string(work.join(".git/config")).unwrap();
    assert!(
        !config.contains(BOT_TOKEN),
        "bot token in .git/config:\n{config}"
    );
    assert!(
        !config.contains(JOB_TOKEN),
        "job token in .git/config:\n{config}"
    );
    assert!(
        !config.contains("Authorization"),
        "header in .git/config:\n{config}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_work_is_committed_and_pushed_to_a_new_branch() {
    let server = Server::start().await;
    let work = server.ci_checkout(Some(1));
    let header = format!("http.{}/.extraheader", server.base);
    host_git(
        &work,
        &[
            "config".into(),
            header,
            format!("Authorization: Bearer {JOB_TOKEN}"),
        ],
    );
    let mut workspace = server.open(&work, 50).await;
    assert_no_secret_in_config(&work);

    let checkout = workspace
        .checkout(CheckoutTarget::Issue {
            default_branch: "main".to_owned(),
        })
        .await
        .unwrap()
        .clone();
    assert_eq!(
        checkout.base,
        server.upstream.branch_sha("main").unwrap().unwrap()
    );
    assert_no_secret_in_config(&work);

    std::fs::write(work.join("README.md"), "# proj\n\nFixed.\n").unwrap();
    std::fs::write(work.join("new.txt"), "new\n").unwrap();
    std::fs::write(work.join("debug.log"), "ignored\n").unwrap();
    let changed: Vec<String> = workspace
        .changes()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.path)
        .collect();
    assert_eq!(changed, ["README.md", "new.txt"]);
    assert!(workspace.has_work().await.unwrap());

    let branch = BranchPrefix::new("claude/")
        .unwrap()
        .issue_branch(IssueIid(7), "Fix README");
    workspace.start_branch(&branch).await.unwrap();
    let sha = workspace
        .commit(&identity(), "Fix the README (#7)")
        .await
        .unwrap()
        .expect("a commit");
    let outcome = workspace
        .push(&PushDestination::NewBranch(branch.clone()))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        PushOutcome::Pushed {
            branch: "claude/issue-7-fix-readme".to_owned(),
            sha: sha.clone()
        }
    );
    assert_eq!(
        server.upstream.branch_sha(branch.as_str()).unwrap(),
        Some(sha.clone())
    );
    let message = server.upstream.commit_message(&sha).unwrap();
    assert!(
        message
            .ends_with("\n\nCo-authored-by: Alice Example <5-alice@users.noreply.gitlab.test>\n"),
        "{message:?}"
    );
    let author = server.upstream.commit_author(&sha).unwrap();
    assert_eq!(
        (author.name.as_str(), author.email.as_str()),
        ("Claude", "noreply@gitlab.test")
    );
    assert_eq!(server.upstream.file_at(&sha, "debug.log").unwrap(), None);
    assert_eq!(
        server.upstream.file_at(&sha, "new.txt").unwrap(),
        Some(b"new\n".to_vec())
    );
    assert_no_secret_in_config(&work);

    // A second push to the same new branch is refused: new branches are never overwritten.
    std::fs::write(work.join("new.txt"), "newer\n").unwrap();
    workspace.commit(&identity(), "More").await.unwrap();
    let again = workspace
        .push(&PushDestination::NewBranch(branch))
        .await
        .unwrap();
    assert!(
        matches!(
            &again,
            PushOutcome::Impossible {
                reason: PushRefusal::Stale,
                ..
            }
        ),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn merge_request_work_lands_on_the_source_branch() {
    let server = Server::start().await;
    let sha = server
        .upstream
        .commit(
            "feature",
            &[write("feature.txt", "v1\n")],
            "Feature\n",
            &human(),
        )
        .unwrap();
    let work = server.ci_checkout(None);
    let mut workspace = server.open(&work, 50).await;
    let checkout = workspace
        .checkout(same_project_mr("feature", &sha))
        .await
        .unwrap()
        .clone();
    assert_eq!(checkout.base, sha);
    assert_eq!(checkout.branch.as_deref(), Some("feature"));
    assert_eq!(
        checkout.target_ref.as_deref(),
        Some("refs/remotes/origin/main")
    );

    std::fs::write(work.join("feature.txt"), "v2\n").unwrap();
    let new = workspace
        .commit(&identity(), "Apply review")
        .await
        .unwrap()
        .unwrap();
    let outcome = workspace
        .push(&PushDestination::SourceBranch {
            created_by_assistant: false,
        })
        .await
        .unwrap();
    assert_eq!(
        outcome,
        PushOutcome::Pushed {
            branch: "feature".to_owned(),
            sha: new.clone()
        }
    );
    assert_eq!(
        server.upstream.branch_sha("feature").unwrap(),
        Some(new.clone())
    );
    assert_eq!(server.upstream.commit_info(&new).unwrap().parent_ids, [sha]);
    assert_no_secret_in_config(&work);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_branch_that_moved_is_not_overwritten_unless_it_is_ours() {
    let server = Server::start().await;
    let sha = server
        .upstream
        .commit(
            "claude/issue-1-x",
            &[write("a.txt", "1\n")],
            "Assistant work\n",
            &human(),
        )
        .unwrap();
    let work = server.ci_checkout(None);
    let mut workspace = server.open(&work, 50).await;
    workspace
        .checkout(same_project_mr("claude/issue-1-x", &sha))
        .await
        .unwrap();
    // Rewrite history: the assistant's commit replaces the branch's commit instead of
    // following it, so the push is not a fast-forward.
    host_git(
        &work,
        &[
            "reset".into(),
            "--quiet".into(),
            "--soft".into(),
            "HEAD~1".into(),
        ],
    );
    std::fs::write(work.join("a.txt"), "2\n").unwrap();
    let rewritten = workspace
        .commit(&identity(), "Rework")
        .await
        .unwrap()
        .unwrap();
    let refused = workspace
        .push(&PushDestination::SourceBranch {
            created_by_assistant: false,
        })
        .await
        .unwrap();
    assert!(
        matches!(
            &refused,
            PushOutcome::Impossible {
                reason: PushRefusal::Stale,
                ..
            }
        ),
        "not ours: no force-push: {refused:?}"
    );
    assert_eq!(
        server.upstream.branch_sha("claude/issue-1-x").unwrap(),
        Some(sha.clone())
    );
    let forced = workspace
        .push(&PushDestination::SourceBranch {
            created_by_assistant: true,
        })
        .await
        .unwrap();
    assert_eq!(
        forced,
        PushOutcome::Pushed {
            branch: "claude/issue-1-x".to_owned(),
            sha: rewritten.clone()
        }
    );
    assert_eq!(
        server.upstream.branch_sha("claude/issue-1-x").unwrap(),
        Some(rewritten)
    );

    // Someone else pushes: the lease (expected = our checkout base) refuses to overwrite it.
    server
        .upstream
        .commit(
            "claude/issue-1-x",
            &[write("b.txt", "human\n")],
            "Human fix\n",
            &human(),
        )
        .unwrap();
    std::fs::write(work.join("a.txt"), "3\n").unwrap();
    workspace.commit(&identity(), "Again").await.unwrap();
    let outcome = workspace
        .push(&PushDestination::SourceBranch {
            created_by_assistant: true,
        })
        .await
        .unwrap();
    assert!(
        matches!(
            &outcome,
            PushOutcome::Impossible {
                reason: PushRefusal::Stale,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn protected_or_default_branch_gives_a_patch() {
    let server = Server::start().await;
    let sha = server
        .upstream
        .commit("release", &[write("r.txt", "1\n")], "Release\n", &human())
        .unwrap();
    server
        .access
        .lock()
        .unwrap()
        .protected_branches
        .push("release".to_owned());
    let work = server.ci_checkout(None);
    let mut workspace = server.open(&work, 50).await;
    workspace
        .checkout(same_project_mr("release", &sha))
        .await
        .unwrap();
    std::fs::write(work.join("r.txt"), "2\n").unwrap();
    workspace.commit(&identity(), "Bump release").await.unwrap();
    let outcome = workspace
        .push(&PushDestination::SourceBranch {
            created_by_assistant: false,
        })
        .await
        .unwrap();
    let PushOutcome::Impossible {
        reason,
        detail,
        patch,
    } = outcome
    else {
        panic!("expected a refused push, got {outcome:?}");
    };
    assert_eq!(reason, PushRefusal::Protected, "{detail}");
    assert!(patch.contains("Subject: [PATCH] Bump release"), "{patch}");
    assert!(patch.contains("-1\n+2\n"), "{patch}");
    assert!(patch.contains("Co-authored-by: Alice Example"), "{patch}");
    assert_eq!(server.upstream.branch_sha("release").unwrap(), Some(sha));

    // A merge request from the default branch itself: refused before asking GitLab.
    let main = server.upstream.branch_sha("main").unwrap().unwrap();
    let work2 = server.dir.path().join("work2");
    host_git(
        server.dir.path(),
        &[
            "clone".into(),
            "--quiet".into(),
            server.upstream.path().display().to_string(),
            work2.display().to_string(),
        ],
    );
    let mut workspace = server.open(&work2, 50).await;
    workspace
        .checkout(CheckoutTarget::MergeRequest {
            source_branch: "main".to_owned(),
            sha: main,
            target_branch: "release".to_owned(),
            default_branch: "main".to_owned(),
            source: MergeRequestSource::SameProject,
        })
        .await
        .unwrap();
    std::fs::write(work2.join("README.md"), "changed\n").unwrap();
    workspace.commit(&identity(), "Touch").await.unwrap();
    let outcome = workspace
        .push(&PushDestination::SourceBranch {
            created_by_assistant: true,
        })
        .await
        .unwrap();
    assert!(
        matches!(&outcome, PushOutcome::Impossible { reason: PushRefusal::DefaultBranch, patch, .. } if patch.contains("Subject: [PATCH] Touch")),
        "{outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fork_merge_requests_push_only_with_collaboration() {
    let server = Server::start().await;
    let base = server.upstream.branch_sha("main").unwrap().unwrap();
    // The fork starts as a copy of upstream's main, plus its contributor's branch.
    host_git(
        server.dir.path(),
        &[
            "--git-dir".into(),
            server.fork.path().display().to_string(),
            "fetch".into(),
            "--quiet".into(),
            server.upstream.path().display().to_string(),
            "main:main".into(),
        ],
    );
    let sha = server
        .fork
        .commit(
            "contrib",
            &[write("c.txt", "1\n")],
            "Contribution\n",
            &human(),
        )
        .unwrap();
    for allow_collaboration in [false, true] {
        let work = server
            .dir
            .path()
            .join(format!("work-{allow_collaboration}"));
        host_git(
            server.dir.path(),
            &[
                "clone".into(),
                "--quiet".into(),
                server.upstream.path().display().to_string(),
                work.display().to_string(),
            ],
        );
        let mut workspace = server.open(&work, 50).await;
        let checkout = workspace
            .checkout(CheckoutTarget::MergeRequest {
                source_branch: "contrib".to_owned(),
                sha: sha.clone(),
                target_branch: "main".to_owned(),
                default_branch: "main".to_owned(),
                source: MergeRequestSource::Fork {
                    url: server.url("someone/proj"),
                    allow_collaboration,
                },
            })
            .await
            .unwrap()
            .clone();
        assert_eq!(checkout.base, sha);
        std::fs::write(work.join("c.txt"), "2\n").unwrap();
        let new = workspace
            .commit(&identity(), "Suggested fix")
            .await
            .unwrap()
            .unwrap();
        let outcome = workspace
            .push(&PushDestination::SourceBranch {
                created_by_assistant: false,
            })
            .await
            .unwrap();
        if allow_collaboration {
            assert_eq!(
                outcome,
                PushOutcome::Pushed {
                    branch: "contrib".to_owned(),
                    sha: new.clone()
                }
            );
            assert_eq!(server.fork.branch_sha("contrib").unwrap(), Some(new));
        } else {
            assert!(
                matches!(
                    &outcome,
                    PushOutcome::Impossible {
                        reason: PushRefusal::ReadOnly,
                        ..
                    }
                ),
                "{outcome:?}"
            );
            assert_eq!(
                server.fork.branch_sha("contrib").unwrap(),
                Some(sha.clone())
            );
        }
    }
    assert_eq!(server.upstream.branch_sha("contrib").unwrap(), None);
    let _ = base;
}

#[tokio::test(flavor = "multi_thread")]
async fn shallow_checkout_deepens_only_when_the_merge_base_is_missing() {
    let server = Server::start().await;
    let fork_point = server.upstream.branch_sha("main").unwrap().unwrap();
    let mut sha = String::new();
    for i in 0..3 {
        sha = server
            .upstream
            .commit(
                "topic",
                &[write("t.txt", &format!("{i}\n"))],
                &format!("Topic {i}\n"),
                &human(),
            )
            .unwrap();
    }
    for i in 0..3 {
        server
            .upstream
            .commit(
                "main",
                &[write("m.txt", &format!("{i}\n"))],
                &format!("Main {i}\n"),
                &human(),
            )
            .unwrap();
    }
    let target = MergeRequestSource::SameProject;
    let mr = |depth_ok: bool| CheckoutTarget::MergeRequest {
        source_branch: "topic".to_owned(),
        sha: sha.clone(),
        target_branch: "main".to_owned(),
        default_branch: "main".to_owned(),
        source: if depth_ok {
            target.clone()
        } else {
            MergeRequestSource::SameProject
        },
    };

    // Enough depth: no unshallow.
    let work = server.ci_checkout(Some(1));
    let mut workspace = server.open(&work, 50).await;
    let checkout = workspace.checkout(mr(true)).await.unwrap().clone();
    assert!(!checkout.unshallowed);
    assert_eq!(
        host_git(
            &work,
            &[
                "merge-base".into(),
                "refs/remotes/origin/main".into(),
                "HEAD".into()
            ]
        ),
        fork_point
    );
    drop(workspace);
    std::fs::remove_dir_all(&work).unwrap();

    // Depth 1: the merge base is out of reach, so the history is fetched in full.
    let work = server.ci_checkout(Some(1));
    let mut workspace = server.open(&work, 1).await;
    let checkout = workspace.checkout(mr(false)).await.unwrap().clone();
    assert!(checkout.unshallowed);
    assert_eq!(checkout.base, sha);
    assert_eq!(
        host_git(
            &work,
            &[
                "merge-base".into(),
                "refs/remotes/origin/main".into(),
                "HEAD".into()
            ]
        ),
        fork_point
    );
    assert_eq!(
        host_git(
            &work,
            &["rev-parse".into(), "--is-shallow-repository".into()]
        ),
        "false"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn what_the_assistant_does_to_git_config_and_hooks_is_undone_before_pushing() {
    let server = Server::start().await;
    let work = server.ci_checkout(None);
    let mut workspace = server.open(&work, 50).await;
    workspace
        .checkout(CheckoutTarget::Issue {
            default_branch: "main".to_owned(),
        })
        .await
        .unwrap();
    let before = std::fs::read_to_string(work.join(".git/config")).unwrap();

    // The assistant redirects pushes to a host it controls and plants hooks.
    let trap = server.dir.path().join("hook-ran");
    let config = format!(
        "{before}[url \"http://127.0.0.1:9/\"]\n\tinsteadOf = {}/\n[core]\n\thooksPath = .git/hooks\n",
        server.base
    );
    std::fs::write(work.join(".git/config"), config).unwrap();
    for hook in ["pre-commit", "commit-msg", "pre-push", "post-commit"] {
        let path = work.join(".git/hooks").join(hook);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho {hook} >> '{}'\n", trap.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    std::fs::write(work.join("x.txt"), "x\n").unwrap();
    let branch = BranchPrefix::new("claude/")
        .unwrap()
        .branch("trap")
        .unwrap();
    workspace.start_branch(&branch).await.unwrap();
    let sha = workspace
        .commit(&identity(), "Add x")
        .await
        .unwrap()
        .unwrap();
    let outcome = workspace
        .push(&PushDestination::NewBranch(branch))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        PushOutcome::Pushed {
            branch: "claude/trap".to_owned(),
            sha: sha.clone()
        }
    );
    assert_eq!(
        server.upstream.branch_sha("claude/trap").unwrap(),
        Some(sha)
    );
    assert!(
        !trap.exists(),
        "a hook ran: {:?}",
        std::fs::read_to_string(&trap)
    );
    assert_eq!(
        std::fs::read_to_string(work.join(".git/config")).unwrap(),
        before
    );
}
