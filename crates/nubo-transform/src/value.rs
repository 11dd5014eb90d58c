//! Value syntax shared by several keys (§9.2): numbers, sizes, colours.

use std::fmt;

use crate::error::{invalid, Result};

/// A width or height: integer pixels, or a decimal fraction of the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dim {
    Px(u32),
    /// `w_0.5`: relative to the image entering the component. Cloudinary
    /// tells `w_1` (one pixel) from `w_1.0` (the whole width).
    Rel(f64),
}

/// An `x` / `y` offset: pixels (may be negative) or a fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Offset {
    Px(i32),
    Rel(f64),
}

/// Largest pixel value accepted in any size; the engine's pixel limits
/// apply later, this only keeps the arithmetic far from overflow.
pub const MAX_PX: u32 = 100_000;

pub(crate) fn parse_dim(what: &'static str, v: &str) -> Result<Dim> {
    if v.contains('.') {
        let f = parse_decimal(what, v)?;
        if !(f > 0.0 && f <= 100.0) {
            return Err(invalid(what, v));
        }
        Ok(Dim::Rel(f))
    } else {
        let n: u32 = parse_digits(what, v)?;
        if n == 0 || n > MAX_PX {
            return Err(invalid(what, v));
        }
        Ok(Dim::Px(n))
    }
}

pub(crate) fn parse_offset(what: &'static str, v: &str) -> Result<Offset> {
    if v.contains('.') {
        let f = parse_decimal(what, v)?;
        if !(-100.0..=100.0).contains(&f) {
            return Err(invalid(what, v));
        }
        Ok(Offset::Rel(f))
    } else {
        let (neg, digits) = match v.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, v),
        };
        let n: u32 = parse_digits(what, digits)?;
        if n > MAX_PX {
            return Err(invalid(what, v));
        }
        let n = n as i32;
        Ok(Offset::Px(if neg { -n } else { n }))
    }
}

/// Plain ASCII digits only: no sign, no spaces, no `+`, so that each
/// value has exactly one spelling.
pub(crate) fn parse_digits<T: std::str::FromStr>(what: &'static str, v: &str) -> Result<T> {
    if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(what, v));
    }
    v.parse().map_err(|_| invalid(what, v))
}

/// `[-]digits[.digits]`, finite.
pub(crate) fn parse_decimal(what: &'static str, v: &str) -> Result<f64> {
    let body = v.strip_prefix('-').unwrap_or(v);
    let ok = !body.is_empty()
        && body.len() <= 16
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|&b| b == b'.').count() <= 1
        && body.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return Err(invalid(what, v));
    }
    let f: f64 = v.parse().map_err(|_| invalid(what, v))?;
    if f.is_finite() {
        Ok(f)
    } else {
        Err(invalid(what, v))
    }
}

pub(crate) fn parse_int_in(what: &'static str, v: &str, lo: i32, hi: i32) -> Result<i32> {
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    let n: i32 = parse_digits(what, digits)?;
    let n = if neg { -n } else { n };
    if (lo..=hi).contains(&n) {
        Ok(n)
    } else {
        Err(invalid(what, v))
    }
}

/// A decimal written so that it always keeps a point: `1.0`, `0.5`.
pub struct Decimal(pub f64);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = format!("{}", self.0);
        if s.contains('.') {
            f.write_str(&s)
        } else {
            write!(f, "{s}.0")
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Px(n) => write!(f, "{n}"),
            Dim::Rel(r) => Decimal(*r).fmt(f),
        }
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Offset::Px(n) => write!(f, "{n}"),
            Offset::Rel(r) => Decimal(*r).fmt(f),
        }
    }
}

/// An sRGB colour with straight alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Color {
    pub const WHITE: Color = Color::rgb(255, 255, 255);
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    pub const TRANSPARENT: Color = Color {
        r: 0,
        g: 0,
        b: 0,
        a: 0,
    };

    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b, a: 255 }
    }

    /// `rgb:RRGGBB`, `rgb:RGB`, `rgb:RRGGBBAA`, `rgb:RGBA`, or a CSS name.
    pub fn parse(what: &'static str, v: &str) -> Result<Color> {
        let lower = v.to_ascii_lowercase();
        if let Some(hex) = lower
            .strip_prefix("rgb:")
            .or_else(|| lower.strip_prefix('#'))
        {
            return parse_hex(hex).ok_or_else(|| invalid(what, v));
        }
        if lower == "transparent" {
            return Ok(Color::TRANSPARENT);
        }
        crate::colors::named(&lower).ok_or_else(|| invalid(what, v))
    }

    pub fn is_opaque(self) -> bool {
        self.a == 255
    }
}

fn parse_hex(hex: &str) -> Option<Color> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let nib = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).ok().map(|n| n * 17);
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    match hex.len() {
        3 => Some(Color::rgb(nib(0)?, nib(1)?, nib(2)?)),
        4 => Some(Color {
            r: nib(0)?,
            g: nib(1)?,
            b: nib(2)?,
            a: nib(3)?,
        }),
        6 => Some(Color::rgb(byte(0)?, byte(2)?, byte(4)?)),
        8 => Some(Color {
            r: byte(0)?,
            g: byte(2)?,
            b: byte(4)?,
            a: byte(6)?,
        }),
        _ => None,
    }
}

impl fmt::Display for Color {
    /// The canonical spelling: `rgb:rrggbb`, plus `aa` when not opaque.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rgb:{:02x}{:02x}{:02x}", self.r, self.g, self.b)?;
        if self.a != 255 {
            write!(f, "{:02x}", self.a)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_tell_pixels_from_fractions() {
        assert_eq!(parse_dim("width", "1").unwrap(), Dim::Px(1));
        assert_eq!(parse_dim("width", "1.0").unwrap(), Dim::Rel(1.0));
        assert_eq!(parse_dim("width", "0.5").unwrap().to_string(), "0.5");
        assert_eq!(parse_dim("width", "2.").unwrap().to_string(), "2.0");
        for bad in [
            "0",
            "-1",
            "abc",
            "",
            "1e3",
            "+5",
            "0.0",
            "1.2.3",
            "999999999",
            " 1",
        ] {
            assert!(parse_dim("width", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn colours() {
        let c = |s| Color::parse("color", s).unwrap().to_string();
        assert_eq!(c("rgb:FF0000"), "rgb:ff0000");
        assert_eq!(c("rgb:f00"), "rgb:ff0000");
        assert_eq!(c("red"), "rgb:ff0000");
        assert_eq!(c("rgb:ff000080"), "rgb:ff000080");
        assert_eq!(c("transparent"), "rgb:00000000");
        assert!(Color::parse("color", "rgb:ff00").is_ok());
        for bad in ["rgb:ggg", "rgb:12345", "notacolour", "rgb:"] {
            assert!(Color::parse("color", bad).is_err(), "{bad}");
        }
    }
}
