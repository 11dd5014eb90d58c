//! Who is calling: signed requests, Basic auth, bearer tokens, or an
//! unsigned upload preset. Secrets are compared in constant time.

use nubo_catalog::{ApiKeyRecord, PresetRecord, TokenRecord};
use nubo_core::CloudName;
use sha2::{Digest, Sha256};

use crate::signing::{constant_time_eq, string_to_sign, verify_request};
use crate::{now, Params, Result, Service, ServiceError};

/// How long a signed request stays valid.
pub const SIGNATURE_WINDOW_SECONDS: i64 = 3600;

/// Credentials carried by headers; signatures travel in the parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    Basic { key: String, secret: String },
    Bearer(String),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Signed with, or Basic-authenticated as, this key.
    Key(ApiKeyRecord),
    Token(TokenRecord),
    /// Unsigned, admitted by this preset.
    Unsigned(PresetRecord),
}

impl Caller {
    pub fn is_unsigned(&self) -> bool {
        matches!(self, Caller::Unsigned(_))
    }

    /// A stable name of the caller (`key:…`, `token:…`, `preset:…`): what
    /// rate limits count and upload sessions belong to.
    pub fn id(&self) -> String {
        match self {
            Caller::Key(k) => format!("key:{}", k.key),
            Caller::Token(t) => format!("token:{}", t.id),
            Caller::Unsigned(p) => format!("preset:{}", p.name),
        }
    }
}

/// SHA-256 hex of a bearer token: what the catalog stores.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn unauthorized(msg: impl Into<String>) -> ServiceError {
    ServiceError::Unauthorized(msg.into())
}

impl Service {
    /// Authorises an Upload API call (`upload`, `destroy`, `tags`, …).
    pub async fn authorize_upload(
        &self,
        cloud: &CloudName,
        action: &str,
        params: &Params,
        creds: &Credentials,
    ) -> Result<Caller> {
        self.require_cloud(cloud).await?;
        match creds {
            Credentials::Bearer(token) => return self.bearer(cloud, token).await,
            Credentials::Basic { key, secret } => return self.basic(cloud, key, secret).await,
            Credentials::None => {}
        }
        if let Some(signature) = params.get("signature") {
            return self.signed(cloud, action, params, signature).await;
        }
        if action != "upload" {
            return Err(unauthorized("Must supply api_key"));
        }
        let name = params
            .get("upload_preset")
            .ok_or(ServiceError::UnsignedWithoutPreset)?;
        let preset = self
            .catalog
            .preset(cloud, name)
            .await?
            .ok_or(ServiceError::PresetNotFound)?;
        if !preset.unsigned {
            return Err(ServiceError::PresetNotUnsigned);
        }
        Ok(Caller::Unsigned(preset))
    }

    /// Rejects, before the request body is read, what no field in it can
    /// fix: an unknown cloud, or bad credentials in the headers.
    pub async fn precheck(&self, cloud: &CloudName, creds: &Credentials) -> Result<()> {
        self.require_cloud(cloud).await?;
        match creds {
            Credentials::Bearer(token) => self.bearer(cloud, token).await.map(drop),
            Credentials::Basic { key, secret } => self.basic(cloud, key, secret).await.map(drop),
            Credentials::None => Ok(()),
        }
    }

    /// Before a file part is spooled: checks the fields seen so far where
    /// they already decide the answer (a signed request naming an unknown
    /// key, or a stale timestamp), so a refused upload is not written to
    /// disk first. The signature itself is checked once every field is in.
    pub async fn precheck_fields(&self, cloud: &CloudName, params: &Params) -> Result<()> {
        if params.get("signature").is_none() {
            return Ok(());
        }
        if let Some(key) = params.get("api_key") {
            self.active_key(cloud, key).await?;
        }
        if let Some(ts) = params.get("timestamp") {
            check_timestamp(ts)?;
        }
        Ok(())
    }

