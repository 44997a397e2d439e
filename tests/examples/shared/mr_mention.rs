//! What the context benchmarks (`context_bench`, `ci_log_bench`, which `#[path]`-include this)
//! gather with: a double where `alice` mentions a Developer bot, the bot's API client, and the
//! trigger of a comment on a merge request that mentions Claude, as the relay or the job would
//! build it from the note.

use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{
    NoteSpec, Noteable as DoubleNoteable, ProjectSpec, SeededProject, SeededUser, UserSpec,
};

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

/// Posts `body`, a plain comment by `author` on merge request `mr_iid`, and returns the webhook
/// trigger of it for Claude, with `instruction` (the request with the mention taken out).
pub fn mention(
    gl: &GitLabDouble,
    project: u64,
    mr_iid: u64,
    author: &SeededUser,
    body: &str,
    instruction: &str,
) -> anyhow::Result<Trigger> {
    let note = gl.add_note(
        project,
        DoubleNoteable::MergeRequest(mr_iid),
        NoteSpec::new(author.id, body),
    )?;
    Ok(Trigger {
        source: Source::Webhook,
        project: ProjectRef::Id(ProjectId(project)),
        noteable: Noteable::MergeRequest(MergeRequestIid(mr_iid)),
        note: Some(TriggerNote {
            id: NoteId(note.id),
            discussion: None,
            author: Author {
                id: UserId(author.id),
                username: Some(author.username.clone()),
            },
            body: body.into(),
            kind: NoteKind::Comment,
            internal: false,
            system: false,
            edited: false,
        }),
        assistants: vec![Assistant::Claude],
        instruction: instruction.into(),
        placeholder: None,
        confidential: false,
        event: None,
    })
}
