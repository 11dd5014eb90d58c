//! Schema migrations: an ordered list, applied once each, in a transaction.
//!
//! A hand-rolled runner rather than `sqlx::migrate!` because the two
//! dialects need a few statements of their own and PostgreSQL nodes that start
//! together must not race (they take an advisory lock).

use sqlx::{AnyPool, Executor};

use crate::sql::Dialect;
use crate::Result;

struct Migration {
    version: i64,
    name: &'static str,
    /// `{C}` stands for the bytewise collation clause of the dialect, so
    /// prefix ranges and sorts agree on both databases.
    sql: &'static str,
    /// Rows the new schema derives from old data, filled in the same
    /// transaction (computed in Rust, so the SQL stays dialect-neutral).
    backfill: Option<Backfill>,
}

#[derive(Clone, Copy)]
enum Backfill {
    AdminIndexes,
    TagBits,
}

/// The asset row of an `asset_tags` row, in a correlated subquery.
const TAGGED: &str = "a.cloud = asset_tags.cloud AND a.resource_type = asset_tags.resource_type \
     AND a.delivery_type = asset_tags.delivery_type AND a.public_id = asset_tags.public_id";

const MIGRATIONS: &[Migration] = &[FOUNDATION, DERIVED, ADMIN, METADATA, CHUNKS, JOBS, TAG_BITS];

/// The tag index's covering columns, `tag_bits` last.
pub(crate) const TAG_INDEX: &str = "CREATE INDEX asset_tags_by_cloud_tag ON asset_tags \
    (cloud, tag{C}, created_at_us, resource_type, delivery_type, public_id, format, bytes, width, \
    height, tag_bits)";

/// Each tag row carries a 63-bit summary of its asset's tags
/// ([`crate::sql::tag_bits`]), so counting an OR of tags rarely probes the
/// index for the tags already counted. The index is rebuilt after the
/// backfill, which is cheaper than updating it row by row.
const TAG_BITS: Migration = Migration {
    version: 7,
    name: "tag bits on tag rows",
    sql: r#"
ALTER TABLE asset_tags ADD COLUMN tag_bits BIGINT NOT NULL DEFAULT 0;
DROP INDEX asset_tags_by_cloud_tag;
"#,
    backfill: Some(Backfill::TagBits),
};

const JOBS: Migration = Migration {
    version: 6,
    name: "job queue and cloud settings",
    sql: r#"
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    cloud TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_at_ms BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until_ms BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at_ms);
CREATE INDEX jobs_by_lease ON jobs (state, lease_until_ms);
CREATE INDEX jobs_by_age ON jobs (created_at_ms);
CREATE TABLE job_attempts (
    job_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    owner TEXT NOT NULL,
    started_at_ms BIGINT NOT NULL,
    finished_at_ms BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
CREATE TABLE cloud_settings (
    cloud TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (cloud, name)
);
"#,
    backfill: None,
};

const CHUNKS: Migration = Migration {
    version: 5,
    name: "chunked and tus upload sessions",
    sql: r#"
CREATE TABLE upload_chunks (
    cloud TEXT NOT NULL,
    owner TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    first_byte BIGINT NOT NULL,
    last_byte BIGINT NOT NULL,
    total BIGINT,
    blob_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (cloud, owner, upload_id, first_byte)
);
CREATE INDEX upload_chunks_by_blob ON upload_chunks (blob_key);
CREATE INDEX upload_chunks_by_age ON upload_chunks (created_at);
CREATE TABLE tus_uploads (
    cloud TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    caller TEXT NOT NULL,
    params TEXT NOT NULL,
    length BIGINT NOT NULL,
    upload_offset BIGINT NOT NULL,
    result TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (cloud, upload_id)
);
"#,
    backfill: None,
};

const METADATA: Migration = Migration {
    version: 4,
    name: "structured metadata",
    sql: r#"
CREATE TABLE metadata_fields (
    cloud TEXT NOT NULL,
    external_id TEXT NOT NULL,
    definition TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (cloud, external_id)
);
CREATE TABLE asset_metadata (
    cloud TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    delivery_type TEXT NOT NULL,
    public_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value_text TEXT NOT NULL,
    value_num DOUBLE PRECISION,
    PRIMARY KEY (cloud, resource_type, delivery_type, public_id, field, value_text)
);
CREATE INDEX asset_metadata_by_text ON asset_metadata (cloud, field, value_text{C});
CREATE INDEX asset_metadata_by_num ON asset_metadata (cloud, field, value_num);
"#,
    backfill: None,
};

