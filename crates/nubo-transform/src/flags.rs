//! `fl_`: flags, several per component joined with `.`.

use std::fmt;

use crate::error::{invalid, Result, TransformError};

/// A delivery or encoding flag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// `Content-Disposition: attachment`, with an optional file name.
    Attachment(Option<String>),
    Progressive(Progressive),
    StripProfile,
    ForceStrip,
    Lossy,
    Png8,
    Png24,
    Png32,
    Animated,
    Awebp,
    IgnoreAspectRatio,
    AnyFormat,
    Getinfo,
    /// Keep the IPTC block of a JPEG original in a JPEG derived file.
    KeepIptc,
    ImmutableCache,
    PreserveTransparency,
    /// Closes a layer's components and places it (§9.4).
    LayerApply,
    /// A layer's `w`/`h` fractions are of the picture under it.
    Relative,
    /// A layer's `w`/`h` fractions are of the face it is placed on.
    RegionRelative,
    /// The layer repeats over the whole picture.
    Tiled,
    /// A layer past the picture's edge is cut, not grown into.
    NoOverflow,
    /// The layer cuts the picture: it stays where the layer is opaque.
    Cutter,
    /// A text layer keeps its line box instead of being cut to its ink.
    TextNoTrim,
    /// Text that does not fit its `c_fit` box is an error, not cut.
    TextDisallowOverflow,
}

/// `fl_progressive[:mode]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Progressive {
    Default,
    Semi,
    Steep,
    None,
}

const UNSUPPORTED: &[&str] = &[
    "keep_attribution",
    "clip",
    "clip_evenodd",
    "sanitize",
    "rasterize",
    "force_icc",
    "tiff8_lzw",
    "splice",
    "apng",
    "waveform",
    "streaming_attachment",
    "hlsv3",
    "mono",
    "truncate_ts",
    "keep_dar",
    "replace_image",
    "draco",
    "c2pa",
];

impl Flag {
    pub fn parse_list(v: &str) -> Result<Vec<Flag>> {
        let mut out = Vec::new();
        for item in v.split('.') {
            out.push(Flag::parse(item, v)?);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn parse(item: &str, whole: &str) -> Result<Flag> {
        if let Some(rest) = item.strip_prefix("attachment") {
            return match rest {
                "" => Ok(Flag::Attachment(None)),
                _ => match rest.strip_prefix(':') {
                    Some(name) if valid_attachment_name(name) => {
                        Ok(Flag::Attachment(Some(name.to_owned())))
                    }
                    _ => Err(invalid("flag", whole)),
                },
            };
        }
        if let Some(rest) = item.strip_prefix("progressive") {
            return Ok(Flag::Progressive(match rest {
                "" => Progressive::Default,
                ":semi" => Progressive::Semi,
                ":steep" => Progressive::Steep,
                ":none" => Progressive::None,
                _ => return Err(invalid("flag", whole)),
            }));
        }
        Ok(match item {
            "strip_profile" => Flag::StripProfile,
            "force_strip" => Flag::ForceStrip,
            "lossy" => Flag::Lossy,
            "png8" => Flag::Png8,
            "png24" => Flag::Png24,
            "png32" => Flag::Png32,
            "animated" => Flag::Animated,
            "awebp" => Flag::Awebp,
            "ignore_aspect_ratio" => Flag::IgnoreAspectRatio,
            "any_format" => Flag::AnyFormat,
            "getinfo" => Flag::Getinfo,
            "keep_iptc" => Flag::KeepIptc,
            "immutable_cache" => Flag::ImmutableCache,
            "preserve_transparency" => Flag::PreserveTransparency,
            "layer_apply" => Flag::LayerApply,
            "relative" => Flag::Relative,
            "region_relative" => Flag::RegionRelative,
            "tiled" => Flag::Tiled,
            "no_overflow" => Flag::NoOverflow,
            "cutter" => Flag::Cutter,
            "text_no_trim" => Flag::TextNoTrim,
            "text_disallow_overflow" => Flag::TextDisallowOverflow,
            _ if UNSUPPORTED.contains(&item) => {
                return Err(TransformError::Unsupported(format!("Flag {item}")))
            }
            _ => return Err(invalid("flag", whole)),
        })
    }
}

/// A file name for `Content-Disposition`: no quotes, slashes or controls,
/// so the header cannot be split or point elsewhere.
fn valid_attachment_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/' | ',' | '.'))
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Attachment(None) => f.write_str("attachment"),
            Flag::Attachment(Some(n)) => write!(f, "attachment:{n}"),
            Flag::Progressive(Progressive::Default) => f.write_str("progressive"),
            Flag::Progressive(Progressive::Semi) => f.write_str("progressive:semi"),
            Flag::Progressive(Progressive::Steep) => f.write_str("progressive:steep"),
            Flag::Progressive(Progressive::None) => f.write_str("progressive:none"),
            Flag::StripProfile => f.write_str("strip_profile"),
            Flag::ForceStrip => f.write_str("force_strip"),
            Flag::Lossy => f.write_str("lossy"),
            Flag::Png8 => f.write_str("png8"),
            Flag::Png24 => f.write_str("png24"),
            Flag::Png32 => f.write_str("png32"),
            Flag::Animated => f.write_str("animated"),
            Flag::Awebp => f.write_str("awebp"),
            Flag::IgnoreAspectRatio => f.write_str("ignore_aspect_ratio"),
            Flag::AnyFormat => f.write_str("any_format"),
            Flag::Getinfo => f.write_str("getinfo"),
            Flag::KeepIptc => f.write_str("keep_iptc"),
            Flag::ImmutableCache => f.write_str("immutable_cache"),
            Flag::PreserveTransparency => f.write_str("preserve_transparency"),
            Flag::LayerApply => f.write_str("layer_apply"),
            Flag::Relative => f.write_str("relative"),
            Flag::RegionRelative => f.write_str("region_relative"),
            Flag::Tiled => f.write_str("tiled"),
            Flag::NoOverflow => f.write_str("no_overflow"),
            Flag::Cutter => f.write_str("cutter"),
            Flag::TextNoTrim => f.write_str("text_no_trim"),
            Flag::TextDisallowOverflow => f.write_str("text_disallow_overflow"),
        }
    }
}
