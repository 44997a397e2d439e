//! One CLI process as data (program, arguments, environment, stdin), so what each assistant is
//! given can be checked without running it.

use std::path::PathBuf;

use crate::agent::env::ChildEnv;

/// Stands in for the API key in the CLI's environment. The key proxy drops it and sends the
/// real key, so it is harmless for the model to read.
pub(crate) const DUMMY_KEY: &str = "gitlab-ai-dummy-key-the-proxy-adds-the-real-one";

/// What to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: ChildEnv,
    /// Written to the CLI's stdin, which is then closed: prompts can exceed the kernel's
    /// 128 KiB limit for one argument.
    pub stdin: String,
}
