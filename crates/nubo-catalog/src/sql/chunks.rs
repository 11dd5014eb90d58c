//! Chunked upload sessions: which byte ranges of a file have arrived, and
//! the blob each chunk is stored in. Kept in the catalog so a restarted
//! server (or another node) continues a session where it stopped.

use nubo_core::CloudName;
use sqlx::Row;

use super::rows::corrupt;
use super::SqlCatalog;
use crate::*;

const SESSION: &str = "cloud = $1 AND owner = $2 AND upload_id = $3";

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_session<'q>(q: AnyQuery<'q>, s: &ChunkSession) -> AnyQuery<'q> {
    q.bind(s.cloud.as_str().to_owned())
        .bind(s.owner.clone())
        .bind(s.upload_id.clone())
}

/// Checks a chunk against those received: `None` if it fits.
fn contradiction(
    parts: &[(ChunkPart, Option<i64>)],
    part: &ChunkPart,
    total: Option<i64>,
) -> Option<String> {
    let known = parts.iter().find_map(|(_, t)| *t).or(total);
    if let (Some(a), Some(b)) = (known, total) {
        if a != b {
            return Some(format!(
                "Content-Range total {b} differs from the {a} given before"
            ));
        }
    }
    if let Some(t) = known {
        if let Some((p, _)) = parts.iter().find(|(p, _)| p.last >= t) {
            return Some(format!(
                "a chunk ends at byte {} of a {t}-byte file",
                p.last
            ));
        }
        if part.last >= t {
            return Some(format!(
                "bytes {}-{} are outside a {t}-byte file",
                part.first, part.last
            ));
        }
    }
    parts
        .iter()
        .find(|(p, _)| {
            let same = p.first == part.first && p.last == part.last;
            !same && p.first <= part.last && part.first <= p.last
        })
        .map(|(p, _)| {
            format!(
                "bytes {}-{} overlap bytes {}-{} received before",
                part.first, part.last, p.first, p.last
            )
        })
}

impl SqlCatalog {
    pub(super) async fn put_chunk_impl(
        &self,
        session: &ChunkSession,
        part: &ChunkPart,
        total: Option<i64>,
        now: i64,
    ) -> Result<ChunkOutcome> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = self
            .q(&format!(
                "SELECT first_byte, last_byte, total, blob_key FROM upload_chunks WHERE {SESSION} \
                 ORDER BY first_byte{}",
                self.dialect.for_update()
            ))
            .into_owned();
        let rows = bind_session(sqlx::query(&sql), session)
            .fetch_all(&mut *tx)
            .await?;
        let mut parts: Vec<(ChunkPart, Option<i64>)> = rows
            .iter()
            .map(|r| {
                Ok((
                    ChunkPart {
                        first: r.try_get(0)?,
                        last: r.try_get(1)?,
                        blob_key: r.try_get(3)?,
                    },
                    r.try_get(2)?,
                ))
            })
            .collect::<Result<_>>()?;
        if let Some(why) = contradiction(&parts, part, total) {
            return Ok(ChunkOutcome::Inconsistent(why));
        }
        let replaced = parts
            .iter()
            .position(|(p, _)| p.first == part.first)
            .map(|i| parts.remove(i).0.blob_key)
            .filter(|k| *k != part.blob_key);
        let del = self
            .q(&format!(
                "DELETE FROM upload_chunks WHERE {SESSION} AND first_byte = $4"
            ))
            .into_owned();
        bind_session(sqlx::query(&del), session)
            .bind(part.first)
            .execute(&mut *tx)
            .await?;
        let ins = self.q(
            "INSERT INTO upload_chunks (cloud, owner, upload_id, first_byte, last_byte, total, \
             blob_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        );
        bind_session(sqlx::query(&ins), session)
            .bind(part.first)
            .bind(part.last)
            .bind(total)
            .bind(part.blob_key.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let known = parts.iter().find_map(|(_, t)| *t).or(total);
        parts.push((part.clone(), total));
        parts.sort_by_key(|(p, _)| p.first);
        let received: i64 = parts.iter().map(|(p, _)| p.last - p.first + 1).sum();
        let contiguous = parts
            .iter()
            .try_fold(0i64, |next, (p, _)| (p.first == next).then_some(p.last + 1));
        let complete = matches!((known, contiguous), (Some(t), Some(end)) if t == end);
        Ok(ChunkOutcome::Stored {
            received,
            total: known,
            replaced_blob: replaced,
            parts: complete.then(|| parts.into_iter().map(|(p, _)| p).collect()),
        })
    }

    pub(super) async fn delete_chunk_session_impl(
        &self,
        session: &ChunkSession,
    ) -> Result<Vec<String>> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = self
            .q(&format!(
                "DELETE FROM upload_chunks WHERE {SESSION} RETURNING blob_key"
            ))
            .into_owned();
        let rows = bind_session(sqlx::query(&sql), session)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    pub(super) async fn stale_chunk_sessions_impl(
        &self,
        before: i64,
        limit: i64,
    ) -> Result<Vec<ChunkSession>> {
        let sql = self.q(
            "SELECT cloud, owner, upload_id FROM upload_chunks GROUP BY cloud, owner, upload_id \
             HAVING MAX(created_at) < $1 LIMIT $2",
        );
        let rows = sqlx::query(&sql)
            .bind(before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ChunkSession {
                    cloud: CloudName::parse(&r.try_get::<String, _>(0)?).map_err(corrupt)?,
                    owner: r.try_get(1)?,
                    upload_id: r.try_get(2)?,
                })
            })
            .collect()
    }
}

