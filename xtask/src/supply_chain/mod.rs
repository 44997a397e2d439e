//! Signing a published image and attaching its SBOM and provenance, and verifying all three.
//!
//! Stored where cosign stores them, so `cosign verify --key cosign.pub IMAGE` and
//! `cosign verify-attestation --key cosign.pub --type spdxjson IMAGE` work on our images:
//! the signature manifest under the tag `sha256-<hex>.sig` and the attestations under
//! `sha256-<hex>.att` in the image's repository
//! (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md). That tag scheme is
//! also the OCI 1.1 fallback for registries without the referrers API, which Debian's
//! distribution 2.8 (the local test registry) lacks.
//!
//! A verification resolves the tag to its manifest digest first and checks everything against
//! that digest, so a manifest swapped under a tag (or a signature copied from another image)
//! fails.

pub(crate) mod keyless;
pub(crate) mod release_job;
pub(crate) mod sbom;
pub(crate) mod signing;

use anyhow::{Context, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::registry::RegistryClient;
use crate::registry::oci::{DOCKER_LIST, ImageIndex, OCI_INDEX, OCI_MANIFEST};
use crate::supply_chain::keyless::{
    CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, KeylessPolicy, KeylessSigner,
};
use crate::supply_chain::sbom::{SLSA_PREDICATE, SPDX_PREDICATE, Subject};
use crate::supply_chain::signing::{
    Envelope, PublicKey, SIMPLE_SIGNING_TYPE, SigningKey, SimpleSigning,
};

/// Who signs: the project's key, or an ephemeral key certified by Fulcio (see [`crate::supply_chain::keyless`]).
/// A release may sign with both; each signer adds its own layer to the signature and
/// attestation manifests, as cosign does for a second signature.
#[derive(Debug)]
pub enum Signer {
    /// A long-lived key (`--signing-key`), shared by every image of a run.
    Key(std::sync::Arc<SigningKey>),
    /// A Fulcio certificate for the CI job's identity (`--keyless`).
    Keyless(KeylessSigner),
}

impl Signer {
    fn key(&self) -> &SigningKey {
        match self {
            Signer::Key(key) => key,
            Signer::Keyless(signer) => signer.key(),
        }
    }

    /// The layer annotations carrying `signature` (base64): with a certificate, the
    /// certificate and its chain beside it.
    fn annotations(&self, signature: &str) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        out.insert(SIGNATURE_ANNOTATION.into(), signature.into());
        if let Signer::Keyless(signer) = self {
            out.insert(
                CERTIFICATE_ANNOTATION.into(),
                signer.certificate.clone().into(),
            );
            out.insert(CHAIN_ANNOTATION.into(), signer.chain.clone().into());
        }
        out
    }

    /// For logs: the key's fingerprint or the certificate's identity.
    pub fn describe(&self) -> String {
        match self {
            Signer::Key(key) => format!("key {}", key.public_key().fingerprint()),
            Signer::Keyless(signer) => format!("keyless, certificate for {}", signer.identity),
        }
    }
}

/// What a signature must satisfy to count.
#[derive(Debug)]
pub enum Verifier {
    /// Made with this key.
    Key(PublicKey),
    /// Made with a key certified by a trusted Fulcio for this identity and issuer.
    Keyless(KeylessPolicy),
}

