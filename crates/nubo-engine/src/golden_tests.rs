//! Golden images: Nubo's output against references made independently
//! with Pillow (`tests/fixtures/golden/make_goldens.py`), compared with
//! SSIMULACRA2 (higher is closer; 90+ is visually lossless). Crops of
//! the same decoded pixels score near 100; resampling by two different
//! Lanczos implementations scores lower, hence per-case thresholds.

use std::time::{Duration, Instant};

use nubo_core::Format;
use nubo_transform::{ClientHints, Resolved, Transformation};
use ssimulacra2::{compute_frame_ssimulacra2, ColorPrimaries, Rgb, TransferCharacteristic};

use crate::{render, EngineLimits, Job};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/golden/");

/// What text must score at half size (see [`text_score`]): the right
/// font scores 83-84, the wrong weight 65.
const TEXT_MIN: f64 = 75.0;

/// (reference, source, transformation, output, minimum SSIMULACRA2)
const CASES: &[(&str, &str, &str, Format, f64)] = &[
    // Layers: Pillow's Lanczos and alpha_composite for an image layer;
    // Pillow's FreeType rasteriser for text (a different rasteriser from
    // resvg's, so edges differ slightly).
    (
        "overlay-arc",
        "coffee.jpg",
        "c_scale,g_south_east,l_arc-alpha,w_100,x_10,y_10",
        Format::Png,
        85.0,
    ),
    (
        "text-roboto-bold",
        "white.png",
        "g_north_west,l_text:Roboto_40_bold:Nubo%2042%252C%20layers!,x_10,y_10",
        Format::Png,
        TEXT_MIN,
    ),
    (
        "text-serif",
        "white.png",
        "co_rgb:c80000,g_north_west,l_text:Liberation%20Serif_32:Nubo%2042%252C%20layers!,x_10,y_10",
        Format::Png,
        TEXT_MIN,
    ),
    // Face modes: references cropped by Pillow at the detector's boxes
    // (pinned against the hand labels in smart_tests.rs).
    (
        "thumb-face",
        "../faces/2009_004587.jpg",
        "c_thumb,g_face,h_100,w_100",
        Format::Png,
        85.0,
    ),
    (
        "fill-face",
        "../faces/2009_004587.jpg",
        "c_fill,g_face,h_100,w_300",
        Format::Png,
        85.0,
    ),
    (
        "fill-faces",
        "../faces/2009_004587.jpg",
        "c_fill,g_faces,h_100,w_300",
        Format::Png,
        85.0,
    ),
    (
        "crop-face",
        "../faces/2009_004587.jpg",
        "c_crop,g_face,h_160,w_160",
        Format::Png,
        92.0,
    ),
    (
        "scale",
        "coffee.jpg",
        "c_scale,h_50,w_120",
        Format::Png,
        85.0,
    ),
    ("fit", "coffee.jpg", "c_fit,h_90,w_90", Format::Png, 85.0),
    (
        "fill-north_west",
        "coffee.jpg",
        "c_fill,g_north_west,h_80,w_80",
        Format::Png,
        85.0,
    ),
    (
        "fill-center",
        "coffee.jpg",
        "c_fill,h_80,w_80",
        Format::Png,
        85.0,
    ),
    (
        "fill-east",
        "coffee.jpg",
        "c_fill,g_east,h_80,w_80",
        Format::Png,
        85.0,
    ),
    (
        "fill-north",
        "coffee.jpg",
        "c_fill,g_north,h_40,w_120",
        Format::Png,
        85.0,
    ),
    (
        "fill-south",
        "coffee.jpg",
        "c_fill,g_south,h_40,w_120",
        Format::Png,
        85.0,
    ),
    (
        "fill-south_east",
        "coffee.jpg",
        "c_fill,g_south_east,h_40,w_120",
        Format::Png,
        85.0,
    ),
    (
        "thumb-face-fallback",
        "coffee.jpg",
        "c_thumb,g_face,h_64,w_64",
        Format::Png,
        85.0,
    ),
    (
        "lfill",
        "coffee.jpg",
        "c_lfill,h_500,w_500",
        Format::Png,
        92.0,
    ),
    (
        "crop-north_west",
        "coffee.jpg",
        "c_crop,g_north_west,h_60,w_90",
        Format::Png,
        92.0,
    ),
    (
        "crop-center",
        "coffee.jpg",
        "c_crop,h_60,w_90",
        Format::Png,
        92.0,
    ),
    (
        "crop-south_east",
        "coffee.jpg",
        "c_crop,g_south_east,h_60,w_90",
        Format::Png,
        92.0,
    ),
    (
        "crop-xy",
        "coffee.jpg",
        "c_crop,g_north_west,h_60,w_90,x_30,y_40",
        Format::Png,
        92.0,
    ),
    (
        "crop-xy_center",
        "coffee.jpg",
        "c_crop,g_xy_center,h_60,w_90,x_100,y_100",
        Format::Png,
        92.0,
    ),
    (
        "pad",
        "coffee.jpg",
        "b_black,c_pad,h_100,w_100",
        Format::Png,
        85.0,
    ),
    (
        "lpad",
        "coffee.jpg",
        "b_rgb:336699,c_lpad,h_400,w_400",
        Format::Png,
        92.0,
    ),
    ("limit", "coffee.jpg", "c_limit,w_1000", Format::Png, 92.0),
    ("grayscale", "coffee.jpg", "e_grayscale", Format::Png, 90.0),
    ("negate", "coffee.jpg", "e_negate", Format::Png, 92.0),
    ("rotate90", "coffee.jpg", "a_90", Format::Png, 92.0),
    ("hflip", "coffee.jpg", "a_hflip", Format::Png, 92.0),
    // Pillow draws the ellipse and the SVG shapes without antialiasing;
    // the edges alone account for the lower scores.
    ("radius-max", "coffee.jpg", "r_max", Format::Png, 65.0),
    (
        "border",
        "coffee.jpg",
        "bo_5px_solid_red",
        Format::Png,
        92.0,
    ),
    (
        "astronaut-fill",
        "astronaut.jpg",
        "c_fill,h_60,w_100",
        Format::Png,
        85.0,
    ),
    ("png16", "astronaut16.png", "w_64", Format::Png, 85.0),
    ("alpha-to-jpeg", "arc-alpha.png", "w_100", Format::Jpg, 85.0),
    ("svg", "shapes.svg", "w_200", Format::Png, 68.0),
    ("cmyk", "cmyk.jpg", "", Format::Png, 80.0),
];

