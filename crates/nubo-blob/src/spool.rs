//! Local staging of incoming bytes, hashed as they stream in.

use std::path::{Path, PathBuf};

use std::io::Write;

use bytes::Bytes;
use md5::Md5;
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

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

    /// Starts a staging file that refuses to grow past `limit` bytes.
    pub async fn writer(&self, limit: u64) -> Result<SpoolWriter, BlobError> {
        let dir = self.dir.clone();
        let named = tokio::task::spawn_blocking(move || {
            tempfile::Builder::new().prefix("spool-").tempfile_in(dir)
        })
        .await
        .map_err(std::io::Error::other)??;
        let (file, path) = named.into_parts();
        // Two threads, so the two hashes and the write overlap with each other
        // and with receiving: MD5 alone, SHA-256 with the buffered write.
        let (sink, sink_rx) = mpsc::channel::<Bytes>(PIPELINE_DEPTH);
        let (md5, md5_rx) = mpsc::channel::<Bytes>(PIPELINE_DEPTH);
        let sink_task = tokio::task::spawn_blocking(move || write_and_hash(file, sink_rx));
        let md5_task = tokio::task::spawn_blocking(move || md5_of(md5_rx));
        Ok(SpoolWriter {
            path,
            sink,
            sink_task,
            md5,
            md5_task,
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

/// Chunks in flight per pipeline stage: bounds memory to a few MiB.
const PIPELINE_DEPTH: usize = 16;

/// A staging file being written.
pub struct SpoolWriter {
    path: TempPath,
    sink: mpsc::Sender<Bytes>,
    sink_task: JoinHandle<std::io::Result<String>>,
    md5: mpsc::Sender<Bytes>,
    md5_task: JoinHandle<String>,
    len: u64,
    limit: u64,
}

fn write_and_hash(
    mut file: std::fs::File,
    mut rx: mpsc::Receiver<Bytes>,
) -> std::io::Result<String> {
    let mut sha = Sha256::new();
    // Chunks arrive as network buffers of tens of KiB: written as they are,
    // since copying them into a bigger buffer costs more than the syscalls.
    while let Some(chunk) = rx.blocking_recv() {
        sha.update(&chunk);
        file.write_all(&chunk)?;
    }
    file.sync_all()?;
    Ok(hex::encode(sha.finalize()))
}

fn md5_of(mut rx: mpsc::Receiver<Bytes>) -> String {
    let mut md5 = Md5::new();
    while let Some(chunk) = rx.blocking_recv() {
        md5.update(&chunk);
    }
    hex::encode(md5.finalize())
}

impl SpoolWriter {
    /// Appends a chunk; it is hashed and written on the pipeline threads.
    pub async fn write(&mut self, chunk: impl Into<Bytes>) -> Result<(), BlobError> {
        let chunk = chunk.into();
        self.len += chunk.len() as u64;
        if self.len > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        if self.md5.send(chunk.clone()).await.is_err() || self.sink.send(chunk).await.is_err() {
            // A stage stopped early: only the writer can fail, so ask it why.
            return Err(self.stage_error().await);
        }
        Ok(())
    }

    async fn stage_error(&mut self) -> BlobError {
        let (closed, _) = mpsc::channel(1);
        self.sink = closed;
        match (&mut self.sink_task).await {
            Ok(Err(e)) => BlobError::Io(e),
            Ok(Ok(_)) => BlobError::Io(std::io::Error::other("spool writer stopped")),
            Err(e) => BlobError::Io(std::io::Error::other(e)),
        }
    }

    /// Waits for the pipeline, so the file is written, fsynced and hashed.
    pub async fn finish(self) -> Result<SpooledFile, BlobError> {
        let SpoolWriter {
            path,
            sink,
            sink_task,
            md5,
            md5_task,
            len,
            ..
        } = self;
        drop((sink, md5));
        let sha256_hex = sink_task.await.map_err(std::io::Error::other)??;
        let md5_hex = md5_task.await.map_err(std::io::Error::other)?;
        Ok(SpooledFile {
            path,
            digest: ContentDigest {
                sha256_hex,
                md5_hex,
                len,
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
