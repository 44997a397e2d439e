//! Keyless signing: an ephemeral key certified by Fulcio for the CI job's OIDC identity, in the
//! format `cosign sign` writes without `--key`, so users check our images with
//! `cosign verify --certificate-identity … --certificate-oidc-issuer https://gitlab.com IMAGE`.
//!
//! - The release job asks GitLab for an ID token with `aud: sigstore` (`id_tokens:` in
//!   `.gitlab-ci.yml`, https://docs.gitlab.com/ci/yaml/signing_examples/), exposed as
//!   `SIGSTORE_ID_TOKEN` (the variable cosign reads too).
//! - We make a P-256 key that lives only in memory, sign the token's `sub` with it as proof of
//!   possession, and post both to Fulcio's `POST /api/v2/signingCert`
//!   (https://github.com/sigstore/fulcio/blob/main/fulcio.proto, and
//!   https://github.com/sigstore/fulcio/blob/main/docs/how-certificate-issuing-works.md).
//!   Fulcio answers the chain: a 10-minute certificate whose SAN is the job's
//!   `https://<host>/<project>//<ci config>@<ref>` (its GitLab principal,
//!   sigstore/fulcio `pkg/identity/gitlabcom/principal.go`) and whose extensions
//!   1.3.6.1.4.1.57264.1.8 (and the older .1.1) name the token's issuer
//!   (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md), then Fulcio's CA chain.
//! - Each signature layer carries the certificate and chain in the annotations
//!   `dev.sigstore.cosign/certificate` and `dev.sigstore.cosign/chain`
//!   (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md).
//!
//! Verification ([`KeylessPolicy`]) chains the certificate to a trusted root (the public
//! Sigstore Fulcio root by default), requires codeSigning, compares the SAN with the expected
//! identity and the issuer extension with the expected issuer, and returns the certified key.
//!
//! The transparency log is off: nothing is uploaded to Rekor, so no signed timestamp proves when
//! the signature was made, and the certificate is checked at the time of verification. As with
//! `cosign verify --insecure-ignore-tlog` (which fails on an expired certificate without a signed
//! timestamp: cosign `pkg/cosign/verify.go`), a keyless signature therefore verifies only while
//! its certificate is valid; the release pipeline signs with the project key as well, which
//! verifies for good.

use ai_core::Secret;
use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::Oid;
use x509_parser::pem::Pem;
use x509_parser::time::ASN1Time;

use crate::supply_chain::signing::{PublicKey, SigningKey};

/// The public Fulcio instance.
pub const PUBLIC_FULCIO: &str = "https://fulcio.sigstore.dev";

/// The root of the public Fulcio instance (`O=sigstore.dev, CN=sigstore`, valid until 2031), as
/// Sigstore's trusted root publishes it.
pub const PUBLIC_FULCIO_ROOT: &str = include_str!("sigstore_public_fulcio_root.pem");

/// The annotation carrying the signing certificate (PEM).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The annotation carrying the rest of the chain (PEM, intermediate first).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";

/// Fulcio's issuer extension (DER UTF8String).
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// Fulcio's deprecated issuer extension (raw string).
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";

/// Why a keyless certificate is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum KeylessError {
    /// Unreadable PEM or DER.
    #[error("the signing certificate cannot be read: {0}")]
    Unreadable(String),
    /// No path to a trusted root.
    #[error(
        "the signing certificate does not chain to a trusted Fulcio root ({0}); pass --fulcio-root PEM for a private Fulcio"
    )]
    Untrusted(String),
    /// Outside its validity period.
    #[error(
        "the signing certificate is not valid now (it was valid {not_before} to {not_after}; without a transparency log entry a keyless signature verifies only while its certificate is valid)"
    )]
    Expired {
        /// Start of validity.
        not_before: String,
        /// End of validity.
        not_after: String,
    },
    /// Another identity.
    #[error(
        "the signing certificate is for {found:?}, not the --certificate-identity {expected:?}"
    )]
    WrongIdentity {
        /// What the SAN says.
        found: Vec<String>,
        /// What was asked for.
        expected: String,
    },
    /// Another issuer.
    #[error(
        "the signing certificate's OIDC issuer is {found:?}, not the --certificate-oidc-issuer {expected:?}"
    )]
    WrongIssuer {
        /// What the extension says.
        found: Option<String>,
        /// What was asked for.
        expected: String,
    },
    /// Not a code-signing certificate.
    #[error("the signing certificate is not for code signing (no codeSigning extended key usage)")]
    NotCodeSigning,
}

