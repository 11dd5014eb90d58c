//! SVG: recognised by its root element, sized from width/height or viewBox.
//! roxmltree never fetches external entities or resources.

use std::io::Read;

use nubo_core::Format;

use super::{corrupt, ImageInfo, ProbeError};

/// Largest SVG we parse to find its size.
const MAX_SVG_BYTES: u64 = 16 * 1024 * 1024;

pub fn sniff(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    (text.starts_with("<?xml")
        || text.starts_with("<svg")
        || text.starts_with("<!--")
        || text.starts_with("<!DOCTYPE svg"))
        && text.contains("<svg")
}

pub fn probe<R: Read>(r: &mut R) -> Result<ImageInfo, ProbeError> {
    let mut text = String::new();
    r.take(MAX_SVG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| corrupt(Format::Svg, e))?;
    if text.len() as u64 > MAX_SVG_BYTES {
        return Err(corrupt(Format::Svg, "larger than 16 MiB"));
    }
    let doc = roxmltree::Document::parse(&text).map_err(|e| corrupt(Format::Svg, e))?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return Err(corrupt(Format::Svg, "the root element is not <svg>"));
    }
    let view_box: Option<Vec<f64>> = root
        .attribute("viewBox")
        .map(|v| {
            v.split([' ', ','])
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .collect()
        })
        .filter(|v: &Vec<f64>| v.len() == 4);
    let dim = |name: &str, from_box: Option<f64>| {
        root.attribute(name)
            .and_then(length)
            .or(from_box)
            .unwrap_or(150.0)
    };
    let width = dim("width", view_box.as_ref().map(|v| v[2]));
    let height = dim("height", view_box.as_ref().map(|v| v[3]));
    let px = |v: f64| -> Result<u32, ProbeError> {
        if v.is_finite() && v >= 1.0 && v <= f64::from(u32::MAX) {
            Ok(v.round() as u32)
        } else {
            Err(corrupt(Format::Svg, "invalid size"))
        }
    };
    Ok(ImageInfo {
        format: Format::Svg,
        width: px(width)?,
        height: px(height)?,
        frames: 1,
        orientation: 1,
    })
}

/// An SVG length in CSS pixels; percentages are not absolute, so `None`.
fn length(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| c.is_ascii_alphabetic() || c == '%')
        .unwrap_or(raw.len());
    let (num, unit) = raw.split_at(split);
    let v: f64 = num.trim().parse().ok()?;
    let scale = match unit {
        "" | "px" => 1.0,
        "pt" => 96.0 / 72.0,
        "pc" => 16.0,
        "in" => 96.0,
        "cm" => 96.0 / 2.54,
        "mm" => 96.0 / 25.4,
        _ => return None,
    };
    Some(v * scale)
}
