//! What the Admin API's resource details report about a stored image:
//! predominant colours with a histogram, a perceptual hash, and the EXIF,
//! IPTC and XMP metadata embedded in the file.
//!
//! Pixels come from the same memory-safe decoders as renders, reduced on
//! load to about 256 pixels a side (colour statistics and the hash need no
//! more); metadata is read with bounds-checked parsers (kamadak-exif,
//! roxmltree, the IPTC walker below).

use nubo_core::Format;
use nubo_transform::Transformation;
use std::collections::BTreeMap;

use crate::decode::{decode, DecodeRequest, Reduce};
use crate::error::Result;
use crate::raster::Raster;
use crate::resize::resample;
use crate::EngineLimits;

/// What to compute; each costs a decode or a metadata scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnalysisRequest {
    pub colors: bool,
    pub phash: bool,
    pub metadata: bool,
    /// Detect faces (`faces=true`).
    pub faces: bool,
    /// Score focus, contrast, exposure and saturation (`quality_analysis`).
    pub quality: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    /// `#RRGGBB` with its share of the image in percent, most first.
    pub colors: Vec<(String, f64)>,
    /// Named colours (Cloudinary's palette) with their shares.
    pub predominant: Vec<(&'static str, f64)>,
    /// 64-bit DCT perceptual hash, 16 hex digits.
    pub phash: Option<String>,
    /// EXIF tags by name (`Make`, `DateTimeOriginal`, …).
    pub exif: BTreeMap<String, String>,
    /// EXIF, IPTC and XMP together, as `image_metadata` shows them.
    pub image_metadata: BTreeMap<String, String>,
    /// Detected faces, `[x, y, w, h]` in the upright original's pixels,
    /// largest first.
    pub faces: Vec<[u32; 4]>,
    pub quality: Option<crate::quality::QualityAnalysis>,
}

/// Most colours listed.
const TOP_COLORS: usize = 12;

pub fn analyze(
    bytes: &[u8],
    format: Format,
    req: AnalysisRequest,
    limits: &EngineLimits,
) -> Result<Analysis> {
    let mut out = Analysis::default();
    // Formats stored but not decodable (AVIF, HEIC) have no pixel statistics.
    let decodable = format != Format::Heic;
    if (req.colors || req.phash) && decodable {
        let small = small_raster(bytes, format, limits)?;
        if req.colors {
            out.colors = histogram(&small);
            out.predominant = predominant(&out.colors);
        }
        if req.phash {
            out.phash = Some(phash(&small)?);
        }
    }
    if req.faces && decodable {
        out.faces = detect_faces(bytes, format, limits)?;
    }
    if req.quality && decodable {
        let side = crate::quality::ANALYSIS_SIDE;
        let decoded = decode(bytes, &reduced_to(format, side), limits)?;
        let r = fit_side(decoded.picture.first().clone(), side)?;
        out.quality = Some(crate::quality::analyse(&r));
    }
    if req.metadata {
        out.exif = exif_fields(bytes);
        out.image_metadata = out.exif.clone();
        if format == Format::Jpg {
            out.image_metadata.extend(iptc_fields(bytes));
        }
        out.image_metadata.extend(xmp_fields(bytes));
    }
    Ok(out)
}

/// Faces in the upright original, found on a copy reduced on load to
/// what the detector looks at.
fn detect_faces(bytes: &[u8], format: Format, limits: &EngineLimits) -> Result<Vec<[u32; 4]>> {
    let side = crate::faces::DETECT_SIDE;
    let decoded = decode(bytes, &reduced_to(format, side), limits)?;
    let r = decoded.picture.first();
    let (sx, sy) = (
        decoded.logical.w as f64 / r.width as f64,
        decoded.logical.h as f64 / r.height as f64,
    );
    let faces: Vec<_> = crate::faces::detect(r)
        .iter()
        .map(|f| f.moved(0.0, 0.0, sx, sy))
        .collect();
    Ok(crate::faces::to_coordinates(&faces))
}