/// A Fulcio certificate for an ephemeral key, with the key.
pub struct KeylessSigner {
    key: SigningKey,
    /// The leaf certificate (PEM).
    pub certificate: String,
    /// The rest of the chain (PEM blocks, intermediate first).
    pub chain: String,
    /// The SAN the certificate binds (the job's identity).
    pub identity: String,
}

impl std::fmt::Debug for KeylessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeylessSigner(***, identity {})", self.identity)
    }
}

/// The claim the proof of possession signs.
fn token_subject(token: &Secret) -> anyhow::Result<String> {
    let body = token.expose().split('.').nth(1).context(
        "SIGSTORE_ID_TOKEN is not a JWT: request it with `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore` in the job",
    )?;
    let claims: serde_json::Value = URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .context("SIGSTORE_ID_TOKEN's claims cannot be read (is it a JWT?)")?;
    claims["sub"]
        .as_str()
        .map(str::to_owned)
        .context("SIGSTORE_ID_TOKEN has no `sub` claim")
}

impl KeylessSigner {
    /// Exchanges the ID token at `fulcio` for a certificate of a fresh key. The token goes only
    /// to Fulcio; errors quote Fulcio's message, never the token.
    pub async fn obtain(fulcio: &str, token: &Secret) -> anyhow::Result<Self> {
        let subject = token_subject(token)?;
        let key = SigningKey::generate()?;
        let proof = key.sign(subject.as_bytes())?;
        let body = serde_json::json!({
            "credentials": { "oidcIdentityToken": token.expose() },
            "publicKeyRequest": {
                "publicKey": { "algorithm": "ECDSA", "content": key.public_key().to_pem() },
                "proofOfPossession": STANDARD.encode(proof),
            },
        });
        let url = format!("{}/api/v2/signingCert", fulcio.trim_end_matches('/'));
        let response = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()?
            .post(&url)
            .bearer_auth(token.expose())
            .json(&body)
            .send()
            .await
            .with_context(|| format!("cannot reach Fulcio at {url} (--fulcio-url)"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| text.chars().take(300).collect());
            anyhow::bail!(
                "Fulcio ({url}) refused the signing certificate: HTTP {status}: {message} (check that the job's id_tokens has `aud: sigstore` and runs on the instance Fulcio trusts)"
            );
        }
        let answer: serde_json::Value =
            serde_json::from_str(&text).context("Fulcio's answer is not JSON")?;
        let chain = answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
            .as_array()
            .or_else(|| answer["signedCertificateDetachedSct"]["chain"]["certificates"].as_array())
            .context("Fulcio's answer carries no certificate chain")?;
        let pems: Vec<String> = chain
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        let (certificate, rest) = pems
            .split_first()
            .context("Fulcio's certificate chain is empty")?;
        let (certified, identity) = leaf_key_and_identity(certificate)?;
        anyhow::ensure!(
            certified == key.public_key(),
            "Fulcio's certificate is for another key than the one sent"
        );
        Ok(KeylessSigner {
            key,
            certificate: certificate.clone(),
            chain: rest.concat(),
            identity,
        })
    }

    /// The ephemeral key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }
}

fn pem_blocks(text: &str) -> Result<Vec<Vec<u8>>, KeylessError> {
    let mut out = Vec::new();
    for pem in Pem::iter_from_buffer(text.as_bytes()) {
        let pem = pem.map_err(|e| KeylessError::Unreadable(e.to_string()))?;
        out.push(pem.contents);
    }
    Ok(out)
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, KeylessError> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, cert)| cert)
        .map_err(|e| KeylessError::Unreadable(e.to_string()))
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::URI(uri) => Some((*uri).to_owned()),
            GeneralName::RFC822Name(email) => Some((*email).to_owned()),
            _ => None,
        })
        .collect()
}

/// The issuer Fulcio recorded: the .8 extension (a UTF8String), else the older .1 (raw).
fn oidc_issuer(cert: &X509Certificate<'_>) -> Option<String> {
    let v2: Oid<'static> = OID_ISSUER_V2.parse().ok()?;
    let v1: Oid<'static> = OID_ISSUER_V1.parse().ok()?;
    let find = |oid: &Oid<'_>| cert.iter_extensions().find(|e| &e.oid == oid);
    if let Some(ext) = find(&v2) {
        let (_, object) = x509_parser::der_parser::der::parse_der_utf8string(ext.value).ok()?;
        return object.as_str().ok().map(str::to_owned);
    }
    find(&v1).and_then(|e| String::from_utf8(e.value.to_vec()).ok())
}

