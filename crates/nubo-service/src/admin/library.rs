//! The account's library: ping, usage, config, the tag list, upload
//! presets, named transformations and the folder tree.

use std::collections::BTreeMap;

use base64::Engine as _;
use nubo_catalog::{FolderDelete, FolderRename, PresetRecord};
use nubo_core::{Folder, ResourceType};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{message, AdminRequest, LIST_DEFAULT, PAGE_MAX};
use crate::{Result, Service, ServiceError};

/// Parameters of a preset write that are not settings.
const PRESET_CONTROL: &[&str] = &[
    "name",
    "unsigned",
    "timestamp",
    "api_key",
    "signature",
    "live",
];

impl Service {
    /// `GET /usage`: what the catalog and blob store hold now.
    pub async fn usage(&self, req: &AdminRequest) -> Result<Value> {
        let u = self.catalog.usage(&req.cloud).await?;
        let l = self.limits();
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        // What the blob store holds: identical uploads are stored once.
        let storage = u.stored_bytes;
        Ok(json!({
            "plan": "Nubo (self-hosted)",
            "last_updated": today,
            "date_requested": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "transformations": { "usage": u.derived, "credits_usage": 0 },
            "objects": { "usage": u.assets },
            "bandwidth": { "usage": 0, "credits_usage": 0 },
            "storage": { "usage": storage, "credits_usage": 0 },
            "impressions": { "usage": 0 },
            "seconds_delivered": { "usage": 0 },
            "resources": u.assets,
            "derived_resources": u.derived,
            "requests": 0,
            "media_limits": {
                "image_max_size_bytes": l.max_image_bytes,
                "video_max_size_bytes": l.max_video_bytes,
                "raw_max_size_bytes": l.max_raw_bytes,
                "image_max_px": l.max_image_pixels,
                "asset_max_total_px": l.max_image_pixels,
            },
        }))
    }

    /// `GET /config`
    pub async fn cloud_config(&self, req: &AdminRequest) -> Result<Value> {
        let created = self
            .catalog
            .list_clouds()
            .await?
            .into_iter()
            .find(|c| c.name == req.cloud)
            .map_or(0, |c| c.created_at);
        let mut out = json!({
            "cloud_name": req.cloud.as_str(),
            "created_at": crate::response::iso8601(created),
        });
        if req.flag("settings")? {
            out["settings"] = json!({ "folder_mode": "fixed" });
        }
        Ok(out)
    }

    /// `GET /tags/{rt}`: alphabetical, paged by an opaque cursor.
    pub async fn list_tags(&self, req: &AdminRequest, rt: ResourceType) -> Result<Value> {
        let limit = req.max_results(LIST_DEFAULT, PAGE_MAX)?;
        let after = match req.params.get("next_cursor") {
            Some(c) => Some(decode_text_cursor(c)?),
            None => None,
        };
        let prefix = req.params.get("prefix").unwrap_or("");
        let mut tags = self
            .catalog
            .list_tags(&req.cloud, rt, prefix, after.as_deref(), limit + 1)
            .await?;
        let more = tags.len() > limit as usize;
        tags.truncate(limit as usize);
        let mut out = json!({ "tags": tags });
        if more {
            out["next_cursor"] = json!(encode_text_cursor(tags.last().expect("a page")));
        }
        Ok(out)
    }

    // --- upload presets ---

    pub async fn admin_presets(&self, req: &AdminRequest) -> Result<Value> {
        let presets: Vec<Value> = self
            .list_presets(&req.cloud)
            .await?
            .iter()
            .map(preset_json)
            .collect();
        Ok(json!({ "presets": presets }))
    }

