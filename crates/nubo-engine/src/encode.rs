//! Encoding derived files. Pure Rust for JPEG (jpeg-encoder), PNG (png),
//! GIF (gif), AVIF (ravif/rav1e); libwebp (C, vendored by the `webp`
//! crate) for WebP, since no pure-Rust lossy WebP encoder exists; and, for
//! `q_auto`'s thorough encodes, mozjpeg (C), whose trellis quantisation
//! makes smaller files at the same quality. Encoders only ever see pixels
//! this process produced. No metadata is written.

use nubo_core::Format;
use nubo_transform::{Chroma, Color};

use crate::error::{EngineError, Result};
use crate::raster::{Picture, Raster};

/// How to encode, with every choice already made.
#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions {
    pub format: Format,
    /// 1–100, already resolved from `q_` / `q_auto`.
    pub quality: u8,
    pub chroma: Option<Chroma>,
    pub progressive: bool,
    /// WebP: lossless instead of lossy.
    pub lossless: bool,
    /// PNG: an 8-bit palette.
    pub png8: bool,
    /// Keep animation where the format has it.
    pub animated: bool,
    /// Flattening colour for formats without alpha.
    pub background: Color,
    /// rav1e speed, 1 (slow) – 10 (fast).
    pub avif_speed: u8,
    /// Spend encoder time for bytes (`q_auto`): mozjpeg with trellis
    /// quantisation and optimised progressive scans for JPEG; method 6
    /// and sharp RGB→YUV for WebP.
    pub thorough: bool,
}

impl EncodeOptions {
    pub fn new(format: Format) -> EncodeOptions {
        EncodeOptions {
            format,
            quality: 80,
            chroma: None,
            progressive: false,
            lossless: false,
            png8: false,
            animated: true,
            background: Color::WHITE,
            avif_speed: 6,
            thorough: false,
        }
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Internal(format!("{what} encoder: {e}"))
}

pub fn encode(pic: &Picture, o: &EncodeOptions) -> Result<Vec<u8>> {
    let first = pic.first();
    match o.format {
        Format::Jpg if o.thorough => mozjpeg(&first.flatten(o.background), o),
        Format::Jpg => jpeg(&first.flatten(o.background), o),
        Format::Png if o.png8 => png8(first),
        Format::Png => png(first),
        Format::Webp if o.animated && pic.is_animated() => webp_animated(pic, o),
        Format::Webp => webp(first, o),
        Format::Gif => gif(pic, o),
        Format::Avif => avif(first, o),
        Format::Bmp | Format::Tiff | Format::Ico => via_image(first, o),
        other => Err(EngineError::Unsupported(format!(
            "Output format {} is not supported",
            other.extension()
        ))),
    }
}

fn jpeg(r: &Raster, o: &EncodeOptions) -> Result<Vec<u8>> {
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
    if r.width > 65_535 || r.height > 65_535 {
        return Err(EngineError::TooLarge(
            "JPEG output is limited to 65535 pixels a side".into(),
        ));
    }
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out, o.quality);
    e.set_sampling_factor(match o.chroma {
        Some(Chroma::C422) => SamplingFactor::R_4_2_2,
        _ if chroma_444(o) => SamplingFactor::R_4_4_4,
        _ => SamplingFactor::R_4_2_0,
    });
    e.set_progressive(o.progressive);
    // jpeg-encoder 0.7's optimised tables with 4:2:0 produce files that
    // libjpeg reads but zune-jpeg (our decoder, and `image`'s) decodes as
    // garbage; standard tables cost a few percent of size and are safe.
    // `a_jpeg_we_write_we_can_read` in the tests guards this.
    e.set_optimized_huffman_tables(false);
    e.encode(&r.data, r.width as u16, r.height as u16, ColorType::Rgb)
        .map_err(|e| failed("JPEG", e))?;
    Ok(out)
}

fn chroma_444(o: &EncodeOptions) -> bool {
    match o.chroma {
        Some(Chroma::C444) => true,
        Some(_) => false,
        // Cloudinary keeps 4:4:4 at high quality, 4:2:0 otherwise.
        None => o.quality >= 90,
    }
}

