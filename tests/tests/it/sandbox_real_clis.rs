//! The real CLIs inside the network sandbox: `codex exec` (fenced by default) and Claude Code
//! (fenced with `AI_SANDBOX=on`), run as the sandbox uid with only the key proxy reachable,
//! still complete a task against the model doubles, and the workspace comes back with its owner.
//! Fenced, their shell dumps every `/proc/<pid>/environ` and `cmdline` it can read and finds
//! none of the job's secrets (the open-network half is `assistant_secrets.rs`).
//!
//! The test runs itself again in a network namespace of its own (`unshare --net`), so the rules
//! it loads are never the host's. The CLI is installed from npm outside the namespace first; its
//! files under `/root/.cache` are hard-linked to a directory the sandbox uid can enter. The
//! probe the sandbox runs is the `entrypoint` binary beside this test's, built outside the namespace.

use std::path::{Path, PathBuf};
use std::process::Command;

use doubles::model::cli::{Cli, install};
use doubles::model::{Expectation, ModelDouble, Script, ToolCall, Turn, openai};
use entrypoint::agent::Assistant;
use entrypoint::agent::events::AssistantEvent;
use entrypoint::agent::mcp::McpConfig;
use entrypoint::agent::run::RunReport;
use entrypoint::agent::run::{Outcome, RunSpec, run};
use entrypoint::sandbox::{Network, SandboxUid, Settings};

use crate::support::{fresh_netns, real_cli, runs};

const INSIDE: &str = "DOUBLES_SANDBOX_TEST_NETNS";
const CLI_BINARY: &str = "DOUBLES_SANDBOX_CLI_BINARY";
const CLI_PATH: &str = "DOUBLES_SANDBOX_CLI_PATH";
const PROBE: &str = "DOUBLES_SANDBOX_PROBE";
const OPENAI_KEY: &str = "sk-real-key-sandboxed-3e4f";
const ANTHROPIC_KEY: &str = "sk-ant-real-key-sandboxed-8a2b";

/// Outside: installs `cli`, links it where the sandbox uid can run it, runs `test` again in a
/// fresh network namespace and asserts that it passed there; returns `false`. Inside: brings
/// loopback up and returns `true`.
async fn inside_fresh_netns(cli: Cli, test: &str) -> bool {
    if fresh_netns::inside(INSIDE) {
        return true;
    }
    let installed = tokio::task::spawn_blocking(move || install(cli))
        .await
        .unwrap()
        .expect("installing the CLI");
    let reachable = doubles::sandbox::reachable_cli(&installed);
    let path_dirs: Vec<String> = reachable
        .path_dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    // Inside the one test binary, libtest knows the test as `<story module>::<test>`.
    let test = &format!("{}::{test}", module_path!().trim_start_matches("it::"));
    let out = fresh_netns::run_again_inside(INSIDE, test)
        .env(CLI_BINARY, &reachable.binary)
        // As the job's processes do, the test process inside the namespace (the entrypoint's
        // stand-in) holds the secrets in its initial environment.
        .envs(JOB_SECRETS.iter().copied())
        .env(CLI_PATH, path_dirs.join(":"))
        .env(
            PROBE,
            doubles::binaries::entrypoint().expect("the entrypoint binary"),
        )
        .output()
        .unwrap();
    runs::assert_child_test_passed(&out, test, "namespace");
    false
}

/// Runs `assistant` fenced as `uid` against `double` on `work`, returning the report, the
/// events and the real key.
async fn fenced_run(
    assistant: Assistant,
    uid: u32,
    double: &ModelDouble,
    work: &Path,
) -> (RunReport, Vec<AssistantEvent>, &'static str) {
    fenced_run_with(
        assistant,
        uid,
        double,
        work,
        McpConfig::empty(),
        Vec::new(),
        None,
    )
    .await
}

