//! Text layers and `text` images: a [`TextStyle`] and a string drawn with
//! the fonts bundled in the binary (never the system's, so every node
//! renders the same pixels), wrapped to a width on request.
//!
//! Glyphs are shaped and drawn by usvg/resvg from an SVG we write. Every
//! user string is XML-escaped and every attribute comes from a typed
//! value, so text cannot add markup.

use std::sync::{Arc, OnceLock};

use nubo_transform::layer::{Decoration, TextAlign, TextStyle};
use nubo_transform::Color;
use resvg::{tiny_skia, usvg};

use crate::error::{EngineError, Result};
use crate::raster::Raster;
use crate::EngineLimits;

/// A family we ship: the name it is drawn with, the names that find it,
/// and its files.
struct Family {
    name: &'static str,
    aliases: &'static [&'static str],
}

const FAMILIES: &[Family] = &[
    Family {
        name: "Roboto",
        aliases: &["roboto"],
    },
    Family {
        name: "Open Sans",
        aliases: &["opensans"],
    },
    Family {
        name: "Liberation Sans",
        aliases: &["liberationsans", "arial", "helvetica", "sansserif", "sans"],
    },
    Family {
        name: "Liberation Serif",
        aliases: &["liberationserif", "times", "timesnewroman", "serif"],
    },
    Family {
        name: "Liberation Mono",
        aliases: &[
            "liberationmono",
            "courier",
            "couriernew",
            "monospace",
            "mono",
        ],
    },
    Family {
        name: "DejaVu Sans",
        aliases: &["dejavusans", "dejavu"],
    },
];

/// Where glyphs a family lacks come from.
const FALLBACK: &str = "DejaVu Sans";

macro_rules! fonts {
    ($($file:literal),+ $(,)?) => {
        &[$(include_bytes!(concat!("../fonts/", $file)) as &[u8]),+]
    };
}

const FONT_FILES: &[&[u8]] = fonts!(
    "Roboto-Regular.ttf",
    "Roboto-Bold.ttf",
    "Roboto-Italic.ttf",
    "Roboto-BoldItalic.ttf",
    "Roboto-Light.ttf",
    "Roboto-Black.ttf",
    "OpenSans-Regular.ttf",
    "OpenSans-Bold.ttf",
    "OpenSans-Italic.ttf",
    "OpenSans-BoldItalic.ttf",
    "LiberationSans-Regular.ttf",
    "LiberationSans-Bold.ttf",
    "LiberationSans-Italic.ttf",
    "LiberationSans-BoldItalic.ttf",
    "LiberationSerif-Regular.ttf",
    "LiberationSerif-Bold.ttf",
    "LiberationSerif-Italic.ttf",
    "LiberationSerif-BoldItalic.ttf",
    "LiberationMono-Regular.ttf",
    "LiberationMono-Bold.ttf",
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
);

fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        for f in FONT_FILES {
            db.load_font_data(f.to_vec());
        }
        db.set_sans_serif_family(FALLBACK);
        Arc::new(db)
    })
    .clone()
}

/// The names `font_family` accepts, for error messages and the README.
pub fn family_names() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.name).collect()
}

/// The bundled family a requested name means: case, spaces, hyphens and
/// underscores do not matter; `Arial` finds its metric twin.
fn resolve_family(requested: &str) -> Result<&'static str> {
    let key: String = requested
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    FAMILIES
        .iter()
        .find(|f| f.aliases.contains(&key.as_str()))
        .map(|f| f.name)
        .ok_or_else(|| {
            EngineError::BadRequest(format!(
                "Unknown font family {requested}; this server has {}",
                family_names().join(", ")
            ))
        })
}

/// How the text is painted and boxed.
#[derive(Debug, Clone)]
pub struct TextPaint {
    pub color: Color,
    /// Glyph outline width and colour, for styles with `stroke`.
    pub stroke: Option<(u32, Color)>,
    /// Wrap lines at this many pixels (`c_fit,w_`).
    pub wrap_width: Option<u32>,
    /// Drop lines below this many pixels (`c_fit,h_`).
    pub max_height: Option<u32>,
    /// Fill behind the text (`b_`); transparent without.
    pub background: Option<Color>,
    /// Keep the line box rather than cut to the ink (`fl_text_no_trim`).
    pub no_trim: bool,
    /// Text taller than `max_height` is an error (`fl_text_disallow_overflow`).
    pub disallow_overflow: bool,
    /// The font file a style names (`fonts:Brand.ttf`), read by the caller.
    pub font: Option<CustomFont>,
}

