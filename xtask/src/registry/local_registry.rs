//! A real OCI registry on loopback for the publish tests: Debian's `docker-registry`
//! (distribution 2.x) with htpasswd authentication, its own config and storage in a temporary
//! directory, stopped when dropped.

use std::net::TcpListener;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::util::cmd;
use crate::util::prerequisites;

const REGISTRY_BIN: &str = "docker-registry";

/// A running test registry.
pub struct LocalRegistry {
    child: Child,
    _dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The one user in its htpasswd file.
    pub user: String,
    /// That user's password.
    pub password: String,
}

impl LocalRegistry {
    /// Installs `docker-registry` and `apache2-utils` when missing (root on Debian), then starts
    /// a registry on a free loopback port and waits until it answers.
    pub fn start() -> anyhow::Result<Self> {
        if !std::path::Path::new("/usr/bin/docker-registry").exists()
            || !cmd::available_at("htpasswd", &["-h"])
        {
            prerequisites::apt_install(&["docker-registry", "apache2-utils"])?;
        }
        let dir = tempfile::Builder::new()
            .prefix("gitlab-ai-registry-")
            .tempdir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let host = format!("127.0.0.1:{port}");
        let user = "publisher".to_owned();
        let password = format!("pw-{}", std::process::id());
        let htpasswd = cmd::read(dir.path(), "htpasswd", ["-Bbn", &user, &password])?;
        std::fs::write(dir.path().join("htpasswd"), format!("{htpasswd}\n"))?;
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {data}\nhttp:\n  addr: {host}\nauth:\n  htpasswd:\n    realm: gitlab-ai-test\n    path: {htpasswd}\n",
            data = dir.path().join("data").display(),
            htpasswd = dir.path().join("htpasswd").display(),
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config)?;
        let log = dir.path().join("registry.log");
        let child = cmd::spawn_background(
            REGISTRY_BIN,
            ["serve".as_ref(), config_path.as_os_str()],
            &log,
        )?;
        let mut registry = LocalRegistry {
            child,
            _dir: dir,
            host,
            user,
            password,
        };
        registry.wait_until_ready(&log)?;
        Ok(registry)
    }

    fn wait_until_ready(&mut self, log: &std::path::Path) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "docker-registry exited ({status}): {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            if std::net::TcpStream::connect(&self.host).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "docker-registry did not listen on {} within 30 s: {}",
            self.host,
            std::fs::read_to_string(log).unwrap_or_default()
        )
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
