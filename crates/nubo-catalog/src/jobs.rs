//! The durable job queue: records and the [`JobQueue`] trait.
//!
//! A job is claimed under a *lease* (owner, deadline, attempt number). The
//! owner extends the lease while it works (a heartbeat); a job whose lease
//! ran out is claimed again by someone else, so a killed node's work is
//! never lost. Every later write names the lease's attempt number (a fencing
//! token), so a worker that lost its lease cannot finish or extend a job
//! another worker now runs: a job is never run twice at once to completion.

use async_trait::async_trait;
use nubo_core::CloudName;

use crate::Result;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for `run_at_ms` (a first run or a retry).
    Queued,
    /// Leased to a worker.
    Running,
    Done,
    /// Failed `max_attempts` times; kept for inspection, never retried.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            _ => return None,
        })
    }
}

/// A job to enqueue. The catalog stores `payload` as it is; the service
/// knows what `kind` means.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub cloud: CloudName,
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at_ms: i64,
    pub max_attempts: i64,
    pub now_ms: i64,
    /// Stored already leased to this worker (its first attempt running), so
    /// the worker that made it runs it next without another claim.
    pub claimed: Option<Claim>,
}

/// A lease taken at enqueue time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub owner: String,
    pub lease_until_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: String,
    pub cloud: CloudName,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    /// Attempts started so far; while running, the current attempt's number.
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at_ms: i64,
    pub lease_owner: Option<String>,
    pub lease_until_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl JobRecord {
    /// The lease this record was claimed under.
    pub fn lease(&self) -> Option<Lease> {
        Some(Lease {
            job_id: self.id.clone(),
            owner: self.lease_owner.clone()?,
            attempt: self.attempts,
        })
    }
}

/// Proof of a claim: only its holder may extend or finish the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job_id: String,
    pub owner: String,
    pub attempt: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEnd {
    Done {
        detail: String,
    },
    /// Failed; run again at `at_ms`.
    Retry {
        at_ms: i64,
        error: String,
    },
    /// Failed for good.
    Dead {
        error: String,
    },
}

impl JobEnd {
    fn outcome(&self) -> &'static str {
        match self {
            JobEnd::Done { .. } => "done",
            JobEnd::Retry { .. } => "retry",
            JobEnd::Dead { .. } => "dead",
        }
    }

    fn detail(&self) -> &str {
        match self {
            JobEnd::Done { detail } => detail,
            JobEnd::Retry { error, .. } | JobEnd::Dead { error } => error,
        }
    }

    pub(crate) fn parts(&self) -> (&'static str, &str) {
        (self.outcome(), self.detail())
    }
}

/// One attempt of a job, as recorded when it ended. An attempt whose worker
/// died is recorded as `lost` when the job is claimed again.
#[derive(Debug, Clone, PartialEq)]
pub struct JobAttempt {
    pub job_id: String,
    pub attempt: i64,
    pub owner: String,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    /// `done`, `retry`, `dead` or `lost`.
    pub outcome: String,
    pub detail: String,
}

/// Which jobs to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub cloud: Option<CloudName>,
    pub kind: Option<String>,
    pub state: Option<JobState>,
    pub limit: i64,
}

/// Counts of jobs by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
}

/// Storage of the job queue. PostgreSQL claims with `FOR UPDATE SKIP
/// LOCKED`, so several nodes share one queue; SQLite serialises writers,
/// which gives the same guarantee on one node.
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Stores a job; an id already stored is left as it is (so a follow-up
    /// job enqueued twice by a retried attempt exists once).
    async fn enqueue_job(&self, job: &NewJob) -> Result<()>;
    /// Leases up to `limit` jobs that are due (or whose lease expired) to
    /// `owner` until `now_ms + lease_ms`. A job past its `max_attempts` is
    /// moved to dead instead of being returned.
    async fn claim_jobs(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<JobRecord>>;
    /// Extends a lease; `false` if it is no longer held.
    async fn extend_lease(&self, lease: &Lease, until_ms: i64) -> Result<bool>;
    /// Ends the leased attempt and records it, enqueueing `follow_up` in
    /// the same transaction (a job that exists if and only if this one is
    /// recorded); `false` if the lease is lost (nothing is changed then).
    async fn finish_job(
        &self,
        lease: &Lease,
        end: &JobEnd,
        started_at_ms: i64,
        now_ms: i64,
        follow_up: Option<&NewJob>,
    ) -> Result<bool>;
    async fn job(&self, id: &str) -> Result<Option<JobRecord>>;
    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>>;
    async fn job_attempts(&self, id: &str) -> Result<Vec<JobAttempt>>;
    async fn job_counts(&self) -> Result<JobCounts>;
    /// Puts a dead job back in the queue with a fresh attempt budget.
    async fn retry_dead_job(&self, id: &str, now_ms: i64) -> Result<bool>;
    /// Deletes finished jobs (and their attempts) last changed before these
    /// times; returns how many.
    async fn prune_jobs(&self, done_before_ms: i64, dead_before_ms: i64) -> Result<u64>;

    // --- per-cloud settings (the global notification URL) ---
    async fn cloud_setting(&self, cloud: &CloudName, name: &str) -> Result<Option<String>>;
    /// Sets (or with `None` removes) a setting.
    async fn set_cloud_setting(
        &self,
        cloud: &CloudName,
        name: &str,
        value: Option<&str>,
    ) -> Result<()>;
}