fn rgb(img: &image::DynamicImage) -> (Vec<[f32; 3]>, u32, u32) {
    // Transparent pixels are compared as they show on white.
    let rgba = img.to_rgba8();
    let px = rgba
        .pixels()
        .map(|p| {
            let a = p[3] as f32 / 255.0;
            let c = |v: u8| (v as f32 / 255.0) * a + (1.0 - a);
            [c(p[0]), c(p[1]), c(p[2])]
        })
        .collect();
    (px, rgba.width(), rgba.height())
}

pub(crate) fn score(ours: &image::DynamicImage, reference: &image::DynamicImage) -> f64 {
    let frame = |(px, w, h): (Vec<[f32; 3]>, u32, u32)| {
        Rgb::new(
            px,
            w as usize,
            h as usize,
            TransferCharacteristic::SRGB,
            ColorPrimaries::BT709,
        )
        .unwrap()
    };
    compute_frame_ssimulacra2(frame(rgb(reference)), frame(rgb(ours))).unwrap()
}

/// Two rasterisers place glyphs a fraction of a pixel apart (FreeType
/// snaps advances to the pixel grid, resvg does not), which SSIMULACRA2
/// punishes at full size on thin strokes. Text is compared at half size,
/// where such offsets average out and a wrong font, size, weight or
/// colour still scores far below the threshold.
fn text_score(ours: &image::DynamicImage, reference: &image::DynamicImage) -> f64 {
    let half = |i: &image::DynamicImage| {
        i.resize_exact(
            i.width() / 2,
            i.height() / 2,
            image::imageops::FilterType::Triangle,
        )
    };
    score(&half(ours), &half(reference))
}

