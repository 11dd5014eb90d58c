//! Identify uploaded bytes: format, dimensions, frames, orientation.

mod frames;
mod svg;
mod video;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use nubo_core::Format;

pub use video::VideoInfo;

/// What a file turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    Image(ImageInfo),
    Video(VideoInfo),
    /// Nothing Nubo recognises as media: a raw file.
    Unknown,
}

/// An image as its header describes it, after EXIF orientation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: Format,
    /// Width as displayed: swapped with height for EXIF orientations 5-8.
    pub width: u32,
    pub height: u32,
    /// Frames of an animation or pages of a multi-page file; 1 otherwise.
    pub frames: u32,
    /// EXIF orientation 1-8 (1 when absent).
    pub orientation: u8,
}

/// Limits checked against the header, before any decode.
#[derive(Debug, Clone, Copy)]
pub struct ProbeLimits {
    pub max_pixels: u64,
    pub max_frames: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("Image is too large: {width}x{height} is {pixels} pixels, the limit is {limit}")]
    TooManyPixels {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("Image has too many frames: {frames}, the limit is {limit}")]
    TooManyFrames { frames: u64, limit: u64 },
    #[error("Invalid {format} file: {why}")]
    Corrupt { format: &'static str, why: String },
    #[error("reading the upload: {0}")]
    Io(#[from] std::io::Error),
}

fn corrupt(format: Format, why: impl ToString) -> ProbeError {
    ProbeError::Corrupt {
        format: format.extension(),
        why: why.to_string(),
    }
}

/// Reads the file's header (and, for some formats, its block structure) to
/// identify it. Never decodes pixels.
pub fn probe_file(path: &Path, limits: ProbeLimits) -> Result<Probe, ProbeError> {
    probe_reader(&mut BufReader::new(File::open(path)?), limits)
}

/// [`probe_file`] over any seekable reader (an in-memory buffer, a fuzzer's input).
pub fn probe_reader<R: BufRead + Seek>(
    file: &mut R,
    limits: ProbeLimits,
) -> Result<Probe, ProbeError> {
    let mut head = [0u8; 512];
    let n = read_up_to(file, &mut head)?;
    let head = &head[..n];
    file.seek(SeekFrom::Start(0))?;

    if let Some(kind) = video::sniff(head) {
        return Ok(Probe::Video(video::probe(file, kind)?));
    }
    if let Some(format) = raster_format(head) {
        let info = probe_raster(file, format)?;
        check_limits(&info, limits)?;
        return Ok(Probe::Image(info));
    }
    if svg::sniff(head) {
        let info = svg::probe(file)?;
        check_limits(&info, limits)?;
        return Ok(Probe::Image(info));
    }
    Ok(Probe::Unknown)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn raster_format(head: &[u8]) -> Option<Format> {
    use imagesize::{Compression, ImageType};
    // imagesize wants a few bytes past the signature; a JPEG signature alone
    // still claims to be a JPEG, and must then fail as a broken one.
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpg);
    }
    Some(match imagesize::image_type(head).ok()? {
        ImageType::Jpeg => Format::Jpg,
        ImageType::Png => Format::Png,
        ImageType::Gif => Format::Gif,
        ImageType::Webp => Format::Webp,
        ImageType::Bmp => Format::Bmp,
        ImageType::Tiff => Format::Tiff,
        ImageType::Ico => Format::Ico,
        ImageType::Jxl => Format::Jxl,
        ImageType::Heif(Compression::Av1) => Format::Avif,
        ImageType::Heif(_) => Format::Heic,
        _ => return None,
    })
}

fn probe_raster<R: BufRead + Seek>(file: &mut R, format: Format) -> Result<ImageInfo, ProbeError> {
    let size = imagesize::reader_size(&mut *file).map_err(|e| corrupt(format, e))?;
    let (w, h) = (to_u32(size.width, format)?, to_u32(size.height, format)?);
    if w == 0 || h == 0 {
        return Err(corrupt(format, "zero width or height"));
    }
    file.seek(SeekFrom::Start(0))?;
    let frames = frames::count(file, format).map_err(|e| corrupt(format, e))?;
    file.seek(SeekFrom::Start(0))?;
    // imagesize already turned a HEIF's size by its `irot`.
    let (orientation, turned) = if matches!(format, Format::Avif | Format::Heic) {
        (heif_orientation(file)?, true)
    } else {
        (exif_orientation(file, format), false)
    };
    let (width, height) = if orientation >= 5 && !turned {
        (h, w)
    } else {
        (w, h)
    };
    Ok(ImageInfo {
        format,
        width,
        height,
        frames,
        orientation,
    })
}

fn to_u32(v: usize, format: Format) -> Result<u32, ProbeError> {
    u32::try_from(v).map_err(|_| corrupt(format, "dimension out of range"))
}

/// A HEIF's (AVIF's, HEIC's) orientation is its `irot`/`imir` properties
/// (normative; its EXIF is not), read from the boxes before the image data.
fn heif_orientation<R: BufRead + Seek>(file: &mut R) -> Result<u8, ProbeError> {
    let mut head = vec![0u8; 1 << 16];
    let n = read_up_to(file, &mut head)?;
    let props = crate::avif::properties(&head[..n]);
    Ok(crate::avif::exif_orientation(&props.transforms))
}

/// EXIF orientation, or 1 when there is none or it cannot be read (a broken
/// EXIF block does not make an image unusable).
fn exif_orientation<R: BufRead + Seek>(file: &mut R, format: Format) -> u8 {
    if !matches!(
        format,
        Format::Jpg | Format::Tiff | Format::Heic | Format::Avif | Format::Png | Format::Webp
    ) {
        return 1;
    }
    let Ok(exif) = exif::Reader::new().read_from_container(file) else {
        return 1;
    };
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .filter(|o| (1..=8).contains(o))
        .map_or(1, |o| o as u8)
}

fn check_limits(info: &ImageInfo, limits: ProbeLimits) -> Result<(), ProbeError> {
    let pixels = u64::from(info.width) * u64::from(info.height);
    if pixels > limits.max_pixels {
        return Err(ProbeError::TooManyPixels {
            width: info.width,
            height: info.height,
            pixels,
            limit: limits.max_pixels,
        });
    }
    if u64::from(info.frames) > limits.max_frames {
        return Err(ProbeError::TooManyFrames {
            frames: info.frames.into(),
            limit: limits.max_frames,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
