//! One AV1 frame decoded by rav1d, the memorysafety.org Rust port of
//! dav1d, carried in-tree without its assembly and with its functions
//! able to unwind (vendor/README.md), through the C-shaped API it
//! exports. This module holds the only `unsafe` of the AVIF path: the
//! calls into that API and the reading of the planes it hands back, each
//! under the contract its documentation states.

use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};

/// dav1d's "try again" result: `-EAGAIN`.
const AGAIN: i32 = -11;

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

/// Releases a picture's reference however the read ends.
struct PictureRef(Dav1dPicture);

impl Drop for PictureRef {
    fn drop(&mut self) {
        // SAFETY: the picture was filled by `dav1d_get_picture`; unref
        // resets it, so a second call would do nothing.
        unsafe { dav1d_picture_unref(Some(NonNull::from(&mut self.0))) };
    }
}

/// Decodes the first frame of an AV1 bitstream (the OBUs of an AVIF
/// item), refusing frames of more than `max_pixels`.
///
/// A panic inside the decoder (a bug a hostile stream found) becomes an
/// error: Nubo's copy of rav1d unwinds rather than aborts (vendor/README.md).
/// The context is then closed outside the decode, itself guarded, so that
/// nothing unwinds through a destructor; a context that cannot be closed is
/// leaked rather than risked.
pub fn decode_frame(obu: &[u8], max_pixels: u64) -> Result<Frame, String> {
    if obu.is_empty() {
        return Err("empty AV1 data".into());
    }
    let c = open(max_pixels)?;
    let decoded = catch_unwind(AssertUnwindSafe(|| decode_with(c, obu)))
        .unwrap_or_else(|_| Err("AV1 data made the decoder fail".into()));
    let mut slot = Some(c);
    // SAFETY: `c` came from `dav1d_open`, and nothing uses it after this.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        dav1d_close(Some(NonNull::from(&mut slot)))
    }));
    decoded
}

/// Opens a one-thread decoder: the engine already runs one job per core.
fn open(max_pixels: u64) -> Result<Dav1dContext, String> {
    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: `dav1d_default_settings` writes every field of `settings`.
    let mut settings = unsafe {
        dav1d_default_settings(NonNull::new_unchecked(settings.as_mut_ptr()));
        settings.assume_init()
    };
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    settings.frame_size_limit = max_pixels.clamp(1, u32::MAX as u64) as u32;
    // No logger: rav1d would print each malformed upload's parse errors to
    // the server's stderr; the error Nubo returns says what failed.
    // SAFETY: the logger is a cookie and a callback, both optional
    // pointers, for which all-zero bytes are `None`.
    settings.logger = unsafe { std::mem::zeroed() };
    let mut context: Option<Dav1dContext> = None;
    let opened = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: both pointers are to live locals of the right types.
        unsafe {
            dav1d_open(
                Some(NonNull::from(&mut context)),
                Some(NonNull::from(&mut settings)),
            )
        }
    }))
    .map_err(|_| "AV1 decoder did not open".to_string())?;
    context
        .filter(|_| opened.0 == 0)
        .ok_or_else(|| format!("AV1 decoder did not open ({})", opened.0))
}

/// Frees what the decoder did not consume of its input, however the
/// decode ends.
struct DataRef(Dav1dData);

impl Drop for DataRef {
    fn drop(&mut self) {
        // SAFETY: the data came from `dav1d_data_create`; unref does nothing
        // when the decoder consumed all of it.
        unsafe { dav1d_data_unref(Some(NonNull::from(&mut self.0))) };
    }
}

/// Copies `obu` into the decoder's own buffer and reads one picture out.
fn decode_with(c: Dav1dContext, obu: &[u8]) -> Result<Frame, String> {
    let mut data = DataRef(Dav1dData::default());
    // SAFETY: `data.0` is a live `Dav1dData`; on success `buf` points to
    // `obu.len()` writable bytes owned by it.
    let buf = unsafe { dav1d_data_create(Some(NonNull::from(&mut data.0)), obu.len()) };
    if buf.is_null() {
        return Err("AV1 data could not be allocated".into());
    }
    // SAFETY: `buf` has room for `obu.len()` bytes and does not overlap `obu`.
    unsafe { std::ptr::copy_nonoverlapping(obu.as_ptr(), buf, obu.len()) };
    let picture = receive(c, &mut data.0)?;
    read_planes(&picture)
}

