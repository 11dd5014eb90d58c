//! Layers in the pipeline, on made-up pictures whose every pixel is known
//! (white bases, solid layers), and on a labelled face photo.

use std::time::{Duration, Instant};

use nubo_core::Format;
use nubo_transform::{ClientHints, LayerSource, Resolved, Transformation};

use crate::{render, Coordinates, EngineError, EngineLimits, Job, LayerImage, LayerInputs, Raster};

fn png(r: &Raster) -> bytes::Bytes {
    let opts = crate::EncodeOptions::new(Format::Png);
    crate::encode::encode(&crate::Picture::still(r.clone()), &opts)
        .unwrap()
        .into()
}

fn solid(w: u32, h: u32, px: [u8; 4]) -> Raster {
    Raster::new(w, h, 4, px.repeat((w * h) as usize))
}

const RED: [u8; 4] = [255, 0, 0, 255];
const WHITE: [u8; 4] = [255, 255, 255, 255];

/// Renders `t` on `base`, with `layers` stored under their public ids.
fn try_render(base: &Raster, t: &str, layers: &[(&str, Raster)]) -> crate::Result<Raster> {
    let transformation = Transformation::parse(t).unwrap();
    let plan = Resolved::new(
        &transformation,
        Some(Format::Png),
        Format::Png,
        &ClientHints::default(),
    );
    let mut job = Job::new(Format::Png, plan);
    let mut inputs = LayerInputs::default();
    for source in nubo_transform::layer::sources(&transformation.components) {
        if let LayerSource::Asset(a) = source {
            if let Some((_, r)) = layers.iter().find(|(id, _)| *id == a.public_id) {
                let image = LayerImage {
                    bytes: png(r),
                    format: Format::Png,
                    coordinates: Coordinates::default(),
                };
                inputs.add_image(source, image);
            }
        }
    }
    job.layers = inputs;
    let r = render(
        &png(base),
        &job,
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(60),
    )?;
    let img = image::load_from_memory(&r.bytes).unwrap().to_rgba8();
    Ok(Raster::new(img.width(), img.height(), 4, img.into_raw()))
}

fn draw(base: &Raster, t: &str, layers: &[(&str, Raster)]) -> Raster {
    try_render(base, t, layers).unwrap_or_else(|e| panic!("{t}: {e}"))
}

/// The bounding box of pixels matching `f`.
fn bbox(r: &Raster, f: impl Fn([u8; 4]) -> bool) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for y in 0..r.height {
        for x in 0..r.width {
            if f(r.pixel(x, y)) {
                let (x0, y0, x1, y1) = b.unwrap_or((x, y, x, y));
                b = Some((x0.min(x), y0.min(y), x1.max(x), y1.max(y)));
            }
        }
    }
    b
}

fn is_red(p: [u8; 4]) -> bool {
    p[0] > 200 && p[1] < 60 && p[2] < 60 && p[3] > 200
}

#[test]
fn gravity_and_offsets_place_the_layer() {
    let base = solid(100, 80, WHITE);
    let logo = solid(20, 10, RED);
    let out = draw(
        &base,
        "l_logo,g_north_east,x_5,y_7",
        &[("logo", logo.clone())],
    );
    assert_eq!((out.width, out.height), (100, 80));
    assert_eq!(bbox(&out, is_red), Some((75, 7, 94, 16)));
    let out = draw(&base, "l_logo", &[("logo", logo.clone())]);
    assert_eq!(
        bbox(&out, is_red),
        Some((40, 35, 59, 44)),
        "centred by default"
    );
    // The layer's own size keys transform it, not the base.
    let out = draw(&base, "l_logo,w_40,c_scale,g_south_west", &[("logo", logo)]);
    assert_eq!((out.width, out.height), (100, 80));
    assert_eq!(bbox(&out, is_red), Some((0, 60, 39, 79)));
}

#[test]
fn layers_past_the_edge_grow_the_canvas_unless_no_overflow() {
    let base = solid(100, 80, WHITE);
    let logo = solid(20, 20, RED);
    let grown = draw(
        &base,
        "l_logo,g_north_west,x_-10,y_-5",
        &[("logo", logo.clone())],
    );
    assert_eq!((grown.width, grown.height), (110, 85));
    assert_eq!(bbox(&grown, is_red), Some((0, 0, 19, 19)));
    assert_eq!(grown.pixel(109, 84), WHITE, "the base moved by the growth");
    assert_eq!(grown.pixel(105, 2)[3], 0, "new canvas is transparent");
    let cut = draw(
        &base,
        "l_logo,g_north_west,x_-10,y_-5,fl_no_overflow",
        &[("logo", logo)],
    );
    assert_eq!((cut.width, cut.height), (100, 80));
    assert_eq!(bbox(&cut, is_red), Some((0, 0, 9, 14)));
}

