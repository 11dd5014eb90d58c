//! The media engine. So far: [`probe`], which reads what an upload is from
//! its bytes (never from its name or the client's Content-Type) with
//! memory-safe Rust parsers that look only at headers.
//!
//! Core abstractions: [`Probe`] (image, video or unknown), [`ImageInfo`],
//! [`VideoInfo`], and the [`ProbeLimits`] checked before any pixel is decoded.

pub mod probe;

pub use probe::{probe_file, probe_reader, ImageInfo, Probe, ProbeError, ProbeLimits, VideoInfo};
