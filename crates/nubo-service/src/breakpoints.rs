//! `responsive_breakpoints` at upload: for each requested setting, the
//! widths between `max_width` and `min_width` at which consecutive
//! renditions differ by about `bytes_step` bytes, measured by rendering
//! them, and kept as derived files when `create_derived` is set.

use nubo_catalog::Asset;
use nubo_core::Format;
use nubo_transform::{ClientHints, Resolved, Transformation};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Result, Service, ServiceError};

/// At most this many settings in one request, and images per setting.
const MAX_SPECS: usize = 10;
const MAX_IMAGES: u32 = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default)]
    create_derived: bool,
    bytes_step: Option<u64>,
    min_width: Option<u32>,
    max_width: Option<u32>,
    max_images: Option<u32>,
    transformation: Option<String>,
    format: Option<String>,
}

/// One setting, checked.
#[derive(Debug, Clone)]
pub(crate) struct BreakpointSpec {
    create_derived: bool,
    bytes_step: u64,
    min_width: u32,
    max_width: u32,
    max_images: u32,
    /// Applied before the scaling, as in Cloudinary's URLs.
    transformation: Option<(String, Transformation)>,
    format: Option<Format>,
}

fn bad(m: impl Into<String>) -> ServiceError {
    ServiceError::InvalidParam(format!("Invalid responsive_breakpoints: {}", m.into()))
}

/// A JSON object or array of them, as the SDKs send it.
pub(crate) fn parse_specs(raw: &str) -> Result<Vec<BreakpointSpec>> {
    let value: Value = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
    let list = match value {
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => return Err(bad("expected a JSON object or array")),
    };
    if list.is_empty() || list.len() > MAX_SPECS {
        return Err(bad(format!("between 1 and {MAX_SPECS} settings")));
    }
    list.into_iter().map(spec).collect()
}

fn spec(v: Value) -> Result<BreakpointSpec> {
    let raw: RawSpec = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
    let min_width = raw.min_width.unwrap_or(50);
    let max_width = raw.max_width.unwrap_or(1000);
    let max_images = raw.max_images.unwrap_or(20);
    let bytes_step = raw.bytes_step.unwrap_or(20_000);
    if min_width == 0 || min_width > max_width || max_width > nubo_transform::MAX_PX {
        return Err(bad("min_width must be at least 1 and at most max_width"));
    }
    if !(1..=MAX_IMAGES).contains(&max_images) || bytes_step < 100 {
        return Err(bad(format!(
            "max_images is 1 to {MAX_IMAGES} and bytes_step at least 100"
        )));
    }
    let transformation = match raw.transformation.filter(|t| !t.is_empty()) {
        Some(t) => {
            let parsed = Transformation::parse(&t).map_err(|e| bad(e.to_string()))?;
            Some((parsed.to_string(), parsed))
        }
        None => None,
    };
    let format = match raw.format {
        Some(f) => Some(
            Format::from_extension(&f)
                .filter(|f| nubo_transform::is_encodable(*f))
                .ok_or_else(|| bad(format!("format {f}")))?,
        ),
        None => None,
    };
    Ok(BreakpointSpec {
        create_derived: raw.create_derived,
        bytes_step,
        min_width,
        max_width,
        max_images,
        transformation,
        format,
    })
}

/// One rendition measured.
struct Point {
    width: u32,
    height: u32,
    bytes: u64,
    text: String,
    format: String,
}

impl Service {
    /// The `responsive_breakpoints` of an upload response.
    pub(crate) async fn responsive_breakpoints(
        &self,
        asset: &Asset,
        specs: &[BreakpointSpec],
    ) -> Result<Value> {
        let Some(original) = asset.format.as_deref().and_then(Format::from_extension) else {
            return Err(ServiceError::Unsupported(
                "responsive_breakpoints need an image".into(),
            ));
        };
        let mut out = Vec::new();
        for s in specs {
            let points = self.breakpoints_of(asset, original, s).await?;
            let list: Vec<Value> = points
                .iter()
                .map(|p| {
                    let mut shown = asset.clone();
                    shown.format = Some(p.format.clone());
                    let (url, secure_url) = self.urls.of_asset(&shown, Some(&p.text));
                    json!({"width": p.width, "height": p.height, "bytes": p.bytes,
                           "url": url, "secure_url": secure_url})
                })
                .collect();
            let t = s.transformation.as_ref().map_or("", |(t, _)| t.as_str());
            out.push(json!({"breakpoints": list, "transformation": t}));
        }
        Ok(Value::Array(out))
    }

