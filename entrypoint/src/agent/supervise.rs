//! Follows one started CLI: its output read as events, its stderr's end kept, a hard deadline,
//! cancellation on `SIGTERM`, and the outcome the events and the exit status tell.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::agent::Assistant;
use crate::agent::events::{AssistantEvent, Limit, Usage};
use crate::agent::invocation::Invocation;
use crate::agent::run::{Outcome, RunError, RunSpec};
use crate::budget::Meter;
use crate::sandbox::Enclosure;

/// After the CLI exits, output still in the pipe is read for at most this long (a background
/// process it started may hold the pipe open).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// How much of the end of stderr is kept for the failure message, in bytes.
const STDERR_TAIL_BYTES: usize = 4 * 1024;

/// Starts the CLI as the sandbox uid in its own process group and follows it until it exits,
/// `deadline`, or `SIGTERM`.
///
/// `SIGTERM` is what a cancelled job's process gets before `SIGKILL` at the end of the grace
/// period. From the moment it is listened for, here, it no longer ends the entrypoint by itself
/// (the handler stays for the process's life): it ends the run, and the caller then kills every
/// process of the sandbox uid ([`Enclosure::finish`]), which a process-group kill alone misses
/// (a tool in its own session keeps running).
pub(super) async fn supervise(
    spec: &RunSpec,
    enclosure: &Enclosure,
    invocation: Invocation,
    deadline: Instant,
    meter: Option<&Meter>,
    on_event: &mut (dyn FnMut(&AssistantEvent) + Send),
) -> Result<Outcome, RunError> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(RunError::Signal)?;
    let mut command = Command::new(&invocation.program);
    enclosure.confine(&mut command);
    let mut child = command
        .args(&invocation.args)
        .env_clear()
        .envs(invocation.env.vars())
        .current_dir(&spec.workspace)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| RunError::Spawn {
            program: invocation.program.clone(),
            source,
        })?;
    let group = child
        .id()
        .and_then(|id| rustix::process::Pid::from_raw(id.try_into().ok()?));
    tracing::debug!(program = %invocation.program.display(), pid = ?group, "assistant started");

    if let Some(mut stdin) = child.stdin.take() {
        let prompt = invocation.stdin;
        tokio::spawn(async move {
            if let Err(error) = stdin.write_all(prompt.as_bytes()).await {
                tracing::debug!(%error, "the assistant did not read the whole prompt");
            }
        });
    }
    let stderr = tokio::spawn(tail(child.stderr.take()));
    let (lines_tx, mut lines) = mpsc::channel::<String>(256);
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(read_lines(stdout, lines_tx));
    }

    let mut parser = super::event_parser(spec.assistant, Some(&spec.workspace));
    let mut last = Last::default();
    let mut handle = |line: &str, last: &mut Last| {
        for event in parser.parse_line(line) {
            on_event(&event);
            last.record(event);
        }
    };

    let waited = tokio::time::timeout_at(deadline, async {
        let mut open = true;
        loop {
            tokio::select! {
                line = lines.recv(), if open => match line {
                    Some(line) => handle(&line, &mut last),
                    None => open = false,
                },
                status = child.wait() => break Some(status),
                _ = terminate.recv() => break None,
            }
        }
    })
    .await;

    let status = match waited {
        Ok(Some(status)) => status.map_err(RunError::Wait)?,
        Ok(None) => {
            kill_group(group, &mut child).await;
            return Err(RunError::Cancelled);
        }
        Err(_) => {
            kill_group(group, &mut child).await;
            tracing::warn!(timeout = ?spec.timeout, "the assistant ran past its timeout and was killed");
            return Ok(Outcome::TimedOut {
                after: spec.timeout,
            });
        }
    };
    let drain_until = Instant::now() + DRAIN_AFTER_EXIT;
    while let Ok(Some(line)) = tokio::time::timeout_at(drain_until, lines.recv()).await {
        handle(&line, &mut last);
    }
    // Whatever the CLI left running (a server a tool started) ends with it.
    kill_group(group, &mut child).await;
    let stderr_tail = stderr.await.unwrap_or_default();
    if let Some(meter) = meter {
        last.metered(meter);
    }
    Ok(last.outcome(spec.assistant, status, &stderr_tail))
}

async fn kill_group(group: Option<rustix::process::Pid>, child: &mut Child) {
    if let Some(group) = group
        && let Err(error) =
            rustix::process::kill_process_group(group, rustix::process::Signal::KILL)
        && error != rustix::io::Errno::SRCH
    {
        tracing::warn!(%error, "could not kill the assistant's process group");
    }
    // Kills the CLI itself if the group kill was not possible, and reaps it.
    let _ = child.start_kill();
    let _ = child.wait().await;
}

async fn read_lines(stdout: impl tokio::io::AsyncRead + Unpin, lines: mpsc::Sender<String>) {
    let mut reader = BufReader::new(stdout);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer).await {
            Ok(0) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buffer).into_owned();
                if lines.send(line).await.is_err() {
                    break;
                }
            }
            Err(error) => {
                tracing::debug!(%error, "reading the assistant's output failed");
                break;
            }
        }
    }
}

