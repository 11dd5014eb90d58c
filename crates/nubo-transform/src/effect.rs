//! `e_`: effects with their documented ranges and defaults (§9.3). The
//! canonical form writes every argument, so `e_blur` and `e_blur:100` are
//! one derived file.

use std::fmt;

use crate::error::{invalid, Result, TransformError};
use crate::value::{parse_int_in, Color};

/// One effect. Cloudinary allows one `e_` per component; chain components
/// for more.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Effect {
    Grayscale,
    Blackwhite(u8),
    Sepia(u8),
    Negate,
    Blur(u32),
    Sharpen(u32),
    UnsharpMask(u32),
    Brightness(i32),
    Contrast(i32),
    Saturation(i32),
    Hue(i32),
    Gamma(i32),
    Vibrance(i32),
    Red(i32),
    Green(i32),
    Blue(i32),
    Pixelate(u32),
    /// Blurs the component's `x`,`y`,`w`,`h` region (whole image if absent).
    BlurRegion(u32),
    PixelateRegion(u32),
    /// Blurs every detected (or stored) face.
    BlurFaces(u32),
    PixelateFaces(u32),
    /// Blends the whole image towards `co_` (default gray) by the amount.
    Colorize(u8),
    Tint(Tint),
    Vignette(u8),
    Trim {
        tolerance: u8,
        color: Option<Color>,
    },
    MakeTransparent(u8),
    OilPaint(u8),
    AutoBrightness(u8),
    AutoContrast(u8),
    AutoColor(u8),
    Improve {
        indoor: bool,
        blend: u8,
    },
    /// `e_replace_color:to[:tolerance[:from]]`; without `from`, the
    /// image's predominant colour.
    ReplaceColor {
        to: Color,
        tolerance: u8,
        from: Option<Color>,
    },
    /// `e_gradient_fade[:symmetric|symmetric_pad][:strength]`, along the
    /// component's `x` or `y` (default `y_0.5`, the top half).
    GradientFade {
        kind: FadeKind,
        strength: u8,
    },
    /// `e_assist_colorblind[:strength]` (stripes) or `:xray` (a colour shift).
    AssistColorblind(Option<u8>),
    /// `e_shadow[:strength]`, offset by the component's `x`/`y`, in `co_`.
    Shadow(u8),
    /// `e_outline[:outer|inner][:width][:blur]`, in `co_`.
    Outline {
        mode: OutlineMode,
        width: u32,
        blur: u32,
    },
    /// How a layer meets the picture; only in the component placing it.
    Blend(BlendMode),
}

/// `e_multiply`, `e_screen`, `e_overlay`, `e_mask`, `e_cut_out`,
/// `e_displace`, `e_anti_removal[:level]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlendMode {
    Multiply,
    Screen,
    Overlay,
    /// The picture keeps only where the layer is opaque.
    Mask,
    /// The picture is cut away where the layer is opaque.
    CutOut,
    /// The layer is a displacement map for the picture under it: red moves
    /// pixels sideways, green up and down, by up to the component's `x`/`y`.
    Displace,
    /// The layer is distorted before it is drawn (strength 1–100), so a
    /// watermark is harder to remove.
    AntiRemoval(u8),
}

