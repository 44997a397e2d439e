//! Doubles of the two services keyless signing talks to: an OIDC issuer standing in for GitLab's
//! `id_tokens` (https://docs.gitlab.com/ci/secrets/id_token_authentication/) and Fulcio, the
//! certificate authority that exchanges such a token for a short-lived code-signing certificate.
//!
//! The Fulcio double is a small CA on 127.0.0.1 answering `POST /api/v2/signingCert` as Fulcio's
//! v2 API does (https://github.com/sigstore/fulcio/blob/main/fulcio.proto, service `CA`). It is
//! no kinder than Fulcio:
//! - the token must be a JWT whose ES256 signature verifies with a key of an issuer it trusts
//!   (Fulcio fetches the issuer's keys through OIDC discovery; the double is handed them), whose
//!   `aud` is `sigstore`, whose `exp` has not passed, and which carries every claim Fulcio's
//!   GitLab principal requires (`project_path`, `pipeline_source`, `pipeline_id`,
//!   `ci_config_ref_uri`, `job_id`, `ref`, `ref_type` of `branch` or `tag`, `namespace_path`,
//!   `namespace_id`, `project_id`, `sha`, `runner_environment`, `runner_id`: sigstore/fulcio
//!   `pkg/identity/gitlabcom/principal.go`);
//! - the proof of possession must be a signature over the token's `sub` with the submitted key
//!   (https://github.com/sigstore/fulcio/blob/main/docs/how-certificate-issuing-works.md);
//! - the certificate it issues is valid for 10 minutes, has the key usage digitalSignature and
//!   the extended key usage codeSigning, the SAN URI `https://<ci_config_ref_uri>` (the claim has
//!   no scheme; Fulcio adds the issuer's), and the issuer in both of Fulcio's extensions:
//!   1.3.6.1.4.1.57264.1.1 (the raw string, deprecated) and 1.3.6.1.4.1.57264.1.8 (a DER
//!   UTF8String) (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md);
//! - it answers `signedCertificateEmbeddedSct.chain.certificates`: leaf, intermediate, root.
//!
//! It embeds no signed certificate timestamp: nothing here checks certificate transparency.

use std::net::SocketAddr;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair,
    KeyPair as _, UnparsedPublicKey,
};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    SanType, SubjectPublicKeyInfo,
};
use serde_json::{Value, json};

/// The OID of Fulcio's deprecated issuer extension (the raw issuer string).
pub const OID_ISSUER_V1: &[u64] = &[1, 3, 6, 1, 4, 1, 57264, 1, 1];
/// The OID of Fulcio's issuer extension (a DER UTF8String).
pub const OID_ISSUER_V2: &[u64] = &[1, 3, 6, 1, 4, 1, 57264, 1, 8];

/// How long Fulcio's certificates are valid.
pub const CERTIFICATE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(600);

/// An OIDC issuer that signs ID tokens with ES256, as GitLab signs `id_tokens`.
pub struct OidcIssuer {
    /// The `iss` claim (GitLab's is the instance URL, `https://gitlab.com`).
    pub url: String,
    key: EcdsaKeyPair,
}

/// A GitLab CI job, as its ID token describes it.
#[derive(Clone, Debug)]
pub struct GitLabJob {
    /// `group/project`.
    pub project_path: String,
    /// The ref built (`v1.0.0`).
    pub git_ref: String,
    /// `branch` or `tag`.
    pub ref_type: String,
}

impl GitLabJob {
    /// The identity Fulcio writes into the certificate's SAN for this job, on `host`:
    /// `https://<host>/<project>//.gitlab-ci.yml@refs/<heads|tags>/<ref>`.
    pub fn identity(&self, host: &str) -> String {
        format!("https://{}", self.ci_config_ref_uri(host))
    }

    fn ci_config_ref_uri(&self, host: &str) -> String {
        let kind = if self.ref_type == "tag" {
            "tags"
        } else {
            "heads"
        };
        format!(
            "{host}/{}//.gitlab-ci.yml@refs/{kind}/{}",
            self.project_path, self.git_ref
        )
    }
}

