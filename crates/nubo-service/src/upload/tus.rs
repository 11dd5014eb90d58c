//! tus 1.0 resumable uploads (core, creation, creation-with-upload,
//! termination, expiration): what Uppy and tus-js-client speak. The upload
//! parameters and their signature travel in `Upload-Metadata` and are
//! checked when the upload is created; the upload id is then the
//! capability for its `PATCH`es. Bytes go through the same chunk store as
//! `upload_large`, so a restart loses nothing, and the finished file goes
//! through the ordinary upload, as the creator.

use nubo_blob::SpooledFile;
use nubo_catalog::{ChunkOutcome, ChunkPart, ChunkSession, TusUpload};
use nubo_core::{CloudName, UploadResourceType};
use serde_json::Value;

use super::chunked::CHUNK_SESSION_TTL_SECONDS;
use super::{FileInput, UploadRequest};
use crate::{now, Caller, Credentials, Params, Result, Service, ServiceError};

/// Metadata keys tus clients add on their own (Uppy, tus-js-client): not
/// upload parameters, so not part of the signature. `filename` names the
/// original file.
const CLIENT_KEYS: &[&str] = &["filename", "filetype", "name", "type", "relativePath"];

/// Where a tus upload stands.
#[derive(Debug, Clone, PartialEq)]
pub struct TusState {
    pub upload_id: String,
    pub offset: u64,
    pub length: u64,
    /// Unix seconds.
    pub expires_at: i64,
    /// The upload response once the last byte is in.
    pub result: Option<Value>,
}

impl From<&TusUpload> for TusState {
    fn from(t: &TusUpload) -> Self {
        TusState {
            upload_id: t.upload_id.clone(),
            offset: t.offset as u64,
            length: t.length as u64,
            expires_at: t.expires_at,
            result: t.result.clone(),
        }
    }
}

/// A `POST` that creates an upload.
#[derive(Debug)]
pub struct TusCreate {
    pub cloud: CloudName,
    pub resource_type: UploadResourceType,
    pub length: u64,
    /// `Upload-Metadata`, decoded.
    pub metadata: Vec<(String, String)>,
    pub creds: Credentials,
}

fn session(t: &TusUpload) -> ChunkSession {
    ChunkSession {
        cloud: t.cloud.clone(),
        owner: "tus".into(),
        upload_id: t.upload_id.clone(),
    }
}

impl Service {
    pub async fn tus_create(&self, c: TusCreate) -> Result<TusState> {
        let params = Params::from_pairs(
            c.metadata
                .iter()
                .filter(|(k, _)| !CLIENT_KEYS.contains(&k.as_str()))
                .cloned(),
        );
        let caller = self
            .authorize_upload(&c.cloud, "upload", &params, &c.creds)
            .await?;
        if c.length == 0 {
            return Err(ServiceError::InvalidParam("Empty file".into()));
        }
        let limit = self.upload_limit(c.resource_type);
        if c.length > limit {
            return Err(ServiceError::FileTooLarge {
                got: c.length,
                max: limit,
            });
        }
        let at = now();
        let mut stored: Vec<(String, String)> =
            params.iter().map(|(k, v)| (k.into(), v.into())).collect();
        if let Some((_, name)) = c.metadata.iter().find(|(k, _)| k == "filename") {
            stored.push(("tus:filename".into(), name.clone()));
        }
        let upload = TusUpload {
            cloud: c.cloud,
            upload_id: hex::encode(rand::random::<[u8; 16]>()),
            resource_type: c.resource_type.as_str().to_owned(),
            caller: caller.id(),
            params: stored,
            length: c.length as i64,
            offset: 0,
            result: None,
            created_at: at,
            expires_at: at + CHUNK_SESSION_TTL_SECONDS,
        };
        self.catalog.put_tus_upload(&upload).await?;
        Ok(TusState::from(&upload))
    }

    async fn live_tus(&self, cloud: &CloudName, id: &str) -> Result<TusUpload> {
        match self.catalog.tus_upload(cloud, id).await? {
            Some(t) if t.expires_at >= now() => Ok(t),
            _ => Err(ServiceError::NotFound(format!("tus upload {id}"))),
        }
    }

    /// `HEAD`: the offset to resume from.
    pub async fn tus_state(&self, cloud: &CloudName, id: &str) -> Result<TusState> {
        Ok(TusState::from(&self.live_tus(cloud, id).await?))
    }

    /// `GET`: the upload response of a finished upload (a Nubo addition:
    /// a tus `PATCH` answers 204, without a body).
    pub async fn tus_result(&self, cloud: &CloudName, id: &str) -> Result<Value> {
        self.live_tus(cloud, id)
            .await?
            .result
            .ok_or_else(|| ServiceError::NotFound(format!("tus upload {id} is not complete")))
    }

