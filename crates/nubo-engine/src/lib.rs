//! The media engine: reads what uploads are and turns stored originals
//! into derived files.
//!
//! Core abstractions:
//! - [`probe`]: what an upload is, from its header bytes only.
//! - [`Raster`] / [`Picture`]: 8-bit RGB(A) pixels, one frame or many.
//! - [`decode`]: memory-safe Rust decoders behind pixel and frame limits,
//!   with EXIF orientation and ICC/CMYK conversion to sRGB.
//! - [`render`]: a resolved transformation ([`nubo_transform::Resolved`])
//!   run on pixels, component by component, then [`encode`]d.
//! - [`LayerInputs`]: what a chain's `l_`/`u_` layers name, read by the
//!   service; layers are built, transformed and placed in the pipeline,
//!   text drawn by [`text`] with fonts built into the binary.
//! - [`faces`]: face detection (SeetaFace cascade, model built in), which
//!   with the `g_auto` importance map feeds [`nubo_transform::Focus`].
//! - [`analysis`]: colours, a perceptual hash and embedded metadata for
//!   the Admin API's resource details.
//! - [`Engine`]: the bounded worker pool (one job per core, off the async
//!   runtime) with a time budget and panic isolation.
#![forbid(unsafe_code)]

pub mod analysis;
mod av1;
mod avif;
mod avif_grid;
mod avif_trial;
mod color;
pub mod decode;
mod displace;
mod effects;
pub mod encode;
mod error;
pub mod faces;
mod flow;
mod focus;
mod geometry_ops;
mod iptc;
mod layers;
mod orient;
mod pipeline;
pub mod probe;
pub mod qauto;
pub mod quality;
mod raster;
mod recolor;
mod resize;
mod saliency;
mod silhouette;
mod svg;
pub mod text;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use analysis::{Analysis, AnalysisRequest};
pub use decode::{DecodeRequest, Decoded};
pub use encode::EncodeOptions;
pub use error::{EngineError, Result};
pub use focus::Coordinates;
pub use layers::{LayerImage, LayerInputs};
pub use pipeline::{render, Job, Rendered};
pub use probe::{probe_file, probe_reader, ImageInfo, Probe, ProbeError, ProbeLimits, VideoInfo};
pub use raster::{Frame, Picture, Raster};

/// Limits every render obeys; each is a setting.
#[derive(Debug, Clone)]
pub struct EngineLimits {
    /// Pixels of the decoded input (checked from the header first).
    pub max_input_pixels: u64,
    /// Pixels of any intermediate or output image.
    pub max_output_pixels: u64,
    pub max_frames: u64,
    /// Frames × pixels, for animations.
    pub max_frame_pixels: u64,
    /// Wall time for one render.
    pub time_budget: Duration,
}

impl Default for EngineLimits {
    fn default() -> Self {
        EngineLimits {
            max_input_pixels: 100_000_000,
            max_output_pixels: 50_000_000,
            max_frames: 1_000,
            max_frame_pixels: 500_000_000,
            time_budget: Duration::from_secs(30),
        }
    }
}

/// Runs renders on at most `workers` blocking threads at once.
#[derive(Clone)]
pub struct Engine {
    limits: Arc<EngineLimits>,
    permits: Arc<tokio::sync::Semaphore>,
}

impl Engine {
    pub fn new(limits: EngineLimits, workers: usize) -> Engine {
        Engine {
            limits: Arc::new(limits),
            permits: Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
        }
    }

    /// One worker per core: renders are CPU-bound.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }

    pub fn limits(&self) -> &EngineLimits {
        &self.limits
    }

    /// Renders `job` from the original's bytes. The budget covers the
    /// wait for a worker too.
    pub async fn render(&self, bytes: bytes::Bytes, job: Job) -> Result<Rendered> {
        let deadline = Instant::now() + self.limits.time_budget;
        self.bounded(move |limits| render(&bytes, &job, limits, deadline))
            .await
    }

    /// Draws a `text` image (Upload API `text`): PNG, with `opacity` in
    /// percent applied to the whole picture.
    pub async fn text_image(
        &self,
        style: nubo_transform::layer::TextStyle,
        text: String,
        paint: text::TextPaint,
        opacity: u8,
    ) -> Result<Rendered> {
        self.bounded(move |limits| {
            let mut r = text::render(&style, &text, &paint, limits)?;
            if opacity < 100 {
                r = geometry_ops::opacity(&r, opacity);
            }
            let (width, height) = (r.width, r.height);
            let bytes = encode::encode(
                &Picture::still(r),
                &EncodeOptions::new(nubo_core::Format::Png),
            )?;
            Ok(Rendered {
                bytes,
                format: Some(nubo_core::Format::Png),
                width,
                height,
                quality: None,
            })
        })
        .await
    }

    /// Analyses an original (colours, hash, metadata) on the same pool and
    /// budget as renders.
    pub async fn analyze(
        &self,
        bytes: bytes::Bytes,
        format: nubo_core::Format,
        req: AnalysisRequest,
    ) -> Result<Analysis> {
        self.bounded(move |limits| analysis::analyze(&bytes, format, req, limits))
            .await
    }

    /// Runs CPU-bound work on a blocking thread once a worker is free,
    /// within the time budget, turning a panic into an error.
    async fn bounded<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&EngineLimits) -> Result<T> + Send + 'static,
    {
        let budget = self.limits.time_budget;
        let run = async {
            let permit = self
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| EngineError::Internal("engine pool closed".into()))?;
            let limits = self.limits.clone();
            tokio::task::spawn_blocking(move || {
                // The permit lives as long as the work, even after a timeout,
                // so the pool stays bounded.
                let _permit = permit;
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&limits)))
                    .unwrap_or_else(|p| Err(EngineError::Internal(panic_text(p))))
            })
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?
        };
        match tokio::time::timeout(budget, run).await {
            Ok(r) => r,
            Err(_) => Err(EngineError::Timeout(budget.as_secs())),
        }
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod layer_tests;
#[cfg(test)]
mod reduce_tests;
#[cfg(test)]
mod smart_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vp8_tests;