fn reduced_to(format: Format, side: u32) -> DecodeRequest {
    let fit = Transformation::parse(&format!("c_limit,h_{side},w_{side}"))
        .expect("a valid transformation");
    let mut req = DecodeRequest::new(format);
    req.reduce = Some(Reduce {
        component: fit.components[0].clone(),
    });
    req
}

/// The upright image at most 256 pixels a side, decoded reduced.
fn small_raster(bytes: &[u8], format: Format, limits: &EngineLimits) -> Result<Raster> {
    let decoded = decode(bytes, &reduced_to(format, 256), limits)?;
    fit_side(decoded.picture.first().to_rgba(), 256)
}

/// `r` resampled to at most `side` pixels on its long side.
fn fit_side(r: Raster, side: u32) -> Result<Raster> {
    let scale = (side as f64 / r.width.max(r.height) as f64).min(1.0);
    let (w, h) = (
        ((r.width as f64 * scale).round() as u32).max(1),
        ((r.height as f64 * scale).round() as u32).max(1),
    );
    if (w, h) == (r.width, r.height) {
        Ok(r)
    } else {
        resample(&r, None, w, h)
    }
}

/// Colours bucketed to 4 bits a channel, each bucket shown as the mean of
/// its pixels; transparent pixels do not count.
fn histogram(r: &Raster) -> Vec<(String, f64)> {
    let mut buckets: BTreeMap<u16, (u64, [u64; 3])> = BTreeMap::new();
    let mut total = 0u64;
    for px in r.data.chunks_exact(4) {
        if px[3] < 128 {
            continue;
        }
        let key =
            (u16::from(px[0] >> 4) << 8) | (u16::from(px[1] >> 4) << 4) | u16::from(px[2] >> 4);
        let e = buckets.entry(key).or_insert((0, [0; 3]));
        e.0 += 1;
        for (sum, v) in e.1.iter_mut().zip(px) {
            *sum += u64::from(*v);
        }
        total += 1;
    }
    let mut list: Vec<(u64, [u64; 3])> = buckets.into_values().collect();
    list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    list.iter()
        .take(TOP_COLORS)
        .map(|(n, sum)| {
            let mean = |c: usize| (sum[c] / n) as u8;
            let pct = (*n as f64 * 1000.0 / total as f64).round() / 10.0;
            (
                format!("#{:02X}{:02X}{:02X}", mean(0), mean(1), mean(2)),
                pct,
            )
        })
        .collect()
}

/// Cloudinary's named palette for `predominant`.
const PALETTE: &[(&str, [u8; 3])] = &[
    ("white", [255, 255, 255]),
    ("gray", [128, 128, 128]),
    ("black", [0, 0, 0]),
    ("red", [220, 30, 30]),
    ("orange", [250, 140, 20]),
    ("yellow", [245, 225, 30]),
    ("green", [40, 170, 60]),
    ("teal", [0, 150, 150]),
    ("blue", [30, 80, 220]),
    ("lightblue", [120, 190, 240]),
    ("purple", [140, 50, 170]),
    ("pink", [240, 130, 190]),
    ("brown", [130, 80, 40]),
];

