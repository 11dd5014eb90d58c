//! `q_auto`: the lowest encoder quality whose output still reaches the
//! level's perceptual target, measured with SSIMULACRA2.
//!
//! The search runs on the final picture scaled down to at most 512 pixels
//! a side (Lanczos), so each trial is a small encode, a decode by our own
//! decoder and one metric pass. Measured on 30 corpus photos rendered at
//! 1024 px (`engine_bench calibrate`), the score of the reduced copy
//! predicts the score of the whole picture to within 1.3 ± 2.7 points
//! (JPEG) and 0.7 ± 2.6 (WebP) at every quality from 40 to 80, where a
//! mosaic of full-resolution tiles missed WebP by 5 ± 9 points: libwebp
//! tunes its quantisers to the whole picture's segments.

use nubo_core::Format;
use nubo_transform::{AutoQuality, Chroma};
use ssimulacra2::{compute_frame_ssimulacra2, ColorPrimaries, Rgb, TransferCharacteristic};

use crate::decode::{decode, DecodeRequest};
use crate::encode::{encode, EncodeOptions};
use crate::error::Result;
use crate::raster::{Picture, Raster};
use crate::EngineLimits;

/// The long side of the copy the search measures.
const SAMPLE_SIDE: u32 = 512;

/// The lowest and highest quality the search may pick.
const RANGE: (u8, u8) = (30, 95);

/// SSIMULACRA2 each level aims at. 90 is visually lossless at normal
/// viewing, 70 is "high quality" in the metric's own calibration; `good`
/// is where libvips' JPEG at quality 80 lands on the corpus on average
/// (78.4, `bench/qauto.sh`).
pub fn target(level: AutoQuality) -> f64 {
    match level {
        AutoQuality::Best => 88.0,
        AutoQuality::Good => 78.0,
        AutoQuality::Eco => 72.0,
        AutoQuality::Low => 65.0,
    }
}

/// What the search chose, and what it measured there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    pub quality: u8,
    /// JPEG chroma subsampling, when the search picked it.
    pub chroma: Option<Chroma>,
    pub score: f64,
    /// Bytes of the sample at the chosen settings.
    pub sample_bytes: usize,
    pub trials: u32,
}

/// Whether `q_auto` is measured for this encoder: JPEG and WebP trials
/// are read back by our own decoders, AVIF trials are the encoder's own
/// reconstruction (`avif_trial`).
pub fn measurable(format: Format) -> bool {
    matches!(format, Format::Jpg | Format::Webp | Format::Avif)
}

/// Above this 4:2:0 quality a JPEG search tries 4:4:4 too: pictures with
/// fine colour edges reach the target sooner, and smaller, without
/// subsampling.
const TRY_444_ABOVE: u8 = 85;

/// The lowest quality in [`RANGE`] whose sample scores at least the
/// level's target (the best score when none does); for JPEG, the smaller
/// of the 4:2:0 and 4:4:4 answers when both are tried.
pub fn choose(
    r: &Raster,
    opts: &EncodeOptions,
    level: AutoQuality,
    limits: &EngineLimits,
) -> Result<Choice> {
    let want = target(level);
    let original = sample(&r.flatten(opts.background))?;
    let trial = Trial {
        original: &original,
        reference: frame(&original),
        limits,
    };
    if opts.format != Format::Jpg {
        return trial.search(*opts, want);
    }
    let with = |chroma| EncodeOptions {
        chroma: Some(chroma),
        ..*opts
    };
    let sub = trial.search(with(Chroma::C420), want)?;
    if sub.score >= want && sub.quality <= TRY_444_ABOVE {
        return Ok(sub);
    }
    let full = trial.search(with(Chroma::C444), want)?;
    let trials = sub.trials + full.trials;
    let pick = match (sub.score >= want, full.score >= want) {
        (true, true) if full.sample_bytes < sub.sample_bytes => full,
        (true, _) => sub,
        (false, true) => full,
        (false, false) if full.score > sub.score => full,
        (false, false) => sub,
    };
    Ok(Choice { trials, ..pick })
}

