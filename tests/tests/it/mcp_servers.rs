//! MCP servers with the real pinned CLIs against the model doubles: an issue tracker's MCP
//! server (the double in `doubles::mcp`, which wants a bearer token) configured as the
//! entrypoint reads it; the scripted model calls its tool; the tracker sees the token; the
//! model never does (not in any model request, not in any `/proc/<pid>/environ` or `cmdline`
//! the sandbox uid can read). A stdio server (`mcp-stdio-double`, a binary of this crate) runs
//! as the sandbox uid with its configured environment and none of the job's variables.
//!
//! The token is a CI/CD variable of the job, so it must be in the job's initial environment.
//! Each CLI test runs itself again as a child process with the token in its environment (as
//! GitLab starts the job), rather than setting it in a process that already has threads. The
//! fenced half (the MCP server's port unreachable except through the proxy) is in
//! `sandbox_real_clis.rs`.

use std::path::Path;
use std::process::Command;

use doubles::mcp::{McpDouble, TOOL};
use doubles::model::cli::{Cli, InstalledCli};
use doubles::model::openai;
use doubles::model::{Expectation, ModelDouble, Script, ToolAction, ToolCall, Turn};
use entrypoint::agent::Assistant;
use entrypoint::agent::mcp::{McpConfig, McpError};
use entrypoint::agent::run::{Outcome, RunError, RunSpec, run};
use entrypoint::sandbox::{Network, SandboxUid, Settings};

use crate::support::{real_cli, runs};

/// Set in the child: the test runs its body there.
const CHILD: &str = "DOUBLES_MCP_TEST_CHILD";
/// Where the configuration came from, as messages name it.
const VARIABLE_NAME: &str = "AI_MCP_CONFIG";
const TRACKER_TOKEN: &str = "tracker-token-canary-6f2a91";
const CLAUDE_KEY: &str = "sk-ant-mcp-key-1c9d";
const OPENAI_KEY: &str = "sk-mcp-key-8e3b";
const ISSUE_TEXT: &str = "Login fails with a 500 after the password reset (TRACKER-ANSWER-4471)";
const JOB_SHELL_MARKER: &str = "mcp-job-shell-stand-in-77d0";

/// Outside: runs `test` again in a child whose initial environment holds the tracker token
/// (as the job's does) and asserts that it passed there. Inside: runs `body` to its end.
fn in_job_environment(test: &str, body: impl Future<Output = ()>) {
    if std::env::var_os(CHILD).is_some() {
        tokio::runtime::Runtime::new().unwrap().block_on(body);
        return;
    }
    // Inside the one test binary, libtest knows the test as `<story module>::<test>`.
    let test = &format!("{}::{test}", module_path!().trim_start_matches("it::"));
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(real_cli::TRACKER_VARIABLE, TRACKER_TOKEN)
        .output()
        .unwrap();
    runs::assert_child_test_passed(&out, test, "child");
}

/// One test per story and assistant, named `$test`, whose body runs in the job's environment
/// ([`in_job_environment`]).
macro_rules! in_job_environment_tests {
    ($($test:ident: $story:ident($assistant:expr),)*) => {$(
        #[test]
        fn $test() {
            in_job_environment(stringify!($test), $story($assistant));
        }
    )*};
}

async fn installed(cli: Cli) -> InstalledCli {
    let cli = real_cli::reachable(cli).await;
    tokio::task::spawn_blocking(|| doubles::binaries::entrypoint().map(|_| ()))
        .await
        .unwrap()
        .expect("the entrypoint binary");
    cli
}

async fn spec(
    assistant: Assistant,
    double: &ModelDouble,
    workspace: &Path,
    mcp: McpConfig,
) -> RunSpec {
    let (cli, key, model) = match assistant {
        Assistant::Claude => (Cli::Claude, CLAUDE_KEY, "claude-sonnet-4-6"),
        Assistant::Codex => (
            Cli::Codex,
            OPENAI_KEY,
            // The product's default model. For models it knows to support tool search
            // (`gpt-5.5`), Codex 0.169.0 defers MCP tools behind its `tool_search` tool and the
            // model searches before it calls; for the others it lists the namespace at once.
            "o4-mini",
        ),
    };
    let cli = installed(cli).await;
    let (api, base) = runs::api_of(assistant, &double.base_url());
    let mut spec = RunSpec {
        extra_path: cli.path_dirs,
        prompt: "What does issue WEB-7 say?".to_owned(),
        model: Some(model.to_owned()),
        ..runs::spec(assistant, cli.binary, workspace, (api, &base), key)
    };
    spec.options.mcp = mcp;
    spec
}

