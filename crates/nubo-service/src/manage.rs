//! Upload API calls that change existing assets: `destroy`, `rename`,
//! `explicit`, `tags`, `context` and `delete_by_token`.

use nubo_catalog::{AssetEdit, AssetLocator, AssetScope, RenameOutcome};
use nubo_core::{
    CloudName, Context, DeliveryType, PublicId, ResourceType, Tags, UploadResourceType,
};
use serde_json::{json, Value};

use crate::jobs::{object, resource_ref, NotifyTarget};
use crate::{now, Credentials, Params, Result, Service, ServiceError};

/// `resource_tags_changed`: per asset, the tags the command added or removed.
pub(crate) fn tags_changed(
    scope: &AssetScope,
    ids: &[PublicId],
    edit: &AssetEdit,
) -> serde_json::Map<String, Value> {
    let (added, removed, replaced): (&[String], &[String], bool) = match edit {
        AssetEdit::AddTags(t) => (t, &[], false),
        AssetEdit::RemoveTags(t) => (&[], t, false),
        AssetEdit::ReplaceTags(t) => (t, &[], true),
        _ => (&[], &[], true),
    };
    let resources: Vec<Value> = ids
        .iter()
        .map(|id| {
            let mut r = json!({
                "public_id": id.as_str(),
                "resource_type": scope.resource_type.as_str(),
                "type": scope.delivery_type.as_str(),
            });
            if !added.is_empty() {
                r["added"] = json!(added);
            }
            if !removed.is_empty() {
                r["removed"] = json!(removed);
            }
            if replaced {
                r["replaced"] = json!(true);
            }
            r
        })
        .collect();
    object(json!({ "source": "api", "resources": resources }))
}

/// `resource_context_changed`: keyed by public id, what the command did.
pub(crate) fn context_changed(
    scope: &AssetScope,
    ids: &[PublicId],
    edit: &AssetEdit,
) -> serde_json::Map<String, Value> {
    let change = match edit {
        AssetEdit::AddContext(c) => json!({ "added": c.0 }),
        AssetEdit::RemoveContextKeys(keys) => json!({ "removed": keys }),
        _ => json!({ "removed_all": true }),
    };
    let mut resources = serde_json::Map::new();
    for id in ids {
        let mut entry = change.clone();
        entry["resource_type"] = json!(scope.resource_type.as_str());
        entry["type"] = json!(scope.delivery_type.as_str());
        resources.insert(id.as_str().to_owned(), entry);
    }
    object(json!({ "source": "api", "resources": resources }))
}

/// A management call as the HTTP edge received it.
#[derive(Debug)]
pub struct ManageRequest {
    pub cloud: CloudName,
    pub resource_type: UploadResourceType,
    pub params: Params,
    pub creds: Credentials,
}

impl ManageRequest {
    fn resource_type(&self) -> Result<ResourceType> {
        self.resource_type.fixed().ok_or_else(|| {
            ServiceError::InvalidParam("Invalid resource type auto for this action".into())
        })
    }

    fn scope(&self, type_param: &str) -> Result<AssetScope> {
        let delivery_type = match self.params.get(type_param) {
            Some(t) => DeliveryType::parse(t)?,
            None => DeliveryType::Upload,
        };
        Ok(AssetScope {
            cloud: self.cloud.clone(),
            resource_type: self.resource_type()?,
            delivery_type,
        })
    }

    fn public_id(&self, name: &'static str) -> Result<PublicId> {
        Ok(PublicId::parse(
            self.params
                .get(name)
                .ok_or(ServiceError::MissingParam(name))?,
        )?)
    }

    fn public_ids(&self) -> Result<Vec<PublicId>> {
        let ids = self.params.list("public_ids");
        if ids.is_empty() {
            return Err(ServiceError::MissingParam("public_ids"));
        }
        ids.iter().map(|s| Ok(PublicId::parse(s)?)).collect()
    }
}

