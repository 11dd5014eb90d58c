//! Runs a resolved transformation on decoded pixels: decode once, apply
//! each component in order, pick the output format, encode.

use std::time::Instant;

use nubo_core::Format;
use nubo_transform::expr::AssetData;
use nubo_transform::layer::{LayerGroup, Step};
use nubo_transform::{
    layout_with, Angle, AutoFormat, Background, Color, Component, Effect, Flag, LayerSide,
    OutputTarget, Progressive, Quality, Resolved, Size, SizeRequest,
};

use crate::decode::{decode, DecodeRequest, Reduce};
use crate::encode::{encode, EncodeOptions};
use crate::error::{EngineError, Result};
use crate::flow::{Facts, Flow};
use crate::focus::{allows_reduce, Coordinates, Known};
use crate::layers::{self, LayerInputs};
use crate::raster::{Picture, Raster};
use crate::{effects, geometry_ops as ops, orient, resize, EngineLimits};

/// What to render.
#[derive(Debug, Clone)]
pub struct Job {
    pub input_format: Format,
    pub plan: Resolved,
    /// Stored face and custom coordinates of the original.
    pub coordinates: Coordinates,
    /// Images and text styles the chain's layers name.
    pub layers: LayerInputs,
    /// The asset's tags, context and metadata, for conditions on them.
    pub asset: AssetData,
}

impl Job {
    pub fn new(input_format: Format, plan: Resolved) -> Job {
        Job {
            input_format,
            plan,
            coordinates: Coordinates::default(),
            layers: LayerInputs::default(),
            asset: AssetData::default(),
        }
    }
}

/// A rendered derived file.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    /// `None` for `fl_getinfo`, whose body is JSON.
    pub format: Option<Format>,
    pub width: u32,
    pub height: u32,
    /// The encoder quality used (chosen by `q_auto` or given), for lossy
    /// formats.
    pub quality: Option<u8>,
}

fn lossy(f: Format) -> bool {
    matches!(f, Format::Jpg | Format::Webp | Format::Avif)
}

struct Run<'a> {
    limits: &'a EngineLimits,
    deadline: Instant,
}

impl Run<'_> {
    fn check_time(&self) -> Result<()> {
        if Instant::now() > self.deadline {
            Err(EngineError::Timeout(self.limits.time_budget.as_secs()))
        } else {
            Ok(())
        }
    }

    fn check_output(&self, w: u32, h: u32, frames: usize) -> Result<()> {
        let px = w as u64 * h as u64;
        if px > self.limits.max_output_pixels
            || px.saturating_mul(frames as u64) > self.limits.max_frame_pixels
        {
            return Err(EngineError::TooLarge(format!(
                "Output of {w}x{h} pixels is over the limit of {} pixels",
                self.limits.max_output_pixels
            )));
        }
        Ok(())
    }
}