    /// `PATCH`: bytes at `offset`, which must be where the upload stands.
    pub async fn tus_append(
        &self,
        cloud: &CloudName,
        id: &str,
        offset: u64,
        body: SpooledFile,
    ) -> Result<TusState> {
        let mut t = self.live_tus(cloud, id).await?;
        if offset != t.offset as u64 {
            return Err(ServiceError::OffsetMismatch {
                expected: t.offset as u64,
                got: offset,
            });
        }
        let len = body.digest().len;
        if offset + len > t.length as u64 {
            return Err(ServiceError::InvalidParam(format!(
                "{len} bytes at offset {offset} exceed the upload's length of {}",
                t.length
            )));
        }
        if len == 0 {
            return Ok(TusState::from(&t));
        }
        let blob = self.store_blob(body).await?;
        let part = ChunkPart {
            first: offset as i64,
            last: (offset + len - 1) as i64,
            blob_key: blob.clone(),
        };
        let parts = match self
            .catalog
            .put_chunk(&session(&t), &part, Some(t.length), now())
            .await?
        {
            ChunkOutcome::Inconsistent(why) => {
                self.release_blob(&blob).await;
                return Err(ServiceError::InvalidParam(format!(
                    "Inconsistent upload: {why}"
                )));
            }
            ChunkOutcome::Stored { parts, .. } => parts,
        };
        t.offset += len as i64;
        t.expires_at = now() + CHUNK_SESSION_TTL_SECONDS;
        if let Some(parts) = parts {
            t.result = Some(self.finish_tus(&t, &parts).await?);
        }
        self.catalog.put_tus_upload(&t).await?;
        Ok(TusState::from(&t))
    }

    async fn finish_tus(&self, t: &TusUpload, parts: &[ChunkPart]) -> Result<Value> {
        let rt = UploadResourceType::parse(&t.resource_type)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let file = self.assemble(parts, t.length as u64).await?;
        let filename = t
            .params
            .iter()
            .find(|(k, _)| k == "tus:filename")
            .map(|(_, v)| v.clone());
        let params = Params::from_pairs(
            t.params
                .iter()
                .filter(|(k, _)| !k.starts_with("tus:"))
                .cloned(),
        );
        let caller = self.caller_by_id(&t.cloud, &t.caller).await?;
        let outcome = self
            .upload_as(
                caller,
                UploadRequest {
                    cloud: t.cloud.clone(),
                    resource_type: rt,
                    params,
                    creds: Credentials::None,
                    file: FileInput::Spooled { file, filename },
                },
            )
            .await;
        if !matches!(&outcome, Err(e) if e.kind() == crate::ErrorKind::Internal) {
            for key in self.catalog.delete_chunk_session(&session(t)).await? {
                self.release_blob(&key).await;
            }
        }
        if outcome.is_err() {
            self.catalog
                .delete_tus_upload(&t.cloud, &t.upload_id)
                .await?;
        }
        outcome
    }

    /// `DELETE`: the upload and its bytes go.
    pub async fn tus_terminate(&self, cloud: &CloudName, id: &str) -> Result<()> {
        let t = self.live_tus(cloud, id).await?;
        for key in self.catalog.delete_chunk_session(&session(&t)).await? {
            self.release_blob(&key).await;
        }
        self.catalog.delete_tus_upload(cloud, id).await?;
        Ok(())
    }

    /// Drops expired tus uploads and their bytes.
    pub(crate) async fn expire_tus_uploads(&self, now: i64) -> Result<usize> {
        let mut dropped = 0;
        loop {
            let expired = self.catalog.expired_tus_uploads(now, 100).await?;
            if expired.is_empty() {
                return Ok(dropped);
            }
            for t in expired {
                for key in self.catalog.delete_chunk_session(&session(&t)).await? {
                    self.release_blob(&key).await;
                }
                self.catalog
                    .delete_tus_upload(&t.cloud, &t.upload_id)
                    .await?;
                dropped += 1;
            }
        }
    }

    /// The creator, looked up again: a key revoked since cannot finish.
    pub(crate) async fn caller_by_id(&self, cloud: &CloudName, id: &str) -> Result<Caller> {
        let gone = || {
            ServiceError::Unauthorized(
                "The credential that created this upload is no longer valid".into(),
            )
        };
        match id.split_once(':') {
            Some(("key", key)) => match self.catalog.api_key(cloud, key).await? {
                Some(k) if k.revoked_at.is_none() => Ok(Caller::Key(k)),
                _ => Err(gone()),
            },
            Some(("preset", name)) => match self.catalog.preset(cloud, name).await? {
                Some(p) if p.unsigned => Ok(Caller::Unsigned(p)),
                _ => Err(gone()),
            },
            Some(("token", tid)) => {
                let tokens = self.catalog.list_tokens(cloud).await?;
                match tokens.into_iter().find(|t| t.id == tid) {
                    Some(t) if t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now()) => {
                        Ok(Caller::Token(t))
                    }
                    _ => Err(gone()),
                }
            }
            _ => Err(gone()),
        }
    }
}

/// `Upload-Metadata`: `key base64,key2 base64` (a value may be absent).
pub fn parse_upload_metadata(raw: &str) -> Result<Vec<(String, String)>> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| {
                ServiceError::InvalidParam(format!("Upload-Metadata value of {key} is not base64"))
            })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ServiceError::InvalidParam(format!("Upload-Metadata value of {key} is not UTF-8"))
        })?;
        out.push((key.to_owned(), text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn upload_metadata_pairs() {
        let got =
            super::parse_upload_metadata("public_id YS9i, filename aGkucG5n,is_private").unwrap();
        assert_eq!(
            got,
            vec![
                ("public_id".into(), "a/b".into()),
                ("filename".into(), "hi.png".into()),
                ("is_private".into(), String::new())
            ]
        );
        assert!(super::parse_upload_metadata("k !!!").is_err());
    }
}
