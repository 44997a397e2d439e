//! npm's `dist.integrity` values (Subresource Integrity strings, `sha512-<base64>`) and the check
//! of downloaded bytes against them.
//!
//! npm documents `dist.integrity` as the SRI string of the tarball
//! (https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md); we accept only sha512,
//! which every current package carries, so a weaker sha1 `shasum` can never stand in.

use std::fmt;
use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha512};

/// A sha512 Subresource Integrity value.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Integrity([u8; 64]);

/// An integrity string that is not `sha512-<base64 of 64 bytes>`.
#[derive(Debug, thiserror::Error)]
#[error("integrity {0:?} is not a sha512 Subresource Integrity value (`sha512-<base64>`)")]
pub struct InvalidIntegrity(pub String);

/// Downloaded bytes whose hash is not the expected one.
#[derive(Debug, thiserror::Error)]
#[error(
    "integrity mismatch for {what}: expected {expected}, got {actual}; the download is corrupted or was tampered with"
)]
pub struct IntegrityMismatch {
    /// What was checked (a package spec).
    pub what: String,
    /// The integrity from the lock file.
    pub expected: Integrity,
    /// The integrity of the bytes received.
    pub actual: Integrity,
}

impl Integrity {
    /// Parses `sha512-<base64>`.
    pub fn parse(text: &str) -> Result<Self, InvalidIntegrity> {
        let invalid = || InvalidIntegrity(text.to_owned());
        let b64 = text.trim().strip_prefix("sha512-").ok_or_else(invalid)?;
        let bytes = STANDARD.decode(b64).map_err(|_| invalid())?;
        Ok(Integrity(bytes.try_into().map_err(|_| invalid())?))
    }

    /// The integrity of `bytes`.
    #[cfg(test)]
    pub fn of(bytes: &[u8]) -> Self {
        let mut hasher = IntegrityWriter::new(io::sink());
        hasher.hasher.update(bytes);
        hasher.finish().1
    }

    /// The whole sha512 in hex (SPDX checksums are hex).
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A short, filesystem-safe name for cache entries.
    pub fn short_hex(&self) -> String {
        hex::encode(&self.0[..8])
    }

    /// Fails unless `actual` is this integrity.
    pub fn check(&self, what: &str, actual: Integrity) -> Result<(), Box<IntegrityMismatch>> {
        if *self == actual {
            Ok(())
        } else {
            Err(Box::new(IntegrityMismatch {
                what: what.to_owned(),
                expected: self.clone(),
                actual,
            }))
        }
    }
}

impl fmt::Display for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha512-{}", STANDARD.encode(self.0))
    }
}

impl fmt::Debug for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A writer that hashes everything passing through it, so a download is verified while it is
/// written to disk instead of being read twice.
pub struct IntegrityWriter<W> {
    inner: W,
    hasher: Sha512,
}

impl<W: Write> IntegrityWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        IntegrityWriter {
            inner,
            hasher: Sha512::new(),
        }
    }

    /// The wrapped writer and the integrity of all bytes written.
    pub fn finish(self) -> (W, Integrity) {
        (self.inner, Integrity(self.hasher.finalize().into()))
    }
}

impl<W: Write> Write for IntegrityWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The integrity npm reports for an empty body (sha512 of "").
    const EMPTY: &str = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";

    #[test]
    fn parses_and_prints_npm_integrity() {
        let i = Integrity::parse(EMPTY).unwrap();
        assert_eq!(i.to_string(), EMPTY);
        assert_eq!(Integrity::of(b""), i);
    }

    #[test]
    fn rejects_other_algorithms_and_truncated_values() {
        assert!(Integrity::parse("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=").is_err());
        assert!(Integrity::parse("sha512-AAAA").is_err());
        assert!(Integrity::parse("z4PhNX7vuL3x").is_err());
    }

    #[test]
    fn a_tampered_file_is_rejected() {
        let original = b"the real tarball".to_vec();
        let locked = Integrity::of(&original);
        let mut writer = IntegrityWriter::new(Vec::new());
        writer.write_all(&original).unwrap();
        let (_, got) = writer.finish();
        locked.check("pkg@1", got).unwrap();

        let mut tampered = original.clone();
        tampered[3] ^= 1;
        let err = locked.check("pkg@1", Integrity::of(&tampered)).unwrap_err();
        assert!(err.to_string().contains("pkg@1"));
        assert!(err.to_string().contains("tampered"));
    }
}
