//! What the pipeline knows about faces and custom coordinates while the
//! picture changes shape: stored coordinates (which override detection)
//! or faces detected once, carried through crops, resizes and pads, and
//! turned into a [`Focus`] for the components that ask.

use nubo_transform::{Component, CropMode, Focus, Gravity, Layout, Region, Size, SizeRequest};

use crate::raster::Raster;
use crate::{faces, saliency};

/// Coordinates stored with an asset, `[x, y, w, h]` in the upright
/// original's pixels. `None` means not stored: faces are then detected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coordinates {
    pub faces: Option<Vec<[u32; 4]>>,
    pub custom: Option<Vec<[u32; 4]>>,
}

/// Faces and custom region in the pixels of the image entering the
/// current component. `faces: None` means unknown (detect when needed).
#[derive(Debug, Clone)]
pub(crate) struct Known {
    faces: Option<Vec<Region>>,
    custom: Option<Region>,
}

fn regions(c: &[[u32; 4]]) -> Vec<Region> {
    c.iter()
        .map(|&[x, y, w, h]| Region::new(x as f64, y as f64, w as f64, h as f64))
        .collect()
}

impl Known {
    pub fn new(c: &Coordinates) -> Known {
        let mut faces = c.faces.as_deref().map(regions);
        if let Some(f) = faces.as_mut() {
            f.sort_by(|a, b| b.area().total_cmp(&a.area()));
        }
        Known {
            faces,
            custom: c
                .custom
                .as_deref()
                .and_then(|c| regions(c).first().copied()),
        }
    }

    /// The faces of `r` (decoded at `r`'s size) in `logical` pixels,
    /// detected on first use.
    pub fn faces(&mut self, r: &Raster, logical: Size) -> &[Region] {
        if self.faces.is_none() {
            let (sx, sy) = (
                logical.w as f64 / r.width as f64,
                logical.h as f64 / r.height as f64,
            );
            let found = faces::detect(r)
                .iter()
                .map(|f| f.moved(0.0, 0.0, sx, sy))
                .collect();
            self.faces = Some(found);
        }
        self.faces.as_deref().unwrap_or_default()
    }

    /// The stored custom region, where it still is.
    pub fn custom(&self) -> Option<Region> {
        self.custom
    }

    /// What component `c` focuses on; empty unless its gravity needs it.
    pub fn focus(&mut self, req: &SizeRequest, r: &Raster, logical: Size) -> Focus {
        let mut focus = Focus::default();
        match req.gravity {
            Gravity::Face { .. } => focus.faces = self.faces(r, logical).to_vec(),
            Gravity::Custom => focus.custom = self.custom,
            Gravity::Auto(_) if crops(req.mode) => {
                let faces = self.faces(r, logical).to_vec();
                let (sx, sy) = (
                    r.width as f64 / logical.w as f64,
                    r.height as f64 / logical.h as f64,
                );
                let in_r: Vec<Region> = faces.iter().map(|f| f.moved(0.0, 0.0, sx, sy)).collect();
                focus.saliency = saliency::saliency(r, &in_r, logical);
                focus.faces = faces;
            }
            _ => {}
        }
        focus
    }

    /// Carries what is known through a layout applied to an image of
    /// `input` pixels.
    pub fn after_layout(&mut self, l: &Layout, input: Size) {
        if *l == Layout::NONE {
            return;
        }
        let (cx, cy, cw, ch) = l
            .crop
            .map_or((0, 0, input.w, input.h), |k| (k.x, k.y, k.w, k.h));
        let scaled = l.resize.unwrap_or(Size::new(cw, ch));
        let (sx, sy) = (scaled.w as f64 / cw as f64, scaled.h as f64 / ch as f64);
        let (px, py) = l.pad.map_or((0, 0), |(_, x, y)| (x, y));
        let out = l.output(input);
        let map = |r: &Region| {
            r.moved(cx as f64, cy as f64, sx, sy)
                .moved(-(px as f64), -(py as f64), 1.0, 1.0)
                .clipped(out)
        };
        if let Some(f) = self.faces.as_mut() {
            *f = f.iter().filter_map(map).collect();
        }
        self.custom = self.custom.as_ref().and_then(map);
    }

    /// The picture was trimmed at `(x, y)` to `size`.
    pub fn after_crop(&mut self, x: u32, y: u32, size: Size) {
        self.after_shift(x as f64, y as f64, size);
    }

    /// The picture now starts at `(x, y)` of the old one (negative when it
    /// grew) and has `size`.
    pub fn after_shift(&mut self, x: f64, y: f64, size: Size) {
        let map = |r: &Region| r.moved(x, y, 1.0, 1.0).clipped(size);
        if let Some(f) = self.faces.as_mut() {
            *f = f.iter().filter_map(map).collect();
        }
        self.custom = self.custom.as_ref().and_then(map);
    }

    /// The geometry changed in a way not tracked (rotation, border): faces
    /// are detected again if asked for, custom coordinates are lost.
    pub fn forget(&mut self) {
        self.faces = None;
        self.custom = None;
    }
}

/// Modes in which `g_auto` chooses a crop window.
fn crops(mode: CropMode) -> bool {
    use CropMode::*;
    matches!(mode, Fill | Lfill | Crop | Thumb | Auto | FillPad | AutoPad)
}

/// Whether a component's first sizing step may decode reduced: a face
/// thumbnail's scale depends on where the face is, so it may not.
pub(crate) fn allows_reduce(c: &Component) -> bool {
    !matches!(
        (c.crop, c.gravity),
        (
            Some(CropMode::Thumb | CropMode::Crop),
            Some(Gravity::Face { .. } | Gravity::Custom)
        )
    )
}