impl TextPaint {
    pub fn new(color: Color) -> TextPaint {
        TextPaint {
            color,
            stroke: None,
            wrap_width: None,
            max_height: None,
            background: None,
            no_trim: false,
            disallow_overflow: false,
            font: None,
        }
    }
}

/// A resolved style, ready to write into SVG.
struct Face<'a> {
    family: &'a str,
    style: &'a TextStyle,
    paint: &'a TextPaint,
    /// The bundled fonts, and a custom one when the style names a file.
    db: Arc<usvg::fontdb::Database>,
}

/// The family a custom font is drawn under: its own name could hold
/// anything, and it must never reach the SVG.
const CUSTOM_FAMILY: &str = "Nubo Custom";

/// Largest font file a style may name.
pub const MAX_FONT_BYTES: usize = 10 << 20;

/// A font file, parsed once however many texts it draws: the bundled
/// fonts plus its faces, each renamed to [`CUSTOM_FAMILY`] (weights and
/// styles kept).
#[derive(Clone)]
pub struct CustomFont(Arc<usvg::fontdb::Database>);

impl std::fmt::Debug for CustomFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomFont")
    }
}

impl CustomFont {
    /// Parses `file` with fontdb's ttf-parser, in Rust.
    pub fn parse(file: &[u8]) -> Result<CustomFont> {
        let bad = || EngineError::BadRequest("The font file could not be read".into());
        if file.len() > MAX_FONT_BYTES {
            return Err(EngineError::TooLarge(format!(
                "Font files are limited to {MAX_FONT_BYTES} bytes"
            )));
        }
        let mut db = (*fonts()).clone();
        let ids = db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(file.to_vec())));
        if ids.is_empty() {
            return Err(bad());
        }
        for id in ids {
            let mut info = db.face(id).cloned().ok_or_else(bad)?;
            db.remove_face(id);
            info.families = vec![(
                CUSTOM_FAMILY.to_owned(),
                usvg::fontdb::Language::English_UnitedStates,
            )];
            db.push_face_info(info);
        }
        Ok(CustomFont(Arc::new(db)))
    }
}

impl Face<'_> {
    fn attributes(&self, word_spacing: f64) -> String {
        let s = self.style;
        let mut a = format!(
            "font-family=\"{}, {FALLBACK}\" font-size=\"{}\" font-weight=\"{}\" fill=\"{}\" xml:space=\"preserve\"",
            self.family,
            s.size,
            s.weight.number(),
            hex(self.paint.color),
        );
        if self.paint.color.a < 255 {
            a += &format!(" fill-opacity=\"{:.3}\"", self.paint.color.a as f64 / 255.0);
        }
        if s.italic {
            a += " font-style=\"italic\"";
        }
        match s.decoration {
            Decoration::Underline => a += " text-decoration=\"underline\"",
            Decoration::Strikethrough => a += " text-decoration=\"line-through\"",
            Decoration::None => {}
        }
        if let Some(ls) = s.letter_spacing {
            a += &format!(" letter-spacing=\"{ls}\"");
        }
        if word_spacing > 0.0 {
            a += &format!(" word-spacing=\"{word_spacing:.2}\"");
        }
        if s.antialias == Some(nubo_transform::layer::Antialias::None) {
            a += " text-rendering=\"optimizeSpeed\"";
        }
        if let Some((w, c)) = self.paint.stroke {
            a += &format!(
                " stroke=\"{}\" stroke-width=\"{w}\" stroke-linejoin=\"round\" paint-order=\"stroke\"",
                hex(c)
            );
        }
        a
    }

    fn line_svg(&self, text: &str, x: f64, y: f64, word_spacing: f64) -> String {
        format!(
            "<text x=\"{x:.2}\" y=\"{y:.2}\" {}>{}</text>",
            self.attributes(word_spacing),
            xml_escape(text)
        )
    }

    /// The right edge of a line's ink drawn from x = 0.
    fn measure(&self, text: &str) -> Result<f64> {
        if text.trim().is_empty() {
            return Ok(0.0);
        }
        let svg = document(1.0, 1.0, &self.line_svg(text, 0.0, 0.0, 0.0));
        let tree = parse(&svg, &self.db)?;
        Ok(tree.root().abs_stroke_bounding_box().right().max(0.0) as f64)
    }

    /// Ascent and line advance in pixels, from the font's own metrics.
    fn metrics(&self) -> (f64, f64) {
        use skrifa::MetadataProvider as _;
        let db = &self.db;
        let size = self.style.size as f32;
        let query = usvg::fontdb::Query {
            families: &[usvg::fontdb::Family::Name(self.family)],
            weight: usvg::fontdb::Weight(self.style.weight.number()),
            ..Default::default()
        };
        let m = db.query(&query).and_then(|id| {
            db.with_face_data(id, |data, index| {
                let font = skrifa::FontRef::from_index(data, index).ok()?;
                let m = font.metrics(
                    skrifa::instance::Size::new(size),
                    skrifa::instance::LocationRef::default(),
                );
                Some((m.ascent as f64, (m.ascent - m.descent + m.leading) as f64))
            })?
        });
        m.unwrap_or((size as f64 * 0.9, size as f64 * 1.2))
    }
}

