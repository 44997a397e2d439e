//! What only Claude Code has: how its CLI is invoked ([`invocation`]) and how its
//! `stream-json` output is read ([`stream`]).

mod invocation;
pub(crate) mod stream;

pub(crate) use invocation::*;
