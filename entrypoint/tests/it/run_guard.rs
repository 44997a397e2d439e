//! The guard against a scripted GitLab on 127.0.0.1: bots, edited and deleted notes, members
//! and non-members, each with the typed outcome the orchestrator acts on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use entrypoint::gitlab::config::{ApiBaseUrl, ClientConfig, GitLabToken};
use entrypoint::gitlab::ids::{IssueIid, NoteId, Noteable, ProjectId, ProjectRef, UserId};
use entrypoint::gitlab::members::AccessLevel;
use entrypoint::gitlab::{GitLab, RetryPolicy};
use entrypoint::guard::{GuardOutcome, GuardSettings, IgnoreReason, Refusal, check};
use entrypoint::secret::Secret;
use entrypoint::trigger::{Author, NoteKind, Source, Trigger, TriggerNote};
use serde_json::{Value, json};

type Routes = Arc<Mutex<HashMap<String, Value>>>;

/// Alice's (user 5) membership of project 7.
const ALICE_MEMBERSHIP: &str = "/projects/7/members/all/5";
/// The note that triggered the run: note 500 on issue 3.
const TRIGGER_NOTE: &str = "/projects/7/issues/3/notes/500";

struct Api {
    gitlab: GitLab,
    routes: Routes,
    calls: Arc<Mutex<Vec<String>>>,
}

async fn api() -> Api {
    let routes: Routes = Arc::default();
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let (r, c) = (routes.clone(), calls.clone());
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let (r, c) = (r.clone(), c.clone());
        async move {
            let path = req.uri().path().trim_start_matches("/api/v4").to_owned();
            c.lock().unwrap().push(path.clone());
            match r.lock().unwrap().get(&path) {
                Some(value) => axum::Json(value.clone()).into_response(),
                None => (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({"message": "404 Not found"})),
                )
                    .into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v4", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = ClientConfig::new(
        ApiBaseUrl::parse(&base).unwrap(),
        GitLabToken::new(Secret::new("glpat-guard")),
    );
    config.retry = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    let api = Api {
        gitlab: GitLab::new(config).unwrap(),
        routes,
        calls,
    };
    api.set("/user", user(99, "project_7_bot_abc", true));
    api.set("/users/5", user(5, "alice", false));
    api.set("/users/6", user(6, "renovate", true));
    api.set(TRIGGER_NOTE, note("@claude fix it", 0));
    api.set(ALICE_MEMBERSHIP, member(5, "alice", 30));
    api
}

impl Api {
    fn set(&self, path: &str, value: Value) {
        self.routes.lock().unwrap().insert(path.to_owned(), value);
    }
    fn remove(&self, path: &str) {
        self.routes.lock().unwrap().remove(path);
    }
    fn calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    /// The guard on `author`'s "@claude fix it" (note 500 on issue 3) with the default settings.
    async fn check(&self, author: u64) -> GuardOutcome {
        self.check_with(author, &GuardSettings::default()).await
    }

    /// The guard on `author`'s "@claude fix it" with `settings`.
    async fn check_with(&self, author: u64, settings: &GuardSettings) -> GuardOutcome {
        check(&self.gitlab, &trigger(author), settings)
            .await
            .unwrap()
    }
}

/// The default guard settings with `bot` in `AI_ALLOWED_BOTS`.
fn allowing_bot(bot: &str) -> GuardSettings {
    GuardSettings {
        allowed_bots: vec![bot.to_owned()],
        ..GuardSettings::default()
    }
}

fn user(id: u64, username: &str, bot: bool) -> Value {
    json!({"id": id, "username": username, "name": username, "state": "active", "bot": bot,
           "web_url": format!("http://gitlab.test/{username}"), "avatar_url": null})
}

fn member(id: u64, username: &str, level: u8) -> Value {
    json!({"id": id, "username": username, "name": username, "state": "active", "access_level": level})
}

fn note(body: &str, edited_after_secs: i64) -> Value {
    let updated = chrono::DateTime::parse_from_rfc3339("2026-11-25T07:00:00Z").unwrap()
        + chrono::TimeDelta::seconds(edited_after_secs);
    json!({"id": 500, "type": null, "body": body,
           "author": {"id": 5, "username": "alice", "name": "Alice", "state": "active"},
           "created_at": "2026-11-25T07:00:00Z", "updated_at": updated.to_rfc3339(),
           "system": false, "noteable_id": 1, "noteable_type": "Issue", "noteable_iid": 3,
           "resolvable": false, "internal": false})
}

