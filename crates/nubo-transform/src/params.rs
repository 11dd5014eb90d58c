//! Typed values of the single-valued keys: crop, gravity, quality, format,
//! dpr, angle, radius, border, background, flags, page, colour space.

use std::fmt;

use nubo_core::Format;

use crate::error::{invalid, Result, TransformError};
use crate::value::{parse_decimal, parse_digits, parse_int_in, Color, Decimal};

macro_rules! keyword_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn parse(v: &str) -> Result<Self> {
                match v {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(invalid($what, v)),
                }
            }
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum!(
    /// `c_`: how the image meets the requested box (§9.3).
    CropMode, "crop" {
        Scale => "scale",
        Fit => "fit",
        Limit => "limit",
        Mfit => "mfit",
        Fill => "fill",
        Lfill => "lfill",
        FillPad => "fill_pad",
        Pad => "pad",
        Lpad => "lpad",
        Mpad => "mpad",
        Crop => "crop",
        Thumb => "thumb",
        Auto => "auto",
        AutoPad => "auto_pad",
        ImaggaCrop => "imagga_crop",
        ImaggaScale => "imagga_scale",
    }
);

impl CropMode {
    pub(crate) fn check_supported(self) -> Result<Self> {
        match self {
            CropMode::ImaggaCrop | CropMode::ImaggaScale => Err(TransformError::Unsupported(
                format!("Crop mode {self} (an Imagga add-on)"),
            )),
            m => Ok(m),
        }
    }
}

keyword_enum!(
    /// The nine anchors of a compass gravity.
    Compass, "gravity" {
        NorthWest => "north_west",
        North => "north",
        NorthEast => "north_east",
        West => "west",
        Center => "center",
        East => "east",
        SouthWest => "south_west",
        South => "south",
        SouthEast => "south_east",
    }
);

impl Compass {
    /// Where the anchor sits on each axis: 0 = start, 1 = middle, 2 = end.
    pub fn axes(self) -> (u8, u8) {
        use Compass::*;
        match self {
            NorthWest => (0, 0),
            North => (1, 0),
            NorthEast => (2, 0),
            West => (0, 1),
            Center => (1, 1),
            East => (2, 1),
            SouthWest => (0, 2),
            South => (1, 2),
            SouthEast => (2, 2),
        }
    }
}

/// `g_`: which part of the image a crop keeps or where a padded image sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gravity {
    Compass(Compass),
    /// `x`, `y` name the centre of the region.
    XyCenter,
    /// `face`, `faces`, with `:center` asking for a centre fallback.
    Face {
        all: bool,
        center_fallback: bool,
    },
    /// `auto`, `auto:subject`, `auto:classic`.
    Auto(AutoGravity),
    /// The stored `custom_coordinates`.
    Custom,
}

keyword_enum!(
    /// Flavours of `g_auto`.
    AutoGravity, "gravity" {
        Default => "auto",
        Subject => "auto:subject",
        Classic => "auto:classic",
    }
);

impl Gravity {
    pub fn parse(v: &str) -> Result<Self> {
        if let Ok(c) = Compass::parse(v) {
            return Ok(Gravity::Compass(c));
        }
        Ok(match v {
            "xy_center" => Gravity::XyCenter,
            "face" | "faces" | "face:center" | "faces:center" => Gravity::Face {
                all: v.starts_with("faces"),
                center_fallback: v.ends_with(":center"),
            },
            "custom" => Gravity::Custom,
            _ => match AutoGravity::parse(v) {
                Ok(a) => Gravity::Auto(a),
                Err(_) if known_unsupported_gravity(v) => {
                    return Err(TransformError::Unsupported(format!("Gravity {v}")))
                }
                Err(e) => return Err(e),
            },
        })
    }
}

fn known_unsupported_gravity(v: &str) -> bool {
    let head = v.split(':').next().unwrap_or(v);
    matches!(
        head,
        "ocr_text" | "liquid" | "adv_face" | "adv_faces" | "adv_eyes" | "auto" | "custom"
    )
}

impl fmt::Display for Gravity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gravity::Compass(c) => c.fmt(f),
            Gravity::XyCenter => f.write_str("xy_center"),
            Gravity::Face {
                all,
                center_fallback,
            } => {
                f.write_str(if *all { "faces" } else { "face" })?;
                if *center_fallback {
                    f.write_str(":center")?;
                }
                Ok(())
            }
            Gravity::Auto(a) => a.fmt(f),
            Gravity::Custom => f.write_str("custom"),
        }
    }
}

keyword_enum!(
    /// `q_auto` levels.
    AutoQuality, "quality" {
        Best => "best",
        Good => "good",
        Eco => "eco",
        Low => "low",
    }
);

