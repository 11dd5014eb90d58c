//! Background work on the catalog's durable job queue: eager renditions
//! (`eager_async`), webhook deliveries and dropping derived files.
//!
//! Core abstractions:
//! - [`Task`]: what a job does, stored as its JSON payload.
//! - [`JobSettings`]: workers, lease and heartbeat, backoff, attempt budgets.
//! - [`Service::run_jobs`]: the worker loop every node runs. It claims due
//!   jobs under a lease, keeps the lease alive while a job runs, and ends
//!   each attempt as done, retried later (exponential backoff with jitter) or
//!   dead. A node that dies leaves its leases to expire; another node (or
//!   the same one restarted) takes the jobs over.

mod listing;
mod notify;

use std::sync::Arc;
use std::time::Duration;

use nubo_catalog::{AssetLocator, AssetScope, Claim, JobEnd, JobRecord, Lease, NewJob};
use nubo_core::{random_id, CloudName, DeliveryType, PublicId, ResourceType};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore};

use notify::webhook_task;
pub(crate) use notify::{metadata_changed, object, resource_ref, NotifyTarget};
pub use notify::{validate_notification_url, NOTIFICATION_URL_SETTING};

use crate::signing::SignatureAlgorithm;
use crate::{ErrorKind, Result, Service, ServiceError};

/// How the queue runs on this node.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Jobs this node runs at once (0 = run none: a node that only serves).
    pub workers: usize,
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// How often to look for due jobs when nothing wakes the loop.
    pub poll: Duration,
    /// First retry delay; it doubles per attempt up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Attempts of a webhook before it is dead.
    pub webhook_attempts: i64,
    pub webhook_timeout: Duration,
    /// Attempts of other jobs (renders fail for good quickly).
    pub job_attempts: i64,
    /// Longest one attempt may run.
    pub job_timeout: Duration,
    pub signature_algorithm: SignatureAlgorithm,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            workers: 4,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            backoff_base: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(3600),
            webhook_attempts: 8,
            webhook_timeout: Duration::from_secs(10),
            job_attempts: 3,
            job_timeout: Duration::from_secs(600),
            signature_algorithm: SignatureAlgorithm::Sha1,
        }
    }
}

/// What a job does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Task {
    /// POST `body` (exactly these bytes) to `url`, signed at send time.
    Webhook {
        url: String,
        notification_type: String,
        body: String,
        /// The API key whose secret signs it (another active key of the
        /// cloud if it was revoked meanwhile).
        signer: Option<String>,
    },
    /// Render an asset version's eager transformations, then notify.
    Eager {
        resource_type: String,
        delivery_type: String,
        public_id: String,
        version: i64,
        eager: String,
        batch_id: String,
        notify: Option<String>,
        signer: Option<String>,
    },
    /// The rest of an `async=true` upload, from its stored source.
    Upload {
        resource_type: String,
        /// The request's parameters (signature already checked).
        params: Vec<(String, String)>,
        /// [`crate::Caller::id`] of who uploaded; checked again when it runs.
        caller: String,
        source_blob: String,
        filename: Option<String>,
        batch_id: String,
    },
    /// Forget an asset's derived files (but those of `keep_version`) and
    /// collect their bytes.
    DropDerived {
        asset_id: String,
        keep_version: Option<i64>,
    },
}

impl Task {
    fn kind(&self) -> &'static str {
        match self {
            Task::Webhook { .. } => "webhook",
            Task::Eager { .. } => "eager",
            Task::DropDerived { .. } => "drop_derived",
            Task::Upload { .. } => "upload",
        }
    }
}

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug)]
pub(crate) enum Failure {
    Retry(String),
    Permanent(String),
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        match e.kind() {
            ErrorKind::Internal | ErrorKind::RateLimited => Failure::Retry(e.to_string()),
            _ => Failure::Permanent(e.to_string()),
        }
    }
}

