//! AVIF stills: the container read by avif-parse (safe Rust), the colour
//! and orientation properties of the primary item by a bounds-checked walk
//! of its boxes here, the AV1 frames by rav1d ([`crate::av1`]), and
//! YUV → RGB here (BT.601/709/2020, full or limited range, 8–12 bits,
//! chroma upsampled bilinearly), then Display P3 and BT.2020 pictures to
//! sRGB. Alpha comes from the auxiliary item; premultiplied alpha is
//! undone. Grid (tiled) images are assembled by [`crate::avif_grid`].

use crate::av1::{self, Frame, Layout};
use crate::avif_grid::{self, Items, Planes};
use crate::error::{EngineError, Result};
use crate::raster::Raster;

/// What the primary item's properties say about its display.
#[derive(Debug, Default, PartialEq)]
pub struct Properties {
    /// `nclx`, overriding the AV1 sequence header's colour description.
    pub nclx: Option<Nclx>,
    pub icc: Option<Vec<u8>>,
    /// `irot`/`imir` in the order listed: quarter turns anticlockwise, or
    /// a mirror (`true`: top-bottom, `false`: left-right).
    pub transforms: Vec<Transform>,
}

/// A colour description by ISO/IEC 23091-4 code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nclx {
    pub primaries: u32,
    pub transfer: u32,
    pub matrix: u32,
    pub full_range: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Rotate(u8),
    Mirror { top_bottom: bool },
}

/// An AVIF still decoded to 8-bit RGB(A), upright.
pub struct Still {
    pub raster: Raster,
    pub icc: Option<Vec<u8>>,
    /// The upright size of the picture: larger than the raster when it was
    /// decoded reduced.
    pub logical: (u32, u32),
}

/// Decodes an AVIF still. `denominator` says, for the upright size, how
/// many times smaller (1, 2, 4 or 8) the raster may come out: the planes
/// are then averaged down before colour conversion.
pub fn decode(
    bytes: &[u8],
    max_pixels: u64,
    denominator: impl Fn(u32, u32) -> u32,
) -> Result<Still> {
    let props = properties(bytes);
    let turns = props
        .transforms
        .iter()
        .filter(|t| matches!(t, Transform::Rotate(1 | 3)));
    let swaps = turns.count() % 2 == 1;
    let upright = |w: u32, h: u32| if swaps { (h, w) } else { (w, h) };
    let denominator = |w: u32, h: u32| {
        let (w, h) = upright(w, h);
        denominator(w, h)
    };
    if !boxes_fit(bytes) || !avif_grid::extents_fit(bytes) {
        return Err(invalid("boxes or item data reach past the end of the file"));
    }
    let (planes, full) = match Items::read(bytes) {
        Some(items) if items.primary_is_grid() => {
            let planes = avif_grid::decode(&items, max_pixels)?;
            let full = (planes.colour.width, planes.colour.height);
            if let Some(a) = &planes.alpha {
                if (a.width, a.height) != full {
                    return Err(invalid("alpha plane of another size"));
                }
            }
            (planes.reduced(denominator(full.0, full.1)), full)
        }
        _ => single(bytes, max_pixels, denominator)?,
    };
    let logical = upright(full.0, full.1);
    let colour = planes.colour;
    let nclx = props.nclx.unwrap_or(Nclx {
        primaries: colour.primaries,
        transfer: colour.transfer,
        matrix: colour.matrix,
        full_range: colour.full_range,
    });
    let mut raster = to_rgb(&colour, nclx.matrix, nclx.full_range);
    // An ICC profile, when there is one, is converted by the caller.
    if props.icc.is_none() {
        if let Some(space) = wide_gamut(nclx) {
            raster = crate::color::profile_to_srgb(raster, &space);
        }
    }
    if let Some(a) = &planes.alpha {
        raster = with_alpha(raster, a, planes.premultiplied);
    }
    Ok(Still {
        raster: display(raster, &props.transforms),
        icc: props.icc,
        logical,
    })
}

