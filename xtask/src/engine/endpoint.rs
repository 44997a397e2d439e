//! Where the Docker engine is and how to talk to it, read from the variables the Docker CLI reads
//! (https://docs.docker.com/reference/cli/docker/#environment-variables): `DOCKER_HOST`,
//! `DOCKER_TLS_VERIFY` (any non-empty value turns on TLS with verification) and
//! `DOCKER_CERT_PATH` (the directory holding `ca.pem`, `cert.pem`, `key.pem`; `~/.docker`
//! when unset).
//!
//! GitLab's Docker-in-Docker service listens on `tcp://docker:2376` with TLS and writes the client
//! certificates to `$DOCKER_TLS_CERTDIR/client` (https://docs.gitlab.com/ci/docker/using_docker_build/).
//! bollard's own `connect_with_defaults` turns TLS on whenever `DOCKER_TLS_VERIFY` exists, even
//! empty, and fails on a missing certificate with a bare I/O error; resolving the endpoint here
//! gives the Docker CLI's semantics and messages that name the variable to fix.

use std::path::{Path, PathBuf};

/// The certificate files of a TLS connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA that signed the engine's certificate.
    pub ca: PathBuf,
    /// This client's certificate.
    pub cert: PathBuf,
    /// This client's private key.
    pub key: PathBuf,
}

impl TlsFiles {
    /// `ca.pem`, `cert.pem` and `key.pem` in `dir`, as the Docker CLI names them.
    pub fn in_dir(dir: &Path) -> Self {
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }
}

/// How to reach the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A Unix socket (`unix:///var/run/docker.sock`).
    Unix(String),
    /// Plain TCP (`tcp://host:2375`).
    Tcp(String),
    /// TCP with mutual TLS (`tcp://docker:2376`).
    Tls {
        /// `tcp://host:port`.
        host: String,
        /// The certificates.
        files: TlsFiles,
    },
}

/// A Docker engine configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// A scheme bollard cannot use.
    #[error("DOCKER_HOST={0:?} is not unix://PATH or tcp://HOST:PORT")]
    Scheme(String),
    /// Docker's TLS port without TLS.
    #[error(
        "DOCKER_HOST={0:?} is Docker's TLS port, but DOCKER_TLS_VERIFY is not set: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the client certificates (GitLab's docker:dind with DOCKER_TLS_CERTDIR=/certs writes them to /certs/client)"
    )]
    TlsPortWithoutTls(String),
    /// A certificate file is missing.
    #[error(
        "DOCKER_TLS_VERIFY is set but {missing} does not exist: point DOCKER_CERT_PATH at the directory holding ca.pem, cert.pem and key.pem (GitLab's docker:dind: DOCKER_CERT_PATH=$DOCKER_TLS_CERTDIR/client, with DOCKER_TLS_CERTDIR set for the job and the service)"
    )]
    MissingCertificate {
        /// The file.
        missing: String,
    },
}

/// The engine's default socket.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

impl Endpoint {
    /// Resolves the endpoint from the variables (`None` = unset); `home` locates `~/.docker`.
    pub fn from_vars(
        host: Option<&str>,
        tls_verify: Option<&str>,
        cert_path: Option<&str>,
        home: Option<&Path>,
    ) -> Result<Self, EndpointError> {
        fn set(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let host = set(host).unwrap_or(DEFAULT_HOST).to_owned();
        if host.starts_with("unix://") {
            return Ok(Endpoint::Unix(host));
        }
        let Some(address) = host.strip_prefix("tcp://") else {
            return Err(EndpointError::Scheme(host));
        };
        if set(tls_verify).is_none() {
            if address.ends_with(":2376") {
                return Err(EndpointError::TlsPortWithoutTls(host));
            }
            return Ok(Endpoint::Tcp(host));
        }
        let dir = match (set(cert_path), home) {
            (Some(dir), _) => PathBuf::from(dir),
            (None, Some(home)) => home.join(".docker"),
            (None, None) => PathBuf::from(".docker"),
        };
        let files = TlsFiles::in_dir(&dir);
        for file in [&files.ca, &files.cert, &files.key] {
            if !file.is_file() {
                return Err(EndpointError::MissingCertificate {
                    missing: file.display().to_string(),
                });
            }
        }
        Ok(Endpoint::Tls { host, files })
    }

    /// Resolves the endpoint from this process's environment.
    pub fn from_env() -> Result<Self, EndpointError> {
        let var = |name: &str| std::env::var(name).ok();
        let home = var("HOME").map(PathBuf::from);
        Self::from_vars(
            var("DOCKER_HOST").as_deref(),
            var("DOCKER_TLS_VERIFY").as_deref(),
            var("DOCKER_CERT_PATH").as_deref(),
            home.as_deref(),
        )
    }

    /// A client for the endpoint whose requests time out after `timeout_secs`.
    pub fn connect(&self, timeout_secs: u64) -> Result<bollard::Docker, bollard::errors::Error> {
        let version = bollard::API_DEFAULT_VERSION;
        match self {
            Endpoint::Unix(host) => bollard::Docker::connect_with_unix(host, timeout_secs, version),
            Endpoint::Tcp(host) => bollard::Docker::connect_with_http(host, timeout_secs, version),
            Endpoint::Tls { host, files } => bollard::Docker::connect_with_ssl(
                host,
                &files.key,
                &files.cert,
                &files.ca,
                timeout_secs,
                version,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
        KeyUsagePurpose,
    };
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[test]
    fn unix_plain_tcp_and_tls_follow_the_docker_cli() {
        assert_eq!(
            Endpoint::from_vars(None, None, None, None).unwrap(),
            Endpoint::Unix(DEFAULT_HOST.to_owned())
        );
        assert_eq!(
            Endpoint::from_vars(Some("tcp://docker:2375"), Some(""), None, None).unwrap(),
            Endpoint::Tcp("tcp://docker:2375".to_owned())
        );
        let err = Endpoint::from_vars(Some("tcp://docker:2376"), None, None, None).unwrap_err();
        assert!(err.to_string().contains("DOCKER_TLS_VERIFY=1"), "{err}");
        let err = Endpoint::from_vars(Some("ssh://host"), None, None, None).unwrap_err();
        assert!(matches!(err, EndpointError::Scheme(_)));

        let dir = tempfile::tempdir().unwrap();
        let verified_tls = || {
            Endpoint::from_vars(
                Some("tcp://docker:2376"),
                Some("1"),
                dir.path().to_str(),
                None,
            )
        };
        let err = verified_tls().unwrap_err();
        assert!(err.to_string().contains("ca.pem"), "{err}");
        assert!(err.to_string().contains("DOCKER_CERT_PATH"), "{err}");
        for name in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let tls = verified_tls().unwrap();
        assert_eq!(
            tls,
            Endpoint::Tls {
                host: "tcp://docker:2376".to_owned(),
                files: TlsFiles::in_dir(dir.path()),
            }
        );
        // Without DOCKER_CERT_PATH the CLI looks in ~/.docker.
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".docker")).unwrap();
        for name in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(home.path().join(".docker").join(name), "x").unwrap();
        }
        let from_home = Endpoint::from_vars(
            Some("tcp://127.0.0.1:2376"),
            Some("1"),
            None,
            Some(home.path()),
        )
        .unwrap();
        assert!(
            matches!(from_home, Endpoint::Tls { files, .. } if files.ca.starts_with(home.path()))
        );
    }

