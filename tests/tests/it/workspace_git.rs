//! The entrypoint's workspace against real git smart HTTP: a CI-like checkout (shallow,
//! detached, job token in the remote URL) is prepared for an issue or a merge request, the
//! assistant's changes are committed and pushed, refusals come back with a patch, and the
//! bot token never lands in `.git/config`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use doubles::gitlab::repo::FileChange;
use entrypoint::gitlab::ids::IssueIid;
use entrypoint::workspace::{
    BranchPrefix, CommitIdentity, MergeRequestSource, Person, PushDestination, PushOutcome,
    PushRefusal, Workspace, WorkspaceSettings,
};

use crate::support::git_remote::{
    BOT_TOKEN, GitServer, JOB_TOKEN, host_git, human, identity, issue, merge_request,
    same_project_mr, settings,
};

/// A checkout as the runner leaves it: cloned with the job token in the URL, detached at
/// the default branch, shallow when `depth` is given.
fn ci_checkout(server: &GitServer, depth: Option<u32>) -> PathBuf {
    let work = server.path("work");
    let mut args = vec!["clone".to_owned(), "--quiet".to_owned()];
    args.extend(depth.map(|depth| format!("--depth={depth}")));
    args.extend([server.ci_clone_url(), work.display().to_string()]);
    host_git(server.dir.path(), &args);
    host_git(&work, ["checkout", "--quiet", "--detach"]);
    work
}

/// The CI checkout of a merge request from `branch` of the same project into `main`, made after
/// a human committed `path` = `content` there with `message`: the server, the human's commit
/// (the merge request's head) and the workspace on the checkout.
async fn merge_request_checkout(
    branch: &str,
    path: &str,
    content: &str,
    message: &str,
) -> (GitServer, String, Workspace) {
    let server = GitServer::start().await;
    let sha = server.commit(branch, path, content, message);
    let work = ci_checkout(&server, None);
    let mut workspace = server.open(&work).await;
    let checkout = workspace
        .checkout(same_project_mr(branch, &sha))
        .await
        .unwrap();
    assert_eq!(checkout.base, sha, "the checkout starts at the head");
    (server, sha, workspace)
}

/// The assistant's commit identity with the person who asked as co-author.
fn co_authored() -> CommitIdentity {
    CommitIdentity {
        co_author: Some(Person::gitlab_noreply(
            "Alice Example",
            5,
            "alice",
            "gitlab.test",
        )),
        ..identity()
    }
}

/// Commits the checkout's changes as [`co_authored`]; the new commit's sha.
async fn commit(workspace: &Workspace, message: &str) -> String {
    workspace
        .commit(&co_authored(), message)
        .await
        .unwrap()
        .expect("a commit")
}

/// The assistant's edit: `path` in the checkout becomes `content`, committed with `message`;
/// the new commit's sha.
async fn commit_edit(workspace: &Workspace, path: &str, content: &str, message: &str) -> String {
    std::fs::write(workspace.dir().join(path), content).unwrap();
    commit(workspace, message).await
}

/// Pushes to the merge request's source branch, forcing only when the assistant created it.
async fn push_to_source(workspace: &Workspace, created_by_assistant: bool) -> PushOutcome {
    workspace
        .push(&PushDestination::SourceBranch {
            created_by_assistant,
        })
        .await
        .unwrap()
}

fn pushed(branch: &str, sha: &str) -> PushOutcome {
    PushOutcome::Pushed {
        branch: branch.to_owned(),
        sha: sha.to_owned(),
    }
}

/// `outcome` is a push refused for `reason`; `why` says what the story expected.
fn assert_refused(outcome: &PushOutcome, reason: PushRefusal, why: &str) {
    assert!(
        matches!(outcome, PushOutcome::Impossible { reason: refused, .. } if *refused == reason),
        "{why}: expected {reason:?}, got {outcome:?}"
    );
}

