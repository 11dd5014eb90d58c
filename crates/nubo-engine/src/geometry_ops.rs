//! Operations that change the canvas: rotation by any angle, rounded
//! corners, borders, opacity and padding.

use nubo_transform::{Color, Radius};

use crate::orient;
use crate::raster::Raster;

/// Rotates clockwise by `deg`. Right angles are exact; other angles
/// enlarge the canvas and fill the corners with `bg`.
pub fn rotate(r: &Raster, deg: i32, bg: Color) -> Raster {
    let d = deg.rem_euclid(360);
    match d {
        0 => r.clone(),
        90 => orient::rotate90(r),
        180 => orient::flip_v(orient::flip_h(r.clone())),
        270 => orient::rotate270(r),
        _ => rotate_free(r, d as f64, bg),
    }
}

fn rotate_free(r: &Raster, deg: f64, bg: Color) -> Raster {
    let src = if bg.is_opaque() {
        r.clone()
    } else {
        r.to_rgba()
    };
    let (s, c) = deg.to_radians().sin_cos();
    let (w, h) = (src.width as f64, src.height as f64);
    let nw = (w * c.abs() + h * s.abs()).round().max(1.0) as u32;
    let nh = (w * s.abs() + h * c.abs()).round().max(1.0) as u32;
    let mut out = Raster::filled(nw, nh, bg);
    if out.channels != src.channels {
        out = out.to_rgba();
    }
    let ch = src.channels as usize;
    let (cx, cy) = (w / 2.0, h / 2.0);
    let (ncx, ncy) = (nw as f64 / 2.0, nh as f64 / 2.0);
    for y in 0..nh {
        for x in 0..nw {
            // Inverse-map the output pixel centre into the source.
            let (dx, dy) = (x as f64 + 0.5 - ncx, y as f64 + 0.5 - ncy);
            let sx = dx * c + dy * s + cx - 0.5;
            let sy = -dx * s + dy * c + cy - 0.5;
            if sx < -0.5 || sy < -0.5 || sx > w - 0.5 || sy > h - 0.5 {
                continue;
            }
            let px = bilinear(&src, sx, sy);
            let i = (y as usize * nw as usize + x as usize) * ch;
            out.data[i..i + ch].copy_from_slice(&px[..ch]);
        }
    }
    out
}