    pub async fn admin_preset(&self, req: &AdminRequest, name: &str) -> Result<Value> {
        let p = self
            .catalog
            .preset(&req.cloud, name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("Upload preset {name}")))?;
        Ok(preset_json(&p))
    }

    pub async fn admin_create_preset(&self, req: &AdminRequest) -> Result<Value> {
        let name = match req.params.get("name") {
            Some(n) => n.to_owned(),
            None => nubo_core::random_id(8),
        };
        if self.catalog.preset(&req.cloud, &name).await?.is_some() {
            return Err(ServiceError::AlreadyExists(format!("Upload preset {name}")));
        }
        let unsigned = req.flag("unsigned")?;
        self.put_preset(&req.cloud, &name, unsigned, preset_settings(req))
            .await?;
        Ok(json!({ "message": "created", "name": name }))
    }

    /// `PUT /upload_presets/{name}`: given settings replace stored ones.
    pub async fn admin_update_preset(&self, req: &AdminRequest, name: &str) -> Result<Value> {
        let existing = self
            .catalog
            .preset(&req.cloud, name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("Upload preset {name}")))?;
        let mut settings = existing.settings;
        settings.extend(preset_settings(req));
        let unsigned = req.params.flag("unsigned")?.unwrap_or(existing.unsigned);
        self.put_preset(&req.cloud, name, unsigned, settings)
            .await?;
        Ok(message("updated"))
    }

    pub async fn admin_delete_preset(&self, req: &AdminRequest, name: &str) -> Result<Value> {
        self.delete_preset(&req.cloud, name).await?;
        Ok(message("deleted"))
    }

    // --- named transformations ---

    /// `GET /transformations`: named ones, then (unless `named=true`) the
    /// unnamed transformations derived files were made with.
    pub async fn admin_transformations(&self, req: &AdminRequest) -> Result<Value> {
        let named_only = req.params.flag("named")?;
        let mut out: Vec<Value> = Vec::new();
        if named_only != Some(false) {
            for n in self.list_named_transformations(&req.cloud).await? {
                out.push(json!({
                    "name": format!("t_{}", n.name), "allowed_for_strict": n.allowed_for_strict,
                    "used": false, "named": true,
                }));
            }
        }
        if named_only != Some(true) {
            for t in self
                .catalog
                .derived_transformations(&req.cloud, 500)
                .await?
            {
                out.push(json!({
                    "name": t, "allowed_for_strict": false, "used": true, "named": false,
                }));
            }
        }
        Ok(json!({ "transformations": out }))
    }

    /// `GET /transformations?transformation=…`: a named transformation by
    /// name (with or without `t_`), or an unnamed one by its text.
    pub async fn admin_transformation(&self, req: &AdminRequest, which: &str) -> Result<Value> {
        let name = which.strip_prefix("t_").unwrap_or(which);
        if let Some(n) = self.catalog.named_transformation(&req.cloud, name).await? {
            let parsed = nubo_transform::Transformation::parse(&n.definition)?;
            return Ok(json!({
                "name": format!("t_{}", n.name), "allowed_for_strict": n.allowed_for_strict,
                "used": false, "named": true, "info": info(&parsed.to_string()), "derived": [],
            }));
        }
        // Neither a named transformation nor valid text: there is no such
        // transformation (a 404, as for a name that was deleted).
        let canonical = unnamed(which)?;
        let derived = self
            .catalog
            .derived_by_transformation(&req.cloud, &canonical, 100)
            .await?;
        if derived.is_empty() {
            return Err(ServiceError::NotFound(format!("Transformation {which}")));
        }
        let mut listed = Vec::new();
        for d in &derived {
            if let Some(mut a) = self.catalog.asset_by_id(&req.cloud, &d.asset_id).await? {
                let id = a.loc.public_id.to_string();
                a.format = Some(d.format.clone());
                let (url, secure_url) = self.urls.of_asset(&a, Some(&d.transformation));
                listed.push(json!({
                    "public_id": id, "resource_type": a.loc.scope.resource_type.as_str(),
                    "type": a.loc.scope.delivery_type.as_str(), "format": d.format,
                    "bytes": d.bytes, "id": d.id, "url": url, "secure_url": secure_url,
                }));
            }
        }
        Ok(json!({
            "name": canonical, "allowed_for_strict": false, "used": true, "named": false,
            "info": info(&canonical), "derived": listed,
        }))
    }

    pub async fn admin_create_transformation(
        &self,
        req: &AdminRequest,
        name: Option<&str>,
    ) -> Result<Value> {
        let (_, name) = named_in(req, name, "name")?;
        let definition = req.required("transformation")?;
        if self
            .catalog
            .named_transformation(&req.cloud, name)
            .await?
            .is_some()
        {
            return Err(ServiceError::AlreadyExists(format!(
                "Transformation {name}"
            )));
        }
        let strict = req.flag("allowed_for_strict")?;
        self.put_named_transformation(&req.cloud, name, definition, strict)
            .await?;
        Ok(message("created"))
    }

    /// `PUT /transformations`: `allowed_for_strict`, and a new definition in
    /// `unsafe_update` (it changes what existing URLs render).
    pub async fn admin_update_transformation(
        &self,
        req: &AdminRequest,
        name: Option<&str>,
    ) -> Result<Value> {
        let (_, name) = named_in(req, name, "transformation")?;
        let existing = self
            .catalog
            .named_transformation(&req.cloud, name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("Transformation {name}")))?;
        let definition = req
            .params
            .get("unsafe_update")
            .unwrap_or(&existing.definition)
            .to_owned();
        let strict = req
            .params
            .flag("allowed_for_strict")?
            .unwrap_or(existing.allowed_for_strict);
        self.put_named_transformation(&req.cloud, name, &definition, strict)
            .await?;
        Ok(message("updated"))
    }

    /// `DELETE /transformations`: a named one, or every derived file made
    /// with an unnamed one.
    pub async fn admin_delete_transformation(
        &self,
        req: &AdminRequest,
        name: Option<&str>,
    ) -> Result<Value> {
        let (which, name) = named_in(req, name, "transformation")?;
        if self
            .catalog
            .named_transformation(&req.cloud, name)
            .await?
            .is_some()
        {
            self.delete_named_transformation(&req.cloud, name).await?;
            self.note_write();
            return Ok(message("deleted"));
        }
        let canonical = unnamed(which)?;
        let derived = self
            .catalog
            .derived_by_transformation(&req.cloud, &canonical, 100_000)
            .await?;
        if derived.is_empty() {
            return Err(ServiceError::NotFound(format!("Transformation {which}")));
        }
        let ids: Vec<String> = derived.into_iter().map(|d| d.id).collect();
        for key in self.catalog.delete_derived_rows(&ids).await? {
            self.release_blob(&key).await;
        }
        Ok(message("deleted"))
    }

    // --- folders (fixed-folder mode: the tree of public-id paths) ---

    pub async fn admin_folders(&self, req: &AdminRequest, path: &str) -> Result<Value> {
        let path = Folder::parse(path);
        if !path.as_str().is_empty()
            && !self
                .catalog
                .folder_exists(&req.cloud, path.as_str())
                .await?
        {
            return Err(ServiceError::NotFound(format!(
                "Can't find folder with path {}",
                path.as_str()
            )));
        }
        let all = self.catalog.subfolders(&req.cloud, path.as_str()).await?;
        let limit = req.max_results(PAGE_MAX, PAGE_MAX)? as usize;
        let start = match req.params.get("next_cursor") {
            Some(c) => {
                let after = decode_text_cursor(c)?;
                all.iter().take_while(|f| f.path <= after).count()
            }
            None => 0,
        };
        let page: Vec<Value> = all
            .iter()
            .skip(start)
            .take(limit)
            .map(|f| json!({ "name": f.name, "path": f.path, "external_id": external_id(&req.cloud, &f.path) }))
            .collect();
        let next = all
            .get(start + limit)
            .map(|_| encode_text_cursor(&all[start + limit - 1].path));
        Ok(json!({ "folders": page, "next_cursor": next, "total_count": all.len() }))
    }

    pub async fn admin_create_folder(&self, req: &AdminRequest, path: &str) -> Result<Value> {
        let folder = valid_folder(path)?;
        self.catalog
            .create_folder(&req.cloud, folder.as_str(), crate::now())
            .await?;
        let name = folder.as_str().rsplit('/').next().unwrap_or_default();
        Ok(json!({
            "success": true, "path": folder.as_str(), "name": name,
            "external_id": external_id(&req.cloud, folder.as_str()),
        }))
    }

    /// `PUT /folders/{path}` with `to_folder`: in fixed-folder mode the
    /// assets below move to the new path (their URLs change).
    pub async fn admin_rename_folder(&self, req: &AdminRequest, path: &str) -> Result<Value> {
        let from = valid_folder(path)?;
        let to = valid_folder(req.required("to_folder")?)?;
        let (f, t) = (from.as_str(), to.as_str());
        if t == f || t.starts_with(&format!("{f}/")) {
            return Err(invalid(format!("Cannot move folder {f} into {t}")));
        }
        match self
            .catalog
            .rename_folder(&req.cloud, f, t, crate::now())
            .await?
        {
            FolderRename::Renamed { .. } => {
                let name = |p: &str| p.rsplit('/').next().unwrap_or_default().to_owned();
                Ok(json!({
                    "from": { "name": name(f), "path": f },
                    "to": { "name": name(t), "path": t },
                }))
            }
            FolderRename::Missing => Err(ServiceError::NotFound(format!(
                "Can't find folder with path {f}"
            ))),
            FolderRename::TargetExists(id) => Err(ServiceError::AlreadyExists(format!(
                "Resource {id} already exists"
            ))),
            FolderRename::InvalidTarget(id) => Err(invalid(format!("Invalid public id {id}"))),
            FolderRename::TooMany => Err(invalid(format!(
                "Folder {f} holds more than {} assets: rename them in parts",
                nubo_catalog::MAX_FOLDER_RENAME
            ))),
        }
    }

    pub async fn admin_delete_folder(&self, req: &AdminRequest, path: &str) -> Result<Value> {
        let folder = valid_folder(path)?;
        match self
            .catalog
            .delete_folder(&req.cloud, folder.as_str())
            .await?
        {
            FolderDelete::Deleted(paths) => Ok(json!({ "deleted": paths })),
            FolderDelete::Missing => Err(ServiceError::NotFound(format!(
                "Can't find folder with path {}",
                folder.as_str()
            ))),
            FolderDelete::NotEmpty => Err(ServiceError::InvalidParam(format!(
                "Folder is not empty: {}",
                folder.as_str()
            ))),
        }
    }
}