/// The planes of a file whose primary item is one AV1 image, reduced by
/// the denominator its stored size gets, and that full size.
fn single(
    bytes: &[u8],
    max_pixels: u64,
    denominator: impl Fn(u32, u32) -> u32,
) -> Result<(Planes, (u32, u32))> {
    // avif-parse checks its own parser state with a `debug_assert` before
    // returning the error it would return in release builds: a malformed
    // file must be an error in every build.
    let parsed =
        std::panic::catch_unwind(|| avif_parse::read_avif(&mut std::io::Cursor::new(bytes)))
            .map_err(|_| invalid("malformed boxes"))?;
    let data = parsed.map_err(|e| match e {
        avif_parse::Error::Unsupported(what) => EngineError::Unsupported(format!("AVIF: {what}")),
        other => invalid(other),
    })?;
    let meta = data
        .primary_item_metadata()
        .map_err(|e| EngineError::InvalidImage(format!("AVIF: {e}")))?;
    let (w, h) = (meta.max_frame_width.get(), meta.max_frame_height.get());
    if w as u64 * h as u64 > max_pixels {
        return Err(EngineError::TooLarge(format!(
            "Image of {w}x{h} pixels is over the limit of {max_pixels} pixels"
        )));
    }
    let d = denominator(w, h);
    let (colour, full) = av1::decode_frame(&data.primary_item, max_pixels, d).map_err(invalid)?;
    let alpha = match &data.alpha_item {
        Some(alpha) => {
            let (a, alpha_full) = av1::decode_frame(alpha, max_pixels, d).map_err(invalid)?;
            if alpha_full != full {
                return Err(invalid("alpha plane of another size"));
            }
            Some(a)
        }
        None => None,
    };
    let planes = Planes {
        colour,
        alpha,
        premultiplied: data.premultiplied_alpha,
    };
    Ok((planes, full))
}

/// `raster` after the `irot`/`imir` transforms, in order.
fn display(mut raster: Raster, transforms: &[Transform]) -> Raster {
    use crate::orient::{flip_h, flip_v, rotate270, rotate90};
    for t in transforms {
        raster = match *t {
            Transform::Rotate(1) => rotate270(&raster),
            Transform::Rotate(2) => flip_v(flip_h(raster)),
            Transform::Rotate(3) => rotate90(&raster),
            Transform::Rotate(_) => raster,
            Transform::Mirror { top_bottom: true } => flip_v(raster),
            Transform::Mirror { top_bottom: false } => flip_h(raster),
        };
    }
    raster
}

/// The EXIF orientation (1-8) that displays the picture as its `irot`
/// and `imir` do, found by applying both to a small asymmetric picture.
pub fn exif_orientation(transforms: &[Transform]) -> u8 {
    let probe = Raster::new(3, 2, 1, vec![0, 1, 2, 3, 4, 5]);
    let shown = display(probe.clone(), transforms).data;
    (1..=8)
        .find(|&tag| {
            let o = crate::orient::Orientation::from_tag(u32::from(tag));
            crate::orient::apply(probe.clone(), o).data == shown
        })
        .unwrap_or(1)
}

fn invalid(e: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidImage(format!("AVIF: {e}"))
}

/// The colour space of wide-gamut SDR pictures, which must be converted to
/// sRGB: Display P3 and BT.2020 primaries with an SDR transfer. BT.709 and
/// unspecified primaries are taken as sRGB; PQ and HLG (HDR) pictures are
/// shown as they are, without tone mapping.
fn wide_gamut(c: Nclx) -> Option<moxcms::ColorProfile> {
    let sdr = matches!(c.transfer, 1 | 2 | 6 | 13 | 14 | 15);
    match c.primaries {
        12 if sdr => Some(moxcms::ColorProfile::new_display_p3()),
        9 if sdr => Some(moxcms::ColorProfile::new_bt2020()),
        _ => None,
    }
}

/// Luma and blue-difference weights (Kr, Kb) of a matrix; `None` for
/// identity (GBR).
fn weights(matrix: u32) -> Option<(f32, f32)> {
    match matrix {
        0 => None,
        1 => Some((0.2126, 0.0722)),
        4 => Some((0.30, 0.11)),
        7 => Some((0.212, 0.087)),
        9 | 10 => Some((0.2627, 0.0593)),
        // 5 and 6 (BT.601), 2 (unspecified) and the rest, as libavif reads them.
        _ => Some((0.299, 0.114)),
    }
}