impl Verifier {
    /// The key a layer's signature must verify with, or why the layer does not qualify.
    fn key_for(
        &self,
        annotations: &std::collections::BTreeMap<String, String>,
    ) -> Result<PublicKey, String> {
        match self {
            Verifier::Key(key) => Ok(key.clone()),
            Verifier::Keyless(policy) => {
                let certificate = annotations
                    .get(CERTIFICATE_ANNOTATION)
                    .ok_or("a layer carries no certificate (signed with a key)")?;
                let chain = annotations
                    .get(CHAIN_ANNOTATION)
                    .map(String::as_str)
                    .unwrap_or_default();
                policy
                    .certified_key(certificate, chain, x509_parser::time::ASN1Time::now())
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// For messages.
    pub fn describe(&self) -> String {
        match self {
            Verifier::Key(key) => format!("the public key {}", key.fingerprint()),
            Verifier::Keyless(policy) => format!(
                "a Fulcio certificate for {} issued by {}",
                policy.identity, policy.issuer
            ),
        }
    }
}

/// cosign's media type of a simple signing payload layer.
const SIMPLE_SIGNING_MEDIA: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The media type of a DSSE envelope layer.
const DSSE_MEDIA: &str = "application/vnd.dsse.envelope.v1+json";
/// The layer annotation carrying a signature.
const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Every manifest type a tag may resolve to.
const ANY_MANIFEST: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// What is attached to one manifest.
pub struct Attachments {
    /// The SPDX document.
    pub sbom: serde_json::Value,
    /// The SLSA provenance predicate.
    pub provenance: serde_json::Value,
}

/// `sha256-<hex>.<suffix>`: where cosign looks for a digest's signature (`sig`) and
/// attestations (`att`).
fn tag_for(digest: &str, suffix: &str) -> anyhow::Result<String> {
    let hex = digest
        .strip_prefix("sha256:")
        .with_context(|| format!("{digest} is not a sha256 digest"))?;
    Ok(format!("sha256-{hex}.{suffix}"))
}

fn repository_name(client: &RegistryClient) -> String {
    let repo = client.repository();
    format!("{}/{}", repo.host, repo.path)
}

/// Pushes an OCI artifact manifest whose layers are `layers` (media type, bytes, annotations)
/// under `tag`, with cosign's empty-image config.
async fn push_artifact(
    client: &RegistryClient,
    tag: &str,
    layers: Vec<(&str, Vec<u8>, serde_json::Map<String, serde_json::Value>)>,
) -> anyhow::Result<String> {
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for (media_type, bytes, annotations) in layers {
        let digest = client.push_blob(&bytes).await?;
        diff_ids.push(digest.clone());
        descriptors.push(serde_json::json!({
            "mediaType": media_type,
            "size": bytes.len(),
            "digest": digest,
            "annotations": annotations,
        }));
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "",
        "os": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))?;
    let config_digest = client.push_blob(&config).await?;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": config_digest,
        },
        "layers": descriptors,
    }))?;
    client.put_manifest(tag, OCI_MANIFEST, &manifest).await
}

/// Signs `digest` (an image or an index) in the client's repository, one layer per signer.
pub async fn sign(client: &RegistryClient, digest: &str, signers: &[Signer]) -> anyhow::Result<()> {
    let repository = repository_name(client);
    let payload = serde_json::to_vec(&SimpleSigning::new(&repository, digest))?;
    let mut layers = Vec::new();
    for signer in signers {
        let signature = STANDARD.encode(signer.key().sign(&payload)?);
        layers.push((
            SIMPLE_SIGNING_MEDIA,
            payload.clone(),
            signer.annotations(&signature),
        ));
    }
    push_artifact(client, &tag_for(digest, "sig")?, layers)
        .await
        .with_context(|| format!("cannot store the signature of {repository}@{digest}"))?;
    Ok(())
}

