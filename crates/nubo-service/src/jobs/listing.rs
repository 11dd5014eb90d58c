//! Webhook deliveries as an operator sees them (`GET /v1_1/{cloud}/webhooks`,
//! a Nubo extension of the Admin API, and `nubo admin webhooks`): each
//! notification with its state and every attempt.

use nubo_catalog::{JobAttempt, JobFilter, JobRecord, JobState};
use serde_json::{json, Value};

use super::{now_ms, Task};
use crate::admin::AdminRequest;
use crate::{Result, Service, ServiceError};

/// Most deliveries one listing returns.
const MAX_LISTED: u32 = 500;

fn iso_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn attempt_json(a: &JobAttempt) -> Value {
    json!({
        "attempt": a.attempt,
        "outcome": a.outcome,
        "detail": a.detail,
        "worker": a.owner,
        "started_at": iso_ms(a.started_at_ms),
        "finished_at": iso_ms(a.finished_at_ms),
    })
}

fn delivery_json(job: &JobRecord, attempts: &[JobAttempt]) -> Value {
    let (url, notification_type) = match serde_json::from_value::<Task>(job.payload.clone()) {
        Ok(Task::Webhook {
            url,
            notification_type,
            ..
        }) => (url, notification_type),
        _ => (String::new(), String::new()),
    };
    json!({
        "id": job.id,
        "url": url,
        "notification_type": notification_type,
        "state": job.state.as_str(),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "next_attempt_at": (job.state == JobState::Queued).then(|| iso_ms(job.run_at_ms)),
        "last_error": job.last_error,
        "created_at": iso_ms(job.created_at_ms),
        "updated_at": iso_ms(job.updated_at_ms),
        "history": attempts.iter().map(attempt_json).collect::<Vec<_>>(),
    })
}

impl Service {
    /// `GET webhooks`: newest first; `state` filters, `max_results` caps.
    pub async fn admin_webhooks(&self, req: &AdminRequest) -> Result<Value> {
        let state = match req.params.get("state") {
            Some(s) => Some(JobState::parse(s).ok_or_else(|| {
                ServiceError::InvalidParam(format!(
                    "Invalid state {s}: use queued, running, done or dead"
                ))
            })?),
            None => None,
        };
        let limit = req.max_results(50, MAX_LISTED)?;
        let jobs = self
            .catalog
            .list_jobs(&JobFilter {
                cloud: Some(req.cloud.clone()),
                kind: Some("webhook".into()),
                state,
                limit: i64::from(limit),
            })
            .await?;
        let mut out = Vec::with_capacity(jobs.len());
        for job in &jobs {
            let attempts = self.catalog.job_attempts(&job.id).await?;
            out.push(delivery_json(job, &attempts));
        }
        let counts = self.catalog.job_counts().await?;
        Ok(json!({
            "webhooks": out,
            "queue": {
                "queued": counts.queued,
                "running": counts.running,
                "done": counts.done,
                "dead": counts.dead,
            },
        }))
    }

    /// `GET webhooks/{id}`
    pub async fn admin_webhook(&self, req: &AdminRequest, id: &str) -> Result<Value> {
        let job = self.cloud_webhook(req, id).await?;
        let attempts = self.catalog.job_attempts(&job.id).await?;
        Ok(delivery_json(&job, &attempts))
    }

    /// `POST webhooks/{id}/retry`: a dead delivery gets one more attempt.
    pub async fn admin_retry_webhook(&self, req: &AdminRequest, id: &str) -> Result<Value> {
        let job = self.cloud_webhook(req, id).await?;
        if !self.catalog.retry_dead_job(&job.id, now_ms()).await? {
            return Err(ServiceError::InvalidParam(format!(
                "Webhook {id} is {}; only dead ones can be retried",
                job.state.as_str()
            )));
        }
        self.wake.0.notify_one();
        Ok(json!({ "message": "queued", "id": job.id }))
    }

    async fn cloud_webhook(&self, req: &AdminRequest, id: &str) -> Result<JobRecord> {
        match self.catalog.job(id).await? {
            Some(j) if j.cloud == req.cloud && j.kind == "webhook" => Ok(j),
            _ => Err(ServiceError::NotFound(format!("webhook {id}"))),
        }
    }
}