const ADMIN: Migration = Migration {
    version: 3,
    name: "admin listings, folders, context index, derived ids",
    sql: r#"
ALTER TABLE derived ADD COLUMN derived_id TEXT;
CREATE UNIQUE INDEX derived_by_id ON derived (derived_id);
ALTER TABLE assets ADD COLUMN folder TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN filename TEXT NOT NULL DEFAULT '';
CREATE INDEX assets_by_public_id ON assets (cloud, public_id{C});
CREATE INDEX assets_by_folder ON assets (cloud, folder{C});
ALTER TABLE assets ADD COLUMN created_at_us BIGINT NOT NULL DEFAULT 0;
UPDATE assets SET created_at_us = created_at * 1000000;
CREATE INDEX assets_by_cloud_created ON assets
    (cloud, created_at_us, asset_id, bytes, width, height, format);
CREATE INDEX assets_by_bytes ON assets (cloud, bytes);
ALTER TABLE asset_tags ADD COLUMN created_at_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE asset_tags ADD COLUMN format TEXT;
ALTER TABLE asset_tags ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE asset_tags ADD COLUMN width BIGINT;
ALTER TABLE asset_tags ADD COLUMN height BIGINT;
UPDATE asset_tags SET
    created_at_us = (SELECT a.created_at_us FROM assets a WHERE {TAGGED}),
    format = (SELECT a.format FROM assets a WHERE {TAGGED}),
    bytes = (SELECT a.bytes FROM assets a WHERE {TAGGED}),
    width = (SELECT a.width FROM assets a WHERE {TAGGED}),
    height = (SELECT a.height FROM assets a WHERE {TAGGED});
CREATE INDEX asset_tags_by_cloud_tag ON asset_tags
    (cloud, tag{C}, created_at_us, resource_type, delivery_type, public_id, format, bytes, width, height);
CREATE TABLE asset_context (
    cloud TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    delivery_type TEXT NOT NULL,
    public_id TEXT NOT NULL,
    ctx_key TEXT NOT NULL,
    ctx_value TEXT NOT NULL,
    PRIMARY KEY (cloud, resource_type, delivery_type, public_id, ctx_key)
);
CREATE INDEX asset_context_by_key ON asset_context (cloud, ctx_key, ctx_value{C});
CREATE TABLE folders (
    cloud TEXT NOT NULL,
    path TEXT NOT NULL,
    parent TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (cloud, path)
);
CREATE INDEX folders_by_parent ON folders (cloud, parent, name{C});
"#,
    backfill: Some(Backfill::AdminIndexes),
};

const DERIVED: Migration = Migration {
    version: 2,
    name: "derived files and named transformations",
    sql: r#"
CREATE TABLE derived (
    asset_id TEXT NOT NULL,
    asset_version BIGINT NOT NULL,
    cache_key TEXT NOT NULL,
    transformation TEXT NOT NULL,
    format TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    blob_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (asset_id, asset_version, cache_key)
);
CREATE INDEX derived_blob_key ON derived (blob_key);
CREATE TABLE named_transformations (
    cloud TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    allowed_for_strict BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (cloud, name)
);
"#,
    backfill: None,
};

const FOUNDATION: Migration = Migration {
    version: 1,
    name: "foundation",
    sql: r#"
CREATE TABLE clouds (
    name TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
CREATE TABLE api_keys (
    cloud TEXT NOT NULL REFERENCES clouds(name),
    api_key TEXT NOT NULL,
    secret TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (cloud, api_key)
);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    cloud TEXT NOT NULL REFERENCES clouds(name),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE TABLE upload_presets (
    cloud TEXT NOT NULL REFERENCES clouds(name),
    name TEXT NOT NULL,
    unsigned_ok BIGINT NOT NULL,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (cloud, name)
);
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    blob_key TEXT NOT NULL UNIQUE,
    size BIGINT NOT NULL,
    pinned_until BIGINT NOT NULL
);
CREATE TABLE assets (
    cloud TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    delivery_type TEXT NOT NULL,
    public_id TEXT NOT NULL,
    asset_id TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    version_id TEXT NOT NULL,
    format TEXT,
    bytes BIGINT NOT NULL,
    width BIGINT,
    height BIGINT,
    pages BIGINT,
    etag TEXT NOT NULL,
    original_filename TEXT,
    tags TEXT NOT NULL,
    context TEXT NOT NULL,
    meta TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (cloud, resource_type, delivery_type, public_id)
);
CREATE INDEX assets_blob_key ON assets (blob_key);
CREATE INDEX assets_created ON assets (cloud, resource_type, delivery_type, created_at);
CREATE TABLE asset_tags (
    cloud TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    delivery_type TEXT NOT NULL,
    public_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (cloud, resource_type, delivery_type, public_id, tag)
);
CREATE INDEX asset_tags_by_tag ON asset_tags (cloud, resource_type, tag);
CREATE TABLE delete_tokens (
    token_hash TEXT PRIMARY KEY,
    cloud TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    delivery_type TEXT NOT NULL,
    public_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
"#,
    backfill: None,
};

/// Brings the schema up to date. Safe to call from several nodes at once.
pub async fn run(pool: &AnyPool, dialect: Dialect) -> Result<()> {
    run_to(pool, dialect, i64::MAX).await
}

/// Applies pending migrations up to `last` (tests stop early to check a
/// later migration's backfill).
pub(crate) async fn run_to(pool: &AnyPool, dialect: Dialect, last: i64) -> Result<()> {
    let mut conn = pool.acquire().await?;
    if dialect == Dialect::Postgres {
        // An arbitrary constant: "nubo" in ASCII.
        conn.execute("SELECT pg_advisory_lock(1853186671)").await?;
    }
    let result = apply_pending(&mut conn, dialect, last).await;
    if dialect == Dialect::Postgres {
        conn.execute("SELECT pg_advisory_unlock(1853186671)")
            .await?;
    }
    result
}

async fn apply_pending(conn: &mut sqlx::AnyConnection, dialect: Dialect, last: i64) -> Result<()> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS nubo_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM nubo_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let pending = MIGRATIONS
        .iter()
        .filter(|m| !applied.contains(&m.version) && m.version <= last);
    for m in pending {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let sql = m
            .sql
            .replace("{TAGGED}", TAGGED)
            .replace("{C}", dialect.bytewise());
        tx.execute(sql.as_str()).await?;
        if let Some(b) = m.backfill {
            backfill(&mut tx, dialect, b).await?;
        }
        let record = format!(
            "INSERT INTO nubo_migrations (version, name) VALUES ({}, '{}')",
            m.version, m.name
        );
        tx.execute(record.as_str()).await?;
        tx.commit().await?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "applied catalog migration"
        );
    }
    Ok(())
}

