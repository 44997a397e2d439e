//! `entrypoint serve` as a process, configured from the environment alone, as
//! `docker run IMAGE entrypoint serve` runs it: it answers a mention, stops on SIGTERM after
//! draining, and its log (at debug level) never shows a secret or a note body.

use crate::relay_support;

use std::process::Stdio;
use std::time::Duration;

use doubles::gitlab::double::HookSpec;

use relay_support::{WEBHOOK_SECRET, webhook_url, world};
use tokio::io::AsyncReadExt;

async fn healthz(addr: std::net::SocketAddr) -> Option<serde_json::Value> {
    let response = reqwest::get(format!("http://{addr}/healthz")).await.ok()?;
    response.json().await.ok()
}

/// Polls `/healthz` at `addr` until the relay says it started `count` pipelines, for at most
/// `within`.
async fn wait_for_pipelines(addr: std::net::SocketAddr, count: u64, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let pipelines = healthz(addr).await.map(|h| h["stats"]["pipelines"].clone());
        if pipelines == Some(serde_json::json!(count)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not {count} pipelines after {within:?}: /healthz says {pipelines:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn serve_answers_from_env_settings_and_stops_cleanly_on_sigterm() {
    let w = world().await;
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let mut child = tokio::process::Command::new(
        doubles::binaries::entrypoint().expect("the entrypoint binary"),
    )
    .arg("serve")
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("RUST_LOG", "debug")
    .env("AI_RELAY_LISTEN", addr.to_string())
    .env("AI_RELAY_GITLAB_URL", w.gl.base_url())
    .env("AI_RELAY_WEBHOOK_SECRET", WEBHOOK_SECRET)
    .env("AI_RELAY_BOT_TOKEN", &w.bot.token)
    .env("AI_RELAY_DEFAULT_TRIGGER_TOKEN", &w.trigger_token)
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .expect("entrypoint serve starts");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while healthz(addr).await.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay never answered /healthz"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.gl.add_hook(
        w.project,
        HookSpec::notes(&webhook_url(addr)).token(WEBHOOK_SECRET),
    )
    .unwrap();
    w.mention("@codex the-body-nobody-may-log");
    wait_for_pipelines(addr, 1, Duration::from_secs(20)).await;
    w.assert_answered(1);

    let pid = child.id().expect("the relay runs").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the relay stops after SIGTERM")
        .unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .await
        .unwrap();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(
        log.contains("SIGTERM") && log.contains("queue drained"),
        "{log}"
    );
    assert!(log.contains("placeholder posted"), "{log}");
    for needle in [
        WEBHOOK_SECRET,
        w.bot.token.as_str(),
        w.trigger_token.as_str(),
        "the-body-nobody-may-log",
    ] {
        assert!(!log.contains(needle), "{needle:?} in the log:\n{log}");
    }
}

#[tokio::test]
async fn serve_refuses_to_start_without_a_webhook_secret_and_says_which_setting() {
    let output = tokio::process::Command::new(
        doubles::binaries::entrypoint().expect("the entrypoint binary"),
    )
    .arg("serve")
    .env_clear()
    .env("AI_RELAY_GITLAB_URL", "http://127.0.0.1:9")
    .env("AI_RELAY_BOT_TOKEN", "glpat-never-printed-0001")
    .output()
    .await
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AI_RELAY_WEBHOOK_SECRET"), "{stderr}");
    assert!(!stderr.contains("glpat-never-printed-0001"), "{stderr}");
}

/// `entrypoint serve` with a spool directory, as the test starts it.
fn spooling_relay(
    w: &relay_support::World,
    addr: std::net::SocketAddr,
    spool: &std::path::Path,
) -> tokio::process::Child {
    tokio::process::Command::new(doubles::binaries::entrypoint().expect("the entrypoint binary"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AI_RELAY_LISTEN", addr.to_string())
        .env("AI_RELAY_GITLAB_URL", w.gl.base_url())
        .env("AI_RELAY_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("AI_RELAY_BOT_TOKEN", &w.bot.token)
        .env("AI_RELAY_DEFAULT_TRIGGER_TOKEN", &w.trigger_token)
        .env("AI_RELAY_WORKERS", "1")
        .env("AI_RELAY_QUEUE_CAPACITY", "1")
        .env("AI_RELAY_SPOOL_DIR", spool)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("entrypoint serve starts")
}

#[tokio::test]
async fn deliveries_taken_before_a_crash_are_answered_after_the_restart_exactly_once() {
    use doubles::gitlab::faults::{FaultAction, FaultRule, Schedule};

    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    // The one worker hangs in its first read of GitLab, before it writes anything.
    let stall = w.gl.faults().add(FaultRule {
        method: Some("GET".to_owned()),
        path: "/api/v4/user".to_owned(),
        action: FaultAction::Latency { ms: 60_000 },
        schedule: Schedule::Always,
    });
    let mut first = spooling_relay(&w, addr, &spool);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while healthz(addr).await.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "no /healthz");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.gl.add_hook(
        w.project,
        HookSpec::notes(&webhook_url(addr)).token(WEBHOOK_SECRET),
    )
    .unwrap();
    for n in 0..4 {
        w.mention(&format!("@claude before the crash {n}"));
    }
    let deliveries = w.deliveries(4).await;
    assert!(
        deliveries.iter().all(|d| d.status == Some(202)),
        "{:?}",
        deliveries.iter().map(|d| d.status).collect::<Vec<_>>()
    );
    let spooled = std::fs::read_dir(&spool).unwrap().count();
    assert_eq!(spooled, 4, "every accepted delivery is on disk");

    first.kill().await.unwrap();
    w.gl.faults().remove(stall);
    assert!(
        w.placeholders().is_empty(),
        "nothing was answered before the crash"
    );

    let mut second = spooling_relay(&w, addr, &spool);
    wait_for_pipelines(addr, 4, Duration::from_secs(30)).await;
    w.assert_answered(4);
    second.kill().await.unwrap();
    let left = std::fs::read_dir(&spool).unwrap().count();
    assert_eq!(left, 0, "handled deliveries are removed from the spool");
}
