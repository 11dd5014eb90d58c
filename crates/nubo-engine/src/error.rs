//! Why the engine could not produce an image.

/// A failed run. Every variant but `Internal` is the caller's input.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A format or feature with no safe implementation here.
    #[error("{0}")]
    Unsupported(String),
    /// Bytes that do not decode as the format they claim.
    #[error("Invalid image file: {0}")]
    InvalidImage(String),
    /// Over a configured limit (pixels, frames, output size).
    #[error("{0}")]
    TooLarge(String),
    /// A transformation that cannot run on this image (an expression
    /// dividing by zero, an undefined variable, a value out of range).
    #[error("{0}")]
    BadRequest(String),
    /// The per-request time budget ran out.
    #[error("Transformation took longer than the {0} s allowed")]
    Timeout(u64),
    /// A bug: a panic caught in a decoder or encoder, or a pool failure.
    #[error("internal engine error: {0}")]
    Internal(String),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
