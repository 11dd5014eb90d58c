//! Sizing maths: from a component and the size of the image entering it to
//! a [`Layout`] of crop, resample and pad. Pure, and property-tested: the
//! output never exceeds the box, and fill/pad/scale hit it exactly.
//! Content-aware gravities read a [`Focus`] measured by the engine.

mod focus;
pub mod place;

pub use focus::{Focus, Region, Saliency, FILL_PAD_KEEP, THUMB_MARGIN};

use crate::component::Component;
use crate::params::{AutoGravity, Compass, CropMode, Gravity};
use crate::value::{Dim, Offset};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub w: u32,
    pub h: u32,
}

impl Size {
    pub fn new(w: u32, h: u32) -> Size {
        Size { w, h }
    }
    pub fn pixels(self) -> u64 {
        self.w as u64 * self.h as u64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// What one component does to the geometry, in order: keep a region of
/// the input, resample it, then place it on a canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub crop: Option<Rect>,
    pub resize: Option<Size>,
    /// Canvas size and where the (cropped, resized) image sits on it.
    pub pad: Option<(Size, u32, u32)>,
}

impl Layout {
    pub const NONE: Layout = Layout {
        crop: None,
        resize: None,
        pad: None,
    };

    /// The size of the image this layout produces from `input`.
    pub fn output(&self, input: Size) -> Size {
        if let Some((canvas, _, _)) = self.pad {
            return canvas;
        }
        if let Some(r) = self.resize {
            return r;
        }
        match self.crop {
            Some(c) => Size::new(c.w, c.h),
            None => input,
        }
    }
}

/// The sizing keys of a component, with relative values and `dpr`
/// already turned into pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeRequest {
    pub mode: CropMode,
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub aspect_ratio: Option<f64>,
    pub gravity: Gravity,
    pub x: f64,
    pub y: f64,
    pub zoom: f64,
    pub ignore_aspect_ratio: bool,
}

impl SizeRequest {
    /// Reads the sizing keys of `c` for an input of `input` at `dpr`.
    pub fn from_component(c: &Component, input: Size, dpr: f64) -> SizeRequest {
        let dim = |d: Option<Dim>, full: u32| {
            d.map(|d| match d {
                Dim::Px(n) => n as f64 * dpr,
                Dim::Rel(r) => r * full as f64,
            })
        };
        let off = |o: Option<Offset>, full: u32| match o {
            None => 0.0,
            Some(Offset::Px(n)) => n as f64 * dpr,
            Some(Offset::Rel(r)) => r * full as f64,
        };
        let mode = c.crop.unwrap_or(CropMode::Scale);
        // `c_auto` and `c_auto_pad` are content-aware unless told otherwise.
        let default_gravity = match mode {
            CropMode::Auto | CropMode::AutoPad => Gravity::Auto(AutoGravity::Default),
            _ => Gravity::Compass(Compass::Center),
        };
        SizeRequest {
            mode,
            width: dim(c.width, input.w),
            height: dim(c.height, input.h),
            aspect_ratio: c.aspect_ratio.map(|a| a.value()),
            gravity: c.gravity.unwrap_or(default_gravity),
            x: off(c.x, input.w),
            y: off(c.y, input.h),
            zoom: c.zoom.unwrap_or(1.0),
            ignore_aspect_ratio: c.has_flag(&crate::flags::Flag::IgnoreAspectRatio),
        }
    }
}

fn px(v: f64) -> u32 {
    // Sizes are capped long before u32 overflows; at least one pixel.
    v.round().clamp(1.0, crate::value::MAX_PX as f64 * 5.0) as u32
}

/// The requested box with a missing side derived from `ar` or, failing
/// that, from the input's own ratio. `None` when nothing was asked.
fn target_box(r: &SizeRequest, input: Size) -> Option<(f64, f64)> {
    let ir = input.w as f64 / input.h as f64;
    match (r.width, r.height, r.aspect_ratio) {
        (Some(w), Some(h), _) => Some((w, h)),
        (Some(w), None, Some(ar)) => Some((w, w / ar)),
        (None, Some(h), Some(ar)) => Some((h * ar, h)),
        (Some(w), None, None) if r.ignore_aspect_ratio => Some((w, input.h as f64)),
        (None, Some(h), None) if r.ignore_aspect_ratio => Some((input.w as f64, h)),
        (Some(w), None, None) => Some((w, w / ir)),
        (None, Some(h), None) => Some((h * ir, h)),
        (None, None, _) => None,
    }
}