/// The last [`STDERR_TAIL_BYTES`] of stderr.
async fn tail(stderr: Option<impl tokio::io::AsyncRead + Unpin>) -> String {
    let Some(mut stderr) = stderr else {
        return String::new();
    };
    let mut kept: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(read) = stderr.read(&mut chunk).await {
        if read == 0 {
            break;
        }
        kept.extend_from_slice(&chunk[..read]);
        if kept.len() > 2 * STDERR_TAIL_BYTES {
            kept.drain(..kept.len() - STDERR_TAIL_BYTES);
        }
    }
    if kept.len() > STDERR_TAIL_BYTES {
        kept.drain(..kept.len() - STDERR_TAIL_BYTES);
    }
    String::from_utf8_lossy(&kept).trim().to_owned()
}

/// The end of the run as the events told it.
#[derive(Default)]
struct Last {
    finished: Option<(String, Option<Usage>, Option<f64>)>,
    failure: Option<String>,
    /// The limit the run stopped at, with the usage and cost known then.
    stopped: Option<(Limit, Option<Usage>, Option<f64>)>,
    /// The model's last words, the partial answer of a stopped run.
    message: Option<String>,
}

impl Last {
    fn record(&mut self, event: AssistantEvent) {
        match event {
            AssistantEvent::Finished {
                final_text,
                usage,
                cost_usd,
            } => self.finished = Some((final_text, usage, cost_usd)),
            AssistantEvent::Failed { message } => self.failure = Some(message),
            AssistantEvent::Stopped {
                limit,
                usage,
                cost_usd,
            } => self.stopped = Some((limit, usage, cost_usd)),
            AssistantEvent::Message { text } => self.message = Some(text),
            AssistantEvent::ToolCall { .. } | AssistantEvent::Structured { .. } => {}
        }
    }

    /// What the key proxy's meter counted: the cost Codex does not report, and the limit that
    /// refused a model call (Codex then reports the refusal as a failure; it is a stop).
    fn metered(&mut self, meter: &Meter) {
        let totals = meter.totals();
        if let Some((_, usage, cost)) = self.finished.as_mut() {
            cost.get_or_insert(totals.cost_usd);
            usage.get_or_insert(totals.usage);
        }
        if let Some(limit) = totals.stopped {
            self.stopped = Some((limit, Some(totals.usage), Some(totals.cost_usd)));
        }
    }

    fn outcome(self, assistant: Assistant, status: ExitStatus, stderr_tail: &str) -> Outcome {
        if let Some((limit, usage, cost_usd)) = self.stopped {
            return Outcome::LimitReached {
                limit,
                partial_text: self.message.unwrap_or_default(),
                usage,
                cost_usd,
            };
        }
        match (status.success(), self.finished, self.failure) {
            (true, Some((final_text, usage, cost_usd)), None) => Outcome::Succeeded {
                final_text,
                usage,
                cost_usd,
            },
            (_, _, Some(message)) => Outcome::Failed { message },
            (success, _, None) => {
                let what = if success {
                    format!(
                        "{} exited without reporting a result",
                        assistant.display_name()
                    )
                } else {
                    format!("{} exited with {status}", assistant.display_name())
                };
                let message = if stderr_tail.is_empty() {
                    what
                } else {
                    format!("{what}: {stderr_tail}")
                };
                Outcome::Failed { message }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    fn exit(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn the_outcome_prefers_the_clis_own_reason_over_stderr() {
        let finished = Last {
            finished: Some(("done".into(), None, None)),
            ..Last::default()
        };
        assert_eq!(
            finished.outcome(Assistant::Claude, exit(0), ""),
            Outcome::Succeeded {
                final_text: "done".into(),
                usage: None,
                cost_usd: None
            }
        );
        let failed = Last {
            failure: Some("API Error: 500".into()),
            ..Last::default()
        };
        assert_eq!(
            failed.outcome(Assistant::Codex, exit(1), "noise"),
            Outcome::Failed {
                message: "API Error: 500".into()
            }
        );
        let silent = Last::default();
        assert_eq!(
            silent.outcome(Assistant::Codex, exit(2), "error: unexpected argument"),
            Outcome::Failed {
                message: "Codex exited with exit status: 2: error: unexpected argument".into()
            }
        );
        assert_eq!(
            Last::default().outcome(Assistant::Claude, exit(0), ""),
            Outcome::Failed {
                message: "Claude exited without reporting a result".into()
            }
        );
    }

    #[tokio::test]
    async fn stderr_keeps_only_its_end() {
        let text = format!("{}END", "x".repeat(3 * STDERR_TAIL_BYTES));
        let kept = tail(Some(text.as_bytes())).await;
        assert_eq!(kept.len(), STDERR_TAIL_BYTES);
        assert!(kept.ends_with("END"));
    }
}