/// Wakes this node's worker loop when it enqueues or finishes a job.
#[derive(Default)]
pub(crate) struct Wake(Notify);

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The delay before retry `attempt` (1-based): `base * 2^(attempt-1)`, capped,
/// with "equal jitter" (a uniform draw in the upper half) so that a burst of
/// failures does not retry in lockstep.
pub fn backoff(attempt: i64, base: Duration, cap: Duration, unit_draw: f64) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let full = base.saturating_mul(1u32 << exp.min(30)).min(cap);
    full.mul_f64(0.5 + 0.5 * unit_draw.clamp(0.0, 1.0))
}

impl Service {
    pub(crate) fn job_settings(&self) -> &JobSettings {
        &self.settings.jobs
    }

    /// How many jobs are in each state (all clouds).
    pub async fn job_counts(&self) -> Result<nubo_catalog::JobCounts> {
        Ok(self.catalog.job_counts().await?)
    }

    /// Stores a job; it runs as soon as a worker is free.
    pub(crate) async fn enqueue(&self, cloud: &CloudName, task: &Task) -> Result<String> {
        let id = format!("{}-{}", task.kind(), random_id(16));
        self.enqueue_as(cloud, task, &id).await?;
        Ok(id)
    }

    /// Stores a job under a chosen id; a second enqueue of the same id is a
    /// no-op (a retried job re-enqueueing its follow-up).
    pub(crate) async fn enqueue_as(&self, cloud: &CloudName, task: &Task, id: &str) -> Result<()> {
        let job = self.new_job(cloud, task, id, None);
        self.catalog.enqueue_job(&job).await?;
        self.wake.0.notify_one();
        Ok(())
    }

    fn new_job(&self, cloud: &CloudName, task: &Task, id: &str, claimed: Option<Claim>) -> NewJob {
        let max_attempts = match task {
            Task::Webhook { .. } => self.job_settings().webhook_attempts,
            _ => self.job_settings().job_attempts,
        };
        let now = now_ms();
        NewJob {
            id: id.to_owned(),
            cloud: cloud.clone(),
            kind: task.kind().into(),
            payload: serde_json::to_value(task).expect("tasks serialise"),
            run_at_ms: now,
            max_attempts,
            now_ms: now,
            claimed,
        }
    }

