//! What the Admin API reads and changes beyond single assets: resource
//! types, usage, the tag list, the folder tree, derived files by id, and
//! asset metadata edits.

use nubo_core::{CloudName, ResourceType};
use sqlx::Row;

use super::rows::corrupt;
use super::{bind_loc, SqlCatalog, PK};
use crate::*;

/// Most derived ids one call may name.
const MAX_IDS: usize = 1000;

impl SqlCatalog {
    pub(super) async fn resource_types_impl(&self, cloud: &CloudName) -> Result<Vec<ResourceType>> {
        let sql = self
            .q("SELECT DISTINCT resource_type FROM assets WHERE cloud = $1 ORDER BY resource_type");
        let rows: Vec<String> = sqlx::query_scalar(&sql)
            .bind(cloud.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| ResourceType::parse(r).map_err(corrupt))
            .collect()
    }

    pub(super) async fn usage_impl(&self, cloud: &CloudName) -> Result<UsageFigures> {
        let sql = self.q(
            "SELECT COUNT(*), CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM assets WHERE cloud = $1",
        );
        let row = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .fetch_one(&self.pool)
            .await?;
        let sql = self.q(
            "SELECT COUNT(*), CAST(COALESCE(SUM(d.bytes), 0) AS BIGINT) FROM derived d \
             JOIN assets a ON a.asset_id = d.asset_id WHERE a.cloud = $1",
        );
        let derived = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .fetch_one(&self.pool)
            .await?;
        // SUM is NUMERIC on PostgreSQL, hence the casts to BIGINT.
        let num = |r: &sqlx::any::AnyRow, i: usize| -> Result<i64> { Ok(r.try_get::<i64, _>(i)?) };
        let sql = self.q(
            "SELECT CAST(COALESCE(SUM(b.size), 0) AS BIGINT) FROM blobs b WHERE b.blob_key IN \
             (SELECT blob_key FROM assets WHERE cloud = $1 UNION \
              SELECT d.blob_key FROM derived d JOIN assets a ON a.asset_id = d.asset_id \
              WHERE a.cloud = $1)",
        );
        let stored: i64 = sqlx::query_scalar(&sql)
            .bind(cloud.as_str().to_owned())
            .fetch_one(&self.pool)
            .await?;
        Ok(UsageFigures {
            assets: num(&row, 0)?,
            asset_bytes: num(&row, 1)?,
            derived: num(&derived, 0)?,
            derived_bytes: num(&derived, 1)?,
            stored_bytes: stored,
        })
    }

