//! Where a layer goes on the picture under it (§9.4): gravity and offsets
//! to a position, the canvas that holds both, and the tiles of
//! `fl_tiled`. Pure; property-tested.

use super::{Region, Size};
use crate::params::{Compass, Gravity};
use crate::value::Offset;

/// A layer's top-left corner on the base, in base pixels (may be
/// negative or past the edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    pub x: i64,
    pub y: i64,
}

fn px(o: Option<Offset>, full: u32) -> f64 {
    match o {
        None => 0.0,
        Some(Offset::Px(n)) => n as f64,
        Some(Offset::Rel(f)) => f * full as f64,
    }
}

/// Compass gravities measure offsets inward from their edge (`x_10` on
/// `east` is ten pixels left of the right edge); `xy_center` puts the
/// layer's centre at (x, y); a region (a face, the custom box) centres it
/// there, offsets moving it right and down.
pub fn position(
    base: Size,
    layer: Size,
    gravity: Option<Gravity>,
    x: Option<Offset>,
    y: Option<Offset>,
    region: Option<Region>,
) -> Spot {
    let (dx, dy) = (px(x, base.w), px(y, base.h));
    let (lw, lh) = (layer.w as f64, layer.h as f64);
    let (bw, bh) = (base.w as f64, base.h as f64);
    let (fx, fy) = match (region, gravity) {
        (Some(r), _) => {
            let (cx, cy) = r.center();
            (cx - lw / 2.0 + dx, cy - lh / 2.0 + dy)
        }
        (None, Some(Gravity::XyCenter)) => (dx - lw / 2.0, dy - lh / 2.0),
        (None, Some(Gravity::Compass(c))) => compass(c, bw, bh, lw, lh, dx, dy),
        (None, _) => compass(Compass::Center, bw, bh, lw, lh, dx, dy),
    };
    Spot {
        x: fx.round() as i64,
        y: fy.round() as i64,
    }
}

fn compass(c: Compass, bw: f64, bh: f64, lw: f64, lh: f64, dx: f64, dy: f64) -> (f64, f64) {
    let along = |axis: u8, full: f64, size: f64, d: f64| match axis {
        0 => d,
        1 => (full - size) / 2.0 + d,
        _ => full - size - d,
    };
    let (ax, ay) = c.axes();
    (along(ax, bw, lw, dx), along(ay, bh, lh, dy))
}

/// The canvas holding the base and a layer at `spot`: its size, and where
/// the base's corner lands on it. Without overflow it is the base.
pub fn canvas(base: Size, layer: Size, spot: Spot, overflow: bool) -> (Size, Spot) {
    if !overflow {
        return (base, Spot { x: 0, y: 0 });
    }
    let x0 = spot.x.min(0);
    let y0 = spot.y.min(0);
    let x1 = (spot.x + layer.w as i64).max(base.w as i64);
    let y1 = (spot.y + layer.h as i64).max(base.h as i64);
    (
        Size::new((x1 - x0) as u32, (y1 - y0) as u32),
        Spot { x: -x0, y: -y0 },
    )
}

