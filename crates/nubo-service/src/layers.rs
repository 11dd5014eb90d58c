//! What a chain's layers name, read before a render: stored images at
//! their current version, remote images through the fetcher (the same
//! SSRF rules and byte limit as remote uploads), the text styles of
//! `text` images, and font files uploaded as raw assets.

use nubo_blob::BlobKey;
use nubo_catalog::{Asset, AssetLocator, AssetScope};
use nubo_core::{CloudName, DeliveryType, Format, PublicId, ResourceType};
use nubo_engine::{Job, LayerImage, LayerInputs, ProbeLimits};
use nubo_transform::layer::{AssetRef, LayerSource, TextStyle, TextStyleRef};
use nubo_transform::{Resolved, Transformation};

use crate::{Result, Service, ServiceError};

/// The asset meta key holding a `text` image's style.
pub(crate) const TEXT_STYLE_KEY: &str = "text_style";

impl Service {
    /// A render job for `plan`, with its layers read.
    pub(crate) async fn job(
        &self,
        cloud: &CloudName,
        input: Format,
        plan: Resolved,
    ) -> Result<Job> {
        let layers = self.layer_inputs(cloud, &plan.transformation).await?;
        let mut job = Job::new(input, plan);
        job.layers = layers;
        Ok(job)
    }

    async fn layer_inputs(&self, cloud: &CloudName, t: &Transformation) -> Result<LayerInputs> {
        let mut inputs = LayerInputs::default();
        let mut seen = std::collections::HashSet::new();
        for source in nubo_transform::layer::sources(&t.components) {
            // A layer named twice is read once.
            if !seen.insert(source.to_string()) {
                continue;
            }
            match source {
                LayerSource::Asset(a) => {
                    let image = self.layer_asset(cloud, a).await?;
                    inputs.add_image(source, image);
                }
                LayerSource::Fetch(url) => {
                    let image = self.layer_fetch(url).await?;
                    inputs.add_image(source, image);
                }
                LayerSource::Text { style, .. } => {
                    let style = match style {
                        TextStyleRef::Stored(id) => {
                            let stored = self.text_style(cloud, id).await?;
                            inputs.add_style(id, stored.clone());
                            stored
                        }
                        TextStyleRef::Inline(s) => s.clone(),
                    };
                    if let Some(id) = style.font_asset() {
                        if seen.insert(format!("font:{id}")) {
                            inputs.add_font(&id, self.font_file(cloud, &id).await?);
                        }
                    }
                }
            }
        }
        Ok(inputs)
    }

    /// A font file a text style names: a raw asset, uploaded (public) or
    /// authenticated, at most [`nubo_engine::text::MAX_FONT_BYTES`].
    pub(crate) async fn font_file(&self, cloud: &CloudName, id: &str) -> Result<bytes::Bytes> {
        let not_found = || ServiceError::InvalidParam(format!("Font {id} not found"));
        let public_id = PublicId::parse(id).map_err(|_| not_found())?;
        for delivery_type in [DeliveryType::Upload, DeliveryType::Authenticated] {
            let loc = AssetLocator {
                scope: AssetScope {
                    cloud: cloud.clone(),
                    resource_type: ResourceType::Raw,
                    delivery_type,
                },
                public_id: public_id.clone(),
            };
            let Some(asset) = self.catalog.asset(&loc).await? else {
                continue;
            };
            if asset.bytes as usize > nubo_engine::text::MAX_FONT_BYTES {
                return Err(ServiceError::InvalidParam(format!(
                    "Font {id} is larger than {} bytes",
                    nubo_engine::text::MAX_FONT_BYTES
                )));
            }
            return self.read_blob(&BlobKey::parse(&asset.blob_key)?).await;
        }
        Err(not_found())
    }

    async fn layer_asset(&self, cloud: &CloudName, a: &AssetRef) -> Result<LayerImage> {
        let asset = self
            .find_image(cloud, a.delivery_type, &a.public_id)
            .await?
            .ok_or_else(|| {
                ServiceError::InvalidParam(format!("Layer image {} not found", a.public_id))
            })?;
        let format = image_format(&asset)?;
        let bytes = self.read_blob(&BlobKey::parse(&asset.blob_key)?).await?;
        Ok(LayerImage {
            bytes,
            format,
            coordinates: crate::coordinates::of_asset(&asset),
        })
    }

    async fn find_image(
        &self,
        cloud: &CloudName,
        delivery_type: DeliveryType,
        public_id: &str,
    ) -> Result<Option<Asset>> {
        let Ok(public_id) = PublicId::parse(public_id) else {
            return Ok(None);
        };
        let loc = AssetLocator {
            scope: AssetScope {
                cloud: cloud.clone(),
                resource_type: ResourceType::Image,
                delivery_type,
            },
            public_id,
        };
        Ok(self.catalog.asset(&loc).await?)
    }

    async fn layer_fetch(&self, url: &str) -> Result<LayerImage> {
        use futures_util::StreamExt;
        let limit = self.limits().max_image_bytes;
        let mut remote = self.fetcher.open(url, limit).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = remote.body.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        let limits = ProbeLimits {
            max_pixels: self.limits().max_image_pixels,
            max_frames: self.limits().max_image_frames,
        };
        let probe = nubo_engine::probe_reader(&mut std::io::Cursor::new(&bytes), limits)
            .map_err(|e| ServiceError::InvalidParam(format!("Layer {url}: {e}")))?;
        let nubo_engine::Probe::Image(info) = probe else {
            return Err(ServiceError::InvalidParam(format!(
                "Layer {url} is not an image"
            )));
        };
        Ok(LayerImage {
            bytes: bytes.into(),
            format: info.format,
            coordinates: Default::default(),
        })
    }

    /// The style stored with a `text` image.
    async fn text_style(&self, cloud: &CloudName, id: &str) -> Result<TextStyle> {
        let asset = self
            .find_image(cloud, DeliveryType::Text, &id.replace(':', "/"))
            .await?
            .ok_or_else(|| ServiceError::InvalidParam(format!("Text style {id} not found")))?;
        asset
            .meta
            .get(TEXT_STYLE_KEY)
            .and_then(|v| v.as_str())
            .and_then(|s| percent_encoding::percent_decode_str(s).decode_utf8().ok())
            .and_then(|s| TextStyle::parse(&s).ok())
            .ok_or_else(|| ServiceError::InvalidParam(format!("{id} has no text style")))
    }
}

fn image_format(asset: &Asset) -> Result<Format> {
    asset
        .format
        .as_deref()
        .and_then(Format::from_extension)
        .ok_or_else(|| ServiceError::InvalidParam("Layer has no image format".into()))
}

/// Layers of private or authenticated images need a signed URL, like
/// their originals.
pub(crate) fn needs_signature(t: &Transformation) -> bool {
    nubo_transform::layer::sources(&t.components)
        .iter()
        .any(|s| matches!(s, LayerSource::Asset(a) if !a.delivery_type.is_public()))
}
