//! Decoding and Encoding of WebP Images

// Nubo: `deny` rather than `forbid`, so that the one call into the SSE2
// inverse DCT (`transform.rs`) can be allowed where it is made.
#![deny(unsafe_code)]
#![deny(missing_docs)]
// Increase recursion limit for the `quick_error!` macro.
#![recursion_limit = "256"]
// Enable nightly benchmark functionality if "_benchmarks" feature is enabled.
#![cfg_attr(all(test, feature = "_benchmarks"), feature(test))]
#[cfg(all(test, feature = "_benchmarks"))]
extern crate test;

pub use self::decoder::{
    DecodingError, LoopCount, UpsamplingMethod, WebPDecodeOptions, WebPDecoder,
};
pub use self::encoder::{ColorType, EncoderParams, EncodingError, WebPEncoder};
#[doc(hidden)]
pub use self::loop_filter::normal_loop_filter_both_ways;
pub use self::reduce::ReducedRgb;
#[doc(hidden)]
pub use self::transform::idct4x4_simd_and_portable;

mod alpha_blending;
mod decoder;
mod encoder;
mod extended;
mod huffman;
mod loop_filter;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod loop_filter_sse2;
mod lossless;
mod lossless_transform;
mod reduce;
mod transform;
mod vp8_arithmetic_decoder;
mod yuv;

pub mod vp8;
