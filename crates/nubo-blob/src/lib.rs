//! Blob storage for originals and derived files.
//!
//! Core abstractions:
//! - [`Spool`] / [`SpoolWriter`]: local staging. Incoming bytes are written to
//!   a temp file while their SHA-256 (the content address) and MD5 (the
//!   Cloudinary `etag`) are computed, so nothing is read twice.
//! - [`SpooledFile`]: a finished, fsynced staging file. Dropping it deletes it.
//! - [`BlobStore`]: the durable store, addressed by [`BlobKey`]. A blob becomes
//!   visible only once complete (temp file, fsync, rename for [`FsBlobStore`]).
//!
//! Which keys are still referenced is the catalog's business: this crate
//! stores and deletes bytes, and never decides when.
#![forbid(unsafe_code)]

mod fs;
mod spool;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

pub use fs::FsBlobStore;
pub use spool::{ContentDigest, Spool, SpoolWriter, SpooledFile};

/// Where a blob lives: `<sha256 hex>.<generation>`. The generation lets a
/// blob be collected and re-created under the same content hash without a
/// concurrent writer ever seeing its bytes deleted (see the catalog's GC).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// A new key for content with this SHA-256, with a fresh generation.
    pub fn new_generation(sha256_hex: &str) -> Self {
        Self(format!("{sha256_hex}.{:08x}", rand::random::<u32>()))
    }

    /// Accepts a key read back from the catalog.
    pub fn parse(raw: &str) -> Result<Self, BlobError> {
        let (hash, generation) = raw
            .split_once('.')
            .ok_or_else(|| BlobError::BadKey(raw.to_owned()))?;
        let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        if hex(hash, 64) && hex(generation, 8) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(BlobError::BadKey(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn sha256_hex(&self) -> &str {
        &self.0[..64]
    }
}

/// A byte range within a blob, inclusive start, exclusive end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

/// A readable blob (or a range of it).
pub struct BlobRead {
    /// Size of the whole blob.
    pub total: u64,
    /// The bytes served: the whole blob or the requested range.
    pub range: ByteRange,
    pub body: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
}

/// Blob store failures.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} not found")]
    NotFound(String),
    #[error("invalid blob key {0:?}")]
    BadKey(String),
    #[error("content is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("range {start}-{end} is outside a blob of {total} bytes")]
    BadRange { start: u64, end: u64, total: u64 },
    #[error("blob store I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// Durable, content-addressed byte storage.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// The local staging area uploads are spooled into before [`BlobStore::put`].
    fn spool(&self) -> &Spool;

    /// Stores a spooled file under `key`. When this returns, the bytes are
    /// durable and complete; until then, nothing is visible under `key`.
    /// Storing the same content twice under one key is harmless.
    async fn put(&self, key: &BlobKey, file: SpooledFile) -> Result<(), BlobError>;

    /// Whether complete bytes exist under `key`.
    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError>;

    /// Opens the blob, or the part of it within `range`.
    async fn open(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobRead, BlobError>;

    /// Deletes the blob. Deleting a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_carry_their_hash() {
        let hash = "ab".repeat(32);
        let key = BlobKey::new_generation(&hash);
        assert_eq!(key.sha256_hex(), hash);
        assert_eq!(BlobKey::parse(key.as_str()).unwrap(), key);
        assert!(BlobKey::parse("../etc/passwd").is_err());
        assert!(BlobKey::parse(&format!("{hash}.zz")).is_err());
    }
}
