//! The job queue over SQL. A claim selects due rows and leases them in one
//! transaction; on PostgreSQL the select skips rows another node has locked
//! (`FOR UPDATE SKIP LOCKED`), so concurrent claimers never take the same
//! job and never wait on each other.

use async_trait::async_trait;
use nubo_core::CloudName;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::rows::corrupt;
use super::{Dialect, SqlCatalog};
use crate::*;

const JOB_COLS: &str = "id, cloud, kind, payload, state, attempts, max_attempts, run_at_ms, \
     lease_owner, lease_until_ms, last_error, created_at_ms, updated_at_ms";

/// A lease is held while the row is running, owned and on the same attempt.
const HELD: &str = "id = $1 AND state = 'running' AND lease_owner = $2 AND attempts = $3";

impl Dialect {
    fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

fn job_from_row(r: &AnyRow) -> Result<JobRecord> {
    let state: String = r.try_get("state")?;
    let payload: String = r.try_get("payload")?;
    Ok(JobRecord {
        id: r.try_get("id")?,
        cloud: CloudName::parse(&r.try_get::<String, _>("cloud")?).map_err(corrupt)?,
        kind: r.try_get("kind")?,
        payload: serde_json::from_str(&payload).map_err(corrupt)?,
        state: JobState::parse(&state).ok_or_else(|| corrupt(format!("job state {state}")))?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        run_at_ms: r.try_get("run_at_ms")?,
        lease_owner: r.try_get("lease_owner")?,
        lease_until_ms: r.try_get("lease_until_ms")?,
        last_error: r.try_get("last_error")?,
        created_at_ms: r.try_get("created_at_ms")?,
        updated_at_ms: r.try_get("updated_at_ms")?,
    })
}

fn attempt_from_row(r: &AnyRow) -> Result<JobAttempt> {
    Ok(JobAttempt {
        job_id: r.try_get("job_id")?,
        attempt: r.try_get("attempt")?,
        owner: r.try_get("owner")?,
        started_at_ms: r.try_get("started_at_ms")?,
        finished_at_ms: r.try_get("finished_at_ms")?,
        outcome: r.try_get("outcome")?,
        detail: r.try_get("detail")?,
    })
}

impl SqlCatalog {
    fn owned(&self, sql: String) -> String {
        self.q(&sql).into_owned()
    }

    async fn insert_job(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        job: &NewJob,
    ) -> Result<()> {
        // Literal NULLs for an unclaimed job (see `finish_job`).
        let (state, attempts, owner, until) = match &job.claimed {
            Some(_) => ("running", 1, "$8", "$9"),
            None => ("queued", 0, "NULL", "NULL"),
        };
        let sql = self.owned(format!(
            "INSERT INTO jobs ({JOB_COLS}) VALUES \
             ($1, $2, $3, $4, '{state}', {attempts}, $5, $6, {owner}, {until}, NULL, $7, $7) \
             ON CONFLICT (id) DO NOTHING"
        ));
        let mut q = sqlx::query(&sql)
            .bind(job.id.clone())
            .bind(job.cloud.as_str().to_owned())
            .bind(job.kind.clone())
            .bind(job.payload.to_string())
            .bind(job.max_attempts.max(1))
            .bind(job.run_at_ms)
            .bind(job.now_ms);
        if let Some(c) = &job.claimed {
            q = q.bind(c.owner.clone()).bind(c.lease_until_ms);
        }
        q.execute(&mut **tx).await?;
        Ok(())
    }

