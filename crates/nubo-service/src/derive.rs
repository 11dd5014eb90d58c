//! Derived files: rendered on first request, stored in the blob store,
//! recorded in the catalog, and generated once per key even under
//! concurrent requests (single flight in this process; across nodes the
//! catalog's primary key makes the first writer win and later writers
//! drop their copy).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use nubo_blob::{BlobKey, SpooledFile};
use nubo_catalog::{Asset, Derived};
use nubo_core::Format;
use nubo_engine::EngineError;
use nubo_transform::Resolved;
use tokio::sync::OnceCell;

use crate::{now, Result, Service, ServiceError};

type Flight = Arc<OnceCell<Result<Derived, SharedError>>>;

/// Renders in progress, by (asset, version, cache key).
#[derive(Default)]
pub(crate) struct Flights {
    inner: Mutex<HashMap<String, Flight>>,
}

/// A failure shared by every waiter of one flight.
#[derive(Debug, Clone)]
pub(crate) struct SharedError {
    bad_request: bool,
    message: String,
}

impl From<SharedError> for ServiceError {
    fn from(e: SharedError) -> Self {
        ServiceError::Render {
            bad_request: e.bad_request,
            message: e.message,
        }
    }
}

impl From<&ServiceError> for SharedError {
    fn from(e: &ServiceError) -> Self {
        SharedError {
            bad_request: e.kind() == crate::ErrorKind::BadRequest,
            message: e.to_string(),
        }
    }
}

impl From<EngineError> for ServiceError {
    fn from(e: EngineError) -> Self {
        ServiceError::Render {
            bad_request: !matches!(e, EngineError::Internal(_)),
            message: e.to_string(),
        }
    }
}

impl Service {
    /// The derived file of `asset` for `plan`, rendering it if needed.
    pub(crate) async fn derived_file(&self, asset: &Asset, plan: &Resolved) -> Result<Derived> {
        // Only a plan that reads tags, context or metadata needs them.
        let data = plan
            .reads_asset()
            .then(|| crate::conditions::asset_data(asset));
        let key = crate::conditions::cache_key(plan, data.as_ref());
        if let Some(d) = self
            .catalog
            .derived(&asset.asset_id, asset.version, &key)
            .await?
        {
            return Ok(d);
        }
        let flight_key = format!("{}/{}/{}", asset.asset_id, asset.version, key);
        let cell: Flight = {
            let mut map = self.flights.inner.lock().expect("flight map");
            map.entry(flight_key.clone()).or_default().clone()
        };
        let result = cell
            .get_or_init(|| async {
                self.render_and_store(asset, plan, &key, data)
                    .await
                    .map_err(|e| SharedError::from(&e))
            })
            .await
            .clone();
        {
            // Later requests read the catalog (or retry after a failure).
            let mut map = self.flights.inner.lock().expect("flight map");
            if map.get(&flight_key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                map.remove(&flight_key);
            }
        }
        result.map_err(ServiceError::from)
    }

    async fn render_and_store(
        &self,
        asset: &Asset,
        plan: &Resolved,
        key: &str,
        data: Option<nubo_transform::expr::AssetData>,
    ) -> Result<Derived> {
        // Another node may have finished while we waited for the flight.
        if let Some(d) = self
            .catalog
            .derived(&asset.asset_id, asset.version, key)
            .await?
        {
            return Ok(d);
        }
        let input_format = asset
            .format
            .as_deref()
            .and_then(Format::from_extension)
            .ok_or_else(|| ServiceError::Unsupported("This asset has no image format".into()))?;
        let original = self.read_blob(&BlobKey::parse(&asset.blob_key)?).await?;
        let mut job = self
            .job(&asset.loc.scope.cloud, input_format, plan.clone())
            .await?;
        job.coordinates = crate::coordinates::of_asset(asset);
        job.asset = data.unwrap_or_default();
        let started = std::time::Instant::now();
        let rendered = self.engine.render(original, job).await?;
        tracing::info!(
            asset = %asset.asset_id,
            transformation = %plan.transformation,
            ms = started.elapsed().as_millis() as u64,
            bytes = rendered.bytes.len(),
            "rendered derived file"
        );
        let format = rendered.format.map_or("json", |f| f.extension()).to_owned();
        let bytes = rendered.bytes.len() as i64;
        let blob = self
            .store_blob(self.spool_bytes(rendered.bytes).await?)
            .await?;
        let row = Derived {
            id: String::new(),
            asset_id: asset.asset_id.clone(),
            asset_version: asset.version,
            cache_key: key.to_owned(),
            transformation: plan.transformation.to_string(),
            format,
            bytes,
            width: rendered.width as i64,
            height: rendered.height as i64,
            blob_key: blob.clone(),
            created_at: now(),
        };
        let stored = self.catalog.put_derived(&row).await?;
        if stored.blob_key != blob {
            self.release_blob(&blob).await;
        }
        if plan.reads_asset() {
            self.drop_superseded(asset, plan, key).await?;
        }
        Ok(stored)
    }

