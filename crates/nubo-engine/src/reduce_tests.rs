//! Shrink-on-load: JPEGs decoded at 1/2, 1/4 and 1/8 in the DCT domain
//! (vendored zune-jpeg) against a full decode averaged down, for every
//! sampling layout, progressive files, restart markers and odd sizes; and
//! the pipeline's output from a reduced decode against a full one; lossy
//! WebPs averaged down in YUV (vendored image-webp) likewise.

use std::time::{Duration, Instant};

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use nubo_core::Format;
use nubo_transform::{ClientHints, Resolved, Transformation};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use crate::decode::{decode, DecodeRequest, Reduce};
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

const fn variant(
    name: &'static str,
    sampling: SamplingFactor,
    gray: bool,
    progressive: bool,
    restart: u16,
) -> Variant {
    Variant {
        name,
        sampling,
        gray,
        progressive,
        restart,
    }
}

/// Baseline 4:2:0, the commonest JPEG.
const PLAIN_420: Variant = variant("4:2:0", SamplingFactor::F_2_2, false, false, 0);

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
    box_average(&px, w, h, d)
}

/// Each d×d cell of a `w`×`h` RGB picture averaged, edge cells partial.
fn box_average(px: &[u8], w: usize, h: usize, d: usize) -> (Vec<u8>, usize, usize) {
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
        variant("4:4:4", SamplingFactor::F_1_1, false, false, 0),
        variant("4:2:2", SamplingFactor::F_2_1, false, false, 0),
        PLAIN_420,
        variant("4:4:0", SamplingFactor::F_1_2, false, false, 0),
        variant("gray", SamplingFactor::F_1_1, true, false, 0),
        variant("4:2:0 progressive", SamplingFactor::F_2_2, false, true, 0),
        variant("4:4:4 progressive", SamplingFactor::F_1_1, false, true, 0),
        variant("gray progressive", SamplingFactor::F_1_1, true, true, 0),
        variant("4:2:0 restarts", SamplingFactor::F_2_2, false, false, 3),
        variant(
            "4:2:0 progressive restarts",
            SamplingFactor::F_2_2,
            false,
            true,
            3,
        ),
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
    let ok = encode(&photo(64, 64), &PLAIN_420);
    let mut dec = JpegDecoder::new_with_options(ZCursor::new(&ok), options());
    assert!(dec.decode_scaled(3).is_err());
}

/// libjpeg's progressive script ends with refinement scans carrying the
/// last bit of every AC coefficient. A 1/4 decode skips them unread (1/8
/// skips every AC scan): garbage written into the last one changes nothing
/// at 1/4 or 1/8, while a 1/2 decode reads it; and the 1/4 picture stays
/// close to a full decode averaged down.
#[test]
fn quarter_scale_skips_the_last_ac_refinement_unread() {
    let bytes = std::fs::read(format!("{DIR}coffee-progressive.jpg")).unwrap();
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
    let header = u16::from_be_bytes([bytes[last_sos + 2], bytes[last_sos + 3]]) as usize;
    let ns = bytes[last_sos + 4] as usize;
    let (ah_al, data) = (bytes[last_sos + 7 + 2 * ns], last_sos + 2 + header);
    assert_eq!(ah_al, 0x10, "the last scan refines the last bit");
    let mut scribbled = bytes.clone();
    scribbled[data + 64..data + 4096].fill(0x55);
    let scaled = |b: &[u8], d: usize| {
        let mut dec = JpegDecoder::new_with_options(ZCursor::new(b), options());
        dec.decode_scaled(d).unwrap().unwrap().pixels
    };
    for d in [4, 8] {
        assert!(
            scaled(&bytes, d) == scaled(&scribbled, d),
            "1/{d} read the scan"
        );
    }
    assert!(
        scaled(&bytes, 2) != scaled(&scribbled, 2),
        "1/2 must read it"
    );
    let (reference, _, _) = full_then_box(&bytes, 4);
    let p = psnr(&scaled(&bytes, 4), &reference);
    eprintln!("progressive 1/4 without its last AC bit: {p:.1} dB");
    assert!(p > 35.0, "{p:.1} dB");
}

