//! Running a test again in a network namespace of its own (`unshare --net`), so that the
//! firewall rules and addresses it sets up are never the host's.
//!
//! Such a test starts with [`inside`]: in the test runner's process it is `false`, and the test
//! runs itself again with [`run_again_inside`] and checks that it passed there; in that child
//! it is `true`, with loopback up, and the test's body runs. The entrypoint crate's test binary
//! includes this file too (`#[path]`), so both binaries enter a namespace one way.

use std::path::PathBuf;
use std::process::Command;

/// `true` in the re-run inside a fresh namespace, which `marker` names in the environment:
/// it asserts that this namespace is not the one the test was started in (a test must never
/// change the host's firewall) and brings loopback up.
pub(crate) fn inside(marker: &str) -> bool {
    let Some(parent) = std::env::var_os(marker) else {
        return false;
    };
    assert_ne!(
        namespace().as_os_str(),
        parent,
        "refusing to change the host's firewall"
    );
    let lo = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .output()
        .expect("running ip");
    assert!(lo.status.success(), "ip link set lo up: {lo:?}");
    true
}

/// The command that runs this binary's test `test` (`module::test_fn`, as the test runner
/// names it) again, alone, in a fresh network namespace, with `marker` set for [`inside`].
/// The caller adds what else the child needs in its environment.
pub(crate) fn run_again_inside(marker: &str, test: &str) -> Command {
    let mut command = Command::new("unshare");
    command
        .args(["--net", "--"])
        .arg(std::env::current_exe().expect("the test binary's path"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(marker, namespace());
    command
}

/// This process's network namespace, as `/proc` names it (`net:[4026531840]`).
fn namespace() -> PathBuf {
    std::fs::read_link("/proc/self/ns/net").expect("reading /proc/self/ns/net")
}
