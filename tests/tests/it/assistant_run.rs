//! `entrypoint::agent::run` with the real pinned CLIs, through the key proxy, against the
//! model doubles: what a user sees in the job (files changed, the answer, usage, failures and
//! timeouts reported) and what the model API sees (only the real key, only in its header).
//!
//! The first run installs the CLIs from npm into the user cache (about 15 s each). Each run is
//! as the entrypoint makes it: the CLI as a sandbox uid of its own, network open.

use std::path::Path;
use std::time::{Duration, Instant};

use doubles::model::cli::{Cli, InstalledCli, install};
use doubles::model::{
    ApiError, Expectation, Fault, ModelDouble, Script, ToolCall, Turn, Usage as DoubleUsage,
};
use entrypoint::agent::Assistant;
use entrypoint::agent::events::{AssistantEvent, Limit, Usage};
use entrypoint::agent::options::CliOptions;
use entrypoint::agent::run::{Outcome, Provider, RunError, RunReport, RunSpec};
use entrypoint::budget::Price;
use entrypoint::sandbox::{Capabilities, Plan, ProbeProgram, SandboxUid, Settings};

use crate::support::per_assistant::{
    answers, assert_contains, call_then_answer, expensive, model_for, tool_output, write_in,
};
use crate::support::runs;

const CLAUDE_KEY: &str = "sk-ant-real-key-5f1e2d3c";
const OPENAI_KEY: &str = "sk-real-key-9a8b7c6d";
/// A model name Codex knows, so it advertises `apply_patch`.
const CODEX_KNOWN_MODEL: &str = "gpt-5.5";
/// Far above a healthy run (a few seconds) and below the CLIs' minutes of retries.
const RUN_LIMIT: Duration = Duration::from_secs(120);

async fn installed(cli: Cli) -> InstalledCli {
    tokio::task::spawn_blocking(move || {
        doubles::sandbox::reachable_cli(&install(cli).expect("installing the CLI"))
    })
    .await
    .expect("install task panicked")
}

/// The run as the entrypoint does it, as a sandbox uid this test process holds alone.
async fn run(
    spec: &RunSpec,
    on_event: impl FnMut(&AssistantEvent) + Send,
) -> Result<RunReport, RunError> {
    let lease = doubles::sandbox::UidLease::take();
    entrypoint::agent::run::run(spec, &open_plan(lease.uid), on_event).await
}

/// The network open (fencing is tested in network namespaces of its own), the product's own
/// binary as the sandbox's reaper.
fn open_plan(uid: u32) -> Plan {
    Plan {
        settings: Settings::open(SandboxUid::new(uid).unwrap()),
        probe: ProbeProgram(
            doubles::binaries::entrypoint()
                .expect("the entrypoint binary")
                .to_owned(),
        ),
        capabilities: Capabilities::current().unwrap(),
    }
}

/// A spec for `assistant` on `workspace`, its API at `double`.
async fn spec(assistant: Assistant, double: &ModelDouble, workspace: &Path) -> RunSpec {
    let (cli, key) = match assistant {
        Assistant::Claude => (Cli::Claude, CLAUDE_KEY),
        Assistant::Codex => (Cli::Codex, OPENAI_KEY),
    };
    let (api, base) = runs::api_of(assistant, &double.base_url());
    let cli = installed(cli).await;
    // The sandbox's reaper is the product's binary, built on first use: built here, before any
    // test starts its clock.
    tokio::task::spawn_blocking(|| doubles::binaries::entrypoint().map(|_| ()))
        .await
        .expect("build task panicked")
        .expect("the entrypoint binary");
    RunSpec {
        extra_path: cli.path_dirs,
        model: match assistant {
            Assistant::Claude => Some("claude-sonnet-4-6".to_owned()),
            Assistant::Codex => Some(CODEX_KNOWN_MODEL.to_owned()),
        },
        timeout: RUN_LIMIT,
        ..runs::spec(assistant, cli.binary, workspace, (api, &base), key)
    }
}

async fn run_collecting(spec: &RunSpec) -> (RunReport, Vec<AssistantEvent>) {
    let mut events = Vec::new();
    let report = run(spec, |event| events.push(event.clone()))
        .await
        .expect("the run could not start");
    eprintln!(
        "{} run: {:?} after {:?}",
        spec.assistant, report.outcome, report.elapsed
    );
    (report, events)
}

