//! `fl_keep_iptc`: the IPTC record of a JPEG original, carried into a
//! JPEG derived file. Only Photoshop resource 0x0404 (IPTC-NAA) is kept
//! from the APP13 block: other resources, such as an embedded thumbnail of
//! the uncropped original, must not leak into a crop.

const PREFIX: &[u8] = b"Photoshop 3.0\0";
const IPTC_NAA: u16 = 0x0404;

/// The IPTC resources of an APP13 payload (given without its
/// `Photoshop 3.0` prefix), as a new APP13 payload with the prefix; `None`
/// when there are none or the block is malformed.
pub fn iptc_segment(irb: &[u8]) -> Option<Vec<u8>> {
    let mut out = PREFIX.to_vec();
    let mut rest = irb;
    while rest.len() >= 4 && &rest[..4] == b"8BIM" {
        let id = u16::from_be_bytes([*rest.get(4)?, *rest.get(5)?]);
        // Pascal-string name, padded so that length byte + name is even.
        let name_len = *rest.get(6)? as usize;
        let name_end = 7 + name_len + (name_len + 1) % 2;
        let size_at = rest.get(name_end..name_end + 4)?;
        let size = u32::from_be_bytes([size_at[0], size_at[1], size_at[2], size_at[3]]) as usize;
        let data_start = name_end + 4;
        let padded = size + size % 2;
        let end = data_start.checked_add(padded)?.min(rest.len());
        rest.get(data_start..data_start.checked_add(size)?)?;
        if id == IPTC_NAA {
            out.extend_from_slice(&rest[..end]);
        }
        rest = &rest[end..];
    }
    (out.len() > PREFIX.len() && out.len() <= 65_533).then_some(out)
}

/// Inserts an APP13 segment after the SOI and any APP0 (JFIF) segment.
pub fn insert_app13(jpeg: Vec<u8>, payload: &[u8]) -> Vec<u8> {
    if jpeg.len() < 4 || jpeg[..2] != [0xFF, 0xD8] || payload.len() > 65_533 {
        return jpeg;
    }
    let mut at = 2;
    if jpeg.get(2..4) == Some(&[0xFF, 0xE0]) {
        if let Some(len) = jpeg.get(4..6) {
            at = (4 + u16::from_be_bytes([len[0], len[1]]) as usize).min(jpeg.len());
        }
    }
    let mut out = Vec::with_capacity(jpeg.len() + payload.len() + 4);
    out.extend_from_slice(&jpeg[..at]);
    out.extend_from_slice(&[0xFF, 0xED]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: u16, name: &[u8], data: &[u8]) -> Vec<u8> {
        let mut r = b"8BIM".to_vec();
        r.extend_from_slice(&id.to_be_bytes());
        r.push(name.len() as u8);
        r.extend_from_slice(name);
        if (name.len() + 1) % 2 == 1 {
            r.push(0);
        }
        r.extend_from_slice(&(data.len() as u32).to_be_bytes());
        r.extend_from_slice(data);
        if data.len() % 2 == 1 {
            r.push(0);
        }
        r
    }

    #[test]
    fn keeps_only_the_iptc_resource() {
        let iptc = resource(IPTC_NAA, b"", b"\x1c\x02\x74\x00\x05Nubo!");
        let thumb = resource(0x040C, b"thumb", &[0xAB; 33]);
        let irb = [thumb.clone(), iptc.clone(), thumb].concat();
        let seg = iptc_segment(&irb).unwrap();
        assert_eq!(seg, [PREFIX, &iptc[..]].concat());
        assert!(iptc_segment(&resource(0x040C, b"", &[1, 2, 3])).is_none());
    }

    #[test]
    fn malformed_blocks_are_dropped_not_panicked_on() {
        let iptc = resource(IPTC_NAA, b"", b"abc");
        for cut in 0..iptc.len() {
            let _ = iptc_segment(&iptc[..cut]);
        }
        let mut huge = iptc.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(iptc_segment(&huge).is_none());
    }

    #[test]
    fn app13_goes_after_jfif() {
        let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xD9];
        let out = insert_app13(jpeg, b"xy");
        assert_eq!(
            out,
            vec![
                0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xED, 0x00, 0x04, b'x', b'y',
                0xFF, 0xD9
            ]
        );
    }
}
