//! The service's one error type. The HTTP edge turns [`ErrorKind`] into a
//! status and `Display` into Cloudinary's `{"error":{"message":…}}`.

use nubo_blob::BlobError;
use nubo_catalog::CatalogError;
use nubo_core::{ContextError, NameError};
use nubo_engine::ProbeError;
use nubo_fetch::FetchError;

/// How a failure should be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    NotFound,
    /// 409 on the Admin API; the Upload API reports it as 400.
    AlreadyExists,
    /// 420, Cloudinary's "rate limited".
    RateLimited,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("Missing required parameter - {0}")]
    MissingParam(&'static str),
    #[error("{0}")]
    InvalidParam(String),
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("{0}")]
    Unsupported(String),
    #[error("Invalid image file")]
    InvalidImage,
    #[error("Invalid video file")]
    InvalidVideo,
    #[error("{0}")]
    Probe(#[from] ProbeError),
    #[error("File size too large. Got {got}. Maximum is {max}.")]
    FileTooLarge { got: u64, max: u64 },
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("{kind} file format {format} not allowed")]
    FormatNotAllowed { kind: &'static str, format: String },
    #[error("Upload preset not found")]
    PresetNotFound,
    #[error("Upload preset must be specified when using unsigned upload")]
    UnsignedWithoutPreset,
    #[error("Upload preset must be whitelisted for unsigned uploads")]
    PresetNotUnsigned,
    #[error("Resource not found - {0}")]
    NotFound(String),
    #[error("Resource already exists - {0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Unauthorized(String),
    /// A tus `PATCH` at another offset than the upload's.
    #[error("Upload-Offset {got} does not match the upload's offset {expected}")]
    OffsetMismatch { expected: u64, got: u64 },
    #[error("Rate Limit Exceeded")]
    RateLimited(crate::admin::RateStatus),
    #[error("Internal error: {0}")]
    Catalog(CatalogError),
    #[error("Internal error: {0}")]
    Blob(BlobError),
    #[error("Internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Transform(#[from] nubo_transform::TransformError),
    /// A render failed: the input's fault (bad_request) or ours.
    #[error("{message}")]
    Render { bad_request: bool, message: String },
}

impl ServiceError {
    pub fn kind(&self) -> ErrorKind {
        use ServiceError::*;
        match self {
            NotFound(_) => ErrorKind::NotFound,
            AlreadyExists(_) => ErrorKind::AlreadyExists,
            RateLimited(_) => ErrorKind::RateLimited,
            Unauthorized(_) => ErrorKind::Unauthorized,
            Catalog(CatalogError::BlobGone(_)) => ErrorKind::Internal,
            Catalog(_) | Internal(_) => ErrorKind::Internal,
            Render {
                bad_request: false, ..
            } => ErrorKind::Internal,
            Blob(BlobError::TooLarge { .. }) => ErrorKind::BadRequest,
            Blob(_) => ErrorKind::Internal,
            Probe(ProbeError::Io(_)) => ErrorKind::Internal,
            _ => ErrorKind::BadRequest,
        }
    }
}

impl From<CatalogError> for ServiceError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::BadQuery(msg) => ServiceError::InvalidParam(msg),
            other => ServiceError::Catalog(other),
        }
    }
}

impl From<BlobError> for ServiceError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::TooLarge { limit } => {
                ServiceError::InvalidParam(format!("File size too large. Maximum is {limit}."))
            }
            other => ServiceError::Blob(other),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
