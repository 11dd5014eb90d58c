//! A memory-safe container probe for MP4/MOV (ISO BMFF) and WebM/Matroska
//! (EBML). It reads the movie header only: dimensions, duration, codecs.

use std::io::{Read, Seek, SeekFrom};

use nubo_core::Format;

use super::{corrupt, ProbeError};

/// Largest header structure we read into memory (a `moov` box, or the
/// EBML head before the first cluster).
const MAX_HEADER_BYTES: u64 = 64 * 1024 * 1024;

/// A video as its container describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VideoInfo {
    pub format: Option<Format>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Seconds.
    pub duration: Option<f64>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
}

impl VideoInfo {
    pub fn format(&self) -> Format {
        self.format.unwrap_or(Format::Mp4)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    IsoBmff(Format),
    Ebml,
}

/// Brands that mark an ISO BMFF file as a still image (HEIF/AVIF), not video.
const IMAGE_BRANDS: &[&[u8; 4]] = &[
    b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1",
];

pub fn sniff(head: &[u8]) -> Option<Container> {
    if head.len() >= 4 && head[..4] == [0x1A, 0x45, 0xDF, 0xA3] {
        return Some(Container::Ebml);
    }
    if head.len() < 12 || &head[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let brands = &head[8..size.clamp(12, head.len())];
    let major = &brands[..4];
    if IMAGE_BRANDS.iter().any(|b| &b[..] == major) {
        return None;
    }
    let format = if major == b"qt  " {
        Format::Mov
    } else {
        Format::Mp4
    };
    Some(Container::IsoBmff(format))
}

pub fn probe<R: Read + Seek>(r: &mut R, kind: Container) -> Result<VideoInfo, ProbeError> {
    match kind {
        Container::IsoBmff(format) => probe_bmff(r, format),
        Container::Ebml => probe_ebml(r),
    }
}

// ---------------------------------------------------------------- ISO BMFF

fn probe_bmff<R: Read + Seek>(r: &mut R, format: Format) -> Result<VideoInfo, ProbeError> {
    let bad = |why: &str| corrupt(format, why);
    let end = r.seek(SeekFrom::End(0))?;
    let mut pos = 0u64;
    while pos + 8 <= end {
        r.seek(SeekFrom::Start(pos))?;
        let mut head = [0u8; 16];
        r.read_exact(&mut head[..8])?;
        let mut size = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let mut header_len = 8;
        if size == 1 {
            r.read_exact(&mut head[8..16])?;
            size = u64::from_be_bytes(head[8..16].try_into().expect("8 bytes"));
            header_len = 16;
        } else if size == 0 {
            size = end - pos;
        }
        // A 64-bit box size is attacker-controlled: never let it overflow.
        if size < header_len || pos.checked_add(size).is_none_or(|box_end| box_end > end) {
            return Err(bad("a box runs past the end of the file"));
        }
        if &head[4..8] == b"moov" {
            let body_len = size - header_len;
            if body_len > MAX_HEADER_BYTES {
                return Err(bad("the movie header is too large"));
            }
            let mut body = vec![0u8; body_len as usize];
            r.read_exact(&mut body)?;
            let mut info = parse_moov(&body).ok_or_else(|| bad("unreadable movie header"))?;
            info.format = Some(format);
            return Ok(info);
        }
        pos += size;
    }
    Err(bad("no movie header (moov box)"))
}

/// Iterates the boxes in `data` as (type, body).
fn boxes(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let head = data.get(pos..pos + 8)?;
        let size = u32::from_be_bytes(head[..4].try_into().ok()?) as usize;
        let (body_start, end) = match size {
            0 => (pos + 8, data.len()),
            1 => {
                let large = u64::from_be_bytes(data.get(pos + 8..pos + 16)?.try_into().ok()?);
                (pos + 16, pos.checked_add(usize::try_from(large).ok()?)?)
            }
            n => (pos + 8, pos.checked_add(n)?),
        };
        if end > data.len() || body_start > end {
            return None;
        }
        let item = (&head[4..8], &data[body_start..end]);
        pos = end;
        Some(item)
    })
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|(t, _)| t == kind).map(|(_, b)| b)
}

fn be_u32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

/// (timescale, duration) from an `mvhd` or `mdhd` body.
fn time_header(body: &[u8]) -> Option<(u32, u64)> {
    match body.first()? {
        1 => Some((be_u32(body, 20)?, be_u64(body, 24)?)),
        _ => Some((be_u32(body, 12)?, u64::from(be_u32(body, 16)?))),
    }
}

fn parse_moov(moov: &[u8]) -> Option<VideoInfo> {
    let mut info = VideoInfo::default();
    if let Some((scale, dur)) = child(moov, b"mvhd").and_then(time_header) {
        if scale > 0 {
            info.duration = Some(dur as f64 / f64::from(scale));
        }
    }
    for (_, trak) in boxes(moov).filter(|(t, _)| *t == b"trak".as_slice()) {
        let Some(mdia) = child(trak, b"mdia") else {
            continue;
        };
        let handler = child(mdia, b"hdlr").and_then(|h| h.get(8..12));
        let codec = child(mdia, b"minf")
            .and_then(|m| child(m, b"stbl"))
            .and_then(|s| child(s, b"stsd"))
            .and_then(|s| s.get(12..16))
            .map(|c| String::from_utf8_lossy(c).trim().to_string());
        match handler {
            Some(b"vide") if info.video_codec.is_none() => {
                info.video_codec = codec;
                if let Some(tkhd) = child(trak, b"tkhd") {
                    // Width and height are the last two 16.16 fixed-point fields.
                    let n = tkhd.len();
                    if n >= 8 {
                        info.width = be_u32(tkhd, n - 8).map(|v| v >> 16).filter(|v| *v > 0);
                        info.height = be_u32(tkhd, n - 4).map(|v| v >> 16).filter(|v| *v > 0);
                    }
                }
            }
            Some(b"soun") if info.audio_codec.is_none() => info.audio_codec = codec,
            _ => {}
        }
    }
    Some(info)
}

