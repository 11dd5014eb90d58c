//! Chained components, named-transformation expansion, the canonical form
//! and the request-dependent choices (`f_auto`, `dpr_auto`).

use std::fmt;

use nubo_core::Format;

use crate::component::Component;
use crate::error::{invalid, Result, TransformError};
use crate::flags::Flag;
use crate::params::{Dpr, FormatChoice, Quality};

/// Most components a chain may have after expansion.
pub const MAX_COMPONENTS: usize = 32;
/// How deep named transformations may refer to other named ones.
pub const MAX_NAMED_DEPTH: usize = 5;

/// A chained transformation: components applied in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transformation {
    pub components: Vec<Component>,
}

impl Transformation {
    /// Parses `c_fill,w_100/e_sepia`. The empty string is the identity.
    pub fn parse(text: &str) -> Result<Transformation> {
        if text.is_empty() {
            return Ok(Transformation::default());
        }
        let components = text
            .split('/')
            .map(Component::parse)
            .collect::<Result<Vec<_>>>()?;
        if components.len() > MAX_COMPONENTS {
            return Err(TransformError::TooManyComponents(MAX_COMPONENTS));
        }
        check_flow(&components)?;
        check_layers(&components)?;
        Ok(Transformation { components })
    }

    /// Parses the path segments of a delivery URL.
    pub fn from_segments<S: AsRef<str>>(segments: &[S]) -> Result<Transformation> {
        let joined: Vec<&str> = segments.iter().map(|s| s.as_ref()).collect();
        Transformation::parse(&joined.join("/"))
    }

    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// The names of every `t_` reference, in order.
    pub fn named_refs(&self) -> Vec<&str> {
        self.components
            .iter()
            .flat_map(|c| c.named.iter().map(String::as_str))
            .collect()
    }

    /// Replaces every `t_` with the definition `lookup` returns. A
    /// component holding other keys beside `t_` keeps them as its own
    /// component after the named ones.
    pub fn expand(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Transformation> {
        let out = self.expand_depth(lookup, 0)?;
        if out.components.len() > MAX_COMPONENTS {
            return Err(TransformError::TooManyComponents(MAX_COMPONENTS));
        }
        check_flow(&out.components)?;
        check_layers(&out.components)?;
        Ok(out)
    }

    fn expand_depth(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        depth: usize,
    ) -> Result<Transformation> {
        let mut out = Vec::new();
        for c in &self.components {
            for name in &c.named {
                if depth >= MAX_NAMED_DEPTH {
                    return Err(TransformError::NamedTooDeep(name.clone()));
                }
                let def = lookup(name).ok_or_else(|| TransformError::UnknownNamed(name.clone()))?;
                let inner = Transformation::parse(&def)?.expand_depth(lookup, depth + 1)?;
                out.extend(inner.components);
                if out.len() > MAX_COMPONENTS {
                    return Err(TransformError::TooManyComponents(MAX_COMPONENTS));
                }
            }
            let mut rest = c.clone();
            rest.named.clear();
            if !rest.is_empty() || c.named.is_empty() {
                out.push(rest);
            }
        }
        Ok(Transformation { components: out })
    }

    /// Output format asked by `f_` (the last one wins).
    pub fn format(&self) -> Option<FormatChoice> {
        self.components.iter().rev().find_map(|c| c.format)
    }

    /// Encoder quality asked by `q_` (the last one wins).
    pub fn quality(&self) -> Option<Quality> {
        self.components.iter().rev().find_map(|c| c.quality)
    }

    pub fn uses_auto_dpr(&self) -> bool {
        self.components.iter().any(|c| c.dpr == Some(Dpr::Auto))
    }

    /// The first `d_` default image.
    pub fn default_image(&self) -> Option<&str> {
        self.components
            .iter()
            .find_map(|c| c.default_image.as_deref())
    }

    pub fn has_flag(&self, flag: &crate::flags::Flag) -> bool {
        self.components.iter().any(|c| c.has_flag(flag))
    }

    /// Every flag of the chain.
    pub fn flags(&self) -> impl Iterator<Item = &crate::flags::Flag> {
        self.components.iter().flat_map(|c| c.flags.iter())
    }
}

/// The canonical text: every component's items sorted, components joined
/// by `/`. Two spellings with one meaning print the same.
impl fmt::Display for Transformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.components.iter().map(|c| c.to_string()).collect();
        f.write_str(&parts.join("/"))
    }
}

