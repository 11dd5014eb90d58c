//! One AV1 frame decoded by rav1d, the memorysafety.org Rust port of
//! dav1d, carried in-tree (vendor/README.md): without its assembly, with
//! its functions able to unwind, and with a Rust API for stills
//! (`rav1d::src::still`) in which every value is owned by Rust. A panic
//! inside the decoder (a bug a hostile stream found) is caught here and
//! becomes an error, so one upload cannot stop the server.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rav1d::src::still::{Still, StillDecoder};

/// How chroma is sampled against luma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Mono,
    I420,
    I422,
    I444,
}

/// A decoded frame's planes, samples widened to 16 bits.
#[derive(Debug)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub bit_depth: u8,
    pub layout: Layout,
    /// Y, then U and V (empty for `Mono`), rows packed.
    pub planes: [Vec<u16>; 3],
    /// ISO/IEC 23091-4 colour primaries, transfer characteristics and
    /// matrix coefficients from the sequence header.
    pub primaries: u32,
    pub transfer: u32,
    pub matrix: u32,
    pub full_range: bool,
}

impl Frame {
    /// Width and height of the chroma planes.
    pub fn chroma_size(&self) -> (u32, u32) {
        match self.layout {
            Layout::Mono => (0, 0),
            Layout::I420 => (self.width.div_ceil(2), self.height.div_ceil(2)),
            Layout::I422 => (self.width.div_ceil(2), self.height),
            Layout::I444 => (self.width, self.height),
        }
    }
}

/// Decodes the first frame of an AV1 bitstream (the OBUs of an AVIF
/// item), refusing frames of more than `max_pixels`.
///
/// The decoder is dropped (closed) under its own guard, apart from the
/// decode, so that a decoder left odd by a panic cannot unwind through
/// this function either.
pub fn decode_frame(obu: &[u8], max_pixels: u64) -> Result<Frame, String> {
    let limit = max_pixels.clamp(1, u64::from(u32::MAX)) as u32;
    let decoder = catch_unwind(|| StillDecoder::new(limit))
        .unwrap_or_else(|_| Err("AV1 decoder did not open".into()))?;
    let still = catch_unwind(AssertUnwindSafe(|| decoder.decode(obu)))
        .unwrap_or_else(|_| Err("AV1 data made the decoder fail".into()));
    let _ = catch_unwind(AssertUnwindSafe(move || drop(decoder)));
    still.and_then(frame)
}

fn frame(s: Still) -> Result<Frame, String> {
    let layout = match s.layout {
        0 => Layout::Mono,
        1 => Layout::I420,
        2 => Layout::I422,
        3 => Layout::I444,
        other => return Err(format!("unknown AV1 pixel layout {other}")),
    };
    Ok(Frame {
        width: s.width,
        height: s.height,
        bit_depth: s.bit_depth,
        layout,
        planes: s.planes,
        primaries: u32::from(s.primaries),
        transfer: u32::from(s.transfer),
        matrix: u32::from(s.matrix),
        full_range: s.full_range,
    })
}
