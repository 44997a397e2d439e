//! Newtypes for GitLab's identifiers.
//!
//! GitLab gives issues and merge requests both a global `id` and a per-project `iid`, and the
//! REST API addresses them by `iid` (`/projects/:id/issues/:issue_iid`) while webhooks also carry
//! the global `id` (`noteable_id`). Mixing the two is the classic integration bug, so each kind of
//! number has its own type and the compiler refuses the mix-up.
//! <https://docs.gitlab.com/api/rest/#id-vs-iid>

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map(Self)
            }
        }
    };
}

numeric_id!(
    /// A project's global id (`CI_PROJECT_ID`, `project_id`).
    ProjectId
);
numeric_id!(
    /// A user's global id (`author.id`, `members/all/:user_id`).
    UserId
);
numeric_id!(
    /// A note's global id (`note_id`); unique across all noteables.
    NoteId
);
numeric_id!(
    /// An issue's number inside its project (`#12`), as the REST paths take it.
    IssueIid
);
numeric_id!(
    /// A merge request's number inside its project (`!34`), as the REST paths take it.
    MergeRequestIid
);
numeric_id!(
    /// A pipeline's global id.
    PipelineId
);
numeric_id!(
    /// A CI job's global id (`/-/jobs/:id`).
    JobId
);
numeric_id!(
    /// An award emoji's id, needed to remove it again.
    AwardId
);

/// A discussion (thread) id: 40 lowercase hex characters, shared by every note in the thread.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DiscussionId(String);

/// The text is not a GitLab discussion id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid discussion id {0:?}: expected 40 hexadecimal characters")]
pub struct InvalidDiscussionId(pub String);

impl DiscussionId {
    /// Validates a discussion id.
    pub fn new(value: &str) -> Result<Self, InvalidDiscussionId> {
        let v = value.trim();
        if v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(v.to_ascii_lowercase()))
        } else {
            Err(InvalidDiscussionId(value.to_owned()))
        }
    }

    /// The id as GitLab writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DiscussionId {
    type Error = InvalidDiscussionId;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<DiscussionId> for String {
    fn from(value: DiscussionId) -> Self {
        value.0
    }
}

impl FromStr for DiscussionId {
    type Err = InvalidDiscussionId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for DiscussionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The thing a note is attached to. Commits and snippets can carry notes too, but the product
/// only answers on issues and merge requests, so only those are representable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "iid", rename_all = "snake_case")]
pub enum Noteable {
    /// An issue, by IID.
    Issue(IssueIid),
    /// A merge request, by IID.
    MergeRequest(MergeRequestIid),
}

impl Noteable {
    /// The path segment GitLab uses for this kind (`issues`, `merge_requests`).
    pub fn collection(self) -> &'static str {
        match self {
            Noteable::Issue(_) => "issues",
            Noteable::MergeRequest(_) => "merge_requests",
        }
    }

    /// The IID as a bare number, for paths and messages.
    pub fn iid(self) -> u64 {
        match self {
            Noteable::Issue(iid) => iid.0,
            Noteable::MergeRequest(iid) => iid.0,
        }
    }

    /// GitLab's reference syntax: `#12` for an issue, `!34` for a merge request.
    pub fn reference(self) -> String {
        match self {
            Noteable::Issue(iid) => format!("#{iid}"),
            Noteable::MergeRequest(iid) => format!("!{iid}"),
        }
    }

    /// GitLab's own name of the kind, as in a note's `noteable_type` (`Issue`,
    /// `MergeRequest`). The relay and the scan send it as `AI_NOTEABLE_TYPE` so that a mention
    /// job's `resource_group` is spelled the same in every mode: the webhook template can only
    /// paste this spelling, and the review job writes it literally
    /// (<https://docs.gitlab.com/user/project/integrations/webhook_events/#comment-events>).
    pub fn gitlab_type(self) -> &'static str {
        match self {
            Noteable::Issue(_) => "Issue",
            Noteable::MergeRequest(_) => "MergeRequest",
        }
    }

    /// The noteable a kind and an IID name: GitLab's spelling ([`Self::gitlab_type`]) or the
    /// lowercase one (`issue`, `merge_request`) people and earlier relays write in
    /// `AI_NOTEABLE_TYPE`; `None` for any other kind.
    pub fn from_type(kind: &str, iid: u64) -> Option<Self> {
        match kind.trim() {
            "Issue" | "issue" => Some(Noteable::Issue(IssueIid(iid))),
            "MergeRequest" | "merge_request" => Some(Noteable::MergeRequest(MergeRequestIid(iid))),
            _ => None,
        }
    }
}

