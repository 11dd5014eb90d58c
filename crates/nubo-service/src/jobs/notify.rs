//! Webhook notifications: built when an operation completes, queued as a
//! job before the operation answers (so an answered call is never left
//! without its notification), then signed and POSTed by a worker.
//!
//! The signature is Cloudinary's: `X-Cld-Signature = hex(H(body +
//! X-Cld-Timestamp + api_secret))`, computed over exactly the bytes sent and
//! at send time, so a retry hours later still carries a fresh timestamp.

use nubo_catalog::JobRecord;
use nubo_core::CloudName;
use nubo_fetch::FetchError;
use serde_json::{json, Map, Value};

use super::{Failure, Task};
use crate::signing::sign_hex;
use crate::{now, Caller, Result, Service, ServiceError};

/// The cloud setting holding the global notification URL.
pub const NOTIFICATION_URL_SETTING: &str = "notification_url";

/// Where a call's notifications go, and whose key signs them.
#[derive(Debug, Clone)]
pub(crate) struct NotifyTarget {
    pub url: String,
    pub signer: Option<String>,
}

/// A notification URL must be absolute http(s); where it may point (not at
/// private addresses, by default) is checked when it is called.
pub fn validate_notification_url(raw: &str) -> Result<String> {
    let bad = || ServiceError::InvalidParam(format!("Invalid notification_url {raw}"));
    let url = url::Url::parse(raw).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad());
    }
    Ok(url.to_string())
}

/// A JSON object built with `json!`.
pub(crate) fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("built as an object"),
    }
}

/// An asset as notifications name it.
pub(crate) fn resource_ref(asset: &nubo_catalog::Asset) -> Value {
    json!({
        "resource_type": asset.loc.scope.resource_type.as_str(),
        "type": asset.loc.scope.delivery_type.as_str(),
        "asset_id": asset.asset_id,
        "public_id": asset.loc.public_id.as_str(),
        "version": asset.version,
    })
}

/// `resource_metadata_changed` for these assets (as updated).
pub(crate) fn metadata_changed(assets: &[nubo_catalog::Asset]) -> Map<String, Value> {
    let mut resources = Map::new();
    for a in assets {
        let values = a.meta.get(nubo_catalog::METADATA_KEY).cloned();
        resources.insert(
            a.loc.public_id.to_string(),
            json!({
                "new_metadata": values.unwrap_or_else(|| json!({})),
                "asset_id": a.asset_id,
                "resource_type": a.loc.scope.resource_type.as_str(),
                "type": a.loc.scope.delivery_type.as_str(),
            }),
        );
    }
    object(json!({ "source": "api", "resources": resources }))
}

/// The delivery job of a notification: Cloudinary's envelope fields are
/// added to `body`, which is then fixed as the exact bytes to send.
pub(super) fn webhook_task(
    target: &NotifyTarget,
    notification_type: &str,
    mut body: Map<String, Value>,
) -> Task {
    let triggered_at = crate::response::iso8601(now());
    body.insert("notification_type".into(), notification_type.into());
    body.insert("timestamp".into(), triggered_at.clone().into());
    if let Some(key) = &target.signer {
        body.insert("signature_key".into(), key.clone().into());
    }
    body.insert(
        "notification_context".into(),
        json!({
            "triggered_at": triggered_at,
            "triggered_by": {"source": "api", "id": target.signer.clone().unwrap_or_default()},
        }),
    );
    Task::Webhook {
        url: target.url.clone(),
        notification_type: notification_type.into(),
        body: Value::Object(body).to_string(),
        signer: target.signer.clone(),
    }
}

impl Service {
    /// The cloud's global notification URL.
    pub async fn notification_url(&self, cloud: &CloudName) -> Result<Option<String>> {
        Ok(self
            .catalog
            .cloud_setting(cloud, NOTIFICATION_URL_SETTING)
            .await?)
    }

    /// Sets (validated) or clears the global notification URL; returns it.
    pub async fn set_notification_url(
        &self,
        cloud: &CloudName,
        url: Option<&str>,
    ) -> Result<Option<String>> {
        if !self.catalog.cloud_exists(cloud).await? {
            return Err(ServiceError::NotFound(format!("cloud {cloud}")));
        }
        let url = url.map(validate_notification_url).transpose()?;
        self.catalog
            .set_cloud_setting(cloud, NOTIFICATION_URL_SETTING, url.as_deref())
            .await?;
        Ok(url)
    }

    /// The call's own `notification_url` if it has one, else the cloud's
    /// global one; `None` when neither is set.
    pub(crate) async fn notify_target(
        &self,
        cloud: &CloudName,
        explicit: Option<&str>,
        caller: &Caller,
    ) -> Result<Option<NotifyTarget>> {
        let url = match explicit.filter(|u| !u.is_empty()) {
            Some(u) => validate_notification_url(u)?,
            None => match self
                .catalog
                .cloud_setting(cloud, NOTIFICATION_URL_SETTING)
                .await?
            {
                Some(u) => u,
                None => return Ok(None),
            },
        };
        let signer = self.signing_key(cloud, caller).await?.map(|k| k.key);
        Ok(Some(NotifyTarget { url, signer }))
    }

