//! Runs a CLI with a deadline, so a CLI that retries or waits forever fails the test instead
//! of hanging it.

use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::task::JoinHandle;

/// How long to wait for the output pipes once the CLI is gone; a grandchild it left running
/// may hold them open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(3);

/// A process that exited by itself.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    /// The stdout lines that parse as JSON: the events of `claude --output-format stream-json`
    /// and `codex exec --json`.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("could not start the CLI: {0}")]
    Spawn(std::io::Error),
    #[error("waiting for the CLI failed: {0}")]
    Wait(std::io::Error),
    #[error(
        "the CLI ran longer than {limit:?} and was killed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    )]
    TimedOut {
        limit: Duration,
        stdout: String,
        stderr: String,
    },
}

/// Runs `command` (stdout and stderr captured, stdin closed) and kills it after `limit`.
pub async fn run_bounded(command: &mut Command, limit: Duration) -> Result<Finished, RunError> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(RunError::Spawn)?;
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    match tokio::time::timeout(limit, child.wait()).await {
        Ok(status) => {
            let status = status.map_err(RunError::Wait)?;
            Ok(Finished {
                status,
                stdout: drain(stdout).await,
                stderr: drain(stderr).await,
                elapsed: started.elapsed(),
            })
        }
        Err(_) => {
            // The child may have exited between the timeout and here; either way it is gone.
            let _ = child.kill().await;
            Err(RunError::TimedOut {
                limit,
                stdout: drain(stdout).await,
                stderr: drain(stderr).await,
            })
        }
    }
}

fn collect(pipe: Option<impl AsyncRead + Unpin + Send + 'static>) -> JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut buffer = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error ends the capture; what was read so far is still reported.
            let _ = pipe.read_to_end(&mut buffer).await;
        }
        buffer
    })
}

async fn drain(task: JoinHandle<Vec<u8>>) -> String {
    let bytes = match tokio::time::timeout(DRAIN_AFTER_EXIT, task).await {
        Ok(joined) => joined.unwrap_or_default(),
        Err(_) => b"<output pipe still held open by a leftover process>".to_vec(),
    };
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_process_past_its_limit_is_killed_with_its_output_so_far() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo started; exec sleep 30"]);

        let started = Instant::now();
        let error = run_bounded(&mut command, Duration::from_millis(300))
            .await
            .unwrap_err();

        assert!(started.elapsed() < Duration::from_secs(10));
        match error {
            RunError::TimedOut { stdout, .. } => assert_eq!(stdout, "started\n"),
            other => panic!("expected a timeout, got {other}"),
        }
    }

    #[tokio::test]
    async fn a_finished_process_reports_status_output_and_json_lines() {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            r#"echo '{"type":"a"}'; echo plain; echo oops >&2; exit 3"#,
        ]);

        let finished = run_bounded(&mut command, Duration::from_secs(10))
            .await
            .unwrap();

        assert_eq!(finished.status.code(), Some(3));
        assert_eq!(finished.stderr, "oops\n");
        assert_eq!(
            finished.json_lines(),
            vec![serde_json::json!({"type": "a"})]
        );
    }
}