#[test]
fn relative_sizes_are_fractions_of_the_base() {
    let base = solid(200, 100, WHITE);
    let logo = solid(10, 10, RED);
    let out = draw(
        &base,
        "l_logo,w_0.5,h_0.2,c_scale,fl_relative",
        &[("logo", logo.clone())],
    );
    let (x0, y0, x1, y1) = bbox(&out, is_red).unwrap();
    assert_eq!((x1 - x0 + 1, y1 - y0 + 1), (100, 20));
    // Without the flag, a fraction is of the layer itself.
    let out = draw(&base, "l_logo,w_2.0,c_scale", &[("logo", logo)]);
    let (x0, _, x1, _) = bbox(&out, is_red).unwrap();
    assert_eq!(x1 - x0 + 1, 20);
}

#[test]
fn layer_apply_groups_components_for_the_layer() {
    let base = solid(100, 100, WHITE);
    let logo = solid(10, 10, RED);
    let t = "l_logo/c_scale,w_30/e_grayscale/fl_layer_apply,g_south,y_4/c_crop,w_50,h_100,g_south";
    let out = draw(&base, t, &[("logo", logo)]);
    assert_eq!(
        (out.width, out.height),
        (50, 100),
        "the apply component's crop runs after"
    );
    assert_eq!(bbox(&out, is_red), None, "grayscale ran on the layer");
    let gray = bbox(&out, |p| p[0] < 120 && p[0] == p[1] && p[1] == p[2]).unwrap();
    assert_eq!(gray, (10, 66, 39, 95));
}

#[test]
fn underlays_show_through_transparency() {
    // A base with a transparent left half.
    let mut base = solid(40, 20, WHITE);
    for y in 0..20 {
        for x in 0..20 {
            let i = ((y * 40 + x) * 4) as usize;
            base.data[i + 3] = 0;
        }
    }
    let bg = solid(40, 20, RED);
    let out = draw(&base, "u_bg", &[("bg", bg)]);
    assert_eq!(out.pixel(5, 5), RED);
    assert_eq!(out.pixel(30, 5), WHITE, "the base stays on top");
}

#[test]
fn tiles_cover_the_picture() {
    let base = solid(100, 50, WHITE);
    let dot = solid(10, 10, RED);
    let out = draw(
        &base,
        "l_dot,fl_tiled,g_north_west,x_10,y_15",
        &[("dot", dot)],
    );
    assert_eq!((out.width, out.height), (100, 50));
    // Tiles every 20 px across and 25 px down, starting at the corner.
    for (x, y, red) in [
        (0, 0, true),
        (15, 5, false),
        (25, 30, true),
        (95, 45, false),
        (85, 27, true),
    ] {
        assert_eq!(is_red(out.pixel(x, y)), red, "({x}, {y})");
    }
}

#[test]
fn blend_modes_mix_colours() {
    let base = solid(20, 20, [200, 100, 50, 255]);
    let gray = solid(20, 20, [128, 128, 128, 255]);
    let m = draw(
        &base,
        "l_g/fl_layer_apply,e_multiply",
        &[("g", gray.clone())],
    );
    assert_eq!(&m.pixel(10, 10)[..3], &[100, 50, 25]);
    let s = draw(&base, "l_g,e_screen", &[("g", gray.clone())]);
    assert_eq!(&s.pixel(10, 10)[..3], &[228, 178, 153]);
    // A mask keeps the base only under the layer.
    let big = solid(40, 40, WHITE);
    let masked = draw(&big, "l_g,e_mask,g_north_west", &[("g", gray)]);
    assert_eq!(masked.pixel(5, 5), WHITE);
    assert_eq!(masked.pixel(30, 30)[3], 0);
}

