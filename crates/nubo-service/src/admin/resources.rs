//! `/resources…`: listings, details, updates and deletes.

use nubo_catalog::{Asset, AssetEdit, AssetQuery};
use nubo_core::search::{Direction, Expr, Field, SortField, Term, Test, Value as SearchValue};
use nubo_core::{Context, DeliveryType, ResourceType, Tags};
use serde_json::{json, Map, Value};

use super::{locator, AdminRequest, LIST_DEFAULT, PAGE_MAX};
use crate::coordinates::parse_coordinates;
use crate::{now, Result, Service, ServiceError};

/// What a `/resources/…` path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePath {
    /// `/resources`: the resource types in use.
    Types,
    /// `/resources/{rt}[/{type}]`
    Listing {
        rt: ResourceType,
        dt: Option<DeliveryType>,
    },
    /// `/resources/{rt}/tags/{tag}`
    Tag { rt: ResourceType, tag: String },
    /// `/resources/{rt}/context`
    Context { rt: ResourceType },
    /// `/resources/{rt}/moderations/{kind}/{status}`
    Moderation { rt: ResourceType },
    /// `/resources/by_asset_ids`
    ByAssetIds,
    /// `/resources/by_asset_folder`
    ByAssetFolder,
    /// `/resources/{rt}/{type}/{public_id…}`
    One {
        rt: ResourceType,
        dt: DeliveryType,
        public_id: String,
    },
    /// `/resources/{asset_id}`
    ById(String),
}

impl ResourcePath {
    /// Parses the segments after `resources` (already percent-decoded).
    pub fn parse(segments: &[&str]) -> Result<Self> {
        let rt = |s: &str| ResourceType::parse(s).ok();
        Ok(match segments {
            [] => ResourcePath::Types,
            ["by_asset_ids"] => ResourcePath::ByAssetIds,
            ["by_asset_folder"] => ResourcePath::ByAssetFolder,
            [r] if rt(r).is_some() => ResourcePath::Listing {
                rt: rt(r).expect("checked"),
                dt: None,
            },
            [id] => ResourcePath::ById((*id).to_owned()),
            [r, "tags", tag @ ..] if rt(r).is_some() && !tag.is_empty() => ResourcePath::Tag {
                rt: rt(r).expect("checked"),
                tag: tag.join("/"),
            },
            [r, "context"] if rt(r).is_some() => ResourcePath::Context {
                rt: rt(r).expect("checked"),
            },
            [r, "moderations", _, _] if rt(r).is_some() => ResourcePath::Moderation {
                rt: rt(r).expect("checked"),
            },
            [r, t] if rt(r).is_some() => ResourcePath::Listing {
                rt: rt(r).expect("checked"),
                dt: Some(DeliveryType::parse(t)?),
            },
            [r, t, id @ ..] if rt(r).is_some() => ResourcePath::One {
                rt: rt(r).expect("checked"),
                dt: DeliveryType::parse(t)?,
                public_id: id.join("/"),
            },
            _ => {
                return Err(ServiceError::NotFound(format!(
                    "Unknown resources path /{}",
                    segments.join("/")
                )))
            }
        })
    }
}

fn term(field: Field, test: Test) -> Expr {
    Expr::Term(Term { field, test })
}

fn and(items: Vec<Expr>) -> Option<Expr> {
    match items.len() {
        0 => None,
        1 => items.into_iter().next(),
        _ => Some(Expr::And(items)),
    }
}

/// A listing never shows more than this many ids looked up at once.
const MAX_LOOKUP: usize = 100;

