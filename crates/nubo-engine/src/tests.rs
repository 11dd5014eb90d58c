//! End-to-end engine tests on the committed fixtures.

use std::time::{Duration, Instant};

use nubo_core::Format;
use nubo_transform::{ClientHints, Resolved, Transformation};

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/");
    std::fs::read(format!("{path}{name}")).unwrap()
}

fn run(
    bytes: &[u8],
    input: Format,
    t: &str,
    ext: Option<Format>,
    accept: &str,
) -> Result<Rendered> {
    let plan = Resolved::new(
        &Transformation::parse(t).unwrap(),
        ext,
        input,
        &ClientHints::from_headers(Some(accept), None),
    );
    render(
        bytes,
        &Job::new(input, plan),
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(30),
    )
}

fn dims(r: &Rendered) -> (u32, u32) {
    let img = image::load_from_memory(&r.bytes).unwrap();
    (img.width(), img.height())
}

#[test]
fn resize_and_convert_every_input_format() {
    for (name, fmt) in [
        ("photo.jpg", Format::Jpg),
        ("alpha.png", Format::Png),
        ("anim.gif", Format::Gif),
        ("still.webp", Format::Webp),
        ("anim.webp", Format::Webp),
        ("image.bmp", Format::Bmp),
        ("icon.ico", Format::Ico),
        ("pages.tiff", Format::Tiff),
        ("drawing.svg", Format::Svg),
    ] {
        let out = run(
            &fixture(name),
            fmt,
            "c_scale,w_10,h_8",
            Some(Format::Png),
            "*/*",
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out.format, Some(Format::Png), "{name}");
        assert_eq!(dims(&out), (10, 8), "{name}");
    }
}

#[test]
fn every_output_format_decodes_back() {
    let src = fixture("photo.jpg");
    for fmt in [
        Format::Jpg,
        Format::Png,
        Format::Webp,
        Format::Gif,
        Format::Bmp,
        Format::Tiff,
        Format::Ico,
    ] {
        let out = run(&src, Format::Jpg, "w_16,h_12,c_fill", Some(fmt), "*/*").unwrap();
        assert_eq!(out.format, Some(fmt));
        assert_eq!(dims(&out), (16, 12), "{fmt:?}");
    }
    let avif = run(&src, Format::Jpg, "w_16", Some(Format::Avif), "*/*").unwrap();
    assert_eq!(&avif.bytes[4..12], b"ftypavif");
}

#[test]
fn exif_orientation_is_applied_unless_ignored() {
    let src = fixture("rotated.jpg");
    let probe = probe_reader(
        &mut std::io::Cursor::new(&src),
        ProbeLimits {
            max_pixels: 1 << 30,
            max_frames: 1000,
        },
    )
    .unwrap();
    let Probe::Image(info) = probe else { panic!() };
    let upright = run(&src, Format::Jpg, "e_negate", None, "*/*").unwrap();
    assert_eq!(dims(&upright), (info.width, info.height));
    let raw = run(&src, Format::Jpg, "a_ignore", None, "*/*").unwrap();
    assert_eq!(dims(&raw), (info.height, info.width));
}

fn transparent_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(8, 8, |x, _| image::Rgba([255, 0, 0, (x * 30) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn auto_format_picks_from_accept_and_alpha() {
    let jpg = fixture("photo.jpg");
    let png = transparent_png();
    let f = |b: &[u8], i, a| run(b, i, "f_auto,w_8", None, a).unwrap().format.unwrap();
    assert_eq!(f(&jpg, Format::Jpg, "image/avif,image/webp"), Format::Avif);
    assert_eq!(f(&jpg, Format::Jpg, "image/webp"), Format::Webp);
    assert_eq!(f(&jpg, Format::Jpg, "*/*"), Format::Jpg);
    assert_eq!(f(&png, Format::Png, "*/*"), Format::Png);
}

#[test]
fn animation_survives_gif_to_webp() {
    let out = run(
        &fixture("anim.gif"),
        Format::Gif,
        "w_8",
        Some(Format::Webp),
        "*/*",
    )
    .unwrap();
    let d = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&out.bytes)).unwrap();
    assert!(d.has_animation());
    use image::AnimationDecoder;
    let frames = d.into_frames().collect_frames().unwrap();
    assert!(frames.len() > 1);
    // pg_ picks one frame and the result is still.
    let still = run(
        &fixture("anim.gif"),
        Format::Gif,
        "pg_2",
        Some(Format::Webp),
        "*/*",
    )
    .unwrap();
    let d = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&still.bytes)).unwrap();
    assert!(!d.has_animation());
}