fn mozjpeg(r: &Raster, o: &EncodeOptions) -> Result<Vec<u8>> {
    if r.width > 65_535 || r.height > 65_535 {
        return Err(EngineError::TooLarge(
            "JPEG output is limited to 65535 pixels a side".into(),
        ));
    }
    // mozjpeg reports libjpeg errors by unwinding; keep them an error.
    std::panic::catch_unwind(|| -> std::io::Result<Vec<u8>> {
        let mut c = ::mozjpeg::Compress::new(::mozjpeg::ColorSpace::JCS_RGB);
        c.set_size(r.width as usize, r.height as usize);
        c.set_quality(o.quality as f32);
        let (h, v) = match o.chroma {
            Some(Chroma::C422) => (2, 1),
            _ if chroma_444(o) => (1, 1),
            _ => (2, 2),
        };
        c.set_chroma_sampling_pixel_sizes((h, v), (h, v));
        c.set_progressive_mode();
        c.set_optimize_scans(true);
        c.set_optimize_coding(true);
        let mut started = c.start_compress(Vec::new())?;
        started.write_scanlines(&r.data)?;
        started.finish()
    })
    .map_err(|_| failed("JPEG", "mozjpeg failed"))?
    .map_err(|e| failed("JPEG", e))
}

fn png(r: &Raster) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, r.width, r.height);
        e.set_color(if r.channels == 4 {
            png::ColorType::Rgba
        } else {
            png::ColorType::Rgb
        });
        e.set_depth(png::BitDepth::Eight);
        e.set_compression(png::Compression::Fast);
        let mut w = e.write_header().map_err(|e| failed("PNG", e))?;
        w.write_image_data(&r.data).map_err(|e| failed("PNG", e))?;
    }
    Ok(out)
}

/// `fl_png8`: 256 colours chosen by NeuQuant, alpha kept in `tRNS`.
fn png8(r: &Raster) -> Result<Vec<u8>> {
    let rgba = r.to_rgba();
    let nq = color_quant::NeuQuant::new(10, 256, &rgba.data);
    let palette_rgba = nq.color_map_rgba();
    let indices: Vec<u8> = rgba
        .data
        .chunks_exact(4)
        .map(|p| nq.index_of(p) as u8)
        .collect();
    let mut palette = Vec::with_capacity(768);
    let mut trns = Vec::with_capacity(256);
    for p in palette_rgba.chunks_exact(4) {
        palette.extend_from_slice(&p[..3]);
        trns.push(p[3]);
    }
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, r.width, r.height);
        e.set_color(png::ColorType::Indexed);
        e.set_depth(png::BitDepth::Eight);
        e.set_palette(palette);
        if trns.iter().any(|&a| a != 255) {
            e.set_trns(trns);
        }
        let mut w = e.write_header().map_err(|e| failed("PNG", e))?;
        w.write_image_data(&indices).map_err(|e| failed("PNG", e))?;
    }
    Ok(out)
}

fn webp_config(o: &EncodeOptions) -> Result<webp::WebPConfig> {
    let mut c = webp::WebPConfig::new().map_err(|_| failed("WebP", "config"))?;
    c.lossless = o.lossless as i32;
    c.quality = if o.lossless { 75.0 } else { o.quality as f32 };
    c.method = if o.thorough { 6 } else { 4 };
    c.use_sharp_yuv = o.thorough as i32;
    c.thread_level = 0;
    Ok(c)
}

fn webp(r: &Raster, o: &EncodeOptions) -> Result<Vec<u8>> {
    if r.width > 16_383 || r.height > 16_383 {
        return Err(EngineError::TooLarge(
            "WebP output is limited to 16383 pixels a side".into(),
        ));
    }
    let enc = if r.channels == 4 {
        webp::Encoder::from_rgba(&r.data, r.width, r.height)
    } else {
        webp::Encoder::from_rgb(&r.data, r.width, r.height)
    };
    let mem = enc
        .encode_advanced(&webp_config(o)?)
        .map_err(|e| failed("WebP", format!("{e:?}")))?;
    Ok(mem.to_vec())
}

