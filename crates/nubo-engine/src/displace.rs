//! Layers that bend pixels rather than cover them: `e_displace` (the layer
//! is a displacement map for the picture under it) and `e_anti_removal`
//! (the layer itself is warped and speckled before it is drawn).

use nubo_transform::geometry::place::Spot;
use nubo_transform::Size;

use crate::geometry_ops::bilinear;
use crate::raster::Raster;

/// Moves the picture's pixels under the map: red below 128 moves them
/// right and above it left, by up to `max.0` pixels at 0 and 255 (negative
/// `max` reverses it); green likewise down and up with `max.1`. The map's
/// alpha weighs the move, so its transparent pixels leave the picture be.
pub(crate) fn displaced(base: Raster, map: &Raster, spots: &[Spot], max: (f64, f64)) -> Raster {
    let src = base.to_rgba();
    let mut out = src.clone();
    covered(
        Size::new(src.width, src.height),
        map,
        spots,
        |x, y, [r, g, _, a]| {
            let weight = a as f64 / 255.0;
            let dx = max.0 * (128.0 - r as f64) / 128.0 * weight;
            let dy = max.1 * (128.0 - g as f64) / 128.0 * weight;
            let px = bilinear(&src, x as f64 - dx, y as f64 - dy);
            let i = (y as usize * src.width as usize + x as usize) * 4;
            out.data[i..i + 4].copy_from_slice(&px);
        },
    );
    out
}

/// Calls `f` with each picture pixel (of a `size` picture) that a layer
/// at `spots` covers, and the layer's pixel there.
pub(crate) fn covered(
    size: Size,
    layer: &Raster,
    spots: &[Spot],
    mut f: impl FnMut(u32, u32, [u8; 4]),
) {
    let (w, h) = (size.w as i64, size.h as i64);
    for s in spots {
        for ly in 0..layer.height as i64 {
            let y = s.y + ly;
            if !(0..h).contains(&y) {
                continue;
            }
            for lx in 0..layer.width as i64 {
                let x = s.x + lx;
                if (0..w).contains(&x) {
                    f(x as u32, y as u32, layer.pixel(lx as u32, ly as u32));
                }
            }
        }
    }
}

/// The layer warped by two crossed waves of pseudo-random phase and
/// speckled with noise, both growing with `level` (1–100): a removal
/// tool can no longer subtract one clean shape. Deterministic, so the
/// same URL gives the same bytes.
pub(crate) fn anti_removal(layer: &Raster, level: u8) -> Raster {
    let src = layer.to_rgba();
    let (w, h) = (src.width as f64, src.height as f64);
    let strength = level as f64 / 100.0;
    let amplitude = strength * (w.min(h) / 25.0).max(2.0);
    let (wave_x, wave_y) = ((h / 3.0).max(4.0), (w / 3.0).max(4.0));
    let phase =
        |salt: u64| (noise(salt, w as u64, h as u64) as f64 / 255.0) * std::f64::consts::TAU;
    let (px, py) = (phase(1), phase(2));
    let mut out = src.clone();
    for y in 0..src.height {
        for x in 0..src.width {
            let fy = y as f64 / wave_x * std::f64::consts::TAU + px;
            let fx = x as f64 / wave_y * std::f64::consts::TAU + py;
            let sx = x as f64 + amplitude * fy.sin();
            let sy = y as f64 + amplitude * fx.sin();
            let mut p = bilinear(&src, sx, sy);
            // Noise on what is drawn, not on the transparent surround.
            if p[3] > 0 {
                let n = noise(3, x as u64, y as u64) as f64 - 127.5;
                let delta = (n * strength * 0.25).round() as i32;
                for c in p.iter_mut().take(3) {
                    *c = (*c as i32 + delta).clamp(0, 255) as u8;
                }
            }
            let i = ((y * src.width + x) * 4) as usize;
            out.data[i..i + 4].copy_from_slice(&p);
        }
    }
    out
}

/// A byte of hash noise for a position (SplitMix64 of the coordinates).
fn noise(salt: u64, x: u64, y: u64) -> u8 {
    let mut z = salt
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(x.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(y.wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as u8
}