    /// Drops the renderings of the same plan made for earlier tags, context
    /// or metadata of this asset version (keyed by another digest): the
    /// edit that changed the data made them unreachable.
    async fn drop_superseded(&self, asset: &Asset, plan: &Resolved, key: &str) -> Result<()> {
        let prefix = crate::conditions::cache_key_prefix(plan);
        let stale: Vec<String> = self
            .catalog
            .list_derived(&asset.asset_id)
            .await?
            .into_iter()
            .filter(|d| d.asset_version == asset.version)
            .filter(|d| d.cache_key.starts_with(&prefix) && d.cache_key != key)
            .map(|d| d.id)
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        for blob in self.catalog.delete_derived_rows(&stale).await? {
            self.release_blob(&blob).await;
        }
        Ok(())
    }

    /// A blob's bytes, in memory: decoders need random access, and the
    /// delivery cache keeps small files.
    pub(crate) async fn read_blob(&self, key: &BlobKey) -> Result<Bytes> {
        let read = self.blobs.open(key, None).await?;
        let mut buf = BytesMut::with_capacity(read.total as usize);
        let mut body = read.body;
        while let Some(chunk) = body.next().await {
            buf.extend_from_slice(&chunk.map_err(|e| ServiceError::Internal(e.to_string()))?);
        }
        Ok(buf.freeze())
    }

    /// Spools bytes made in memory, hashing them as an upload would be.
    pub(crate) async fn spool_bytes(&self, bytes: Vec<u8>) -> Result<SpooledFile> {
        let mut w = self.blobs.spool().writer(bytes.len() as u64 + 1).await?;
        w.write(bytes).await?;
        Ok(w.finish().await?)
    }

    /// Drops every derived file of an asset (`invalidate`, overwrite,
    /// destroy); their blobs are collected when nothing else uses them.
    /// Queues dropping the derived files of an asset's versions before
    /// `keep` (all of them without it): a replaced or deleted version's
    /// renditions can no longer be served, so there is no hurry, and a
    /// thousand of them should not hold up the call.
    pub(crate) async fn drop_derived_later(
        &self,
        asset: &nubo_catalog::Asset,
        keep: Option<i64>,
    ) -> Result<()> {
        let task = crate::jobs::Task::DropDerived {
            asset_id: asset.asset_id.clone(),
            keep_version: keep,
        };
        self.enqueue(&asset.loc.scope.cloud, &task).await?;
        Ok(())
    }

    pub(crate) async fn drop_derived(&self, asset_id: &str) -> Result<usize> {
        self.drop_derived_but(asset_id, None).await
    }

    pub(crate) async fn drop_derived_but(
        &self,
        asset_id: &str,
        keep: Option<i64>,
    ) -> Result<usize> {
        let keys = match keep {
            Some(v) => self.catalog.delete_old_derived(asset_id, v).await?,
            None => self.catalog.delete_derived(asset_id).await?,
        };
        for k in &keys {
            self.release_blob(k).await;
        }
        Ok(keys.len())
    }
}
