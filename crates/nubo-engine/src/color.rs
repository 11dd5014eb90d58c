//! Colour management with moxcms (pure Rust): embedded ICC profiles are
//! converted to sRGB, because derived files carry no profile and a stripped
//! Adobe RGB or Display P3 image would otherwise show wrong colours.

use moxcms::{ColorProfile, Layout, TransformOptions};

use crate::raster::Raster;

/// True for profiles that already are sRGB (by their description), so the
/// common case costs nothing.
fn is_srgb(icc: &[u8]) -> bool {
    let head = &icc[..icc.len().min(1024)];
    head.windows(4).any(|w| w == b"sRGB") || head.windows(8).any(|w| w == b"s\0R\0G\0B\0")
}

/// Converts pixels described by `icc` to sRGB; without a usable RGB
/// profile the pixels are taken as sRGB already.
pub fn to_srgb(r: Raster, icc: Option<&[u8]>) -> Raster {
    let Some(icc) = icc.filter(|p| !is_srgb(p)) else {
        return r;
    };
    let Ok(src) = ColorProfile::new_from_slice(icc) else {
        return r;
    };
    profile_to_srgb(r, &src)
}

/// Converts pixels in the colour space `src` describes to sRGB (unchanged
/// when the transform cannot be built).
pub fn profile_to_srgb(r: Raster, src: &ColorProfile) -> Raster {
    let layout = if r.channels == 4 {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    let dst = ColorProfile::new_srgb();
    let Ok(t) = src.create_transform_8bit(layout, &dst, layout, TransformOptions::default()) else {
        return r;
    };
    let mut out = vec![0u8; r.data.len()];
    match t.transform(&r.data, &mut out) {
        Ok(()) => Raster::new(r.width, r.height, r.channels, out),
        Err(_) => r,
    }
}

/// CMYK (as zune-jpeg returns it: Adobe files already un-inverted) to
/// sRGB: through the embedded profile when there is one, else with the
/// plain formula, which is what browsers do for untagged CMYK.
pub fn cmyk_to_srgb(cmyk: &[u8], w: u32, h: u32, icc: Option<&[u8]>) -> Raster {
    if let Some(r) = icc.and_then(|p| cmyk_via_profile(cmyk, w, h, p)) {
        return r;
    }
    let mut out = Vec::with_capacity(cmyk.len() / 4 * 3);
    for p in cmyk.chunks_exact(4) {
        let k = p[3] as u32;
        for &c in &p[..3] {
            // zune-jpeg gives CMYK with 255 = no ink.
            out.push(((c as u32 * k + 127) / 255) as u8);
        }
    }
    Raster::new(w, h, 3, out)
}

fn cmyk_via_profile(cmyk: &[u8], w: u32, h: u32, icc: &[u8]) -> Option<Raster> {
    let src = ColorProfile::new_from_slice(icc).ok()?;
    if src.color_space != moxcms::DataColorSpace::Cmyk {
        return None;
    }
    let dst = ColorProfile::new_srgb();
    let t = src
        .create_transform_8bit(Layout::Rgba, &dst, Layout::Rgb, TransformOptions::default())
        .ok()?;
    // ICC CMYK counts ink (0 = none); zune-jpeg's output is the inverse.
    let inked: Vec<u8> = cmyk.iter().map(|v| 255 - v).collect();
    let mut out = vec![0u8; cmyk.len() / 4 * 3];
    t.transform(&inked, &mut out).ok()?;
    Some(Raster::new(w, h, 3, out))
}
