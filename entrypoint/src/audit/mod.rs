//! The audit trail every run leaves as job artifacts in the project directory: the redacted
//! transcript of the assistant's steps (`ai-transcript.jsonl`, [`transcript`]) and the run's
//! usage record (`ai-usage.json`, [`crate::budget::usage`]). The templates keep both with
//! `artifacts: when: always`, so a failed or cancelled job leaves them too
//! (<https://docs.gitlab.com/ci/yaml/#artifactswhen>).

pub mod transcript;

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

pub use transcript::Transcript;

use crate::budget::UsageRecord;

/// The transcript artifact's file name, in `CI_PROJECT_DIR`.
pub const TRANSCRIPT_FILE: &str = "ai-transcript.jsonl";
/// The usage record artifact's file name, in `CI_PROJECT_DIR`.
pub const USAGE_FILE: &str = "ai-usage.json";

/// An artifact could not be written.
#[derive(Debug, thiserror::Error)]
#[error("could not write the job artifact {path}: {source}")]
pub struct ArtifactError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes `contents` to `dir/name` as a new regular file.
///
/// The project directory was the assistant's while it ran: it may have left a symbolic link (or
/// a directory) at this name pointing anywhere the job's root could write. Whatever is there is
/// removed without being followed, and the file is created exclusively (`O_EXCL`, which never
/// follows a link), after every process of the sandbox uid is gone, so nothing can swap it in
/// between.
pub(crate) fn write_artifact(
    dir: &Path,
    name: &str,
    contents: &[u8],
) -> Result<PathBuf, ArtifactError> {
    let path = dir.join(name);
    let error = |source| ArtifactError {
        path: path.clone(),
        source,
    };
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path).map_err(error)?,
        Ok(_) => std::fs::remove_file(&path).map_err(error)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(error(e)),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&path)
        .map_err(error)?;
    file.write_all(contents).map_err(error)?;
    Ok(path)
}

/// Writes the transcript and the usage record as job artifacts; a failure is logged, never the
/// job's end (by then the answer is posted, or the task's result decides it). A usage record
/// that cannot be serialized is left out, the transcript is written all the same.
pub(crate) fn leave_trail(dir: &Path, transcript: &Transcript, record: &UsageRecord) {
    let mut artifacts = vec![(TRANSCRIPT_FILE, transcript.to_jsonl().into_bytes())];
    match serde_json::to_vec_pretty(record) {
        Ok(usage) => artifacts.push((USAGE_FILE, usage)),
        Err(error) => tracing::warn!(%error, "the usage record could not be serialized"),
    }
    for (name, contents) in artifacts {
        match write_artifact(dir, name, &contents) {
            Ok(path) => tracing::info!(path = %path.display(), "audit artifact written"),
            Err(error) => tracing::warn!(%error, "the audit trail is incomplete"),
        }
    }
}

/// A project directory whose artifact `file` is a link to a file outside it: what an earlier
/// step of the job could plant to make an artifact writer overwrite something else.
#[cfg(test)]
pub(crate) struct PlantedLink {
    _dir: tempfile::TempDir,
    /// The project directory, holding the link.
    pub project: std::path::PathBuf,
    outside: std::path::PathBuf,
}

#[cfg(test)]
impl PlantedLink {
    pub(crate) fn new(file: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "keep me").unwrap();
        let project = dir.path().join("project");
        std::fs::create_dir(&project).unwrap();
        std::os::unix::fs::symlink(&outside, project.join(file)).unwrap();
        Self {
            _dir: dir,
            project,
            outside,
        }
    }

    /// The file the link pointed at still holds what it held.
    pub(crate) fn assert_not_followed(&self) {
        assert_eq!(std::fs::read_to_string(&self.outside).unwrap(), "keep me");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_link_is_replaced_not_followed() {
        let planted = PlantedLink::new(USAGE_FILE);
        let project = &planted.project;
        std::fs::create_dir(project.join(TRANSCRIPT_FILE)).unwrap();

        write_artifact(project, USAGE_FILE, b"{}").unwrap();
        write_artifact(project, TRANSCRIPT_FILE, b"").unwrap();

        planted.assert_not_followed();
        let meta = std::fs::symlink_metadata(project.join(USAGE_FILE)).unwrap();
        assert!(meta.is_file());
        assert_eq!(std::fs::read(project.join(USAGE_FILE)).unwrap(), b"{}");
        assert!(project.join(TRANSCRIPT_FILE).is_file());
    }
}