    async fn record_attempt(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        a: &JobAttempt,
    ) -> Result<()> {
        let sql = self.q(
            "INSERT INTO job_attempts (job_id, attempt, owner, started_at_ms, finished_at_ms, \
             outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        );
        sqlx::query(&sql)
            .bind(a.job_id.clone())
            .bind(a.attempt)
            .bind(a.owner.clone())
            .bind(a.started_at_ms)
            .bind(a.finished_at_ms)
            .bind(a.outcome.clone())
            .bind(a.detail.clone())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// A job whose lease ran out: its attempt is recorded as lost, and it is
    /// either leased again (`true`) or, out of attempts, moved to dead.
    async fn reclaim(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        job: &JobRecord,
        now_ms: i64,
    ) -> Result<bool> {
        let lost = JobAttempt {
            job_id: job.id.clone(),
            attempt: job.attempts,
            owner: job.lease_owner.clone().unwrap_or_default(),
            started_at_ms: job.updated_at_ms,
            finished_at_ms: now_ms,
            outcome: "lost".into(),
            detail: "lease expired: the worker stopped before finishing".into(),
        };
        self.record_attempt(tx, &lost).await?;
        if job.attempts < job.max_attempts {
            return Ok(true);
        }
        let sql = self.q(
            "UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_until_ms = NULL, \
             last_error = $2, updated_at_ms = $3 WHERE id = $1",
        );
        sqlx::query(&sql)
            .bind(job.id.clone())
            .bind(format!(
                "gave up after {} attempts (the last one's worker stopped)",
                job.attempts
            ))
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        Ok(false)
    }
}

#[async_trait]
impl JobQueue for SqlCatalog {
    async fn enqueue_job(&self, job: &NewJob) -> Result<()> {
        let (_guard, mut tx) = self.begin_write().await?;
        self.insert_job(&mut tx, job).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim_jobs(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<JobRecord>> {
        let pick = self.owned(format!(
            "SELECT {JOB_COLS} FROM jobs WHERE (state = 'queued' AND run_at_ms <= $1) \
             OR (state = 'running' AND lease_until_ms < $1) ORDER BY run_at_ms LIMIT $2{}",
            self.dialect.skip_locked()
        ));
        let lease = self.q(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $2, \
             lease_until_ms = $3, updated_at_ms = $4 WHERE id = $1",
        );
        let (_guard, mut tx) = self.begin_write().await?;
        let rows = sqlx::query(&pick)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut job = job_from_row(row)?;
            if job.state == JobState::Running && !self.reclaim(&mut tx, &job, now_ms).await? {
                continue;
            }
            let until = now_ms + lease_ms;
            sqlx::query(&lease)
                .bind(job.id.clone())
                .bind(owner.to_owned())
                .bind(until)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            job.state = JobState::Running;
            job.attempts += 1;
            job.lease_owner = Some(owner.to_owned());
            job.lease_until_ms = Some(until);
            job.updated_at_ms = now_ms;
            claimed.push(job);
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn extend_lease(&self, lease: &Lease, until_ms: i64) -> Result<bool> {
        let sql = self.owned(format!("UPDATE jobs SET lease_until_ms = $4 WHERE {HELD}"));
        let (_guard, mut tx) = self.begin_write().await?;
        let done = sqlx::query(&sql)
            .bind(lease.job_id.clone())
            .bind(lease.owner.clone())
            .bind(lease.attempt)
            .bind(until_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish_job(
        &self,
        lease: &Lease,
        end: &JobEnd,
        started_at_ms: i64,
        now_ms: i64,
        follow_up: Option<&NewJob>,
    ) -> Result<bool> {
        let (state, run_at, error) = match end {
            JobEnd::Done { .. } => (JobState::Done, now_ms, None),
            JobEnd::Retry { at_ms, error } => (JobState::Queued, *at_ms, Some(error.clone())),
            JobEnd::Dead { error } => (JobState::Dead, now_ms, Some(error.clone())),
        };
        // A literal NULL rather than a bound `None`: PostgreSQL caches the
        // statement with the first binding's type.
        let error_sql = if error.is_some() { "$7" } else { "NULL" };
        let sql = self.owned(format!(
            "UPDATE jobs SET state = $4, run_at_ms = $5, lease_owner = NULL, \
             lease_until_ms = NULL, updated_at_ms = $6, last_error = {error_sql} WHERE {HELD}"
        ));
        let (_guard, mut tx) = self.begin_write().await?;
        let mut q = sqlx::query(&sql)
            .bind(lease.job_id.clone())
            .bind(lease.owner.clone())
            .bind(lease.attempt)
            .bind(state.as_str())
            .bind(run_at)
            .bind(now_ms);
        if let Some(e) = error {
            q = q.bind(e);
        }
        if q.execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        let (outcome, detail) = end.parts();
        let attempt = JobAttempt {
            job_id: lease.job_id.clone(),
            attempt: lease.attempt,
            owner: lease.owner.clone(),
            started_at_ms,
            finished_at_ms: now_ms,
            outcome: outcome.into(),
            detail: detail.into(),
        };
        self.record_attempt(&mut tx, &attempt).await?;
        if let Some(next) = follow_up {
            self.insert_job(&mut tx, next).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        let sql = self.owned(format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"));
        let row = sqlx::query(&sql)
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>> {
        let mut conds = Vec::new();
        let mut binds = Vec::new();
        if let Some(c) = &filter.cloud {
            binds.push(c.as_str().to_owned());
            conds.push(format!("cloud = ${}", binds.len()));
        }
        if let Some(k) = &filter.kind {
            binds.push(k.clone());
            conds.push(format!("kind = ${}", binds.len()));
        }
        if let Some(s) = filter.state {
            binds.push(s.as_str().to_owned());
            conds.push(format!("state = ${}", binds.len()));
        }
        let where_sql = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        let sql = self.owned(format!(
            "SELECT {JOB_COLS} FROM jobs{where_sql} ORDER BY created_at_ms DESC, id DESC \
             LIMIT ${}",
            binds.len() + 1
        ));
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b);
        }
        let rows = q
            .bind(filter.limit.clamp(1, 10_000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn job_attempts(&self, id: &str) -> Result<Vec<JobAttempt>> {
        let sql = self.q("SELECT * FROM job_attempts WHERE job_id = $1 ORDER BY attempt");
        let rows = sqlx::query(&sql)
            .bind(id.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(attempt_from_row).collect()
    }

    async fn job_counts(&self) -> Result<JobCounts> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = JobCounts::default();
        for r in rows {
            let n: i64 = r.try_get("n")?;
            match JobState::parse(&r.try_get::<String, _>("state")?) {
                Some(JobState::Queued) => counts.queued = n,
                Some(JobState::Running) => counts.running = n,
                Some(JobState::Done) => counts.done = n,
                Some(JobState::Dead) => counts.dead = n,
                None => return Err(corrupt("job state")),
            }
        }
        Ok(counts)
    }

    async fn retry_dead_job(&self, id: &str, now_ms: i64) -> Result<bool> {
        let sql = self.q(
            "UPDATE jobs SET state = 'queued', run_at_ms = $2, updated_at_ms = $2, \
             max_attempts = attempts + 1 WHERE id = $1 AND state = 'dead'",
        );
        let (_guard, mut tx) = self.begin_write().await?;
        let done = sqlx::query(&sql)
            .bind(id.to_owned())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn prune_jobs(&self, done_before_ms: i64, dead_before_ms: i64) -> Result<u64> {
        let old =
            "(state = 'done' AND updated_at_ms < $1) OR (state = 'dead' AND updated_at_ms < $2)";
        let attempts = self.owned(format!(
            "DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM jobs WHERE {old})"
        ));
        let jobs = self.owned(format!("DELETE FROM jobs WHERE {old}"));
        let (_guard, mut tx) = self.begin_write().await?;
        sqlx::query(&attempts)
            .bind(done_before_ms)
            .bind(dead_before_ms)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query(&jobs)
            .bind(done_before_ms)
            .bind(dead_before_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    async fn cloud_setting(&self, cloud: &CloudName, name: &str) -> Result<Option<String>> {
        let sql = self.q("SELECT value FROM cloud_settings WHERE cloud = $1 AND name = $2");
        Ok(sqlx::query_scalar(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(name.to_owned())
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn set_cloud_setting(
        &self,
        cloud: &CloudName,
        name: &str,
        value: Option<&str>,
    ) -> Result<()> {
        let del = self.q("DELETE FROM cloud_settings WHERE cloud = $1 AND name = $2");
        let ins = self.q("INSERT INTO cloud_settings (cloud, name, value) VALUES ($1, $2, $3)");
        let (_guard, mut tx) = self.begin_write().await?;
        sqlx::query(&del)
            .bind(cloud.as_str().to_owned())
            .bind(name.to_owned())
            .execute(&mut *tx)
            .await?;
        if let Some(v) = value {
            sqlx::query(&ins)
                .bind(cloud.as_str().to_owned())
                .bind(name.to_owned())
                .bind(v.to_owned())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