pub fn render(
    bytes: &[u8],
    job: &Job,
    limits: &EngineLimits,
    deadline: Instant,
) -> Result<Rendered> {
    let run = Run { limits, deadline };
    let t = &job.plan.transformation;
    let mut req = DecodeRequest::new(job.input_format);
    req.orient = !t
        .components
        .iter()
        .any(|c| c.angle.contains(&Angle::Ignore));
    let page = t.components.iter().find_map(|c| c.page);
    req.page = page.map_or(1, |p| p.0);
    req.all_frames = page.is_none() && may_animate(&job.plan.target);
    if let Some(dn) = t.components.iter().find_map(|c| c.density) {
        req.vector_scale = dn as f64 / 72.0;
    }
    req.reduce = t.components.first().and_then(reducible);
    req.keep_iptc = t.has_flag(&Flag::KeepIptc);
    let decoded = decode(bytes, &req, limits)?;
    let pages = decoded.source_frames;
    let input = decoded.logical;
    let iptc = decoded.iptc;
    let mut logical = Some(decoded.logical);
    let mut known = Known::new(&job.coordinates);
    let mut flow = Flow::default();
    run.check_time()?;
    let steps = nubo_transform::layer::steps(&t.components)
        .map_err(|e| EngineError::BadRequest(e.to_string()))?;
    let cx = Cx {
        run: &run,
        job,
        input,
        pages,
    };
    let pic = run_steps(
        &cx,
        decoded.picture,
        &steps,
        &mut known,
        &mut flow,
        &mut logical,
        None,
    )?;
    if t.has_flag(&Flag::Getinfo) {
        return Ok(getinfo(input, &pic, job.input_format));
    }
    let mut opts = encode_options(job, &pic);
    let mut chosen = None;
    if let Some(Quality::Auto(level)) = t.quality() {
        // An animation is measured on its first frame: AVIF keeps only
        // that frame, and animated WebP encodes every frame at the quality
        // found for it (with the quick method: there are many frames).
        if crate::qauto::measurable(opts.format) {
            opts.thorough = !pic.is_animated();
            let c = crate::qauto::choose(pic.first(), &opts, level, limits)?;
            opts.quality = c.quality;
            opts.chroma = c.chroma;
            chosen = Some(c.quality);
        }
        run.check_time()?;
    }
    let mut bytes = encode(&pic, &opts)?;
    // Derived files carry no metadata, except IPTC on request (JPEG only).
    if let (Format::Jpg, Some(seg)) = (opts.format, iptc) {
        bytes = crate::iptc::insert_app13(bytes, &seg);
    }
    Ok(Rendered {
        bytes,
        format: Some(opts.format),
        width: pic.width(),
        height: pic.height(),
        quality: chosen.or(lossy(opts.format).then_some(opts.quality)),
    })
}

/// What every step of a render reads.
struct Cx<'a> {
    run: &'a Run<'a>,
    job: &'a Job,
    /// The source's size, for `iw`/`ih`.
    input: Size,
    pages: u32,
}

/// Runs a chain's steps on `pic`: components in order, each layer built,
/// transformed by its own steps and placed. `under` is the picture a
/// layer goes on, for `fl_relative` inside the layer's components.
fn run_steps(
    cx: &Cx,
    mut pic: Picture,
    steps: &[Step],
    known: &mut Known,
    flow: &mut Flow,
    logical: &mut Option<Size>,
    under: Option<Size>,
) -> Result<Picture> {
    for step in steps {
        let (c, group) = match step {
            Step::Apply(c) => (*c, None),
            Step::Layer(g) => (g.open, Some(g)),
        };
        let Some(c) = resolve(cx, flow, c, &pic, *logical, known)? else {
            continue;
        };
        let relative = under.and_then(|u| layers::inner_relative(&c, u));
        let c = relative.map_or(c, std::borrow::Cow::Owned);
        pic = match group {
            None => apply(pic, &c, cx.run, logical.take(), known)?,
            Some(g) => {
                *logical = None;
                layer_step(cx, pic, g, &c, known, flow)?
            }
        };
        cx.run.check_time()?;
    }
    Ok(pic)
}

/// The component as it applies to `pic`, or `None` when a condition
/// skips it.
fn resolve<'c>(
    cx: &Cx,
    flow: &mut Flow,
    c: &'c Component,
    pic: &Picture,
    logical: Option<Size>,
    known: &mut Known,
) -> Result<Option<std::borrow::Cow<'c, Component>>> {
    let size = logical.unwrap_or(Size::new(pic.width(), pic.height()));
    let first = pic.first();
    let mut count_faces = || known.faces(first, size).len() as f64;
    let mut trimmed_ar = || trimmed_aspect_ratio(first);
    let mut facts = Facts {
        width: size.w as f64,
        height: size.h as f64,
        initial_width: cx.input.w as f64,
        initial_height: cx.input.h as f64,
        pages: cx.pages as f64,
        faces: &mut count_faces,
        trimmed_ar: &mut trimmed_ar,
        asset: &cx.job.asset,
    };
    flow.step(c, &mut facts)
}

