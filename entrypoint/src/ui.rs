//! How setup and doctor talk to the person running them: lines out, a yes/no confirmation,
//! and a secret read without echo. A trait so tests can script the conversation.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};

use crate::secret::Secret;

/// The conversation with the person running setup.
pub trait Ui {
    /// Prints one line (never a secret).
    fn say(&mut self, line: &str);
    /// Asks a yes/no question; `Ok(false)` is a "no".
    fn confirm(&mut self, question: &str) -> anyhow::Result<bool>;
    /// Reads a secret without echoing it.
    fn read_secret(&mut self, prompt: &str) -> anyhow::Result<Secret>;
}

/// The process's terminal: stdout for lines, stdin for answers, prompts on stderr.
#[derive(Debug, Default)]
pub struct Terminal;

impl Ui for Terminal {
    fn say(&mut self, line: &str) {
        println!("{line}");
    }

    fn confirm(&mut self, question: &str) -> anyhow::Result<bool> {
        if !std::io::stdin().is_terminal() {
            bail!(
                "refusing to change the project without confirmation: stdin is not a terminal; run it in a terminal, or pass --yes to apply the plan above"
            );
        }
        eprint!("{question} [y/N] ");
        std::io::stderr().flush().ok();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .context("reading the answer")?;
        Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
    }

    fn read_secret(&mut self, prompt: &str) -> anyhow::Result<Secret> {
        let stdin = std::io::stdin();
        let mut line = String::new();
        if stdin.is_terminal() {
            eprint!("{prompt}: ");
            std::io::stderr().flush().ok();
            let _echo_off = EchoOff::new(&stdin)?;
            stdin
                .lock()
                .read_line(&mut line)
                .context("reading the secret")?;
            eprintln!();
        } else {
            stdin
                .lock()
                .read_line(&mut line)
                .context("reading the secret from stdin")?;
        }
        Ok(Secret::new(line))
    }
}

/// Terminal echo switched off until dropped.
struct EchoOff<'a> {
    stdin: &'a std::io::Stdin,
    saved: rustix::termios::Termios,
}

impl<'a> EchoOff<'a> {
    fn new(stdin: &'a std::io::Stdin) -> anyhow::Result<Self> {
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let saved = tcgetattr(stdin).context("reading the terminal settings")?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        quiet.local_modes.insert(LocalModes::ECHONL);
        tcsetattr(stdin, OptionalActions::Now, &quiet).context("switching terminal echo off")?;
        Ok(Self { stdin, saved })
    }
}

impl Drop for EchoOff<'_> {
    fn drop(&mut self) {
        // Restoring can only fail if the terminal went away, and then there is nothing to restore.
        let _ = rustix::termios::tcsetattr(
            self.stdin,
            rustix::termios::OptionalActions::Now,
            &self.saved,
        );
    }
}
