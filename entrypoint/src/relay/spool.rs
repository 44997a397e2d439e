//! The spool directory (`spool_dir` / `AI_RELAY_SPOOL_DIR`): every delivery with a mention is
//! written here before the relay answers 202, and removed once every mention in it was handled. A relay that crashes or is killed finds them at its next start and answers them then;
//! the claim in GitLab keeps a mention that was already being answered from being answered twice.
//!
//! One file per delivery, `<nanoseconds since 1970>-<sequence>.json`, written to a temporary name,
//! synced and renamed, so a crash never leaves half a delivery under a real name. The files hold
//! the note text (never the `X-Gitlab-Token`): the directory is created private (0700).

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The spool cannot be used; each message names the directory and the setting.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The directory cannot be created or listed.
    #[error(
        "the spool directory {dir:?} (spool_dir / AI_RELAY_SPOOL_DIR) cannot be used: {source}; give the relay a writable directory on a persistent volume"
    )]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A delivery cannot be written.
    #[error("writing {path:?} in the spool directory failed: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What is kept of a delivery: the headers the relay reads (not the token) and the body.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// `X-Gitlab-Event`.
    pub event: Option<String>,
    /// `X-Gitlab-Event-UUID`.
    pub event_uuid: Option<String>,
    /// `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// The body as received.
    pub body: String,
}

/// The spool directory.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    sequence: AtomicU64,
}

/// One spooled delivery; dropping the last handle (every mention of the delivery handled)
/// removes its file.
#[derive(Debug)]
pub struct Entry {
    path: PathBuf,
}

impl Drop for Entry {
    fn drop(&mut self) {
        if let Err(error) = fs::remove_file(&self.path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::error!(path = %self.path.display(), %error, "a handled delivery could not be removed from the spool directory; it will be read again at the next start (the claim keeps it from being answered twice)");
        }
    }
}

impl Spool {
    /// Creates the directory (private) if needed.
    pub fn open(dir: &Path) -> Result<Self, SpoolError> {
        let error = |source| SpoolError::Dir {
            dir: dir.to_owned(),
            source,
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(error)?;
        Ok(Self {
            dir: dir.to_owned(),
            sequence: AtomicU64::new(0),
        })
    }

    /// The deliveries left by an earlier run, oldest first, with their sizes. Files that cannot
    /// be read as a delivery are logged and left in place for a person to look at.
    pub(crate) fn recover(&self) -> Result<Vec<(Record, usize, Entry)>, SpoolError> {
        let listing = fs::read_dir(&self.dir).map_err(|source| SpoolError::Dir {
            dir: self.dir.clone(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = listing
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.extension().is_some_and(|ext| ext == "json")
                    && !path
                        .file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        let mut records = Vec::with_capacity(paths.len());
        for path in paths {
            let read = fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    serde_json::from_slice::<Record>(&bytes)
                        .map(|record| (record, bytes.len()))
                        .map_err(|e| e.to_string())
                });
            match read {
                Ok((record, size)) => records.push((record, size, Entry { path })),
                Err(error) => {
                    tracing::error!(path = %path.display(), %error, "a file in the spool directory is not a delivery; left in place");
                }
            }
        }
        Ok(records)
    }

    /// Writes `record` durably; its file lives until the returned entry is dropped.
    pub fn write(&self, record: &Record) -> Result<Entry, SpoolError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let name = format!("{nanos:024}-{sequence:010}.json");
        let path = self.dir.join(&name);
        let temporary = self.dir.join(format!(".{name}.tmp"));
        let error = |source| SpoolError::Write {
            path: path.clone(),
            source,
        };
        let bytes = serde_json::to_vec(record).map_err(|e| error(std::io::Error::other(e)))?;
        let written = write_synced(&temporary, &bytes).and_then(|()| fs::rename(&temporary, &path));
        if let Err(source) = written {
            let _ = fs::remove_file(&temporary);
            return Err(error(source));
        }
        Ok(Entry { path })
    }
}

/// Writes a new private file and waits until it is on disk.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_delivery_is_recovered_until_its_entry_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(&dir.path().join("spool")).unwrap();
        let record = Record {
            event: Some("Note Hook".into()),
            event_uuid: Some("u-1".into()),
            idempotency_key: None,
            body: "{\"x\":\"é\"}".into(),
        };
        let first = spool.write(&record).unwrap();
        let second = spool.write(&record).unwrap();
        let recovered = spool.recover().unwrap();
        assert_eq!(recovered.len(), 2);
        assert_eq!(recovered[0].0, record);
        assert_eq!(recovered[0].2.path, first.path, "oldest first");
        drop(recovered);
        assert!(
            spool.recover().unwrap().is_empty(),
            "dropping removes the files"
        );
        drop((first, second));
        std::fs::write(dir.path().join("spool/broken.json"), "not json").unwrap();
        assert!(spool.recover().unwrap().is_empty());
        assert!(
            dir.path().join("spool/broken.json").exists(),
            "left for a person"
        );
    }
}