/// [`fenced_run`] with MCP servers, the hosts of `AI_SANDBOX_ALLOW` and another model.
async fn fenced_run_with(
    assistant: Assistant,
    uid: u32,
    double: &ModelDouble,
    work: &Path,
    mcp: McpConfig,
    extra_hosts: Vec<String>,
    model_override: Option<&str>,
) -> (RunReport, Vec<AssistantEvent>, &'static str) {
    let (key, model) = match assistant {
        Assistant::Codex => (OPENAI_KEY, "gpt-5.5"),
        Assistant::Claude => (ANTHROPIC_KEY, "claude-sonnet-4-6"),
    };
    let (api, base) = runs::api_of(assistant, &double.base_url());
    let program = std::env::var_os(CLI_BINARY).unwrap().into();
    let mut spec = RunSpec {
        extra_path: std::env::var(CLI_PATH)
            .unwrap()
            .split(':')
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .collect(),
        model: Some(model.to_owned()),
        ..runs::spec(assistant, program, work, (api, &base), key)
    };
    spec.options.mcp = mcp;
    if let Some(model) = model_override {
        spec.model = Some(model.to_owned());
    }
    // Each test its own uid: finishing kills every process of the uid, and other tests run
    // meanwhile.
    let settings = Settings {
        uid: SandboxUid::new(uid).unwrap(),
        network: Network::Fenced { extra_hosts },
    };
    let plan = real_cli::plan(settings, std::env::var_os(PROBE).unwrap().into());

    let mut events = Vec::new();
    let report = run(&spec, &plan, |e| events.push(e.clone()))
        .await
        .expect("the sandboxed run could not start");
    eprintln!("{:?} after {:?}", report.outcome, report.elapsed);
    (report, events, key)
}

/// Runs `assistant` fenced as `uid` against `double` and checks that it wrote `file` with
/// `content` and answered `answer`.
async fn fenced_run_writes(
    assistant: Assistant,
    uid: u32,
    double: &ModelDouble,
    work: &Path,
    (file, content, answer): (&str, &str, &str),
) {
    let (report, events, key) = fenced_run(assistant, uid, double, work).await;
    assert!(report.sandboxed);
    assert_eq!(double.problems(), Vec::<String>::new());
    assert!(
        matches!(&report.outcome, Outcome::Succeeded { final_text, .. } if final_text == answer),
        "{:?}",
        report.outcome
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AssistantEvent::ToolCall { .. })),
        "{events:?}"
    );
    let written = work.join(file);
    assert_eq!(std::fs::read_to_string(&written).unwrap(), content);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&written).unwrap().uid(),
        0,
        "not given back"
    );
    for request in double.requests() {
        assert_eq!(request.credential(), Some(key));
    }
    let saved = Command::new("iptables-save").output().unwrap();
    assert!(!String::from_utf8_lossy(&saved.stdout).contains("AI_SANDBOX"));
}

