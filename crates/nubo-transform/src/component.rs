//! One `/`-separated component: a set of `key_value` items (§9.1).

use std::fmt;

use crate::effect::Effect;
use crate::error::{invalid, Result, TransformError};
use crate::expr::{valid_variable, Atom, Branch, EvalError, Expr, VarValue};
use crate::flags::Flag;
use crate::layer::{Layer, LayerSide};
use crate::params::{
    Angle, Background, Border, ColorSpace, CropMode, Dpr, FormatChoice, Gravity, Page, Quality,
    Radius,
};
use crate::value::{
    parse_decimal, parse_digits, parse_dim, parse_offset, Color, Decimal, Dim, Offset,
};

/// `ar_16:9` or `ar_1.5`; the spelling is kept for the canonical form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AspectRatio {
    Ratio(u32, u32),
    Decimal(f64),
}

impl AspectRatio {
    pub fn parse(v: &str) -> Result<Self> {
        let ar = match v.split_once(':') {
            Some((a, b)) => {
                let a: u32 =
                    parse_digits("aspect_ratio", a).map_err(|_| invalid("aspect_ratio", v))?;
                let b: u32 =
                    parse_digits("aspect_ratio", b).map_err(|_| invalid("aspect_ratio", v))?;
                AspectRatio::Ratio(a, b)
            }
            None => AspectRatio::Decimal(parse_decimal("aspect_ratio", v)?),
        };
        let r = ar.value();
        if r.is_finite() && (0.001..=1000.0).contains(&r) {
            Ok(ar)
        } else {
            Err(invalid("aspect_ratio", v))
        }
    }

    /// Width divided by height.
    pub fn value(self) -> f64 {
        match self {
            AspectRatio::Ratio(a, b) => a as f64 / b as f64,
            AspectRatio::Decimal(d) => d,
        }
    }
}

impl fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AspectRatio::Ratio(a, b) => write!(f, "{a}:{b}"),
            AspectRatio::Decimal(d) => Decimal(*d).fmt(f),
        }
    }
}

/// One component of a chained transformation, typed. Keys absent from
/// the URL are `None`; nothing is defaulted here so that the canonical
/// form writes back exactly what was asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Component {
    pub width: Option<Dim>,
    pub height: Option<Dim>,
    pub crop: Option<CropMode>,
    pub gravity: Option<Gravity>,
    pub x: Option<Offset>,
    pub y: Option<Offset>,
    pub zoom: Option<f64>,
    pub aspect_ratio: Option<AspectRatio>,
    pub quality: Option<Quality>,
    pub format: Option<FormatChoice>,
    pub dpr: Option<Dpr>,
    pub angle: Vec<Angle>,
    pub effect: Option<Effect>,
    pub radius: Option<Radius>,
    pub border: Option<Border>,
    pub background: Option<Background>,
    pub color: Option<Color>,
    pub opacity: Option<u8>,
    pub flags: Vec<Flag>,
    /// `t_a.b`: named transformations, expanded before anything runs.
    pub named: Vec<String>,
    /// `d_`: public id (folders already turned back into `/`) and extension.
    pub default_image: Option<String>,
    pub page: Option<Page>,
    pub density: Option<u32>,
    pub color_space: Option<ColorSpace>,
    /// `if_…`, `if_else`, `if_end` (§9.5).
    pub branch: Option<Branch>,
    /// `$name_value` definitions, in the order given.
    pub variables: Vec<(String, VarValue)>,
    /// Keys whose value is an expression (`w_iw_div_2`, `x_$pad`),
    /// evaluated when the component runs ([`Component::resolve`]).
    pub exprs: Vec<(&'static str, Expr)>,
    /// `l_` / `u_`: the layer this component opens (§9.4).
    pub layer: Option<Layer>,
}

