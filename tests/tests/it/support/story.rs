//! The project a CI-job story plays in: the GitLab double with `acme/widgets`, its bot, the
//! developer "dana" (and, when the story needs one, the guest "gus"), the greeting file the
//! fixing stories start from, a job token, and a directory the sandbox uid can enter for the
//! jobs' checkouts. The mention, trigger, quota, ack, template and automation stories each had
//! their own copy of this world and of its look-ups; a story file now wraps [`Story`] with
//! only what its story adds.

use std::path::{Path, PathBuf};

use doubles::gitlab::double::{
    GitLabDouble, IssuableChange, IssueSpec, MrSpec, NoteSpec, Noteable as DoubleNoteable,
    ProjectSpec, SeededNote, SeededUser, Team, TeamSpec, UserSpec,
};
use doubles::gitlab::model::{Issue, MergeRequest, Note, NoteEvent};
use doubles::gitlab::repo::FileChange;
use doubles::model::ModelDouble;
use doubles::model::stories::seed_greeting;
use entrypoint::agent::Assistant;
use entrypoint::relay::RelayConfig;
use entrypoint::relay::config::PipelineStart;

use super::ci_job::{CiJob, ModelKeys, dana, free_name, runner_checkout};

/// One story's GitLab and the people in it.
pub struct Story {
    pub gl: GitLabDouble,
    pub project: u64,
    pub bot: SeededUser,
    pub dev: SeededUser,
    guest: Option<SeededUser>,
    /// A job token of a job dana started, for the runner's clone.
    pub job_token: String,
    /// The jobs' checkouts go below it; the sandbox uid can enter it, as it can `/builds`.
    pub dir: tempfile::TempDir,
}

impl Story {
    /// The common team: a Maintainer bot "AI" (it pushes branches), dana, and gus when
    /// `guest`.
    pub async fn team(guest: bool) -> Story {
        let gl = GitLabDouble::start().await.expect("double starts");
        let Team {
            project,
            bot,
            dev,
            guest,
        } = gl
            .seed_team(TeamSpec {
                bot_name: "AI",
                bot_role: 40,
                guest,
                ..TeamSpec::default()
            })
            .expect("team");
        Story::of(gl, project, bot, dev, guest)
    }

    /// A team around a bot of the story's own making (`bot` is given the project's id: a
    /// project bot is named after it), a Maintainer: dana with `dev_role`, and gus when
    /// `guest`.
    pub async fn with_bot(bot: impl FnOnce(u64) -> UserSpec, dev_role: u8, guest: bool) -> Story {
        let gl = GitLabDouble::start().await.expect("double starts");
        let project = gl
            .add_project(ProjectSpec::new("acme/widgets"))
            .expect("project")
            .id;
        let member = |user: UserSpec, role: u8| {
            gl.add_member_user(project, user, role)
                .expect("a member of the project")
        };
        let bot = member(bot(project), 40);
        let dev = member(UserSpec::human("dana"), dev_role);
        let guest = guest.then(|| member(UserSpec::human("gus"), 10));
        Story::of(gl, project, bot, dev, guest)
    }

    /// A story of people the caller seeded; the greeting and the job token are added here.
    pub fn of(
        gl: GitLabDouble,
        project: u64,
        bot: SeededUser,
        dev: SeededUser,
        guest: Option<SeededUser>,
    ) -> Story {
        let job_token = seed_greeting(&gl, project, dev.id).expect("the greeting and a job token");
        Story {
            gl,
            project,
            bot,
            dev,
            guest,
            job_token,
            dir: doubles::sandbox::reachable_tempdir(),
        }
    }

    /// gus, the Guest; only stories seeded with one ask for him.
    pub fn guest(&self) -> &SeededUser {
        self.guest.as_ref().expect("this story seeded a guest")
    }

    /// A new issue of dana's; its IID.
    pub fn issue(&self, title: &str) -> u64 {
        self.issue_of(IssueSpec::new(self.dev.id, title))
    }

    /// A new issue as `spec` says (confidential, with a description); its IID.
    pub fn issue_of(&self, spec: IssueSpec) -> u64 {
        self.gl.create_issue(self.project, spec).expect("issue").iid
    }

    /// A comment as `spec` says (a thread, a reply, one that emits hooks).
    pub fn note_of(&self, noteable: DoubleNoteable, spec: NoteSpec) -> SeededNote {
        self.gl
            .add_note(self.project, noteable, spec)
            .expect("note")
    }

    /// The Note Hook event the double recorded for comment `note`.
    pub fn note_event(&self, note: u64) -> NoteEvent {
        self.gl
            .note_events()
            .into_iter()
            .find(|e| e.note_id == note)
            .expect("the double recorded the Note Hook event")
    }

    /// A new issue `title` of dana's with `author`'s comment `body` on it: the issue and the
    /// comment's id.
    pub fn issue_with_note(&self, title: &str, author: u64, body: &str) -> (DoubleNoteable, u64) {
        let issue = DoubleNoteable::Issue(self.issue(title));
        (issue, self.note(issue, author, body))
    }

    /// Issue `iid` as GitLab stores it now.
    pub fn stored_issue(&self, iid: u64) -> Issue {
        self.gl
            .issues(self.project)
            .into_iter()
            .find(|i| i.iid == iid)
            .expect("the issue exists")
    }