/// Fenced as `uid`, `assistant` writes `fenced.txt` as the model asks (Codex with a path
/// relative to the workspace, Claude Code with an absolute one, as each CLI's tool takes it)
/// and answers.
async fn fenced_cli_completes_a_task(assistant: Assistant, uid: u32) {
    let work = tempfile::tempdir().unwrap();
    let (call, path, answer) = match assistant {
        Assistant::Codex => ("call_s1", PathBuf::from("fenced.txt"), "Added fenced.txt."),
        Assistant::Claude => (
            "toolu_s1",
            work.path().join("fenced.txt"),
            "Wrote fenced.txt.",
        ),
    };
    let script = Script::new()
        .then(Turn::tool_call(ToolCall::write_file(
            call, path, "inside\n",
        )))
        .then(Turn::text(answer).expecting(Expectation::ToolOutputFor(call.into())));
    let double = real_cli::model_double(assistant, script).await;
    fenced_run_writes(
        assistant,
        uid,
        &double,
        work.path(),
        ("fenced.txt", "inside\n", answer),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_codex_completes_a_task_through_the_proxy() {
    let test = "sandboxed_codex_completes_a_task_through_the_proxy";
    if inside_fresh_netns(Cli::Codex, test).await {
        fenced_cli_completes_a_task(Assistant::Codex, 64301).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxed_claude_completes_a_task_through_the_proxy() {
    let test = "sandboxed_claude_completes_a_task_through_the_proxy";
    if inside_fresh_netns(Cli::Claude, test).await {
        fenced_cli_completes_a_task(Assistant::Claude, 64302).await;
    }
}

/// The job's secrets: in the environment of the test process inside the namespace (standing in
/// for the entrypoint) and of the job shell stand-in.
const JOB_SECRETS: &[(&str, &str)] = &[
    ("GITLAB_TOKEN", "glpat-fenced-canary-61d0"),
    ("CI_JOB_TOKEN", "job-fenced-canary-2b7e"),
    ("CI_REGISTRY_PASSWORD", "registry-fenced-canary-93aa"),
    ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
    ("OPENAI_API_KEY", OPENAI_KEY),
    (real_cli::TRACKER_VARIABLE, TRACKER_TOKEN),
];
/// An MCP server's token, a CI/CD variable of the job like the others.
const TRACKER_TOKEN: &str = "tracker-fenced-canary-0b5d";
const JOB_SHELL_MARKER: &str = "fenced-job-shell-stand-in-48c1";

/// Fenced as `uid`, `assistant`'s shell dumps /proc; the dump holds no secret.
async fn fenced_proc_dump_finds_no_secret(assistant: Assistant, uid: u32) {
    let mut job_shell = doubles::sandbox::job_shell(JOB_SECRETS, JOB_SHELL_MARKER);
    let work = tempfile::tempdir().unwrap();
    let script = Script::new()
        .then(Turn::tool_call(ToolCall::shell(
            "call_proc_f",
            doubles::sandbox::proc_dump(doubles::sandbox::PROC_DUMP_FILE),
        )))
        .then(Turn::text("Dumped.").expecting(Expectation::ToolOutputFor("call_proc_f".into())));
    let double = real_cli::model_double(assistant, script).await;
    let (report, _, _) = fenced_run(assistant, uid, &double, work.path()).await;
    job_shell.kill().unwrap();
    job_shell.wait().unwrap();

    assert!(report.sandboxed);
    assert_eq!(double.problems(), Vec::<String>::new());
    let secrets: Vec<&str> = JOB_SECRETS.iter().map(|(_, value)| *value).collect();
    doubles::sandbox::check_proc_dump(work.path(), uid, JOB_SHELL_MARKER, &secrets);
    // What the CLI sent back to the model (the real key is in every request's auth header,
    // put there by the proxy, so whole requests are not the place to look).
    for output in double.model_calls().iter().flat_map(|c| c.tool_outputs()) {
        for secret in &secrets {
            assert!(!output.text.contains(secret), "a secret reached the model");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_codex_cannot_read_a_secret_from_proc() {
    if !inside_fresh_netns(Cli::Codex, "fenced_codex_cannot_read_a_secret_from_proc").await {
        return;
    }
    fenced_proc_dump_finds_no_secret(Assistant::Codex, 64303).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_claude_cannot_read_a_secret_from_proc() {
    if !inside_fresh_netns(Cli::Claude, "fenced_claude_cannot_read_a_secret_from_proc").await {
        return;
    }
    fenced_proc_dump_finds_no_secret(Assistant::Claude, 64304).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_codex_reaches_a_listed_mcp_server_only_through_the_proxy() {
    if !inside_fresh_netns(
        Cli::Codex,
        "fenced_codex_reaches_a_listed_mcp_server_only_through_the_proxy",
    )
    .await
    {
        return;
    }
    let tracker = doubles::mcp::McpDouble::start(TRACKER_TOKEN, "FENCED-TRACKER-8842")
        .await
        .unwrap();
    let port = tracker.addr().port();
    let work = tempfile::tempdir().unwrap();
    // The model first tries the tracker's port itself, then calls its tool.
    let direct = format!(
        "if (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; then echo DIRECT-REACHED; else echo DIRECT-REFUSED; fi"
    );
    let script = Script::new()
        .then(Turn::tool_call(ToolCall::shell("call_direct", direct)))
        .then(
            Turn::tool_call(ToolCall::new(
                "call_mcp",
                real_cli::tracker_call(Assistant::Codex),
            ))
            .expecting(Expectation::ToolOutputFor("call_direct".into())),
        )
        .then(Turn::text("Read WEB-7.").expecting(Expectation::custom(
            "the tracker's answer through the proxy",
            |request| {
                request
                    .tool_outputs()
                    .iter()
                    .any(|o| o.call_id == "call_mcp" && o.text.contains("FENCED-TRACKER-8842"))
            },
        )));
    let double = openai::start(script).await.unwrap();
    let config =
        McpConfig::parse("AI_MCP_CONFIG", &real_cli::tracker_config(&tracker.url())).unwrap();
    // `o4-mini`: Codex lists MCP tools at once for models it does not know to search tools.
    let (report, _, _) = fenced_run_with(
        Assistant::Codex,
        64305,
        &double,
        work.path(),
        config,
        vec!["127.0.0.1".to_owned()],
        Some("o4-mini"),
    )
    .await;

    assert!(report.sandboxed);
    assert_eq!(double.problems(), Vec::<String>::new());
    assert!(
        matches!(report.outcome, Outcome::Succeeded { .. }),
        "{:?}",
        report.outcome
    );
    let direct_output = real_cli::tool_outputs(&double, "call_direct");
    assert!(
        direct_output.iter().any(|t| t.contains("DIRECT-REFUSED"))
            && direct_output.iter().all(|t| !t.contains("DIRECT-REACHED")),
        "the sandbox uid reached the MCP server's port itself: {direct_output:?}"
    );
    assert_eq!(tracker.tool_calls(), [serde_json::json!({"key": "WEB-7"})]);
    assert!(tracker.requests().iter().all(|r| r.authorized));
    for request in double.requests() {
        assert!(
            !request.contains(TRACKER_TOKEN),
            "the token reached the model"
        );
    }
}