/// Every tile's corner covering the base, the grid passing through
/// `spot` with `gap` pixels between tiles.
pub fn tiles(base: Size, layer: Size, spot: Spot, gap: (i64, i64)) -> Vec<Spot> {
    let step_x = (layer.w as i64 + gap.0.max(0)).max(1);
    let step_y = (layer.h as i64 + gap.1.max(0)).max(1);
    let first = |start: i64, step: i64| start - (start.div_euclid(step) + 1) * step;
    let mut out = Vec::new();
    let mut y = first(spot.y, step_y);
    while y < base.h as i64 {
        if y + layer.h as i64 > 0 {
            let mut x = first(spot.x, step_x);
            while x < base.w as i64 {
                if x + layer.w as i64 > 0 {
                    out.push(Spot { x, y });
                }
                x += step_x;
            }
        }
        y += step_y;
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(g: &str, x: i32, y: i32) -> Spot {
        let base = Size::new(200, 100);
        let layer = Size::new(20, 10);
        let gravity = Some(Gravity::parse(g).unwrap());
        position(
            base,
            layer,
            gravity,
            Some(Offset::Px(x)),
            Some(Offset::Px(y)),
            None,
        )
    }

    #[test]
    fn compass_offsets_point_inward() {
        let table = [
            ("north_west", 0, 0, (0, 0)),
            ("north_west", 5, 7, (5, 7)),
            ("north_east", 5, 7, (175, 7)),
            ("south_east", 5, 7, (175, 83)),
            ("center", 5, 7, (95, 52)),
            ("south", 0, 10, (90, 80)),
            ("west", 3, 0, (3, 45)),
            ("xy_center", 50, 50, (40, 45)),
        ];
        for (g, x, y, want) in table {
            assert_eq!(
                at(g, x, y),
                Spot {
                    x: want.0,
                    y: want.1
                },
                "{g} {x} {y}"
            );
        }
    }

    #[test]
    fn regions_centre_the_layer() {
        let face = Region::new(100.0, 20.0, 40.0, 40.0);
        let s = position(
            Size::new(300, 300),
            Size::new(20, 20),
            None,
            None,
            None,
            Some(face),
        );
        assert_eq!(s, Spot { x: 110, y: 30 });
    }

    #[test]
    fn tiles_cover_the_base_once() {
        let base = Size::new(50, 30);
        let t = tiles(base, Size::new(20, 20), Spot { x: 15, y: 5 }, (0, 0));
        let mut hits = vec![0u8; 50 * 30];
        for s in &t {
            for y in s.y.max(0)..(s.y + 20).min(30) {
                for x in s.x.max(0)..(s.x + 20).min(50) {
                    hits[(y * 50 + x) as usize] += 1;
                }
            }
        }
        assert!(hits.iter().all(|&h| h == 1), "every pixel exactly once");
        assert!(t.contains(&Spot { x: 15, y: 5 }));
    }

    proptest! {
        #[test]
        fn canvas_holds_base_and_layer(
            bw in 1u32..500, bh in 1u32..500, lw in 1u32..500, lh in 1u32..500,
            x in -600i64..600, y in -600i64..600,
        ) {
            let (base, layer, spot) = (Size::new(bw, bh), Size::new(lw, lh), Spot { x, y });
            let (size, at) = canvas(base, layer, spot, true);
            prop_assert!(at.x >= 0 && at.y >= 0);
            prop_assert!(at.x + bw as i64 <= size.w as i64 && at.y + bh as i64 <= size.h as i64);
            prop_assert!(at.x + x >= 0 && at.y + y >= 0);
            prop_assert!(at.x + x + lw as i64 <= size.w as i64);
            prop_assert!(at.y + y + lh as i64 <= size.h as i64);
            // Tight: no side is larger than needed.
            prop_assert!(size.w as i64 <= (bw as i64).max(lw as i64) + x.abs() + lw as i64);
            prop_assert_eq!(canvas(base, layer, spot, false).0, base);
        }

        #[test]
        fn compass_layers_that_fit_stay_inside(
            bw in 1u32..400, bh in 1u32..400, fw in 0.0f64..=1.0, fh in 0.0f64..=1.0, g in 0usize..9,
        ) {
            // Layers no larger than the base, drawn directly rather than
            // filtered (rejection ran into proptest's reject limit).
            let lw = 1 + ((bw - 1) as f64 * fw).round() as u32;
            let lh = 1 + ((bh - 1) as f64 * fh).round() as u32;
            let names = ["north_west", "north", "north_east", "west", "center", "east",
                "south_west", "south", "south_east"];
            let gravity = Some(Gravity::parse(names[g]).unwrap());
            let s = position(Size::new(bw, bh), Size::new(lw, lh), gravity, None, None, None);
            prop_assert!(s.x >= 0 && s.y >= 0);
            prop_assert!(s.x + lw as i64 <= bw as i64 && s.y + lh as i64 <= bh as i64);
        }
    }
}
