//! Connection attempts made by a probe process running as the sandbox uid
//! (`entrypoint sandbox probe TARGET…`), and their expected results: the evidence that the fence
//! holds before the assistant starts.

use std::fmt;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A refused connection answers at once (the rules reset it); this only bounds a silent drop.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// One thing a probe tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Open a TCP connection.
    Tcp(SocketAddr),
    /// Open a TCP connection, send `GET /` and read an HTTP status line.
    Http(SocketAddr),
    /// Send a DNS query over UDP and wait for any answer.
    Udp(SocketAddr),
    /// Become root again with `setresuid(0, 0, 0)`.
    Root,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(addr) => write!(f, "tcp:{addr}"),
            Self::Http(addr) => write!(f, "http:{addr}"),
            Self::Udp(addr) => write!(f, "udp:{addr}"),
            Self::Root => f.write_str("root"),
        }
    }
}

/// A probe target that is not `tcp:ADDR:PORT`, `http:ADDR:PORT`, `udp:ADDR:PORT` or `root`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a probe target: use tcp:ADDR:PORT, http:ADDR:PORT, udp:ADDR:PORT or root (IPv6 as [ADDR]:PORT)"
)]
pub struct BadTarget(String);

impl FromStr for Target {
    type Err = BadTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "root" {
            return Ok(Self::Root);
        }
        let bad = || BadTarget(s.to_owned());
        let (kind, addr) = s.split_once(':').ok_or_else(bad)?;
        let addr: SocketAddr = addr.parse().map_err(|_| bad())?;
        match kind {
            "tcp" => Ok(Self::Tcp(addr)),
            "http" => Ok(Self::Http(addr)),
            "udp" => Ok(Self::Udp(addr)),
            _ => Err(bad()),
        }
    }
}

/// What a probe saw for one target: one JSON line on its stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub target: String,
    pub reached: bool,
    pub detail: String,
}

/// Tries `target` from this process.
pub fn attempt(target: Target) -> Observation {
    let (reached, detail) = match target {
        Target::Tcp(addr) => match TcpStream::connect_timeout(&addr, ATTEMPT_TIMEOUT) {
            Ok(_) => (true, "connected".to_owned()),
            Err(error) => (false, error.to_string()),
        },
        Target::Http(addr) => match http_status_line(addr) {
            Ok(line) => (line.starts_with("HTTP/"), line),
            Err(error) => (false, error.to_string()),
        },
        Target::Udp(addr) => match dns_exchange(addr) {
            Ok(bytes) => (true, format!("{bytes}-byte answer")),
            Err(error) => (false, error.to_string()),
        },
        Target::Root => {
            let root = rustix::process::Uid::ROOT;
            match rustix::thread::set_thread_res_uid(root, root, root) {
                Ok(()) => (true, "setresuid(0) succeeded".to_owned()),
                Err(error) => (false, format!("setresuid(0): {error}")),
            }
        }
    };
    Observation {
        target: target.to_string(),
        reached,
        detail,
    }
}

fn http_status_line(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, ATTEMPT_TIMEOUT)?;
    stream.set_read_timeout(Some(ATTEMPT_TIMEOUT))?;
    stream.write_all(b"GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 64];
    let read = stream.read(&mut head)?;
    let text = String::from_utf8_lossy(&head[..read]);
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// A query for `example.com A`, any answer counts: the question is whether a packet got out.
fn dns_exchange(addr: SocketAddr) -> std::io::Result<usize> {
    const QUERY: &[u8] =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
    let local: SocketAddr = match addr {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local)?;
    socket.set_read_timeout(Some(ATTEMPT_TIMEOUT))?;
    socket.connect(addr)?;
    socket.send(QUERY)?;
    let mut answer = [0u8; 512];
    socket.recv(&mut answer)
}

/// Whether a check wants the target reached or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Reached,
    Refused,
}

/// One verification step: a target, what the fence should make of it, and why it matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub target: Target,
    pub expect: Expect,
    pub what: String,
}

impl Check {
    fn refused(target: Target, what: impl Into<String>) -> Self {
        Self {
            target,
            expect: Expect::Refused,
            what: what.into(),
        }
    }
}

/// Addresses on the internet that any host can reach when nothing stops it (Cloudflare's and
/// Google's public resolvers, on the HTTPS port).
pub(crate) const ARBITRARY: [SocketAddr; 2] = [
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1)), 443),
    SocketAddr::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888)),
        443,
    ),
];