/// One sample and its reference frame, encoded and scored per setting.
struct Trial<'a> {
    original: &'a Raster,
    reference: Rgb,
    limits: &'a EngineLimits,
}

impl Trial<'_> {
    fn score(&self, o: &EncodeOptions) -> Result<(f64, usize)> {
        let (bytes, got) = if o.format == Format::Avif {
            crate::avif_trial::encode_and_reconstruct(self.original, o.quality, o.avif_speed)?
        } else {
            let bytes = encode(&Picture::still(self.original.clone()), o)?;
            let back = decode(&bytes, &DecodeRequest::new(o.format), self.limits)?;
            (bytes.len(), back.picture.first().flatten(o.background))
        };
        let s = compute_frame_ssimulacra2(self.reference.clone(), frame(&got)).unwrap_or(0.0);
        Ok((s, bytes))
    }

    /// Finds the lowest quality that reaches `want` to within
    /// [`STEP`] steps: a bracket around the target, narrowed by linear
    /// interpolation between its ends (scores rise smoothly with quality),
    /// so 3–5 trials usually do.
    fn search(&self, opts: EncodeOptions, want: f64) -> Result<Choice> {
        let at =
            |q: u8| -> Result<(f64, usize)> { self.score(&EncodeOptions { quality: q, ..opts }) };
        // (quality, score, bytes) below and at or above the target.
        let mut below: Option<(u8, f64, usize)> = None;
        let mut above: Option<(u8, f64, usize)> = None;
        let mut guess = START;
        let mut trials = 0;
        while trials < MAX_TRIALS {
            let (s, bytes) = at(guess)?;
            trials += 1;
            if s >= want {
                above = Some((guess, s, bytes));
            } else {
                below = Some((guess, s, bytes));
            }
            guess = match (below, above) {
                (Some(b), Some(a)) if a.0 - b.0 <= STEP => break,
                (Some(b), Some(a)) => {
                    let t = (want - b.1) / (a.1 - b.1).max(1e-6);
                    let q = b.0 as f64 + t * (a.0 - b.0) as f64;
                    (q.ceil() as u8).clamp(b.0 + 1, a.0 - 1)
                }
                (None, Some(a)) if a.0 == RANGE.0 => break,
                (Some(b), None) if b.0 == RANGE.1 => break,
                (None, Some(a)) => step(a.0, (want - a.1) / SLOPE),
                (Some(b), None) => step(b.0, (want - b.1) / SLOPE),
                (None, None) => unreachable!("a trial ran"),
            };
        }
        // The target reached, or else the best that was measured.
        let (quality, score, sample_bytes) = above.or(below).expect("a trial ran");
        Ok(Choice {
            quality,
            chroma: opts.chroma,
            score,
            sample_bytes,
            trials,
        })
    }
}

/// Where the search starts, and the score it expects per quality step
/// (typical for JPEG and WebP between 50 and 90) before it has two points.
const START: u8 = 80;
const SLOPE: f64 = 0.6;
/// Close enough: the answer is at most this many steps above the lowest.
const STEP: u8 = 2;
const MAX_TRIALS: u32 = 7;

/// `from` moved by `by` quality steps (at least one), inside [`RANGE`].
fn step(from: u8, by: f64) -> u8 {
    let by = if by >= 0.0 {
        by.ceil().max(1.0)
    } else {
        by.floor().min(-1.0)
    };
    (from as f64 + by).clamp(RANGE.0 as f64, RANGE.1 as f64) as u8
}

/// SSIMULACRA2 of `distorted` against `reference` (same size, RGB or
/// RGBA read as RGB).
pub fn score(reference: &Raster, distorted: &Raster) -> f64 {
    compute_frame_ssimulacra2(frame(reference), frame(distorted)).unwrap_or(0.0)
}

