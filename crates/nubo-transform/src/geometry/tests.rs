use proptest::prelude::*;

use super::*;
use crate::Transformation;

fn lay(t: &str, w: u32, h: u32) -> (Layout, Size) {
    let c = Transformation::parse(t).unwrap().components.remove(0);
    let input = Size::new(w, h);
    let l = layout(
        &SizeRequest::from_component(
            &c,
            input,
            c.dpr.map_or(1.0, |d| match d {
                crate::Dpr::Value(v) => v,
                crate::Dpr::Auto => 1.0,
            }),
        ),
        input,
    );
    (l, l.output(input))
}

#[test]
fn crop_mode_table() {
    // (transformation, input, expected output size)
    let table = [
        ("w_100", (400, 200), (100, 50)),
        ("h_100", (400, 200), (200, 100)),
        ("w_100,h_100", (400, 200), (100, 100)),
        ("w_0.5", (400, 200), (200, 100)),
        ("w_100,dpr_2.0", (400, 200), (200, 100)),
        ("c_fit,w_100,h_100", (400, 200), (100, 50)),
        ("c_fit,w_800,h_800", (400, 200), (800, 400)),
        ("c_limit,w_800,h_800", (400, 200), (400, 200)),
        ("c_limit,w_100,h_100", (400, 200), (100, 50)),
        ("c_mfit,w_800,h_800", (400, 200), (800, 400)),
        ("c_mfit,w_100,h_100", (400, 200), (400, 200)),
        ("c_fill,w_100,h_100", (400, 200), (100, 100)),
        ("c_fill,w_800,h_100", (400, 200), (800, 100)),
        ("c_lfill,w_100,h_100", (400, 200), (100, 100)),
        ("c_lfill,w_800,h_800", (400, 200), (200, 200)),
        ("c_pad,w_100,h_100", (400, 200), (100, 100)),
        ("c_lpad,w_800,h_800", (400, 200), (800, 800)),
        ("c_mpad,w_100,h_100", (400, 200), (400, 200)),
        ("c_crop,w_100,h_100", (400, 200), (100, 100)),
        ("c_crop,w_1000,h_1000", (400, 200), (400, 200)),
        ("c_crop,w_0.5,h_0.5", (400, 200), (200, 100)),
        ("c_thumb,w_50,h_50", (400, 200), (50, 50)),
        ("ar_1:1,c_fill", (400, 200), (200, 200)),
        ("ar_1:1,c_pad", (400, 200), (400, 400)),
        ("ar_2.0,w_100,c_fill", (400, 400), (100, 50)),
        (
            "c_scale,w_100,fl_ignore_aspect_ratio",
            (400, 200),
            (100, 200),
        ),
        ("c_fit,w_1", (400, 1), (1, 1)),
    ];
    for (t, (iw, ih), (ow, oh)) in table {
        let (_, out) = lay(t, iw, ih);
        assert_eq!((out.w, out.h), (ow, oh), "{t} on {iw}x{ih}");
    }
}

#[test]
fn gravity_places_the_crop() {
    let crop = |t: &str| lay(t, 400, 200).0.crop.unwrap();
    assert_eq!(
        crop("c_crop,w_100,h_100,g_north_west"),
        Rect {
            x: 0,
            y: 0,
            w: 100,
            h: 100
        }
    );
    assert_eq!(
        crop("c_crop,w_100,h_100"),
        Rect {
            x: 150,
            y: 50,
            w: 100,
            h: 100
        }
    );
    assert_eq!(
        crop("c_crop,w_100,h_100,g_south_east"),
        Rect {
            x: 300,
            y: 100,
            w: 100,
            h: 100
        }
    );
    assert_eq!(
        crop("c_crop,w_100,h_100,g_north_west,x_10,y_20"),
        Rect {
            x: 10,
            y: 20,
            w: 100,
            h: 100
        }
    );
    // From an east anchor, positive x moves inwards.
    assert_eq!(crop("c_crop,w_100,h_100,g_east,x_10").x, 290);
    assert_eq!(
        crop("c_crop,w_100,h_100,g_xy_center,x_100,y_100"),
        Rect {
            x: 50,
            y: 50,
            w: 100,
            h: 100
        }
    );
    // Offsets never push the region out of the image.
    assert_eq!(
        crop("c_crop,w_100,h_100,g_north_west,x_1000,y_-5"),
        Rect {
            x: 300,
            y: 0,
            w: 100,
            h: 100
        }
    );
    assert_eq!(
        crop("c_fill,w_100,h_100,g_west"),
        Rect {
            x: 0,
            y: 0,
            w: 200,
            h: 200
        }
    );
    assert_eq!(
        crop("c_fill,w_100,h_100,g_east"),
        Rect {
            x: 200,
            y: 0,
            w: 200,
            h: 200
        }
    );
}

