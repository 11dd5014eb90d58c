//! Face, custom and automatic gravities on hand-made focus data.

use proptest::prelude::*;

use super::super::*;
use crate::Transformation;

fn lay_with(t: &str, w: u32, h: u32, focus: &Focus) -> Layout {
    let c = Transformation::parse(t).unwrap().components.remove(0);
    let input = Size::new(w, h);
    layout_with(&SizeRequest::from_component(&c, input, 1.0), input, focus)
}

fn faces(regions: &[(f64, f64, f64, f64)]) -> Focus {
    Focus {
        faces: regions
            .iter()
            .map(|&(x, y, w, h)| Region::new(x, y, w, h))
            .collect(),
        ..Focus::default()
    }
}

/// A `cols × rows` map, zero but for the hot cells.
fn saliency(cols: usize, rows: usize, hot: &[(usize, usize)], input: Size) -> Focus {
    let mut w = vec![0.0f32; cols * rows];
    for &(x, y) in hot {
        w[y * cols + x] = 10.0;
    }
    Focus {
        saliency: Saliency::new(cols, rows, &w, input),
        ..Focus::default()
    }
}

fn contains(outer: Rect, inner: Region) -> bool {
    outer.x as f64 <= inner.x
        && outer.y as f64 <= inner.y
        && (outer.x + outer.w) as f64 >= inner.x + inner.w
        && (outer.y + outer.h) as f64 >= inner.y + inner.h
}

#[test]
fn fill_centres_on_the_largest_face_or_on_all_of_them() {
    let f = faces(&[(250.0, 80.0, 40.0, 40.0), (20.0, 20.0, 20.0, 20.0)]);
    let crop = lay_with("c_fill,w_100,h_100,g_face", 400, 200, &f)
        .crop
        .unwrap();
    assert_eq!((crop.x, crop.y, crop.w, crop.h), (170, 0, 200, 200));
    // All faces: the box from x 20 to 290 is centred at 155.
    let crop = lay_with("c_fill,w_100,h_100,g_faces", 400, 200, &f)
        .crop
        .unwrap();
    assert_eq!(crop.x, 55);
    // A face at the edge pushes the window only as far as the image goes.
    let edge = faces(&[(380.0, 10.0, 20.0, 20.0)]);
    let crop = lay_with("c_fill,w_100,h_100,g_face", 400, 200, &edge)
        .crop
        .unwrap();
    assert_eq!(crop.x, 200);
}

#[test]
fn face_gravities_fall_back_to_the_centre() {
    for g in ["face", "faces", "face:center", "custom", "auto"] {
        let crop = lay_with(&format!("c_fill,w_100,h_100,g_{g}"), 400, 200, &Focus::NONE)
            .crop
            .unwrap();
        assert_eq!(crop.x, 100, "g_{g}");
    }
}

#[test]
fn custom_coordinates_focus_like_a_face() {
    let f = Focus {
        custom: Some(Region::new(0.0, 0.0, 50.0, 50.0)),
        ..faces(&[(300.0, 0.0, 50.0, 50.0)])
    };
    let crop = lay_with("c_fill,w_100,h_100,g_custom", 400, 200, &f)
        .crop
        .unwrap();
    assert_eq!(crop.x, 0);
    let crop = lay_with("c_fill,w_100,h_100,g_face", 400, 200, &f)
        .crop
        .unwrap();
    assert_eq!(crop.x, 200);
}

#[test]
fn thumb_zooms_to_the_face() {
    let f = faces(&[(400.0, 400.0, 100.0, 100.0)]);
    let l = lay_with("c_thumb,w_100,h_100,g_face", 1000, 1000, &f);
    let crop = l.crop.unwrap();
    assert_eq!((crop.w, crop.h), (170, 170));
    assert_eq!((crop.x, crop.y), (365, 365));
    assert_eq!(l.output(Size::new(1000, 1000)), Size::new(100, 100));
    // z_2 is twice as tight, z_0.5 twice as loose.
    let tight = lay_with("c_thumb,w_100,h_100,g_face,z_2", 1000, 1000, &f)
        .crop
        .unwrap();
    assert_eq!(tight.w, 85);
    let loose = lay_with("c_thumb,w_100,h_100,g_face,z_0.5", 1000, 1000, &f)
        .crop
        .unwrap();
    assert_eq!(loose.w, 340);
    // A face too big for the margin takes the largest region there is.
    let big = faces(&[(0.0, 0.0, 900.0, 900.0)]);
    let l = lay_with("c_thumb,w_100,h_50,g_face", 1000, 1000, &big);
    assert_eq!(l.crop.map(|c| (c.w, c.h)), Some((1000, 500)));
}

#[test]
fn crop_without_a_size_cuts_out_the_face() {
    let f = faces(&[(10.4, 20.6, 30.0, 30.0)]);
    let crop = lay_with("c_crop,g_face", 400, 200, &f).crop.unwrap();
    assert_eq!((crop.x, crop.y, crop.w, crop.h), (10, 20, 31, 31));
    // With a size the region is centred on the face.
    let crop = lay_with("c_crop,g_face,w_100,h_100", 400, 200, &f)
        .crop
        .unwrap();
    assert_eq!((crop.x, crop.y), (0, 0));
}