/// `tar`: the aspect ratio of what `e_trim` (default tolerance) would
/// keep; the whole picture's when nothing would be cut or all would.
fn trimmed_aspect_ratio(r: &Raster) -> f64 {
    let (w, h) = crate::effects::trim_box(r, nubo_transform::DEFAULT_TRIM_TOLERANCE, None)
        .map_or((r.width, r.height), |(_, _, w, h)| (w, h));
    w as f64 / h.max(1) as f64
}

/// One layer: built from its source for each place it goes (once, or
/// once per face), transformed, and put on the picture.
fn layer_step(
    cx: &Cx,
    mut pic: Picture,
    g: &LayerGroup,
    open: &Component,
    known: &mut Known,
    flow: &mut Flow,
) -> Result<Picture> {
    let side = open.layer.as_ref().map_or(LayerSide::Over, |l| l.side);
    let mut placement = match g.apply {
        Some(a) => match resolve(cx, flow, a, &pic, None, known)? {
            Some(p) => p,
            None => return Ok(pic),
        },
        None => std::borrow::Cow::Borrowed(open),
    };
    if open.has_flag(&Flag::Cutter) && !placement.has_flag(&Flag::Cutter) {
        // Named on the layer, it still decides how the layer is placed.
        placement.to_mut().flags.push(Flag::Cutter);
    }
    let base = Size::new(pic.width(), pic.height());
    let mut regions = layers::regions(&placement, known, pic.first());
    // Read once, placed once per region (none: no face to go on).
    if !regions.is_empty() {
        let all_frames = may_animate(&cx.job.plan.target);
        let mut source = layers::Source::read(open, &cx.job.layers, cx.run.limits, all_frames)?;
        if let layers::Source::Text { text, .. } = &mut source {
            if text.contains("$(") {
                *text = flow.substitute(text)?.into();
            }
        }
        for i in 0..regions.len() {
            let region = regions[i];
            let prepared = layers::prepare(
                &source,
                open,
                g.apply.is_none(),
                base,
                region,
                cx.run.limits,
            )?;
            let mut lknown = prepared.known;
            let mut lp = apply(prepared.picture, &prepared.part, cx.run, None, &mut lknown)?;
            lp = run_steps(cx, lp, &g.inner, &mut lknown, flow, &mut None, Some(base))?;
            let placed = layers::place(pic, &lp, &placement, side, region, known, cx.run.limits)?;
            pic = placed.0;
            // A grown canvas moves the faces still to be covered.
            let (dx, dy) = (placed.1.x as f64, placed.1.y as f64);
            for r in regions.iter_mut().skip(i + 1).flatten() {
                *r = r.moved(-dx, -dy, 1.0, 1.0);
            }
            cx.run.check_time()?;
        }
    }
    if g.apply.is_some() {
        let rest = layers::after_apply(&placement);
        if !rest.is_empty() {
            pic = apply(pic, &rest, cx.run, None, known)?;
        }
    }
    Ok(pic)
}

/// The first component allows shrink-on-load when it resizes the whole
/// image: no trim or region effect needs full-size pixels first.
fn reducible(c: &Component) -> Option<Reduce> {
    let needs_full = c
        .effect
        .as_ref()
        .is_some_and(|e| e.uses_region() || matches!(e, Effect::Trim { .. }));
    let layered = c.layer.is_some() || c.has_flag(&Flag::LayerApply);
    if needs_full
        || layered
        || c.width.is_none() && c.height.is_none()
        || !allows_reduce(c)
        || c.is_dynamic()
    {
        return None;
    }
    Some(Reduce {
        component: c.clone(),
    })
}

fn may_animate(target: &OutputTarget) -> bool {
    matches!(
        target,
        OutputTarget::Fixed(Format::Gif | Format::Webp) | OutputTarget::Auto(_)
    )
}

