//! `l_` / `u_`: layers (§9.4): which image or text a component lays over
//! or under the picture, and how a chain groups into layers.
//!
//! Values arrive as the URL carries them (percent-encoded once). Public
//! ids and font names are decoded once; a text is decoded twice, because
//! the SDKs escape `,` `/` and `%` in it twice so that they survive the
//! component and chain splits.

use std::fmt;

use nubo_core::{DeliveryType, Format, PublicId};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::component::Component;
use crate::error::{invalid, Result, TransformError};
use crate::flags::Flag;
use crate::value::parse_decimal;

/// Longest text a text layer takes, in bytes once decoded.
pub const MAX_TEXT_BYTES: usize = 2000;
/// Largest font size, in pixels.
pub const MAX_FONT_SIZE: u32 = 1000;

/// Over (`l_`) or under (`u_`) the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerSide {
    Over,
    Under,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub side: LayerSide,
    pub source: LayerSource,
}

/// What a layer shows.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerSource {
    /// Another stored image.
    Asset(AssetRef),
    /// A text rendered with a style given inline or stored by the `text`
    /// Upload API method.
    Text { style: TextStyleRef, text: String },
    /// A remote image: `l_fetch:<base64url(url)>`.
    Fetch(String),
}

/// A stored image named by a layer: `l_folder:logo.png`, `l_private:id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssetRef {
    pub delivery_type: DeliveryType,
    pub public_id: String,
    pub format: Option<Format>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TextStyleRef {
    Inline(TextStyle),
    /// The public id of a `text`-type image whose style is reused.
    Stored(String),
}

/// `Arial_48_bold_italic_underline_center_stroke_letter_spacing_2`.
#[derive(Debug, Clone, PartialEq)]
pub struct TextStyle {
    /// As written (decoded), e.g. `Open Sans`.
    pub family: String,
    pub size: u32,
    pub weight: FontWeight,
    pub italic: bool,
    pub decoration: Decoration,
    pub align: Option<TextAlign>,
    /// Outline the glyphs with the component's `bo_`.
    pub stroke: bool,
    pub letter_spacing: Option<f64>,
    pub line_spacing: Option<f64>,
    pub antialias: Option<Antialias>,
    pub hinting: Option<Hinting>,
}

macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($v:ident => $t:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($v),+ }
        impl $name {
            fn from_word(w: &str) -> Option<Self> {
                match w { $($t => Some($name::$v),)+ _ => None }
            }
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $t),+ }
            }
        }
    };
}

words!(
    /// CSS weights by name.
    FontWeight {
        Thin => "thin", ExtraLight => "extralight", Light => "light", Normal => "normal",
        Medium => "medium", SemiBold => "semibold", Bold => "bold", ExtraBold => "extrabold",
        Black => "black",
    }
);
words!(Decoration { None => "none", Underline => "underline", Strikethrough => "strikethrough" });
words!(TextAlign { Left => "left", Center => "center", Right => "right", Justify => "justify", Start => "start", End => "end" });
words!(Antialias { None => "none", Gray => "gray", Subpixel => "subpixel", Fast => "fast", Good => "good", Best => "best" });
words!(Hinting { None => "none", Slight => "slight", Medium => "medium", Full => "full" });

impl FontWeight {
    /// The CSS number.
    pub fn number(self) -> u16 {
        match self {
            FontWeight::Thin => 100,
            FontWeight::ExtraLight => 200,
            FontWeight::Light => 300,
            FontWeight::Normal => 400,
            FontWeight::Medium => 500,
            FontWeight::SemiBold => 600,
            FontWeight::Bold => 700,
            FontWeight::ExtraBold => 800,
            FontWeight::Black => 900,
        }
    }
}

/// What the canonical form escapes in a text, before the second pass.
const TEXT_FIRST: &AsciiSet = &percent_encoding::CONTROLS.add(b'%').add(b',').add(b'/');
/// Everything but what the SDKs leave bare (`smart_escape`).
const URL_PART: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b':');

pub(crate) fn decode_once(what: &'static str, v: &str) -> Result<String> {
    percent_decode_str(v)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| invalid(what, v))
}

impl Layer {
    pub fn parse(side: LayerSide, v: &str) -> Result<Layer> {
        let source = LayerSource::parse(v)?;
        Ok(Layer { side, source })
    }