impl SizeRequest {
    /// The region a face or custom gravity centres on, if it found one.
    fn focus_region(&self, focus: &Focus) -> Option<Region> {
        match self.gravity {
            Gravity::Face { all, .. } => focus.faces_region(all),
            Gravity::Custom => focus.custom,
            _ => None,
        }
    }
}

/// Computes the layout of one component with nothing known of its content.
pub fn layout(r: &SizeRequest, input: Size) -> Layout {
    layout_with(r, input, &Focus::NONE)
}

/// Computes the layout of one component; face, custom and automatic
/// gravities use `focus` (all in `input` pixels).
pub fn layout_with(r: &SizeRequest, input: Size, focus: &Focus) -> Layout {
    use CropMode::*;
    let Some((bw, bh)) = target_box(r, input) else {
        if let (Crop, None, Some(f)) = (r.mode, r.aspect_ratio, r.focus_region(focus)) {
            // `c_crop,g_face` without a size cuts out the face.
            return crop_to(input, f);
        }
        return ratio_only(r, input, focus);
    };
    let (bw, bh) = (px(bw), px(bh));
    let (iw, ih) = (input.w as f64, input.h as f64);
    let grow = (bw as f64 / iw).max(bh as f64 / ih);
    let fit = (bw as f64 / iw).min(bh as f64 / ih);
    match r.mode {
        Scale => resize_to(input, Size::new(bw, bh)),
        Fit => fit_in(input, bw, bh, fit),
        Limit if input.w <= bw && input.h <= bh => Layout::NONE,
        Limit => fit_in(input, bw, bh, fit),
        Mfit if input.w > bw || input.h > bh => Layout::NONE,
        Mfit => fit_in(input, bw, bh, fit),
        Fill | Auto | Thumb => fill(r, input, bw, bh, focus),
        FillPad | AutoPad => fill_pad(r, input, bw, bh, focus),
        Lfill if grow > 1.0 => {
            // Never upscale: keep the box's proportions at the input's scale.
            let region = region_of_ratio(input, bw as f64 / bh as f64, 1.0);
            let region = Size::new(region.w.min(bw), region.h.min(bh));
            crop_only(r, input, region, focus)
        }
        Lfill => fill(r, input, bw, bh, focus),
        Pad => pad(r, input, bw, bh, fit),
        Lpad => pad(r, input, bw, bh, fit.min(1.0)),
        Mpad if input.w > bw || input.h > bh => Layout::NONE,
        Mpad => pad(r, input, bw, bh, fit),
        Crop => {
            let w = r.width.map_or(input.w, |_| bw).min(input.w);
            let h = r.height.map_or(input.h, |_| bh).min(input.h);
            let w = if r.width.is_none() && r.aspect_ratio.is_some() {
                bw.min(input.w)
            } else {
                w
            };
            let h = if r.height.is_none() && r.aspect_ratio.is_some() {
                bh.min(input.h)
            } else {
                h
            };
            crop_only(r, input, Size::new(w, h), focus)
        }
        ImaggaCrop | ImaggaScale => Layout::NONE,
    }
}

/// `ar_` without `w`/`h`: cropping modes cut to the ratio, pad modes pad
/// out to it, and plain scaling stretches the height.
fn ratio_only(r: &SizeRequest, input: Size, focus: &Focus) -> Layout {
    use CropMode::*;
    let Some(ar) = r.aspect_ratio else {
        return Layout::NONE;
    };
    match r.mode {
        Fill | Lfill | Crop | Thumb | Auto | FillPad | AutoPad => {
            let region = region_of_ratio(input, ar, 1.0);
            crop_only(r, input, region, focus)
        }
        Pad | Lpad | Mpad => {
            let (iw, ih) = (input.w as f64, input.h as f64);
            let canvas = if iw / ih > ar {
                Size::new(input.w, px(iw / ar))
            } else {
                Size::new(px(ih * ar), input.h)
            };
            let (x, y) = place(r, canvas, input);
            Layout {
                crop: None,
                resize: None,
                pad: Some((canvas, x, y)),
            }
        }
        Scale => resize_to(input, Size::new(input.w, px(input.w as f64 / ar))),
        _ => Layout::NONE,
    }
}

fn resize_to(input: Size, to: Size) -> Layout {
    Layout {
        crop: None,
        resize: (to != input).then_some(to),
        pad: None,
    }
}

fn fit_in(input: Size, bw: u32, bh: u32, s: f64) -> Layout {
    let to = Size::new(
        px(input.w as f64 * s).min(bw),
        px(input.h as f64 * s).min(bh),
    );
    resize_to(input, to)
}

