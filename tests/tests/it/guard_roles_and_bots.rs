//! The guard against the GitLab double: members by role, non-members, bot users (`"bot": true`
//! from `GET /users/:id`), and deleted notes.

use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{
    IssueSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, UserSpec,
};
use entrypoint::agent::Assistant;
use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::config::{ApiBaseUrl, ClientConfig, GitLabToken};
use entrypoint::gitlab::ids::{IssueIid, NoteId, Noteable, ProjectId, ProjectRef, UserId};
use entrypoint::gitlab::members::AccessLevel;
use entrypoint::guard::{GuardOutcome, GuardSettings, IgnoreReason, Refusal, check};
use entrypoint::secret::Secret;
use entrypoint::trigger::{Author, NoteKind, Source, Trigger, TriggerNote};

struct Setup {
    gl: GitLabDouble,
    gitlab: GitLab,
    project: u64,
    issue: u64,
}

async fn setup() -> Setup {
    let gl = GitLabDouble::start().await.unwrap();
    let project = gl.add_project(ProjectSpec::new("group/proj")).unwrap();
    let member = |user, role| gl.add_member_user(project.id, user, role).unwrap();
    let bot = member(UserSpec::project_bot(project.id, "Claude"), 30);
    let owner = member(UserSpec::human("owner"), 50);
    let issue = gl
        .create_issue(project.id, IssueSpec::new(owner.id, "Bug"))
        .unwrap();
    let gitlab = GitLab::new(ClientConfig::new(
        ApiBaseUrl::parse(&gl.api_url()).unwrap(),
        GitLabToken::new(Secret::new(bot.token)),
    ))
    .unwrap();
    Setup {
        gl,
        gitlab,
        project: project.id,
        issue: issue.iid,
    }
}

impl Setup {
    /// What the guard decides for `trigger` with `settings`, asking the double as the bot.
    async fn guard(&self, trigger: &Trigger, settings: &GuardSettings) -> GuardOutcome {
        check(&self.gitlab, trigger, settings)
            .await
            .expect("the guard decides")
    }

    /// A user (with `level`, or no membership) who writes `@claude fix it`; the trigger for it.
    fn note_by(&self, spec: UserSpec, level: Option<u8>) -> Trigger {
        let user = self.gl.add_user(spec).unwrap();
        if let Some(level) = level {
            self.gl.add_member(self.project, user.id, level).unwrap();
        }
        let body = "@claude fix it";
        let note = self
            .gl
            .add_note(
                self.project,
                DoubleNoteable::Issue(self.issue),
                NoteSpec::new(user.id, body),
            )
            .unwrap();
        Trigger {
            source: Source::Webhook,
            project: ProjectRef::Id(ProjectId(self.project)),
            noteable: Noteable::Issue(IssueIid(self.issue)),
            note: Some(TriggerNote {
                id: NoteId(note.id),
                discussion: None,
                author: Author {
                    id: UserId(user.id),
                    username: Some(user.username),
                },
                body: body.to_owned(),
                kind: NoteKind::Comment,
                internal: false,
                system: false,
                edited: false,
            }),
            assistants: vec![Assistant::Claude],
            instruction: "fix it".to_owned(),
            placeholder: None,
            confidential: false,
            event: None,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_decide_who_may_ask() {
    let s = setup().await;
    let settings = GuardSettings::default();
    let dev = s.note_by(UserSpec::human("dev"), Some(30));
    let outcome = s.guard(&dev, &settings).await;
    let GuardOutcome::Proceed { bot, author_level } = outcome else {
        panic!("a developer may ask: {outcome:?}");
    };
    assert!(bot.username.starts_with("project_"));
    assert_eq!(author_level, Some(AccessLevel::DEVELOPER));

    let reporter = s.note_by(UserSpec::human("rep"), Some(20));
    let outcome = s.guard(&reporter, &settings).await;
    assert!(
        matches!(&outcome, GuardOutcome::Refuse(Refusal::InsufficientAccess { level, .. }) if *level == AccessLevel::REPORTER),
        "{outcome:?}"
    );

    let stranger = s.note_by(UserSpec::human("stranger"), None);
    let outcome = s.guard(&stranger, &settings).await;
    assert!(
        matches!(outcome, GuardOutcome::Refuse(Refusal::NotAMember { .. })),
        "{outcome:?}"
    );
    s.gl.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn other_bots_are_ignored_unless_allowed() {
    let s = setup().await;
    let mut spec = UserSpec::human("renovate-bot");
    spec.bot = true;
    let trigger = s.note_by(spec, Some(40));
    let outcome = s.guard(&trigger, &GuardSettings::default()).await;
    let bot = "renovate-bot".to_owned();
    let ignored = IgnoreReason::BotAuthor { username: bot };
    assert_eq!(outcome, GuardOutcome::Ignore(ignored));
    let allowed = GuardSettings {
        allowed_bots: vec!["renovate-bot".to_owned()],
        ..GuardSettings::default()
    };
    let outcome = s.guard(&trigger, &allowed).await;
    assert!(
        matches!(
            outcome,
            GuardOutcome::Proceed {
                author_level: Some(AccessLevel::MAINTAINER),
                ..
            }
        ),
        "{outcome:?}"
    );
    s.gl.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_note_that_is_gone_is_ignored() {
    let s = setup().await;
    let mut trigger = s.note_by(UserSpec::human("dev"), Some(30));
    if let Some(note) = trigger.note.as_mut() {
        note.id = NoteId(999_999);
    }
    let outcome = s.guard(&trigger, &GuardSettings::default()).await;
    assert_eq!(outcome, GuardOutcome::Ignore(IgnoreReason::NoteGone));
    s.gl.shutdown().await.unwrap();
}