/// A progressive file and its lossless baseline transcode (jpegtran) hold
/// the same coefficients, so a decoder that reads every scan right, the
/// refinement scans above all (whose correction bits the vendored crate
/// applies without branches), gives the baseline's pixels exactly: at full
/// size, at 1/2 and at 1/8 (1/4 skips the last refinement by design).
#[test]
fn progressive_refinement_decodes_as_its_baseline_transcode() {
    let progressive = std::fs::read(format!("{DIR}coffee-progressive.jpg")).unwrap();
    let baseline = std::fs::read(format!("{DIR}coffee-progressive-as-baseline.jpg")).unwrap();
    assert_ne!(progressive, baseline);
    let full = |b: &[u8]| {
        let mut dec = JpegDecoder::new_with_options(ZCursor::new(b), options());
        dec.decode().unwrap()
    };
    assert!(full(&progressive) == full(&baseline), "full size differs");
    for d in [2, 8] {
        let scaled = |b: &[u8]| {
            let mut dec = JpegDecoder::new_with_options(ZCursor::new(b), options());
            dec.decode_scaled(d).unwrap().unwrap().pixels
        };
        assert!(scaled(&progressive) == scaled(&baseline), "1/{d} differs");
    }
}

#[test]
fn truncated_files_do_not_panic_when_scaled() {
    let bytes = encode(&photo(301, 213), &PLAIN_420);
    for cut in [200, bytes.len() / 2, bytes.len() - 10] {
        for d in [2, 4, 8] {
            let mut dec = JpegDecoder::new_with_options(ZCursor::new(&bytes[..cut]), options());
            let _ = dec.decode_scaled(d);
        }
    }
}

fn render_bytes(bytes: &[u8], input: Format, t: &str, ext: Format) -> Vec<u8> {
    let plan = Resolved::new(
        &Transformation::parse(t).unwrap(),
        Some(ext),
        input,
        &ClientHints::default(),
    );
    let job = Job::new(input, plan);
    render(
        bytes,
        &job,
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(30),
    )
    .unwrap()
    .bytes
}

fn render_with(bytes: &[u8], input: Format, t: &str) -> image::DynamicImage {
    image::load_from_memory(&render_bytes(bytes, input, t, Format::Png)).unwrap()
}

/// Renders `t` from `encoded` (which may be decoded reduced) and from the
/// same decoded pixels as a PNG (never reduced): same size, and a
/// SSIMULACRA2 score above 80 between the two.
fn assert_renders_like_png(encoded: &[u8], input: Format, transformations: &[&str]) {
    let decoded = image::load_from_memory(encoded).unwrap();
    let mut png = Vec::new();
    decoded
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    for t in transformations {
        let ours = render_with(encoded, input, t);
        let full = render_with(&png, Format::Png, t);
        assert_eq!(
            (ours.width(), ours.height()),
            (full.width(), full.height()),
            "{input:?} {t}"
        );
        let s = score(&ours, &full);
        eprintln!("{input:?} {t}: {s:.1}");
        assert!(s > 80.0, "{input:?} {t}: SSIMULACRA2 {s:.1}");
    }
}

/// The same pixels as a JPEG (reduced on load) and as a PNG (never
/// reduced) give the same output size and nearly the same picture, for
/// fit, fill with gravity and a crop followed by a resize.
#[test]
fn reduced_decode_renders_like_a_full_decode() {
    let jpeg = encode(&photo(301, 213), &PLAIN_420);
    assert_renders_like_png(
        &jpeg,
        Format::Jpg,
        &[
            "w_60,c_fit",
            "w_37,h_20,c_fill,g_north_east",
            "w_30,h_30,c_thumb",
            "w_0.1,c_scale",
            "w_18,h_18,c_pad,b_red",
        ],
    );
}

/// A lossy WebP about to shrink four times or more is decoded without the
/// deblocking filter and averaged down in YUV (1/2 for w_60, 1/4 for the
/// fill, 1/8 for w_15); the output stays close to the filtered full decode's.
#[test]
fn reduced_webp_renders_like_a_full_decode() {
    let img = photo(301, 213);
    let lossy = webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height())
        .encode(60.0)
        .to_vec();
    assert_renders_like_png(
        &lossy,
        Format::Webp,
        &["w_60,c_fit", "w_30,h_30,c_fill", "w_15,c_fit"],
    );
}

