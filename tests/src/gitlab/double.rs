//! The in-process handle tests use: start the double on a loopback port, seed users, groups,
//! projects (each a real bare repository), issues, merge requests, notes, tokens, triggers and
//! hooks, then inspect what the code under test did (requests, notes, merge requests,
//! pipelines, Note Hook events, webhook deliveries).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use doubles::gitlab::GitLabDouble;
//! use doubles::gitlab::double::{ProjectSpec, UserSpec};
//! let gl = GitLabDouble::start().await?;
//! let alice = gl.add_user(UserSpec::human("alice"))?;
//! let project = gl.add_project(ProjectSpec::new("group/proj"))?;
//! gl.add_member(project.id, alice.id, 30)?;
//! gl.shutdown().await?;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use rand::Rng;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::access::{AccessLevel, Visibility};
use super::app::{self, AppState, Config, Shared};
use super::faults::Faults;
use super::model::{
    DraftNote, Group, Hook, HookDelivery, Issue, IssueState, MergeRequest, MergeRequestState,
    Model, Note, NoteAction, NoteEvent, NoteType, NoteableKind, NoteableRef, Pipeline,
    PipelineSchedule, Project, ProjectAccessToken, RecordedRequest, Review, Todo, Token,
    TokenDetails, TokenKind, Trigger, User, Variable,
};
use super::repo::{FileChange, Repo, Signature};
use super::routes::noteable::{NewNote, insert_note, validate_body};
use super::routes::pipelines::new_trigger_token;
use super::version::GitLabVersion;
use super::{server, time, webhooks};

/// Which issue or merge request (by IID) a note belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noteable {
    Issue(u64),
    MergeRequest(u64),
}

impl Noteable {
    fn to_ref(self, project_id: u64) -> NoteableRef {
        match self {
            Noteable::Issue(iid) => NoteableRef {
                project_id,
                kind: NoteableKind::Issue,
                iid,
            },
            Noteable::MergeRequest(iid) => NoteableRef {
                project_id,
                kind: NoteableKind::MergeRequest,
                iid,
            },
        }
    }
}

/// The seeding API's lookups: a test that names a project or user the double does not hold is
/// told which one, instead of the REST API's bare 404.
fn seeded_project(model: &Model, id: u64) -> anyhow::Result<&Project> {
    model.project(id).ok_or_else(|| anyhow!("no project {id}"))
}

fn seeded_project_mut(model: &mut Model, id: u64) -> anyhow::Result<&mut Project> {
    model
        .projects
        .iter_mut()
        .find(|p| p.id == id)
        .ok_or_else(|| anyhow!("no project {id}"))
}

fn seeded_user(model: &Model, id: u64) -> anyhow::Result<&User> {
    model.user(id).ok_or_else(|| anyhow!("no user {id}"))
}

/// A seeded issue or merge request on its way into the model: its global id, the noteable it
/// will be, and its creation time.
struct NewIssuable {
    id: u64,
    target: NoteableRef,
    now: time::Timestamp,
}

impl NewIssuable {
    /// Checks the author, then allocates the global id and the IID in the project.
    fn start(
        model: &mut Model,
        kind: NoteableKind,
        project_id: u64,
        author: u64,
    ) -> anyhow::Result<Self> {
        seeded_user(model, author)?;
        let id = match kind {
            NoteableKind::Issue => model.next_issue_id(),
            NoteableKind::MergeRequest => model.next_merge_request_id(),
        };
        let iid = model.next_iid(kind, project_id);
        Ok(Self {
            id,
            target: NoteableRef {
                project_id,
                kind,
                iid,
            },
            now: time::now(),
        })
    }

    /// Once it is in the model: the label events of the labels it was opened with, and the ids
    /// the test gets back.
    fn opened(self, model: &mut Model, author: u64, labels: &[String]) -> SeededNoteable {
        model.record_label_changes(self.target, author, &[], labels, self.now);
        SeededNoteable {
            id: self.id,
            iid: self.target.iid,
        }
    }
}

/// The records of one merge request in one of the model's lists, cloned for the test.
fn of_merge_request<T: Clone>(
    records: &[T],
    merge_request: NoteableRef,
    on: fn(&T) -> NoteableRef,
) -> Vec<T> {
    records
        .iter()
        .filter(|record| on(record) == merge_request)
        .cloned()
        .collect()
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    hex::encode(buf)
}

