//! Cloudinary's transformation grammar (§8.1, §9), parsed into types.
//!
//! Core abstractions:
//! - [`Component`]: one `/`-separated part of a URL, every key typed
//!   ([`CropMode`], [`Gravity`], [`Effect`], [`Flag`] …). Unknown keys and
//!   bad values are [`TransformError`]s naming the part at fault; keys the
//!   server does not implement are refused, never dropped.
//! - [`Transformation`]: the chain of components, its named-transformation
//!   expansion ([`Transformation::expand`]) and its canonical text (the
//!   `Display` impl), in which item order does not matter.
//! - [`Resolved`]: the chain with `f_auto` and `dpr_auto` settled from
//!   [`ClientHints`]; its [`Resolved::cache_key`] keys derived files.
//! - [`expr`]: variables, arithmetic expressions and `if_` conditions,
//!   evaluated per component by the engine ([`Component::resolve`]).
//! - [`layer`]: `l_`/`u_` sources ([`Layer`]: stored images, text with a
//!   [`layer::TextStyle`], remote fetches) and the grouping of a chain
//!   into layers ([`layer::steps`]).
//! - [`geometry`]: pure sizing maths from a component to a [`Layout`].
#![forbid(unsafe_code)]

mod colors;
mod component;
mod effect;
mod error;
pub mod expr;
mod flags;
pub mod geometry;
pub mod layer;
mod params;
mod plan;
mod value;

pub use component::{is_known_key, valid_name, AspectRatio, Component};
pub use effect::{BlendMode, Effect, FadeKind, OutlineMode, Tint, DEFAULT_TRIM_TOLERANCE};
pub use error::{Result, TransformError};
pub use flags::{Flag, Progressive};
pub use geometry::{layout, layout_with, Focus, Layout, Rect, Region, Saliency, Size, SizeRequest};
pub use layer::{Layer, LayerSide, LayerSource};
pub use params::{
    is_encodable, Angle, AutoGravity, AutoQuality, Background, Border, Chroma, ColorSpace, Compass,
    CropMode, Dpr, FormatChoice, Gravity, Page, Quality, Radius, MAX_DPR,
};
pub use plan::{
    AutoFormat, ClientHints, OutputTarget, Resolved, Transformation, Vary, MAX_COMPONENTS,
};
pub use value::{Color, Dim, Offset, MAX_PX};

#[cfg(test)]
mod tests;