    /// Queues a notification of `notification_type` with `body`.
    pub(crate) async fn notify(
        &self,
        cloud: &CloudName,
        target: &NotifyTarget,
        notification_type: &str,
        body: Map<String, Value>,
    ) -> Result<()> {
        self.notify_as(cloud, target, notification_type, body, None)
            .await
    }

    pub(crate) async fn notify_as(
        &self,
        cloud: &CloudName,
        target: &NotifyTarget,
        notification_type: &str,
        body: Map<String, Value>,
        job_id: Option<&str>,
    ) -> Result<()> {
        let task = webhook_task(target, notification_type, body);
        match job_id {
            Some(id) => self.enqueue_as(cloud, &task, id).await,
            None => self.enqueue(cloud, &task).await.map(|_| ()),
        }
    }

    /// One delivery attempt. 2xx is success; other statuses and network
    /// errors are retried; an address the fetch policy forbids is not.
    pub(crate) async fn deliver_webhook(
        &self,
        job: &JobRecord,
        url: &str,
        body: String,
        signer: Option<&str>,
    ) -> Result<String, Failure> {
        let secret = self.webhook_secret(&job.cloud, signer).await?;
        let timestamp = now().to_string();
        let signature = sign_hex(
            &format!("{body}{timestamp}"),
            &secret,
            self.job_settings().signature_algorithm,
        );
        let headers = [
            ("X-Cld-Timestamp", timestamp),
            ("X-Cld-Signature", signature),
            // Lets a receiver drop a repeat (a delivery whose answer was lost).
            ("X-Nubo-Notification-Id", job.id.clone()),
        ];
        let timeout = self.job_settings().webhook_timeout;
        match self.fetcher.post_json(url, &headers, body, timeout).await {
            Ok((status, _)) if (200..300).contains(&status) => Ok(format!("HTTP {status}")),
            Ok((status, excerpt)) => Err(Failure::Retry(format!(
                "HTTP {status}: {}",
                excerpt.chars().take(200).collect::<String>()
            ))),
            Err(e @ (FetchError::Blocked(_) | FetchError::BadUrl(_))) => {
                Err(Failure::Permanent(e.to_string()))
            }
            Err(e) => Err(Failure::Retry(e.to_string())),
        }
    }

    /// The signer's secret, or another active key's if it was revoked.
    async fn webhook_secret(
        &self,
        cloud: &CloudName,
        signer: Option<&str>,
    ) -> Result<String, Failure> {
        if let Some(key) = signer {
            if let Some(k) = self
                .catalog
                .api_key(cloud, key)
                .await
                .map_err(ServiceError::from)?
            {
                if k.revoked_at.is_none() {
                    return Ok(k.secret);
                }
            }
        }
        let keys = self
            .catalog
            .list_api_keys(cloud)
            .await
            .map_err(ServiceError::from)?;
        keys.into_iter()
            .find(|k| k.revoked_at.is_none())
            .map(|k| k.secret)
            .ok_or_else(|| {
                Failure::Permanent("the cloud has no active API key to sign with".into())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::SignatureAlgorithm;

    #[test]
    fn notification_urls_must_be_absolute_http() {
        assert!(validate_notification_url("https://example.com/hook?x=1").is_ok());
        assert!(validate_notification_url("http://10.0.0.1:9000/h").is_ok());
        for bad in ["ftp://example.com/x", "/relative", "example.com", "http://"] {
            assert!(validate_notification_url(bad).is_err(), "{bad}");
        }
    }

    /// The SDKs' own fixture: `verify_notification_signature` accepts this
    /// body and signature at timestamp 1549533574 - 60 for secret
    /// `X7qLTrsES31MzxxkxPPA-pAGGfU`.
    #[test]
    fn signature_matches_the_sdk_fixture() {
        let body = r#"{"notification_type":"eager","eager":[{"transformation":"sp_full_hd/mp4","bytes":1055,"url":"http://res.cloudinary.com/demo/video/upload/sp_full_hd/v1533125278/dog.mp4","secure_url":"https://res.cloudinary.com/demo/video/upload/sp_full_hd/v1533125278/dog.mp4"}],"public_id":"dog","batch_id":"9b11fa058c61fa577f4ec516bf6ee756ac2aefef095af99aef1302142cc1694a"}"#;
        let sig = sign_hex(
            &format!("{body}1549533514"),
            "X7qLTrsES31MzxxkxPPA-pAGGfU",
            SignatureAlgorithm::Sha1,
        );
        assert_eq!(sig, "dfe82de1d9083fe0b7ea68070649f9a15b8874da");
    }
}