fn assert_no_secret_in_config(work: &Path) {
    let config = std::fs::read_to_string(work.join(".git/config")).unwrap();
    for (what, secret) in [
        ("bot token", BOT_TOKEN),
        ("job token", JOB_TOKEN),
        ("header", "Authorization"),
    ] {
        assert!(!config.contains(secret), "{what} in .git/config:\n{config}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_work_is_committed_and_pushed_to_a_new_branch() {
    let server = GitServer::start().await;
    let work = ci_checkout(&server, Some(1));
    host_git(
        &work,
        [
            "config".to_owned(),
            format!("http.{}/.extraheader", server.base),
            format!("Authorization: Bearer {JOB_TOKEN}"),
        ],
    );
    let mut workspace = server.open(&work).await;
    assert_no_secret_in_config(&work);

    let checkout = workspace.checkout(issue()).await.unwrap().clone();
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
    let sha = commit(&workspace, "Fix the README (#7)").await;
    let outcome = workspace
        .push(&PushDestination::NewBranch(branch.clone()))
        .await
        .unwrap();
    assert_eq!(outcome, pushed("claude/issue-7-fix-readme", &sha));
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

    commit_edit(&workspace, "new.txt", "newer\n", "More").await;
    let again = workspace
        .push(&PushDestination::NewBranch(branch))
        .await
        .unwrap();
    assert_refused(
        &again,
        PushRefusal::Stale,
        "a second push to the same new branch: new branches are never overwritten",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn merge_request_work_lands_on_the_source_branch() {
    let (server, sha, workspace) =
        merge_request_checkout("feature", "feature.txt", "v1\n", "Feature\n").await;
    let checkout = workspace.current().unwrap();
    assert_eq!(checkout.branch.as_deref(), Some("feature"));
    assert_eq!(
        checkout.target_ref.as_deref(),
        Some("refs/remotes/origin/main")
    );

    let new = commit_edit(&workspace, "feature.txt", "v2\n", "Apply review").await;
    let outcome = push_to_source(&workspace, false).await;
    assert_eq!(outcome, pushed("feature", &new));
    assert_eq!(
        server.upstream.branch_sha("feature").unwrap(),
        Some(new.clone())
    );
    assert_eq!(server.upstream.commit_info(&new).unwrap().parent_ids, [sha]);
    assert_no_secret_in_config(workspace.dir());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_branch_that_moved_is_not_overwritten_unless_it_is_ours() {
    let branch = "claude/issue-1-x";
    let (server, sha, workspace) =
        merge_request_checkout(branch, "a.txt", "1\n", "Assistant work\n").await;
    // Rewrite history: the assistant's commit replaces the branch's commit instead of
    // following it, so the push is not a fast-forward.
    host_git(workspace.dir(), ["reset", "--quiet", "--soft", "HEAD~1"]);
    let rewritten = commit_edit(&workspace, "a.txt", "2\n", "Rework").await;
    let refused = push_to_source(&workspace, false).await;
    assert_refused(&refused, PushRefusal::Stale, "not ours: no force-push");
    assert_eq!(
        server.upstream.branch_sha(branch).unwrap(),
        Some(sha.clone())
    );
    let forced = push_to_source(&workspace, true).await;
    assert_eq!(forced, pushed(branch, &rewritten));
    assert_eq!(server.upstream.branch_sha(branch).unwrap(), Some(rewritten));

    server.commit(branch, "b.txt", "human\n", "Human fix\n");
    commit_edit(&workspace, "a.txt", "3\n", "Again").await;
    let outcome = push_to_source(&workspace, true).await;
    assert_refused(
        &outcome,
        PushRefusal::Stale,
        "someone else pushed: the lease (expected = our checkout base) refuses to overwrite it",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn protected_or_default_branch_gives_a_patch() {
    let (server, sha, workspace) =
        merge_request_checkout("release", "r.txt", "1\n", "Release\n").await;
    server
        .access
        .lock()
        .unwrap()
        .protected_branches
        .push("release".to_owned());
    commit_edit(&workspace, "r.txt", "2\n", "Bump release").await;
    let outcome = push_to_source(&workspace, false).await;
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
    let work2 = server.local_clone("work2");
    let mut workspace = server.open(&work2).await;
    workspace
        .checkout(merge_request(
            MergeRequestSource::SameProject,
            "main",
            &main,
            "release",
        ))
        .await
        .unwrap();
    commit_edit(&workspace, "README.md", "changed\n", "Touch").await;
    let outcome = push_to_source(&workspace, true).await;
    assert!(
        matches!(&outcome, PushOutcome::Impossible { reason: PushRefusal::DefaultBranch, patch, .. } if patch.contains("Subject: [PATCH] Touch")),
        "{outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fork_merge_requests_push_only_with_collaboration() {
    let server = GitServer::start().await;
    // The fork starts as a copy of upstream's main, plus its contributor's branch.
    host_git(
        server.dir.path(),
        [
            OsStr::new("--git-dir"),
            server.fork.path().as_os_str(),
            OsStr::new("fetch"),
            OsStr::new("--quiet"),
            server.upstream.path().as_os_str(),
            OsStr::new("main:main"),
        ],
    );
    let sha = server
        .fork
        .commit(
            "contrib",
            &[FileChange::write("c.txt", "1\n")],
            "Contribution\n",
            &human(),
        )
        .unwrap();
    for allow_collaboration in [false, true] {
        let work = server.local_clone(&format!("work-{allow_collaboration}"));
        let mut workspace = server.open(&work).await;
        let source = MergeRequestSource::Fork {
            url: server.url("someone/proj"),
            allow_collaboration,
        };
        let checkout = workspace
            .checkout(merge_request(source, "contrib", &sha, "main"))
            .await
            .unwrap()
            .clone();
        assert_eq!(checkout.base, sha);
        let new = commit_edit(&workspace, "c.txt", "2\n", "Suggested fix").await;
        let outcome = push_to_source(&workspace, false).await;
        if allow_collaboration {
            assert_eq!(outcome, pushed("contrib", &new));
            assert_eq!(server.fork.branch_sha("contrib").unwrap(), Some(new));
        } else {
            assert_refused(&outcome, PushRefusal::ReadOnly, "no collaboration allowed");
            assert_eq!(
                server.fork.branch_sha("contrib").unwrap(),
                Some(sha.clone())
            );
        }
    }
    assert_eq!(server.upstream.branch_sha("contrib").unwrap(), None);
}

/// With enough depth the merge base is in the shallow history and nothing more is fetched;
/// at depth 1 it is out of reach, so the history is fetched in full.
#[tokio::test(flavor = "multi_thread")]
async fn shallow_checkout_deepens_only_when_the_merge_base_is_missing() {
    let server = GitServer::start().await;
    let fork_point = server.upstream.branch_sha("main").unwrap().unwrap();
    let mut sha = String::new();
    for i in 0..3 {
        sha = server.commit("topic", "t.txt", &format!("{i}\n"), &format!("Topic {i}\n"));
    }
    for i in 0..3 {
        server.commit("main", "m.txt", &format!("{i}\n"), &format!("Main {i}\n"));
    }

    for (shallow_depth, unshallowed) in [(50, false), (1, true)] {
        let case = format!("depth {shallow_depth}");
        let work = ci_checkout(&server, Some(1));
        let settings = WorkspaceSettings {
            shallow_depth,
            ..settings()
        };
        let mut workspace = server.open_with(&work, settings).await;
        let checkout = workspace
            .checkout(same_project_mr("topic", &sha))
            .await
            .unwrap()
            .clone();
        assert_eq!(checkout.unshallowed, unshallowed, "{case}");
        assert_eq!(checkout.base, sha, "{case}");
        assert_eq!(
            host_git(&work, ["merge-base", "refs/remotes/origin/main", "HEAD"]),
            fork_point,
            "{case}"
        );
        if unshallowed {
            assert_eq!(
                host_git(&work, ["rev-parse", "--is-shallow-repository"]),
                "false",
                "{case}"
            );
        }
        drop(workspace);
        std::fs::remove_dir_all(&work).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn what_the_assistant_does_to_git_config_and_hooks_is_undone_before_pushing() {
    let server = GitServer::start().await;
    let work = ci_checkout(&server, None);
    let mut workspace = server.open(&work).await;
    workspace.checkout(issue()).await.unwrap();
    let before = std::fs::read_to_string(work.join(".git/config")).unwrap();

    // The assistant redirects pushes to a host it controls and plants hooks.
    let trap = server.path("hook-ran");
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
    let sha = commit(&workspace, "Add x").await;
    let outcome = workspace
        .push(&PushDestination::NewBranch(branch))
        .await
        .unwrap();
    assert_eq!(outcome, pushed("claude/trap", &sha));
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
