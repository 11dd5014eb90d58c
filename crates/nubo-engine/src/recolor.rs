//! Colour effects that read the image as a whole: `e_replace_color`,
//! `e_gradient_fade` and `e_assist_colorblind`.

use nubo_transform::{Color, FadeKind, Offset};

use crate::geometry_ops;
use crate::raster::Raster;

/// Moves every pixel near `from` (the predominant colour when absent)
/// towards `to` by the difference of the two, so shading survives; pixels
/// at the edge of the tolerance are moved less, so there is no hard seam.
pub fn replace_color(r: &mut Raster, to: Color, tolerance: u8, from: Option<Color>) {
    let from = from.unwrap_or_else(|| geometry_ops::predominant_color(r));
    // Tolerance 100 reaches halfway across the RGB cube.
    let radius = tolerance as f32 * 2.2;
    let shift = [
        to.r as f32 - from.r as f32,
        to.g as f32 - from.g as f32,
        to.b as f32 - from.b as f32,
    ];
    let c = r.channels as usize;
    for p in r.data.chunks_exact_mut(c) {
        let d = ((p[0] as f32 - from.r as f32).powi(2)
            + (p[1] as f32 - from.g as f32).powi(2)
            + (p[2] as f32 - from.b as f32).powi(2))
        .sqrt();
        let w = if radius == 0.0 {
            f32::from(d == 0.0)
        } else {
            ((radius - d) / (radius * 0.25)).clamp(0.0, 1.0)
        };
        if w > 0.0 {
            for i in 0..3 {
                p[i] = (p[i] as f32 + shift[i] * w).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// Which edge a fade starts from and how far it reaches, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FadeAxis {
    pub horizontal: bool,
    /// From the far edge (right or bottom) instead.
    pub from_end: bool,
    pub length: f32,
}

impl FadeAxis {
    /// From the component's `x` or `y`: fractions of the side or pixels,
    /// negative from the right or bottom; `y_0.5` when neither is given.
    pub fn new(x: Option<Offset>, y: Option<Offset>, width: u32, height: u32) -> FadeAxis {
        let nonzero =
            |o: Option<Offset>| o.filter(|o| !matches!(o, Offset::Px(0)) && *o != Offset::Rel(0.0));
        let (horizontal, v) = match (nonzero(x), nonzero(y)) {
            (Some(x), _) => (true, x),
            (_, Some(y)) => (false, y),
            _ => (false, Offset::Rel(0.5)),
        };
        let side = if horizontal { width } else { height } as f64;
        let (len, negative) = match v {
            Offset::Rel(f) => (f.abs() * side, f < 0.0),
            Offset::Px(n) => (n.unsigned_abs() as f64, n < 0),
        };
        FadeAxis {
            horizontal,
            from_end: negative,
            length: len.clamp(1.0, side.max(1.0)) as f32,
        }
    }
}

/// Fades the image out towards an edge (or both): to transparency, or
/// onto `pad` for `symmetric_pad`. Strength steepens the curve.
pub fn gradient_fade(
    r: Raster,
    kind: FadeKind,
    strength: u8,
    axis: FadeAxis,
    pad: Color,
) -> Raster {
    let mut r = if kind == FadeKind::SymmetricPad {
        r
    } else {
        r.to_rgba()
    };
    let (w, h, c) = (r.width, r.height, r.channels as usize);
    let side = if axis.horizontal { w } else { h } as f32;
    let gamma = 1.0 + strength as f32 / 25.0;
    // Keep factor for each position along the axis.
    let keep: Vec<f32> = (0..side as u32)
        .map(|i| {
            let from_start = i as f32 + 0.5;
            let from_end = side - from_start;
            let d = match kind {
                FadeKind::Edge if axis.from_end => from_end,
                FadeKind::Edge => from_start,
                _ => from_start.min(from_end),
            };
            (d / axis.length).min(1.0).powf(gamma)
        })
        .collect();
    for y in 0..h {
        for x in 0..w {
            let k = keep[if axis.horizontal { x } else { y } as usize];
            if k >= 1.0 {
                continue;
            }
            let i = (y as usize * w as usize + x as usize) * c;
            let p = &mut r.data[i..i + c];
            if kind == FadeKind::SymmetricPad {
                let bg = [pad.r, pad.g, pad.b];
                for j in 0..3 {
                    p[j] = (bg[j] as f32 + (p[j] as f32 - bg[j] as f32) * k).round() as u8;
                }
            } else {
                p[3] = (p[3] as f32 * k).round() as u8;
            }
        }
    }
    r
}

/// Deuteranopia as Machado et al. (2009) model it, full severity.
const DEUTAN: [[f32; 3]; 3] = [
    [0.367_322, 0.860_646, -0.227_968],
    [0.280_085, 0.672_501, 0.047_413],
    [-0.011_820, 0.042_940, 0.968_881],
];

/// `xray`: the red–green difference a deuteranope cannot see is moved
/// into lightness and blue (daltonisation). `Some(strength)`: diagonal
/// stripes over reds one way and over greens the other, denser and
/// darker with strength, so the two stay apart without colour.
pub fn assist_colorblind(r: &mut Raster, strength: Option<u8>) {
    match strength {
        None => daltonize(r),
        Some(s) => stripes(r, s),
    }
}

fn daltonize(r: &mut Raster) {
    let c = r.channels as usize;
    for p in r.data.chunks_exact_mut(c) {
        let v = [p[0] as f32, p[1] as f32, p[2] as f32];
        let sim: Vec<f32> = DEUTAN
            .iter()
            .map(|row| row[0] * v[0] + row[1] * v[1] + row[2] * v[2])
            .collect();
        let err = [v[0] - sim[0], v[1] - sim[1], v[2] - sim[2]];
        let out = [
            v[0],
            v[1] + 0.7 * err[0] + err[1],
            v[2] + 0.7 * err[0] + err[2],
        ];
        for i in 0..3 {
            p[i] = out[i].round().clamp(0.0, 255.0) as u8;
        }
    }
}

fn stripes(r: &mut Raster, strength: u8) {
    let period = (24.0 - strength as f32 * 0.16).max(6.0) as u32;
    let dark = 0.35 + strength as f32 / 200.0;
    let (w, c) = (r.width, r.channels as usize);
    for (i, p) in r.data.chunks_exact_mut(c).enumerate() {
        let (x, y) = (i as u32 % w, i as u32 / w);
        let (red, green) = (p[0] as i32, p[1] as i32);
        let diff = red - green;
        if diff.abs() < 40 {
            continue;
        }
        // Reds: stripes down to the right; greens: down to the left.
        let phase = if diff > 0 {
            x + y
        } else {
            x + (period * 1000 - y)
        };
        if phase % period < period / 3 {
            for v in &mut p[..3] {
                *v = (*v as f32 * (1.0 - dark)).round() as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: u32, h: u32, rgb: [u8; 3]) -> Raster {
        Raster::new(
            w,
            h,
            3,
            rgb.iter()
                .copied()
                .cycle()
                .take((w * h * 3) as usize)
                .collect(),
        )
    }

    #[test]
    fn replace_color_moves_near_colours_and_keeps_shading() {
        let mut r = solid(4, 1, [200, 20, 20]);
        r.data[3..6].copy_from_slice(&[180, 10, 10]); // a darker red
        r.data[6..9].copy_from_slice(&[20, 20, 200]); // blue, far away
        replace_color(
            &mut r,
            Color::rgb(20, 200, 20),
            50,
            Some(Color::rgb(200, 20, 20)),
        );
        assert_eq!(r.pixel(0, 0), [20, 200, 20, 255]);
        assert_eq!(r.pixel(1, 0), [0, 190, 10, 255], "shading kept");
        assert_eq!(r.pixel(2, 0), [20, 20, 200, 255], "blue untouched");
        // Without `from`, the predominant colour (as its histogram bucket
        // has it) is replaced.
        let mut r = solid(8, 8, [10, 10, 250]);
        replace_color(&mut r, Color::rgb(250, 250, 10), 10, None);
        let p = r.pixel(3, 3);
        assert!(p[0] >= 245 && p[1] >= 245 && p[2] <= 15, "{p:?}");
    }

    #[test]
    fn gradient_fade_goes_transparent_towards_the_edge() {
        let r = solid(10, 100, [50, 60, 70]);
        let axis = FadeAxis::new(None, None, 10, 100);
        assert_eq!(axis.length, 50.0);
        let out = gradient_fade(r.clone(), FadeKind::Edge, 20, axis, Color::WHITE);
        assert_eq!(out.channels, 4);
        let a = |o: &Raster, y: u32| o.pixel(5, y)[3];
        assert!(a(&out, 0) < 10 && a(&out, 25) < a(&out, 45) && a(&out, 60) == 255);
        // From the right, on both ends, and onto a colour.
        let right = FadeAxis::new(Some(Offset::Rel(-0.2)), None, 10, 100);
        assert!(right.horizontal && right.from_end && right.length == 2.0);
        let px = FadeAxis::new(None, Some(Offset::Px(30)), 10, 100);
        assert!(!px.horizontal && !px.from_end && px.length == 30.0);
        let both = gradient_fade(r.clone(), FadeKind::Symmetric, 20, axis, Color::WHITE);
        assert!(a(&both, 0) < 10 && a(&both, 99) < 10 && a(&both, 50) > 240);
        let pad = gradient_fade(r, FadeKind::SymmetricPad, 20, axis, Color::rgb(255, 0, 0));
        assert_eq!(pad.channels, 3);
        assert!(pad.pixel(5, 0)[0] > 240 && pad.pixel(5, 0)[1] < 20);
        let mid = pad.pixel(5, 50);
        assert!(mid[0] < 60 && mid[1] >= 58, "{mid:?}");
    }

    #[test]
    fn assist_colorblind_separates_red_from_green() {
        // Red and green that a deuteranope sees alike.
        let mut r = solid(2, 1, [200, 80, 40]);
        r.data[3..6].copy_from_slice(&[110, 120, 40]);
        let mut x = r.clone();
        daltonize(&mut x);
        let sim = |p: [u8; 4]| {
            let v = [p[0] as f32, p[1] as f32, p[2] as f32];
            DEUTAN.map(|row| row[0] * v[0] + row[1] * v[1] + row[2] * v[2])
        };
        let gap = |a: [f32; 3], b: [f32; 3]| (0..3).map(|i| (a[i] - b[i]).abs()).sum::<f32>();
        let before = gap(sim(r.pixel(0, 0)), sim(r.pixel(1, 0)));
        let after = gap(sim(x.pixel(0, 0)), sim(x.pixel(1, 0)));
        assert!(after > before * 1.5, "{before} -> {after}");
        // Stripes darken some red pixels and leave grey alone.
        let mut red = solid(30, 30, [220, 30, 30]);
        stripes(&mut red, 50);
        let dark = red.data.chunks(3).filter(|p| p[0] < 220).count();
        assert!(dark > 100 && dark < 600, "{dark}");
        let mut grey = solid(30, 30, [128, 128, 128]);
        stripes(&mut grey, 50);
        assert!(grey.data.iter().all(|&v| v == 128));
    }
}
