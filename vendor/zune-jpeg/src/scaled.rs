//! Decoding at 1/2, 1/4 or 1/8 of the full size in the DCT domain
//! (Nubo's addition to this vendored copy of zune-jpeg).
//!
//! Each 8×8 block of coefficients is turned straight into an `n×n` block of
//! pixels (n = 4, 2 or 1) by an `n`-point inverse DCT over the block's `n`
//! lowest frequencies: the band-limited picture of the block sampled at
//! the centres of the smaller pixels, the same idea as libjpeg's reduced
//! IDCTs. The entropy decoding is unchanged; the IDCT, upsampling and
//! colour conversion then run on 1/4, 1/16 or 1/64 of the pixels.
//!
//! Chroma planes are not upsampled: a subsampled component's blocks are
//! transformed at a larger size (a 4:2:0 Cb block becomes 2n×2n pixels),
//! as libjpeg-turbo does, so every plane comes out at the output size and
//! colour conversion reads them row by row.
//!
//! Anything this path does not handle (CMYK/YCCK, odd sampling factors,
//! baseline files whose components arrive in separate scans) is refused
//! with [`DecodeErrors::ScaledDecodeUnsupported`] before a pixel is written,
//! and the caller decodes at full size instead.

use alloc::vec::Vec;
use alloc::vec;

use zune_core::bytestream::ZByteReaderTrait;
use zune_core::colorspace::ColorSpace;

use crate::decoder::IDCTPtr;
use crate::errors::DecodeErrors;
use crate::worker::color_convert;
use crate::JpegDecoder;

/// Pixels decoded at a reduced size.
pub struct ScaledOutput {
    /// Interleaved samples in the output colour space.
    pub pixels: Vec<u8>,
    pub width:  usize,
    pub height: usize
}

/// Geometry of a scaled decode, fixed once the frame header is known.
pub(crate) struct Scaled {
    pub(crate) out_w:   usize,
    pub(crate) out_h:   usize,
    /// Output block width and height of each component.
    pub(crate) block:   [(usize, usize); 4],
    /// Row stride of each component plane.
    pub(crate) stride:  [usize; 4],
    /// How many times each component's samples are repeated across and
    /// down to reach the output size. At 1/8 every component keeps only
    /// its DC coefficient (so progressive AC scans are skipped unread) and
    /// subsampled chroma is repeated; otherwise chroma blocks are
    /// transformed at a larger size and this is 1.
    pub(crate) up:      [(usize, usize); 4],
    /// Output rows produced by one row of MCUs.
    pub(crate) rows:    usize,
    /// `basis[log2 n][x][u]`: the n-point inverse DCT basis, normalised so
    /// that a block's DC coefficient gives the same level at every size.
    basis:              [[[f32; 8]; 8]; 4]
}

fn basis_tables() -> [[[f32; 8]; 8]; 4] {
    let mut b = [[[0f32; 8]; 8]; 4];
    for (lg, table) in b.iter_mut().enumerate() {
        let n = 1usize << lg;
        for (x, row) in table.iter_mut().enumerate().take(n) {
            for (u, v) in row.iter_mut().enumerate().take(n) {
                let a = if u == 0 { 1.0 } else { core::f64::consts::SQRT_2 };
                let angle = ((2 * x + 1) * u) as f64 * core::f64::consts::PI / (2 * n) as f64;
                *v = (a * libm_cos(angle) / 8f64.sqrt()) as f32;
            }
        }
    }
    b
}

#[cfg(feature = "std")]
fn libm_cos(x: f64) -> f64 {
    x.cos()
}

#[cfg(not(feature = "std"))]
fn libm_cos(x: f64) -> f64 {
    // Taylor series is enough for the few table entries (|x| < 8π after reduction).
    let two_pi = 2.0 * core::f64::consts::PI;
    let mut x = x % two_pi;
    if x > core::f64::consts::PI {
        x -= two_pi;
    }
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 1..20 {
        term *= -x * x / ((2 * k - 1) * (2 * k)) as f64;
        sum += term;
    }
    sum
}