fn predominant(colors: &[(String, f64)]) -> Vec<(&'static str, f64)> {
    let mut shares: BTreeMap<&'static str, f64> = BTreeMap::new();
    for (hex, pct) in colors {
        let v = u32::from_str_radix(&hex[1..], 16).unwrap_or(0);
        let rgb = [
            (v >> 16) as i32,
            ((v >> 8) & 0xFF) as i32,
            (v & 0xFF) as i32,
        ];
        let nearest = PALETTE
            .iter()
            .min_by_key(|(_, p)| {
                (0..3)
                    .map(|c| (rgb[c] - i32::from(p[c])).pow(2))
                    .sum::<i32>()
            })
            .expect("a palette");
        *shares.entry(nearest.0).or_default() += pct;
    }
    let mut list: Vec<(&'static str, f64)> = shares
        .into_iter()
        .map(|(k, v)| (k, (v * 10.0).round() / 10.0))
        .collect();
    list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    list
}

/// The classic DCT hash: 32×32 luma, the 8×8 lowest frequencies but DC,
/// each bit set where the coefficient is above their median.
fn phash(r: &Raster) -> Result<String> {
    let small = resample(r, None, 32, 32)?;
    let luma: Vec<f64> = small
        .data
        .chunks_exact(small.channels as usize)
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect();
    let n = 32usize;
    let cos: Vec<f64> = (0..8 * n)
        .map(|i| {
            let (u, x) = (i / n, i % n);
            ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / (2 * n) as f64).cos()
        })
        .collect();
    let mut coeffs = Vec::with_capacity(64);
    for u in 0..8 {
        for v in 0..8 {
            let mut s = 0.0;
            for y in 0..n {
                for x in 0..n {
                    s += luma[y * n + x] * cos[u * n + y] * cos[v * n + x];
                }
            }
            coeffs.push(s);
        }
    }
    let mut sorted: Vec<f64> = coeffs[1..].to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let bits = coeffs
        .iter()
        .fold(0u64, |acc, c| (acc << 1) | u64::from(*c > median));
    Ok(format!("{bits:016x}"))
}

/// EXIF fields of the primary image, by tag name, shown as the tag's
/// readable value (rationals and units resolved).
fn exif_fields(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(exif) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) else {
        return out;
    };
    for f in exif.fields() {
        if f.ifd_num != exif::In::PRIMARY || matches!(f.value, exif::Value::Undefined(..)) {
            continue;
        }
        let text = f.display_value().with_unit(&exif).to_string();
        if text.len() <= 1024 {
            out.insert(f.tag.to_string(), text.trim_matches('"').to_owned());
        }
    }
    out
}

/// IPTC-NAA datasets of a JPEG's APP13, by the names ExifTool uses.
fn iptc_fields(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut d = zune_jpeg::JpegDecoder::new(zune_core::bytestream::ZCursor::new(bytes));
    if d.decode_headers().is_err() {
        return out;
    }
    let Some(irb) = d.iptc() else { return out };
    let Some(segment) = crate::iptc::iptc_segment(irb) else {
        return out;
    };
    let mut rest = &segment[..];
    while let Some(at) = rest.iter().position(|b| *b == 0x1C) {
        rest = &rest[at..];
        if rest.len() < 5 {
            break;
        }
        let (record, dataset) = (rest[1], rest[2]);
        let size = u16::from_be_bytes([rest[3], rest[4]]) as usize;
        let Some(data) = rest.get(5..5 + size) else {
            break;
        };
        let name = match (record, dataset) {
            (2, 5) => Some("ObjectName"),
            (2, 25) => Some("Keywords"),
            (2, 55) => Some("DateCreated"),
            (2, 80) => Some("By-line"),
            (2, 90) => Some("City"),
            (2, 101) => Some("Country-PrimaryLocationName"),
            (2, 105) => Some("Headline"),
            (2, 110) => Some("Credit"),
            (2, 115) => Some("Source"),
            (2, 116) => Some("CopyrightNotice"),
            (2, 120) => Some("Caption-Abstract"),
            _ => None,
        };
        if let Some(name) = name {
            let text = String::from_utf8_lossy(data).into_owned();
            out.entry(name.to_owned())
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(&text);
                })
                .or_insert(text);
        }
        rest = &rest[5 + size..];
    }
    out
}

