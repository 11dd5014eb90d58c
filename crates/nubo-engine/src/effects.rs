//! `e_` effects on pixels. Each works on straight-alpha RGB(A), leaves
//! alpha alone unless its purpose is alpha, and is blended where
//! Cloudinary documents a blend or strength.

use nubo_transform::{Color, Effect, Tint};

use crate::raster::Raster;

/// Applies an effect that keeps the geometry. `co` is the component's
/// `co_` colour. Region effects get their rectangle separately.
pub fn apply(r: &mut Raster, e: &Effect, co: Option<Color>) {
    use Effect::*;
    match e {
        Grayscale => map_rgb(r, |[r, g, b]| {
            let y = luma(r, g, b);
            [y, y, y]
        }),
        Blackwhite(t) => {
            let cut = *t as f32 * 2.55;
            map_rgb(r, |[r, g, b]| {
                let v = if luma(r, g, b) as f32 >= cut { 255 } else { 0 };
                [v, v, v]
            })
        }
        Sepia(n) => {
            let a = *n as f32 / 100.0;
            map_rgb(r, |[r, g, b]| {
                let (rf, gf, bf) = (r as f32, g as f32, b as f32);
                let s = [
                    0.393 * rf + 0.769 * gf + 0.189 * bf,
                    0.349 * rf + 0.686 * gf + 0.168 * bf,
                    0.272 * rf + 0.534 * gf + 0.131 * bf,
                ];
                [mix(rf, s[0], a), mix(gf, s[1], a), mix(bf, s[2], a)]
            })
        }
        Negate => map_rgb(r, |[r, g, b]| [255 - r, 255 - g, 255 - b]),
        Blur(n) => gaussian(r, *n as f32 / 40.0),
        Sharpen(n) => unsharp(r, 1.0, *n as f32 / 100.0),
        UnsharpMask(n) => unsharp(r, 2.0, *n as f32 / 100.0),
        Brightness(n) => {
            let add = *n as f32 * 1.28;
            map_lut(r, |v| v + add)
        }
        Contrast(n) => {
            let k = 1.0 + *n as f32 / 100.0;
            map_lut(r, |v| (v - 127.5) * k + 127.5)
        }
        Saturation(n) => saturate(r, 1.0 + *n as f32 / 100.0, false),
        Vibrance(n) => saturate(r, 1.0 + *n as f32 / 100.0, true),
        Hue(n) => hue_rotate(r, *n as f32 * 1.8),
        Gamma(n) => {
            let g = (1.0 + *n as f32 / 100.0).max(0.05);
            map_lut(r, |v| 255.0 * (v / 255.0).powf(1.0 / g))
        }
        Red(n) => scale_channel(r, 0, *n),
        Green(n) => scale_channel(r, 1, *n),
        Blue(n) => scale_channel(r, 2, *n),
        Pixelate(n) | PixelateRegion(n) | PixelateFaces(n) => pixelate(r, *n),
        BlurRegion(n) => gaussian(r, *n as f32 / 40.0),
        Colorize(n) => {
            let c = co.unwrap_or(Color::rgb(128, 128, 128));
            let a = *n as f32 / 100.0;
            map_rgb(r, |[r, g, b]| {
                [
                    mix(r as f32, c.r as f32, a),
                    mix(g as f32, c.g as f32, a),
                    mix(b as f32, c.b as f32, a),
                ]
            })
        }
        Tint(t) => tint(r, t),
        Vignette(n) => vignette(r, *n as f32 / 100.0),
        MakeTransparent(tol) => make_transparent(r, *tol, co),
        OilPaint(n) => oil_paint(r, *n),
        AutoBrightness(blend) => auto_levels(r, *blend, Levels::Brightness),
        AutoContrast(blend) => auto_levels(r, *blend, Levels::Contrast),
        AutoColor(blend) => auto_levels(r, *blend, Levels::Color),
        Improve { indoor, blend } => {
            auto_levels(r, *blend, Levels::Color);
            auto_levels(r, *blend, Levels::Contrast);
            if *indoor {
                saturate(r, 1.1, true);
            }
        }
        ReplaceColor {
            to,
            tolerance,
            from,
        } => crate::recolor::replace_color(r, *to, *tolerance, *from),
        AssistColorblind(s) => crate::recolor::assist_colorblind(r, *s),
        // Trim changes the geometry; the pipeline crops with `trim_box`.
        // A fade or shadow reads the component's x/y, and shadows and
        // outlines grow the canvas: the pipeline runs them.
        // Face blurs scale with each face: the pipeline runs them too.
        Trim { .. }
        | GradientFade { .. }
        | Shadow(_)
        | Outline { .. }
        | BlurFaces(_)
        | Blend(_) => {}
    }
}

fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114 + 500) / 1000) as u8
}

fn mix(a: f32, b: f32, t: f32) -> u8 {
    clamp(a + (b - a) * t)
}

fn clamp(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

fn map_rgb(r: &mut Raster, f: impl Fn([u8; 3]) -> [u8; 3]) {
    let c = r.channels as usize;
    for p in r.data.chunks_exact_mut(c) {
        let out = f([p[0], p[1], p[2]]);
        p[..3].copy_from_slice(&out);
    }
}

/// A per-value curve applied to R, G and B through a lookup table.
fn map_lut(r: &mut Raster, f: impl Fn(f32) -> f32) {
    let lut: Vec<u8> = (0..256).map(|v| clamp(f(v as f32))).collect();
    let c = r.channels as usize;
    for p in r.data.chunks_exact_mut(c) {
        for v in &mut p[..3] {
            *v = lut[*v as usize];
        }
    }
}

fn scale_channel(r: &mut Raster, ch: usize, n: i32) {
    let k = 1.0 + n as f32 / 100.0;
    let lut: Vec<u8> = (0..256).map(|v| clamp(v as f32 * k)).collect();
    let c = r.channels as usize;
    for p in r.data.chunks_exact_mut(c) {
        p[ch] = lut[p[ch] as usize];
    }
}

fn saturate(r: &mut Raster, k: f32, vibrance: bool) {
    map_rgb(r, |[r, g, b]| {
        let y = luma(r, g, b) as f32;
        let k = if vibrance {
            // Push muted colours more than saturated ones.
            let max = r.max(g).max(b) as f32;
            let min = r.min(g).min(b) as f32;
            let sat = if max == 0.0 { 0.0 } else { (max - min) / max };
            1.0 + (k - 1.0) * (1.0 - sat)
        } else {
            k
        };
        [
            clamp(y + (r as f32 - y) * k),
            clamp(y + (g as f32 - y) * k),
            clamp(y + (b as f32 - y) * k),
        ]
    })
}

/// Rotates hue around the grey axis (the luminance-preserving matrix).
fn hue_rotate(r: &mut Raster, degrees: f32) {
    let (s, c) = degrees.to_radians().sin_cos();
    let m = [
        [
            0.213 + c * 0.787 - s * 0.213,
            0.715 - c * 0.715 - s * 0.715,
            0.072 - c * 0.072 + s * 0.928,
        ],
        [
            0.213 - c * 0.213 + s * 0.143,
            0.715 + c * 0.285 + s * 0.140,
            0.072 - c * 0.072 - s * 0.283,
        ],
        [
            0.213 - c * 0.213 - s * 0.787,
            0.715 - c * 0.715 + s * 0.715,
            0.072 + c * 0.928 + s * 0.072,
        ],
    ];
    map_rgb(r, |[r, g, b]| {
        let v = [r as f32, g as f32, b as f32];
        let row = |i: usize| clamp(m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2]);
        [row(0), row(1), row(2)]
    })
}

/// Gaussian blur approximated by three box blurs per axis (error under
/// 3 %), so the cost does not grow with the radius.
pub fn gaussian(r: &mut Raster, sigma: f32) {
    if sigma < 0.3 || r.width < 2 && r.height < 2 {
        return;
    }
    let boxes = box_sizes(sigma, 3);
    let c = r.channels as usize;
    let (w, h) = (r.width as usize, r.height as usize);
    let mut tmp = vec![0u8; r.data.len()];
    for radius in boxes {
        box_pass(&r.data, &mut tmp, w, h, c, radius, true);
        box_pass(&tmp, &mut r.data, w, h, c, radius, false);
    }
}

fn box_sizes(sigma: f32, n: usize) -> Vec<usize> {
    let ideal = (12.0 * sigma * sigma / n as f32 + 1.0).sqrt();
    let mut wl = ideal.floor() as i32;
    if wl % 2 == 0 {
        wl -= 1;
    }
    let wu = wl + 2;
    let m = ((12.0 * sigma * sigma
        - (n as i32 * wl * wl) as f32
        - (4 * n as i32 * wl) as f32
        - (3 * n) as f32)
        / (-4 * wl - 4) as f32)
        .round() as i32;
    (0..n as i32)
        .map(|i| (((if i < m { wl } else { wu }) - 1) / 2).max(0) as usize)
        .collect()
}

