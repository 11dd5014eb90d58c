//! The importance map behind `g_auto`, in the smartcrop family: edges,
//! skin tones and saturation scored on a small copy of the picture, with
//! detected faces weighted above everything else.

use nubo_transform::{Region, Saliency, Size};

use crate::raster::Raster;
use crate::resize;

/// Long side of the scored copy; every pixel of it is one map cell.
const MAP_SIDE: u32 = 96;
const EDGE_WEIGHT: f32 = 1.0;
const SKIN_WEIGHT: f32 = 1.8;
const SATURATION_WEIGHT: f32 = 0.3;
const FACE_WEIGHT: f32 = 3.0;
/// smartcrop's skin reference, as a unit RGB direction.
const SKIN: [f32; 3] = [0.78, 0.57, 0.44];

/// The map of `r`, with `faces` in `r`'s pixels, over an image of `logical`
/// size (the size the geometry works in).
pub fn saliency(r: &Raster, faces: &[Region], logical: Size) -> Option<Saliency> {
    let long = r.width.max(r.height);
    let s = (MAP_SIDE as f64 / long as f64).min(1.0);
    let w = ((r.width as f64 * s).round() as u32).max(1);
    let h = ((r.height as f64 * s).round() as u32).max(1);
    let small = if s < 1.0 {
        resize::resample(r, None, w, h).ok()?
    } else {
        r.clone()
    };
    let mut weights = score(&small);
    let (fx, fy) = (w as f64 / r.width as f64, h as f64 / r.height as f64);
    for f in faces {
        let x0 = (f.x * fx).floor().max(0.0) as usize;
        let y0 = (f.y * fy).floor().max(0.0) as usize;
        let x1 = (((f.x + f.w) * fx).ceil() as usize).min(w as usize);
        let y1 = (((f.y + f.h) * fy).ceil() as usize).min(h as usize);
        for y in y0..y1 {
            for x in x0..x1 {
                weights[y * w as usize + x] += FACE_WEIGHT;
            }
        }
    }
    Saliency::new(w as usize, h as usize, &weights, logical)
}

/// Per-pixel importance of a small picture.
fn score(r: &Raster) -> Vec<f32> {
    let (w, h, c) = (r.width as usize, r.height as usize, r.channels as usize);
    let px = |x: usize, y: usize| {
        let i = (y * w + x) * c;
        [
            r.data[i] as f32 / 255.0,
            r.data[i + 1] as f32 / 255.0,
            r.data[i + 2] as f32 / 255.0,
        ]
    };
    let lum = |p: [f32; 3]| 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let p = px(x, y);
            let l = lum(p);
            let n = [
                lum(px(x.saturating_sub(1), y)),
                lum(px((x + 1).min(w - 1), y)),
                lum(px(x, y.saturating_sub(1))),
                lum(px(x, (y + 1).min(h - 1))),
            ];
            let edge = (4.0 * l - n.iter().sum::<f32>()).abs().min(1.0);
            out[y * w + x] =
                EDGE_WEIGHT * edge + SKIN_WEIGHT * skin(p, l) + SATURATION_WEIGHT * saturation(p);
        }
    }
    out
}

/// How skin-like a pixel's colour is, 0 to 1; dark pixels are not skin.
fn skin(p: [f32; 3], l: f32) -> f32 {
    let mag = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
    if mag == 0.0 || !(0.2..=1.0).contains(&l) {
        return 0.0;
    }
    let d = ((p[0] / mag - SKIN[0]).powi(2)
        + (p[1] / mag - SKIN[1]).powi(2)
        + (p[2] / mag - SKIN[2]).powi(2))
    .sqrt();
    ((1.0 - d - 0.8) / 0.2).clamp(0.0, 1.0)
}

/// HSL saturation above 0.4, for pixels neither black nor white.
fn saturation(p: [f32; 3]) -> f32 {
    let max = p[0].max(p[1]).max(p[2]);
    let min = p[0].min(p[1]).min(p[2]);
    let l = (max + min) / 2.0;
    if max == min || !(0.05..=0.9).contains(&l) {
        return 0.0;
    }
    let d = max - min;
    let s = if l > 0.5 {
        d / (2.0 - max - min)
    } else {
        d / (max + min)
    };
    ((s - 0.4) / 0.6).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canvas(w: u32, h: u32, rgb: [u8; 3]) -> Raster {
        let data = rgb.iter().copied().cycle().take((w * h * 3) as usize);
        Raster::new(w, h, 3, data.collect())
    }

    fn paint(r: &mut Raster, x0: u32, y0: u32, size: u32, rgb: [u8; 3]) {
        for y in y0..y0 + size {
            for x in x0..x0 + size {
                let i = ((y * r.width + x) * 3) as usize;
                r.data[i..i + 3].copy_from_slice(&rgb);
            }
        }
    }

    #[test]
    fn a_skin_coloured_patch_draws_the_window() {
        let mut r = canvas(300, 100, [40, 60, 90]);
        paint(&mut r, 240, 30, 40, [224, 172, 140]);
        let size = Size::new(300, 100);
        let s = saliency(&r, &[], size).unwrap();
        let (x, _) = s.best_window(size, 100.0, 100.0);
        assert!(x >= 180.0, "window at {x}");
    }

    #[test]
    fn a_face_outweighs_a_busy_background() {
        // Stripes on the left, a plain face region on the right.
        let mut r = canvas(300, 100, [128, 128, 128]);
        for x in (0..100).step_by(2) {
            for y in 0..100 {
                let i = ((y * 300 + x) * 3) as usize;
                r.data[i..i + 3].copy_from_slice(&[0, 0, 0]);
            }
        }
        let size = Size::new(300, 100);
        let face = Region::new(220.0, 20.0, 60.0, 60.0);
        let without = saliency(&r, &[], size)
            .unwrap()
            .best_window(size, 100.0, 100.0);
        let with = saliency(&r, &[face], size)
            .unwrap()
            .best_window(size, 100.0, 100.0);
        assert!(without.0 < 50.0, "{without:?}");
        assert!(with.0 >= 180.0, "{with:?}");
    }

    #[test]
    fn flat_pictures_leave_the_window_centred() {
        let r = canvas(200, 100, [10, 200, 30]);
        let size = Size::new(2000, 1000);
        let s = saliency(&r, &[], size).unwrap();
        assert_eq!(s.best_window(size, 1000.0, 1000.0), (500.0, 0.0));
    }
}