/// The model dumps /proc, calls the tracker's tool, and answers with what it returned.
fn script(assistant: Assistant) -> Script {
    let call = real_cli::tracker_call(assistant);
    let advertised = match assistant {
        Assistant::Claude => real_cli::claude_tracker_tool(),
        // Codex groups a server's tools in a namespace tool of its own.
        Assistant::Codex => r#"{"type":"namespace","name":"mcp__tracker""#.to_owned(),
    };
    Script::new()
        .then(
            Turn::tool_call(ToolCall::shell(
                "call_dump",
                doubles::sandbox::proc_dump(doubles::sandbox::PROC_DUMP_FILE),
            ))
            .expecting(Expectation::Contains(advertised)),
        )
        .then(
            Turn::tool_call(ToolCall::new("call_mcp", call))
                .expecting(Expectation::ToolOutputFor("call_dump".into())),
        )
        .then(
            Turn::text("WEB-7: login fails after a password reset.").expecting(
                Expectation::custom(
                    "the tracker's answer as the output of call_mcp",
                    |request| {
                        request.tool_outputs().iter().any(|o| {
                            o.call_id == "call_mcp" && o.text.contains("TRACKER-ANSWER-4471")
                        })
                    },
                ),
            ),
        )
}

async fn the_tracker_token_reaches_the_tracker_only(assistant: Assistant) {
    let mut job_shell = doubles::sandbox::job_shell(
        &[(real_cli::TRACKER_VARIABLE, TRACKER_TOKEN)],
        JOB_SHELL_MARKER,
    );
    let tracker = McpDouble::start(TRACKER_TOKEN, ISSUE_TEXT).await.unwrap();
    let work = doubles::sandbox::reachable_tempdir();
    let double = real_cli::model_double(assistant, script(assistant)).await;
    let config = McpConfig::parse(
        "AI_MCP_CONFIG_FILE=.gitlab/ai-mcp.toml",
        &real_cli::tracker_config(&tracker.url()),
    )
    .unwrap();
    let spec = spec(assistant, &double, work.path(), config).await;
    let lease = doubles::sandbox::UidLease::take();
    let plan = real_cli::open_plan(lease.uid);

    let report = run(&spec, &plan, |_| {})
        .await
        .expect("the run could not start");
    job_shell.kill().unwrap();
    job_shell.wait().unwrap();

    eprintln!("{assistant}: {:?}", report.outcome);
    assert_eq!(double.problems(), Vec::<String>::new());
    assert!(
        matches!(&report.outcome, Outcome::Succeeded { final_text, .. } if final_text.starts_with("WEB-7")),
        "{:?}",
        report.outcome
    );
    // The tracker: called once with the model's arguments, every request with the token.
    assert_eq!(tracker.tool_calls(), [serde_json::json!({"key": "WEB-7"})]);
    let requests = tracker.requests();
    assert!(requests.iter().all(|r| r.authorized), "{requests:?}");
    // The model: never the token, in no request, header or body.
    for request in double.requests() {
        assert!(
            !request.contains(TRACKER_TOKEN),
            "the tracker token reached the model API"
        );
    }
    // The sandbox uid: not in any process it can read, the job shell stand-in included.
    doubles::sandbox::check_proc_dump(work.path(), lease.uid, JOB_SHELL_MARKER, &[TRACKER_TOKEN]);
}

in_job_environment_tests! {
    claude_calls_the_trackers_tool_and_only_the_tracker_sees_its_token:
        the_tracker_token_reaches_the_tracker_only(Assistant::Claude),
    codex_calls_the_trackers_tool_and_only_the_tracker_sees_its_token:
        the_tracker_token_reaches_the_tracker_only(Assistant::Codex),
}

async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.unwrap()
}

async fn status_of(request: reqwest::RequestBuilder) -> reqwest::StatusCode {
    send(request).await.status()
}

#[tokio::test]
async fn the_tracker_double_is_no_kinder_than_the_specification() {
    let tracker = McpDouble::start("right", "text").await.unwrap();
    let http = reqwest::Client::new();
    let post = |token: &str, body: serde_json::Value| {
        http.post(tracker.url())
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "application/json, text/event-stream")
            .json(&body)
    };
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    assert_eq!(status_of(post("wrong", init.clone())).await, 401);
    let answer = send(post("right", init)).await;
    assert_eq!(answer.status(), 200);
    let session = answer.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let list = serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    assert_eq!(status_of(post("right", list.clone())).await, 400);
    let in_session = |request: reqwest::RequestBuilder| request.header("mcp-session-id", &session);
    let listed = send(in_session(post("right", list.clone()))).await;
    let body: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(body["result"]["tools"][0]["name"], TOOL);
    let notification = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        status_of(in_session(post("right", notification))).await,
        202
    );
    let no_accept = http
        .post(tracker.url())
        .header("authorization", "Bearer right")
        .json(&list);
    assert_eq!(status_of(in_session(no_accept)).await, 406);
    let get = http
        .get(tracker.url())
        .header("authorization", "Bearer right");
    assert_eq!(status_of(get).await, 405);
    assert!(tracker.tool_calls().is_empty());
}

