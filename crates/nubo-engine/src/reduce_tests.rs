//! Shrink-on-load: JPEGs decoded at 1/2, 1/4 and 1/8 in the DCT domain
//! (vendored zune-jpeg) against a full decode averaged down, for every
//! sampling layout, progressive files, restart markers and odd sizes; and
//! the pipeline's output from a reduced decode against a full one.

use std::time::{Duration, Instant};

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use nubo_core::Format;
use nubo_transform::{ClientHints, Resolved, Transformation};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::golden_tests::score;
use crate::pipeline::{render, Job};
use crate::EngineLimits;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/golden/");

/// A real photo, cropped to an awkward size (not a multiple of 8 or 16).
fn photo(w: u32, h: u32) -> image::RgbImage {
    let img = image::open(format!("{DIR}coffee.jpg")).unwrap().to_rgb8();
    image::imageops::crop_imm(&img, 3, 5, w, h).to_image()
}

struct Variant {
    name: &'static str,
    sampling: SamplingFactor,
    gray: bool,
    progressive: bool,
    restart: u16,
}

fn encode(img: &image::RgbImage, v: &Variant) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out, 92);
    e.set_sampling_factor(v.sampling);
    e.set_progressive(v.progressive);
    if v.restart > 0 {
        e.set_restart_interval(v.restart);
    }
    if v.gray {
        let luma = image::DynamicImage::ImageRgb8(img.clone()).to_luma8();
        e.encode(
            &luma,
            img.width() as u16,
            img.height() as u16,
            ColorType::Luma,
        )
        .unwrap();
    } else {
        e.encode(img, img.width() as u16, img.height() as u16, ColorType::Rgb)
            .unwrap();
    }
    out
}

fn options() -> DecoderOptions {
    DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB)
}

/// Full decode, then each d×d cell averaged (partial cells at the edges
/// average what they have): what a perfect 1/d decode approximates.
fn full_then_box(bytes: &[u8], d: usize) -> (Vec<u8>, usize, usize) {
    let mut dec = JpegDecoder::new_with_options(ZCursor::new(bytes), options());
    let px = dec.decode().unwrap();
    let (w, h) = dec.dimensions().unwrap();
    let (ow, oh) = (w.div_ceil(d), h.div_ceil(d));
    let mut out = vec![0u8; ow * oh * 3];
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..3 {
                let (mut sum, mut n) = (0u32, 0u32);
                for y in oy * d..((oy + 1) * d).min(h) {
                    for x in ox * d..((ox + 1) * d).min(w) {
                        sum += px[(y * w + x) * 3 + c] as u32;
                        n += 1;
                    }
                }
                out[(oy * ow + ox) * 3 + c] = ((sum + n / 2) / n) as u8;
            }
        }
    }
    (out, ow, oh)
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

#[test]
fn scaled_decode_matches_a_full_decode_averaged_down() {
    let img = photo(301, 213);
    let variants = [
        Variant {
            name: "4:4:4",
            sampling: SamplingFactor::F_1_1,
            gray: false,
            progressive: false,
            restart: 0,
        },
        Variant {
            name: "4:2:2",
            sampling: SamplingFactor::F_2_1,
            gray: false,
            progressive: false,
            restart: 0,
        },
        Variant {
            name: "4:2:0",
            sampling: SamplingFactor::F_2_2,
            gray: false,
            progressive: false,
            restart: 0,
        },
        Variant {
            name: "4:4:0",
            sampling: SamplingFactor::F_1_2,
            gray: false,
            progressive: false,
            restart: 0,
        },
        Variant {
            name: "gray",
            sampling: SamplingFactor::F_1_1,
            gray: true,
            progressive: false,
            restart: 0,
        },
        Variant {
            name: "4:2:0 progressive",
            sampling: SamplingFactor::F_2_2,
            gray: false,
            progressive: true,
            restart: 0,
        },
        Variant {
            name: "4:4:4 progressive",
            sampling: SamplingFactor::F_1_1,
            gray: false,
            progressive: true,
            restart: 0,
        },
        Variant {
            name: "gray progressive",
            sampling: SamplingFactor::F_1_1,
            gray: true,
            progressive: true,
            restart: 0,
        },
        Variant {
            name: "4:2:0 restarts",
            sampling: SamplingFactor::F_2_2,
            gray: false,
            progressive: false,
            restart: 3,
        },
        Variant {
            name: "4:2:0 progressive restarts",
            sampling: SamplingFactor::F_2_2,
            gray: false,
            progressive: true,
            restart: 3,
        },
    ];
    for v in &variants {
        let bytes = encode(&img, v);
        for d in [2usize, 4, 8] {
            let mut dec = JpegDecoder::new_with_options(ZCursor::new(&bytes), options());
            let scaled = dec
                .decode_scaled(d)
                .unwrap()
                .unwrap_or_else(|| panic!("{}: 1/{d} not supported", v.name));
            let (reference, w, h) = full_then_box(&bytes, d);
            assert_eq!((scaled.width, scaled.height), (w, h), "{} 1/{d}", v.name);
            let p = psnr(&scaled.pixels, &reference);
            eprintln!("{} 1/{d}: {p:.1} dB", v.name);
            // A misplaced block, a swapped plane or a wrong level costs
            // far more than this; band-limiting versus box-averaging
            // differs by a little on a real photo. At 1/8 subsampled
            // chroma is kept at its own (DC) resolution and repeated, so
            // colour is coarser there by design; the resampler that
            // follows shrinks by two or more.
            let subsampled = !v.gray && !matches!(v.sampling, SamplingFactor::F_1_1);
            let floor = if d == 8 && subsampled { 30.0 } else { 34.0 };
            assert!(p > floor, "{} at 1/{d}: PSNR {p:.1} dB", v.name);
        }
    }
}

