//! Resampling with fast_image_resize (runtime-selected AVX2/SSE4.1
//! kernels, Lanczos3, alpha premultiplied during the resample).

use std::cell::RefCell;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::error::{EngineError, Result};
use crate::raster::Raster;

thread_local! {
    // Keeps the resizer's scratch buffers per worker thread.
    static RESIZER: RefCell<Resizer> = RefCell::new(Resizer::new());
}

/// Resamples the region `crop` (x, y, w, h in `src` pixels, fractional
/// allowed) of `src` to `w`×`h`.
pub fn resample(src: &Raster, crop: Option<[f64; 4]>, w: u32, h: u32) -> Result<Raster> {
    let pt = if src.channels == 4 {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    };
    let src_img = ImageRef::new(src.width, src.height, &src.data, pt)
        .map_err(|e| EngineError::Internal(format!("resize source: {e}")))?;
    let mut dst = Image::new(w, h, pt);
    let mut opts = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(src.channels == 4);
    if let Some([x, y, cw, ch]) = crop {
        opts = opts.crop(x, y, cw, ch);
    }
    RESIZER
        .with(|r| r.borrow_mut().resize(&src_img, &mut dst, &opts))
        .map_err(|e| EngineError::Internal(format!("resize: {e}")))?;
    Ok(Raster::new(w, h, src.channels, dst.into_vec()))
}
