//! What content-aware gravities know about the image entering a component,
//! and the pure maths that turns it into a crop window: faces and custom
//! coordinates as regions, `g_auto` as an importance map over a grid.
//!
//! The engine measures (detects faces, scores pixels); this module only
//! decides, so every placement rule is testable without pixels.

use super::Size;

/// A rectangle in input pixels, fractional so that it survives scaling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Region {
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> Region {
        Region { x, y, w, h }
    }

    pub fn center(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    pub fn area(&self) -> f64 {
        self.w * self.h
    }

    /// The smallest region holding both.
    pub fn union(&self, o: &Region) -> Region {
        let x = self.x.min(o.x);
        let y = self.y.min(o.y);
        let r = (self.x + self.w).max(o.x + o.w);
        let b = (self.y + self.h).max(o.y + o.h);
        Region::new(x, y, r - x, b - y)
    }

    /// This region after the image was cropped at `(x, y)` then scaled.
    pub fn moved(&self, dx: f64, dy: f64, sx: f64, sy: f64) -> Region {
        Region::new(
            (self.x - dx) * sx,
            (self.y - dy) * sy,
            self.w * sx,
            self.h * sy,
        )
    }

    /// Clipped to `size`; `None` when nothing of it is left.
    pub fn clipped(&self, size: Size) -> Option<Region> {
        let x = self.x.max(0.0);
        let y = self.y.max(0.0);
        let r = (self.x + self.w).min(size.w as f64);
        let b = (self.y + self.h).min(size.h as f64);
        (r - x >= 1.0 && b - y >= 1.0).then(|| Region::new(x, y, r - x, b - y))
    }
}

/// Importance of each cell of a grid laid over the image: how much a crop
/// should want to keep it. Only the contrast matters; the engine makes
/// the weights, [`Saliency::new`] keeps what stands above the average.
#[derive(Debug, Clone, PartialEq)]
pub struct Saliency {
    cols: usize,
    rows: usize,
    /// Input pixels per cell on each axis.
    cell_w: f64,
    cell_h: f64,
    /// Summed-area table, `(cols + 1) × (rows + 1)`.
    table: Vec<f64>,
}

impl Saliency {
    /// `weights` is row-major `cols × rows`, covering an input of `input`.
    /// Weights at or below the mean count for nothing: a crop is drawn to
    /// what stands out, not to evenly spread texture.
    pub fn new(cols: usize, rows: usize, weights: &[f32], input: Size) -> Option<Saliency> {
        if cols == 0 || rows == 0 || weights.len() != cols * rows {
            return None;
        }
        let mean = weights.iter().map(|&w| w as f64).sum::<f64>() / weights.len() as f64;
        let stride = cols + 1;
        let mut table = vec![0.0; stride * (rows + 1)];
        for y in 0..rows {
            let mut row = 0.0;
            for x in 0..cols {
                let w = weights[y * cols + x] as f64;
                row += if w.is_finite() {
                    (w - mean).max(0.0)
                } else {
                    0.0
                };
                table[(y + 1) * stride + x + 1] = table[y * stride + x + 1] + row;
            }
        }
        Some(Saliency {
            cols,
            rows,
            cell_w: input.w as f64 / cols as f64,
            cell_h: input.h as f64 / rows as f64,
            table,
        })
    }

    /// The importance inside a region of input pixels.
    pub fn mass(&self, r: &Region) -> f64 {
        let (x0, x1) = (r.x / self.cell_w, (r.x + r.w) / self.cell_w);
        let (y0, y1) = (r.y / self.cell_h, (r.y + r.h) / self.cell_h);
        self.at(x1, y1) - self.at(x0, y1) - self.at(x1, y0) + self.at(x0, y0)
    }

    pub fn total(&self) -> f64 {
        self.table[self.table.len() - 1]
    }

    /// The summed-area table at fractional cell coordinates, bilinear.
    fn at(&self, x: f64, y: f64) -> f64 {
        let x = x.clamp(0.0, self.cols as f64);
        let y = y.clamp(0.0, self.rows as f64);
        let (xi, yi) = (x.floor() as usize, y.floor() as usize);
        let (fx, fy) = (x - xi as f64, y - yi as f64);
        let stride = self.cols + 1;
        let t = |cx: usize, cy: usize| self.table[cy.min(self.rows) * stride + cx.min(self.cols)];
        let top = t(xi, yi) * (1.0 - fx) + t(xi + 1, yi) * fx;
        let bottom = t(xi, yi + 1) * (1.0 - fx) + t(xi + 1, yi + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// Where a `w × h` window inside `input` keeps the most importance.
    /// Ties (a flat map included) go to the window nearest the centre.
    pub fn best_window(&self, input: Size, w: f64, h: f64) -> (f64, f64) {
        let free_x = (input.w as f64 - w).max(0.0);
        let free_y = (input.h as f64 - h).max(0.0);
        let steps = |free: f64, cell: f64| ((free / (cell / 2.0)).ceil() as usize).clamp(1, 400);
        let (nx, ny) = (steps(free_x, self.cell_w), steps(free_y, self.cell_h));
        let total = self.total().max(f64::MIN_POSITIVE);
        let mut best = (f64::NEG_INFINITY, free_x / 2.0, free_y / 2.0);
        for j in 0..=ny {
            let y = free_y * j as f64 / ny as f64;
            for i in 0..=nx {
                let x = free_x * i as f64 / nx as f64;
                let kept = self.mass(&Region::new(x, y, w, h)) / total;
                // Off-centre costs a little, so only real content moves
                // the window.
                let off = ((x - free_x / 2.0) / input.w as f64).abs()
                    + ((y - free_y / 2.0) / input.h as f64).abs();
                let score = kept - 0.02 * off;
                if score > best.0 + 1e-12 {
                    best = (score, x, y);
                }
            }
        }
        (best.1, best.2)
    }
}

/// What a component's gravity can focus on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Focus {
    /// Faces, largest first.
    pub faces: Vec<Region>,
    /// The stored custom coordinates (the first region).
    pub custom: Option<Region>,
    /// The importance map for `g_auto`.
    pub saliency: Option<Saliency>,
}

impl Focus {
    pub const NONE: Focus = Focus {
        faces: Vec::new(),
        custom: None,
        saliency: None,
    };

    /// The largest face, or the box around all of them.
    pub fn faces_region(&self, all: bool) -> Option<Region> {
        let first = *self.faces.first()?;
        if !all {
            return Some(first);
        }
        Some(self.faces.iter().fold(first, |acc, f| acc.union(f)))
    }
}

/// How much larger than the face a `c_thumb` region is at `z_1`: the face
/// takes about 60% of the thumbnail's width.
pub const THUMB_MARGIN: f64 = 1.7;

/// The share of the salient mass a `fill_pad` crop must keep before it
/// pads instead.
pub const FILL_PAD_KEEP: f64 = 0.8;