/// The run succeeded; `case` says which one failed.
#[track_caller]
fn assert_succeeded(report: &RunReport, case: &str) {
    assert!(
        matches!(report.outcome, Outcome::Succeeded { .. }),
        "{case}: {:?}",
        report.outcome
    );
}

/// The CLI options the entrypoint reads for `assistant` when only the variable `name` is set,
/// to `value`.
fn options_with(assistant: Assistant, name: &str, value: &str) -> CliOptions {
    CliOptions::from_env(assistant, &|n: &str| (n == name).then(|| value.to_owned()))
        .expect("the options are valid")
}

/// A git checkout whose CODEX.md and AGENTS.md each hold a rule of their own.
fn codex_rules_workspace() -> tempfile::TempDir {
    let work = doubles::sandbox::reachable_tempdir();
    std::fs::create_dir(work.path().join(".git")).unwrap();
    std::fs::write(work.path().join("AGENTS.md"), "Rule: AGENTS-RULE-8812.\n").unwrap();
    std::fs::write(work.path().join("CODEX.md"), "Rule: CODEX-RULE-3390.\n").unwrap();
    work
}

/// Which rule files reached the model in the run's first request: (CODEX.md, AGENTS.md).
fn rules_read(double: &ModelDouble) -> (bool, bool) {
    let call = &double.model_calls()[0];
    (
        call.contains("CODEX-RULE-3390"),
        call.contains("AGENTS-RULE-8812"),
    )
}

fn tool_calls(events: &[AssistantEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            AssistantEvent::ToolCall { name, summary } => Some((name.clone(), summary.clone())),
            _ => None,
        })
        .collect()
}

/// Every request reached the double with the real key in the API's header, and nowhere else.
fn only_the_real_key_in_its_header(double: &ModelDouble, key: &str) {
    let requests = double.requests();
    assert!(!requests.is_empty());
    for request in requests {
        assert_eq!(
            request.credential(),
            Some(key),
            "{} {}",
            request.method,
            request.path
        );
        assert!(!request.body.contains(key), "the key is in a request body");
        let elsewhere = request
            .headers
            .iter()
            .filter(|(name, _)| name != "x-api-key" && name != "authorization")
            .any(|(_, value)| value.contains(key));
        assert!(!elsewhere, "the key is in another header");
        assert!(
            !request.contains("gitlab-ai-dummy-key"),
            "the dummy key reached the API"
        );
    }
}

/// `call` (which writes `hello.txt`), then `answer` once the output of `call_id` is back; the
/// two requests use 1000 + 30 and 1500 + 40 tokens, 2500 in and 70 out together.
fn metered(call: Turn, call_id: &str, answer: &str) -> Script {
    let usage = |input_tokens, output_tokens| DoubleUsage {
        input_tokens,
        output_tokens,
    };
    Script::new().then(call.with_usage(usage(1000, 30))).then(
        Turn::text(answer)
            .expecting(Expectation::ToolOutputFor(call_id.into()))
            .with_usage(usage(1500, 40)),
    )
}

/// The [`metered`] run wrote `hello.txt` in `work` and succeeded with `answer` and all of its
/// usage; the cost it reported.
#[track_caller]
fn assert_wrote_hello(report: &RunReport, work: &Path, answer: &str) -> Option<f64> {
    assert_eq!(
        std::fs::read_to_string(work.join("hello.txt")).unwrap(),
        "hello\n"
    );
    let Outcome::Succeeded {
        final_text,
        usage,
        cost_usd,
    } = &report.outcome
    else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(final_text, answer);
    assert_eq!(
        *usage,
        Some(Usage {
            input: 2500,
            output: 70
        })
    );
    *cost_usd
}

#[tokio::test]
async fn claude_writes_a_file_and_reports_its_answer_and_usage() {
    let work = doubles::sandbox::reachable_tempdir();
    let target = work.path().join("hello.txt");
    let write = ToolCall::write_file("toolu_w1", &target, "hello\n");
    let script = metered(
        Turn::tool_call(write).with_text("Writing the file."),
        "toolu_w1",
        "Wrote hello.txt.",
    );
    let double = model_for(Assistant::Claude, script).await;
    let spec = spec(Assistant::Claude, &double, work.path()).await;

    let (report, events) = run_collecting(&spec).await;

    assert_eq!(double.problems(), Vec::<String>::new());
    let cost_usd = assert_wrote_hello(&report, work.path(), "Wrote hello.txt.");
    assert!(cost_usd.is_some());
    assert_eq!(
        tool_calls(&events),
        [("Write".to_owned(), "hello.txt".to_owned())]
    );
    assert!(events.contains(&AssistantEvent::Message {
        text: "Writing the file.".into()
    }));
    assert_eq!(report.fallback_used, None);
    only_the_real_key_in_its_header(&double, CLAUDE_KEY);
    let calls = double.model_calls();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c.model() == Some("claude-sonnet-4-6")));
}

