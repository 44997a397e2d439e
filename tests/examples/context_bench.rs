//! Figures for context gathering on a large merge request: 500 notes and 300 changed files on
//! the GitLab double. Prints the gathering time, the API calls made and the budget's effect.
//!
//! `cargo run -p doubles --release --example context_bench`
//!
//! Targets: under one second, and at most ceil(items / 100) + 10 API calls (lists are read 100
//! items per page; nothing is fetched per note or per file).

use std::time::Instant;

use anyhow::Context as _;
use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{
    MrSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, UserSpec,
};
use doubles::gitlab::repo::{FileChange, Signature};
use entrypoint::agent::Assistant;
use entrypoint::context::{ContextBudget, gather, render};
use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::config::{ApiBaseUrl, ClientConfig, GitLabToken};
use entrypoint::gitlab::ids::{MergeRequestIid, NoteId, Noteable, ProjectId, ProjectRef, UserId};
use entrypoint::secret::Secret;
use entrypoint::trigger::{Author, NoteKind, Source, Trigger, TriggerNote};

const NOTES: usize = 500;
const FILES: usize = 300;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let gl = GitLabDouble::start().await?;
    let alice = gl.add_user(UserSpec::human("alice"))?;
    let bot = gl.add_user(UserSpec::project_bot(1, "Claude"))?;
    let project = gl.add_project(ProjectSpec::new("group/big"))?;
    gl.add_member(project.id, bot.id, 30)?;
    let repo = gl.repo(project.id)?;
    let author = Signature {
        name: "Dev".into(),
        email: "dev@example.com".into(),
    };
    let changes: Vec<FileChange> = (0..FILES)
        .map(|i| FileChange::Write {
            path: format!("src/module_{i:03}.rs"),
            content: (0..40)
                .map(|l| format!("pub fn f{l}() -> u32 {{ {i} + {l} }}\n"))
                .collect::<String>()
                .into_bytes(),
        })
        .collect();
    repo.commit("feature", &changes, "Add modules\n", &author)?;
    let mr = gl.create_merge_request(
        project.id,
        MrSpec::new(alice.id, "feature", "main", "Big change"),
    )?;
    let on = DoubleNoteable::MergeRequest(mr.iid);
    for i in 0..NOTES {
        let body = format!("Review comment {i}: please look at module {}.", i % FILES);
        gl.add_note(project.id, on, NoteSpec::new(alice.id, &body))?;
    }
    let request = gl.add_note(
        project.id,
        on,
        NoteSpec::new(alice.id, "@claude address the review"),
    )?;

    let gitlab = GitLab::new(ClientConfig::new(
        ApiBaseUrl::parse(&gl.api_url()).map_err(anyhow::Error::msg)?,
        GitLabToken::new(Secret::new(bot.token.clone())),
    ))?;
    let trigger = Trigger {
        source: Source::Webhook,
        project: ProjectRef::Id(ProjectId(project.id)),
        noteable: Noteable::MergeRequest(MergeRequestIid(mr.iid)),
        note: Some(TriggerNote {
            id: NoteId(request.id),
            discussion: None,
            author: Author {
                id: UserId(alice.id),
                username: Some("alice".into()),
            },
            body: "@claude address the review".into(),
            kind: NoteKind::Comment,
            internal: false,
            system: false,
            edited: false,
        }),
        assistants: vec![Assistant::Claude],
        instruction: "address the review".into(),
        placeholder: None,
        confidential: false,
        event: None,
    };

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
