//! `q_auto` for AVIF without decoding each trial: the AV1 encoder's own
//! reconstruction of the frame, which is what any conforming decoder
//! outputs.
//!
//! rav1e hands out, with every shown frame, the reconstructed picture
//! after its loop filters, so a trial needs no AVIF file written and read
//! back (rav1d, which reads AVIF uploads, would add a decode per trial). The trial here drives rav1e with exactly the settings ravif
//! uses for our final encodes (8-bit 4:4:4 BT.601 full range, ravif's
//! quality-to-quantizer curve and speed tweaks, one thread): a test holds
//! its bitstream byte-for-byte equal to ravif's colour payload, so what is
//! scored is what is delivered.

use rav1e::prelude::*;

use crate::error::{EngineError, Result};
use crate::raster::Raster;

/// BT.601 luma weights, as ravif converts.
const KR: f32 = 0.299;
const KG: f32 = 0.587;
const KB: f32 = 0.114;
/// 8-bit code values (ravif's chroma midpoint is 255 / 2 rounded).
const MAX: f32 = 255.0;
const MID: f32 = 128.0;

/// Encodes an opaque RGB(A, read as RGB) raster at `quality` (1–100) and
/// `speed` (1–10); returns the AV1 payload's size and the decoded
/// picture as RGB.
pub fn encode_and_reconstruct(r: &Raster, quality: u8, speed: u8) -> Result<(usize, Raster)> {
    let quantizer = quality_to_quantizer(quality.clamp(1, 100) as f32);
    let speed = speed.clamp(1, 10);
    let cfg = config(r.width as usize, r.height as usize, quantizer, speed);
    let mut ctx: Context<u8> = cfg.new_context().map_err(failed)?;
    let mut frame = ctx.new_frame();
    fill(&mut frame, r);
    ctx.send_frame(frame).map_err(failed)?;
    ctx.flush();
    let mut bytes = 0;
    let mut rec = None;
    loop {
        match ctx.receive_packet() {
            Ok(p) if p.frame_type == FrameType::KEY => {
                bytes += p.data.len();
                rec = p.rec.or(rec);
            }
            Ok(_) => continue,
            Err(EncoderStatus::Encoded) => continue,
            Err(EncoderStatus::LimitReached) => break,
            Err(e) => return Err(failed(e)),
        }
    }
    let rec = rec.ok_or_else(|| failed("no reconstructed frame"))?;
    Ok((bytes, to_rgb(&rec, r.width, r.height)))
}

fn failed(e: impl std::fmt::Display) -> EngineError {
    EngineError::Internal(format!("AVIF trial encoder: {e}"))
}

/// ravif's mapping of quality to AV1's 0–255 quantizer.
fn quality_to_quantizer(quality: f32) -> u8 {
    let q = quality / 100.0;
    let x = if q >= 0.82 {
        (1.0 - q) * 2.6
    } else if q > 0.25 {
        q.mul_add(-0.5, 1.0 - 0.125)
    } else {
        1.0 - q
    };
    (x * 255.0).round() as u8
}

/// The rav1e configuration ravif builds for a still colour frame.
fn config(width: usize, height: usize, quantizer: u8, speed: u8) -> Config {
    let high_quality = quantizer > quality_to_quantizer(80.0);
    let min_tile = match speed {
        1 => 2048,
        2 => 1024,
        3 => 512,
        4 => 256,
        _ => 128,
    } * if high_quality { 2 } else { 1 };
    let tiles = 1.min((width * height) / (min_tile * min_tile));
    Config::new()
        .with_encoder_config(EncoderConfig {
            width,
            height,
            time_base: Rational::new(1, 1),
            sample_aspect_ratio: Rational::new(1, 1),
            bit_depth: 8,
            chroma_sampling: ChromaSampling::Cs444,
            chroma_sample_position: ChromaSamplePosition::Unknown,
            pixel_range: PixelRange::Full,
            color_description: Some(ColorDescription {
                transfer_characteristics: TransferCharacteristics::SRGB,
                color_primaries: ColorPrimaries::BT709,
                matrix_coefficients: MatrixCoefficients::BT601,
            }),
            mastering_display: None,
            content_light: None,
            enable_timing_info: false,
            still_picture: true,
            error_resilient: false,
            switch_frame_interval: 0,
            min_key_frame_interval: 0,
            max_key_frame_interval: 0,
            reservoir_frame_delay: None,
            low_latency: false,
            quantizer: quantizer as usize,
            min_quantizer: quantizer,
            bitrate: 0,
            tune: Tune::Psychovisual,
            tile_cols: 0,
            tile_rows: 0,
            tiles,
            film_grain_params: None,
            level_idx: None,
            speed_settings: speed_settings(speed, quantizer),
        })
        .with_threads(1)
}