/// Bilinear sampling positions of a half-resolution chroma axis: for each
/// output index, the two chroma indices and the weight of the second
/// (chroma sited between luma pairs).
fn taps(out: u32, chroma: u32, halved: bool) -> Vec<(usize, usize, f32)> {
    (0..out)
        .map(|i| {
            if !halved {
                let i = (i as usize).min(chroma as usize - 1);
                return (i, i, 0.0);
            }
            let c = ((i as f32 + 0.5) / 2.0 - 0.5).max(0.0);
            let lo = (c.floor() as usize).min(chroma as usize - 1);
            let hi = (lo + 1).min(chroma as usize - 1);
            (lo, hi, c - c.floor())
        })
        .collect()
}

fn to_rgb(f: &Frame, matrix: u32, full: bool) -> Raster {
    let (w, h) = (f.width as usize, f.height as usize);
    let scale = f32::from(1u16 << (f.bit_depth - 8));
    let max = f32::from(((1u32 << f.bit_depth) - 1) as u16);
    let (y_off, y_range, c_range) = if full {
        (0.0, max, max)
    } else {
        (16.0 * scale, 219.0 * scale, 224.0 * scale)
    };
    let mid = f32::from(1u16 << (f.bit_depth - 1));
    let luma = |v: u16| (f32::from(v) - y_off) / y_range;
    let mut out = vec![0u8; w * h * 3];
    let put = |o: &mut [u8], r: f32, g: f32, b: f32| {
        o[0] = (r * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
        o[1] = (g * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
        o[2] = (b * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
    };
    if f.layout == Layout::Mono {
        for (o, &v) in out.chunks_exact_mut(3).zip(&f.planes[0]) {
            let y = luma(v);
            put(o, y, y, y);
        }
        return Raster::new(f.width, f.height, 3, out);
    }
    let (cw, ch) = f.chroma_size();
    let xs = taps(f.width, cw, cw < f.width);
    let ys = taps(f.height, ch, ch < f.height);
    // One chroma row per output row, interpolated vertically once; each
    // pixel then blends two neighbours of it.
    let row = |plane: &[u16], y: usize, into: &mut Vec<f32>| {
        let (y0, y1, fy) = ys[y];
        let (a, b) = (&plane[y0 * cw as usize..], &plane[y1 * cw as usize..]);
        into.clear();
        into.extend((0..cw as usize).map(|x| f32::from(a[x]) * (1.0 - fy) + f32::from(b[x]) * fy));
    };
    let across = |r: &[f32], x: usize| {
        let (x0, x1, fx) = xs[x];
        r[x0] * (1.0 - fx) + r[x1] * fx
    };
    let k = weights(matrix);
    let (mut u_row, mut v_row) = (Vec::new(), Vec::new());
    for y in 0..h {
        row(&f.planes[1], y, &mut u_row);
        row(&f.planes[2], y, &mut v_row);
        let lumas = &f.planes[0][y * w..][..w];
        let pixels = out[y * w * 3..][..w * 3].chunks_exact_mut(3);
        for (x, (o, &l)) in pixels.zip(lumas).enumerate() {
            let yy = luma(l);
            let (cb, cr) = (across(&u_row, x), across(&v_row, x));
            match k {
                None => {
                    // GBR: Y carries green, U blue and V red, all as luma.
                    let n = |v: f32| (v - y_off) / y_range;
                    put(o, n(cr), yy, n(cb));
                }
                Some((kr, kb)) => {
                    let (pb, pr) = ((cb - mid) / c_range, (cr - mid) / c_range);
                    let kg = 1.0 - kr - kb;
                    let r = yy + 2.0 * (1.0 - kr) * pr;
                    let b = yy + 2.0 * (1.0 - kb) * pb;
                    let g = (yy - kr * r - kb * b) / kg;
                    put(o, r, g, b);
                }
            }
        }
    }
    Raster::new(f.width, f.height, 3, out)
}

/// Adds the alpha item's plane (its luma) to `rgb`, undoing a
/// premultiplication.
fn with_alpha(rgb: Raster, a: &Frame, premultiplied: bool) -> Raster {
    let max = ((1u32 << a.bit_depth) - 1) as f32;
    let (off, range) = if a.full_range {
        (0.0, max)
    } else {
        let s = f32::from(1u16 << (a.bit_depth - 8));
        (16.0 * s, 219.0 * s)
    };
    let mut out = Vec::with_capacity(rgb.data.len() / 3 * 4);
    for (px, &v) in rgb.data.chunks_exact(3).zip(&a.planes[0]) {
        let alpha = ((f32::from(v) - off) / range).clamp(0.0, 1.0);
        let un = |c: u8| {
            if premultiplied && alpha > 0.0 {
                (f32::from(c) / alpha).min(255.0) as u8
            } else {
                c
            }
        };
        out.extend_from_slice(&[un(px[0]), un(px[1]), un(px[2])]);
        out.push((alpha * 255.0 + 0.5) as u8);
    }
    Raster::new(rgb.width, rgb.height, 4, out)
}

/// Boxes of `data` in order: (type, body). Stops at the first box that
/// does not fit.
pub(crate) fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let (kind, body, size) = next_box(rest)?;
        rest = &rest[size..];
        Some((kind, body))
    })
}