#[test]
fn pad_places_the_image() {
    let (l, _) = lay("c_pad,w_100,h_100,g_north", 400, 200);
    assert_eq!(l.resize, Some(Size::new(100, 50)));
    assert_eq!(l.pad, Some((Size::new(100, 100), 0, 0)));
    let (l, _) = lay("c_pad,w_100,h_100", 400, 200);
    assert_eq!(l.pad, Some((Size::new(100, 100), 0, 25)));
    let (l, _) = lay("c_pad,w_100,h_100,g_south", 400, 200);
    assert_eq!(l.pad, Some((Size::new(100, 100), 0, 50)));
}

fn mode() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "scale", "fit", "limit", "mfit", "fill", "lfill", "pad", "lpad", "mpad", "crop", "thumb",
    ])
}

fn gravity() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "north_west",
        "north",
        "north_east",
        "west",
        "center",
        "east",
        "south_west",
        "south",
        "south_east",
        "xy_center",
        "face",
    ])
}

proptest! {
    #[test]
    fn output_never_exceeds_the_box(
        mode in mode(), g in gravity(), iw in 1u32..5000, ih in 1u32..5000,
        bw in 1u32..3000, bh in 1u32..3000, x in -3000i32..3000, y in -3000i32..3000,
    ) {
        let t = format!("c_{mode},g_{g},w_{bw},h_{bh},x_{x},y_{y}");
        let (l, out) = lay(&t, iw, ih);
        let input = Size::new(iw, ih);
        prop_assert!(out.w >= 1 && out.h >= 1);
        let unchanged = l == Layout::NONE;
        match mode {
            // These may return the input untouched, which can be bigger.
            "limit" | "mfit" | "mpad" if unchanged => prop_assert_eq!(out, input),
            _ => prop_assert!(out.w <= bw && out.h <= bh, "{} on {}x{} gave {:?}", t, iw, ih, out),
        }
        if matches!(mode, "scale" | "fill" | "pad" | "thumb" | "lpad") {
            prop_assert_eq!(out, Size::new(bw, bh), "{} on {}x{}", t, iw, ih);
        }
        if let Some(c) = l.crop {
            prop_assert!(c.w >= 1 && c.h >= 1);
            prop_assert!(c.x + c.w <= iw && c.y + c.h <= ih, "{:?} outside {}x{}", c, iw, ih);
        }
        if let Some((canvas, px, py)) = l.pad {
            let inner = l.resize.unwrap_or(input);
            prop_assert!(px + inner.w <= canvas.w && py + inner.h <= canvas.h);
        }
        // Resampling never produces more pixels than asked, so it is bounded.
        if let Some(r) = l.resize {
            prop_assert!(r.w <= bw.max(1) && r.h <= bh.max(1));
        }
    }

    #[test]
    fn fit_keeps_the_aspect_ratio_within_a_pixel(
        iw in 1u32..5000, ih in 1u32..5000, bw in 1u32..3000, bh in 1u32..3000,
    ) {
        let (_, out) = lay(&format!("c_fit,w_{bw},h_{bh}"), iw, ih);
        let want_h = out.w as f64 * ih as f64 / iw as f64;
        let want_w = out.h as f64 * iw as f64 / ih as f64;
        // One side hits the box; the other is the rounded proportional size.
        prop_assert!(out.w == bw || out.h == bh);
        prop_assert!((out.h as f64 - want_h).abs() <= 1.0 || (out.w as f64 - want_w).abs() <= 1.0);
    }
}

#[path = "focus_tests.rs"]
mod focus_tests;
