//! The double's state: everything GitLab would keep in its database, plus what the double
//! records for tests (requests, note events, webhook deliveries).
//!
//! Global ids of different kinds start from different bases (issues at 5001, merge requests at
//! 7001, notes at 9001 …) so a client that confuses an `id` with an `iid`, or a note id with an
//! issue id, gets a 404 instead of silently hitting the right object by luck.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::access::{AccessLevel, Visibility};
use super::repo::Repo;
use super::time::Timestamp;

#[derive(Clone, Debug)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub bot: bool,
    pub admin: bool,
    pub created_at: Timestamp,
}

/// What a token authenticates as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Personal, project or group access token: full API access as its user.
    Access,
    /// A CI job token (`glcbt-…`): acts as the user who started the job, on its own project,
    /// and only on the endpoints listed in <https://docs.gitlab.com/ci/jobs/ci_job_token/>.
    Job { project_id: u64 },
}

#[derive(Clone, Debug)]
pub struct Token {
    pub value: String,
    pub user_id: u64,
    pub kind: TokenKind,
    /// What `GET /personal_access_tokens/self` reports about an access token
    /// (<https://docs.gitlab.com/api/personal_access_tokens/>); unused for job tokens.
    pub details: TokenDetails,
}

/// An access token's record: personal, project and group access tokens are all personal access
/// tokens of their (bot) user, so the same fields describe each of them.
#[derive(Clone, Debug)]
pub struct TokenDetails {
    pub id: u64,
    pub name: String,
    pub scopes: Vec<String>,
    /// `YYYY-MM-DD`; `None` on instances that allow tokens without expiry.
    pub expires_at: Option<chrono::NaiveDate>,
    pub revoked: bool,
    pub created_at: Timestamp,
}

impl TokenDetails {
    /// A seeded token: scope `api`, no expiry.
    pub fn api(id: u64, name: &str) -> TokenDetails {
        TokenDetails {
            id,
            name: name.to_string(),
            scopes: vec!["api".to_string()],
            expires_at: None,
            revoked: false,
            created_at: super::time::now(),
        }
    }

    /// Access tokens stop working at 00:00 UTC on their expiry date
    /// (<https://docs.gitlab.com/user/profile/personal_access_tokens/>: "expire on the date you
    /// define, at midnight, 00:00 AM UTC").
    pub fn expired(&self) -> bool {
        self.expires_at
            .is_some_and(|d| d <= chrono::Utc::now().date_naive())
    }
}

#[derive(Clone, Debug)]
pub struct Group {
    pub id: u64,
    /// Full path, e.g. `group/sub`.
    pub full_path: String,
    pub name: String,
    pub members: BTreeMap<u64, AccessLevel>,
}

#[derive(Clone, Debug)]
pub struct Project {
    pub id: u64,
    /// Last path segment (`proj`).
    pub path: String,
    pub name: String,
    pub description: String,
    /// Full path of the namespace (`group/sub`).
    pub namespace: String,
    pub visibility: Visibility,
    pub default_branch: String,
    pub members: BTreeMap<u64, AccessLevel>,
    /// Branch names or `*` globs only Maintainers may push to; GitLab protects the default
    /// branch by default (<https://docs.gitlab.com/user/project/repository/branches/protected/>).
    pub protected_branches: Vec<String>,
    pub repo: Arc<Repo>,
    pub created_at: Timestamp,
    /// `ci_pipeline_variables_minimum_override_role`: `developer`, `maintainer`, `owner` or
    /// `no_one_allowed` (<https://docs.gitlab.com/api/projects/#edit-a-project>, GitLab 17.1+).
    pub pipeline_variables_minimum_role: String,
    /// `restrict_user_defined_variables`: before 17.1 alone decides (Maintainers only when
    /// true); from 17.1 the role applies only while it is true (MR !149343).
    pub restrict_user_defined_variables: bool,
    /// False on GitLab.com Free, where project access tokens need Premium
    /// (<https://docs.gitlab.com/user/project/settings/project_access_tokens/>).
    pub access_tokens_available: bool,
}