fn getinfo(input: Size, pic: &Picture, fmt: Format) -> Rendered {
    let body = format!(
        "{{\"input\":{{\"width\":{},\"height\":{},\"format\":\"{}\"}},\"output\":{{\"width\":{},\"height\":{}}}}}",
        input.w,
        input.h,
        fmt.extension(),
        pic.width(),
        pic.height()
    );
    Rendered {
        bytes: body.into_bytes(),
        format: None,
        width: pic.width(),
        height: pic.height(),
        quality: None,
    }
}

/// The encoder and its settings for this picture.
fn encode_options(job: &Job, pic: &Picture) -> EncodeOptions {
    let t = &job.plan.transformation;
    let alpha = pic.frames.iter().any(|f| f.raster.uses_alpha());
    let format = match job.plan.target {
        OutputTarget::Fixed(f) if nubo_transform::is_encodable(f) => f,
        // SVG, HEIC and friends cannot be written: deliver a PNG.
        OutputTarget::Fixed(_) => Format::Png,
        OutputTarget::Auto(AutoFormat::Avif) if pic.is_animated() => Format::Webp,
        OutputTarget::Auto(AutoFormat::Avif) => Format::Avif,
        OutputTarget::Auto(AutoFormat::Webp) => Format::Webp,
        OutputTarget::Auto(AutoFormat::Legacy) if pic.is_animated() => Format::Gif,
        OutputTarget::Auto(AutoFormat::Legacy) if alpha => Format::Png,
        OutputTarget::Auto(AutoFormat::Legacy) => Format::Jpg,
    };
    let mut o = EncodeOptions::new(format);
    let (quality, chroma) = match t.quality() {
        Some(Quality::Fixed { value, chroma }) => (value, chroma),
        // Replaced by the search for every lossy format; the others take
        // no quality.
        Some(Quality::Auto(_)) => (default_quality(format), None),
        None => (default_quality(format), None),
    };
    o.quality = quality;
    o.chroma = chroma;
    o.progressive = t
        .flags()
        .any(|f| matches!(f, Flag::Progressive(p) if *p != Progressive::None));
    o.lossless = format == Format::Webp && quality == 100;
    o.png8 = t.has_flag(&Flag::Png8);
    o.background = last_background(t).unwrap_or(Color::WHITE);
    o
}

fn default_quality(f: Format) -> u8 {
    match f {
        Format::Avif => 60,
        _ => 80,
    }
}

fn last_background(t: &nubo_transform::Transformation) -> Option<Color> {
    t.components.iter().rev().find_map(|c| match c.background {
        Some(Background::Color(col)) => Some(col),
        _ => None,
    })
}