/// What the request says about the client: `Accept` and the DPR hint.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClientHints {
    pub accepts_avif: bool,
    pub accepts_webp: bool,
    /// `Sec-CH-DPR` or `DPR`.
    pub dpr: Option<f64>,
}

impl ClientHints {
    /// Reads an `Accept` header value and a DPR header value.
    pub fn from_headers(accept: Option<&str>, dpr: Option<&str>) -> ClientHints {
        let accept = accept.unwrap_or("");
        let has = |mime: &str| {
            accept.split(',').any(|part| {
                let mut fields = part.split(';');
                let m = fields.next().unwrap_or("").trim();
                let q_zero = fields.any(|p| {
                    let p = p.trim();
                    p.strip_prefix("q=")
                        .or_else(|| p.strip_prefix("Q="))
                        .and_then(|q| q.trim().parse::<f64>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                m.eq_ignore_ascii_case(mime) && !q_zero
            })
        };
        ClientHints {
            accepts_avif: has("image/avif"),
            accepts_webp: has("image/webp"),
            dpr: dpr
                .and_then(|d| d.trim().parse::<f64>().ok())
                .filter(|d| d.is_finite() && *d > 0.0),
        }
    }
}

/// Which encoder `f_auto` may use, from the best format the client takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoFormat {
    Avif,
    Webp,
    /// Neither: JPEG, or PNG when the image has alpha, or GIF when animated.
    Legacy,
}

/// The output format before pixels are seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputTarget {
    Fixed(Format),
    Auto(AutoFormat),
}

impl fmt::Display for OutputTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputTarget::Fixed(x) => f.write_str(x.extension()),
            OutputTarget::Auto(AutoFormat::Avif) => f.write_str("auto:avif"),
            OutputTarget::Auto(AutoFormat::Webp) => f.write_str("auto:webp"),
            OutputTarget::Auto(AutoFormat::Legacy) => f.write_str("auto:legacy"),
        }
    }
}

/// Which request headers a response depends on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vary {
    pub accept: bool,
    pub dpr: bool,
}

/// A transformation with every request-dependent choice made: what the
/// engine runs and what the derived-file cache is keyed by.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub transformation: Transformation,
    pub target: OutputTarget,
    pub vary: Vary,
}

/// Rounds a client DPR the way responsive images need it (whole steps up
/// to the cap), so a handful of derived files serve every device.
fn round_dpr(d: f64) -> f64 {
    d.ceil().clamp(1.0, crate::params::MAX_DPR)
}

impl Resolved {
    /// `requested` is the URL's extension, if any; `original` the stored
    /// format; the last `f_` overrides both.
    pub fn new(
        t: &Transformation,
        requested: Option<Format>,
        original: Format,
        hints: &ClientHints,
    ) -> Resolved {
        let mut transformation = t.clone();
        let mut vary = Vary::default();
        for c in &mut transformation.components {
            if c.dpr == Some(Dpr::Auto) {
                c.dpr = Some(Dpr::Value(round_dpr(hints.dpr.unwrap_or(1.0))));
                vary.dpr = true;
            }
        }
        let target = match t.format() {
            Some(FormatChoice::Fixed(f)) => OutputTarget::Fixed(f),
            Some(FormatChoice::Auto) => {
                vary.accept = true;
                OutputTarget::Auto(if hints.accepts_avif {
                    AutoFormat::Avif
                } else if hints.accepts_webp {
                    AutoFormat::Webp
                } else {
                    AutoFormat::Legacy
                })
            }
            None => OutputTarget::Fixed(requested.unwrap_or(original)),
        };
        if matches!(t.quality(), Some(Quality::Auto(_))) {
            vary.accept = true;
        }
        Resolved {
            transformation,
            target,
            vary,
        }
    }