/// A still WebP read for an output that could keep an animation (WebP,
/// GIF) is reduced on load as for any other output; an animated one is not.
#[test]
fn still_webp_is_reduced_whatever_the_output() {
    let fit = Transformation::parse("w_15,c_fit").unwrap();
    let decode_for_fit = |bytes: &[u8], all_frames: bool| {
        let mut req = DecodeRequest::new(Format::Webp);
        req.all_frames = all_frames;
        req.reduce = Some(Reduce {
            component: fit.components[0].clone(),
        });
        decode(bytes, &req, &EngineLimits::default()).unwrap()
    };
    let img = photo(301, 213);
    let still = webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height())
        .encode(60.0)
        .to_vec();
    for all_frames in [false, true] {
        let d = decode_for_fit(&still, all_frames);
        assert_eq!((d.logical.w, d.logical.h), img.dimensions());
        // 297 px to 15: 1/8.
        assert_eq!(d.picture.first().width, img.width().div_ceil(8));
    }
    let anim = std::fs::read(format!("{DIR}../anim.webp")).unwrap();
    let d = decode_for_fit(&anim, true);
    assert!(d.picture.frames.len() > 1);
    assert_eq!(d.picture.first().width, d.logical.w);
}

/// The vendored decoder's reduced output against its full output averaged
/// down the same way, at an odd size; and the pictures it declines.
#[test]
fn reduced_webp_matches_a_full_decode_averaged_down() {
    let webp = |bytes: &[u8]| image_webp::WebPDecoder::new(std::io::Cursor::new(bytes.to_vec()));
    let encode = |img: &image::RgbImage| {
        webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height())
            .encode(80.0)
            .to_vec()
    };
    let img = photo(301, 213);
    let (w, h) = img.dimensions();
    // The photo, and sizes whose last block row and column are partial or
    // smaller than a macroblock.
    let mut pictures = vec![img.clone()];
    for (cw, ch) in [(1, 1), (17, 3), (9, 33)] {
        pictures.push(image::imageops::crop_imm(&img, 40, 30, cw, ch).to_image());
    }
    for picture in &pictures {
        let (pw, ph) = picture.dimensions();
        let lossy = encode(picture);
        let mut dec = webp(&lossy).unwrap();
        assert_eq!((dec.dimensions(), dec.has_alpha()), ((pw, ph), false));
        let mut full = vec![0; dec.output_buffer_size().unwrap()];
        dec.set_lossy_upsampling(image_webp::UpsamplingMethod::Simple);
        dec.read_image(&mut full).unwrap();
        for d in [2, 4, 8] {
            let small = webp(&lossy)
                .unwrap()
                .read_image_reduced(d)
                .unwrap()
                .unwrap();
            let (reference, rw, rh) = box_average(&full, pw as usize, ph as usize, d as usize);
            let size = (small.width as usize, small.height as usize);
            assert_eq!(size, (rw, rh), "{pw}x{ph} 1/{d}");
            let p = psnr(&small.pixels, &reference);
            eprintln!("WebP {pw}x{ph} 1/{d}: {p:.1} dB");
            // Averaging before or after the YUV to RGB step differs by rounding.
            assert!(p > 40.0, "WebP {pw}x{ph} 1/{d}: {p:.1} dB");
        }
    }
    let lossy = encode(&img);
    assert!(webp(&lossy)
        .unwrap()
        .read_image_reduced(3)
        .unwrap()
        .is_none());
    let lossless = webp::Encoder::from_rgb(img.as_raw(), w, h)
        .encode_lossless()
        .to_vec();
    assert!(webp(&lossless)
        .unwrap()
        .read_image_reduced(2)
        .unwrap()
        .is_none());
    let mut rgba = image::DynamicImage::ImageRgb8(img).into_rgba8();
    rgba.pixels_mut().step_by(7).for_each(|p| p[3] = 128);
    let alpha = webp::Encoder::from_rgba(rgba.as_raw(), w, h)
        .encode(80.0)
        .to_vec();
    assert!(webp(&alpha)
        .unwrap()
        .read_image_reduced(2)
        .unwrap()
        .is_none());
    let truncated = &lossy[..lossy.len() * 2 / 3];
    assert!(webp(truncated).is_err() || webp(truncated).unwrap().read_image_reduced(4).is_err());
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
    let render = |t: &str, ext: Format| render_bytes(&jpeg, Format::Jpg, t, ext);
    let has = |b: &[u8], needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    let kept = render("w_32,fl_keep_iptc", Format::Jpg);
    assert!(has(&kept, b"NUBO!"));
    assert!(!has(&kept, b"THMB"));
    assert!(image::load_from_memory(&kept).is_ok());
    assert!(!has(&render("w_32", Format::Jpg), b"NUBO!"));
    assert!(!has(&render("w_32,fl_keep_iptc", Format::Png), b"NUBO!"));
}
