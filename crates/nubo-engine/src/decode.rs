//! Decoding uploaded bytes into a [`Picture`], with memory-safe Rust
//! decoders only: zune-jpeg, png, gif, image-webp, tiff, bmp, ico (through
//! `image`), resvg for SVG and jxl-oxide for JPEG XL. Every decode checks
//! the pixel and frame limits from the header first, applies the EXIF
//! orientation unless asked not to, and converts embedded ICC profiles
//! (and CMYK) to sRGB.

use std::io::Cursor;
use std::time::Instant;

use image::{AnimationDecoder, ImageDecoder};
use nubo_core::Format;
use nubo_transform::{layout, Component, Size, SizeRequest};

use crate::color;
use crate::error::{EngineError, Result};
use crate::orient::{self, Orientation};
use crate::raster::{Frame, Picture, Raster};
use crate::EngineLimits;

/// What the pipeline wants from a decode.
#[derive(Debug, Clone)]
pub struct DecodeRequest {
    pub format: Format,
    /// Keep every frame of an animation (else the `page`-th only).
    pub all_frames: bool,
    /// 1-based frame/page to keep when not animated.
    pub page: u32,
    /// Apply the EXIF orientation (Cloudinary does by default).
    pub orient: bool,
    /// For vector input: how many times the intrinsic size to render.
    pub vector_scale: f64,
    /// The first sizing step, when decoding smaller is allowed to serve it.
    pub reduce: Option<Reduce>,
    /// Read the IPTC record (`fl_keep_iptc`).
    pub keep_iptc: bool,
}

/// Shrink-on-load: the first component resizes the whole image, so a JPEG
/// may be decoded at 1/2, 1/4 or 1/8 of its size in the DCT domain.
#[derive(Debug, Clone)]
pub struct Reduce {
    pub component: Component,
}

impl Reduce {
    /// The DCT scale denominator for an upright image of `size`: libvips's
    /// rule, which leaves at least a factor of two to the Lanczos resampler
    /// so that the block-averaged pixels do not show.
    pub fn denominator(&self, size: Size) -> u32 {
        match self.shrink(size) {
            s if s >= 16.0 => 8,
            s if s >= 8.0 => 4,
            s if s >= 4.0 => 2,
            _ => 1,
        }
    }

    /// How many times smaller the first step makes an upright image of
    /// `size` (the lesser of the two axes; 1 when it does not shrink).
    pub fn shrink(&self, size: Size) -> f64 {
        let req = SizeRequest::from_component(&self.component, size, self.component.dpr_factor());
        let l = layout(&req, size);
        let Some(to) = l.resize else { return 1.0 };
        let (cw, ch) = l.crop.map_or((size.w, size.h), |k| (k.w, k.h));
        (cw as f64 / to.w.max(1) as f64)
            .min(ch as f64 / to.h.max(1) as f64)
            .max(1.0)
    }
}

impl DecodeRequest {
    pub fn new(format: Format) -> DecodeRequest {
        DecodeRequest {
            format,
            all_frames: false,
            page: 1,
            orient: true,
            vector_scale: 1.0,
            reduce: None,
            keep_iptc: false,
        }
    }
}

/// A decoded image and what was learnt on the way.
#[derive(Debug)]
pub struct Decoded {
    pub picture: Picture,
    /// Frames in the source, whether kept or not.
    pub source_frames: u32,
    /// The upright size of the source. Larger than the picture when it was
    /// decoded reduced: sizing maths runs on this size, so the output is
    /// the same as from a full decode.
    pub logical: Size,
    /// The IPTC record as an APP13 payload, when asked for and present.
    pub iptc: Option<Vec<u8>>,
}

impl Decoded {
    /// A decode at full size.
    pub fn new(picture: Picture, source_frames: u32) -> Decoded {
        let logical = Size::new(picture.width(), picture.height());
        Decoded {
            picture,
            source_frames,
            logical,
            iptc: None,
        }
    }
}

