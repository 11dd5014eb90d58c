//! Nubo's use cases, independent of HTTP and of storage adapters.
//!
//! Core abstractions:
//! - [`Service`]: holds the [`Catalog`] and [`BlobStore`] traits (never an
//!   adapter), the remote fetcher and [`ServiceSettings`]; its methods are the
//!   use cases: authorise ([`auth`]), ingest ([`upload`]), manage
//!   ([`manage`]), run background work ([`jobs`]), deliver ([`deliver`], rendering derived files through the
//!   [`Engine`] once per key) and administer accounts ([`accounts`]).
//! - [`Params`]: request fields as they arrived (signatures need them raw);
//!   each use case parses them into a typed command first.
//! - [`ServiceError`]: one typed error whose [`ErrorKind`] the HTTP edge maps
//!   to a status.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod admin;
pub mod auth;
mod breakpoints;
mod conditions;
mod coordinates;
pub mod deliver;
mod derive;
mod download;
mod eager;
mod error;
mod hot;
pub mod jobs;
mod layers;
pub mod manage;
pub mod metadata;
mod params;
mod response;
pub mod signing;
mod text_image;
pub mod upload;
mod urls;

use std::sync::Arc;

use nubo_blob::BlobStore;
use nubo_catalog::Catalog;
use nubo_core::Limits;
use nubo_engine::Engine;
use nubo_fetch::RemoteFetcher;

pub use auth::{Caller, Credentials};
pub use error::{ErrorKind, Result, ServiceError};
pub use params::Params;
pub use urls::{escape_public_id, PublicUrls};

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub limits: Limits,
    /// Base of `url` / `secure_url` in responses.
    pub public_url: String,
    /// Only signed URLs and named transformations marked for strict use
    /// may create derived files.
    pub strict_transformations: bool,
    /// Admin API calls each key may make per hour (420 beyond).
    pub admin_rate_limit: u32,
    pub jobs: jobs::JobSettings,
}

/// The use cases, over whichever catalog and blob store were wired in.
#[derive(Clone)]
pub struct Service {
    catalog: Arc<dyn Catalog>,
    blobs: Arc<dyn BlobStore>,
    fetcher: RemoteFetcher,
    settings: Arc<ServiceSettings>,
    urls: PublicUrls,
    engine: Engine,
    flights: Arc<derive::Flights>,
    hot: Arc<hot::HotDeliveries>,
    rate: Arc<admin::RateLimiter>,
    wake: Arc<jobs::Wake>,
}

impl Service {
    pub fn new(
        catalog: Arc<dyn Catalog>,
        blobs: Arc<dyn BlobStore>,
        fetcher: RemoteFetcher,
        engine: Engine,
        settings: ServiceSettings,
    ) -> Self {
        let urls = PublicUrls::new(&settings.public_url);
        let rate = Arc::new(admin::RateLimiter::new(settings.admin_rate_limit));
        Self {
            rate,
            catalog,
            blobs,
            fetcher,
            settings: Arc::new(settings),
            urls,
            engine,
            flights: Arc::default(),
            hot: Arc::default(),
            wake: Arc::default(),
        }
    }

    /// Tells the delivery cache that this process changed assets, derived
    /// files or named transformations.
    pub fn note_write(&self) {
        self.hot.invalidate();
    }

    pub fn limits(&self) -> &Limits {
        &self.settings.limits
    }

    pub fn blobs(&self) -> &dyn BlobStore {
        self.blobs.as_ref()
    }

    /// Deletes the bytes of a blob if nothing references it any more.
    pub(crate) async fn release_blob(&self, key: &str) {
        if let Err(e) = self.try_release_blob(key, now()).await {
            // The blob stays; the periodic sweep retries it.
            tracing::warn!(blob = key, error = %e, "could not collect blob");
        }
    }

    async fn try_release_blob(&self, key: &str, now: i64) -> Result<bool> {
        if !self.catalog.collect_blob(key, now).await? {
            return Ok(false);
        }
        let key = nubo_blob::BlobKey::parse(key)?;
        self.blobs.delete(&key).await?;
        Ok(true)
    }

    /// Collects blobs no asset references whose pins expired before `now`:
    /// what crashes and overwrites inside the pin window leave. Returns how
    /// many were deleted.
    pub async fn sweep_blobs(&self, now: i64) -> Result<usize> {
        // Abandoned chunked uploads first: that unreferences their chunks.
        self.expire_chunk_sessions(now).await?;
        self.expire_tus_uploads(now).await?;
        // Derived files of replaced or deleted versions first: that
        // unreferences their blobs for the loop below.
        loop {
            let stale = self.catalog.sweep_stale_derived(500).await?;
            if stale.is_empty() {
                break;
            }
        }
        // Finished jobs are kept a week (dead ones a month) for inspection.
        let now_ms = now.saturating_mul(1000);
        self.catalog
            .prune_jobs(now_ms - 7 * 86_400_000, now_ms - 30 * 86_400_000)
            .await?;
        let mut deleted = 0;
        loop {
            let keys = self.catalog.unreferenced_blobs(now, 500).await?;
            if keys.is_empty() {
                return Ok(deleted);
            }
            let mut progressed = false;
            for key in keys {
                if self.try_release_blob(&key, now).await? {
                    deleted += 1;
                    progressed = true;
                }
            }
            if !progressed {
                return Ok(deleted);
            }
        }
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