/// One running-sum box blur along rows (`horizontal`) or columns, with
/// edges clamped.
fn box_pass(
    src: &[u8],
    dst: &mut [u8],
    w: usize,
    h: usize,
    c: usize,
    rad: usize,
    horizontal: bool,
) {
    let (len, lines) = if horizontal { (w, h) } else { (h, w) };
    let idx = |line: usize, i: usize| {
        if horizontal {
            (line * w + i) * c
        } else {
            (i * w + line) * c
        }
    };
    let span = (2 * rad + 1) as u32;
    for line in 0..lines {
        for k in 0..c {
            let at = |i: isize| src[idx(line, i.clamp(0, len as isize - 1) as usize) + k] as u32;
            let mut sum: u32 = (-(rad as isize)..=rad as isize).map(at).sum();
            for i in 0..len {
                dst[idx(line, i) + k] = ((sum + span / 2) / span) as u8;
                sum += at(i as isize + rad as isize + 1);
                sum -= at(i as isize - rad as isize);
            }
        }
    }
}

fn unsharp(r: &mut Raster, sigma: f32, amount: f32) {
    let mut blurred = r.clone();
    gaussian(&mut blurred, sigma);
    let c = r.channels as usize;
    for (p, b) in r.data.chunks_exact_mut(c).zip(blurred.data.chunks_exact(c)) {
        for k in 0..3 {
            let v = p[k] as f32 + (p[k] as f32 - b[k] as f32) * amount;
            p[k] = clamp(v);
        }
    }
}

fn pixelate(r: &mut Raster, n: u32) {
    let n = n.max(1) as usize;
    let c = r.channels as usize;
    let (w, h) = (r.width as usize, r.height as usize);
    for by in (0..h).step_by(n) {
        for bx in (0..w).step_by(n) {
            let (ey, ex) = ((by + n).min(h), (bx + n).min(w));
            let mut sum = [0u64; 4];
            for y in by..ey {
                for x in bx..ex {
                    let i = (y * w + x) * c;
                    for (acc, v) in sum.iter_mut().zip(&r.data[i..i + c]) {
                        *acc += *v as u64;
                    }
                }
            }
            let count = ((ey - by) * (ex - bx)) as u64;
            for y in by..ey {
                for x in bx..ex {
                    let i = (y * w + x) * c;
                    for (v, acc) in r.data[i..i + c].iter_mut().zip(&sum) {
                        *v = ((acc + count / 2) / count) as u8;
                    }
                }
            }
        }
    }
}

/// Maps luminance through a gradient of the tint colours, blended by
/// the amount; `equalize` stretches luminance first.
fn tint(r: &mut Raster, t: &Tint) {
    let n = t.stops.len();
    let stops: Vec<(f32, Color)> = t
        .stops
        .iter()
        .enumerate()
        .map(|(i, (c, p))| {
            let default = if n == 1 {
                0.0
            } else {
                i as f32 / (n - 1) as f32
            };
            (p.map_or(default, |p| p as f32 / 100.0), *c)
        })
        .collect();
    let (lo, hi) = if t.equalize {
        luma_range(r)
    } else {
        (0.0, 255.0)
    };
    let a = t.amount as f32 / 100.0;
    map_rgb(r, |[rr, g, b]| {
        let y = ((luma(rr, g, b) as f32 - lo) / (hi - lo).max(1.0)).clamp(0.0, 1.0);
        let c = gradient(&stops, y);
        // Keep the pixel's brightness, take the tint's hue.
        let shade = |tc: u8, orig: u8| mix(orig as f32, tc as f32 * (0.25 + 0.75 * y), a);
        [shade(c.r, rr), shade(c.g, g), shade(c.b, b)]
    })
}

fn gradient(stops: &[(f32, Color)], y: f32) -> Color {
    if stops.len() == 1 || y <= stops[0].0 {
        return stops[0].1;
    }
    for w in stops.windows(2) {
        let ((p0, c0), (p1, c1)) = (w[0], w[1]);
        if y <= p1 {
            let t = if p1 > p0 { (y - p0) / (p1 - p0) } else { 1.0 };
            let m = |a: u8, b: u8| mix(a as f32, b as f32, t);
            return Color::rgb(m(c0.r, c1.r), m(c0.g, c1.g), m(c0.b, c1.b));
        }
    }
    stops[stops.len() - 1].1
}

/// The 1st and 99th percentile of luminance.
fn luma_range(r: &Raster) -> (f32, f32) {
    let mut hist = [0u64; 256];
    let c = r.channels as usize;
    for p in r.data.chunks_exact(c) {
        hist[luma(p[0], p[1], p[2]) as usize] += 1;
    }
    percentiles(&hist)
}