impl Service {
    /// Where this call's notifications go (its `notification_url`, else
    /// the cloud's), checked before anything changes.
    async fn call_target(
        &self,
        req: &ManageRequest,
        caller: &crate::Caller,
    ) -> Result<Option<NotifyTarget>> {
        self.notify_target(&req.cloud, req.params.get("notification_url"), caller)
            .await
    }

    /// `destroy`: 200 `{"result":"not found"}` when there was nothing to delete.
    pub async fn destroy(&self, req: ManageRequest) -> Result<Value> {
        let caller = self
            .authorize_upload(&req.cloud, "destroy", &req.params, &req.creds)
            .await?;
        let notify = self.call_target(&req, &caller).await?;
        let loc = AssetLocator {
            scope: req.scope("type")?,
            public_id: req.public_id("public_id")?,
        };
        let Some(asset) = self.catalog.delete_asset(&loc).await? else {
            return Ok(json!({ "result": "not found" }));
        };
        self.release_blob(&asset.blob_key).await;
        self.drop_derived_later(&asset, None).await?;
        if let Some(target) = &notify {
            let body = json!({ "resources": [resource_ref(&asset)] });
            self.notify(&req.cloud, target, "delete", object(body))
                .await?;
        }
        Ok(json!({ "result": "ok" }))
    }

    pub async fn rename(&self, req: ManageRequest) -> Result<Value> {
        let caller = self
            .authorize_upload(&req.cloud, "rename", &req.params, &req.creds)
            .await?;
        let from_scope = req.scope("type")?;
        let to_type = match req.params.get("to_type") {
            Some(t) => DeliveryType::parse(t)?,
            None => from_scope.delivery_type,
        };
        let from = AssetLocator {
            scope: from_scope.clone(),
            public_id: req.public_id("from_public_id")?,
        };
        let to = AssetLocator {
            scope: AssetScope {
                delivery_type: to_type,
                ..from_scope
            },
            public_id: req.public_id("to_public_id")?,
        };
        let overwrite = req.params.flag("overwrite")?.unwrap_or(false);
        let notify = self.call_target(&req, &caller).await?;
        match self
            .catalog
            .rename_asset(&from, &to, overwrite, now())
            .await?
        {
            RenameOutcome::SourceMissing => Err(ServiceError::NotFound(from.public_id.to_string())),
            RenameOutcome::TargetExists => {
                Err(ServiceError::AlreadyExists(to.public_id.to_string()))
            }
            RenameOutcome::Renamed {
                asset,
                replaced_blob,
            } => {
                if let Some(blob) = replaced_blob {
                    self.release_blob(&blob).await;
                }
                if let Some(target) = &notify {
                    let body = json!({
                        "resource_type": asset.loc.scope.resource_type.as_str(),
                        "type": asset.loc.scope.delivery_type.as_str(),
                        "asset_id": asset.asset_id,
                        "from_public_id": from.public_id.as_str(),
                        "to_public_id": asset.loc.public_id.as_str(),
                    });
                    self.notify(&req.cloud, target, "rename", object(body))
                        .await?;
                }
                let signer = self.signing_key(&req.cloud, &caller).await?;
                Ok(Value::Object(self.asset_json(&asset, signer.as_ref())))
            }
        }
    }