    /// Widest first: each next width is where the file should be
    /// `bytes_step` smaller, taking bytes to grow with the pixel count,
    /// then measured; `min_width` closes the list.
    async fn breakpoints_of(
        &self,
        asset: &Asset,
        original: Format,
        s: &BreakpointSpec,
    ) -> Result<Vec<Point>> {
        let original_width = asset.width.unwrap_or(1).clamp(1, u32::MAX as i64) as u32;
        let top = s.max_width.min(original_width);
        let bottom = s.min_width.min(top);
        // Measured-only renditions render from the original, read once.
        let source = match s.create_derived {
            true => None,
            false => Some(
                self.read_blob(&nubo_blob::BlobKey::parse(&asset.blob_key)?)
                    .await?,
            ),
        };
        let source = source.as_ref();
        let mut points = vec![self.measure(asset, original, s, top, source).await?];
        while (points.len() as u32) < s.max_images {
            let last = points.last().expect("one point at least");
            if last.width <= bottom {
                break;
            }
            let target = last.bytes as f64 - s.bytes_step as f64;
            let next = if target <= 0.0 {
                bottom
            } else {
                let w = (last.width as f64 * (target / last.bytes as f64).sqrt()).floor() as u32;
                w.clamp(bottom, last.width - 1)
            };
            points.push(self.measure(asset, original, s, next, source).await?);
        }
        Ok(points)
    }

    async fn measure(
        &self,
        asset: &Asset,
        original: Format,
        s: &BreakpointSpec,
        width: u32,
        source: Option<&bytes::Bytes>,
    ) -> Result<Point> {
        let scale = format!("c_scale,w_{width}");
        let text = match &s.transformation {
            Some((t, _)) => format!("{t}/{scale}"),
            None => scale,
        };
        let t = Transformation::parse(&text).map_err(|e| bad(e.to_string()))?;
        let plan = Resolved::new(&t, s.format, original, &ClientHints::default());
        let Some(bytes) = source else {
            let d = self.derived_file(asset, &plan).await?;
            return Ok(Point {
                width: d.width as u32,
                height: d.height as u32,
                bytes: d.bytes as u64,
                text,
                format: d.format,
            });
        };
        let mut job = self.job(&asset.loc.scope.cloud, original, plan).await?;
        job.asset = crate::conditions::asset_data(asset);
        let r = self.engine.render(bytes.clone(), job).await?;
        Ok(Point {
            width: r.width,
            height: r.height,
            bytes: r.bytes.len() as u64,
            text,
            format: r.format.map_or("json", |f| f.extension()).to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_with_defaults_and_limits() {
        let s = parse_specs(r#"{"create_derived": true}"#).unwrap();
        assert_eq!(
            (
                s[0].min_width,
                s[0].max_width,
                s[0].max_images,
                s[0].bytes_step
            ),
            (50, 1000, 20, 20_000)
        );
        let two = parse_specs(
            r#"[{"create_derived": false, "max_width": 300, "transformation": "e_sepia"},
                {"create_derived": true, "format": "webp", "bytes_step": 5000}]"#,
        )
        .unwrap();
        assert_eq!(two[0].transformation.as_ref().unwrap().0, "e_sepia:80");
        assert_eq!(two[1].format, Some(Format::Webp));
        for bad in [
            "nope",
            "[]",
            r#"{"min_width": 0}"#,
            r#"{"min_width": 500, "max_width": 100}"#,
            r#"{"max_images": 0}"#,
            r#"{"bytes_step": 1}"#,
            r#"{"transformation": "w_abc"}"#,
            r#"{"format": "heic"}"#,
            r#"{"surprise": 1}"#,
        ] {
            assert!(parse_specs(bad).is_err(), "{bad}");
        }
    }
}