#[test]
fn limits_refuse_before_decoding() {
    let limits = EngineLimits {
        max_input_pixels: 10,
        ..EngineLimits::default()
    };
    let plan = Resolved::new(
        &Transformation::default(),
        None,
        Format::Jpg,
        &ClientHints::default(),
    );
    let job = Job::new(Format::Jpg, plan);
    let err = render(
        &fixture("photo.jpg"),
        &job,
        &limits,
        Instant::now() + Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(matches!(err, EngineError::TooLarge(_)), "{err}");
    let out = run(
        &fixture("photo.jpg"),
        Format::Jpg,
        "w_60000,h_60000",
        None,
        "*/*",
    )
    .unwrap_err();
    assert!(matches!(out, EngineError::TooLarge(_)), "{out}");
}

#[test]
fn garbage_and_unsupported_inputs_are_errors_not_panics() {
    let err = run(b"\xff\xd8\xff\xe0garbage", Format::Jpg, "w_10", None, "*/*").unwrap_err();
    assert!(matches!(err, EngineError::InvalidImage(_)), "{err}");
    // A real file's AV1 item relabelled as a grid: its data is no grid
    // payload, so it is a bad image, not an unsupported one.
    let mut grid = fixture("image.avif");
    let at = grid.windows(4).position(|w| w == b"av01").unwrap();
    grid[at..at + 4].copy_from_slice(b"grid");
    let err = run(&grid, Format::Avif, "w_10", None, "*/*").unwrap_err();
    assert!(
        matches!(&err, EngineError::InvalidImage(m) if m.contains("grid")),
        "{err}"
    );
}

#[test]
fn avif_input_is_transformed() {
    let out = run(
        &fixture("image.avif"),
        Format::Avif,
        "w_10",
        Some(Format::Png),
        "*/*",
    )
    .unwrap();
    let img = image::load_from_memory(&out.bytes).unwrap();
    assert_eq!((img.width(), img.height()), (10, 8));
}

#[test]
fn getinfo_returns_json() {
    let out = run(
        &fixture("photo.jpg"),
        Format::Jpg,
        "w_10,fl_getinfo",
        None,
        "*/*",
    )
    .unwrap();
    assert!(out.format.is_none());
    let v: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
    assert_eq!(v["output"]["width"], 10);
}

#[test]
fn svg_hrefs_to_files_are_not_followed() {
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="20" height="20"><image width="20" height="20" xlink:href="/etc/passwd"/><image width="20" height="20" xlink:href="file:///tmp/x.png"/></svg>"#;
    let out = run(svg, Format::Svg, "w_20", Some(Format::Png), "*/*").unwrap();
    let img = image::load_from_memory(&out.bytes).unwrap().to_rgba8();
    assert!(img.pixels().all(|p| p[3] == 0), "nothing may be drawn");
}

#[tokio::test]
async fn the_pool_times_out_and_survives() {
    let engine = Engine::new(
        EngineLimits {
            time_budget: Duration::from_millis(1),
            ..EngineLimits::default()
        },
        1,
    );
    let plan = Resolved::new(
        &Transformation::parse("e_oil_paint:100/e_oil_paint:100/e_oil_paint:100").unwrap(),
        None,
        Format::Jpg,
        &ClientHints::default(),
    );
    let job = Job::new(Format::Jpg, plan);
    let err = engine
        .render(bytes::Bytes::from(fixture("photo.jpg")), job)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Timeout(_)), "{err}");
}