impl Service {
    /// `GET /resources…`
    pub async fn get_resources(&self, req: &AdminRequest, path: &ResourcePath) -> Result<Value> {
        match path {
            ResourcePath::Types => {
                let types = self.catalog.resource_types(&req.cloud).await?;
                let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
                Ok(json!({ "resource_types": names }))
            }
            ResourcePath::One { rt, dt, public_id } => {
                let loc = locator(&req.cloud, *rt, *dt, public_id)?;
                let asset = self
                    .catalog
                    .asset(&loc)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(public_id.clone()))?;
                self.resource_details(req, &asset).await
            }
            ResourcePath::ById(id) => {
                let asset = self
                    .catalog
                    .asset_by_id(&req.cloud, id)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(id.clone()))?;
                self.resource_details(req, &asset).await
            }
            ResourcePath::Listing { rt, dt: Some(dt) } if req.params.contains("public_ids") => {
                let mut found = Vec::new();
                for id in req.params.list("public_ids").iter().take(MAX_LOOKUP) {
                    let loc = locator(&req.cloud, *rt, *dt, id)?;
                    found.extend(self.catalog.asset(&loc).await?);
                }
                self.listing(req, found, None)
            }
            ResourcePath::ByAssetIds => {
                let ids = req.params.list("asset_ids");
                if ids.is_empty() {
                    return Err(ServiceError::MissingParam("asset_ids"));
                }
                let mut found = Vec::new();
                for id in ids.iter().take(MAX_LOOKUP) {
                    found.extend(self.catalog.asset_by_id(&req.cloud, id).await?);
                }
                self.listing(req, found, None)
            }
            ResourcePath::Moderation { .. } => {
                // Nubo has no moderation queue: nothing is ever pending.
                Ok(json!({ "resources": [] }))
            }
            other => {
                let q = self.listing_query(req, other)?;
                let page = self.catalog.query_assets(&q).await?;
                self.listing(req, page.assets, page.next_cursor)
            }
        }
    }

    fn listing(
        &self,
        req: &AdminRequest,
        assets: Vec<Asset>,
        next_cursor: Option<String>,
    ) -> Result<Value> {
        let (tags, context, metadata) = (
            req.flag("tags")?,
            req.flag("context")?,
            req.flag("metadata")?,
        );
        let resources: Vec<Value> = assets
            .iter()
            .map(|a| Value::Object(self.resource_json(a, tags, context, metadata)))
            .collect();
        let mut out = json!({ "resources": resources });
        if let Some(c) = next_cursor {
            out["next_cursor"] = json!(c);
        }
        Ok(out)
    }

    /// The catalog query of a listing path and its parameters.
    pub(super) fn listing_query(
        &self,
        req: &AdminRequest,
        path: &ResourcePath,
    ) -> Result<AssetQuery> {
        let mut terms = Vec::new();
        let (rt, dt) = match path {
            ResourcePath::Listing { rt, dt } => {
                if let Some(p) = req.params.get("prefix") {
                    terms.push(term(Field::PublicId, Test::Prefix(p.to_owned())));
                }
                (Some(*rt), *dt)
            }
            ResourcePath::Tag { rt, tag } => {
                terms.push(term(Field::Tags, Test::Eq(SearchValue::Text(tag.clone()))));
                (Some(*rt), None)
            }
            ResourcePath::Context { rt } => {
                let key = req.required("key")?.to_owned();
                let test = match req.params.get("value") {
                    Some(v) => Test::Eq(SearchValue::Text(v.to_owned())),
                    None => Test::Prefix(String::new()),
                };
                terms.push(term(Field::Context(key), test));
                (Some(*rt), None)
            }
            ResourcePath::ByAssetFolder => {
                let folder = req.required("asset_folder")?.trim_matches('/').to_owned();
                terms.push(term(Field::Folder, Test::Eq(SearchValue::Text(folder))));
                (None, None)
            }
            _ => unreachable!("not a listing"),
        };
        let direction = match req.params.get("direction") {
            Some(d) => Direction::parse(d)
                .ok_or_else(|| ServiceError::InvalidParam(format!("Invalid direction {d}")))?,
            None => Direction::Desc,
        };
        if let Some(raw) = req.params.get("start_at") {
            let at = parse_start_at(raw)?;
            let cmp = match direction {
                Direction::Desc => nubo_core::search::Cmp::Le,
                Direction::Asc => nubo_core::search::Cmp::Ge,
            };
            terms.push(term(Field::CreatedAt, Test::Cmp(cmp, SearchValue::At(at))));
        }
        Ok(AssetQuery {
            cloud: req.cloud.clone(),
            resource_type: rt,
            delivery_type: dt,
            expr: and(terms),
            sort: vec![(SortField::CreatedAt, direction)],
            limit: req.max_results(LIST_DEFAULT, PAGE_MAX)?,
            cursor: req.params.get("next_cursor").map(str::to_owned),
            with_total: false,
            aggregate: Vec::new(),
            now: now(),
        })
    }

    /// One resource with everything the details call shows.
    async fn resource_details(&self, req: &AdminRequest, asset: &Asset) -> Result<Value> {
        let mut m = self.resource_json(asset, true, true, true);
        let derived_limit = req.max_results(LIST_DEFAULT, PAGE_MAX)? as usize;
        let all: Vec<_> = self
            .catalog
            .list_derived(&asset.asset_id)
            .await?
            .into_iter()
            .filter(|d| d.asset_version == asset.version)
            .collect();
        let start = match req.params.get("derived_next_cursor") {
            Some(c) => all
                .iter()
                .position(|d| d.id == c)
                .ok_or_else(|| ServiceError::InvalidParam("Invalid derived_next_cursor".into()))?,
            None => 0,
        };
        let derived: Vec<Value> = all
            .iter()
            .skip(start)
            .take(derived_limit)
            .map(|d| {
                let mut shown = asset.clone();
                shown.format = Some(d.format.clone());
                let (url, secure_url) = self.urls.of_asset(&shown, Some(&d.transformation));
                json!({
                    "transformation": d.transformation, "format": d.format, "bytes": d.bytes,
                    "id": d.id, "url": url, "secure_url": secure_url,
                })
            })
            .collect();
        if let Some(next) = all.get(start + derived_limit) {
            m.insert("next_cursor".into(), json!(next.id));
        }
        m.insert("derived".into(), Value::Array(derived));
        m.insert("usage".into(), json!({}));
        m.insert("backup_bytes".into(), json!(0));
        for key in ["face_coordinates", "custom_coordinates"] {
            if let Some(v) = asset.meta.get(key) {
                m.insert(key.into(), v.clone());
            }
        }
        let coordinates = req.flag("coordinates")?;
        let want = Wanted::new(
            req.flag("colors")?,
            req.flag("phash")?,
            req.flag("exif")?,
            req.flag("image_metadata")?,
        )
        .with_faces(req.flag("faces")? || coordinates, asset)
        .with_quality(req.flag("quality_analysis")?);
        self.add_analysis(&want, asset, &mut m).await?;
        if coordinates {
            let faces = m.get("faces").cloned().unwrap_or(json!([]));
            if !req.flag("faces")? {
                m.remove("faces");
            }
            m.insert(
                "coordinates".into(),
                json!({
                    "faces": faces,
                    "custom": asset.meta.get("custom_coordinates").cloned().unwrap_or(json!([])),
                }),
            );
        }
        Ok(Value::Object(m))
    }

    /// `POST /resources/{rt}/{type}/{id}` or `PUT /resources/{asset_id}`.
    pub async fn update_resource(&self, req: &AdminRequest, path: &ResourcePath) -> Result<Value> {
        let loc = match path {
            ResourcePath::One { rt, dt, public_id } => locator(&req.cloud, *rt, *dt, public_id)?,
            ResourcePath::ById(id) => {
                self.catalog
                    .asset_by_id(&req.cloud, id)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(id.clone()))?
                    .loc
            }
            _ => {
                return Err(ServiceError::InvalidParam(
                    "Update names one resource: /resources/{resource_type}/{type}/{public_id}"
                        .into(),
                ))
            }
        };
        let tags = req
            .params
            .contains("tags")
            .then(|| Tags::parse_csv(&req.params.list("tags").join(",")))
            .transpose()?;
        let context = req.params.get("context").map(parse_context).transpose()?;
        let mut meta = Map::new();
        if let Some(raw) = req.params.get("metadata") {
            let current = self.catalog.asset(&loc).await?;
            let current = current
                .as_ref()
                .and_then(|a| a.meta.get(nubo_catalog::METADATA_KEY));
            let clear_invalid = req.flag("clear_invalid")?;
            let values = self
                .resolve_metadata(&req.cloud, current, Some(raw), false, clear_invalid)
                .await?
                .unwrap_or_default();
            meta.insert(nubo_catalog::METADATA_KEY.into(), Value::Object(values));
        }
        let mut new_coordinates = false;
        for key in ["face_coordinates", "custom_coordinates"] {
            if let Some(raw) = req.params.get(key) {
                meta.insert(key.into(), parse_coordinates(key, raw)?);
                new_coordinates = true;
            }
        }
        for refused in [
            "moderation_status",
            "auto_tagging",
            "access_control",
            "regions",
        ] {
            if req.params.contains(refused) {
                return Err(ServiceError::Unsupported(format!(
                    "{refused} is not supported by this server"
                )));
            }
        }
        let notify = self
            .notify_target(&req.cloud, req.params.get("notification_url"), &req.caller)
            .await?;
        let changes = (
            tags.clone(),
            context.clone(),
            meta.contains_key(nubo_catalog::METADATA_KEY),
        );
        let edit = AssetEdit::Replace { tags, context };
        let asset = self
            .catalog
            .update_asset(&loc, &edit, &meta, now())
            .await?
            .ok_or_else(|| ServiceError::NotFound(loc.public_id.to_string()))?;
        if new_coordinates {
            // Face and custom crops made from the old coordinates are stale.
            self.drop_derived(&asset.asset_id).await?;
        }
        if let Some(target) = &notify {
            self.notify_update(target, &asset, changes).await?;
        }
        self.resource_details(req, &asset).await
    }

    /// An Admin update's notifications: one per kind of change made.
    async fn notify_update(
        &self,
        target: &crate::jobs::NotifyTarget,
        asset: &nubo_catalog::Asset,
        (tags, context, metadata): (Option<Tags>, Option<nubo_core::Context>, bool),
    ) -> Result<()> {
        let cloud = &asset.loc.scope.cloud;
        let ids = std::slice::from_ref(&asset.loc.public_id);
        if let Some(t) = tags {
            let edit = AssetEdit::ReplaceTags(t.into_vec());
            let body = crate::manage::tags_changed(&asset.loc.scope, ids, &edit);
            self.notify(cloud, target, "resource_tags_changed", body)
                .await?;
        }
        if let Some(c) = context {
            let body =
                crate::manage::context_changed(&asset.loc.scope, ids, &AssetEdit::AddContext(c));
            self.notify(cloud, target, "resource_context_changed", body)
                .await?;
        }
        if metadata {
            let body = crate::jobs::metadata_changed(std::slice::from_ref(asset));
            self.notify(cloud, target, "resource_metadata_changed", body)
                .await?;
        }
        Ok(())
    }
}

