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
use crate::support::runs::spec;

use doubles::model::cli::{Cli, install};
use doubles::model::{Expectation, ModelDouble, Script, ToolCall, Turn, anthropic, openai};
use entrypoint::agent::Assistant;
use entrypoint::agent::run::{Outcome, RunSpec, run};
use entrypoint::proxy::ModelApi;
use entrypoint::sandbox::{Capabilities, Plan, ProbeProgram, SandboxUid, Settings};

const CLAUDE_KEY: &str = "sk-ant-canary-key-71c2e0";
const OPENAI_KEY: &str = "sk-canary-key-4be913";
const GITLAB_TOKEN: &str = "glpat-canary-token-90f1aa";
const CI_JOB_TOKEN: &str = "job-canary-token-3d5c77";
const DB_PASSWORD: &str = "db-canary-password-e61b02";
const REGISTRY_PASSWORD: &str = "registry-canary-password-0c4d19";
const SECRETS: &[&str] = &[
    CLAUDE_KEY,
    OPENAI_KEY,
    GITLAB_TOKEN,
    CI_JOB_TOKEN,
    DB_PASSWORD,
    REGISTRY_PASSWORD,
];
/// In the job shell stand-in's command line, which every uid may read: proof that the dump
/// looked at processes other than its own.
const JOB_SHELL_MARKER: &str = "job-shell-stand-in-5be0";

#[test]
fn printing_the_environment_reveals_no_secret_to_the_model() {
    if !in_own_process("assistant_secrets::printing_the_environment_reveals_no_secret_to_the_model")
    {
        return;
    }
    // SAFETY: the test runs alone in its process, on the one thread there is.
    unsafe {
        std::env::set_var("ANTHROPIC_API_KEY", CLAUDE_KEY);
        std::env::set_var("OPENAI_API_KEY", OPENAI_KEY);
        std::env::set_var("CODEX_API_KEY", OPENAI_KEY);
        std::env::set_var("GITLAB_TOKEN", GITLAB_TOKEN);
        std::env::set_var("CI_JOB_TOKEN", CI_JOB_TOKEN);
        std::env::set_var("DB_PASSWORD", DB_PASSWORD);
        std::env::set_var("CI_REGISTRY_PASSWORD", REGISTRY_PASSWORD);
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
    let (double, cli, api, base, key) = match assistant {
        Assistant::Claude => {
            let double = anthropic::start(script).await.unwrap();
            let base = double.base_url();
            (double, Cli::Claude, ModelApi::Anthropic, base, CLAUDE_KEY)
        }
        Assistant::Codex => {
            let double = openai::start(script).await.unwrap();
            let base = format!("{}/v1", double.base_url());
            (double, Cli::Codex, ModelApi::OpenAi, base, OPENAI_KEY)
        }
    };
    let cli = tokio::task::spawn_blocking(move || {
        doubles::sandbox::reachable_cli(&install(cli).unwrap())
    })
    .await
    .unwrap();
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
    let plan = Plan {
        settings: Settings::open(SandboxUid::new(lease.uid).unwrap()),
        probe: ProbeProgram(
            doubles::binaries::entrypoint()
                .expect("the entrypoint binary")
                .to_owned(),
        ),
        capabilities: Capabilities::current().unwrap(),
    };
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
    for secret in SECRETS {
        assert!(
            !output.contains(secret),
            "{assistant}: {secret} is in the env output"
        );
    }
    assert_eq!(report.refused_passthrough, ["DB_PASSWORD", "GITLAB_TOKEN"]);
    assert!(!report.sandboxed, "{assistant}: the network was open");

    let summary = tool_output(&double, "call_proc_1");
    assert!(summary.contains("dumped"), "{assistant}: {summary}");
    doubles::sandbox::check_proc_dump(work.path(), lease.uid, JOB_SHELL_MARKER, SECRETS);
    for secret in SECRETS {
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
        for secret in SECRETS {
            assert!(
                !without_auth.contains(secret),
                "{assistant}: {secret} reached the API outside the auth header"
            );
        }
    }
}

fn tool_output(double: &ModelDouble, call_id: &str) -> String {
    double
        .model_calls()
        .iter()
        .flat_map(|c| c.tool_outputs())
        .find(|o| o.call_id == call_id)
        .map(|o| o.text)
        .unwrap_or_else(|| panic!("no output for {call_id}"))
}