    /// The worker loop: runs until `shutdown` resolves, then waits for the
    /// jobs in hand (up to the lease) so none is left half done.
    pub async fn run_jobs(&self, shutdown: impl std::future::Future<Output = ()>) {
        let settings = self.job_settings().clone();
        if settings.workers == 0 {
            return;
        }
        let owner = format!("{}-{}", std::process::id(), random_id(8));
        let slots = Arc::new(Semaphore::new(settings.workers));
        tokio::pin!(shutdown);
        loop {
            let free = slots.available_permits();
            let mut full_batch = false;
            if free > 0 {
                let lease_ms = millis(settings.lease);
                match self
                    .catalog
                    .claim_jobs(&owner, now_ms(), lease_ms, free as i64)
                    .await
                {
                    Ok(jobs) => {
                        full_batch = jobs.len() == free;
                        for job in jobs {
                            let Ok(permit) = slots.clone().try_acquire_owned() else {
                                break;
                            };
                            let this = self.clone();
                            tokio::spawn(async move {
                                this.run_claimed(job).await;
                                drop(permit);
                                this.wake.0.notify_one();
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming jobs failed"),
                }
            }
            if full_batch {
                continue;
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.0.notified() => {}
                _ = tokio::time::sleep(settings.poll) => {}
            }
        }
        let all = u32::try_from(settings.workers).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(settings.lease, slots.acquire_many(all)).await;
    }

    /// One attempt of a claimed job, with a heartbeat for its lease; then
    /// its follow-up (a notification), which it leased to itself when it
    /// recorded the attempt, so no other claim is needed.
    async fn run_claimed(&self, job: JobRecord) {
        let mut current = Some(job);
        while let Some(job) = current.take() {
            current = self.run_attempt(job).await;
        }
    }

    async fn run_attempt(&self, job: JobRecord) -> Option<JobRecord> {
        let lease = job.lease()?;
        let settings = self.job_settings().clone();
        let started = now_ms();
        let (lost_tx, lost_rx) = tokio::sync::oneshot::channel::<()>();
        let heartbeat = tokio::spawn(heartbeat(self.clone(), lease.clone(), lost_tx));
        let outcome = tokio::select! {
            r = tokio::time::timeout(settings.job_timeout, self.execute(&job)) => match r {
                Ok(r) => r,
                Err(_) => Err(Failure::Retry(format!(
                    "timed out after {} s", settings.job_timeout.as_secs()
                ))),
            },
            _ = lost_rx => {
                tracing::warn!(job = %job.id, "lease lost; another worker has the job");
                heartbeat.abort();
                return None;
            }
        };
        heartbeat.abort();
        let (end, follow_up) = match outcome {
            Ok(f) => (JobEnd::Done { detail: f.detail }, f.follow_up),
            Err(Failure::Retry(error)) if job.attempts < job.max_attempts => {
                let delay = backoff(
                    job.attempts,
                    settings.backoff_base,
                    settings.backoff_cap,
                    rand::random::<f64>(),
                );
                let at_ms = now_ms() + millis(delay);
                (JobEnd::Retry { at_ms, error }, None)
            }
            Err(Failure::Retry(error)) | Err(Failure::Permanent(error)) => {
                tracing::warn!(job = %job.id, kind = %job.kind, %error, "job is dead");
                (JobEnd::Dead { error }, None)
            }
        };
        let claim = Claim {
            owner: lease.owner.clone(),
            lease_until_ms: now_ms() + millis(settings.lease),
        };
        let next = follow_up.map(|(id, task)| self.new_job(&job.cloud, &task, &id, Some(claim)));
        match self
            .catalog
            .finish_job(&lease, &end, started, now_ms(), next.as_ref())
            .await
        {
            Ok(true) => next.map(claimed_record),
            Ok(false) => {
                tracing::warn!(job = %job.id, "lease lost before the job was recorded");
                None
            }
            // The lease will expire and the job run again.
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "recording a job failed");
                None
            }
        }
    }

    async fn execute(&self, job: &JobRecord) -> Result<Finished, Failure> {
        let task: Task = serde_json::from_value(job.payload.clone())
            .map_err(|e| Failure::Permanent(format!("unreadable job payload: {e}")))?;
        match task {
            Task::Webhook {
                url, body, signer, ..
            } => self
                .deliver_webhook(job, &url, body, signer.as_deref())
                .await
                .map(Finished::from),
            Task::Eager { .. } => self.run_eager(job, task).await,
            Task::Upload { .. } => self
                .run_background_upload(job, task)
                .await
                .map(Finished::from),
            Task::DropDerived {
                asset_id,
                keep_version,
            } => {
                let n = self.drop_derived_but(&asset_id, keep_version).await?;
                Ok(format!("dropped {n} derived files").into())
            }
        }
    }

    async fn run_eager(&self, job: &JobRecord, task: Task) -> Result<Finished, Failure> {
        let Task::Eager {
            resource_type,
            delivery_type,
            public_id,
            version,
            eager,
            batch_id,
            notify,
            signer,
        } = task
        else {
            unreachable!("called with an eager task")
        };
        let loc = AssetLocator {
            scope: AssetScope {
                cloud: job.cloud.clone(),
                resource_type: ResourceType::parse(&resource_type).map_err(bad_payload)?,
                delivery_type: DeliveryType::parse(&delivery_type).map_err(bad_payload)?,
            },
            public_id: PublicId::parse(&public_id).map_err(bad_payload)?,
        };
        let Some(asset) = self.catalog.asset(&loc).await.map_err(ServiceError::from)? else {
            return Ok(Finished::from(
                "the asset was deleted; nothing to render".to_owned(),
            ));
        };
        if asset.version != version {
            return Ok(Finished::from(format!(
                "version {version} was replaced by {}; nothing to render",
                asset.version
            )));
        }
        let specs = self.prepare_eager(&job.cloud, Some(&eager)).await?;
        let rendered = self.render_eager(&asset, &specs).await?;
        let count = rendered.as_array().map_or(0, Vec::len);
        let mut done = Finished::from(format!("rendered {count} eager transformations"));
        if let Some(url) = notify {
            let mut body = serde_json::Map::new();
            body.insert("eager".into(), rendered);
            body.insert("public_id".into(), asset.loc.public_id.as_str().into());
            body.insert("batch_id".into(), batch_id.into());
            body.insert("asset_id".into(), asset.asset_id.clone().into());
            body.insert("version".into(), asset.version.into());
            body.insert("resource_type".into(), resource_type.into());
            body.insert("type".into(), delivery_type.into());
            let target = NotifyTarget { url, signer };
            // Recorded with this attempt, under a fixed id: a retry of a
            // job that died before it was recorded notifies once.
            done.follow_up = Some((
                format!("{}.notify", job.id),
                webhook_task(&target, "eager", body),
            ));
        }
        Ok(done)
    }
}

/// A successful attempt: what to record, and a job to run after it.
pub(crate) struct Finished {
    detail: String,
    follow_up: Option<(String, Task)>,
}

impl From<String> for Finished {
    fn from(detail: String) -> Self {
        Finished {
            detail,
            follow_up: None,
        }
    }
}

/// The record of a job stored already claimed (see [`NewJob::claimed`]).
fn claimed_record(j: NewJob) -> JobRecord {
    let claim = j.claimed.expect("follow-ups are stored claimed");
    JobRecord {
        id: j.id,
        cloud: j.cloud,
        kind: j.kind,
        payload: j.payload,
        state: nubo_catalog::JobState::Running,
        attempts: 1,
        max_attempts: j.max_attempts,
        run_at_ms: j.run_at_ms,
        lease_owner: Some(claim.owner),
        lease_until_ms: Some(claim.lease_until_ms),
        last_error: None,
        created_at_ms: j.now_ms,
        updated_at_ms: j.now_ms,
    }
}

fn bad_payload(e: impl std::fmt::Display) -> Failure {
    Failure::Permanent(format!("unreadable job payload: {e}"))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Extends the lease every third of its length; reports on `lost` when the
/// lease is gone (another worker took the job over).
async fn heartbeat(service: Service, lease: Lease, lost: tokio::sync::oneshot::Sender<()>) {
    let length = service.job_settings().lease;
    loop {
        tokio::time::sleep(length / 3).await;
        match service
            .catalog
            .extend_lease(&lease, now_ms() + millis(length))
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                let _ = lost.send(());
                return;
            }
            // A database hiccup: try again at the next beat; the lease has
            // two more beats of slack.
            Err(e) => tracing::warn!(job = %lease.job_id, error = %e, "heartbeat failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let base = Duration::from_secs(10);
        let cap = Duration::from_secs(300);
        assert_eq!(backoff(1, base, cap, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(1, base, cap, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(3, base, cap, 1.0), Duration::from_secs(40));
        assert_eq!(backoff(3, base, cap, 0.0), Duration::from_secs(20));
        assert_eq!(backoff(10, base, cap, 1.0), cap);
        assert_eq!(backoff(1_000, base, cap, 0.5), cap.mul_f64(0.75));
        for a in 1..20 {
            let d = backoff(a, base, cap, 0.3);
            assert!(d <= cap && d >= base / 2, "attempt {a}: {d:?}");
        }
    }

    #[test]
    fn tasks_round_trip_through_their_payload() {
        let t = Task::Webhook {
            url: "https://example.com/h".into(),
            notification_type: "upload".into(),
            body: "{\"a\":1}".into(),
            signer: Some("123".into()),
        };
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["task"], "webhook");
        assert_eq!(serde_json::from_value::<Task>(v).unwrap(), t);
        assert_eq!(t.kind(), "webhook");
    }
}