impl Service {
    /// `colors`, `phash`, `exif` and `image_metadata`, computed from the
    /// stored original when asked for (images only).
    pub(crate) async fn add_analysis(
        &self,
        want: &Wanted,
        asset: &Asset,
        m: &mut Map<String, Value>,
    ) -> Result<()> {
        if let Some(faces) = crate::coordinates::stored_faces(asset).filter(|_| want.faces) {
            // Stored coordinates override detection.
            m.insert("faces".into(), faces.clone());
        }
        let format = asset
            .format
            .as_deref()
            .and_then(nubo_core::Format::from_extension);
        let image = asset.loc.scope.resource_type == ResourceType::Image;
        let Some(format) = format.filter(|_| image && !want.is_empty()) else {
            return Ok(());
        };
        let key = nubo_blob::BlobKey::parse(&asset.blob_key)?;
        let bytes = self.read_blob(&key).await?;
        let a = self
            .engine
            .analyze(bytes, format, want.analysis)
            .await
            .map_err(|e| ServiceError::Render {
                bad_request: false,
                message: e.to_string(),
            })?;
        if want.analysis.colors && !a.colors.is_empty() {
            let colors: Vec<Value> = a
                .colors
                .iter()
                .map(|(hex, pct)| json!([hex, pct]))
                .collect();
            m.insert("colors".into(), Value::Array(colors));
            let named: Vec<Value> = a
                .predominant
                .iter()
                .map(|(n, pct)| json!([n, pct]))
                .collect();
            m.insert("predominant".into(), json!({ "cloudinary": named }));
        }
        if let Some(h) = a.phash {
            m.insert("phash".into(), json!(h));
        }
        if want.exif {
            m.insert("exif".into(), json!(a.exif));
        }
        if want.image_metadata {
            m.insert("image_metadata".into(), json!(a.image_metadata));
        }
        if want.analysis.faces {
            m.insert("faces".into(), json!(a.faces));
        }
        if let Some(q) = a.quality {
            m.insert(
                "quality_analysis".into(),
                json!({
                    "focus": q.focus, "contrast": q.contrast,
                    "exposure": q.exposure, "saturation": q.saturation,
                }),
            );
            m.insert(
                "quality_score".into(),
                json!((q.score() * 1000.0).round() / 1000.0),
            );
        }
        Ok(())
    }
}

