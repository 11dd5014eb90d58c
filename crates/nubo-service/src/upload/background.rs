//! `async=true` uploads: the file is stored at once and the call answers
//! `{"status":"pending",…}`; a worker runs the rest of the upload (probing,
//! incoming transformation, eager, notification) from the stored bytes.
//! The source blob is pinned for a week so a long queue cannot lose it.

use nubo_catalog::JobRecord;
use nubo_core::UploadResourceType;
use serde_json::{json, Map, Value};

use super::{FileInput, UploadRequest};
use crate::jobs::{Failure, Task};
use crate::{Caller, Credentials, Params, Result, Service, ServiceError};

/// How long the stored source of a background upload is kept unreferenced.
const SOURCE_PIN_SECONDS: i64 = 7 * 86_400;

impl Service {
    /// Stores the file, queues the upload and answers `pending`.
    pub(super) async fn upload_in_background(
        &self,
        caller: &Caller,
        req: UploadRequest,
    ) -> Result<Value> {
        // A bad notification_url is refused now, not in the background.
        self.notify_target(&req.cloud, req.params.get("notification_url"), caller)
            .await?;
        let (spooled, filename) = self.spool_source(req.file).await?;
        let limit = self.upload_limit(req.resource_type);
        if spooled.digest().len > limit {
            return Err(ServiceError::FileTooLarge {
                got: spooled.digest().len,
                max: limit,
            });
        }
        let key = self.store_blob_pinned(spooled, SOURCE_PIN_SECONDS).await?;
        let mut params = req.params.clone();
        params.remove("async");
        let batch_id = hex::encode(rand::random::<[u8; 32]>());
        let task = Task::Upload {
            resource_type: req.resource_type.as_str().into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            caller: caller.id(),
            source_blob: key,
            filename,
            batch_id: batch_id.clone(),
        };
        self.enqueue(&req.cloud, &task).await?;
        let mut out = json!({
            "status": "pending",
            "batch_id": batch_id,
            "type": params.get("type").unwrap_or("upload"),
            "resource_type": req.resource_type.as_str(),
        });
        if let Some(id) = params.get("public_id") {
            out["public_id"] = json!(id);
        }
        Ok(out)
    }

    /// The worker's half. A file that cannot become an asset fails for good
    /// and, when the call named a notification URL, says so there.
    pub(crate) async fn run_background_upload(
        &self,
        job: &JobRecord,
        task: Task,
    ) -> Result<String, Failure> {
        let Task::Upload {
            resource_type,
            params,
            caller,
            source_blob,
            filename,
            batch_id,
        } = task
        else {
            unreachable!("called with an upload task")
        };
        let params = Params::from_pairs(params);
        let caller = self.caller_by_id(&job.cloud, &caller).await?;
        let rt = UploadResourceType::parse(&resource_type)
            .map_err(|e| Failure::Permanent(e.to_string()))?;
        let file = self
            .spool_blobs(&[source_blob.as_str()], self.limits().max_any_bytes())
            .await?;
        let req = UploadRequest {
            cloud: job.cloud.clone(),
            resource_type: rt,
            params: params.clone(),
            creds: Credentials::None,
            file: FileInput::Spooled { file, filename },
        };
        match self.upload_as(caller.clone(), req).await {
            Ok(v) => Ok(format!(
                "stored {}",
                v["public_id"].as_str().unwrap_or_default()
            )),
            Err(e) => {
                let failure = Failure::from(e);
                if let Failure::Permanent(message) = &failure {
                    self.notify_failed_upload(job, &caller, &params, &batch_id, message)
                        .await?;
                }
                Err(failure)
            }
        }
    }

    async fn notify_failed_upload(
        &self,
        job: &JobRecord,
        caller: &Caller,
        params: &Params,
        batch_id: &str,
        message: &str,
    ) -> Result<()> {
        let Some(target) = self
            .notify_target(&job.cloud, params.get("notification_url"), caller)
            .await?
        else {
            return Ok(());
        };
        let mut body = Map::new();
        body.insert("status".into(), "failed".into());
        body.insert("batch_id".into(), batch_id.into());
        body.insert("error".into(), json!({ "message": message }));
        if let Some(id) = params.get("public_id") {
            body.insert("public_id".into(), id.into());
        }
        let id = format!("{}.notify", job.id);
        self.notify_as(&job.cloud, &target, "upload", body, Some(&id))
            .await
    }
}