fn tus_from_row(r: &sqlx::any::AnyRow) -> Result<TusUpload> {
    let result: Option<String> = r.try_get("result")?;
    Ok(TusUpload {
        cloud: CloudName::parse(&r.try_get::<String, _>("cloud")?).map_err(corrupt)?,
        upload_id: r.try_get("upload_id")?,
        resource_type: r.try_get("resource_type")?,
        caller: r.try_get("caller")?,
        params: serde_json::from_str(&r.try_get::<String, _>("params")?).map_err(corrupt)?,
        length: r.try_get("length")?,
        offset: r.try_get("upload_offset")?,
        result: result
            .map(|s| serde_json::from_str(&s).map_err(corrupt))
            .transpose()?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

impl SqlCatalog {
    /// Inserts or replaces a tus upload's record.
    pub(super) async fn put_tus_impl(&self, t: &TusUpload) -> Result<()> {
        let (_guard, mut tx) = self.begin_write().await?;
        let del = self.q("DELETE FROM tus_uploads WHERE cloud = $1 AND upload_id = $2");
        sqlx::query(&del)
            .bind(t.cloud.as_str().to_owned())
            .bind(t.upload_id.clone())
            .execute(&mut *tx)
            .await?;
        let ins = self.q(
            "INSERT INTO tus_uploads (cloud, upload_id, resource_type, caller, params, length, \
             upload_offset, result, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        );
        sqlx::query(&ins)
            .bind(t.cloud.as_str().to_owned())
            .bind(t.upload_id.clone())
            .bind(t.resource_type.clone())
            .bind(t.caller.clone())
            .bind(serde_json::to_string(&t.params).expect("strings serialise"))
            .bind(t.length)
            .bind(t.offset)
            .bind(t.result.as_ref().map(|v| v.to_string()))
            .bind(t.created_at)
            .bind(t.expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn tus_impl(&self, cloud: &CloudName, id: &str) -> Result<Option<TusUpload>> {
        let sql = self.q("SELECT * FROM tus_uploads WHERE cloud = $1 AND upload_id = $2");
        let row = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(tus_from_row).transpose()
    }

    pub(super) async fn delete_tus_impl(&self, cloud: &CloudName, id: &str) -> Result<bool> {
        let sql = self.q("DELETE FROM tus_uploads WHERE cloud = $1 AND upload_id = $2");
        let done = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(id.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn expired_tus_impl(&self, now: i64, limit: i64) -> Result<Vec<TusUpload>> {
        let sql = self.q("SELECT * FROM tus_uploads WHERE expires_at < $1 LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(tus_from_row).collect()
    }
}