#[test]
fn text_layers_draw_in_their_colour_and_wrap() {
    let base = solid(400, 200, WHITE);
    let out = draw(
        &base,
        "l_text:Roboto_40_bold:Hello,co_rgb:ff0000,g_north_west,x_10,y_10",
        &[],
    );
    let (x0, y0, x1, y1) = bbox(&out, is_red).unwrap();
    assert!(
        (10..=13).contains(&x0) && (10..=13).contains(&y0),
        "{x0} {y0}"
    );
    assert!(
        x1 - x0 > 80 && y1 - y0 > 20,
        "a word of 40 px type: {x0} {y0} {x1} {y1}"
    );
    let t = "l_text:Arial_24:The%20quick%20brown%20fox%20jumps%20over%20the%20lazy%20dog,c_fit,w_120,co_red,g_north_west";
    let wrapped = draw(&base, t, &[]);
    let (x0, _, x1, y1) = bbox(&wrapped, is_red).unwrap();
    assert!(x1 - x0 < 120, "wrapped inside the width");
    assert!(y1 > 90, "on several lines: {y1}");
}

#[test]
fn a_layer_per_face_with_region_relative_size() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/faces/");
    let photo = image::open(format!("{dir}2009_004587.jpg"))
        .unwrap()
        .to_rgba8();
    let base = Raster::new(photo.width(), photo.height(), 4, photo.into_raw());
    let patch = solid(10, 10, [0, 255, 0, 255]);
    let out = draw(
        &base,
        "l_patch,g_faces,w_1.0,h_1.0,c_scale,fl_region_relative",
        &[("patch", patch)],
    );
    assert_eq!((out.width, out.height), (base.width, base.height));
    let green = |p: [u8; 4]| p[1] > 240 && p[0] < 15 && p[2] < 15;
    // Both labelled faces are covered at their centres.
    for (cx, cy) in [(191, 84), (297, 311)] {
        assert!(green(out.pixel(cx, cy)), "face at ({cx}, {cy})");
    }
    assert!(!green(out.pixel(20, 480)), "nothing away from the faces");
}

#[test]
fn missing_inputs_and_oversized_canvases_are_errors() {
    let base = solid(50, 50, WHITE);
    let e = try_render(&base, "l_nowhere", &[]).unwrap_err();
    assert!(
        matches!(e, EngineError::BadRequest(ref m) if m.contains("nowhere")),
        "{e}"
    );
    let e = try_render(&base, "l_text:Comic%20Sans_20:hi", &[]).unwrap_err();
    assert!(e.to_string().contains("Unknown font family"), "{e}");
    let e = try_render(&base, "l_text:style_one:hi", &[]).unwrap_err();
    assert!(
        e.to_string().contains("Text style style_one not found"),
        "{e}"
    );
    let logo = solid(10, 10, RED);
    let e = try_render(
        &base,
        "l_logo,x_99999,y_99999,g_north_west",
        &[("logo", logo)],
    )
    .unwrap_err();
    assert!(matches!(e, EngineError::TooLarge(_)), "{e}");
}

#[test]
fn a_border_around_a_transparent_layer_is_a_frame() {
    let base = solid(60, 60, WHITE);
    let mut logo = solid(20, 20, [0, 0, 0, 0]);
    for y in 8..12 {
        for x in 8..12 {
            let i = ((y * 20 + x) * 4) as usize;
            logo.data[i..i + 4].copy_from_slice(&RED);
        }
    }
    let out = draw(&base, "l_logo,bo_2px_solid_black", &[("logo", logo)]);
    // The layer is 24×24 with its frame, centred at (18, 18).
    assert_eq!(&out.pixel(18, 18)[..3], &[0, 0, 0], "frame");
    assert_eq!(out.pixel(22, 22), WHITE, "inside the frame the base shows");
    assert!(is_red(out.pixel(30, 30)));
}

#[test]
fn cutter_layers_keep_the_picture_where_they_are_opaque() {
    let big = solid(40, 40, WHITE);
    let gray = solid(20, 20, [128, 128, 128, 255]);
    for t in [
        "l_g,fl_cutter,g_north_west",
        "l_g/fl_cutter.layer_apply,g_north_west",
    ] {
        let cut = draw(&big, t, &[("g", gray.clone())]);
        assert_eq!((cut.width, cut.height), (40, 40), "{t}");
        assert_eq!(cut.pixel(5, 5), WHITE, "{t}: kept under the layer");
        assert_eq!(cut.pixel(30, 30)[3], 0, "{t}: cut elsewhere");
    }
    // Text cuts the picture to its letters.
    let red = solid(300, 100, RED);
    let letters = draw(&red, "l_text:Roboto_60_bold:HI,fl_cutter", &[]);
    let opaque = letters.data.chunks_exact(4).filter(|p| p[3] == 255).count();
    let total = (letters.width * letters.height) as usize;
    assert!(opaque > 500 && opaque < total / 4, "{opaque} of {total}");
    assert_eq!(letters.pixel(0, 0)[3], 0);
}