#[test]
fn scaled_decode_declines_cmyk_and_checks_its_argument() {
    let bytes = std::fs::read(format!("{DIR}cmyk.jpg")).unwrap();
    let mut dec = JpegDecoder::new_with_options(
        ZCursor::new(&bytes),
        DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::CMYK),
    );
    assert!(dec.decode_scaled(4).unwrap().is_none());
    let ok = encode(
        &photo(64, 64),
        &Variant {
            name: "",
            sampling: SamplingFactor::F_2_2,
            gray: false,
            progressive: false,
            restart: 0,
        },
    );
    let mut dec = JpegDecoder::new_with_options(ZCursor::new(&ok), options());
    assert!(dec.decode_scaled(3).is_err());
}

#[test]
fn truncated_files_do_not_panic_when_scaled() {
    let bytes = encode(
        &photo(301, 213),
        &Variant {
            name: "",
            sampling: SamplingFactor::F_2_2,
            gray: false,
            progressive: false,
            restart: 0,
        },
    );
    for cut in [200, bytes.len() / 2, bytes.len() - 10] {
        for d in [2, 4, 8] {
            let mut dec = JpegDecoder::new_with_options(ZCursor::new(&bytes[..cut]), options());
            let _ = dec.decode_scaled(d);
        }
    }
}

fn render_with(bytes: &[u8], input: Format, t: &str) -> image::DynamicImage {
    let plan = Resolved::new(
        &Transformation::parse(t).unwrap(),
        Some(Format::Png),
        input,
        &ClientHints::default(),
    );
    let job = Job {
        input_format: input,
        plan,
    };
    let out = render(
        bytes,
        &job,
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(30),
    )
    .unwrap();
    image::load_from_memory(&out.bytes).unwrap()
}

/// The same pixels as a JPEG (reduced on load) and as a PNG (never
/// reduced) give the same output size and nearly the same picture, for
/// fit, fill with gravity and a crop followed by a resize.
#[test]
fn reduced_decode_renders_like_a_full_decode() {
    let img = photo(301, 213);
    let jpeg = encode(
        &img,
        &Variant {
            name: "",
            sampling: SamplingFactor::F_2_2,
            gray: false,
            progressive: false,
            restart: 0,
        },
    );
    let decoded = image::load_from_memory(&jpeg).unwrap();
    let mut png = Vec::new();
    decoded
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    for t in [
        "w_60,c_fit",
        "w_37,h_20,c_fill,g_north_east",
        "w_30,h_30,c_thumb",
        "w_0.1,c_scale",
        "w_18,h_18,c_pad,b_red",
    ] {
        let reduced = render_with(&jpeg, Format::Jpg, t);
        let full = render_with(&png, Format::Png, t);
        assert_eq!(
            (reduced.width(), reduced.height()),
            (full.width(), full.height()),
            "{t}"
        );
        let s = score(&reduced, &full);
        eprintln!("{t}: {s:.1}");
        assert!(s > 80.0, "{t}: SSIMULACRA2 {s:.1}");
    }
}

/// A lossy WebP about to shrink four times or more is decoded without the
/// deblocking filter; the output stays close to the filtered decode's.
#[test]
fn webp_without_deblocking_renders_like_a_full_decode() {
    let img = photo(301, 213);
    let lossy = webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height())
        .encode(60.0)
        .to_vec();
    let decoded = image::load_from_memory(&lossy).unwrap();
    let mut png = Vec::new();
    decoded
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    for t in ["w_60,c_fit", "w_30,h_30,c_fill"] {
        let fast = render_with(&lossy, Format::Webp, t);
        let full = render_with(&png, Format::Png, t);
        assert_eq!(
            (fast.width(), fast.height()),
            (full.width(), full.height()),
            "{t}"
        );
        let s = score(&fast, &full);
        eprintln!("webp {t}: {s:.1}");
        assert!(s > 80.0, "{t}: SSIMULACRA2 {s:.1}");
    }
}

/// `fl_keep_iptc` carries the IPTC record of a JPEG into a JPEG derived
/// file, and only then; other Photoshop resources are dropped.
#[test]
fn keep_iptc_carries_the_iptc_record_only() {
    let img = photo(64, 48);
    let mut jpeg = Vec::new();
    let mut e = Encoder::new(&mut jpeg, 90);
    let mut irb = b"Photoshop 3.0\0".to_vec();
    irb.extend_from_slice(b"8BIM\x04\x0c\x00\x00\x00\x00\x00\x04THMB");
    irb.extend_from_slice(b"8BIM\x04\x04\x00\x00\x00\x00\x00\x0a\x1c\x02\x74\x00\x05NUBO!\x00");
    e.add_app_segment(13, irb).unwrap();
    e.encode(img.as_raw(), 64, 48, ColorType::Rgb).unwrap();
    let render = |t: &str, ext: Format| {
        let plan = Resolved::new(
            &Transformation::parse(t).unwrap(),
            Some(ext),
            Format::Jpg,
            &ClientHints::default(),
        );
        let job = Job {
            input_format: Format::Jpg,
            plan,
        };
        render(
            &jpeg,
            &job,
            &EngineLimits::default(),
            Instant::now() + Duration::from_secs(30),
        )
        .unwrap()
        .bytes
    };
    let has = |b: &[u8], needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    let kept = render("w_32,fl_keep_iptc", Format::Jpg);
    assert!(has(&kept, b"NUBO!"));
    assert!(!has(&kept, b"THMB"));
    assert!(image::load_from_memory(&kept).is_ok());
    assert!(!has(&render("w_32", Format::Jpg), b"NUBO!"));
    assert!(!has(&render("w_32,fl_keep_iptc", Format::Png), b"NUBO!"));
}
