//! The vendored VP8 decoder's speed-ups (vendor/README.md) against the
//! reference: a fast token reader that commits once per block, and an SSE2
//! inverse DCT. Both must leave every decoded byte as libwebp makes it.

use std::io::Cursor;

/// xorshift64*: deterministic blocks without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `-m..=m`.
    fn coefficient(&mut self, m: i32) -> i32 {
        (self.next() % (2 * m as u64 + 1)) as i32 - m
    }
}

/// Wherever the SIMD transform runs it matches the 64-bit one exactly, on
/// random, sparse and extreme blocks; it declines blocks it cannot do
/// exactly rather than getting them wrong.
#[test]
fn simd_inverse_dct_matches_the_portable_one() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ran = 0;
    for case in 0..200_000 {
        let mut block = [0i32; 16];
        match case % 4 {
            0 => block.iter_mut().for_each(|c| *c = rng.coefficient(2047)),
            1 => block[(rng.next() % 16) as usize] = rng.coefficient(2047),
            2 => block.iter_mut().for_each(|c| *c = rng.coefficient(40)),
            _ => {
                // Extremes with random signs: the bound's worst case.
                let pattern = rng.next();
                for (i, c) in block.iter_mut().enumerate() {
                    *c = if pattern >> i & 1 == 1 { 2047 } else { -2048 };
                }
            }
        }
        let (simd, portable) = image_webp::idct4x4_simd_and_portable(block);
        if let Some(simd) = simd {
            assert_eq!(simd, portable, "block {block:?}");
            ran += 1;
        }
    }
    if cfg!(target_arch = "x86_64") {
        assert_eq!(ran, 200_000, "every block in range takes the SIMD path");
        for big in [2048, -2049, 40_000, i32::MAX, i32::MIN] {
            let mut block = [3i32; 16];
            block[7] = big;
            assert!(
                image_webp::idct4x4_simd_and_portable(block).0.is_none(),
                "{big}"
            );
        }
    }
}

/// A photo crop and noise, at qualities from 5 to 100 and at sizes that
/// end partitions mid-macroblock: the vendored decoder's RGB equals
/// libwebp's byte for byte (both with the loop filter and fancy upsampling).
#[test]
fn lossy_webp_decodes_exactly_as_libwebp() {
    let photo = coffee();
    let mut rng = Rng(7);
    let noise: Vec<u8> = (0..157 * 93 * 3).map(|_| rng.next() as u8).collect();
    let mut inputs = vec![(noise, 157, 93)];
    for (w, h) in [(297, 195), (1, 1), (17, 3), (64, 64), (100, 33)] {
        let crop = image::imageops::crop_imm(&photo, 0, 0, w, h).to_image();
        inputs.push((crop.into_raw(), w, h));
    }
    for (rgb, w, h) in &inputs {
        for quality in [5.0, 50.0, 90.0, 100.0] {
            let bytes = webp::Encoder::from_rgb(rgb, *w, *h)
                .encode(quality)
                .to_vec();
            assert_decodes_as_libwebp(&bytes, &format!("{w}x{h} q{quality}"));
        }
    }
}

/// The SSE2 loop filter against the pixel-by-pixel one over whole frames of
/// 6×5 macroblocks, at settings from none to the strongest the format can
/// signal, on pictures that make every branch fire: noise around flat
/// levels (filtered), steps near black and white (the clamps), and raw
/// noise (high edge variance, and edges left alone).
#[test]
fn simd_loop_filter_matches_the_portable_one() {
    let (mb_w, mb_h) = (6, 5);
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    let mut filtered = 0usize;
    for case in 0..400 {
        let plane = |rng: &mut Rng, w: usize, h: usize| -> Vec<u8> {
            let level = (rng.next() % 256) as i32;
            let amplitude = [0, 1, 3, 8, 40, 255][case % 6] as u64;
            (0..w * h)
                .map(|i| {
                    let (x, y) = (i % w, i / w);
                    // Steps every 4 or 16 pixels, towards the extremes.
                    let step = if case % 3 == 0 {
                        ((x / 4 + y / 16) % 2) as i32 * 90
                    } else {
                        0
                    };
                    let noise = (rng.next() % (2 * amplitude + 1)) as i32 - amplitude as i32;
                    (level + step + noise).clamp(0, 255) as u8
                })
                .collect()
        };
        let y = plane(&mut rng, mb_w * 16, mb_h * 16);
        let u = plane(&mut rng, mb_w * 8, mb_h * 8);
        let v = plane(&mut rng, mb_w * 8, mb_h * 8);
        // filter_level 0..=63 and sharpness 0..=7, as calculate_filter_parameters derives them.
        let level = (rng.next() % 64) as u8;
        let sharpness = (rng.next() % 8) as u8;
        let mut interior = level;
        if sharpness > 0 {
            interior >>= if sharpness > 4 { 2 } else { 1 };
            interior = interior.min(9 - sharpness);
        }
        let interior = interior.max(1);
        let hev = (rng.next() % 3) as u8;
        let [fast, portable] = image_webp::normal_loop_filter_both_ways(
            [&y, &u, &v],
            mb_w,
            mb_h,
            hev,
            interior,
            (level + 2) * 2 + interior,
            level * 2 + interior,
            case % 4 != 1,
        );
        assert!(
            fast == portable,
            "case {case}: level {level}, interior {interior}, hev {hev}"
        );
        if fast != [y, u, v] {
            filtered += 1;
        }
    }
    assert!(filtered > 200, "only {filtered} of 400 frames changed");
}

/// Pictures encoded with every filter strength, sharpness and type libwebp
/// offers, and with segments: the vendored decoder still matches libwebp.
#[test]
fn lossy_webp_with_every_filter_setting_decodes_as_libwebp() {
    let photo = coffee();
    let crop = image::imageops::crop_imm(&photo, 3, 5, 203, 141).to_image();
    for (strength, sharpness, filter_type, segments) in [
        (0, 0, 1, 4),
        (20, 0, 1, 1),
        (60, 3, 1, 4),
        (100, 7, 1, 4),
        (100, 0, 1, 2),
        (60, 0, 0, 4),
        (100, 5, 0, 1),
    ] {
        for quality in [10.0, 75.0] {
            let mut config = webp::WebPConfig::new().unwrap();
            config.quality = quality;
            config.filter_strength = strength;
            config.filter_sharpness = sharpness;
            config.filter_type = filter_type;
            config.segments = segments;
            config.autofilter = 0;
            let bytes = webp::Encoder::from_rgb(crop.as_raw(), crop.width(), crop.height())
                .encode_advanced(&config)
                .unwrap()
                .to_vec();
            assert_decodes_as_libwebp(
                &bytes,
                &format!(
                    "strength {strength}, sharpness {sharpness}, type {filter_type}, q{quality}"
                ),
            );
        }
    }
}

/// The vendored decoder's RGB(A) equals libwebp's byte for byte.
fn assert_decodes_as_libwebp(bytes: &[u8], what: &str) {
    let reference = webp::Decoder::new(bytes).decode().unwrap();
    let mut d = image_webp::WebPDecoder::new(Cursor::new(bytes)).unwrap();
    let mut ours = vec![0; d.output_buffer_size().unwrap()];
    d.read_image(&mut ours).unwrap();
    assert!(&*reference == ours.as_slice(), "{what}");
}

/// The photo the decoder tests crop from.
fn coffee() -> image::RgbImage {
    image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/golden/coffee.jpg"
    ))
    .unwrap()
    .to_rgb8()
}
