//! Draft notes (<https://docs.gitlab.com/api/draft_notes/>): the product's client against the
//! GitLab double. A review drafted and published in bulk is one review with one notification;
//! drafts are private to their author; a draft on a line outside the diff vanishes on publish
//! without an error; quick actions in a draft run only when it is published.

use crate::support::gitlab_client::fast_retrying_client;
use crate::support::seeded::{Seeded, deref_to_seeded, rest};
use std::time::Duration;

use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::diff_position::{DiffPosition, PositionType};
use entrypoint::gitlab::draft_notes::{DraftNote, NewDraftNote};
use entrypoint::gitlab::ids::{MergeRequestIid, Noteable};
use entrypoint::quick_action::Inert;
use reqwest::Method;
use serde_json::json;

fn client(api_url: &str, token: &str) -> GitLab {
    fast_retrying_client(api_url, token, 3, Duration::from_secs(20))
}

/// The seeded double and dana's merge request `iid`, adding `src/parser.rs` (3 lines).
struct World {
    seeded: Seeded,
    iid: u64,
}

deref_to_seeded!(World);

async fn world() -> World {
    let seeded = Seeded::start().await;
    seeded.commit(
        "feature/parser",
        "src/parser.rs",
        "fn parse() {\n    let x = input.unwrap();\n}\n",
        "Add parser",
    );
    World {
        iid: seeded.merge_request("feature/parser", "Parser"),
        seeded,
    }
}

/// `method` on this merge request's draft notes API (`suffix` after `/draft_notes`) as the bot.
async fn drafts_api(
    w: &World,
    method: reqwest::Method,
    suffix: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let path = format!(
        "/projects/{}/merge_requests/{}/draft_notes{suffix}",
        w.project, w.iid
    );
    rest(&w.gl, method, &path, &w.bot.token, body).await
}

async fn position(bot: &GitLab, w: &World, new_line: u32) -> DiffPosition {
    let mr = bot
        .merge_request(&w.project_ref(), MergeRequestIid(w.iid))
        .await
        .unwrap();
    let refs = mr.diff_refs.expect("diff_refs");
    DiffPosition {
        position_type: PositionType::Text,
        base_sha: refs.base_sha,
        start_sha: refs.start_sha,
        head_sha: refs.head_sha,
        old_path: "src/parser.rs".into(),
        new_path: "src/parser.rs".into(),
        old_line: None,
        new_line: Some(new_line),
        line_range: None,
    }
}

/// The bot (or whoever `gitlab` acts as) drafts `note` on the world's merge request.
async fn draft(gitlab: &GitLab, w: &World, note: NewDraftNote) -> DraftNote {
    gitlab
        .create_draft_note(&w.project_ref(), MergeRequestIid(w.iid), &note)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_drafted_review_is_published_as_one_review_with_one_notification() {
    let w = world().await;
    let bot = client(&w.gl.api_url(), &w.bot.token);
    let dana = client(&w.gl.api_url(), &w.dev.token);
    let iid = MergeRequestIid(w.iid);

    let on_2 = draft(
        &bot,
        &w,
        NewDraftNote::on_line(Inert::new("This can panic."), position(&bot, &w, 2).await),
    )
    .await;
    assert_eq!(on_2.position.as_ref().and_then(|p| p.new_line), Some(2));
    draft(
        &bot,
        &w,
        NewDraftNote::on_line(Inert::new("Brace style."), position(&bot, &w, 3).await),
    )
    .await;
    // GitLab does not look the line up when the draft is made.
    let nowhere = draft(
        &bot,
        &w,
        NewDraftNote::on_line(Inert::new("Line 40?"), position(&bot, &w, 40).await),
    )
    .await;
    let general = draft(&bot, &w, NewDraftNote::general(Inert::new("Overall fine."))).await;
    assert_eq!(general.position, None);
    assert_ne!(nowhere.id, general.id);

    // Drafts are the author's alone, and nobody is notified yet.
    assert_eq!(
        bot.draft_notes(&w.project_ref(), iid).await.unwrap().len(),
        4
    );
    assert!(
        dana.draft_notes(&w.project_ref(), iid)
            .await
            .unwrap()
            .is_empty()
    );
    let hidden = dana
        .delete_draft_note(&w.project_ref(), iid, on_2.id)
        .await
        .unwrap_err();
    assert_eq!(hidden.status().map(|s| s.as_u16()), Some(404), "{hidden}");
    let threads = bot
        .discussions(&w.project_ref(), Noteable::MergeRequest(iid))
        .await
        .unwrap();
    assert!(threads.is_empty(), "{threads:?}");
    assert_eq!(w.gl.notification_events(w.project, w.iid, w.bot.id), 0);

    bot.bulk_publish_draft_notes(&w.project_ref(), iid)
        .await
        .unwrap();

    let threads = bot
        .discussions(&w.project_ref(), Noteable::MergeRequest(iid))
        .await
        .unwrap();
    let bodies: Vec<&str> = threads.iter().map(|t| t.notes[0].body.as_str()).collect();
    assert_eq!(bodies, ["This can panic.", "Brace style.", "Overall fine."]);
    assert!(threads.iter().all(|t| !t.individual_note));
    assert_eq!(
        threads[0].notes[0]
            .position
            .as_ref()
            .and_then(|p| p.new_line),
        Some(2)
    );
    assert!(
        bot.draft_notes(&w.project_ref(), iid)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(w.gl.draft_notes(w.project, w.iid).is_empty());
    let reviews = w.gl.reviews(w.project, w.iid);
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].note_ids.len(), 3);
    assert_eq!(w.gl.notification_events(w.project, w.iid, w.bot.id), 1);

    // A reply draft that resolves its thread, published as a second review.
    draft(
        &bot,
        &w,
        NewDraftNote::reply(Inert::new("Addressed."), threads[0].id.clone(), true),
    )
    .await;
    bot.bulk_publish_draft_notes(&w.project_ref(), iid)
        .await
        .unwrap();
    let thread = bot
        .discussion(
            &w.project_ref(),
            Noteable::MergeRequest(iid),
            &threads[0].id,
        )
        .await
        .unwrap();
    assert_eq!(thread.notes.len(), 2);
    assert!(thread.is_resolved(), "{thread:?}");
    assert_eq!(w.gl.notification_events(w.project, w.iid, w.bot.id), 2);

    // Nothing pending: 204 and no review.
    bot.bulk_publish_draft_notes(&w.project_ref(), iid)
        .await
        .unwrap();
    assert_eq!(w.gl.reviews(w.project, w.iid).len(), 2);
}