    /// The PEM files a dind service would write: a CA, the engine's certificate for
    /// 127.0.0.1, and a client certificate, all signed by that CA.
    struct Pki {
        ca_pem: String,
        ca_der: Vec<u8>,
        server: (Vec<u8>, Vec<u8>),
        client_pem: (String, String),
    }

    fn pki() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let mut server_params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server_params.signed_by(&server_key, &issuer).unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params.signed_by(&client_key, &issuer).unwrap();
        Pki {
            ca_pem: ca.pem(),
            ca_der: ca.der().to_vec(),
            server: (server.der().to_vec(), server_key.serialize_der()),
            client_pem: (client.pem(), client_key.serialize_pem()),
        }
    }

    /// An engine double behind mutual TLS, as dind serves its API: it refuses clients without a
    /// certificate from its CA and answers `GET /version` (and `/_ping`) like Engine 20.10.
    async fn tls_engine(pki: &Pki) -> String {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(pki.ca_der.clone())).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from(pki.server.0.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server.1.clone())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = format!("tcp://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Some(head) = request_head(&mut tls).await else {
                        return;
                    };
                    let line = String::from_utf8_lossy(&head);
                    let path = line.split_whitespace().nth(1).unwrap_or("");
                    let body = if path.ends_with("/_ping") {
                        "OK".to_owned()
                    } else {
                        r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}"#.to_owned()
                    };
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\napi-version: 1.41\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        host
    }

    /// The request's line and headers, up to the blank line; `None` when the client hangs up
    /// first.
    async fn request_head(stream: &mut (impl AsyncReadExt + Unpin)) -> Option<Vec<u8>> {
        let mut head = Vec::new();
        let mut buf = [0u8; 2048];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        Some(head)
    }

    fn write_certs(dir: &Path, ca_pem: &str, client: &(String, String)) {
        std::fs::write(dir.join("ca.pem"), ca_pem).unwrap();
        std::fs::write(dir.join("cert.pem"), &client.0).unwrap();
        std::fs::write(dir.join("key.pem"), &client.1).unwrap();
    }

    #[tokio::test]
    async fn a_dind_style_engine_is_reached_over_mutual_tls_with_the_client_certificates() {
        let pki = pki();
        let host = tls_engine(&pki).await;
        let certs = tempfile::tempdir().unwrap();
        write_certs(certs.path(), &pki.ca_pem, &pki.client_pem);
        let endpoint =
            Endpoint::from_vars(Some(&host), Some("1"), certs.path().to_str(), None).unwrap();
        let docker = endpoint.connect(30).unwrap();
        let docker = docker.negotiate_version().await.unwrap();
        let version = docker.version().await.unwrap();
        assert_eq!(version.api_version.as_deref(), Some("1.41"));
        assert_eq!(version.version.as_deref(), Some("20.10.24"));

        // A client certificate from another CA is refused by the engine.
        let stranger = pki_stranger_client();
        let other = tempfile::tempdir().unwrap();
        write_certs(other.path(), &pki.ca_pem, &stranger);
        let refused = Endpoint::from_vars(Some(&host), Some("1"), other.path().to_str(), None)
            .unwrap()
            .connect(30)
            .unwrap();
        assert!(refused.version().await.is_err());
    }

    fn pki_stranger_client() -> (String, String) {
        pki().client_pem
    }
}
