//! The catalog: where asset metadata, credentials and presets live.
//!
//! Core abstractions:
//! - [`Catalog`]: the storage-neutral trait the service layer depends on.
//! - [`SqlCatalog`]: its one implementation, speaking SQLite (the embedded
//!   default) or PostgreSQL (for several nodes) through [`Dialect`].
//! - The records: [`Asset`], [`ApiKeyRecord`], [`TokenRecord`], [`PresetRecord`],
//!   [`Derived`] (derived files) and [`NamedTransformation`].
//! - [`JobQueue`]: the durable job queue (leases, retries, dead letters),
//!   a supertrait of [`Catalog`].
//! - Expected outcomes are values ([`CommitOutcome`], [`RenameOutcome`],
//!   [`Created`]), never errors to match on.
//!
//! Blob references are counted by query, not by a stored counter: a blob row
//! may be collected only when no asset or derived file names it and its *pin* (taken before
//! bytes are written) has expired. See [`Catalog::pin_blob`].
#![forbid(unsafe_code)]

mod edit;
mod jobs;
mod migrate;
mod records;
mod sql;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

use async_trait::async_trait;
use nubo_core::{CloudName, PublicId, ResourceType};

pub use edit::AssetEdit;
pub use jobs::*;
pub use records::*;
pub use sql::{tag_bit, tag_bits, Dialect, SqlCatalog, MAX_FOLDER_RENAME, MAX_PAGE, METADATA_KEY};

/// Catalog failures. Expected outcomes are not errors.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("blob {0} was collected before the asset was committed; retry the upload")]
    BlobGone(String),
    /// The query itself is at fault (a cursor that is not ours).
    #[error("{0}")]
    BadQuery(String),
}

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// Storage of everything but bytes.
#[async_trait]
pub trait Catalog: JobQueue {
    // --- clouds and credentials ---
    async fn create_cloud(&self, name: &CloudName, now: i64) -> Result<Created>;
    async fn list_clouds(&self) -> Result<Vec<CloudRecord>>;
    async fn cloud_exists(&self, name: &CloudName) -> Result<bool>;
    /// Inserts a key; [`Created::AlreadyExisted`] leaves the stored one as is.
    async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<Created>;
    async fn api_key(&self, cloud: &CloudName, key: &str) -> Result<Option<ApiKeyRecord>>;
    async fn list_api_keys(&self, cloud: &CloudName) -> Result<Vec<ApiKeyRecord>>;
    async fn revoke_api_key(&self, cloud: &CloudName, key: &str, now: i64) -> Result<bool>;
    async fn put_token(&self, token: &TokenRecord) -> Result<()>;
    async fn token_by_hash(&self, hash_hex: &str) -> Result<Option<TokenRecord>>;
    async fn list_tokens(&self, cloud: &CloudName) -> Result<Vec<TokenRecord>>;
    async fn revoke_token(&self, cloud: &CloudName, id: &str, now: i64) -> Result<bool>;

    // --- upload presets ---
    /// Inserts or replaces a preset.
    async fn put_preset(&self, preset: &PresetRecord) -> Result<Created>;
    async fn preset(&self, cloud: &CloudName, name: &str) -> Result<Option<PresetRecord>>;
    async fn list_presets(&self, cloud: &CloudName) -> Result<Vec<PresetRecord>>;
    async fn delete_preset(&self, cloud: &CloudName, name: &str) -> Result<bool>;

    // --- blobs ---
    /// Before writing bytes with this SHA-256, pins the blob row until `until`
    /// so no collector deletes it meanwhile. Returns the key to write to: an
    /// existing blob's (its bytes may already be stored) or `proposed`.
    async fn pin_blob(
        &self,
        sha256: &str,
        proposed_key: &str,
        size: u64,
        until: i64,
    ) -> Result<String>;
    /// Deletes the blob row if no asset references it and its pin expired.
    /// `true` means the caller must now delete the bytes.
    async fn collect_blob(&self, key: &str, now: i64) -> Result<bool>;
    /// Keys of blobs no asset references and whose pin expired (crash leftovers).
    async fn unreferenced_blobs(&self, now: i64, limit: i64) -> Result<Vec<String>>;

    // --- assets ---
    async fn asset(&self, loc: &AssetLocator) -> Result<Option<Asset>>;
    async fn asset_by_id(&self, cloud: &CloudName, asset_id: &str) -> Result<Option<Asset>>;
    /// Makes a new version visible in one transaction.
    async fn commit_asset(&self, new: NewAsset, policy: OverwritePolicy) -> Result<CommitOutcome>;
    /// Removes an asset; returns it so its blob can be collected.
    async fn delete_asset(&self, loc: &AssetLocator) -> Result<Option<Asset>>;
    async fn rename_asset(
        &self,
        from: &AssetLocator,
        to: &AssetLocator,
        overwrite: bool,
        now: i64,
    ) -> Result<RenameOutcome>;
    /// Applies `edit` to each asset that exists; returns the ids it touched.
    async fn edit_assets(
        &self,
        scope: &AssetScope,
        ids: &[PublicId],
        edit: &AssetEdit,
        now: i64,
    ) -> Result<Vec<PublicId>>;
    /// Public ids in `scope` that carry `tag`.
    async fn tagged(&self, scope: &AssetScope, tag: &str) -> Result<Vec<PublicId>>;