fn webp_animated(pic: &Picture, o: &EncodeOptions) -> Result<Vec<u8>> {
    let config = webp_config(o)?;
    let frames: Vec<Raster> = pic.frames.iter().map(|f| f.raster.to_rgba()).collect();
    let (w, h) = (frames[0].width, frames[0].height);
    let mut enc = webp::AnimEncoder::new(w, h, &config);
    enc.set_loop_count(pic.loop_count as i32);
    let mut t = 0i32;
    for (f, r) in pic.frames.iter().zip(&frames) {
        enc.add_frame(webp::AnimFrame::from_rgba(&r.data, w, h, t));
        t = t.saturating_add(f.delay_ms.max(20) as i32);
    }
    let mem = enc
        .try_encode()
        .map_err(|e| failed("animated WebP", format!("{e:?}")))?;
    Ok(mem.to_vec())
}

fn gif(pic: &Picture, o: &EncodeOptions) -> Result<Vec<u8>> {
    let (w, h) = (pic.width(), pic.height());
    if w > 65_535 || h > 65_535 {
        return Err(EngineError::TooLarge(
            "GIF output is limited to 65535 pixels a side".into(),
        ));
    }
    let mut out = Vec::new();
    {
        let mut e =
            gif::Encoder::new(&mut out, w as u16, h as u16, &[]).map_err(|e| failed("GIF", e))?;
        if pic.is_animated() && o.animated {
            e.set_repeat(gif::Repeat::Infinite)
                .map_err(|e| failed("GIF", e))?;
        }
        let frames = if o.animated { pic.frames.len() } else { 1 };
        for f in &pic.frames[..frames] {
            let mut rgba = f.raster.to_rgba().data;
            let mut frame = gif::Frame::from_rgba_speed(w as u16, h as u16, &mut rgba, 10);
            frame.delay = (f.delay_ms / 10).min(u16::MAX as u32) as u16;
            e.write_frame(&frame).map_err(|e| failed("GIF", e))?;
        }
    }
    Ok(out)
}

fn avif(r: &Raster, o: &EncodeOptions) -> Result<Vec<u8>> {
    use rgb::FromSlice;
    let enc = ravif::Encoder::new()
        .with_quality(o.quality as f32)
        .with_alpha_quality(o.quality as f32)
        .with_speed(o.avif_speed.clamp(1, 10))
        .with_num_threads(Some(1))
        // 8-bit, as libvips and libavif write 8-bit pictures: on the corpus
        // it cost rav1e 36% less CPU than ravif's default of 10 bits, for
        // the same bytes and 0.5 SSIMULACRA2 points less (README).
        .with_bit_depth(ravif::BitDepth::Eight);
    let out = if r.channels == 4 {
        enc.encode_rgba(ravif::Img::new(
            r.data.as_rgba(),
            r.width as usize,
            r.height as usize,
        ))
    } else {
        enc.encode_rgb(ravif::Img::new(
            r.data.as_rgb(),
            r.width as usize,
            r.height as usize,
        ))
    }
    .map_err(|e| failed("AVIF", e))?;
    Ok(out.avif_file)
}

fn via_image(r: &Raster, o: &EncodeOptions) -> Result<Vec<u8>> {
    let fmt = match o.format {
        Format::Bmp => image::ImageFormat::Bmp,
        Format::Tiff => image::ImageFormat::Tiff,
        _ => {
            if r.width > 256 || r.height > 256 {
                return Err(EngineError::TooLarge(
                    "ICO output is limited to 256x256 pixels".into(),
                ));
            }
            image::ImageFormat::Ico
        }
    };
    // image's ICO writer embeds PNGs that its own reader needs as RGBA.
    let rgba;
    let r = if o.format == Format::Ico {
        rgba = r.to_rgba();
        &rgba
    } else {
        r
    };
    let img: image::DynamicImage = if r.channels == 4 {
        image::RgbaImage::from_raw(r.width, r.height, r.data.clone())
            .map(image::DynamicImage::ImageRgba8)
    } else {
        image::RgbImage::from_raw(r.width, r.height, r.data.clone())
            .map(image::DynamicImage::ImageRgb8)
    }
    .ok_or_else(|| failed("image", "buffer size"))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, fmt)
        .map_err(|e| failed("image", e))?;
    Ok(out.into_inner())
}
