//! Why a transformation string was refused.

/// A transformation that cannot be applied. Every variant names the part
/// of the URL at fault, because that text becomes the `X-Cld-Error` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// A known key with a value outside its grammar or range.
    #[error("Invalid {what} in transformation: {value}")]
    InvalidValue { what: &'static str, value: String },
    /// Not `key_value`, or a key Cloudinary does not have.
    #[error("Invalid transformation component: {0}")]
    UnknownParameter(String),
    /// A real Cloudinary key or value this server does not implement (yet).
    #[error("{0} is not supported by this server")]
    Unsupported(String),
    /// `t_<name>` with no such named transformation.
    #[error("Unknown transformation {0}")]
    UnknownNamed(String),
    /// Named transformations referring to each other in a loop, or too deep.
    #[error("Named transformation {0} is nested too deeply or refers to itself")]
    NamedTooDeep(String),
    /// An expression that cannot be evaluated on this image.
    #[error(transparent)]
    Eval(#[from] crate::expr::EvalError),
    /// `if_else`/`if_end` out of place, or a key a condition cannot govern.
    #[error("Invalid conditional transformation: {0}")]
    Flow(String),
    /// More chained components than the server accepts.
    #[error("Transformation has too many components (at most {0})")]
    TooManyComponents(usize),
}

pub(crate) fn invalid(what: &'static str, value: &str) -> TransformError {
    TransformError::InvalidValue {
        what,
        value: value.to_owned(),
    }
}

pub type Result<T, E = TransformError> = std::result::Result<T, E>;