/// Keys Cloudinary has and this server refuses, with what they are.
const UNSUPPORTED_KEYS: &[(&str, &str)] = &[
    ("fn", "Custom functions (fn_)"),
    ("p", "Sprite prefixes (p_)"),
    ("dl", "Animation delay (dl_)"),
    ("vc", "Video codec (vc_)"),
    ("ac", "Audio codec (ac_)"),
    ("br", "Video bit rate (br_)"),
    ("so", "Video start offset (so_)"),
    ("eo", "Video end offset (eo_)"),
    ("du", "Video duration (du_)"),
    ("fps", "Video frame rate (fps_)"),
    ("ki", "Keyframe interval (ki_)"),
    ("sp", "Streaming profile (sp_)"),
    ("vs", "Video sampling (vs_)"),
    ("af", "Audio frequency (af_)"),
];

/// Every key the grammar knows, supported or not. A path segment made of
/// these is a transformation, not a folder.
pub fn is_known_key(key: &str) -> bool {
    SUPPORTED_KEYS.contains(&key) || UNSUPPORTED_KEYS.iter().any(|(k, _)| *k == key)
}

const SUPPORTED_KEYS: &[&str] = &[
    "w", "h", "c", "g", "x", "y", "z", "ar", "q", "f", "dpr", "a", "e", "r", "bo", "b", "co", "o",
    "fl", "t", "d", "pg", "dn", "cs", "if", "l", "u",
];

/// Keys that take an arithmetic expression, and how its value is written
/// back: whole pixels or degrees, or a decimal.
const EXPR_KEYS: &[(&str, bool)] = &[
    ("w", true),
    ("h", true),
    ("x", true),
    ("y", true),
    ("a", true),
    ("o", true),
    ("z", false),
];

impl Component {
    /// What `dpr_` multiplies pixel sizes by: its value once resolved, 1
    /// when absent (or still `auto`, which `Resolved` replaces).
    pub fn dpr_factor(&self) -> f64 {
        match self.dpr {
            Some(Dpr::Value(d)) => d,
            _ => 1.0,
        }
    }

    /// Parses one component. Later duplicates of a key win, as in
    /// Cloudinary; the SDKs never emit them.
    pub fn parse(segment: &str) -> Result<Component> {
        if segment.is_empty() {
            return Err(TransformError::UnknownParameter(String::new()));
        }
        let mut c = Component::default();
        for item in segment.split(',') {
            c.set(item)?;
        }
        Ok(c)
    }

