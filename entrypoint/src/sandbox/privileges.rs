//! Turning a child into the sandbox uid before it executes anything: no supplementary groups,
//! the sandbox uid as its gid too, every uid and gid set to it (so no way back), an empty
//! capability bounding set, and `PR_SET_NO_NEW_PRIVS` so neither a setuid binary (`sudo`) nor
//! file capabilities can raise it again (`prctl(2)`, `capabilities(7)`).

use std::os::unix::process::CommandExt;

use rustix::process::{Gid, Uid};
use rustix::thread::{self, CapabilitySet, CapabilitySets};

use super::SandboxUid;

/// The highest capability number any kernel we support knows; dropping unknown ones just fails
/// with `EINVAL`, which is ignored.
const LAST_CAPABILITY: u32 = 63;

/// Makes `command` run as `uid` without privileges.
pub fn confine(command: &mut std::process::Command, uid: SandboxUid) {
    // SAFETY: the closure runs between fork and exec and only makes raw system calls (no
    // allocation, no locks), which is what `pre_exec` requires.
    unsafe {
        command.pre_exec(move || drop_privileges(uid).map_err(std::io::Error::from));
    }
}

/// The same for a tokio command.
pub(crate) fn confine_tokio(command: &mut tokio::process::Command, uid: SandboxUid) {
    // SAFETY: as in `confine`.
    unsafe {
        command.pre_exec(move || drop_privileges(uid).map_err(std::io::Error::from));
    }
}

fn drop_privileges(uid: SandboxUid) -> rustix::io::Result<()> {
    for number in 0..=LAST_CAPABILITY {
        match thread::remove_capability_from_bounding_set(CapabilitySet::from_bits_retain(
            1 << number,
        )) {
            // `EPERM` without `CAP_SETPCAP` (a container runtime may drop it): the bounding set
            // is only a ceiling for later `execve`s, which `no_new_privs` already keeps from
            // granting anything, and every other set is emptied below.
            Ok(()) | Err(rustix::io::Errno::INVAL | rustix::io::Errno::PERM) => {}
            Err(error) => return Err(error),
        }
    }
    let gid = Gid::from_raw(uid.get());
    thread::set_thread_groups(&[])?;
    thread::set_thread_res_gid(gid, gid, gid)?;
    // With every uid non-zero the kernel clears the permitted and effective sets; the explicit
    // `capset` below also empties the inheritable one.
    let user = Uid::from_raw(uid.get());
    thread::set_thread_res_uid(user, user, user)?;
    thread::set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::empty(),
            permitted: CapabilitySet::empty(),
            inheritable: CapabilitySet::empty(),
        },
    )?;
    thread::set_no_new_privs(true)?;
    Ok(())
}

/// Sends `SIGKILL` to every process this process may signal except itself (`kill(-1, …)`, see
/// `kill(2)`). Run as the sandbox uid, that is every process the assistant left behind, even
/// ones that left its process group, which would otherwise keep running unfenced once the rules
/// are removed.
///
/// `SIGKILL` is delivered asynchronously, and a process forking while the signal sweeps the
/// process list can leave a child the sweep did not see. So the sweep repeats until `/proc`
/// shows no live (not zombie) process of this uid but this one, for at most
/// [`REAP_PATIENCE`]: when this returns, nothing the assistant started still runs.
pub fn kill_all_of_this_uid() -> rustix::io::Result<()> {
    let me = std::process::id();
    let uid = rustix::process::getuid().as_raw();
    let deadline = std::time::Instant::now() + REAP_PATIENCE;
    loop {
        match rustix::process::kill_process_group(
            rustix::process::Pid::from_raw(1)
                .unwrap_or_else(|| unreachable!("1 is a valid process id")),
            rustix::process::Signal::KILL,
        ) {
            Ok(()) => {}
            Err(rustix::io::Errno::SRCH) => return Ok(()),
            Err(error) => return Err(error),
        }
        if !any_live_process_of(uid, me) || std::time::Instant::now() >= deadline {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// How long [`kill_all_of_this_uid`] waits for the processes it killed to be gone.
const REAP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether `/proc` lists a process of `uid`, other than `me`, that is neither a zombie nor
/// dead (`proc(5)`: `State:` `Z` and `X`). Unreadable entries (a process that just exited)
/// count as gone.
fn any_live_process_of(uid: u32, me: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|entry| {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            return false;
        };
        if pid == me {
            return false;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            return false;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_default()
                .to_owned()
        };
        let owner = field("Uid:")
            .split_whitespace()
            .next()
            .and_then(|u| u.parse::<u32>().ok());
        let state = field("State:");
        owner == Some(uid) && !state.starts_with('Z') && !state.starts_with('X')
    })
}

/// Makes this process non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`), for every command that holds
/// a secret (`GITLAB_TOKEN`, `CI_JOB_TOKEN`, the model key) in its environment or memory.
///
/// What it protects: the kernel then treats the process like a set-user-ID one. Its
/// `/proc/<pid>/environ`, `mem`, `maps`, `fd/` and `cwd` become owned by root and readable only
/// with `CAP_SYS_PTRACE`, and `ptrace` attach is refused, even to a process of the same uid
/// (`prctl(2)` `PR_SET_DUMPABLE`, `proc(5)`, `ptrace(2)` "ptrace access mode checking"); nor
/// does a crash write a core file holding the secrets. So a process that runs as the job's uid
/// (a tool the job's `script:` started, or the assistant if a runner ran it as the same user)
/// cannot lift the secrets from the entrypoint.
///
/// What it does not protect: the flag is reset by `execve`, so children (git, the CLI) are
/// dumpable again, and it does nothing for other processes of the uid that hold the same
/// values, above all the runner's job shell, whose initial environment carries every CI/CD
/// variable. Root and `CAP_SYS_PTRACE` holders still read everything. `/proc/<pid>/cmdline`
/// stays world-readable. Those are why the assistant also runs as a uid of its own
/// ([`confine`]); this flag is the second wall.
pub fn make_undumpable() -> rustix::io::Result<()> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
}
