//! Nubo addition: a lossy frame brought out at 1/2, 1/4 or 1/8 of its size.
//!
//! Each output pixel is the mean of a `d`×`d` block of luma and of the
//! matching `d/2`×`d/2` block of each chroma plane, converted to RGB once.
//! The full-size RGB picture is never made, so the conversion runs on
//! 1/d² of the pixels and the resampler that follows starts from a small
//! image, as libwebp's scaled decoding does for libvips. Blocks at the right
//! and bottom edges average the pixels that lie inside the picture.

use crate::vp8::Frame;
use crate::yuv;

/// A picture at reduced size, 3 bytes per pixel, rows packed.
pub struct ReducedRgb {
    /// Width in pixels: the full width divided by the denominator, rounded up.
    pub width: u32,
    /// Height in pixels, likewise.
    pub height: u32,
    /// RGB bytes, `width * height * 3` of them.
    pub pixels: Vec<u8>,
}

/// `frame` at 1/`denominator` of its size; `denominator` is 2, 4 or 8.
pub(crate) fn reduce_frame(frame: &Frame, denominator: usize) -> ReducedRgb {
    debug_assert!(matches!(denominator, 2 | 4 | 8));
    let (w, h) = (usize::from(frame.width), usize::from(frame.height));
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let stride = usize::from(frame.buffer_width());
    let chroma_stride = stride / 2;
    let y = reduce_plane(&frame.ybuf, stride, w, h, denominator);
    let u = reduce_plane(&frame.ubuf, chroma_stride, cw, ch, denominator / 2);
    let v = reduce_plane(&frame.vbuf, chroma_stride, cw, ch, denominator / 2);
    let mut pixels = vec![0; y.len() * 3];
    for (((rgb, &y), &u), &v) in pixels.chunks_exact_mut(3).zip(&y).zip(&u).zip(&v) {
        rgb[0] = yuv::yuv_to_r(y, v);
        rgb[1] = yuv::yuv_to_g(y, u, v);
        rgb[2] = yuv::yuv_to_b(y, u);
    }
    ReducedRgb {
        width: w.div_ceil(denominator) as u32,
        height: h.div_ceil(denominator) as u32,
        pixels,
    }
}

/// The means of `d`×`d` blocks of the `w`×`h` plane held in `plane` with
/// rows `stride` apart, rounded to nearest; edge blocks are partial.
fn reduce_plane(plane: &[u8], stride: usize, w: usize, h: usize, d: usize) -> Vec<u8> {
    let (ow, oh) = (w.div_ceil(d), h.div_ceil(d));
    let mut out = Vec::with_capacity(ow * oh);
    let mut sums = vec![0u32; ow];
    for band in 0..oh {
        sums.fill(0);
        let rows = (band * d..((band + 1) * d).min(h)).map(|r| &plane[r * stride..][..w]);
        let height = rows.len();
        for row in rows {
            add_row(&mut sums, row, d);
        }
        for (i, &sum) in sums.iter().enumerate() {
            let count = ((w - i * d).min(d) * height) as u32;
            out.push(((sum + count / 2) / count) as u8);
        }
    }
    out
}

/// Adds each `d` wide run of `row` to its column of `sums`.
fn add_row(sums: &mut [u32], row: &[u8], d: usize) {
    fn runs<const D: usize>(sums: &mut [u32], row: &[u8]) {
        let mut chunks = row.chunks_exact(D);
        for (sum, run) in sums.iter_mut().zip(&mut chunks) {
            *sum += run.iter().map(|&p| u32::from(p)).sum::<u32>();
        }
        if let Some(last) = sums.get_mut(row.len() / D) {
            *last += chunks
                .remainder()
                .iter()
                .map(|&p| u32::from(p))
                .sum::<u32>();
        }
    }
    match d {
        1 => sums
            .iter_mut()
            .zip(row)
            .for_each(|(s, &p)| *s += u32::from(p)),
        2 => runs::<2>(sums, row),
        4 => runs::<4>(sums, row),
        _ => runs::<8>(sums, row),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_average_whole_and_partial_blocks() {
        // 5x3 plane, stride 8 (padding holds 255s that must not count).
        let mut plane = vec![255u8; 8 * 3];
        for r in 0..3 {
            for c in 0..5 {
                plane[r * 8 + c] = (r * 10 + c) as u8;
            }
        }
        let out = reduce_plane(&plane, 8, 5, 3, 2);
        // Blocks: cols 0-1, 2-3, 4; rows 0-1, 2.
        assert_eq!(out, vec![6, 8, 9, 21, 23, 24]);
    }

    #[test]
    fn a_flat_plane_stays_flat_at_every_denominator() {
        for d in [1, 2, 4, 8] {
            let plane = vec![77u8; 40 * 19];
            let out = reduce_plane(&plane, 40, 37, 19, d);
            assert_eq!(out.len(), 37usize.div_ceil(d) * 19usize.div_ceil(d));
            assert!(out.iter().all(|&p| p == 77), "d={d}");
        }
    }
}