    fn set(&mut self, item: &str) -> Result<()> {
        if let Some(def) = item.strip_prefix('$') {
            let (name, v) = def
                .split_once('_')
                .filter(|(n, v)| valid_variable(n) && !v.is_empty())
                .ok_or_else(|| TransformError::UnknownParameter(item.to_owned()))?;
            let value = VarValue::parse(v)?;
            self.variables.retain(|(n, _)| n != name);
            self.variables.push((name.to_owned(), value));
            return Ok(());
        }
        let Some((key, v)) = item.split_once('_') else {
            return Err(TransformError::UnknownParameter(item.to_owned()));
        };
        if let Some((k, _)) = EXPR_KEYS.iter().find(|(k, _)| *k == key) {
            if is_expression(v) {
                self.exprs.retain(|(e, _)| e != k);
                self.exprs.push((k, Expr::parse(v)?));
                return Ok(());
            }
        }
        if let Some((_, what)) = UNSUPPORTED_KEYS.iter().find(|(k, _)| *k == key) {
            return Err(TransformError::Unsupported((*what).to_owned()));
        }
        if v.is_empty() {
            return Err(TransformError::UnknownParameter(item.to_owned()));
        }
        match key {
            "if" => self.branch = Some(Branch::parse(v)?),
            "w" => self.width = Some(size("width", v)?),
            "h" => self.height = Some(size("height", v)?),
            "c" => self.crop = Some(CropMode::parse(v)?.check_supported()?),
            "g" => self.gravity = Some(Gravity::parse(v)?),
            "x" => self.x = Some(offset("x", v)?),
            "y" => self.y = Some(offset("y", v)?),
            "z" => {
                let z = parse_decimal("zoom", v)?;
                if !(z > 0.0 && z <= 100.0) {
                    return Err(invalid("zoom", v));
                }
                self.zoom = Some(z)
            }
            "ar" => self.aspect_ratio = Some(AspectRatio::parse(v)?),
            "q" => self.quality = Some(Quality::parse(v)?),
            "f" => self.format = Some(FormatChoice::parse(v)?),
            "dpr" => self.dpr = Some(Dpr::parse(v)?),
            "a" => self.angle = Angle::parse_list(v)?,
            "e" => self.effect = Some(Effect::parse(v)?),
            "r" => self.radius = Some(Radius::parse(v)?),
            "bo" => self.border = Some(Border::parse(v)?),
            "b" => self.background = Some(Background::parse(v)?),
            "co" => self.color = Some(Color::parse("color", v)?),
            "o" => self.opacity = Some(crate::value::parse_int_in("opacity", v, 0, 100)? as u8),
            "fl" => {
                self.flags.extend(Flag::parse_list(v)?);
                self.flags.sort();
                self.flags.dedup();
            }
            "t" => {
                self.named = v
                    .split('.')
                    .map(|n| {
                        if valid_name(n) {
                            Ok(n.to_owned())
                        } else {
                            Err(invalid("transformation name", v))
                        }
                    })
                    .collect::<Result<_>>()?
            }
            "d" => self.default_image = Some(default_image(v)?),
            "pg" => self.page = Some(Page::parse(v)?),
            "dn" => {
                let d: u32 = parse_digits("density", v)?;
                if !(1..=300).contains(&d) {
                    return Err(invalid("density", v));
                }
                self.density = Some(d)
            }
            "cs" => self.color_space = Some(ColorSpace::parse_supported(v)?),
            "l" => self.layer = Some(Layer::parse(LayerSide::Over, v)?),
            "u" => self.layer = Some(Layer::parse(LayerSide::Under, v)?),
            _ => return Err(TransformError::UnknownParameter(item.to_owned())),
        }
        Ok(())
    }

    /// `key_value` items, sorted as the SDKs sort them.
    pub fn items(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |k: &str, v: String| out.push(format!("{k}_{v}"));
        if let Some(v) = self.width {
            push("w", v.to_string());
        }
        if let Some(v) = self.height {
            push("h", v.to_string());
        }
        if let Some(v) = self.crop {
            push("c", v.to_string());
        }
        if let Some(v) = self.gravity {
            push("g", v.to_string());
        }
        if let Some(v) = self.x {
            push("x", v.to_string());
        }
        if let Some(v) = self.y {
            push("y", v.to_string());
        }
        if let Some(v) = self.zoom {
            push("z", Decimal(v).to_string());
        }
        if let Some(v) = self.aspect_ratio {
            push("ar", v.to_string());
        }
        if let Some(v) = self.quality {
            push("q", v.to_string());
        }
        if let Some(v) = self.format {
            push("f", v.to_string());
        }
        if let Some(v) = self.dpr {
            push("dpr", v.to_string());
        }
        if !self.angle.is_empty() {
            push("a", join(&self.angle, "."));
        }
        if let Some(v) = &self.effect {
            push("e", v.to_string());
        }
        if let Some(v) = self.radius {
            push("r", v.to_string());
        }
        if let Some(v) = self.border {
            push("bo", v.to_string());
        }
        if let Some(v) = self.background {
            push("b", v.to_string());
        }
        if let Some(v) = self.color {
            push("co", v.to_string());
        }
        if let Some(v) = self.opacity {
            push("o", v.to_string());
        }
        if !self.flags.is_empty() {
            push("fl", join(&self.flags, "."));
        }
        if !self.named.is_empty() {
            push("t", self.named.join("."));
        }
        if let Some(v) = &self.default_image {
            push("d", v.replace('/', ":"));
        }
        if let Some(v) = self.page {
            push("pg", v.0.to_string());
        }
        if let Some(v) = self.density {
            push("dn", v.to_string());
        }
        if let Some(v) = self.color_space {
            push("cs", v.to_string());
        }
        if let Some(l) = &self.layer {
            push(l.key(), l.source.to_string());
        }
        for (k, e) in &self.exprs {
            push(k, e.to_string());
        }
        out.sort();
        // Cloudinary's order: the condition, then variables as given.
        let mut head: Vec<String> = self.branch.iter().map(|b| format!("if_{b}")).collect();
        head.extend(self.variables.iter().map(|(n, v)| format!("${n}_{v}")));
        head.extend(out);
        head
    }

