//! Commands that are not ours, run as if the image had no ENTRYPOINT.
//!
//! The images' ENTRYPOINT is this binary, so `docker run IMAGE setup` works. GitLab Runner's
//! Docker executor, though, starts a job's container with the image's ENTRYPOINT and the shell it
//! wants as the command (`sh -c …`, `bash`), then feeds the job script to that shell; an
//! ENTRYPOINT that does not start the shell it is given breaks every job that does not set
//! `entrypoint: [""]` (<https://gitlab.com/gitlab-org/gitlab-runner/-/issues/38289>,
//! <https://docs.gitlab.com/ci/docker/using_docker_images/#override-the-entrypoint-of-an-image>).
//! GitLab Duo flows cannot override the entrypoint at all. So a first argument that is none of
//! our subcommands but names a program in the image is executed in our place, with the rest of
//! the arguments, the environment and the standard streams unchanged.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The program `first` names, when it is not one of `ours` (subcommand names) and not a flag,
/// and exists: a path with a `/`, or a name found in `path` (the `PATH` variable).
pub fn foreign_program(first: &OsStr, ours: &[String], path: Option<&OsStr>) -> Option<PathBuf> {
    let name = first.to_str().unwrap_or_default();
    if first.is_empty() || name.starts_with('-') || ours.iter().any(|ours| ours == name) {
        return None;
    }
    if first.as_encoded_bytes().contains(&b'/') {
        let program = Path::new(first);
        return is_executable(program).then(|| program.to_path_buf());
    }
    std::env::split_paths(path?)
        .map(|dir| dir.join(first))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Replaces this process with `program` and `args`; returns only when that fails.
pub fn exec(program: &Path, args: &[OsString]) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    std::process::Command::new(program).args(args).exec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Vec<String> {
        ["run", "setup", "help"].map(String::from).to_vec()
    }

    #[test]
    fn a_shell_is_found_on_the_path_and_by_its_path() {
        let path = std::env::var_os("PATH");
        let sh =
            foreign_program(OsStr::new("sh"), &ours(), path.as_deref()).expect("sh is on PATH");
        assert!(sh.ends_with("sh"));
        assert_eq!(
            foreign_program(OsStr::new("/bin/sh"), &ours(), None),
            Some(PathBuf::from("/bin/sh"))
        );
    }

    #[test]
    fn our_subcommands_flags_and_unknown_names_are_left_to_the_parser() {
        let path = std::env::var_os("PATH");
        for first in [
            "run",
            "setup",
            "--version",
            "-h",
            "no-such-program-here",
            "",
        ] {
            assert_eq!(
                foreign_program(OsStr::new(first), &ours(), path.as_deref()),
                None,
                "{first:?}"
            );
        }
        // A directory or a file that is not executable is no program.
        assert_eq!(foreign_program(OsStr::new("/tmp"), &ours(), None), None);
        let file = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(
            foreign_program(file.path().as_os_str(), &ours(), None),
            None
        );
    }
}