fn log2_size(n: usize) -> Option<usize> {
    match n {
        1 => Some(0),
        2 => Some(1),
        4 => Some(2),
        8 => Some(3),
        _ => None
    }
}

impl Scaled {
    /// The plan for decoding at `1/denom`, or `None` when this file's
    /// layout is not one the scaled path handles.
    pub(crate) fn plan<T: ZByteReaderTrait>(d: &JpegDecoder<T>, denom: usize) -> Option<Scaled> {
        let s = 8 / denom;
        let dc_only = denom == 8;
        let out_cs = d.options.jpeg_get_out_colorspace();
        let supported_cs = match (d.input_colorspace, d.components.len()) {
            (ColorSpace::YCbCr, 3) => matches!(out_cs, ColorSpace::RGB | ColorSpace::RGBA),
            (ColorSpace::Luma, 1) => {
                !d.is_interleaved
                    && matches!(out_cs, ColorSpace::Luma | ColorSpace::RGB | ColorSpace::RGBA)
            }
            _ => false
        };
        if !supported_cs || d.h_max == 0 || d.v_max == 0 {
            return None;
        }
        let (w, h) = (usize::from(d.info.width), usize::from(d.info.height));
        let out_w = w.div_ceil(denom);
        let mut plan = Scaled {
            out_w,
            out_h: h.div_ceil(denom),
            block: [(0, 0); 4],
            stride: [0; 4],
            up: [(1, 1); 4],
            rows: d.v_max * s,
            basis: basis_tables()
        };
        for (k, c) in d.components.iter().enumerate() {
            let (hs, vs) = (c.horizontal_sample, c.vertical_sample);
            if hs == 0 || vs == 0 || d.h_max % hs != 0 || d.v_max % vs != 0 {
                return None;
            }
            let (rh, rv) = (d.h_max / hs, d.v_max / vs);
            let ((sw, sh), up) = if dc_only { ((1, 1), (rh, rv)) } else { ((s * rh, s * rv), (1, 1)) };
            log2_size(sw)?;
            log2_size(sh)?;
            plan.block[k] = (sw, sh);
            plan.up[k] = up;
            plan.stride[k] = (c.width_stride / 8) * sw;
            // Every plane, once repeated, must cover the output.
            if plan.stride[k] * up.0 < out_w || vs * sh * up.1 != plan.rows {
                return None;
            }
        }
        Some(plan)
    }

    /// Plane rows of component `k` in one row of MCUs.
    pub(crate) fn plane_rows(&self, k: usize) -> usize {
        self.rows / self.up[k].1
    }

    /// Writes block (`col`, `row`) of one row of MCUs of component `k`
    /// into that component's `plane`. `coef` holds dequantized
    /// coefficients in natural order; only the first `nonzero` of them in
    /// zig-zag order may be non-zero (64 when unknown).
    pub(crate) fn write_block(
        &self, k: usize, col: usize, row: usize, coef: &mut [i32; 64], nonzero: usize,
        plane: &mut [i16], full: IDCTPtr
    ) -> Result<(), DecodeErrors> {
        let (sw, sh) = self.block[k];
        let stride = self.stride[k];
        let out = plane
            .get_mut(row * sh * stride + col * sw..)
            .ok_or(DecodeErrors::FormatStatic("scaled block out of range"))?;
        if sw == 8 && sh == 8 {
            full(coef, out, stride);
        } else if nonzero <= 1 {
            // DC only: a flat block at every size.
            let dc = ((coef[0] + 4 + 1024) >> 3).clamp(0, 255) as i16;
            for line in out.chunks_mut(stride).take(sh) {
                line[..sw].fill(dc);
            }
        } else {
            self.idct(coef, out, stride, (sw, sh));
        }
        Ok(())
    }

