//! What only Codex has: how its CLI is invoked ([`invocation`]) and how its `exec --json`
//! output is read ([`stream`]).

mod invocation;
pub(crate) mod stream;

pub(crate) use invocation::*;
