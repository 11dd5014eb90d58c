//! Derived files and named transformations.

use nubo_core::CloudName;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::rows::corrupt;
use super::SqlCatalog;
use crate::*;

pub(super) fn derived_from_row(r: &AnyRow) -> Result<Derived> {
    Ok(Derived {
        id: r
            .try_get::<Option<String>, _>("derived_id")?
            .unwrap_or_default(),
        asset_id: r.try_get("asset_id")?,
        asset_version: r.try_get("asset_version")?,
        cache_key: r.try_get("cache_key")?,
        transformation: r.try_get("transformation")?,
        format: r.try_get("format")?,
        bytes: r.try_get("bytes")?,
        width: r.try_get("width")?,
        height: r.try_get("height")?,
        blob_key: r.try_get("blob_key")?,
        created_at: r.try_get("created_at")?,
    })
}

fn named_from_row(r: &AnyRow) -> Result<NamedTransformation> {
    Ok(NamedTransformation {
        cloud: CloudName::parse(&r.try_get::<String, _>("cloud")?).map_err(corrupt)?,
        name: r.try_get("name")?,
        definition: r.try_get("definition")?,
        allowed_for_strict: r.try_get::<i64, _>("allowed_for_strict")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl SqlCatalog {
    pub(super) async fn derived_impl(
        &self,
        asset_id: &str,
        version: i64,
        key: &str,
    ) -> Result<Option<Derived>> {
        let sql = self.q(
            "SELECT * FROM derived WHERE asset_id = $1 AND asset_version = $2 AND cache_key = $3",
        );
        let row = sqlx::query(&sql)
            .bind(asset_id.to_owned())
            .bind(version)
            .bind(key.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(derived_from_row).transpose()
    }

    pub(super) async fn put_derived_impl(&self, d: &Derived) -> Result<Derived> {
        let (_guard, mut tx) = self.begin_write().await?;
        // The blob was pinned before its bytes were written; a row that
        // references it now keeps it alive once the pin expires.
        let sql = self.q(
            "INSERT INTO derived (asset_id, asset_version, cache_key, transformation, format, \
             bytes, width, height, blob_key, created_at, derived_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (asset_id, asset_version, cache_key) DO NOTHING",
        );
        // Ids are the catalog's to give: callers need not invent one.
        let id = if d.id.is_empty() {
            nubo_core::random_id(32)
        } else {
            d.id.clone()
        };
        sqlx::query(&sql)
            .bind(d.asset_id.clone())
            .bind(d.asset_version)
            .bind(d.cache_key.clone())
            .bind(d.transformation.clone())
            .bind(d.format.clone())
            .bind(d.bytes)
            .bind(d.width)
            .bind(d.height)
            .bind(d.blob_key.clone())
            .bind(d.created_at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let sql = self.q(
            "SELECT * FROM derived WHERE asset_id = $1 AND asset_version = $2 AND cache_key = $3",
        );
        let row = sqlx::query(&sql)
            .bind(d.asset_id.clone())
            .bind(d.asset_version)
            .bind(d.cache_key.clone())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        derived_from_row(&row)
    }

    pub(super) async fn list_derived_impl(&self, asset_id: &str) -> Result<Vec<Derived>> {
        let sql =
            self.q("SELECT * FROM derived WHERE asset_id = $1 ORDER BY created_at, cache_key");
        let rows = sqlx::query(&sql)
            .bind(asset_id.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(derived_from_row).collect()
    }

    /// Forgets an asset's derived files, or with `keep` all but that
    /// version's.
    pub(super) async fn delete_derived_impl(
        &self,
        asset_id: &str,
        keep: Option<i64>,
    ) -> Result<Vec<String>> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = match keep {
            None => self.q("DELETE FROM derived WHERE asset_id = $1 RETURNING blob_key"),
            Some(_) => self.q(
                "DELETE FROM derived WHERE asset_id = $1 AND asset_version <> $2 \
                 RETURNING blob_key",
            ),
        };
        let mut q = sqlx::query_scalar(&sql).bind(asset_id.to_owned());
        if let Some(v) = keep {
            q = q.bind(v);
        }
        let keys: Vec<String> = q.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(keys)
    }

    pub(super) async fn sweep_stale_derived_impl(&self, limit: i64) -> Result<Vec<String>> {
        let (_guard, mut tx) = self.begin_write().await?;
        // Derived files of versions that are no longer current.
        let sql = self.q(
            "DELETE FROM derived WHERE (asset_id, asset_version, cache_key) IN ( \
               SELECT d.asset_id, d.asset_version, d.cache_key FROM derived d \
               WHERE NOT EXISTS (SELECT 1 FROM assets a \
                 WHERE a.asset_id = d.asset_id AND a.version = d.asset_version) \
               LIMIT $1) \
             RETURNING blob_key",
        );
        let keys: Vec<String> = sqlx::query_scalar(&sql)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(keys)
    }

    pub(super) async fn put_named_impl(&self, n: &NamedTransformation) -> Result<Created> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = self.q("INSERT INTO named_transformations \
             (cloud, name, definition, allowed_for_strict, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (cloud, name) DO UPDATE SET definition = excluded.definition, \
               allowed_for_strict = excluded.allowed_for_strict, updated_at = excluded.updated_at \
             RETURNING created_at");
        let created_at: i64 = sqlx::query_scalar(&sql)
            .bind(n.cloud.as_str().to_owned())
            .bind(n.name.clone())
            .bind(n.definition.clone())
            .bind(i64::from(n.allowed_for_strict))
            .bind(n.created_at)
            .bind(n.updated_at)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(if created_at == n.created_at {
            Created::New
        } else {
            Created::AlreadyExisted
        })
    }

    pub(super) async fn named_impl(
        &self,
        cloud: &CloudName,
        name: &str,
    ) -> Result<Option<NamedTransformation>> {
        let sql = self.q("SELECT * FROM named_transformations WHERE cloud = $1 AND name = $2");
        let row = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(name.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(named_from_row).transpose()
    }

    pub(super) async fn list_named_impl(
        &self,
        cloud: &CloudName,
    ) -> Result<Vec<NamedTransformation>> {
        let sql = self.q("SELECT * FROM named_transformations WHERE cloud = $1 ORDER BY name");
        let rows = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(named_from_row).collect()
    }

    pub(super) async fn delete_named_impl(&self, cloud: &CloudName, name: &str) -> Result<bool> {
        let sql = self.q("DELETE FROM named_transformations WHERE cloud = $1 AND name = $2");
        let done = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(name.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