    /// `explicit`: replaces tags and context given, sets `metadata`, drops
    /// derived files on `invalidate`, and renders `eager` ones.
    pub async fn explicit(&self, req: ManageRequest) -> Result<Value> {
        let caller = self
            .authorize_upload(&req.cloud, "explicit", &req.params, &req.creds)
            .await?;
        let eager = self
            .prepare_eager(&req.cloud, req.params.get("eager"))
            .await?;
        let notify = self.call_target(&req, &caller).await?;
        let eager_async = self
            .eager_async_target(&req.cloud, &req.params, &caller, notify.as_ref())
            .await?;
        let invalidate = req.params.flag("invalidate")?.unwrap_or(false);
        let breakpoints = req
            .params
            .get("responsive_breakpoints")
            .filter(|raw| !raw.is_empty())
            .map(crate::breakpoints::parse_specs)
            .transpose()?;
        let loc = AssetLocator {
            scope: req.scope("type")?,
            public_id: req.public_id("public_id")?,
        };
        let tags = req
            .params
            .contains("tags")
            .then(|| Tags::from_vec(req.params.list("tags")));
        let context = match req.params.get("context") {
            Some(c) => Some(Context::parse(c)?),
            None => None,
        };
        if tags.is_some() || context.is_some() {
            let edit = AssetEdit::Replace { tags, context };
            self.catalog
                .edit_assets(
                    &loc.scope,
                    std::slice::from_ref(&loc.public_id),
                    &edit,
                    now(),
                )
                .await?;
        }
        if let Some(raw) = req.params.get("metadata") {
            let clear_invalid = req.params.flag("clear_invalid")?.unwrap_or(false);
            self.update_metadata(&loc, raw, clear_invalid).await?;
        }
        let asset = self
            .catalog
            .asset(&loc)
            .await?
            .ok_or_else(|| ServiceError::NotFound(loc.public_id.to_string()))?;
        if invalidate {
            self.drop_derived(&asset.asset_id).await?;
        }
        let signer = self.signing_key(&req.cloud, &caller).await?;
        let mut body = self.asset_json(&asset, signer.as_ref());
        if !eager.is_empty() {
            let rendered = match &eager_async {
                Some(target) => {
                    self.queue_eager(&asset, req.params.get("eager"), &eager, target)
                        .await?
                }
                None => self.render_eager(&asset, &eager).await?,
            };
            body.insert("eager".into(), rendered);
        }
        if let Some(specs) = &breakpoints {
            let found = self.responsive_breakpoints(&asset, specs).await?;
            body.insert("responsive_breakpoints".into(), found);
        }
        if let Some(target) = &notify {
            self.notify(&req.cloud, target, "upload", body.clone())
                .await?;
        }
        Ok(Value::Object(body))
    }

    /// `tags`: add, remove, replace, remove_all and set_exclusive.
    pub async fn tags(&self, req: ManageRequest) -> Result<Value> {
        let caller = self
            .authorize_upload(&req.cloud, "tags", &req.params, &req.creds)
            .await?;
        let notify = self.call_target(&req, &caller).await?;
        let scope = req.scope("type")?;
        let ids = req.public_ids()?;
        let command = req
            .params
            .get("command")
            .ok_or(ServiceError::MissingParam("command"))?;
        let tags = || -> Result<Vec<String>> {
            let mut parsed = Tags::default();
            for t in req.params.list("tag") {
                parsed.add(&t)?;
            }
            if parsed.is_empty() {
                return Err(ServiceError::MissingParam("tag"));
            }
            Ok(parsed.into_vec())
        };
        let edit = match command {
            "add" => AssetEdit::AddTags(tags()?),
            "remove" => AssetEdit::RemoveTags(tags()?),
            "replace" => AssetEdit::ReplaceTags(tags()?),
            "remove_all" => AssetEdit::RemoveAllTags,
            "set_exclusive" => {
                let tag = tags()?;
                let others: Vec<PublicId> = self
                    .catalog
                    .tagged(&scope, &tag[0])
                    .await?
                    .into_iter()
                    .filter(|id| !ids.contains(id))
                    .collect();
                self.catalog
                    .edit_assets(&scope, &others, &AssetEdit::RemoveTags(tag.clone()), now())
                    .await?;
                AssetEdit::AddTags(tag)
            }
            other => {
                return Err(ServiceError::InvalidParam(format!(
                    "Invalid command {other}"
                )))
            }
        };
        let touched = self.catalog.edit_assets(&scope, &ids, &edit, now()).await?;
        if let Some(target) = &notify {
            let body = tags_changed(&scope, &touched, &edit);
            self.notify(&req.cloud, target, "resource_tags_changed", body)
                .await?;
        }
        Ok(json!({ "public_ids": touched.iter().map(PublicId::as_str).collect::<Vec<_>>() }))
    }

