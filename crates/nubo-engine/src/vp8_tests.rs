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
    let photo = image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/golden/coffee.jpg"
    ))
    .unwrap()
    .to_rgb8();
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
            let reference = webp::Decoder::new(&bytes).decode().unwrap();
            let mut d = image_webp::WebPDecoder::new(Cursor::new(&bytes)).unwrap();
            let mut ours = vec![0; d.output_buffer_size().unwrap()];
            d.read_image(&mut ours).unwrap();
            assert!(&*reference == ours.as_slice(), "{w}x{h} q{quality}");
        }
    }
}