#[tokio::test]
async fn quick_actions_in_a_draft_run_when_it_is_published() {
    let w = world().await;
    let made = drafts_api(
        &w,
        Method::POST,
        "",
        Some(json!({"note": "Looks done.\n/label ~reviewed"})),
    )
    .await;
    assert_eq!(made.status().as_u16(), 201);
    let mr = |w: &World| {
        w.gl.merge_requests(w.project)
            .into_iter()
            .find(|m| m.iid == w.iid)
            .expect("merge request")
    };
    assert!(mr(&w).labels.is_empty());
    let published = drafts_api(&w, Method::POST, "/bulk_publish", None).await;
    assert_eq!(published.status().as_u16(), 204);
    assert_eq!(mr(&w).labels, ["reviewed"]);
    let notes = w.gl.notes(
        w.project,
        doubles::gitlab::double::Noteable::MergeRequest(w.iid),
    );
    let bot_notes: Vec<_> = notes
        .iter()
        .filter(|n| n.author_id == w.bot.id && !n.system)
        .collect();
    assert_eq!(bot_notes.len(), 1);
    assert_eq!(bot_notes[0].body.trim(), "Looks done.");

    // The product's client cannot send such a line: its draft bodies are inert.
    let bot = client(&w.gl.api_url(), &w.bot.token);
    draft(
        &bot,
        &w,
        NewDraftNote::general(Inert::new("Done.\n/label ~approved-by-bot")),
    )
    .await;
    bot.bulk_publish_draft_notes(&w.project_ref(), MergeRequestIid(w.iid))
        .await
        .unwrap();
    assert_eq!(mr(&w).labels, ["reviewed"]);
}

#[tokio::test]
async fn an_edit_without_a_position_moves_the_draft_off_its_line() {
    let w = world().await;
    let bot = client(&w.gl.api_url(), &w.bot.token);
    let draft = draft(
        &bot,
        &w,
        NewDraftNote::on_line(Inert::new("x"), position(&bot, &w, 2).await),
    )
    .await;
    let on_draft = format!("/{}", draft.id);
    let blank = drafts_api(&w, Method::PUT, &on_draft, Some(json!({"note": " "}))).await;
    assert_eq!(blank.status().as_u16(), 400);
    let edited: serde_json::Value =
        drafts_api(&w, Method::PUT, &on_draft, Some(json!({"note": "y"})))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(edited["note"], "y");
    assert!(edited["position"]["base_sha"].is_null(), "{edited}");
}