keyword_enum!(
    /// Chroma subsampling as `q_80:420`.
    Chroma, "quality" {
        C420 => "420",
        C422 => "422",
        C444 => "444",
    }
);

/// `q_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    Fixed { value: u8, chroma: Option<Chroma> },
    Auto(AutoQuality),
}

impl Quality {
    pub fn parse(v: &str) -> Result<Self> {
        if v == "auto" {
            return Ok(Quality::Auto(AutoQuality::Good));
        }
        if let Some(level) = v.strip_prefix("auto:") {
            return AutoQuality::parse(level).map(Quality::Auto);
        }
        if v == "jpegmini" || v.starts_with("jpegmini:") {
            return Err(TransformError::Unsupported("q_jpegmini".into()));
        }
        let (num, chroma) = match v.split_once(':') {
            Some((n, c)) => (
                n,
                Some(Chroma::parse(c).map_err(|_| invalid("quality", v))?),
            ),
            None => (v, None),
        };
        let value = parse_int_in("quality", num, 1, 100).map_err(|_| invalid("quality", v))?;
        Ok(Quality::Fixed {
            value: value as u8,
            chroma,
        })
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quality::Auto(l) => write!(f, "auto:{l}"),
            Quality::Fixed {
                value,
                chroma: None,
            } => write!(f, "{value}"),
            Quality::Fixed {
                value,
                chroma: Some(c),
            } => write!(f, "{value}:{c}"),
        }
    }
}

/// `f_`: a fixed output format, or one chosen from the request's `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatChoice {
    Fixed(Format),
    Auto,
}

/// Image formats the engine can write.
pub fn is_encodable(f: Format) -> bool {
    matches!(
        f,
        Format::Jpg
            | Format::Png
            | Format::Webp
            | Format::Avif
            | Format::Gif
            | Format::Bmp
            | Format::Tiff
            | Format::Ico
    )
}

impl FormatChoice {
    pub fn parse(v: &str) -> Result<Self> {
        if v == "auto" || v.starts_with("auto:") {
            return Ok(FormatChoice::Auto);
        }
        match Format::from_extension(v) {
            Some(f) if is_encodable(f) => Ok(FormatChoice::Fixed(f)),
            Some(f) => Err(TransformError::Unsupported(format!(
                "Output format {}",
                f.extension()
            ))),
            None => Err(invalid("format", v)),
        }
    }
}

impl fmt::Display for FormatChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatChoice::Fixed(x) => f.write_str(x.extension()),
            FormatChoice::Auto => f.write_str("auto"),
        }
    }
}

/// `dpr_`: a multiplier, or `auto` from the `Sec-CH-DPR` / `DPR` header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dpr {
    Value(f64),
    Auto,
}

pub const MAX_DPR: f64 = 5.0;

impl Dpr {
    pub fn parse(v: &str) -> Result<Self> {
        if v == "auto" {
            return Ok(Dpr::Auto);
        }
        let d = parse_decimal("dpr", v)?;
        if d > 0.0 && d <= MAX_DPR {
            Ok(Dpr::Value(d))
        } else {
            Err(invalid("dpr", v))
        }
    }
}

impl fmt::Display for Dpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dpr::Value(d) => Decimal(*d).fmt(f),
            Dpr::Auto => f.write_str("auto"),
        }
    }
}

/// One step of `a_`; several are joined with `.` and applied in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Angle {
    Degrees(i32),
    AutoRight,
    AutoLeft,
    Exif,
    Ignore,
    Vflip,
    Hflip,
}

impl Angle {
    pub fn parse_list(v: &str) -> Result<Vec<Angle>> {
        v.split('.')
            .map(|part| {
                Ok(match part {
                    "auto_right" => Angle::AutoRight,
                    "auto_left" => Angle::AutoLeft,
                    "exif" => Angle::Exif,
                    "ignore" => Angle::Ignore,
                    "vflip" => Angle::Vflip,
                    "hflip" => Angle::Hflip,
                    n => Angle::Degrees(
                        parse_int_in("angle", n, -36_000, 36_000)
                            .map_err(|_| invalid("angle", v))?,
                    ),
                })
            })
            .collect()
    }
}

impl fmt::Display for Angle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Angle::Degrees(d) => write!(f, "{d}"),
            Angle::AutoRight => f.write_str("auto_right"),
            Angle::AutoLeft => f.write_str("auto_left"),
            Angle::Exif => f.write_str("exif"),
            Angle::Ignore => f.write_str("ignore"),
            Angle::Vflip => f.write_str("vflip"),
            Angle::Hflip => f.write_str("hflip"),
        }
    }
}

/// `r_`: one to four corner radii in pixels, or `max` (ellipse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Radius {
    Max,
    /// Top-left, top-right, bottom-right, bottom-left, expanded from the
    /// one-to-four value shorthand.
    Corners([u32; 4]),
}

