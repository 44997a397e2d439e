//! Progress for the long steps (compiling, downloading artifacts, building and exporting image
//! layers, testing images), so a person never watches more than [`QUIET_LIMIT`] of silence.
//!
//! With a terminal on stderr an indicatif spinner or bar shows what runs and for how long; in CI
//! (no terminal, where a redrawn line would be noise in the job log) a plain line is printed
//! whenever a step has been quiet for [`QUIET_LIMIT`]. Steps whose child process owns the
//! terminal (cargo draws its own progress bar there) use [`Step::plain`], which only prints the
//! plain lines, and only without a terminal.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::mb;

/// The longest a step may stay silent before a line says it is still running.
pub const QUIET_LIMIT: Duration = Duration::from_secs(10);

/// How often the plain ticker looks at the clock.
const TICK: Duration = Duration::from_millis(500);

/// Whether stderr is a terminal (progress bars) or a log (plain lines).
pub fn on_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// What the plain ticker needs: the step's name, when it started, when it last printed.
struct Shared {
    what: Mutex<String>,
    started: Instant,
    /// Milliseconds since `started` of the last line printed.
    last_output_ms: AtomicU64,
    /// Bytes done and expected, for byte steps (`total` 0 = unknown).
    done: AtomicU64,
    total: AtomicU64,
    bytes: bool,
    stop: AtomicBool,
}

impl Shared {
    fn mark_output(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.last_output_ms.store(ms, Ordering::Relaxed);
    }

    fn what(&self) -> String {
        self.what.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// The line printed after a quiet spell.
    fn still_running(&self) -> String {
        let elapsed = self.started.elapsed().as_secs();
        let what = self.what();
        if !self.bytes {
            return format!("… {what}: still running ({elapsed} s)");
        }
        let done = self.done.load(Ordering::Relaxed);
        match self.total.load(Ordering::Relaxed) {
            0 => format!("… {what}: {} ({elapsed} s)", mb(done)),
            total => format!(
                "… {what}: {} of {} ({}%, {elapsed} s)",
                mb(done),
                mb(total),
                done * 100 / total.max(1)
            ),
        }
    }
}

/// A long step in progress; it ends (and its spinner is cleared) when dropped.
pub struct Step {
    shared: Arc<Shared>,
    bar: Option<ProgressBar>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Step {
    /// A step without measurable progress: a spinner on a terminal, plain lines otherwise.
    pub fn spinner(what: &str) -> Step {
        Self::start(what, false, true, None)
    }

    /// A step whose child process writes to the terminal itself: plain lines, off a terminal
    /// only.
    pub fn plain(what: &str) -> Step {
        Self::start(what, false, false, None)
    }

    /// A transfer of `total` bytes (when known): a bar on a terminal, plain lines otherwise.
    pub fn bytes(what: &str, total: Option<u64>) -> Step {
        Self::start(what, true, true, total)
    }

    fn start(what: &str, bytes: bool, draw: bool, total: Option<u64>) -> Step {
        let terminal = on_terminal();
        let shared = Arc::new(Shared {
            what: Mutex::new(what.to_owned()),
            started: Instant::now(),
            last_output_ms: AtomicU64::new(0),
            done: AtomicU64::new(0),
            total: AtomicU64::new(total.unwrap_or(0)),
            bytes,
            stop: AtomicBool::new(false),
        });
        let bar = (draw && terminal).then(|| {
            let bar = match total {
                Some(total) if bytes => {
                    let bar =
                        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                    if let Ok(style) = ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ({elapsed})",
                    ) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar
                }
                _ => {
                    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                        bar.set_style(style);
                    }
                    bar
                }
            };
            bar.set_message(what.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let ticker = (!terminal).then(|| {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || plain_ticker(&shared))
        });
        Step {
            shared,
            bar,
            ticker,
        }
    }

    /// Renames what is running (e.g. the Dockerfile step being built).
    pub fn set_what(&self, what: &str) {
        if let Ok(mut current) = self.shared.what.lock() {
            *current = what.to_owned();
        }
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_owned());
        }
    }

    /// Prints a line above the spinner (a plain line in a log).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
        self.shared.mark_output();
    }

    /// Adds `n` bytes to a transfer.
    pub fn advance(&self, n: u64) {
        self.shared.done.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

/// Off a terminal: one line whenever the step has been quiet for [`QUIET_LIMIT`].
fn plain_ticker(shared: &Shared) {
    while !shared.stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        let now = shared.started.elapsed().as_millis() as u64;
        let last = shared.last_output_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= QUIET_LIMIT.as_millis() as u64 {
            eprintln!("{}", shared.still_running());
            shared.mark_output();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_byte_step_says_how_far_it_got() {
        let step = Step::bytes("downloading claude-code", Some(4_000_000));
        step.advance(1_000_000);
        let line = step.shared.still_running();
        assert!(
            line.starts_with("… downloading claude-code: 1.0 MB of 4.0 MB (25%"),
            "{line}"
        );
        step.set_what("downloading codex");
        assert!(step.shared.still_running().contains("downloading codex"));
    }

    #[test]
    fn a_quiet_step_without_bytes_says_it_is_still_running() {
        let step = Step::plain("compiling the entrypoint");
        let line = step.shared.still_running();
        assert!(
            line.starts_with("… compiling the entrypoint: still running ("),
            "{line}"
        );
    }

    #[test]
    fn output_resets_the_quiet_clock() {
        let step = Step::plain("x");
        std::thread::sleep(Duration::from_millis(30));
        step.println("a line");
        let last = step.shared.last_output_ms.load(Ordering::Relaxed);
        assert!(last >= 30, "{last}");
    }
}