/// The specs' one-field builder methods, one line an option, so that each spec lists its
/// options instead of spelling out the same three-line setter for each: `flag` switches the
/// field on and takes no argument, `text` stores a `&str` as a `String`, `some_text` as
/// `Some(String)`, `value<T>` stores a `T` and `some<T>` a `Some(T)`. Options that do more
/// than set their field stay written out in the spec's `impl`.
macro_rules! options {
    ($spec:ty { $($(#[$doc:meta])* $field:ident: $kind:ident $(<$ty:ty>)?),* $(,)? }) => {
        impl $spec {
            $(options!(@method $(#[$doc])* $field $kind $($ty)?);)*
        }
    };
    (@method $(#[$doc:meta])* $field:ident flag) => {
        $(#[$doc])*
        pub fn $field(mut self) -> Self {
            self.$field = true;
            self
        }
    };
    (@method $(#[$doc:meta])* $field:ident text) => {
        $(#[$doc])*
        pub fn $field(mut self, $field: &str) -> Self {
            self.$field = $field.to_string();
            self
        }
    };
    (@method $(#[$doc:meta])* $field:ident some_text) => {
        $(#[$doc])*
        pub fn $field(mut self, $field: &str) -> Self {
            self.$field = Some($field.to_string());
            self
        }
    };
    (@method $(#[$doc:meta])* $field:ident value $ty:ty) => {
        $(#[$doc])*
        pub fn $field(mut self, $field: $ty) -> Self {
            self.$field = $field;
            self
        }
    };
    (@method $(#[$doc:meta])* $field:ident some $ty:ty) => {
        $(#[$doc])*
        pub fn $field(mut self, $field: $ty) -> Self {
            self.$field = Some($field);
            self
        }
    };
}

/// A user to seed.
#[derive(Clone, Debug)]
pub struct UserSpec {
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    pub bot: bool,
    pub admin: bool,
    /// The access token; generated (`glpat-…`) when `None`.
    pub token: Option<String>,
}

impl UserSpec {
    pub fn human(username: &str) -> UserSpec {
        UserSpec {
            username: username.to_string(),
            name: username.to_string(),
            email: None,
            bot: false,
            admin: false,
            token: None,
        }
    }

    /// The bot user behind a project access token: username `project_<id>_bot_<hex>`,
    /// display name = token name, `"bot": true`
    /// (<https://docs.gitlab.com/user/project/settings/project_access_tokens/#bot-users-for-projects>).
    pub fn project_bot(project_id: u64, token_name: &str) -> UserSpec {
        UserSpec {
            username: format!("project_{project_id}_bot_{}", random_hex(16)),
            name: token_name.to_string(),
            email: None,
            bot: true,
            admin: false,
            token: None,
        }
    }
}

options!(UserSpec {
    name: text,
    email: some_text,
    token: some_text,
    admin: flag,
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededUser {
    pub id: u64,
    pub username: String,
    pub token: String,
}

/// What [`GitLabDouble::seed_team`] makes.
#[derive(Clone, Debug)]
pub struct TeamSpec {
    /// The project (`acme/widgets` by default).
    pub project: ProjectSpec,
    /// The bot user's display name (a project bot, as a project access token makes one).
    pub bot_name: &'static str,
    /// The bot's access level (Developer, 30, by default; some stories need a Maintainer).
    pub bot_role: u8,
    /// Whether the Guest "gus" is a member too.
    pub guest: bool,
}

impl Default for TeamSpec {
    fn default() -> Self {
        Self {
            project: ProjectSpec::new("acme/widgets"),
            bot_name: "Claude",
            bot_role: 30,
            guest: false,
        }
    }
}

/// A seeded project and its people.
#[derive(Clone, Debug)]
pub struct Team {
    pub project: u64,
    pub bot: SeededUser,
    /// "dana", a Developer.
    pub dev: SeededUser,
    /// "gus", a Guest, when [`TeamSpec::guest`] asked for him.
    pub guest: Option<SeededUser>,
}

/// A project to seed; its repository gets an initial commit with `README.md` on the default
/// branch.
#[derive(Clone, Debug)]
pub struct ProjectSpec {
    pub path_with_namespace: String,
    pub default_branch: String,
    pub visibility: Visibility,
    pub description: String,
    /// Protected branch names or `*` patterns; `None` protects the default branch as GitLab
    /// does.
    pub protected_branches: Option<Vec<String>>,
    /// `ci_pipeline_variables_minimum_override_role`; GitLab's self-managed default is
    /// `developer`, new GitLab.com projects start at `no_one_allowed`.
    pub pipeline_variables_minimum_role: String,
    /// `restrict_user_defined_variables`; true, as 17.10 migrated every project (MR !187035).
    pub restrict_user_defined_variables: bool,
    /// False models GitLab.com Free: project access tokens are unavailable.
    pub access_tokens_available: bool,
}

impl ProjectSpec {
    pub fn new(path_with_namespace: &str) -> ProjectSpec {
        ProjectSpec {
            path_with_namespace: path_with_namespace.trim_matches('/').to_string(),
            default_branch: "main".into(),
            visibility: Visibility::Private,
            description: String::new(),
            protected_branches: None,
            pipeline_variables_minimum_role: "developer".into(),
            restrict_user_defined_variables: true,
            access_tokens_available: true,
        }
    }

    /// A project on GitLab.com Free: no project access tokens, and new projects refuse
    /// pipeline variables until a Maintainer allows them.
    pub fn gitlab_com_free(mut self) -> Self {
        self.access_tokens_available = false;
        self.pipeline_variables_minimum_role = "no_one_allowed".into();
        self
    }

    pub fn protected_branches(mut self, patterns: &[&str]) -> Self {
        self.protected_branches = Some(patterns.iter().map(|s| s.to_string()).collect());
        self
    }
}

options!(ProjectSpec {
    /// `restrict_user_defined_variables`: false lets every Developer pass pipeline variables
    /// whatever the minimum role says (GitLab 17.1 to 17.9 and later), or, before 17.1, is the
    /// only setting there is.
    restrict_user_defined_variables: value<bool>,
    /// `ci_pipeline_variables_minimum_override_role` (`developer`, `maintainer`, `owner`,
    /// `no_one_allowed`).
    pipeline_variables_minimum_role: text,
    default_branch: text,
    visibility: value<Visibility>,
    description: text,
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededProject {
    pub id: u64,
    pub path_with_namespace: String,
}

#[derive(Clone, Debug)]
pub struct IssueSpec {
    pub author: u64,
    pub title: String,
    pub description: String,
    pub labels: Vec<String>,
    pub assignees: Vec<u64>,
    pub confidential: bool,
}

impl IssueSpec {
    pub fn new(author: u64, title: &str) -> IssueSpec {
        IssueSpec {
            author,
            title: title.to_string(),
            description: String::new(),
            labels: Vec::new(),
            assignees: Vec::new(),
            confidential: false,
        }
    }

    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.labels = labels.iter().map(|s| s.to_string()).collect();
        self
    }
}

options!(IssueSpec {
    description: text,
    confidential: flag,
});

/// What [`GitLabDouble::change_issuable`] changes: the whole assignee or reviewer list (as the
/// API's `assignee_ids`/`reviewer_ids` set it), labels added and removed (`add_labels`,
/// `remove_labels`).
#[derive(Clone, Debug, Default)]
pub struct IssuableChange {
    pub assignees: Option<Vec<u64>>,
    pub reviewers: Option<Vec<u64>>,
    pub add_labels: Vec<String>,
    pub remove_labels: Vec<String>,
}

impl IssuableChange {
    pub fn assign(ids: &[u64]) -> Self {
        Self {
            assignees: Some(ids.to_vec()),
            ..Self::default()
        }
    }

    pub fn request_review(ids: &[u64]) -> Self {
        Self {
            reviewers: Some(ids.to_vec()),
            ..Self::default()
        }
    }

    pub fn add_label(title: &str) -> Self {
        Self {
            add_labels: vec![title.to_owned()],
            ..Self::default()
        }
    }
}

#[derive(Clone, Debug)]
pub struct MrSpec {
    pub author: u64,
    pub source_branch: String,
    pub target_branch: String,
    pub title: String,
    pub description: String,
    pub labels: Vec<String>,
    /// A fork's project id when the source branch lives there.
    pub source_project: Option<u64>,
}

impl MrSpec {
    pub fn new(author: u64, source_branch: &str, target_branch: &str, title: &str) -> MrSpec {
        MrSpec {
            author,
            source_branch: source_branch.to_string(),
            target_branch: target_branch.to_string(),
            title: title.to_string(),
            description: String::new(),
            labels: Vec::new(),
            source_project: None,
        }
    }

    /// A merge request from a fork: `source_branch` lives in project `fork`.
    pub fn from_fork(mut self, fork: u64) -> Self {
        self.source_project = Some(fork);
        self
    }
}

options!(MrSpec { description: text });

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeededNoteable {
    pub id: u64,
    pub iid: u64,
}

#[derive(Clone, Debug)]
pub struct NoteSpec {
    pub author: u64,
    pub body: String,
    pub system: bool,
    pub internal: bool,
    /// Reply into this discussion; `None` starts a new one.
    pub discussion: Option<String>,
    /// Start a thread (`DiscussionNote`) rather than a standalone comment.
    pub thread: bool,
    /// Diff position (makes a `DiffNote`); stored as given.
    pub position: Option<Value>,
    /// Record a Note Hook event and deliver it, as if the note had been posted through the API.
    pub emit_hooks: bool,
}

impl NoteSpec {
    pub fn new(author: u64, body: &str) -> NoteSpec {
        NoteSpec {
            author,
            body: body.to_string(),
            system: false,
            internal: false,
            discussion: None,
            thread: false,
            position: None,
            emit_hooks: false,
        }
    }

    pub fn reply_to(mut self, discussion_id: &str) -> Self {
        self.discussion = Some(discussion_id.to_string());
        self
    }
}

options!(NoteSpec {
    system: flag,
    internal: flag,
    thread: flag,
    position: some<Value>,
    emit_hooks: flag,
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededNote {
    pub id: u64,
    pub discussion_id: String,
}

/// A project hook to seed (same fields as `POST /projects/:id/hooks`).
#[derive(Clone, Debug)]
pub struct HookSpec {
    pub url: String,
    pub token: Option<String>,
    pub note_events: bool,
    pub confidential_note_events: bool,
    pub issues_events: bool,
    pub confidential_issues_events: bool,
    pub merge_requests_events: bool,
    pub custom_webhook_template: Option<String>,
}

impl HookSpec {
    pub fn notes(url: &str) -> HookSpec {
        HookSpec {
            url: url.to_string(),
            token: None,
            note_events: true,
            confidential_note_events: true,
            issues_events: false,
            confidential_issues_events: false,
            merge_requests_events: false,
            custom_webhook_template: None,
        }
    }

    /// Issues events and Merge request events only (no comments).
    pub fn issues_and_merge_requests(url: &str) -> HookSpec {
        HookSpec {
            note_events: false,
            confidential_note_events: false,
            issues_events: true,
            merge_requests_events: true,
            ..HookSpec::notes(url)
        }
    }

    /// Sends this body instead of the event's payload (see
    /// [`super::webhooks::render_custom_template`]).
    pub fn custom_template(mut self, template: &str) -> Self {
        self.custom_webhook_template = Some(template.to_string());
        self
    }
}

options!(HookSpec { token: some_text });

/// A job to seed with [`GitLabDouble::add_job`].
#[derive(Clone, Debug)]
pub struct JobSpec {
    name: String,
    stage: String,
    status: String,
    failure_reason: Option<String>,
    allow_failure: bool,
    trace: Vec<u8>,
}

impl JobSpec {
    /// A job that succeeded, with an empty log.
    pub fn new(name: &str, stage: &str) -> JobSpec {
        JobSpec {
            name: name.to_owned(),
            stage: stage.to_owned(),
            status: "success".to_owned(),
            failure_reason: None,
            allow_failure: false,
            trace: Vec::new(),
        }
    }

    /// Failed for `reason` (`script_failure`, `job_execution_timeout`, …).
    pub fn failed(mut self, reason: &str) -> Self {
        self.status = "failed".to_owned();
        self.failure_reason = Some(reason.to_owned());
        self
    }

    /// The log as the runner sent it.
    pub fn trace(mut self, trace: impl Into<Vec<u8>>) -> Self {
        self.trace = trace.into();
        self
    }
}

options!(JobSpec {
    status: text,
    allow_failure: flag,
});

#[derive(Clone, Debug, Default)]
pub struct GitLabDoubleBuilder {
    relative_url_root: String,
    admin_token: Option<String>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    gitlab_version: GitLabVersion,
    self_managed_hook_flags: bool,
}

impl GitLabDoubleBuilder {
    /// Serve everything under a sub-path, like a self-managed instance at
    /// `https://example.com/gitlab`.
    pub fn relative_url_root(mut self, root: &str) -> Self {
        let trimmed = root.trim_end_matches('/');
        self.relative_url_root = if trimmed.is_empty() || trimmed.starts_with('/') {
            trimmed.to_string()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// Where repositories are stored; a temporary directory (removed on drop) when unset.
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_path_buf());
        self
    }

    pub async fn start(self) -> anyhow::Result<GitLabDouble> {
        let (data_dir, temp) = match self.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating data directory {}", dir.display()))?;
                (dir, None)
            }
            None => {
                let temp = tempfile::tempdir().context("creating a temporary data directory")?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let addr = self
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("binding the GitLab double to {addr}"))?;
        listener
            .set_nonblocking(true)
            .context("making the GitLab double's listener non-blocking")?;
        let addr = listener
            .local_addr()
            .context("reading the GitLab double's address")?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gitlab-double")
            .enable_all()
            .build()
            .context("starting the GitLab double's runtime")?;
        let faults = Faults::default();
        let shared = Arc::new(Shared::new(
            Config {
                relative_url_root: self.relative_url_root.clone(),
                admin_token: self.admin_token,
            },
            faults.clone(),
            data_dir,
            runtime.handle().clone(),
        ));
        shared.set_base_url(format!("http://{addr}{}", self.relative_url_root));
        {
            let mut model = shared.lock();
            model.gitlab_version = self.gitlab_version;
            model.auto_disabling_web_hooks = !self.self_managed_hook_flags;
        }
        let router = app::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = runtime.spawn(async move {
            let listener = TcpListener::from_std(listener)?;
            server::serve(listener, router, faults, async move {
                let _ = stopped.await;
            })
            .await
        });
        Ok(GitLabDouble {
            app: shared,
            addr,
            stop: Some(stop),
            server: Some(server),
            runtime: Some(runtime),
            _temp: temp,
        })
    }
}

options!(GitLabDoubleBuilder {
    admin_token: some_text,
    /// Address to listen on; `127.0.0.1:0` (any free port) when unset.
    listen: some<SocketAddr>,
    /// Answer as this GitLab release (default [`super::version::LATEST`]): `GET /version`, and
    /// every behaviour that differs on either side of a floor in [`super::version`].
    gitlab_version: value<GitLabVersion>,
    /// The webhook feature flags of a self-managed instance left at their defaults:
    /// `auto_disabling_web_hooks` off. Unset, the double is GitLab.com, which disables failing
    /// hooks (<https://docs.gitlab.com/user/project/integrations/webhooks/#auto-disabled-webhooks>).
    self_managed_hook_flags: flag,
});

/// A running GitLab double, served from its own runtime threads. Dropping it stops the server; [`GitLabDouble::shutdown`] also waits
/// for requests in flight.
pub struct GitLabDouble {
    app: AppState,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    /// The double's own runtime, so a test that blocks its thread (say on
    /// `std::process::Command::output` running the product) cannot stall the double.
    runtime: Option<tokio::runtime::Runtime>,
    _temp: Option<tempfile::TempDir>,
}

impl Drop for GitLabDouble {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

const INITIAL_AUTHOR: (&str, &str) = ("Administrator", "admin@example.com");

impl GitLabDouble {
    pub async fn start() -> anyhow::Result<GitLabDouble> {
        GitLabDouble::builder().start().await
    }

    pub fn builder() -> GitLabDoubleBuilder {
        GitLabDoubleBuilder::default()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{relative_url_root}` (what `CI_SERVER_URL` would be).
    pub fn base_url(&self) -> String {
        self.app.base_url().to_string()
    }

    /// `{base_url}/api/v4` (what `CI_API_V4_URL` would be).
    pub fn api_url(&self) -> String {
        format!("{}/api/v4", self.app.base_url())
    }

    /// `{base_url}/<path>.git`, the clone URL.
    pub fn git_url(&self, project_id: u64) -> anyhow::Result<String> {
        let model = self.app.lock();
        let project = seeded_project(&model, project_id)?;
        Ok(format!(
            "{}/{}.git",
            self.app.base_url(),
            project.path_with_namespace()
        ))
    }

    pub fn faults(&self) -> Faults {
        self.app.faults.clone()
    }

    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .context("the GitLab double's server task panicked")?
                .context("the GitLab double's server failed")?;
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        Ok(())
    }

    pub fn add_user(&self, spec: UserSpec) -> anyhow::Result<SeededUser> {
        let mut model = self.app.lock();
        if model.user_by_username(&spec.username).is_some() {
            bail!("user {} already exists", spec.username);
        }
        let id = model.next_user_id();
        let token = spec
            .token
            .clone()
            .unwrap_or_else(|| format!("glpat-{}", random_hex(10)));
        if model.token(&token).is_some() {
            bail!("token for {} is already in use", spec.username);
        }
        model.users.push(User {
            id,
            username: spec.username.clone(),
            name: spec.name,
            email: spec
                .email
                .unwrap_or_else(|| format!("{}@example.com", spec.username)),
            bot: spec.bot,
            admin: spec.admin,
            created_at: time::now(),
        });
        let details = TokenDetails::api(model.next_access_token_id(), &token_name(&spec.username));
        model.tokens.push(Token {
            value: token.clone(),
            user_id: id,
            kind: TokenKind::Access,
            details,
        });
        Ok(SeededUser {
            id,
            username: spec.username,
            token,
        })
    }

    /// Another access token for an existing user.
    pub fn add_token(&self, user_id: u64, token: &str) -> anyhow::Result<()> {
        let mut model = self.app.lock();
        let username = seeded_user(&model, user_id)?.username.clone();
        let details = TokenDetails::api(model.next_access_token_id(), &token_name(&username));
        model.tokens.push(Token {
            value: token.to_string(),
            user_id,
            kind: TokenKind::Access,
            details,
        });
        Ok(())
    }

    /// Changes what `GET /personal_access_tokens/self` reports for `token` (its scopes, expiry,
    /// revocation); a revoked or expired token is then refused with GitLab's `invalid_token`
    /// answer.
    pub fn update_token(
        &self,
        token: &str,
        change: impl FnOnce(&mut TokenDetails),
    ) -> anyhow::Result<()> {
        let mut model = self.app.lock();
        let found = model
            .tokens
            .iter_mut()
            .find(|t| t.value == token)
            .ok_or_else(|| anyhow!("no such token"))?;
        change(&mut found.details);
        Ok(())
    }

    /// A CI job token (`glcbt-…`) for a job of `project_id` started by `user_id`.
    pub fn add_job_token(&self, project_id: u64, user_id: u64) -> anyhow::Result<String> {
        let mut model = self.app.lock();
        seeded_project(&model, project_id)?;
        seeded_user(&model, user_id)?;
        let token = format!("glcbt-{}", random_hex(16));
        model.tokens.push(Token {
            value: token.clone(),
            user_id,
            kind: TokenKind::Job { project_id },
            details: TokenDetails::api(0, "CI/CD job token"),
        });
        Ok(token)
    }

    /// Removes a token, as when a job finishes or a token is revoked.
    /// An administrator's shorter maximum lifetime for access tokens (Admin > Settings >
    /// General > Account and limit); creating a token that expires later answers 400
    /// `Expires at must be before <date>`.
    pub fn set_max_token_lifetime_days(&self, days: u64) {
        self.app.lock().max_token_lifetime_days = Some(days);
    }

    pub fn revoke_token(&self, token: &str) {
        self.app.lock().tokens.retain(|t| t.value != token);
    }

    /// Creates the group and any missing ancestors.
    pub fn add_group(&self, full_path: &str) -> anyhow::Result<u64> {
        let mut model = self.app.lock();
        Ok(ensure_group(&mut model, full_path))
    }

    /// The model, locked, for making `user_id` a member at `access_level`: the level is one
    /// GitLab knows and the user exists.
    fn lock_for_member(
        &self,
        user_id: u64,
        access_level: u8,
    ) -> anyhow::Result<(std::sync::MutexGuard<'_, Model>, AccessLevel)> {
        let level = AccessLevel::try_from(access_level)?;
        let model = self.app.lock();
        seeded_user(&model, user_id)?;
        Ok((model, level))
    }

    pub fn add_group_member(
        &self,
        group_path: &str,
        user_id: u64,
        access_level: u8,
    ) -> anyhow::Result<()> {
        let (mut model, level) = self.lock_for_member(user_id, access_level)?;
        ensure_group(&mut model, group_path);
        let group = model
            .groups
            .iter_mut()
            .find(|g| g.full_path == group_path)
            .ok_or_else(|| anyhow!("group {group_path} vanished"))?;
        group.members.insert(user_id, level);
        Ok(())
    }

    pub fn add_project(&self, spec: ProjectSpec) -> anyhow::Result<SeededProject> {
        let (namespace, path) = spec
            .path_with_namespace
            .rsplit_once('/')
            .ok_or_else(|| anyhow!("project path {} has no namespace", spec.path_with_namespace))?;
        let repo_dir = self
            .app
            .data_dir
            .join("repositories")
            .join(format!("{}.git", spec.path_with_namespace));
        let repo = Repo::init_bare(&repo_dir, &spec.default_branch)?;
        repo.commit(
            &spec.default_branch,
            &[FileChange::write("README.md", format!("# {path}\n"))],
            "Initial commit",
            &Signature::new(INITIAL_AUTHOR.0, INITIAL_AUTHOR.1),
        )?;
        let mut model = self.app.lock();
        if model.project_by_ref(&spec.path_with_namespace).is_some() {
            bail!("project {} already exists", spec.path_with_namespace);
        }
        if model.user_by_username(namespace).is_none() {
            ensure_group(&mut model, namespace);
        }
        let id = model.next_project_id();
        model.projects.push(Project {
            id,
            path: path.to_string(),
            name: path.to_string(),
            description: spec.description,
            namespace: namespace.to_string(),
            visibility: spec.visibility,
            protected_branches: spec
                .protected_branches
                .unwrap_or_else(|| vec![spec.default_branch.clone()]),
            default_branch: spec.default_branch,
            members: Default::default(),
            repo: Arc::new(repo),
            created_at: time::now(),
            pipeline_variables_minimum_role: spec.pipeline_variables_minimum_role,
            restrict_user_defined_variables: spec.restrict_user_defined_variables,
            access_tokens_available: spec.access_tokens_available,
        });
        Ok(SeededProject {
            id,
            path_with_namespace: spec.path_with_namespace,
        })
    }

    pub fn add_member(
        &self,
        project_id: u64,
        user_id: u64,
        access_level: u8,
    ) -> anyhow::Result<()> {
        let (mut model, level) = self.lock_for_member(user_id, access_level)?;
        let project = seeded_project_mut(&mut model, project_id)?;
        project.members.insert(user_id, level);
        Ok(())
    }

    /// Adds a user and makes them a member of `project_id` at `access_level`: how most stories
    /// meet their people.
    pub fn add_member_user(
        &self,
        project_id: u64,
        spec: UserSpec,
        access_level: u8,
    ) -> anyhow::Result<SeededUser> {
        let user = self.add_user(spec)?;
        self.add_member(project_id, user.id, access_level)?;
        Ok(user)
    }

    /// The cast most stories start from (see [`TeamSpec`]): a project, its bot user, the
    /// Developer "dana" and, when asked, the Guest "gus".
    pub fn seed_team(&self, spec: TeamSpec) -> anyhow::Result<Team> {
        let project = self.add_project(spec.project)?.id;
        let bot = self.add_member_user(
            project,
            UserSpec::project_bot(project, spec.bot_name),
            spec.bot_role,
        )?;
        let dev = self.add_member_user(project, UserSpec::human("dana"), 30)?;
        let guest = if spec.guest {
            Some(self.add_member_user(project, UserSpec::human("gus"), 10)?)
        } else {
            None
        };
        Ok(Team {
            project,
            bot,
            dev,
            guest,
        })
    }

    pub fn set_protected_branches(&self, project_id: u64, patterns: &[&str]) -> anyhow::Result<()> {
        let mut model = self.app.lock();
        let project = seeded_project_mut(&mut model, project_id)?;
        project.protected_branches = patterns.iter().map(|s| s.to_string()).collect();
        Ok(())
    }

    /// The project's bare repository, to commit to or inspect.
    pub fn repo(&self, project_id: u64) -> anyhow::Result<Arc<Repo>> {
        Ok(seeded_project(&self.app.lock(), project_id)?.repo.clone())
    }

    pub fn create_issue(&self, project_id: u64, spec: IssueSpec) -> anyhow::Result<SeededNoteable> {
        let mut model = self.app.lock();
        seeded_project(&model, project_id)?;
        let new = NewIssuable::start(&mut model, NoteableKind::Issue, project_id, spec.author)?;
        let (id, iid, now) = (new.id, new.target.iid, new.now);
        model.issues.push(Issue {
            id,
            iid,
            project_id,
            title: spec.title,
            description: spec.description,
            state: IssueState::Opened,
            labels: spec.labels.clone(),
            author_id: spec.author,
            assignee_ids: spec.assignees,
            confidential: spec.confidential,
            discussion_locked: false,
            created_at: now,
            updated_at: now,
            closed_at: None,
        });
        Ok(new.opened(&mut model, spec.author, &spec.labels))
    }

    /// Opens an issue as `spec.author` does in the UI: created, then its Issue Hook (`open`)
    /// delivered to the project's issue hooks. Assignees and labels given at creation are in the
    /// payload but not in `changes` (GitLab builds the open hook without old associations).
    pub fn open_issue(&self, project_id: u64, spec: IssueSpec) -> anyhow::Result<SeededNoteable> {
        let author = spec.author;
        let assignees = spec.assignees.clone();
        let description = spec.description.clone();
        let seeded = self.create_issue(project_id, spec)?;
        let target = Noteable::Issue(seeded.iid).to_ref(project_id);
        self.announce_opened(target, author, &assignees, &[], &description);
        Ok(seeded)
    }

    /// Opens a merge request with its Merge Request Hook (`open`); `reviewers` are requested at
    /// creation.
    pub fn open_merge_request(
        &self,
        project_id: u64,
        spec: MrSpec,
        reviewers: &[u64],
    ) -> anyhow::Result<SeededNoteable> {
        let author = spec.author;
        let description = spec.description.clone();
        let seeded = self.create_merge_request(project_id, spec)?;
        {
            let mut model = self.app.lock();
            if let Some(mr) = model.merge_request_mut(project_id, seeded.iid) {
                mr.reviewer_ids = reviewers.to_vec();
            }
        }
        let target = Noteable::MergeRequest(seeded.iid).to_ref(project_id);
        self.announce_opened(target, author, &[], reviewers, &description);
        Ok(seeded)
    }

    /// What opening an issue or merge request sets off besides creating it: the to-do items of
    /// the people assigned, asked to review or mentioned, and the `open` hook.
    fn announce_opened(
        &self,
        target: NoteableRef,
        author: u64,
        assignees: &[u64],
        reviewers: &[u64],
        description: &str,
    ) {
        super::routes::todos::on_issuable(
            &mut self.app.lock(),
            target,
            author,
            assignees,
            reviewers,
            Some(description),
        );
        self.emit_issuable(target, author, webhooks::IssuableAction::Open);
    }

    /// `actor` changes an issue's or merge request's assignees, reviewers (merge requests only)
    /// or labels, as the UI or `PUT /projects/:id/issues/:iid` does; the hook (`update`) carries
    /// what changed in `changes`. A change that changes nothing sends no hook, as GitLab's
    /// update service does not execute hooks without changes.
    pub fn change_issuable(
        &self,
        project_id: u64,
        noteable: Noteable,
        actor: u64,
        change: IssuableChange,
    ) -> anyhow::Result<()> {
        let target = noteable.to_ref(project_id);
        let changed = {
            let mut model = self.app.lock();
            seeded_user(&model, actor)?;
            let now = time::now();
            let apply = |assignees: &mut Vec<u64>, labels: &mut Vec<String>| {
                if let Some(new) = &change.assignees {
                    *assignees = new.clone();
                }
                for label in &change.add_labels {
                    if !labels.contains(label) {
                        labels.push(label.clone());
                    }
                }
                labels.retain(|l| !change.remove_labels.contains(l));
            };
            let changed = match target.kind {
                NoteableKind::Issue => {
                    let issue = model
                        .issue_mut(project_id, target.iid)
                        .ok_or_else(|| anyhow!("no issue {}", target.iid))?;
                    let before = webhooks::IssuableBefore::of(
                        &issue.assignee_ids,
                        &issue.labels,
                        issue.updated_at,
                    );
                    apply(&mut issue.assignee_ids, &mut issue.labels);
                    let changed =
                        before.assignee_ids != issue.assignee_ids || before.labels != issue.labels;
                    if changed {
                        issue.updated_at = now;
                    }
                    changed.then_some(before)
                }
                NoteableKind::MergeRequest => {
                    let mr = model
                        .merge_request_mut(project_id, target.iid)
                        .ok_or_else(|| anyhow!("no merge request {}", target.iid))?;
                    let before = webhooks::IssuableBefore {
                        reviewer_ids: mr.reviewer_ids.clone(),
                        ..webhooks::IssuableBefore::of(&mr.assignee_ids, &mr.labels, mr.updated_at)
                    };
                    apply(&mut mr.assignee_ids, &mut mr.labels);
                    if let Some(reviewers) = &change.reviewers {
                        mr.reviewer_ids = reviewers.clone();
                    }
                    let changed = before.assignee_ids != mr.assignee_ids
                        || before.labels != mr.labels
                        || before.reviewer_ids != mr.reviewer_ids;
                    if changed {
                        mr.updated_at = now;
                    }
                    changed.then_some(before)
                }
            };
            if let Some(before) = &changed {
                let now_labels = match target.kind {
                    NoteableKind::Issue => model
                        .issue(project_id, target.iid)
                        .map(|i| i.labels.clone()),
                    NoteableKind::MergeRequest => model
                        .merge_request(project_id, target.iid)
                        .map(|m| m.labels.clone()),
                }
                .unwrap_or_default();
                model.record_label_changes(target, actor, &before.labels, &now_labels, now);
            }
            changed
        };
        if let Some(before) = changed {
            let outgoing = {
                let mut model = self.app.lock();
                let (assignees, reviewers) = match target.kind {
                    NoteableKind::Issue => model
                        .issue(project_id, target.iid)
                        .map(|i| (i.assignee_ids.clone(), Vec::new()))
                        .unwrap_or_default(),
                    NoteableKind::MergeRequest => model
                        .merge_request(project_id, target.iid)
                        .map(|m| (m.assignee_ids.clone(), m.reviewer_ids.clone()))
                        .unwrap_or_default(),
                };
                let added = |now: &[u64], was: &[u64]| -> Vec<u64> {
                    now.iter().filter(|id| !was.contains(id)).copied().collect()
                };
                super::routes::todos::on_issuable(
                    &mut model,
                    target,
                    actor,
                    &added(&assignees, &before.assignee_ids),
                    &added(&reviewers, &before.reviewer_ids),
                    None,
                );
                webhooks::record_issuable_event(
                    &mut model,
                    target,
                    actor,
                    webhooks::IssuableAction::Update,
                    &before,
                    self.app.base_url(),
                )
            };
            webhooks::dispatch(&self.app, outgoing);
        }
        Ok(())
    }

    fn emit_issuable(&self, target: NoteableRef, actor: u64, action: webhooks::IssuableAction) {
        let outgoing = {
            let mut model = self.app.lock();
            webhooks::record_issuable_event(
                &mut model,
                target,
                actor,
                action,
                &webhooks::IssuableBefore::default(),
                self.app.base_url(),
            )
        };
        webhooks::dispatch(&self.app, outgoing);
    }

    /// Opens a merge request; both branches must exist in the repository.
    pub fn create_merge_request(
        &self,
        project_id: u64,
        spec: MrSpec,
    ) -> anyhow::Result<SeededNoteable> {
        let source_project_id = spec.source_project.unwrap_or(project_id);
        for (project, branch) in [
            (source_project_id, &spec.source_branch),
            (project_id, &spec.target_branch),
        ] {
            if self.repo(project)?.branch_sha(branch)?.is_none() {
                bail!("branch {branch} does not exist in project {project}");
            }
        }
        let mut model = self.app.lock();
        let kind = NoteableKind::MergeRequest;
        let new = NewIssuable::start(&mut model, kind, project_id, spec.author)?;
        let (id, iid, now) = (new.id, new.target.iid, new.now);
        model.merge_requests.push(MergeRequest {
            id,
            iid,
            project_id,
            source_project_id,
            title: spec.title,
            description: spec.description,
            state: MergeRequestState::Opened,
            source_branch: spec.source_branch,
            target_branch: spec.target_branch,
            labels: spec.labels.clone(),
            author_id: spec.author,
            assignee_ids: Vec::new(),
            reviewer_ids: Vec::new(),
            remove_source_branch: false,
            squash: false,
            allow_collaboration: false,
            discussion_locked: false,
            created_at: now,
            updated_at: now,
            closed_at: None,
        });
        Ok(new.opened(&mut model, spec.author, &spec.labels))
    }

    /// Adds a note directly (system notes included, which the API cannot create).
    pub fn add_note(
        &self,
        project_id: u64,
        noteable: Noteable,
        spec: NoteSpec,
    ) -> anyhow::Result<SeededNote> {
        validate_body(&spec.body).map_err(|e| anyhow!("invalid note body: {:?}", e.body()))?;
        let outgoing;
        let seeded;
        {
            let mut model = self.app.lock();
            let noteable = noteable.to_ref(project_id);
            let noteable_id = model
                .noteable_id(noteable)
                .ok_or_else(|| anyhow!("no {noteable:?}"))?;
            seeded_user(&model, spec.author)?;
            let note_type = if spec.position.is_some() {
                NoteType::DiffNote
            } else if spec.thread || spec.discussion.is_some() {
                NoteType::DiscussionNote
            } else {
                NoteType::Plain
            };
            if let Some(discussion) = &spec.discussion
                && !model
                    .notes_of(noteable)
                    .any(|n| &n.discussion_id == discussion)
            {
                bail!("no discussion {discussion} on {noteable:?}");
            }
            let id = insert_note(
                &mut model,
                NewNote {
                    noteable,
                    noteable_id,
                    author_id: spec.author,
                    body: spec.body,
                    system: spec.system,
                    internal: spec.internal,
                    note_type,
                    discussion_id: spec.discussion,
                    position: spec.position,
                    created_at: None,
                },
            );
            outgoing = if spec.emit_hooks {
                webhooks::record_note_event(&mut model, id, NoteAction::Create, self.app.base_url())
            } else {
                None
            };
            let discussion_id = model
                .note_by_id(id)
                .map(|n| n.discussion_id.clone())
                .unwrap_or_default();
            seeded = SeededNote { id, discussion_id };
        }
        webhooks::dispatch(&self.app, outgoing);
        Ok(seeded)
    }

    /// A pipeline trigger token owned by `owner`; returns the token.
    pub fn add_trigger(
        &self,
        project_id: u64,
        owner: u64,
        description: &str,
    ) -> anyhow::Result<String> {
        self.add_trigger_with_token(project_id, owner, description, &new_trigger_token())
    }

    pub fn add_trigger_with_token(
        &self,
        project_id: u64,
        owner: u64,
        description: &str,
        token: &str,
    ) -> anyhow::Result<String> {
        let mut model = self.app.lock();
        seeded_project(&model, project_id)?;
        let id = model.next_trigger_id();
        model.triggers.push(Trigger {
            id,
            project_id,
            token: token.to_string(),
            description: description.to_string(),
            owner_id: owner,
            created_at: time::now(),
        });
        Ok(token.to_string())
    }

    pub fn add_hook(&self, project_id: u64, spec: HookSpec) -> anyhow::Result<u64> {
        let mut model = self.app.lock();
        seeded_project(&model, project_id)?;
        let id = model.next_hook_id();
        model.hooks.push(super::model::Hook {
            id,
            project_id,
            url: spec.url,
            token: spec.token,
            name: None,
            description: None,
            push_events: false,
            issues_events: spec.issues_events,
            confidential_issues_events: spec.confidential_issues_events,
            merge_requests_events: spec.merge_requests_events,
            note_events: spec.note_events,
            confidential_note_events: spec.confidential_note_events,
            pipeline_events: false,
            enable_ssl_verification: true,
            created_at: time::now(),
            custom_webhook_template: spec.custom_webhook_template,
            recent_failures: 0,
            disabled_until: None,
        });
        Ok(id)
    }

    /// A pipeline a schedule ran on `git_ref`, created at `created_at` and now in `status`
    /// (`success`, `failed`, …); the double runs no schedules, so tests seed their history.
    pub fn add_schedule_pipeline(
        &self,
        project_id: u64,
        git_ref: &str,
        status: &str,
        created_at: time::Timestamp,
    ) -> anyhow::Result<u64> {
        self.seed_pipeline(
            project_id,
            git_ref,
            status,
            super::model::PipelineSource::Schedule,
            created_at,
        )
    }

    /// A pipeline a push to `branch` ran, built at the branch's current head and now in
    /// `status`; the double runs nothing, so tests seed the CI history they need. It becomes
    /// the head pipeline of a merge request from `branch` while the branch stays there.
    pub fn add_branch_pipeline(
        &self,
        project_id: u64,
        branch: &str,
        status: &str,
    ) -> anyhow::Result<u64> {
        self.seed_pipeline(
            project_id,
            branch,
            status,
            super::model::PipelineSource::Push,
            time::now(),
        )
    }

    /// A finished pipeline of `source` at the head of branch `git_ref`, for the seeding helpers
    /// above.
    fn seed_pipeline(
        &self,
        project_id: u64,
        git_ref: &str,
        status: &str,
        source: super::model::PipelineSource,
        created_at: time::Timestamp,
    ) -> anyhow::Result<u64> {
        let sha = self
            .repo(project_id)?
            .branch_sha(git_ref)?
            .ok_or_else(|| anyhow!("branch {git_ref} does not exist in project {project_id}"))?;
        let mut model = self.app.lock();
        let id = model.next_pipeline_id();
        let iid = model.next_pipeline_iid(project_id);
        model.pipelines.push(Pipeline {
            id,
            iid,
            project_id,
            sha,
            git_ref: git_ref.to_string(),
            status: status.to_string(),
            source,
            variables: Vec::new(),
            user_id: 0,
            trigger_id: None,
            created_at,
            jobs: Vec::new(),
        });
        Ok(id)
    }

    /// A file uploaded to the project's Markdown, as `POST /projects/:id/uploads` stores it;
    /// returns the path a description links (`/uploads/<32 hex>/<filename>`).
    pub fn add_upload(&self, project_id: u64, filename: &str, content: &[u8]) -> String {
        let secret: [u8; 16] = rand::rng().random();
        let secret = hex::encode(secret);
        self.app.lock().uploads.push(super::model::Upload {
            project_id,
            secret: secret.clone(),
            filename: filename.to_owned(),
            content: content.to_vec(),
        });
        format!("/uploads/{secret}/{filename}")
    }

    /// A job of `pipeline_id` as `spec` describes it; returns its id.
    pub fn add_job(&self, pipeline_id: u64, spec: JobSpec) -> anyhow::Result<u64> {
        let mut model = self.app.lock();
        let project_id = model
            .pipelines
            .iter()
            .find(|p| p.id == pipeline_id)
            .map(|p| p.project_id)
            .ok_or_else(|| anyhow!("pipeline {pipeline_id} does not exist"))?;
        let id = model.next_job_id();
        model.jobs.push(super::model::Job {
            id,
            project_id,
            pipeline_id,
            name: spec.name,
            stage: spec.stage,
            status: spec.status,
            failure_reason: spec.failure_reason,
            allow_failure: spec.allow_failure,
            trace: spec.trace,
            created_at: time::now(),
        });
        Ok(id)
    }

    /// The to-dos on `user_id`'s list, pending and done.
    pub fn todos(&self, user_id: u64) -> Vec<Todo> {
        of_project(&self.app.lock().todos, user_id, |t| t.user_id)
    }

    /// Retitles a merge request, as its author would (a `Draft:` prefix makes it a draft).
    pub fn set_merge_request_title(
        &self,
        project_id: u64,
        merge_request_iid: u64,
        title: &str,
    ) -> anyhow::Result<()> {
        let mut model = self.app.lock();
        let mr = model
            .merge_request_mut(project_id, merge_request_iid)
            .ok_or_else(|| anyhow!("no merge request !{merge_request_iid}"))?;
        mr.title = title.to_owned();
        mr.updated_at = time::now();
        Ok(())
    }

    /// Pending draft notes of a merge request, every author's (the API shows each user only
    /// their own).
    pub fn draft_notes(&self, project_id: u64, merge_request_iid: u64) -> Vec<DraftNote> {
        let noteable = Noteable::MergeRequest(merge_request_iid).to_ref(project_id);
        of_merge_request(&self.app.lock().draft_notes, noteable, |d| d.merge_request)
    }

    /// The reviews `bulk_publish` made on a merge request, oldest first.
    pub fn reviews(&self, project_id: u64, merge_request_iid: u64) -> Vec<Review> {
        let noteable = Noteable::MergeRequest(merge_request_iid).to_ref(project_id);
        of_merge_request(&self.app.lock().reviews, noteable, |r| r.merge_request)
    }

    /// How many notification events GitLab would send for the notes `author_id` wrote on a
    /// merge request: one per note outside a review (`NotificationService#new_note`) and one
    /// per review (`new_review`), since `NewNoteWorker` skips notes that belong to a review.
    pub fn notification_events(
        &self,
        project_id: u64,
        merge_request_iid: u64,
        author_id: u64,
    ) -> usize {
        let noteable = Noteable::MergeRequest(merge_request_iid).to_ref(project_id);
        let model = self.app.lock();
        let in_review: Vec<u64> = model
            .reviews
            .iter()
            .filter(|r| r.merge_request == noteable && r.author_id == author_id)
            .flat_map(|r| r.note_ids.iter().copied())
            .collect();
        let reviews = model
            .reviews
            .iter()
            .filter(|r| r.merge_request == noteable && r.author_id == author_id)
            .count();
        let notes = model
            .notes_of(noteable)
            .filter(|n| n.author_id == author_id && !n.system && !in_review.contains(&n.id))
            .count();
        notes + reviews
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.app.lock().requests.clear();
    }

    pub fn users(&self) -> Vec<User> {
        self.app.lock().users.clone()
    }

    pub fn groups(&self) -> Vec<Group> {
        self.app.lock().groups.clone()
    }

    /// Notes of an issue or merge request, oldest first.
    pub fn notes(&self, project_id: u64, noteable: Noteable) -> Vec<Note> {
        let model = self.app.lock();
        let mut notes: Vec<Note> = model
            .notes_of(noteable.to_ref(project_id))
            .cloned()
            .collect();
        notes.sort_by_key(|n| (n.created_at, n.id));
        notes
    }

    pub fn issues(&self, project_id: u64) -> Vec<Issue> {
        of_project(&self.app.lock().issues, project_id, |i| i.project_id)
    }

    /// Every quick action GitLab would have found in a note or description the double
    /// received, in order, recognised (run) or not (see [`super::quick_actions`]).
    pub fn executed_quick_actions(&self) -> Vec<super::quick_actions::QuickAction> {
        self.app.lock().quick_actions.clone()
    }

    /// Users who approved the merge request (by `/approve`).
    pub fn approvals(&self, project_id: u64, merge_request_iid: u64) -> Vec<u64> {
        self.app
            .lock()
            .approvals
            .iter()
            .filter(|(mr, _)| {
                mr.project_id == project_id
                    && mr.iid == merge_request_iid
                    && mr.kind == super::model::NoteableKind::MergeRequest
            })
            .map(|(_, user)| *user)
            .collect()
    }

    pub fn merge_requests(&self, project_id: u64) -> Vec<MergeRequest> {
        of_project(&self.app.lock().merge_requests, project_id, |m| {
            m.project_id
        })
    }

    pub fn pipelines(&self, project_id: u64) -> Vec<Pipeline> {
        of_project(&self.app.lock().pipelines, project_id, |p| p.project_id)
    }

    /// The project's CI/CD variables, values included (as stored, hidden or not).
    pub fn variables(&self, project_id: u64) -> Vec<Variable> {
        of_project(&self.app.lock().variables, project_id, |v| v.project_id)
    }

    pub fn access_tokens(&self, project_id: u64) -> Vec<ProjectAccessToken> {
        of_project(&self.app.lock().access_tokens, project_id, |t| t.project_id)
    }

    pub fn pipeline_schedules(&self, project_id: u64) -> Vec<PipelineSchedule> {
        of_project(&self.app.lock().pipeline_schedules, project_id, |s| {
            s.project_id
        })
    }

    /// Gives the project a `.gitlab-ci.yml`: from now on a pipeline records the jobs its rules
    /// let in, and a trigger whose pipeline would have none is refused as GitLab refuses it.
    pub fn set_ci_config(&self, project_id: u64, config: crate::ci_config::Config) {
        self.app.lock().ci_configs.insert(project_id, config);
    }

    /// Turns GitLab's `custom_webhook_template_serialization` flag on (beta, off by default).
    pub fn set_custom_webhook_template_serialization(&self, on: bool) {
        self.app.lock().custom_webhook_template_serialization = on;
    }

    pub fn hooks(&self, project_id: u64) -> Vec<Hook> {
        of_project(&self.app.lock().hooks, project_id, |h| h.project_id)
    }

    /// The secret token a hook sends as `X-Gitlab-Token` (the API never returns it).
    pub fn hook_token(&self, hook_id: u64) -> Option<String> {
        let model = self.app.lock();
        model
            .hooks
            .iter()
            .find(|h| h.id == hook_id)
            .and_then(|h| h.token.clone())
    }

    pub fn triggers(&self, project_id: u64) -> Vec<Trigger> {
        of_project(&self.app.lock().triggers, project_id, |t| t.project_id)
    }

    /// `ci_pipeline_variables_minimum_override_role` of a project.
    pub fn pipeline_variables_minimum_role(&self, project_id: u64) -> Option<String> {
        self.app
            .lock()
            .project(project_id)
            .map(|p| p.pipeline_variables_minimum_role.clone())
    }

    /// How long an award waits between GitLab's uniqueness check and its insert; two identical
    /// awards arriving within it both succeed, as they can on GitLab (see
    /// `routes::award_emoji`). Zero makes the double kinder than GitLab.
    pub fn set_award_race_window(&self, window: Duration) {
        self.app.award_race_window_us.store(
            u64::try_from(window.as_micros()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Every award on a note, oldest (lowest id) first.
    pub fn awards(&self, note_id: u64) -> Vec<super::model::Award> {
        let model = self.app.lock();
        let mut awards: Vec<_> = model
            .awards
            .iter()
            .filter(|a| a.on == super::model::Awardable::Note(note_id))
            .cloned()
            .collect();
        awards.sort_by_key(|a| a.id);
        awards
    }

    /// Every award on an issue or merge request itself (not on its notes), lowest id first.
    pub fn noteable_awards(&self, project_id: u64, noteable: Noteable) -> Vec<super::model::Award> {
        let target = noteable.to_ref(project_id);
        let model = self.app.lock();
        let mut awards: Vec<_> = model
            .awards
            .iter()
            .filter(|a| matches!(a.on, super::model::Awardable::Issuable { noteable, .. } if noteable == target))
            .cloned()
            .collect();
        awards.sort_by_key(|a| a.id);
        awards
    }

    /// The label events recorded on an issue or merge request, oldest first.
    pub fn label_events(
        &self,
        project_id: u64,
        noteable: Noteable,
    ) -> Vec<super::model::LabelEvent> {
        let target = noteable.to_ref(project_id);
        self.app
            .lock()
            .label_events
            .iter()
            .filter(|e| e.noteable == target)
            .cloned()
            .collect()
    }

    pub fn award_names(&self, note_id: u64) -> Vec<String> {
        let model = self.app.lock();
        model
            .awards
            .iter()
            .filter(|a| a.on == super::model::Awardable::Note(note_id))
            .map(|a| a.name.clone())
            .collect()
    }

    pub fn note_events(&self) -> Vec<NoteEvent> {
        self.app.lock().note_events.clone()
    }

    pub fn hook_deliveries(&self) -> Vec<HookDelivery> {
        self.app.lock().deliveries.clone()
    }

    /// Waits until at least `count` webhook deliveries have finished (successfully or not).
    pub async fn wait_for_deliveries(
        &self,
        count: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<HookDelivery>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.app.deliveries_changed.notified();
            {
                let deliveries = self.hook_deliveries();
                if deliveries.len() >= count {
                    return Ok(deliveries);
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let have = self.hook_deliveries().len();
                bail!("expected {count} webhook deliveries within {timeout:?}, got {have}");
            }
        }
    }
}

/// The name a seeded personal access token carries.
fn token_name(username: &str) -> String {
    format!("{username}'s token")
}

fn ensure_group(model: &mut super::model::Model, full_path: &str) -> u64 {
    let mut path = String::new();
    let mut id = 0;
    for segment in full_path.split('/').filter(|s| !s.is_empty()) {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(segment);
        id = match model.group(&path) {
            Some(group) => group.id,
            None => {
                let id = model.next_group_id();
                model.groups.push(Group {
                    id,
                    full_path: path.clone(),
                    name: segment.to_string(),
                    members: Default::default(),
                });
                id
            }
        };
    }
    id
}

/// Clones one project's (or one user's) items out of a model collection, for the state
/// accessors tests assert on.
fn of_project<T: Clone>(items: &[T], project_id: u64, project_of: impl Fn(&T) -> u64) -> Vec<T> {
    items
        .iter()
        .filter(|item| project_of(item) == project_id)
        .cloned()
        .collect()
}