/// The box at the start of `data`: (type, body, whole size), if it fits.
fn next_box(data: &[u8]) -> Option<([u8; 4], &[u8], usize)> {
    let head = data.get(..8)?;
    let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as u64;
    let kind = [head[4], head[5], head[6], head[7]];
    let (size, header) = match size32 {
        0 => (data.len() as u64, 8),
        1 => (u64::from_be_bytes(data.get(8..16)?.try_into().ok()?), 16),
        s => (s, 8),
    };
    if size < header as u64 || size > data.len() as u64 {
        return None;
    }
    Some((kind, &data[header..size as usize], size as usize))
}

/// Whether the file is a sequence of whole boxes, and so is each
/// container of the item tables, inside its parent. A box that claims more
/// bytes than it has would have a reader that trusts it reserve memory for
/// them (avif-parse does).
fn boxes_fit(data: &[u8]) -> bool {
    let mut rest = data;
    while !rest.is_empty() {
        let Some((kind, body, size)) = next_box(rest) else {
            return false;
        };
        let children = match &kind {
            // Full boxes: version and flags first.
            b"meta" | b"iref" => body.get(4..),
            b"iinf" => body.get(if body.first() == Some(&0) { 6 } else { 8 }..),
            b"iprp" | b"ipco" | b"dinf" => Some(body),
            _ => Some(&[][..]),
        };
        if !children.is_some_and(boxes_fit) {
            return false;
        }
        rest = &rest[size..];
    }
    true
}

pub(crate) fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|(k, _)| k == kind).map(|(_, b)| b)
}

/// The primary item's `colr`, `irot` and `imir` properties; anything
/// malformed reads as absent.
pub fn properties(file: &[u8]) -> Properties {
    properties_of(file).unwrap_or_default()
}

fn properties_of(file: &[u8]) -> Option<Properties> {
    // `meta` and `pitm`, `ipma` are full boxes: 4 bytes of version/flags.
    let meta = child(file, b"meta")?.get(4..)?;
    let pitm = child(meta, b"pitm")?;
    let primary = if pitm.first()? == &0 {
        u32::from(u16::from_be_bytes(pitm.get(4..6)?.try_into().ok()?))
    } else {
        u32::from_be_bytes(pitm.get(4..8)?.try_into().ok()?)
    };
    let iprp = child(meta, b"iprp")?;
    let ipco: Vec<([u8; 4], &[u8])> = boxes(child(iprp, b"ipco")?).collect();
    let mut props = Properties::default();
    for index in associations(child(iprp, b"ipma")?, primary)? {
        let Some(&(kind, body)) = index.checked_sub(1).and_then(|i| ipco.get(i)) else {
            continue;
        };
        match &kind {
            b"colr" => colour(body, &mut props),
            b"irot" => props.transforms.push(Transform::Rotate(body.first()? & 3)),
            b"imir" => props.transforms.push(Transform::Mirror {
                top_bottom: body.first()? & 1 == 1,
            }),
            _ => {}
        }
    }
    Some(props)
}

fn colour(body: &[u8], props: &mut Properties) {
    match body.get(..4) {
        Some(b"nclx") if body.len() >= 11 => {
            let code = |at: usize| u32::from(u16::from_be_bytes([body[at], body[at + 1]]));
            props.nclx = Some(Nclx {
                primaries: code(4),
                transfer: code(6),
                matrix: code(8),
                full_range: body[10] & 0x80 != 0,
            });
        }
        Some(b"prof") | Some(b"rICC") => props.icc = Some(body[4..].to_vec()),
        _ => {}
    }
}