#[tokio::test]
async fn claude_follows_claude_md_from_the_workspace() {
    let work = doubles::sandbox::reachable_tempdir();
    std::fs::write(work.path().join("CLAUDE.md"), "Rule: CLAUDE-RULE-4471.\n").unwrap();
    let double = model_for(Assistant::Claude, answers(&["ok"])).await;
    let mut spec = spec(Assistant::Claude, &double, work.path()).await;
    spec.max_turns = Some(3);

    let (report, _) = run_collecting(&spec).await;

    assert_succeeded(&report, "");
    assert!(double.model_calls()[0].contains("CLAUDE-RULE-4471"));
}

#[tokio::test]
async fn codex_applies_a_patch_and_reports_its_answer_and_usage() {
    let work = doubles::sandbox::reachable_tempdir();
    let write = ToolCall::write_file("call_p1", "hello.txt", "hello\n");
    let script = metered(Turn::tool_call(write), "call_p1", "Added hello.txt.");
    let double = model_for(Assistant::Codex, script).await;
    let spec = spec(Assistant::Codex, &double, work.path()).await;

    let (report, events) = run_collecting(&spec).await;

    assert_eq!(double.problems(), Vec::<String>::new());
    let cost_usd = assert_wrote_hello(&report, work.path(), "Added hello.txt.");
    // Codex reports no cost: the key proxy's estimate, at the ceiling price of the table since
    // the price list does not name gpt-5.5.
    let ceiling = Price::ceiling();
    let expected = (2500.0 * ceiling.input + 70.0 * ceiling.output) / 1_000_000.0;
    assert!(
        cost_usd.is_some_and(|usd| (usd - expected).abs() < 1e-12),
        "{cost_usd:?}"
    );
    assert_eq!(
        tool_calls(&events),
        [("apply_patch".to_owned(), "add hello.txt".to_owned())]
    );
    only_the_real_key_in_its_header(&double, OPENAI_KEY);
}

#[tokio::test]
async fn codex_follows_codex_md_and_ignores_agents_md() {
    let work = codex_rules_workspace();
    let double = model_for(Assistant::Codex, answers(&["ok"])).await;
    let spec = spec(Assistant::Codex, &double, work.path()).await;

    let (report, _) = run_collecting(&spec).await;

    assert_succeeded(&report, "");
    let (codex_md, agents_md) = rules_read(&double);
    assert!(codex_md, "CODEX.md reaches the model");
    assert!(!agents_md, "AGENTS.md must not reach the model");
}

#[tokio::test]
async fn a_500_fails_the_run_quickly_with_the_apis_message() {
    for assistant in Assistant::ALL {
        let work = doubles::sandbox::reachable_tempdir();
        let script = Script::new().then(
            Turn::fault(Fault::Status(ApiError::new(500, "Internal server error"))).times(40),
        );
        let double = model_for(assistant, script).await;
        let spec = spec(assistant, &double, work.path()).await;

        let started = Instant::now();
        let (report, _) = run_collecting(&spec).await;

        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{assistant}: {:?}",
            started.elapsed()
        );
        let Outcome::Failed { message } = &report.outcome else {
            panic!("{assistant}: {:?}", report.outcome)
        };
        // Claude quotes the API's message; Codex replaces a 5xx message by its own.
        let expected = match assistant {
            Assistant::Claude => "API Error: 500 Internal server error",
            Assistant::Codex => "experiencing high demand",
        };
        assert!(message.contains(expected), "{assistant}: {message}");
        assert_eq!(
            double.model_calls().len(),
            1,
            "{assistant}: no retries were asked for"
        );
    }
}

#[tokio::test]
async fn a_hung_model_times_out_and_leaves_no_process_behind() {
    // Both CLIs side by side: each run lasts its whole timeout.
    futures::future::join_all(Assistant::ALL.map(a_hung_model_times_out)).await;
}

