//! Builds the service from settings: the only place adapters are named.

use std::sync::Arc;

use anyhow::Context as _;
use nubo_blob::{BlobStore, FsBlobStore};
use nubo_catalog::SqlCatalog;
use nubo_engine::Engine;
use nubo_fetch::{FetchPolicy, RemoteFetcher};
use nubo_service::{Service, ServiceSettings};

use crate::config::Settings;

pub async fn open_service(settings: &Settings) -> anyhow::Result<Service> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
    let blobs = FsBlobStore::open(&settings.data_dir)
        .with_context(|| format!("opening blob store in {}", settings.data_dir.display()))?;
    // Staging files older than a day can only be left by a killed process.
    let swept = blobs
        .spool()
        .sweep(std::time::Duration::from_secs(24 * 3600))?;
    if swept > 0 {
        tracing::info!(files = swept, "removed abandoned staging files");
    }
    let catalog = SqlCatalog::connect(&settings.database_url, settings.database_schema.as_deref())
        .await
        .context("opening the catalog")?;
    let fetcher = RemoteFetcher::new(FetchPolicy {
        allow_private: settings.fetch_allow_private,
        connect_timeout: settings.fetch_connect_timeout,
        total_timeout: settings.fetch_timeout,
        max_redirects: 5,
    });
    let service_settings = ServiceSettings {
        limits: settings.limits.clone(),
        public_url: settings.public_url.clone(),
        strict_transformations: settings.strict_transformations,
        admin_rate_limit: settings.admin_rate_limit,
        jobs: settings.jobs.clone(),
    };
    let workers = match settings.render_workers {
        0 => Engine::default_workers(),
        n => n,
    };
    let engine = Engine::new(settings.render.clone(), workers);
    Ok(Service::new(
        Arc::new(catalog),
        Arc::new(blobs),
        fetcher,
        engine,
        service_settings,
    ))
}

/// Uploads end within the body timeout, so a staging file twice that old
/// was left by a killed process (never by another live one sharing the dir).
pub fn abandoned_after(settings: &Settings) -> std::time::Duration {
    settings
        .limits
        .body_timeout
        .max(std::time::Duration::from_secs(60))
        * 2
}