/// Feeds `data` to the decoder until a picture comes out.
fn receive(c: Dav1dContext, data: &mut Dav1dData) -> Result<PictureRef, String> {
    let mut picture = PictureRef(Dav1dPicture::default());
    // A still needs a few rounds at most; the bound keeps a hostile
    // stream from spinning.
    for _ in 0..64 {
        if data.sz > 0 {
            // SAFETY: `c` is open and `data` is a live, owned `Dav1dData`.
            let sent = unsafe { dav1d_send_data(Some(c), Some(NonNull::from(&mut *data))) };
            if sent.0 != 0 && sent.0 != AGAIN {
                return Err(format!("AV1 data rejected ({})", sent.0));
            }
        }
        // SAFETY: `c` is open and `picture.0` is a live `Dav1dPicture`.
        let got = unsafe { dav1d_get_picture(Some(c), Some(NonNull::from(&mut picture.0))) };
        match got.0 {
            0 => return Ok(picture),
            AGAIN if data.sz > 0 => continue,
            AGAIN => return Err("AV1 data holds no picture".into()),
            e => return Err(format!("AV1 frame did not decode ({e})")),
        }
    }
    Err("AV1 data holds no picture".into())
}

fn read_planes(picture: &PictureRef) -> Result<Frame, String> {
    let p = &picture.0;
    let (w, h, bpc) = (p.p.w, p.p.h, p.p.bpc);
    if w <= 0 || h <= 0 || !matches!(bpc, 8 | 10 | 12) {
        return Err(format!("unsupported AV1 picture {w}x{h} at {bpc} bits"));
    }
    let layout = match p.p.layout {
        0 => Layout::Mono,
        1 => Layout::I420,
        2 => Layout::I422,
        3 => Layout::I444,
        other => return Err(format!("unknown AV1 pixel layout {other}")),
    };
    let (primaries, transfer, matrix, full_range) = match p.seq_hdr {
        // SAFETY: a returned picture's sequence header lives as long as it.
        Some(s) => unsafe {
            let s = s.as_ref();
            (s.pri, s.trc, s.mtrx, s.color_range != 0)
        },
        None => (2, 2, 2, false),
    };
    let mut frame = Frame {
        width: w as u32,
        height: h as u32,
        bit_depth: bpc as u8,
        layout,
        planes: Default::default(),
        primaries,
        transfer,
        matrix,
        full_range,
    };
    let (cw, ch) = frame.chroma_size();
    let sizes = [(frame.width, frame.height), (cw, ch), (cw, ch)];
    let planes = if layout == Layout::Mono { 1 } else { 3 };
    for (i, &(pw, ph)) in sizes.iter().enumerate().take(planes) {
        let stride = p.stride[usize::from(i > 0)];
        let ptr = p.data[i].ok_or("AV1 picture without a plane")?;
        frame.planes[i] = copy_plane(ptr.cast(), stride, pw as usize, ph as usize, bpc > 8)?;
    }
    Ok(frame)
}

/// Copies `h` rows of `w` samples, `stride` bytes apart.
fn copy_plane(
    base: NonNull<u8>,
    stride: isize,
    w: usize,
    h: usize,
    wide: bool,
) -> Result<Vec<u16>, String> {
    let row_bytes = if wide { w * 2 } else { w };
    if stride < row_bytes as isize {
        return Err("AV1 picture with an unexpected stride".into());
    }
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        // SAFETY: the decoder allocated `h` rows of at least `row_bytes`,
        // `stride` bytes apart, alive until the picture is unreferenced
        // (after this copy); 16-bit samples are 2-byte aligned.
        let row = unsafe { base.as_ptr().offset(y as isize * stride) };
        if wide {
            // SAFETY: `row` starts `w` initialised 16-bit samples (above).
            let s = unsafe { std::slice::from_raw_parts(row as *const u16, w) };
            out.extend_from_slice(s);
        } else {
            // SAFETY: `row` starts `w` initialised 8-bit samples (above).
            let s = unsafe { std::slice::from_raw_parts(row as *const u8, w) };
            out.extend(s.iter().map(|&v| u16::from(v)));
        }
    }
    Ok(out)
}
