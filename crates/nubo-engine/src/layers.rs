//! Layers (§9.4): the pixels a layer starts from (a stored image the
//! service read for us, a remote image it fetched under the SSRF rules,
//! or text drawn here), the component that transforms it, and how it
//! meets the picture: position, canvas growth, tiles, blend.

use std::collections::HashMap;

use nubo_core::Format;
use nubo_transform::geometry::place::{self, Spot};
use nubo_transform::layer::{LayerSource, TextStyle, TextStyleRef};
use nubo_transform::{
    Background, BlendMode, Color, Component, CropMode, Dim, Effect, Flag, Gravity, LayerSide,
    Region, Size,
};

use crate::decode::{decode, DecodeRequest};
use crate::error::{EngineError, Result};
use crate::focus::{Coordinates, Known};
use crate::raster::{Picture, Raster};
use crate::text::{self, TextPaint};
use crate::EngineLimits;

/// An image a layer names, as the service found it.
#[derive(Debug, Clone)]
pub struct LayerImage {
    pub bytes: bytes::Bytes,
    pub format: Format,
    pub coordinates: Coordinates,
}

/// What the service resolved for a job's layers: images by their
/// source's canonical text, stored text styles by public id.
#[derive(Debug, Clone, Default)]
pub struct LayerInputs {
    images: HashMap<String, LayerImage>,
    styles: HashMap<String, TextStyle>,
    /// Font files by public id, for text styles that name one.
    fonts: HashMap<String, bytes::Bytes>,
}

impl LayerInputs {
    pub fn add_image(&mut self, source: &LayerSource, image: LayerImage) {
        self.images.insert(source.to_string(), image);
    }

    pub fn add_style(&mut self, public_id: &str, style: TextStyle) {
        self.styles.insert(public_id.to_owned(), style);
    }

    pub fn add_font(&mut self, public_id: &str, font: bytes::Bytes) {
        self.fonts.insert(public_id.to_owned(), font);
    }
}

/// Flags that steer a layer rather than transform it.
const LAYER_FLAGS: &[Flag] = &[
    Flag::LayerApply,
    Flag::Relative,
    Flag::RegionRelative,
    Flag::Tiled,
    Flag::NoOverflow,
    Flag::Cutter,
];

/// A layer ready for its own components: its pixels, what is known of
/// its faces, and the opening component's part that transforms it.
pub(crate) struct Prepared {
    pub picture: Picture,
    pub known: Known,
    pub part: Component,
}

/// The opening component, less what names and places the layer, with
/// relative sizes turned into pixels of `base` (or of the face region).
fn layer_part(
    open: &Component,
    self_contained: bool,
    base: Size,
    region: Option<Region>,
) -> Component {
    let mut part = open.clone();
    part.layer = None;
    part.flags.retain(|f| !LAYER_FLAGS.contains(f));
    if self_contained {
        part.gravity = None;
        part.x = None;
        part.y = None;
        if matches!(part.effect, Some(Effect::Blend(_))) {
            part.effect = None;
        }
    }
    let against = match (region, open.has_flag(&Flag::RegionRelative)) {
        (Some(r), true) => Some((r.w, r.h)),
        _ if open.has_flag(&Flag::Relative) => Some((base.w as f64, base.h as f64)),
        _ => None,
    };
    if let Some((w, h)) = against {
        relative_to(&mut part, w, h);
    }
    part
}

/// Turns `w`/`h` fractions into pixels of a `w`×`h` picture.
fn relative_to(c: &mut Component, w: f64, h: f64) {
    let px = |d: Option<Dim>, full: f64| match d {
        Some(Dim::Rel(f)) => Some(Dim::Px(((f * full).round() as u32).max(1))),
        other => other,
    };
    c.width = px(c.width, w);
    c.height = px(c.height, h);
}

/// A component inside a layer with `fl_relative`: its fractions are of
/// the picture `under` the layer.
pub(crate) fn inner_relative(c: &Component, under: Size) -> Option<Component> {
    if !c.has_flag(&Flag::Relative) {
        return None;
    }
    let mut c = c.clone();
    c.flags.retain(|f| *f != Flag::Relative);
    relative_to(&mut c, under.w as f64, under.h as f64);
    Some(c)
}

/// A layer's source, read once however many places it goes.
pub(crate) enum Source<'a> {
    /// Every frame of an animated layer.
    Image { picture: Picture, known: Known },
    /// The text after `$(name)` variables are put in.
    Text {
        style: &'a TextStyle,
        text: std::borrow::Cow<'a, str>,
        /// The style's font file, parsed, when it names one.
        font: Option<text::CustomFont>,
    },
}