#[test]
fn text_no_trim_keeps_the_line_box_and_disallow_overflow_refuses() {
    let base = solid(400, 200, WHITE);
    let boxed = |flags: &str| {
        let t = format!("l_text:Roboto_40:ace,b_rgb:ff0000,co_white,g_north_west{flags}");
        let (x0, y0, x1, y1) = bbox(&draw(&base, &t, &[]), is_red).unwrap();
        (x1 - x0 + 1, y1 - y0 + 1)
    };
    let (tw, th) = boxed("");
    let (nw, nh) = boxed(",fl_text_no_trim");
    // "ace" has no ascenders or descenders: its ink is far shorter than
    // a 40 px line.
    assert!(th < 32 && nh >= 40, "trimmed {th}, line box {nh}");
    assert!(nw >= tw, "{nw} >= {tw}");
    let long =
        "l_text:Arial_24:The%20quick%20brown%20fox%20jumps%20over%20the%20lazy%20dog,c_fit,w_120";
    for (h, ok) in [("h_30", false), ("h_300", true)] {
        let t = format!("{long},{h},fl_text_disallow_overflow");
        let r = try_render(&base, &t, &[]);
        assert_eq!(r.is_ok(), ok, "{t}: {:?}", r.err());
        if let Err(e) = r {
            assert!(matches!(e, EngineError::BadRequest(_)), "{e}");
            assert!(e.to_string().contains("fit in a height of 30"), "{e}");
        }
    }
    // Without the flag the text is cut to the lines that fit.
    assert!(try_render(&base, &format!("{long},h_30"), &[]).is_ok());
}

#[test]
fn displacement_maps_move_the_pixels_under_them() {
    // A horizontal ramp: each column's red is its x times 6.
    let mut ramp = solid(40, 20, WHITE);
    for y in 0..20 {
        for x in 0..40 {
            let i = ((y * 40 + x) * 4) as usize;
            ramp.data[i] = (x * 6) as u8;
        }
    }
    let right = solid(20, 20, [0, 128, 0, 255]);
    let left = solid(20, 20, [255, 128, 0, 255]);
    let clear = solid(20, 20, [0, 128, 0, 0]);
    let layers = [("r", right), ("l", left), ("c", clear)];
    let t = |map: &str| format!("l_{map}/fl_layer_apply,e_displace,x_5,g_north_west");
    let moved = draw(&ramp, &t("r"), &layers);
    assert_eq!(
        (moved.width, moved.height),
        (40, 20),
        "the map is not drawn"
    );
    // Red 0 with x 5 pulls each pixel from 5 columns to its left.
    assert_eq!(moved.pixel(10, 10)[0], ramp.pixel(5, 10)[0]);
    assert_eq!(moved.pixel(30, 10), ramp.pixel(30, 10), "outside the map");
    let back = draw(&ramp, &t("l"), &layers);
    let got = back.pixel(10, 10)[0] as i32;
    assert!((got - ramp.pixel(15, 10)[0] as i32).abs() <= 1, "{got}");
    assert_eq!(
        draw(&ramp, &t("c"), &layers),
        ramp,
        "a transparent map moves nothing"
    );
    // x on a displacement is its reach, not the map's position.
    let far = draw(
        &ramp,
        "l_r/fl_layer_apply,e_displace,x_10,g_north_west",
        &layers,
    );
    assert_eq!(far.pixel(15, 10)[0], ramp.pixel(5, 10)[0]);
}