    pub fn key(&self) -> &'static str {
        match self.side {
            LayerSide::Over => "l",
            LayerSide::Under => "u",
        }
    }
}

impl LayerSource {
    fn parse(v: &str) -> Result<LayerSource> {
        let mut parts: Vec<&str> = v.split(':').collect();
        match parts[0] {
            "image" => {
                parts.remove(0);
            }
            "video" | "raw" | "subtitles" | "lut" | "audio" => {
                return Err(TransformError::Unsupported(format!(
                    "Layers of {} files (l_{}:)",
                    parts[0], parts[0]
                )))
            }
            _ => {}
        }
        match parts.first().copied() {
            Some("text") => return parse_text(&parts[1..], v),
            Some("fetch") => return parse_fetch(&parts[1..], v),
            _ => {}
        }
        let delivery_type = match parts.first().and_then(|p| DeliveryType::parse(p).ok()) {
            Some(dt) if parts.len() > 1 => {
                parts.remove(0);
                dt
            }
            _ => DeliveryType::Upload,
        };
        let id = decode_once("layer", &parts.join("/"))?;
        let (stem, format) = match id.rsplit_once('.') {
            Some((stem, ext)) if Format::from_extension(ext).is_some() => {
                (stem.to_owned(), Format::from_extension(ext))
            }
            _ => (id.clone(), None),
        };
        PublicId::parse(&stem).map_err(|_| invalid("layer", v))?;
        Ok(LayerSource::Asset(AssetRef {
            delivery_type,
            public_id: stem,
            format,
        }))
    }
}

fn parse_fetch(rest: &[&str], whole: &str) -> Result<LayerSource> {
    use base64::Engine as _;
    let b64 = rest.join(":");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('='))
        .map_err(|_| invalid("fetch layer", whole))?;
    let url = String::from_utf8(bytes).map_err(|_| invalid("fetch layer", whole))?;
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) || url.len() > 2048 {
        return Err(invalid("fetch layer", whole));
    }
    Ok(LayerSource::Fetch(url))
}

fn parse_text(rest: &[&str], whole: &str) -> Result<LayerSource> {
    // `text:<style>:<text>`; the text may hold more colons, and so may a
    // font file's public id (`text:fonts:Brand.ttf_40:Hi`).
    let inline_first = rest.first().is_some_and(|s| inline_style(s));
    let font_at = rest.iter().position(|seg| {
        let lower = seg.to_ascii_lowercase();
        lower.contains(".ttf_") || lower.contains(".otf_")
    });
    let split = match font_at {
        Some(i) if !inline_first && i + 1 < rest.len() => i,
        _ => 0,
    };
    let (Some(style), Some(text)) = (rest.get(..=split), rest.get(split + 1..)) else {
        return Err(invalid("text layer (l_text:<font>_<size>:<text>)", whole));
    };
    if text.is_empty() {
        return Err(invalid("text layer (l_text:<font>_<size>:<text>)", whole));
    }
    let style = style.join(":");
    let style = style.as_str();
    let text = decode_once("text layer", &decode_once("text layer", &text.join(":"))?)?;
    if text.is_empty() || text.len() > MAX_TEXT_BYTES {
        return Err(invalid("text layer", whole));
    }
    let style = decode_once("text style", style)?;
    let style = if inline_style(&style) {
        TextStyleRef::Inline(TextStyle::parse(&style)?)
    } else {
        PublicId::parse(&style.replace(':', "/")).map_err(|_| invalid("text style", &style))?;
        TextStyleRef::Stored(style)
    };
    Ok(LayerSource::Text { style, text })
}

impl TextStyle {
    /// The raw asset holding the font, when the family names a font file.
    pub fn font_asset(&self) -> Option<String> {
        font_file(&self.family)
    }

    /// A style with every optional part at its default.
    pub fn new(family: &str, size: u32) -> TextStyle {
        TextStyle {
            family: family.to_owned(),
            size,
            weight: FontWeight::Normal,
            italic: false,
            decoration: Decoration::None,
            align: None,
            stroke: false,
            letter_spacing: None,
            line_spacing: None,
            antialias: None,
            hinting: None,
        }
    }