/// Fills what a migration derives from existing rows.
async fn backfill(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    dialect: Dialect,
    which: Backfill,
) -> Result<()> {
    let q = |s: &str| match dialect {
        Dialect::Postgres => s.to_owned(),
        Dialect::Sqlite => s.replace('$', "?"),
    };
    match which {
        Backfill::AdminIndexes => backfill_admin(tx, dialect, &q).await,
        Backfill::TagBits => backfill_tag_bits(tx, dialect, &q).await,
    }
}

/// Migration 7: every tag row learns its asset's tag bits; then the index.
async fn backfill_tag_bits(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    dialect: Dialect,
    q: &dyn Fn(&str) -> String,
) -> Result<()> {
    use sqlx::Row;
    let rows =
        sqlx::query("SELECT cloud, resource_type, delivery_type, public_id, tags FROM assets")
            .fetch_all(&mut **tx)
            .await?;
    let update = q("UPDATE asset_tags SET tag_bits = $5 WHERE cloud = $1 \
         AND resource_type = $2 AND delivery_type = $3 AND public_id = $4");
    for r in &rows {
        let tags: Vec<String> =
            serde_json::from_str(&r.try_get::<String, _>(4)?).unwrap_or_default();
        if tags.is_empty() {
            continue;
        }
        sqlx::query(&update)
            .bind(r.try_get::<String, _>(0)?)
            .bind(r.try_get::<String, _>(1)?)
            .bind(r.try_get::<String, _>(2)?)
            .bind(r.try_get::<String, _>(3)?)
            .bind(crate::sql::tag_bits(tags.iter().map(String::as_str)))
            .execute(&mut **tx)
            .await?;
    }
    tx.execute(TAG_INDEX.replace("{C}", dialect.bytewise()).as_str())
        .await?;
    Ok(())
}

