//! Image signatures in cosign's key-based format, so users verify with the standard tool
//! (`cosign verify --key cosign.pub IMAGE`) as well as with `cargo xtask verify-image`.
//!
//! - Keys are ECDSA P-256; the private key is a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the
//!   public key an SPKI PEM (`-----BEGIN PUBLIC KEY-----`), which `cosign verify --key` accepts.
//! - A signature signs cosign's "simple signing" payload naming the manifest digest
//!   (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md): ECDSA over SHA-256,
//!   ASN.1 DER, base64 in the layer annotation `dev.cosignproject.cosign/signature`.
//! - Attestations (SBOM, provenance) are in-toto statements in DSSE envelopes signed over DSSE's
//!   pre-authentication encoding (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md),
//!   as `cosign attest` writes them.
//!
//! aws-lc-rs is already built for rustls, so signing adds no crate to the build; the `sigstore`
//! crate would add its own TLS, OIDC and TUF stacks for what is, with a key, a few functions.

use anyhow::{Context, bail};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The DER prefix of a P-256 SubjectPublicKeyInfo (id-ecPublicKey, prime256v1, BIT STRING of an
/// uncompressed point): RFC 5480 §2; followed by the 65-byte point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The `type` of cosign's simple signing payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// The in-toto payload type of DSSE envelopes.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A signing key (never printed: its `Debug` shows only the public half).
pub struct SigningKey {
    pair: EcdsaKeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey(***, public {})",
            self.public_key().fingerprint()
        )
    }
}

/// A verification key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// The uncompressed P-256 point (65 bytes).
    point: Vec<u8>,
}

/// Signing and verification failures.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The PEM text is not what was expected.
    #[error("{what} is not a PEM block `-----BEGIN {label}-----`")]
    NotPem {
        /// Which file.
        what: String,
        /// The label expected.
        label: &'static str,
    },
    /// The key is not an ECDSA P-256 key.
    #[error(
        "{0} is not an ECDSA P-256 key (make one with `cargo xtask verify-image --generate-key DIR` or `cosign generate-key-pair` converted to PKCS#8)"
    )]
    NotP256(String),
    /// The signature does not verify.
    #[error("the signature does not match the signed content with this public key")]
    BadSignature,
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_decode(text: &str, label: &'static str, what: &str) -> Result<Vec<u8>, SigningError> {
    let not_pem = || SigningError::NotPem {
        what: what.to_owned(),
        label,
    };
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).ok_or_else(not_pem)? + begin.len();
    let stop = text[start..].find(&end).ok_or_else(not_pem)? + start;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).map_err(|_| not_pem())
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("cannot generate an ECDSA P-256 key"))?;
        Self::from_pkcs8(pkcs8.as_ref(), "the generated key")
    }

    fn from_pkcs8(der: &[u8], what: &str) -> anyhow::Result<Self> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der)
            .map_err(|_| SigningError::NotP256(what.to_owned()))?;
        Ok(SigningKey { pair })
    }

    /// Reads a PKCS#8 PEM private key.
    pub fn from_pem(text: &str, what: &str) -> anyhow::Result<Self> {
        Self::from_pkcs8(&pem_decode(text, "PRIVATE KEY", what)?, what)
    }

    /// The key as PKCS#8 PEM.
    pub fn to_pem(&self) -> anyhow::Result<String> {
        let doc = self
            .pair
            .to_pkcs8v1()
            .map_err(|_| anyhow::anyhow!("cannot serialise the signing key"))?;
        Ok(pem_encode("PRIVATE KEY", doc.as_ref()))
    }

    /// The matching verification key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            point: self.pair.public_key().as_ref().to_vec(),
        }
    }

    /// ECDSA P-256 / SHA-256 over `message`, ASN.1 DER.
    pub fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        let rng = SystemRandom::new();
        let signature = self
            .pair
            .sign(&rng, message)
            .map_err(|_| anyhow::anyhow!("ECDSA signing failed"))?;
        Ok(signature.as_ref().to_vec())
    }
}

impl PublicKey {
    /// Reads an SPKI PEM public key (`cosign.pub`).
    pub fn from_pem(text: &str, what: &str) -> Result<Self, SigningError> {
        Self::from_spki_der(&pem_decode(text, "PUBLIC KEY", what)?, what)
    }

    /// Reads a DER SubjectPublicKeyInfo (as a certificate carries it).
    pub fn from_spki_der(der: &[u8], what: &str) -> Result<Self, SigningError> {
        match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            Some(point) if point.len() == 65 && point[0] == 0x04 => Ok(PublicKey {
                point: point.to_vec(),
            }),
            _ => Err(SigningError::NotP256(what.to_owned())),
        }
    }

    /// The key as SPKI PEM.
    pub fn to_pem(&self) -> String {
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.point);
        pem_encode("PUBLIC KEY", &der)
    }

    /// A short name for logs: the first 16 hex digits of the key's SHA-256.
    pub fn fingerprint(&self) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.point);
        hex::encode(&digest.as_ref()[..8])
    }

    /// Checks an ASN.1 DER ECDSA signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SigningError> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.point)
            .verify(message, signature)
            .map_err(|_| SigningError::BadSignature)
    }
}

/// cosign's simple signing payload (the `critical` section is what verification checks).
#[derive(Debug, Serialize, Deserialize)]
pub struct SimpleSigning {
    /// What is signed.
    pub critical: Critical,
    /// Free-form claims; cosign writes `null`.
    pub optional: Option<serde_json::Value>,
}