/// Simple XMP properties (attributes and text elements of
/// `rdf:Description`, list items joined), as `prefix:Name`.
fn xmp_fields(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    // XMP packets sit near the start; a bounded scan keeps this cheap.
    let window = &bytes[..bytes.len().min(4 << 20)];
    let Some(start) = find(window, b"<x:xmpmeta") else {
        return out;
    };
    let Some(len) = find(&window[start..], b"</x:xmpmeta>") else {
        return out;
    };
    let Ok(text) = std::str::from_utf8(&window[start..start + len + 12]) else {
        return out;
    };
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    let Ok(doc) = roxmltree::Document::parse_with_options(text, opts) else {
        return out;
    };
    let prefix_of = |node: roxmltree::Node<'_, '_>, ns: Option<&str>| {
        ns.and_then(|n| node.lookup_prefix(n))
            .unwrap_or("xmp")
            .to_owned()
    };
    for desc in doc
        .descendants()
        .filter(|n| n.has_tag_name(("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "Description")))
    {
        for a in desc.attributes() {
            if a.namespace().is_some_and(|n| n.ends_with("rdf-syntax-ns#")) || a.name() == "about" {
                continue;
            }
            out.insert(
                format!("{}:{}", prefix_of(desc, a.namespace()), a.name()),
                a.value().to_owned(),
            );
        }
        for child in desc.children().filter(|c| c.is_element()) {
            let items: Vec<&str> = child
                .descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            if !items.is_empty() {
                out.insert(
                    format!(
                        "{}:{}",
                        prefix_of(child, child.tag_name().namespace()),
                        child.tag_name().name()
                    ),
                    items.join(", "),
                );
            }
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn all() -> AnalysisRequest {
        AnalysisRequest {
            colors: true,
            phash: true,
            metadata: true,
            faces: false,
            quality: false,
        }
    }

    #[test]
    fn a_flat_image_has_one_colour() {
        let red = Raster::filled(
            40,
            20,
            nubo_transform::Color {
                r: 220,
                g: 30,
                b: 30,
                a: 255,
            },
        );
        let h = histogram(&red.to_rgba());
        assert_eq!(h, vec![("#DC1E1E".to_owned(), 100.0)]);
        assert_eq!(predominant(&h), vec![("red", 100.0)]);
    }

    #[test]
    fn photos_get_colours_a_hash_and_exif() {
        let jpeg = fixture("rotated.jpg");
        let a = analyze(&jpeg, Format::Jpg, all(), &EngineLimits::default()).unwrap();
        assert!(!a.colors.is_empty() && a.colors.len() <= TOP_COLORS);
        let share: f64 = a.colors.iter().map(|c| c.1).sum();
        assert!(share > 0.0 && share <= 100.5, "{share}");
        assert_eq!(a.phash.as_ref().unwrap().len(), 16);
        assert!(a.exif.contains_key("Orientation"), "{:?}", a.exif);
        assert!(a.image_metadata.contains_key("Orientation"));
    }

    #[test]
    fn the_hash_survives_resizing_and_tells_images_apart() {
        let limits = EngineLimits::default();
        let photo = fixture("photo.jpg");
        let a = analyze(&photo, Format::Jpg, all(), &limits)
            .unwrap()
            .phash
            .unwrap();
        let decoded = decode(&photo, &DecodeRequest::new(Format::Jpg), &limits).unwrap();
        let bigger = resample(&decoded.picture.first().to_rgba(), None, 80, 60).unwrap();
        let b = phash(&bigger).unwrap();
        let other = analyze(&fixture("alpha.png"), Format::Png, all(), &limits)
            .unwrap()
            .phash
            .unwrap();
        let distance = |x: &str, y: &str| {
            (u64::from_str_radix(x, 16).unwrap() ^ u64::from_str_radix(y, 16).unwrap()).count_ones()
        };
        assert!(distance(&a, &b) <= 8, "{a} vs {b}");
        assert!(distance(&a, &other) > distance(&a, &b), "{a} {b} {other}");
    }

    #[test]
    fn xmp_and_iptc_parse_from_packets() {
        let xmp = br#"junk<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"><dc:subject><rdf:Bag><rdf:li>cat</rdf:li><rdf:li>sofa</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>junk"#;
        let f = xmp_fields(xmp);
        assert_eq!(f.get("xmp:Rating").map(String::as_str), Some("5"));
        assert_eq!(f.get("dc:subject").map(String::as_str), Some("cat, sofa"));
        assert!(xmp_fields(b"<x:xmpmeta unterminated").is_empty());
        assert!(iptc_fields(b"not a jpeg").is_empty());
    }
}