#[tokio::test]
async fn a_fenced_codex_run_refuses_an_mcp_host_not_in_ai_sandbox_allow() {
    let tracker = McpDouble::start(TRACKER_TOKEN, ISSUE_TEXT).await.unwrap();
    let double = openai::start(Script::new()).await.unwrap();
    let work = doubles::sandbox::reachable_tempdir();
    let config =
        McpConfig::parse(VARIABLE_NAME, &real_cli::tracker_config(&tracker.url())).unwrap();
    let spec = spec(Assistant::Codex, &double, work.path(), config).await;
    let lease = doubles::sandbox::UidLease::take();
    // Codex's default: fenced; another host is listed, the tracker's is not.
    let settings = Settings {
        uid: SandboxUid::new(lease.uid).unwrap(),
        network: Network::Fenced {
            extra_hosts: vec!["gateway.example.com".to_owned()],
        },
    };
    let plan = real_cli::plan(
        settings,
        doubles::binaries::entrypoint().unwrap().to_owned(),
    );

    let error = run(&spec, &plan, |_| {})
        .await
        .expect_err("an unlisted MCP host must stop the run");

    let message = error.to_string();
    assert!(
        matches!(error, RunError::Mcp(McpError::NotAllowed { .. })),
        "{message}"
    );
    assert!(
        message.contains("127.0.0.1") && message.contains("AI_SANDBOX_ALLOW"),
        "{message}"
    );
    assert!(double.requests().is_empty(), "the CLI started");
    assert!(tracker.requests().is_empty(), "the tracker was contacted");
}

/// The stdio double: `whoami` reports its uid and the names of its variables.
const STDIO_DOUBLE: &str = env!("CARGO_BIN_EXE_mcp-stdio-double");

/// A stdio server with a plain setting runs as the sandbox uid, with that setting and without
/// the job's secrets.
async fn a_stdio_server_runs_as_the_sandbox_uid(assistant: Assistant) {
    let work = doubles::sandbox::reachable_tempdir();
    let call = match assistant {
        Assistant::Claude => ToolAction::ClaudeTool {
            name: "mcp__docs__whoami".into(),
            input: serde_json::json!({}),
        },
        Assistant::Codex => ToolAction::CodexNamespacedFunction {
            namespace: "mcp__docs".into(),
            name: "whoami".into(),
            arguments: serde_json::json!({}),
        },
    };
    let lease = doubles::sandbox::UidLease::take();
    let uid = lease.uid;
    let script = Script::new()
        .then(Turn::tool_call(ToolCall::new("call_who", call)))
        .then(Turn::text("Done.").expecting(Expectation::ToolOutputFor("call_who".into())));
    let double = real_cli::model_double(assistant, script).await;
    let config = McpConfig::parse(
        VARIABLE_NAME,
        &format!(
            "[mcp_servers.docs]\ncommand = \"{STDIO_DOUBLE}\"\nenv = {{ DOCS_LANG = \"en\" }}\n"
        ),
    )
    .unwrap();
    let spec = spec(assistant, &double, work.path(), config).await;
    let plan = real_cli::open_plan(uid);

    let report = run(&spec, &plan, |_| {})
        .await
        .expect("the run could not start");

    assert_eq!(
        double.problems(),
        Vec::<String>::new(),
        "{:?}",
        report.outcome
    );
    let text = real_cli::tool_outputs(&double, "call_who").join("\n");
    assert!(text.contains(&format!("STDIO-DOUBLE uid={uid} ")), "{text}");
    let names: Vec<&str> = text
        .split("env=")
        .nth(1)
        .unwrap_or_default()
        .split([',', '\n', '"', '\\'])
        .collect();
    assert!(names.contains(&"DOCS_LANG"), "{text}");
    // The job's variables (both are in this process's environment) stay out. Claude passes its
    // own environment on, whose `ANTHROPIC_API_KEY` is the dummy key the proxy replaces.
    for secret in [real_cli::TRACKER_VARIABLE, CHILD] {
        assert!(
            !names.contains(&secret),
            "{secret} reached the stdio server: {text}"
        );
    }
}

in_job_environment_tests! {
    claude_starts_a_stdio_server_as_the_sandbox_uid_without_the_jobs_secrets:
        a_stdio_server_runs_as_the_sandbox_uid(Assistant::Claude),
    codex_starts_a_stdio_server_as_the_sandbox_uid_without_the_jobs_secrets:
        a_stdio_server_runs_as_the_sandbox_uid(Assistant::Codex),
}
