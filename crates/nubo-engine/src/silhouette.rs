//! Effects drawn from the image's shape (its alpha, or its rectangle when
//! opaque): `e_shadow` behind it and `e_outline` around or inside it. Both
//! may grow the canvas so that nothing they draw is cut off.

use nubo_transform::{Color, OutlineMode};

use crate::effects;
use crate::raster::Raster;

fn alpha(r: &Raster, x: u32, y: u32) -> u8 {
    if r.channels == 4 {
        r.data[(y as usize * r.width as usize + x as usize) * 4 + 3]
    } else {
        255
    }
}

/// A transparent canvas of `color` with the given alpha mask.
fn tinted(w: u32, h: u32, color: Color, mask: &[u8]) -> Raster {
    let mut data = Vec::with_capacity(mask.len() * 4);
    for &a in mask {
        data.extend_from_slice(&[color.r, color.g, color.b, a]);
    }
    Raster::new(w, h, 4, data)
}

fn shadow_sigma(strength: u8) -> f32 {
    1.0 + strength as f32 / 10.0
}

/// A shadow never falls further away than the image is wide or high.
fn clamp_offset(r: &Raster, dx: i32, dy: i32) -> (i32, i32) {
    let (w, h) = (
        r.width.min(i32::MAX as u32) as i32,
        r.height.min(i32::MAX as u32) as i32,
    );
    (dx.clamp(-w, w), dy.clamp(-h, h))
}

/// The size `shadow` will return, to check against limits first.
pub fn shadow_size(r: &Raster, strength: u8, dx: i32, dy: i32) -> (u32, u32) {
    let (dx, dy) = clamp_offset(r, dx, dy);
    let margin = (shadow_sigma(strength) * 3.0).ceil() as u32;
    let grow = |d: i32| if d == 0 { 0 } else { d.unsigned_abs() + margin };
    (r.width + grow(dx), r.height + grow(dy))
}

/// How far `outline` grows the canvas on each side.
pub fn outline_grow(mode: OutlineMode, width: u32, blur: u32) -> u32 {
    match mode {
        OutlineMode::Outer => width + (blur as f32 / 20.0 * 3.0).ceil() as u32,
        OutlineMode::Inner => 0,
    }
}

/// `e_shadow[:strength]`: the shape, tinted with `color` and blurred by
/// strength, offset by `(dx, dy)` behind the image.
pub fn shadow(r: &Raster, strength: u8, dx: i32, dy: i32, color: Color) -> Raster {
    let (dx, dy) = clamp_offset(r, dx, dy);
    let sigma = shadow_sigma(strength);
    let margin = (sigma * 3.0).ceil() as i64;
    let (w, h) = (r.width as i64, r.height as i64);
    // The image's box, grown on the sides the shadow falls to (by the
    // offset and the blur).
    let (dx64, dy64) = (dx as i64, dy as i64);
    let left = if dx < 0 { dx64 - margin } else { 0 };
    let top = if dy < 0 { dy64 - margin } else { 0 };
    let right = if dx > 0 { w + dx64 + margin } else { w };
    let bottom = if dy > 0 { h + dy64 + margin } else { h };
    let (cw, ch) = ((right - left) as u32, (bottom - top) as u32);
    let opacity = (color.a as f32 / 255.0) * (0.35 + strength as f32 / 200.0);
    let mut mask = vec![0u8; cw as usize * ch as usize];
    for y in 0..r.height {
        for x in 0..r.width {
            let (sx, sy) = (x as i64 + dx as i64 - left, y as i64 + dy as i64 - top);
            mask[sy as usize * cw as usize + sx as usize] =
                (alpha(r, x, y) as f32 * opacity).round() as u8;
        }
    }
    let mut canvas = tinted(cw, ch, color, &mask);
    effects::gaussian(&mut canvas, sigma);
    canvas.composite(r, -left, -top);
    canvas
}

/// Distance from every pixel to the nearest pixel inside the shape
/// (alpha ≥ 128), by a two-pass 3-4 chamfer transform, in pixels.
fn distance_to_shape(inside: &[bool], w: usize, h: usize) -> Vec<f32> {
    const FAR: f32 = 1e9;
    let mut d: Vec<f32> = inside.iter().map(|&i| if i { 0.0 } else { FAR }).collect();
    let (a, b) = (1.0f32, 1.4f32);
    for y in 0..h {
        for x in 0..w {
            let mut v = d[y * w + x];
            if x > 0 {
                v = v.min(d[y * w + x - 1] + a);
            }
            if y > 0 {
                v = v.min(d[(y - 1) * w + x] + a);
                if x > 0 {
                    v = v.min(d[(y - 1) * w + x - 1] + b);
                }
                if x + 1 < w {
                    v = v.min(d[(y - 1) * w + x + 1] + b);
                }
            }
            d[y * w + x] = v;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let mut v = d[y * w + x];
            if x + 1 < w {
                v = v.min(d[y * w + x + 1] + a);
            }
            if y + 1 < h {
                v = v.min(d[(y + 1) * w + x] + a);
                if x + 1 < w {
                    v = v.min(d[(y + 1) * w + x + 1] + b);
                }
                if x > 0 {
                    v = v.min(d[(y + 1) * w + x - 1] + b);
                }
            }
            d[y * w + x] = v;
        }
    }
    d
}