    /// Parses the decoded `family_size[_keyword…]`.
    pub fn parse(s: &str) -> Result<TextStyle> {
        let bad = || invalid("text style", s);
        let mut it = s.split('_');
        let family = it.next().filter(|f| valid_family(f)).ok_or_else(bad)?;
        let size: u32 = it.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
        if !(1..=MAX_FONT_SIZE).contains(&size) {
            return Err(bad());
        }
        let mut st = TextStyle::new(family, size);
        let number = |v: Option<&str>| -> Result<f64> {
            let n = parse_decimal("text style", v.ok_or_else(bad)?)?;
            (-1000.0..=1000.0).contains(&n).then_some(n).ok_or_else(bad)
        };
        while let Some(w) = it.next() {
            match w {
                "italic" => st.italic = true,
                "normal" => {}
                "stroke" => st.stroke = true,
                "letter" | "line" => {
                    let kind = w;
                    if it.next() != Some("spacing") {
                        return Err(bad());
                    }
                    let n = Some(number(it.next())?);
                    if kind == "letter" {
                        st.letter_spacing = n
                    } else {
                        st.line_spacing = n
                    }
                }
                "antialias" => {
                    st.antialias = Some(it.next().and_then(Antialias::from_word).ok_or_else(bad)?)
                }
                "hinting" => {
                    st.hinting = Some(it.next().and_then(Hinting::from_word).ok_or_else(bad)?)
                }
                _ => {
                    if let Some(fw) = FontWeight::from_word(w) {
                        st.weight = fw;
                    } else if let Some(d) = Decoration::from_word(w) {
                        st.decoration = d;
                    } else if let Some(a) = TextAlign::from_word(w) {
                        st.align = Some(a);
                    } else {
                        return Err(bad());
                    }
                }
            }
        }
        Ok(st)
    }
}

/// Letters, digits, spaces and hyphens: every font name we bundle, and
/// nothing that could break out of the SVG we build; or a font file.
fn valid_family(f: &str) -> bool {
    !f.is_empty()
        && f.len() <= 100
        && (f
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
            || font_file(f).is_some())
}

/// Whether a text layer's style is written out (`<family>_<size>…`) rather
/// than the public id of a stored one.
fn inline_style(s: &str) -> bool {
    s.split('_')
        .nth(1)
        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

/// `fonts:Brand-Bold.ttf`: a TrueType or OpenType font uploaded as a raw
/// asset, named by its public id (`:` for `/`, as layers name assets).
pub fn font_file(f: &str) -> Option<String> {
    let lower = f.to_ascii_lowercase();
    let named = lower.ends_with(".ttf") || lower.ends_with(".otf");
    let plain = f
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.'));
    (named && plain && !f.starts_with(['.', ':'])).then(|| f.replace(':', "/"))
}

impl fmt::Display for TextStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = utf8_percent_encode(&self.family, URL_PART).to_string();
        write!(f, "{family}_{}", self.size)?;
        if self.weight != FontWeight::Normal {
            write!(f, "_{}", self.weight.as_str())?;
        }
        if self.italic {
            f.write_str("_italic")?;
        }
        if self.decoration != Decoration::None {
            write!(f, "_{}", self.decoration.as_str())?;
        }
        if let Some(a) = self.align {
            write!(f, "_{}", a.as_str())?;
        }
        if self.stroke {
            f.write_str("_stroke")?;
        }
        if let Some(n) = self.letter_spacing {
            write!(f, "_letter_spacing_{}", spacing(n))?;
        }
        if let Some(n) = self.line_spacing {
            write!(f, "_line_spacing_{}", spacing(n))?;
        }
        if let Some(a) = self.antialias {
            write!(f, "_antialias_{}", a.as_str())?;
        }
        if let Some(h) = self.hinting {
            write!(f, "_hinting_{}", h.as_str())?;
        }
        Ok(())
    }
}

/// Spacings as the SDKs write them: whole numbers without a decimal point.
fn spacing(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        crate::value::Decimal(n).to_string()
    }
}

/// The text as the SDKs write it: `,` `/` `%` escaped twice, the rest once.
pub fn escape_text(text: &str) -> String {
    let first = utf8_percent_encode(text, TEXT_FIRST).to_string();
    utf8_percent_encode(&first, URL_PART).to_string()
}

