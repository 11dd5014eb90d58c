//! Local staging of incoming bytes, hashed as they stream in.

use std::path::{Path, PathBuf};

use md5::Md5;
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::BlobError;

/// What a spooled file's bytes hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDigest {
    pub sha256_hex: String,
    pub md5_hex: String,
    pub len: u64,
}

/// A directory of staging files on the same filesystem as the blobs, so a
/// finished file can be renamed into place.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts a staging file that refuses to grow past `limit` bytes.
    pub async fn writer(&self, limit: u64) -> Result<SpoolWriter, BlobError> {
        let dir = self.dir.clone();
        let named = tokio::task::spawn_blocking(move || {
            tempfile::Builder::new().prefix("spool-").tempfile_in(dir)
        })
        .await
        .map_err(std::io::Error::other)??;
        let (file, path) = named.into_parts();
        Ok(SpoolWriter {
            file: tokio::fs::File::from_std(file),
            path,
            sha256: Sha256::new(),
            md5: Md5::new(),
            len: 0,
            limit,
        })
    }

    /// Deletes staging files older than `age`: what a killed process left.
    pub fn sweep(&self, age: std::time::Duration) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .map(|t| t.elapsed().unwrap_or_default() > age)
                .unwrap_or(false);
            if old && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// A staging file being written.
pub struct SpoolWriter {
    file: tokio::fs::File,
    path: TempPath,
    sha256: Sha256,
    md5: Md5,
    len: u64,
    limit: u64,
}

impl SpoolWriter {
    /// Appends a chunk, hashing it on the way through.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.len += chunk.len() as u64;
        if self.len > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        self.sha256.update(chunk);
        self.md5.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Flushes and fsyncs, so the file can be renamed into durable storage.
    pub async fn finish(mut self) -> Result<SpooledFile, BlobError> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        Ok(SpooledFile {
            path: self.path,
            digest: ContentDigest {
                sha256_hex: hex::encode(self.sha256.finalize()),
                md5_hex: hex::encode(self.md5.finalize()),
                len: self.len,
            },
        })
    }
}

/// A complete staging file. It is deleted when dropped unless stored.
#[derive(Debug)]
pub struct SpooledFile {
    path: TempPath,
    digest: ContentDigest,
}

impl SpooledFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn digest(&self) -> &ContentDigest {
        &self.digest
    }

    /// Hands the path over to a store that moves or deletes the file itself.
    pub(crate) fn into_temp_path(self) -> TempPath {
        self.path
    }
}