impl<'a> Source<'a> {
    /// Decodes the layer's image (every frame) or finds its style.
    /// `all_frames` when the output can animate; else the first frame.
    pub fn read(
        open: &'a Component,
        inputs: &'a LayerInputs,
        limits: &EngineLimits,
        all_frames: bool,
    ) -> Result<Self> {
        let layer = open.layer.as_ref().expect("a layer component");
        match &layer.source {
            LayerSource::Text { style, text } => {
                let style = match style {
                    TextStyleRef::Inline(s) => s,
                    TextStyleRef::Stored(id) => inputs.styles.get(id).ok_or_else(|| {
                        EngineError::BadRequest(format!("Text style {id} not found"))
                    })?,
                };
                let font = match style.font_asset() {
                    Some(id) => {
                        let file = inputs.fonts.get(&id).ok_or_else(|| {
                            EngineError::BadRequest(format!("Font {id} not found"))
                        })?;
                        Some(text::CustomFont::parse(file)?)
                    }
                    None => None,
                };
                Ok(Source::Text {
                    style,
                    text: text.as_str().into(),
                    font,
                })
            }
            source => {
                let key = source.to_string();
                let image = inputs
                    .images
                    .get(&key)
                    .ok_or_else(|| EngineError::BadRequest(format!("Layer {key} not found")))?;
                let mut req = DecodeRequest::new(image.format);
                req.all_frames = all_frames;
                let decoded = decode(&image.bytes, &req, limits)?;
                if decoded.picture.frames.is_empty() {
                    return Err(EngineError::InvalidImage(format!(
                        "Layer {key} has no frames"
                    )));
                }
                Ok(Source::Image {
                    picture: decoded.picture,
                    known: Known::new(&image.coordinates),
                })
            }
        }
    }
}

/// The layer for one place: its pixels (text is drawn here, since its
/// wrapping width may be relative to the place) and its part.
pub(crate) fn prepare(
    source: &Source,
    open: &Component,
    self_contained: bool,
    base: Size,
    region: Option<Region>,
    limits: &EngineLimits,
) -> Result<Prepared> {
    let mut part = layer_part(open, self_contained, base, region);
    Ok(match source {
        Source::Text { style, text, font } => {
            let mut paint = text_paint(style, &mut part);
            paint.font = font.clone();
            Prepared {
                picture: Picture::still(text::render(style, text, &paint, limits)?),
                known: Known::new(&Coordinates::default()),
                part,
            }
        }
        Source::Image { picture, known } => Prepared {
            picture: picture.clone(),
            known: known.clone(),
            part,
        },
    })
}

/// Text takes its colour, background and stroke from the component, and
/// `c_fit` with `w`/`h` wraps it instead of scaling it.
fn text_paint(style: &TextStyle, part: &mut Component) -> TextPaint {
    let mut paint = TextPaint::new(part.color.take().unwrap_or(Color::BLACK));
    paint.no_trim = part.has_flag(&Flag::TextNoTrim);
    paint.disallow_overflow = part.has_flag(&Flag::TextDisallowOverflow);
    part.flags
        .retain(|f| !matches!(f, Flag::TextNoTrim | Flag::TextDisallowOverflow));
    if let Some(Background::Color(bg)) = part.background {
        paint.background = Some(bg);
        part.background = None;
    }
    if style.stroke {
        let b = part.border.take();
        paint.stroke = Some(b.map_or((1, Color::BLACK), |b| (b.width, b.color)));
    }
    if part.crop == Some(CropMode::Fit) {
        let px = |d: Option<Dim>| match d {
            Some(Dim::Px(n)) => Some(n),
            _ => None,
        };
        paint.wrap_width = px(part.width);
        paint.max_height = px(part.height);
        part.crop = None;
        part.width = None;
        part.height = None;
    }
    paint
}

/// Where a layer goes: each detected face for `g_faces`, the largest for
/// `g_face`, the custom box for `g_custom` (nowhere when there is none);
/// `None` means the whole picture.
pub(crate) fn regions(
    placement: &Component,
    known: &mut Known,
    first: &Raster,
) -> Vec<Option<Region>> {
    let size = Size::new(first.width, first.height);
    match placement.gravity {
        Some(Gravity::Face {
            all,
            center_fallback,
        }) => {
            let faces = known.faces(first, size);
            match (faces.is_empty(), all) {
                (true, _) if center_fallback => vec![None],
                (true, _) => Vec::new(),
                (false, true) => faces.iter().copied().map(Some).collect(),
                (false, false) => vec![Some(faces[0])],
            }
        }
        Some(Gravity::Custom) => known.custom().map(Some).into_iter().collect(),
        _ => vec![None],
    }
}

