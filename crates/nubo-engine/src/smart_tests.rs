//! Face detection and content-aware crops on real photos: two PASCAL VOC
//! pictures with hand-labelled face boxes (from dlib's examples, see
//! `tests/fixtures/faces/README.md`).

use std::time::{Duration, Instant};

use nubo_core::Format;
use nubo_transform::{ClientHints, Region, Resolved, Transformation};

use crate::{faces, render, Coordinates, EngineLimits, Job, Raster};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/faces/");

/// 400×500, two people: labelled faces, the larger first.
const PAIR: &str = "2009_004587.jpg";
const PAIR_FACES: [[f64; 4]; 2] = [[154.0, 46.0, 75.0, 76.0], [266.0, 280.0, 63.0, 63.0]];
/// 500×375, three people in a row.
const TRIO: &str = "2008_002506.jpg";
const TRIO_FACES: [[f64; 4]; 3] = [
    [329.0, 78.0, 109.0, 109.0],
    [224.0, 95.0, 91.0, 91.0],
    [125.0, 65.0, 90.0, 91.0],
];

fn iou(a: &Region, b: [f64; 4]) -> f64 {
    let ix = ((a.x + a.w).min(b[0] + b[2]) - a.x.max(b[0])).max(0.0);
    let iy = ((a.y + a.h).min(b[1] + b[3]) - a.y.max(b[1])).max(0.0);
    let i = ix * iy;
    i / (a.area() + b[2] * b[3] - i)
}

fn decode(name: &str) -> Raster {
    let img = image::open(format!("{DIR}{name}")).unwrap().to_rgb8();
    Raster::new(img.width(), img.height(), 3, img.into_raw())
}

fn run_with(name: &str, t: &str, coordinates: Coordinates) -> Raster {
    let bytes = std::fs::read(format!("{DIR}{name}")).unwrap();
    let plan = Resolved::new(
        &Transformation::parse(t).unwrap(),
        Some(Format::Png),
        Format::Jpg,
        &ClientHints::default(),
    );
    let mut job = Job::new(Format::Jpg, plan);
    job.coordinates = coordinates;
    let r = render(
        &bytes,
        &job,
        &EngineLimits::default(),
        Instant::now() + Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("{name} {t}: {e}"));
    let img = image::load_from_memory(&r.bytes).unwrap().to_rgb8();
    Raster::new(img.width(), img.height(), 3, img.into_raw())
}

fn run(name: &str, t: &str) -> Raster {
    run_with(name, t, Coordinates::default())
}

/// Mean absolute difference of two same-sized rasters inside a box.
fn diff_in(a: &Raster, b: &Raster, [x, y, w, h]: [u32; 4]) -> f64 {
    let mut sum = 0.0;
    for yy in y..y + h {
        for xx in x..x + w {
            let (p, q) = (a.pixel(xx, yy), b.pixel(xx, yy));
            sum += (0..3)
                .map(|c| (p[c] as f64 - q[c] as f64).abs())
                .sum::<f64>();
        }
    }
    sum / (w * h * 3) as f64
}

#[test]
fn the_detector_finds_the_labelled_faces_and_nothing_else() {
    for (name, truth) in [(PAIR, &PAIR_FACES[..]), (TRIO, &TRIO_FACES[..])] {
        let found = faces::detect(&decode(name));
        assert_eq!(found.len(), truth.len(), "{name}: {found:?}");
        for t in truth {
            let best = found.iter().map(|f| iou(f, *t)).fold(0.0, f64::max);
            assert!(best >= 0.4, "{name}: no detection matches {t:?}: {found:?}");
        }
    }
    // Largest first, and where the golden references of
    // `make_goldens.py` (which crop at these boxes) expect them.
    let pair = faces::detect(&decode(PAIR));
    assert!(iou(&pair[0], PAIR_FACES[0]) >= 0.4, "{pair:?}");
    assert!(iou(&pair[0], [142.0, 34.0, 88.0, 88.0]) >= 0.9, "{pair:?}");
    assert!(iou(&pair[1], [271.0, 276.0, 62.0, 62.0]) >= 0.9, "{pair:?}");
}

