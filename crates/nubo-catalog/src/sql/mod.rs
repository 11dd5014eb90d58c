//! [`SqlCatalog`]: the catalog over SQLite or PostgreSQL.
//!
//! Queries are written once, with `$n` placeholders, and rewritten to `?n`
//! for SQLite. Where the dialects differ (row locks), [`Dialect`] says how.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use nubo_core::{AssetId, CloudName, DeliveryType, PublicId, ResourceType, VersionId};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::*;

mod accounts;
mod admin;
mod chunks;
mod derived;
mod folders;
mod index;
mod jobs;
mod metadata;
mod rows;
mod search;
pub use folders::MAX_FOLDER_RENAME;
use index::sub_second_micros;
pub(crate) use index::{folder_and_filename, insert_folders};
pub use metadata::METADATA_KEY;
use rows::*;
pub use search::MAX_PAGE;

/// Which SQL database a [`SqlCatalog`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of_url(url: &str) -> Option<Dialect> {
        if url.starts_with("sqlite:") {
            Some(Dialect::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Dialect::Postgres)
        } else {
            None
        }
    }

    /// The collation clause that makes text compare bytewise: SQLite's
    /// default already does; PostgreSQL's depends on the database locale.
    pub(crate) fn bytewise(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }

    /// Row lock for read-modify-write; SQLite serialises writers instead.
    fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// The SQL catalog. Cheap to clone.
#[derive(Clone)]
pub struct SqlCatalog {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite allows one writer: writers queue here rather than fail busy.
    write_lock: Option<Arc<Mutex<()>>>,
}