/// ravif's speed tweaks on top of rav1e's preset (for speeds 1–10).
fn speed_settings(speed: u8, quantizer: u8) -> SpeedSettings {
    let low_quality = quantizer < quality_to_quantizer(55.0);
    let high_quality = quantizer > quality_to_quantizer(80.0);
    let max_block = if high_quality {
        BlockSize::BLOCK_16X16
    } else {
        BlockSize::BLOCK_64X64
    };
    let mut s = SpeedSettings::from_preset(speed);
    s.multiref = false;
    s.rdo_lookahead_frames = 1;
    s.scene_detection_mode = SceneDetectionSpeed::None;
    s.motion.include_near_mvs = false;
    s.fast_deblock = speed >= 7 && !high_quality;
    s.transform.reduced_tx_set = speed == 4 || speed >= 9;
    s.transform.tx_domain_rate = speed >= 10;
    s.partition.encode_bottomup = speed <= 2;
    s.transform.rdo_tx_decision = speed <= 4 && !high_quality;
    s.cdef = low_quality && speed <= 9;
    s.lrf = low_quality && speed <= 8;
    s.transform.enable_inter_tx_split = speed >= 9;
    s.sgr_complexity = if speed <= 2 {
        SGRComplexityLevel::Full
    } else {
        SGRComplexityLevel::Reduced
    };
    s.motion.use_satd_subpel = false;
    s.prediction.fine_directional_intra = speed <= 6;
    s.prediction.prediction_modes = if speed <= 1 {
        PredictionModesSetting::ComplexAll
    } else {
        PredictionModesSetting::Simple
    };
    let (min, max) = match speed {
        1 if low_quality => (BlockSize::BLOCK_4X4, max_block),
        2 if low_quality => (
            BlockSize::BLOCK_4X4,
            smaller(BlockSize::BLOCK_32X32, max_block),
        ),
        1..=4 => (BlockSize::BLOCK_4X4, BlockSize::BLOCK_16X16),
        5..=8 => (BlockSize::BLOCK_8X8, BlockSize::BLOCK_16X16),
        _ => (BlockSize::BLOCK_16X16, BlockSize::BLOCK_16X16),
    };
    s.partition.partition_range = PartitionRange::new(min, max);
    s
}

fn smaller(a: BlockSize, b: BlockSize) -> BlockSize {
    if a.width() <= b.width() {
        a
    } else {
        b
    }
}

/// RGB to 8-bit full-range BT.601 Y, Cb, Cr, rounded as ravif does.
fn fill(frame: &mut Frame<u8>, r: &Raster) {
    let (w, c) = (r.width as usize, r.channels as usize);
    let scale = MAX / 255.0;
    let [yp, up, vp] = &mut frame.planes;
    let rows = yp
        .rows_iter_mut()
        .zip(up.rows_iter_mut())
        .zip(vp.rows_iter_mut());
    for (((y, u), v), src) in rows.zip(r.data.chunks_exact(w * c)) {
        for (i, p) in src.chunks_exact(c).enumerate() {
            let (rr, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
            let luma = (scale * KB).mul_add(b, (scale * KR).mul_add(rr, scale * KG * g));
            let cb = b.mul_add(scale, -luma).mul_add(0.5 / (1.0 - KB), MID);
            let cr = rr.mul_add(scale, -luma).mul_add(0.5 / (1.0 - KR), MID);
            y[i] = luma.round() as u8;
            u[i] = cb.round() as u8;
            v[i] = cr.round() as u8;
        }
    }
}

/// The inverse of [`fill`], as a decoder converts for display.
fn to_rgb(frame: &Frame<u8>, width: u32, height: u32) -> Raster {
    let (w, h) = (width as usize, height as usize);
    let mut data = Vec::with_capacity(w * h * 3);
    let [yp, up, vp] = &frame.planes;
    let rows = yp.rows_iter().zip(up.rows_iter()).zip(vp.rows_iter());
    let to8 = |v: f32| (v * 255.0 / MAX).round().clamp(0.0, 255.0) as u8;
    for ((y, u), v) in rows.take(h) {
        for i in 0..w {
            let luma = y[i] as f32;
            let cb = u[i] as f32 - MID;
            let cr = v[i] as f32 - MID;
            let r = cr.mul_add(2.0 * (1.0 - KR), luma);
            let b = cb.mul_add(2.0 * (1.0 - KB), luma);
            let g = (luma - KR * r - KB * b) / KG;
            data.extend_from_slice(&[to8(r), to8(g), to8(b)]);
        }
    }
    Raster::new(width, height, 3, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rgb::FromSlice;

    fn photo(w: u32, h: u32) -> Raster {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/faces/");
        let img = image::open(format!("{dir}2008_002506.jpg"))
            .unwrap()
            .to_rgb8();
        let r = Raster::new(img.width(), img.height(), 3, img.into_raw());
        crate::resize::resample(&r, None, w, h).unwrap()
    }

    /// The trial is the delivered encode: same settings, same bits.
    #[test]
    fn the_trial_bitstream_is_ravifs() {
        let r = photo(300, 200);
        for (quality, speed) in [(40, 6), (78, 6), (90, 6), (60, 4), (85, 9)] {
            let (bytes, _) = encode_and_reconstruct(&r, quality, speed).unwrap();
            let ravif = ravif::Encoder::new()
                .with_quality(quality as f32)
                .with_speed(speed)
                .with_num_threads(Some(1))
                .with_bit_depth(ravif::BitDepth::Eight)
                .encode_rgb(ravif::Img::new(r.data.as_rgb(), 300, 200))
                .unwrap();
            assert_eq!(bytes, ravif.color_byte_size, "q{quality} s{speed}");
        }
    }

    #[test]
    fn the_reconstruction_is_the_picture_and_improves_with_quality() {
        // A flat colour survives the round trip exactly (colour maths).
        let flat = Raster::new(64, 48, 3, [200u8, 40, 90].repeat(64 * 48));
        let (_, back) = encode_and_reconstruct(&flat, 80, 6).unwrap();
        for p in back.data.chunks_exact(3) {
            for (got, want) in p.iter().zip([200u8, 40, 90]) {
                assert!(got.abs_diff(want) <= 1, "{p:?}");
            }
        }
        let r = photo(320, 240);
        let score = |q| {
            let (bytes, back) = encode_and_reconstruct(&r, q, 6).unwrap();
            (crate::qauto::score(&r, &back), bytes)
        };
        let (low, low_bytes) = score(30);
        let (high, high_bytes) = score(90);
        assert!(low_bytes < high_bytes);
        assert!(low + 10.0 < high, "{low} vs {high}");
        assert!(high > 80.0, "a q90 AVIF looks close to the source: {high}");
    }
}