/// Signs `digest` in the client's repository and attaches its SBOM and provenance, signed by
/// every signer.
pub async fn sign_and_attest(
    client: &RegistryClient,
    digest: &str,
    signers: &[Signer],
    attachments: &Attachments,
) -> anyhow::Result<()> {
    let repository = repository_name(client);
    sign(client, digest, signers).await?;

    let subject = Subject {
        repository: repository.clone(),
        digest: digest.to_owned(),
    };
    let mut layers = Vec::new();
    for (predicate_type, predicate) in [
        (SPDX_PREDICATE, &attachments.sbom),
        (SLSA_PREDICATE, &attachments.provenance),
    ] {
        let statement = serde_json::to_vec(&sbom::statement(
            &subject,
            predicate_type,
            predicate.clone(),
        ))?;
        for signer in signers {
            let envelope = serde_json::to_vec(&Envelope::sign(&statement, signer.key())?)?;
            let mut annotations = signer.annotations("");
            annotations.insert("predicateType".into(), predicate_type.into());
            layers.push((DSSE_MEDIA, envelope, annotations));
        }
    }
    push_artifact(client, &tag_for(digest, "att")?, layers)
        .await
        .with_context(|| format!("cannot store the attestations of {repository}@{digest}"))?;
    let by: Vec<String> = signers.iter().map(Signer::describe).collect();
    eprintln!(
        "signed {repository}@{digest} ({}) and attached its SBOM and provenance",
        by.join("; ")
    );
    Ok(())
}

#[derive(Deserialize)]
struct ArtifactManifest {
    layers: Vec<ArtifactLayer>,
}

#[derive(Deserialize)]
struct ArtifactLayer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// What a verification established for one manifest.
#[derive(Debug)]
pub struct Verified {
    /// `sha256:…` of the manifest.
    pub digest: String,
    /// How many packages its SBOM lists.
    pub sbom_packages: usize,
    /// The source revision its provenance names.
    pub revision: String,
}

/// Verifies the image `reference` (a tag or digest in the client's repository) and, for an
/// index, every platform manifest in it: signature, SBOM and provenance, all satisfying `key`
/// (a public key or a keyless policy) and all naming the digest the reference resolves to now.
pub async fn verify(
    client: &RegistryClient,
    reference: &str,
    key: &Verifier,
) -> anyhow::Result<Vec<Verified>> {
    let repository = repository_name(client);
    let fetched = client
        .manifest(reference, ANY_MANIFEST)
        .await?
        .with_context(|| format!("{repository}:{reference} does not exist"))?;
    if !(fetched.media_type.starts_with(OCI_INDEX) || fetched.media_type.starts_with(DOCKER_LIST)) {
        return Ok(vec![verify_digest(client, &fetched.digest, key).await?]);
    }
    // An index is signed itself; the SBOM and provenance belong to each platform's image.
    verify_signature(client, &fetched.digest, key).await?;
    let index: ImageIndex =
        serde_json::from_slice(&fetched.bytes).context("the index cannot be read")?;
    let mut out = Vec::new();
    for child in index.manifests {
        out.push(verify_digest(client, &child.digest, key).await?);
    }
    Ok(out)
}

async fn verify_digest(
    client: &RegistryClient,
    digest: &str,
    key: &Verifier,
) -> anyhow::Result<Verified> {
    verify_signature(client, digest, key).await?;
    verify_attestations(client, digest, key).await
}

/// Fails unless a signature satisfying `verifier` for exactly `digest` in this repository is
/// stored.
async fn verify_signature(
    client: &RegistryClient,
    digest: &str,
    verifier: &Verifier,
) -> anyhow::Result<()> {
    let repository = repository_name(client);
    let image = format!("{repository}@{digest}");
    let sig_tag = tag_for(digest, "sig")?;
    let signatures = client
        .manifest(&sig_tag, OCI_MANIFEST)
        .await?
        .with_context(|| {
            format!("{image} is not signed: the registry has no {sig_tag} (was the image replaced after signing?)")
        })?;
    let signatures: ArtifactManifest = serde_json::from_slice(&signatures.bytes)
        .with_context(|| format!("{sig_tag} is not a signature manifest"))?;
    let mut signed = false;
    let mut refused = Vec::new();
    for layer in signatures
        .layers
        .iter()
        .filter(|l| l.media_type == SIMPLE_SIGNING_MEDIA)
    {
        let Some(signature) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
            continue;
        };
        let key = match verifier.key_for(&layer.annotations) {
            Ok(key) => key,
            Err(why) => {
                refused.push(why);
                continue;
            }
        };
        let payload = client.blob(&layer.digest).await?;
        let Ok(signature) = STANDARD.decode(signature) else {
            continue;
        };
        if key.verify(&payload, &signature).is_err() {
            continue;
        }
        let claim: SimpleSigning = serde_json::from_slice(&payload)
            .context("a verified signature payload is not cosign's simple signing format")?;
        ensure!(
            claim.critical.kind == SIMPLE_SIGNING_TYPE,
            "{image}: the signed payload is of type {:?}",
            claim.critical.kind
        );
        ensure!(
            claim.critical.image.docker_manifest_digest == digest,
            "{image}: the signature is for {}, not this manifest",
            claim.critical.image.docker_manifest_digest
        );
        ensure!(
            claim.critical.identity.docker_reference == repository,
            "{image}: the signature was made for {}, not this repository",
            claim.critical.identity.docker_reference
        );
        signed = true;
    }
    if !signed {
        let why = if refused.is_empty() {
            String::new()
        } else {
            format!(" ({})", refused.join("; "))
        };
        bail!(
            "{image}: no signature in {sig_tag} verifies with {}{why}",
            verifier.describe()
        );
    }
    Ok(())
}