impl BlendMode {
    fn parse(name: &str) -> Option<BlendMode> {
        Some(match name {
            "multiply" => BlendMode::Multiply,
            "screen" => BlendMode::Screen,
            "overlay" => BlendMode::Overlay,
            "mask" => BlendMode::Mask,
            "cut_out" => BlendMode::CutOut,
            "displace" => BlendMode::Displace,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BlendMode::Multiply => "multiply",
            BlendMode::Screen => "screen",
            BlendMode::Overlay => "overlay",
            BlendMode::Mask => "mask",
            BlendMode::CutOut => "cut_out",
            BlendMode::Displace => "displace",
            BlendMode::AntiRemoval(_) => "anti_removal",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutlineMode {
    Outer,
    Inner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FadeKind {
    /// From one edge.
    Edge,
    /// From both ends of the axis.
    Symmetric,
    /// Both ends, onto the `b_` colour.
    SymmetricPad,
}

/// `e_tint:[equalize:]amount:color[:pos]…`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tint {
    pub equalize: bool,
    pub amount: u8,
    /// Colours with optional positions in percent of luminance.
    pub stops: Vec<(Color, Option<u8>)>,
}

/// Names Cloudinary has that this server does not render.
const UNSUPPORTED: &[&str] = &[
    "opacity_threshold",
    "cartoonify",
    "vectorize",
    "art",
    "redeye",
    "simulate_colorblind",
    "background_removal",
    "distort",
    "shear",
    "style_transfer",
    "upscale",
    "enhance",
    "viesus_correct",
    "fill_light",
    "light",
    "theme",
    "transition",
    "zoompan",
    "loop",
    "boomerang",
    "accelerate",
    "reverse",
    "noise",
    "volume",
    "fade",
    "preview",
    "dropshadow",
];

impl Effect {
    pub fn parse(v: &str) -> Result<Self> {
        let mut parts = v.split(':');
        let name = parts.next().unwrap_or_default();
        let args = merge_rgb(parts.collect());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let arg = |i: usize, lo: i32, hi: i32, default: i32| -> Result<i32> {
            match args.get(i) {
                None => Ok(default),
                Some(a) => parse_int_in("effect", a, lo, hi).map_err(|_| invalid("effect", v)),
            }
        };
        let max_args = |n: usize| -> Result<()> {
            if args.len() > n {
                Err(invalid("effect", v))
            } else {
                Ok(())
            }
        };
        let u8_ = |x: i32| x as u8;
        let e = match name {
            _ if BlendMode::parse(name).is_some() && args.is_empty() => {
                Effect::Blend(BlendMode::parse(name).expect("checked"))
            }
            "anti_removal" => max_args(1)
                .and_then(|_| arg(0, 1, 100, 50))
                .map(|level| Effect::Blend(BlendMode::AntiRemoval(u8_(level))))?,
            "grayscale" => max_args(0).map(|_| Effect::Grayscale)?,
            "negate" => max_args(0).map(|_| Effect::Negate)?,
            "blackwhite" => Effect::Blackwhite(u8_(arg(0, 0, 100, 50)?)),
            "sepia" => Effect::Sepia(u8_(arg(0, 1, 100, 80)?)),
            "blur" => Effect::Blur(arg(0, 1, 2000, 100)? as u32),
            "sharpen" => Effect::Sharpen(arg(0, 1, 2000, 100)? as u32),
            "unsharp_mask" => Effect::UnsharpMask(arg(0, 1, 2000, 100)? as u32),
            "brightness" => Effect::Brightness(arg(0, -99, 100, 80)?),
            "contrast" => Effect::Contrast(arg(0, -100, 100, 0)?),
            "saturation" => Effect::Saturation(arg(0, -100, 100, 80)?),
            "hue" => Effect::Hue(arg(0, -100, 100, 80)?),
            "gamma" => Effect::Gamma(arg(0, -50, 150, 0)?),
            "vibrance" => Effect::Vibrance(arg(0, -100, 100, 20)?),
            "red" => Effect::Red(arg(0, -100, 100, 0)?),
            "green" => Effect::Green(arg(0, -100, 100, 0)?),
            "blue" => Effect::Blue(arg(0, -100, 100, 0)?),
            "pixelate" => Effect::Pixelate(arg(0, 1, 200, 5)? as u32),
            "blur_region" => Effect::BlurRegion(arg(0, 1, 2000, 100)? as u32),
            "pixelate_region" => Effect::PixelateRegion(arg(0, 1, 200, 5)? as u32),
            "blur_faces" => Effect::BlurFaces(arg(0, 1, 2000, 500)? as u32),
            "pixelate_faces" => Effect::PixelateFaces(arg(0, 1, 200, 5)? as u32),
            "colorize" => Effect::Colorize(u8_(arg(0, 0, 100, 100)?)),
            "vignette" => Effect::Vignette(u8_(arg(0, 0, 100, 20)?)),
            "make_transparent" => Effect::MakeTransparent(u8_(arg(0, 0, 100, 10)?)),
            "oil_paint" => Effect::OilPaint(u8_(arg(0, 0, 100, 30)?)),
            "auto_brightness" => Effect::AutoBrightness(u8_(arg(0, 0, 100, 100)?)),
            "auto_contrast" => Effect::AutoContrast(u8_(arg(0, 0, 100, 100)?)),
            "auto_color" => Effect::AutoColor(u8_(arg(0, 0, 100, 100)?)),
            "improve" => parse_improve(v, &args)?,
            "trim" => parse_trim(v, &args)?,
            "tint" => Effect::Tint(parse_tint(v, &args)?),
            "replace_color" => parse_replace_color(v, &args)?,
            "shadow" => Effect::Shadow(u8_(arg(0, 0, 100, 40)?)),
            "outline" => parse_outline(v, &args)?,
            "gradient_fade" => parse_gradient_fade(v, &args)?,
            "assist_colorblind" => match args.as_slice() {
                [] => Effect::AssistColorblind(Some(10)),
                ["xray"] => Effect::AssistColorblind(None),
                [n] => Effect::AssistColorblind(Some(
                    parse_int_in("effect", n, 1, 100).map_err(|_| invalid("effect", v))? as u8,
                )),
                _ => return Err(invalid("effect", v)),
            },
            _ if UNSUPPORTED.contains(&name) || name.starts_with("gen_") => {
                return Err(TransformError::Unsupported(format!("Effect {name}")))
            }
            _ => return Err(invalid("effect", v)),
        };
        if !matches!(
            e,
            Effect::Improve { .. }
                | Effect::Trim { .. }
                | Effect::Tint(_)
                | Effect::ReplaceColor { .. }
                | Effect::GradientFade { .. }
                | Effect::Outline { .. }
        ) {
            max_args(1)?;
        }
        Ok(e)
    }

    /// Effects whose `w`/`h`/`x`/`y` describe a region instead of a resize.
    pub fn uses_region(&self) -> bool {
        matches!(self, Effect::BlurRegion(_) | Effect::PixelateRegion(_))
    }
}

/// `rgb:ff0000` inside a `:`-separated argument list arrives as two
/// tokens; glue them back together.
fn merge_rgb(tokens: Vec<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut iter = tokens.into_iter();
    while let Some(t) = iter.next() {
        match (t, iter.clone().next()) {
            ("rgb", Some(hex)) => {
                out.push(format!("rgb:{hex}"));
                iter.next();
            }
            _ => out.push(t.to_owned()),
        }
    }
    out
}

fn parse_improve(v: &str, args: &[&str]) -> Result<Effect> {
    let mut indoor = false;
    let mut blend = 100;
    let mut rest = args;
    if let Some(&mode) = rest.first() {
        match mode {
            "indoor" => {
                indoor = true;
                rest = &rest[1..];
            }
            "outdoor" => rest = &rest[1..],
            _ => {}
        }
    }
    if let Some(b) = rest.first() {
        blend = parse_int_in("effect", b, 0, 100).map_err(|_| invalid("effect", v))? as u8;
        rest = &rest[1..];
    }
    if !rest.is_empty() {
        return Err(invalid("effect", v));
    }
    Ok(Effect::Improve { indoor, blend })
}

/// `e_trim`'s colour tolerance when none is given; `tar` measures with it.
pub const DEFAULT_TRIM_TOLERANCE: u8 = 10;

fn parse_trim(v: &str, args: &[&str]) -> Result<Effect> {
    if args.len() > 2 {
        return Err(invalid("effect", v));
    }
    let tolerance = match args.first() {
        Some(t) => parse_int_in("effect", t, 0, 100).map_err(|_| invalid("effect", v))? as u8,
        None => DEFAULT_TRIM_TOLERANCE,
    };
    let color = match args.get(1) {
        Some(c) => Some(Color::parse("effect", c).map_err(|_| invalid("effect", v))?),
        None => None,
    };
    Ok(Effect::Trim { tolerance, color })
}

/// A colour argument: a name, `rgb:hex`, or bare hex as Cloudinary's
/// `replace_color` examples write it (`2f4f4f`).
fn effect_color(v: &str, arg: &str) -> Result<Color> {
    let bare_hex = matches!(arg.len(), 3 | 6) && arg.bytes().all(|b| b.is_ascii_hexdigit());
    let text = if bare_hex {
        format!("rgb:{arg}")
    } else {
        arg.to_owned()
    };
    Color::parse("effect", &text).map_err(|_| invalid("effect", v))
}

fn parse_replace_color(v: &str, args: &[&str]) -> Result<Effect> {
    let (to, rest) = match args {
        [to, rest @ ..] if rest.len() <= 2 => (effect_color(v, to)?, rest),
        _ => return Err(invalid("effect", v)),
    };
    let tolerance = match rest.first() {
        Some(t) => parse_int_in("effect", t, 0, 100).map_err(|_| invalid("effect", v))? as u8,
        None => 50,
    };
    let from = rest.get(1).map(|c| effect_color(v, c)).transpose()?;
    Ok(Effect::ReplaceColor {
        to,
        tolerance,
        from,
    })
}

fn parse_outline(v: &str, args: &[&str]) -> Result<Effect> {
    let mut rest = args;
    let mode = match rest.first() {
        Some(&"outer") => OutlineMode::Outer,
        Some(&"inner") => OutlineMode::Inner,
        Some(&m @ ("inner_fill" | "outer_fill" | "fill")) => {
            return Err(TransformError::Unsupported(format!("Outline mode {m}")))
        }
        _ => OutlineMode::Outer,
    };
    if matches!(rest.first(), Some(&("outer" | "inner"))) {
        rest = &rest[1..];
    }
    let num = |i: usize, lo: i32, hi: i32, default: i32| match rest.get(i) {
        Some(n) => parse_int_in("effect", n, lo, hi).map_err(|_| invalid("effect", v)),
        None => Ok(default),
    };
    if rest.len() > 2 {
        return Err(invalid("effect", v));
    }
    Ok(Effect::Outline {
        mode,
        width: num(0, 1, 100, 5)? as u32,
        blur: num(1, 0, 2000, 0)? as u32,
    })
}

fn parse_gradient_fade(v: &str, args: &[&str]) -> Result<Effect> {
    let mut rest = args;
    let kind = match rest.first() {
        Some(&"symmetric") => FadeKind::Symmetric,
        Some(&"symmetric_pad") => FadeKind::SymmetricPad,
        _ => FadeKind::Edge,
    };
    if kind != FadeKind::Edge {
        rest = &rest[1..];
    }
    let strength = match rest {
        [] => 20,
        [n] => parse_int_in("effect", n, 0, 100).map_err(|_| invalid("effect", v))? as u8,
        _ => return Err(invalid("effect", v)),
    };
    Ok(Effect::GradientFade { kind, strength })
}

/// Cloudinary's defaults: amount 60, one red stop.
fn parse_tint(v: &str, args: &[&str]) -> Result<Tint> {
    let err = || invalid("effect", v);
    let mut rest = args;
    let equalize = rest.first() == Some(&"equalize");
    if equalize {
        rest = &rest[1..];
    }
    let mut amount = 60;
    if let Some(a) = rest.first() {
        if a.bytes().all(|b| b.is_ascii_digit()) {
            amount = parse_int_in("effect", a, 0, 100).map_err(|_| err())? as u8;
            rest = &rest[1..];
        }
    }
    let mut stops = Vec::new();
    while let Some(c) = rest.first() {
        let color = Color::parse("effect", c).map_err(|_| err())?;
        rest = &rest[1..];
        let mut pos = None;
        if let Some(p) = rest.first() {
            if let Some(num) = p.strip_suffix('p') {
                pos = Some(parse_int_in("effect", num, 0, 100).map_err(|_| err())? as u8);
                rest = &rest[1..];
            }
        }
        stops.push((color, pos));
        if stops.len() > 16 {
            return Err(err());
        }
    }
    if stops.is_empty() {
        stops.push((Color::rgb(255, 0, 0), None));
    }
    Ok(Tint {
        equalize,
        amount,
        stops,
    })
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Effect::*;
        match self {
            Grayscale => f.write_str("grayscale"),
            Negate => f.write_str("negate"),
            Blackwhite(n) => write!(f, "blackwhite:{n}"),
            Sepia(n) => write!(f, "sepia:{n}"),
            Blur(n) => write!(f, "blur:{n}"),
            Sharpen(n) => write!(f, "sharpen:{n}"),
            UnsharpMask(n) => write!(f, "unsharp_mask:{n}"),
            Brightness(n) => write!(f, "brightness:{n}"),
            Contrast(n) => write!(f, "contrast:{n}"),
            Saturation(n) => write!(f, "saturation:{n}"),
            Hue(n) => write!(f, "hue:{n}"),
            Gamma(n) => write!(f, "gamma:{n}"),
            Vibrance(n) => write!(f, "vibrance:{n}"),
            Red(n) => write!(f, "red:{n}"),
            Green(n) => write!(f, "green:{n}"),
            Blue(n) => write!(f, "blue:{n}"),
            Pixelate(n) => write!(f, "pixelate:{n}"),
            BlurRegion(n) => write!(f, "blur_region:{n}"),
            PixelateRegion(n) => write!(f, "pixelate_region:{n}"),
            BlurFaces(n) => write!(f, "blur_faces:{n}"),
            ReplaceColor {
                to,
                tolerance,
                from,
            } => {
                write!(f, "replace_color:{to}:{tolerance}")?;
                match from {
                    Some(c) => write!(f, ":{c}"),
                    None => Ok(()),
                }
            }
            GradientFade { kind, strength } => {
                f.write_str("gradient_fade:")?;
                match kind {
                    FadeKind::Edge => {}
                    FadeKind::Symmetric => f.write_str("symmetric:")?,
                    FadeKind::SymmetricPad => f.write_str("symmetric_pad:")?,
                }
                write!(f, "{strength}")
            }
            AssistColorblind(Some(n)) => write!(f, "assist_colorblind:{n}"),
            AssistColorblind(None) => f.write_str("assist_colorblind:xray"),
            Shadow(n) => write!(f, "shadow:{n}"),
            Outline { mode, width, blur } => {
                let m = match mode {
                    OutlineMode::Outer => "outer",
                    OutlineMode::Inner => "inner",
                };
                write!(f, "outline:{m}:{width}:{blur}")
            }
            Blend(BlendMode::AntiRemoval(level)) => write!(f, "anti_removal:{level}"),
            Blend(m) => f.write_str(m.as_str()),
            PixelateFaces(n) => write!(f, "pixelate_faces:{n}"),
            Colorize(n) => write!(f, "colorize:{n}"),
            Vignette(n) => write!(f, "vignette:{n}"),
            MakeTransparent(n) => write!(f, "make_transparent:{n}"),
            OilPaint(n) => write!(f, "oil_paint:{n}"),
            AutoBrightness(n) => write!(f, "auto_brightness:{n}"),
            AutoContrast(n) => write!(f, "auto_contrast:{n}"),
            AutoColor(n) => write!(f, "auto_color:{n}"),
            Improve { indoor, blend } => write!(
                f,
                "improve:{}:{blend}",
                if *indoor { "indoor" } else { "outdoor" }
            ),
            Trim { tolerance, color } => {
                write!(f, "trim:{tolerance}")?;
                if let Some(c) = color {
                    write!(f, ":{c}")?;
                }
                Ok(())
            }
            Tint(t) => {
                f.write_str("tint")?;
                if t.equalize {
                    f.write_str(":equalize")?;
                }
                write!(f, ":{}", t.amount)?;
                for (c, p) in &t.stops {
                    write!(f, ":{c}")?;
                    if let Some(p) = p {
                        write!(f, ":{p}p")?;
                    }
                }
                Ok(())
            }
        }
    }
}
