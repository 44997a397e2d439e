//! Two real `entrypoint serve` replicas under faults: every delivery goes to both (one project
//! hook each), GitLab takes 400 ms to start a pipeline and fails about a fifth of its requests
//! (500 and 503 on every method, 429 on POSTs), and replica 0 is SIGKILLed a third of the way
//! through and restarted at two thirds (on its spool directory).
//!
//! `cargo run --release -p doubles --example relay_faults [-- MENTIONS RATE]` (default 200
//! mentions at 20/s; every fifth by a Guest, to be refused).
//!
//! Prints the mentions answered once, refused once, ended with one failure note (GitLab failed
//! the pipeline start itself), lost and duplicated, after the replicas settled and, for the
//! mentions still without an end, after the dead replica's lease ran out and their deliveries
//! were resent ("Resend request"); the throughput; each replica's webhook received → placeholder
//! posted p50/p99 (the restarted replica counts from its restart); and the load average at the
//! start and the end. Exits non-zero when a mention was lost or duplicated.

use std::time::{Duration, Instant};

use anyhow::bail;
use doubles::gitlab::faults::{FaultAction, FaultRule, Schedule};
use doubles::replicas::{Fleet, fail_a_fifth, load_average};

/// The claim lease the replicas run with: short, so that the dead replica's claims expire
/// within the run.
const LEASE: Duration = Duration::from_secs(3);
const WORKERS: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);
    let rate: f64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20.0);
    let load_at_start = load_average();

    let mut fleet = Fleet::start(2, LEASE, WORKERS).await?;
    let faults = fleet.gl.faults();
    faults.add(FaultRule::on(
        "POST",
        "/api/v4/projects/*/trigger/pipeline",
        FaultAction::Latency { ms: 400 },
        Schedule::Always,
    ));
    fail_a_fifth(&faults);

    let started = Instant::now();
    let pause = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let mut posted = Vec::with_capacity(count);
    for n in 0..count {
        if n == count / 3 {
            fleet.kill(0).await?;
            println!("replica 0 killed after {n} mentions");
        }
        if n == 2 * count / 3 {
            fleet.restart(0, WORKERS).await?;
            println!("replica 0 restarted after {n} mentions");
        }
        posted.push(fleet.mention(n % 5 != 4, &format!("@claude look at case {n}"))?);
        tokio::time::sleep(pause).await;
    }
    // Until every mention has an end, or nothing has changed for 30 s: the time of the last
    // change is what the throughput is measured over.
    let mut before_resend = fleet.tally(&posted);
    let mut settled = started.elapsed();
    let mut all_ended = before_resend.lost == 0;
    while !all_ended && started.elapsed() < settled + Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = fleet.tally(&posted);
        if now != before_resend {
            before_resend = now;
            settled = started.elapsed();
        }
        all_ended = before_resend.lost == 0;
    }
    let mut resent = 0;
    if !all_ended {
        tokio::time::sleep(LEASE + Duration::from_secs(1)).await;
        resent = fleet.resend_lost(&posted).await;
        fleet.wait_for_ends(&posted, Duration::from_secs(60)).await;
    }
    let tally = fleet.tally(&posted);

    println!(
        "{count} mentions at {rate}/s, {} GitLab faults injected",
        faults.injected()
    );
    println!("before any resend: {before_resend:?}");
    println!("deliveries resent: {resent}");
    println!(
        "answered once {}, refused once {}, one failure note {}, lost {}, duplicated {}",
        tally.answered, tally.refused, tally.failed_visibly, tally.lost, tally.duplicated
    );
    println!(
        "throughput: {:.1} mentions ended/s ({:.1} s from the first mention to the last end before any resend)",
        (before_resend.answered + before_resend.refused + before_resend.failed_visibly) as f64
            / settled.as_secs_f64(),
        settled.as_secs_f64()
    );
    for (index, replica) in fleet.replicas().iter().enumerate() {
        let health: serde_json::Value = reqwest::get(format!("http://{}/healthz", replica.addr))
            .await?
            .json()
            .await?;
        let latency = &health["stats"]["placeholder_latency"];
        println!(
            "replica {index}: webhook received -> placeholder posted p50 {} ms, p99 {} ms, max {} ms ({} samples)",
            latency["p50_ms"], latency["p99_ms"], latency["max_ms"], latency["count"]
        );
    }
    println!(
        "load average (1, 5, 15 min): {load_at_start} at the start, {} at the end",
        load_average()
    );
    if tally.lost > 0 || tally.duplicated > 0 {
        bail!(
            "{} lost and {} duplicated mentions",
            tally.lost,
            tally.duplicated
        );
    }
    Ok(())
}