/// What a call wants computed from an original.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Wanted {
    pub analysis: nubo_engine::AnalysisRequest,
    pub exif: bool,
    pub image_metadata: bool,
    /// `faces` is reported: from stored coordinates, else detected.
    pub faces: bool,
}

impl Wanted {
    pub(crate) fn new(colors: bool, phash: bool, exif: bool, image_metadata: bool) -> Wanted {
        Wanted {
            analysis: nubo_engine::AnalysisRequest {
                colors,
                phash,
                metadata: exif || image_metadata,
                faces: false,
                quality: false,
            },
            exif,
            image_metadata,
            faces: false,
        }
    }

    /// Adds `quality_analysis` and `quality_score`.
    pub(crate) fn with_quality(mut self, quality: bool) -> Wanted {
        self.analysis.quality = quality;
        self
    }

    /// Reports faces; detects them only when none are stored.
    pub(crate) fn with_faces(mut self, faces: bool, asset: &Asset) -> Wanted {
        self.faces = faces;
        self.analysis.faces = faces && crate::coordinates::stored_faces(asset).is_none();
        self
    }

    fn is_empty(&self) -> bool {
        self.analysis == nubo_engine::AnalysisRequest::default()
    }
}

/// `context`: Cloudinary's `k=v|k2=v2`, or a JSON object (some SDK versions).
fn parse_context(raw: &str) -> Result<Context> {
    if raw.starts_with('{') {
        let map: std::collections::BTreeMap<String, Value> = serde_json::from_str(raw)
            .map_err(|e| ServiceError::InvalidParam(format!("Invalid context: {e}")))?;
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Ok(Context(
            map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        ));
    }
    Ok(Context::parse(raw)?)
}