async fn a_hung_model_times_out(assistant: Assistant) {
    let work = doubles::sandbox::reachable_tempdir();
    let script = Script::new().then(Turn::text("too late").after(Duration::from_secs(120)));
    let double = model_for(assistant, script).await;
    let mut spec = spec(assistant, &double, work.path()).await;
    // Long enough for the CLI to start and make its call on a loaded 2-core machine (3 s, and
    // then 8 s, were not, with the whole suite running beside it).
    let timeout = Duration::from_secs(20);
    spec.timeout = timeout;

    let started = Instant::now();
    let (report, _) = run_collecting(&spec).await;

    assert_eq!(report.outcome, Outcome::TimedOut { after: timeout });
    assert!(
        started.elapsed() < timeout + Duration::from_secs(7),
        "{assistant}: {:?}",
        started.elapsed()
    );
    assert_eq!(
        double.model_calls().len(),
        1,
        "{assistant}: the model call was made"
    );
    assert_eq!(processes_in(work.path()), Vec::<u32>::new(), "{assistant}");
}

/// Processes whose working directory is `dir`.
fn processes_in(dir: &Path) -> Vec<u32> {
    let dir = dir.canonicalize().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cwd = std::fs::read_link(entry.path().join("cwd")).ok()?;
            (cwd == dir).then_some(pid)
        })
        .collect()
}