// -------------------------------------------------------------------- EBML

const SEGMENT: u64 = 0x1853_8067;
const INFO: u64 = 0x1549_A966;
const TRACKS: u64 = 0x1654_AE6B;
const CLUSTER: u64 = 0x1F43_B675;
const TRACK_ENTRY: u64 = 0xAE;

fn probe_ebml<R: Read + Seek>(r: &mut R) -> Result<VideoInfo, ProbeError> {
    let mut data = Vec::new();
    r.take(MAX_HEADER_BYTES.min(4 * 1024 * 1024))
        .read_to_end(&mut data)?;
    let mut cur = Cursor {
        data: &data,
        pos: 0,
    };
    let header = cur
        .element()
        .ok_or_else(|| corrupt(Format::Webm, "no EBML header"))?;
    let doc_type = children(header.1)
        .find(|(id, _)| *id == 0x4282)
        .map(|(_, v)| {
            String::from_utf8_lossy(v)
                .trim_end_matches('\0')
                .to_string()
        })
        .unwrap_or_default();
    let format = match doc_type.as_str() {
        "webm" => Format::Webm,
        "matroska" => Format::Mkv,
        other => {
            return Err(corrupt(
                Format::Webm,
                format!("unknown document type {other:?}"),
            ))
        }
    };
    let mut info = VideoInfo {
        format: Some(format),
        ..Default::default()
    };
    let (id, segment) = cur.element().ok_or_else(|| corrupt(format, "no segment"))?;
    if id != SEGMENT {
        return Err(corrupt(format, "no segment"));
    }
    let mut timecode_scale = 1_000_000f64;
    let mut duration = None;
    for (id, body) in children(segment) {
        match id {
            INFO => {
                for (id, v) in children(body) {
                    match id {
                        0x2AD7B1 => timecode_scale = uint(v) as f64,
                        0x4489 => duration = float(v),
                        _ => {}
                    }
                }
            }
            TRACKS => {
                for (_, entry) in children(body).filter(|(id, _)| *id == TRACK_ENTRY) {
                    read_track(entry, &mut info);
                }
            }
            CLUSTER => break,
            _ => {}
        }
    }
    info.duration = duration
        .map(|d| d * timecode_scale / 1e9)
        .filter(|d| d.is_finite() && *d >= 0.0);
    Ok(info)
}

fn read_track(entry: &[u8], info: &mut VideoInfo) {
    let mut kind = 0;
    let mut codec = None;
    let (mut w, mut h) = (None, None);
    for (id, v) in children(entry) {
        match id {
            0x83 => kind = uint(v),
            0x86 => {
                codec = Some(
                    String::from_utf8_lossy(v)
                        .trim_end_matches('\0')
                        .to_string(),
                )
            }
            0xE0 => {
                for (id, v) in children(v) {
                    match id {
                        0xB0 => w = u32::try_from(uint(v)).ok(),
                        0xBA => h = u32::try_from(uint(v)).ok(),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let codec = codec.map(|c| {
        c.trim_start_matches("V_")
            .trim_start_matches("A_")
            .to_ascii_lowercase()
    });
    match kind {
        1 if info.video_codec.is_none() => {
            info.video_codec = codec;
            info.width = w;
            info.height = h;
        }
        2 if info.audio_codec.is_none() => info.audio_codec = codec,
        _ => {}
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A variable-length integer; `marker` keeps the length bit (element ids).
    fn vint(&mut self, marker: bool) -> Option<(u64, bool)> {
        let first = *self.data.get(self.pos)?;
        let len = first.leading_zeros() as usize + 1;
        if len > 8 {
            return None;
        }
        let bytes = self.data.get(self.pos..self.pos + len)?;
        self.pos += len;
        let mut v = if marker {
            u64::from(first)
        } else {
            u64::from(first) & (0xFF >> len)
        };
        for b in &bytes[1..] {
            v = (v << 8) | u64::from(*b);
        }
        let all_ones = !marker && v == (1u64 << (7 * len)) - 1;
        Some((v, all_ones))
    }

    /// One element as (id, body). An unknown size runs to the end of data.
    fn element(&mut self) -> Option<(u64, &'a [u8])> {
        let (id, _) = self.vint(true)?;
        let (size, unknown) = self.vint(false)?;
        let end = if unknown {
            self.data.len()
        } else {
            self.pos
                .checked_add(usize::try_from(size).ok()?)?
                .min(self.data.len())
        };
        let body = &self.data[self.pos..end];
        self.pos = end;
        Some((id, body))
    }
}

fn children(data: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut cur = Cursor { data, pos: 0 };
    std::iter::from_fn(move || cur.element())
}

fn uint(v: &[u8]) -> u64 {
    v.iter()
        .take(8)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

fn float(v: &[u8]) -> Option<f64> {
    match v.len() {
        4 => Some(f64::from(f32::from_be_bytes(v.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(v.try_into().ok()?)),
        _ => None,
    }
}
