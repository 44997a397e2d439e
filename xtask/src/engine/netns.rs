//! A tokio runtime whose one thread lives in another process's network namespace.
//!
//! The end-to-end scenario runs the doubles on a loopback that only the job's containers share
//! (the namespace of a holder container): sockets belong to the namespace of the thread that
//! creates them (`setns(2)`, `network_namespaces(7)`), so a double started on this runtime
//! listens on that namespace's 127.0.0.1 while the rest of xtask stays in the host's. The job
//! can then load the network sandbox's firewall rules with `NET_ADMIN` without touching the
//! host's.

use std::future::Future;
use std::os::fd::AsFd;

use anyhow::{Context, anyhow};
use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The runtime; dropping it stops the thread (and every task on it).
pub struct NetnsRuntime {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NetnsRuntime {
    /// Starts a thread in the network namespace of process `pid` (needs root, or
    /// `CAP_SYS_ADMIN` over that namespace) and a current-thread runtime on it.
    pub fn enter(pid: i64) -> anyhow::Result<Self> {
        let path = format!("/proc/{pid}/ns/net");
        let namespace =
            std::fs::File::open(&path).with_context(|| format!("cannot open {path}"))?;
        let (ready, started) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("netns-{pid}"))
            .spawn(move || {
                let runtime =
                    move_into_link_name_space(namespace.as_fd(), Some(LinkNameSpaceType::Network))
                        .map_err(|e| anyhow!("setns into {path} failed: {e}"))
                        .and_then(|()| {
                            tokio::runtime::Builder::new_current_thread()
                                .enable_all()
                                .build()
                                .context("cannot start a runtime in the namespace")
                        });
                match runtime {
                    Ok(runtime) => {
                        let (stop, stopped) = oneshot::channel::<()>();
                        if ready.send(Ok((runtime.handle().clone(), stop))).is_ok() {
                            runtime.block_on(async {
                                let _ = stopped.await;
                            });
                        }
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error));
                    }
                }
            })
            .context("cannot start the namespace's thread")?;
        let (handle, stop) = started
            .recv()
            .context("the namespace's thread ended before its runtime started")??;
        Ok(NetnsRuntime {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Runs `future` on the namespace's thread (so the sockets it opens are in that namespace)
    /// and returns its output; tasks it spawns keep running there.
    pub async fn run<F>(&self, future: F) -> anyhow::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle
            .spawn(future)
            .await
            .context("a task in the network namespace failed")
    }
}

impl Drop for NetnsRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::{TcpListener, TcpStream};

    /// A process in a fresh network namespace with its loopback up (as Docker gives a
    /// `--network none` container), killed when dropped.
    struct Holder(std::process::Child);

    impl Drop for Holder {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[tokio::test]
    async fn a_double_started_in_the_namespace_is_reachable_there_and_not_from_the_host() {
        let mut child = std::process::Command::new("unshare")
            .args([
                "--net",
                "sh",
                "-c",
                "ip link set lo up && echo ready && exec sleep 60",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("unshare (util-linux) runs; the tests run as root");
        let stdout = child.stdout.take().unwrap();
        let holder = Holder(child);
        // Entering before `unshare` has made the namespace would enter the host's.
        let mut ready = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut ready).unwrap();
        assert_eq!(ready.trim(), "ready");
        let netns = NetnsRuntime::enter(i64::from(holder.0.id())).unwrap();
        let listening = netns
            .run(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                tokio::spawn(async move { while listener.accept().await.is_ok() {} });
                addr
            })
            .await
            .unwrap();
        let inside = netns
            .run(async move { TcpStream::connect(listening).await.is_ok() })
            .await
            .unwrap();
        assert!(inside, "the listener answers inside its namespace");
        assert!(
            TcpStream::connect(listening).await.is_err(),
            "{listening} must not be reachable from the host's loopback"
        );
    }
}