/// What the checks are run against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    pub proxy_port: u16,
    /// The upstream API's addresses, as the entrypoint resolves them.
    pub upstream: Vec<SocketAddr>,
    /// Name servers from `/etc/resolv.conf`.
    pub resolvers: Vec<IpAddr>,
    /// Listeners the entrypoint holds open on other loopback ports (IPv4 and, when the kernel
    /// has it, IPv6), so a refusal there is the fence and not an empty port.
    pub decoys: Vec<SocketAddr>,
    pub arbitrary: Vec<SocketAddr>,
}

/// The checks, in the order they are reported.
pub fn checks(subjects: &Subjects) -> Vec<Check> {
    let mut checks = vec![Check {
        target: Target::Http(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            subjects.proxy_port,
        )),
        expect: Expect::Reached,
        what: "the key proxy answers".to_owned(),
    }];
    for addr in &subjects.upstream {
        checks.push(Check::refused(
            Target::Tcp(*addr),
            format!("a direct connection to the model API at {addr}"),
        ));
    }
    for addr in &subjects.arbitrary {
        checks.push(Check::refused(
            Target::Tcp(*addr),
            format!("an arbitrary address ({addr})"),
        ));
    }
    for resolver in &subjects.resolvers {
        let addr = SocketAddr::new(*resolver, 53);
        checks.push(Check::refused(
            Target::Udp(addr),
            format!("DNS over UDP to {addr}"),
        ));
        checks.push(Check::refused(
            Target::Tcp(addr),
            format!("DNS over TCP to {addr}"),
        ));
    }
    for decoy in &subjects.decoys {
        let what = match decoy {
            SocketAddr::V4(_) => format!("another loopback port ({decoy})"),
            SocketAddr::V6(_) => format!("IPv6 loopback ({decoy})"),
        };
        checks.push(Check::refused(Target::Tcp(*decoy), what));
    }
    checks.push(Check::refused(Target::Root, "becoming root again"));
    checks
}

/// Name servers listed in a `resolv.conf` text (`resolv.conf(5)`).
pub(crate) fn resolvers(resolv_conf: &str) -> Vec<IpAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next()?.split('%').next()?.parse().ok())
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_through_text() {
        for text in [
            "tcp:127.0.0.1:80",
            "http:[::1]:8080",
            "udp:10.0.0.53:53",
            "root",
        ] {
            assert_eq!(text.parse::<Target>().unwrap().to_string(), text);
        }
        for bad in ["tcp:127.0.0.1", "icmp:1.1.1.1:0", "tcp:host:80", ""] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }

    #[test]
    fn name_servers_come_from_resolv_conf() {
        let conf = "# comment\nsearch example\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:5\n";
        assert_eq!(
            resolvers(conf),
            [
                "10.0.0.2".parse::<IpAddr>().unwrap(),
                "fe80::1".parse().unwrap()
            ]
        );
    }

    #[test]
    fn only_the_proxy_is_expected_to_answer() {
        let subjects = Subjects {
            proxy_port: 4000,
            upstream: vec!["10.1.0.1:443".parse().unwrap()],
            resolvers: vec!["10.0.0.2".parse().unwrap()],
            decoys: vec![
                "127.0.0.1:4001".parse().unwrap(),
                "[::1]:4002".parse().unwrap(),
            ],
            arbitrary: ARBITRARY.to_vec(),
        };
        let checks = checks(&subjects);
        let listed: Vec<(String, Expect)> = checks
            .iter()
            .map(|c| (c.target.to_string(), c.expect))
            .collect();
        assert_eq!(
            listed,
            [
                ("http:127.0.0.1:4000".to_owned(), Expect::Reached),
                ("tcp:10.1.0.1:443".to_owned(), Expect::Refused),
                ("tcp:1.1.1.1:443".to_owned(), Expect::Refused),
                ("tcp:[2001:4860:4860::8888]:443".to_owned(), Expect::Refused),
                ("udp:10.0.0.2:53".to_owned(), Expect::Refused),
                ("tcp:10.0.0.2:53".to_owned(), Expect::Refused),
                ("tcp:127.0.0.1:4001".to_owned(), Expect::Refused),
                ("tcp:[::1]:4002".to_owned(), Expect::Refused),
                ("root".to_owned(), Expect::Refused),
            ]
        );
    }
}
