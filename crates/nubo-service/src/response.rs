//! Assets rendered in the shape of Cloudinary's upload response (§4.1).

use nubo_catalog::{ApiKeyRecord, Asset};
use nubo_core::ResourceType;
use serde_json::{json, Map, Value};

use crate::signing::{response_signature, SignatureAlgorithm};
use crate::Service;

/// Keys of `Asset::meta` that are not a probe's media details.
const NOT_MEDIA_DETAILS: &[&str] = &[
    nubo_catalog::METADATA_KEY,
    "face_coordinates",
    "custom_coordinates",
];

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn iso8601(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

impl Service {
    /// The upload-response fields of an asset. `signer` provides `signature`
    /// and `api_key`; responses without a known key carry neither.
    pub(crate) fn asset_json(
        &self,
        asset: &Asset,
        signer: Option<&ApiKeyRecord>,
    ) -> Map<String, Value> {
        let scope = &asset.loc.scope;
        let id = asset.loc.public_id.as_str();
        let (url, secure_url) = self.urls.of_asset(asset, None);
        let mut m = Map::new();
        m.insert("asset_id".into(), json!(asset.asset_id));
        m.insert("public_id".into(), json!(id));
        m.insert("version".into(), json!(asset.version));
        m.insert("version_id".into(), json!(asset.version_id));
        if let Some(key) = signer {
            let sig = response_signature(id, asset.version, &key.secret, SignatureAlgorithm::Sha1);
            m.insert("signature".into(), json!(sig));
        }
        if scope.resource_type != ResourceType::Raw {
            m.insert("width".into(), json!(asset.width));
            m.insert("height".into(), json!(asset.height));
            m.insert("format".into(), json!(asset.format));
        }
        m.insert("resource_type".into(), json!(scope.resource_type.as_str()));
        m.insert("created_at".into(), json!(iso8601(asset.created_at)));
        m.insert("tags".into(), json!(asset.tags.as_slice()));
        if scope.resource_type == ResourceType::Image {
            m.insert("pages".into(), json!(asset.pages.unwrap_or(1)));
        }
        m.insert("bytes".into(), json!(asset.bytes));
        m.insert("type".into(), json!(scope.delivery_type.as_str()));
        m.insert("etag".into(), json!(asset.etag));
        m.insert("placeholder".into(), json!(false));
        m.insert("url".into(), json!(url));
        m.insert("secure_url".into(), json!(secure_url));
        let folder = asset.loc.public_id.folder();
        m.insert("folder".into(), json!(folder));
        m.insert("asset_folder".into(), json!(folder));
        m.insert("display_name".into(), json!(asset.loc.public_id.basename()));
        if let Some(name) = &asset.original_filename {
            m.insert("original_filename".into(), json!(name));
        }
        if let Some(key) = signer {
            m.insert("api_key".into(), json!(key.key));
        }
        if !asset.context.is_empty() {
            m.insert("context".into(), json!({ "custom": asset.context.0 }));
        }
        if let Some(Value::Object(values)) = asset.meta.get(nubo_catalog::METADATA_KEY) {
            if !values.is_empty() {
                m.insert("metadata".into(), Value::Object(values.clone()));
            }
        }
        if scope.resource_type == ResourceType::Video {
            // The probe's media details; what the Admin API stores beside
            // them is shown by its own keys.
            for (k, v) in &asset.meta {
                if !NOT_MEDIA_DETAILS.contains(&k.as_str()) {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        m
    }
}