#[test]
fn a_face_crop_holds_the_face() {
    // 400×500 into 300×100: the window is 400×133; centred it would sit
    // at y 183, missing both faces; on the face it covers y 17 to 150.
    let out = run(PAIR, "c_fill,g_face,h_100,w_300");
    assert_eq!((out.width, out.height), (300, 100));
    let found = faces::detect(&out);
    let face = PAIR_FACES[0];
    // The labelled box in output pixels: the window starts at y ≈ 17 and
    // is scaled by 0.75.
    let s = 300.0 / 400.0;
    let want = [face[0] * s, (face[1] - 17.0) * s, face[2] * s, face[3] * s];
    assert!(
        found.iter().any(|f| iou(f, want) >= 0.4),
        "no face at {want:?} in {found:?}"
    );
    let centred = run(PAIR, "c_fill,h_100,w_300");
    assert!(faces::detect(&centred).iter().all(|f| iou(f, want) < 0.4));
}

#[test]
fn thumb_zooms_to_the_largest_face_and_faces_take_them_all() {
    let thumb = run(PAIR, "c_thumb,g_face,h_120,w_120");
    assert_eq!((thumb.width, thumb.height), (120, 120));
    // The face fills most of a thumbnail: the detector sees one face of
    // about 120 / 1.7 pixels.
    let found = faces::detect(&thumb);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!((55.0..90.0).contains(&found[0].w), "{found:?}");
    // Both faces: the union runs from y 46 to 343, so a 2:1 landscape box
    // cannot hold it and both people's heads stay in a square one.
    let all = run(PAIR, "c_thumb,g_faces,h_200,w_200");
    assert_eq!(faces::detect(&all).len(), 2);
}

#[test]
fn stored_face_coordinates_override_detection() {
    // A "face" stored at the bottom left pulls the window down there.
    let stored = Coordinates {
        faces: Some(vec![[10, 440, 50, 50]]),
        custom: None,
    };
    let by_stored = run_with(PAIR, "c_fill,g_face,h_100,w_300", stored);
    let bottom = run(PAIR, "c_fill,g_south,h_100,w_300");
    assert!(diff_in(&by_stored, &bottom, [0, 0, 300, 100]) < 1.0);
    // Custom coordinates drive g_custom the same way.
    let custom = Coordinates {
        faces: None,
        custom: Some(vec![[0, 0, 40, 40]]),
    };
    let by_custom = run_with(PAIR, "c_fill,g_custom,h_100,w_300", custom);
    let top = run(PAIR, "c_fill,g_north,h_100,w_300");
    assert!(diff_in(&by_custom, &top, [0, 0, 300, 100]) < 1.0);
}

#[test]
fn blur_and_pixelate_faces_change_faces_only() {
    let plain = run(TRIO, "c_scale,w_500");
    for t in ["e_pixelate_faces", "e_blur_faces", "e_pixelate_faces:20"] {
        let hidden = run(TRIO, &format!("c_scale,w_500/{t}"));
        for f in TRIO_FACES {
            let inner = [
                (f[0] + f[2] * 0.25) as u32,
                (f[1] + f[3] * 0.25) as u32,
                (f[2] * 0.5) as u32,
                (f[3] * 0.5) as u32,
            ];
            let d = diff_in(&plain, &hidden, inner);
            assert!(d > 4.0, "{t}: face {f:?} barely changed ({d:.1})");
        }
        // Well away from every face: the bottom strip.
        assert!(diff_in(&plain, &hidden, [0, 330, 500, 45]) < 0.5, "{t}");
    }
}

#[test]
fn auto_gravity_keeps_the_people() {
    // A wide strip of the portrait: g_auto must keep a face where the
    // centre cut keeps none.
    let auto = run(PAIR, "c_fill,g_auto,h_100,w_300");
    assert!(!faces::detect(&auto).is_empty(), "g_auto lost the faces");
    // c_auto is content-aware by default and c_fill_pad keeps both people
    // of a tall crop by padding.
    let c_auto = run(PAIR, "c_auto,h_100,w_300");
    assert!(diff_in(&auto, &c_auto, [0, 0, 300, 100]) < 1.0);
    let padded = run(TRIO, "b_red,c_fill_pad,g_auto,h_300,w_100");
    assert_eq!((padded.width, padded.height), (100, 300));
    assert_eq!(padded.pixel(50, 0), [255, 0, 0, 255], "no padding on top");
}
