//! Rows of the catalog, as typed values.

use std::collections::BTreeMap;

use nubo_core::{CloudName, Context, DeliveryType, PublicId, ResourceType, Tags};

/// Whether an insert created something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    AlreadyExisted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudRecord {
    pub name: CloudName,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub cloud: CloudName,
    pub key: String,
    pub secret: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A bearer token. Only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub cloud: CloudName,
    pub hash_hex: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PresetRecord {
    pub cloud: CloudName,
    pub name: String,
    pub unsigned: bool,
    /// Upload parameters the preset carries, as strings in upload-API form.
    pub settings: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The (cloud, resource type, delivery type) an asset's public id lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssetScope {
    pub cloud: CloudName,
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
}

/// Everything that names one asset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssetLocator {
    pub scope: AssetScope,
    pub public_id: PublicId,
}

/// One stored asset at its current version.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub loc: AssetLocator,
    pub asset_id: String,
    pub version: i64,
    pub version_id: String,
    pub format: Option<String>,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub pages: Option<i64>,
    pub etag: String,
    pub original_filename: Option<String>,
    pub tags: Tags,
    pub context: Context,
    /// Media details beyond the common columns (video duration, codecs, …).
    pub meta: serde_json::Map<String, serde_json::Value>,
    pub blob_key: String,
    pub created_at: i64,
    /// `created_at` in microseconds: orders uploads made within one second.
    pub created_at_us: i64,
    pub updated_at: i64,
}

/// A version about to be committed; the catalog assigns ids and version.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAsset {
    pub loc: AssetLocator,
    pub format: Option<String>,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub pages: Option<i64>,
    pub etag: String,
    pub original_filename: Option<String>,
    pub tags: Tags,
    pub context: Context,
    pub meta: serde_json::Map<String, serde_json::Value>,
    pub blob_key: String,
    pub now: i64,
}

/// What to do when the public id is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverwritePolicy {
    Replace,
    KeepExisting,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommitOutcome {
    Created(Asset),
    /// The id existed and now points at the new version.
    Replaced {
        asset: Asset,
        previous_blob: String,
    },
    /// The id existed and was kept (`overwrite=false`).
    Existing(Asset),
}

// Returned once per call and matched at once: boxing the asset buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum RenameOutcome {
    Renamed {
        asset: Asset,
        replaced_blob: Option<String>,
    },
    SourceMissing,
    TargetExists,
}

/// A derived file: one rendering of one asset version, keyed by the
/// canonical transformation and output target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// Stable id of this derived file (`derived[].id` in the Admin API).
    pub id: String,
    pub asset_id: String,
    pub asset_version: i64,
    pub cache_key: String,
    /// The canonical transformation text, for listings.
    pub transformation: String,
    /// Extension of the output (`json` for `fl_getinfo`).
    pub format: String,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub blob_key: String,
    pub created_at: i64,
}

/// A named transformation (`t_<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTransformation {
    pub cloud: CloudName,
    pub name: String,
    /// The transformation text, as given.
    pub definition: String,
    /// Usable in URLs when strict transformations are on.
    pub allowed_for_strict: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A field `aggregate` counts values of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateField {
    Format,
    ResourceType,
    Type,
    Tags,
}

impl AggregateField {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "format" => AggregateField::Format,
            "resource_type" => AggregateField::ResourceType,
            "type" => AggregateField::Type,
            "tags" => AggregateField::Tags,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AggregateField::Format => "format",
            AggregateField::ResourceType => "resource_type",
            AggregateField::Type => "type",
            AggregateField::Tags => "tags",
        }
    }
}

/// One page of assets: every listing and search of the Admin API.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetQuery {
    pub cloud: CloudName,
    pub resource_type: Option<ResourceType>,
    pub delivery_type: Option<DeliveryType>,
    /// `None` matches every asset in the scope.
    pub expr: Option<nubo_core::search::Expr>,
    /// Earlier keys win; ties end on the asset id, so pages are stable.
    pub sort: Vec<(nubo_core::search::SortField, nubo_core::search::Direction)>,
    pub limit: u32,
    /// Where the previous page stopped (opaque; from [`AssetPage::next_cursor`]).
    pub cursor: Option<String>,
    pub with_total: bool,
    pub aggregate: Vec<AggregateField>,
    /// Resolves relative times (`created_at>1d`).
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssetPage {
    pub assets: Vec<Asset>,
    /// Present only when more assets follow.
    pub next_cursor: Option<String>,
    pub total_count: Option<i64>,
    /// Per requested field: (value, count), most frequent first.
    pub aggregations: Vec<(AggregateField, Vec<(String, i64)>)>,
}

/// One folder of the fixed-folder tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRecord {
    pub path: String,
    pub name: String,
    pub created_at: i64,
}

/// What a cloud holds, for `usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsageFigures {
    pub assets: i64,
    pub asset_bytes: i64,
    pub derived: i64,
    pub derived_bytes: i64,
    /// Bytes the blob store holds for this cloud: each distinct blob once
    /// (identical uploads share one), originals and derived files.
    pub stored_bytes: i64,
}

/// Outcome of deleting a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderDelete {
    /// The folder and its empty subfolders, deepest first.
    Deleted(Vec<String>),
    Missing,
    NotEmpty,
}

/// Outcome of renaming a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderRename {
    /// The folder, its subfolders and this many assets moved.
    Renamed {
        assets: usize,
    },
    Missing,
    /// An asset already has the public id one would move to.
    TargetExists(String),
    /// A moved public id would not be valid (too long, say).
    InvalidTarget(String),
    /// More assets than one transaction may move.
    TooMany,
}

/// Which chunked upload a chunk belongs to: the SDK's `X-Unique-Upload-Id`,
/// scoped to the cloud and the credential that signs the chunks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChunkSession {
    pub cloud: CloudName,
    pub owner: String,
    pub upload_id: String,
}

/// One received chunk: bytes `first..=last` of the file, stored as a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPart {
    pub first: i64,
    pub last: i64,
    pub blob_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkOutcome {
    /// Recorded. `parts` (in file order) is set once they cover the whole
    /// file, whose size became known from some chunk's `Content-Range`.
    Stored {
        received: i64,
        total: Option<i64>,
        /// The blob of an identical chunk sent before, now unreferenced.
        replaced_blob: Option<String>,
        parts: Option<Vec<ChunkPart>>,
    },
    /// The chunk contradicts what was received (overlap, size, total).
    Inconsistent(String),
}

/// A tus upload: created with its length and the upload parameters
/// (authorised then), filled by `PATCH`es, an asset once complete.
#[derive(Debug, Clone, PartialEq)]
pub struct TusUpload {
    pub cloud: CloudName,
    pub upload_id: String,
    /// `image`, `video`, `raw` or `auto`.
    pub resource_type: String,
    /// Who created it (`key:…`, `token:…`, `preset:…`): the completion
    /// runs as them.
    pub caller: String,
    /// Upload parameters, as they arrived in `Upload-Metadata`.
    pub params: Vec<(String, String)>,
    pub length: i64,
    pub offset: i64,
    /// The upload response, once complete.
    pub result: Option<serde_json::Value>,
    pub created_at: i64,
    pub expires_at: i64,
}
