//! The `text` Upload API method (§6.7): an image of a text, stored as a
//! `text`-type asset whose style `l_text:<public_id>:…` layers reuse.

use nubo_catalog::{AssetLocator, AssetScope, NewAsset, OverwritePolicy};
use nubo_core::{random_id, DeliveryType, PublicId, ResourceType};
use nubo_engine::text::TextPaint;
use nubo_transform::layer::{TextStyle, MAX_TEXT_BYTES};
use nubo_transform::Color;
use serde_json::{json, Map, Value};

use crate::layers::TEXT_STYLE_KEY;
use crate::manage::ManageRequest;
use crate::params::Params;
use crate::upload::Committed;
use crate::{Result, Service, ServiceError};

/// Cloudinary's defaults for the `text` method.
const DEFAULT_FAMILY: &str = "Arial";
const DEFAULT_SIZE: u32 = 12;

/// The style the method's fields describe, written as a layer style so
/// that parsing it is the one check.
fn style_of(p: &Params) -> Result<TextStyle> {
    let bad = |what: &str, v: &str| ServiceError::InvalidParam(format!("Invalid {what}: {v}"));
    let family = p.get("font_family").unwrap_or(DEFAULT_FAMILY);
    let size = match p.get("font_size") {
        Some(v) => v.trim().parse::<u32>().map_err(|_| bad("font_size", v))?,
        None => DEFAULT_SIZE,
    };
    // A font file, by public id: folders as the layer syntax writes them.
    let as_file = family.replace('/', ":");
    let family = match nubo_transform::layer::font_file(&as_file) {
        Some(_) => as_file,
        None => family.replace(['_', ':'], " "),
    };
    let mut words = vec![family, size.to_string()];
    for key in [
        "font_weight",
        "font_style",
        "text_decoration",
        "text_align",
        "stroke",
    ] {
        if let Some(v) = p.get(key).filter(|v| !v.is_empty() && *v != "normal") {
            words.push(v.to_ascii_lowercase());
        }
    }
    for (key, word) in [
        ("letter_spacing", "letter_spacing"),
        ("line_spacing", "line_spacing"),
        ("font_antialiasing", "antialias"),
        ("font_hinting", "hinting"),
    ] {
        if let Some(v) = p.get(key).filter(|v| !v.is_empty()) {
            words.push(format!("{word}_{v}"));
        }
    }
    let text = words.join("_");
    TextStyle::parse(&text).map_err(|_| bad("text style", &text))
}

fn color(p: &Params, key: &'static str) -> Result<Option<Color>> {
    p.get(key)
        .filter(|v| !v.is_empty())
        .map(|v| Color::parse(key, v).map_err(|e| ServiceError::InvalidParam(e.to_string())))
        .transpose()
}

impl Service {
    pub async fn text(&self, req: ManageRequest) -> Result<Value> {
        let caller = self
            .authorize_upload(&req.cloud, "text", &req.params, &req.creds)
            .await?;
        let p = &req.params;
        let text = p
            .get("text")
            .filter(|t| !t.is_empty())
            .ok_or(ServiceError::MissingParam("text"))?;
        if text.len() > MAX_TEXT_BYTES {
            return Err(ServiceError::InvalidParam(format!(
                "text is longer than {MAX_TEXT_BYTES} bytes"
            )));
        }
        let style = style_of(p)?;
        let mut paint = TextPaint::new(color(p, "font_color")?.unwrap_or(Color::BLACK));
        paint.background = color(p, "background")?;
        if let Some(id) = style.font_asset() {
            let file = self.font_file(&req.cloud, &id).await?;
            paint.font = Some(nubo_engine::text::CustomFont::parse(&file)?);
        }
        let opacity = match p.get("opacity").filter(|v| !v.is_empty()) {
            Some(v) => v
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|o| *o <= 100)
                .ok_or_else(|| ServiceError::InvalidParam(format!("Invalid opacity: {v}")))?,
            None => 100,
        };
        let public_id = match p.get("public_id").filter(|v| !v.is_empty()) {
            Some(id) => PublicId::parse(id)?,
            None => PublicId::parse(&random_id(20))?,
        };
        let rendered = self
            .engine
            .text_image(style.clone(), text.to_owned(), paint, opacity)
            .await?;
        let (width, height) = (rendered.width, rendered.height);
        let spooled = self.spool_bytes(rendered.bytes).await?;
        let digest = spooled.digest().clone();
        let blob_key = self.store_blob(spooled).await?;
        let mut meta = Map::new();
        meta.insert(TEXT_STYLE_KEY.into(), json!(style.to_string()));
        let new = NewAsset {
            loc: AssetLocator {
                scope: AssetScope {
                    cloud: req.cloud.clone(),
                    resource_type: ResourceType::Image,
                    delivery_type: DeliveryType::Text,
                },
                public_id,
            },
            format: Some("png".into()),
            bytes: i64::try_from(digest.len).unwrap_or(i64::MAX),
            width: Some(width as i64),
            height: Some(height as i64),
            pages: None,
            etag: digest.md5_hex,
            original_filename: None,
            tags: Default::default(),
            context: Default::default(),
            meta,
            blob_key,
            now: crate::now(),
        };
        // The same public id draws the text anew, as Cloudinary does.
        let asset = match self.commit(new, OverwritePolicy::Replace).await? {
            Committed::New(a) | Committed::Replaced(a) | Committed::Kept(a) => a,
        };
        let signer = self.signing_key(&req.cloud, &caller).await?;
        Ok(Value::Object(self.asset_json(&asset, signer.as_ref())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn fields_become_a_layer_style() {
        let s = style_of(&params(&[
            ("font_family", "Open Sans"),
            ("font_size", "36"),
            ("font_weight", "bold"),
            ("font_style", "italic"),
            ("text_decoration", "underline"),
            ("text_align", "center"),
            ("letter_spacing", "2"),
        ]))
        .unwrap();
        assert_eq!(
            s.to_string(),
            "Open%20Sans_36_bold_italic_underline_center_letter_spacing_2"
        );
        assert_eq!(style_of(&params(&[])).unwrap().to_string(), "Arial_12");
        for bad in [
            ("font_size", "big"),
            ("font_weight", "heavyish"),
            ("font_size", "0"),
        ] {
            assert!(style_of(&params(&[bad])).is_err(), "{bad:?}");
        }
    }
}