#[test]
fn auto_gravity_keeps_the_salient_part() {
    let input = Size::new(400, 200);
    let right = saliency(8, 4, &[(7, 1), (7, 2)], input);
    let crop = lay_with("c_fill,w_100,h_100,g_auto", 400, 200, &right)
        .crop
        .unwrap();
    assert_eq!(crop.x, 200);
    let left = saliency(8, 4, &[(1, 1)], input);
    let crop = lay_with("c_fill,w_100,h_100,g_auto", 400, 200, &left)
        .crop
        .unwrap();
    assert!(crop.x <= 50, "{crop:?}");
    // c_auto is content-aware without asking.
    let crop = lay_with("c_auto,w_100,h_100", 400, 200, &right)
        .crop
        .unwrap();
    assert_eq!(crop.x, 200);
    // A flat map, or none, leaves the window in the middle.
    let flat = saliency(8, 4, &[], input);
    let crop = lay_with("c_fill,w_100,h_100,g_auto", 400, 200, &flat)
        .crop
        .unwrap();
    assert_eq!(crop.x, 100);
}

#[test]
fn fill_pad_pads_only_when_a_crop_would_cut_the_subject() {
    let input = Size::new(600, 200);
    // One subject: a plain fill around it.
    let one = saliency(12, 4, &[(10, 2)], input);
    let l = lay_with("c_fill_pad,g_auto,w_100,h_100", 600, 200, &one);
    assert_eq!(l.pad, None);
    assert_eq!(l.crop.map(|c| (c.w, c.h)), Some((200, 200)));
    assert!(l.crop.unwrap().x >= 300);
    // Two subjects at both ends: keep both and pad above and below.
    let two = saliency(12, 4, &[(0, 2), (11, 2)], input);
    let l = lay_with("c_fill_pad,g_auto,w_100,h_100", 600, 200, &two);
    let (canvas, _, py) = l.pad.expect("padded");
    assert_eq!(canvas, Size::new(100, 100));
    assert!(py > 0);
    assert!(l.crop.map_or(600, |c| c.w) >= 550);
    assert_eq!(l.output(input), Size::new(100, 100));
    // c_auto_pad is the same thing.
    assert_eq!(lay_with("c_auto_pad,w_100,h_100", 600, 200, &two), l);
}

#[test]
fn saliency_mass_is_exact_on_cells_and_interpolates_between() {
    let input = Size::new(100, 100);
    let f = saliency(10, 10, &[(5, 5)], input);
    let s = f.saliency.unwrap();
    let total = s.total();
    assert!(total > 0.0);
    assert!((s.mass(&Region::new(50.0, 50.0, 10.0, 10.0)) - total).abs() < 1e-9);
    assert!((s.mass(&Region::new(55.0, 50.0, 10.0, 10.0)) - total / 2.0).abs() < 1e-9);
    assert_eq!(s.mass(&Region::new(0.0, 0.0, 40.0, 40.0)), 0.0);
}

proptest! {
    #[test]
    fn focused_crops_stay_inside_and_hold_the_face(
        mode in prop::sample::select(vec!["fill", "lfill", "thumb", "crop", "auto", "fill_pad"]),
        g in prop::sample::select(vec!["face", "faces", "auto"]),
        iw in 1u32..3000, ih in 1u32..3000, bw in 1u32..1500, bh in 1u32..1500,
        fx in 0.0f64..1.0, fy in 0.0f64..1.0, fw in 0.01f64..0.5, fh in 0.01f64..0.5,
        hot in 0usize..64,
    ) {
        let input = Size::new(iw, ih);
        let face = Region::new(fx * iw as f64 * 0.5, fy * ih as f64 * 0.5, fw * iw as f64, fh * ih as f64);
        let mut f = saliency(8, 8, &[(hot % 8, hot / 8)], input);
        f.faces = vec![face];
        let t = format!("c_{mode},g_{g},w_{bw},h_{bh}");
        let l = lay_with(&t, iw, ih, &f);
        let out = l.output(input);
        prop_assert!(out.w >= 1 && out.h >= 1);
        if let Some(c) = l.crop {
            prop_assert!(c.w >= 1 && c.h >= 1);
            prop_assert!(c.x + c.w <= iw && c.y + c.h <= ih, "{:?} outside {}x{} for {}", c, iw, ih, t);
            // A face whose pixel span fits in the window is inside it (a
            // 29.6-px face starting at 16.4 spans 31 rows of pixels).
            let span = |start: f64, len: f64| (start + len).ceil() - start.floor();
            let fits = span(face.x, face.w) <= c.w as f64 && span(face.y, face.h) <= c.h as f64;
            if g == "face" && mode != "thumb" && fits {
                prop_assert!(contains(c, face), "{:?} misses {:?} for {}", c, face, t);
            }
        }
        if let Some((canvas, px, py)) = l.pad {
            let inner = l.resize.unwrap_or_else(|| l.crop.map_or(input, |c| Size::new(c.w, c.h)));
            prop_assert!(px + inner.w <= canvas.w && py + inner.h <= canvas.h);
        }
        if mode != "crop" && mode != "lfill" {
            prop_assert_eq!(out, Size::new(bw, bh), "{} on {}x{}", t, iw, ih);
        }
    }
}
