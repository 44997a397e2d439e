//! A real git client clones from, pushes to and fetches from the double over smart HTTP, and is
//! refused the way GitLab refuses it.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, Request, State};
use axum::response::Response;
use axum::routing::any;
use doubles::gitlab::faults::Faults;
use doubles::gitlab::git_http::{GitAccess, basic_credentials, serve_git, unauthorized};
use doubles::gitlab::repo::{FileChange, Repo, Signature, git_command};
use doubles::gitlab::server::serve;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const TOKEN: &str = "glpat-double-token";

#[derive(Clone)]
struct Project {
    repo: PathBuf,
    access: Arc<Mutex<GitAccess>>,
}

async fn git_route(
    State(project): State<Project>,
    UrlPath(rest): UrlPath<String>,
    request: Request,
) -> Response {
    match basic_credentials(request.headers()) {
        Some(credentials) if credentials.password == TOKEN => {}
        _ => return unauthorized(),
    }
    let access = project.access.lock().expect("access lock").clone();
    serve_git(&project.repo, &format!("/{rest}"), request, access).await
}

struct Fixture {
    dir: tempfile::TempDir,
    repo: Repo,
    access: Arc<Mutex<GitAccess>>,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn author() -> Signature {
    Signature {
        name: "Server Side".to_owned(),
        email: "server@example.com".to_owned(),
    }
}

impl Fixture {
    async fn start() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Repo::init_bare(&dir.path().join("repos/group/proj.git"), "main").expect("init");
        let readme = FileChange::Write {
            path: "README.md".to_owned(),
            content: b"# proj\n".to_vec(),
        };
        repo.commit("main", &[readme], "Initial commit\n", &author())
            .expect("initial commit");
        std::fs::create_dir_all(dir.path().join("home")).expect("home dir");
        let access = Arc::new(Mutex::new(GitAccess {
            username: "alice".to_owned(),
            can_read: true,
            can_push: true,
            protected_branches: Vec::new(),
        }));
        let project = Project {
            repo: repo.path().to_owned(),
            access: Arc::clone(&access),
        };
        let app = Router::new()
            .route("/group/proj.git/{*rest}", any(git_route))
            .with_state(project);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, app, Faults::default(), async {
            let _ = stopped.await;
        }));
        Fixture {
            dir,
            repo,
            access,
            base_url,
            stop: Some(stop),
        }
    }

    fn clone_url(&self, password: &str) -> String {
        self.base_url
            .replace("http://", &format!("http://alice:{password}@"))
            + "/group/proj.git"
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn set_access(&self, change: impl FnOnce(&mut GitAccess)) {
        change(&mut self.access.lock().expect("access lock"));
    }

    /// Runs the git client with an empty HOME and no system or global configuration.
    async fn git(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut command = tokio::process::Command::from(git_command());
        command
            .current_dir(cwd)
            .env("HOME", self.dir.path().join("home"))
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("all_proxy")
            .env_remove("ALL_PROXY")
            .args(args);
        tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("git finishes within a minute")
            .expect("git runs")
    }

    async fn git_ok(&self, cwd: &Path, args: &[&str]) -> String {
        let output = self.git(cwd, args).await;
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    async fn git_err(&self, cwd: &Path, args: &[&str]) -> String {
        let output = self.git(cwd, args).await;
        assert!(
            !output.status.success(),
            "git {args:?} unexpectedly succeeded"
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    async fn clone(&self) -> PathBuf {
        let work = self.work();
        self.git_ok(
            self.dir.path(),
            &["clone", "--quiet", &self.clone_url(TOKEN), "work"],
        )
        .await;
        work
    }

    async fn commit_file(&self, work: &Path, path: &str, content: &str, message: &str) -> String {
        std::fs::write(work.join(path), content).expect("write file");
        self.git_ok(work, &["add", path]).await;
        self.git_ok(work, &["commit", "--quiet", "-m", message])
            .await;
        self.git_ok(work, &["rev-parse", "HEAD"]).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn clone_push_new_branch_then_fetch_sees_server_commits() {
    let fixture = Fixture::start().await;
    let work = fixture.clone().await;
    assert_eq!(
        std::fs::read_to_string(work.join("README.md")).expect("cloned file"),
        "# proj\n"
    );

    fixture
        .git_ok(&work, &["checkout", "--quiet", "-b", "feature/fix"])
        .await;
    let pushed = fixture
        .commit_file(&work, "fix.txt", "fixed\n", "Fix things")
        .await;
    fixture
        .git_ok(&work, &["push", "--quiet", "origin", "feature/fix"])
        .await;
    let branches = fixture.repo.branches().expect("branches");
    assert!(
        branches.contains(&("feature/fix".to_owned(), pushed.clone())),
        "{branches:?}"
    );
    assert_eq!(
        fixture
            .repo
            .file_at("feature/fix", "fix.txt")
            .expect("read"),
        Some(b"fixed\n".to_vec())
    );
    assert_eq!(
        fixture.repo.commit_message(&pushed).expect("message"),
        "Fix things\n"
    );

    let change = FileChange::Write {
        path: "server.txt".to_owned(),
        content: b"from the API\n".to_vec(),
    };
    let server_sha = fixture
        .repo
        .commit("main", &[change], "Server-side commit", &author())
        .expect("commit");
    fixture.git_ok(&work, &["fetch", "--quiet", "origin"]).await;
    assert_eq!(
        fixture.git_ok(&work, &["rev-parse", "origin/main"]).await,
        server_sha
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn push_to_protected_branch_is_refused_with_gitlab_message() {
    let fixture = Fixture::start().await;
    fixture.set_access(|access| {
        access.protected_branches = vec!["main".to_owned(), "release/*".to_owned()]
    });
    let work = fixture.clone().await;
    let main_before = fixture.repo.branch_sha("main").expect("lookup");

    fixture
        .commit_file(&work, "direct.txt", "direct\n", "Direct push")
        .await;
    let stderr = fixture.git_err(&work, &["push", "origin", "main"]).await;
    assert!(
        stderr.contains("remote: GitLab: You are not allowed to push code to protected branches on this project."),
        "{stderr}"
    );
    assert!(stderr.contains("pre-receive hook declined"), "{stderr}");
    assert_eq!(
        fixture.repo.branch_sha("main").expect("lookup"),
        main_before
    );

    let stderr = fixture
        .git_err(&work, &["push", "origin", "HEAD:refs/heads/release/1.0"])
        .await;
    assert!(stderr.contains("protected branches"), "{stderr}");
    assert_eq!(
        fixture.repo.branch_sha("release/1.0").expect("lookup"),
        None
    );

    fixture
        .git_ok(
            &work,
            &["push", "--quiet", "origin", "HEAD:refs/heads/releases"],
        )
        .await;
    assert!(
        fixture
            .repo
            .branch_sha("releases")
            .expect("lookup")
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn push_without_push_access_is_refused_but_clone_works() {
    let fixture = Fixture::start().await;
    fixture.set_access(|access| access.can_push = false);
    let work = fixture.clone().await;
    fixture.commit_file(&work, "x.txt", "x\n", "Try").await;
    let stderr = fixture
        .git_err(&work, &["push", "origin", "HEAD:refs/heads/topic"])
        .await;
    assert!(
        stderr.contains("You are not allowed to push code to this project."),
        "{stderr}"
    );
    assert!(stderr.contains("403"), "{stderr}");
    assert_eq!(fixture.repo.branch_sha("topic").expect("lookup"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn project_the_user_cannot_read_is_not_found() {
    let fixture = Fixture::start().await;
    fixture.set_access(|access| access.can_read = false);
    let stderr = fixture
        .git_err(
            fixture.dir.path(),
            &["clone", &fixture.clone_url(TOKEN), "work"],
        )
        .await;
    assert!(stderr.contains("not found"), "{stderr}");
    assert!(!fixture.work().join("README.md").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_token_fails_authentication() {
    let fixture = Fixture::start().await;
    let stderr = fixture
        .git_err(
            fixture.dir.path(),
            &["clone", &fixture.clone_url("wrong"), "work"],
        )
        .await;
    assert!(stderr.contains("Authentication failed"), "{stderr}");

    let response = http_client()
        .get(fixture.upload_pack_refs_url())
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"GitLab\""
    );
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

impl Fixture {
    /// The smart-HTTP ref advertisement a clone or fetch starts with.
    fn upload_pack_refs_url(&self) -> String {
        let base = &self.base_url;
        format!("{base}/group/proj.git/info/refs?service=git-upload-pack")
    }
}

/// `request` as alice with her token, answered.
async fn as_alice(request: reqwest::RequestBuilder) -> reqwest::Response {
    let request = request.basic_auth("alice", Some(TOKEN));
    request.send().await.expect("response")
}

#[tokio::test(flavor = "multi_thread")]
async fn git_protocol_header_reaches_the_backend() {
    let fixture = Fixture::start().await;
    let url = fixture.upload_pack_refs_url();
    let v2 = as_alice(http_client().get(&url).header("Git-Protocol", "version=2")).await;
    assert_eq!(v2.status(), 200);
    assert_eq!(
        v2.headers()["content-type"],
        "application/x-git-upload-pack-advertisement"
    );
    assert!(v2.text().await.expect("body").contains("version 2"));

    let v0 = as_alice(http_client().get(&url)).await;
    let body = v0.text().await.expect("body");
    assert!(
        !body.contains("version 2") && body.contains("refs/heads/main"),
        "{body}"
    );

    let head = as_alice(http_client().head(&url)).await;
    assert_eq!(head.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn gzip_request_bodies_are_inflated() {
    let fixture = Fixture::start().await;
    let main = fixture
        .repo
        .branch_sha("main")
        .expect("lookup")
        .expect("main exists");
    let want = format!("want {main}\n");
    let request = format!(
        "{:04x}{want}0000{:04x}done\n",
        want.len() + 4,
        "done\n".len() + 4
    );
    let mut gzip = tokio::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = gzip.stdin.take().expect("gzip stdin");
        stdin
            .write_all(request.as_bytes())
            .await
            .expect("feed gzip");
    }
    let compressed = gzip.wait_with_output().await.expect("gzip output").stdout;

    let upload_pack = format!("{}/group/proj.git/git-upload-pack", fixture.base_url);
    let response = http_client()
        .post(upload_pack)
        .header("Content-Type", "application/x-git-upload-pack-request")
        .header("Content-Encoding", "gzip")
        .body(compressed);
    let response = as_alice(response).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-git-upload-pack-result"
    );
    let body = response.bytes().await.expect("body");
    assert!(
        body.starts_with(b"0008NAK\n"),
        "{:?}",
        String::from_utf8_lossy(&body[..body.len().min(64)])
    );
    assert!(
        body.windows(4).any(|window| window == b"PACK"),
        "a packfile follows"
    );
}

/// Bodies larger than git's `http.postBuffer` (1 MiB) are sent with chunked transfer encoding
/// after a probe request; the double must stream them through without a Content-Length.
#[tokio::test(flavor = "multi_thread")]
async fn large_push_streams_through() {
    let fixture = Fixture::start().await;
    let work = fixture.clone().await;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect();
    std::fs::write(work.join("blob.bin"), &noise).expect("write large file");
    fixture.git_ok(&work, &["add", "blob.bin"]).await;
    fixture
        .git_ok(&work, &["commit", "--quiet", "-m", "Large file"])
        .await;
    fixture
        .git_ok(&work, &["push", "--quiet", "origin", "HEAD:refs/heads/big"])
        .await;
    assert_eq!(
        fixture.repo.file_at("big", "blob.bin").expect("read"),
        Some(noise)
    );
}
