//! Nubo's addition: one still picture decoded through rav1d's Rust
//! functions (`rav1d_open`, `rav1d_send_data`, `rav1d_get_picture`,
//! `rav1d_close`) rather than the C-shaped `dav1d_*` ones.
//!
//! The C-shaped functions hand ownership across the boundary by copying
//! structs bitwise (`ptr::read`, then `ptr::write` on the way out), so a
//! panic between the two leaves the caller's struct holding references the
//! unwinding already released: a double free. Here every value is owned
//! by Rust, so a panic that unwinds (see `vendor/README.md`) leaves nothing
//! dangling, and the caller can catch it. The samples are copied out, so
//! no borrow of the decoder's buffers escapes.

use crate::include::dav1d::data::Rav1dData;
use crate::include::dav1d::dav1d::Rav1dSettings;
use crate::include::dav1d::picture::Rav1dPicture;
use crate::src::c_arc::CArc;
use crate::src::c_box::CBox;
use crate::src::error::Rav1dError;
use crate::src::internal::Rav1dContext;
use crate::src::lib::{rav1d_close, rav1d_get_picture, rav1d_open, rav1d_send_data};
use std::sync::Arc;

/// A decoded picture, its planes borrowed from the decoder.
pub struct StillPicture<'a> {
    pub width: u32,
    pub height: u32,
    /// 8, 10 or 12.
    pub bit_depth: u8,
    /// 0: 4:0:0, 1: 4:2:0, 2: 4:2:2, 3: 4:4:4.
    pub layout: u8,
    /// Y, U, V; U and V are `None` for 4:0:0.
    pub planes: [Option<PlaneView<'a>>; 3],
    /// ISO/IEC 23091-4 code points from the sequence header.
    pub primaries: u8,
    pub transfer: u8,
    pub matrix: u8,
    pub full_range: bool,
}

/// One plane: `height` rows of `width` samples, `stride` bytes apart; a
/// sample is one byte at 8 bits, else two (little-endian).
pub struct PlaneView<'a> {
    pub width: usize,
    pub height: usize,
    pub wide: bool,
    stride: usize,
    bytes: &'a [u8],
}

impl PlaneView<'_> {
    /// Row `y`'s samples, widened to 16 bits, into `into`.
    pub fn read_row(&self, y: usize, into: &mut Vec<u16>) {
        let row_bytes = if self.wide { self.width * 2 } else { self.width };
        let row = &self.bytes[y * self.stride..][..row_bytes];
        into.clear();
        if self.wide {
            into.extend(row.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])));
        } else {
            into.extend(row.iter().map(|&v| u16::from(v)));
        }
    }
}

/// A one-thread decoder, closed when dropped.
pub struct StillDecoder(Arc<Rav1dContext>);

impl StillDecoder {
    /// A decoder that refuses frames of more than `frame_size_limit` pixels
    /// (0: no limit), logging nothing.
    pub fn new(frame_size_limit: u32) -> Result<Self, String> {
        let settings = Rav1dSettings {
            n_threads: 1,
            max_frame_delay: 1,
            frame_size_limit,
            logger: None,
            ..Default::default()
        };
        rav1d_open(&settings)
            .map(Self)
            .map_err(|e| format!("AV1 decoder did not open ({e:?})"))
    }

    /// The first picture of `obu` (an AVIF item's OBUs), handed to `read`
    /// while the decoder's buffers are borrowed.
    pub fn decode<T>(
        &self,
        obu: &[u8],
        read: impl FnOnce(&StillPicture<'_>) -> T,
    ) -> Result<T, String> {
        if obu.is_empty() {
            return Err("empty AV1 data".into());
        }
        let bytes = CArc::wrap(CBox::from_box(obu.to_vec().into_boxed_slice()))
            .map_err(|_| "AV1 data could not be allocated".to_string())?;
        let mut data = Rav1dData::from(bytes);
        let mut picture = Rav1dPicture::default();
        // A still needs a few rounds at most; the bound keeps a hostile
        // stream from spinning.
        for _ in 0..64 {
            if data.data.is_some() {
                match rav1d_send_data(&self.0, &mut data) {
                    Ok(()) | Err(Rav1dError::EAGAIN) => {}
                    Err(e) => return Err(format!("AV1 data rejected ({e:?})")),
                }
            }
            match rav1d_get_picture(&self.0, &mut picture) {
                Ok(()) => return view(&picture, read),
                Err(Rav1dError::EAGAIN) if data.data.is_some() => continue,
                Err(Rav1dError::EAGAIN) => return Err("AV1 data holds no picture".into()),
                Err(e) => return Err(format!("AV1 frame did not decode ({e:?})")),
            }
        }
        Err("AV1 data holds no picture".into())
    }
}

impl Drop for StillDecoder {
    fn drop(&mut self) {
        rav1d_close(Arc::clone(&self.0));
    }
}

fn view<T>(p: &Rav1dPicture, read: impl FnOnce(&StillPicture<'_>) -> T) -> Result<T, String> {
    let (w, h, bpc) = (p.p.w, p.p.h, p.p.bpc);
    if w <= 0 || h <= 0 || !matches!(bpc, 8 | 10 | 12) {
        return Err(format!("unsupported AV1 picture {w}x{h} at {bpc} bits"));
    }
    let layout = p.p.layout as u8;
    let (primaries, transfer, matrix, full_range) = match &p.seq_hdr {
        Some(s) => (s.rav1d.pri.0, s.rav1d.trc.0, s.rav1d.mtrx.0, s.rav1d.color_range != 0),
        None => (2, 2, 2, false),
    };
    let (w, h) = (w as u32, h as u32);
    let (cw, ch) = match layout {
        0 => (0, 0),
        1 => (w.div_ceil(2), h.div_ceil(2)),
        2 => (w.div_ceil(2), h),
        _ => (w, h),
    };
    let data = p.data.as_ref().ok_or("AV1 picture without planes")?;
    let count = if layout == 0 { 1 } else { 3 };
    let guards: Vec<_> = data.data[..count]
        .iter()
        .map(|plane| plane.slice::<crate::include::common::bitdepth::BitDepth8, _>(..))
        .collect();
    let sizes = [(w, h), (cw, ch), (cw, ch)];
    let mut planes = [None, None, None];
    for (i, guard) in guards.iter().enumerate() {
        let (pw, ph) = (sizes[i].0 as usize, sizes[i].1 as usize);
        let stride = p.stride[usize::from(i > 0)];
        planes[i] = Some(plane_view(guard, stride, pw, ph, bpc > 8)?);
    }
    Ok(read(&StillPicture {
        width: w,
        height: h,
        bit_depth: bpc,
        layout,
        planes,
        primaries,
        transfer,
        matrix,
        full_range,
    }))
}

/// A view of `h` rows of `w` samples, `stride` bytes apart, checked to lie
/// inside the plane's bytes.
fn plane_view(
    bytes: &[u8],
    stride: isize,
    w: usize,
    h: usize,
    wide: bool,
) -> Result<PlaneView<'_>, String> {
    let row_bytes = if wide { w * 2 } else { w };
    if stride < row_bytes as isize || h == 0 {
        return Err("AV1 picture with an unexpected stride".into());
    }
    let stride = stride as usize;
    let needed = (h - 1) * stride + row_bytes;
    let bytes = bytes
        .get(..needed)
        .ok_or("AV1 picture smaller than its size")?;
    Ok(PlaneView {
        width: w,
        height: h,
        wide,
        stride,
        bytes,
    })
}