/// `critical` of [`SimpleSigning`].
#[derive(Debug, Serialize, Deserialize)]
pub struct Critical {
    /// The repository the signature was made for.
    pub identity: Identity,
    /// The manifest signed.
    pub image: SignedImage,
    /// Always [`SIMPLE_SIGNING_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
}

/// `critical.identity`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Identity {
    /// `host/path` of the repository.
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

/// `critical.image`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SignedImage {
    /// `sha256:…` of the manifest.
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl SimpleSigning {
    /// The payload for `digest` in `repository` (`host/path`).
    pub fn new(repository: &str, digest: &str) -> Self {
        SimpleSigning {
            critical: Critical {
                identity: Identity {
                    docker_reference: repository.to_owned(),
                },
                image: SignedImage {
                    docker_manifest_digest: digest.to_owned(),
                },
                kind: SIMPLE_SIGNING_TYPE.to_owned(),
            },
            optional: None,
        }
    }
}

/// DSSE's pre-authentication encoding: what an envelope's signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The payload's type ([`IN_TOTO_PAYLOAD_TYPE`]).
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// base64 of the payload.
    pub payload: String,
    /// The signatures over [`pae`].
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an [`Envelope`].
#[derive(Debug, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// Unused with a single key (cosign writes an empty id).
    #[serde(default)]
    pub keyid: String,
    /// base64 of the ASN.1 DER signature.
    pub sig: String,
}

impl Envelope {
    /// Signs an in-toto statement.
    pub fn sign(statement: &[u8], key: &SigningKey) -> anyhow::Result<Self> {
        let signature = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, statement))?;
        Ok(Envelope {
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
            payload: STANDARD.encode(statement),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: STANDARD.encode(signature),
            }],
        })
    }

    /// The payload, when one of the signatures verifies with `key`.
    pub fn verified_payload(&self, key: &PublicKey) -> anyhow::Result<Vec<u8>> {
        if self.payload_type != IN_TOTO_PAYLOAD_TYPE {
            bail!(
                "the attestation's payload type is {:?}, not {IN_TOTO_PAYLOAD_TYPE}",
                self.payload_type
            );
        }
        let payload = STANDARD
            .decode(&self.payload)
            .context("the attestation's payload is not base64")?;
        let message = pae(&self.payload_type, &payload);
        let verified = self.signatures.iter().any(|s| {
            STANDARD
                .decode(&s.sig)
                .is_ok_and(|sig| key.verify(&message, &sig).is_ok())
        });
        if !verified {
            return Err(SigningError::BadSignature.into());
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_pem_and_signatures_verify_only_unchanged() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_pem(&key.to_pem().unwrap(), "key.pem").unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let public = PublicKey::from_pem(&key.public_key().to_pem(), "cosign.pub").unwrap();
        let signature = key.sign(b"payload").unwrap();
        public.verify(b"payload", &signature).unwrap();
        assert!(public.verify(b"payload!", &signature).is_err());
        let stranger = SigningKey::generate().unwrap().public_key();
        assert!(stranger.verify(b"payload", &signature).is_err());
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn the_public_key_is_standard_spki_that_openssl_reads() {
        let key = SigningKey::generate().unwrap();
        let pem = key.public_key().to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cosign.pub");
        std::fs::write(&path, &pem).unwrap();
        if crate::util::cmd::available_at("openssl", &["version"]) {
            let text = crate::util::cmd::read(
                dir.path(),
                "openssl",
                ["pkey", "-pubin", "-in", "cosign.pub", "-noout", "-text"],
            )
            .unwrap();
            assert!(
                text.contains("prime256v1") || text.contains("P-256"),
                "{text}"
            );
            // The signature is what cosign checks: ECDSA over SHA-256 of the payload, DER.
            std::fs::write(dir.path().join("payload"), b"payload").unwrap();
            std::fs::write(dir.path().join("sig"), key.sign(b"payload").unwrap()).unwrap();
            let verified = crate::util::cmd::read(
                dir.path(),
                "openssl",
                [
                    "dgst",
                    "-sha256",
                    "-verify",
                    "cosign.pub",
                    "-signature",
                    "sig",
                    "payload",
                ],
            )
            .unwrap();
            assert_eq!(verified, "Verified OK");
        }
        assert!(
            PublicKey::from_pem(
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                "x"
            )
            .is_err()
        );
    }

    #[test]
    fn dsse_pae_matches_the_specification_example() {
        // The DSSE protocol's worked example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn an_envelope_verifies_with_its_key_and_not_after_tampering() {
        let key = SigningKey::generate().unwrap();
        let mut envelope = Envelope::sign(br#"{"_type":"x"}"#, &key).unwrap();
        assert_eq!(
            envelope.verified_payload(&key.public_key()).unwrap(),
            br#"{"_type":"x"}"#
        );
        envelope.payload = STANDARD.encode(br#"{"_type":"y"}"#);
        assert!(envelope.verified_payload(&key.public_key()).is_err());
    }

    #[test]
    fn the_simple_signing_payload_has_cosigns_shape() {
        let json = serde_json::to_value(SimpleSigning::new("h/p", "sha256:ab")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"critical":{"identity":{"docker-reference":"h/p"},"image":{"docker-manifest-digest":"sha256:ab"},"type":"cosign container image signature"},"optional":null})
        );
    }
}
