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
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[FOUNDATION, DERIVED];

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
};

/// Brings the schema up to date. Safe to call from several nodes at once.
pub async fn run(pool: &AnyPool, dialect: Dialect) -> Result<()> {
    let mut conn = pool.acquire().await?;
    if dialect == Dialect::Postgres {
        // An arbitrary constant: "nubo" in ASCII.
        conn.execute("SELECT pg_advisory_lock(1853186671)").await?;
    }
    let result = apply_pending(&mut conn).await;
    if dialect == Dialect::Postgres {
        conn.execute("SELECT pg_advisory_unlock(1853186671)")
            .await?;
    }
    result
}

async fn apply_pending(conn: &mut sqlx::AnyConnection) -> Result<()> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS nubo_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM nubo_migrations")
        .fetch_all(&mut *conn)
        .await?;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        tx.execute(m.sql).await?;
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
