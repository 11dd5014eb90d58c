//! SVG rasterised with resvg. Hardened: no file or network access (only
//! `data:` images embedded in the document), no scripts (resvg has none),
//! and the output size is checked against the pixel limit before any
//! allocation.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use crate::decode::{DecodeRequest, Decoded};
use crate::error::{EngineError, Result};
use crate::raster::{Picture, Raster};
use crate::EngineLimits;
use nubo_transform::Size;

/// System fonts, loaded once per process: SVG text must render the same
/// on every request.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_system_fonts();
        Arc::new(db)
    })
    .clone()
}

fn options() -> usvg::Options<'static> {
    let mut opt = usvg::Options {
        resources_dir: None,
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    // Never resolve hrefs to files or URLs; data: URIs keep working.
    opt.image_href_resolver.resolve_string = Box::new(|_, _| None);
    opt
}

pub fn rasterize(bytes: &[u8], req: &DecodeRequest, limits: &EngineLimits) -> Result<Decoded> {
    let tree = usvg::Tree::from_data(bytes, &options())
        .map_err(|e| EngineError::InvalidImage(format!("SVG: {e}")))?;
    let size = tree.size();
    let scale = req.vector_scale.clamp(0.01, 64.0) as f32;
    let w = (size.width() * scale).round().max(1.0);
    let h = (size.height() * scale).round().max(1.0);
    if (w as f64) * (h as f64) > limits.max_input_pixels as f64 {
        return Err(EngineError::TooLarge(format!(
            "SVG rendered at {w}x{h} is over the limit of {} pixels",
            limits.max_input_pixels
        )));
    }
    let logical = Size::new(w as u32, h as u32);
    let (w, h) = drawn_size(logical, req);
    let mut pixmap = tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| EngineError::InvalidImage("SVG has no drawable size".into()))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(w as f32 / size.width(), h as f32 / size.height()),
        &mut pixmap.as_mut(),
    );
    let mut data = Vec::with_capacity(w as usize * h as usize * 4);
    for p in pixmap.pixels() {
        let c = p.demultiply();
        data.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    let mut decoded = Decoded::new(Picture::still(Raster::new(w, h, 4, data)), 1);
    decoded.logical = logical;
    Ok(decoded)
}

/// The size to draw at. A vector is exact at any size, so when the first
/// step shrinks the whole image it is drawn at twice the size that step
/// makes, not at full size (libvips does the same): the resampler still
/// has a factor of two to work with, and a 4096-pixel wallpaper made into
/// a thumbnail no longer draws 16 million pixels to keep 90 thousand.
fn drawn_size(logical: Size, req: &DecodeRequest) -> (u32, u32) {
    let shrink = req.reduce.as_ref().map_or(1.0, |r| r.shrink(logical)) / 2.0;
    if shrink <= 1.0 {
        return (logical.w, logical.h);
    }
    let down = |v: u32| ((v as f64 / shrink).round() as u32).max(1);
    (down(logical.w), down(logical.h))
}
