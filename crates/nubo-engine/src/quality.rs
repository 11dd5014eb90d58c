//! `quality_analysis`: how sharp, contrasty, well exposed and colourful an
//! image is, each scored 0 to 1 from a reduced decode. The scores are
//! relative measures with their formulas stated, not Cloudinary's model.

use crate::raster::Raster;

/// The long side analysed: blur shows at this size, noise mostly not.
pub const ANALYSIS_SIDE: u32 = 512;
/// Laplacian variance (8-bit luma) at which `focus` reaches 0.63; sharp
/// photos at 512 px measure several hundred, defocused ones tens.
const FOCUS_SCALE: f64 = 150.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityAnalysis {
    /// `1 - exp(-var(Laplacian) / 150)` on luma.
    pub focus: f64,
    /// Luma standard deviation over 64, capped at 1.
    pub contrast: f64,
    /// One minus twice the distance of mean luma from mid-grey, less the
    /// share of clipped (0 or 255) pixels.
    pub exposure: f64,
    /// Mean HSV saturation over 0.35, capped at 1.
    pub saturation: f64,
}

impl QualityAnalysis {
    /// The mean of the four scores.
    pub fn score(&self) -> f64 {
        (self.focus + self.contrast + self.exposure + self.saturation) / 4.0
    }
}

fn round3(v: f64) -> f64 {
    (v.clamp(0.0, 1.0) * 1000.0).round() / 1000.0
}

pub fn analyse(r: &Raster) -> QualityAnalysis {
    let (w, h, c) = (r.width as usize, r.height as usize, r.channels as usize);
    let luma: Vec<f64> = r
        .data
        .chunks_exact(c)
        .map(|p| 0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64)
        .collect();
    let n = luma.len().max(1) as f64;
    let mean = luma.iter().sum::<f64>() / n;
    let std = (luma.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let clipped = luma.iter().filter(|&&v| !(0.5..254.5).contains(&v)).count() as f64 / n;
    let mut lap = Vec::with_capacity(w.saturating_sub(2) * h.saturating_sub(2));
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let at = |xx: usize, yy: usize| luma[yy * w + xx];
            lap.push(4.0 * at(x, y) - at(x - 1, y) - at(x + 1, y) - at(x, y - 1) - at(x, y + 1));
        }
    }
    let lap_n = lap.len().max(1) as f64;
    let lap_mean = lap.iter().sum::<f64>() / lap_n;
    let lap_var = lap.iter().map(|v| (v - lap_mean).powi(2)).sum::<f64>() / lap_n;
    let sat = r
        .data
        .chunks_exact(c)
        .map(|p| {
            let max = p[0].max(p[1]).max(p[2]) as f64;
            let min = p[0].min(p[1]).min(p[2]) as f64;
            if max == 0.0 {
                0.0
            } else {
                (max - min) / max
            }
        })
        .sum::<f64>()
        / n;
    QualityAnalysis {
        focus: round3(1.0 - (-lap_var / FOCUS_SCALE).exp()),
        contrast: round3(std / 64.0),
        exposure: round3(1.0 - 2.0 * (mean / 255.0 - 0.5).abs() - clipped),
        saturation: round3(sat / 0.35),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects;

    /// A checkerboard of 4-pixel squares with a colour gradient.
    fn detailed() -> Raster {
        let mut data = Vec::new();
        for y in 0..128u32 {
            for x in 0..128u32 {
                let on = (x / 4 + y / 4) % 2 == 0;
                let v = if on { 220 } else { 40 };
                data.extend_from_slice(&[v, (x * 2) as u8, (255 - y * 2) as u8]);
            }
        }
        Raster::new(128, 128, 3, data)
    }

    #[test]
    fn blur_lowers_focus_and_grey_lowers_saturation() {
        let sharp = detailed();
        let mut blurred = sharp.clone();
        effects::gaussian(&mut blurred, 4.0);
        let (a, b) = (analyse(&sharp), analyse(&blurred));
        assert!(a.focus > 0.9 && b.focus < a.focus / 2.0, "{a:?} {b:?}");
        assert!(a.contrast > b.contrast);
        let grey = Raster::new(64, 64, 3, vec![128; 64 * 64 * 3]);
        let g = analyse(&grey);
        assert_eq!((g.focus, g.contrast, g.saturation), (0.0, 0.0, 0.0));
        assert!(g.exposure > 0.99, "{g:?}");
        let black = Raster::new(64, 64, 3, vec![0; 64 * 64 * 3]);
        assert_eq!(analyse(&black).exposure, 0.0);
        assert!(
            (a.score() - (a.focus + a.contrast + a.exposure + a.saturation) / 4.0).abs() < 1e-12
        );
    }
}