    /// Whether running this component needs the image's state: a
    /// condition, variables or expressions.
    pub fn is_dynamic(&self) -> bool {
        self.branch.is_some() || !self.variables.is_empty() || !self.exprs.is_empty()
    }

    /// Whether running this component reads the asset's tags, context or
    /// metadata.
    pub fn reads_asset(&self) -> bool {
        let cond = matches!(&self.branch, Some(Branch::If(c)) if c.reads_asset());
        cond || self
            .variables
            .iter()
            .any(|(_, v)| matches!(v, VarValue::Expr(e) if e.reads_asset()))
            || self.exprs.iter().any(|(_, e)| e.reads_asset())
    }

    /// The component with its expressions evaluated (through `get`) and
    /// its condition and variables dropped: what the engine applies.
    pub fn resolve(
        &self,
        get: &mut dyn FnMut(&Atom) -> std::result::Result<f64, EvalError>,
    ) -> Result<Component> {
        let mut c = self.clone();
        c.branch = None;
        c.variables.clear();
        c.exprs.clear();
        for (k, e) in &self.exprs {
            let v = e.eval(get)?;
            let whole = EXPR_KEYS.iter().any(|(n, w)| n == k && *w);
            let text = if whole {
                format!("{}", v.round() as i64)
            } else {
                crate::value::Decimal(v).to_string()
            };
            c.set(&format!("{k}_{text}"))?;
        }
        Ok(c)
    }

    pub fn is_empty(&self) -> bool {
        self.items().is_empty()
    }

    pub fn has_flag(&self, flag: &Flag) -> bool {
        self.flags.contains(flag)
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.items().join(","))
    }
}

fn join<T: fmt::Display>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

fn size(what: &'static str, v: &str) -> Result<Dim> {
    if v == "auto" || v.starts_with("auto:") {
        return Err(TransformError::Unsupported(format!(
            "Automatic {what} ({}_{v})",
            &what[..1]
        )));
    }
    parse_dim(what, v)
}

fn offset(what: &'static str, v: &str) -> Result<Offset> {
    parse_offset(what, v)
}

/// Values like `iw_div_2`, `2_mul_$foo` or `$foo` (§9.1 rule 3).
fn is_expression(v: &str) -> bool {
    v.starts_with('$')
        || v.split('_')
            .any(|t| matches!(t, "add" | "sub" | "mul" | "div" | "mod" | "pow"))
        || v.split('_').next().is_some_and(|head| {
            matches!(
                head,
                "iw" | "ih" | "w" | "h" | "ar" | "iar" | "ow" | "oh" | "fc" | "pc" | "cp" | "tar"
            )
        })
}

/// Names of named transformations: what the Admin API accepts.
pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 100
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

fn default_image(v: &str) -> Result<String> {
    let id = v.replace(':', "/");
    let (stem, ext) = id
        .rsplit_once('.')
        .ok_or_else(|| invalid("default_image", v))?;
    if nubo_core::PublicId::parse(stem).is_err() || ext.is_empty() {
        return Err(invalid("default_image", v));
    }
    Ok(id)
}