pub fn decode(bytes: &[u8], req: &DecodeRequest, limits: &EngineLimits) -> Result<Decoded> {
    let started = Instant::now();
    let out = match req.format {
        Format::Jpg => decode_jpeg(bytes, req, limits),
        Format::Svg => crate::svg::rasterize(bytes, req, limits),
        Format::Jxl => decode_jxl(bytes, limits),
        Format::Gif | Format::Webp | Format::Png if req.all_frames || req.page > 1 => {
            decode_frames(bytes, req, limits)
        }
        Format::Ico => decode_ico(bytes, req, limits),
        Format::Webp => decode_webp_still(bytes, req, limits),
        Format::Png | Format::Gif | Format::Tiff | Format::Bmp => decode_still(bytes, req, limits),
        Format::Avif => decode_avif(bytes, req, limits),
        Format::Heic => Err(EngineError::Unsupported(
            "HEIC input cannot be decoded: no memory-safe HEIC decoder is available".into(),
        )),
        other => Err(EngineError::Unsupported(format!(
            "{} files cannot be transformed as images",
            other.extension()
        ))),
    }?;
    tracing::debug!(format = ?req.format, ms = started.elapsed().as_millis() as u64, "decoded");
    Ok(out)
}

fn check_pixels(w: u32, h: u32, frames: u64, limits: &EngineLimits) -> Result<()> {
    let px = w as u64 * h as u64;
    if w == 0 || h == 0 {
        return Err(EngineError::InvalidImage("image has no pixels".into()));
    }
    if px > limits.max_input_pixels {
        return Err(EngineError::TooLarge(format!(
            "Image of {w}x{h} pixels is over the limit of {} pixels",
            limits.max_input_pixels
        )));
    }
    if frames > limits.max_frames || px.saturating_mul(frames) > limits.max_frame_pixels {
        return Err(EngineError::TooLarge(format!(
            "Animation of {frames} frames of {w}x{h} is over the limit"
        )));
    }
    Ok(())
}

fn image_limits(limits: &EngineLimits) -> image::Limits {
    let mut l = image::Limits::default();
    let side = limits.max_input_pixels.min(u32::MAX as u64) as u32;
    l.max_image_width = Some(side);
    l.max_image_height = Some(side);
    // RGBA16 of the largest allowed image, plus decoder scratch.
    l.max_alloc = Some(
        limits
            .max_input_pixels
            .saturating_mul(8)
            .saturating_add(64 << 20),
    );
    l
}

fn invalid(e: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidImage(e.to_string())
}

/// `image`'s own allocation and size limits are our limits too.
fn image_error(e: image::ImageError) -> EngineError {
    match e {
        image::ImageError::Limits(l) => {
            EngineError::TooLarge(format!("Image is over the configured limits: {l}"))
        }
        other => invalid(other),
    }
}

fn decode_jpeg(bytes: &[u8], req: &DecodeRequest, limits: &EngineLimits) -> Result<Decoded> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;

    // JPEG's own ceiling; the pixel limit is checked after the header.
    let options = DecoderOptions::default()
        .set_max_width(65_535)
        .set_max_height(65_535)
        .set_strict_mode(false)
        // Progressive files with hundreds of scans are a CPU bomb.
        .jpeg_set_max_scans(100);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    d.decode_headers().map_err(invalid)?;
    let info = d.info().ok_or_else(|| invalid("no JPEG header"))?;
    check_pixels(info.width as u32, info.height as u32, 1, limits)?;
    // Plain CMYK comes out raw and goes through the embedded profile;
    // zune-jpeg only converts YCCK to RGB itself (with the plain formula).
    let cmyk = d.input_colorspace() == Some(ColorSpace::CMYK);
    let out_cs = if cmyk {
        ColorSpace::CMYK
    } else {
        ColorSpace::RGB
    };
    d.set_options(options.jpeg_set_out_colorspace(out_cs));
    let icc = d.icc_profile();
    let orientation = d
        .exif()
        .map(|e| orient::from_exif(e))
        .unwrap_or(Orientation::Normal);
    let iptc = d
        .iptc()
        .filter(|_| req.keep_iptc)
        .and_then(|irb| crate::iptc::iptc_segment(irb));
    let (w, h) = (info.width as u32, info.height as u32);
    let logical = upright_size(w, h, req, orientation);
    let denom = match &req.reduce {
        Some(r) if !cmyk => r.denominator(logical),
        _ => 1,
    };
    let scaled = if denom > 1 {
        d.decode_scaled(denom as usize).map_err(invalid)?
    } else {
        None
    };
    let raster = match scaled {
        Some(out) => {
            let r = Raster::new(out.width as u32, out.height as u32, 3, out.pixels);
            color::to_srgb(r, icc.as_deref())
        }
        None => {
            if denom > 1 {
                // Not reducible after all: the decoder said so before
                // writing a pixel, but its state is spent.
                d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), *d.options());
            }
            let pixels = d.decode().map_err(invalid)?;
            if cmyk {
                color::cmyk_to_srgb(&pixels, w, h, icc.as_deref())
            } else {
                color::to_srgb(Raster::new(w, h, 3, pixels), icc.as_deref())
            }
        }
    };
    let mut decoded = upright_still(raster, req, orientation);
    decoded.logical = logical;
    decoded.iptc = iptc;
    Ok(decoded)
}