/// One component, in Cloudinary's order: trim, size, effect, rotate,
/// round, border, opacity, background. `logical` is the source size when
/// the picture was decoded reduced (first component only).
fn apply(
    pic: Picture,
    c: &Component,
    run: &Run,
    logical: Option<Size>,
    known: &mut Known,
) -> Result<Picture> {
    if let Some(e) = c.effect.as_ref().filter(|e| e.uses_region()) {
        return pic.try_map(|r| Ok(region_effect(r, c, e)));
    }
    let mut pic = pic;
    if let Some(Effect::Trim { tolerance, color }) = c.effect {
        if let Some((x, y, w, h)) = effects::trim_box(pic.first(), tolerance, color) {
            pic = pic.try_map(|r| Ok::<_, EngineError>(r.crop(x, y, w, h)))?;
            known.after_crop(x, y, Size::new(w, h));
        }
    }
    // A fade's or shadow's x and y place the effect; they do not move a crop.
    let positional = matches!(
        c.effect,
        Some(Effect::GradientFade { .. } | Effect::Shadow(_))
    );
    let sized = if positional {
        std::borrow::Cow::Owned(Component {
            x: None,
            y: None,
            ..c.clone()
        })
    } else {
        std::borrow::Cow::Borrowed(c)
    };
    pic = size(pic, &sized, run, logical, known)?;
    run.check_time()?;
    if let Some(e @ (Effect::GradientFade { .. } | Effect::Shadow(_) | Effect::Outline { .. })) =
        &c.effect
    {
        pic = drawn_effect(pic, c, e, run, known)?;
    } else if let Some(e @ (Effect::BlurFaces(_) | Effect::PixelateFaces(_))) = &c.effect {
        let size = Size::new(pic.width(), pic.height());
        let faces = known.faces(pic.first(), size).to_vec();
        pic = pic.try_map(|r| Ok::<_, EngineError>(face_effect(r, e, &faces)))?;
    } else if let Some(e) = c
        .effect
        .as_ref()
        .filter(|e| !matches!(e, Effect::Trim { .. }))
    {
        pic = pic.try_map(|mut r| {
            effects::apply(&mut r, e, c.color);
            Ok::<_, EngineError>(r)
        })?;
    }
    let frames = pic.frames.len();
    let reshapes = c.border.is_some()
        || c.angle
            .iter()
            .any(|a| !matches!(a, Angle::Exif | Angle::Ignore));
    if reshapes {
        known.forget();
    }
    pic = pic.try_map(|r| finish(r, c, run, frames))?;
    Ok(pic)
}

/// Fades, shadows and outlines, which read `x`/`y` or grow the canvas.
fn drawn_effect(
    pic: Picture,
    c: &Component,
    e: &Effect,
    run: &Run,
    known: &mut Known,
) -> Result<Picture> {
    let frames = pic.frames.len();
    let offset = |o: Option<nubo_transform::Offset>, full: u32, default: i32| match o {
        None => default,
        Some(nubo_transform::Offset::Px(n)) => n,
        Some(nubo_transform::Offset::Rel(f)) => (f * full as f64).round() as i32,
    };
    if !matches!(e, Effect::GradientFade { .. }) {
        // The picture moves on its canvas.
        known.forget();
    }
    pic.try_map(|r| {
        let out = match *e {
            Effect::GradientFade { kind, strength } => {
                let pad = match c.background {
                    Some(Background::Color(col)) => col,
                    _ => Color::WHITE,
                };
                let axis = crate::recolor::FadeAxis::new(c.x, c.y, r.width, r.height);
                crate::recolor::gradient_fade(r, kind, strength, axis, pad)
            }
            Effect::Shadow(strength) => {
                let (dx, dy) = (offset(c.x, r.width, 8), offset(c.y, r.height, 8));
                let (w, h) = crate::silhouette::shadow_size(&r, strength, dx, dy);
                run.check_output(w, h, frames)?;
                let color = c.color.unwrap_or(Color::rgb(128, 128, 128));
                crate::silhouette::shadow(&r, strength, dx, dy, color)
            }
            Effect::Outline { mode, width, blur } => {
                let grow = crate::silhouette::outline_grow(mode, width, blur);
                run.check_output(r.width + 2 * grow, r.height + 2 * grow, frames)?;
                let color = c.color.unwrap_or(Color::BLACK);
                crate::silhouette::outline(&r, mode, width, blur, color)
            }
            _ => r,
        };
        Ok(out)
    })
}