/// `start_at`: `yyyy-mm-dd hh:mm:ss`, an ISO date, or Unix seconds.
fn parse_start_at(raw: &str) -> Result<i64> {
    if let Ok(n) = raw.parse::<i64>() {
        return Ok(n);
    }
    let expr = format!("created_at=\"{}\"", raw.replace('"', ""));
    match nubo_core::search::parse(&expr) {
        Ok(Some(Expr::Term(Term {
            test: Test::Eq(SearchValue::At(at)),
            ..
        }))) => Ok(at),
        _ => Err(ServiceError::InvalidParam(format!(
            "Invalid start_at {raw}: use yyyy-mm-dd hh:mm:ss"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_what_the_sdks_ask_for() {
        let p = |s: &str| {
            ResourcePath::parse(&s.split('/').filter(|x| !x.is_empty()).collect::<Vec<_>>())
        };
        assert_eq!(p("").unwrap(), ResourcePath::Types);
        assert_eq!(
            p("image").unwrap(),
            ResourcePath::Listing {
                rt: ResourceType::Image,
                dt: None
            }
        );
        assert_eq!(
            p("raw/upload").unwrap(),
            ResourcePath::Listing {
                rt: ResourceType::Raw,
                dt: Some(DeliveryType::Upload)
            }
        );
        assert_eq!(
            p("image/upload/a/b c").unwrap(),
            ResourcePath::One {
                rt: ResourceType::Image,
                dt: DeliveryType::Upload,
                public_id: "a/b c".into()
            }
        );
        assert_eq!(
            p("image/tags/summer").unwrap(),
            ResourcePath::Tag {
                rt: ResourceType::Image,
                tag: "summer".into()
            }
        );
        assert_eq!(
            p("0123abcd").unwrap(),
            ResourcePath::ById("0123abcd".into())
        );
        assert!(p("image/nonsense").is_err());
    }

    #[test]
    fn start_at_and_context() {
        assert_eq!(
            parse_start_at("2024-01-01 00:00:10").unwrap(),
            1_704_067_210
        );
        assert!(parse_start_at("soon").is_err());
        assert_eq!(parse_context(r#"{"alt":"x","n":1}"#).unwrap().0["n"], "1");
    }
}