/// The size of a `w`×`h` frame once turned upright as `req` asks.
fn upright_size(w: u32, h: u32, req: &DecodeRequest, orientation: Orientation) -> Size {
    if req.orient && orientation.swaps_axes() {
        Size::new(h, w)
    } else {
        Size::new(w, h)
    }
}

/// One decoded frame, turned upright unless the request says otherwise.
fn upright_still(raster: Raster, req: &DecodeRequest, orientation: Orientation) -> Decoded {
    let raster = if req.orient {
        orient::apply(raster, orientation)
    } else {
        raster
    };
    Decoded::new(Picture::still(raster), 1)
}

fn image_format(f: Format) -> image::ImageFormat {
    match f {
        Format::Png => image::ImageFormat::Png,
        Format::Gif => image::ImageFormat::Gif,
        Format::Webp => image::ImageFormat::WebP,
        Format::Tiff => image::ImageFormat::Tiff,
        Format::Bmp => image::ImageFormat::Bmp,
        Format::Ico => image::ImageFormat::Ico,
        _ => image::ImageFormat::Jpeg,
    }
}

fn from_dynamic(img: image::DynamicImage) -> Raster {
    let (w, h) = (img.width(), img.height());
    if img.color().has_alpha() {
        Raster::new(w, h, 4, img.into_rgba8().into_raw())
    } else {
        Raster::new(w, h, 3, img.into_rgb8().into_raw())
    }
}

fn decode_still(bytes: &[u8], req: &DecodeRequest, limits: &EngineLimits) -> Result<Decoded> {
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), image_format(req.format));
    reader.limits(image_limits(limits));
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    let (w, h) = decoder.dimensions();
    check_pixels(w, h, 1, limits)?;
    let icc = decoder.icc_profile().ok().flatten();
    let orientation = decoder
        .orientation()
        .map(orient::from_image)
        .unwrap_or(Orientation::Normal);
    let img = image::DynamicImage::from_decoder(decoder).map_err(image_error)?;
    let raster = color::to_srgb(from_dynamic(img), icc.as_deref());
    Ok(upright_still(raster, req, orientation))
}

/// A WebP without animation, reduced on the way when it may be (whether or
/// not the output could have kept an animation).
fn decode_webp_still(bytes: &[u8], req: &DecodeRequest, limits: &EngineLimits) -> Result<Decoded> {
    match decode_webp_reduced(bytes, req, limits)? {
        Some(decoded) => Ok(decoded),
        None => decode_still(bytes, req, limits),
    }
}