#[test]
fn colour_effects_run_in_the_pipeline() {
    let photo = fixture("photo.jpg");
    let png = |t: &str| {
        let r = run(&photo, Format::Jpg, t, Some(Format::Png), "*/*").unwrap();
        image::load_from_memory(&r.bytes).unwrap().to_rgba8()
    };
    // The fade sizes like any component (x does not move a crop) and
    // leaves the top transparent, the bottom untouched.
    let faded = png("c_scale,w_20,e_gradient_fade,y_0.5");
    assert_eq!(faded.dimensions(), (20, 15));
    assert!(faded.get_pixel(10, 0)[3] < 40);
    assert_eq!(faded.get_pixel(10, 14)[3], 255);
    let padded = png("b_red,c_scale,e_gradient_fade:symmetric_pad,w_20,x_0.5");
    assert_eq!(padded.dimensions(), (20, 15));
    let edge = padded.get_pixel(0, 7);
    assert!(edge[0] > 200 && edge[1] < 80, "{edge:?}");
    // Replacing the predominant colour changes most of the picture.
    let plain = png("c_scale,w_20");
    let replaced = png("c_scale,w_20/e_replace_color:rgb:00ff00:60");
    let changed = plain
        .pixels()
        .zip(replaced.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(changed > 20, "{changed} pixels changed");
    let xray = png("c_scale,w_20/e_assist_colorblind:xray");
    assert_ne!(xray, plain);
}

#[test]
fn shadows_and_outlines_grow_the_canvas_in_the_pipeline() {
    let photo = fixture("photo.jpg");
    let png = |t: &str| {
        let r = run(&photo, Format::Jpg, t, Some(Format::Png), "*/*").unwrap();
        image::load_from_memory(&r.bytes).unwrap().to_rgba8()
    };
    // 40×30 scaled to 20×15; the shadow falls 4 px right and down and
    // its x/y do not crop.
    let shadowed = png("c_scale,w_20,co_black,e_shadow:0,x_4,y_4");
    assert_eq!(shadowed.dimensions(), (20 + 4 + 3, 15 + 4 + 3));
    assert_eq!(
        shadowed.get_pixel(26, 0)[3],
        0,
        "no shadow above its offset"
    );
    assert!(
        shadowed.get_pixel(22, 17)[3] > 50,
        "shadow below the corner"
    );
    let outlined = png("c_scale,w_20,co_blue,e_outline:2");
    assert_eq!(outlined.dimensions(), (24, 19));
    assert_eq!(outlined.get_pixel(1, 9).0, [0, 0, 255, 255]);
    assert!(outlined.get_pixel(0, 9)[3] < 255, "antialiased outer edge");
    // A canvas over the output limit is refused before it is drawn: a
    // 90×90 picture fits 10,000 pixels, its 110×110 outline does not.
    let plan = Resolved::new(
        &Transformation::parse("w_90,h_90,c_scale/e_outline:10:200").unwrap(),
        Some(Format::Png),
        Format::Jpg,
        &ClientHints::default(),
    );
    let small = EngineLimits {
        max_output_pixels: 10_000,
        ..EngineLimits::default()
    };
    let huge = render(
        &photo,
        &Job::new(Format::Jpg, plan),
        &small,
        Instant::now() + Duration::from_secs(600),
    );
    assert!(matches!(huge, Err(EngineError::TooLarge(_))), "{huge:?}");
}

#[test]
fn q_auto_measures_animations_and_avif() {
    // An animation is measured on its first frame and stays animated;
    // the levels order the qualities found.
    let anim = fixture("anim.gif");
    let quality = |t: &str, ext| {
        let out = run(&anim, Format::Gif, t, Some(ext), "*/*").unwrap();
        (
            out.quality.expect("a lossy output reports its quality"),
            out,
        )
    };
    let (good, out) = quality("w_64,q_auto:good", Format::Webp);
    let d = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&out.bytes)).unwrap();
    assert!(d.has_animation());
    let (low, _) = quality("w_64,q_auto:low", Format::Webp);
    let (best, _) = quality("w_64,q_auto:best", Format::Webp);
    assert!(
        low <= good && good <= best && low < best,
        "{low} {good} {best}"
    );
    // AVIF is searched too (on the encoder's reconstruction): one level
    // gives flat colour a lower quality than a detailed photo.
    let avif = |bytes: &[u8], input, t: &str| {
        run(bytes, input, t, Some(Format::Avif), "*/*")
            .unwrap()
            .quality
            .unwrap()
    };
    let photo = fixture("photo.jpg");
    let (low, best) = (
        avif(&photo, Format::Jpg, "w_200,q_auto:low"),
        avif(&photo, Format::Jpg, "w_200,q_auto:best"),
    );
    assert!(low < best, "{low} {best}");
    let smooth = image::RgbImage::from_fn(200, 150, |x, y| {
        let inside = (50..150).contains(&x) && (40..110).contains(&y);
        image::Rgb(if inside {
            [30, 90, 200]
        } else {
            [240, 220, 180]
        })
    });
    let mut png = std::io::Cursor::new(Vec::new());
    smooth.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let flat = avif(png.get_ref(), Format::Png, "w_200,q_auto:good");
    let detailed = avif(&photo, Format::Jpg, "w_200,q_auto:good");
    assert!(flat < detailed, "smooth {flat} vs photo {detailed}");
}