    /// Turns one block of dequantized coefficients (natural order) into
    /// `sw×sh` pixels at `out`, rows `stride` apart, for `sw, sh` <= 8 (not
    /// both 8). The width is made a constant, so that the sums for a row's
    /// outputs sit side by side in SIMD lanes.
    fn idct(&self, coef: &[i32; 64], out: &mut [i16], stride: usize, (sw, sh): (usize, usize)) {
        match sw {
            1 => self.idct_wide::<1>(coef, out, stride, sh),
            2 => self.idct_wide::<2>(coef, out, stride, sh),
            4 => self.idct_wide::<4>(coef, out, stride, sh),
            _ => self.idct_wide::<8>(coef, out, stride, sh)
        }
    }

    /// `idct` for blocks `W` pixels wide and `sh` high.
    fn idct_wide<const W: usize>(
        &self, coef: &[i32; 64], out: &mut [i16], stride: usize, sh: usize
    ) {
        let bw = &self.basis[log2_size(W).unwrap_or(0)];
        let bh = &self.basis[log2_size(sh).unwrap_or(0)];
        // Horizontal pass over the sh lowest-frequency rows only.
        let mut t = [[0f32; W]; 8];
        for (v, tv) in t.iter_mut().enumerate().take(sh) {
            for u in 0..W {
                let c = coef[v * 8 + u] as f32;
                for (x, acc) in tv.iter_mut().enumerate() {
                    *acc += bw[x][u] * c;
                }
            }
        }
        for y in 0..sh {
            let mut acc = [128.0f32; W];
            for (v, tv) in t.iter().enumerate().take(sh) {
                let k = bh[y][v];
                for (a, &tvx) in acc.iter_mut().zip(tv) {
                    *a += k * tvx;
                }
            }
            let line = &mut out[y * stride..y * stride + W];
            for (px, &a) in line.iter_mut().zip(&acc) {
                *px = round_to_sample(a);
            }
        }
    }
}

/// `v.round().clamp(0.0, 255.0) as i16` without the call to `roundf` that
/// `round` costs on x86-64's baseline: clamping first changes nothing, and
/// on [0, 255] the fraction `c - trunc(c)` is exact, so comparing it with
/// one half rounds half away from zero as `round` does (NaN gives 0 both ways).
#[inline(always)]
fn round_to_sample(v: f32) -> i16 {
    let c = v.clamp(0.0, 255.0);
    let whole = c as i16;
    whole + i16::from(c - f32::from(whole) >= 0.5)
}

impl<T: ZByteReaderTrait> JpegDecoder<T> {
    /// Decodes the image at `1/denom` of its size (`denom` = 2, 4 or 8),
    /// each side rounded up, in the output colour space set in the options
    /// (RGB, RGBA, or Luma for grayscale files).
    ///
    /// Returns `Ok(None)` when this file cannot be decoded at a reduced
    /// size (CMYK, unusual sampling factors, components in separate
    /// baseline scans); decode it in full with a new decoder instead.
    ///
    /// # Errors
    /// Invalid data, as [`JpegDecoder::decode`]; an error for any other
    /// `denom`.
    pub fn decode_scaled(&mut self, denom: usize) -> Result<Option<ScaledOutput>, DecodeErrors> {
        if !matches!(denom, 2 | 4 | 8) {
            return Err(DecodeErrors::FormatStatic("scale denominator must be 2, 4 or 8"));
        }
        self.decode_headers_internal()?;
        let (w, h) = (usize::from(self.info.width), usize::from(self.info.height));
        let (out_w, out_h) = (w.div_ceil(denom), h.div_ceil(denom));
        let channels = self.options.jpeg_get_out_colorspace().num_components();
        let mut pixels = vec![0u8; out_w * out_h * channels];
        self.scale_denom = Some(denom);
        let result = if self.is_progressive {
            self.decode_mcu_ycbcr_progressive(&mut pixels)
        } else {
            self.decode_mcu_ycbcr_baseline(&mut pixels)
        };
        match result {
            Ok(()) => Ok(Some(ScaledOutput {
                pixels,
                width: out_w,
                height: out_h
            })),
            Err(DecodeErrors::ScaledDecodeUnsupported) => Ok(None),
            Err(e) => Err(e)
        }
    }

