//! Structured metadata: field definitions (stored as the service's JSON)
//! and the per-asset value index that search compiles `metadata.*` to.
//! An asset's values themselves live in its `meta` under `"metadata"`.

use nubo_core::CloudName;
use sqlx::{Any, Row, Transaction};

use super::rows::corrupt;
use super::{bind_loc, SqlCatalog, PK};
use crate::*;

/// The key of an asset's structured metadata inside `Asset::meta`.
pub const METADATA_KEY: &str = "metadata";

impl SqlCatalog {
    /// Rewrites the value index of one asset from its `meta`: one row per
    /// value (a set has several), numbers also as numbers.
    pub(super) async fn write_metadata_index(
        &self,
        tx: &mut Transaction<'static, Any>,
        loc: &AssetLocator,
        meta: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        let del = self
            .q(&format!("DELETE FROM asset_metadata WHERE {PK}"))
            .into_owned();
        bind_loc(sqlx::query(&del), loc).execute(&mut **tx).await?;
        let Some(serde_json::Value::Object(values)) = meta.get(METADATA_KEY) else {
            return Ok(());
        };
        // Two statements rather than a nullable number: PostgreSQL caches a
        // statement's parameter types, and the Any driver types NULL apart.
        let with_num = self.q(
            "INSERT INTO asset_metadata (cloud, resource_type, delivery_type, public_id, field, \
             value_text, value_num) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        );
        let text_only = self.q(
            "INSERT INTO asset_metadata (cloud, resource_type, delivery_type, public_id, field, \
             value_text, value_num) VALUES ($1, $2, $3, $4, $5, $6, NULL) ON CONFLICT DO NOTHING",
        );
        for (field, value) in values {
            let items = match value {
                serde_json::Value::Array(items) => items.clone(),
                one => vec![one.clone()],
            };
            for item in items {
                let (text, num) = match &item {
                    serde_json::Value::String(s) => (s.clone(), None),
                    serde_json::Value::Number(n) => (n.to_string(), n.as_f64()),
                    other => (other.to_string(), None),
                };
                let q = match num {
                    Some(n) => bind_loc(sqlx::query(&with_num), loc)
                        .bind(field.clone())
                        .bind(text)
                        .bind(n),
                    None => bind_loc(sqlx::query(&text_only), loc)
                        .bind(field.clone())
                        .bind(text),
                };
                q.execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    pub(super) async fn put_metadata_field_impl(
        &self,
        cloud: &CloudName,
        external_id: &str,
        definition: &serde_json::Value,
        now: i64,
    ) -> Result<Created> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = self
            .q("UPDATE metadata_fields SET definition = $3 WHERE cloud = $1 AND external_id = $2");
        let updated = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(external_id.to_owned())
            .bind(definition.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            let sql = self.q(
                "INSERT INTO metadata_fields (cloud, external_id, definition, position, created_at) \
                 SELECT $1, $2, $3, COALESCE(MAX(position), 0) + 1, $4 FROM metadata_fields \
                 WHERE cloud = $1",
            );
            sqlx::query(&sql)
                .bind(cloud.as_str().to_owned())
                .bind(external_id.to_owned())
                .bind(definition.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(if updated == 0 {
            Created::New
        } else {
            Created::AlreadyExisted
        })
    }

    pub(super) async fn metadata_fields_impl(
        &self,
        cloud: &CloudName,
    ) -> Result<Vec<serde_json::Value>> {
        let sql = self.q(
            "SELECT definition FROM metadata_fields WHERE cloud = $1 ORDER BY position, external_id",
        );
        let rows: Vec<String> = sqlx::query_scalar(&sql)
            .bind(cloud.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| serde_json::from_str(r).map_err(corrupt))
            .collect()
    }

    /// Deletes a field and removes its values from every asset.
    pub(super) async fn delete_metadata_field_impl(
        &self,
        cloud: &CloudName,
        external_id: &str,
    ) -> Result<bool> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = self.q("DELETE FROM metadata_fields WHERE cloud = $1 AND external_id = $2");
        let gone = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(external_id.to_owned())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Ok(false);
        }
        let sql = self.q(
            "SELECT DISTINCT resource_type, delivery_type, public_id FROM asset_metadata \
             WHERE cloud = $1 AND field = $2",
        );
        let holders = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(external_id.to_owned())
            .fetch_all(&mut *tx)
            .await?;
        for r in &holders {
            let loc = AssetLocator {
                scope: AssetScope {
                    cloud: cloud.clone(),
                    resource_type: nubo_core::ResourceType::parse(&r.try_get::<String, _>(0)?)
                        .map_err(corrupt)?,
                    delivery_type: nubo_core::DeliveryType::parse(&r.try_get::<String, _>(1)?)
                        .map_err(corrupt)?,
                },
                public_id: nubo_core::PublicId::parse(&r.try_get::<String, _>(2)?)
                    .map_err(corrupt)?,
            };
            let Some(mut asset) = self.load_asset(&mut *tx, &loc, true).await? else {
                continue;
            };
            if let Some(serde_json::Value::Object(values)) = asset.meta.get_mut(METADATA_KEY) {
                values.remove(external_id);
            }
            let update = self
                .q(&format!("UPDATE assets SET meta = $5 WHERE {PK}"))
                .into_owned();
            bind_loc(sqlx::query(&update), &loc)
                .bind(serde_json::Value::Object(asset.meta.clone()).to_string())
                .execute(&mut *tx)
                .await?;
            self.write_metadata_index(&mut tx, &loc, &asset.meta)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
