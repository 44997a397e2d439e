//! Figures for context gathering on a large merge request: 500 notes and 300 changed files on
//! the GitLab double. Prints the gathering time, the API calls made and the budget's effect.
//!
//! `cargo run -p doubles --release --example context_bench`
//!
//! Targets: under one second, and at most ceil(items / 100) + 10 API calls (lists are read 100
//! items per page; nothing is fetched per note or per file).

use std::time::Instant;

use anyhow::Context as _;
use entrypoint::context::{ContextBudget, gather, render};

#[path = "shared/big_merge_request.rs"]
mod big_merge_request;
#[path = "shared/mr_mention.rs"]
mod mr_mention;

const NOTES: usize = 500;
const FILES: usize = 300;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (gl, alice, project, bot) = mr_mention::world("group/big").await?;
    let mr = big_merge_request::seed(&gl, project.id, alice.id, FILES, NOTES)?;
    let gitlab = mr_mention::client(&gl.api_url(), &bot.token)?;
    let trigger = mr_mention::mention(
        &gl,
        project.id,
        mr.iid,
        &alice,
        "@claude address the review",
        "address the review",
    )?;

    // One warm-up run (connection set-up, the double's first git diff), then measured runs.
    gather(&gitlab, &trigger).await?;
    let runs = 5;
    let mut times = Vec::new();
    let mut calls = 0;
    let mut rendered = None;
    for _ in 0..runs {
        gl.clear_requests();
        let started = Instant::now();
        let context = gather(&gitlab, &trigger).await?;
        let out = render(&context, &ContextBudget::default());
        times.push(started.elapsed());
        calls = context.api_calls;
        anyhow::ensure!(
            gl.requests().len() == calls as usize,
            "the double saw {} requests, the context counted {calls}",
            gl.requests().len()
        );
        rendered = Some(out);
    }
    times.sort();
    let rendered = rendered.context("at least one run")?;
    let items = NOTES + 1 + FILES;
    let allowed = items.div_ceil(100) + 10;
    println!(
        "merge request with {} notes and {FILES} changed files",
        NOTES + 1
    );
    println!(
        "gathering + rendering: median {:?}, worst {:?} over {runs} runs (target < 1 s)",
        times[runs / 2],
        times[runs - 1]
    );
    println!("API calls: {calls} (target <= ceil({items}/100) + 10 = {allowed})");
    println!(
        "rendered: {} bytes; comments shown {} / omitted {}; files with diff {} / listed only {}",
        rendered.text.len(),
        rendered.notes_shown,
        rendered.notes_omitted,
        rendered.files_with_diff,
        rendered.files_listed_only
    );
    anyhow::ensure!(calls as usize <= allowed, "too many API calls");
    anyhow::ensure!(
        times[runs - 1].as_secs_f64() < 1.0,
        "slower than one second"
    );
    gl.shutdown().await?;
    Ok(())
}
