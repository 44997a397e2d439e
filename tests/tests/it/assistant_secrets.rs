//! The model asks the assistant to print its environment and then to dump every
//! `/proc/<pid>/environ` and `/proc/<pid>/cmdline` it can read; the job's secrets must not be
//! in what comes back nor in the dump, and the real API key must reach the API only in its auth
//! header.
//!
//! The test runs in a process of its own ([`in_own_process`]): it puts secrets into that
//! process's environment (as GitLab CI does for the job) before any other thread exists, and starts a stand-in for the runner's job
//! shell whose initial environment holds them, as the real one's does. The CLI runs as the
//! entrypoint always runs it, as the sandbox uid, here with the network open (`AI_SANDBOX=off`);
//! `sandbox_real_clis.rs` does the same dump fenced.

use crate::support::own_process::in_own_process;
use crate::support::real_cli;
use crate::support::runs::{api_of, spec};

use doubles::model::cli::Cli;
use doubles::model::{Expectation, ModelDouble, Script, ToolCall, Turn};
use entrypoint::agent::Assistant;
use entrypoint::agent::run::{Outcome, RunSpec, run};

const CLAUDE_KEY: &str = "sk-ant-canary-key-71c2e0";
const OPENAI_KEY: &str = "sk-canary-key-4be913";
/// The job's CI/CD variables, secrets all: GitLab CI puts them in the job's environment.
const JOB_VARIABLES: &[(&str, &str)] = &[
    ("ANTHROPIC_API_KEY", CLAUDE_KEY),
    ("OPENAI_API_KEY", OPENAI_KEY),
    ("CODEX_API_KEY", OPENAI_KEY),
    ("GITLAB_TOKEN", "glpat-canary-token-90f1aa"),
    ("CI_JOB_TOKEN", "job-canary-token-3d5c77"),
    ("DB_PASSWORD", "db-canary-password-e61b02"),
    ("CI_REGISTRY_PASSWORD", "registry-canary-password-0c4d19"),
];
/// In the job shell stand-in's command line, which every uid may read: proof that the dump
/// looked at processes other than its own.
const JOB_SHELL_MARKER: &str = "job-shell-stand-in-5be0";

/// The values of [`JOB_VARIABLES`].
fn secrets() -> Vec<&'static str> {
    JOB_VARIABLES.iter().map(|(_, secret)| *secret).collect()
}

#[test]
fn printing_the_environment_reveals_no_secret_to_the_model() {
    if !in_own_process("assistant_secrets::printing_the_environment_reveals_no_secret_to_the_model")
    {
        return;
    }
    for (name, secret) in JOB_VARIABLES {
        // SAFETY: the test runs alone in its process, on the one thread there is.
        unsafe { std::env::set_var(name, secret) };
    }
    // The job shell: the runner starts it with every CI/CD variable in its environment.
    let mut job_shell = doubles::sandbox::job_shell(&[], JOB_SHELL_MARKER);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        for assistant in Assistant::ALL {
            print_env_through(assistant).await;
        }
    });
    job_shell.kill().unwrap();
    job_shell.wait().unwrap();
}

async fn print_env_through(assistant: Assistant) {
    let work = doubles::sandbox::reachable_tempdir();
    let script = Script::new()
        .then(Turn::tool_call(ToolCall::shell("call_env_1", "env")))
        .then(
            Turn::tool_call(ToolCall::shell(
                "call_proc_1",
                doubles::sandbox::proc_dump(doubles::sandbox::PROC_DUMP_FILE),
            ))
            .expecting(Expectation::ToolOutputFor("call_env_1".into())),
        )
        .then(Turn::text("Printed.").expecting(Expectation::ToolOutputFor("call_proc_1".into())));
    let double = real_cli::model_double(assistant, script).await;
    let (api, base) = api_of(assistant, &double.base_url());
    let (cli, key) = match assistant {
        Assistant::Claude => (Cli::Claude, CLAUDE_KEY),
        Assistant::Codex => (Cli::Codex, OPENAI_KEY),
    };
    let cli = real_cli::reachable(cli).await;
    let spec = RunSpec {
        extra_path: cli.path_dirs,
        prompt: "Print the environment.".to_owned(),
        model: Some(match assistant {
            Assistant::Claude => "claude-sonnet-4-6".to_owned(),
            Assistant::Codex => "gpt-5.5".to_owned(),
        }),
        passthrough: vec!["DB_PASSWORD".to_owned(), "GITLAB_TOKEN".to_owned()],
        ..spec(assistant, cli.binary, work.path(), (api, &base), key)
    };

    let lease = doubles::sandbox::UidLease::take();
    let plan = real_cli::open_plan(lease.uid);
    let report = run(&spec, &plan, |_| {}).await.unwrap();

    assert!(
        matches!(report.outcome, Outcome::Succeeded { .. }),
        "{assistant}: {:?}",
        report.outcome
    );
    assert_eq!(double.problems(), Vec::<String>::new(), "{assistant}");
    let output = tool_output(&double, "call_env_1");
    assert!(
        output.contains("HOME=") && output.contains("PATH="),
        "{assistant}: the command printed the environment: {output}"
    );
    for secret in secrets() {
        assert!(
            !output.contains(secret),
            "{assistant}: {secret} is in the env output"
        );
    }
    assert_eq!(report.refused_passthrough, ["DB_PASSWORD", "GITLAB_TOKEN"]);
    assert!(!report.sandboxed, "{assistant}: the network was open");

    let summary = tool_output(&double, "call_proc_1");
    assert!(summary.contains("dumped"), "{assistant}: {summary}");
    doubles::sandbox::check_proc_dump(work.path(), lease.uid, JOB_SHELL_MARKER, &secrets());
    for secret in secrets() {
        assert!(
            !summary.contains(secret),
            "{assistant}: {secret} is readable from /proc by the assistant"
        );
    }
    for request in double.requests() {
        assert_eq!(request.credential(), Some(key), "{assistant}");
        let mut without_auth = request.clone();
        without_auth
            .headers
            .retain(|(name, _)| name != "x-api-key" && name != "authorization");
        for secret in secrets() {
            assert!(
                !without_auth.contains(secret),
                "{assistant}: {secret} reached the API outside the auth header"
            );
        }
    }
}

/// The first output the CLI sent the model for tool call `call_id`.
fn tool_output(double: &ModelDouble, call_id: &str) -> String {
    real_cli::tool_outputs(double, call_id)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no output for {call_id}"))
}