fn frame(r: &Raster) -> Rgb {
    let px = r
        .data
        .chunks_exact(r.channels as usize)
        .map(|p| {
            [
                p[0] as f32 / 255.0,
                p[1] as f32 / 255.0,
                p[2] as f32 / 255.0,
            ]
        })
        .collect();
    Rgb::new(
        px,
        r.width as usize,
        r.height as usize,
        TransferCharacteristic::SRGB,
        ColorPrimaries::BT709,
    )
    .expect("a frame of the raster's own size")
}

/// The picture itself when small; else a copy scaled down to
/// [`SAMPLE_SIDE`].
pub fn sample(r: &Raster) -> Result<Raster> {
    let long = r.width.max(r.height);
    if long <= SAMPLE_SIDE {
        return Ok(r.clone());
    }
    let scale = SAMPLE_SIDE as f64 / long as f64;
    let w = ((r.width as f64 * scale).round() as u32).max(1);
    let h = ((r.height as f64 * scale).round() as u32).max(1);
    crate::resize::resample(r, None, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo() -> Raster {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/faces/");
        let img = image::open(format!("{dir}2008_002506.jpg"))
            .unwrap()
            .to_rgb8();
        let r = Raster::new(img.width(), img.height(), 3, img.into_raw());
        // 1000×750: larger than the sample, as most deliveries are.
        crate::resize::resample(&r, None, 1000, 750).unwrap()
    }

    /// A smooth gradient smaller than the sample.
    fn gradient() -> Raster {
        let (w, h) = (400u32, 300u32);
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 128]);
            }
        }
        Raster::new(w, h, 3, data)
    }

    #[test]
    fn thorough_encodes_are_worth_their_time() {
        let r = photo();
        let limits = EngineLimits::default();
        let trial = Trial {
            original: &r,
            reference: frame(&r),
            limits: &limits,
        };
        for format in [Format::Jpg, Format::Webp] {
            let mut o = EncodeOptions::new(format);
            let (plain_score, plain) = trial.score(&o).unwrap();
            o.thorough = true;
            let (score, bytes) = trial.score(&o).unwrap();
            // mozjpeg saves bytes at the same quality. On a photo libwebp's
            // method 6 with sharp YUV is about even; across the corpus it
            // is what takes q_auto's WebP from 1.22x to 1.06x libvips.
            match format {
                Format::Jpg => assert!(bytes * 100 < plain * 95, "{bytes} vs {plain}"),
                _ => assert!(bytes <= plain, "{bytes} vs {plain}"),
            }
            assert!(
                score > plain_score - 1.0,
                "{format:?}: {score} vs {plain_score}"
            );
        }
    }

    #[test]
    fn the_sample_is_the_picture_scaled_down() {
        let r = photo();
        let s = sample(&r).unwrap();
        assert_eq!((s.width, s.height), (512, 384));
        let small = gradient();
        assert_eq!(
            sample(&small).unwrap().data,
            small.data,
            "small pictures are used whole"
        );
    }

    #[test]
    fn the_choice_reaches_the_target_and_follows_the_level() {
        let limits = EngineLimits::default();
        for format in [Format::Jpg, Format::Webp, Format::Avif] {
            let opts = EncodeOptions::new(format);
            let r = photo();
            let c = choose(&r, &opts, AutoQuality::Good, &limits).unwrap();
            assert!(c.score >= target(AutoQuality::Good), "{format:?} {c:?}");
            assert!(c.trials <= 2 * MAX_TRIALS, "{c:?}");
            assert!(
                c.quality < RANGE.1,
                "a photo needs less than the top: {c:?}"
            );
            // Levels order the choices.
            let best = choose(&r, &opts, AutoQuality::Best, &limits).unwrap();
            let low = choose(&r, &opts, AutoQuality::Low, &limits).unwrap();
            assert!(
                low.quality <= c.quality && c.quality <= best.quality,
                "{format:?}"
            );
            assert!(low.quality < best.quality, "{format:?}: {low:?} {best:?}");
        }
    }
}