fn run(source: &str, t: &str, out: Format) -> image::DynamicImage {
    let bytes = std::fs::read(format!("{DIR}{source}")).unwrap();
    let ext = source.rsplit('.').next().unwrap();
    let input = Format::from_extension(ext).unwrap();
    let plan = Resolved::new(
        &Transformation::parse(t).unwrap(),
        Some(out),
        input,
        &ClientHints::default(),
    );
    let mut job = Job::new(input, plan);
    job.layers = layer_files(&Transformation::parse(t).unwrap());
    let r = render(
        &bytes,
        &job,
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("{source} {t}: {e}"));
    image::load_from_memory(&r.bytes).unwrap()
}

/// Image layers read from the golden directory: `l_name` is `name.png`.
fn layer_files(t: &Transformation) -> crate::LayerInputs {
    let mut inputs = crate::LayerInputs::default();
    for source in nubo_transform::layer::sources(&t.components) {
        if let nubo_transform::LayerSource::Asset(a) = source {
            let bytes = std::fs::read(format!("{DIR}{}.png", a.public_id)).unwrap();
            let image = crate::LayerImage {
                bytes: bytes.into(),
                format: Format::Png,
                coordinates: Default::default(),
            };
            inputs.add_image(source, image);
        }
    }
    inputs
}

fn reference(name: &str) -> image::DynamicImage {
    image::open(format!("{DIR}ref/{name}.png")).unwrap()
}

#[test]
fn crop_modes_gravities_and_operations_match_the_references() {
    let mut failures = Vec::new();
    for &(name, source, t, out, min) in CASES {
        let ours = run(source, t, out);
        let want = reference(name);
        if (ours.width(), ours.height()) != (want.width(), want.height()) {
            failures.push(format!(
                "{name}: {}x{} instead of {}x{}",
                ours.width(),
                ours.height(),
                want.width(),
                want.height()
            ));
            continue;
        }
        let s = if name.starts_with("text-") {
            text_score(&ours, &want)
        } else {
            score(&ours, &want)
        };
        eprintln!("{name:<22} {t:<45} SSIMULACRA2 {s:6.2} (min {min})");
        if s < min {
            failures.push(format!("{name}: SSIMULACRA2 {s:.2} < {min}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_exif_orientation_comes_out_upright() {
    let upright = reference("upright");
    for tag in 1..=8 {
        let ours = run(&format!("orient-{tag}.jpg"), "", Format::Png);
        assert_eq!(
            (ours.width(), ours.height()),
            (300, 200),
            "orientation {tag}"
        );
        let s = score(&ours, &upright);
        assert!(s > 88.0, "orientation {tag}: SSIMULACRA2 {s:.2}");
    }
}

#[test]
fn a_wrong_answer_scores_low() {
    // The metric must be able to fail: a shifted crop is not the reference.
    let ours = run(
        "coffee.jpg",
        "c_crop,g_north_west,h_60,w_90,x_60,y_40",
        Format::Png,
    );
    assert!(score(&ours, &reference("crop-xy")) < 60.0);
    // Nor is the wrong weight, font or size of text, at text tolerance.
    let want = reference("text-roboto-bold");
    for wrong in ["Roboto_40", "Open%20Sans_40_bold", "Roboto_36_bold"] {
        let t = format!("g_north_west,l_text:{wrong}:Nubo%2042%252C%20layers!,x_10,y_10");
        let ours = run("white.png", &t, Format::Png);
        let s = text_score(&ours, &want);
        eprintln!("wrong text {wrong}: {s:.2}");
        assert!(s < TEXT_MIN, "{wrong} scores {s:.2}");
    }
}

#[test]
fn a_jpeg_we_write_we_can_read() {
    // Every chroma mode and progressive, and mozjpeg's progressive
    // trellis output for q_auto: decoded by our own decoder, the output
    // must stay close to the source (a broken bitstream is ~100).
    let src = image::open(format!("{DIR}coffee.jpg")).unwrap().to_rgb8();
    for t in [
        "q_80",
        "q_95",
        "q_80:422",
        "q_80,fl_progressive",
        "q_50:444",
        "q_auto:good",
        "q_auto:best",
    ] {
        let ours = run("coffee.jpg", t, Format::Jpg).to_rgb8();
        let diff: f64 = ours
            .as_raw()
            .iter()
            .zip(src.as_raw())
            .map(|(a, b)| (*a as f64 - *b as f64).abs())
            .sum::<f64>()
            / src.as_raw().len() as f64;
        assert!(diff < 8.0, "{t}: mean abs difference {diff:.1}");
    }
}