    /// Called once the components' buffers are allocated: fixes the scaled
    /// geometry and sizes each plane to one row of MCUs.
    pub(crate) fn setup_scaled(&mut self) -> Result<(), DecodeErrors> {
        let Some(denom) = self.scale_denom else {
            return Ok(());
        };
        let plan = Scaled::plan(self, denom).ok_or(DecodeErrors::ScaledDecodeUnsupported)?;
        for (k, c) in self.components.iter_mut().enumerate() {
            if c.needed {
                c.raw_coeff.clear();
                c.raw_coeff.resize(plan.stride[k] * plan.plane_rows(k), 0);
            }
        }
        self.scaled = Some(plan);
        Ok(())
    }

    /// Whether the scan just started can be skipped unread: only DC
    /// coefficients are needed (a 1/8 decode) and this scan carries AC
    /// ones; or the decode is at 1/4 and this scan refines the last bit of
    /// AC coefficients, which no later scan depends on and which barely
    /// shows once the picture is shrunk eight times. Progressive files fix
    /// the plan only after the last scan; if it then turns out unsupported,
    /// the caller decodes afresh in full.
    pub(crate) fn skips_scan(&self) -> bool {
        let ac = self.spec_start > 0;
        let last_ac_bit = ac && self.succ_high > 0 && self.succ_low == 0;
        match self.scale_denom {
            Some(8) => ac,
            Some(4) => last_ac_bit,
            _ => false
        }
    }

    /// Colour-converts the plane rows of MCU row `i` into `pixels`.
    pub(crate) fn post_process_scaled(
        &mut self, pixels: &mut [u8], i: usize, pixels_written: &mut usize
    ) -> Result<(), DecodeErrors> {
        let Some(sc) = self.scaled.as_ref() else {
            return Err(DecodeErrors::FormatStatic("scaled decode not set up"));
        };
        let out_cs = self.options.jpeg_get_out_colorspace();
        let nc = out_cs.num_components();
        let row_bytes = sc.out_w * nc;
        let padded = sc.stride[0] * sc.up[0].0;
        let mut repeated: [Vec<i16>; 4] = core::array::from_fn(|k| {
            if sc.up[k].0 > 1 { vec![0; padded] } else { Vec::new() }
        });
        for r in 0..sc.rows {
            let y = i * sc.rows + r;
            if y >= sc.out_h {
                break;
            }
            let mut samples: [&[i16]; 4] = [&[], &[], &[], &[]];
            for (k, (c, rep)) in self.components.iter().zip(repeated.iter_mut()).enumerate() {
                let (up_h, up_v) = sc.up[k];
                let src_row = r / up_v;
                let src = c
                    .raw_coeff
                    .get(src_row * sc.stride[k]..(src_row + 1) * sc.stride[k])
                    .ok_or(DecodeErrors::FormatStatic("Missing samples"))?;
                if up_h > 1 {
                    for (chunk, v) in rep.chunks_mut(up_h).zip(src) {
                        chunk.fill(*v);
                    }
                    samples[k] = rep;
                } else {
                    samples[k] = src;
                }
                samples[k] = samples[k]
                    .get(..padded)
                    .ok_or(DecodeErrors::FormatStatic("Missing samples"))?;
            }
            let out = pixels
                .get_mut(y * row_bytes..(y + 1) * row_bytes)
                .ok_or(DecodeErrors::FormatStatic("Output too small"))?;
            color_convert(
                &samples,
                self.color_convert_16,
                self.input_colorspace,
                out_cs,
                out,
                sc.out_w,
                padded
            )?;
            *pixels_written = (y + 1) * row_bytes;
        }
        Ok(())
    }
}