impl Radius {
    pub fn parse(v: &str) -> Result<Self> {
        if v == "max" {
            return Ok(Radius::Max);
        }
        let vals: Vec<u32> = v
            .split(':')
            .map(|p| parse_digits::<u32>("radius", p).map_err(|_| invalid("radius", v)))
            .collect::<Result<_>>()?;
        if vals.iter().any(|&r| r > crate::value::MAX_PX) {
            return Err(invalid("radius", v));
        }
        let c = match vals[..] {
            [a] => [a, a, a, a],
            [a, b] => [a, b, a, b],
            [a, b, c] => [a, b, c, b],
            [a, b, c, d] => [a, b, c, d],
            _ => return Err(invalid("radius", v)),
        };
        Ok(Radius::Corners(c))
    }
}

impl fmt::Display for Radius {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Radius::Max => f.write_str("max"),
            Radius::Corners([a, b, c, d]) if a == b && b == c && c == d => write!(f, "{a}"),
            Radius::Corners([a, b, c, d]) => write!(f, "{a}:{b}:{c}:{d}"),
        }
    }
}

/// `bo_<N>px_solid_<color>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Border {
    pub width: u32,
    pub color: Color,
}

impl Border {
    pub fn parse(v: &str) -> Result<Self> {
        let err = || invalid("border", v);
        let (w, rest) = v.split_once("px_").ok_or_else(err)?;
        let color = rest.strip_prefix("solid_").ok_or_else(err)?;
        let width: u32 = parse_digits("border", w).map_err(|_| err())?;
        if width == 0 || width > 1000 {
            return Err(err());
        }
        Ok(Border {
            width,
            color: Color::parse("border", color).map_err(|_| err())?,
        })
    }
}

impl fmt::Display for Border {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}px_solid_{}", self.width, self.color)
    }
}

/// `b_`: a colour, or a colour taken from the image itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Background {
    Color(Color),
    /// `b_auto` / `b_auto:border`: the average colour of the image's edge.
    AutoBorder,
    /// `b_auto:predominant`: the image's most common colour.
    AutoPredominant,
    /// `b_blurred[:intensity[:brightness]]`: a blurred, darkened cover copy.
    Blurred {
        intensity: u32,
        brightness: i32,
    },
}

impl Background {
    pub fn parse(v: &str) -> Result<Self> {
        match v {
            "auto" | "auto:border" => return Ok(Background::AutoBorder),
            "auto:predominant" => return Ok(Background::AutoPredominant),
            _ => {}
        }
        if v == "blurred" || v.starts_with("blurred:") {
            let mut parts = v.split(':').skip(1);
            let intensity = match parts.next() {
                Some(p) => parse_int_in("background", p, 1, 2000)? as u32,
                None => 100,
            };
            let brightness = match parts.next() {
                Some(p) => parse_int_in("background", p, -300, 100)?,
                None => 0,
            };
            if parts.next().is_some() {
                return Err(invalid("background", v));
            }
            return Ok(Background::Blurred {
                intensity,
                brightness,
            });
        }
        if v.starts_with("auto:") || v.starts_with("gen_fill") {
            return Err(TransformError::Unsupported(format!("Background {v}")));
        }
        Color::parse("background", v).map(Background::Color)
    }
}

impl fmt::Display for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Background::Color(c) => c.fmt(f),
            Background::AutoBorder => f.write_str("auto:border"),
            Background::AutoPredominant => f.write_str("auto:predominant"),
            Background::Blurred {
                intensity,
                brightness,
            } => write!(f, "blurred:{intensity}:{brightness}"),
        }
    }
}

/// `pg_`: one page or frame, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Page(pub u32);

impl Page {
    pub fn parse(v: &str) -> Result<Self> {
        if v.contains(['-', ';', ',']) || v == "all" || v.starts_with("name:") {
            return Err(TransformError::Unsupported(format!(
                "Page selection pg_{v} (only a single page number is)"
            )));
        }
        let n: u32 = parse_digits("page", v)?;
        if n == 0 {
            return Err(invalid("page", v));
        }
        Ok(Page(n))
    }
}

keyword_enum!(
    /// `cs_`: the colour space of the output.
    ColorSpace, "color_space" {
        Srgb => "srgb",
        TinySrgb => "tinysrgb",
        NoCmyk => "no_cmyk",
    }
);

impl ColorSpace {
    pub fn parse_supported(v: &str) -> Result<Self> {
        match v {
            "keep_cmyk" | "cmyk" => Err(TransformError::Unsupported(format!("Color space {v}"))),
            _ if v.starts_with("icc:") => {
                Err(TransformError::Unsupported(format!("Color space {v}")))
            }
            _ => ColorSpace::parse(v),
        }
    }
}
