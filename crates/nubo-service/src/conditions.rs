//! What conditions on an asset's own data read (`if_!sale!_in_tags`,
//! `if_ctx:!kind!_eq_!shoes!`, `if_md:!rating!_gt_3`), and how such a
//! rendering is keyed: its cache key carries a digest of that data, so
//! editing tags, context or metadata selects (or makes) another derived
//! file instead of serving a stale one.

use nubo_catalog::{Asset, METADATA_KEY};
use nubo_core::{Context, Tags};
use nubo_transform::expr::{AssetData, MetaValue};
use nubo_transform::Resolved;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The tags, context and structured metadata of `asset`.
pub(crate) fn asset_data(asset: &Asset) -> AssetData {
    let metadata = match asset.meta.get(METADATA_KEY) {
        Some(Value::Object(fields)) => Some(fields),
        _ => None,
    };
    data_of(&asset.tags, &asset.context, metadata)
}

/// The same from an upload's tags, context and typed metadata values.
pub(crate) fn data_of(
    tags: &Tags,
    context: &Context,
    metadata: Option<&Map<String, Value>>,
) -> AssetData {
    let mut data = AssetData {
        tags: tags.iter().map(str::to_owned).collect(),
        context: context.0.clone(),
        ..Default::default()
    };
    if let Some(fields) = metadata {
        for (id, v) in fields {
            let value = match v {
                Value::String(s) => MetaValue::Text(s.clone()),
                Value::Number(n) => MetaValue::Text(n.to_string()),
                Value::Array(items) => MetaValue::Set(
                    items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect(),
                ),
                _ => continue,
            };
            data.metadata.insert(id.clone(), value);
        }
    }
    data
}

/// The derived-file key of `plan`; with the asset's `data` when the plan
/// reads it.
pub(crate) fn cache_key(plan: &Resolved, data: Option<&AssetData>) -> String {
    match data {
        Some(d) if plan.reads_asset() => format!("{}{}", cache_key_prefix(plan), digest(d)),
        _ => plan.cache_key(),
    }
}

/// What the keys of `plan`'s renderings share whatever the asset's data.
pub(crate) fn cache_key_prefix(plan: &Resolved) -> String {
    format!("{}|asset:", plan.cache_key())
}

/// A digest of the data, unambiguous whatever the strings hold: each
/// string is length-prefixed and each list count-prefixed.
fn digest(data: &AssetData) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    put(&format!("tags {}", data.tags.len()));
    for t in &data.tags {
        put(t);
    }
    put(&format!("context {}", data.context.len()));
    for (k, v) in &data.context {
        put(k);
        put(v);
    }
    put(&format!("metadata {}", data.metadata.len()));
    for (k, v) in &data.metadata {
        put(k);
        // Each value opens with its kind, so a text never reads as a set.
        match v {
            MetaValue::Text(t) => {
                put("text");
                put(t);
            }
            MetaValue::Set(items) => {
                put(&format!("set {}", items.len()));
                for i in items {
                    put(i);
                }
            }
        }
    }
    hex::encode(&h.finalize()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubo_core::Format;
    use nubo_transform::{ClientHints, Transformation};

    fn plan(t: &str) -> Resolved {
        let t = Transformation::parse(t).unwrap();
        Resolved::new(&t, None, Format::Jpg, &ClientHints::default())
    }

    #[test]
    fn only_renderings_that_read_the_data_are_keyed_by_it() {
        let mut a = AssetData::default();
        a.tags.push("sale".into());
        let mut b = a.clone();
        b.tags.push("new".into());
        let plain = plan("w_10");
        assert_eq!(cache_key(&plain, Some(&a)), cache_key(&plain, Some(&b)));
        assert_eq!(cache_key(&plain, Some(&a)), plain.cache_key());
        let cond = plan("if_!sale!_in_tags/w_10/if_end");
        assert_ne!(cache_key(&cond, Some(&a)), cache_key(&cond, Some(&b)));
        assert_eq!(
            cache_key(&cond, Some(&a)),
            cache_key(&cond, Some(&a.clone()))
        );
        let mut c = a.clone();
        c.metadata
            .insert("colors".into(), MetaValue::Set(vec!["red".into()]));
        let md = plan("if_!red!_in_md:!colors!/w_10/if_end");
        assert_ne!(cache_key(&md, Some(&a)), cache_key(&md, Some(&c)));
        // Length prefixes keep ["ab"] and ["a", "b"] apart.
        let one = AssetData {
            tags: vec!["ab".into()],
            ..Default::default()
        };
        let two = AssetData {
            tags: vec!["a".into(), "b".into()],
            ..Default::default()
        };
        assert_ne!(digest(&one), digest(&two));
    }
}
