//! The local-disk blob store: the embedded default.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::{BlobError, BlobKey, BlobRead, BlobStore, ByteRange, Spool, SpooledFile};

/// Blobs as files under `<root>/blobs/ab/cd/<key>`, staged in `<root>/tmp`.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    blobs: PathBuf,
    spool: Spool,
}

impl FsBlobStore {
    /// Opens (creating if needed) a store rooted at `root`.
    pub fn open(root: impl AsRef<Path>) -> std::io::Result<Self> {
        let root = root.as_ref();
        let blobs = root.join("blobs");
        std::fs::create_dir_all(&blobs)?;
        let spool = Spool::new(root.join("tmp"))?;
        Ok(Self { blobs, spool })
    }

    fn path_of(&self, key: &BlobKey) -> PathBuf {
        let hash = key.sha256_hex();
        self.blobs
            .join(&hash[..2])
            .join(&hash[2..4])
            .join(key.as_str())
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    fn spool(&self) -> &Spool {
        &self.spool
    }

    async fn put(&self, key: &BlobKey, file: SpooledFile) -> Result<(), BlobError> {
        let target = self.path_of(key);
        let temp = file.into_temp_path();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let dir = target.parent().expect("blob paths have a parent");
            std::fs::create_dir_all(dir)?;
            // The spool file was fsynced by SpoolWriter::finish; the rename is
            // atomic, and syncing the directory makes the new entry durable.
            temp.persist(&target).map_err(|e| e.error)?;
            std::fs::File::open(dir)?.sync_all()
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(())
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        Ok(tokio::fs::try_exists(self.path_of(key)).await?)
    }

    async fn open(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobRead, BlobError> {
        let mut file = match tokio::fs::File::open(self.path_of(key)).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound(key.as_str().to_owned()))
            }
            Err(e) => return Err(e.into()),
        };
        let total = file.metadata().await?.len();
        let range = range.unwrap_or(ByteRange {
            start: 0,
            end: total,
        });
        if range.start > range.end || range.end > total {
            return Err(BlobError::BadRange {
                start: range.start,
                end: range.end,
                total,
            });
        }
        file.seek(SeekFrom::Start(range.start)).await?;
        let limited = file.take(range.end - range.start);
        let body = ReaderStream::with_capacity(limited, 64 * 1024).boxed();
        Ok(BlobRead { total, range, body })
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fs_store_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        crate::testkit::run_all(&store).await;
    }

    #[tokio::test]
    async fn sweep_removes_only_old_staging_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let mut w = store.spool().writer(10).await.unwrap();
        w.write(&b"abc"[..]).await.unwrap();
        let kept = w.finish().await.unwrap();
        std::mem::forget(kept); // what a killed process leaves behind
        assert_eq!(
            store
                .spool()
                .sweep(std::time::Duration::from_secs(3600))
                .unwrap(),
            0
        );
        assert_eq!(store.spool().sweep(std::time::Duration::ZERO).unwrap(), 1);
    }
}
