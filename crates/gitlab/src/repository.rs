//! Changing the repository through the API, without a clone: read a file, create a branch,
//! commit file actions. Setup uses these to propose its `.gitlab-ci.yml` change as a merge
//! request rather than pushing to the default branch.
//! <https://docs.gitlab.com/api/repository_files/>, <https://docs.gitlab.com/api/branches/>,
//! <https://docs.gitlab.com/api/commits/#create-a-commit-with-multiple-files-and-actions>

use base64::Engine;
use percent_encoding::utf8_percent_encode;
use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::Result;
use super::ids::{PATH_SEGMENT, ProjectRef};

#[derive(Deserialize)]
struct RawFile {
    encoding: String,
    content: String,
}

/// A branch as created.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Branch {
    /// Name.
    pub name: String,
}

/// A commit as the create endpoint returns it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Commit {
    /// Full sha.
    pub id: String,
    /// First line of the message.
    pub title: String,
}

/// One file action of a commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommitAction {
    /// What to do.
    pub action: FileAction,
    /// The file.
    pub file_path: String,
    /// New content (text).
    pub content: String,
}

/// `action` of a commit action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    /// A new file (GitLab refuses if it exists).
    Create,
    /// Replace an existing file (GitLab refuses if it does not exist).
    Update,
}

/// Body of `POST /projects/:id/repository/commits`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewCommit {
    /// Branch to commit to.
    pub branch: String,
    /// Message.
    pub commit_message: String,
    /// File actions.
    pub actions: Vec<CommitAction>,
}

#[derive(Serialize)]
struct NewBranch<'a> {
    branch: &'a str,
    #[serde(rename = "ref")]
    git_ref: &'a str,
}

/// A file whose content GitLab sent in an encoding this client does not read.
#[derive(Debug, thiserror::Error)]
#[error("GitLab sent {path} in an unreadable form: {reason}")]
pub struct FileDecodeError {
    /// The file.
    pub path: String,
    /// Why it could not be decoded.
    pub reason: String,
}

impl GitLab {
    /// `GET /projects/:id/repository/files/:file_path?ref=…` as text; `None` when the file (or
    /// the ref) does not exist.
    pub async fn file_text(
        &self,
        project: &ProjectRef,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Result<String, FileDecodeError>>> {
        let raw: Option<RawFile> = self
            .get_optional(
                &project.api(format!(
                    "repository/files/{}",
                    utf8_percent_encode(path, PATH_SEGMENT)
                )),
                &[("ref", git_ref.to_owned())],
            )
            .await?;
        Ok(raw.map(|raw| decode_file(path, raw)))
    }

    /// `POST /projects/:id/repository/branches`.
    pub async fn create_branch(
        &self,
        project: &ProjectRef,
        branch: &str,
        from: &str,
    ) -> Result<Branch> {
        self.post(
            &project.api("repository/branches"),
            &NewBranch {
                branch,
                git_ref: from,
            },
        )
        .await
    }

    /// `POST /projects/:id/repository/commits`.
    pub async fn create_commit(&self, project: &ProjectRef, commit: &NewCommit) -> Result<Commit> {
        self.post(&project.api("repository/commits"), commit).await
    }
}

fn decode_file(path: &str, raw: RawFile) -> Result<String, FileDecodeError> {
    let error = |reason: String| FileDecodeError {
        path: path.to_owned(),
        reason,
    };
    let bytes = match raw.encoding.as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(raw.content.trim())
            .map_err(|e| error(e.to_string()))?,
        "text" => raw.content.into_bytes(),
        other => return Err(error(format!("unknown encoding {other}"))),
    };
    String::from_utf8(bytes).map_err(|_| error("not UTF-8 text".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_files_decode_and_actions_serialise_as_documented() {
        let text = decode_file(
            ".gitlab-ci.yml",
            RawFile {
                encoding: "base64".into(),
                content: "c3RhZ2VzOiBbdGVzdF0K".into(),
            },
        )
        .unwrap();
        assert_eq!(text, "stages: [test]\n");
        let body = serde_json::to_value(NewCommit {
            branch: "b".into(),
            commit_message: "m".into(),
            actions: vec![CommitAction {
                action: FileAction::Update,
                file_path: ".gitlab-ci.yml".into(),
                content: "x".into(),
            }],
        })
        .unwrap();
        assert_eq!(body["actions"][0]["action"], "update");
    }
}
