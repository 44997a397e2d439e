//! The project's git over smart HTTP, as the workspace stories meet it: bare repositories
//! under `repos/<group>/<project>.git` served by the double's `serve_git`, where the bot token
//! may push and the CI job token only read (as GitLab's job token does), plus the settings,
//! identity and checkout targets those stories open a [`Workspace`] with. One fixture, so that
//! a story file holds only what its story does to the checkout.

use std::ffi::OsStr;
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
use entrypoint::secret::Secret;
use entrypoint::workspace::{
    BranchPrefix, CheckoutTarget, CommitIdentity, GitAuth, MergeRequestSource, Person, RemoteUrl,
    Workspace, WorkspaceSettings,
};
use tokio::net::TcpListener;
use tokio_util::sync::{CancellationToken, DropGuard};

/// The bot's token: it may push to every branch that is not protected.
pub const BOT_TOKEN: &str = "glpat-bot-token-0123";
/// The CI job's token, as the runner puts it in the checkout's remote URL: read-only.
pub const JOB_TOKEN: &str = "glcbt-job-token-4567";

/// The served repositories (`repos/<group>/<project>.git`) and what the bot may do in them.
#[derive(Clone)]
struct Served {
    repos: PathBuf,
    access: Arc<Mutex<GitAccess>>,
}

impl Served {
    /// GitLab's answer to a git request for `<group>/<rest>` (`rest` is `<project>.git/...`).
    async fn answer(self, group: String, rest: String, request: Request) -> Response {
        let access = self.access.lock().unwrap().clone();
        let Some(access) = basic_credentials(request.headers())
            .and_then(|credentials| access_with(&credentials.password, access))
        else {
            return unauthorized();
        };
        let Some((project, path_info)) = rest.split_once(".git/") else {
            return unauthorized();
        };
        let repo = self.repos.join(&group).join(format!("{project}.git"));
        serve_git(&repo, &format!("/{path_info}"), request, access).await
    }
}

/// What the holder of `password` may do: the bot all that `access` allows, the job token only
/// read, anyone else nothing.
fn access_with(password: &str, access: GitAccess) -> Option<GitAccess> {
    match password {
        BOT_TOKEN => Some(access),
        JOB_TOKEN => Some(GitAccess {
            can_push: false,
            ..access
        }),
        _ => None,
    }
}

/// A temporary directory with `repos/group/proj.git` (one commit on `main`: a README and a
/// `.gitignore` of `*.log`) and an empty fork `repos/someone/proj.git`, served at [`Self::base`]
/// until dropped.
pub struct GitServer {
    pub dir: tempfile::TempDir,
    pub upstream: Repo,
    pub fork: Repo,
    /// What the bot may do; `main` is protected. Stories change it while the server runs.
    pub access: Arc<Mutex<GitAccess>>,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Stops the server when the fixture is dropped.
    _stop: DropGuard,
}

impl GitServer {
    pub async fn start() -> GitServer {
        let dir = tempfile::tempdir().unwrap();
        let upstream = Repo::init_bare(&dir.path().join("repos/group/proj.git"), "main").unwrap();
        upstream
            .commit(
                "main",
                &[
                    FileChange::write("README.md", "# proj\n"),
                    FileChange::write(".gitignore", "*.log\n"),
                ],
                "Initial commit\n",
                &human(),
            )
            .unwrap();
        let fork = Repo::init_bare(&dir.path().join("repos/someone/proj.git"), "main").unwrap();
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
            .route(
                "/{group}/{*rest}",
                any(
                    |State(served): State<Served>,
                     UrlPath((group, rest)): UrlPath<(String, String)>,
                     request: Request| served.answer(group, rest, request),
                ),
            )
            .with_state(served);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let stopped = stop.clone().cancelled_owned();
        tokio::spawn(serve(listener, app, Faults::default(), stopped));
        GitServer {
            dir,
            upstream,
            fork,
            access,
            base,
            _stop: stop.drop_guard(),
        }
    }

    /// `relative` under the test's directory.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// The served URL of `project` (`group/proj`, `someone/proj`).
    pub fn url(&self, project: &str) -> RemoteUrl {
        RemoteUrl::parse("test", &format!("{}/{project}.git", self.base)).unwrap()
    }

    /// The upstream's URL as the runner clones it: the job token as the password.
    pub fn ci_clone_url(&self) -> String {
        format!(
            "{}/group/proj.git",
            self.base
                .replace("http://", &format!("http://gitlab-ci-token:{JOB_TOKEN}@"))
        )
    }

    /// A human's commit of `path` = `content` on `branch` of the upstream; its sha.
    pub fn commit(&self, branch: &str, path: &str, content: &str, message: &str) -> String {
        self.upstream
            .commit(
                branch,
                &[FileChange::write(path, content)],
                message,
                &human(),
            )
            .unwrap()
    }

    /// A plain clone of the upstream's bare repository (no URL, no token) in `name`.
    pub fn local_clone(&self, name: &str) -> PathBuf {
        let work = self.path(name);
        host_git(
            self.dir.path(),
            [
                OsStr::new("clone"),
                OsStr::new("--quiet"),
                self.upstream.path().as_os_str(),
                work.as_os_str(),
            ],
        );
        work
    }

    /// The product's workspace on `work` with the default [`settings`], pushing to the
    /// upstream with the bot token.
    pub async fn open(&self, work: &Path) -> Workspace {
        self.open_with(work, settings()).await
    }

    /// [`Self::open`] with `settings`.
    pub async fn open_with(&self, work: &Path, settings: WorkspaceSettings) -> Workspace {
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

/// The human who makes the commits the stories start from.
pub fn human() -> Signature {
    Signature::new("Human Dev", "dev@example.com")
}

/// The assistant as the author of its commits.
pub fn claude() -> Person {
    Person {
        name: "Claude".to_owned(),
        email: "noreply@gitlab.test".to_owned(),
    }
}

/// Branches under `claude/`, commits by [`claude`], the default depth.
pub fn settings() -> WorkspaceSettings {
    WorkspaceSettings::new(BranchPrefix::new("claude/").unwrap(), claude(), None)
}

/// [`claude`] authors, with no co-author.
pub fn identity() -> CommitIdentity {
    CommitIdentity {
        author: claude(),
        co_author: None,
    }
}

/// A checkout for an issue of a project whose default branch is `main`.
pub fn issue() -> CheckoutTarget {
    CheckoutTarget::Issue {
        default_branch: "main".to_owned(),
    }
}

/// A merge request from `source_branch` (at `sha`) of `source` into `target_branch`, in a
/// project whose default branch is `main`.
pub fn merge_request(
    source: MergeRequestSource,
    source_branch: &str,
    sha: &str,
    target_branch: &str,
) -> CheckoutTarget {
    CheckoutTarget::MergeRequest {
        source_branch: source_branch.to_owned(),
        sha: sha.to_owned(),
        target_branch: target_branch.to_owned(),
        default_branch: "main".to_owned(),
        source,
    }
}

/// A merge request from `source_branch` (at `sha`) of the same project into `main`.
pub fn same_project_mr(source_branch: &str, sha: &str) -> CheckoutTarget {
    merge_request(MergeRequestSource::SameProject, source_branch, sha, "main")
}

/// Runs the host's git (no system or global configuration) in `cwd`; its trimmed stdout.
pub fn host_git<I, S>(cwd: &Path, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<S> = args.into_iter().collect();
    let output = git_command().current_dir(cwd).args(&args).output().unwrap();
    assert!(
        output.status.success(),
        "git {:?}: {}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