pub(crate) fn bilinear(r: &Raster, x: f64, y: f64) -> [u8; 4] {
    let x0 = x.floor().clamp(0.0, (r.width - 1) as f64) as u32;
    let y0 = y.floor().clamp(0.0, (r.height - 1) as f64) as u32;
    let x1 = (x0 + 1).min(r.width - 1);
    let y1 = (y0 + 1).min(r.height - 1);
    let fx = (x - x0 as f64).clamp(0.0, 1.0);
    let fy = (y - y0 as f64).clamp(0.0, 1.0);
    let (a, b, c, d) = (
        r.pixel(x0, y0),
        r.pixel(x1, y0),
        r.pixel(x0, y1),
        r.pixel(x1, y1),
    );
    let mut out = [0u8; 4];
    for k in 0..4 {
        let top = a[k] as f64 * (1.0 - fx) + b[k] as f64 * fx;
        let bottom = c[k] as f64 * (1.0 - fx) + d[k] as f64 * fx;
        out[k] = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    out
}

/// Corner radii in pixels, clamped so that opposite corners never
/// overlap; `max` makes an ellipse.
fn radii(radius: Radius, w: u32, h: u32) -> [f64; 4] {
    let half = (w.min(h) as f64) / 2.0;
    match radius {
        Radius::Max => [half; 4],
        Radius::Corners(c) => c.map(|v| (v as f64).min(half)),
    }
}

/// Coverage (0..1) of pixel (x, y) by a rounded rectangle.
fn coverage(x: u32, y: u32, w: u32, h: u32, r: [f64; 4], ellipse: bool) -> f64 {
    let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
    let (w, h) = (w as f64, h as f64);
    if ellipse {
        let (rx, ry) = (w / 2.0, h / 2.0);
        let d = ((px - rx) / rx).powi(2) + ((py - ry) / ry).powi(2);
        let edge = d.sqrt();
        // Soften over about one pixel.
        return ((1.0 - edge) * rx.min(ry) + 0.5).clamp(0.0, 1.0);
    }
    let (cx, cy, rad) = if px < r[0] && py < r[0] {
        (r[0], r[0], r[0])
    } else if px > w - r[1] && py < r[1] {
        (w - r[1], r[1], r[1])
    } else if px > w - r[2] && py > h - r[2] {
        (w - r[2], h - r[2], r[2])
    } else if px < r[3] && py > h - r[3] {
        (r[3], h - r[3], r[3])
    } else {
        return 1.0;
    };
    let dist = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt();
    (rad - dist + 0.5).clamp(0.0, 1.0)
}

/// Rounds the corners: outside pixels become transparent.
pub fn round_corners(r: &Raster, radius: Radius) -> Raster {
    let mut out = r.to_rgba();
    let rr = radii(radius, r.width, r.height);
    let ellipse = radius == Radius::Max;
    for y in 0..r.height {
        for x in 0..r.width {
            let cov = coverage(x, y, r.width, r.height, rr, ellipse);
            if cov < 1.0 {
                let i = (y as usize * r.width as usize + x as usize) * 4 + 3;
                out.data[i] = (out.data[i] as f64 * cov).round() as u8;
            }
        }
    }
    out
}

/// Adds a solid border of `width` around the image, following rounded
/// corners when a radius was applied.
pub fn border(r: &Raster, width: u32, color: Color, radius: Option<Radius>) -> Raster {
    let (w, h) = (r.width + 2 * width, r.height + 2 * width);
    let mut canvas = match radius {
        None => Raster::filled(w, h, color),
        Some(rad) => {
            let ring = Raster::filled(w, h, color).to_rgba();
            round_corners(&ring, grow(rad, width))
        }
    };
    if r.channels == 4 {
        // A frame around a transparent picture keeps it transparent
        // inside: its pixels replace the canvas, they are not drawn on it.
        canvas = canvas.to_rgba();
        let stride = r.stride();
        for row in 0..r.height as usize {
            let dst = ((row + width as usize) * w as usize + width as usize) * 4;
            canvas.data[dst..dst + stride]
                .copy_from_slice(&r.data[row * stride..(row + 1) * stride]);
        }
        return canvas;
    }
    canvas.composite(r, width as i64, width as i64);
    canvas
}

fn grow(r: Radius, by: u32) -> Radius {
    match r {
        Radius::Max => Radius::Max,
        Radius::Corners(c) => Radius::Corners(c.map(|v| if v == 0 { 0 } else { v + by })),
    }
}

/// Multiplies alpha by `opacity` percent.
pub fn opacity(r: &Raster, opacity: u8) -> Raster {
    let mut out = r.to_rgba();
    for p in out.data.chunks_exact_mut(4) {
        p[3] = ((p[3] as u32 * opacity as u32 + 50) / 100) as u8;
    }
    out
}

/// Places `r` at (x, y) on a `w`×`h` canvas of `bg`.
pub fn pad(r: &Raster, w: u32, h: u32, x: u32, y: u32, bg: &Raster) -> Raster {
    let mut canvas = bg.clone();
    debug_assert_eq!((canvas.width, canvas.height), (w, h));
    if r.channels == 4 && canvas.channels == 3 {
        canvas = canvas.to_rgba();
    }
    canvas.composite(r, x as i64, y as i64);
    canvas
}

/// The average colour of the image's outermost pixels (`b_auto:border`).
pub fn border_color(r: &Raster) -> Color {
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    let mut add = |x: u32, y: u32| {
        let p = r.pixel(x, y);
        for k in 0..3 {
            sum[k] += p[k] as u64;
        }
        n += 1;
    };
    for x in 0..r.width {
        add(x, 0);
        add(x, r.height - 1);
    }
    for y in 0..r.height {
        add(0, y);
        add(r.width - 1, y);
    }
    let avg = |k: usize| (sum[k] / n.max(1)) as u8;
    Color::rgb(avg(0), avg(1), avg(2))
}

/// The most common colour, in 4-bit-per-channel buckets (`b_auto:predominant`).
pub fn predominant_color(r: &Raster) -> Color {
    let mut counts = vec![0u32; 4096];
    let c = r.channels as usize;
    let step = ((r.data.len() / c) / 65_536).max(1);
    for p in r.data.chunks_exact(c).step_by(step) {
        let k = (p[0] as usize >> 4) << 8 | (p[1] as usize >> 4) << 4 | p[2] as usize >> 4;
        counts[k] += 1;
    }
    let best = (0..4096).max_by_key(|&k| counts[k]).unwrap_or(0);
    let v = |s: usize| (((best >> s) & 15) * 17) as u8;
    Color::rgb(v(8), v(4), v(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_sizes() {
        let r = Raster::filled(40, 20, Color::WHITE);
        let q = rotate(&r, 90, Color::BLACK);
        assert_eq!((q.width, q.height), (20, 40));
        let d = rotate(&r, 45, Color::TRANSPARENT);
        assert!(d.has_alpha());
        assert_eq!((d.width, d.height), (42, 42));
        // Corners of a 45° rotation are background.
        assert_eq!(d.pixel(0, 0)[3], 0);
        assert_eq!(d.pixel(21, 21), [255, 255, 255, 255]);
    }

    #[test]
    fn rounded_corners_are_transparent_and_centre_is_not() {
        let r = Raster::filled(50, 50, Color::WHITE);
        let out = round_corners(&r, Radius::Corners([20; 4]));
        assert_eq!(out.pixel(0, 0)[3], 0);
        assert_eq!(out.pixel(25, 25)[3], 255);
        assert_eq!(out.pixel(25, 0)[3], 255);
        let circle = round_corners(&r, Radius::Max);
        assert_eq!(circle.pixel(2, 2)[3], 0);
    }

    #[test]
    fn border_adds_around() {
        let r = Raster::filled(10, 10, Color::WHITE);
        let b = border(&r, 3, Color::rgb(255, 0, 0), None);
        assert_eq!((b.width, b.height), (16, 16));
        assert_eq!(b.pixel(0, 0), [255, 0, 0, 255]);
        assert_eq!(b.pixel(8, 8), [255, 255, 255, 255]);
    }
}