impl OidcIssuer {
    /// A new issuer with a fresh key.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("cannot generate the issuer's key"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| anyhow::anyhow!("cannot load the issuer's key"))?;
        Ok(OidcIssuer {
            url: url.to_owned(),
            key,
        })
    }

    /// The issuer's public key (uncompressed P-256 point), what its JWKS would publish.
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }

    /// A signed JWT with exactly these claims.
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT","kid":"double"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
        let signing_input = format!("{header}.{body}");
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| anyhow::anyhow!("cannot sign the token"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// The claims GitLab puts in an ID token requested with `aud: sigstore` for `job`, on the
    /// instance whose host is this issuer's (https://docs.gitlab.com/ci/secrets/id_token_authentication/#token-payload).
    pub fn gitlab_claims(&self, job: &GitLabJob) -> Value {
        let host = self.url.trim_start_matches("https://");
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": self.url,
            "aud": "sigstore",
            "sub": format!("project_path:{}:ref_type:{}:ref:{}", job.project_path, job.ref_type, job.git_ref),
            "iat": now,
            "nbf": now,
            // GitLab sets `exp` to the job's timeout (https://gitlab.com/gitlab-org/gitlab/-/issues/222252,
            // `lib/gitlab/ci/jwt.rb`): an hour, the default project timeout.
            "exp": now + 3600,
            "namespace_id": "7",
            "namespace_path": job.project_path.split('/').next().unwrap_or_default(),
            "project_id": "42",
            "project_path": job.project_path,
            "pipeline_id": "1001",
            "pipeline_source": "push",
            "job_id": "5005",
            "ref": job.git_ref,
            "ref_type": job.ref_type,
            "ref_protected": "true",
            "sha": "0123456789abcdef0123456789abcdef01234567",
            "runner_id": 12,
            "runner_environment": "gitlab-hosted",
            "project_visibility": "public",
            "ci_config_ref_uri": job.ci_config_ref_uri(host),
            "ci_config_sha": "0123456789abcdef0123456789abcdef01234567",
        })
    }

    /// A token for `job` as GitLab issues it.
    pub fn gitlab_token(&self, job: &GitLabJob) -> anyhow::Result<String> {
        self.sign(&self.gitlab_claims(job))
    }
}

struct Ca {
    /// Issuer URL → the issuer's public key.
    trusted: Vec<(String, Vec<u8>)>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
    intermediate_pem: String,
    root_pem: String,
}

/// A Fulcio double serving on 127.0.0.1 until dropped.
pub struct FulcioDouble {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The root certificate (PEM) a verifier must trust.
    pub root_pem: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FulcioDouble {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn ca_params(name: &str, path_len: u8) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "sigstore.dev");
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    params
}

impl FulcioDouble {
    /// Starts a CA (a root and an intermediate, as the public Fulcio has) trusting tokens of
    /// `issuers`.
    pub fn start(issuers: &[&OidcIssuer]) -> anyhow::Result<Self> {
        let root = CertifiedIssuer::self_signed(
            ca_params("sigstore", 1),
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?,
        )?;
        let intermediate = CertifiedIssuer::signed_by(
            ca_params("sigstore-intermediate", 0),
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?,
            &root,
        )?;
        let ca = Arc::new(Ca {
            trusted: issuers
                .iter()
                .map(|i| (i.url.clone(), i.public_key()))
                .collect(),
            intermediate_pem: intermediate.pem(),
            intermediate,
            root_pem: root.pem(),
        });
        let root_pem = ca.root_pem.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr: SocketAddr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = axum::Router::new()
                    .route("/api/v2/signingCert", post(signing_cert))
                    .with_state(ca);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Ok(FulcioDouble {
            url: format!("http://{addr}"),
            root_pem,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
}

fn refuse(status: StatusCode, message: &str) -> (StatusCode, Json<Value>) {
    // Fulcio's gRPC gateway answers errors as {"code":…, "message":…}.
    (
        status,
        Json(json!({ "code": status.as_u16(), "message": message })),
    )
}

/// One JSON part of a JWT (header or claims): unpadded base64url of a JSON object.
fn jwt_part(b64: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(b64).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Verifies an ES256 JWT against the trusted issuers; returns its claims.
fn authenticate(ca: &Ca, token: &str) -> Result<Value, String> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(body), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the identity token is not a JWT".into());
    };
    let header = jwt_part(header_b64).ok_or("the token's header is unreadable")?;
    if header["alg"] != "ES256" {
        return Err("unsupported token algorithm".into());
    }
    let claims = jwt_part(body).ok_or("the token's claims are unreadable")?;
    let issuer = claims["iss"].as_str().ok_or("the token has no issuer")?;
    let key = ca
        .trusted
        .iter()
        .find(|(url, _)| url == issuer)
        .map(|(_, key)| key)
        .ok_or("the token's issuer is not one this CA trusts")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the token's signature is not base64url")?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
        .verify(format!("{header_b64}.{body}").as_bytes(), &signature)
        .map_err(|_| "the token's signature does not verify")?;
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == "sigstore",
        Value::Array(list) => list.iter().any(|a| a == "sigstore"),
        _ => false,
    };
    if !audience_ok {
        return Err("the token's audience is not sigstore".into());
    }
    let now = chrono::Utc::now().timestamp();
    if claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
        return Err("the token has expired".into());
    }
    for claim in [
        "project_path",
        "pipeline_source",
        "pipeline_id",
        "ci_config_ref_uri",
        "job_id",
        "ref",
        "ref_type",
        "namespace_path",
        "namespace_id",
        "project_id",
        "sha",
        "runner_environment",
    ] {
        if claims[claim].as_str().is_none_or(str::is_empty) {
            return Err(format!("missing {claim} claim in ID token"));
        }
    }
    if claims["runner_id"].as_i64().is_none_or(|id| id == 0) {
        return Err("missing runner_id claim in ID token".into());
    }
    if !matches!(claims["ref_type"].as_str(), Some("branch" | "tag")) {
        return Err("unexpected ref_type".into());
    }
    Ok(claims)
}