fn hex(c: Color) -> String {
    format!("#{:02x}{:02x}{:02x}", c.r, c.g, c.b)
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Controls are not XML; a tab reads as a space.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn document(w: f64, h: f64, body: &str) -> String {
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\">{body}</svg>")
}

fn parse(svg: &str, db: &Arc<usvg::fontdb::Database>) -> Result<usvg::Tree> {
    let opt = usvg::Options {
        fontdb: db.clone(),
        font_family: FALLBACK.to_owned(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &opt).map_err(|e| EngineError::Internal(format!("text layout: {e}")))
}

/// A line, and whether it ends its paragraph (justified text is not
/// stretched there).
type Line = (String, bool);

/// Greedy line breaking at spaces; a word wider than the line breaks
/// between characters. Newlines always break.
fn wrap(face: &Face, text: &str, width: Option<u32>) -> Result<Vec<Line>> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let Some(max) = width.map(|w| w as f64) else {
            lines.push((paragraph.to_owned(), true));
            continue;
        };
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if face.measure(&candidate)? <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push((std::mem::take(&mut line), false));
            }
            line = break_long_word(face, word, max, &mut lines)?;
        }
        lines.push((line, true));
    }
    Ok(lines)
}

/// Pushes full-width pieces of `word` and returns what is left.
fn break_long_word(face: &Face, word: &str, max: f64, lines: &mut Vec<Line>) -> Result<String> {
    let mut piece = String::new();
    for ch in word.chars() {
        let mut next = piece.clone();
        next.push(ch);
        if !piece.is_empty() && face.measure(&next)? > max {
            lines.push((std::mem::replace(&mut piece, ch.to_string()), false));
        } else {
            piece = next;
        }
    }
    Ok(piece)
}

