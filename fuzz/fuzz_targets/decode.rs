//! Decoding untrusted bytes as each input format: errors, never panics
//! or unbounded allocations (the limits are small here on purpose).
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use nubo_core::Format;
use nubo_engine::{decode::decode, DecodeRequest, EngineLimits};

const FORMATS: [Format; 10] = [
    Format::Jpg,
    Format::Png,
    Format::Gif,
    Format::Webp,
    Format::Tiff,
    Format::Bmp,
    Format::Ico,
    Format::Svg,
    Format::Jxl,
    Format::Avif,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let limits = EngineLimits {
        max_input_pixels: 4_000_000,
        max_output_pixels: 4_000_000,
        max_frames: 50,
        max_frame_pixels: 20_000_000,
        time_budget: Duration::from_secs(5),
    };
    let mut req = DecodeRequest::new(FORMATS[pick as usize % FORMATS.len()]);
    req.all_frames = pick & 0x80 != 0;
    let _ = decode(bytes, &req, &limits);
});