impl fmt::Display for AssetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.delivery_type != DeliveryType::Upload {
            write!(f, "{}:", self.delivery_type.as_str())?;
        }
        let id = utf8_percent_encode(&self.public_id, URL_PART)
            .to_string()
            .replace("%2F", ":");
        f.write_str(&id)?;
        if let Some(fmt) = self.format {
            write!(f, ".{}", fmt.extension())?;
        }
        Ok(())
    }
}

impl fmt::Display for LayerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerSource::Asset(a) => a.fmt(f),
            LayerSource::Text { style, text } => {
                let style = match style {
                    TextStyleRef::Inline(s) => s.to_string(),
                    TextStyleRef::Stored(id) => utf8_percent_encode(id, URL_PART).to_string(),
                };
                write!(f, "text:{style}:{}", escape_text(text))
            }
            LayerSource::Fetch(url) => {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::URL_SAFE.encode(url);
                write!(f, "fetch:{b64}")
            }
        }
    }
}

/// A chain split into what runs on the picture and what runs on layers.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<'a> {
    /// An ordinary component (or one steering an `if_` block).
    Apply(&'a Component),
    Layer(LayerGroup<'a>),
}

/// A layer: the component naming it, the components that transform it
/// and the `fl_layer_apply` component that places it. Without `apply`,
/// the opening component places the layer itself (its `g`, `x`, `y`).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerGroup<'a> {
    pub open: &'a Component,
    pub inner: Vec<Step<'a>>,
    pub apply: Option<&'a Component>,
}

impl LayerGroup<'_> {
    pub fn layer(&self) -> &Layer {
        self.open
            .layer
            .as_ref()
            .expect("a group opens with a layer")
    }

    /// The component carrying the placement: `g`, `x`, `y`, flags, blend.
    pub fn placement(&self) -> &Component {
        self.apply.unwrap_or(self.open)
    }
}

/// Groups a chain: each `fl_layer_apply` closes the most recent open
/// layer; a layer no `fl_layer_apply` closes stands in its own component.
pub fn steps(components: &[Component]) -> Result<Vec<Step<'_>>> {
    let closes = matching(components)?;
    Ok(build(components, &closes, 0, components.len()))
}

/// For each component opening a layer, the index of the component
/// applying it.
fn matching(components: &[Component]) -> Result<Vec<Option<usize>>> {
    let mut closes = vec![None; components.len()];
    let mut open: Vec<usize> = Vec::new();
    for (i, c) in components.iter().enumerate() {
        let applies = c.has_flag(&Flag::LayerApply);
        match (&c.layer, applies) {
            (Some(_), false) => open.push(i),
            (Some(_), true) => {}
            (None, true) => {
                let o = open.pop().ok_or_else(|| {
                    TransformError::Flow("fl_layer_apply without an l_ or u_ layer".into())
                })?;
                closes[o] = Some(i);
            }
            (None, false) => {}
        }
    }
    Ok(closes)
}

fn build<'a>(
    cs: &'a [Component],
    closes: &[Option<usize>],
    from: usize,
    to: usize,
) -> Vec<Step<'a>> {
    let mut out = Vec::new();
    let mut i = from;
    while i < to {
        let c = &cs[i];
        if c.layer.is_none() {
            out.push(Step::Apply(c));
            i += 1;
            continue;
        }
        match closes[i] {
            Some(j) => {
                out.push(Step::Layer(LayerGroup {
                    open: c,
                    inner: build(cs, closes, i + 1, j),
                    apply: Some(&cs[j]),
                }));
                i = j + 1;
            }
            None => {
                out.push(Step::Layer(LayerGroup {
                    open: c,
                    inner: Vec::new(),
                    apply: None,
                }));
                i += 1;
            }
        }
    }
    out
}

