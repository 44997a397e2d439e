//! The small file a run leaves for `entrypoint finalize`: which placeholders it posted and
//! whether each was replaced by a result.
//!
//! `after_script` runs in a separate shell after the main script, even when the job was
//! cancelled or timed out, so it cannot share memory with the run; this file is the hand-over.
//! It lives inside `.git` by default, where nothing the assistant does can commit it.
//! <https://docs.gitlab.com/ci/yaml/#after_script>

use crate::env::Env;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Placeholder;
use crate::gitlab::ids::NoteId;

/// The file name inside `$CI_PROJECT_DIR/.git`.
pub(crate) const STATE_FILE_NAME: &str = "ai-assistant-state.json";

/// What the file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// Every placeholder of the run, in posting order.
    pub placeholders: Vec<PlaceholderState>,
}

/// One placeholder and whether the run replaced it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceholderState {
    pub placeholder: Placeholder,
    /// A replacement posted anew (placeholder deleted) must keep the thread's visibility.
    pub internal: bool,
    /// The result (or an ending) replaced it; finalize never touches it again.
    pub finalized: bool,
}

/// The state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("could not read the run state {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the run state {} is not valid: {source}", .path.display())]
    Invalid {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("could not write the run state {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The state file on disk; every change is written at once, so a job killed a moment later
/// still leaves an accurate file.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    state: RunState,
}

impl StateFile {
    /// `AI_STATE_FILE`, else `$CI_PROJECT_DIR/.git/ai-assistant-state.json`; `None` when
    /// neither is set.
    pub fn path_from_env(vars: &dyn Env) -> Option<PathBuf> {
        if let Some(path) = vars.set(crate::env::AI_STATE_FILE.name()) {
            return Some(PathBuf::from(path.trim()));
        }
        vars.set("CI_PROJECT_DIR")
            .map(|dir| Path::new(dir.trim()).join(".git").join(STATE_FILE_NAME))
    }

    /// A fresh, empty state at `path` (an older run's file there is replaced on the first
    /// write: a retried job must not finalize its predecessor's notes).
    pub fn create(path: PathBuf) -> Self {
        Self {
            path,
            state: RunState::default(),
        }
    }

    /// The state at `path`, or `None` when the run never wrote one.
    pub fn load(path: &Path) -> Result<Option<Self>, StateError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let state = serde_json::from_str(&text).map_err(|source| StateError::Invalid {
            path: path.to_owned(),
            source,
        })?;
        Ok(Some(Self {
            path: path.to_owned(),
            state,
        }))
    }

    /// The recorded state.
    pub fn state(&self) -> &RunState {
        &self.state
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a placeholder just posted, not yet finalized.
    pub fn record_placeholder(
        &mut self,
        placeholder: &Placeholder,
        internal: bool,
    ) -> Result<(), StateError> {
        self.state
            .placeholders
            .retain(|p| p.placeholder.note != placeholder.note);
        self.state.placeholders.push(PlaceholderState {
            placeholder: placeholder.clone(),
            internal,
            finalized: false,
        });
        self.save()
    }

    /// Records that `note` was replaced by its result.
    pub fn mark_finalized(&mut self, note: NoteId) -> Result<(), StateError> {
        for p in &mut self.state.placeholders {
            if p.placeholder.note == note {
                p.finalized = true;
            }
        }
        self.save()
    }

    /// Writes the file through a temporary sibling and a rename, so a reader never sees half a
    /// file.
    fn save(&self) -> Result<(), StateError> {
        let write_error = |source| StateError::Write {
            path: self.path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| write_error(std::io::Error::other(e)))?;
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(write_error)?;
        std::io::Write::write_all(&mut temp, &json).map_err(write_error)?;
        temp.persist(&self.path).map_err(|e| write_error(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Assistant;
    use crate::gitlab::ids::{IssueIid, Noteable, ProjectRef};
    use crate::test_support::vars;

    pub(crate) fn placeholder(note: u64) -> Placeholder {
        Placeholder {
            assistant: Assistant::Claude,
            project: ProjectRef::Path("g/p".into()),
            noteable: Noteable::Issue(IssueIid(1)),
            note: NoteId(note),
            discussion: None,
        }
    }

    #[test]
    fn the_path_defaults_to_inside_git() {
        assert_eq!(
            StateFile::path_from_env(&vars(&[("CI_PROJECT_DIR", "/builds/g/p")])),
            Some(PathBuf::from("/builds/g/p/.git/ai-assistant-state.json"))
        );
        assert_eq!(
            StateFile::path_from_env(&vars(&[
                ("CI_PROJECT_DIR", "/builds/g/p"),
                ("AI_STATE_FILE", "/tmp/s.json")
            ])),
            Some(PathBuf::from("/tmp/s.json"))
        );
        assert_eq!(StateFile::path_from_env(&vars::<&str>(&[])), None);
    }

    #[test]
    fn every_change_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(StateFile::load(&path).unwrap().is_none());
        let mut file = StateFile::create(path.clone());
        file.record_placeholder(&placeholder(5), true).unwrap();
        let loaded = StateFile::load(&path).unwrap().unwrap();
        assert_eq!(loaded.state().placeholders.len(), 1);
        assert!(!loaded.state().placeholders[0].finalized);
        file.mark_finalized(NoteId(5)).unwrap();
        let loaded = StateFile::load(&path).unwrap().unwrap();
        assert!(loaded.state().placeholders[0].finalized);
        assert!(loaded.state().placeholders[0].internal);
        std::fs::write(&path, "{").unwrap();
        assert!(matches!(
            StateFile::load(&path),
            Err(StateError::Invalid { .. })
        ));
    }
}
