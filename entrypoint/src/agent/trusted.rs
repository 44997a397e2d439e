//! The project files a CLI loads as configuration from its working directory. Each assistant
//! lists its own in its folder (`Agent::trusted_paths`); on a merge request the job
//! takes them from the target branch ([`crate::workspace::trusted`] says why and how).

/// How a [`TrustedPath`] matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// A file of this name at the repository root.
    RootFile,
    /// A file of this name in any directory.
    FileAnywhere,
    /// A directory of this name in any directory, with everything in it.
    DirectoryAnywhere,
}

/// One path a CLI loads as configuration from the project directory.
#[derive(Clone, Copy, Debug)]
pub struct TrustedPath {
    /// The file or directory name.
    pub name: &'static str,
    /// Where it matches.
    pub matches: Match,
    /// What the CLI does with it.
    pub reason: &'static str,
    /// The CLI documentation that says so.
    pub doc: &'static str,
}