impl Project {
    pub fn path_with_namespace(&self) -> String {
        format!("{}/{}", self.namespace, self.path)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueState {
    Opened,
    Closed,
}

#[derive(Clone, Debug)]
pub struct Issue {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub title: String,
    pub description: String,
    pub state: IssueState,
    pub labels: Vec<String>,
    pub author_id: u64,
    pub assignee_ids: Vec<u64>,
    pub confidential: bool,
    pub discussion_locked: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeRequestState {
    Opened,
    Closed,
    Locked,
    Merged,
}

impl MergeRequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeRequestState::Opened => "opened",
            MergeRequestState::Closed => "closed",
            MergeRequestState::Locked => "locked",
            MergeRequestState::Merged => "merged",
        }
    }
}

#[derive(Clone, Debug)]
pub struct MergeRequest {
    pub id: u64,
    pub iid: u64,
    /// The target project.
    pub project_id: u64,
    /// Where the source branch lives: the target project, or a fork of it.
    pub source_project_id: u64,
    pub title: String,
    pub description: String,
    pub state: MergeRequestState,
    pub source_branch: String,
    pub target_branch: String,
    pub labels: Vec<String>,
    pub author_id: u64,
    pub assignee_ids: Vec<u64>,
    pub reviewer_ids: Vec<u64>,
    pub remove_source_branch: bool,
    pub squash: bool,
    pub allow_collaboration: bool,
    pub discussion_locked: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

/// Which kind of object a note hangs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum NoteableKind {
    Issue,
    MergeRequest,
}

impl NoteableKind {
    /// `noteable_type` as GitLab spells it.
    pub fn type_name(self) -> &'static str {
        match self {
            NoteableKind::Issue => "Issue",
            NoteableKind::MergeRequest => "MergeRequest",
        }
    }

    /// URL segment (`issues`, `merge_requests`).
    pub fn segment(self) -> &'static str {
        match self {
            NoteableKind::Issue => "issues",
            NoteableKind::MergeRequest => "merge_requests",
        }
    }
}

/// An issue or merge request, by project and IID (how the REST API addresses it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct NoteableRef {
    pub project_id: u64,
    pub kind: NoteableKind,
    pub iid: u64,
}

/// The `type` of a note (`null`, `DiscussionNote`, `DiffNote`) per
/// <https://docs.gitlab.com/api/notes/>.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum NoteType {
    Plain,
    DiscussionNote,
    DiffNote,
}