/// The keys of a `fl_layer_apply` component that place the layer; the
/// rest of it runs on the result like any component.
pub(crate) fn after_apply(apply: &Component) -> Component {
    let mut rest = apply.clone();
    rest.gravity = None;
    rest.x = None;
    rest.y = None;
    rest.flags.retain(|f| !LAYER_FLAGS.contains(f));
    if matches!(rest.effect, Some(Effect::Blend(_))) {
        rest.effect = None;
    }
    rest
}

/// Puts `layer` over (or under) every frame of `base` as `placement`
/// says, growing the canvas unless `fl_no_overflow` or `fl_tiled`.
pub(crate) fn place(
    base: Picture,
    layer: &Picture,
    placement: &Component,
    side: LayerSide,
    region: Option<Region>,
    known: &mut Known,
    limits: &EngineLimits,
) -> Result<(Picture, Spot)> {
    let max_pixels = limits.max_output_pixels;
    let base = frames_for(base, layer, limits)?;
    let b = Size::new(base.width(), base.height());
    let l = Size::new(layer.width(), layer.height());
    let gravity = match placement.gravity {
        Some(Gravity::Face { .. } | Gravity::Custom) if region.is_none() => None,
        g => g,
    };
    let tiled = placement.has_flag(&Flag::Tiled);
    let mut blend = match placement.effect {
        // `fl_cutter` is the mask blend: the picture stays where the layer
        // is opaque.
        _ if placement.has_flag(&Flag::Cutter) => Some(BlendMode::Mask),
        Some(Effect::Blend(m)) if side == LayerSide::Over => Some(m),
        _ => None,
    };
    let warped;
    let layer = match blend {
        Some(BlendMode::AntiRemoval(level)) => {
            warped = layer
                .clone()
                .try_map(|f| Ok::<_, EngineError>(crate::displace::anti_removal(&f, level)))?;
            blend = None;
            &warped
        }
        _ => layer,
    };
    let displace = blend == Some(BlendMode::Displace);
    // Tiles read x and y as the gaps between them, a displacement map as
    // how far it moves pixels.
    let (x, y) = if tiled || displace {
        (None, None)
    } else {
        (placement.x, placement.y)
    };
    let spot = place::position(b, l, gravity, x, y, region);
    let spots = if tiled {
        let gap = |o| match o {
            Some(nubo_transform::Offset::Px(n)) => n as i64,
            _ => 0,
        };
        place::tiles(b, l, spot, (gap(placement.x), gap(placement.y)))
    } else {
        vec![spot]
    };
    let overflow = !tiled && !placement.has_flag(&Flag::NoOverflow) && blend.is_none();
    let (canvas, at) = place::canvas(b, l, spot, overflow);
    if canvas.w as u64 * canvas.h as u64 > max_pixels {
        return Err(EngineError::TooLarge(format!(
            "Layer placement makes a {}x{} canvas, over the limit of {max_pixels} pixels",
            canvas.w, canvas.h
        )));
    }
    if canvas != b {
        known.after_shift(-at.x as f64, -at.y as f64, canvas);
    }
    // Frame i of the picture gets frame i of the layer, which loops.
    let mut index = 0;
    let out = base.try_map(|frame| {
        let layer = &layer.frames[index % layer.frames.len()].raster;
        index += 1;
        let mut out = frame;
        if canvas != b || side == LayerSide::Under {
            let mut grown = Raster::new(
                canvas.w,
                canvas.h,
                4,
                vec![0; canvas.w as usize * canvas.h as usize * 4],
            );
            if side == LayerSide::Under {
                for s in &spots {
                    grown.composite(layer, s.x + at.x, s.y + at.y);
                }
            }
            grown.composite(&out, at.x, at.y);
            if side == LayerSide::Under {
                return Ok::<_, EngineError>(grown);
            }
            out = grown;
        }
        let spots: Vec<Spot> = spots
            .iter()
            .map(|s| Spot {
                x: s.x + at.x,
                y: s.y + at.y,
            })
            .collect();
        Ok(match blend {
            None => {
                for s in &spots {
                    out.composite(layer, s.x, s.y);
                }
                out
            }
            Some(m @ (BlendMode::Mask | BlendMode::CutOut)) => masked(out, layer, &spots, m),
            Some(BlendMode::Displace) => {
                let reach = |o: Option<nubo_transform::Offset>, full: u32| match o {
                    Some(nubo_transform::Offset::Px(n)) => n as f64,
                    Some(nubo_transform::Offset::Rel(f)) => f * full as f64,
                    None => 0.0,
                };
                let max = (reach(placement.x, b.w), reach(placement.y, b.h));
                crate::displace::displaced(out, layer, &spots, max)
            }
            Some(m) => {
                for s in &spots {
                    blend_at(&mut out, layer, *s, m);
                }
                out
            }
        })
    })?;
    Ok((out, at))
}

