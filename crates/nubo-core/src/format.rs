//! Media formats Nubo recognises from bytes.

use crate::ResourceType;

/// What kind of media a format carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
}

/// A container or codec format recognised by probing the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpg,
    Png,
    Gif,
    Webp,
    Bmp,
    Tiff,
    Ico,
    Avif,
    Heic,
    Jxl,
    Svg,
    Mp4,
    Mov,
    Webm,
    Mkv,
}

impl Format {
    /// The extension Cloudinary reports as `format` and uses in URLs.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Ico => "ico",
            Format::Avif => "avif",
            Format::Heic => "heic",
            Format::Jxl => "jxl",
            Format::Svg => "svg",
            Format::Mp4 => "mp4",
            Format::Mov => "mov",
            Format::Webm => "webm",
            Format::Mkv => "mkv",
        }
    }

    /// Accepts an extension as it appears in URLs or `allowed_formats`.
    pub fn from_extension(ext: &str) -> Option<Format> {
        let ext = ext.to_ascii_lowercase();
        Some(match ext.as_str() {
            "jpg" | "jpeg" | "jpe" => Format::Jpg,
            "png" => Format::Png,
            "gif" => Format::Gif,
            "webp" => Format::Webp,
            "bmp" => Format::Bmp,
            "tif" | "tiff" => Format::Tiff,
            "ico" => Format::Ico,
            "avif" => Format::Avif,
            "heic" | "heif" => Format::Heic,
            "jxl" => Format::Jxl,
            "svg" => Format::Svg,
            "mp4" | "m4v" => Format::Mp4,
            "mov" => Format::Mov,
            "webm" => Format::Webm,
            "mkv" => Format::Mkv,
            _ => return None,
        })
    }

    pub fn kind(self) -> MediaKind {
        match self {
            Format::Mp4 | Format::Mov | Format::Webm | Format::Mkv => MediaKind::Video,
            _ => MediaKind::Image,
        }
    }

    pub fn resource_type(self) -> ResourceType {
        match self.kind() {
            MediaKind::Image => ResourceType::Image,
            MediaKind::Video => ResourceType::Video,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::Bmp => "image/bmp",
            Format::Tiff => "image/tiff",
            Format::Ico => "image/x-icon",
            Format::Avif => "image/avif",
            Format::Heic => "image/heic",
            Format::Jxl => "image/jxl",
            Format::Svg => "image/svg+xml",
            Format::Mp4 => "video/mp4",
            Format::Mov => "video/quicktime",
            Format::Webm => "video/webm",
            Format::Mkv => "video/x-matroska",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_round_trip() {
        for f in [
            Format::Jpg,
            Format::Png,
            Format::Webm,
            Format::Heic,
            Format::Svg,
        ] {
            assert_eq!(Format::from_extension(f.extension()), Some(f));
        }
        assert_eq!(Format::from_extension("JPEG"), Some(Format::Jpg));
        assert_eq!(Format::from_extension("exe"), None);
        assert_eq!(Format::Mov.resource_type(), ResourceType::Video);
    }
}
