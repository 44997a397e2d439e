//! The seeded GitLab double the library stories (`*_against_double`, `quick_actions`) start
//! from: `acme/widgets` with its bot and dana, both Developers, and what those stories do to it
//! before the product acts: an issue, dana's comment, a commit on a branch of hers, her merge
//! request. Each story had its own copy of this world and of these steps.

use std::time::Duration;

use doubles::gitlab::double::{
    GitLabDouble, IssueSpec, MrSpec, NoteSpec, Noteable, ProjectSpec, SeededNote, SeededUser, Team,
    TeamSpec,
};
use doubles::gitlab::repo::FileChange;
use doubles::gitlab::version::GitLabVersion;
use entrypoint::agent::Assistant;
use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::ids::{
    DiscussionId, IssueIid, MergeRequestIid, NoteId, Noteable as ProductNoteable, ProjectId,
    ProjectRef, UserId,
};
use entrypoint::gitlab::notes::Note as GitLabNote;
use entrypoint::publish::placeholder::post_placeholder;
use entrypoint::publish::result::{ResultReport, publish_result};
use entrypoint::publish::review::{
    Review, ReviewComment, ReviewPublished, Severity, Side, publish_review,
};
use entrypoint::publish::{JobLink, Placeholder};
use entrypoint::redact::Redactor;
use entrypoint::trigger::{Author, NoteKind, Source, Trigger, TriggerNote};

use super::ci_job::dana;
use super::gitlab_client::fast_retrying_client;

/// A double answering as GitLab `version`, with the project `spec` and nobody in it yet; the
/// project's id.
pub async fn project_on(version: GitLabVersion, spec: ProjectSpec) -> (GitLabDouble, u64) {
    let gl = GitLabDouble::builder()
        .gitlab_version(version)
        .start()
        .await
        .expect("double starts");
    let project = gl.add_project(spec).expect("project").id;
    (gl, project)
}

/// The URL a webhook calls to run `project`'s pipeline on `main` with the trigger `token`
/// (<https://docs.gitlab.com/ci/triggers/#use-a-webhook>).
pub fn trigger_url(gl: &GitLabDouble, project: u64, token: &str) -> String {
    format!(
        "{}/projects/{project}/ref/main/trigger/pipeline?token={token}",
        gl.api_url()
    )
}

/// The JSON body of the answer to `request`, which must come.
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    let response = request.send().await.expect("an answer");
    response.json().await.expect("a JSON body")
}

/// `method` on the API path `path` (below `/api/v4`) of `gl` as the holder of `token`, with
/// `body` as JSON: what a person, another tool or another replica sends beside the product.
pub async fn rest(
    gl: &GitLabDouble,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let request = reqwest::Client::new()
        .request(method, format!("{}{path}", gl.api_url()))
        .header("PRIVATE-TOKEN", token);
    match body {
        Some(body) => request.json(&body),
        None => request,
    }
    .send()
    .await
    .expect("the double answers")
}

/// Lets a story's `World`, which keeps a [`Seeded`] in its field `seeded` beside what the story
/// adds (its client, its merge request), be used as the seeded double itself: `w.gl`,
/// `w.issue("…")`.
macro_rules! deref_to_seeded {
    ($world:ty) => {
        impl std::ops::Deref for $world {
            type Target = $crate::support::seeded::Seeded;

            fn deref(&self) -> &Self::Target {
                &self.seeded
            }
        }
    };
}
pub(crate) use deref_to_seeded;

/// The double and the team [`TeamSpec::default`] seeds in it.
pub struct Seeded {
    pub gl: GitLabDouble,
    pub project: u64,
    pub bot: SeededUser,
    pub dev: SeededUser,
}

impl Seeded {
    pub async fn start() -> Self {
        let gl = GitLabDouble::start().await.expect("double starts");
        let Team {
            project, bot, dev, ..
        } = gl.seed_team(TeamSpec::default()).expect("team");
        Self {
            gl,
            project,
            bot,
            dev,
        }
    }

    /// The product's client as the bot, with millisecond backoff: `max_attempts` tries within
    /// `budget`.
    pub fn bot_client(&self, max_attempts: u32, budget: Duration) -> GitLab {
        fast_retrying_client(&self.gl.api_url(), &self.bot.token, max_attempts, budget)
    }

    /// The project as the product's client names it.
    pub fn project_ref(&self) -> ProjectRef {
        ProjectRef::Id(ProjectId(self.project))
    }

    /// An issue dana opens; its iid.
    pub fn issue(&self, title: &str) -> u64 {
        self.gl
            .create_issue(self.project, IssueSpec::new(self.dev.id, title))
            .expect("issue")
            .iid
    }

    /// dana's comment `body` on `noteable` (a thread when she starts one with `thread`).
    pub fn comment(&self, noteable: Noteable, body: &str) -> SeededNote {
        self.note(noteable, NoteSpec::new(self.dev.id, body))
    }

