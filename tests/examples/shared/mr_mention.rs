//! What the context benchmarks (`context_bench`, `ci_log_bench`, which `#[path]`-include this)
//! gather with: a double where `alice` mentions a Developer bot, the bot's API client, and the
//! trigger of a comment on a merge request that mentions Claude, as the relay or the job would
//! build it from the note.

use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{ProjectSpec, SeededProject, SeededUser, UserSpec};

use entrypoint::agent::Assistant;
use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::config::{ApiBaseUrl, ClientConfig, GitLabToken};
use entrypoint::gitlab::ids::{MergeRequestIid, NoteId, Noteable, ProjectId, ProjectRef, UserId};
use entrypoint::secret::Secret;
use entrypoint::trigger::{Author, NoteKind, Source, Trigger, TriggerNote};

/// Starts the GitLab double and seeds project `path` with the human `alice` and the bot
/// "Claude" (a Developer): returns `(double, alice, project, bot)`.
pub async fn world(
    path: &str,
) -> anyhow::Result<(GitLabDouble, SeededUser, SeededProject, SeededUser)> {
    let gl = GitLabDouble::start().await?;
    let alice = gl.add_user(UserSpec::human("alice"))?;
    let project = gl.add_project(ProjectSpec::new(path))?;
    let bot = gl.add_user(UserSpec::project_bot(project.id, "Claude"))?;
    gl.add_member(project.id, bot.id, 30)?;
    Ok((gl, alice, project, bot))
}

/// A client of the API at `api_url` acting with `token`, as the job's would.
pub fn client(api_url: &str, token: &str) -> anyhow::Result<GitLab> {
    Ok(GitLab::new(ClientConfig::new(
        ApiBaseUrl::parse(api_url).map_err(anyhow::Error::msg)?,
        GitLabToken::new(Secret::new(token)),
    ))?)
}

/// What a mention is about: where it was written, by whom, and what it says.
pub struct Mention<'a> {
    pub project: u64,
    pub mr_iid: u64,
    pub note_id: u64,
    pub author_id: u64,
    pub username: &'a str,
    pub body: &'a str,
    /// The request with the mention taken out.
    pub instruction: &'a str,
}

/// The webhook trigger of `mention`, a plain comment for Claude.
pub fn trigger(mention: Mention<'_>) -> Trigger {
    Trigger {
        source: Source::Webhook,
        project: ProjectRef::Id(ProjectId(mention.project)),
        noteable: Noteable::MergeRequest(MergeRequestIid(mention.mr_iid)),
        note: Some(TriggerNote {
            id: NoteId(mention.note_id),
            discussion: None,
            author: Author {
                id: UserId(mention.author_id),
                username: Some(mention.username.into()),
            },
            body: mention.body.into(),
            kind: NoteKind::Comment,
            internal: false,
            system: false,
            edited: false,
        }),
        assistants: vec![Assistant::Claude],
        instruction: mention.instruction.into(),
        placeholder: None,
        confidential: false,
        event: None,
    }
}
