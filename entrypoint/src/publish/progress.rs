//! Keeps the placeholder alive while the assistant works: the last few tool calls, refreshed
//! at most every few seconds.
//!
//! The assistant runner calls back synchronously for each event; [`Progress::record`] only
//! stores the step, and a background task does the (throttled) `PUT`, so a slow or failing
//! GitLab never slows the run down. Only tool names and their one-line summaries are shown,
//! never the prompt or the context, and always through the [`Redactor`]. A failed refresh is
//! logged and forgotten: the result replaces the note anyway.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::placeholder::working_body;
use super::text::{defuse_markers, inline_code};
use super::{JobLink, Placeholder};
use crate::agent::events::AssistantEvent;
use crate::gitlab::GitLab;
use crate::quick_action::Inert;
use crate::redact::Redactor;

/// How often and how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgressSettings {
    /// Shortest time between two refreshes (GitLab counts note edits against the user's rate
    /// limits, and every edit re-renders the thread for everyone watching).
    pub interval: Duration,
    /// How many of the latest steps the note lists.
    pub steps: usize,
}

impl Default for ProgressSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            steps: 5,
        }
    }
}

/// One tool call, as shown in the note.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Step {
    tool: String,
    summary: String,
}

#[derive(Debug, Default)]
struct Steps {
    latest: VecDeque<Step>,
    total: usize,
    /// Bumped on every new step, so the refresher knows whether the note is stale.
    version: u64,
}

/// The running refresher of one placeholder. Call [`Progress::stop`] before the result replaces
/// the note, so no late refresh overwrites it.
#[derive(Debug)]
pub struct Progress {
    steps: Arc<Mutex<Steps>>,
    keep: usize,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Progress {
    /// Starts refreshing `placeholder` every `settings.interval` while new steps arrive. Needs a
    /// Tokio runtime.
    pub fn start(
        gitlab: GitLab,
        placeholder: Placeholder,
        job: Option<JobLink>,
        redactor: Arc<Redactor>,
        settings: ProgressSettings,
    ) -> Self {
        let steps = Arc::new(Mutex::new(Steps::default()));
        let (stop_tx, stop_rx) = oneshot::channel();
        let refresher = Refresher {
            gitlab,
            placeholder,
            job,
            redactor,
            steps: Arc::clone(&steps),
        };
        let task = tokio::spawn(refresher.run(settings.interval, stop_rx));
        Self {
            steps,
            keep: settings.steps.max(1),
            stop: Some(stop_tx),
            task,
        }
    }

    /// Notes one event; only tool calls are shown. Cheap and never blocks on the network, so it
    /// can be called from the runner's event callback.
    pub fn record(&self, event: &AssistantEvent) {
        let AssistantEvent::ToolCall { name, summary } = event else {
            return;
        };
        let mut steps = match self.steps.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        steps.latest.push_back(Step {
            tool: name.clone(),
            summary: summary.clone(),
        });
        while steps.latest.len() > self.keep {
            steps.latest.pop_front();
        }
        steps.total += 1;
        steps.version += 1;
    }

    /// Stops refreshing and waits for a refresh in flight to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            // The task may have ended already; then there is nothing to stop.
            let _ = stop.send(());
        }
        if let Err(error) = (&mut self.task).await {
            tracing::warn!(%error, "the placeholder refresher ended abnormally");
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Refresher {
    gitlab: GitLab,
    placeholder: Placeholder,
    job: Option<JobLink>,
    redactor: Arc<Redactor>,
    steps: Arc<Mutex<Steps>>,
}

impl Refresher {
    async fn run(self, interval: Duration, mut stop: oneshot::Receiver<()>) {
        let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut shown = 0;
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = ticks.tick() => {}
            }
            let Some((version, body)) = self.snapshot(shown) else {
                continue;
            };
            let p = &self.placeholder;
            match self
                .gitlab
                .update_note(&p.project, p.noteable, p.note, &Inert::new(&body))
                .await
            {
                Ok(_) => shown = version,
                Err(error) => {
                    tracing::warn!(%error, "could not refresh the placeholder; the run goes on");
                }
            }
        }
    }

    /// The body to post when steps arrived since version `shown`.
    fn snapshot(&self, shown: u64) -> Option<(u64, String)> {
        let steps = match self.steps.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if steps.version == shown {
            return None;
        }
        let details = steps_markdown(&steps);
        let body = working_body(
            self.placeholder.assistant,
            self.job.as_ref(),
            &self.redactor.redact(&defuse_markers(&details)),
        );
        Some((steps.version, body))
    }
}

fn steps_markdown(steps: &Steps) -> String {
    let mut out = format!("Latest steps ({} so far):\n", steps.total);
    for step in &steps.latest {
        let tool = step
            .tool
            .replace('\n', " ")
            .replace('\\', "\\\\")
            .replace('*', "\\*")
            .replace('_', "\\_");
        out.push_str(&format!("- **{tool}**"));
        if !step.summary.trim().is_empty() {
            out.push(' ');
            out.push_str(&inline_code(step.summary.trim()));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorder_can_be_shared_with_the_runners_callback() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Progress>();
    }

    #[test]
    fn the_list_keeps_the_latest_steps_in_code() {
        let mut steps = Steps::default();
        for i in 0..7 {
            steps.latest.push_back(Step {
                tool: "Bash".into(),
                summary: format!("cargo test {i}"),
            });
            if steps.latest.len() > 5 {
                steps.latest.pop_front();
            }
            steps.total += 1;
        }
        let md = steps_markdown(&steps);
        assert!(md.starts_with("Latest steps (7 so far):"), "{md}");
        assert!(!md.contains("cargo test 1`"));
        assert!(md.contains("- **Bash** `cargo test 6`"), "{md}");
        assert_eq!(md.lines().count(), 6);
        let mut odd = Steps::default();
        odd.latest.push_back(Step {
            tool: "mcp__gitlab__get_*".into(),
            summary: String::new(),
        });
        assert!(steps_markdown(&odd).contains("- **mcp\\_\\_gitlab\\_\\_get\\_\\***\n"));
    }
}
