//! `entrypoint mentions`: prints which assistants a note summons, as one JSON line.
//!
//! Lets CI rules and people check the parser on a real note without running a job:
//! `entrypoint mentions --text-file note.md` prints
//! `{"mentions":[{"assistant":"claude","instruction":"please fix this"}]}`.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use crate::agent::Handles;
use crate::config::HandleArgs;
use crate::mention::{Mention, find_mentions};

/// Arguments of `entrypoint mentions`.
#[derive(Debug, Clone, clap::Args)]
pub struct MentionsArgs {
    /// File holding the note's Markdown; standard input when absent.
    #[arg(long, value_name = "FILE")]
    pub text_file: Option<PathBuf>,
    /// The handles that summon the assistants.
    #[command(flatten)]
    pub handles: HandleArgs,
}

/// Runs the command: reads the note, prints the JSON line on standard output.
pub fn run(args: &MentionsArgs) -> anyhow::Result<()> {
    let handles = args.handles.handles()?;
    let text = match &args.text_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the note text from {}", path.display()))?,
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the note text from standard input")?;
            text
        }
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", report(&text, &handles)).context("cannot write to standard output")?;
    Ok(())
}

/// The JSON line printed for `text`.
pub fn report(text: &str, handles: &Handles) -> String {
    #[derive(Serialize)]
    struct Report {
        mentions: Vec<Mention>,
    }
    let report = Report {
        mentions: find_mentions(text, handles),
    };
    serde_json::to_string(&report).unwrap_or_else(|error| {
        unreachable!("a list of enum names and strings always serializes: {error}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_is_one_json_line() {
        let handles = Handles::default();
        assert_eq!(
            report("@claude please fix this\n", &handles),
            r#"{"mentions":[{"assistant":"claude","instruction":"please fix this"}]}"#
        );
        assert_eq!(report("no one here", &handles), r#"{"mentions":[]}"#);
    }
}