type WriteTx = (Option<OwnedMutexGuard<()>>, Transaction<'static, Any>);

const ASSET_COLS: &str = "cloud, resource_type, delivery_type, public_id, asset_id, version, \
     version_id, format, bytes, width, height, pages, etag, original_filename, tags, context, \
     meta, blob_key, created_at, updated_at, created_at_us";

const PK: &str = "cloud = $1 AND resource_type = $2 AND delivery_type = $3 AND public_id = $4";

impl SqlCatalog {
    /// Connects and migrates. `schema` (PostgreSQL only) isolates one
    /// deployment or test run inside a shared database.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of_url(url).ok_or_else(|| {
            CatalogError::Corrupt(format!(
                "unsupported database URL {url:?}: use sqlite: or postgres://"
            ))
        })?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match dialect {
            Dialect::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                                 PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Dialect::Postgres => {
                let schema = schema.map(str::to_owned);
                if let Some(s) = &schema {
                    validate_schema_name(s)?;
                    let admin = AnyPoolOptions::new()
                        .max_connections(1)
                        .connect_with(options.clone())
                        .await?;
                    admin
                        .execute(format!("CREATE SCHEMA IF NOT EXISTS \"{s}\"").as_str())
                        .await?;
                    admin.close().await;
                }
                AnyPoolOptions::new()
                    .max_connections(16)
                    .after_connect(move |conn, _| {
                        let schema = schema.clone();
                        Box::pin(async move {
                            if let Some(s) = schema {
                                conn.execute(format!("SET search_path TO \"{s}\"").as_str())
                                    .await?;
                            }
                            // The catalog runs short queries whose cost
                            // estimates still cross JIT's threshold;
                            // compiling took 10-60 ms of a 40 ms count.
                            conn.execute("SET jit = off").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
        };
        migrate::run(&pool, dialect).await?;
        let write_lock = (dialect == Dialect::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            pool,
            dialect,
            write_lock,
        })
    }

    /// Drops a PostgreSQL schema (test clean-up).
    pub async fn drop_schema(&self, schema: &str) -> Result<()> {
        validate_schema_name(schema)?;
        self.pool
            .execute(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE").as_str())
            .await?;
        Ok(())
    }

    fn q<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        match self.dialect {
            Dialect::Postgres => Cow::Borrowed(sql),
            Dialect::Sqlite => Cow::Owned(sql.replace('$', "?")),
        }
    }

    async fn begin_write(&self) -> Result<WriteTx> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        Ok((guard, self.pool.begin().await?))
    }

    async fn load_asset<'e, E>(
        &self,
        exec: E,
        loc: &AssetLocator,
        lock: bool,
    ) -> Result<Option<Asset>>
    where
        E: Executor<'e, Database = Any>,
    {
        let sql = format!(
            "SELECT {ASSET_COLS} FROM assets WHERE {PK}{}",
            if lock { self.dialect.for_update() } else { "" }
        );
        let row = bind_loc(sqlx::query(&self.q(&sql)), loc)
            .fetch_optional(exec)
            .await?;
        row.map(|r| asset_from_row(&r)).transpose()
    }

    async fn remove_asset_row(
        &self,
        tx: &mut Transaction<'static, Any>,
        loc: &AssetLocator,
    ) -> Result<()> {
        for table in ["assets", "asset_tags", "asset_context", "asset_metadata"] {
            let sql = self
                .q(&format!("DELETE FROM {table} WHERE {PK}"))
                .into_owned();
            bind_loc(sqlx::query(&sql), loc).execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn insert_asset_row(&self, tx: &mut Transaction<'static, Any>, a: &Asset) -> Result<()> {
        let (folder, filename) = folder_and_filename(a.loc.public_id.as_str());
        let sql = self
            .q(&format!(
                "INSERT INTO assets ({ASSET_COLS}, folder, filename) VALUES \
             ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23)"
            ))
            .into_owned();
        bind_loc(sqlx::query(&sql), &a.loc)
            .bind(a.asset_id.clone())
            .bind(a.version)
            .bind(a.version_id.clone())
            .bind(a.format.clone())
            .bind(a.bytes)
            .bind(a.width)
            .bind(a.height)
            .bind(a.pages)
            .bind(a.etag.clone())
            .bind(a.original_filename.clone())
            .bind(tags_json(&a.tags))
            .bind(context_json(&a.context))
            .bind(serde_json::Value::Object(a.meta.clone()).to_string())
            .bind(a.blob_key.clone())
            .bind(a.created_at)
            .bind(a.updated_at)
            .bind(a.created_at_us)
            .bind(folder.to_owned())
            .bind(filename.to_owned())
            .execute(&mut **tx)
            .await?;
        self.write_tags(tx, a).await?;
        self.write_context(tx, &a.loc, &a.context).await?;
        self.write_metadata_index(tx, &a.loc, &a.meta).await?;
        insert_folders(
            &mut **tx,
            self.dialect,
            a.loc.scope.cloud.as_str(),
            folder,
            a.updated_at,
        )
        .await
    }

    /// Refreshes the pin of a blob about to be referenced; fails if the
    /// blob row was collected (the caller wrote bytes it no longer owns).
    async fn repin(&self, tx: &mut Transaction<'static, Any>, key: &str, now: i64) -> Result<()> {
        let sql = self.q(
            "UPDATE blobs SET pinned_until = CASE WHEN pinned_until > $2 THEN pinned_until ELSE $2 END \
             WHERE blob_key = $1",
        );
        let done = sqlx::query(&sql)
            .bind(key.to_owned())
            .bind(now + PIN_SECONDS)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::BlobGone(key.to_owned()));
        }
        Ok(())
    }
}

/// How long a pin protects a blob that is being written or committed.
pub(crate) const PIN_SECONDS: i64 = 3600;

/// The bit of one tag in a tag row's `tag_bits`: FNV-1a of its bytes,
/// modulo 63 (the sign bit stays clear, so both databases agree on `&`).
/// A stable function: the bits are stored.
pub fn tag_bit(tag: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tag.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    1i64 << (h % 63)
}

/// The summary of a set of tags: the union of their bits. Never 0 for a
/// non-empty set, which tells rows written with bits from rows without.
pub fn tag_bits<'a>(tags: impl IntoIterator<Item = &'a str>) -> i64 {
    tags.into_iter().fold(0, |bits, t| bits | tag_bit(t))
}

fn validate_schema_name(s: &str) -> Result<()> {
    if !s.is_empty() && s.len() <= 63 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(CatalogError::Corrupt(format!("invalid schema name {s:?}")))
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

fn bind_loc<'q>(q: AnyQuery<'q>, loc: &AssetLocator) -> AnyQuery<'q> {
    bind_scope(q, &loc.scope).bind(loc.public_id.as_str().to_owned())
}

fn bind_scope<'q>(q: AnyQuery<'q>, scope: &AssetScope) -> AnyQuery<'q> {
    q.bind(scope.cloud.as_str().to_owned())
        .bind(scope.resource_type.as_str())
        .bind(scope.delivery_type.as_str())
}

fn created(rows: u64) -> Created {
    if rows > 0 {
        Created::New
    } else {
        Created::AlreadyExisted
    }
}