    /// Authorises an Admin API call: Basic auth or a bearer token.
    pub async fn authorize_admin(&self, cloud: &CloudName, creds: &Credentials) -> Result<Caller> {
        self.require_cloud(cloud).await?;
        match creds {
            Credentials::Bearer(token) => self.bearer(cloud, token).await,
            Credentials::Basic { key, secret } => self.basic(cloud, key, secret).await,
            Credentials::None => Err(unauthorized("Must supply api_key")),
        }
    }

    async fn require_cloud(&self, cloud: &CloudName) -> Result<()> {
        if self.catalog.cloud_exists(cloud).await? {
            Ok(())
        } else {
            Err(unauthorized(format!("Invalid cloud_name {cloud}")))
        }
    }

    async fn active_key(&self, cloud: &CloudName, key: &str) -> Result<ApiKeyRecord> {
        match self.catalog.api_key(cloud, key).await? {
            Some(k) if k.revoked_at.is_none() => Ok(k),
            _ => Err(unauthorized(format!("Invalid api_key {key}"))),
        }
    }

    async fn basic(&self, cloud: &CloudName, key: &str, secret: &str) -> Result<Caller> {
        let record = self.active_key(cloud, key).await?;
        if constant_time_eq(&record.secret, secret) {
            Ok(Caller::Key(record))
        } else {
            Err(unauthorized(format!("Invalid api_key {key}")))
        }
    }

    async fn bearer(&self, cloud: &CloudName, token: &str) -> Result<Caller> {
        let record = self.catalog.token_by_hash(&token_hash(token)).await?;
        match record {
            Some(t)
                if &t.cloud == cloud
                    && t.revoked_at.is_none()
                    && t.expires_at.is_none_or(|e| e > now()) =>
            {
                Ok(Caller::Token(t))
            }
            _ => Err(unauthorized("Invalid token")),
        }
    }

    async fn signed(
        &self,
        cloud: &CloudName,
        action: &str,
        params: &Params,
        signature: &str,
    ) -> Result<Caller> {
        let key = params
            .get("api_key")
            .ok_or(ServiceError::MissingParam("api_key"))?;
        let record = self.active_key(cloud, key).await?;
        check_timestamp(
            params
                .get("timestamp")
                .ok_or(ServiceError::MissingParam("timestamp"))?,
        )?;
        let fields = params.collapsed();
        if !verify_request(action, &fields, signature, &record.secret) {
            return Err(unauthorized(format!(
                "Invalid Signature {signature}. String to sign - '{}'.",
                string_to_sign(action, &fields, true)
            )));
        }
        Ok(Caller::Key(record))
    }

    /// The key whose secret signs responses for this caller: its own, or
    /// the cloud's oldest active key for token and unsigned callers.
    pub(crate) async fn signing_key(
        &self,
        cloud: &CloudName,
        caller: &Caller,
    ) -> Result<Option<ApiKeyRecord>> {
        if let Caller::Key(k) = caller {
            return Ok(Some(k.clone()));
        }
        let keys = self.catalog.list_api_keys(cloud).await?;
        Ok(keys.into_iter().find(|k| k.revoked_at.is_none()))
    }
}

/// A signed request's timestamp must be within an hour of now, either way.
fn check_timestamp(raw: &str) -> Result<()> {
    let timestamp: i64 = raw
        .parse()
        .map_err(|_| ServiceError::InvalidParam(format!("Invalid timestamp {raw}")))?;
    let current = now();
    if current - timestamp > SIGNATURE_WINDOW_SECONDS {
        return Err(unauthorized(format!(
            "Stale request - reported time is {} which is more than 1 hour ago",
            format_reported_time(timestamp)
        )));
    }
    if timestamp - current > SIGNATURE_WINDOW_SECONDS {
        return Err(unauthorized(format!(
            "Invalid timestamp - reported time is {} which is more than 1 hour in the future",
            format_reported_time(timestamp)
        )));
    }
    Ok(())
}

/// `2023-12-19 23:07:41 +0000`, as in Cloudinary's stale-request message.
fn format_reported_time(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000").to_string())
        .unwrap_or_else(|| ts.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reported_time_format() {
        assert_eq!(
            super::format_reported_time(1703027261),
            "2023-12-19 23:07:41 +0000"
        );
    }
}