    /// A note as `spec` describes it, on `noteable`.
    pub fn note(&self, noteable: Noteable, spec: NoteSpec) -> SeededNote {
        self.gl
            .add_note(self.project, noteable, spec)
            .expect("note")
    }

    /// dana commits `content` to `path` on `branch` (created from the default branch when new).
    pub fn commit(&self, branch: &str, path: &str, content: &str, message: &str) {
        self.gl
            .repo(self.project)
            .expect("repo")
            .commit(
                branch,
                &[FileChange::Write {
                    path: path.into(),
                    content: content.as_bytes().to_vec(),
                }],
                message,
                &dana(),
            )
            .expect("commit");
    }

    /// dana's merge request from `branch` into `main`; its iid.
    pub fn merge_request(&self, branch: &str, title: &str) -> u64 {
        self.gl
            .create_merge_request(
                self.project,
                MrSpec::new(self.dev.id, branch, "main", title),
            )
            .expect("merge request")
            .iid
    }

    /// An issue titled `title` by dana, her comment `body` on it, and the trigger that comment
    /// makes (see [`Seeded::trigger`]).
    pub fn issue_comment(&self, title: &str, body: &str) -> (Noteable, Trigger) {
        let issue = self.issue(title);
        let asked = self.comment(Noteable::Issue(issue), body);
        let noteable = ProductNoteable::Issue(IssueIid(issue));
        let trigger = self.trigger(noteable, &asked, NoteKind::Comment);
        (Noteable::Issue(issue), trigger)
    }

    /// The trigger dana's `note` on `noteable` makes when it asks "@claude please help", as the
    /// job reads it from its CI variables.
    pub fn trigger(&self, noteable: ProductNoteable, note: &SeededNote, kind: NoteKind) -> Trigger {
        Trigger {
            source: Source::CiVariables,
            project: self.project_ref(),
            noteable,
            note: Some(TriggerNote {
                id: NoteId(note.id),
                discussion: Some(DiscussionId::new(&note.discussion_id).expect("discussion id")),
                author: Author {
                    id: UserId(self.dev.id),
                    username: Some("dana".into()),
                },
                body: "@claude please help".into(),
                kind,
                internal: false,
                system: false,
                edited: false,
            }),
            assistants: vec![Assistant::Claude],
            instruction: "please help".into(),
            placeholder: None,
            confidential: false,
            event: None,
        }
    }
}

/// A should-fix review comment `body` on `line` (of `side`) of `src/calc.rs`, the file the
/// review stories' merge requests change; struct update syntax sets the rest.
pub fn review_comment(line: u32, side: Side, body: &str) -> ReviewComment {
    ReviewComment {
        path: "src/calc.rs".into(),
        line,
        side,
        body: body.into(),
        severity: Severity::ShouldFix,
        suggestion: None,
        end_line: None,
    }
}

/// The CI job `id` of `acme/widgets`, as a placeholder or a result links it.
pub fn job_link(id: u64) -> JobLink {
    JobLink {
        url: format!("https://gitlab.example.com/acme/widgets/-/jobs/{id}"),
        id: Some(id),
    }
}

/// The seeded double with the product's publishing side: its client as the bot (three tries
/// within five seconds) and the redactor a job would build. The stories of what a run posts
/// (`publish_against_double`, `quick_actions`) start from it.
pub struct Publishing {
    pub seeded: Seeded,
    pub gitlab: GitLab,
    pub redactor: Redactor,
}

deref_to_seeded!(Publishing);

impl Publishing {
    pub async fn start(redactor: Redactor) -> Self {
        let seeded = Seeded::start().await;
        Self {
            gitlab: seeded.bot_client(3, Duration::from_secs(5)),
            redactor,
            seeded,
        }
    }

    /// Claude's "working" placeholder for `trigger`, linking the CI job `job` when there is one.
    pub async fn placeholder(&self, trigger: &Trigger, job: Option<&JobLink>) -> Placeholder {
        post_placeholder(&self.gitlab, trigger, Assistant::Claude, job)
            .await
            .expect("the placeholder is posted")
    }

    /// `report` published in `placeholder`, as a public note; the note it became.
    pub async fn publish(&self, placeholder: &Placeholder, report: &ResultReport) -> GitLabNote {
        publish_result(&self.gitlab, placeholder, report, &self.redactor, false)
            .await
            .expect("the result is published")
    }

    /// `assistant`'s `review` published on merge request `iid`.
    pub async fn review(&self, iid: u64, assistant: Assistant, review: &Review) -> ReviewPublished {
        let project = self.project_ref();
        let iid = MergeRequestIid(iid);
        publish_review(
            &self.gitlab,
            &project,
            iid,
            assistant,
            review,
            &self.redactor,
        )
        .await
        .expect("the review is published")
    }
}