/// Crop the input to the box's proportions (never scaling up the region
/// first, which would cost pixels for nothing), then resample to the box.
fn fill(r: &SizeRequest, input: Size, bw: u32, bh: u32, focus: &Focus) -> Layout {
    let ar = bw as f64 / bh as f64;
    let thumb = r.mode == CropMode::Thumb;
    let crop = match r.focus_region(focus).filter(|_| thumb) {
        Some(face) => thumb_region(input, ar, face, r.zoom),
        None => {
            let zoom = if thumb { r.zoom.max(1.0) } else { 1.0 };
            position(r, input, region_of_ratio(input, ar, zoom), focus)
        }
    };
    fill_to(input, crop, bw, bh)
}

fn fill_to(input: Size, crop: Rect, bw: u32, bh: u32) -> Layout {
    let to = Size::new(bw, bh);
    Layout {
        crop: (Size::new(crop.w, crop.h) != input).then_some(crop),
        resize: (Size::new(crop.w, crop.h) != to).then_some(to),
        pad: None,
    }
}

/// `c_thumb` on a face: the region of the box's ratio around the face
/// with [`THUMB_MARGIN`] to spare, `z_` times tighter, kept inside the image.
fn thumb_region(input: Size, ar: f64, face: Region, zoom: f64) -> Rect {
    let need_w = face.w * THUMB_MARGIN / zoom.max(0.01);
    let need_h = face.h * THUMB_MARGIN / zoom.max(0.01);
    let (w, h) = if need_w / need_h > ar {
        (need_w, need_w / ar)
    } else {
        (need_h * ar, need_h)
    };
    let largest = region_of_ratio(input, ar, 1.0);
    let size = if w >= largest.w as f64 || h >= largest.h as f64 {
        largest
    } else {
        Size::new(px(w).min(input.w), px(h).min(input.h))
    };
    centred_on(input, size, face.center())
}

/// A region of `size` centred on `(cx, cy)` as far as the edges allow.
fn centred_on(input: Size, size: Size, (cx, cy): (f64, f64)) -> Rect {
    let free_x = input.w.saturating_sub(size.w) as f64;
    let free_y = input.h.saturating_sub(size.h) as f64;
    Rect {
        x: (cx - size.w as f64 / 2.0).round().clamp(0.0, free_x) as u32,
        y: (cy - size.h as f64 / 2.0).round().clamp(0.0, free_y) as u32,
        w: size.w,
        h: size.h,
    }
}

/// The pixels of a region, rounded outwards and kept inside the image.
fn crop_to(input: Size, f: Region) -> Layout {
    let x0 = f.x.floor().clamp(0.0, input.w as f64 - 1.0);
    let y0 = f.y.floor().clamp(0.0, input.h as f64 - 1.0);
    let x1 = (f.x + f.w).ceil().clamp(x0 + 1.0, input.w as f64);
    let y1 = (f.y + f.h).ceil().clamp(y0 + 1.0, input.h as f64);
    let rect = Rect {
        x: x0 as u32,
        y: y0 as u32,
        w: (x1 - x0) as u32,
        h: (y1 - y0) as u32,
    };
    Layout {
        crop: (Size::new(rect.w, rect.h) != input).then_some(rect),
        resize: None,
        pad: None,
    }
}

/// `c_fill_pad`/`c_auto_pad`: fill with `g_auto`, unless that would cut
/// away more than a fifth of what stands out; then widen the window along
/// the cropped side until it keeps enough, and pad the rest of the box.
fn fill_pad(r: &SizeRequest, input: Size, bw: u32, bh: u32, focus: &Focus) -> Layout {
    let region = region_of_ratio(input, bw as f64 / bh as f64, 1.0);
    let sal = match (&focus.saliency, r.gravity) {
        (Some(s), Gravity::Auto(_)) if s.total() > 0.0 => s,
        _ => return fill(r, input, bw, bh, focus),
    };
    let (iw, ih) = (input.w as f64, input.h as f64);
    let (rw, rh) = (region.w as f64, region.h as f64);
    let mut window = (0.0, 0.0, rw, rh);
    for step in 0..=10 {
        let t = step as f64 / 10.0;
        let (w, h) = (rw + (iw - rw) * t, rh + (ih - rh) * t);
        let (x, y) = sal.best_window(input, w, h);
        window = (x, y, w, h);
        if sal.mass(&Region::new(x, y, w, h)) / sal.total() >= FILL_PAD_KEEP {
            break;
        }
    }
    let (x, y, w, h) = window;
    let (cx, cy) = (
        (x.round() as u32).min(input.w - 1),
        (y.round() as u32).min(input.h - 1),
    );
    let crop = Rect {
        x: cx,
        y: cy,
        w: px(w).min(input.w - cx),
        h: px(h).min(input.h - cy),
    };
    if Size::new(crop.w, crop.h) == region {
        return fill_to(input, crop, bw, bh);
    }
    let s = (bw as f64 / crop.w as f64).min(bh as f64 / crop.h as f64);
    let scaled = Size::new(px(crop.w as f64 * s).min(bw), px(crop.h as f64 * s).min(bh));
    let canvas = Size::new(bw, bh);
    let (px_, py_) = ((bw - scaled.w) / 2, (bh - scaled.h) / 2);
    Layout {
        crop: (Size::new(crop.w, crop.h) != input).then_some(crop),
        resize: (scaled != Size::new(crop.w, crop.h)).then_some(scaled),
        pad: (canvas != scaled).then_some((canvas, px_, py_)),
    }
}

