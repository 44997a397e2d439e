//! The project the context stories (`ci_context`, `run_context`) read with the product's
//! library: `group/proj` on a fresh GitLab double, alice who asks, and the project bot
//! "Claude" (a Developer) whose token gathers the context. Both stories had their own copy of
//! this seeding, of the client and of the trigger of alice's comment.

use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{
    MrSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, SeededNote, SeededNoteable,
    SeededUser, UserSpec,
};
use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::ids::{DiscussionId, MergeRequestIid, Noteable, ProjectId, ProjectRef};
use entrypoint::gitlab::merge_requests::MergeRequest;
use entrypoint::trigger::{NoteKind, Trigger};

use super::gitlab_client;
use super::trigger::note_trigger;

pub struct ContextWorld {
    pub gl: GitLabDouble,
    pub project: u64,
    pub alice: SeededUser,
    pub bot: SeededUser,
}

impl ContextWorld {
    /// alice, then `group/proj` and its bot, a Developer.
    pub async fn start() -> ContextWorld {
        let gl = GitLabDouble::start().await.expect("double starts");
        let alice = gl.add_user(UserSpec::human("alice")).expect("alice");
        let project = gl
            .add_project(ProjectSpec::new("group/proj"))
            .expect("project")
            .id;
        let bot = gl
            .add_user(UserSpec::project_bot(project, "Claude"))
            .expect("the project bot");
        gl.add_member(project, bot.id, 30)
            .expect("the bot is a Developer");
        ContextWorld {
            gl,
            project,
            alice,
            bot,
        }
    }

    /// Stops the double; it must stop cleanly.
    pub async fn shutdown(self) {
        self.gl.shutdown().await.expect("the double stops");
    }

    /// The product's client with `token`, as a job builds it.
    pub fn client(&self, token: &str) -> GitLab {
        gitlab_client::client(&self.gl.api_url(), token)
    }

    /// The project as the product names it.
    pub fn project_ref(&self) -> ProjectRef {
        ProjectRef::Id(ProjectId(self.project))
    }

    /// A comment on `noteable` as `spec` says.
    pub fn note(&self, noteable: DoubleNoteable, spec: NoteSpec) -> SeededNote {
        self.gl
            .add_note(self.project, noteable, spec)
            .expect("note")
    }

    /// alice's merge request `title` from `source` into `main`, as GitLab seeded it and as the
    /// bot's client reads it back.
    pub async fn merge_request(&self, source: &str, title: &str) -> (SeededNoteable, MergeRequest) {
        let seeded = self
            .gl
            .create_merge_request(
                self.project,
                MrSpec::new(self.alice.id, source, "main", title),
            )
            .expect("merge request");
        let read = self
            .client(&self.bot.token)
            .merge_request(&self.project_ref(), MergeRequestIid(seeded.iid))
            .await
            .expect("the bot reads the merge request");
        (seeded, read)
    }

    /// The trigger the job makes of alice's `note` saying `body` on `noteable`: a `kind` note
    /// in the note's discussion.
    pub fn trigger_of(
        &self,
        noteable: Noteable,
        note: &SeededNote,
        body: &str,
        kind: NoteKind,
    ) -> Trigger {
        let discussion = DiscussionId::new(&note.discussion_id).ok();
        note_trigger(
            self.project,
            noteable,
            note.id,
            self.alice.id,
            body,
            kind,
            discussion,
        )
    }

    /// `GET <api>/<path>` with `token`, as a raw HTTP client sees GitLab's answer.
    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{}{path}", self.gl.api_url()))
            .header("PRIVATE-TOKEN", token)
            .send()
            .await
            .expect("the double answers")
    }
}