#[async_trait]
impl Catalog for SqlCatalog {
    async fn create_cloud(&self, name: &CloudName, now: i64) -> Result<Created> {
        self.create_cloud_impl(name, now).await
    }
    async fn list_clouds(&self) -> Result<Vec<CloudRecord>> {
        self.list_clouds_impl().await
    }
    async fn cloud_exists(&self, name: &CloudName) -> Result<bool> {
        self.cloud_exists_impl(name).await
    }
    async fn put_api_key(&self, k: &ApiKeyRecord) -> Result<Created> {
        self.put_api_key_impl(k).await
    }
    async fn api_key(&self, cloud: &CloudName, key: &str) -> Result<Option<ApiKeyRecord>> {
        self.api_key_impl(cloud, key).await
    }
    async fn list_api_keys(&self, cloud: &CloudName) -> Result<Vec<ApiKeyRecord>> {
        self.list_api_keys_impl(cloud).await
    }
    async fn revoke_api_key(&self, cloud: &CloudName, key: &str, now: i64) -> Result<bool> {
        self.revoke_api_key_impl(cloud, key, now).await
    }
    async fn put_token(&self, t: &TokenRecord) -> Result<()> {
        self.put_token_impl(t).await
    }
    async fn token_by_hash(&self, hash_hex: &str) -> Result<Option<TokenRecord>> {
        self.token_by_hash_impl(hash_hex).await
    }
    async fn list_tokens(&self, cloud: &CloudName) -> Result<Vec<TokenRecord>> {
        self.list_tokens_impl(cloud).await
    }
    async fn revoke_token(&self, cloud: &CloudName, id: &str, now: i64) -> Result<bool> {
        self.revoke_token_impl(cloud, id, now).await
    }
    async fn put_preset(&self, p: &PresetRecord) -> Result<Created> {
        self.put_preset_impl(p).await
    }
    async fn preset(&self, cloud: &CloudName, name: &str) -> Result<Option<PresetRecord>> {
        self.preset_impl(cloud, name).await
    }
    async fn list_presets(&self, cloud: &CloudName) -> Result<Vec<PresetRecord>> {
        self.list_presets_impl(cloud).await
    }
    async fn delete_preset(&self, cloud: &CloudName, name: &str) -> Result<bool> {
        self.delete_preset_impl(cloud, name).await
    }

    async fn pin_blob(
        &self,
        sha256: &str,
        proposed_key: &str,
        size: u64,
        until: i64,
    ) -> Result<String> {
        let (_guard, mut tx) = self.begin_write().await?;
        // The upsert takes the row lock, so it orders itself against a
        // concurrent collect_blob of the same row.
        let sql = self.q(
            "INSERT INTO blobs (sha256, blob_key, size, pinned_until) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sha256) DO UPDATE SET pinned_until = \
               CASE WHEN blobs.pinned_until > excluded.pinned_until THEN blobs.pinned_until \
                    ELSE excluded.pinned_until END \
             RETURNING blob_key",
        );
        let key: String = sqlx::query_scalar(&sql)
            .bind(sha256.to_owned())
            .bind(proposed_key.to_owned())
            .bind(i64::try_from(size).unwrap_or(i64::MAX))
            .bind(until)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(key)
    }

