//! What only Claude Code has: how its CLI is invoked ([`invocation`]) and how its
//! `stream-json` output is read ([`stream`]).

mod invocation;
pub(crate) mod stream;

pub(crate) use invocation::*;

use crate::agent::Agent;
use crate::agent::events::StreamParser;

/// Claude's [`Agent`]: the row of [`crate::agent::AGENTS`] for
/// [`crate::agent::Assistant::Claude`].
#[derive(Debug)]
pub(crate) struct Claude;

impl Agent for Claude {
    fn stream_parser(&self) -> Box<dyn StreamParser> {
        Box::new(stream::ClaudeStream)
    }
}
