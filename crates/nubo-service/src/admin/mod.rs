//! The Admin API's use cases: listing, details, updates and deletes of
//! resources ([`resources`]), search ([`search`]), and the account's
//! library: presets, named transformations, folders, tags and usage
//! ([`library`]).
//!
//! Core abstractions:
//! - [`AdminRequest`]: an authorised call's cloud and parameters.
//! - [`RateLimiter`] / [`RateStatus`]: the per-key hourly budget whose state
//!   travels in the `X-FeatureRateLimit-*` headers; an exhausted budget is a
//!   420, as on Cloudinary.

mod delete;
mod library;
mod resources;
mod search;

use std::collections::HashMap;
use std::sync::Mutex;

use nubo_catalog::{Asset, AssetLocator, AssetScope, MAX_PAGE};
use nubo_core::{CloudName, DeliveryType, PublicId, ResourceType};
use serde_json::{json, Map, Value};

use crate::{now, Caller, Credentials, Params, Result, Service, ServiceError};

pub use resources::ResourcePath;
pub(crate) use resources::Wanted;

/// An Admin API call: the cloud, its merged query and body parameters.
#[derive(Debug, Clone)]
pub struct AdminRequest {
    pub cloud: CloudName,
    pub params: Params,
    /// Who authenticated (signs the call's notifications).
    pub caller: Caller,
}

impl AdminRequest {
    /// `max_results`: `default` when absent, 1..=`max` otherwise.
    pub(crate) fn max_results(&self, default: u32, max: u32) -> Result<u32> {
        match self.params.get("max_results") {
            None => Ok(default),
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ServiceError::InvalidParam(format!(
                    "Invalid max_results {raw}: use 1 to {max}"
                ))),
            },
        }
    }

    fn flag(&self, name: &str) -> Result<bool> {
        Ok(self.params.flag(name)?.unwrap_or(false))
    }

    fn required(&self, name: &'static str) -> Result<&str> {
        self.params
            .get(name)
            .ok_or(ServiceError::MissingParam(name))
    }
}

/// Default page sizes (Cloudinary's).
const LIST_DEFAULT: u32 = 10;
const SEARCH_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = MAX_PAGE;

/// Where a key's hourly budget stands after this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the window resets.
    pub reset_at: i64,
}

/// Admin API calls allowed per key per clock hour, counted in this
/// process (each node of a cluster counts its own).
#[derive(Debug, Default)]
pub struct RateLimiter {
    per_hour: u32,
    /// (cloud, key) → (window start, calls in it)
    windows: Mutex<HashMap<(String, String), (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(per_hour: u32) -> Self {
        Self {
            per_hour,
            windows: Mutex::default(),
        }
    }

    /// Counts one call; `Err` carries the status once the budget is spent.
    fn take(
        &self,
        cloud: &str,
        key: &str,
        now: i64,
    ) -> std::result::Result<RateStatus, RateStatus> {
        let window = now - now.rem_euclid(3600);
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Forget finished windows now and then, so the map stays small.
        if map.len() > 10_000 {
            map.retain(|_, (start, _)| *start == window);
        }
        let entry = map
            .entry((cloud.to_owned(), key.to_owned()))
            .or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let status = |used: u32| RateStatus {
            limit: self.per_hour,
            remaining: self.per_hour.saturating_sub(used),
            reset_at: window + 3600,
        };
        if entry.1 >= self.per_hour {
            return Err(status(entry.1));
        }
        entry.1 += 1;
        Ok(status(entry.1))
    }
}

impl Service {
    /// Authorises an Admin API call (Basic auth or a bearer token) and
    /// counts it against the caller's hourly budget.
    pub async fn admin_call(
        &self,
        cloud: &CloudName,
        creds: &Credentials,
    ) -> Result<(Caller, RateStatus)> {
        let caller = self.authorize_admin(cloud, creds).await?;
        match self.rate.take(cloud.as_str(), &caller.id(), now()) {
            Ok(status) => Ok((caller, status)),
            Err(status) => Err(ServiceError::RateLimited(status)),
        }
    }

    /// A resource as Admin listings show it. `tags`/`context`/`metadata`
    /// only when asked for; never a signature.
    fn resource_json(
        &self,
        asset: &Asset,
        tags: bool,
        context: bool,
        metadata: bool,
    ) -> Map<String, Value> {
        let mut m = self.asset_json(asset, None);
        if !metadata {
            m.remove("metadata");
        }
        if !tags || asset.tags.is_empty() {
            m.remove("tags");
        }
        if !context {
            m.remove("context");
        }
        m.insert("access_mode".into(), json!("public"));
        m.insert("uploaded_at".into(), m["created_at"].clone());
        m.insert("status".into(), json!("active"));
        if let (Some(w), Some(h)) = (asset.width, asset.height) {
            m.insert("pixels".into(), json!(w * h));
            if h > 0 {
                m.insert("aspect_ratio".into(), json!(round3(w as f64 / h as f64)));
            }
        }
        m.insert(
            "filename".into(),
            json!(filename_of(asset.loc.public_id.as_str())),
        );
        m
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The last segment of a public id without its extension (search's
/// `filename`).
fn filename_of(public_id: &str) -> &str {
    let base = public_id.rsplit_once('/').map_or(public_id, |(_, b)| b);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    }
}

fn scope(cloud: &CloudName, rt: ResourceType, dt: DeliveryType) -> AssetScope {
    AssetScope {
        cloud: cloud.clone(),
        resource_type: rt,
        delivery_type: dt,
    }
}

fn locator(
    cloud: &CloudName,
    rt: ResourceType,
    dt: DeliveryType,
    id: &str,
) -> Result<AssetLocator> {
    Ok(AssetLocator {
        scope: scope(cloud, rt, dt),
        public_id: PublicId::parse(id)?,
    })
}

/// `{"message": …}`, the answer of configuration writes.
fn message(text: &str) -> Value {
    json!({ "message": text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_runs_out_and_resets_each_hour() {
        let r = RateLimiter::new(2);
        let t = 7200 + 5;
        assert_eq!(r.take("c", "k", t).unwrap().remaining, 1);
        assert_eq!(r.take("c", "k", t).unwrap().remaining, 0);
        let spent = r.take("c", "k", t).unwrap_err();
        assert_eq!((spent.remaining, spent.reset_at), (0, 10_800));
        assert_eq!(r.take("c", "other", t).unwrap().remaining, 1);
        assert_eq!(r.take("c", "k", 10_800).unwrap().remaining, 1);
    }

    #[test]
    fn filenames_drop_folders_and_extensions() {
        assert_eq!(filename_of("a/b/doc.txt"), "doc");
        assert_eq!(filename_of("pic"), "pic");
        assert_eq!(filename_of("a/.env"), ".env");
    }
}