    /// Merge request `iid` as GitLab stores it now.
    pub fn stored_merge_request(&self, iid: u64) -> MergeRequest {
        self.gl
            .merge_requests(self.project)
            .into_iter()
            .find(|m| m.iid == iid)
            .expect("the merge request exists")
    }

    /// A comment by `author`; its id.
    pub fn note(&self, noteable: DoubleNoteable, author: u64, body: &str) -> u64 {
        self.note_of(noteable, NoteSpec::new(author, body)).id
    }

    /// `by` changes `noteable` as the web UI or the REST API would (assignees, reviewers,
    /// labels), with the events GitLab records for it.
    pub fn change(&self, noteable: DoubleNoteable, by: u64, change: IssuableChange) {
        self.gl
            .change_issuable(self.project, noteable, by, change)
            .expect("issuable change");
    }

    pub fn notes(&self, noteable: DoubleNoteable) -> Vec<Note> {
        self.gl.notes(self.project, noteable)
    }

    /// What the bot wrote on `noteable`.
    pub fn bot_notes(&self, noteable: DoubleNoteable) -> Vec<Note> {
        self.notes(noteable)
            .into_iter()
            .filter(|n| n.author_id == self.bot.id)
            .collect()
    }

    /// dana's merge request `title` of a new branch `feature` off `main` that commits
    /// `changes` as `message`; its IID.
    pub fn feature_merge_request(&self, changes: &[FileChange], message: &str, title: &str) -> u64 {
        let repo = self
            .gl
            .repo(self.project)
            .expect("the project's repository");
        repo.create_branch("feature", "main")
            .expect("branch feature");
        repo.commit("feature", changes, message, &dana())
            .expect("the commit on feature");
        self.gl
            .create_merge_request(
                self.project,
                MrSpec::new(self.dev.id, "feature", "main", title),
            )
            .expect("merge request")
            .iid
    }

    /// dana commits `changes` to `branch` of the project's repository as `message`; the new
    /// commit's SHA.
    pub fn commit(&self, branch: &str, changes: &[FileChange], message: &str) -> String {
        self.gl
            .repo(self.project)
            .expect("the project's repository")
            .commit(branch, changes, message, &dana())
            .expect("the commit")
    }

    /// The text of `path` on `branch` of the project's repository, if the file is there.
    pub fn file_on(&self, branch: &str, path: &str) -> Option<String> {
        let repo = self
            .gl
            .repo(self.project)
            .expect("the project's repository");
        let bytes = repo.file_at(branch, path).expect("the branch is readable");
        bytes.map(|b| String::from_utf8(b).expect("a text file"))
    }

    /// What GitLab tells job `job_id` of this project about where it runs, and the bot's
    /// token as the project's `GITLAB_TOKEN` variable: for the stories that start a job's
    /// command without [`CiJob`] (no assistant CLI).
    pub fn job_vars(&self, job_id: &str) -> Vec<(&'static str, String)> {
        let base = self.gl.base_url();
        vec![
            ("CI", "true".to_owned()),
            ("CI_PROJECT_ID", self.project.to_string()),
            ("CI_PROJECT_PATH", "acme/widgets".to_owned()),
            ("CI_API_V4_URL", self.gl.api_url()),
            ("CI_JOB_ID", job_id.to_owned()),
            ("CI_JOB_URL", format!("{base}/acme/widgets/-/jobs/{job_id}")),
            ("CI_SERVER_URL", base),
            ("GITLAB_TOKEN", self.bot.token.clone()),
        ]
    }

    /// A relay on a free local port for this project alone: webhooks signed with `secret`,
    /// pipelines started on `main` with the bot's token, answered by Claude, no label trigger
    /// and no quota sweep.
    pub fn relay_config(&self, secret: &str) -> RelayConfig {
        crate::relay_support::relay_for(
            &self.gl.api_url(),
            &self.bot.token,
            self.project,
            PipelineStart::BotToken,
            secret,
        )
    }

    /// A fresh runner's checkout named `base` (or `base-1`, `base-2`… when a job of the same
    /// test has it).
    pub fn checkout(&self, base: &str) -> PathBuf {
        let dir = self.dir.path().join(free_name(self.dir.path(), base));
        runner_checkout(&self.gl, self.project, &self.job_token, &dir)
    }

    /// The job `job_id` of this project in `checkout`, with the bot's token.
    pub fn ci_job<'a>(
        &'a self,
        checkout: &'a Path,
        job_id: &'a str,
        assistant: Assistant,
        model: &'a ModelDouble,
        keys: ModelKeys,
    ) -> CiJob<'a> {
        CiJob {
            gl: &self.gl,
            project: self.project,
            job_token: &self.job_token,
            bot_token: &self.bot.token,
            checkout,
            job_id,
            assistant,
            model,
            keys,
        }
    }
}

/// Declares a story file's `World`: the shared [`Story`] and the file's own `fields`, with the
/// file's jobs in an `impl World` of that file. Not methods on `Story` itself: those of one
/// file would clash with another's (each has its own `run` or `job`).
macro_rules! story_world {
    ($($field:ident: $ty:ty),* $(,)?) => {
        /// The shared story, with the jobs of this file on top.
        struct World {
            story: $crate::support::story::Story,
            $($field: $ty,)*
        }

        impl std::ops::Deref for World {
            type Target = $crate::support::story::Story;

            fn deref(&self) -> &Self::Target {
                &self.story
            }
        }
    };
}
pub(crate) use story_world;
