//! Clouds, API keys, bearer tokens and upload presets: what the CLI manages
//! and what `nubo serve` makes sure exists at start.

use std::collections::BTreeMap;

use base64::Engine;
use nubo_catalog::{ApiKeyRecord, Created, PresetRecord, TokenRecord};
use nubo_core::CloudName;
use rand::Rng;

use crate::auth::token_hash;
use crate::{now, Params, Result, Service, ServiceError};

/// A freshly made credential, shown once.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub cloud: CloudName,
    pub key: String,
    pub secret: String,
}

/// Credentials `nubo serve` was configured with.
#[derive(Debug, Clone, Default)]
pub struct BootstrapConfig {
    pub cloud: Option<CloudName>,
    pub key: Option<String>,
    pub secret: Option<String>,
}

/// A key of Cloudinary's shape: 15 digits.
fn random_api_key() -> String {
    let mut rng = rand::thread_rng();
    (0..15)
        .map(|i| char::from(b'0' + rng.gen_range(if i == 0 { 1 } else { 0 }..10)))
        .collect()
}

/// A secret of Cloudinary's shape: 27 URL-safe base64 characters (160 bits).
fn random_secret() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 20]>())
}

impl Service {
    /// Makes sure the configured cloud and credential exist. On a fresh
    /// catalog with nothing configured, creates cloud `demo` with a random
    /// key. Returns a credential only when it was just created.
    pub async fn bootstrap(&self, cfg: &BootstrapConfig) -> Result<Option<NewCredential>> {
        let cloud = match &cfg.cloud {
            Some(c) => c.clone(),
            None if cfg.key.is_none() && !self.catalog.list_clouds().await?.is_empty() => {
                return Ok(None)
            }
            None => CloudName::parse("demo").expect("valid name"),
        };
        self.catalog.create_cloud(&cloud, now()).await?;
        match (&cfg.key, &cfg.secret) {
            (Some(key), Some(secret)) => {
                let record = ApiKeyRecord {
                    cloud: cloud.clone(),
                    key: key.clone(),
                    secret: secret.clone(),
                    label: "configured".into(),
                    created_at: now(),
                    revoked_at: None,
                };
                if self.catalog.put_api_key(&record).await? == Created::AlreadyExisted {
                    let stored = self.catalog.api_key(&cloud, key).await?.expect("it exists");
                    if stored.revoked_at.is_some()
                        || !crate::signing::constant_time_eq(&stored.secret, secret)
                    {
                        return Err(ServiceError::InvalidParam(format!(
                            "API key {key} of cloud {cloud} exists with a different secret or is revoked; \
                             fix NUBO_API_SECRET or create a new key"
                        )));
                    }
                }
                Ok(None)
            }
            (Some(_), None) | (None, Some(_)) => Err(ServiceError::InvalidParam(
                "NUBO_API_KEY and NUBO_API_SECRET must be set together".into(),
            )),
            (None, None) => {
                let keys = self.catalog.list_api_keys(&cloud).await?;
                if keys.iter().any(|k| k.revoked_at.is_none()) {
                    Ok(None)
                } else {
                    self.create_api_key(&cloud, "bootstrap").await.map(Some)
                }
            }
        }
    }

    pub async fn create_cloud(&self, name: &CloudName) -> Result<NewCredential> {
        if self.catalog.create_cloud(name, now()).await? == Created::AlreadyExisted {
            return Err(ServiceError::AlreadyExists(format!("cloud {name}")));
        }
        self.create_api_key(name, "initial").await
    }

    pub async fn list_clouds(&self) -> Result<Vec<nubo_catalog::CloudRecord>> {
        Ok(self.catalog.list_clouds().await?)
    }