fn percentiles(hist: &[u64; 256]) -> (f32, f32) {
    let total: u64 = hist.iter().sum();
    let cut = total / 100;
    let mut acc = 0;
    let mut lo = 0;
    for (i, n) in hist.iter().enumerate() {
        acc += n;
        if acc > cut {
            lo = i;
            break;
        }
    }
    acc = 0;
    let mut hi = 255;
    for (i, n) in hist.iter().enumerate().rev() {
        acc += n;
        if acc > cut {
            hi = i;
            break;
        }
    }
    (lo as f32, hi.max(lo + 1) as f32)
}

fn vignette(r: &mut Raster, strength: f32) {
    let c = r.channels as usize;
    let (w, h) = (r.width as f32, r.height as f32);
    let (cx, cy) = (w / 2.0, h / 2.0);
    let width = r.width as usize;
    for (i, p) in r.data.chunks_exact_mut(c).enumerate() {
        let (x, y) = ((i % width) as f32 + 0.5, (i / width) as f32 + 0.5);
        let d = ((x - cx) / cx).powi(2) + ((y - cy) / cy).powi(2);
        let k = (1.0 - strength * (d / 2.0).clamp(0.0, 1.0) * 1.5).clamp(0.0, 1.0);
        for v in &mut p[..3] {
            *v = clamp(*v as f32 * k);
        }
    }
}

fn close(p: &[u8], c: Color, tol: u8) -> bool {
    let t = tol as i32 * 255 / 100;
    (p[0] as i32 - c.r as i32).abs() <= t
        && (p[1] as i32 - c.g as i32).abs() <= t
        && (p[2] as i32 - c.b as i32).abs() <= t
}

fn corner(r: &Raster) -> Color {
    let [red, g, b, _] = r.pixel(0, 0);
    Color::rgb(red, g, b)
}

fn make_transparent(r: &mut Raster, tol: u8, co: Option<Color>) {
    let target = co.unwrap_or_else(|| corner(r));
    let mut out = r.to_rgba();
    for p in out.data.chunks_exact_mut(4) {
        if close(p, target, tol) {
            p[3] = 0;
        }
    }
    *r = out;
}