fn trigger(author: u64) -> Trigger {
    Trigger {
        source: Source::Webhook,
        project: ProjectRef::Id(ProjectId(7)),
        noteable: Noteable::Issue(IssueIid(3)),
        note: Some(TriggerNote {
            id: NoteId(500),
            discussion: None,
            author: Author {
                id: UserId(author),
                username: None,
            },
            body: "@claude fix it".to_owned(),
            kind: NoteKind::Comment,
            internal: false,
            system: false,
            edited: false,
        }),
        assistants: vec![entrypoint::agent::Assistant::Claude],
        instruction: "fix it".to_owned(),
        placeholder: None,
        confidential: false,
        event: None,
    }
}

#[tokio::test]
async fn developer_proceeds_with_four_calls() {
    let api = api().await;
    let outcome = api.check(5).await;
    match outcome {
        GuardOutcome::Proceed { bot, author_level } => {
            assert_eq!(bot.username, "project_7_bot_abc");
            assert_eq!(bot.id, UserId(99));
            assert_eq!(author_level, Some(AccessLevel::DEVELOPER));
        }
        other => panic!("expected to proceed, got {other:?}"),
    }
    assert_eq!(api.calls(), 4);
}

#[tokio::test]
async fn reporter_is_refused_politely() {
    let api = api().await;
    api.set(ALICE_MEMBERSHIP, member(5, "alice", 20));
    let outcome = api.check(5).await;
    let GuardOutcome::Refuse(refusal) = outcome else {
        panic!("expected a refusal, got {outcome:?}");
    };
    assert_eq!(
        refusal,
        Refusal::InsufficientAccess {
            username: "alice".to_owned(),
            level: AccessLevel::REPORTER,
            required: AccessLevel::DEVELOPER
        }
    );
    assert!(refusal.message().starts_with("Sorry @alice"));
}

#[tokio::test]
async fn a_lower_minimum_lets_a_reporter_in() {
    let api = api().await;
    api.set(ALICE_MEMBERSHIP, member(5, "alice", 20));
    let settings = GuardSettings {
        min_access: AccessLevel::REPORTER,
        ..GuardSettings::default()
    };
    let outcome = api.check_with(5, &settings).await;
    assert!(matches!(
        outcome,
        GuardOutcome::Proceed {
            author_level: Some(AccessLevel::REPORTER),
            ..
        }
    ));
}

#[tokio::test]
async fn non_member_is_refused() {
    let api = api().await;
    api.remove(ALICE_MEMBERSHIP);
    let outcome = api.check(5).await;
    assert!(matches!(
        outcome,
        GuardOutcome::Refuse(Refusal::NotAMember { .. })
    ));
}

#[tokio::test]
async fn bots_are_ignored_unless_allowed() {
    let api = api().await;
    api.set("/projects/7/members/all/6", member(6, "renovate", 40));
    let outcome = api.check(6).await;
    assert_eq!(
        outcome,
        GuardOutcome::Ignore(IgnoreReason::BotAuthor {
            username: "renovate".to_owned()
        })
    );
    let outcome = api.check_with(6, &allowing_bot("Renovate")).await;
    assert!(
        matches!(outcome, GuardOutcome::Proceed { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn our_own_bot_is_ignored_even_when_listed() {
    let api = api().await;
    api.set("/users/99", user(99, "project_7_bot_abc", true));
    let outcome = api.check_with(99, &allowing_bot("project_7_bot_abc")).await;
    assert_eq!(
        outcome,
        GuardOutcome::Ignore(IgnoreReason::BotAuthor {
            username: "project_7_bot_abc".to_owned()
        })
    );
}

#[tokio::test]
async fn edited_note_is_refused_and_deleted_note_ignored() {
    let api = api().await;
    api.set(TRIGGER_NOTE, note("@claude drop the database", 120));
    let outcome = api.check(5).await;
    assert!(matches!(
        outcome,
        GuardOutcome::Refuse(Refusal::EditedAfterTrigger { .. })
    ));

    api.set(TRIGGER_NOTE, note("@claude fix it", 120));
    let outcome = api.check(5).await;
    assert!(
        matches!(outcome, GuardOutcome::Proceed { .. }),
        "same body after a resolve: {outcome:?}"
    );

    api.remove(TRIGGER_NOTE);
    let outcome = api.check(5).await;
    assert_eq!(outcome, GuardOutcome::Ignore(IgnoreReason::NoteGone));
}
