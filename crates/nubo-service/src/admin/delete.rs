//! `DELETE /resources…` and `DELETE /derived_resources`: by public ids,
//! prefix, tag, everything, or asset ids, originals with their derived
//! files or (`keep_original`) derived files only, in resumable batches.

use nubo_catalog::{Asset, AssetLocator, Derived};
use nubo_core::search::{Expr, Field, SortField, Term, Test, Value as SearchValue};
use nubo_core::DeliveryType;
use serde_json::{json, Map, Value};

use super::resources::ResourcePath;
use super::{locator, AdminRequest, PAGE_MAX};
use crate::eager::EagerSpec;
use crate::{now, Result, Service, ServiceError};

/// Most public ids or asset ids one call may name (Cloudinary's limit).
const MAX_IDS: usize = 100;

/// How one call chooses what to delete.
enum Selection {
    Locators(Vec<(String, AssetLocator)>),
    AssetIds(Vec<String>),
    Query(nubo_catalog::AssetQuery),
}

#[derive(Default)]
struct Report {
    deleted: Map<String, Value>,
    counts: Map<String, Value>,
    /// Assets deleted whole, as the `delete` notification names them.
    gone: Vec<Value>,
}

impl Service {
    pub async fn delete_resources(&self, req: &AdminRequest, path: &ResourcePath) -> Result<Value> {
        let keep_original = req.flag("keep_original")?;
        let only: Option<Vec<EagerSpec>> = match req.params.get("transformations") {
            Some(raw) => Some(self.prepare_eager(&req.cloud, Some(raw)).await?),
            None => None,
        };
        if only.is_some() && !keep_original {
            return Err(ServiceError::InvalidParam(
                "transformations can only be deleted with keep_original=true".into(),
            ));
        }
        let notify = self
            .notify_target(&req.cloud, req.params.get("notification_url"), &req.caller)
            .await?;
        let mut report = Report::default();
        let mut next_cursor = None;
        match self.selection(req, path)? {
            Selection::Locators(locs) => {
                for (shown, loc) in locs {
                    let asset = self.catalog.asset(&loc).await?;
                    self.delete_one(&mut report, &shown, asset, keep_original, only.as_deref())
                        .await?;
                }
            }
            Selection::AssetIds(ids) => {
                for id in ids {
                    let asset = self.catalog.asset_by_id(&req.cloud, &id).await?;
                    self.delete_one(&mut report, &id, asset, keep_original, only.as_deref())
                        .await?;
                }
            }
            Selection::Query(q) => {
                let page = self.catalog.query_assets(&q).await?;
                next_cursor = page.next_cursor;
                for asset in page.assets {
                    let shown = asset.loc.public_id.to_string();
                    self.delete_one(
                        &mut report,
                        &shown,
                        Some(asset),
                        keep_original,
                        only.as_deref(),
                    )
                    .await?;
                }
            }
        }
        if let (Some(target), false) = (&notify, report.gone.is_empty()) {
            let body = crate::jobs::object(json!({ "resources": report.gone }));
            self.notify(&req.cloud, target, "delete", body).await?;
        }
        let mut out = json!({
            "deleted": report.deleted,
            "deleted_counts": report.counts,
            "partial": next_cursor.is_some(),
        });
        if let Some(c) = next_cursor {
            out["next_cursor"] = json!(c);
        }
        Ok(out)
    }