    /// Distinct tags of a resource type, alphabetical (bytewise), after
    /// `after`, starting with `prefix`.
    pub(super) async fn list_tags_impl(
        &self,
        cloud: &CloudName,
        rt: ResourceType,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        let c = self.dialect.bytewise();
        let sql = self
            .q(&format!(
            "SELECT DISTINCT tag{c} AS t FROM asset_tags WHERE cloud = $1 AND resource_type = $2 \
             AND tag{c} >= $3 AND tag{c} <= $4 AND tag{c} > $5 ORDER BY t LIMIT $6"
        ))
            .into_owned();
        Ok(sqlx::query_scalar(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(rt.as_str())
            .bind(prefix.to_owned())
            .bind(format!("{prefix}\u{10FFFF}"))
            .bind(after.unwrap_or("").to_owned())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?)
    }

    pub(super) async fn subfolders_impl(
        &self,
        cloud: &CloudName,
        parent: &str,
    ) -> Result<Vec<FolderRecord>> {
        let c = self.dialect.bytewise();
        let sql = self
            .q(&format!(
                "SELECT path, name, created_at FROM folders WHERE cloud = $1 AND parent = $2 \
             ORDER BY name{c}"
            ))
            .into_owned();
        let rows = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(parent.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(FolderRecord {
                    path: r.try_get("path")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub(super) async fn folder_exists_impl(&self, cloud: &CloudName, path: &str) -> Result<bool> {
        let sql = self.q("SELECT COUNT(*) FROM folders WHERE cloud = $1 AND path = $2");
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(path.to_owned())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    pub(super) async fn create_folder_impl(
        &self,
        cloud: &CloudName,
        path: &str,
        now: i64,
    ) -> Result<Created> {
        let existed = self.folder_exists_impl(cloud, path).await?;
        let (_guard, mut tx) = self.begin_write().await?;
        super::insert_folders(&mut *tx, self.dialect, cloud.as_str(), path, now).await?;
        tx.commit().await?;
        Ok(if existed {
            Created::AlreadyExisted
        } else {
            Created::New
        })
    }

    pub(super) async fn derived_by_ids_impl(
        &self,
        cloud: &CloudName,
        ids: &[String],
    ) -> Result<Vec<Derived>> {
        let mut out = Vec::new();
        let sql = self.q(
            "SELECT d.* FROM derived d JOIN assets a ON a.asset_id = d.asset_id \
             WHERE a.cloud = $1 AND d.derived_id = $2",
        );
        for id in ids.iter().take(MAX_IDS) {
            let row = sqlx::query(&sql)
                .bind(cloud.as_str().to_owned())
                .bind(id.clone())
                .fetch_optional(&self.pool)
                .await?;
            if let Some(r) = row {
                out.push(super::derived::derived_from_row(&r)?);
            }
        }
        Ok(out)
    }

    /// Forgets the named derived files; returns their blob keys.
    pub(super) async fn delete_derived_rows_impl(&self, ids: &[String]) -> Result<Vec<String>> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = self.q("DELETE FROM derived WHERE derived_id = $1 RETURNING blob_key");
        let mut keys = Vec::new();
        for id in ids.iter().take(MAX_IDS) {
            let key: Option<String> = sqlx::query_scalar(&sql)
                .bind(id.clone())
                .fetch_optional(&mut *tx)
                .await?;
            keys.extend(key);
        }
        tx.commit().await?;
        Ok(keys)
    }

    /// Applies an edit of tags and context plus keys merged into (or, with
    /// `null`, removed from) the media details, in one transaction.
    pub(super) async fn update_asset_impl(
        &self,
        loc: &AssetLocator,
        edit: &AssetEdit,
        meta: &serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<Option<Asset>> {
        let (_guard, mut tx) = self.begin_write().await?;
        let Some(mut asset) = self.load_asset(&mut *tx, loc, true).await? else {
            return Ok(None);
        };
        edit.apply(&mut asset.tags, &mut asset.context);
        for (k, v) in meta {
            if v.is_null() {
                asset.meta.remove(k);
            } else {
                asset.meta.insert(k.clone(), v.clone());
            }
        }
        asset.updated_at = now;
        let update = self
            .q(&format!(
                "UPDATE assets SET tags = $5, context = $6, meta = $7, updated_at = $8 WHERE {PK}"
            ))
            .into_owned();
        bind_loc(sqlx::query(&update), loc)
            .bind(super::rows::tags_json(&asset.tags))
            .bind(super::rows::context_json(&asset.context))
            .bind(serde_json::Value::Object(asset.meta.clone()).to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        self.write_tags(&mut tx, &asset).await?;
        self.write_context(&mut tx, loc, &asset.context).await?;
        self.write_metadata_index(&mut tx, loc, &asset.meta).await?;
        tx.commit().await?;
        Ok(Some(asset))
    }

    pub(super) async fn derived_transformations_impl(
        &self,
        cloud: &CloudName,
        limit: u32,
    ) -> Result<Vec<String>> {
        let c = self.dialect.bytewise();
        let sql = self
            .q(&format!(
                "SELECT DISTINCT d.transformation{c} AS t FROM derived d \
             JOIN assets a ON a.asset_id = d.asset_id AND a.version = d.asset_version \
             WHERE a.cloud = $1 AND d.transformation <> '' ORDER BY t LIMIT $2"
            ))
            .into_owned();
        Ok(sqlx::query_scalar(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?)
    }

    pub(super) async fn derived_by_transformation_impl(
        &self,
        cloud: &CloudName,
        transformation: &str,
        limit: u32,
    ) -> Result<Vec<Derived>> {
        let sql = self.q(
            "SELECT d.* FROM derived d JOIN assets a ON a.asset_id = d.asset_id \
             WHERE a.cloud = $1 AND d.transformation = $2 ORDER BY d.created_at, d.derived_id LIMIT $3",
        );
        let rows = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(transformation.to_owned())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(super::derived::derived_from_row).collect()
    }
}