#[test]
fn anti_removal_warps_the_layer_deterministically() {
    let base = solid(80, 80, WHITE);
    let mut logo = solid(40, 40, RED);
    for y in 10..30 {
        for x in 10..30 {
            let i = ((y * 40 + x) * 4) as usize;
            logo.data[i..i + 4].copy_from_slice(&[0, 0, 255, 255]);
        }
    }
    let layers = [("logo", logo)];
    let plain = draw(&base, "l_logo", &layers);
    let warped = draw(&base, "l_logo,e_anti_removal", &layers);
    assert_eq!((warped.width, warped.height), (80, 80));
    assert_eq!(warped, draw(&base, "l_logo,e_anti_removal", &layers));
    let differs = |a: &Raster, b: &Raster| {
        a.data
            .chunks_exact(4)
            .zip(b.data.chunks_exact(4))
            .filter(|(p, q)| p != q)
            .count()
    };
    let light = draw(&base, "l_logo,e_anti_removal:10", &layers);
    let (soft, strong) = (differs(&plain, &light), differs(&plain, &warped));
    assert!(soft > 50 && strong > soft, "{soft} {strong}");
    // Still recognisably the logo: mostly red over its square.
    let (x0, y0, x1, y1) = bbox(&warped, is_red).unwrap();
    assert!(
        x0 >= 18 && y0 >= 18 && x1 <= 61 && y1 <= 61,
        "{x0} {y0} {x1} {y1}"
    );
}

#[test]
fn text_layers_put_in_variables() {
    let base = solid(300, 100, WHITE);
    let same = |a: &str, b: &str| assert_eq!(draw(&base, a, &[]), draw(&base, b, &[]), "{a}");
    same(
        "$t_!Hi there!/l_text:Roboto_40:$(t)",
        "l_text:Roboto_40:Hi%20there",
    );
    same(
        "$n_5_mul_3/l_text:Roboto_40:n=$(n)",
        "l_text:Roboto_40:n=15",
    );
    // Not a variable's name: drawn as written, not refused.
    assert!(try_render(&base, "l_text:Roboto_40:$(1%20a)", &[]).is_ok());
    let missing = try_render(&base, "l_text:Roboto_40:$(nope)", &[]);
    assert!(
        matches!(&missing, Err(EngineError::BadRequest(m)) if m.contains("$nope")),
        "{missing:?}"
    );
}

/// A GIF of solid frames, 100 ms each.
fn animation(w: u32, h: u32, colours: &[[u8; 4]]) -> crate::Picture {
    crate::Picture {
        frames: colours
            .iter()
            .map(|c| crate::raster::Frame {
                raster: solid(w, h, *c),
                delay_ms: 100,
            })
            .collect(),
        loop_count: 0,
    }
}

/// Renders `t` on `base` to GIF with the animated layer `anim`; returns
/// the frames' centre pixels.
fn animated_centres(base: &crate::Picture, t: &str, anim: &crate::Picture) -> Vec<[u8; 4]> {
    let gif = |p: &crate::Picture| -> bytes::Bytes {
        crate::encode::encode(p, &crate::EncodeOptions::new(Format::Gif))
            .unwrap()
            .into()
    };
    let transformation = Transformation::parse(t).unwrap();
    let plan = Resolved::new(
        &transformation,
        Some(Format::Gif),
        Format::Gif,
        &ClientHints::default(),
    );
    let mut job = Job::new(Format::Gif, plan);
    for source in nubo_transform::layer::sources(&transformation.components) {
        let image = LayerImage {
            bytes: gif(anim),
            format: Format::Gif,
            coordinates: Coordinates::default(),
        };
        job.layers.add_image(source, image);
    }
    let r = render(
        &gif(base),
        &job,
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("{t}: {e}"));
    use image::AnimationDecoder;
    let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(r.bytes))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    frames
        .iter()
        .map(|f| {
            let b = f.buffer();
            b.get_pixel(b.width() / 2, b.height() / 2).0
        })
        .collect()
}

#[test]
fn animated_layers_keep_moving() {
    const BLUE: [u8; 4] = [0, 0, 255, 255];
    let anim = animation(10, 10, &[RED, BLUE]);
    // A still picture takes the layer's frames.
    let still = animation(40, 40, &[WHITE]);
    assert_eq!(animated_centres(&still, "l_anim", &anim), [RED, BLUE]);
    // An animated one keeps its own count; the layer loops over it.
    let three = animation(40, 40, &[WHITE, WHITE, WHITE]);
    assert_eq!(animated_centres(&three, "l_anim", &anim), [RED, BLUE, RED]);
    // Away from the layer the picture is untouched.
    let off = animated_centres(&still, "l_anim,g_north_west", &anim);
    assert_eq!(off, [WHITE, WHITE]);
}