/// A lossy WebP still that is about to shrink four times or more: decoded
/// without VP8's deblocking filter (the resampler averages over far wider
/// areas than it smooths) and, without alpha, brought out at 1/2, 1/4 or
/// 1/8 of its size by the same rule as JPEG's DCT scaling. `None` when that
/// does not apply.
fn decode_webp_reduced(
    bytes: &[u8],
    req: &DecodeRequest,
    limits: &EngineLimits,
) -> Result<Option<Decoded>> {
    let Some(reduce) = &req.reduce else {
        return Ok(None);
    };
    let mut d = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(invalid)?;
    if d.is_animated() || !d.is_lossy() {
        return Ok(None);
    }
    let (w, h) = d.dimensions();
    check_pixels(w, h, 1, limits)?;
    let orientation = d
        .exif_metadata()
        .ok()
        .flatten()
        .map(|e| orient::from_exif(&e))
        .unwrap_or(Orientation::Normal);
    let logical = upright_size(w, h, req, orientation);
    let denom = reduce.denominator(logical);
    if denom < 2 {
        return Ok(None);
    }
    d.set_lossy_upsampling(image_webp::UpsamplingMethod::Simple);
    d.set_loop_filter(false);
    let icc = d.icc_profile().ok().flatten();
    // Without alpha the frame is averaged down in YUV before it becomes
    // RGB, as a JPEG is scaled in the DCT domain; with alpha it comes out
    // at full size and the resampler does all of the shrinking.
    if let Some(small) = d.read_image_reduced(denom).map_err(invalid)? {
        let raster = Raster::new(small.width, small.height, 3, small.pixels);
        let mut decoded = upright_still(color::to_srgb(raster, icc.as_deref()), req, orientation);
        decoded.logical = logical;
        return Ok(Some(decoded));
    }
    let channels = if d.has_alpha() { 4 } else { 3 };
    let mut pixels = vec![0; w as usize * h as usize * channels as usize];
    d.read_image(&mut pixels).map_err(invalid)?;
    let raster = color::to_srgb(Raster::new(w, h, channels, pixels), icc.as_deref());
    Ok(Some(upright_still(raster, req, orientation)))
}

/// An AVIF still (an animation's primary image): turned upright by its
/// own `irot`/`imir` properties, which AVIF uses instead of EXIF.
fn decode_avif(bytes: &[u8], req: &DecodeRequest, limits: &EngineLimits) -> Result<Decoded> {
    let denominator = |w, h| {
        req.reduce
            .as_ref()
            .map_or(1, |r| r.denominator(Size::new(w, h)))
    };
    let still = crate::avif::decode(bytes, limits.max_input_pixels, denominator)?;
    let raster = color::to_srgb(still.raster, still.icc.as_deref());
    let mut decoded = upright_still(raster, req, Orientation::Normal);
    decoded.logical = Size::new(still.logical.0, still.logical.1);
    Ok(decoded)
}

/// ICO through `image`, except PNG entries that are not RGBA, which it
/// refuses: those are decoded as the PNG they are.
fn decode_ico(bytes: &[u8], req: &DecodeRequest, limits: &EngineLimits) -> Result<Decoded> {
    match decode_still(bytes, req, limits) {
        Err(EngineError::InvalidImage(_)) => {
            let png = largest_ico_png(bytes).ok_or_else(|| invalid("ICO has no usable image"))?;
            let req = DecodeRequest {
                format: Format::Png,
                ..req.clone()
            };
            decode_still(png, &req, limits)
        }
        other => other,
    }
}

fn largest_ico_png(bytes: &[u8]) -> Option<&[u8]> {
    let count = u16::from_le_bytes([*bytes.get(4)?, *bytes.get(5)?]) as usize;
    let mut best: Option<(u32, &[u8])> = None;
    for i in 0..count.min(256) {
        let e = bytes.get(6 + i * 16..6 + i * 16 + 16)?;
        let side = |b: u8| if b == 0 { 256 } else { b as u32 };
        let area = side(e[0]) * side(e[1]);
        let size = u32::from_le_bytes([e[8], e[9], e[10], e[11]]) as usize;
        let off = u32::from_le_bytes([e[12], e[13], e[14], e[15]]) as usize;
        let data = bytes.get(off..off.checked_add(size)?)?;
        if data.starts_with(b"\x89PNG") && best.is_none_or(|(a, _)| area > a) {
            best = Some((area, data));
        }
    }
    best.map(|(_, d)| d)
}