#[test]
fn a_large_svg_is_drawn_near_the_size_it_is_made_into() {
    // A 2000×1000 drawing with fine detail (1-px lines every 8 px).
    let lines: String = (0..250)
        .map(|i| {
            format!(
                r#"<rect x="{}" y="0" width="1" height="1000" fill="black"/>"#,
                i * 8
            )
        })
        .collect();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="1000"><rect width="2000" height="1000" fill="#fff"/>{lines}<circle cx="600" cy="500" r="400" fill="#c03"/><rect x="1100" y="200" width="700" height="600" fill="#06c" transform="rotate(10 1450 500)"/></svg>"##
    );
    let limits = EngineLimits::default();
    let first = |t: &str| Transformation::parse(t).unwrap().components[0].clone();
    let mut req = decode::DecodeRequest::new(Format::Svg);
    req.reduce = Some(decode::Reduce {
        component: first("w_100"),
    });
    let drawn = svg::rasterize(svg.as_bytes(), &req, &limits).unwrap();
    assert_eq!(drawn.logical, nubo_transform::Size::new(2000, 1000));
    assert_eq!((drawn.picture.width(), drawn.picture.height()), (200, 100));
    // No shrink, no reduction: c_crop keeps pixels as they are.
    req.reduce = Some(decode::Reduce {
        component: first("c_crop,w_1500"),
    });
    let whole = svg::rasterize(svg.as_bytes(), &req, &limits).unwrap();
    assert_eq!(whole.picture.width(), 2000);

    // The thumbnail matches one resampled from the full drawing.
    let out = run(
        svg.as_bytes(),
        Format::Svg,
        "w_100",
        Some(Format::Png),
        "*/*",
    )
    .unwrap();
    let got = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
    assert_eq!(got.dimensions(), (100, 50));
    let got = raster::Raster::new(100, 50, 3, got.into_raw());
    let full = svg::rasterize(
        svg.as_bytes(),
        &decode::DecodeRequest::new(Format::Svg),
        &limits,
    )
    .unwrap();
    // Opaque: the white background covers it, so RGBA reads as RGB.
    let want = resize::resample(full.picture.first(), None, 100, 50).unwrap();
    let s = qauto::score(&want, &got);
    assert!(s > 85.0, "SSIMULACRA2 {s:.1} against the full drawing");
}
