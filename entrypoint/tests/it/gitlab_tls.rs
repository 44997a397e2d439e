//! Self-managed GitLab behind a private CA: the CA named by `CI_SERVER_TLS_CA_FILE` is trusted
//! in addition to the system store, and an unknown CA fails at once instead of being retried.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use entrypoint::gitlab::{ClientConfig, GitLab, GitLabError, RetryPolicy};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "glpat-tls-test-token";

struct TlsServer {
    api: String,
    ca_pem: String,
    connections: Arc<AtomicUsize>,
}

/// An HTTPS server on 127.0.0.1 whose certificate is signed by a freshly made CA; it answers
/// every request with a `GET /user` body.
async fn tls_server() -> TlsServer {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Private GitLab CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "gitlab.internal");
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![
            CertificateDer::from(leaf_cert.der().to_vec()),
            CertificateDer::from(ca_cert.der().to_vec()),
        ],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"id": 9, "username": "project_1_bot", "name": "Claude", "state": "active", "bot": true, "web_url": "https://gitlab.internal/project_1_bot"}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    TlsServer {
        api: format!("https://127.0.0.1:{port}/api/v4"),
        ca_pem: ca_cert.pem(),
        connections,
    }
}

fn config(vars: &[(&str, &str)]) -> ClientConfig {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut config = ClientConfig::from_env(&|name: &str| map.get(name).cloned()).unwrap();
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        total_budget: Duration::from_secs(10),
    };
    config
}

#[tokio::test]
async fn private_ca_named_by_ci_server_tls_ca_file_is_trusted() {
    let server = tls_server().await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &server.ca_pem).unwrap();
    let gitlab = GitLab::new(config(&[
        ("CI_API_V4_URL", &server.api),
        ("GITLAB_TOKEN", TOKEN),
        ("CI_SERVER_TLS_CA_FILE", ca_file.to_str().unwrap()),
    ]))
    .unwrap();
    let me = gitlab.current_user().await.unwrap();
    assert_eq!(me.username, "project_1_bot");
}

#[tokio::test]
async fn unknown_ca_fails_at_once_without_retries() {
    let server = tls_server().await;
    let gitlab = GitLab::new(config(&[
        ("CI_API_V4_URL", &server.api),
        ("GITLAB_TOKEN", TOKEN),
    ]))
    .unwrap();
    let error = gitlab.current_user().await.unwrap_err();
    assert!(
        matches!(error, GitLabError::Transport { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    let text = error.to_string();
    assert!(
        text.contains("UnknownIssuer") && text.contains("CI_SERVER_TLS_CA_FILE"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
}