#[tokio::test]
async fn codex_retries_once_with_the_fallback_model_when_o4_mini_is_gone() {
    let work = doubles::sandbox::reachable_tempdir();
    let script = Script::new()
        .unknown_model("o4-mini")
        .then(Turn::text("Done with the fallback model."));
    let double = model_for(Assistant::Codex, script).await;
    let mut spec = spec(Assistant::Codex, &double, work.path()).await;
    spec.model = Some("o4-mini".to_owned());
    spec.fallback_model = Some(CODEX_KNOWN_MODEL.to_owned());

    let (report, events) = run_collecting(&spec).await;

    assert_eq!(double.problems(), Vec::<String>::new());
    assert!(
        matches!(&report.outcome, Outcome::Succeeded { final_text, .. } if final_text == "Done with the fallback model."),
        "{:?}",
        report.outcome
    );
    assert_eq!(
        report.fallback_used,
        Some(("o4-mini".to_owned(), CODEX_KNOWN_MODEL.to_owned()))
    );
    assert_eq!(report.model.as_deref(), Some(CODEX_KNOWN_MODEL));
    let models: Vec<_> = double
        .model_calls()
        .iter()
        .map(|c| c.model().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(models, ["o4-mini", CODEX_KNOWN_MODEL]);
    assert!(
        events.iter().any(
            |e| matches!(e, AssistantEvent::Failed { message } if message.contains("o4-mini"))
        )
    );
}

#[tokio::test]
async fn a_missing_claude_model_is_not_retried_with_another() {
    let work = doubles::sandbox::reachable_tempdir();
    let double = model_for(
        Assistant::Claude,
        Script::new().unknown_model("claude-retired-1"),
    )
    .await;
    let mut spec = spec(Assistant::Claude, &double, work.path()).await;
    spec.model = Some("claude-retired-1".to_owned());
    spec.fallback_model = Some("claude-sonnet-4-6".to_owned());

    let (report, _) = run_collecting(&spec).await;

    let Outcome::Failed { message } = &report.outcome else {
        panic!("{:?}", report.outcome)
    };
    assert!(message.contains("claude-retired-1"), "{message}");
    assert_eq!(report.fallback_used, None);
    assert!(
        double
            .model_calls()
            .iter()
            .all(|c| c.model() == Some("claude-retired-1"))
    );
}

/// The model runs `ls` with the call `ids[0]` (saying `text`), then again with `ids[1]`: two
/// turns, one more than the turn-limit stories allow; its answer is never reached.
fn lists_twice(ids: [&str; 2], text: &str) -> Script {
    Script::new()
        .then(Turn::tool_call(ToolCall::shell(ids[0], "ls")).with_text(text))
        .then(Turn::tool_call(ToolCall::shell(ids[1], "ls")))
        .then(Turn::text("never reached"))
}

#[tokio::test]
async fn claude_stops_at_the_turn_limit_and_says_so() {
    let work = doubles::sandbox::reachable_tempdir();
    let script = lists_twice(["toolu_ls", "toolu_ls2"], "Looking around.");
    let double = model_for(Assistant::Claude, script).await;
    let mut spec = spec(Assistant::Claude, &double, work.path()).await;
    spec.max_turns = Some(1);

    let (report, _) = run_collecting(&spec).await;

    let Outcome::LimitReached {
        limit,
        partial_text,
        ..
    } = &report.outcome
    else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(*limit, Limit::Turns);
    assert_eq!(partial_text, "Looking around.");
    assert!(double.model_calls().len() < 3);
}

#[tokio::test]
async fn each_assistant_stops_at_its_budget_with_what_it_did() {
    for assistant in Assistant::ALL {
        let work = doubles::sandbox::reachable_tempdir();
        let half = write_in(assistant, work.path(), "call_h", "half.txt", "half done\n");
        // Claude Code checks its budget when an answer arrives and may or may not run that
        // answer's tool calls first, so the expensive answer's tool is one whose effect no
        // assertion depends on.
        let script = Script::new()
            .then(Turn::tool_call(half))
            .then(
                Turn::tool_call(ToolCall::shell("call_ls", "ls"))
                    .with_text("Wrote the first half.")
                    .with_usage(expensive()),
            )
            .then(Turn::text("Finished everything (never reached)."));
        let double = model_for(assistant, script).await;
        let mut spec = spec(assistant, &double, work.path()).await;
        spec.max_budget_usd = Some(0.5);

        let (report, _) = run_collecting(&spec).await;

        let Outcome::LimitReached {
            limit,
            partial_text,
            cost_usd,
            usage,
        } = &report.outcome
        else {
            panic!("{assistant}: {:?}", report.outcome)
        };
        assert_eq!(*limit, Limit::Budget, "{assistant}");
        assert_eq!(partial_text, "Wrote the first half.", "{assistant}");
        assert!(
            cost_usd.is_some_and(|usd| usd >= 0.5),
            "{assistant}: {cost_usd:?}"
        );
        assert!(
            usage.is_some_and(|u| u.input >= 2_000_000),
            "{assistant}: {usage:?}"
        );
        assert_eq!(
            std::fs::read_to_string(work.path().join("half.txt")).unwrap(),
            "half done\n",
            "{assistant}: the work before the limit stays"
        );
        // The last answer was never asked for.
        assert_eq!(double.model_calls().len(), 2, "{assistant}");
        assert_eq!(report.limits.max_usd, Some(0.5));
    }
}

#[tokio::test]
async fn codex_is_held_to_its_turn_limit_and_priced_by_the_proxy() {
    let work = doubles::sandbox::reachable_tempdir();
    let double = model_for(
        Assistant::Codex,
        lists_twice(["call_1", "call_2"], "Listing."),
    )
    .await;
    let mut spec = spec(Assistant::Codex, &double, work.path()).await;
    spec.max_turns = Some(1);
    spec.price = Some(Price {
        input: 1.0,
        cached_input: 0.1,
        output: 10.0,
    });

    let (report, _) = run_collecting(&spec).await;

    let Outcome::LimitReached {
        limit, cost_usd, ..
    } = &report.outcome
    else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(*limit, Limit::Turns);
    assert_eq!(double.model_calls().len(), 1, "the second call was refused");
    // The double's default usage: 100 tokens in, 20 out, at $1 and $10 per million.
    let expected = (100.0 * 1.0 + 20.0 * 10.0) / 1_000_000.0;
    assert!(
        cost_usd.is_some_and(|usd| (usd - expected).abs() < 1e-12),
        "{cost_usd:?}"
    );
}

#[tokio::test]
async fn tool_calls_reach_the_caller_while_the_assistant_is_still_working() {
    for assistant in Assistant::ALL {
        let work = doubles::sandbox::reachable_tempdir();
        let script = Script::new()
            .then(Turn::tool_call(write_in(
                assistant,
                work.path(),
                "call_w",
                "a.txt",
                "a\n",
            )))
            .then(Turn::text("Done.").after(Duration::from_secs(2)));
        let double = model_for(assistant, script).await;
        let spec = spec(assistant, &double, work.path()).await;

        let mut first_tool_call = None;
        let report = run(&spec, |event| {
            if matches!(event, AssistantEvent::ToolCall { .. }) && first_tool_call.is_none() {
                first_tool_call = Some(Instant::now());
            }
        })
        .await
        .unwrap();
        let ended = Instant::now();

        assert_succeeded(&report, assistant.name());
        let seen = first_tool_call.unwrap_or_else(|| panic!("{assistant}: no tool call event"));
        assert!(
            ended - seen >= Duration::from_millis(1500),
            "{assistant}: the tool call was reported only {:?} before the end",
            ended - seen
        );
    }
}

#[tokio::test]
async fn prompts_larger_than_one_command_line_argument_arrive_whole() {
    // Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN); the prompt goes on stdin.
    let prompt = format!("{}\nEND-OF-PROMPT-5521", "context line\n".repeat(20_000));
    assert!(prompt.len() > 200 * 1024);
    for assistant in Assistant::ALL {
        let work = doubles::sandbox::reachable_tempdir();
        let script = answers(&["ok"]);
        let double = model_for(assistant, script).await;
        let mut spec = spec(assistant, &double, work.path()).await;
        spec.prompt = prompt.clone();

        let (report, _) = run_collecting(&spec).await;

        assert_succeeded(&report, assistant.name());
        assert!(
            double.model_calls()[0].contains("END-OF-PROMPT-5521"),
            "{assistant}"
        );
    }
}

#[tokio::test]
async fn codex_cannot_run_on_a_cloud_provider() {
    let work = doubles::sandbox::reachable_tempdir();
    let double = model_for(Assistant::Codex, Script::new()).await;
    let mut spec = spec(Assistant::Codex, &double, work.path()).await;
    spec.provider = Provider::Bedrock;

    let error = run(&spec, |_| {}).await.unwrap_err();

    assert!(error.to_string().contains("Bedrock"), "{error}");
    assert!(double.requests().is_empty());
}

#[tokio::test]
async fn codex_models_without_the_patch_tool_can_patch_through_the_shell() {
    // For model names it does not know (o4-mini among them), Codex offers no `apply_patch`
    // tool; the model then runs `apply_patch` through the shell tool.
    let work = doubles::sandbox::reachable_tempdir();
    let patch = "apply_patch <<'PATCH'\n*** Begin Patch\n*** Add File: shell.txt\n+from the shell\n*** End Patch\nPATCH\n";
    let script = call_then_answer(ToolCall::shell("call_sh", patch), "Patched.");
    let double = model_for(Assistant::Codex, script).await;
    let mut spec = spec(Assistant::Codex, &double, work.path()).await;
    spec.model = Some("o4-mini".to_owned());

    let (report, _) = run_collecting(&spec).await;

    assert_succeeded(&report, "");
    assert_eq!(
        std::fs::read_to_string(work.path().join("shell.txt")).unwrap(),
        "from the shell\n"
    );
}

#[tokio::test]
async fn a_disallowed_tool_is_refused_by_claude() {
    let work = doubles::sandbox::reachable_tempdir();
    let target = work.path().join("hello.txt");
    let script = call_then_answer(
        ToolCall::write_file("toolu_w1", &target, "hello\n"),
        "Could not write.",
    );
    let double = model_for(Assistant::Claude, script).await;
    let mut spec = spec(Assistant::Claude, &double, work.path()).await;
    spec.options = options_with(Assistant::Claude, "AI_DISALLOWED_TOOLS", "Write,WebFetch");

    let (report, _) = run_collecting(&spec).await;

    assert_eq!(double.problems(), Vec::<String>::new());
    assert_succeeded(&report, "");
    assert!(!target.exists(), "the CLI refused the disallowed Write");
    assert_contains(
        &tool_output(&double, "toolu_w1"),
        "No such tool available: Write",
    );
}

#[tokio::test]
async fn codex_follows_agents_md_only_when_opted_in() {
    for (choice, codex_md, agents_md) in [("agents", false, true), ("both", true, true)] {
        let work = codex_rules_workspace();
        let double = model_for(Assistant::Codex, answers(&["ok"])).await;
        let mut spec = spec(Assistant::Codex, &double, work.path()).await;
        spec.options = options_with(Assistant::Codex, "AI_CODEX_RULES", choice);

        let (report, _) = run_collecting(&spec).await;

        assert_succeeded(&report, choice);
        let (codex_read, agents_read) = rules_read(&double);
        assert_eq!(codex_read, codex_md, "{choice}: CODEX.md");
        assert_eq!(agents_read, agents_md, "{choice}: AGENTS.md");
    }
}

#[tokio::test]
async fn reasoning_effort_reaches_both_apis() {
    for assistant in [Assistant::Claude, Assistant::Codex] {
        let work = doubles::sandbox::reachable_tempdir();
        std::fs::create_dir(work.path().join(".git")).unwrap();
        let double = model_for(assistant, answers(&["ok"])).await;
        let mut spec = spec(assistant, &double, work.path()).await;
        spec.options = options_with(assistant, "AI_REASONING_EFFORT", "low");

        let (report, _) = run_collecting(&spec).await;

        assert_succeeded(&report, assistant.name());
        let call = &double.model_calls()[0];
        assert!(
            call.contains("\"effort\":\"low\""),
            "{assistant}: the effort is in the request"
        );
    }
}