/// The box that `e_trim` keeps: everything not matching the corner (or
/// given) colour. `None` when the whole image matches.
pub fn trim_box(r: &Raster, tol: u8, color: Option<Color>) -> Option<(u32, u32, u32, u32)> {
    let target = color.unwrap_or_else(|| corner(r));
    let c = r.channels as usize;
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..r.height {
        for x in 0..r.width {
            let i = (y as usize * r.width as usize + x as usize) * c;
            let p = &r.data[i..i + c];
            let transparent_match = c == 4 && p[3] == 0 && target.a == 0;
            if !close(p, target, tol) && !transparent_match {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
    }
    (x0 != u32::MAX).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

/// The classic oil-paint filter: each pixel takes the mean colour of the
/// most common intensity bucket in its neighbourhood.
fn oil_paint(r: &mut Raster, n: u8) {
    let radius = 1 + n as i32 / 25;
    const LEVELS: usize = 20;
    let c = r.channels as usize;
    let (w, h) = (r.width as i32, r.height as i32);
    let src = r.data.clone();
    for y in 0..h {
        for x in 0..w {
            let mut count = [0u32; LEVELS];
            let mut sum = [[0u32; 3]; LEVELS];
            for dy in -radius..=radius {
                let yy = (y + dy).clamp(0, h - 1);
                for dx in -radius..=radius {
                    let xx = (x + dx).clamp(0, w - 1);
                    let i = (yy * w + xx) as usize * c;
                    let l = luma(src[i], src[i + 1], src[i + 2]) as usize * (LEVELS - 1) / 255;
                    count[l] += 1;
                    for k in 0..3 {
                        sum[l][k] += src[i + k] as u32;
                    }
                }
            }
            let best = (0..LEVELS).max_by_key(|&l| count[l]).unwrap_or(0);
            let i = (y * w + x) as usize * c;
            for (v, acc) in r.data[i..i + 3].iter_mut().zip(&sum[best]) {
                *v = (acc / count[best].max(1)) as u8;
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Levels {
    Brightness,
    Contrast,
    Color,
}

fn auto_levels(r: &mut Raster, blend: u8, mode: Levels) {
    let a = blend as f32 / 100.0;
    let c = r.channels as usize;
    let mut hists = [[0u64; 256]; 4];
    for p in r.data.chunks_exact(c) {
        hists[0][p[0] as usize] += 1;
        hists[1][p[1] as usize] += 1;
        hists[2][p[2] as usize] += 1;
        hists[3][luma(p[0], p[1], p[2]) as usize] += 1;
    }
    let luts: Vec<Vec<u8>> = match mode {
        Levels::Contrast => {
            let (lo, hi) = percentiles(&hists[3]);
            let lut = stretch_lut(lo, hi, a);
            vec![lut.clone(), lut.clone(), lut]
        }
        Levels::Color => (0..3)
            .map(|k| {
                let (lo, hi) = percentiles(&hists[k]);
                stretch_lut(lo, hi, a)
            })
            .collect(),
        Levels::Brightness => {
            let total: u64 = hists[3].iter().sum::<u64>().max(1);
            let mean: f32 = hists[3]
                .iter()
                .enumerate()
                .map(|(i, n)| i as f32 * *n as f32)
                .sum::<f32>()
                / total as f32;
            // A gamma that moves the mean luminance to the middle grey.
            let g = ((mean / 255.0).max(0.01).ln() / 0.5f32.ln()).clamp(0.3, 3.0);
            let lut: Vec<u8> = (0..256)
                .map(|v| mix(v as f32, 255.0 * (v as f32 / 255.0).powf(1.0 / g), a))
                .collect();
            vec![lut.clone(), lut.clone(), lut]
        }
    };
    for p in r.data.chunks_exact_mut(c) {
        for k in 0..3 {
            p[k] = luts[k][p[k] as usize];
        }
    }
}

fn stretch_lut(lo: f32, hi: f32, blend: f32) -> Vec<u8> {
    (0..256)
        .map(|v| {
            let s = (v as f32 - lo) * 255.0 / (hi - lo).max(1.0);
            mix(v as f32, s.clamp(0.0, 255.0), blend)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(rgb: [u8; 3]) -> Raster {
        Raster::filled(8, 8, Color::rgb(rgb[0], rgb[1], rgb[2]))
    }

    #[test]
    fn colour_effects_move_pixels_the_right_way() {
        let mut g = solid([200, 50, 50]);
        apply(&mut g, &Effect::Grayscale, None);
        let p = g.pixel(0, 0);
        assert!(p[0] == p[1] && p[1] == p[2]);
        let mut n = solid([200, 50, 10]);
        apply(&mut n, &Effect::Negate, None);
        assert_eq!(n.pixel(3, 3), [55, 205, 245, 255]);
        let mut b = solid([100, 100, 100]);
        apply(&mut b, &Effect::Brightness(50), None);
        assert!(b.pixel(0, 0)[0] > 150);
        let mut s = solid([200, 100, 100]);
        apply(&mut s, &Effect::Saturation(-100), None);
        let p = s.pixel(0, 0);
        assert!(p[0] == p[1] && p[1] == p[2]);
        let mut red = solid([100, 100, 100]);
        apply(&mut red, &Effect::Red(50), None);
        assert_eq!(red.pixel(0, 0)[..3], [150, 100, 100]);
        let mut col = solid([0, 0, 0]);
        apply(
            &mut col,
            &Effect::Colorize(100),
            Some(Color::rgb(10, 20, 30)),
        );
        assert_eq!(col.pixel(0, 0)[..3], [10, 20, 30]);
    }

    #[test]
    fn blur_smooths_an_edge_and_keeps_flat_areas() {
        let mut r = Raster::filled(40, 10, Color::BLACK);
        for y in 0..10 {
            for x in 20..40 {
                let i = (y * 40 + x) * 3;
                r.data[i..i + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
        apply(&mut r, &Effect::Blur(200), None);
        let edge = r.pixel(20, 5)[0];
        assert!(edge > 60 && edge < 200, "edge {edge}");
        assert_eq!(r.pixel(0, 5)[0], 0);
        assert_eq!(r.pixel(39, 5)[0], 255);
    }

    #[test]
    fn trim_finds_the_content() {
        let mut r = Raster::filled(20, 10, Color::WHITE);
        for y in 3..6 {
            for x in 4..9 {
                let i = (y * 20 + x) * 3;
                r.data[i..i + 3].copy_from_slice(&[0, 0, 0]);
            }
        }
        assert_eq!(trim_box(&r, 10, None), Some((4, 3, 5, 3)));
        assert_eq!(
            trim_box(&Raster::filled(5, 5, Color::WHITE), 10, None),
            None
        );
    }

    #[test]
    fn pixelate_averages_blocks() {
        let mut r = Raster::new(2, 1, 3, vec![0, 0, 0, 200, 100, 50]);
        apply(&mut r, &Effect::Pixelate(2), None);
        assert_eq!(r.data, vec![100, 50, 25, 100, 50, 25]);
    }
}