/// `e_outline[:outer|inner][:width][:blur]` in `color`.
pub fn outline(r: &Raster, mode: OutlineMode, width: u32, blur: u32, color: Color) -> Raster {
    let sigma = blur as f32 / 20.0;
    let grow = outline_grow(mode, width, blur);
    let (cw, ch) = (r.width + 2 * grow, r.height + 2 * grow);
    let (w, h) = (cw as usize, ch as usize);
    // The shape on the grown canvas; for inner lines, its complement.
    let mut inside = vec![false; w * h];
    for y in 0..r.height {
        for x in 0..r.width {
            let i = (y + grow) as usize * w + (x + grow) as usize;
            inside[i] = alpha(r, x, y) >= 128;
        }
    }
    if mode == OutlineMode::Inner {
        inside.iter_mut().for_each(|v| *v = !*v);
        // Beyond the image counts as outside the shape.
        for y in 0..h {
            for x in 0..w {
                if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                    inside[y * w + x] = true;
                }
            }
        }
    }
    let dist = distance_to_shape(&inside, w, h);
    let mask: Vec<u8> = dist
        .iter()
        .zip(&inside)
        .map(|(&d, &i)| {
            let line = if i {
                0.0
            } else {
                (width as f32 + 0.5 - d).clamp(0.0, 1.0)
            };
            (line * color.a as f32).round() as u8
        })
        .collect();
    let mut lines = tinted(cw, ch, color, &mask);
    effects::gaussian(&mut lines, sigma);
    match mode {
        OutlineMode::Outer => {
            lines.composite(r, grow as i64, grow as i64);
            lines
        }
        OutlineMode::Inner => {
            let mut out = r.to_rgba();
            // The line only where the image is.
            for (o, l) in out
                .data
                .chunks_exact_mut(4)
                .zip(lines.data.chunks_exact_mut(4))
            {
                l[3] = (l[3] as u32 * o[3] as u32 / 255) as u8;
            }
            out.composite(&lines, 0, 0);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transparent square with an opaque disc of radius 10 in the middle.
    fn disc() -> Raster {
        let mut data = Vec::new();
        for y in 0..40 {
            for x in 0..40 {
                let d = ((x as f32 - 19.5).powi(2) + (y as f32 - 19.5).powi(2)).sqrt();
                let a = if d <= 10.0 { 255 } else { 0 };
                data.extend_from_slice(&[200, 30, 30, a]);
            }
        }
        Raster::new(40, 40, 4, data)
    }

    #[test]
    fn shadow_falls_behind_at_the_offset_and_grows_the_canvas() {
        let r = Raster::new(20, 10, 3, vec![255; 600]);
        let out = shadow(&r, 40, 8, 6, Color::rgb(0, 0, 0));
        assert_eq!(out.channels, 4);
        assert!(out.width > 28 && out.height > 16, "{out:?}");
        // The image itself is untouched at the top left…
        assert_eq!(out.pixel(0, 0), [255, 255, 255, 255]);
        // …and below its bottom right corner there is dark shadow.
        let p = out.pixel(24, 13);
        assert!(p[3] > 60 && p[0] < 10, "{p:?}");
        // A negative offset grows the canvas up and to the left instead.
        assert_eq!(shadow_size(&r, 40, 8, 6), (out.width, out.height));
        let up = shadow(&r, 0, -5, -5, Color::rgb(0, 0, 0));
        assert_eq!(shadow_size(&r, 0, -5, -5), (up.width, up.height));
        // Offsets are bounded by the image, so the canvas is too.
        assert_eq!(shadow_size(&r, 0, 1_000_000, 0).0, 20 + 20 + 3);
        assert!(up.pixel(0, 0)[3] < 255);
        assert_eq!(up.pixel(up.width - 1, up.height - 1), [255, 255, 255, 255]);
    }

    #[test]
    fn outlines_follow_the_shape() {
        let r = disc();
        let out = outline(&r, OutlineMode::Outer, 3, 0, Color::rgb(0, 0, 255));
        assert_eq!((out.width, out.height), (46, 46));
        // Two pixels outside the disc's edge: blue line; further out: nothing.
        assert_eq!(out.pixel(23, 23 - 12), [0, 0, 255, 255]);
        assert_eq!(out.pixel(23, 23 - 16)[3], 0);
        // The disc itself stays red.
        assert_eq!(out.pixel(23, 23), [200, 30, 30, 255]);
        let inner = outline(&r, OutlineMode::Inner, 3, 0, Color::rgb(0, 0, 255));
        assert_eq!((inner.width, inner.height), (40, 40));
        assert_eq!(inner.pixel(20, 20 - 9), [0, 0, 255, 255]);
        assert_eq!(inner.pixel(20, 20), [200, 30, 30, 255]);
        assert_eq!(inner.pixel(2, 2)[3], 0, "nothing drawn outside the shape");
    }
}