/// `e_blur_faces` / `e_pixelate_faces`: the effect on each face, grown by
/// a tenth on every side so that hairlines and chins go too.
fn face_effect(mut r: Raster, e: &Effect, faces: &[nubo_transform::Region]) -> Raster {
    let size = Size::new(r.width, r.height);
    for f in faces {
        let grown =
            nubo_transform::Region::new(f.x - f.w * 0.1, f.y - f.h * 0.1, f.w * 1.2, f.h * 1.2);
        let Some(g) = grown.clipped(size) else {
            continue;
        };
        let (x, y) = (g.x as u32, g.y as u32);
        let w = (g.w.ceil() as u32).min(r.width - x).max(1);
        let h = (g.h.ceil() as u32).min(r.height - y).max(1);
        let mut region = r.crop(x, y, w, h);
        match *e {
            // Strength is relative to the face, so a face is unreadable at
            // the default whatever its size.
            Effect::BlurFaces(n) => {
                effects::gaussian(&mut region, n as f32 / 2000.0 * w.min(h) as f32 / 4.0)
            }
            _ => effects::apply(&mut region, e, None),
        }
        paste(&mut r, &region, x, y);
    }
    r
}

fn paste(r: &mut Raster, region: &Raster, x: u32, y: u32) {
    let c = r.channels as usize;
    for row in 0..region.height {
        let dst = ((y + row) as usize * r.width as usize + x as usize) * c;
        let src = row as usize * region.stride();
        r.data[dst..dst + region.stride()]
            .copy_from_slice(&region.data[src..src + region.stride()]);
    }
}

/// Rotation, corners, border, opacity and background of one frame.
fn finish(mut r: Raster, c: &Component, run: &Run, frames: usize) -> Result<Raster> {
    let bg = match c.background {
        Some(Background::Color(col)) => col,
        _ => Color::TRANSPARENT,
    };
    for a in &c.angle {
        r = match *a {
            Angle::Degrees(d) => ops::rotate(&r, d, bg),
            Angle::Hflip => orient::flip_h(r),
            Angle::Vflip => orient::flip_v(r),
            Angle::AutoRight | Angle::AutoLeft => auto_rotate(r, c, *a),
            Angle::Exif | Angle::Ignore => r,
        };
        run.check_output(r.width, r.height, frames)?;
    }
    if let Some(rad) = c.radius {
        r = ops::round_corners(&r, rad);
    }
    if let Some(b) = c.border {
        r = ops::border(&r, b.width, b.color, c.radius);
        run.check_output(r.width, r.height, frames)?;
    }
    if let Some(o) = c.opacity.filter(|&o| o < 100) {
        r = ops::opacity(&r, o);
    }
    let pads = matches!(
        c.crop,
        Some(
            nubo_transform::CropMode::Pad
                | nubo_transform::CropMode::Lpad
                | nubo_transform::CropMode::Mpad
        )
    );
    if let Some(Background::Color(col)) = c.background {
        // b_ fills transparency, unless it already served as a canvas.
        if r.has_alpha() && col.is_opaque() && !pads && c.radius.is_none() {
            r = r.flatten(col);
        }
    }
    Ok(r)
}

/// `a_auto_right` / `a_auto_left`: turn by 90° only when the requested
/// box and the image disagree on portrait versus landscape.
fn auto_rotate(r: Raster, c: &Component, a: Angle) -> Raster {
    let (Some(w), Some(h)) = (c.width, c.height) else {
        return r;
    };
    let px = |d: nubo_transform::Dim, full: u32| match d {
        nubo_transform::Dim::Px(n) => n as f64,
        nubo_transform::Dim::Rel(f) => f * full as f64,
    };
    let box_landscape = px(w, r.width) > px(h, r.height);
    let img_landscape = r.width > r.height;
    if box_landscape == img_landscape || r.width == r.height {
        return r;
    }
    if a == Angle::AutoRight {
        orient::rotate90(&r)
    } else {
        orient::rotate270(&r)
    }
}

fn region_effect(mut r: Raster, c: &Component, e: &Effect) -> Raster {
    let req = SizeRequest::from_component(c, Size::new(r.width, r.height), 1.0);
    let w = req
        .width
        .map_or(r.width, |v| (v.round() as u32).clamp(1, r.width));
    let h = req
        .height
        .map_or(r.height, |v| (v.round() as u32).clamp(1, r.height));
    let x = (req.x.max(0.0) as u32).min(r.width - 1);
    let y = (req.y.max(0.0) as u32).min(r.height - 1);
    let mut region = r.crop(x, y, w, h);
    effects::apply(&mut region, e, c.color);
    paste(&mut r, &region, x, y);
    r
}

