//! Layers that bend pixels rather than cover them: `e_displace` (the layer
//! is a displacement map for the picture under it) and `e_anti_removal`
//! (the layer itself is warped and speckled before it is drawn).

use nubo_transform::geometry::place::Spot;

use crate::raster::Raster;

/// Moves the picture's pixels under the map: red below 128 moves them
/// right and above it left, by up to `max.0` pixels at 0 and 255 (negative
/// `max` reverses it); green likewise down and up with `max.1`. The map's
/// alpha weighs the move, so its transparent pixels leave the picture be.
pub(crate) fn displaced(base: Raster, map: &Raster, spots: &[Spot], max: (f64, f64)) -> Raster {
    let src = base.to_rgba();
    let mut out = src.clone();
    let (w, h) = (src.width as i64, src.height as i64);
    for s in spots {
        for my in 0..map.height as i64 {
            let y = s.y + my;
            if !(0..h).contains(&y) {
                continue;
            }
            for mx in 0..map.width as i64 {
                let x = s.x + mx;
                if !(0..w).contains(&x) {
                    continue;
                }
                let [r, g, _, a] = map.pixel(mx as u32, my as u32);
                let weight = a as f64 / 255.0;
                let dx = max.0 * (128.0 - r as f64) / 128.0 * weight;
                let dy = max.1 * (128.0 - g as f64) / 128.0 * weight;
                let px = sample(&src, x as f64 - dx, y as f64 - dy);
                let i = ((y * w + x) * 4) as usize;
                out.data[i..i + 4].copy_from_slice(&px);
            }
        }
    }
    out
}

/// Bilinear sample of an RGBA raster, clamped to its edges.
fn sample(r: &Raster, x: f64, y: f64) -> [u8; 4] {
    let cx = x.clamp(0.0, (r.width - 1) as f64);
    let cy = y.clamp(0.0, (r.height - 1) as f64);
    let (x0, y0) = (cx.floor() as u32, cy.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(r.width - 1), (y0 + 1).min(r.height - 1));
    let (fx, fy) = (cx - x0 as f64, cy - y0 as f64);
    let (p00, p10, p01, p11) = (
        r.pixel(x0, y0),
        r.pixel(x1, y0),
        r.pixel(x0, y1),
        r.pixel(x1, y1),
    );
    let mut out = [0u8; 4];
    for c in 0..4 {
        let top = p00[c] as f64 * (1.0 - fx) + p10[c] as f64 * fx;
        let bottom = p01[c] as f64 * (1.0 - fx) + p11[c] as f64 * fx;
        out[c] = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    out
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
            let mut p = sample(&src, sx, sy);
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
