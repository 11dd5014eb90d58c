//! Clouds, API keys, bearer tokens and upload presets.

use nubo_core::CloudName;
use sqlx::Row;

use super::rows::*;
use super::{created, SqlCatalog};
use crate::*;

impl SqlCatalog {
    pub(super) async fn create_cloud_impl(&self, name: &CloudName, now: i64) -> Result<Created> {
        let sql =
            self.q("INSERT INTO clouds (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING");
        let done = sqlx::query(&sql)
            .bind(name.as_str().to_owned())
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(created(done.rows_affected()))
    }

    pub(super) async fn list_clouds_impl(&self) -> Result<Vec<CloudRecord>> {
        let rows = sqlx::query("SELECT name, created_at FROM clouds ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CloudRecord {
                    name: CloudName::parse(&r.try_get::<String, _>("name")?).map_err(corrupt)?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub(super) async fn cloud_exists_impl(&self, name: &CloudName) -> Result<bool> {
        let sql = self.q("SELECT COUNT(*) FROM clouds WHERE name = $1");
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(name.as_str().to_owned())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    pub(super) async fn put_api_key_impl(&self, k: &ApiKeyRecord) -> Result<Created> {
        let sql = self.q(
            "INSERT INTO api_keys (cloud, api_key, secret, label, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        );
        let done = sqlx::query(&sql)
            .bind(k.cloud.as_str().to_owned())
            .bind(k.key.clone())
            .bind(k.secret.clone())
            .bind(k.label.clone())
            .bind(k.created_at)
            .bind(k.revoked_at)
            .execute(&self.pool)
            .await?;
        Ok(created(done.rows_affected()))
    }

    pub(super) async fn api_key_impl(
        &self,
        cloud: &CloudName,
        key: &str,
    ) -> Result<Option<ApiKeyRecord>> {
        let sql = self.q("SELECT * FROM api_keys WHERE cloud = $1 AND api_key = $2");
        let row = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(key.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    pub(super) async fn list_api_keys_impl(&self, cloud: &CloudName) -> Result<Vec<ApiKeyRecord>> {
        let sql = self.q("SELECT * FROM api_keys WHERE cloud = $1 ORDER BY created_at, api_key");
        let rows = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    pub(super) async fn revoke_api_key_impl(
        &self,
        cloud: &CloudName,
        key: &str,
        now: i64,
    ) -> Result<bool> {
        let sql = self.q(
            "UPDATE api_keys SET revoked_at = $3 WHERE cloud = $1 AND api_key = $2 AND revoked_at IS NULL",
        );
        let done = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(key.to_owned())
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn put_token_impl(&self, t: &TokenRecord) -> Result<()> {
        let sql = self.q(
            "INSERT INTO tokens (id, cloud, token_hash, label, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        );
        sqlx::query(&sql)
            .bind(t.id.clone())
            .bind(t.cloud.as_str().to_owned())
            .bind(t.hash_hex.clone())
            .bind(t.label.clone())
            .bind(t.created_at)
            .bind(t.expires_at)
            .bind(t.revoked_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn token_by_hash_impl(&self, hash_hex: &str) -> Result<Option<TokenRecord>> {
        let sql = self.q("SELECT * FROM tokens WHERE token_hash = $1");
        let row = sqlx::query(&sql)
            .bind(hash_hex.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    pub(super) async fn list_tokens_impl(&self, cloud: &CloudName) -> Result<Vec<TokenRecord>> {
        let sql = self.q("SELECT * FROM tokens WHERE cloud = $1 ORDER BY created_at, id");
        let rows = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    pub(super) async fn revoke_token_impl(
        &self,
        cloud: &CloudName,
        id: &str,
        now: i64,
    ) -> Result<bool> {
        let sql = self.q(
            "UPDATE tokens SET revoked_at = $3 WHERE cloud = $1 AND id = $2 AND revoked_at IS NULL",
        );
        let done = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(id.to_owned())
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn put_preset_impl(&self, p: &PresetRecord) -> Result<Created> {
        let (_guard, mut tx) = self.begin_write().await?;
        let sql = self.q("DELETE FROM upload_presets WHERE cloud = $1 AND name = $2");
        let replaced = sqlx::query(&sql)
            .bind(p.cloud.as_str().to_owned())
            .bind(p.name.clone())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let sql = self.q(
            "INSERT INTO upload_presets (cloud, name, unsigned_ok, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        );
        sqlx::query(&sql)
            .bind(p.cloud.as_str().to_owned())
            .bind(p.name.clone())
            .bind(i64::from(p.unsigned))
            .bind(serde_json::to_string(&p.settings).expect("strings serialise"))
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(if replaced > 0 {
            Created::AlreadyExisted
        } else {
            Created::New
        })
    }

    pub(super) async fn preset_impl(
        &self,
        cloud: &CloudName,
        name: &str,
    ) -> Result<Option<PresetRecord>> {
        let sql = self.q("SELECT * FROM upload_presets WHERE cloud = $1 AND name = $2");
        let row = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(name.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(preset_from_row).transpose()
    }

    pub(super) async fn list_presets_impl(&self, cloud: &CloudName) -> Result<Vec<PresetRecord>> {
        let sql = self.q("SELECT * FROM upload_presets WHERE cloud = $1 ORDER BY name");
        let rows = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(preset_from_row).collect()
    }

    pub(super) async fn delete_preset_impl(&self, cloud: &CloudName, name: &str) -> Result<bool> {
        let sql = self.q("DELETE FROM upload_presets WHERE cloud = $1 AND name = $2");
        let done = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(name.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
