//! One AV1 frame decoded by rav1d, the memorysafety.org Rust port of
//! dav1d, carried in-tree (vendor/README.md): without its assembly, with
//! its functions able to unwind, and with a Rust API for stills
//! (`rav1d::src::still`) in which every value is owned by Rust. A panic
//! inside the decoder (a bug a hostile stream found) is caught here and
//! becomes an error, so one upload cannot stop the server.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rav1d::src::still::{PlaneView, StillDecoder, StillPicture};

/// How chroma is sampled against luma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Mono,
    I420,
    I422,
    I444,
}

/// A decoded frame's planes, samples widened to 16 bits.
#[derive(Debug)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub bit_depth: u8,
    pub layout: Layout,
    /// Y, then U and V (empty for `Mono`), rows packed.
    pub planes: [Vec<u16>; 3],
    /// ISO/IEC 23091-4 colour primaries, transfer characteristics and
    /// matrix coefficients from the sequence header.
    pub primaries: u32,
    pub transfer: u32,
    pub matrix: u32,
    pub full_range: bool,
}

impl Frame {
    /// Width and height of the chroma planes.
    pub fn chroma_size(&self) -> (u32, u32) {
        match self.layout {
            Layout::Mono => (0, 0),
            Layout::I420 => (self.width.div_ceil(2), self.height.div_ceil(2)),
            Layout::I422 => (self.width.div_ceil(2), self.height),
            Layout::I444 => (self.width, self.height),
        }
    }
}

/// Decodes the first frame of an AV1 bitstream (the OBUs of an AVIF
/// item), refusing frames of more than `max_pixels`, and returns it `d`
/// times smaller (as [`Frame::reduced`]; 1: as it is) with its full size.
/// A reduced frame is averaged straight from the decoder's buffers, so
/// the full-size samples are never copied.
///
/// The decoder is dropped (closed) under its own guard, apart from the
/// decode, so that a decoder left odd by a panic cannot unwind through
/// this function either.
pub fn decode_frame(obu: &[u8], max_pixels: u64, d: u32) -> Result<(Frame, (u32, u32)), String> {
    let limit = max_pixels.clamp(1, u64::from(u32::MAX)) as u32;
    let decoder = catch_unwind(|| StillDecoder::new(limit))
        .unwrap_or_else(|_| Err("AV1 decoder did not open".into()))?;
    let frame = catch_unwind(AssertUnwindSafe(|| decoder.decode(obu, |p| frame(p, d))))
        .unwrap_or_else(|_| Err("AV1 data made the decoder fail".into()));
    let _ = catch_unwind(AssertUnwindSafe(move || drop(decoder)));
    frame.and_then(|f| f)
}

fn frame(p: &StillPicture, d: u32) -> Result<(Frame, (u32, u32)), String> {
    let layout = match p.layout {
        0 => Layout::Mono,
        1 => Layout::I420,
        2 => Layout::I422,
        3 => Layout::I444,
        other => return Err(format!("unknown AV1 pixel layout {other}")),
    };
    let mut f = Frame {
        width: p.width,
        height: p.height,
        bit_depth: p.bit_depth,
        layout,
        planes: Default::default(),
        primaries: u32::from(p.primaries),
        transfer: u32::from(p.transfer),
        matrix: u32::from(p.matrix),
        full_range: p.full_range,
    };
    let full = (p.width, p.height);
    if d <= 1 {
        for (plane, view) in f.planes.iter_mut().zip(&p.planes) {
            if let Some(v) = view {
                *plane = copy(v);
            }
        }
        return Ok((f, full));
    }
    let steps = f.reduction_steps(d);
    let (ow, oh) = steps.out;
    for (i, (plane, view)) in f.planes.iter_mut().zip(&p.planes).enumerate() {
        if let Some(v) = view {
            let step = if i == 0 {
                (steps.d, steps.d)
            } else {
                steps.chroma
            };
            *plane = box_mean(
                |y, row| v.read_row(y, row),
                (v.width, v.height),
                (ow, oh),
                step,
            );
        }
    }
    f.width = ow as u32;
    f.height = oh as u32;
    if layout != Layout::Mono {
        f.layout = Layout::I444;
    }
    Ok((f, full))
}

/// A plane's samples, rows packed.
fn copy(v: &PlaneView) -> Vec<u16> {
    let mut out = Vec::with_capacity(v.width * v.height);
    let mut row = Vec::with_capacity(v.width);
    for y in 0..v.height {
        v.read_row(y, &mut row);
        out.extend_from_slice(&row);
    }
    out
}

/// How a frame is reduced `d` times: the output size, and the blocks of
/// luma (d×d) and of chroma that each output sample averages.
struct Steps {
    d: usize,
    out: (usize, usize),
    chroma: (usize, usize),
}

impl Frame {
    fn reduction_steps(&self, d: u32) -> Steps {
        let d = d.max(1) as usize;
        let (w, h) = (self.width as usize, self.height as usize);
        // A chroma sample spans sx×sy luma samples: a d×d block of luma is
        // (d/sx)×(d/sy) of chroma. d is even whenever chroma is subsampled
        // (the caller asks for 2, 4 or 8).
        let (sx, sy) = match self.layout {
            Layout::I420 => (2, 2),
            Layout::I422 => (2, 1),
            _ => (1, 1),
        };
        Steps {
            d,
            out: (w.div_ceil(d), h.div_ceil(d)),
            chroma: ((d / sx).max(1), (d / sy).max(1)),
        }
    }

