//! The network sandbox with real kernel rules, never the host's: every test runs itself again
//! inside a network namespace of its own (`unshare --net`), where a fake model API, a forbidden
//! server and a fake DNS server listen on addresses that exist only there.
//!
//! Needs root, `unshare` (util-linux), `ip` (iproute2), `iptables`/`ip6tables` and `setpriv`,
//! as the CI machines have them (`.ci/run` installs what is missing).

use std::collections::BTreeMap;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entrypoint::agent::Assistant;
use entrypoint::agent::run::{Outcome, Provider, RunError, RunSpec, run};
use entrypoint::proxy::{KeyProxy, ModelApi, Upstream};
use entrypoint::sandbox::{
    Capabilities, Enclosure, Plan, ProbeProgram, ProxySite, SandboxError, SandboxUid, Settings,
    Site, unsandboxed_note,
};
use entrypoint::secret::Secret;

use crate::{fresh_netns, shared};

const INSIDE: &str = "ENTRYPOINT_SANDBOX_TEST_NETNS";
const ENTRYPOINT: &str = env!("CARGO_BIN_EXE_entrypoint");
/// The sandbox uid of the tests that leave rules applied for a moment, and the ones of the tests
/// that run processes as it: separate, because finishing a run kills every process of its uid
/// and other tests run at the same time.
const UID: u32 = 64123;
const CLI_UID: u32 = 64201;
const BREACH_UID: u32 = 64202;
const VERIFY_UID: u32 = 64203;
const OPEN_UID: u32 = 64204;
const REAL_KEY: &str = "sk-ant-real-key-netns-7c1d";
/// The fake model API.
const UPSTREAM: &str = "10.77.0.1:8080";
/// A server nobody in the sandbox may reach, on IPv4 and IPv6, with a fake DNS server beside.
const FORBIDDEN: &str = "10.77.0.2:9000";
const FORBIDDEN_DNS: &str = "10.77.0.2:53";
const FORBIDDEN_V6: &str = "[fd00::77]:9000";
const FORBIDDEN_DNS_V6: &str = "[fd00::77]:53";

/// Outside: runs `test` again in a fresh network namespace, asserts that it passed there and
/// returns `false`. Inside: adds the test addresses to loopback and returns `true`.
fn inside_fresh_netns(test: &str) -> bool {
    if fresh_netns::inside(INSIDE) {
        for args in [
            &["addr", "add", "10.77.0.1/32", "dev", "lo"][..],
            &["addr", "add", "10.77.0.2/32", "dev", "lo"],
            &["addr", "add", "fd00::77/128", "dev", "lo", "nodad"],
        ] {
            let out = Command::new("ip").args(args).output().unwrap();
            assert!(out.status.success(), "ip {args:?}: {out:?}");
        }
        ipv6_ready();
        return true;
    }
    // Inside the one test binary, libtest knows the test as `<story module>::<test>`.
    let test = &format!("{}::{test}", module_path!().trim_start_matches("it::"));
    let out = fresh_netns::run_again_inside(INSIDE, test)
        .output()
        .unwrap();
    shared::assert_child_test_passed(&out, test, "namespace");
    false
}

/// Waits until IPv6 on the new loopback carries connections: the first ones after `ip link set
/// lo up` can fail for a moment.
fn ipv6_ready() {
    for addr in ["[::1]:0", "[fd00::77]:0"] {
        let listener = TcpListener::bind(addr).unwrap();
        let local = listener.local_addr().unwrap();
        let ready = (0..100).any(|_| {
            let connected =
                std::net::TcpStream::connect_timeout(&local, Duration::from_millis(200)).is_ok();
            if !connected {
                std::thread::sleep(Duration::from_millis(20));
            }
            connected
        });
        assert!(ready, "IPv6 on {local} never carried a connection");
    }
}

/// What the fake model API received: path and headers of each request.
type Seen = Arc<Mutex<Vec<(String, BTreeMap<String, String>)>>>;