fn leaf_key_and_identity(pem: &str) -> anyhow::Result<(PublicKey, String)> {
    let blocks = pem_blocks(pem)?;
    let der = blocks
        .first()
        .context("the signing certificate is not PEM")?;
    let cert = parse(der)?;
    let key = PublicKey::from_spki_der(cert.public_key().raw, "the signing certificate's key")?;
    Ok((key, sans(&cert).join(", ")))
}

/// What a keyless signature must satisfy.
#[derive(Clone, Debug)]
pub struct KeylessPolicy {
    /// Trusted roots (DER).
    pub roots: Vec<Vec<u8>>,
    /// The exact SAN expected (`--certificate-identity`).
    pub identity: String,
    /// The exact OIDC issuer expected (`--certificate-oidc-issuer`).
    pub issuer: String,
}

impl KeylessPolicy {
    /// A policy trusting the roots in `roots_pem` (PEM blocks).
    pub fn new(roots_pem: &str, identity: &str, issuer: &str) -> Result<Self, KeylessError> {
        Ok(KeylessPolicy {
            roots: pem_blocks(roots_pem)?,
            identity: identity.to_owned(),
            issuer: issuer.to_owned(),
        })
    }

    /// Checks `certificate` (PEM) with the intermediates in `chain` (PEM, may be empty) at
    /// `now`; returns the certified key.
    pub fn certified_key(
        &self,
        certificate: &str,
        chain: &str,
        now: ASN1Time,
    ) -> Result<PublicKey, KeylessError> {
        let leaf_der = pem_blocks(certificate)?
            .into_iter()
            .next()
            .ok_or_else(|| KeylessError::Unreadable("no PEM block".into()))?;
        let leaf = parse(&leaf_der)?;
        let intermediates_der = pem_blocks(chain)?;
        let intermediates = intermediates_der
            .iter()
            .map(|d| parse(d))
            .collect::<Result<Vec<_>, _>>()?;
        let roots = self
            .roots
            .iter()
            .map(|d| parse(d))
            .collect::<Result<Vec<_>, _>>()?;

        let valid = |cert: &X509Certificate<'_>| -> Result<(), KeylessError> {
            if cert.validity().is_valid_at(now) {
                Ok(())
            } else {
                Err(KeylessError::Expired {
                    not_before: cert.validity().not_before.to_string(),
                    not_after: cert.validity().not_after.to_string(),
                })
            }
        };
        valid(&leaf)?;
        let code_signing = leaf
            .extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|eku| eku.value.code_signing);
        if !code_signing {
            return Err(KeylessError::NotCodeSigning);
        }

        // Walk up: each certificate must be signed by the next, every issuer must be a CA valid
        // now, and the walk must end at a trusted root (compared byte for byte).
        let mut current = &leaf;
        for _ in 0..=intermediates.len() {
            let signed_by = |issuer: &X509Certificate<'_>| {
                issuer.subject() == current.issuer()
                    && issuer.is_ca()
                    && current.verify_signature(Some(issuer.public_key())).is_ok()
            };
            if let Some(root) = roots.iter().find(|r| signed_by(r)) {
                valid(root)?;
                return self.check_identity(&leaf);
            }
            match intermediates.iter().find(|i| signed_by(i)) {
                Some(next) => {
                    valid(next)?;
                    current = next;
                }
                None => break,
            }
        }
        Err(KeylessError::Untrusted(format!(
            "issuer {} is neither a trusted root nor signed by one",
            current.issuer()
        )))
    }

    fn check_identity(&self, leaf: &X509Certificate<'_>) -> Result<PublicKey, KeylessError> {
        let found = sans(leaf);
        if !found.contains(&self.identity) {
            return Err(KeylessError::WrongIdentity {
                found,
                expected: self.identity.clone(),
            });
        }
        let issuer = oidc_issuer(leaf);
        if issuer.as_deref() != Some(self.issuer.as_str()) {
            return Err(KeylessError::WrongIssuer {
                found: issuer,
                expected: self.issuer.clone(),
            });
        }
        PublicKey::from_spki_der(leaf.public_key().raw, "the signing certificate's key")
            .map_err(|e| KeylessError::Unreadable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doubles::sigstore::{FulcioDouble, GitLabJob, OidcIssuer};

    fn job() -> GitLabJob {
        GitLabJob {
            project_path: "gitlab-ai/gitlab-ai".into(),
            git_ref: "v1.0.0".into(),
            ref_type: "tag".into(),
        }
    }

    #[tokio::test]
    async fn fulcio_certifies_the_jobs_identity_and_the_policy_checks_every_part() {
        let gitlab = OidcIssuer::new("https://gitlab.com").unwrap();
        let fulcio = FulcioDouble::start(&[&gitlab]).unwrap();
        let token = Secret::new(gitlab.gitlab_token(&job()).unwrap());
        let signer = KeylessSigner::obtain(&fulcio.url, &token).await.unwrap();
        let identity = job().identity("gitlab.com");
        assert_eq!(
            identity,
            "https://gitlab.com/gitlab-ai/gitlab-ai//.gitlab-ci.yml@refs/tags/v1.0.0"
        );
        assert_eq!(signer.identity, identity);
        assert!(!format!("{signer:?}").contains(token.expose()));

        let now = ASN1Time::now();
        let policy = KeylessPolicy::new(&fulcio.root_pem, &identity, "https://gitlab.com").unwrap();
        let key = policy
            .certified_key(&signer.certificate, &signer.chain, now)
            .unwrap();
        assert_eq!(key, signer.key().public_key());

        let other = KeylessPolicy {
            identity: identity.replace("v1.0.0", "main"),
            ..policy.clone()
        };
        assert!(matches!(
            other.certified_key(&signer.certificate, &signer.chain, now),
            Err(KeylessError::WrongIdentity { .. })
        ));
        let other = KeylessPolicy {
            issuer: "https://gitlab.example.com".into(),
            ..policy.clone()
        };
        assert!(matches!(
            other.certified_key(&signer.certificate, &signer.chain, now),
            Err(KeylessError::WrongIssuer { .. })
        ));
        // The public root does not vouch for the double's CA, nor the double's for the public.
        let public =
            KeylessPolicy::new(PUBLIC_FULCIO_ROOT, &identity, "https://gitlab.com").unwrap();
        assert!(matches!(
            public.certified_key(&signer.certificate, &signer.chain, now),
            Err(KeylessError::Untrusted(_))
        ));
        // Without the intermediate the leaf cannot reach the root.
        assert!(matches!(
            policy.certified_key(&signer.certificate, "", now),
            Err(KeylessError::Untrusted(_))
        ));
        // Eleven minutes later the 10-minute certificate has expired.
        let later = ASN1Time::from_timestamp(now.timestamp() + 660).unwrap();
        assert!(matches!(
            policy.certified_key(&signer.certificate, &signer.chain, later),
            Err(KeylessError::Expired { .. })
        ));
    }

    #[tokio::test]
    async fn fulcio_refuses_tokens_it_cannot_trust() {
        let gitlab = OidcIssuer::new("https://gitlab.com").unwrap();
        let fulcio = FulcioDouble::start(&[&gitlab]).unwrap();
        let refusal = |token: Secret| {
            let url = fulcio.url.clone();
            async move {
                let err = KeylessSigner::obtain(&url, &token).await.unwrap_err();
                assert!(!format!("{err:#}").contains(token.expose()));
                err
            }
        };
        // Signed by an issuer Fulcio does not know.
        let impostor = OidcIssuer::new("https://gitlab.com").unwrap();
        let err = refusal(Secret::new(impostor.gitlab_token(&job()).unwrap())).await;
        assert!(err.to_string().contains("refused"), "{err:#}");
        // Tokens of the right issuer with one claim changed, and what the refusal names.
        let changed_claims: [(&str, serde_json::Value, &str); 3] = [
            // Another audience.
            ("aud", "vault".into(), "audience"),
            // A token without ci_config_ref_uri (a child pipeline's).
            (
                "ci_config_ref_uri",
                serde_json::Value::Null,
                "ci_config_ref_uri",
            ),
            // Expired.
            (
                "exp",
                (chrono::Utc::now().timestamp() - 1).into(),
                "expired",
            ),
        ];
        for (claim, value, named) in changed_claims {
            let mut claims = gitlab.gitlab_claims(&job());
            claims[claim] = value;
            let err = refusal(Secret::new(gitlab.sign(&claims).unwrap())).await;
            assert!(err.to_string().contains(named), "{claim}: {err:#}");
        }
        // Not a JWT at all.
        let err = refusal(Secret::new("glpat-not-a-jwt")).await;
        assert!(err.to_string().contains("SIGSTORE_ID_TOKEN"), "{err:#}");
    }

    #[test]
    fn the_public_fulcio_root_is_a_ca_certificate() {
        let blocks = pem_blocks(PUBLIC_FULCIO_ROOT).unwrap();
        assert_eq!(blocks.len(), 1);
        let root = parse(&blocks[0]).unwrap();
        assert!(root.is_ca());
        assert_eq!(root.subject().to_string(), "O=sigstore.dev, CN=sigstore");
        root.verify_signature(None).unwrap();
    }
}
