//! Safety limits. Every one is on by default and can be changed in config.

use std::time::Duration;

use crate::ResourceType;

/// Limits that bound what one request can make the server do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest stored image, in bytes.
    pub max_image_bytes: u64,
    /// Largest stored video, in bytes.
    pub max_video_bytes: u64,
    /// Largest stored raw file, in bytes.
    pub max_raw_bytes: u64,
    /// Largest image, in pixels per frame, read from the header before any decode.
    pub max_image_pixels: u64,
    /// Most frames (pages) in one image.
    pub max_image_frames: u64,
    /// Largest non-file part of a request (form fields, JSON, a data URI).
    pub max_field_bytes: u64,
    /// How long a client may take to send request headers.
    pub header_timeout: Duration,
    /// How long a client may take to send a whole request body.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_image_bytes: 100 * 1024 * 1024,
            max_video_bytes: 2 * 1024 * 1024 * 1024,
            max_raw_bytes: 2 * 1024 * 1024 * 1024,
            max_image_pixels: 100_000_000,
            max_image_frames: 1000,
            max_field_bytes: 80 * 1024 * 1024,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(3600),
        }
    }
}

impl Limits {
    pub fn max_bytes(&self, rt: ResourceType) -> u64 {
        match rt {
            ResourceType::Image => self.max_image_bytes,
            ResourceType::Video => self.max_video_bytes,
            ResourceType::Raw => self.max_raw_bytes,
        }
    }

    /// The largest any upload may be before its type is known.
    pub fn max_any_bytes(&self) -> u64 {
        self.max_image_bytes
            .max(self.max_video_bytes)
            .max(self.max_raw_bytes)
    }
}