/// Crop, resample and pad by the component's sizing keys. The maths runs
/// on the `logical` size; a picture decoded smaller than that has the
/// crop scaled to its own pixels, so the output matches a full decode.
fn size(
    pic: Picture,
    c: &Component,
    run: &Run,
    logical: Option<Size>,
    known: &mut Known,
) -> Result<Picture> {
    let physical = Size::new(pic.width(), pic.height());
    let input = logical.unwrap_or(physical);
    let req = SizeRequest::from_component(c, input, c.dpr_factor());
    let focus = known.focus(&req, pic.first(), input);
    let l = layout_with(&req, input, &focus);
    known.after_layout(&l, input);
    let reduced = input != physical;
    if l == nubo_transform::Layout::NONE && !reduced {
        return Ok(pic);
    }
    let out = l.output(input);
    run.check_output(out.w, out.h, pic.frames.len())?;
    let canvas = match l.pad {
        Some((canvas, _, _)) => Some(pad_canvas(&pic, c, canvas)?),
        None => None,
    };
    let (sx, sy) = (
        physical.w as f64 / input.w as f64,
        physical.h as f64 / input.h as f64,
    );
    let crop = l.crop.map(|k| {
        [
            k.x as f64 * sx,
            k.y as f64 * sy,
            k.w as f64 * sx,
            k.h as f64 * sy,
        ]
    });
    // A reduced picture is always resampled, to the logical size at least.
    let to = l
        .resize
        .or_else(|| reduced.then(|| l.crop.map_or(input, |k| Size::new(k.w, k.h))));
    pic.try_map(|r| {
        let mut r = match (l.crop, to) {
            (_, Some(to)) => resize::resample(&r, crop, to.w, to.h)?,
            (Some(k), None) => r.crop(k.x, k.y, k.w, k.h),
            (None, None) => r,
        };
        if let (Some((size, x, y)), Some(bg)) = (l.pad, canvas.as_ref()) {
            r = ops::pad(&r, size.w, size.h, x, y, bg);
        }
        Ok(r)
    })
}

/// The canvas a pad mode draws on: `b_` colour, a colour taken from the
/// image, or a blurred cover copy; white, or transparent for images with
/// alpha, by default.
fn pad_canvas(pic: &Picture, c: &Component, canvas: Size) -> Result<Raster> {
    let first = pic.first();
    let color = match c.background {
        Some(Background::Color(col)) => col,
        Some(Background::AutoBorder) => ops::border_color(first),
        Some(Background::AutoPredominant) => ops::predominant_color(first),
        Some(Background::Blurred {
            intensity,
            brightness,
        }) => return blurred_canvas(first, canvas, intensity, brightness),
        None if first.has_alpha() => Color::TRANSPARENT,
        None => Color::WHITE,
    };
    Ok(Raster::filled(canvas.w, canvas.h, color))
}

fn blurred_canvas(src: &Raster, canvas: Size, intensity: u32, brightness: i32) -> Result<Raster> {
    // Cover the canvas (like c_fill), then blur and shade.
    let (iw, ih) = (src.width as f64, src.height as f64);
    let s = (canvas.w as f64 / iw).max(canvas.h as f64 / ih);
    let (cw, ch) = (canvas.w as f64 / s, canvas.h as f64 / s);
    let crop = [(iw - cw) / 2.0, (ih - ch) / 2.0, cw, ch];
    let mut bg = resize::resample(src, Some(crop), canvas.w, canvas.h)?;
    effects::gaussian(&mut bg, intensity as f32 / 20.0);
    effects::apply(
        &mut bg,
        &Effect::Brightness(brightness.clamp(-99, 100)),
        None,
    );
    Ok(bg)
}