    fn selection(&self, req: &AdminRequest, path: &ResourcePath) -> Result<Selection> {
        let batch = |expr: Option<Expr>, rt, dt| nubo_catalog::AssetQuery {
            cloud: req.cloud.clone(),
            resource_type: Some(rt),
            delivery_type: dt,
            expr,
            sort: vec![(SortField::CreatedAt, nubo_core::search::Direction::Asc)],
            limit: PAGE_MAX,
            cursor: req.params.get("next_cursor").map(str::to_owned),
            with_total: false,
            aggregate: Vec::new(),
            now: now(),
        };
        match path {
            ResourcePath::Listing { rt, dt } => {
                let dt = dt.unwrap_or(DeliveryType::Upload);
                let ids = req.params.list("public_ids");
                if !ids.is_empty() {
                    if ids.len() > MAX_IDS {
                        return Err(ServiceError::InvalidParam(format!(
                            "At most {MAX_IDS} public_ids per call"
                        )));
                    }
                    let locs = ids
                        .iter()
                        .map(|id| Ok((id.clone(), locator(&req.cloud, *rt, dt, id)?)))
                        .collect::<Result<_>>()?;
                    return Ok(Selection::Locators(locs));
                }
                if let Some(prefix) = req.params.get("prefix") {
                    let e = Expr::Term(Term {
                        field: Field::PublicId,
                        test: Test::Prefix(prefix.to_owned()),
                    });
                    return Ok(Selection::Query(batch(Some(e), *rt, Some(dt))));
                }
                if req.flag("all")? {
                    return Ok(Selection::Query(batch(None, *rt, Some(dt))));
                }
                Err(ServiceError::MissingParam("public_ids, prefix or all"))
            }
            ResourcePath::Tag { rt, tag } => {
                let e = Expr::Term(Term {
                    field: Field::Tags,
                    test: Test::Eq(SearchValue::Text(tag.clone())),
                });
                Ok(Selection::Query(batch(Some(e), *rt, None)))
            }
            ResourcePath::Types | ResourcePath::ByAssetIds => {
                let ids = req.params.list("asset_ids");
                if ids.is_empty() {
                    return Err(ServiceError::MissingParam("asset_ids"));
                }
                if ids.len() > MAX_IDS {
                    return Err(ServiceError::InvalidParam(format!(
                        "At most {MAX_IDS} asset_ids per call"
                    )));
                }
                Ok(Selection::AssetIds(ids))
            }
            _ => Err(ServiceError::InvalidParam(
                "Delete by /resources/{resource_type}/{type}, /resources/{resource_type}/tags/{tag} or /resources"
                    .into(),
            )),
        }
    }

    async fn delete_one(
        &self,
        report: &mut Report,
        shown: &str,
        asset: Option<Asset>,
        keep_original: bool,
        only: Option<&[EagerSpec]>,
    ) -> Result<()> {
        let Some(asset) = asset else {
            report.deleted.insert(shown.into(), json!("not_found"));
            return Ok(());
        };
        let (original, derived) = if keep_original {
            let current = self.catalog.list_derived(&asset.asset_id).await?;
            let ids: Vec<String> = current
                .iter()
                .filter(|d| only.is_none_or(|specs| specs.iter().any(|s| matches(s, d))))
                .map(|d| d.id.clone())
                .collect();
            let keys = self.catalog.delete_derived_rows(&ids).await?;
            for k in &keys {
                self.release_blob(k).await;
            }
            (0, keys.len())
        } else {
            match self.catalog.delete_asset(&asset.loc).await? {
                Some(gone) => {
                    report.gone.push(crate::jobs::resource_ref(&gone));
                    self.release_blob(&gone.blob_key).await;
                    (1, self.drop_derived(&gone.asset_id).await?)
                }
                None => (0, 0),
            }
        };
        report.deleted.insert(shown.into(), json!("deleted"));
        report.counts.insert(
            shown.into(),
            json!({ "original": original, "derived": derived }),
        );
        Ok(())
    }

    /// `DELETE /derived_resources` with `derived_resource_ids`.
    pub async fn delete_derived_resources(&self, req: &AdminRequest) -> Result<Value> {
        let ids = req.params.list("derived_resource_ids");
        if ids.is_empty() {
            return Err(ServiceError::MissingParam("derived_resource_ids"));
        }
        let found = self.catalog.derived_by_ids(&req.cloud, &ids).await?;
        let found_ids: Vec<String> = found.iter().map(|d| d.id.clone()).collect();
        for key in self.catalog.delete_derived_rows(&found_ids).await? {
            self.release_blob(&key).await;
        }
        let deleted: Map<String, Value> = ids
            .iter()
            .map(|id| {
                let state = if found_ids.contains(id) {
                    "deleted"
                } else {
                    "not_found"
                };
                (id.clone(), json!(state))
            })
            .collect();
        Ok(json!({ "deleted": deleted }))
    }
}

/// Whether a derived file is the rendering of an eager-syntax entry.
fn matches(spec: &EagerSpec, d: &Derived) -> bool {
    spec.transformation.to_string() == d.transformation
        && spec.format.is_none_or(|f| f.extension() == d.format)
}