/// Animated GIF, WebP and APNG: every frame composited to the full canvas.
fn decode_frames(bytes: &[u8], req: &DecodeRequest, limits: &EngineLimits) -> Result<Decoded> {
    let frames: Box<dyn Iterator<Item = image::ImageResult<image::Frame>>> = match req.format {
        Format::Gif => {
            let mut d =
                image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(image_error)?;
            d.set_limits(image_limits(limits)).map_err(image_error)?;
            let (w, h) = d.dimensions();
            check_pixels(w, h, 1, limits)?;
            Box::new(d.into_frames())
        }
        Format::Webp => {
            let mut d =
                image::codecs::webp::WebPDecoder::new(Cursor::new(bytes)).map_err(image_error)?;
            d.set_limits(image_limits(limits)).map_err(image_error)?;
            if !d.has_animation() {
                return decode_webp_still(bytes, req, limits);
            }
            let (w, h) = d.dimensions();
            check_pixels(w, h, 1, limits)?;
            Box::new(d.into_frames())
        }
        _ => {
            let mut d =
                image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(image_error)?;
            d.set_limits(image_limits(limits)).map_err(image_error)?;
            if !d.is_apng().map_err(image_error)? {
                return decode_still(bytes, req, limits);
            }
            let (w, h) = d.dimensions();
            check_pixels(w, h, 1, limits)?;
            Box::new(d.apng().map_err(image_error)?.into_frames())
        }
    };
    let mut out = Vec::new();
    let mut count = 0u32;
    for frame in frames {
        let frame = frame.map_err(image_error)?;
        count += 1;
        let (w, h) = frame.buffer().dimensions();
        check_pixels(w, h, count as u64, limits)?;
        let keep = req.all_frames || count == req.page;
        if keep {
            let (n, d) = frame.delay().numer_denom_ms();
            let delay_ms = n.checked_div(d).unwrap_or(0);
            let raster = Raster::new(w, h, 4, frame.into_buffer().into_raw());
            out.push(Frame { raster, delay_ms });
        }
        if !req.all_frames && count >= req.page {
            break;
        }
    }
    if out.is_empty() {
        return Err(EngineError::InvalidImage(format!(
            "page {} does not exist (the image has {count})",
            req.page
        )));
    }
    Ok(Decoded::new(
        Picture {
            frames: out,
            loop_count: 0,
        },
        count,
    ))
}

fn decode_jxl(bytes: &[u8], limits: &EngineLimits) -> Result<Decoded> {
    let mut img = jxl_oxide::JxlImage::builder()
        .read(Cursor::new(bytes))
        .map_err(invalid)?;
    check_pixels(img.width(), img.height(), 1, limits)?;
    img.request_color_encoding(jxl_oxide::EnumColourEncoding::srgb(
        jxl_oxide::RenderingIntent::Relative,
    ));
    let render = img.render_frame(0).map_err(invalid)?;
    let fb = render.image_all_channels();
    let (w, h, ch) = (fb.width() as u32, fb.height() as u32, fb.channels());
    let to8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
    let buf = fb.buf();
    let (channels, data): (u8, Vec<u8>) = match ch {
        1 => (3, buf.iter().flat_map(|&g| [to8(g); 3]).collect()),
        2 => (
            4,
            buf.chunks_exact(2)
                .flat_map(|p| [to8(p[0]), to8(p[0]), to8(p[0]), to8(p[1])])
                .collect(),
        ),
        3 => (3, buf.iter().map(|&v| to8(v)).collect()),
        _ => (
            4,
            buf.chunks_exact(ch)
                .flat_map(|p| [to8(p[0]), to8(p[1]), to8(p[2]), to8(p[3])])
                .collect(),
        ),
    };
    Ok(Decoded::new(
        Picture::still(Raster::new(w, h, channels, data)),
        1,
    ))
}