async fn fake_model_api() -> Seen {
    let seen: Seen = Arc::default();
    let recorder = seen.clone();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let recorder = recorder.clone();
        async move {
            let headers = request
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                .collect();
            recorder
                .lock()
                .unwrap()
                .push((request.uri().path().to_owned(), headers));
            "{\"ok\":true}"
        }
    });
    let listener = tokio::net::TcpListener::bind(UPSTREAM).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    seen
}

/// Listeners (TCP: the backlog accepts without `accept`) and UDP echo servers that anyone
/// outside the sandbox reaches.
struct Forbidden {
    _tcp: Vec<TcpListener>,
}

fn forbidden_servers() -> Forbidden {
    let tcp = [FORBIDDEN, FORBIDDEN_DNS, FORBIDDEN_V6]
        .iter()
        .map(|a| TcpListener::bind(a).unwrap())
        .collect();
    for addr in [FORBIDDEN_DNS, FORBIDDEN_DNS_V6] {
        let socket = UdpSocket::bind(addr).unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let _ = socket.send_to(&buf[..n], from);
            }
        });
    }
    Forbidden { _tcp: tcp }
}

/// Everything a CLI in the sandbox may reach only through the key proxy (the fake model API)
/// or not at all (the forbidden servers), listening until the returned values are dropped.
async fn model_api_and_forbidden_servers() -> (Seen, Forbidden) {
    (fake_model_api().await, forbidden_servers())
}

/// The probe targets the fenced process must not reach, plus `extra`.
fn forbidden_targets(extra: &[String]) -> Vec<String> {
    let mut targets: Vec<String> = [
        format!("tcp:{UPSTREAM}"),
        format!("tcp:{FORBIDDEN}"),
        format!("udp:{FORBIDDEN_DNS}"),
        format!("tcp:{FORBIDDEN_DNS}"),
        format!("tcp:{FORBIDDEN_V6}"),
        format!("udp:{FORBIDDEN_DNS_V6}"),
    ]
    .into();
    targets.extend_from_slice(extra);
    targets
}

/// `target → reached` from `entrypoint sandbox probe` output.
fn observations(text: &str) -> BTreeMap<String, bool> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| Some((v["target"].as_str()?.to_owned(), v["reached"].as_bool()?)))
        .collect()
}

fn probe_as_root(targets: &[String]) -> BTreeMap<String, bool> {
    let out = Command::new(ENTRYPOINT)
        .args(["sandbox", "probe"])
        .args(targets)
        .output()
        .unwrap();
    observations(&String::from_utf8_lossy(&out.stdout))
}