/// The 1-based `ipco` indices associated with `item`, in order.
pub(crate) fn associations(ipma: &[u8], item: u32) -> Option<Vec<usize>> {
    let (version, flags) = (*ipma.first()?, *ipma.get(3)?);
    let count = u32::from_be_bytes(ipma.get(4..8)?.try_into().ok()?);
    let mut at = 8usize;
    for _ in 0..count.min(1 << 16) {
        let id = if version < 1 {
            let v = u16::from_be_bytes(ipma.get(at..at + 2)?.try_into().ok()?);
            at += 2;
            u32::from(v)
        } else {
            let v = u32::from_be_bytes(ipma.get(at..at + 4)?.try_into().ok()?);
            at += 4;
            v
        };
        let n = usize::from(*ipma.get(at)?);
        at += 1;
        let mut list = Vec::with_capacity(n);
        for _ in 0..n {
            let index = if flags & 1 == 1 {
                let v = u16::from_be_bytes(ipma.get(at..at + 2)?.try_into().ok()?);
                at += 2;
                usize::from(v & 0x7FFF)
            } else {
                let v = *ipma.get(at)?;
                at += 1;
                usize::from(v & 0x7F)
            };
            list.push(index);
        }
        if id == item {
            return Some(list);
        }
    }
    Some(Vec::new())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A decode at full size, as (raster, ICC profile).
    pub(crate) fn full(bytes: &[u8], max_pixels: u64) -> Result<(Raster, Option<Vec<u8>>)> {
        decode(bytes, max_pixels, |_, _| 1).map(|s| (s.raster, s.icc))
    }

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/avif/");

    pub(crate) fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{DIR}{name}")).unwrap()
    }

    /// Pillow's decode (libavif with dav1d), turned upright by its EXIF.
    pub(crate) fn reference(name: &str) -> image::DynamicImage {
        image::open(format!("{DIR}{name}.ref.png")).unwrap()
    }

    pub(crate) fn psnr(a: &[u8], b: &[u8]) -> f64 {
        assert_eq!(a.len(), b.len());
        let mse = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        10.0 * (255.0f64.powi(2) / mse.max(1e-9)).log10()
    }

    #[test]
    fn a_420_photo_decodes_as_libavif_does() {
        let (r, _) = full(&fixture("photo-420.avif"), 1 << 30).unwrap();
        let want = reference("photo-420").to_rgb8();
        assert_eq!((r.width, r.height, r.channels), (300, 200, 3));
        let p = psnr(&r.data, want.as_raw());
        assert!(p > 40.0, "{p:.1} dB against libavif");
    }

    #[test]
    fn alpha_comes_from_the_auxiliary_item() {
        let (r, _) = full(&fixture("alpha-444.avif"), 1 << 30).unwrap();
        let want = reference("alpha-444").to_rgba8();
        assert_eq!((r.width, r.height, r.channels), (214, 120, 4));
        let alpha = |d: &[u8]| d.chunks_exact(4).map(|p| p[3]).collect::<Vec<_>>();
        assert!(alpha(&r.data).contains(&0), "no transparent pixels");
        let p = psnr(&alpha(&r.data), &alpha(want.as_raw()));
        assert!(p > 40.0, "alpha {p:.1} dB against libavif");
    }

    #[test]
    fn irot_turns_the_picture_upright() {
        let bytes = fixture("photo-irot.avif");
        assert_eq!(properties(&bytes).transforms, vec![Transform::Rotate(3)]);
        let plain = properties(&fixture("photo-420.avif"));
        assert!(plain.transforms.is_empty());
        // libavif's default description: sRGB primaries and transfer.
        let nclx = plain.nclx.expect("an nclx colr box");
        assert_eq!((nclx.primaries, nclx.transfer), (1, 13), "{nclx:?}");
        assert_eq!(exif_orientation(&properties(&bytes).transforms), 6);
        assert_eq!(exif_orientation(&[]), 1);
        let mirrored = [Transform::Mirror { top_bottom: false }];
        assert_eq!(exif_orientation(&mirrored), 2);
        let (r, _) = full(&bytes, 1 << 30).unwrap();
        let want = reference("photo-irot").to_rgb8();
        assert_eq!((r.width, r.height), (200, 300));
        let p = psnr(&r.data, want.as_raw());
        assert!(p > 40.0, "{p:.1} dB against the upright reference");
    }

    /// sRGB red stored as Display P3 (its P3 coordinates, 234/51/35)
    /// comes back as sRGB red; BT.709 and HDR pictures are left alone.
    #[test]
    fn display_p3_is_converted_to_srgb() {
        let p3 = Nclx {
            primaries: 12,
            transfer: 13,
            matrix: 6,
            full_range: true,
        };
        let red = Raster::new(1, 1, 3, vec![234, 51, 35]);
        let got = crate::color::profile_to_srgb(red, &wide_gamut(p3).unwrap());
        let err = got
            .data
            .iter()
            .zip([255u8, 0, 0])
            .map(|(&a, b)| a.abs_diff(b))
            .max();
        assert!(err.unwrap() <= 3, "{:?}", got.data);
        assert!(wide_gamut(Nclx { primaries: 1, ..p3 }).is_none());
        assert!(wide_gamut(Nclx { transfer: 16, ..p3 }).is_none());
        assert!(wide_gamut(Nclx { primaries: 9, ..p3 }).is_some());
    }

    /// ravif writes 10 bits by default: the wide path against the source.
    #[test]
    fn ten_bit_pictures_decode() {
        // A small crop: rav1e is slow in test builds.
        let src = reference("photo-420").crop_imm(40, 30, 96, 64).to_rgb8();
        let pixels: Vec<rgb::RGB8> = src
            .as_raw()
            .chunks_exact(3)
            .map(|p| rgb::RGB8::new(p[0], p[1], p[2]))
            .collect();
        let img = ravif::Img::new(&pixels[..], 96, 64);
        let avif = ravif::Encoder::new()
            .with_quality(90.0)
            .with_speed(10)
            .with_bit_depth(ravif::BitDepth::Ten)
            .encode_rgb(img)
            .unwrap()
            .avif_file;
        let (r, _) = full(&avif, 1 << 30).unwrap();
        let p = psnr(&r.data, src.as_raw());
        assert!(p > 32.0, "{p:.1} dB against the source");
    }

    /// Shrink-on-load: the planes averaged down before colour conversion
    /// give the full decode's picture averaged down, at the upright size.
    #[test]
    fn reduced_decodes_match_full_ones_averaged() {
        for (name, d) in [
            ("photo-420.avif", 2),
            ("photo-420.avif", 4),
            ("alpha-444.avif", 2),
        ] {
            let bytes = fixture(name);
            let (big, _) = full(&bytes, 1 << 30).unwrap();
            let small = decode(&bytes, 1 << 30, |w, h| {
                assert_eq!((w, h), (big.width, big.height));
                d
            })
            .unwrap();
            assert_eq!(small.logical, (big.width, big.height));
            let r = &small.raster;
            assert_eq!(
                (r.width, r.height),
                (big.width.div_ceil(d), big.height.div_ceil(d))
            );
            assert_eq!(r.channels, big.channels);
            let want = image::imageops::resize(
                &image::RgbaImage::from_fn(big.width, big.height, |x, y| {
                    let i = ((y * big.width + x) * u32::from(big.channels)) as usize;
                    let px = &big.data[i..i + usize::from(big.channels)];
                    image::Rgba([px[0], px[1], px[2], px.get(3).copied().unwrap_or(255)])
                }),
                r.width,
                r.height,
                image::imageops::FilterType::Triangle,
            );
            let got: Vec<u8> = r
                .data
                .chunks_exact(usize::from(r.channels))
                .flat_map(|p| [p[0], p[1], p[2], p.get(3).copied().unwrap_or(255)])
                .collect();
            let p = psnr(&got, want.as_raw());
            assert!(p > 30.0, "{name} at 1/{d}: {p:.1} dB");
        }
        // `irot` turns the picture: the upright size is asked for.
        let turned = decode(&fixture("photo-irot.avif"), 1 << 30, |w, h| {
            assert_eq!((w, h), (200, 300));
            2
        })
        .unwrap();
        assert_eq!((turned.raster.width, turned.raster.height), (100, 150));
        assert_eq!(turned.logical, (200, 300));
    }

    /// A frame averaged down straight from the decoder's buffers equals
    /// the full frame averaged down.
    #[test]
    fn direct_reduction_equals_reducing_the_full_frame() {
        for name in ["photo-420.avif", "alpha-444.avif"] {
            let bytes = fixture(name);
            let data = avif_parse::read_avif(&mut std::io::Cursor::new(&bytes)).unwrap();
            let (full, size) = av1::decode_frame(&data.primary_item, 1 << 30, 1).unwrap();
            assert_eq!(size, (full.width, full.height));
            for d in [2, 4, 8] {
                let (direct, size_then) =
                    av1::decode_frame(&data.primary_item, 1 << 30, d).unwrap();
                let want = full.reduced(d);
                assert_eq!(size_then, size);
                assert_eq!((direct.width, direct.height), (want.width, want.height));
                assert_eq!(direct.layout, want.layout);
                assert!(direct.planes == want.planes, "{name} at 1/{d}");
            }
        }
    }

    /// Found by fuzzing: an AV1 frame whose decoding fails made rav1d
    /// 1.1.0 unwrap a frame header it had already released (fixed in
    /// vendor/rav1d). Before the fix, rav1d's `extern "C"` functions turned
    /// that panic into an abort of the process.
    #[test]
    fn the_stream_that_made_rav1d_panic_is_an_error() {
        let bytes = fixture("rav1d-panic.avif");
        match full(&bytes, 1 << 30) {
            Err(EngineError::InvalidImage(m)) => assert!(m.contains("AV1"), "{m}"),
            other => panic!("{:?}", other.map(|(r, _)| (r.width, r.height))),
        }
    }

    /// Found by fuzzing: a box claiming 2.7 GB in a 296-byte file, which
    /// avif-parse would reserve memory for; refused before it reads. So are
    /// a box past the end of its parent and an item extent past the end.
    #[test]
    fn extents_past_the_end_of_the_file_are_refused() {
        // The second claims 4 GB for its `iloc`, inside a small `meta`.
        for name in ["huge-extent.avif", "huge-iloc.avif"] {
            match full(&fixture(name), 1 << 30) {
                Err(EngineError::InvalidImage(m)) => assert!(m.contains("past the end"), "{m}"),
                other => panic!("{name}: {:?}", other.map(|(r, _)| (r.width, r.height))),
            }
        }
        for name in [
            "photo-420.avif",
            "alpha-444.avif",
            "photo-grid.avif",
            "alpha-grid.avif",
        ] {
            assert!(boxes_fit(&fixture(name)), "{name}");
        }
        // photo-420's iloc: the colour item's extent, made 1 MB long.
        let mut bytes = fixture("photo-420.avif");
        let iloc = bytes.windows(4).position(|w| w == b"iloc").unwrap();
        assert!(avif_grid::extents_fit(&bytes));
        let body = iloc + 4;
        let (sizes, version) = (bytes[body + 4], bytes[body]);
        assert_eq!((version, sizes), (0, 0x44), "4-byte offsets and lengths");
        // version 0: count at +6, then id, data_reference_index, extent
        // count (2 bytes each), offset and length (4 each).
        let length = body + 8 + 6 + 4;
        bytes[length..length + 4].copy_from_slice(&(1u32 << 20).to_be_bytes());
        assert!(!avif_grid::extents_fit(&bytes));
        assert!(full(&bytes, 1 << 30).is_err());
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        let bytes = fixture("photo-420.avif");
        for cut in [0, 16, 200, bytes.len() / 2, bytes.len() - 1] {
            assert!(full(&bytes[..cut], 1 << 30).is_err(), "cut at {cut}");
        }
        // Corrupted AV1 data and boxes (a fixed xorshift sequence of byte
        // changes): every outcome is a value, never a panic, and a picture
        // that still comes out stays small.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..200 {
            let mut bad = bytes.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state % bad.len() as u64) as usize;
                bad[at] ^= (state >> 32) as u8 | 1;
            }
            if let Ok((r, _)) = full(&bad, 1 << 30) {
                assert!(r.width * r.height <= 1 << 20);
            }
        }
        assert!(matches!(
            full(&bytes, 300 * 200 - 1),
            Err(EngineError::TooLarge(_))
        ));
    }
}