/// Migration 3: folder and filename columns, the context index, the
/// folder tree and derived-file ids.
async fn backfill_admin(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    dialect: Dialect,
    q: &dyn Fn(&str) -> String,
) -> Result<()> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT cloud, resource_type, delivery_type, public_id, context, created_at FROM assets",
    )
    .fetch_all(&mut **tx)
    .await?;
    for r in &rows {
        let (cloud, rt, dt, id): (String, String, String, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        let created: i64 = r.try_get(5)?;
        let (folder, filename) = crate::sql::folder_and_filename(&id);
        sqlx::query(&q(
            "UPDATE assets SET folder = $5, filename = $6 WHERE cloud = $1 \
             AND resource_type = $2 AND delivery_type = $3 AND public_id = $4",
        ))
        .bind(cloud.clone())
        .bind(rt.clone())
        .bind(dt.clone())
        .bind(id.clone())
        .bind(folder.to_owned())
        .bind(filename.to_owned())
        .execute(&mut **tx)
        .await?;
        let context: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&r.try_get::<String, _>(4)?).unwrap_or_default();
        for (k, v) in context {
            sqlx::query(&q(
                "INSERT INTO asset_context (cloud, resource_type, delivery_type, \
                 public_id, ctx_key, ctx_value) VALUES ($1, $2, $3, $4, $5, $6)",
            ))
            .bind(cloud.clone())
            .bind(rt.clone())
            .bind(dt.clone())
            .bind(id.clone())
            .bind(k)
            .bind(v)
            .execute(&mut **tx)
            .await?;
        }
        crate::sql::insert_folders(&mut **tx, dialect, &cloud, folder, created).await?;
    }
    let derived = sqlx::query("SELECT asset_id, asset_version, cache_key FROM derived")
        .fetch_all(&mut **tx)
        .await?;
    for r in &derived {
        sqlx::query(&q(
            "UPDATE derived SET derived_id = $4 WHERE asset_id = $1 \
             AND asset_version = $2 AND cache_key = $3",
        ))
        .bind(r.try_get::<String, _>(0)?)
        .bind(r.try_get::<i64, _>(1)?)
        .bind(r.try_get::<String, _>(2)?)
        .bind(nubo_core::random_id(32))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    /// A fresh SQLite catalog migrated up to `version`.
    async fn sqlite_at(version: i64) -> (tempfile::TempDir, sqlx::AnyPool) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("m.db").display());
        let pool = sqlx::any::AnyPoolOptions::new()
            .connect(&url)
            .await
            .unwrap();
        run_to(&pool, Dialect::Sqlite, version).await.unwrap();
        (dir, pool)
    }

    #[tokio::test]
    async fn migration_3_backfills_what_older_rows_imply() {
        let (_dir, pool) = sqlite_at(2).await;
        sqlx::query(
            "INSERT INTO assets (cloud, resource_type, delivery_type, public_id, asset_id, version, \
             version_id, bytes, etag, tags, context, meta, blob_key, created_at, updated_at) \
             VALUES ('c', 'raw', 'upload', 'a/b/doc.txt', 'id1', 1, 'v', 1, 'e', '[]', \
             '{\"alt\":\"x\"}', '{}', 'k', 5, 5)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO asset_tags (cloud, resource_type, delivery_type, public_id, tag) \
             VALUES ('c', 'raw', 'upload', 'a/b/doc.txt', 't1')",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO derived (asset_id, asset_version, cache_key, transformation, format, \
             bytes, width, height, blob_key, created_at) VALUES ('id1', 1, 'k', 't', 'png', 1, 1, 1, 'b', 1)",
        )
        .execute(&pool)
        .await
        .unwrap();
        run(&pool, Dialect::Sqlite).await.unwrap();
        let row = sqlx::query("SELECT folder, filename FROM assets")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>(0), "a/b");
        assert_eq!(row.get::<String, _>(1), "doc");
        let ctx: Vec<String> =
            sqlx::query_scalar("SELECT ctx_key || '=' || ctx_value FROM asset_context")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(ctx, ["alt=x"]);
        let folders: Vec<String> = sqlx::query_scalar("SELECT path FROM folders ORDER BY path")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(folders, ["a", "a/b"]);
        let id: String = sqlx::query_scalar("SELECT derived_id FROM derived")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(id.len(), 32);
        // Tag rows learn their asset's upload time and sizes.
        let tag = sqlx::query("SELECT created_at_us, bytes FROM asset_tags")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(tag.get::<i64, _>(0), 5_000_000);
        assert_eq!(tag.get::<i64, _>(1), 1);
    }

    #[tokio::test]
    async fn migration_7_gives_tag_rows_their_assets_tag_bits() {
        let (_dir, pool) = sqlite_at(6).await;
        sqlx::query(
            "INSERT INTO assets (cloud, resource_type, delivery_type, public_id, asset_id, version, \
             version_id, bytes, etag, tags, context, meta, blob_key, created_at, updated_at) \
             VALUES ('c', 'image', 'upload', 'p', 'id1', 1, 'v', 1, 'e', '[\"a\",\"b\"]', \
             '{}', '{}', 'k', 5, 5)",
        )
        .execute(&pool)
        .await
        .unwrap();
        for t in ["a", "b"] {
            sqlx::query(
                "INSERT INTO asset_tags (cloud, resource_type, delivery_type, public_id, tag) \
                 VALUES ('c', 'image', 'upload', 'p', ?)",
            )
            .bind(t)
            .execute(&pool)
            .await
            .unwrap();
        }
        run(&pool, Dialect::Sqlite).await.unwrap();
        let bits: Vec<i64> = sqlx::query_scalar("SELECT tag_bits FROM asset_tags")
            .fetch_all(&pool)
            .await
            .unwrap();
        let want = crate::sql::tag_bits(["a", "b"]);
        assert_eq!(bits, [want, want]);
        // The bits are stored: the function must never change.
        assert_eq!(want, (1 << 61) | (1 << 28));
        assert_eq!(crate::sql::tag_bit("sale"), 1 << 27);
        let index: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'asset_tags_by_cloud_tag'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(index, 1, "the tag index is rebuilt");
    }
}
