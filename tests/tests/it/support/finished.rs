//! What a CI-job story keeps of a finished `entrypoint` job: its output, how long it took and
//! the runner's checkout it ran in (where the job leaves its artifacts). The mention and the
//! automation stories each had their own copy.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

pub struct Finished {
    pub output: Output,
    pub elapsed: Duration,
    pub checkout: PathBuf,
}

impl Finished {
    /// The job log (what the entrypoint writes to stderr).
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// What the entrypoint printed to stdout (a scan's summary).
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn succeeded(&self) -> bool {
        self.output.status.success()
    }

    /// The job succeeded; the log is the failure message.
    #[track_caller]
    pub fn assert_succeeded(&self) {
        assert!(self.succeeded(), "{}", self.log());
    }
}