/// Every layer source of a chain, in order, nested ones included.
pub fn sources(components: &[Component]) -> Vec<&LayerSource> {
    components
        .iter()
        .filter_map(|c| c.layer.as_ref().map(|l| &l.source))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(v: &str) -> LayerSource {
        LayerSource::parse(v).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    #[test]
    fn asset_layers() {
        let table = [
            ("logo", DeliveryType::Upload, "logo", None),
            (
                "folder:logo.png",
                DeliveryType::Upload,
                "folder/logo",
                Some(Format::Png),
            ),
            ("image:private:a:b", DeliveryType::Private, "a/b", None),
            (
                "authenticated:x.jpg",
                DeliveryType::Authenticated,
                "x",
                Some(Format::Jpg),
            ),
            ("my%20logo", DeliveryType::Upload, "my logo", None),
            ("v1.2", DeliveryType::Upload, "v1.2", None),
        ];
        for (v, dt, id, fmt) in table {
            let LayerSource::Asset(a) = src(v) else {
                panic!("{v}")
            };
            assert_eq!(
                (a.delivery_type, a.public_id.as_str(), a.format),
                (dt, id, fmt),
                "{v}"
            );
            assert_eq!(src(&a.to_string()), LayerSource::Asset(a.clone()), "{v}");
        }
        for bad in ["", "a%ZZ", "folder:", "video:dog"] {
            assert!(LayerSource::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_layers_decode_twice_and_round_trip() {
        let LayerSource::Text { style, text } =
            src("text:Arial_64_bold_underline_center_letter_spacing_2:Hello%252C%20World%252F1")
        else {
            panic!()
        };
        assert_eq!(text, "Hello, World/1");
        let TextStyleRef::Inline(st) = &style else {
            panic!()
        };
        assert_eq!(st.family, "Arial");
        assert_eq!(st.size, 64);
        assert_eq!(st.weight, FontWeight::Bold);
        assert_eq!(st.decoration, Decoration::Underline);
        assert_eq!(st.align, Some(TextAlign::Center));
        assert_eq!(st.letter_spacing, Some(2.0));
        let again = LayerSource::Text {
            style: style.clone(),
            text: text.clone(),
        };
        assert_eq!(src(&again.to_string()), again);
        assert_eq!(escape_text("50% off, now"), "50%2525%20off%252C%20now");
        let LayerSource::Text { style, text } = src("text:my_style:a:b") else {
            panic!()
        };
        assert_eq!(style, TextStyleRef::Stored("my_style".into()));
        assert_eq!(text, "a:b");
        let LayerSource::Text { style, .. } = src("text:Open%20Sans_20_italic_stroke:x") else {
            panic!()
        };
        let TextStyleRef::Inline(st) = style else {
            panic!()
        };
        assert!(st.italic && st.stroke);
        assert_eq!(st.to_string(), "Open%20Sans_20_italic_stroke");
        for bad in [
            "text:Arial_20",
            "text:Arial_20:",
            "text:Arial_0:x",
            "text:Arial_20_wobbly:x",
            "text:Arial_20_letter_spacing:x",
            "text:Ari<al_20:x",
        ] {
            assert!(LayerSource::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fetch_layers() {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE.encode("https://e.com/a.png?x=1");
        assert_eq!(
            src(&format!("fetch:{b64}")),
            LayerSource::Fetch("https://e.com/a.png?x=1".into())
        );
        let ftp = base64::engine::general_purpose::URL_SAFE.encode("ftp://e.com/a.png");
        assert!(LayerSource::parse(&format!("fetch:{ftp}")).is_err());
        assert!(LayerSource::parse("fetch:!!").is_err());
    }

    fn chain(t: &str) -> Vec<Component> {
        t.split('/').map(|c| Component::parse(c).unwrap()).collect()
    }

    fn shape(steps: &[Step]) -> String {
        steps
            .iter()
            .map(|s| match s {
                Step::Apply(c) => c.to_string(),
                Step::Layer(g) => format!(
                    "[{}|{}|{}]",
                    g.open,
                    shape(&g.inner),
                    g.apply.map(|a| a.to_string()).unwrap_or_default()
                ),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn grouping() {
        let table = [
            ("w_100/l_logo,w_20", "w_100 [l_logo,w_20||]"),
            (
                "l_logo/e_sepia/fl_layer_apply,g_north/w_50",
                "[l_logo|e_sepia:80|fl_layer_apply,g_north] w_50",
            ),
            (
                "l_a/l_b/fl_layer_apply/fl_layer_apply",
                "[l_a|[l_b||fl_layer_apply]|fl_layer_apply]",
            ),
            ("l_a/l_b/fl_layer_apply", "[l_a||] [l_b||fl_layer_apply]"),
        ];
        for (t, want) in table {
            let cs = chain(t);
            assert_eq!(shape(&steps(&cs).unwrap()), want, "{t}");
        }
        assert!(steps(&chain("w_10/fl_layer_apply")).is_err());
    }
}
