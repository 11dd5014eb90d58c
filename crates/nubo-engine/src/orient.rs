//! EXIF orientation (1–8) and the rotations and flips it implies.

use crate::raster::Raster;

/// The eight EXIF orientations, named by what undoes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    Normal,
    FlipH,
    Rotate180,
    FlipV,
    Transpose,
    Rotate90,
    Transverse,
    Rotate270,
}

impl Orientation {
    /// Whether turning the image upright swaps its width and height.
    pub fn swaps_axes(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }

    pub fn from_tag(v: u32) -> Orientation {
        match v {
            2 => Orientation::FlipH,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipV,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }
}

/// Reads the tag from an APP1 payload (with or without the `Exif\0\0`
/// prefix); anything unreadable is "normal".
pub fn from_exif(exif: &[u8]) -> Orientation {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    let Ok((fields, _)) = exif::parse_exif(tiff) else {
        return Orientation::Normal;
    };
    fields
        .iter()
        .find(|f| f.tag == exif::Tag::Orientation && f.ifd_num == exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .map(Orientation::from_tag)
        .unwrap_or(Orientation::Normal)
}

pub fn from_image(o: image::metadata::Orientation) -> Orientation {
    use image::metadata::Orientation as I;
    match o {
        I::NoTransforms => Orientation::Normal,
        I::FlipHorizontal => Orientation::FlipH,
        I::Rotate180 => Orientation::Rotate180,
        I::FlipVertical => Orientation::FlipV,
        I::Rotate90FlipH => Orientation::Transpose,
        I::Rotate90 => Orientation::Rotate90,
        I::Rotate270FlipH => Orientation::Transverse,
        I::Rotate270 => Orientation::Rotate270,
    }
}

pub fn apply(r: Raster, o: Orientation) -> Raster {
    match o {
        Orientation::Normal => r,
        Orientation::FlipH => flip_h(r),
        Orientation::Rotate180 => flip_v(flip_h(r)),
        Orientation::FlipV => flip_v(r),
        Orientation::Transpose => transpose(&r),
        Orientation::Rotate90 => flip_h(transpose(&r)),
        Orientation::Transverse => flip_v(flip_h(transpose(&r))),
        Orientation::Rotate270 => flip_v(transpose(&r)),
    }
}

pub fn flip_h(mut r: Raster) -> Raster {
    let c = r.channels as usize;
    let stride = r.stride();
    for row in r.data.chunks_exact_mut(stride) {
        let w = row.len() / c;
        for x in 0..w / 2 {
            for k in 0..c {
                row.swap(x * c + k, (w - 1 - x) * c + k);
            }
        }
    }
    r
}

pub fn flip_v(mut r: Raster) -> Raster {
    let stride = r.stride();
    let h = r.height as usize;
    for y in 0..h / 2 {
        let (top, bottom) = r.data.split_at_mut((h - 1 - y) * stride);
        top[y * stride..(y + 1) * stride].swap_with_slice(&mut bottom[..stride]);
    }
    r
}

/// Mirrors across the main diagonal: (x, y) → (y, x).
pub fn transpose(r: &Raster) -> Raster {
    let c = r.channels as usize;
    let (w, h) = (r.width as usize, r.height as usize);
    let mut out = vec![0u8; r.data.len()];
    // Blocked so both reads and writes stay in cache on large images.
    const B: usize = 32;
    for by in (0..h).step_by(B) {
        for bx in (0..w).step_by(B) {
            for y in by..(by + B).min(h) {
                for x in bx..(bx + B).min(w) {
                    let s = (y * w + x) * c;
                    let d = (x * h + y) * c;
                    out[d..d + c].copy_from_slice(&r.data[s..s + c]);
                }
            }
        }
    }
    Raster::new(r.height, r.width, r.channels, out)
}

pub fn rotate90(r: &Raster) -> Raster {
    flip_h(transpose(r))
}

pub fn rotate270(r: &Raster) -> Raster {
    flip_v(transpose(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2x3 raster whose red channel numbers the pixels.
    fn numbered() -> Raster {
        let data = (0..6u8).flat_map(|i| [i, 0, 0]).collect();
        Raster::new(2, 3, 3, data)
    }

    fn reds(r: &Raster) -> Vec<u8> {
        r.data.chunks(3).map(|p| p[0]).collect()
    }

    #[test]
    fn the_eight_orientations() {
        // Layout 0 1 / 2 3 / 4 5. Each tag's stored image, once undone,
        // must read as the upright one; here we check the transforms.
        let cases = [
            (1, (2, 3), vec![0, 1, 2, 3, 4, 5]),
            (2, (2, 3), vec![1, 0, 3, 2, 5, 4]),
            (3, (2, 3), vec![5, 4, 3, 2, 1, 0]),
            (4, (2, 3), vec![4, 5, 2, 3, 0, 1]),
            (5, (3, 2), vec![0, 2, 4, 1, 3, 5]),
            (6, (3, 2), vec![4, 2, 0, 5, 3, 1]),
            (7, (3, 2), vec![5, 3, 1, 4, 2, 0]),
            (8, (3, 2), vec![1, 3, 5, 0, 2, 4]),
        ];
        for (tag, (w, h), want) in cases {
            let out = apply(numbered(), Orientation::from_tag(tag));
            assert_eq!((out.width, out.height), (w, h), "tag {tag}");
            assert_eq!(reds(&out), want, "tag {tag}");
        }
    }
}