fn pad(r: &SizeRequest, input: Size, bw: u32, bh: u32, s: f64) -> Layout {
    let scaled = Size::new(
        px(input.w as f64 * s).min(bw),
        px(input.h as f64 * s).min(bh),
    );
    let canvas = Size::new(bw, bh);
    let (x, y) = place(r, canvas, scaled);
    Layout {
        crop: None,
        resize: (scaled != input).then_some(scaled),
        pad: (canvas != scaled).then_some((canvas, x, y)),
    }
}

fn crop_only(r: &SizeRequest, input: Size, region: Size, focus: &Focus) -> Layout {
    let rect = position(r, input, region, focus);
    Layout {
        crop: (region != input).then_some(rect),
        resize: None,
        pad: None,
    }
}

/// The largest region of ratio `ar` inside `input`, shrunk by `zoom`.
fn region_of_ratio(input: Size, ar: f64, zoom: f64) -> Size {
    let (iw, ih) = (input.w as f64, input.h as f64);
    let (w, h) = if iw / ih > ar {
        (ih * ar, ih)
    } else {
        (iw, iw / ar)
    };
    Size::new(px(w / zoom).min(input.w), px(h / zoom).min(input.h))
}

/// Where a region of size `inner` sits inside `outer`, by gravity and
/// offsets; always fully inside. Faces and custom coordinates centre the
/// region on themselves, `g_auto` keeps the most salient window; without
/// what they need they fall back to the centre.
fn anchor(r: &SizeRequest, outer: Size, inner: Size, focus: &Focus) -> (u32, u32) {
    let free_x = outer.w.saturating_sub(inner.w) as f64;
    let free_y = outer.h.saturating_sub(inner.h) as f64;
    let (x, y) = match (r.gravity, r.focus_region(focus), &focus.saliency) {
        (_, Some(f), _) => {
            let (cx, cy) = f.center();
            (cx - inner.w as f64 / 2.0, cy - inner.h as f64 / 2.0)
        }
        (Gravity::Auto(_), _, Some(s)) => s.best_window(outer, inner.w as f64, inner.h as f64),
        (g, _, _) => plain_anchor(r, g, free_x, free_y, inner),
    };
    (
        x.round().clamp(0.0, free_x) as u32,
        y.round().clamp(0.0, free_y) as u32,
    )
}

fn plain_anchor(r: &SizeRequest, g: Gravity, free_x: f64, free_y: f64, inner: Size) -> (f64, f64) {
    match g {
        Gravity::XyCenter => (r.x - inner.w as f64 / 2.0, r.y - inner.h as f64 / 2.0),
        Gravity::Compass(c) => {
            let (ax, ay) = c.axes();
            let along = |axis: u8, free: f64, off: f64| match axis {
                0 => off,
                1 => free / 2.0 + off,
                _ => free - off,
            };
            (along(ax, free_x, r.x), along(ay, free_y, r.y))
        }
        // Nothing found for a face, custom or automatic gravity.
        _ => (free_x / 2.0 + r.x, free_y / 2.0 + r.y),
    }
}

fn position(r: &SizeRequest, input: Size, region: Size, focus: &Focus) -> Rect {
    let (x, y) = anchor(r, input, region, focus);
    Rect {
        x,
        y,
        w: region.w,
        h: region.h,
    }
}

fn place(r: &SizeRequest, canvas: Size, image: Size) -> (u32, u32) {
    // Offsets move the crop window, not the padded image.
    let centred = SizeRequest {
        x: 0.0,
        y: 0.0,
        ..*r
    };
    anchor(&centred, canvas, image, &Focus::NONE)
}

#[cfg(test)]
mod tests;
