//! Domain types of Nubo, with no IO.
//!
//! The core abstractions are the identifiers an asset is addressed by
//! ([`CloudName`], [`ResourceType`], [`DeliveryType`], [`PublicId`]), the random
//! identifiers the service hands out ([`AssetId`], [`VersionId`]), the media
//! [`Format`]s Nubo recognises, the user-supplied metadata shapes ([`Tags`],
//! [`Context`]) and the safety [`Limits`] that are on by default.
//!
//! Every type here is parsed from raw text at the edge ("parse, don't
//! validate"): once a value exists it is valid, so inner layers never re-check.
#![forbid(unsafe_code)]

mod context;
mod format;
mod ids;
mod limits;
mod names;
pub mod search;

pub use context::{Context, ContextError};
pub use format::{Format, MediaKind};
pub use ids::{random_id, AssetId, VersionId};
pub use limits::Limits;
pub use names::{
    CloudName, DeliveryType, Folder, NameError, PublicId, ResourceType, Tags, UploadResourceType,
};