fn saved_rules() -> String {
    ["iptables-save", "ip6tables-save"]
        .iter()
        .map(|tool| {
            let out = Command::new(tool).args(["-t", "filter"]).output().unwrap();
            assert!(out.status.success(), "{tool}: {out:?}");
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn entrypoint(args: &[&str]) -> Output {
    Command::new(ENTRYPOINT).args(args).output().unwrap()
}

/// `entrypoint sandbox status` against the rules for uid 64123 and a proxy on `proxy_port`.
fn status_against(proxy_port: u16) -> Output {
    entrypoint(&[
        "sandbox",
        "status",
        "--proxy-port",
        &proxy_port.to_string(),
        "--uid",
        "64123",
    ])
}

/// The status of the live processes (not zombies, which are dead) running as `uid`.
fn processes_of(uid: u32) -> Vec<String> {
    let wanted = format!("Uid:\t{uid}\t");
    let dead = |status: &str| {
        status.lines().any(|l| {
            l.starts_with("State:") && (l.contains("Z (zombie)") || l.contains("X (dead)"))
        })
    };
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let dir = entry.ok()?.path();
            let status = std::fs::read_to_string(dir.join("status")).ok()?;
            (status.contains(&wanted) && !dead(&status)).then_some(status)
        })
        .collect()
}

/// A copy of `id` that is setuid root, in a directory everyone can enter.
fn setuid_id(dir: &Path) -> PathBuf {
    let path = dir.join("id-setuid");
    std::fs::copy("/usr/bin/id", &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A stand-in for the Claude CLI, in a directory of its own beside a [`setuid_id`]: records who
/// it runs as, what that `id` says, its environment, a request through the proxy and probes of
/// everything else into `report.txt` in its working directory.
fn fake_cli(probes: &[String]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let suid_id = setuid_id(dir.path());
    let path = dir.path().join("fake-claude");
    let script = format!(
        "#!/bin/sh\n\
         {{\n\
         echo \"uid=$(/usr/bin/id -u)\"\n\
         echo \"setuid-euid=$({suid} -u)\"\n\
         echo \"--- env\"\n\
         /usr/bin/env\n\
         echo \"--- env end\"\n\
         /usr/bin/curl -s -o /dev/null -w 'proxied=%{{http_code}}\\n' -X POST -d '{{}}' \"$ANTHROPIC_BASE_URL/v1/messages\"\n\
         /usr/bin/curl -s -o /dev/null --max-time 3 http://{UPSTREAM}/v1/messages; echo \"direct-curl-exit=$?\"\n\
         {ENTRYPOINT} sandbox probe {probes}\n\
         }} > report.txt 2>&1\n\
         /usr/bin/setsid /bin/sh -c 'echo $$ > escaped.pid; exec /bin/sleep 300' </dev/null >/dev/null 2>&1 &\n\
         while [ ! -s escaped.pid ]; do /bin/sleep 0.05; done\n\
         exit 3\n",
        suid = suid_id.display(),
        probes = probes.join(" "),
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, path)
}

fn spec(program: PathBuf, workspace: &Path) -> RunSpec {
    RunSpec {
        timeout: Duration::from_secs(60),
        ..shared::spec(
            Assistant::Claude,
            program,
            workspace,
            (ModelApi::Anthropic, &format!("http://{UPSTREAM}")),
            REAL_KEY,
        )
    }
}

/// The fenced sandbox as `uid`.
fn plan(uid: u32) -> Plan {
    plan_with(Settings::fenced(SandboxUid::new(uid).unwrap()))
}

/// The sandbox of `settings`, probed with this build's `entrypoint`.
fn plan_with(settings: Settings) -> Plan {
    Plan {
        settings,
        probe: ProbeProgram(ENTRYPOINT.into()),
        capabilities: Capabilities::current().unwrap(),
    }
}

fn report_lines(workspace: &Path) -> (String, BTreeMap<String, bool>) {
    let report = std::fs::read_to_string(workspace.join("report.txt")).unwrap();
    let seen = observations(&report);
    (report, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_cli_reaches_the_model_only_through_the_proxy() {
    if !inside_fresh_netns("fenced_cli_reaches_the_model_only_through_the_proxy") {
        return;
    }
    let (seen, _forbidden) = model_api_and_forbidden_servers().await;
    let other_loopback = TcpListener::bind("127.0.0.1:0").unwrap();
    let other_v6_loopback = TcpListener::bind("[::1]:0").unwrap();
    let probes = forbidden_targets(&[
        format!("tcp:{}", other_loopback.local_addr().unwrap()),
        format!("tcp:{}", other_v6_loopback.local_addr().unwrap()),
        "root".to_owned(),
    ]);
    let (_tools, cli) = fake_cli(&probes);
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join(".git")).unwrap();

    // As root in the namespace, everything is reachable: refusals below are the fence's.
    let as_root = probe_as_root(&probes);
    assert_eq!(as_root.len(), probes.len(), "{as_root:?}");
    assert!(as_root.values().all(|reached| *reached), "{as_root:?}");

    let report = run(&spec(cli, work.path()), &plan(CLI_UID), |_| {})
        .await
        .expect("the sandboxed run could not start");

    assert!(report.sandboxed);
    assert!(
        matches!(report.outcome, Outcome::Failed { .. }),
        "{:?}",
        report.outcome
    );
    let (text, seen_by_cli) = report_lines(work.path());
    eprintln!("{text}");
    assert!(text.contains(&format!("uid={CLI_UID}\n")), "{text}");
    assert!(
        text.contains(&format!("setuid-euid={CLI_UID}\n")),
        "a setuid binary elevated the sandboxed process: {text}"
    );
    let env = text
        .split("--- env\n")
        .nth(1)
        .and_then(|rest| rest.split("--- env end").next())
        .unwrap();
    assert!(
        !env.contains(REAL_KEY),
        "the key is in the CLI's environment"
    );
    assert!(
        env.contains("ANTHROPIC_BASE_URL=http://127.0.0.1:"),
        "{env}"
    );
    assert!(text.contains("proxied=200\n"), "{text}");
    assert!(!text.contains("direct-curl-exit=0\n"), "{text}");
    assert_eq!(seen_by_cli.len(), probes.len(), "{text}");
    for (target, reached) in &seen_by_cli {
        assert!(!reached, "the sandboxed CLI reached {target}");
    }

    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].0, "/v1/messages");
    assert_eq!(
        requests[0].1.get("x-api-key").map(String::as_str),
        Some(REAL_KEY)
    );

    // Afterwards: nothing of the sandbox uid still runs (the `sleep` left the CLI's process
    // group), no rules are left, the checkout (and what the CLI wrote) is back with its owner.
    let escaped = std::fs::read_to_string(work.path().join("escaped.pid")).unwrap();
    assert!(!escaped.trim().is_empty());
    assert_eq!(processes_of(CLI_UID), Vec::<String>::new());
    assert!(!saved_rules().contains("AI_SANDBOX"), "{}", saved_rules());
    let owner = |p: &str| std::fs::metadata(work.path().join(p)).unwrap().uid();
    assert_eq!(owner("report.txt"), 0);
    assert_eq!(owner(""), 0);
    assert!(probe_as_root(&probes).values().all(|reached| *reached));
}

#[test]
fn a_setuid_binary_elevates_when_no_new_privs_is_not_set() {
    // The control for the `setuid-euid` assertion above: the same copy of `id`, run as the
    // sandbox uid without `no_new_privs`, does become root.
    let tools = tempfile::tempdir().unwrap();
    let suid = setuid_id(tools.path());
    let out = Command::new("setpriv")
        .args([
            "--reuid",
            &UID.to_string(),
            "--regid",
            &UID.to_string(),
            "--clear-groups",
        ])
        .arg(&suid)
        .arg("-u")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{out:?}");
}

#[test]
fn apply_is_idempotent_status_compares_and_remove_leaves_nothing() {
    if !inside_fresh_netns("apply_is_idempotent_status_compares_and_remove_leaves_nothing") {
        return;
    }
    let pristine = saved_rules();
    let apply = ["sandbox", "apply", "--proxy-port", "4321", "--uid", "64123"];
    assert!(entrypoint(&apply).status.success());
    let once = saved_rules();
    assert!(entrypoint(&apply).status.success());
    assert_eq!(saved_rules(), once, "applying twice changed the rules");
    assert!(once.contains("-A OUTPUT -m owner --uid-owner 64123 -j AI_SANDBOX"));
    assert_eq!(
        once.matches(":AI_SANDBOX - [0:0]").count(),
        2,
        "IPv4 and IPv6"
    );
    assert!(once.contains("--dport 4321 -j ACCEPT"));

    let status = status_against(4321);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{text}");
    assert!(
        text.contains("IPv4: matches") && text.contains("IPv6: matches"),
        "{text}"
    );
    let other = status_against(4322);
    assert!(!other.status.success());
    assert!(String::from_utf8_lossy(&other.stdout).contains("DOES NOT MATCH"));

    // Someone puts an ACCEPT first: status notices, apply puts our jump back on top.
    let pushed = Command::new("iptables")
        .args(["-I", "OUTPUT", "1", "-j", "ACCEPT"])
        .status()
        .unwrap();
    assert!(pushed.success());
    let displaced = status_against(4321);
    assert!(!displaced.status.success());
    assert!(entrypoint(&apply).status.success());
    let restored = saved_rules();
    let output_rules: Vec<&str> = restored
        .lines()
        .filter(|l| l.starts_with("-A OUTPUT"))
        .collect();
    assert_eq!(
        output_rules[..2],
        [
            "-A OUTPUT -m owner --uid-owner 64123 -j AI_SANDBOX",
            "-A OUTPUT -j ACCEPT"
        ]
    );
    let deleted = Command::new("iptables")
        .args(["-D", "OUTPUT", "-j", "ACCEPT"])
        .status()
        .unwrap();
    assert!(deleted.success());

    assert!(entrypoint(&["sandbox", "remove"]).status.success());
    assert_eq!(saved_rules(), pristine);
    assert!(entrypoint(&["sandbox", "remove"]).status.success());
    assert_eq!(saved_rules(), pristine);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fence_that_does_not_hold_stops_the_run_and_leaves_no_rules() {
    if !inside_fresh_netns("a_fence_that_does_not_hold_stops_the_run_and_leaves_no_rules") {
        return;
    }
    let _seen = fake_model_api().await;
    let proxy = KeyProxy::start(
        Upstream::parse(ModelApi::OpenAi, &format!("http://{UPSTREAM}/v1")).unwrap(),
        Secret::new(REAL_KEY),
    )
    .await
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    // The rules are written for a port where no proxy listens, so the proxy check fails.
    let site = Site {
        workspace: work.path().to_owned(),
        proxy: Some(ProxySite {
            port: entrypoint::sandbox::proxy_port(proxy.base_url()).unwrap() ^ 1,
            upstream: proxy.upstream().clone(),
        }),
    };
    let error = tokio::task::spawn_blocking(move || Enclosure::establish(&plan(BREACH_UID), &site))
        .await
        .unwrap()
        .unwrap_err();
    let SandboxError::Breach(verification) = &error else {
        panic!("expected a breach, got {error}");
    };
    assert!(
        error.to_string().contains("the key proxy answers"),
        "{error}"
    );
    assert_eq!(verification.disagreements().count(), 1, "{verification}");
    assert!(!saved_rules().contains("AI_SANDBOX"));
    assert_eq!(std::fs::metadata(work.path()).unwrap().uid(), 0);
}

#[test]
fn the_verify_command_shows_every_check_and_cleans_up() {
    if !inside_fresh_netns("the_verify_command_shows_every_check_and_cleans_up") {
        return;
    }
    let _upstream = TcpListener::bind(UPSTREAM).unwrap();
    let out = Command::new(ENTRYPOINT)
        .args(["sandbox", "verify"])
        .env("OPENAI_BASE_URL", format!("http://{UPSTREAM}/v1"))
        .env("AI_SANDBOX_UID", VERIFY_UID.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let checked = report["checked"].as_array().unwrap();
    let find = |target: &str| {
        checked
            .iter()
            .find(|c| c["target"] == target)
            .unwrap_or_else(|| panic!("{target} not checked: {stdout}"))
    };
    let direct = find(&format!("tcp:{UPSTREAM}"));
    assert_eq!(direct["expect"], "refused");
    assert_eq!(direct["reached"], false);
    assert!(find("root")["reached"] == false);
    let proxy = checked.iter().find(|c| c["expect"] == "reached").unwrap();
    assert!(
        proxy["target"]
            .as_str()
            .unwrap()
            .starts_with("http:127.0.0.1:")
    );
    assert_eq!(proxy["reached"], true);
    assert!(
        checked
            .iter()
            .any(|c| c["target"].as_str().unwrap().starts_with("tcp:[::1]:"))
    );
    assert!(!saved_rules().contains("AI_SANDBOX"));
}

#[tokio::test]
async fn fencing_claude_on_bedrock_is_refused_before_anything_runs() {
    let work = tempfile::tempdir().unwrap();
    let mut bedrock = spec(PathBuf::from("/nonexistent/claude"), work.path());
    bedrock.provider = Provider::Bedrock;
    let error = run(&bedrock, &plan(UID), |_| {}).await.unwrap_err();
    assert!(
        matches!(error, RunError::Sandbox(SandboxError::NeedsProxy)),
        "{error}"
    );
    assert!(error.to_string().contains("AI_SANDBOX=off"));
}

#[test]
fn without_net_admin_the_sandbox_refuses_in_one_line() {
    if !inside_fresh_netns("without_net_admin_the_sandbox_refuses_in_one_line") {
        return;
    }
    for args in [
        &["sandbox", "verify"][..],
        &["sandbox", "apply", "--proxy-port", "4321"],
    ] {
        let out = Command::new("setpriv")
            .args([
                "--bounding-set",
                "-net_admin",
                "--inh-caps",
                "-net_admin",
                "--",
            ])
            .arg(ENTRYPOINT)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        for needle in [
            "CAP_NET_ADMIN",
            "[runners.docker] cap_add = [\"NET_ADMIN\"]",
            "AI_SANDBOX=off",
        ] {
            assert!(stderr.contains(needle), "{needle}: {stderr}");
        }
    }
    assert!(!saved_rules().contains("AI_SANDBOX"));
}

#[test]
fn without_ip6tables_nothing_is_fenced_rather_than_ipv4_alone() {
    if !inside_fresh_netns("without_ip6tables_nothing_is_fenced_rather_than_ipv4_alone") {
        return;
    }
    let pristine = saved_rules();
    // A PATH with the IPv4 tools only (they dispatch on their name, so links are enough).
    let tools = tempfile::tempdir().unwrap();
    for tool in ["iptables-save", "iptables-restore"] {
        let real = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        let real = String::from_utf8_lossy(&real.stdout).trim().to_owned();
        std::os::unix::fs::symlink(&real, tools.path().join(tool)).unwrap();
    }
    let out = Command::new(ENTRYPOINT)
        .args(["sandbox", "apply", "--proxy-port", "4321"])
        .env("PATH", tools.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("ip6tables-save is not installed"),
        "{stderr}"
    );
    assert_eq!(saved_rules(), pristine, "IPv4 rules were left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opting_out_runs_unfenced_but_still_as_the_sandbox_uid_and_says_so() {
    if !inside_fresh_netns("opting_out_runs_unfenced_but_still_as_the_sandbox_uid_and_says_so") {
        return;
    }
    let (_seen, _forbidden) = model_api_and_forbidden_servers().await;
    let settings = Settings::from_env(Assistant::Codex, &|name: &str| match name {
        "AI_SANDBOX" => Some("off".to_owned()),
        "AI_SANDBOX_UID" => Some(OPEN_UID.to_string()),
        _ => None,
    })
    .unwrap();
    assert_eq!(settings, Settings::open(SandboxUid::new(OPEN_UID).unwrap()));
    let plan = plan_with(settings);
    let (_tools, cli) = fake_cli(&forbidden_targets(&[]));
    let work = tempfile::tempdir().unwrap();

    let report = run(&spec(cli, work.path()), &plan, |_| {}).await.unwrap();

    assert!(!report.sandboxed);
    let (text, seen) = report_lines(work.path());
    assert!(text.contains(&format!("uid={OPEN_UID}\n")), "{text}");
    assert!(
        text.contains(&format!("setuid-euid={OPEN_UID}\n")),
        "a setuid binary elevated the unfenced process: {text}"
    );
    assert!(seen.values().all(|reached| *reached), "{text}");
    let note = unsandboxed_note();
    assert!(
        note.contains("not network-sandboxed") && note.contains("AI_SANDBOX"),
        "{note}"
    );
}
