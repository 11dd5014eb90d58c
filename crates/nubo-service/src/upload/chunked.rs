//! Chunked uploads (`upload_large`): each chunk is a signed upload request
//! with `X-Unique-Upload-Id` and `Content-Range`. Chunks are stored as
//! blobs and recorded in the catalog as they arrive, in any order, so a
//! server restart loses nothing; once every byte is in, the chunks are
//! streamed, in order, into one spooled file (constant memory) and that
//! goes through the ordinary upload.

use futures_util::StreamExt;
use nubo_blob::BlobKey;
use nubo_catalog::{ChunkOutcome, ChunkPart, ChunkSession};
use serde_json::{json, Value};

use super::{FileInput, UploadRequest};
use crate::{now, Result, Service, ServiceError};

/// A chunk's place in the file, from the request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRange {
    /// `X-Unique-Upload-Id`.
    pub upload_id: String,
    pub first: u64,
    pub last: u64,
    /// `None` for Node's `-1` on chunks before the last.
    pub total: Option<u64>,
}

impl ChunkRange {
    /// Whether this one request carries the whole file.
    pub fn is_whole(&self) -> bool {
        self.first == 0 && self.total == Some(self.last + 1)
    }
}

/// How long an unfinished session keeps its chunks after the last one.
pub const CHUNK_SESSION_TTL_SECONDS: i64 = 24 * 3600;

fn bad(msg: impl Into<String>) -> ServiceError {
    ServiceError::InvalidParam(msg.into())
}

impl Service {
    /// One chunk: `{"done": false, …}` until the file is complete, then
    /// the full upload response.
    pub async fn upload_chunk(&self, req: UploadRequest, range: ChunkRange) -> Result<Value> {
        let caller = self
            .authorize_upload(&req.cloud, "upload", &req.params, &req.creds)
            .await?;
        let valid_id = !range.upload_id.is_empty()
            && range.upload_id.len() <= 64
            && range
                .upload_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if !valid_id {
            return Err(bad("Invalid X-Unique-Upload-Id"));
        }
        if range.last < range.first || range.total.is_some_and(|t| range.last >= t) {
            return Err(bad("Invalid Content-Range"));
        }
        let limit = self.upload_limit(req.resource_type);
        let size = range.total.unwrap_or(range.last + 1);
        if size > limit {
            return Err(ServiceError::FileTooLarge {
                got: size,
                max: limit,
            });
        }
        let FileInput::Spooled { file, filename } = req.file else {
            return Err(bad("A chunk must be sent as a file part"));
        };
        let expected = range.last - range.first + 1;
        if file.digest().len != expected {
            return Err(bad(format!(
                "Chunk is {} bytes but Content-Range says {expected}",
                file.digest().len
            )));
        }
        let session = ChunkSession {
            cloud: req.cloud.clone(),
            // Sessions are per credential: one app cannot write into another's.
            owner: caller.id(),
            upload_id: range.upload_id.clone(),
        };
        let blob = self.store_blob(file).await?;
        let part = ChunkPart {
            first: range.first as i64,
            last: range.last as i64,
            blob_key: blob.clone(),
        };
        let total = range.total.map(|t| t as i64);
        let (received, parts) = match self
            .catalog
            .put_chunk(&session, &part, total, now())
            .await?
        {
            ChunkOutcome::Inconsistent(why) => {
                self.release_blob(&blob).await;
                return Err(bad(format!("Inconsistent chunk: {why}")));
            }
            ChunkOutcome::Stored {
                received,
                replaced_blob,
                parts,
                ..
            } => {
                if let Some(old) = replaced_blob {
                    self.release_blob(&old).await;
                }
                (received, parts)
            }
        };
        let Some(parts) = parts else {
            let mut out = json!({ "done": false, "bytes": received });
            // Python copies this into the next chunk: only a given id.
            if let Some(id) = req.params.get("public_id") {
                out["public_id"] = json!(id);
            }
            if let Some(rt) = req.resource_type.fixed() {
                out["resource_type"] = json!(rt.as_str());
            }
            return Ok(out);
        };
        let file = self.assemble(&parts, limit).await?;
        let outcome = self
            .upload(UploadRequest {
                file: FileInput::Spooled { file, filename },
                ..req
            })
            .await;
        // A bad file will not get better: only an internal failure keeps
        // the chunks for the client to send the last one again.
        if !matches!(&outcome, Err(e) if e.kind() == crate::ErrorKind::Internal) {
            for key in self.catalog.delete_chunk_session(&session).await? {
                self.release_blob(&key).await;
            }
        }
        outcome
    }

    /// The chunks, in order, as one spooled (and hashed) file.
    pub(super) async fn assemble(
        &self,
        parts: &[ChunkPart],
        limit: u64,
    ) -> Result<nubo_blob::SpooledFile> {
        let keys: Vec<&str> = parts.iter().map(|p| p.blob_key.as_str()).collect();
        self.spool_blobs(&keys, limit).await
    }

    /// Stored blobs, in order, streamed into one spooled (and hashed) file.
    pub(super) async fn spool_blobs(
        &self,
        keys: &[&str],
        limit: u64,
    ) -> Result<nubo_blob::SpooledFile> {
        let mut w = self.blobs.spool().writer(limit).await?;
        for key in keys {
            let read = self.blobs.open(&BlobKey::parse(key)?, None).await?;
            let mut body = read.body;
            while let Some(chunk) = body.next().await {
                w.write(chunk.map_err(|e| ServiceError::Internal(e.to_string()))?)
                    .await?;
            }
        }
        Ok(w.finish().await?)
    }

    /// The largest file an upload of `rt` may bring (`auto`: any type's).
    pub(super) fn upload_limit(&self, rt: nubo_core::UploadResourceType) -> u64 {
        match rt.fixed() {
            Some(rt) => self.limits().max_bytes(rt),
            None => self.limits().max_any_bytes(),
        }
    }

    /// Drops sessions idle for longer than [`CHUNK_SESSION_TTL_SECONDS`]
    /// and releases their chunks; returns how many were dropped.
    pub async fn expire_chunk_sessions(&self, now: i64) -> Result<usize> {
        let mut dropped = 0;
        loop {
            let stale = self
                .catalog
                .stale_chunk_sessions(now - CHUNK_SESSION_TTL_SECONDS, 100)
                .await?;
            if stale.is_empty() {
                return Ok(dropped);
            }
            for s in stale {
                for key in self.catalog.delete_chunk_session(&s).await? {
                    self.release_blob(&key).await;
                }
                dropped += 1;
            }
        }
    }
}