    /// `context`: add, remove (keys) and remove_all.
    pub async fn context(&self, req: ManageRequest) -> Result<Value> {
        let caller = self
            .authorize_upload(&req.cloud, "context", &req.params, &req.creds)
            .await?;
        let notify = self.call_target(&req, &caller).await?;
        let scope = req.scope("type")?;
        let ids = req.public_ids()?;
        let edit = match req
            .params
            .get("command")
            .ok_or(ServiceError::MissingParam("command"))?
        {
            "add" => {
                let raw = req
                    .params
                    .get("context")
                    .ok_or(ServiceError::MissingParam("context"))?;
                AssetEdit::AddContext(Context::parse(raw)?)
            }
            "remove" => {
                let raw = req
                    .params
                    .get("context")
                    .ok_or(ServiceError::MissingParam("context"))?;
                let keys = Context::parse(raw)?.0.into_keys().collect();
                AssetEdit::RemoveContextKeys(keys)
            }
            "remove_all" => AssetEdit::RemoveAllContext,
            other => {
                return Err(ServiceError::InvalidParam(format!(
                    "Invalid command {other}"
                )))
            }
        };
        let touched = self.catalog.edit_assets(&scope, &ids, &edit, now()).await?;
        if let Some(target) = &notify {
            let body = context_changed(&scope, &touched, &edit);
            self.notify(&req.cloud, target, "resource_context_changed", body)
                .await?;
        }
        Ok(json!({ "public_ids": touched.iter().map(PublicId::as_str).collect::<Vec<_>>() }))
    }

    /// `metadata`: sets structured metadata on assets (an empty value
    /// removes a field); answers the ids it changed.
    pub async fn metadata(&self, req: ManageRequest) -> Result<Value> {
        let caller = self
            .authorize_upload(&req.cloud, "metadata", &req.params, &req.creds)
            .await?;
        let notify = self.call_target(&req, &caller).await?;
        let scope = req.scope("type")?;
        let ids = req.public_ids()?;
        let raw = req
            .params
            .get("metadata")
            .ok_or(ServiceError::MissingParam("metadata"))?;
        let clear_invalid = req.params.flag("clear_invalid")?.unwrap_or(false);
        let mut touched = Vec::new();
        let mut changed = Vec::new();
        for id in ids {
            let loc = AssetLocator {
                scope: scope.clone(),
                public_id: id,
            };
            if let Some(asset) = self.update_metadata(&loc, raw, clear_invalid).await? {
                changed.push(asset);
                touched.push(loc.public_id.to_string());
            }
        }
        if let Some(target) = &notify {
            let body = crate::jobs::metadata_changed(&changed);
            self.notify(&req.cloud, target, "resource_metadata_changed", body)
                .await?;
        }
        Ok(json!({ "public_ids": touched }))
    }

    /// `delete_by_token`: no signature; the token itself is the permission.
    pub async fn delete_by_token(&self, cloud: &CloudName, params: &Params) -> Result<Value> {
        let token = params
            .get("token")
            .ok_or(ServiceError::MissingParam("token"))?;
        let hash = crate::auth::token_hash(token);
        let loc = self
            .catalog
            .take_delete_token(cloud, &hash, now())
            .await?
            .ok_or_else(|| ServiceError::Unauthorized("Invalid or expired delete token".into()))?;
        if let Some(asset) = self.catalog.delete_asset(&loc).await? {
            self.release_blob(&asset.blob_key).await;
        }
        Ok(json!({ "result": "ok" }))
    }
}
