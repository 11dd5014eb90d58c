//! Frame (page) counts for formats that can hold more than one image.
//! Each walker checks every length against the bytes that exist.

use std::io::{BufRead, Read, Seek, SeekFrom};

use nubo_core::Format;

/// Upper bound on chained structures we follow (TIFF IFDs, chunks), so a
/// crafted loop cannot keep us walking forever.
const MAX_WALK: u32 = 100_000;

pub fn count<R: BufRead + Seek>(r: &mut R, format: Format) -> Result<u32, String> {
    match format {
        Format::Gif => gif_frames(r),
        Format::Png => png_frames(r),
        Format::Webp => webp_frames(r),
        Format::Tiff => tiff_pages(r),
        _ => Ok(1),
    }
}

fn read_exact<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<(), String> {
    r.read_exact(buf).map_err(|_| "truncated".to_string())
}

fn byte<R: Read>(r: &mut R) -> Result<u8, String> {
    let mut b = [0u8; 1];
    read_exact(r, &mut b)?;
    Ok(b[0])
}

fn skip<R: Seek>(r: &mut R, n: i64) -> Result<(), String> {
    r.seek(SeekFrom::Current(n))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn skip_sub_blocks<R: Read + Seek>(r: &mut R) -> Result<(), String> {
    for _ in 0..u32::MAX {
        let len = byte(r)?;
        if len == 0 {
            return Ok(());
        }
        skip(r, i64::from(len))?;
    }
    Err("endless sub-blocks".into())
}

fn gif_frames<R: Read + Seek>(r: &mut R) -> Result<u32, String> {
    let mut header = [0u8; 13];
    read_exact(r, &mut header)?;
    if header[10] & 0x80 != 0 {
        skip(r, 3 * (1i64 << ((header[10] & 7) + 1)))?;
    }
    let mut frames = 0u32;
    loop {
        match byte(r) {
            Ok(0x2C) => {
                let mut desc = [0u8; 9];
                read_exact(r, &mut desc)?;
                if desc[8] & 0x80 != 0 {
                    skip(r, 3 * (1i64 << ((desc[8] & 7) + 1)))?;
                }
                byte(r)?; // LZW minimum code size
                skip_sub_blocks(r)?;
                frames += 1;
            }
            Ok(0x21) => {
                byte(r)?; // extension label
                skip_sub_blocks(r)?;
            }
            Ok(0x3B) => break,
            // Many real GIFs end without a trailer or with junk after the
            // last frame; what was counted stands.
            Ok(_) | Err(_) if frames > 0 => break,
            Ok(b) => return Err(format!("unexpected block 0x{b:02x}")),
            Err(e) => return Err(e),
        }
    }
    if frames == 0 {
        return Err("no image data".into());
    }
    Ok(frames)
}

fn png_frames<R: Read + Seek>(r: &mut R) -> Result<u32, String> {
    skip(r, 8)?;
    for _ in 0..MAX_WALK {
        let mut head = [0u8; 8];
        if read_exact(r, &mut head).is_err() {
            break;
        }
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        match &head[4..8] {
            b"acTL" => {
                let mut body = [0u8; 4];
                read_exact(r, &mut body)?;
                return Ok(u32::from_be_bytes(body).max(1));
            }
            b"IDAT" | b"IEND" => break,
            _ => skip(r, i64::from(len) + 4)?,
        }
    }
    Ok(1)
}

fn webp_frames<R: Read + Seek>(r: &mut R) -> Result<u32, String> {
    skip(r, 12)?;
    let mut frames = 0u32;
    for _ in 0..MAX_WALK {
        let mut head = [0u8; 8];
        if read_exact(r, &mut head).is_err() {
            break;
        }
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if &head[..4] == b"ANMF" {
            frames += 1;
        }
        // Chunks are padded to an even size.
        skip(r, i64::from(len) + i64::from(len & 1))?;
    }
    Ok(frames.max(1))
}

fn tiff_pages<R: Read + Seek>(r: &mut R) -> Result<u32, String> {
    let mut header = [0u8; 8];
    read_exact(r, &mut header)?;
    let le = &header[..2] == b"II";
    let u16_of = |b: [u8; 2]| {
        if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    };
    let u32_of = |b: [u8; 4]| {
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    if u16_of([header[2], header[3]]) != 42 {
        return Ok(1); // BigTIFF: one page is what we can promise
    }
    let mut offset = u32_of([header[4], header[5], header[6], header[7]]);
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    while offset != 0 && pages < MAX_WALK && seen.insert(offset) {
        r.seek(SeekFrom::Start(u64::from(offset)))
            .map_err(|e| e.to_string())?;
        let mut n = [0u8; 2];
        read_exact(r, &mut n)?;
        skip(r, 12 * i64::from(u16_of(n)))?;
        let mut next = [0u8; 4];
        if read_exact(r, &mut next).is_err() {
            pages += 1;
            break;
        }
        offset = u32_of(next);
        pages += 1;
    }
    Ok(pages.max(1))
}