/// The SBOM and provenance signed for exactly `digest` as `verifier` requires.
async fn verify_attestations(
    client: &RegistryClient,
    digest: &str,
    verifier: &Verifier,
) -> anyhow::Result<Verified> {
    let repository = repository_name(client);
    let image = format!("{repository}@{digest}");

    let att_tag = tag_for(digest, "att")?;
    let attestations = client
        .manifest(&att_tag, OCI_MANIFEST)
        .await?
        .with_context(|| {
            format!("{image} has no SBOM or provenance: the registry has no {att_tag}")
        })?;
    let attestations: ArtifactManifest = serde_json::from_slice(&attestations.bytes)
        .with_context(|| format!("{att_tag} is not an attestation manifest"))?;
    let (mut sbom_packages, mut revision) = (None, None);
    for layer in attestations
        .layers
        .iter()
        .filter(|l| l.media_type == DSSE_MEDIA)
    {
        let Ok(key) = verifier.key_for(&layer.annotations) else {
            continue;
        };
        let envelope: Envelope = serde_json::from_slice(&client.blob(&layer.digest).await?)
            .with_context(|| format!("{att_tag}: a layer is not a DSSE envelope"))?;
        let Ok(payload) = envelope.verified_payload(&key) else {
            continue;
        };
        let statement: serde_json::Value = serde_json::from_slice(&payload)?;
        let names_us = statement["subject"].as_array().is_some_and(|subjects| {
            subjects
                .iter()
                .any(|s| s["digest"]["sha256"].as_str() == digest.strip_prefix("sha256:"))
        });
        if !names_us {
            bail!("{image}: an attestation in {att_tag} is about another image");
        }
        match statement["predicateType"].as_str() {
            Some(SPDX_PREDICATE) => {
                sbom_packages = Some(sbom::spdx_packages(&statement["predicate"])?.len());
            }
            Some(SLSA_PREDICATE) => {
                revision = statement["predicate"]["buildDefinition"]["externalParameters"]
                    ["source"]["digest"]["gitCommit"]
                    .as_str()
                    .map(str::to_owned);
            }
            _ => {}
        }
    }
    let sbom_packages = sbom_packages.with_context(|| {
        format!(
            "{image}: no SBOM in {att_tag} signed as {}",
            verifier.describe()
        )
    })?;
    let revision = revision.with_context(|| {
        format!(
            "{image}: no provenance in {att_tag} signed as {}",
            verifier.describe()
        )
    })?;
    Ok(Verified {
        digest: digest.to_owned(),
        sbom_packages,
        revision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fixture::{push_small_image, registry_with};
    use crate::registry::oci::Arch;
    use crate::supply_chain::keyless::KeylessSigner;
    use crate::supply_chain::release_job::ReleaseJob;
    use ai_core::Secret;

    fn attachments(revision: &str) -> Attachments {
        let subject = Subject {
            repository: "placeholder".into(),
            digest: "sha256:00".into(),
        };
        Attachments {
            sbom: sbom::spdx(
                &subject,
                "https://gitlab.example.com/g/p",
                "2026-12-07T00:00:00Z",
                &sbom::distro_packages("debian", "git\t1:2.39.5\n"),
            )
            .unwrap(),
            provenance: sbom::provenance(
                "https://gitlab.example.com/g/p",
                revision,
                None,
                "local",
                "2026-12-07T00:00:00Z",
            ),
        }
    }

    /// Pushes the test image as `1.0.0` and signs and attests it (revision `abc123`) with
    /// `signers`; returns its digest.
    async fn push_signed(client: &RegistryClient, signers: &[Signer]) -> String {
        let digest = push_small_image(client, "1.0.0", Arch::Amd64, "ctx-a").await;
        sign_and_attest(client, &digest, signers, &attachments("abc123"))
            .await
            .unwrap();
        digest
    }

    /// Verifies `reference` with `verifier`, which must fail with an error that says `why`.
    async fn assert_refused(
        client: &RegistryClient,
        reference: &str,
        verifier: &Verifier,
        why: &str,
    ) {
        let err = verify(client, reference, verifier).await.unwrap_err();
        assert!(err.to_string().contains(why), "expected {why:?}: {err:#}");
    }

    /// The manifest stored under `digest`'s `suffix` tag (`sig` or `att`).
    async fn attached(client: &RegistryClient, digest: &str, suffix: &str) -> Vec<u8> {
        client
            .manifest(&tag_for(digest, suffix).unwrap(), OCI_MANIFEST)
            .await
            .unwrap()
            .unwrap()
            .bytes
    }

    /// A keyless signer certified by `release`'s Fulcio, and the ID token it proved itself with.
    async fn keyless_signer(release: &ReleaseJob) -> (KeylessSigner, Secret) {
        let token = release.id_token().unwrap();
        let signer = KeylessSigner::obtain(&release.fulcio.url, &token)
            .await
            .unwrap();
        (signer, token)
    }

    /// A key-based verifier for a key that signed nothing.
    fn stranger() -> Verifier {
        Verifier::Key(SigningKey::generate().unwrap().public_key())
    }

    /// Against Debian's real registry: a signed image verifies; a manifest swapped under the
    /// tag, another key, and a signature moved to another image all fail.
    #[tokio::test]
    async fn signed_images_verify_and_tampered_ones_fail_on_a_real_registry() {
        let (_registry, client) = registry_with("gitlab-ai/claude");
        let key = SigningKey::generate().unwrap();
        let public = Verifier::Key(key.public_key());
        let digest = push_signed(&client, &[Signer::Key(key.into())]).await;

        let verified = verify(&client, "1.0.0", &public).await.unwrap();
        assert_eq!(verified.len(), 1);
        assert_eq!(verified[0].digest, digest);
        assert_eq!(verified[0].revision, "abc123");
        assert_eq!(verified[0].sbom_packages, 2);

        assert_refused(&client, "1.0.0", &stranger(), "no signature").await;

        // Tampering: another manifest pushed under the signed tag.
        let swapped = push_small_image(&client, "1.0.0", Arch::Amd64, "ctx-evil").await;
        assert_ne!(swapped, digest);
        assert_refused(&client, "1.0.0", &public, "is not signed").await;

        // Tampering: the good signature copied to the swapped manifest's signature tag.
        let good = attached(&client, &digest, "sig").await;
        client
            .put_manifest(&tag_for(&swapped, "sig").unwrap(), OCI_MANIFEST, &good)
            .await
            .unwrap();
        assert_refused(&client, "1.0.0", &public, "not this manifest").await;

        // The original, by digest, still verifies.
        verify(&client, &digest, &public).await.unwrap();
    }

    /// Keyless, against Debian's real registry and the Fulcio double: an image signed with a
    /// certificate for the release job's identity verifies with that identity and issuer; a
    /// manifest swapped under the tag, another identity, another issuer and another root fail;
    /// a key-based verifier does not accept a keyless signature, nor the reverse.
    #[tokio::test]
    async fn keyless_signatures_verify_only_for_the_certified_identity_issuer_and_root() {
        use crate::supply_chain::keyless::{KeylessPolicy, PUBLIC_FULCIO_ROOT};
        use doubles::sigstore::{FulcioDouble, GitLabJob};

        let (_registry, client) = registry_with("gitlab-ai/entrypoint");
        let release = ReleaseJob::start("1.0.0").unwrap();
        let (signer, token) = keyless_signer(&release).await;
        let digest = push_signed(&client, &[Signer::Keyless(signer)]).await;

        // Nothing stored names the token.
        for suffix in ["sig", "att"] {
            let text =
                String::from_utf8_lossy(&attached(&client, &digest, suffix).await).into_owned();
            assert!(text.contains("dev.sigstore.cosign/certificate"), "{text}");
            assert!(!text.contains(token.expose()));
        }

        let identity = release.job.identity("gitlab.com");
        let policy = |root: &str, identity: &str, issuer: &str| {
            Verifier::Keyless(KeylessPolicy::new(root, identity, issuer).unwrap())
        };
        let good = Verifier::Keyless(release.policy().unwrap());
        let verified = verify(&client, "1.0.0", &good).await.unwrap();
        assert_eq!(verified[0].digest, digest);
        assert_eq!(verified[0].revision, "abc123");

        let wrong_identity = policy(
            &release.fulcio.root_pem,
            &GitLabJob {
                git_ref: "main".into(),
                ref_type: "branch".into(),
                ..release.job.clone()
            }
            .identity("gitlab.com"),
            "https://gitlab.com",
        );
        assert_refused(&client, "1.0.0", &wrong_identity, "--certificate-identity").await;

        let wrong_issuer = policy(
            &release.fulcio.root_pem,
            &identity,
            "https://gitlab.example.com",
        );
        assert_refused(&client, "1.0.0", &wrong_issuer, "--certificate-oidc-issuer").await;

        // A certificate from a CA the verifier does not trust: the public Sigstore root, and
        // another Fulcio double's.
        let other_ca = FulcioDouble::start(&[&release.gitlab]).unwrap();
        for root in [PUBLIC_FULCIO_ROOT, other_ca.root_pem.as_str()] {
            let untrusted = policy(root, &identity, "https://gitlab.com");
            assert_refused(&client, "1.0.0", &untrusted, "trusted Fulcio root").await;
        }

        // A key-based verifier finds no signature of its key.
        assert!(verify(&client, "1.0.0", &stranger()).await.is_err());

        // Tampering: another manifest under the signed tag.
        push_small_image(&client, "1.0.0", Arch::Amd64, "ctx-evil").await;
        assert_refused(&client, "1.0.0", &good, "is not signed").await;
        verify(&client, &digest, &good).await.unwrap();
    }

    /// A key-based verifier ignores a keyless layer and the reverse: a release signed both ways
    /// verifies either way.
    #[tokio::test]
    async fn an_image_signed_with_the_key_and_keylessly_verifies_both_ways() {
        let (_registry, client) = registry_with("gitlab-ai/claude");
        let release = ReleaseJob::start("1.0.0").unwrap();
        let (keyless, _) = keyless_signer(&release).await;
        let key = SigningKey::generate().unwrap();
        let public = key.public_key();
        push_signed(
            &client,
            &[Signer::Key(key.into()), Signer::Keyless(keyless)],
        )
        .await;
        for verifier in [
            Verifier::Key(public),
            Verifier::Keyless(release.policy().unwrap()),
        ] {
            verify(&client, "1.0.0", &verifier).await.unwrap();
        }
    }
}