/// DER of a UTF8String.
fn der_utf8(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = vec![0x0c];
    if bytes.len() < 0x80 {
        out.push(bytes.len() as u8);
    } else {
        let len = bytes.len().to_be_bytes();
        let len: Vec<u8> = len.iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | len.len() as u8);
        out.extend(len);
    }
    out.extend_from_slice(bytes);
    out
}

/// Reads the P-256 point out of a PEM SubjectPublicKeyInfo.
fn spki_point(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = STANDARD.decode(body).ok()?;
    // id-ecPublicKey + prime256v1, then the BIT STRING of the uncompressed point (RFC 5480).
    let point = der.get(der.len().checked_sub(65)?..)?;
    (der.len() == 91 && point[0] == 0x04).then(|| point.to_vec())
}

async fn signing_cert(
    State(ca): State<Arc<Ca>>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> (StatusCode, Json<Value>) {
    // The token comes in the body's credentials, or as a bearer token (cosign sends both).
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Some(token) = request["credentials"]["oidcIdentityToken"]
        .as_str()
        .map(str::to_owned)
        .or(bearer)
    else {
        return refuse(StatusCode::UNAUTHORIZED, "no identity token");
    };
    let claims = match authenticate(&ca, &token) {
        Ok(claims) => claims,
        Err(why) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                &format!("There was an error processing the identity token: {why}"),
            );
        }
    };
    let key_request = &request["publicKeyRequest"];
    let Some(public_pem) = key_request["publicKey"]["content"].as_str() else {
        return refuse(StatusCode::BAD_REQUEST, "no public key in the request");
    };
    let Some(point) = spki_point(public_pem) else {
        return refuse(StatusCode::BAD_REQUEST, "the public key is not ECDSA P-256");
    };
    let proof = key_request["proofOfPossession"]
        .as_str()
        .and_then(|p| STANDARD.decode(p).ok())
        .unwrap_or_default();
    let subject = claims["sub"].as_str().unwrap_or_default();
    if UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point)
        .verify(subject.as_bytes(), &proof)
        .is_err()
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "The signature supplied in the request could not be verified",
        );
    }
    match issue(&ca, &claims, public_pem) {
        Ok(certificates) => (
            StatusCode::CREATED,
            Json(json!({
                "signedCertificateEmbeddedSct": { "chain": { "certificates": certificates } }
            })),
        ),
        Err(err) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()),
    }
}

fn issue(ca: &Ca, claims: &Value, public_pem: &str) -> anyhow::Result<Vec<String>> {
    let issuer = claims["iss"].as_str().unwrap_or_default();
    let config_ref = claims["ci_config_ref_uri"].as_str().unwrap_or_default();
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.subject_alt_names = vec![SanType::URI(format!("https://{config_ref}").try_into()?)];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    params.is_ca = IsCa::ExplicitNoCa;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now;
    params.not_after = now + CERTIFICATE_LIFETIME;
    params.custom_extensions = vec![
        CustomExtension::from_oid_content(OID_ISSUER_V1, issuer.as_bytes().to_vec()),
        CustomExtension::from_oid_content(OID_ISSUER_V2, der_utf8(issuer)),
    ];
    let spki = SubjectPublicKeyInfo::from_pem(public_pem)?;
    let leaf = params.signed_by(&spki, &ca.intermediate)?;
    Ok(vec![
        leaf.pem(),
        ca.intermediate_pem.clone(),
        ca.root_pem.clone(),
    ])
}