/// Draws `text`; the result is cut to its ink, as Cloudinary trims text.
pub fn render(
    style: &TextStyle,
    text: &str,
    paint: &TextPaint,
    limits: &EngineLimits,
) -> Result<Raster> {
    let (family, db) = match &paint.font {
        Some(font) => (CUSTOM_FAMILY, font.0.clone()),
        None => (resolve_family(&style.family)?, fonts()),
    };
    let face = Face {
        family,
        style,
        paint,
        db,
    };
    let (ascent, mut advance) = face.metrics();
    advance += style.line_spacing.unwrap_or(0.0);
    let mut lines = wrap(&face, text, paint.wrap_width)?;
    if let Some(h) = paint.max_height {
        let fit = (((h as f64 - ascent) / advance.max(1.0)).floor() + 1.0).max(1.0) as usize;
        if paint.disallow_overflow && lines.len() > fit {
            return Err(EngineError::BadRequest(format!(
                "The text needs {} lines; {fit} fit in a height of {h} pixels \
                 (fl_text_disallow_overflow)",
                lines.len()
            )));
        }
        lines.truncate(fit);
    }
    let widths = lines
        .iter()
        .map(|(l, _)| face.measure(l))
        .collect::<Result<Vec<_>>>()?;
    let widest = widths.iter().cloned().fold(0.0, f64::max);
    // Room for overhangs, italics and strokes; the ink box cuts it off.
    let pad = style.size as f64 + paint.stroke.map_or(0.0, |s| s.0 as f64);
    let w = (widest + 2.0 * pad).ceil();
    let h = (lines.len() as f64 * advance.abs().max(1.0) + 2.0 * pad).ceil();
    if w * h > limits.max_output_pixels as f64 {
        return Err(EngineError::TooLarge(format!(
            "Text of {w}x{h} pixels is over the limit of {} pixels",
            limits.max_output_pixels
        )));
    }
    let mut body = String::new();
    for (i, ((line, last_of_paragraph), lw)) in lines.iter().zip(&widths).enumerate() {
        let spare = widest - lw;
        let (x, spacing) = match style.align {
            Some(TextAlign::Center) => (pad + spare / 2.0, 0.0),
            Some(TextAlign::Right | TextAlign::End) => (pad + spare, 0.0),
            Some(TextAlign::Justify) if !*last_of_paragraph => {
                let gaps = line.matches(' ').count().max(1);
                (pad, spare / gaps as f64)
            }
            _ => (pad, 0.0),
        };
        let y = pad + ascent + i as f64 * advance;
        body += &face.line_svg(line, x, y, spacing);
    }
    let tree = parse(&document(w, h, &body), &face.db)?;
    let mut pixmap = tiny_skia::Pixmap::new(w as u32, h as u32)
        .ok_or_else(|| EngineError::Internal("text canvas".into()))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    let mut data = Vec::with_capacity(pixmap.data().len());
    for p in pixmap.pixels() {
        let c = p.demultiply();
        data.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    let full = Raster::new(w as u32, h as u32, 4, data);
    let boxed = if paint.no_trim {
        // The line box: the widest line by the lines' heights.
        let (x, y) = (pad.floor() as u32, pad.floor() as u32);
        let bw = (widest.ceil() as u32).clamp(1, full.width - x);
        let bh =
            ((lines.len() as f64 * advance.abs().max(1.0)).ceil() as u32).clamp(1, full.height - y);
        Some((x, y, bw, bh))
    } else {
        ink_box(&full)
    };
    let inked = match boxed {
        Some((x, y, iw, ih)) => full.crop(x, y, iw, ih),
        None => Raster::new(1, 1, 4, vec![0; 4]),
    };
    Ok(match paint.background {
        Some(bg) => {
            let mut under = Raster::filled(inked.width, inked.height, bg).to_rgba();
            under.composite(&inked, 0, 0);
            under
        }
        None => inked,
    })
}

/// The smallest box holding every pixel with any ink.
fn ink_box(r: &Raster) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..r.height {
        let row = &r.data[(y * r.width * 4) as usize..((y + 1) * r.width * 4) as usize];
        for (x, px) in row.chunks_exact(4).enumerate() {
            if px[3] > 0 {
                let x = x as u32;
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    (x0 <= x1).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(s: &str) -> TextStyle {
        TextStyle::parse(s).unwrap()
    }

    fn draw(s: &str, text: &str, paint: &TextPaint) -> Raster {
        render(&style(s), text, paint, &EngineLimits::default()).unwrap()
    }

    fn black() -> TextPaint {
        TextPaint::new(Color::rgb(0, 0, 0))
    }

    #[test]
    fn families_resolve_through_aliases() {
        assert_eq!(resolve_family("Arial").unwrap(), "Liberation Sans");
        assert_eq!(resolve_family("open sans").unwrap(), "Open Sans");
        assert_eq!(
            resolve_family("Times_New_Roman").unwrap(),
            "Liberation Serif"
        );
        let e = resolve_family("Comic Sans").unwrap_err().to_string();
        assert!(
            e.contains("Unknown font family Comic Sans") && e.contains("Roboto"),
            "{e}"
        );
    }

    #[test]
    fn size_and_weight_change_the_ink() {
        let small = draw("Roboto_20", "Hello", &black());
        let big = draw("Roboto_40", "Hello", &black());
        assert!(big.width > small.width * 3 / 2 && big.height > small.height * 3 / 2);
        let bold = draw("Roboto_40_bold", "Hello", &black());
        let ink = |r: &Raster| r.data.chunks(4).map(|p| p[3] as u64).sum::<u64>();
        assert!(ink(&bold) > ink(&big) * 11 / 10, "bold has more ink");
        // Cut to the ink: the edges touch it.
        assert!((0..big.height).any(|y| big.pixel(0, y)[3] > 0));
        assert!((0..big.width).any(|x| big.pixel(x, big.height - 1)[3] > 0));
    }

    #[test]
    fn wrapping_keeps_lines_inside_the_width() {
        let text = "The quick brown fox jumps over the lazy dog";
        let one = draw("Roboto_30", text, &black());
        let mut p = black();
        p.wrap_width = Some(200);
        let wrapped = draw("Roboto_30", text, &p);
        assert!(wrapped.width <= 200, "{}", wrapped.width);
        assert!(
            wrapped.height > one.height * 3,
            "several lines: {}",
            wrapped.height
        );
        p.max_height = Some(40);
        let cut = draw("Roboto_30", text, &p);
        assert!(cut.height < 45, "only the first line: {}", cut.height);
        // A word wider than the box breaks between letters.
        p.max_height = None;
        p.wrap_width = Some(60);
        let long = draw("Roboto_30", "Supercalifragilistic", &p);
        assert!(long.width <= 60 && long.height > 60);
    }

    #[test]
    fn colour_background_and_stroke() {
        let mut p = TextPaint::new(Color::rgb(255, 0, 0));
        p.background = Some(Color::rgb(0, 0, 255));
        let r = draw("Arial_40_bold", "Hi", &p);
        assert_eq!(r.pixel(0, 0), [0, 0, 255, 255], "background fills the box");
        let red = r.data.chunks(4).filter(|p| p[0] > 200 && p[2] < 50).count();
        assert!(red > 100, "red glyphs: {red}");
        let mut s = TextPaint::new(Color::rgb(255, 255, 255));
        s.stroke = Some((4, Color::rgb(0, 0, 0)));
        let stroked = draw("Arial_40_bold_stroke", "Hi", &s);
        let dark = stroked
            .data
            .chunks(4)
            .filter(|p| p[3] > 200 && p[0] < 50)
            .count();
        assert!(dark > 100, "black outline: {dark}");
    }

    #[test]
    fn antialias_none_draws_hard_edges() {
        let partial = |r: &Raster| r.data.chunks(4).filter(|p| p[3] > 0 && p[3] < 255).count();
        let soft = draw("Roboto_30", "Edges", &black());
        let hard = draw("Roboto_30_antialias_none", "Edges", &black());
        assert!(partial(&soft) > 100);
        assert_eq!(partial(&hard), 0);
    }

    #[test]
    fn markup_in_text_is_text() {
        let r = draw("Roboto_20", "<svg onload=x>&amp;\"'", &black());
        assert!(r.width > 50, "drawn as characters");
    }

    #[test]
    fn alignment_moves_short_lines() {
        let left = {
            let mut p = black();
            p.wrap_width = Some(400);
            draw("Roboto_30_left", "a much longer first line\nshort", &p)
        };
        let right = {
            let mut p = black();
            p.wrap_width = Some(400);
            draw("Roboto_30_right", "a much longer first line\nshort", &p)
        };
        assert_eq!(left.width, right.width);
        let last_row_ink_x = |r: &Raster| {
            let y = r.height - 8;
            (0..r.width).find(|&x| r.pixel(x, y)[3] > 0).unwrap_or(0)
        };
        assert!(last_row_ink_x(&right) > last_row_ink_x(&left) + 100);
    }

    #[test]
    fn huge_text_is_refused_before_drawing() {
        let limits = EngineLimits {
            max_output_pixels: 100_000,
            ..EngineLimits::default()
        };
        let e = render(&style("Roboto_500"), "Hello world", &black(), &limits).unwrap_err();
        assert!(matches!(e, EngineError::TooLarge(_)), "{e}");
    }

    #[test]
    fn a_font_file_draws_like_the_bundled_family_it_holds() {
        let st = style("fonts:Brand-Bold.ttf_40");
        assert_eq!(st.font_asset().as_deref(), Some("fonts/Brand-Bold.ttf"));
        let mut paint = black();
        paint.font = Some(CustomFont::parse(include_bytes!("../fonts/Roboto-Bold.ttf")).unwrap());
        let custom = render(&st, "Hello", &paint, &EngineLimits::default()).unwrap();
        let bundled = draw("Roboto_40_bold", "Hello", &black());
        assert_eq!(
            (custom.width, custom.height),
            (bundled.width, bundled.height)
        );
        assert_eq!(custom.data, bundled.data);
        // Not a font: a 400, never a panic.
        let e = CustomFont::parse(b"definitely not a font").unwrap_err();
        assert!(matches!(e, EngineError::BadRequest(_)), "{e}");
        // Without its file the name is an unknown family.
        let e = render(&st, "Hello", &black(), &EngineLimits::default()).unwrap_err();
        assert!(e.to_string().contains("Unknown font family"), "{e}");
    }
}
