//! `POST /resources/search`: the expression language ([`nubo_core::search`])
//! compiled by the catalog, with `sort_by`, cursors, `aggregate`,
//! `with_field` and `fields`.

use std::time::Instant;

use nubo_catalog::{AggregateField, AssetQuery};
use nubo_core::search::{Direction, SortField};
use serde_json::{json, Map, Value};

use super::{AdminRequest, PAGE_MAX, SEARCH_DEFAULT};
use crate::{now, Result, Service, ServiceError};

/// Keys every result keeps whatever `fields` asks for.
const ALWAYS: &[&str] = &["public_id", "asset_id", "resource_type", "type"];

impl Service {
    pub async fn search(&self, req: &AdminRequest) -> Result<Value> {
        let started = Instant::now();
        let expr = nubo_core::search::parse(req.params.get("expression").unwrap_or(""))
            .map_err(|e| ServiceError::InvalidParam(e.to_string()))?;
        let with: Vec<String> = req.params.list("with_field");
        for w in &with {
            if !matches!(
                w.as_str(),
                "tags" | "context" | "metadata" | "image_metadata"
            ) {
                return Err(ServiceError::Unsupported(format!(
                    "with_field {w} is not supported by this server (tags, context, metadata, image_metadata)"
                )));
            }
        }
        let aggregate = req
            .params
            .list("aggregate")
            .iter()
            .map(|a| {
                AggregateField::parse(a).ok_or_else(|| {
                    ServiceError::InvalidParam(format!(
                        "Invalid aggregate {a} (format, resource_type, type, tags)"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let q = AssetQuery {
            cloud: req.cloud.clone(),
            resource_type: None,
            delivery_type: None,
            expr,
            sort: parse_sort(&req.params.list_raw("sort_by"))?,
            limit: req.max_results(SEARCH_DEFAULT, PAGE_MAX)?,
            cursor: req.params.get("next_cursor").map(str::to_owned),
            with_total: true,
            aggregate,
            now: now(),
        };
        let page = self.catalog.query_assets(&q).await?;
        let fields = req.params.list("fields");
        let asked = |name: &str| with.iter().chain(fields.iter()).any(|w| w == name);
        let (tags, context, metadata) = (asked("tags"), asked("context"), asked("metadata"));
        // Embedded metadata is read from each original: it costs a read of
        // every result's bytes, so it is only done when asked for.
        let embedded = super::resources::Wanted::new(false, false, false, asked("image_metadata"));
        let mut resources = Vec::with_capacity(page.assets.len());
        for a in &page.assets {
            let mut m = self.resource_json(a, tags, context, metadata);
            self.add_analysis(&embedded, a, &mut m).await?;
            if !fields.is_empty() {
                m.retain(|k, _| ALWAYS.contains(&k.as_str()) || fields.contains(k));
            }
            resources.push(Value::Object(m));
        }
        let mut out = json!({
            "total_count": page.total_count.unwrap_or(0),
            "time": started.elapsed().as_millis() as u64,
            "resources": resources,
        });
        if let Some(c) = page.next_cursor {
            out["next_cursor"] = json!(c);
        }
        if !page.aggregations.is_empty() {
            let aggs: Map<String, Value> = page
                .aggregations
                .into_iter()
                .map(|(field, counts)| {
                    let m: Map<String, Value> =
                        counts.into_iter().map(|(v, n)| (v, json!(n))).collect();
                    (field.as_str().to_owned(), Value::Object(m))
                })
                .collect();
            out["aggregations"] = Value::Object(aggs);
        }
        Ok(out)
    }
}

/// `sort_by`: `[{"public_id": "desc"}, …]`, each item as it arrived (a
/// JSON object's text), or `field` / `field:dir` strings.
fn parse_sort(items: &[String]) -> Result<Vec<(SortField, Direction)>> {
    let mut out = Vec::new();
    for item in items {
        let pairs: Vec<(String, String)> = match serde_json::from_str::<Map<String, Value>>(item) {
            Ok(obj) => obj
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or("desc").to_owned()))
                .collect(),
            Err(_) => {
                let (k, d) = item.split_once(':').unwrap_or((item.as_str(), "desc"));
                vec![(k.to_owned(), d.to_owned())]
            }
        };
        for (key, dir) in pairs {
            let field = SortField::parse(&key).ok_or_else(|| {
                ServiceError::InvalidParam(format!("Invalid sort_by field {key}"))
            })?;
            let dir = Direction::parse(&dir).ok_or_else(|| {
                ServiceError::InvalidParam(format!("Invalid sort_by direction {dir}"))
            })?;
            out.push((field, dir));
        }
    }
    if out.len() > 3 {
        return Err(ServiceError::InvalidParam(
            "At most 3 sort_by fields".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_by_in_every_shape() {
        assert_eq!(
            parse_sort(&[r#"{"public_id":"asc"}"#.into(), "bytes".into()]).unwrap(),
            vec![
                (SortField::PublicId, Direction::Asc),
                (SortField::Bytes, Direction::Desc)
            ]
        );
        assert!(parse_sort(&[r#"{"colour":"asc"}"#.into()]).is_err());
        assert!(parse_sort(&[r#"{"bytes":"up"}"#.into()]).is_err());
    }
}