    async fn collect_blob(&self, key: &str, now: i64) -> Result<bool> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = self.q(
            "DELETE FROM blobs WHERE blob_key = $1 AND pinned_until < $2 \
             AND NOT EXISTS (SELECT 1 FROM assets WHERE assets.blob_key = $1) \
             AND NOT EXISTS (SELECT 1 FROM derived WHERE derived.blob_key = $1) \
             AND NOT EXISTS (SELECT 1 FROM upload_chunks WHERE upload_chunks.blob_key = $1)",
        );
        let done = sqlx::query(&sql)
            .bind(key.to_owned())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn unreferenced_blobs(&self, now: i64, limit: i64) -> Result<Vec<String>> {
        let sql = self.q("SELECT blob_key FROM blobs WHERE pinned_until < $1 \
             AND NOT EXISTS (SELECT 1 FROM assets WHERE assets.blob_key = blobs.blob_key) \
             AND NOT EXISTS (SELECT 1 FROM derived WHERE derived.blob_key = blobs.blob_key) \
             AND NOT EXISTS (SELECT 1 FROM upload_chunks c WHERE c.blob_key = blobs.blob_key) \
             LIMIT $2");
        Ok(sqlx::query_scalar(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn asset(&self, loc: &AssetLocator) -> Result<Option<Asset>> {
        self.load_asset(&self.pool, loc, false).await
    }

    async fn asset_by_id(&self, cloud: &CloudName, asset_id: &str) -> Result<Option<Asset>> {
        let sql = self
            .q(&format!(
                "SELECT {ASSET_COLS} FROM assets WHERE cloud = $1 AND asset_id = $2"
            ))
            .into_owned();
        let row = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(asset_id.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| asset_from_row(&r)).transpose()
    }

    async fn commit_asset(&self, new: NewAsset, policy: OverwritePolicy) -> Result<CommitOutcome> {
        let (_guard, mut tx) = self.begin_write().await?;
        let existing = self.load_asset(&mut *tx, &new.loc, true).await?;
        if let (Some(old), OverwritePolicy::KeepExisting) = (&existing, policy) {
            return Ok(CommitOutcome::Existing(old.clone()));
        }
        self.repin(&mut tx, &new.blob_key, new.now).await?;
        let asset = Asset {
            asset_id: existing
                .as_ref()
                .map_or_else(|| AssetId::random().to_string(), |o| o.asset_id.clone()),
            // Versions are for cache busting, so they must strictly increase.
            version: existing
                .as_ref()
                .map_or(new.now, |o| new.now.max(o.version + 1)),
            version_id: VersionId::random().to_string(),
            created_at: new.now,
            created_at_us: new.now.saturating_mul(1_000_000) + sub_second_micros(),
            updated_at: new.now,
            loc: new.loc,
            format: new.format,
            bytes: new.bytes,
            width: new.width,
            height: new.height,
            pages: new.pages,
            etag: new.etag,
            original_filename: new.original_filename,
            tags: new.tags,
            context: new.context,
            meta: new.meta,
            blob_key: new.blob_key,
        };
        if existing.is_some() {
            self.remove_asset_row(&mut tx, &asset.loc).await?;
        }
        self.insert_asset_row(&mut tx, &asset).await?;
        tx.commit().await?;
        Ok(match existing {
            None => CommitOutcome::Created(asset),
            Some(old) => CommitOutcome::Replaced {
                asset,
                previous_blob: old.blob_key,
            },
        })
    }

    async fn delete_asset(&self, loc: &AssetLocator) -> Result<Option<Asset>> {
        let (_guard, mut tx) = self.begin_write().await?;
        let Some(asset) = self.load_asset(&mut *tx, loc, true).await? else {
            return Ok(None);
        };
        self.remove_asset_row(&mut tx, loc).await?;
        tx.commit().await?;
        Ok(Some(asset))
    }

    async fn rename_asset(
        &self,
        from: &AssetLocator,
        to: &AssetLocator,
        overwrite: bool,
        now: i64,
    ) -> Result<RenameOutcome> {
        let (_guard, mut tx) = self.begin_write().await?;
        let Some(mut asset) = self.load_asset(&mut *tx, from, true).await? else {
            return Ok(RenameOutcome::SourceMissing);
        };
        if from == to {
            return Ok(RenameOutcome::Renamed {
                asset,
                replaced_blob: None,
            });
        }
        let mut replaced_blob = None;
        if let Some(target) = self.load_asset(&mut *tx, to, true).await? {
            if !overwrite {
                return Ok(RenameOutcome::TargetExists);
            }
            self.remove_asset_row(&mut tx, to).await?;
            replaced_blob = Some(target.blob_key);
        }
        self.remove_asset_row(&mut tx, from).await?;
        asset.loc = to.clone();
        asset.updated_at = now;
        self.insert_asset_row(&mut tx, &asset).await?;
        tx.commit().await?;
        Ok(RenameOutcome::Renamed {
            asset,
            replaced_blob,
        })
    }

    async fn edit_assets(
        &self,
        scope: &AssetScope,
        ids: &[PublicId],
        edit: &AssetEdit,
        now: i64,
    ) -> Result<Vec<PublicId>> {
        let (_guard, mut tx) = self.begin_write().await?;
        let mut touched = Vec::new();
        let update = self
            .q(&format!(
                "UPDATE assets SET tags = $5, context = $6, updated_at = $7 WHERE {PK}"
            ))
            .into_owned();
        for id in ids {
            let loc = AssetLocator {
                scope: scope.clone(),
                public_id: id.clone(),
            };
            let Some(mut asset) = self.load_asset(&mut *tx, &loc, true).await? else {
                continue;
            };
            if edit.apply(&mut asset.tags, &mut asset.context) {
                bind_loc(sqlx::query(&update), &loc)
                    .bind(tags_json(&asset.tags))
                    .bind(context_json(&asset.context))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                self.write_tags(&mut tx, &asset).await?;
                self.write_context(&mut tx, &loc, &asset.context).await?;
            }
            touched.push(id.clone());
        }
        tx.commit().await?;
        Ok(touched)
    }

    async fn tagged(&self, scope: &AssetScope, tag: &str) -> Result<Vec<PublicId>> {
        let sql = self.q(
            "SELECT public_id FROM asset_tags WHERE cloud = $1 AND resource_type = $2 \
             AND delivery_type = $3 AND tag = $4 ORDER BY public_id",
        );
        let rows = bind_scope(sqlx::query(&sql), scope)
            .bind(tag.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| PublicId::parse(&r.try_get::<String, _>(0)?).map_err(corrupt))
            .collect()
    }

    async fn put_delete_token(
        &self,
        hash_hex: &str,
        loc: &AssetLocator,
        expires_at: i64,
    ) -> Result<()> {
        let sql = self.q(
            "INSERT INTO delete_tokens (cloud, resource_type, delivery_type, public_id, token_hash, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        );
        bind_loc(sqlx::query(&sql), loc)
            .bind(hash_hex.to_owned())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn take_delete_token(
        &self,
        cloud: &CloudName,
        hash_hex: &str,
        now: i64,
    ) -> Result<Option<AssetLocator>> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = self.q(
            "DELETE FROM delete_tokens WHERE cloud = $1 AND token_hash = $2 \
             RETURNING resource_type, delivery_type, public_id, expires_at",
        );
        let row = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(hash_hex.to_owned())
            .fetch_optional(&mut *tx)
            .await?;
        let purge = self.q("DELETE FROM delete_tokens WHERE expires_at < $1");
        sqlx::query(&purge).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        let Some(r) = row else { return Ok(None) };
        if r.try_get::<i64, _>("expires_at")? < now {
            return Ok(None);
        }
        Ok(Some(AssetLocator {
            scope: AssetScope {
                cloud: cloud.clone(),
                resource_type: ResourceType::parse(&r.try_get::<String, _>("resource_type")?)
                    .map_err(corrupt)?,
                delivery_type: DeliveryType::parse(&r.try_get::<String, _>("delivery_type")?)
                    .map_err(corrupt)?,
            },
            public_id: PublicId::parse(&r.try_get::<String, _>("public_id")?).map_err(corrupt)?,
        }))
    }

    async fn derived(&self, asset_id: &str, version: i64, key: &str) -> Result<Option<Derived>> {
        self.derived_impl(asset_id, version, key).await
    }
    async fn put_derived(&self, d: &Derived) -> Result<Derived> {
        self.put_derived_impl(d).await
    }
    async fn list_derived(&self, asset_id: &str) -> Result<Vec<Derived>> {
        self.list_derived_impl(asset_id).await
    }
    async fn delete_derived(&self, asset_id: &str) -> Result<Vec<String>> {
        self.delete_derived_impl(asset_id, None).await
    }
    async fn delete_old_derived(&self, asset_id: &str, current: i64) -> Result<Vec<String>> {
        self.delete_derived_impl(asset_id, Some(current)).await
    }
    async fn sweep_stale_derived(&self, limit: i64) -> Result<Vec<String>> {
        self.sweep_stale_derived_impl(limit).await
    }
    async fn put_named_transformation(&self, n: &NamedTransformation) -> Result<Created> {
        self.put_named_impl(n).await
    }
    async fn named_transformation(
        &self,
        cloud: &CloudName,
        name: &str,
    ) -> Result<Option<NamedTransformation>> {
        self.named_impl(cloud, name).await
    }
    async fn list_named_transformations(
        &self,
        cloud: &CloudName,
    ) -> Result<Vec<NamedTransformation>> {
        self.list_named_impl(cloud).await
    }
    async fn delete_named_transformation(&self, cloud: &CloudName, name: &str) -> Result<bool> {
        self.delete_named_impl(cloud, name).await
    }
    async fn query_assets(&self, q: &AssetQuery) -> Result<AssetPage> {
        self.query_assets_impl(q).await
    }
    async fn resource_types(&self, cloud: &CloudName) -> Result<Vec<ResourceType>> {
        self.resource_types_impl(cloud).await
    }
    async fn usage(&self, cloud: &CloudName) -> Result<UsageFigures> {
        self.usage_impl(cloud).await
    }
    async fn list_tags(
        &self,
        cloud: &CloudName,
        rt: ResourceType,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        self.list_tags_impl(cloud, rt, prefix, after, limit).await
    }
    async fn subfolders(&self, cloud: &CloudName, parent: &str) -> Result<Vec<FolderRecord>> {
        self.subfolders_impl(cloud, parent).await
    }
    async fn folder_exists(&self, cloud: &CloudName, path: &str) -> Result<bool> {
        self.folder_exists_impl(cloud, path).await
    }
    async fn create_folder(&self, cloud: &CloudName, path: &str, now: i64) -> Result<Created> {
        self.create_folder_impl(cloud, path, now).await
    }
    async fn delete_folder(&self, cloud: &CloudName, path: &str) -> Result<FolderDelete> {
        self.delete_folder_impl(cloud, path).await
    }
    async fn rename_folder(
        &self,
        cloud: &CloudName,
        from: &str,
        to: &str,
        now: i64,
    ) -> Result<FolderRename> {
        self.rename_folder_impl(cloud, from, to, now).await
    }
    async fn derived_by_ids(&self, cloud: &CloudName, ids: &[String]) -> Result<Vec<Derived>> {
        self.derived_by_ids_impl(cloud, ids).await
    }
    async fn delete_derived_rows(&self, ids: &[String]) -> Result<Vec<String>> {
        self.delete_derived_rows_impl(ids).await
    }
    async fn derived_transformations(&self, cloud: &CloudName, limit: u32) -> Result<Vec<String>> {
        self.derived_transformations_impl(cloud, limit).await
    }
    async fn derived_by_transformation(
        &self,
        cloud: &CloudName,
        transformation: &str,
        limit: u32,
    ) -> Result<Vec<Derived>> {
        self.derived_by_transformation_impl(cloud, transformation, limit)
            .await
    }
    async fn put_chunk(
        &self,
        session: &ChunkSession,
        part: &ChunkPart,
        total: Option<i64>,
        now: i64,
    ) -> Result<ChunkOutcome> {
        self.put_chunk_impl(session, part, total, now).await
    }
    async fn delete_chunk_session(&self, session: &ChunkSession) -> Result<Vec<String>> {
        self.delete_chunk_session_impl(session).await
    }
    async fn put_tus_upload(&self, t: &TusUpload) -> Result<()> {
        self.put_tus_impl(t).await
    }
    async fn tus_upload(&self, cloud: &CloudName, upload_id: &str) -> Result<Option<TusUpload>> {
        self.tus_impl(cloud, upload_id).await
    }
    async fn delete_tus_upload(&self, cloud: &CloudName, upload_id: &str) -> Result<bool> {
        self.delete_tus_impl(cloud, upload_id).await
    }
    async fn expired_tus_uploads(&self, now: i64, limit: i64) -> Result<Vec<TusUpload>> {
        self.expired_tus_impl(now, limit).await
    }
    async fn stale_chunk_sessions(&self, before: i64, limit: i64) -> Result<Vec<ChunkSession>> {
        self.stale_chunk_sessions_impl(before, limit).await
    }
    async fn put_metadata_field(
        &self,
        cloud: &CloudName,
        external_id: &str,
        definition: &serde_json::Value,
        now: i64,
    ) -> Result<Created> {
        self.put_metadata_field_impl(cloud, external_id, definition, now)
            .await
    }
    async fn metadata_fields(&self, cloud: &CloudName) -> Result<Vec<serde_json::Value>> {
        self.metadata_fields_impl(cloud).await
    }
    async fn delete_metadata_field(&self, cloud: &CloudName, external_id: &str) -> Result<bool> {
        self.delete_metadata_field_impl(cloud, external_id).await
    }
    async fn update_asset(
        &self,
        loc: &AssetLocator,
        edit: &AssetEdit,
        meta: &serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<Option<Asset>> {
        self.update_asset_impl(loc, edit, meta, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("c.db").display());
        let cat = SqlCatalog::connect(&url, None).await.unwrap();
        crate::testkit::run_all(&cat).await;
        // Migrating twice is a no-op.
        SqlCatalog::connect(&url, None).await.unwrap();
    }
}
