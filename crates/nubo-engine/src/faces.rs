//! Face detection with SeetaFace's funnel-structured cascade (the
//! `rustface` port) and its frontal model, compiled into the binary so
//! nothing is fetched at run time.
//!
//! The detector only ever sees a grayscale buffer this module allocates
//! from decoded pixels, at most [`DETECT_SIDE`] pixels on its long side:
//! its cost is bounded and no uploaded byte reaches it.

use std::sync::OnceLock;

use nubo_transform::Region;

use crate::raster::Raster;
use crate::resize;

static MODEL_BYTES: &[u8] = include_bytes!("../models/seeta_fd_frontal_v1.0.bin");

/// The long side of the picture the detector runs on. Faces smaller than
/// [`MIN_FACE`] at this scale (about 3% of the long side) are not found.
pub const DETECT_SIDE: u32 = 640;
const MIN_FACE: u32 = 20;
/// The cascade's score cut: measured on the dlib/PASCAL set (see
/// `examples/face_eval.rs`), 2.0 gives the best recall at ~0.98 precision.
const SCORE_THRESHOLD: f64 = 2.0;

fn model() -> Option<&'static rustface::Model> {
    static MODEL: OnceLock<Option<rustface::Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| rustface::read_model(std::io::Cursor::new(MODEL_BYTES)).ok())
        .as_ref()
}

/// The faces in `r`, in its pixels, largest first.
pub fn detect(r: &Raster) -> Vec<Region> {
    let Some(model) = model() else {
        tracing::error!("the face model failed to load");
        return Vec::new();
    };
    let long = r.width.max(r.height);
    let s = (DETECT_SIDE as f64 / long as f64).min(1.0);
    let (w, h) = (
        ((r.width as f64 * s).round() as u32).max(1),
        ((r.height as f64 * s).round() as u32).max(1),
    );
    if w < MIN_FACE || h < MIN_FACE {
        return Vec::new();
    }
    let gray = if s < 1.0 {
        match resize::resample(r, None, w, h) {
            Ok(small) => luma(&small),
            Err(_) => return Vec::new(),
        }
    } else {
        luma(r)
    };
    let mut detector = rustface::create_detector_with_model(model.clone());
    detector.set_min_face_size(MIN_FACE);
    detector.set_score_thresh(SCORE_THRESHOLD);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    let found = detector.detect(&rustface::ImageData::new(&gray, w, h));
    let (sx, sy) = (r.width as f64 / w as f64, r.height as f64 / h as f64);
    let size = nubo_transform::Size::new(r.width, r.height);
    let mut faces: Vec<Region> = found
        .iter()
        .filter_map(|f| {
            let b = f.bbox();
            Region::new(
                b.x() as f64 * sx,
                b.y() as f64 * sy,
                b.width() as f64 * sx,
                b.height() as f64 * sy,
            )
            .clipped(size)
        })
        .collect();
    faces.sort_by(|a, b| b.area().total_cmp(&a.area()));
    faces
}

/// Rec. 709 weights: on the labelled set they find two more faces than
/// BT.601's, with no false positive more.
fn luma(r: &Raster) -> Vec<u8> {
    let c = r.channels as usize;
    r.data
        .chunks_exact(c)
        .map(|p| ((2126 * p[0] as u32 + 7152 * p[1] as u32 + 722 * p[2] as u32) / 10000) as u8)
        .collect()
}

/// Faces as the Upload and Admin APIs report them: `[x, y, w, h]` in
/// whole pixels.
pub fn to_coordinates(faces: &[Region]) -> Vec<[u32; 4]> {
    faces
        .iter()
        .map(|f| {
            [
                f.x.round() as u32,
                f.y.round() as u32,
                f.w.round().max(1.0) as u32,
                f.h.round().max(1.0) as u32,
            ]
        })
        .collect()
}