fn invalid(msg: String) -> ServiceError {
    ServiceError::InvalidParam(msg)
}

/// The transformation a call names: in the path (older SDKs) or in
/// `param`; a named one may be given with or without `t_`. Returns (as
/// given, name without `t_`).
fn named_in<'a>(
    req: &'a AdminRequest,
    in_path: Option<&'a str>,
    param: &'static str,
) -> Result<(&'a str, &'a str)> {
    let which = match in_path {
        Some(n) => n,
        None => req.required(param)?,
    };
    Ok((which, which.strip_prefix("t_").unwrap_or(which)))
}

/// The canonical text of an unnamed transformation, or 404.
fn unnamed(which: &str) -> Result<String> {
    nubo_transform::Transformation::parse(which)
        .map(|t| t.to_string())
        .map_err(|_| ServiceError::NotFound(format!("Transformation {which}")))
}

fn valid_folder(path: &str) -> Result<Folder> {
    let folder = Folder::parse(path);
    if folder.as_str().is_empty() {
        return Err(ServiceError::MissingParam("folder"));
    }
    // A folder path must be usable as a public-id prefix.
    nubo_core::PublicId::parse(folder.as_str())?;
    Ok(folder)
}

fn external_id(cloud: &nubo_core::CloudName, path: &str) -> String {
    let digest = Sha256::digest(format!("{cloud}/{path}").as_bytes());
    hex::encode(&digest[..16])
}