    async fn require_existing_cloud(&self, cloud: &CloudName) -> Result<()> {
        if self.catalog.cloud_exists(cloud).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("cloud {cloud}")))
        }
    }

    pub async fn create_api_key(&self, cloud: &CloudName, label: &str) -> Result<NewCredential> {
        self.require_existing_cloud(cloud).await?;
        let record = ApiKeyRecord {
            cloud: cloud.clone(),
            key: random_api_key(),
            secret: random_secret(),
            label: label.to_owned(),
            created_at: now(),
            revoked_at: None,
        };
        self.catalog.put_api_key(&record).await?;
        Ok(NewCredential {
            cloud: cloud.clone(),
            key: record.key,
            secret: record.secret,
        })
    }

    pub async fn list_api_keys(&self, cloud: &CloudName) -> Result<Vec<ApiKeyRecord>> {
        self.require_existing_cloud(cloud).await?;
        Ok(self.catalog.list_api_keys(cloud).await?)
    }

    pub async fn revoke_api_key(&self, cloud: &CloudName, key: &str) -> Result<()> {
        if self.catalog.revoke_api_key(cloud, key, now()).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!(
                "active api key {key} in cloud {cloud}"
            )))
        }
    }

    /// Issues a bearer token; only its hash is stored, so it is shown once.
    pub async fn create_token(
        &self,
        cloud: &CloudName,
        label: &str,
        ttl_seconds: Option<i64>,
    ) -> Result<(TokenRecord, String)> {
        self.require_existing_cloud(cloud).await?;
        let secret = format!(
            "nubo_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
        );
        let record = TokenRecord {
            id: hex::encode(rand::random::<[u8; 6]>()),
            cloud: cloud.clone(),
            hash_hex: token_hash(&secret),
            label: label.to_owned(),
            created_at: now(),
            expires_at: ttl_seconds.map(|t| now() + t),
            revoked_at: None,
        };
        self.catalog.put_token(&record).await?;
        Ok((record, secret))
    }

    pub async fn list_tokens(&self, cloud: &CloudName) -> Result<Vec<TokenRecord>> {
        self.require_existing_cloud(cloud).await?;
        Ok(self.catalog.list_tokens(cloud).await?)
    }

    pub async fn revoke_token(&self, cloud: &CloudName, id: &str) -> Result<()> {
        if self.catalog.revoke_token(cloud, id, now()).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!(
                "active token {id} in cloud {cloud}"
            )))
        }
    }

    /// Creates or replaces a preset. Its settings are checked the way an
    /// upload would read them, so a broken preset fails here, not later.
    pub async fn put_preset(
        &self,
        cloud: &CloudName,
        name: &str,
        unsigned: bool,
        settings: BTreeMap<String, String>,
    ) -> Result<Created> {
        self.require_existing_cloud(cloud).await?;
        let valid_name = !name.is_empty()
            && name.len() <= 255
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !valid_name {
            return Err(ServiceError::InvalidParam(format!(
                "Invalid preset name {name:?}"
            )));
        }
        crate::upload::check_preset_settings(&Params::from_pairs(settings.clone()), unsigned)?;
        let existing = self.catalog.preset(cloud, name).await?;
        let record = PresetRecord {
            cloud: cloud.clone(),
            name: name.to_owned(),
            unsigned,
            settings,
            created_at: existing.map_or_else(now, |p| p.created_at),
            updated_at: now(),
        };
        Ok(self.catalog.put_preset(&record).await?)
    }

    pub async fn list_presets(&self, cloud: &CloudName) -> Result<Vec<PresetRecord>> {
        self.require_existing_cloud(cloud).await?;
        Ok(self.catalog.list_presets(cloud).await?)
    }

    pub async fn delete_preset(&self, cloud: &CloudName, name: &str) -> Result<()> {
        if self.catalog.delete_preset(cloud, name).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("upload preset {name}")))
        }
    }
}

impl Service {
    /// Creates or replaces a named transformation (`t_<name>`). The
    /// definition is parsed now, and its own `t_` references expanded, so a
    /// broken one never reaches delivery.
    pub async fn put_named_transformation(
        &self,
        cloud: &CloudName,
        name: &str,
        definition: &str,
        allowed_for_strict: bool,
    ) -> Result<Created> {
        self.require_existing_cloud(cloud).await?;
        if !nubo_transform::valid_name(name) {
            return Err(ServiceError::InvalidParam(format!(
                "Invalid transformation name {name:?}"
            )));
        }
        let parsed = nubo_transform::Transformation::parse(definition)?;
        if parsed.named_refs().contains(&name) {
            return Err(ServiceError::InvalidParam(format!(
                "Transformation {name} cannot refer to itself"
            )));
        }
        self.expand_named(cloud, &parsed).await?;
        let existing = self.catalog.named_transformation(cloud, name).await?;
        let at = now();
        let record = nubo_catalog::NamedTransformation {
            cloud: cloud.clone(),
            name: name.to_owned(),
            definition: definition.to_owned(),
            allowed_for_strict,
            created_at: existing.map_or(at, |e| e.created_at),
            updated_at: at,
        };
        let outcome = self.catalog.put_named_transformation(&record).await?;
        self.note_write();
        Ok(outcome)
    }

    pub async fn list_named_transformations(
        &self,
        cloud: &CloudName,
    ) -> Result<Vec<nubo_catalog::NamedTransformation>> {
        self.require_existing_cloud(cloud).await?;
        Ok(self.catalog.list_named_transformations(cloud).await?)
    }

    pub async fn delete_named_transformation(&self, cloud: &CloudName, name: &str) -> Result<()> {
        if self
            .catalog
            .delete_named_transformation(cloud, name)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("transformation {name}")))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_credentials_have_cloudinary_shape() {
        let k = super::random_api_key();
        assert_eq!(k.len(), 15);
        assert!(k.bytes().all(|b| b.is_ascii_digit()) && !k.starts_with('0'));
        assert_eq!(super::random_secret().len(), 27);
    }
}