impl NoteType {
    pub fn json(self) -> Value {
        match self {
            NoteType::Plain => Value::Null,
            NoteType::DiscussionNote => Value::from("DiscussionNote"),
            NoteType::DiffNote => Value::from("DiffNote"),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Note {
    pub id: u64,
    pub noteable: NoteableRef,
    /// Global id of the issue or merge request (`noteable_id`).
    pub noteable_id: u64,
    /// 40-hex discussion id.
    pub discussion_id: String,
    /// A standalone comment: its discussion has `individual_note: true`.
    pub individual: bool,
    pub note_type: NoteType,
    pub body: String,
    pub author_id: u64,
    pub system: bool,
    pub internal: bool,
    pub position: Option<Value>,
    pub resolvable: bool,
    pub resolved_by: Option<u64>,
    pub resolved_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One label added to or removed from an issue or merge request, as GitLab records it
/// (`ResourceEvents::ChangeLabelsService`, called by
/// `Issuable::CommonSystemNotesService#create_labels_note` for every create and update that
/// changes labels: UI, REST, quick actions). <https://docs.gitlab.com/api/resource_label_events/>
#[derive(Clone, Debug, Serialize)]
pub struct LabelEvent {
    pub id: u64,
    pub noteable: NoteableRef,
    /// The issue's or merge request's global id (`resource_id`).
    pub noteable_id: u64,
    /// Who changed the label.
    pub user_id: u64,
    pub label: String,
    /// True for `add`, false for `remove`.
    pub added: bool,
    pub created_at: Timestamp,
}

/// The id the double gives a label title: labels are plain titles in the double, and one title
/// always has the same id (in hooks and label events alike).
pub fn label_id(title: &str) -> u64 {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(title.as_bytes());
    u64::from(digest[0]) << 8 | u64::from(digest[1])
}

#[derive(Clone, Debug, Serialize)]
pub struct Award {
    pub id: u64,
    pub name: String,
    pub user_id: u64,
    /// What the reaction is on.
    pub on: Awardable,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a reaction is on (`awardable_type`, `awardable_id`): a note, or an issue or merge
/// request itself (<https://docs.gitlab.com/api/emoji_reactions/>).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Awardable {
    /// A note, by global id.
    Note(u64),
    /// An issue or merge request, with its global id (`awardable_id`).
    Issuable { noteable: NoteableRef, id: u64 },
}

impl Awardable {
    /// `awardable_type` and `awardable_id` as the API shows them.
    pub fn api(self) -> (&'static str, u64) {
        match self {
            Awardable::Note(id) => ("Note", id),
            Awardable::Issuable { noteable, id } => (noteable.kind.type_name(), id),
        }
    }
}

/// A to-do item of one user (<https://docs.gitlab.com/user/todos/>).
#[derive(Clone, Debug, Serialize)]
pub struct Todo {
    pub id: u64,
    /// Whose to-do list it is on.
    pub user_id: u64,
    /// Who caused it.
    pub author_id: u64,
    /// `mentioned` or `directly_addressed`.
    pub action: String,
    pub noteable: NoteableRef,
    /// The note that caused it.
    pub note_id: Option<u64>,
    /// `pending` or `done`.
    pub state: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A pending review comment on a merge request
/// (<https://docs.gitlab.com/api/draft_notes/>, `app/models/draft_note.rb`). Only its author
/// sees it; nothing is notified and no Note Hook fires until it is published.
#[derive(Clone, Debug, Serialize)]
pub struct DraftNote {
    pub id: u64,
    pub merge_request: NoteableRef,
    pub merge_request_id: u64,
    pub author_id: u64,
    pub note: String,
    /// As sent: GitLab checks only its shape when the draft is made; the line is looked up
    /// when the draft is published.
    pub position: Option<Value>,
    /// The thread this draft replies to (`in_reply_to_discussion_id`).
    pub discussion_id: Option<String>,
    /// Resolve the thread it replies to when published.
    pub resolve_discussion: bool,
    pub commit_id: Option<String>,
}

/// What one `bulk_publish` made: a review (`Review.create!` in
/// `app/services/draft_notes/publish_service.rb`) holding the notes it created. GitLab sends
/// one `new_review` notification for it and none for its notes (`NewNoteWorker` skips notes
/// that belong to a review).
#[derive(Clone, Debug, Serialize)]
pub struct Review {
    pub id: u64,
    pub merge_request: NoteableRef,
    pub author_id: u64,
    pub note_ids: Vec<u64>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, Serialize)]
pub struct Hook {
    pub id: u64,
    pub project_id: u64,
    pub url: String,
    #[serde(skip_serializing)]
    pub token: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub push_events: bool,
    pub issues_events: bool,
    /// Events of confidential issues go only to hooks with this flag, as `Confidential Issue
    /// Hook` (`Issues::BaseService#execute_hooks`: `issue.confidential? ?
    /// :confidential_issue_hooks : :issue_hooks`).
    pub confidential_issues_events: bool,
    pub merge_requests_events: bool,
    pub note_events: bool,
    pub confidential_note_events: bool,
    pub pipeline_events: bool,
    pub enable_ssl_verification: bool,
    pub created_at: Timestamp,
    /// `custom_webhook_template` (GitLab 16.10+, MR !142738): the body sent instead of the
    /// event's payload, rendered by [`super::webhooks::render_custom_template`].
    pub custom_webhook_template: Option<String>,
    /// Consecutive failed deliveries (`recent_failures`, `WebHooks::AutoDisabling`).
    pub recent_failures: u32,
    /// End of a temporary disabling (`disabled_until`).
    pub disabled_until: Option<Timestamp>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Trigger {
    pub id: u64,
    pub project_id: u64,
    pub token: String,
    pub description: String,
    pub owner_id: u64,
    pub created_at: Timestamp,
}

/// A project CI/CD variable (<https://docs.gitlab.com/api/project_level_variables/>).
#[derive(Clone, Debug, Serialize)]
pub struct Variable {
    pub project_id: u64,
    pub key: String,
    pub value: String,
    pub variable_type: String,
    pub protected: bool,
    pub masked: bool,
    pub hidden: bool,
    pub raw: bool,
    pub environment_scope: String,
    pub description: Option<String>,
}

/// A project access token (<https://docs.gitlab.com/api/project_access_tokens/>); the token
/// value itself lives in [`Model::tokens`] for its bot user.
#[derive(Clone, Debug, Serialize)]
pub struct ProjectAccessToken {
    pub id: u64,
    pub project_id: u64,
    pub user_id: u64,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<String>,
    pub access_level: AccessLevel,
    /// `YYYY-MM-DD`.
    pub expires_at: String,
    pub revoked: bool,
    pub created_at: Timestamp,
}

/// A pipeline schedule (<https://docs.gitlab.com/api/pipeline_schedules/>).
#[derive(Clone, Debug, Serialize)]
pub struct PipelineSchedule {
    pub id: u64,
    pub project_id: u64,
    pub description: String,
    pub git_ref: String,
    pub cron: String,
    pub cron_timezone: String,
    pub active: bool,
    pub owner_id: u64,
    pub variables: Vec<PipelineVariable>,
    pub created_at: Timestamp,
}

/// A pipeline variable as recorded; `variable_type` is `env_var` or `file`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PipelineVariable {
    pub key: String,
    pub value: String,
    pub variable_type: String,
}

/// `CI_PIPELINE_SOURCE` of a recorded pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineSource {
    Trigger,
    Api,
    Pipeline,
    /// Started by a push to a branch (seeded by tests as a branch's CI history).
    Push,
    /// Started by a pipeline schedule (seeded by tests; the double runs no schedules).
    Schedule,
}

impl PipelineSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PipelineSource::Trigger => "trigger",
            PipelineSource::Api => "api",
            PipelineSource::Pipeline => "pipeline",
            PipelineSource::Push => "push",
            PipelineSource::Schedule => "schedule",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Pipeline {
    pub id: u64,
    pub iid: u64,
    pub project_id: u64,
    pub sha: String,
    pub git_ref: String,
    pub status: String,
    pub source: PipelineSource,
    pub variables: Vec<PipelineVariable>,
    pub user_id: u64,
    pub trigger_id: Option<u64>,
    pub created_at: Timestamp,
    /// The jobs the project's CI configuration put in it, when the test gave the double one
    /// ([`super::double::GitLabDouble::set_ci_config`]); empty otherwise.
    pub jobs: Vec<crate::ci_config::PlannedJob>,
}

impl Pipeline {
    pub fn variable(&self, key: &str) -> Option<&str> {
        self.variables
            .iter()
            .find(|v| v.key == key)
            .map(|v| v.value.as_str())
    }
}

/// A CI job of a pipeline, seeded by tests (the double runs nothing): its status, why it
/// failed, and its log as the runner sent it (bytes, escape sequences and all).
#[derive(Clone, Debug)]
pub struct Job {
    pub id: u64,
    pub project_id: u64,
    pub pipeline_id: u64,
    pub name: String,
    pub stage: String,
    pub status: String,
    /// `script_failure`, `job_execution_timeout`, …; GitLab shows it for failed jobs only.
    pub failure_reason: Option<String>,
    pub allow_failure: bool,
    pub trace: Vec<u8>,
    pub created_at: Timestamp,
}

/// A file attached to a project's Markdown (`/uploads/<secret>/<filename>`), seeded by tests.
#[derive(Clone, Debug)]
pub struct Upload {
    pub project_id: u64,
    pub secret: String,
    pub filename: String,
    pub content: Vec<u8>,
}

/// `create` or `update`, as in `object_attributes.action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteAction {
    Create,
    Update,
}

/// A Note Hook event as GitLab would build it, whether or not any hook receives it.
#[derive(Clone, Debug, Serialize)]
pub struct NoteEvent {
    pub uuid: String,
    pub project_id: u64,
    pub note_id: u64,
    pub action: NoteAction,
    pub payload: Value,
}

/// One POST of an event to a registered hook URL.
#[derive(Clone, Debug, Serialize)]
pub struct HookDelivery {
    pub hook_id: u64,
    pub url: String,
    pub event_uuid: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Response status, or `None` when the request failed (`error` says why).
    pub status: Option<u16>,
    pub error: Option<String>,
}

/// A request as the double saw it, for assertions on call counts and on where secrets go.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
}

#[derive(Default)]
struct Counters {
    values: BTreeMap<&'static str, u64>,
}

impl Counters {
    fn next(&mut self, kind: &'static str, base: u64) -> u64 {
        let slot = self.values.entry(kind).or_insert(base);
        *slot += 1;
        *slot
    }
}

/// The global id allocator of each kind of record: the first id is one above the kind's base,
/// then one more each time; the bases keep the first ids of different kinds apart in a test's
/// output.
macro_rules! id_allocators {
    ($($(#[$doc:meta])* $method:ident: $kind:literal after $base:literal,)*) => {
        impl Model {
            $(
                $(#[$doc])*
                pub fn $method(&mut self) -> u64 {
                    self.counters.next($kind, $base)
                }
            )*
        }
    };
}

id_allocators! {
    next_user_id: "user" after 0,
    next_group_id: "group" after 100,
    next_project_id: "project" after 1000,
    next_issue_id: "issue" after 5000,
    next_merge_request_id: "merge_request" after 7000,
    next_note_id: "note" after 9000,
    next_award_id: "award" after 300,
    next_hook_id: "hook" after 400,
    next_trigger_id: "trigger" after 500,
    next_pipeline_id: "pipeline" after 20000,
    next_job_id: "job" after 90000,
    /// Personal and project access tokens share ids, as in GitLab, where both are rows of
    /// `personal_access_tokens`.
    next_access_token_id: "access_token" after 600,
    next_draft_note_id: "draft_note" after 800,
    next_review_id: "review" after 900,
    next_todo_id: "todo" after 3000,
    next_pipeline_schedule_id: "pipeline_schedule" after 700,
}

#[derive(Default)]
pub struct Model {
    pub users: Vec<User>,
    pub tokens: Vec<Token>,
    pub groups: Vec<Group>,
    pub projects: Vec<Project>,
    pub issues: Vec<Issue>,
    pub merge_requests: Vec<MergeRequest>,
    pub notes: Vec<Note>,
    pub awards: Vec<Award>,
    /// Every label added or removed, oldest first ([`Model::record_label_changes`]).
    pub label_events: Vec<LabelEvent>,
    pub hooks: Vec<Hook>,
    pub triggers: Vec<Trigger>,
    pub pipelines: Vec<Pipeline>,
    pub jobs: Vec<Job>,
    pub uploads: Vec<Upload>,
    pub variables: Vec<Variable>,
    pub access_tokens: Vec<ProjectAccessToken>,
    pub pipeline_schedules: Vec<PipelineSchedule>,
    pub todos: Vec<Todo>,
    pub draft_notes: Vec<DraftNote>,
    pub reviews: Vec<Review>,
    pub note_events: Vec<NoteEvent>,
    pub deliveries: Vec<HookDelivery>,
    pub requests: Vec<RecordedRequest>,
    /// Every quick action found in a note or description, in order (see
    /// [`super::quick_actions`]).
    pub quick_actions: Vec<super::quick_actions::QuickAction>,
    /// Merge request approvals given by `/approve`: (merge request, user).
    pub approvals: Vec<(NoteableRef, u64)>,
    /// The release the double answers as; see [`super::version`].
    pub gitlab_version: super::version::GitLabVersion,
    /// The administrator's maximum access token lifetime in days; `None` is GitLab's 365.
    pub max_token_lifetime_days: Option<u64>,
    /// Each project's `.gitlab-ci.yml` jobs, for the projects a test gave one: a trigger whose
    /// pipeline would have no job is then refused as GitLab refuses it.
    pub ci_configs: BTreeMap<u64, crate::ci_config::Config>,
    /// The `auto_disabling_web_hooks` feature flag: on at GitLab.com, off by default on
    /// self-managed instances (`config/feature_flags/ops/auto_disabling_web_hooks.yml`).
    pub auto_disabling_web_hooks: bool,
    /// The `custom_webhook_template_serialization` feature flag (beta, 18.4, off by default,
    /// MR !197992): JSON-escapes interpolated values.
    pub custom_webhook_template_serialization: bool,
    counters: Counters,
}

impl Model {
    /// Records the labels `user_id` added and removed on `noteable`, going from `before` to
    /// `after`: one event per label, additions first, as
    /// `Issuable::CommonSystemNotesService#create_labels_note` does (`issuable.labels -
    /// old_labels`, then `old_labels - issuable.labels`). Nothing when nothing changed.
    pub fn record_label_changes(
        &mut self,
        noteable: NoteableRef,
        user_id: u64,
        before: &[String],
        after: &[String],
        at: Timestamp,
    ) {
        let noteable_id = match noteable.kind {
            NoteableKind::Issue => self.issue(noteable.project_id, noteable.iid).map(|i| i.id),
            NoteableKind::MergeRequest => self
                .merge_request(noteable.project_id, noteable.iid)
                .map(|m| m.id),
        };
        let Some(noteable_id) = noteable_id else {
            return;
        };
        let added = after
            .iter()
            .filter(|l| !before.contains(l))
            .map(|l| (l, true));
        let removed = before
            .iter()
            .filter(|l| !after.contains(l))
            .map(|l| (l, false));
        let changes: Vec<(String, bool)> =
            added.chain(removed).map(|(l, a)| (l.clone(), a)).collect();
        for (label, added) in changes {
            let id = self.counters.next("label_event", 600);
            self.label_events.push(LabelEvent {
                id,
                noteable,
                noteable_id,
                user_id,
                label,
                added,
                created_at: at,
            });
        }
    }
    /// Per-project counters (`iid`s) keyed by kind and project.
    pub fn next_iid(&mut self, kind: NoteableKind, project_id: u64) -> u64 {
        match kind {
            NoteableKind::Issue => self
                .issues
                .iter()
                .filter(|i| i.project_id == project_id)
                .map(|i| i.iid)
                .max()
                .unwrap_or(0)
                .saturating_add(1),
            NoteableKind::MergeRequest => self
                .merge_requests
                .iter()
                .filter(|m| m.project_id == project_id)
                .map(|m| m.iid)
                .max()
                .unwrap_or(0)
                .saturating_add(1),
        }
    }
    pub fn next_pipeline_iid(&self, project_id: u64) -> u64 {
        self.pipelines
            .iter()
            .filter(|p| p.project_id == project_id)
            .map(|p| p.iid)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_by_username(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == username)
    }

    pub fn token(&self, value: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.value == value)
    }

    pub fn group(&self, full_path: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.full_path == full_path)
    }

    pub fn project(&self, id: u64) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// A project by numeric id or full path, as `:id` in the REST API
    /// (<https://docs.gitlab.com/api/rest/#namespaced-paths>); `raw` is already percent-decoded.
    pub fn project_by_ref(&self, raw: &str) -> Option<&Project> {
        if let Ok(id) = raw.parse::<u64>() {
            return self.project(id);
        }
        self.projects
            .iter()
            .find(|p| p.path_with_namespace().eq_ignore_ascii_case(raw))
    }

    /// Effective role: the project membership or the highest role in the project's namespace
    /// or any ancestor group (GitLab's inherited membership,
    /// <https://docs.gitlab.com/user/project/members/#membership-types>).
    pub fn access_level(&self, project: &Project, user_id: u64) -> Option<AccessLevel> {
        let direct = project.members.get(&user_id).copied();
        let mut inherited = None;
        let mut path = project.namespace.as_str();
        loop {
            if let Some(level) = self.group(path).and_then(|g| g.members.get(&user_id)) {
                inherited = inherited.max(Some(*level));
            }
            match path.rsplit_once('/') {
                Some((parent, _)) => path = parent,
                None => break,
            }
        }
        direct.max(inherited)
    }

    pub fn issue(&self, project_id: u64, iid: u64) -> Option<&Issue> {
        self.issues
            .iter()
            .find(|i| i.project_id == project_id && i.iid == iid)
    }

    pub fn merge_request(&self, project_id: u64, iid: u64) -> Option<&MergeRequest> {
        self.merge_requests
            .iter()
            .find(|m| m.project_id == project_id && m.iid == iid)
    }

    pub fn issue_mut(&mut self, project_id: u64, iid: u64) -> Option<&mut Issue> {
        self.issues
            .iter_mut()
            .find(|i| i.project_id == project_id && i.iid == iid)
    }

    pub fn merge_request_mut(&mut self, project_id: u64, iid: u64) -> Option<&mut MergeRequest> {
        self.merge_requests
            .iter_mut()
            .find(|m| m.project_id == project_id && m.iid == iid)
    }

    /// Global id of an issue or merge request.
    pub fn noteable_id(&self, noteable: NoteableRef) -> Option<u64> {
        match noteable.kind {
            NoteableKind::Issue => self.issue(noteable.project_id, noteable.iid).map(|i| i.id),
            NoteableKind::MergeRequest => self
                .merge_request(noteable.project_id, noteable.iid)
                .map(|m| m.id),
        }
    }

    pub fn notes_of(&self, noteable: NoteableRef) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(move |n| n.noteable == noteable)
    }

    pub fn note(&self, noteable: NoteableRef, note_id: u64) -> Option<&Note> {
        self.note_by_id(note_id).filter(|n| n.noteable == noteable)
    }

    /// Notes are appended with increasing ids and only ever removed, so `notes` stays sorted by
    /// id and a lookup is a binary search, not a scan (the relay load test holds tens of
    /// thousands of notes).
    pub fn note_by_id(&self, note_id: u64) -> Option<&Note> {
        let index = self.notes.binary_search_by_key(&note_id, |n| n.id).ok()?;
        self.notes.get(index)
    }

    pub fn note_by_id_mut(&mut self, note_id: u64) -> Option<&mut Note> {
        let index = self.notes.binary_search_by_key(&note_id, |n| n.id).ok()?;
        self.notes.get_mut(index)
    }

    pub fn touch_noteable(&mut self, noteable: NoteableRef, at: Timestamp) {
        match noteable.kind {
            NoteableKind::Issue => {
                if let Some(i) = self.issue_mut(noteable.project_id, noteable.iid) {
                    i.updated_at = at;
                }
            }
            NoteableKind::MergeRequest => {
                if let Some(m) = self.merge_request_mut(noteable.project_id, noteable.iid) {
                    m.updated_at = at;
                }
            }
        }
    }
}