fn encode_text_cursor(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last)
}

fn decode_text_cursor(raw: &str) -> Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ServiceError::InvalidParam("Invalid next_cursor".into()))
}

fn preset_settings(req: &AdminRequest) -> BTreeMap<String, String> {
    req.params
        .collapsed()
        .into_iter()
        .filter(|(k, v)| !PRESET_CONTROL.contains(&k.as_str()) && !v.is_empty())
        .collect()
}

fn preset_json(p: &PresetRecord) -> Value {
    let settings: serde_json::Map<String, Value> = p
        .settings
        .iter()
        .map(|(k, v)| {
            let value = match v.as_str() {
                "true" => json!(true),
                "false" => json!(false),
                _ => json!(v),
            };
            (k.clone(), value)
        })
        .collect();
    json!({ "name": p.name, "unsigned": p.unsigned, "settings": settings })
}

/// The SDK option names of the URL keys, for `info`.
const OPTION_NAMES: &[(&str, &str)] = &[
    ("a", "angle"),
    ("ar", "aspect_ratio"),
    ("b", "background"),
    ("bo", "border"),
    ("c", "crop"),
    ("co", "color"),
    ("d", "default_image"),
    ("dn", "density"),
    ("dpr", "dpr"),
    ("e", "effect"),
    ("f", "fetch_format"),
    ("fl", "flags"),
    ("g", "gravity"),
    ("h", "height"),
    ("l", "overlay"),
    ("o", "opacity"),
    ("pg", "page"),
    ("q", "quality"),
    ("r", "radius"),
    ("t", "transformation"),
    ("u", "underlay"),
    ("w", "width"),
    ("x", "x"),
    ("y", "y"),
    ("z", "zoom"),
];

/// `[{"crop":"fill","width":100}, …]`: one object per chained component.
fn info(canonical: &str) -> Value {
    let components: Vec<Value> = canonical
        .split('/')
        .filter(|c| !c.is_empty())
        .map(|component| {
            let obj: serde_json::Map<String, Value> = component
                .split(',')
                .filter_map(|kv| kv.split_once('_'))
                .map(|(k, v)| {
                    let name = OPTION_NAMES
                        .iter()
                        .find(|(key, _)| *key == k)
                        .map_or(k, |(_, n)| n);
                    let value = v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n));
                    (name.to_owned(), value)
                })
                .collect();
            Value::Object(obj)
        })
        .collect();
    Value::Array(components)
}

#[cfg(test)]
mod tests {
    #[test]
    fn info_names_options_as_the_sdks_do() {
        assert_eq!(
            super::info("c_fill,h_100,w_100/e_sepia"),
            serde_json::json!([{"crop": "fill", "height": 100, "width": 100}, {"effect": "sepia"}])
        );
    }

    #[test]
    fn text_cursors_round_trip() {
        let c = super::encode_text_cursor("a/b");
        assert_eq!(super::decode_text_cursor(&c).unwrap(), "a/b");
        assert!(super::decode_text_cursor("***").is_err());
    }
}