    /// The frame `d` times smaller on each axis (sizes rounded up), each
    /// sample the mean of the block it covers; chroma is averaged over the
    /// same area of the picture, so the result is 4:4:4 (or stays 4:0:0).
    /// Shrink-on-load for AV1: colour conversion then runs on 1/d² of the
    /// pixels, as a JPEG scaled in the DCT domain does.
    pub fn reduced(&self, d: u32) -> Frame {
        let steps = self.reduction_steps(d);
        let (cw, _) = self.chroma_size();
        let mut planes: [Vec<u16>; 3] = Default::default();
        for (i, plane) in planes.iter_mut().enumerate() {
            let (pw, step) = if i == 0 {
                (self.width as usize, (steps.d, steps.d))
            } else {
                (cw as usize, steps.chroma)
            };
            let src = &self.planes[i];
            if src.is_empty() {
                continue;
            }
            let size = (pw, src.len() / pw.max(1));
            let rows = |y: usize, row: &mut Vec<u16>| {
                row.clear();
                row.extend_from_slice(&src[y * pw..][..pw]);
            };
            *plane = box_mean(rows, size, steps.out, step);
        }
        Frame {
            width: steps.out.0 as u32,
            height: steps.out.1 as u32,
            layout: if self.layout == Layout::Mono {
                Layout::Mono
            } else {
                Layout::I444
            },
            planes,
            ..*self
        }
    }
}

/// `out` samples, each the mean of the `step` block of a plane of `size`
/// at its position, clipped at the plane's edges; `read_row(y, buf)` puts
/// row `y`'s samples in `buf`.
fn box_mean(
    read_row: impl Fn(usize, &mut Vec<u16>),
    size: (usize, usize),
    out: (usize, usize),
    step: (usize, usize),
) -> Vec<u16> {
    let ((w, h), (ow, oh), (fx, fy)) = (size, out, step);
    let mut result = Vec::with_capacity(ow * oh);
    let mut sums = vec![0u32; ow];
    let mut counts = vec![0u32; ow];
    let mut row = Vec::with_capacity(w);
    for oy in 0..oh {
        sums.fill(0);
        counts.fill(0);
        let rows = (oy * fy).min(h)..((oy + 1) * fy).min(h);
        for y in rows {
            read_row(y, &mut row);
            for (ox, (sum, count)) in sums.iter_mut().zip(&mut counts).enumerate() {
                let cols = &row[(ox * fx).min(w)..((ox + 1) * fx).min(w)];
                *sum += cols.iter().map(|&v| u32::from(v)).sum::<u32>();
                *count += cols.len() as u32;
            }
        }
        result.extend(
            sums.iter()
                .zip(&counts)
                .map(|(&s, &c)| ((s + c / 2) / c.max(1)) as u16),
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(layout: Layout, w: u32, h: u32, planes: [Vec<u16>; 3]) -> Frame {
        Frame {
            width: w,
            height: h,
            bit_depth: 8,
            layout,
            planes,
            primaries: 1,
            transfer: 13,
            matrix: 6,
            full_range: true,
        }
    }

    /// A 5×3 4:2:0 frame halved: luma in 2×2 blocks clipped at the edges,
    /// chroma (3×2) sample for sample, since a chroma sample already
    /// covers 2×2 luma; the result is 4:4:4 of 3×2.
    #[test]
    fn reduced_frames_average_blocks() {
        let luma: Vec<u16> = (0..15).collect();
        let f = frame(
            Layout::I420,
            5,
            3,
            [luma, vec![10, 20, 30, 40, 50, 60], vec![7; 6]],
        );
        let r = f.reduced(2);
        assert_eq!((r.width, r.height, r.layout), (3, 2, Layout::I444));
        // Rows 0-1: (0+1+5+6)/4 = 3, (2+3+7+8)/4 = 5, (4+9)/2 = 6.5 -> 7;
        // row 2: (10+11)/2 = 10.5 -> 11, 12.5 -> 13, 14.
        assert_eq!(r.planes[0], vec![3, 5, 7, 11, 13, 14]);
        assert_eq!(r.planes[1], vec![10, 20, 30, 40, 50, 60]);
        assert_eq!(r.planes[2], vec![7; 6]);
        // At 1/4, one chroma sample stands for 2×2 of the plane.
        let q = f.reduced(4);
        assert_eq!((q.width, q.height), (2, 1));
        assert_eq!(
            q.planes[1],
            vec![(10 + 20 + 40 + 50 + 2) / 4, (30 + 60) / 2]
        );
        let mono = frame(Layout::Mono, 4, 4, [vec![100; 16], vec![], vec![]]);
        let m = mono.reduced(4);
        assert_eq!((m.width, m.height, m.layout), (1, 1, Layout::Mono));
        assert_eq!(m.planes, [vec![100], vec![], vec![]]);
    }
}