    /// Whether the rendering depends on the asset's tags, context or
    /// metadata, besides its pixels: the cache key must then carry them.
    pub fn reads_asset(&self) -> bool {
        self.transformation
            .components
            .iter()
            .any(Component::reads_asset)
    }

    /// The derived-file cache key: canonical chain plus output target.
    pub fn cache_key(&self) -> String {
        format!("{}|{}", self.transformation, self.target)
    }
}

/// Every `fl_layer_apply` closes a layer, and blend effects only place
/// one.
fn check_layers(components: &[Component]) -> Result<()> {
    let steps = crate::layer::steps(components)?;
    let mut placing = Vec::new();
    collect_placements(&steps, &mut placing);
    for c in components {
        let places = placing.iter().any(|p| std::ptr::eq(*p, c));
        if let Some(e @ crate::effect::Effect::Blend(_)) = &c.effect {
            if !places {
                return Err(TransformError::Unsupported(format!(
                    "e_{e} outside a layer"
                )));
            }
        }
        if c.has_flag(&Flag::Cutter) && !places && c.layer.is_none() {
            return Err(invalid("flag", "fl_cutter outside a layer"));
        }
        let text = matches!(
            c.layer.as_ref().map(|l| &l.source),
            Some(crate::LayerSource::Text { .. })
        );
        for f in [Flag::TextNoTrim, Flag::TextDisallowOverflow] {
            if c.has_flag(&f) && !text {
                return Err(invalid("flag", &format!("fl_{f} outside a text layer")));
            }
        }
    }
    Ok(())
}

fn collect_placements<'a>(steps: &'a [crate::layer::Step<'a>], out: &mut Vec<&'a Component>) {
    for s in steps {
        if let crate::layer::Step::Layer(g) = s {
            out.push(g.placement());
            collect_placements(&g.inner, out);
        }
    }
}

/// Keys a condition cannot govern: they decide the output file as a whole
/// (format, quality, flags) or the input (page, density, default image).
type Has = fn(&Component) -> bool;

const UNCONDITIONAL: &[(&str, Has)] = &[
    ("f_", |c| c.format.is_some()),
    ("q_", |c| c.quality.is_some()),
    ("fl_", |c| !c.flags.is_empty()),
    ("dpr_", |c| c.dpr.is_some()),
    ("d_", |c| c.default_image.is_some()),
    ("pg_", |c| c.page.is_some()),
    ("dn_", |c| c.density.is_some()),
    ("l_/u_", |c| c.layer.is_some()),
];

/// `if_` blocks are balanced, `if_else`/`if_end` stand alone, and what a
/// condition governs can be applied or skipped component by component.
fn check_flow(components: &[Component]) -> Result<()> {
    use crate::expr::Branch;
    let flow = |m: &str| Err(TransformError::Flow(m.to_owned()));
    // Per open block: whether its `if_else` was seen.
    let mut open: Vec<bool> = Vec::new();
    for c in components {
        let alone = c.items().len() == 1;
        let inline = matches!(c.branch, Some(Branch::If(_))) && !alone;
        match c.branch {
            Some(Branch::If(_)) if alone => open.push(false),
            Some(Branch::Else) if !alone => return flow("if_else stands alone in its component"),
            Some(Branch::End) if !alone => return flow("if_end stands alone in its component"),
            Some(Branch::Else) => match open.last_mut() {
                Some(seen) if !*seen => *seen = true,
                Some(_) => return flow("two if_else in one block"),
                None => return flow("if_else without if_"),
            },
            Some(Branch::End) if open.pop().is_none() => return flow("if_end without if_"),
            _ => {}
        }
        if open.is_empty() && !inline {
            continue;
        }
        if let Some((key, _)) = UNCONDITIONAL.iter().find(|(_, has)| has(c)) {
            return Err(TransformError::Unsupported(format!(
                "{key} inside a conditional transformation"
            )));
        }
        if inline && !c.named.is_empty() {
            return Err(TransformError::Unsupported(
                "t_ in a component with its own if_ (use an if_ block)".into(),
            ));
        }
    }
    if !open.is_empty() {
        return flow("if_ without if_end");
    }
    Ok(())
}