/// The picture as many frames as an animated layer over a still one has,
/// with the layer's timing, so the layer keeps moving; otherwise as it is.
fn frames_for(base: Picture, layer: &Picture, limits: &EngineLimits) -> Result<Picture> {
    let n = layer.frames.len();
    if base.frames.len() != 1 || n <= 1 {
        return Ok(base);
    }
    let px = base.width() as u64 * base.height() as u64;
    if n as u64 > limits.max_frames || n as u64 * px > limits.max_frame_pixels {
        return Err(EngineError::TooLarge(format!(
            "An animated layer of {n} frames over a {}x{} picture is over the animation limits",
            base.width(),
            base.height()
        )));
    }
    let still = base.first();
    Ok(Picture {
        frames: layer
            .frames
            .iter()
            .map(|f| crate::raster::Frame {
                raster: still.clone(),
                delay_ms: f.delay_ms,
            })
            .collect(),
        loop_count: layer.loop_count,
    })
}

/// `e_mask` keeps the picture where the layer is opaque; `e_cut_out`
/// removes it there.
fn masked(base: Raster, layer: &Raster, spots: &[Spot], mode: BlendMode) -> Raster {
    let mut out = base.to_rgba();
    let size = Size::new(out.width, out.height);
    let mut cover = vec![0u8; size.w as usize * size.h as usize];
    crate::displace::covered(size, layer, spots, |x, y, px| {
        let c = &mut cover[y as usize * size.w as usize + x as usize];
        *c = (*c).max(px[3]);
    });
    for (px, &a) in out.data.chunks_exact_mut(4).zip(&cover) {
        let keep = match mode {
            BlendMode::Mask => a as u32,
            _ => 255 - a as u32,
        };
        px[3] = (px[3] as u32 * keep / 255) as u8;
    }
    out
}

/// Multiply, screen or overlay the layer's colours into the picture,
/// weighted by the layer's alpha.
fn blend_at(out: &mut Raster, layer: &Raster, spot: Spot, mode: BlendMode) {
    let c = out.channels as usize;
    for ly in 0..layer.height as i64 {
        let y = spot.y + ly;
        if y < 0 || y >= out.height as i64 {
            continue;
        }
        for lx in 0..layer.width as i64 {
            let x = spot.x + lx;
            if x < 0 || x >= out.width as i64 {
                continue;
            }
            let lp = layer.pixel(lx as u32, ly as u32);
            let la = lp[3] as u32;
            if la == 0 {
                continue;
            }
            let i = (y as usize * out.width as usize + x as usize) * c;
            for (k, &lv) in lp.iter().take(3).enumerate() {
                let (bv, lv) = (out.data[i + k] as u32, lv as u32);
                let mixed = match mode {
                    BlendMode::Multiply => bv * lv / 255,
                    BlendMode::Screen => 255 - (255 - bv) * (255 - lv) / 255,
                    _ if bv < 128 => 2 * bv * lv / 255,
                    _ => 255 - 2 * (255 - bv) * (255 - lv) / 255,
                };
                out.data[i + k] = ((bv * (255 - la) + mixed.min(255) * la) / 255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_still_picture_takes_an_animated_layers_frames_within_the_limits() {
        let frame = |delay_ms| crate::raster::Frame {
            raster: Raster::new(2, 2, 4, vec![0; 16]),
            delay_ms,
        };
        let layer = Picture {
            frames: vec![frame(40), frame(60), frame(80)],
            loop_count: 3,
        };
        let still = Picture::still(Raster::new(10, 10, 4, vec![9; 400]));
        let out = frames_for(still.clone(), &layer, &EngineLimits::default()).unwrap();
        let delays: Vec<u32> = out.frames.iter().map(|f| f.delay_ms).collect();
        assert_eq!((delays, out.loop_count), (vec![40, 60, 80], 3));
        assert!(out
            .frames
            .iter()
            .all(|f| f.raster.data == still.first().data));
        let tight = EngineLimits {
            max_frame_pixels: 299,
            ..EngineLimits::default()
        };
        assert!(matches!(
            frames_for(still, &layer, &tight),
            Err(EngineError::TooLarge(_))
        ));
    }
}
