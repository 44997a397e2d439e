//! What only Codex has: how its CLI is invoked ([`invocation`]) and how its `exec --json`
//! output is read ([`stream`]).

mod invocation;
pub(crate) mod stream;

pub(crate) use invocation::*;

use crate::agent::Agent;
use crate::agent::events::StreamParser;

/// Codex's [`Agent`]: the row of [`crate::agent::AGENTS`] for
/// [`crate::agent::Assistant::Codex`].
#[derive(Debug)]
pub(crate) struct Codex;

impl Agent for Codex {
    fn stream_parser(&self) -> Box<dyn StreamParser> {
        Box::new(stream::CodexState::default())
    }
}