/// How a request names a project: GitLab accepts the numeric id or the URL-encoded full path
/// (`group%2Fsub%2Fproject`) wherever a path says `:id`.
/// <https://docs.gitlab.com/api/rest/#namespaced-paths>
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProjectRef {
    /// The numeric id (`CI_PROJECT_ID`).
    Id(ProjectId),
    /// The full path with namespace (`CI_PROJECT_PATH`).
    Path(String),
}

/// Everything but unreserved characters is encoded, so `/` becomes `%2F` and `.` stays: how a
/// project path or a repository `file_path` becomes one URL segment.
pub(crate) const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl ProjectRef {
    /// The `:id` path segment: the number, or the path percent-encoded.
    pub fn segment(&self) -> Cow<'_, str> {
        match self {
            ProjectRef::Id(id) => Cow::Owned(id.to_string()),
            ProjectRef::Path(path) => {
                Cow::Owned(utf8_percent_encode(path, PATH_SEGMENT).to_string())
            }
        }
    }

    /// `/projects/:id`: the project's own endpoint, the root of every project-scoped path.
    pub fn api_root(&self) -> String {
        format!("/projects/{}", self.segment())
    }

    /// `/projects/:id/{tail}`, the path of a project-scoped endpoint (`tail` as in GitLab's
    /// docs, such as `hooks` or `jobs/7/trace`), so the `:id` segment is encoded in one place.
    /// Callers pass a `&str` or a `String`, not `format_args!`: an endpoint's future holds the
    /// argument across its `.await` and must stay `Send`.
    pub fn api(&self, tail: impl fmt::Display) -> String {
        format!("/projects/{}/{tail}", self.segment())
    }
}

impl fmt::Display for ProjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectRef::Id(id) => id.fmt(f),
            ProjectRef::Path(path) => f.write_str(path),
        }
    }
}

impl FromStr for ProjectRef {
    type Err = std::convert::Infallible;

    /// A string of digits is an id; anything else is a path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Ok(match s.parse::<u64>() {
            Ok(n) => ProjectRef::Id(ProjectId(n)),
            Err(_) => ProjectRef::Path(s.trim_matches('/').to_owned()),
        })
    }
}

impl From<ProjectId> for ProjectRef {
    fn from(id: ProjectId) -> Self {
        ProjectRef::Id(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths_are_url_encoded() {
        let p: ProjectRef = "group/sub.group/my-project".parse().unwrap();
        assert_eq!(p.segment(), "group%2Fsub.group%2Fmy-project");
        let id: ProjectRef = "42".parse().unwrap();
        assert_eq!(id, ProjectRef::Id(ProjectId(42)));
        assert_eq!(id.segment(), "42");
        assert_eq!(p.api_root(), "/projects/group%2Fsub.group%2Fmy-project");
        assert_eq!(
            id.api(format!("jobs/{}/trace", JobId(7))),
            "/projects/42/jobs/7/trace"
        );
    }

    #[test]
    fn discussion_ids_are_forty_hex_chars() {
        let ok = "6a9c1750b37d513a43987b574953fceb50b03ce7";
        assert_eq!(DiscussionId::new(ok).unwrap().as_str(), ok);
        assert!(DiscussionId::new("abc").is_err());
        assert!(DiscussionId::new(&"g".repeat(40)).is_err());
        let parsed: DiscussionId = serde_json::from_str(&format!("\"{ok}\"")).unwrap();
        assert_eq!(parsed.as_str(), ok);
        assert!(serde_json::from_str::<DiscussionId>("\"nope\"").is_err());
    }

    #[test]
    fn noteables_know_their_paths_and_references() {
        let i = Noteable::Issue(IssueIid(7));
        let m = Noteable::MergeRequest(MergeRequestIid(9));
        assert_eq!(
            (i.collection(), i.reference(), i.gitlab_type()),
            ("issues", "#7".into(), "Issue")
        );
        assert_eq!(
            (m.collection(), m.reference(), m.gitlab_type()),
            ("merge_requests", "!9".into(), "MergeRequest")
        );
        for (kind, noteable) in [
            ("Issue", i),
            ("issue", i),
            ("MergeRequest", m),
            ("merge_request", m),
        ] {
            assert_eq!(Noteable::from_type(kind, noteable.iid()), Some(noteable));
        }
        assert_eq!(Noteable::from_type("Epic", 7), None);
    }
}