    // --- delete tokens (return_delete_token / delete_by_token) ---
    async fn put_delete_token(
        &self,
        hash_hex: &str,
        loc: &AssetLocator,
        expires_at: i64,
    ) -> Result<()>;
    /// Consumes a token that has not expired.
    async fn take_delete_token(
        &self,
        cloud: &CloudName,
        hash_hex: &str,
        now: i64,
    ) -> Result<Option<AssetLocator>>;

    // --- derived files ---
    async fn derived(&self, asset_id: &str, version: i64, key: &str) -> Result<Option<Derived>>;
    /// Records a derived file; if another writer got there first, returns
    /// theirs (the caller then releases its own blob).
    async fn put_derived(&self, d: &Derived) -> Result<Derived>;
    async fn list_derived(&self, asset_id: &str) -> Result<Vec<Derived>>;
    /// Forgets every derived file of an asset; returns their blob keys.
    async fn delete_derived(&self, asset_id: &str) -> Result<Vec<String>>;
    /// Forgets an asset's derived files of versions other than `current`.
    async fn delete_old_derived(&self, asset_id: &str, current: i64) -> Result<Vec<String>>;
    /// Forgets up to `limit` derived files of versions no longer current.
    async fn sweep_stale_derived(&self, limit: i64) -> Result<Vec<String>>;

    // --- named transformations ---
    async fn put_named_transformation(&self, n: &NamedTransformation) -> Result<Created>;
    async fn named_transformation(
        &self,
        cloud: &CloudName,
        name: &str,
    ) -> Result<Option<NamedTransformation>>;
    async fn list_named_transformations(
        &self,
        cloud: &CloudName,
    ) -> Result<Vec<NamedTransformation>>;
    async fn delete_named_transformation(&self, cloud: &CloudName, name: &str) -> Result<bool>;

    // --- Admin API: listings, search, folders, usage ---
    /// One page of a listing or search.
    async fn query_assets(&self, q: &AssetQuery) -> Result<AssetPage>;
    /// Resource types that have assets.
    async fn resource_types(&self, cloud: &CloudName) -> Result<Vec<ResourceType>>;
    async fn usage(&self, cloud: &CloudName) -> Result<UsageFigures>;
    /// Distinct tags starting with `prefix`, alphabetical, after `after`.
    async fn list_tags(
        &self,
        cloud: &CloudName,
        rt: ResourceType,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>>;
    /// Direct children of `parent` (`""` is the root), by name.
    async fn subfolders(&self, cloud: &CloudName, parent: &str) -> Result<Vec<FolderRecord>>;
    async fn folder_exists(&self, cloud: &CloudName, path: &str) -> Result<bool>;
    /// Creates a folder and its ancestors.
    async fn create_folder(&self, cloud: &CloudName, path: &str, now: i64) -> Result<Created>;
    async fn delete_folder(&self, cloud: &CloudName, path: &str) -> Result<FolderDelete>;
    /// Renames a folder and every public id below it, in one transaction.
    async fn rename_folder(
        &self,
        cloud: &CloudName,
        from: &str,
        to: &str,
        now: i64,
    ) -> Result<FolderRename>;
    /// Derived files of this cloud with these ids (unknown ids are skipped).
    async fn derived_by_ids(&self, cloud: &CloudName, ids: &[String]) -> Result<Vec<Derived>>;
    /// Forgets derived files by id; returns their blob keys.
    async fn delete_derived_rows(&self, ids: &[String]) -> Result<Vec<String>>;
    /// Distinct transformations of current derived files, alphabetical.
    async fn derived_transformations(&self, cloud: &CloudName, limit: u32) -> Result<Vec<String>>;
    /// Derived files made with this canonical transformation.
    async fn derived_by_transformation(
        &self,
        cloud: &CloudName,
        transformation: &str,
        limit: u32,
    ) -> Result<Vec<Derived>>;
    // --- chunked uploads ---
    /// Records a chunk of a session, checking it against those before.
    async fn put_chunk(
        &self,
        session: &ChunkSession,
        part: &ChunkPart,
        total: Option<i64>,
        now: i64,
    ) -> Result<ChunkOutcome>;
    /// Forgets a session; returns its chunks' blob keys.
    async fn delete_chunk_session(&self, session: &ChunkSession) -> Result<Vec<String>>;
    async fn put_tus_upload(&self, t: &TusUpload) -> Result<()>;
    async fn tus_upload(&self, cloud: &CloudName, upload_id: &str) -> Result<Option<TusUpload>>;
    async fn delete_tus_upload(&self, cloud: &CloudName, upload_id: &str) -> Result<bool>;
    /// tus uploads that expired before `now`.
    async fn expired_tus_uploads(&self, now: i64, limit: i64) -> Result<Vec<TusUpload>>;
    /// Sessions whose last chunk arrived before `before`.
    async fn stale_chunk_sessions(&self, before: i64, limit: i64) -> Result<Vec<ChunkSession>>;

    // --- structured metadata ---
    /// Creates or replaces a field definition (the service's JSON).
    async fn put_metadata_field(
        &self,
        cloud: &CloudName,
        external_id: &str,
        definition: &serde_json::Value,
        now: i64,
    ) -> Result<Created>;
    /// Field definitions in creation order.
    async fn metadata_fields(&self, cloud: &CloudName) -> Result<Vec<serde_json::Value>>;
    /// Deletes a field and its values on every asset.
    async fn delete_metadata_field(&self, cloud: &CloudName, external_id: &str) -> Result<bool>;
    /// Edits tags, context and media details of one asset.
    async fn update_asset(
        &self,
        loc: &AssetLocator,
        edit: &AssetEdit,
        meta: &serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<Option<Asset>>;
}
